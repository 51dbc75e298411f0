// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the proxy's threads share (server::impl): the runtime, the
// connection counts, the backend pool, and each thread's worker. For the
// proxy's own files only.

#include "proxy/backend_pool.hpp"
#include "proxy/server.hpp"
#include "proxy/worker.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

namespace bulwark::proxy {

struct server::impl {
    runtime rt;
    std::FILE* log = nullptr;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<int> actconn{0};
    std::unique_ptr<backend_pool> pool;
    // Client connections per frontend (same index as rt.frontends).
    std::unique_ptr<std::atomic<int>[]> feconn;

    // The threads' io_contexts go first: destroying them destroys the
    // sessions still suspended there, whose guards give back connection
    // counts and server slots held in the members above.
    ~impl()
    {
        if (pool)
            pool->stopped = true;
        workers.clear();
    }

    std::size_t index_of(const frontend_rt& fe) const { return static_cast<std::size_t>(&fe - rt.frontends.data()); }

    // Every request (and tcp connection) ends here: its counters in w, then
    // its log line. w's thread.
    void finish(worker& w, const frontend_rt& fe, const peer_info& peer, const request_log& lg);
};

} // namespace bulwark::proxy
