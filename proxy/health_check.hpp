// SPDX-License-Identifier: Apache-2.0
#pragma once

// Health checks of the servers with 'check', on coroutines.

#include "proxy/backend_pool.hpp"
#include "proxy/task.hpp"

#include <boost/asio/io_context.hpp>

namespace bulwark::proxy {

// A connection attempt to s every `inter` under min('timeout connect',
// inter) (then, with option httpchk, a request whose response, read under
// 'timeout check' or else inter, must have a 2xx or 3xx status, or what
// 'http-check expect' asks; at most `limit_bytes` of it are read);
// `fall` failures in a row mark the server DOWN in `pool`, `rise`
// successes UP again, said on stderr as HAProxy does. Runs on io's thread
// until io stops.
task<void> health_check(backend_pool& pool, boost::asio::io_context& io, const backend_rt& be, const server_rt& s,
                        std::size_t limit_bytes);

} // namespace bulwark::proxy
