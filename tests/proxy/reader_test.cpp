// SPDX-License-Identifier: Apache-2.0
// The request reader's state machine: bytes in, a head (or a refusal with
// its status) out, whatever the bytes and however they are split.
#include "proxy/http_errors.hpp"
#include "proxy/reader.hpp"

#include <boost/beast/http/string_body.hpp>

#include "tests/proxy/support.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <cstring>

using namespace bulwark::proxy;
using bulwark::proxy::testing::put;
using bulwark::proxy::testing::rest;
namespace http = boost::beast::http;

namespace {

// Feeds `text` in pieces of `step` bytes; returns the last state.
head_state feed_all(request_reader& r, boost::beast::flat_buffer& b, std::string_view text, std::size_t step)
{
    head_state st = head_state::need_more;
    for (std::size_t i = 0; i < text.size() && st == head_state::need_more; i += step) {
        put(b, text.substr(i, step));
        st = r.feed(b);
    }
    return st;
}

} // namespace

TEST_CASE("a request head is read whole or in any split", "[reader]")
{
    const std::string text = "POST /submit?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody";
    for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, text.size()}) {
        CAPTURE(step);
        request_reader r({});
        boost::beast::flat_buffer b;
        REQUIRE(feed_all(r, b, text, step) == head_state::done);
        const auto& req = r.parser().get();
        CHECK(req.method() == http::verb::post);
        CHECK(req.target() == "/submit?x=1");
        CHECK(req.version() == 11);
        CHECK(req[http::field::host] == "a");
        CHECK(r.parser().content_length().value_or(0) == 4);
        CHECK(r.feed(b) == head_state::done); // idempotent
        // The body is left for the parser: what was fed past the head stays.
        CHECK(std::string_view("body").starts_with(rest(b)));
    }
}

TEST_CASE("the reader waits for more until the head's end", "[reader]")
{
    request_reader r({});
    boost::beast::flat_buffer b;
    CHECK(feed_all(r, b, "GET / HTTP/1.1\r\nHost: a\r\n", 5) == head_state::need_more);
    CHECK(r.started());
    put(b, "\r\n");
    CHECK(r.feed(b) == head_state::done);
}

