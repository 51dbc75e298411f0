// SPDX-License-Identifier: Apache-2.0
#pragma once

// HTTP/1 framing without I/O: a parsed header's bytes as they go out, and
// body bytes already read moved into a parser. Pure, any thread.

#include "proxy/reader.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>

namespace bulwark::proxy {

template <bool isRequest>
using relay_parser = boost::beast::http::parser<isRequest, boost::beast::http::buffer_body, arena_allocator<char>>;
using response_relay_parser = relay_parser<false>;

// A header's bytes exactly as Beast's serializer writes them: the start
// line, the fields in their order ("name: value\r\n" each), an empty line.
// Replaces what `out` held.
void format_header(const boost::beast::http::header<true, fields_type>& h, std::string& out);
void format_header(const boost::beast::http::header<false, fields_type>& h, std::string& out);

// Moves body bytes already in `b` into the parser's buffer_body, without
// reading: what a read would parse first, minus the syscall. Returns the
// bytes moved; ec is a parse error (need_more and need_buffer are none).
template <bool isRequest>
std::size_t take_buffered(relay_parser<isRequest>& p, boost::beast::flat_buffer& b, boost::system::error_code& ec)
{
    namespace http = boost::beast::http;
    auto& body = p.get().body();
    const std::size_t room = body.size;
    while (b.size() > 0 && body.size > 0 && !p.is_done()) {
        std::size_t n = p.put(b.data(), ec);
        b.consume(n);
        if (ec == http::error::need_more || ec == http::error::need_buffer) {
            ec = {};
            break;
        }
        if (ec || n == 0)
            break;
    }
    return room - body.size;
}

} // namespace bulwark::proxy
