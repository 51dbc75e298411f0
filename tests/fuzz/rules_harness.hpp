// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the two rule-engine fuzz targets share (rules_fuzz: fuzzed requests
// through a fixed set of seed configs; rules_config_fuzz: fuzzed configs
// and requests): loading CONFIG into a frontend, and running one request
// and its response through the compiled rules with the checks below.
//
//   CONFIG  (at most 2 KiB) lines put into a frontend:
//             defaults / mode http, timeouts
//             frontend fe / bind 127.0.0.1:1 / CONFIG / default_backend be
//             backend be / server s1 127.0.0.1:2
//           loaded with load_text; when it loads without alerts, the
//           frontend's rules are compiled (a compile error is fine). One
//           pattern scratch serves every compiled config, as in a proxy
//           thread.
//   REQUEST (at most 8 KiB) a request head, read by request_reader; what
//           follows the head is the body the rules see (req.body). Request
//           fields named "X-Res-NAME" become response fields NAME.
// The request runs through the frontend's request rules (resuming after
// each wait-for-body, as the session does), use_backend and the captures;
// then a response (200, Set-Cookie and Location built from the request)
// runs through the response rules. Beyond "no crash, no out-of-bounds
// read, no uncaught exception", it checks what the session relies on: an
// outcome's status is an HTTP status, wait-for-body resumes further on, the
// chosen backend exists, every header field left has a name, a capture
// is no longer than its 'len' and a capture line is "{...}" of printable
// bytes. Unless CONFIG has control bytes of its own (quoted, or \r \n \t
// \xHH escapes: the operator's to answer for), no rule may have let the
// request split the message: no CR, LF or NUL in a header value, no
// control byte in the request target or method.
#include "controlplane/parser.hpp"
#include "common/units.hpp"
#include "proxy/http_rules.hpp"
#include "proxy/reader.hpp"

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <strings.h>
#include <vector>

namespace bulwark::fuzz {

namespace http = boost::beast::http;
using sv = std::string_view;

inline constexpr std::size_t max_config = 2048, max_request = 8192;

inline void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

inline sv sv_of(boost::beast::string_view s) { return {s.data(), s.size()}; }

// True when CONFIG itself can put control bytes into a message: a quoted
// word holds any byte but LF, and \r \n \t \xHH make them.
inline bool config_has_controls(sv lines)
{
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto ch = static_cast<unsigned char>(lines[i]);
        if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
            return true;
        if (ch == '\\' && i + 1 < lines.size() && sv("rntx").find(lines[i + 1]) != sv::npos)
            return true;
    }
    return false;
}

