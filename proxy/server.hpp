// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/result.hpp"
#include "proxy/runtime.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace bulwark::proxy {

// The L7 proxy: rt.threads threads, each with its own io_context and its
// own listening socket per bind (SO_REUSEPORT: the kernel spreads
// connections), serving HTTP/1.1 frontends in front of their backends.
class server {
public:
    // Opens every listener first, so a bind that fails is reported (which
    // address, why) before any thread starts; then starts the threads.
    // Logs one line per request to `log` (HAProxy's httplog format) for
    // frontends with 'option httplog'. Control thread.
    static result<std::unique_ptr<server>> start(runtime rt, std::FILE* log);
    // start() in two steps: open() binds every listener (what needs root),
    // run() starts the threads (bulwarkd drops its privileges between).
    static result<std::unique_ptr<server>> open(runtime rt, std::FILE* log);
    void run();

    // Stops the threads and closes every connection. Idempotent.
    void stop();
    ~server();

    // "frontend www: 127.0.0.1:8080", one per listener, for the start banner.
    std::vector<std::string> listening() const;
    // The global connection limit in force: 'maxconn' from the config, or
    // derived from the file descriptor limit.
    int maxconn() const;
    // The proxy threads ('nbthread', or one per CPU).
    int threads() const;

    // Counters summed over the threads (each keeps its own, written only by
    // itself). Any thread may call this while the proxy runs.
    struct traffic {
        std::uint64_t requests = 0;
        std::uint64_t status[6] = {}; // 1xx, 2xx, 3xx, 4xx, 5xx, none (no response: -1)
        std::uint64_t bytes_out = 0;  // response bytes sent to clients
    };
    struct frontend_stats {
        std::string name;
        std::uint64_t connections = 0;
        traffic t;
        std::uint64_t request_errors = 0; // ended by the client or a bad request (C*, c*, P* flags)
        std::uint64_t denied_connections = 0;               // closed by a tcp-request rule
        std::uint64_t denied_requests = 0, denied_responses = 0; // refused by a rule (deny, tarpit, ...)
    };
    struct server_stats {
        std::string name; // "backend/server"
        traffic t;
        std::uint64_t connect_errors = 0, response_errors = 0;
    };
    struct backend_stats {
        std::string name;
        traffic t;
        std::uint64_t connect_errors = 0, response_errors = 0, queue_timeouts = 0, no_server = 0;
        std::vector<server_stats> servers;
    };
    struct rule_stats {
        std::string section;       // the frontend, backend or listen holding it
        std::string at;            // file:line
        std::string what;          // "http-request deny", "reqideny", ...
        std::uint64_t hits = 0;    // times it applied
        std::uint64_t regex_errors = 0; // times a regex gave up while it decided (PCRE2 limits)
    };
    struct log_stats {
        std::string where;         // the target as written: "stdout", "/dev/log", "127.0.0.1:514"
        std::uint64_t sent = 0, dropped = 0; // lines; dropped: the sink was full (or unreachable)
    };
    struct stats {
        std::vector<frontend_stats> frontends;
        std::vector<backend_stats> backends;
        std::vector<rule_stats> rules; // every rule of every section, in file order per section
        std::vector<log_stats> logs;   // every log target
        // shield-block events: posted to the packet layer, refused by its
        // full ring, not posted (no shield runs; no IP source)
        std::uint64_t blocks_posted = 0, blocks_refused = 0, blocks_no_shield = 0, blocks_no_source = 0;
    };
    stats read_stats() const;

    // shield-block rules post their sources to `sink` (the shield's event
    // ring, wired by the control plane; null: none, the proxy runs alone
    // and the rules only deny/reject, counted as no_shield). The sink must
    // outlive the proxy's threads (stop() first). Any thread.
    void set_block_sink(block_sink* sink);

    struct impl;

private:
    explicit server(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace bulwark::proxy
