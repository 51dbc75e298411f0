// SPDX-License-Identifier: Apache-2.0
#pragma once

// The proxy's counters as plain data: each thread keeps its own set (in its
// worker), written only by itself, summed by server::read_stats on any
// thread. Pure, no Asio.

#include "proxy/access_log.hpp"

#include <atomic>
#include <cstdint>

namespace bulwark::proxy {

// A counter written by one thread and read by any: relaxed, so that an
// increment is a plain load and store (no lock prefix), yet reading it
// from another thread is no data race. Only its own thread may add.
struct counter {
    std::atomic<std::uint64_t> v{0};
    void add(std::uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    std::uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct traffic_counters {
    counter requests, bytes_out;
    counter status[6]; // 1xx .. 5xx, then none (-1)
};
struct fe_counters {
    counter connections, request_errors, denied_connections, denied_requests, denied_responses;
    traffic_counters t;
};
struct srv_counters {
    counter connect_errors, response_errors;
    traffic_counters t;
};
struct be_counters {
    counter connect_errors, response_errors, queue_timeouts, no_server;
    traffic_counters t;
};

// Counts one ended request (or tcp connection) from its log record: in its
// frontend's counters, its backend's when it had one (be may be null), its
// server's when it had one (srv may be null). The termination flags say
// which errors. The calling thread must own the counters.
void count_request(fe_counters& fe, be_counters* be, srv_counters* srv, const request_log& lg);

} // namespace bulwark::proxy