inline bool has_control(sv s)
{
    return std::any_of(s.begin(), s.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
}

// Every field has a name. When the config has no control byte of its own
// (`strict`), no rule may have put one where it splits the message: CR, LF
// or NUL in a value, which the request brought (url_dec, b64dec).
template <class Fields>
inline void check_fields(const Fields& f, bool strict)
{
    for (const auto& field : f) {
        check(!field.name_string().empty());
        if (strict)
            check(sv_of(field.value()).find_first_of(sv("\r\n\0", 3)) == sv::npos);
    }
}

inline void check_outcome(const proxy::rule_result& r, std::size_t from, std::size_t rules)
{
    switch (r.what) {
    case proxy::rule_outcome::reply:
    case proxy::rule_outcome::tarpit:
        check(r.status >= 100 && r.status <= 599);
        break;
    case proxy::rule_outcome::wait_body:
        check(r.next > from && r.next <= rules);
        break;
    default:
        break;
    }
}

inline void check_captures(const std::string& text, bool any)
{
    if (!any) {
        check(text.empty());
        return;
    }
    check(text.size() >= 2 && text.front() == '{' && text.back() == '}');
    for (unsigned char ch : text)
        check(ch >= 32 && ch <= 126);
}

// The section's request rules, with the wait-for-body resumptions.
inline proxy::rule_result request_rules(const proxy::proxy_rules& r, proxy::rule_state& st, proxy::request_header& h,
                                 sv body, bool strict)
{
    proxy::view_request(st, h, body);
    proxy::rule_result out = proxy::run_request_rules(r, st, h);
    check_outcome(out, 0, r.req.size());
    while (out.what == proxy::rule_outcome::wait_body) {
        std::size_t from = out.next;
        proxy::view_request(st, h, body);
        out = proxy::run_request_rules(r, st, h, from);
        check_outcome(out, from, r.req.size());
    }
    check_fields(h, strict);
    // and the request line: no control byte (HTAB splits it for some
    // servers) in the target or the method. Blanks are not checked: a
    // legacy reqrep rewrites the start line as the config says.
    if (strict) {
        check(!has_control(sv_of(h.target())));
        check(!has_control(sv_of(h.method_string())));
    }
    return out;
}

inline proxy::rule_result response_rules(const proxy::proxy_rules& r, proxy::rule_state& st, proxy::response_header& h,
                                  bool strict)
{
    proxy::view_response(st, h);
    proxy::rule_result out = proxy::run_response_rules(r, st, h);
    check_outcome(out, 0, r.res.size());
    while (out.what == proxy::rule_outcome::wait_body) {
        std::size_t from = out.next;
        proxy::view_response(st, h);
        out = proxy::run_response_rules(r, st, h, from);
        check_outcome(out, from, r.res.size());
    }
    check_fields(h, strict);
    return out;
}

// The thread's pattern scratch, as a proxy thread has one: grown to fit
// every set compiled (prepare_scratch), never shrunk.
inline rules::pattern_scratch& scratch()
{
    static rules::pattern_scratch s;
    return s;
}

// CONFIG loaded and compiled, or null when it does not load without alerts
// or does not compile. Deterministic: compiling the same CONFIG again gives
// the same rules.
inline std::shared_ptr<const proxy::proxy_rules> compile_config(sv lines)
{
    std::string text = "defaults\n"
                       "    mode http\n"
                       "    timeout connect 1s\n"
                       "    timeout client 1s\n"
                       "    timeout server 1s\n"
                       "frontend fe\n"
                       "    bind 127.0.0.1:1\n";
    text.append(lines);
    text += "\n    default_backend be\n"
            "backend be\n"
            "    server s1 127.0.0.1:2\n";
    static const controlplane::env_lookup env = [](sv name) -> std::optional<std::string> {
        if (name == "VIP")
            return std::string("10.10.0.100");
        return std::nullopt;
    };
    std::shared_ptr<const proxy::proxy_rules> out;
    auto loaded = controlplane::load_text(text, "fuzz.cfg", env, "/nonexistent");
    if (!loaded.diag.failed()) {
        for (const auto& p : loaded.cfg.proxies) {
            if (p.name != "fe" || !p.has_fe())
                continue;
            std::vector<std::string> notes;
            auto compiled = proxy::compile_rules(p, std::chrono::milliseconds(100), &notes);
            if (compiled && *compiled) {
                out = *compiled;
                out->acls.prepare_scratch(scratch());
            }
            break;
        }
    }
    return out;
}

// REQUEST (see above) through px's request rules, use_backend and the
// captures, then a response through its response rules, with the checks.
// `strict`: CONFIG has no control byte of its own (config_has_controls).
inline void run_request(const proxy::proxy_rules& px, sv request, bool strict)
{
    // The request.
    proxy::field_arena arena;
    proxy::request_reader rd({.bufsize = 16384, .maxhdr = 101}, &arena);
    boost::beast::flat_buffer buf;
    if (request.empty())
        return;
    auto m = buf.prepare(request.size());
    std::memcpy(m.data(), request.data(), request.size());
    buf.commit(request.size());
    if (rd.feed(buf) != proxy::head_state::done)
        return;
    auto& req = rd.parser().get();
    proxy::request_header& h = req;
    std::string body(static_cast<const char*>(buf.data().data()), buf.size());

    proxy::rule_state st;
    st.ctx.scratch = &scratch();
    st.view.src = bulwark::parse_ip("192.0.2.7").value();
    st.view.src_port = 40000;
    st.view.dst = bulwark::parse_ip("127.0.0.1").value();
    st.view.dst_port = 1;

    // As the session does: the header captures (before any rewrite), the
    // request rules (which fill the 'http-request capture' slots), then
    // use_backend.
    const bool captures = !px.req_captures.empty();
    if (captures)
        proxy::capture_headers(px, h, true, st.captured);
    check_captures(proxy::captures_text(px, h, true), captures);
    proxy::rule_result out = request_rules(px, st, h, body, strict);
    if (captures) {
        check(st.captured.size() == px.req_captures.size());
        for (std::size_t i = 0; i < st.captured.size(); ++i)
            check(st.captured[i].size() <= px.req_captures[i].len);
        check_captures(proxy::format_captures(st.captured), true);
    }
    if (out.what != proxy::rule_outcome::go_on)
        return;
    proxy::view_request(st, h, body);
    int k = proxy::choose_backend(px, st);
    check(k >= -1 && k < static_cast<int>(px.use_backends.size()));
    check_captures(proxy::captures_text(px, h, true, &st), captures);

    // The response.
    proxy::response_header res;
    res.version(11);
    res.result(http::status::ok);
    sv cookie = "SECID=1; path=/", host = "www.domain.tld";
    for (const auto& f : h) {
        sv name = sv_of(f.name_string());
        if (f.name() == http::field::cookie)
            cookie = sv_of(f.value());
        else if (f.name() == http::field::host)
            host = sv_of(f.value());
        else if (name.size() > 6 && strncasecmp(name.data(), "x-res-", 6) == 0)
            res.insert(boost::beast::string_view(name.data() + 6, name.size() - 6), f.value());
    }
    res.insert(http::field::set_cookie, boost::beast::string_view(cookie.data(), cookie.size()));
    std::string location = "http://";
    location.append(host);
    location.append(sv_of(h.target()));
    res.insert(http::field::location, location);
    response_rules(px, st, res, strict);
    check_captures(proxy::captures_text(px, res, false), !px.res_captures.empty());
}

} // namespace bulwark::fuzz
