// SPDX-License-Identifier: Apache-2.0
#include "proxy/check_expect.hpp"

#include "rules/pattern_set.hpp"

#include <charconv>
#include <fmt/format.h>

namespace bulwark::proxy {

namespace {

std::optional<int> status_code(std::string_view s)
{
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.size() != 3 || v < 100 || v > 599)
        return std::nullopt;
    return v;
}

} // namespace

std::optional<std::vector<status_range>> parse_status_list(std::string_view s)
{
    std::vector<status_range> out;
    while (true) {
        auto comma = s.find(',');
        std::string_view item = s.substr(0, comma);
        auto dash = item.find('-');
        auto lo = status_code(item.substr(0, dash));
        auto hi = dash == std::string_view::npos ? lo : status_code(item.substr(dash + 1));
        if (!lo || !hi || *hi < *lo)
            return std::nullopt;
        out.push_back({*lo, *hi});
        if (comma == std::string_view::npos)
            return out;
        s.remove_prefix(comma + 1);
    }
}

result<check_expect> compile_expect(const http_expect& e)
{
    check_expect c;
    c.negate = e.negate;
    if (e.match == "status") {
        c.k = check_expect::kind::status;
        auto codes = parse_status_list(e.pattern);
        if (!codes)
            return fail(fmt::format("'{}' is not a status list", e.pattern));
        c.codes = std::move(*codes);
    } else if (e.match == "string") {
        c.k = check_expect::kind::string;
        c.text = e.pattern;
    } else {
        c.k = e.match == "rstatus" ? check_expect::kind::rstatus : check_expect::kind::rstring;
        auto re = rules::regex::compile(e.pattern, false);
        if (!re)
            return fail(re.message());
        c.re = std::make_shared<const rules::regex>(std::move(*re));
    }
    return c;
}

std::string check_verdict(const check_expect* e, int code, std::string_view reason, std::string_view body)
{
    auto wrong_status = [&] { return fmt::format("Layer7 wrong status, code: {}, info: \"{}\"", code, reason); };
    if (!e)
        return code >= 200 && code < 400 ? "" : wrong_status();
    bool matched = false;
    rules::match_rc rc = rules::match_rc::no;
    switch (e->k) {
    case check_expect::kind::status:
        for (const auto& r : e->codes)
            matched = matched || (code >= r.lo && code <= r.hi);
        break;
    case check_expect::kind::rstatus:
        rc = e->re->match(std::to_string(code));
        matched = rc == rules::match_rc::yes;
        break;
    case check_expect::kind::string:
        matched = body.find(e->text) != std::string_view::npos;
        break;
    case check_expect::kind::rstring:
        rc = e->re->match(body);
        matched = rc == rules::match_rc::yes;
        break;
    }
    if (rc == rules::match_rc::error) // the regex gave up: the check fails, whichever way it is written
        return "Layer7 invalid response, info: \"the expect regex gave up (tune.pcre2.match-limit)\"";
    if (matched != e->negate)
        return "";
    if (!e->needs_body())
        return wrong_status();
    // HAProxy's words for a body check (src/tcpcheck.c)
    return e->negate ? "Layer7 invalid response, info: \"HTTP check matched unwanted content\""
                     : "Layer7 invalid response, info: \"HTTP content check did not match\"";
}

} // namespace bulwark::proxy
