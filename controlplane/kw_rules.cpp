// SPDX-License-Identifier: Apache-2.0
// Lines of the proxy sections that hold a condition or act on requests:
// acl, use_backend/default_backend, http-/tcp- rules, redirect, capture,
// and the removed block/reqadd/rspadd.
#include "controlplane/kw_proxy.hpp"
#include "proxy/registry.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace bulwark::controlplane::proxy_kw {

namespace {

bool valid_acl_name(std::string_view n)
{
    return !n.empty() && std::all_of(n.begin(), n.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
               ch == '_' || ch == '.' || ch == ':';
    });
}

// Parses the optional "if|unless ..." tail at index `at`; false on error.
bool tail_condition(parse_ctx& c, std::size_t at, std::optional<condition>& out)
{
    if (at >= c.words.size())
        return true;
    condition cond;
    if (!parse_condition(c, std::span(c.words).subspan(at), cond))
        return false;
    out = std::move(cond);
    return true;
}

// A rule of `family` whose action is words[action_at]; messages name the
// keyword as written (`shown`: "redirect" is an http-request rule).
void parse_rule(parse_ctx& c, std::string family, std::size_t action_at, std::string_view shown = {})
{
    if (shown.empty())
        shown = family;
    if (action_at >= c.words.size())
        return c.alert_kw(shown, "missing action");
    const std::string& name = c.words[action_at];
    const bulwark::proxy::action_kw* a = bulwark::proxy::find_action(family, name);
    if (!a) {
        std::vector<std::string_view> names;
        for (const auto& row : bulwark::proxy::action_keywords())
            if (row.family == family)
                names.push_back(row.name);
        return c.alert_kw(shown, fmt::format("unknown action '{}', {}", name, expected_one_of(name, names)));
    }
    std::size_t cond_at = find_condition(c.words, action_at + 1);
    std::span<const std::string> args(c.words.begin() + static_cast<long>(action_at) + 1,
                                      c.words.begin() + static_cast<long>(cond_at));
    if (args.size() < a->min_args || (a->max_args >= 0 && args.size() > static_cast<std::size_t>(a->max_args)))
        return c.alert_kw(shown, fmt::format("'{}' expects {} argument{}, found {}", name,
                                              a->max_args == a->min_args ? fmt::format("{}", a->min_args)
                                              : a->max_args < 0 ? fmt::format("at least {}", a->min_args)
                                                                : fmt::format("{} to {}", a->min_args, a->max_args),
                                              a->max_args == 1 ? "" : "s", args.size()));
    if (auto e = bulwark::proxy::check_action(*a, args); !e.empty())
        return c.alert_kw(shown, fmt::format("'{}': {}", name, e));
    rule r{c.here(), family, name, {args.begin(), args.end()}, std::nullopt};
    if (!tail_condition(c, cond_at, r.cond))
        return;
    c.px->rules.push_back(std::move(r));
    c.pending(fmt::format("{} {}", family, a->name), a->pending);
}

} // namespace

// ---- acl and switching ----------------------------------------------------

void kw_acl(parse_ctx& c)
{
    if (!c.args(2, -1, "acl NAME FETCH [flags] [--] [PATTERN...]"))
        return;
    if (!valid_acl_name(c.words[1]))
        return c.alert(fmt::format("invalid ACL name '{}': use letters, digits, '-', '_', '.' and ':'", c.words[1]));
    acl_def def;
    def.at = c.here();
    def.name = c.words[1];
    if (!parse_acl_body(c, std::span(c.words).subspan(2), def))
        return;
    c.px->acls.push_back(std::move(def));
}

void kw_use_backend(parse_ctx& c)
{
    if (!c.args(1, -1, "use_backend NAME [if|unless CONDITION]"))
        return;
    std::size_t cond = find_condition(c.words, 2);
    if (cond != 2)
        return c.alert(fmt::format("unexpected '{}', expected 'if' or 'unless'", c.words[2]));
    proxy_section::switching s{c.here(), c.words[1], std::nullopt};
    if (!tail_condition(c, 2, s.cond))
        return;
    c.px->use_backends.push_back(std::move(s));
}

void kw_default_backend(parse_ctx& c)
{
    if (!c.args(1, 1, "default_backend NAME"))
        return;
    c.px->default_backend = proxy_section::switching{c.here(), c.words[1], std::nullopt};
}

// ---- rules ----------------------------------------------------------------

void kw_http_rule(parse_ctx& c) { parse_rule(c, c.words[0], 1); }

