// SPDX-License-Identifier: Apache-2.0
#include "proxy/health_check.hpp"

#include "proxy/access_log.hpp"
#include "proxy/reader.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <string>

namespace bulwark::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// An HTTP check on a connected probe: sends the request, reads the status
// line. A 2xx or 3xx passes (returns ""); anything else says why, in
// HAProxy's words.
task<std::string> http_check(deadline_stream& probe, const std::string& request)
{
    error_code ec;
    co_await asio::async_write(probe, asio::buffer(request), with_ec(ec));
    std::string got;
    std::size_t line_end = 0;
    probe.classify(ec);
    if (!ec) {
        line_end = co_await asio::async_read_until(probe, asio::dynamic_buffer(got, 1024), "\n", with_ec(ec));
        probe.classify(ec);
    }
    if (ec == beast::error::timeout)
        co_return "Layer7 timeout, info: \"no response in time\"";
    if (ec)
        co_return fmt::format("Layer7 invalid response, info: \"{}\"", ec.message());
    auto st = parse_status_line(std::string_view(got).substr(0, line_end - 1));
    if (!st)
        co_return "Layer7 invalid response, info: \"not an HTTP status line\"";
    if (st->code < 200 || st->code >= 400)
        co_return fmt::format("Layer7 wrong status, code: {}, info: \"{}\"", st->code, st->reason);
    co_return "";
}

} // namespace

task<void> health_check(backend_pool& pool, asio::io_context& io, const backend_rt& be, const server_rt& s)
{
    int successes = 0, failures = 0;
    proxy::ms limit = be.check ? *be.check : std::min(be.connect, s.inter);
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
            else if (!be.httpchk.empty())
                why = co_await http_check(probe, be.httpchk);
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
                left += pool.is_up(o);
            std::fprintf(stderr,
                         "[WARNING] Server %s/%s is DOWN, reason: %s, check duration: %ldms. "
                         "%zu active servers left.\n",
                         be.name.c_str(), s.name.c_str(), why.c_str(), took, left);
        } else if (!was_up && successes >= s.rise) {
            pool.set_up(s, true);
            std::fprintf(stderr, "[WARNING] Server %s/%s is UP, reason: %s check passed, check duration: %ldms.\n",
                         be.name.c_str(), s.name.c_str(), be.httpchk.empty() ? "Layer4" : "Layer7", took);
        }
        pause.expires_at(started + s.inter);
        co_await pause.async_wait(with_ec(ec));
        if (ec)
            co_return;
    }
}

} // namespace bulwark::proxy