TEST_CASE("pipelined requests: the second stays in the buffer", "[reader]")
{
    request_reader r({});
    boost::beast::flat_buffer b;
    put(b, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    REQUIRE(r.feed(b) == head_state::done);
    CHECK(r.parser().get().target() == "/1");
    CHECK(rest(b) == "GET /2 HTTP/1.1\r\n\r\n");
    request_reader r2({});
    REQUIRE(r2.feed(b) == head_state::done);
    CHECK(r2.parser().get().target() == "/2");
}

TEST_CASE("empty lines before a request are skipped, and are not a start", "[reader]")
{
    request_reader r({});
    boost::beast::flat_buffer b;
    put(b, "\r\n\r\n\n");
    CHECK(r.feed(b) == head_state::need_more);
    CHECK_FALSE(r.started());
    CHECK(b.size() == 0);
    put(b, "GET / HTTP/1.0\r\n\r\n");
    CHECK(r.feed(b) == head_state::done);
    CHECK(r.started());
    CHECK(r.parser().get().version() == 10);
}

TEST_CASE("blank runs in the request line read as one space, as HAProxy reads them", "[reader]")
{
    // http_request_buffer.vtc sends "POST /1  HTTP/1.1" and expects a 200.
    for (std::string_view line : {"POST /1  HTTP/1.1\r\n", "POST  /1 HTTP/1.1\r\n", "POST\t/1 \t HTTP/1.1\r\n"}) {
        CAPTURE(line);
        request_reader r({});
        boost::beast::flat_buffer b;
        put(b, line);
        put(b, "Transfer-Encoding: chunked\r\n\r\n1\r\n1\r\n");
        REQUIRE(r.feed(b) == head_state::done);
        CHECK(r.parser().get().method() == http::verb::post);
        CHECK(r.parser().get().target() == "/1");
        CHECK(r.parser().chunked());
        CHECK(rest(b) == "1\r\n1\r\n");
    }
}

TEST_CASE("refusals and their statuses", "[reader]")
{
    struct row {
        const char* what;
        std::string text;
        int status;
    };
    const std::string big(200, 'a');
    const row rows[] = {
        {"no version (HTTP/0.9)", "GET /\r\n\r\n", 400},
        {"bad version", "GET / HTTP/9.x\r\n\r\n", 400},
        {"blank in a field name", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
        {"field without colon", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        {"control byte in the target", std::string("GET /\x01 HTTP/1.1\r\n\r\n"), 400},
        {"content-length not a number", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        {"two content-lengths", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"transfer-encoding not ending in chunked (smuggling)",
         "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        {"transfer-encoding gzip alone", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
        {"content-length beside transfer-encoding",
         "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"more header lines than tune.http.maxhdr",
         "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n", 400},
        {"request line longer than tune.bufsize", "GET /" + big + " HTTP/1.1\r\n\r\n", 414},
        {"head longer than tune.bufsize", "GET / HTTP/1.1\r\nX: " + big + "\r\n\r\n", 431},
    };
    for (const auto& row : rows) {
        for (std::size_t step : {std::size_t{1}, row.text.size()}) {
            CAPTURE(row.what, step);
            request_reader r({.bufsize = 128, .maxhdr = 3});
            boost::beast::flat_buffer b;
            CHECK(feed_all(r, b, row.text, step) == head_state::error);
            CHECK(r.status() == row.status);
            CHECK_FALSE(r.why().empty());
            CHECK(r.feed(b) == head_state::error); // stays refused
        }
    }
}

TEST_CASE("the limits' nearest passing neighbours", "[reader]")
{
    SECTION("exactly tune.http.maxhdr header lines")
    {
        request_reader r({.bufsize = 128, .maxhdr = 3});
        boost::beast::flat_buffer b;
        put(b, "GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n");
        CHECK(r.feed(b) == head_state::done);
    }
    SECTION("a head just under tune.bufsize")
    {
        std::string head = "GET / HTTP/1.1\r\nX: ";
        head += std::string(128 - 1 - head.size() - 4, 'a') + "\r\n\r\n";
        REQUIRE(head.size() == 127);
        request_reader r({.bufsize = 128, .maxhdr = 3});
        boost::beast::flat_buffer b;
        CHECK(feed_all(r, b, head, 1) == head_state::done);
    }
    SECTION("transfer-encoding ending in chunked")
    {
        request_reader r({});
        boost::beast::flat_buffer b;
        put(b, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        CHECK(r.feed(b) == head_state::done);
        CHECK(r.parser().chunked());
    }
}

TEST_CASE("every error status has HAProxy's response, closing the connection", "[errors]")
{
    struct row {
        int status;
        const char* line;
        const char* text;
    };
    const row rows[] = {
        {400, "HTTP/1.1 400 Bad request", "Your browser sent an invalid request."},
        {403, "HTTP/1.1 403 Forbidden", "Request forbidden by administrative rules."},
        {408, "HTTP/1.1 408 Request Time-out", "Your browser didn't send a complete request in time."},
        {413, "HTTP/1.1 413 Payload Too Large", "The request entity exceeds the maximum allowed."},
        {414, "HTTP/1.1 414 URI Too Long", "The request URL is too long."},
        {431, "HTTP/1.1 431 Request Header Fields Too Large", "The request header fields are too large."},
        {500, "HTTP/1.1 500 Internal Server Error", "An internal server error occurred."},
        {502, "HTTP/1.1 502 Bad Gateway", "The server returned an invalid or incomplete response."},
        {503, "HTTP/1.1 503 Service Unavailable", "No server is available to handle this request."},
        {504, "HTTP/1.1 504 Gateway Time-out", "The server didn't respond in time."},
    };
    for (const auto& row : rows) {
        CAPTURE(row.status);
        std::string r = error_response(row.status);
        CHECK(r.starts_with(std::string(row.line) + "\r\n"));
        CHECK(r.find("\r\nconnection: close\r\n") != std::string::npos);
        CHECK(r.find(row.text) != std::string::npos);
        // The response parses, and its length is right.
        http::response_parser<http::string_body> p;
        boost::system::error_code ec;
        p.eager(true);
        std::size_t used = p.put(boost::asio::buffer(r), ec);
        CHECK(!ec);
        CHECK(used == r.size());
        REQUIRE(p.is_done());
        CHECK(p.get().result_int() == static_cast<unsigned>(row.status));
        CHECK(!p.get().keep_alive());
    }
}

TEST_CASE("status lines, as HTTP health checks read them", "[reader]")
{
    auto ok = parse_status_line("HTTP/1.1 200 OK\r");
    REQUIRE(ok);
    CHECK(ok->code == 200);
    CHECK(ok->reason == "OK");
    auto bare = parse_status_line("HTTP/1.0 503");
    REQUIRE(bare);
    CHECK(bare->code == 503);
    CHECK(bare->reason.empty());
    auto spaced = parse_status_line("HTTP/1.1 500 Internal Server Error");
    REQUIRE(spaced);
    CHECK(spaced->reason == "Internal Server Error");
    for (std::string_view bad : {"", "HTTP/1.1", "HTTP/1.1 20", "HTTP/1.1 2x0 OK", "HTTP/2 200 OK", "HTTP/1.1 099 x",
                                 "HTTP/1.1 2000", "SSH-2.0-OpenSSH", "HTTP/1.1  200 OK"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_status_line(bad));
    }
}
