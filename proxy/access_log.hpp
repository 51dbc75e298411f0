// SPDX-License-Identifier: Apache-2.0
#pragma once

// What one request (or tcp connection) leaves behind: its log record, as
// the session fills it, and HAProxy's httplog and tcplog lines made of it.
// Plain data and pure functions, any thread.

#include "proxy/peer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::proxy {

// What one request's log line says (HAProxy's httplog fields).
struct request_log {
    std::chrono::system_clock::time_point accept_date;
    std::chrono::steady_clock::time_point start;
    long t_request = -1, t_queue = -1, t_connect = -1, t_response = -1; // ms, -1: did not happen
    int status = -1; // -1: nothing answered
    std::uint64_t bytes = 0;
    std::string backend, server = "<NOSRV>";
    int backend_index = -1, server_index = -1; // for the counters: rt.backends, server health index
    char term[5] = "----";
    std::string line = "<BADREQ>";
    bool null_connection = false; // nothing came from the client (option dontlognull)
    std::string cap_req, cap_res; // "{...}": HAProxy's %hr %hs, when the frontend captures headers
    char denied = 0;              // 'q': a rule refused the request, 's': the response
    int retries = 0;              // %rc: connection retries
    bool redispatched = false;    // %rc is then "+N": the request moved to another server

    // The termination flags, as HAProxy's 4 letters ("cD--"): who ended it, in which phase.
    void ended(const char* flags) { std::copy_n(flags, 4, term); }
};

// Milliseconds from `since` to now (reads the steady clock).
long elapsed_ms(std::chrono::steady_clock::time_point since);

// HAProxy's accept date, "02/Dec/2026:04:42:39.123", in local time.
std::string log_date(std::chrono::system_clock::time_point t);

// HAProxy's %rc: the retries, "+" first when the request was redispatched.
std::string retries_field(const request_log& lg);

// HAProxy's httplog line, newline included:
// %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
// %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r, where `total_ms` is %Ta and
// `conns` the proxy's connections at once.
std::string format_httplog(const peer_info& peer, std::string_view frontend, const request_log& lg, long total_ms,
                           int conns);

// HAProxy's tcplog line, newline included:
// %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
std::string format_tcplog(const peer_info& peer, std::string_view frontend, const request_log& lg, long total_ms,
                          int conns);

} // namespace bulwark::proxy
