// SPDX-License-Identifier: Apache-2.0
#include "proxy/health_check.hpp"

#include "proxy/access_log.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <string>

namespace bulwark::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// An HTTP check on a connected probe: sends the request, reads the
// response's head (and its body, up to `limit` bytes, when 'http-check
// expect' looks at it), then check_verdict() judges it: "" passes,
// anything else says why, in HAProxy's words.
task<std::string> http_check(deadline_stream& probe, const backend_rt& be, std::size_t limit)
{
    error_code ec;
    co_await asio::async_write(probe, asio::buffer(be.httpchk), with_ec(ec));
    probe.classify(ec);
    beast::flat_buffer buf(limit);
    http::response_parser<http::string_body> rp;
    rp.header_limit(static_cast<std::uint32_t>(limit));
    rp.body_limit(limit);
    if (be.httpchk.starts_with("HEAD "))
        rp.skip(true);
    const bool body = be.expect && be.expect->needs_body();
    if (!ec) {
        if (body)
            co_await http::async_read(probe, buf, rp, with_ec(ec));
        else
            co_await http::async_read_header(probe, buf, rp, with_ec(ec));
        probe.classify(ec);
        if (ec == http::error::body_limit) // judged on the first `limit` bytes, as HAProxy's check buffer
            ec = {};
    }
    if (ec == beast::error::timeout)
        co_return "Layer7 timeout, info: \"no response in time\"";
    if (ec && !rp.is_header_done())
        co_return fmt::format("Layer7 invalid response, info: \"{}\"", ec.message());
    const auto& res = rp.get();
    co_return check_verdict(be.expect ? &*be.expect : nullptr, static_cast<int>(res.result_int()),
                            std::string_view(res.reason().data(), res.reason().size()), res.body());
}

} // namespace

task<void> health_check(backend_pool& pool, asio::io_context& io, const backend_rt& be, const server_rt& s,
                        std::size_t limit_bytes)
{
    int successes = 0, failures = 0;
    // HAProxy: the connection under min('timeout connect', inter), the
    // response then under 'timeout check' (else inter).
    const proxy::ms limit = std::min(be.connect, s.inter);
    const proxy::ms read_limit = be.check ? *be.check : s.inter;
    steady_timer pause(io.get_executor());
    for (;;) {
        error_code ec;
        auto started = clock::now();
        std::string why; // HAProxy's "reason: ..., info: ..." of a failed check
        {
            deadline_stream probe(io.get_executor());
            probe.expires_after(limit);
            co_await probe.async_connect(s.ep, with_ec(ec));
            probe.classify(ec);
            if (ec)
                why = fmt::format("Layer4 {}, info: \"{}\"",
                                  ec == beast::error::timeout ? "timeout" : "connection problem", ec.message());
            else if (!be.httpchk.empty()) {
                probe.expires_after(read_limit);
                why = co_await http_check(probe, be, limit_bytes);
            }
        } // the probe connection closes here
        long took = elapsed_ms(started);
        bool ok = why.empty();
        if (ok) {
            ++successes;
            failures = 0;
        } else {
            ++failures;
            successes = 0;
        }
        bool was_up = pool.is_up(s);
        if (was_up && failures >= s.fall) {
            pool.set_up(s, false);
            std::size_t left = 0;
            for (const auto& o : be.servers)
                left += !o.backup && !o.disabled && pool.is_up(o);
            std::fprintf(stderr,
                         "[WARNING] %sServer %s/%s is DOWN, reason: %s, check duration: %ldms. "
                         "%zu active servers left.\n",
                         s.backup ? "Backup " : "", be.name.c_str(), s.name.c_str(), why.c_str(), took, left);
        } else if (!was_up && successes >= s.rise) {
            pool.set_up(s, true);
            std::fprintf(stderr, "[WARNING] %sServer %s/%s is UP, reason: %s check passed, check duration: %ldms.\n",
                         s.backup ? "Backup " : "", be.name.c_str(), s.name.c_str(),
                         be.httpchk.empty() ? "Layer4" : "Layer7", took);
        }
        pause.expires_at(started + s.inter);
        co_await pause.async_wait(with_ec(ec));
        if (ec)
            co_return;
    }
}

} // namespace bulwark::proxy
