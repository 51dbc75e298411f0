// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the proxy runs: frontends and backends resolved from the config
// model, with HAProxy's timeout fallbacks applied. Immutable once built;
// every proxy thread reads the same object.

#include "proxy/config_types.hpp"
#include "common/result.hpp"
#include "proxy/check_expect.hpp"
#include "proxy/http_rules.hpp"

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::proxy {

using ms = std::chrono::milliseconds;
// Sockets are TCP (IPv4, IPv6) or unix stream sockets (unix@, abns@):
// one generic stream protocol carries them all.
using stream_protocol = boost::asio::generic::stream_protocol;

// "No timeout" in HAProxy: we use the longest timer HAProxy accepts.
inline constexpr ms no_timeout{0x7fffffff};

struct server_rt {
    std::string name;
    stream_protocol::endpoint ep;
    std::string where;         // the address as an operator reads it
    bool check = false;        // TCP health check every `inter`
    ms inter{2000};
    int rise = 2, fall = 3;
    int maxconn = 0;           // requests at once; 0: unlimited. Beyond: the backend's queue
    int weight = 1;            // share of round robin; 0: never chosen
    bool backup = false;       // chosen only when no active (non-backup) server is up
    bool disabled = false;     // 'disabled': never chosen, never checked
    std::size_t health = 0;    // index of its up/down flag in the proxy's health table
};

enum class balance_algo : std::uint8_t { roundrobin, leastconn, source };

// option forwardfor [except NETWORK] [header NAME] [if-none]
struct forwardfor_rt {
    bool on = false;
    std::string header = "X-Forwarded-For";
    std::optional<cidr> except; // clients from here get none
    bool if_none = false;                     // only when the request has no such header
};

struct backend_rt {
    std::string name;
    balance_algo algo = balance_algo::roundrobin;
    std::map<int, std::string> errorfiles;  // status -> full HTTP response
    std::vector<server_rt> servers;
    ms connect = no_timeout, server = no_timeout;
    ms queue = no_timeout;           // timeout queue: how long a request waits for a server slot
    std::optional<ms> tunnel;        // timeout tunnel: inactivity once upgraded (101); else client/server
    std::optional<ms> server_fin;    // timeout server-fin: a tunnel's limit once the server closed its half
    std::optional<ms> check;         // timeout check
    std::string httpchk;             // option httpchk: the check request, whole; empty: TCP checks
    std::optional<check_expect> expect; // http-check expect; else a 2xx or 3xx passes
    int retries = 3;                 // retries: connection attempts after a failed one
    int redispatch = 0;              // option redispatch [N]: 0 off; N > 0 every Nth retry, N < 0 the -Nth before last
    bool allbackups = false;         // option allbackups: every backup up shares the load, not the first alone
    bool abortonclose = false;       // option abortonclose: a client gone while queued or connecting aborts it
    bool disabled = false;           // 'disabled': its servers get no traffic (503)
    int maxqueue = 0;                // requests waiting at most: the servers' maxqueue summed; 0: unlimited
    forwardfor_rt forwardfor;
    bool server_close = false;       // option http-server-close / httpclose
    bool httpclose = false;          // option httpclose: the client side closes after each response too
    // Its http-request/http-response rules and legacy filters; null when it
    // has none. A listen section's frontend shares the same object.
    std::shared_ptr<const proxy_rules> rules;
};

struct frontend_rt {
    std::string name;
    std::map<int, std::string> errorfiles;
    struct listen_on {
        stream_protocol::endpoint ep;
        std::string where;     // "127.0.0.1:80", "unix@/run/x.sock", "abns@name"
        std::string path;      // a unix socket's file, replaced at start; empty otherwise
        std::optional<unsigned> mode; // the file's permission bits and owner (-1: as created)
        int uid = -1, gid = -1;
    };
    std::vector<listen_on> binds;
    ms client = no_timeout;
    std::optional<ms> client_fin;    // timeout client-fin: a tunnel's limit once the client closed its half
    ms http_request = no_timeout;    // first byte to last header byte (and body when buffering)
    ms http_keep_alive = no_timeout; // idle time between two requests
    bool buffer_request = false;     // option http-buffer-request
    forwardfor_rt forwardfor;
    bool server_close = false;
    bool httpclose = false;
    bool httplog = false;
    bool tcp = false;                // mode tcp: connections relayed as they are
    bool tcplog = false;             // option tcplog (mode tcp)
    bool dontlognull = false;        // no log line for a connection that sent nothing
    bool ignore_probes = false;      // option http-ignore-probes: no 408 to a connection that sent nothing
    int maxconn = 0;                 // connections at once; 0: only the global limit
    int default_backend = -1;        // index into runtime::backends
    std::shared_ptr<const proxy_rules> rules; // null when it has none
    std::vector<int> use_backend;    // per rules->use_backends entry: its index into runtime::backends
    std::vector<std::size_t> logs;   // where its log lines go: indices into runtime::log_targets
    stick_table* table = nullptr;    // its own stick-table (src_*, track-sc without `table`)
    const stick_registry* sticks = nullptr; // every section's table, for `table T`
};

struct runtime {
    std::vector<frontend_rt> frontends;
    std::vector<backend_rt> backends;
    int threads = 1;
    int maxconn = 0;                 // global: client connections at once (see build_runtime)
    std::size_t bufsize = 16384;     // tune.bufsize: header limit and request buffering
    int maxhdr = 101;                // tune.http.maxhdr: header lines per request
    std::vector<std::string> notes;  // what the config asks that is not served, said at start
    // Every log target of every frontend: the global section's first.
    // A frontend with no `log` line logs to the global targets, or, when
    // there are none either, to stdout (raw, as bulwark always did).
    std::vector<log_target> log_targets;
    std::size_t servers = 0;         // servers in all backends: the size of the health table
    // Every section's stick-table, shared by the proxy threads (sharded,
    // see stick_table.hpp); frontends point into it.
    std::shared_ptr<stick_registry> sticks = std::make_shared<stick_registry>();
    // Where shield-block rules post (server::set_block_sink) and their
    // counters; shared by the proxy threads.
    std::shared_ptr<shield_link> shield = std::make_shared<shield_link>();
};

// Builds the runtime of the HTTP frontends of cfg. Server
// host names are resolved here (at start, as HAProxy does). Control thread.
result<runtime> build_runtime(const proxies_config& cfg, unsigned cores);

} // namespace bulwark::proxy
