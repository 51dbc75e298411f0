// SPDX-License-Identifier: Apache-2.0
// Framing without I/O: a header's bytes as the relay sends them (the same
// as Beast writes), and body bytes already read moved into a parser.
#include "proxy/http_framing.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/write.hpp>
#include "tests/proxy/support.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

using namespace bulwark::proxy;
using bulwark::proxy::testing::put;
using bulwark::proxy::testing::rest;
namespace http = boost::beast::http;

namespace {

template <bool isRequest>
std::string beast_bytes(const http::header<isRequest, fields_type>& h)
{
    std::ostringstream os;
    os << h;
    return os.str();
}

} // namespace

TEST_CASE("a request header goes out as Beast writes it, fields in order", "[http_framing]")
{
    http::header<true, fields_type> h;
    h.method(http::verb::post);
    h.target("/a?b=c");
    h.version(11);
    h.insert("Host", "example.com");
    h.insert("X-Custom", "one");
    h.insert("x-custom", "two");
    std::string out = "left over";
    format_header(h, out);
    CHECK(out == "POST /a?b=c HTTP/1.1\r\nHost: example.com\r\nX-Custom: one\r\nx-custom: two\r\n\r\n");
    CHECK(out == beast_bytes(h));
    h.version(10);
    h.method_string("PURGE");
    format_header(h, out);
    CHECK(out.starts_with("PURGE /a?b=c HTTP/1.0\r\n"));
    CHECK(out == beast_bytes(h));
}

TEST_CASE("a response header keeps its reason, or gets the standard one", "[http_framing]")
{
    http::header<false, fields_type> h;
    h.result(404);
    h.version(11);
    h.reason("Nothing Here");
    h.insert("Content-Length", "0");
    std::string out;
    format_header(h, out);
    CHECK(out == "HTTP/1.1 404 Nothing Here\r\nContent-Length: 0\r\n\r\n");
    CHECK(out == beast_bytes(h));
    http::header<false, fields_type> plain;
    plain.result(503);
    plain.version(10);
    format_header(plain, out);
    CHECK(out == "HTTP/1.0 503 Service Unavailable\r\n\r\n");
}

TEST_CASE("body bytes already read go into the parser's buffer without a read", "[http_framing]")
{
    relay_parser<true> p;
    boost::beast::flat_buffer b;
    put(b, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123");
    boost::system::error_code ec;
    b.consume(p.put(b.data(), ec));
    REQUIRE_FALSE(ec);
    REQUIRE(p.is_header_done());
    char chunk[6];
    auto& body = p.get().body();
    body.data = chunk;
    body.size = sizeof chunk;
    CHECK(take_buffered(p, b, ec) == 4);
    CHECK_FALSE(ec);
    CHECK(std::string_view(chunk, 4) == "0123");
    CHECK(b.size() == 0);
    CHECK_FALSE(p.is_done());
    // More than the chunk holds: what fits, the rest stays buffered.
    put(b, "456789");
    body.data = chunk;
    body.size = 4;
    CHECK(take_buffered(p, b, ec) == 4);
    CHECK(std::string_view(chunk, 4) == "4567");
    CHECK(b.size() == 2);
    body.data = chunk;
    body.size = sizeof chunk;
    CHECK(take_buffered(p, b, ec) == 2);
    CHECK(p.is_done());
}
