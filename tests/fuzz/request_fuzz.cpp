// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as what a client sends, fed to the
// request reader in pieces, pipelined requests and bodies included. Beyond
// "no crash, no out-of-bounds read", it checks what the proxy relies on:
// a head the reader accepts, written out again as the session forwards it,
// reads back as the same request (else the server would see a different
// request than the one the rules judged: request smuggling).
#include "proxy/reader.hpp"

#include <algorithm>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace http = boost::beast::http;
using bulwark::proxy::head_state;
using bulwark::proxy::request_reader;
using request = request_reader::parser_type::value_type;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

std::size_t field_count(const request& req)
{
    std::size_t n = 0;
    for (auto it = req.begin(); it != req.end(); ++it)
        ++n;
    return n;
}

// What the session does before forwarding, then written and read again.
void check_round_trip(request& req, bool chunked, bool has_length)
{
    req.keep_alive(false);
    req.insert("X-Forwarded-For", "10.0.0.1");
    std::ostringstream os;
    os << static_cast<const http::request_header<bulwark::proxy::fields_type>&>(req);
    std::string text = os.str();
    request_reader again({.bufsize = text.size() + 1, .maxhdr = 1 << 20});
    boost::beast::flat_buffer b;
    auto m = b.prepare(text.size());
    std::memcpy(m.data(), text.data(), text.size());
    b.commit(text.size());
    check(again.feed(b) == head_state::done);
    check(b.size() == 0);
    const auto& r2 = again.parser().get();
    check(r2.method_string() == req.method_string());
    check(r2.target() == req.target());
    check(r2.version() == req.version());
    check(field_count(r2) == field_count(req));
    check(again.parser().chunked() == chunked);
    check(again.parser().content_length().has_value() == has_length);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    // Two bytes of settings: the piece size, and the limits.
    const std::size_t step = std::size_t{data[0]} + 1;
    const bulwark::proxy::reader_limits lim{.bufsize = std::size_t{64} << (data[1] & 7),
                                             .maxhdr = 1 + (data[1] >> 3)};
    data += 2;
    size -= 2;

    // As the session's buffer: nothing read may hold more than tune.bufsize.
    boost::beast::flat_buffer buf(lim.bufsize);
    std::size_t fed = 0;
    auto feed_more = [&] {
        std::size_t n = std::min({step, size - fed, buf.max_size() - buf.size()});
        if (n == 0)
            return false;
        auto m = buf.prepare(n);
        std::memcpy(m.data(), data + fed, n);
        buf.commit(n);
        fed += n;
        return true;
    };
    bulwark::proxy::field_arena arena; // as a session has: one for all its requests
    for (int request = 0; request < 8; ++request) { // pipelined requests
        request_reader rd(lim, &arena);
        head_state st;
        while ((st = rd.feed(buf)) == head_state::need_more)
            if (!feed_more())
                return 0;
        if (st == head_state::error) {
            check(rd.status() == 400 || rd.status() == 414 || rd.status() == 431);
            return 0;
        }
        auto& p = rd.parser();
        check(p.get().target().size() < lim.bufsize);
        // The body, through a small window, as the session relays it.
        char chunk[512];
        while (!p.is_done()) {
            p.get().body().data = chunk;
            p.get().body().size = sizeof chunk;
            boost::system::error_code ec;
            std::size_t used = p.put(buf.data(), ec);
            buf.consume(used);
            check(p.get().body().size <= sizeof chunk);
            if (ec == http::error::need_buffer)
                continue;
            if (ec == http::error::need_more || (!ec && used == 0)) {
                if (buf.size() == buf.max_size())
                    return 0; // a chunk line or trailer longer than tune.bufsize: 400
                if (!feed_more())
                    break;
                continue;
            }
            if (ec)
                return 0; // a bad body ends the connection
        }
        check_round_trip(p.get(), p.chunked(), p.content_length().has_value());
        if (!p.is_done())
            return 0;
    }
    return 0;
}
