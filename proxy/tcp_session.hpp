// SPDX-License-Identifier: Apache-2.0
#pragma once

// mode tcp: a client connection relayed as it is to a server.

#include "proxy/server_impl.hpp"
#include "proxy/task.hpp"

namespace bulwark::proxy {

// The connection relayed to a server of the frontend's backend (its slots
// and queue as in HTTP), under 'timeout client' and 'timeout server' (or
// 'timeout tunnel'), one log line when it ends. w's thread.
task<void> tcp_session(server::impl& im, worker& w, const frontend_rt& fe, const peer_info& peer,
                       deadline_stream& client);

} // namespace bulwark::proxy
