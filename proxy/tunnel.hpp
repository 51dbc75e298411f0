// SPDX-License-Identifier: Apache-2.0
#pragma once

// A tunnel: bytes both ways between a client and a server until both
// close, after a 101 Switching Protocols or for a mode tcp connection.
// Templates over the client's stream (a deadline_stream or a stream over
// one); the server side is a deadline_stream.

#include "proxy/access_log.hpp"
#include "proxy/relay.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/beast/core/error.hpp>
#include <exception>
#include <optional>

namespace bulwark::proxy {

struct tunnel_timeouts {
    proxy::ms client, server; // each stream's inactivity limit
    std::optional<proxy::ms> client_fin, server_fin;
};

// 'timeout tunnel' supersedes the client and server timeouts in a tunnel.
inline tunnel_timeouts tunnel_limits(const frontend_rt& fe, const backend_rt& be)
{
    return {be.tunnel.value_or(fe.client), be.tunnel.value_or(be.server), fe.client_fin, be.server_fin};
}

// One direction of a tunnel: bytes from `in` (first those already read
// into `early`) to `out`, until `in` ends (then `out` is half-closed, so
// its peer sees the end too) or an error. Returns the error (eof is none)
// and whether it came from `in`.
template <class In, class Out>
task<std::pair<error_code, bool>> pump(In& in, boost::beast::flat_buffer& early, Out& out,
                                       const proxy::ms& in_timeout, const proxy::ms& out_timeout,
                                       std::span<char> buf, std::uint64_t& bytes)
{
    namespace asio = boost::asio;
    error_code ec;
    if (early.size() > 0) {
        deadline_of(out).expires_after(out_timeout);
        std::size_t n = co_await asio::async_write(out, early.data(), with_ec(ec));
        deadline_of(out).classify(ec);
        early.consume(n);
        bytes += n;
        if (ec)
            co_return std::pair{ec, false};
    }
    for (;;) {
        deadline_of(in).expires_after(in_timeout);
        std::size_t n = co_await in.async_read_some(asio::buffer(buf.data(), buf.size()), with_ec(ec));
        deadline_of(in).classify(ec);
        if (ec == asio::error::eof) {
            deadline_of(out).socket().shutdown(asio::socket_base::shutdown_send, ec);
            co_return std::pair{error_code{}, true};
        }
        if (ec)
            co_return std::pair{ec, true};
        deadline_of(out).expires_after(out_timeout);
        co_await asio::async_write(out, asio::buffer(buf.data(), n), with_ec(ec));
        deadline_of(out).classify(ec);
        if (ec)
            co_return std::pair{ec, false};
        bytes += n;
    }
}

// Both directions at once, each stream's deadline pushed back by traffic
// either way ('timeout tunnel', else the client and server timeouts). Once
// a side has closed its half, the other way is bounded by that side's
// 'timeout client-fin' or 'timeout server-fin'. It ends when both sides
// have closed, or at the first error or timeout, which stops the other way
// too. The termination flags (lg.term) name the side that ended it and
// how; lg.bytes counts the bytes sent to the client.
template <class Client>
task<void> tunnel(Client& client, boost::beast::flat_buffer& cbuf, deadline_stream& srv,
                  boost::beast::flat_buffer& sbuf, tunnel_timeouts t, std::span<char> up_buf,
                  std::span<char> down_buf, request_log& lg)
{
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    std::uint64_t up_bytes = 0;
    std::pair<error_code, bool> down{};
    bool down_done = false;
    steady_timer down_finished(client.get_executor(), clock::time_point::max());
    asio::co_spawn(client.get_executor(), pump(srv, sbuf, client, t.server, t.client, down_buf, lg.bytes),
                   [&](std::exception_ptr, std::pair<error_code, bool> r) {
                       down = r;
                       down_done = true;
                       down_finished.cancel();
                       if (!r.first && t.server_fin) { // the server closed its half
                           t.client = std::min(t.client, *t.server_fin);
                           deadline_of(client).expires_after(t.client);
                       }
                   });
    auto up = co_await pump(client, cbuf, srv, t.client, t.server, up_buf, up_bytes);
    error_code ignored;
    if (up.first) { // stop the other way: its pending operations end at once
        deadline_of(client).socket().cancel(ignored);
        srv.socket().cancel(ignored);
    } else if (!down_done && t.client_fin) { // the client closed its half
        t.server = std::min(t.server, *t.client_fin);
        srv.expires_after(t.server);
    }
    if (!down_done)
        co_await down_finished.async_wait(with_ec(ignored));
    // The first failure names the side: up reads the client and writes the
    // server, down the reverse. A cancellation is the echo of the other's.
    // A way that timed out after the other side had closed its half ended
    // on that side's fin timeout, and is that side's.
    bool client_side;
    error_code ec;
    if (up.first && up.first != asio::error::operation_aborted) {
        ec = up.first;
        client_side = down_done && !down.first && t.server_fin && ec == beast::error::timeout ? false : up.second;
    } else if (down.first && down.first != asio::error::operation_aborted) {
        ec = down.first;
        client_side = !up.first && t.client_fin && ec == beast::error::timeout ? true : !down.second;
    } else {
        co_return;
    }
    if (ec == beast::error::timeout)
        lg.ended(client_side ? "cD--" : "sD--");
    else
        lg.ended(client_side ? "CD--" : "SD--");
}

} // namespace bulwark::proxy
