// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the proxy's threads share (server::impl): the runtime, the
// connection counts, the backend pool, and each thread's worker. For the
// proxy's own files only.

#include "proxy/backend_pool.hpp"
#include "proxy/log_sink.hpp"
#include "proxy/server.hpp"
#include "proxy/worker.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <vector>

namespace bulwark::proxy {

struct server::impl {
    runtime rt;
    std::FILE* log = nullptr;  // null: no log at all (else its fd stands for stdout)
    std::vector<std::unique_ptr<log_sink>> sinks; // one per rt.log_targets entry
    bool running = false; // run() started the threads
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<int> actconn{0};
    std::unique_ptr<backend_pool> pool;
    // Client connections per frontend (same index as rt.frontends).
    std::unique_ptr<std::atomic<int>[]> feconn;
    // Every distinct rule set (a listen's frontend and backend share one),
    // frontends' then backends', with where its rules' hits start in each
    // worker's rule_hits; and each frontend's and backend's base there.
    struct rule_section {
        const proxy_rules* rules;
        std::size_t base;
    };
    std::vector<rule_section> rule_sections;
    std::size_t rule_count = 0; // the size of each worker's rule_hits
    std::vector<std::size_t> fe_rule_base, be_rule_base;

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

    // Numbers the rules of every section (rule_sections and the bases).
    // Control thread, before the workers are made.
    void number_rules();

    // w's hit counters for `r`, the rules of fe or of be (null: none
    // chosen yet), for rule_state::hits. w's thread.
    std::atomic<std::uint64_t>* rule_hits(worker& w, const frontend_rt& fe, const backend_rt* be,
                                          const proxy_rules& r) const
    {
        const std::size_t base = be && be->rules.get() == &r
                                     ? be_rule_base[static_cast<std::size_t>(be - rt.backends.data())]
                                     : fe_rule_base[index_of(fe)];
        return w.rule_hits.get() + base;
    }

    // Every request (and tcp connection) ends here: its counters in w, then
    // its log line. w's thread.
    void finish(worker& w, const frontend_rt& fe, const peer_info& peer, const request_log& lg);
    // Opens a sink per rt.log_targets entry (none without `log`). At start.
    result<bool> open_logs();
};

} // namespace bulwark::proxy
