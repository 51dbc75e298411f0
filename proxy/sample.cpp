// SPDX-License-Identifier: Apache-2.0
// Sample fetches and converters, HAProxy's semantics (src/http_fetch.c,
// src/sample.c): header values split at commas for hdr() and whole for
// fhdr(); in an ACL every occurrence is tried, elsewhere the last one.
#include "proxy/sample.hpp"

#include "proxy/registry.hpp"
#include "proxy/stick_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <fmt/format.h>
#include <strings.h>

namespace bulwark::proxy {

namespace {

using sv = std::string_view;

bool iequals(sv a, sv b) { return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0; }

sv trim(sv s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

void push_str(eval_ctx& c, sv s, smp_type t = smp_type::str)
{
    sample v;
    v.type = t;
    v.str = s;
    c.vals.push_back(v);
}

void push_int(eval_ctx& c, std::int64_t n, smp_type t = smp_type::integer)
{
    sample v;
    v.type = t;
    v.num = n;
    c.vals.push_back(v);
}

} // namespace

std::optional<std::int64_t> leading_int(std::string_view s)
{
    s = trim(s);
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p == s.data())
        return std::nullopt;
    return n; // HAProxy's strl2ic: leading digits, the rest ignored
}

namespace {

// ---- headers ----------------------------------------------------------------

// Calls f(value) for each value of the headers named `name` (all headers
// when name is empty), split at commas when `split`.
template <class F>
void each_value(std::span<const header_ref> hs, sv name, bool split, F&& f)
{
    for (const auto& h : hs) {
        if (!name.empty() && !iequals(h.name, name))
            continue;
        if (!split) {
            f(trim(h.value));
            continue;
        }
        sv v = h.value;
        for (;;) {
            auto comma = v.find(',');
            f(trim(v.substr(0, comma)));
            if (comma == sv::npos)
                break;
            v.remove_prefix(comma + 1);
        }
    }
}

// hdr / fhdr with HAProxy's occurrence rule: occ > 0 counts from the
// first, occ < 0 from the last; 0 is every value in an ACL, else the last.
void fetch_header(eval_ctx& c, std::span<const header_ref> hs, const compiled_expr& e, bool all, bool split)
{
    sv name = e.args.empty() ? sv() : sv(e.args[0]);
    if (e.occ == 0 && all) {
        each_value(hs, name, split, [&](sv v) { push_str(c, v); });
        return;
    }
    std::size_t n = 0;
    each_value(hs, name, split, [&](sv) { ++n; });
    if (n == 0)
        return;
    long want = e.occ == 0 ? static_cast<long>(n) : e.occ > 0 ? e.occ : static_cast<long>(n) + e.occ + 1;
    if (want < 1 || want > static_cast<long>(n))
        return;
    long i = 0;
    each_value(hs, name, split, [&](sv v) {
        if (++i == want)
            push_str(c, v);
    });
}

void f_req_hdr(eval_ctx& c, const compiled_expr& e, bool all) { fetch_header(c, c.txn->req_headers, e, all, true); }
void f_req_fhdr(eval_ctx& c, const compiled_expr& e, bool all) { fetch_header(c, c.txn->req_headers, e, all, false); }
void f_res_hdr(eval_ctx& c, const compiled_expr& e, bool all)
{
    if (c.txn->has_response)
        fetch_header(c, c.txn->res_headers, e, all, true);
}
void f_res_fhdr(eval_ctx& c, const compiled_expr& e, bool all)
{
    if (c.txn->has_response)
        fetch_header(c, c.txn->res_headers, e, all, false);
}

void count_headers(eval_ctx& c, std::span<const header_ref> hs, const compiled_expr& e)
{
    std::int64_t n = 0;
    each_value(hs, e.args.empty() ? sv() : sv(e.args[0]), true, [&](sv) { ++n; });
    push_int(c, n);
}
void f_req_hdr_cnt(eval_ctx& c, const compiled_expr& e, bool) { count_headers(c, c.txn->req_headers, e); }
void f_res_hdr_cnt(eval_ctx& c, const compiled_expr& e, bool)
{
    if (c.txn->has_response)
        count_headers(c, c.txn->res_headers, e);
}

// HAProxy's strl2ic: the leading digits of the value, 0 when there are none.
void values_leading_int(eval_ctx& c)
{
    for (auto& v : c.vals) {
        v.num = leading_int(v.str).value_or(0);
        v.type = smp_type::integer;
    }
}

void f_hdr_val(eval_ctx& c, const compiled_expr& e, bool all)
{
    f_req_hdr(c, e, all);
    values_leading_int(c);
}

void f_req_hdrs(eval_ctx& c, const compiled_expr&, bool)
{
    std::string& s = c.tmp();
    for (const auto& h : c.txn->req_headers) {
        s.append(h.name);
        s += ": ";
        s.append(h.value);
        s += "\r\n";
    }
    s += "\r\n"; // the empty line ending the block, as HAProxy gives it
    push_str(c, s);
}

// ---- cookies ----------------------------------------------------------------

// Calls f(name, value) for each cookie of the request's Cookie headers.
template <class F>
void each_cookie(std::span<const header_ref> hs, F&& f)
{
    for (const auto& h : hs) {
        if (!iequals(h.name, "cookie"))
            continue;
        sv v = h.value;
        while (!v.empty()) {
            auto semi = v.find_first_of(";,");
            sv pair = trim(v.substr(0, semi));
            auto eq = pair.find('=');
            if (eq != sv::npos) // HAProxy ignores a cookie without '='
                f(trim(pair.substr(0, eq)), trim(pair.substr(eq + 1)));
            if (semi == sv::npos)
                break;
            v.remove_prefix(semi + 1);
        }
    }
}

// Set-Cookie: one cookie per line, "name=value; attributes".
template <class F>
void each_set_cookie(std::span<const header_ref> hs, F&& f)
{
    for (const auto& h : hs) {
        if (!iequals(h.name, "set-cookie"))
            continue;
        sv pair = trim(h.value.substr(0, h.value.find(';')));
        auto eq = pair.find('=');
        if (eq != sv::npos)
            f(trim(pair.substr(0, eq)), trim(pair.substr(eq + 1)));
    }
}

// In an ACL every matching cookie; elsewhere the last one of that name, or
// the first cookie when no name is given (HAProxy's smp_fetch_cookie).
template <class Each>
void fetch_cookie(eval_ctx& c, const compiled_expr& e, bool all, Each each)
{
    sv want = e.args.empty() ? sv() : sv(e.args[0]);
    bool found = false;
    sv last;
    each([&](sv name, sv value) {
        if (!want.empty() && name != want) // cookie names are case-sensitive
            return;
        if (all)
            push_str(c, value);
        else if (!found || !want.empty())
            last = value;
        found = true;
    });
    if (found && !all)
        push_str(c, last);
}

template <class Each>
void count_cookie(eval_ctx& c, const compiled_expr& e, Each each)
{
    sv want = e.args.empty() ? sv() : sv(e.args[0]);
    std::int64_t n = 0;
    each([&](sv name, sv) { n += want.empty() || name == want; });
    push_int(c, n);
}

void f_req_cook(eval_ctx& c, const compiled_expr& e, bool all)
{
    fetch_cookie(c, e, all, [&](auto f) { each_cookie(c.txn->req_headers, f); });
}
void f_req_cook_cnt(eval_ctx& c, const compiled_expr& e, bool)
{
    count_cookie(c, e, [&](auto f) { each_cookie(c.txn->req_headers, f); });
}
void f_cook_val(eval_ctx& c, const compiled_expr& e, bool all)
{
    f_req_cook(c, e, all);
    values_leading_int(c);
}
void f_res_cook(eval_ctx& c, const compiled_expr& e, bool all)
{
    if (c.txn->has_response)
        fetch_cookie(c, e, all, [&](auto f) { each_set_cookie(c.txn->res_headers, f); });
}
void f_res_cook_cnt(eval_ctx& c, const compiled_expr& e, bool)
{
    if (c.txn->has_response)
        count_cookie(c, e, [&](auto f) { each_set_cookie(c.txn->res_headers, f); });
}

// ---- request line -------------------------------------------------------------

// The path of a target: "/a/b" of "/a/b?q", or of "http://host/a/b?q".
sv path_of(sv target)
{
    if (!target.empty() && target[0] != '/') {
        auto scheme = target.find("://");
        if (scheme != sv::npos) {
            auto slash = target.find('/', scheme + 3);
            target = slash == sv::npos ? sv() : target.substr(slash);
        }
    }
    return target.substr(0, target.find('?'));
}

bool have_req(eval_ctx& c) { return c.txn->has_request; }

void f_method(eval_ctx& c, const compiled_expr&, bool)
{
    if (have_req(c))
        push_str(c, c.txn->method);
}
void f_path(eval_ctx& c, const compiled_expr&, bool)
{
    if (have_req(c))
        push_str(c, path_of(c.txn->target));
}
void f_url(eval_ctx& c, const compiled_expr&, bool)
{
    if (have_req(c))
        push_str(c, c.txn->target);
}
void f_query(eval_ctx& c, const compiled_expr&, bool)
{
    if (!have_req(c))
        return;
    auto q = c.txn->target.find('?');
    if (q != sv::npos)
        push_str(c, c.txn->target.substr(q + 1));
}
void f_base(eval_ctx& c, const compiled_expr&, bool)
{
    if (!have_req(c))
        return;
    sv host;
    bool seen = false;
    each_value(c.txn->req_headers, "host", false, [&](sv v) {
        if (!seen)
            host = v; // the first Host header
        seen = true;
    });
    if (host.empty())
        return;
    std::string& s = c.tmp();
    s.append(host);
    s.append(path_of(c.txn->target));
    push_str(c, s);
}
void f_req_ver(eval_ctx& c, const compiled_expr&, bool)
{
    if (have_req(c))
        push_str(c, c.txn->version == 10 ? "1.0" : c.txn->version == 20 ? "2.0" : "1.1");
}

// url_param([name[,delim]]): a parameter of the query string, which starts
// after the first '?' (or delim) and whose parameters end at '&', ';' or
// delim; every one in an ACL, else the first. Without a name, any
// parameter. A parameter without '=' has no value (HAProxy's
// http_find_next_url_param).
void f_url_param(eval_ctx& c, const compiled_expr& e, bool all)
{
    if (!have_req(c))
        return;
    sv t = c.txn->target;
    char delim = e.args.size() > 1 && !e.args[1].empty() ? e.args[1][0] : '?';
    auto q = t.find(delim);
    if (q == sv::npos)
        return;
    sv rest = t.substr(q + 1);
    sv name = e.args.empty() ? sv() : sv(e.args[0]);
    const char delims[] = {'&', ';', delim};
    while (true) {
        auto end = rest.find_first_of(sv(delims, sizeof delims));
        sv pair = rest.substr(0, end);
        auto eq = pair.find('=');
        if (eq != sv::npos && (name.empty() || pair.substr(0, eq) == name)) {
            push_str(c, pair.substr(eq + 1));
            if (!all)
                return;
        }
        if (end == sv::npos)
            return;
        rest.remove_prefix(end + 1);
    }
}

void f_req_body(eval_ctx& c, const compiled_expr&, bool)
{
    if (have_req(c))
        push_str(c, c.txn->req_body, smp_type::bin);
}
void f_req_body_len(eval_ctx& c, const compiled_expr&, bool)
{
    if (have_req(c))
        push_int(c, static_cast<std::int64_t>(c.txn->req_body.size()));
}
void f_proto_http(eval_ctx& c, const compiled_expr&, bool) { push_int(c, have_req(c), smp_type::boolean); }

void f_status(eval_ctx& c, const compiled_expr&, bool)
{
    if (c.txn->has_response)
        push_int(c, c.txn->status);
}

// ---- connection ------------------------------------------------------------------

void f_src(eval_ctx& c, const compiled_expr&, bool)
{
    if (c.txn->src) {
        sample v;
        v.type = smp_type::ip;
        v.ip = *c.txn->src;
        c.vals.push_back(v);
    }
}
void f_dst(eval_ctx& c, const compiled_expr&, bool)
{
    if (c.txn->dst) {
        sample v;
        v.type = smp_type::ip;
        v.ip = *c.txn->dst;
        c.vals.push_back(v);
    }
}
void f_src_port(eval_ctx& c, const compiled_expr&, bool)
{
    if (c.txn->src)
        push_int(c, c.txn->src_port);
}
void f_dst_port(eval_ctx& c, const compiled_expr&, bool)
{
    if (c.txn->dst)
        push_int(c, c.txn->dst_port);
}
void f_ssl_fc(eval_ctx& c, const compiled_expr&, bool) { push_int(c, c.txn->tls, smp_type::boolean); }

// ---- constants ----------------------------------------------------------------------

void f_true(eval_ctx& c, const compiled_expr&, bool) { push_int(c, 1, smp_type::boolean); }
void f_false(eval_ctx& c, const compiled_expr&, bool) { push_int(c, 0, smp_type::boolean); }
void f_int(eval_ctx& c, const compiled_expr& e, bool) { push_int(c, e.num); }
void f_str(eval_ctx& c, const compiled_expr& e, bool) { push_str(c, e.args[0]); }
void f_env(eval_ctx& c, const compiled_expr& e, bool)
{
    // Read at load into args[1] (the environment is not read per request).
    if (e.args.size() > 1)
        push_str(c, e.args[1]);
}

// ---- the fetch rows ------------------------------------------------------------------
// One row per fetch: name, arguments, output type, where it may be used,
// its function (null: not built, and pending says what builds it).
constexpr unsigned req = at_req, res = at_res, l4 = at_conn | at_hello | at_req | at_res;
constexpr auto T = pending_tls;
constexpr auto L = pending_later;

constexpr std::array fetch_rows{
    // name              min max type               where           deriv  fn                pending
    //   what it reads
    fetch_kw{"src",               0, 0, smp_type::ip,      l4,             false, f_src,            {},
             "the client's IP address (none on a unix socket)"},
    fetch_kw{"src_port",          0, 0, smp_type::integer, l4,             false, f_src_port,       {},
             "the client's TCP port"},
    fetch_kw{"dst",               0, 0, smp_type::ip,      l4,             false, f_dst,            {},
             "the address the client connected to"},
    fetch_kw{"dst_port",          0, 0, smp_type::integer, l4,             false, f_dst_port,       {},
             "the port the client connected to"},
    fetch_kw{"method",            0, 0, smp_type::str,     req | res,      false, f_method,         {},
             "the request method"},
    fetch_kw{"path",              0, 0, smp_type::str,     req | res,      true,  f_path,           {},
             "the request path, without the query"},
    fetch_kw{"url",               0, 0, smp_type::str,     req | res,      true,  f_url,            {},
             "the request target as sent"},
    fetch_kw{"query",             0, 0, smp_type::str,     req | res,      false, f_query,          {},
             "the query string, after '?'"},
    fetch_kw{"base",              0, 0, smp_type::str,     req | res,      true,  f_base,           {},
             "Host header value followed by the path"},
    fetch_kw{"url_param",         0, 2, smp_type::str,     req | res,      true,  f_url_param,      {},
             "url_param(NAME[,DELIM]): a query parameter's value"},
    fetch_kw{"urlp",              0, 2, smp_type::str,     req | res,      true,  f_url_param,      {},
             "alias of url_param"},
    fetch_kw{"req.ver",           0, 0, smp_type::str,     req | res,      false, f_req_ver,        {},
             "the request's HTTP version: 1.0 or 1.1"},
    fetch_kw{"hdr",               0, 2, smp_type::str,     req | res,      true,  f_req_hdr,        {},
             "hdr([NAME[,OCC]]): request header values, split at commas"},
    fetch_kw{"req.hdr",           0, 2, smp_type::str,     req | res,      true,  f_req_hdr,        {},
             "req.hdr([NAME[,OCC]]): request header values, split at commas"},
    fetch_kw{"req.fhdr",          1, 2, smp_type::str,     req | res,      false, f_req_fhdr,       {},
             "req.fhdr(NAME[,OCC]): full request header values, not split"},
    fetch_kw{"hdr_cnt",           0, 1, smp_type::integer, req | res,      false, f_req_hdr_cnt,    {},
             "hdr_cnt([NAME]): how many values a request header has"},
    fetch_kw{"req.hdr_cnt",       0, 1, smp_type::integer, req | res,      false, f_req_hdr_cnt,    {},
             "req.hdr_cnt([NAME]): how many values a request header has"},
    fetch_kw{"hdr_val",           0, 2, smp_type::integer, req | res,      false, f_hdr_val,        {},
             "hdr_val(NAME[,OCC]): a request header value as an integer"},
    fetch_kw{"req.hdrs",          0, 0, smp_type::str,     req | res,      false, f_req_hdrs,       {},
             "every request header line, as sent"},
    fetch_kw{"cook",              0, 1, smp_type::str,     req | res,      true,  f_req_cook,       {},
             "cook([NAME]): a request cookie's value"},
    fetch_kw{"req.cook",          0, 1, smp_type::str,     req | res,      true,  f_req_cook,       {},
             "req.cook([NAME]): a request cookie's value"},
    fetch_kw{"cook_cnt",          0, 1, smp_type::integer, req | res,      false, f_req_cook_cnt,   {},
             "cook_cnt([NAME]): how many request cookies (of that name)"},
    fetch_kw{"req.cook_cnt",      0, 1, smp_type::integer, req | res,      false, f_req_cook_cnt,   {},
             "req.cook_cnt([NAME]): how many request cookies (of that name)"},
    fetch_kw{"cook_val",          0, 1, smp_type::integer, req | res,      false, f_cook_val,       {},
             "cook_val([NAME]): a request cookie's value as an integer"},
    fetch_kw{"req.body",          0, 0, smp_type::bin,     req | res,      false, f_req_body,       {},
             "the buffered request body (wait-for-body, http-buffer-request)"},
    fetch_kw{"req.body_len",      0, 0, smp_type::integer, req | res,      false, f_req_body_len,   {},
             "the length of the buffered request body"},
    fetch_kw{"req.len",           0, 0, smp_type::integer, at_hello | req, false, f_req_body_len,   {},
             "bytes of the request seen so far (here: the buffered body)"},
    fetch_kw{"req_len",           0, 0, smp_type::integer, at_hello | req, false, f_req_body_len,   {},
             "alias of req.len"},
    fetch_kw{"req.payload",       2, 2, smp_type::bin,     at_hello | req, false, nullptr,          T,
             "req.payload(OFF,LEN): raw request bytes before HTTP"},
    fetch_kw{"req.proto_http",    0, 0, smp_type::boolean, at_hello | req, false, f_proto_http,     {},
             "true when the request is HTTP"},
    fetch_kw{"status",            0, 0, smp_type::integer, res,            false, f_status,         {},
             "the response status code"},
    fetch_kw{"res.hdr",           0, 2, smp_type::str,     res,            true,  f_res_hdr,        {},
             "res.hdr([NAME[,OCC]]): response header values, split at commas"},
    fetch_kw{"shdr",              0, 2, smp_type::str,     res,            true,  f_res_hdr,        {},
             "alias of res.hdr"},
    fetch_kw{"res.fhdr",          1, 2, smp_type::str,     res,            false, f_res_fhdr,       {},
             "res.fhdr(NAME[,OCC]): full response header values, not split"},
    fetch_kw{"res.hdr_cnt",       0, 1, smp_type::integer, res,            false, f_res_hdr_cnt,    {},
             "res.hdr_cnt([NAME]): how many values a response header has"},
    fetch_kw{"res.cook",          0, 1, smp_type::str,     res,            true,  f_res_cook,       {},
             "res.cook([NAME]): a Set-Cookie cookie's value"},
    fetch_kw{"res.cook_cnt",      0, 1, smp_type::integer, res,            false, f_res_cook_cnt,   {},
             "res.cook_cnt([NAME]): how many Set-Cookie cookies"},
    fetch_kw{"ssl_fc",            0, 0, smp_type::boolean, at_any,         false, f_ssl_fc,         {},
             "true when the client connection is TLS"},
    fetch_kw{"ssl_fc_protocol",   0, 0, smp_type::str,     at_any,         false, nullptr,          T,
             "the client connection's TLS version"},
    fetch_kw{"ssl_fc_sni",        0, 0, smp_type::str,     at_any,         true,  nullptr,          T,
             "the SNI the client sent"},
    fetch_kw{"ssl_fc_cipher",     0, 0, smp_type::str,     at_any,         false, nullptr,          T,
             "the client connection's cipher"},
    fetch_kw{"req.ssl_ver",       0, 0, smp_type::decimal, at_hello | req, false, nullptr,          T,
             "the TLS version of a ClientHello not yet forwarded"},
    fetch_kw{"req_ssl_ver",       0, 0, smp_type::decimal, at_hello | req, false, nullptr,          T,
             "alias of req.ssl_ver"},
    fetch_kw{"req.ssl_ec_ext",    0, 0, smp_type::boolean, at_hello | req, false, nullptr,          T,
             "true when a ClientHello offers elliptic curves"},
    fetch_kw{"req.ssl_sni",       0, 0, smp_type::str,     at_hello | req, true,  nullptr,          T,
             "the SNI of a ClientHello not yet forwarded"},
    fetch_kw{"req_ssl_sni",       0, 0, smp_type::str,     at_hello | req, true,  nullptr,          T,
             "alias of req.ssl_sni"},
    fetch_kw{"req.ssl_hello_type", 0, 0, smp_type::integer, at_hello | req, false, nullptr,          T,
             "1 for a ClientHello, 2 for a ServerHello"},
    fetch_kw{"always_true",       0, 0, smp_type::boolean, at_any,         false, f_true,           {},
             "true"},
    fetch_kw{"always_false",      0, 0, smp_type::boolean, at_any,         false, f_false,          {},
             "false"},
    fetch_kw{"int",               1, 1, smp_type::integer, at_any,         false, f_int,            {},
             "int(N): the integer N"},
    fetch_kw{"str",               1, 1, smp_type::str,     at_any,         false, f_str,            {},
             "str(TEXT): the text TEXT"},
    fetch_kw{"env",               1, 1, smp_type::str,     at_any,         false, f_env,            {},
             "env(NAME): an environment variable, read at load"},
    fetch_kw{"var",               1, 2, smp_type::str,     at_any,         false, nullptr,          L,
             "var(NAME): a variable set by set-var"},
};


} // namespace

std::span<const fetch_kw> fetch_keywords()
{
    // the stick-counter rows (sample_stick.cpp) first, then these: made once
    static const std::vector<fetch_kw> all = [] {
        auto sticks = stick_fetch_keywords();
        std::vector<fetch_kw> v(sticks.begin(), sticks.end());
        v.insert(v.end(), fetch_rows.begin(), fetch_rows.end());
        return v;
    }();
    return all;
}

bool fetch_built(std::string_view name)
{
    auto f = find_fetch(name);
    return f && f->implied_matcher.empty() && f->fetch->fn;
}

std::optional<std::string_view> stick_key(eval_ctx& ctx, const compiled_expr& e, const stick_table& t,
                                          std::array<std::uint8_t, 16>& buf)
{
    if (eval_expr(ctx, e, false) == 0)
        return std::nullopt;
    const sample& s = ctx.vals.front();
    const auto type = t.config().type;
    if (type == stk_key_type::ip || type == stk_key_type::ipv6) {
        ip_addr a;
        if (s.type == smp_type::ip) {
            a = s.ip;
        } else {
            auto p = parse_ip(sample_text(ctx, s));
            if (!p)
                return std::nullopt;
            a = *p;
        }
        return t.ip_key(a.bytes.data(), a.fam == family::ipv4 ? 4 : 16, buf);
    }
    return sample_text(ctx, s);
}

void sample_to_string(const sample& s, std::string& out)
{
    switch (s.type) {
    case smp_type::boolean:
    case smp_type::integer:
    case smp_type::decimal:
        out = fmt::format("{}", s.num);
        break;
    case smp_type::ip:
        out = s.ip.str();
        break;
    case smp_type::str:
    case smp_type::bin:
        out.assign(s.str);
        break;
    }
}

std::string_view sample_text(eval_ctx& ctx, const sample& s)
{
    if (s.type == smp_type::str || s.type == smp_type::bin)
        return s.str;
    std::string& t = ctx.tmp();
    sample_to_string(s, t);
    return t;
}

result<compiled_expr> compile_expr(const sample_expr& e)
{
    compiled_expr ce;
    auto row = find_fetch(e.fetch);
    if (!row || !row->implied_matcher.empty() || !row->fetch->fn)
        return fail(fmt::format("fetch '{}' is not built yet", e.fetch));
    ce.fn = row->fetch->fn;
    ce.out = row->fetch->out;
    // The config checker counts the arguments of an ACL's expression, not
    // those of a %[...] in a rule's value: counted here for both.
    if (e.args.size() < row->fetch->min_args || e.args.size() > row->fetch->max_args)
        return fail(fmt::format("fetch '{}' takes {} to {} arguments, found {}", e.fetch, row->fetch->min_args,
                                row->fetch->max_args, e.args.size()));
    ce.args = e.args;
    ce.key = e.fetch;
    if (!e.args.empty())
        ce.key += "(" + fmt::format("{}", fmt::join(e.args, ",")) + ")";
    // hdr(name,occ) and fhdr(name,occ): the occurrence
    bool has_occ = e.fetch == "hdr" || e.fetch == "req.hdr" || e.fetch == "req.fhdr" || e.fetch == "res.hdr" ||
                   e.fetch == "shdr" || e.fetch == "res.fhdr" || e.fetch == "hdr_val";
    if (has_occ && e.args.size() > 1) {
        auto n = parse_int(e.args[1], -1000, 1000);
        if (!n)
            return fail(fmt::format("fetch '{}': invalid occurrence '{}'", e.fetch, e.args[1]));
        ce.occ = static_cast<int>(*n);
        ce.args.resize(1);
    }
    if (e.fetch == "int")
        ce.num = leading_int(e.args[0]).value_or(0);
    if (e.fetch == "env") {
        const char* v = std::getenv(e.args[0].c_str());
        if (v)
            ce.args.emplace_back(v);
    }
    for (const auto& cv : e.convs) {
        auto cc = compile_conv(cv);
        if (!cc)
            return fail(cc.message());
        ce.out = cc->row->out;
        ce.key += "," + cv.name;
        if (!cv.args.empty())
            ce.key += "(" + fmt::format("{}", fmt::join(cv.args, ",")) + ")";
        ce.convs.push_back(std::move(*cc));
    }
    return ce;
}

std::size_t eval_expr(eval_ctx& ctx, const compiled_expr& e, bool all)
{
    ctx.vals.clear();
    e.fn(ctx, e, all);
    if (e.convs.empty())
        return ctx.vals.size();
    std::size_t w = 0;
    for (std::size_t i = 0; i < ctx.vals.size(); ++i) {
        sample s = ctx.vals[i];
        bool keep = true;
        for (const auto& cv : e.convs)
            if (!(keep = cv.fn(ctx, cv, s)))
                break;
        if (keep)
            ctx.vals[w++] = s;
    }
    ctx.vals.resize(w);
    return w;
}

bool eval_string(eval_ctx& ctx, const compiled_expr& e, std::string& out)
{
    out.clear();
    if (eval_expr(ctx, e, false) == 0)
        return false;
    sample_to_string(ctx.vals.front(), out);
    return true;
}

} // namespace bulwark::proxy
