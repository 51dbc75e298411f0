// SPDX-License-Identifier: Apache-2.0
#pragma once

// One proxy thread's own state: its io_context, listeners, balancing
// positions, idle server connections and counters. Only its thread
// touches it, except the counters, which server::read_stats reads.

#include "proxy/backend_pool.hpp"
#include "proxy/block_sink.hpp"
#include "proxy/counters.hpp"
#include "proxy/task.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace bulwark::proxy {

struct worker {
    boost::asio::io_context io{1};
    std::vector<std::pair<stream_acceptor, const frontend_rt*>> listeners;
    std::vector<balance_state> balance; // per backend
    // Idle keep-alive server connections, per backend and server.
    // On the heap: a stream's timer handler holds its address.
    std::vector<std::vector<std::vector<std::unique_ptr<deadline_stream>>>> idle;
    std::thread thread;
    // Its counters, per frontend, backend and server (health index).
    std::unique_ptr<fe_counters[]> fe_count;
    std::unique_ptr<be_counters[]> be_count;
    std::unique_ptr<srv_counters[]> srv_count;
    // Its rule hits: every section's rules, from the section's base
    // (server::impl::rule_sections) plus the rule's id.
    std::unique_ptr<std::atomic<std::uint64_t>[]> rule_hits;
    // Hyperscan scratch space for every rule set's pattern sets.
    rules::pattern_scratch scratch;
    shield_link* shield = nullptr; // the runtime's, for shield-block rules
};

} // namespace bulwark::proxy
