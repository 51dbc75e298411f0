// SPDX-License-Identifier: Apache-2.0
// What the HTTP session asks before it acts: X-Forwarded-For (option
// forwardfor with except, if-none, header), whether the client and server
// connections stay open (HTTP/1.0 and 1.1, Connection headers, httpclose
// and http-server-close), and which error page is sent.
#include "proxy/http_policy.hpp"

#include "proxy/http_errors.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <string_view>

using namespace bulwark::proxy;
namespace ip = boost::asio::ip;
namespace http = boost::beast::http;

namespace {

peer_info client(const char* addr) { return describe(ip::tcp::endpoint(ip::make_address(addr), 5555)); }

forwardfor_rt xff(const char* except = nullptr, bool if_none = false, const char* header = "X-Forwarded-For")
{
    forwardfor_rt f;
    f.on = true;
    f.header = header;
    f.if_none = if_none;
    if (except) {
        auto c = bulwark::parse_cidr(except);
        REQUIRE(c.ok());
        f.except = *c;
    }
    return f;
}

// Whether the request parser says the client keeps the connection.
bool request_keeps(std::string_view head)
{
    request_reader r({});
    boost::beast::flat_buffer b;
    auto m = b.prepare(head.size());
    std::memcpy(m.data(), head.data(), head.size());
    b.commit(head.size());
    REQUIRE(r.feed(b) == head_state::done);
    return r.parser().keep_alive();
}

// The facts of a response head, as the session takes them from its parser.
response_facts facts(std::string_view head, bool head_request = false)
{
    http::response_parser<http::empty_body> p;
    p.skip(true);
    boost::system::error_code ec;
    p.put(boost::asio::buffer(head.data(), head.size()), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(p.is_header_done());
    return {static_cast<int>(p.get().result_int()), p.chunked(), p.content_length().has_value(), head_request};
}

} // namespace

TEST_CASE("forwardfor adds the client's address unless told otherwise", "[http_policy]")
{
    request_header req;
    CHECK(adds_forwardfor(xff(), client("192.0.2.1"), req));
    forwardfor_rt off;
    CHECK_FALSE(adds_forwardfor(off, client("192.0.2.1"), req));
    // A unix socket client has no address to tell.
    CHECK_FALSE(adds_forwardfor(xff(), peer_info{}, req));
    // except NETWORK: clients from there get none.
    CHECK_FALSE(adds_forwardfor(xff("192.0.2.0/24"), client("192.0.2.1"), req));
    CHECK(adds_forwardfor(xff("192.0.2.0/24"), client("198.51.100.1"), req));
    CHECK(adds_forwardfor(xff("192.0.2.0/24"), client("2001:db8::1"), req));
}

TEST_CASE("forwardfor if-none leaves a request that has the header", "[http_policy]")
{
    request_header req;
    CHECK(adds_forwardfor(xff(nullptr, true), client("192.0.2.1"), req));
    req.insert("x-forwarded-for", "203.0.113.5"); // names match without case
    CHECK_FALSE(adds_forwardfor(xff(nullptr, true), client("192.0.2.1"), req));
    CHECK(adds_forwardfor(xff(), client("192.0.2.1"), req)); // without if-none: one more
    // header NAME: if-none looks for that header, not X-Forwarded-For.
    CHECK(adds_forwardfor(xff(nullptr, true, "X-Client-IP"), client("192.0.2.1"), req));
    req.insert("X-Client-IP", "203.0.113.5");
    CHECK_FALSE(adds_forwardfor(xff(nullptr, true, "X-Client-IP"), client("192.0.2.1"), req));
}

TEST_CASE("the backend's forwardfor wins over the frontend's", "[http_policy]")
{
    frontend_rt fe;
    backend_rt be;
    fe.forwardfor = xff(nullptr, false, "X-Front");
    CHECK(forwardfor_of(fe, be).header == "X-Front");
    be.forwardfor = xff(nullptr, false, "X-Back");
    CHECK(forwardfor_of(fe, be).header == "X-Back");
}

TEST_CASE("the client asks keep-alive as HTTP/1.0 and 1.1 say", "[http_policy]")
{
    CHECK(request_keeps("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_FALSE(request_keeps("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    CHECK_FALSE(request_keeps("GET / HTTP/1.0\r\n\r\n"));
    CHECK(request_keeps("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CHECK(request_keeps("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
}

TEST_CASE("the client connection stays open only when the response's end is known", "[http_policy]")
{
    frontend_rt fe;
    backend_rt be;
    CHECK(keep_client_alive(true, facts("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), fe, be));
    CHECK(keep_client_alive(true, facts("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), fe, be));
    CHECK(keep_client_alive(true, facts("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), fe, be));
    // Delimited by the server closing: the client must see the close too.
    CHECK_FALSE(keep_client_alive(true, facts("HTTP/1.1 200 OK\r\n\r\n"), fe, be));
    CHECK_FALSE(keep_client_alive(true, facts("HTTP/1.0 200 OK\r\n\r\n"), fe, be));
    // No body whatever the framing: HEAD, 204, 304.
    CHECK(keep_client_alive(true, facts("HTTP/1.1 200 OK\r\n\r\n", true), fe, be));
    CHECK(keep_client_alive(true, facts("HTTP/1.1 204 No Content\r\n\r\n"), fe, be));
    CHECK(keep_client_alive(true, facts("HTTP/1.1 304 Not Modified\r\n\r\n"), fe, be));
    // The client did not ask.
    CHECK_FALSE(keep_client_alive(false, facts("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"), fe, be));
}

TEST_CASE("httpclose closes the client side; http-server-close only the server side", "[http_policy]")
{
    const auto res = facts("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
    {
        frontend_rt fe;
        backend_rt be;
        fe.httpclose = true;
        CHECK_FALSE(keep_client_alive(true, res, fe, be));
    }
    {
        frontend_rt fe;
        backend_rt be;
        be.httpclose = true;
        CHECK_FALSE(keep_client_alive(true, res, fe, be));
    }
    {
        frontend_rt fe;
        backend_rt be;
        CHECK_FALSE(closes_server_side(fe, be));
        fe.server_close = true;
        CHECK(closes_server_side(fe, be));
        CHECK(keep_client_alive(true, res, fe, be)); // the client side stays open
        frontend_rt fe2;
        be.server_close = true;
        CHECK(closes_server_side(fe2, be));
    }
}

TEST_CASE("a server connection goes back to the pool only after a clean, complete exchange", "[http_policy]")
{
    CHECK(keep_server_alive(false, true, true, '-'));
    CHECK_FALSE(keep_server_alive(true, true, true, '-'));   // http-server-close
    CHECK_FALSE(keep_server_alive(false, false, true, '-')); // the server closes
    CHECK_FALSE(keep_server_alive(false, true, false, '-')); // body not read to its end
    CHECK_FALSE(keep_server_alive(false, true, true, 'C'));  // the client aborted
    CHECK_FALSE(keep_server_alive(false, true, true, 's'));  // a server timeout
}

TEST_CASE("error pages: the backend's errorfile, then the frontend's, then the built-in", "[http_policy]")
{
    frontend_rt fe;
    backend_rt be;
    CHECK(error_page(fe, &be, 503) == error_response(503));
    fe.errorfiles[503] = "front 503";
    CHECK(error_page(fe, &be, 503) == "front 503");
    CHECK(error_page(fe, nullptr, 503) == "front 503");
    be.errorfiles[503] = "back 503";
    CHECK(error_page(fe, &be, 503) == "back 503");
    CHECK(error_page(fe, nullptr, 503) == "front 503");
    CHECK(error_page(fe, &be, 502) == error_response(502));
}