void kw_tcp_rule(parse_ctx& c)
{
    const std::string& kw = c.words[0];
    if (c.words.size() < 2)
        return c.alert(fmt::format("missing rule type, expected 'inspect-delay' or 'content'"));
    const std::string& type = c.words[1];
    if (type == "inspect-delay") {
        if (!c.args(2, 2, fmt::format("{} inspect-delay TIME", kw)))
            return;
        auto t = parse_time(c.words[2]);
        if (!t)
            return c.alert(t.message());
        c.px->inspect_delay = *t;
        c.pending(fmt::format("{} inspect-delay", kw), bulwark::proxy::pending_tls); // content inspection: ClientHello
        return;
    }
    std::vector<std::string_view> types = kw == "tcp-request"
                                              ? std::vector<std::string_view>{"inspect-delay", "content", "connection",
                                                                              "session"}
                                              : std::vector<std::string_view>{"inspect-delay", "content"};
    if (std::find(types.begin(), types.end(), type) == types.end())
        return c.alert(fmt::format("unknown rule type '{}', {}", type, expected_one_of(type, types)));
    if ((type == "connection" || type == "session") && !(c.sec & (sec_frontend | sec_listen)))
        return c.alert(fmt::format("'{} {}' rules need a frontend", kw, type));
    parse_rule(c, kw + " " + type, 2);
}

// redirect location|prefix|scheme X [code N] [option...] [if|unless cond]
void kw_redirect(parse_ctx& c)
{
    parse_rule(c, "http-request", 0, "redirect");
}

// ---- capture ------------------------------------------------------------

void kw_capture(parse_ctx& c)
{
    // capture request|response header NAME len N  |  capture cookie NAME len N
    bool cookie = c.words.size() > 1 && c.words[1] == "cookie";
    std::size_t len_at = cookie ? 3 : 4;
    if (c.words.size() > 1 && !cookie && c.words[1] != "request" && c.words[1] != "response")
        return c.alert(fmt::format("unknown capture '{}', {}", c.words[1],
                                   expected_one_of(c.words[1], {"request", "response", "cookie"})));
    if (c.words.size() != len_at + 2 || (!cookie && c.words[2] != "header"))
        return c.alert("expected 'capture request header NAME len LENGTH', 'capture response header NAME len LENGTH' "
                       "or 'capture cookie NAME len LENGTH'");
    std::string& len_kw = c.words[len_at];
    if (len_kw != "len") {
        if (len_kw.size() == 3 && (len_kw[0] == 'L' || len_kw[0] == 'l') && (len_kw[1] | 0x20) == 'e' &&
            (len_kw[2] | 0x20) == 'n') {
            std::vector<std::string> fixed = c.words;
            fixed[len_at] = "len";
            std::string canonical = join(fixed);
            c.warn(fmt::format("'{}' is not HAProxy's spelling (HAProxy 2.6 rejects it); read as 'len': {}", len_kw,
                               canonical));
        } else {
            return c.alert(fmt::format("unexpected '{}', expected 'len'", len_kw));
        }
    }
    auto n = parse_int(c.words[len_at + 1], 1, 65535);
    if (!n)
        return c.alert(fmt::format("invalid length: {}", n.message()));
    if (cookie) {
        c.pending("capture cookie", bulwark::proxy::pending_later);
        return;
    }
    c.px->captures.push_back({c.here(), c.words[1] == "request", c.words[3], static_cast<unsigned>(*n)});
}

// ---- removed directives -------------------------------------------------

void kw_block(parse_ctx& c)
{
    c.alert(fmt::format("removed from HAProxy in 2.0: use 'http-request deny {}'", join(c.words, 1)));
}

void kw_add_header_legacy(parse_ctx& c)
{
    // reqadd/rspadd "Name:\ value" [cond] -> http-request/http-response add-header Name value
    if (!c.args(1, -1, fmt::format("{} HEADER [if|unless CONDITION]", c.words[0])))
        return;
    bool req = c.words[0] == "reqadd";
    const std::string& h = c.words[1];
    auto colon = h.find(':');
    std::string name = h.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    std::size_t cond_at = find_condition(c.words, 2);
    std::string modern = fmt::format("{} add-header {} \"{}\"{}{}", req ? "http-request" : "http-response", name, value,
                                     cond_at < c.words.size() ? " " : "", join(c.words, cond_at));
    c.warn(fmt::format("removed from HAProxy in 2.1; loaded as: {}", modern));
    rule r{c.here(), std::string(c.words[0]), "add-header", {name, value}, std::nullopt};
    if (!tail_condition(c, cond_at, r.cond))
        return;
    c.px->rules.push_back(std::move(r));
}

} // namespace bulwark::controlplane::proxy_kw
