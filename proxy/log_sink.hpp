// SPDX-License-Identifier: Apache-2.0
#pragma once

// Where the proxy's log lines go, HAProxy's way: stdout, stderr, a unix
// datagram socket (/dev/log) or a UDP syslog server, each line raw or in
// syslog's RFC 3164 or RFC 5424 framing, cut at the target's `len`.
// Sending never blocks the proxy thread that served the request: when the
// sink is full (a pipe nobody reads, a socket's queue), the line is dropped
// and counted.

#include "proxy/config_types.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace bulwark::proxy {

// The message for target t: the syslog header (none for raw), then line
// (without its newline), cut to t.len bytes with the newline of a stream
// target (kind::fd) counted in. pid and host fill the header's fields.
// Pure: unit-tested.
std::string format_log_message(const log_target& t, std::string_view line, std::chrono::system_clock::time_point now,
                               int pid, std::string_view host);

class log_sink {
public:
    // Opens t: a file descriptor of its own on stdout/stderr's pipe or
    // terminal (reopened non-blocking, so a full pipe refuses instead of
    // waiting), or a non-blocking datagram socket. `fd` overrides t.fd
    // (tests, a FILE* given to the server). Fails on what cannot be opened.
    static result<std::unique_ptr<log_sink>> open(const log_target& t, int fd = -1);
    ~log_sink();
    log_sink(const log_sink&) = delete;
    log_sink& operator=(const log_sink&) = delete;

    // Sends one line (its trailing newline, if any, is ignored). Never
    // waits: a sink that cannot take it now drops it. Any thread.
    void send(std::string_view line, std::chrono::system_clock::time_point now);

    const log_target& target() const { return t_; }
    std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
    explicit log_sink(const log_target& t) : t_(t) {}
    log_target t_;
    int fd_ = -1;
    bool owned_ = false;   // fd_ is ours to close
    bool socket_ = false;  // fd_ is a socket: send(MSG_DONTWAIT)
    std::unique_ptr<sockaddr_storage> dest_; // datagram targets
    unsigned dest_len_ = 0;
    int pid_ = 0;
    std::string host_;
    std::atomic<std::uint64_t> sent_{0}, dropped_{0};
};

} // namespace bulwark::proxy
