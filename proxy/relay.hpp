// SPDX-License-Identifier: Apache-2.0
#pragma once

// HTTP/1 message relay on coroutines: a body buffered under a limit, a
// message (header then body) streamed from one side to the other through
// a fixed chunk. Templates over the streams: each is a deadline_stream or
// a stream over one (TLS), reached by beast::get_lowest_layer for its
// deadline and error classification.

#include "proxy/http_framing.hpp"
#include "proxy/task.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

namespace bulwark::proxy {

// One relay chunk: the bytes a relay moves per read.
inline constexpr std::size_t chunk_size = 16384;

// The deadline_stream under a stream (the stream itself when plain).
template <class Stream>
deadline_stream& deadline_of(Stream& s)
{
    return boost::beast::get_lowest_layer(s);
}

// Reads the body of p into `pending` (after what it holds), grown by what
// comes so a slow body holds only the bytes it sent, until the body is
// complete or `limit` bytes are held. The caller sets the stream's
// deadline. Returns the read's error (need_buffer is none).
template <class Stream, bool isRequest>
task<error_code> buffer_body(Stream& in, boost::beast::flat_buffer& buf, relay_parser<isRequest>& p,
                             std::string& pending, std::size_t limit)
{
    namespace http = boost::beast::http;
    error_code ec;
    auto& body = p.get().body();
    while (!p.is_done() && pending.size() < limit) {
        const std::size_t have = pending.size();
        const std::size_t asked = std::min(std::max<std::size_t>(buf.size(), 256), limit - have);
        pending.resize(have + asked);
        body.data = pending.data() + have;
        body.size = asked;
        // read_some, not read: a read would wait for the body buffer to
        // fill, past `limit` (wait-for-body at-least) when the body is longer.
        co_await http::async_read_some(in, buf, p, with_ec(ec));
        deadline_of(in).classify(ec);
        if (ec == http::error::need_buffer)
            ec = {};
        pending.resize(have + asked - body.size);
        if (ec)
            break;
    }
    co_return ec;
}

// Sends the header of a parsed message and streams its body from `in` to
// `out` through one chunk, as Beast's relay example does. The header goes
// out with the first body bytes in one write when they are at hand (already
// read, or `pending`: body read by request buffering), alone before
// waiting for any. Returns the first error, tagged with the side it came
// from. A chunked body goes through Beast's serializer `sr`, which frames
// the chunks again; any other is the header's bytes (formatted into `head`,
// the session's buffer) then the body's as they come, which is all the
// serializer would write, without the cost of its buffer sequences.
template <bool isRequest, class In, class Out>
task<std::pair<error_code, bool /*from input*/>> relay_message(
    In& in, boost::beast::flat_buffer& inbuf, relay_parser<isRequest>& p, Out& out,
    boost::beast::http::serializer<isRequest, boost::beast::http::buffer_body, fields_type>& sr, proxy::ms in_timeout,
    proxy::ms out_timeout, std::string& pending, std::uint64_t& bytes, std::span<char> chunk, std::string& head)
{
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    error_code ec;
    auto& body = p.get().body();
    bool pending_first = !pending.empty();
    bool header_sent = false;
    const bool plain = !p.get().chunked();
    // The header's bytes count in the log's bytes, as in HAProxy. (Chunked
    // messages are formatted only for that: Beast's serializer sends them.)
    format_header(p.get().base(), head);
    bytes += head.size();
    do {
        if (pending_first) { // body already read: it goes out before any new read
            pending_first = false;
            body.data = pending.data();
            body.size = pending.size();
            body.more = !p.is_done();
            bytes += pending.size();
        } else if (!p.is_done()) {
            body.data = chunk.data();
            body.size = chunk.size();
            if (!header_sent) {
                error_code bad;
                std::size_t got = take_buffered(p, inbuf, bad);
                if (bad || (got == 0 && !p.is_done())) { // nothing at hand: the header alone first
                    header_sent = true;
                    deadline_of(out).expires_after(out_timeout);
                    if (plain)
                        co_await asio::async_write(out, asio::buffer(head), with_ec(ec));
                    else
                        co_await http::async_write_header(out, sr, with_ec(ec));
                    deadline_of(out).classify(ec);
                    if (ec)
                        co_return std::pair{ec, false};
                    if (bad)
                        co_return std::pair{bad, true};
                    continue;
                }
                body.size = got;
            } else {
                deadline_of(in).expires_after(in_timeout);
                co_await http::async_read(in, inbuf, p, with_ec(ec));
                deadline_of(in).classify(ec);
                if (ec == http::error::need_buffer)
                    ec = {};
                if (ec)
                    co_return std::pair{ec, true};
                body.size = chunk.size() - body.size;
            }
            body.data = chunk.data();
            body.more = !p.is_done();
            bytes += body.size;
        } else { // no body left: the header alone, if it has not gone yet
            body.data = nullptr;
            body.size = 0;
            body.more = false;
        }
        if (plain) {
            const std::array<asio::const_buffer, 2> out_bufs{
                asio::buffer(head.data(), header_sent ? 0 : head.size()), asio::buffer(body.data, body.size)};
            header_sent = true;
            if (out_bufs[0].size() + out_bufs[1].size() > 0) {
                deadline_of(out).expires_after(out_timeout);
                co_await asio::async_write(out, out_bufs, with_ec(ec));
                deadline_of(out).classify(ec);
                if (ec)
                    co_return std::pair{ec, false};
            }
            continue;
        }
        header_sent = true;
        deadline_of(out).expires_after(out_timeout);
        co_await http::async_write(out, sr, with_ec(ec));
        deadline_of(out).classify(ec);
        if (ec == http::error::need_buffer)
            ec = {};
        if (ec)
            co_return std::pair{ec, false};
    } while (!p.is_done() && (plain || !sr.is_done()));
    co_return std::pair{error_code{}, false};
}

} // namespace bulwark::proxy
