// SPDX-License-Identifier: Apache-2.0
#include "proxy/registry.hpp"

#include "common/units.hpp"
#include "rules/regex.hpp"

#include <array>
#include <fmt/format.h>

namespace bulwark::proxy {

namespace {

using cp_args = std::span<const std::string>;
constexpr auto T = pending_tls;
constexpr auto L = pending_later;
constexpr auto OPS = pending_ops;

// The ACL derivatives HAProxy offers on string fetches: hdr_sub, url_beg, ...
constexpr std::array<std::string_view, 8> derivatives{"beg", "dir", "dom", "end", "len", "reg", "sub", "ip"};

// ---- matchers --------------------------------------------------------------
constexpr std::array matchers{
    matcher_kw{"found", false, {}, "true when the fetch returns anything"},
    matcher_kw{"bool", false, {}, "true when the value is non-zero"},
    matcher_kw{"int", true, {}, "integer comparison: N, lt/le/gt/ge/eq N, ranges A:B"},
    matcher_kw{"ip", true, {}, "address in one of the networks"},
    matcher_kw{"bin", true, {}, "the bytes equal a hex pattern"},
    matcher_kw{"len", true, {}, "the length compared as an integer"},
    matcher_kw{"str", true, {}, "exact string match"},
    matcher_kw{"sub", true, {}, "substring match"},
    matcher_kw{"reg", true, {}, "regular expression (Hyperscan, else PCRE2)"},
    matcher_kw{"beg", true, {}, "prefix match"},
    matcher_kw{"end", true, {}, "suffix match"},
    matcher_kw{"dir", true, {}, "a '/'-delimited segment matches"},
    matcher_kw{"dom", true, {}, "a '.'/'/'-delimited label matches"},
};

// ---- action argument checks -------------------------------------------------
// Only for the actions no compile function reads yet (their rules are not
// built, or not as http-request/http-response rules): the others are
// checked by their compile function itself (check_action).
std::string check_capture(cp_args a)
{
    if (a.size() != 3 || (a[1] != "len" && a[1] != "id"))
        return "expected 'capture SAMPLE len LENGTH' or 'capture SAMPLE id ID'";
    auto n = parse_int(a[2], a[1] == "len" ? 1 : 0, 65535);
    return n ? std::string() : fmt::format("invalid {} '{}': {}", a[1], a[2], n.message());
}

std::string check_use_service(cp_args a)
{
    if (a[0] != "prometheus-exporter")
        return fmt::format("unknown service '{}', expected 'prometheus-exporter'", a[0]);
    return {};
}

std::string check_auth(cp_args a)
{
    return a.empty() || (a.size() == 2 && a[0] == "realm") ? std::string() : "expected 'auth [realm REALM]'";
}

std::string check_expect_proxy(cp_args a)
{
    return a.size() == 1 && a[0] == "layer4" ? std::string() : "expected 'expect-proxy layer4'";
}

constexpr std::string_view HREQ = "http-request", HRES = "http-response", TCPC = "tcp-request content",
                           TCPN = "tcp-request connection", TCPS = "tcp-request session",
                           TRES = "tcp-response content";

constexpr std::array actions{
    // family name               min max check                 http  pending
    action_kw{HREQ, "allow",          0, 0,  nullptr,              true, {},
              "stop evaluating the rules; the message goes on"},
    action_kw{HREQ, "deny",           0, -1, nullptr,              true, {},
              "refuse with deny_status (403 request, 502 response) or a reply"},
    action_kw{HREQ, "tarpit",         0, -1, nullptr,              true, {},
              "hold the client for timeout tarpit, then answer 500"},
    action_kw{HREQ, "return",         0, -1, nullptr,              true, {},
              "answer directly: status, content-type, string|file, hdr"},
    action_kw{HREQ, "redirect",       2, -1, nullptr,              true, {},
              "redirect location|prefix|scheme TARGET [code N] [drop-query] ..."},
    action_kw{HREQ, "auth",           0, 2,  check_auth,           true, L,
              "ask for HTTP basic authentication"},
    action_kw{HREQ, "set-header",     2, 2,  nullptr,              true, {},
              "set-header NAME FMT: replace every NAME header with one"},
    action_kw{HREQ, "add-header",     2, 2,  nullptr,              true, {},
              "add-header NAME FMT: append a header"},
    action_kw{HREQ, "del-header",     1, 3,  nullptr,              true, {},
              "del-header NAME [-m str|beg|end|sub|reg]: remove headers"},
    action_kw{HREQ, "replace-header", 3, 3,  nullptr,              true, {},
              "replace-header NAME REGEX REPL: rewrite whole header values"},
    action_kw{HREQ, "replace-value",  3, 3,  nullptr,              true, {},
              "replace-value NAME REGEX REPL: rewrite each comma-separated value"},
    action_kw{HREQ, "replace-path",   2, 2,  nullptr,              true, {},
              "replace-path REGEX REPL: rewrite the path, query kept"},
    action_kw{HREQ, "replace-uri",    2, 2,  nullptr,              true, {},
              "replace-uri REGEX REPL: rewrite the whole target"},
    action_kw{HREQ, "set-path",       1, 1,  nullptr,              true, {},
              "set-path FMT: replace the path"},
    action_kw{HREQ, "set-query",      1, 1,  nullptr,              true, {},
              "set-query FMT: replace the query"},
    action_kw{HREQ, "set-uri",        1, 1,  nullptr,              true, {},
              "set-uri FMT: replace the target"},
    action_kw{HREQ, "set-method",     1, 1,  nullptr,              true, {},
              "set-method FMT: replace the method"},
    action_kw{HREQ, "capture",        3, 3,  nullptr,              true, {},
              "capture SAMPLE len N: log the sample in the captures"},
    action_kw{HREQ, "silent-drop",    0, 0,  nullptr,              true, {},
              "close the connection without a reply"},
    action_kw{HREQ, "reject",         0, 0,  nullptr,              true, {},
              "close the connection at once"},
    action_kw{HREQ, "shield-block",   0, 1,  nullptr,              true, {},
              "shield-block [TIME]: drop the source at the packet layer for TIME (60s), answer 403 as deny"},
    action_kw{HREQ, "use-service",    1, 1,  check_use_service,    true, OPS,
              "use-service prometheus-exporter: answer with the metrics"},
    action_kw{HREQ, "set-var(",       1, 1,  nullptr,              true, L,
              "set-var(NAME) EXPR: store a sample in a variable"},
    action_kw{HREQ, "unset-var(",     0, 0,  nullptr,              true, L,
              "unset-var(NAME): forget a variable"},
    action_kw{HREQ, "track-sc0",      1, 3,  nullptr,              true, {},
              "track-sc0 KEY [table T]: count the key in a stick-table"},
    action_kw{HREQ, "track-sc1",      1, 3,  nullptr,              true, {},
              "track-sc1 KEY [table T]: count the key in a stick-table"},
    action_kw{HREQ, "track-sc2",      1, 3,  nullptr,              true, {},
              "track-sc2 KEY [table T]: count the key in a stick-table"},
    action_kw{HREQ, "set-log-level",  1, 1,  nullptr,              true, L,
              "set-log-level LEVEL: the log level of this transaction"},
    action_kw{HREQ, "wait-for-body",  2, 4,  nullptr,              true, {},
              "wait-for-body time T [at-least SIZE]: buffer the body first"},
    action_kw{HRES, "allow",          0, 0,  nullptr,              true, {},
              "stop evaluating the rules; the message goes on"},
    action_kw{HRES, "deny",           0, -1, nullptr,              true, {},
              "refuse with deny_status (403 request, 502 response) or a reply"},
    action_kw{HRES, "return",         0, -1, nullptr,              true, {},
              "answer directly: status, content-type, string|file, hdr"},
    action_kw{HRES, "redirect",       2, -1, nullptr,              true, {},
              "redirect location|prefix|scheme TARGET [code N] [drop-query] ..."},
    action_kw{HRES, "set-header",     2, 2,  nullptr,              true, {},
              "set-header NAME FMT: replace every NAME header with one"},
    action_kw{HRES, "add-header",     2, 2,  nullptr,              true, {},
              "add-header NAME FMT: append a header"},
    action_kw{HRES, "del-header",     1, 3,  nullptr,              true, {},
              "del-header NAME [-m str|beg|end|sub|reg]: remove headers"},
    action_kw{HRES, "replace-header", 3, 3,  nullptr,              true, {},
              "replace-header NAME REGEX REPL: rewrite whole header values"},
    action_kw{HRES, "replace-value",  3, 3,  nullptr,              true, {},
              "replace-value NAME REGEX REPL: rewrite each comma-separated value"},
    action_kw{HRES, "set-status",     1, 3,  nullptr,              true, {},
              "set-status STATUS [reason TEXT]: change the response status"},
    action_kw{HRES, "capture",        3, 3,  check_capture,        true, L,
              "capture SAMPLE len N: log the sample in the captures"},
    action_kw{HRES, "silent-drop",    0, 0,  nullptr,              true, {},
              "close the connection without a reply"},
    action_kw{HRES, "set-var(",       1, 1,  nullptr,              true, L,
              "set-var(NAME) EXPR: store a sample in a variable"},
    action_kw{HRES, "set-log-level",  1, 1,  nullptr,              true, L,
              "set-log-level LEVEL: the log level of this transaction"},
    action_kw{HRES, "wait-for-body",  2, 4,  nullptr,              true, {},
              "wait-for-body time T [at-least SIZE]: buffer the body first"},
    action_kw{TCPC, "accept",         0, 0,  nullptr,              false, {},
              "accept the connection; the rest of this phase is skipped"},
    action_kw{TCPC, "reject",         0, 0,  nullptr,              false, {},
              "close the connection at once"},
    action_kw{TCPC, "capture",        3, 3,  check_capture,        false, L,
              "capture SAMPLE len N: log the sample in the captures"},
    action_kw{TCPC, "set-var(",       1, 1,  nullptr,              false, L,
              "set-var(NAME) EXPR: store a sample in a variable"},
    action_kw{TCPC, "silent-drop",    0, 0,  nullptr,              false, {},
              "close the connection without a reply"},
    action_kw{TCPC, "track-sc0",      1, 3,  nullptr,              false, {},
              "track-sc0 KEY [table T]: count the key in a stick-table"},
    action_kw{TCPC, "track-sc1",      1, 3,  nullptr,              false, {},
              "track-sc1 KEY [table T]: count the key in a stick-table"},
    action_kw{TCPC, "track-sc2",      1, 3,  nullptr,              false, {},
              "track-sc2 KEY [table T]: count the key in a stick-table"},
    action_kw{TCPC, "shield-block",   0, 1,  nullptr,              false, {},
              "shield-block [TIME]: drop the source at the packet layer for TIME (60s), close as reject"},
    action_kw{TCPN, "accept",         0, 0,  nullptr,              false, {},
              "accept the connection; the rest of this phase is skipped"},
    action_kw{TCPN, "reject",         0, 0,  nullptr,              false, {},
              "close the connection at once"},
    action_kw{TCPN, "expect-proxy",   1, 1,  check_expect_proxy,   false, T,
              "expect-proxy layer4: read a PROXY protocol header first"},
    action_kw{TCPN, "silent-drop",    0, 0,  nullptr,              false, {},
              "close the connection without a reply"},
    action_kw{TCPN, "track-sc0",      1, 3,  nullptr,              false, {},
              "track-sc0 KEY [table T]: count the key in a stick-table"},
    action_kw{TCPN, "track-sc1",      1, 3,  nullptr,              false, {},
              "track-sc1 KEY [table T]: count the key in a stick-table"},
    action_kw{TCPN, "track-sc2",      1, 3,  nullptr,              false, {},
              "track-sc2 KEY [table T]: count the key in a stick-table"},
    action_kw{TCPN, "shield-block",   0, 1,  nullptr,              false, {},
              "shield-block [TIME]: drop the source at the packet layer for TIME (60s), close as reject"},
    action_kw{TCPS, "accept",         0, 0,  nullptr,              false, {},
              "accept the connection; the rest of this phase is skipped"},
    action_kw{TCPS, "reject",         0, 0,  nullptr,              false, {},
              "close the connection at once"},
    action_kw{TRES, "accept",         0, 0,  nullptr,              false, L,
              "accept the connection; the rest of this phase is skipped"},
    action_kw{TRES, "reject",         0, 0,  nullptr,              false, L,
              "close the connection at once"},
    action_kw{TRES, "close",          0, 0,  nullptr,              false, L,
              "close the server connection"},
};

constexpr std::array<std::string_view, 23> predefined{
    "FALSE", "HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_2.0", "HTTP_CONTENT", "HTTP_URL_ABS", "HTTP_URL_SLASH",
    "HTTP_URL_STAR", "LOCALHOST", "METH_CONNECT", "METH_DELETE", "METH_GET", "METH_HEAD", "METH_OPTIONS",
    "METH_POST", "METH_PUT", "METH_TRACE", "RDP_COOKIE", "REQ_CONTENT", "TRUE", "WAIT_END", "CONNECT"};

} // namespace

std::span<const matcher_kw> matcher_keywords() { return matchers; }
std::span<const action_kw> action_keywords() { return actions; }
std::span<const std::string_view> predefined_acls() { return predefined; }

std::optional<fetch_lookup> find_fetch(std::string_view name)
{
    for (const auto& f : fetch_keywords())
        if (f.name == name)
            return fetch_lookup{&f, {}};
    auto us = name.rfind('_');
    if (us == std::string_view::npos)
        return std::nullopt;
    std::string_view base = name.substr(0, us), suffix = name.substr(us + 1);
    for (auto d : derivatives) {
        if (d != suffix)
            continue;
        for (const auto& f : fetch_keywords())
            if (f.name == base && f.derivable)
                return fetch_lookup{&f, d};
    }
    return std::nullopt;
}

const conv_kw* find_converter(std::string_view name)
{
    for (const auto& c : converter_keywords())
        if (c.name == name)
            return &c;
    return nullptr;
}

const matcher_kw* find_matcher(std::string_view name)
{
    for (const auto& m : matchers)
        if (m.name == name)
            return &m;
    return nullptr;
}

const action_kw* find_action(std::string_view family, std::string_view name)
{
    for (const auto& a : actions) {
        if (a.family != family)
            continue;
        if (a.name == name && !a.name.ends_with('('))
            return &a;
        // "set-var(txn.x)" matches the row "set-var("
        if (a.name.ends_with('(') && name.starts_with(a.name) && name.size() > a.name.size() + 1 &&
            name.back() == ')')
            return &a;
    }
    return nullptr;
}

std::string_view default_matcher(smp_type t)
{
    switch (t) {
    case smp_type::boolean: return "bool";
    case smp_type::integer: return "int";
    case smp_type::decimal: return "int";
    case smp_type::ip: return "ip";
    case smp_type::bin: return "bin";
    case smp_type::str: return "str";
    }
    return "str";
}

} // namespace bulwark::proxy
