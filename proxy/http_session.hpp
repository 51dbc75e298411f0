// SPDX-License-Identifier: Apache-2.0
#pragma once

// mode http: HTTP/1.1 requests on a client connection.

#include "proxy/server_impl.hpp"
#include "proxy/task.hpp"

#include <memory>

namespace bulwark::proxy {

// Serves the requests of a client connection until it closes, each logged
// and counted. `rules` is the connection's rule state, made at the first
// rule met (null until then). w's thread.
task<void> http_session(server::impl& im, worker& w, const frontend_rt& fe, const peer_info& peer,
                        deadline_stream& client, std::unique_ptr<rule_state>& rules);

} // namespace bulwark::proxy
