// SPDX-License-Identifier: Apache-2.0
#pragma once

// A stream socket with a deadline, for the proxy's sessions (client and
// server sides) and health checks. Header-only so unit tests drive it.

#include "proxy/runtime.hpp"

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace bulwark::proxy {

// Every I/O object runs on its worker's io_context, named by its concrete
// executor type: the default, type-erased any_io_executor costs a virtual
// call and a copy or destruction of the erased executor on every operation
// started and completed (measured: ~2 us of user time per request).
using executor = boost::asio::io_context::executor_type;
using socket_type = boost::asio::basic_stream_socket<stream_protocol, executor>;
using steady_timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                       boost::asio::wait_traits<std::chrono::steady_clock>, executor>;

// A socket with a deadline. Unlike beast::tcp_stream, which closes its
// socket on expiry, this one only cancels the pending operation, so the
// session can still answer 408 (or 504). The deadline moves on every
// operation, but the timer is re-armed only when it moves earlier: a
// later deadline is checked when the armed wait fires, which then waits
// again for the rest. Most operations so touch no timer at all.
class deadline_stream {
public:
    using executor_type = executor;
    // What boost::asio::ssl::stream (Boost 1.74) asks of the layer under it:
    // a TLS stream over this one takes its executor from the socket. Reads
    // and writes go through this stream all the same, under its deadline.
    using lowest_layer_type = socket_type;

    explicit deadline_stream(socket_type s) : sock_(std::move(s)), timer_(sock_.get_executor()) {}
    explicit deadline_stream(const executor_type& ex) : sock_(ex), timer_(ex) {}
    deadline_stream(const deadline_stream&) = delete;
    deadline_stream& operator=(const deadline_stream&) = delete;
    ~deadline_stream() { *alive_ = false; }

    executor_type get_executor() noexcept { return sock_.get_executor(); }
    // Reads and writes count their bytes (bytes_read(), bytes_written()):
    // what stick-tables' bytes_in_rate/bytes_out_rate add up, without a
    // call per read at the session's level.
    template <class Buffers, class Token>
    auto async_read_some(const Buffers& b, Token&& t)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto h, const Buffers& bufs) {
                sock_.async_read_some(bufs, [this, h = std::move(h)](boost::system::error_code ec,
                                                                     std::size_t n) mutable {
                    read_ += n;
                    std::move(h)(ec, n);
                });
            },
            t, b);
    }
    template <class Buffers, class Token>
    auto async_write_some(const Buffers& b, Token&& t)
    {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto h, const Buffers& bufs) {
                sock_.async_write_some(bufs, [this, h = std::move(h)](boost::system::error_code ec,
                                                                      std::size_t n) mutable {
                    written_ += n;
                    std::move(h)(ec, n);
                });
            },
            t, b);
    }
    // Bytes read from and written to the socket since it was made.
    std::uint64_t bytes_read() const { return read_; }
    std::uint64_t bytes_written() const { return written_; }
    template <class Token>
    auto async_connect(const stream_protocol::endpoint& ep, Token&& t)
    {
        return sock_.async_connect(ep, std::forward<Token>(t));
    }

    void expires_after(proxy::ms d) { expires_at(std::chrono::steady_clock::now() + d); }
    void expires_at(std::chrono::steady_clock::time_point at)
    {
        expired_ = false;
        deadline_ = at;
        if (armed_ > at) // no wait pending, or one that would fire too late
            arm(at);
    }
    // An operation cancelled by the deadline reports beast's timeout error.
    void classify(boost::system::error_code& ec) const
    {
        if (ec == boost::asio::error::operation_aborted && expired_)
            ec = boost::beast::error::timeout;
    }
    socket_type& socket() { return sock_; }
    lowest_layer_type& lowest_layer() { return sock_; }
    const lowest_layer_type& lowest_layer() const { return sock_; }

private:
    void arm(std::chrono::steady_clock::time_point at)
    {
        armed_ = at;
        timer_.expires_at(at); // a wait pending completes as operation_aborted
        // The handler touches `this` only when the timer really fired and the
        // stream still exists (a wait can have fired, its handler queued, just
        // before the stream is destroyed).
        timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
            if (ec || !*alive)
                return;
            armed_ = std::chrono::steady_clock::time_point::max();
            if (std::chrono::steady_clock::now() < deadline_) { // the deadline moved on since: wait for the rest
                arm(deadline_);
                return;
            }
            expired_ = true;
            sock_.cancel(ec);
        });
    }

    socket_type sock_;
    steady_timer timer_;
    std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point armed_ = std::chrono::steady_clock::time_point::max(); // when the pending wait fires; max: none
    bool expired_ = false;
    std::uint64_t read_ = 0, written_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace bulwark::proxy
