// SPDX-License-Identifier: Apache-2.0
#pragma once

// The proxy's listeners and threads: the file descriptor limit and
// maxconn, the listening sockets of each thread, the accept loops with
// the global and per-frontend connection limits, the threads themselves.

#include "common/result.hpp"
#include "proxy/server_impl.hpp"

namespace bulwark::proxy {

// Raises the descriptor limit to its hard limit and derives maxconn from it
// when the config gives none (warns when the one given cannot fit), as
// HAProxy does. Control thread, before any worker exists.
void apply_fd_limit(runtime& rt);

// Opens, binds and listens on w's sockets for every bind of every frontend
// (SO_REUSEPORT: the kernel spreads connections over the threads); a unix
// socket listens on thread 0 only. Returns how many it opened, or says
// which bind failed and why. Control thread.
result<std::size_t> open_listeners(worker& w, const runtime& rt, int thread);

// Starts the health checks (on thread 0), every accept loop, then the
// threads. Control thread, once, after every worker is made.
void start_threads(server::impl& im);

} // namespace bulwark::proxy
