// SPDX-License-Identifier: Apache-2.0
#pragma once

// The proxy's configuration: what a loaded file says of frontends, backends,
// ACLs and rules, with every name resolved and every value checked. Plain
// data, no behaviour: the control plane fills it, build_runtime()
// (proxy/runtime.hpp) compiles it.

#include "common/config_base.hpp"
#include "common/units.hpp"
#include "proxy/stick_table_types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::proxy {

enum class proxy_mode : std::uint8_t { tcp, http }; // HAProxy's default is tcp

// A fetch with its arguments and converters: "res.hdr(Set-Cookie),lower".
struct sample_expr {
    std::string fetch;                    // canonical fetch name, e.g. "url"
    std::vector<std::string> args;
    struct conv {
        std::string name;
        std::vector<std::string> args;
    };
    std::vector<conv> convs;
};

struct acl_def {
    source_loc at;
    std::string name;          // empty for an anonymous { ... } ACL
    sample_expr expr;
    std::string matcher;       // str, sub, beg, end, dir, dom, reg, found, len, int, ip, bool
    bool icase = false;
    std::vector<std::string> patterns;
    std::vector<std::string> pattern_files;
};

// "if|unless a !b || { anon }": OR of ANDs of (negated) ACL references.
struct condition {
    bool unless = false;
    struct term {
        bool negate = false;
        std::string acl;       // named ACL (or a predefined one)
        int anon = -1;         // else index into proxy::acls
    };
    std::vector<std::vector<term>> any_of;
};

// An http-request/http-response/tcp-request rule, or a legacy req*/rsp* line.
struct rule {
    source_loc at;
    std::string family;        // "http-request", "http-response", "tcp-request content", "reqirep", ...
    std::string action;        // "deny", "set-header", ...
    std::vector<std::string> args;
    std::optional<condition> cond;
};

struct bind_line {
    source_loc at;
    address addr;
    bool ssl = false;
    std::vector<std::string> crts;     // resolved paths
    bool accept_proxy = false;
    // A unix@ bind's file: its permission bits and owner (-1: unchanged).
    std::optional<unsigned> mode;
    int uid = -1, gid = -1;
    std::vector<std::string> options;  // every option word as written, for show/diagnostics
};

struct server_line {
    source_loc at;
    std::string name;
    address addr;
    bool check = false;
    ms inter{2000};
    int rise = 2, fall = 3;
    int maxconn = 0;           // 0: unlimited
    int maxqueue = 0;          // requests waiting for it at most; 0: unlimited
    int weight = 1;
    bool backup = false, send_proxy = false, send_proxy_v2 = false, ssl = false;
    bool disabled = false;     // 'disabled': in maintenance, gets no traffic
};

// http-check expect [!] status|rstatus|string|rstring PATTERN
struct http_expect {
    source_loc at;
    bool negate = false;
    std::string match;         // "status", "rstatus", "string", "rstring"
    std::string pattern;
};

struct timeouts {
    std::optional<ms> client, server, connect, http_request, http_keep_alive, queue, tunnel, client_fin,
        server_fin, check, tarpit;
};

struct capture_line {
    source_loc at;
    bool request = true;
    std::string header;
    unsigned len = 0;
};

// A `log` line's target: HAProxy's
// log stdout|stderr|/dev/log|ADDR[:PORT] [len N] [format F] FACILITY [LEVEL]
struct log_target {
    enum class kind : std::uint8_t { fd, unix_dgram, udp } k = kind::fd;
    enum class format : std::uint8_t { raw, rfc3164, rfc5424 } fmt = format::rfc3164;
    std::string where;        // as written: "stdout", "/dev/log", "127.0.0.1:514"
    int fd = 1;               // kind::fd: 1 or 2
    std::string path;         // kind::unix_dgram
    ip_addr ip;               // kind::udp
    std::uint16_t port = 514; // kind::udp
    std::size_t len = 1024;   // a message's bytes at most (header and newline included): the rest is cut
    int facility = 1;         // user
    int level = 7;            // the highest level sent (debug: all); request lines are info (6)
};

struct proxy_section {
    source_loc at;
    unsigned kind = sec_frontend;      // sec_defaults, sec_frontend, sec_backend, sec_listen
    std::string name;
    proxy_mode mode = proxy_mode::tcp;
    bool mode_set = false;
    timeouts timeout;
    std::map<std::string, bool> options;   // "http-buffer-request" -> on/off ("no option ...")
    std::map<std::string, std::vector<std::string>> option_args;
    int maxconn = 0;
    std::string balance = "roundrobin";
    std::vector<bind_line> binds;
    std::vector<server_line> servers;
    std::vector<log_target> logs;      // its own `log` lines (and its defaults')
    bool log_global = false;           // `log global`: the global section's targets too
    std::vector<acl_def> acls;             // named and anonymous, in file order
    std::vector<rule> rules;               // all rule families, in file order
    struct switching {
        source_loc at;
        std::string backend;
        std::optional<condition> cond;
    };
    std::vector<switching> use_backends;
    std::optional<switching> default_backend;
    std::vector<capture_line> captures;
    std::map<int, std::string> errorfiles; // status -> full HTTP response
    std::optional<ms> inspect_delay;
    int retries = 3;                       // retries N: connection attempts after the first (HAProxy's default)
    bool disabled = false;                 // 'disabled' (until 'enabled'): a frontend does not listen
    std::optional<http_expect> check_expect; // the last 'http-check expect'
    std::optional<stick_table_config> stick_table; // its `stick-table` line

    bool has_fe() const { return kind & (sec_frontend | sec_listen); }
    bool has_be() const { return kind & (sec_backend | sec_listen); }
};

struct global_settings {
    int nbthread = 0;                  // 0: one per core
    int maxconn = 0;
    std::uint64_t tune_bufsize = 16384;
    int tune_http_maxhdr = 101;
    int tune_pcre2_match_limit = 100000; // PCRE2's match and depth limits on one regex search
    int tune_pcre2_depth_limit = 10000;  // (rules::pcre2_limits: a search past them fails closed)
    std::string default_path = "current";
    std::string crt_base, ca_base;
    std::vector<address> stats_sockets;
    std::vector<log_target> log_targets;
    bool daemon = false;
};

// Everything the proxy reads of a loaded file: the global settings and
// every frontend, backend and listen section in file order.
struct proxies_config {
    global_settings global;
    std::vector<proxy_section> proxies;

    const proxy_section* find_backend(std::string_view name) const;
    const proxy_section* find_frontend(std::string_view name) const;
};

} // namespace bulwark::proxy
