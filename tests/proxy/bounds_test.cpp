// SPDX-License-Identifier: Apache-2.0
// Framing rules against request smuggling (RFC 9112 §6.1, §6.3, HAProxy's
// behaviour) and the per-connection bounds the reader enforces on bytes,
// before Beast allocates: header lines, trailer lines, chunk lines held
// under tune.bufsize.
#include "proxy/reader.hpp"

#include "tests/proxy/support.hpp"

#include <boost/beast/http/error.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

using namespace bulwark::proxy;
using bulwark::proxy::testing::put;
namespace http = boost::beast::http;

namespace {

enum class outcome { head_refused, body_refused, body_overflow, ok };

// A whole request through the reader then the parser, as the session
// reads it: the buffer bounded by bufsize, the body through a small
// window. Returns how it ended; `status` is the reader's on a refused head.
outcome read_request(std::string_view text, reader_limits lim, int& status)
{
    request_reader r(lim);
    boost::beast::flat_buffer b(lim.bufsize);
    std::size_t fed = 0;
    auto feed_more = [&] {
        std::size_t n = std::min(text.size() - fed, b.max_size() - b.size());
        put(b, text.substr(fed, n));
        fed += n;
        return n > 0;
    };
    head_state st;
    while ((st = r.feed(b)) == head_state::need_more)
        if (!feed_more())
            return outcome::head_refused; // never here: every row ends its head
    if (st == head_state::error) {
        status = r.status();
        return outcome::head_refused;
    }
    auto& p = r.parser();
    char window[64];
    while (!p.is_done()) {
        p.get().body().data = window;
        p.get().body().size = sizeof window;
        boost::system::error_code ec;
        b.consume(p.put(b.data(), ec));
        if (ec == http::error::need_buffer)
            continue;
        if (ec == http::error::need_more) {
            if (b.size() == b.max_size())
                return outcome::body_overflow; // the session's read: buffer_overflow
            if (!feed_more())
                return outcome::body_refused;
            continue;
        }
        if (ec)
            return outcome::body_refused;
    }
    return outcome::ok;
}

} // namespace

TEST_CASE("smuggling: heads Beast and the reader refuse, and their neighbours", "[reader][smuggling]")
{
    struct row {
        const char* what;
        std::string text;
        int status; // 0: accepted
    };
    const row rows[] = {
        {"CL and TE", "POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"TE and CL", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400},
        {"differing CLs", "POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400},
        {"differing CL list", "POST / HTTP/1.1\r\nContent-Length: 4, 5\r\n\r\n", 400},
        {"identical CL list", "POST / HTTP/1.1\r\nContent-Length: 4, 4\r\n\r\nbody", 0},
        {"CL with a sign", "POST / HTTP/1.1\r\nContent-Length: +4\r\n\r\n", 400},
        {"CL negative", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        {"CL overflowing 64 bits", "POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 400},
        {"TE last not chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400},
        {"TE twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"whitespace before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        {"NUL in a value", std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), 400},
        {"CR in a value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400},
        {"absolute-form, other Host", "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", 400},
        {"absolute-form, same Host", "GET http://A.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n", 0},
        {"absolute-form with userinfo", "GET http://u@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400},
        {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
    };
    for (const auto& row : rows) {
        CAPTURE(row.what);
        int status = 0;
        outcome o = read_request(row.text, {.bufsize = 256, .maxhdr = 10}, status);
        if (row.status == 0) {
            CHECK(o == outcome::ok);
        } else {
            CHECK(o == outcome::head_refused);
            CHECK(status == row.status);
        }
    }
}

TEST_CASE("smuggling: chunk sizes and lines", "[reader][smuggling]")
{
    const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    struct row {
        const char* what;
        std::string body;
        outcome expect;
    };
    const row rows[] = {
        {"plain", "1\r\na\r\n0\r\n\r\n", outcome::ok},
        {"extension", "1;x=y\r\na\r\n0\r\n\r\n", outcome::ok},
        {"leading zeros", "0001\r\na\r\n0\r\n\r\n", outcome::ok},
        {"sign +", "+1\r\na\r\n0\r\n\r\n", outcome::body_refused},
        {"sign -", "-1\r\na\r\n0\r\n\r\n", outcome::body_refused},
        {"0x prefix", "0x1\r\na\r\n0\r\n\r\n", outcome::body_refused},
        {"leading space", " 1\r\na\r\n0\r\n\r\n", outcome::body_refused},
        {"17 hex digits (overflow)", "10000000000000000\r\na\r\n0\r\n\r\n", outcome::body_refused},
        {"bare LF after size", "1\na\r\n0\r\n\r\n", outcome::body_refused},
        {"data longer than its size", "1\r\nab\r\n0\r\n\r\n", outcome::body_refused},
        {"extension longer than tune.bufsize", "1;" + std::string(400, 'x') + "\r\na\r\n0\r\n\r\n",
         outcome::body_overflow},
        {"size line never ending", "1;" + std::string(1000, 'x'), outcome::body_overflow},
        {"3 trailer lines (maxhdr)", "0\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n", outcome::ok},
        {"4 trailer lines", "0\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n", outcome::body_refused},
        {"trailers longer than tune.bufsize", "0\r\nx: " + std::string(400, 'y') + "\r\n\r\n",
         outcome::body_overflow},
    };
    for (const auto& row : rows) {
        CAPTURE(row.what);
        int status = 0;
        CHECK(read_request(head + row.body, {.bufsize = 256, .maxhdr = 3}, status) == row.expect);
    }
}

TEST_CASE("header lines are counted on the bytes, before the head ends", "[reader][bounds]")
{
    // 200 tiny lines and no end yet: refused as soon as line maxhdr+1 ends,
    // before Beast parses (and allocates) a field of them.
    std::string text = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 200; ++i)
        text += "a:\r\n";
    request_reader r({.bufsize = 4096, .maxhdr = 101});
    boost::beast::flat_buffer b;
    put(b, text);
    CHECK(r.feed(b) == head_state::error);
    CHECK(r.status() == 400);
    CHECK(std::string_view(r.why()) == "more header lines than tune.http.maxhdr");

    // Byte by byte: Beast consumes each field as it ends, so the count
    // must follow what the parser took from the buffer's front.
    request_reader slow({.bufsize = 4096, .maxhdr = 101});
    boost::beast::flat_buffer b1;
    head_state st = head_state::need_more;
    for (std::size_t i = 0; i < text.size() && st == head_state::need_more; ++i) {
        put(b1, text.substr(i, 1));
        st = slow.feed(b1);
    }
    CHECK(st == head_state::error);
    CHECK(slow.status() == 400);
    CHECK(std::string_view(slow.why()) == "more header lines than tune.http.maxhdr");

    request_reader ok({.bufsize = 4096, .maxhdr = 101});
    std::string exact = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i)
        exact += "a:\r\n";
    boost::beast::flat_buffer b2;
    put(b2, exact + "\r\n");
    CHECK(ok.feed(b2) == head_state::done);
}

TEST_CASE("line_counter stops at the head's end", "[reader][bounds]")
{
    line_counter c;
    CHECK(c.scan("GET / HTTP/1.1\r\na: 1\r\n", 3));
    CHECK(c.lines() == 2);
    // The body after the empty line is not counted, even if full of LFs.
    CHECK(c.scan("GET / HTTP/1.1\r\na: 1\r\n\r\n\n\n\n\n\n", 3));
    CHECK(c.lines() == 2);
    line_counter lf; // bare LF line ends count the same
    CHECK_FALSE(lf.scan("GET / HTTP/1.1\na\nb\nc\n", 3));
}

TEST_CASE("count_trailer_lines", "[reader][bounds]")
{
    CHECK(count_trailer_lines("0\r\n\r\n") == 0);
    CHECK(count_trailer_lines("\r\n0\r\n\r\n") == 0); // the CRLF ending the chunk before
    CHECK(count_trailer_lines("0;ext\r\na: 1\r\nb: 2\r\n\r\nGET / HTTP/1.1\r\n") == 2);
    CHECK(count_trailer_lines("\r\n0\r\na: 1\r\n\r\n") == 1);
}

TEST_CASE("identical Content-Lengths go on as one", "[reader][smuggling]")
{
    for (std::string cl : {"Content-Length: 4, 4\r\n", "Content-Length: 4\r\nContent-Length: 4\r\n"}) {
        CAPTURE(cl);
        request_reader r({});
        boost::beast::flat_buffer b;
        put(b, "POST / HTTP/1.1\r\n" + cl + "\r\nbody");
        REQUIRE(r.feed(b) == head_state::done);
        const auto& req = r.parser().get();
        CHECK(req.count(http::field::content_length) == 1);
        CHECK(req[http::field::content_length] == "4");
        CHECK(r.parser().content_length().value_or(0) == 4);
    }
}
