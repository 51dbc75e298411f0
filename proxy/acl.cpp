// SPDX-License-Identifier: Apache-2.0
#include "proxy/acl.hpp"

#include "common/units.hpp"
#include "proxy/registry.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <strings.h>

namespace bulwark::proxy {

namespace {

using sv = std::string_view;

struct predefined_def {
    sv name, fetch, matcher;
    std::vector<std::string> args, patterns;
};

// HAProxy's predefined ACLs (configuration manual, 7.4).
const std::vector<predefined_def>& predefined_defs()
{
    static const std::vector<predefined_def> defs{
        {"FALSE", "always_false", "bool", {}, {}},
        {"HTTP", "req.proto_http", "bool", {}, {}},
        {"HTTP_1.0", "req.ver", "str", {}, {"1.0"}},
        {"HTTP_1.1", "req.ver", "str", {}, {"1.1"}},
        {"HTTP_2.0", "req.ver", "str", {}, {"2.0"}},
        {"HTTP_CONTENT", "hdr_val", "int", {"content-length"}, {"gt", "0"}},
        {"HTTP_URL_ABS", "url", "reg", {}, {"^[^/:]*://"}},
        {"HTTP_URL_SLASH", "url", "beg", {}, {"/"}},
        {"HTTP_URL_STAR", "url", "str", {}, {"*"}},
        {"LOCALHOST", "src", "ip", {}, {"127.0.0.1/8", "::1"}},
        {"METH_CONNECT", "method", "str", {}, {"CONNECT"}},
        {"METH_DELETE", "method", "str", {}, {"DELETE"}},
        {"METH_GET", "method", "str", {}, {"GET", "HEAD"}},
        {"METH_HEAD", "method", "str", {}, {"HEAD"}},
        {"METH_OPTIONS", "method", "str", {}, {"OPTIONS"}},
        {"METH_POST", "method", "str", {}, {"POST"}},
        {"METH_PUT", "method", "str", {}, {"PUT"}},
        {"METH_TRACE", "method", "str", {}, {"TRACE"}},
        // RDP cookies are a mode tcp feature bulwark does not read: never true.
        {"RDP_COOKIE", "always_false", "bool", {}, {}},
        {"REQ_CONTENT", "req.len", "int", {}, {"gt", "0"}},
        {"TRUE", "always_true", "bool", {}, {}},
        // An HTTP rule runs once the request is in: the wait is over.
        {"WAIT_END", "always_true", "bool", {}, {}},
        {"CONNECT", "method", "str", {}, {"CONNECT"}},
    };
    return defs;
}

std::optional<std::int64_t> to_int(sv s)
{
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p != s.data() + s.size())
        return std::nullopt;
    return n;
}

result<std::vector<compiled_acl::range>> int_ranges(const std::vector<std::string>& pats)
{
    constexpr auto lo_all = std::numeric_limits<std::int64_t>::min(), hi_all = std::numeric_limits<std::int64_t>::max();
    std::vector<compiled_acl::range> out;
    for (std::size_t i = 0; i < pats.size(); ++i) {
        sv p = pats[i];
        if (p == "eq" || p == "ge" || p == "gt" || p == "le" || p == "lt") {
            if (i + 1 >= pats.size())
                return fail(fmt::format("'{}' expects a number after it", p));
            auto n = to_int(pats[++i]);
            if (!n)
                return fail(fmt::format("invalid integer '{}'", pats[i]));
            if (p == "eq")
                out.push_back({*n, *n});
            else if (p == "ge")
                out.push_back({*n, hi_all});
            else if (p == "gt")
                out.push_back({*n == hi_all ? hi_all : *n + 1, hi_all});
            else if (p == "le")
                out.push_back({lo_all, *n});
            else
                out.push_back({lo_all, *n == lo_all ? lo_all : *n - 1});
            continue;
        }
        auto colon = p.find(':');
        if (colon == sv::npos) {
            auto n = to_int(p);
            if (!n)
                return fail(fmt::format("invalid integer pattern '{}'", p));
            out.push_back({*n, *n});
            continue;
        }
        compiled_acl::range r{lo_all, hi_all};
        if (colon > 0) {
            auto n = to_int(p.substr(0, colon));
            if (!n)
                return fail(fmt::format("invalid integer range '{}'", p));
            r.lo = *n;
        }
        if (colon + 1 < p.size()) {
            auto n = to_int(p.substr(colon + 1));
            if (!n)
                return fail(fmt::format("invalid integer range '{}'", p));
            r.hi = *n;
        }
        out.push_back(r);
    }
    return out;
}

std::optional<match_kind> kind_of(sv m)
{
    static const std::map<sv, match_kind> kinds{
        {"found", match_kind::found}, {"bool", match_kind::boolean}, {"int", match_kind::integer},
        {"ip", match_kind::ip},       {"bin", match_kind::bin},      {"len", match_kind::len},
        {"str", match_kind::str},     {"sub", match_kind::sub},      {"reg", match_kind::reg},
        {"beg", match_kind::beg},     {"end", match_kind::end},      {"dir", match_kind::dir},
        {"dom", match_kind::dom},
    };
    auto it = kinds.find(m);
    if (it == kinds.end())
        return std::nullopt;
    return it->second;
}

bool same(sv a, sv b, bool icase)
{
    return a.size() == b.size() && (icase ? strncasecmp(a.data(), b.data(), a.size()) == 0 : a == b);
}

// pat appears in v delimited by one of delims (or v's ends) on both sides:
// -m dir with '/' and '?', -m dom with '/', '?' and '.'.
bool delimited_match(sv v, sv pat, bool icase, sv delims)
{
    while (!pat.empty() && delims.find(pat.front()) != sv::npos)
        pat.remove_prefix(1);
    while (!pat.empty() && delims.find(pat.back()) != sv::npos)
        pat.remove_suffix(1);
    if (pat.empty() || pat.size() > v.size())
        return false;
    for (std::size_t i = 0; i + pat.size() <= v.size(); ++i) {
        if (i > 0 && delims.find(v[i - 1]) == sv::npos)
            continue;
        std::size_t end = i + pat.size();
        if (end < v.size() && delims.find(v[end]) == sv::npos)
            continue;
        if (same(v.substr(i, pat.size()), pat, icase))
            return true;
    }
    return false;
}

// HAProxy's pat_match_ip also tries an IPv4 address on IPv6 networks as
// ::ffff:a.b.c.d, and an IPv6 address that carries an IPv4 one (v4-mapped
// ::ffff:a.b.c.d, v4-compatible ::a.b.c.d, 6to4 2002:aabb:ccdd::) on IPv4
// networks (v4tov6, v6tov4).
bool in_net(const ip_addr& addr, const cidr& n)
{
    ip_addr a = addr;
    if (a.fam != n.net.fam) {
        ip_addr m;
        m.fam = n.net.fam;
        auto zero = [&](std::size_t from, std::size_t to) {
            return std::all_of(a.bytes.begin() + from, a.bytes.begin() + to, [](auto b) { return b == 0; });
        };
        if (a.fam == family::ipv4) {
            m.bytes[10] = m.bytes[11] = 0xff;
            std::copy_n(a.bytes.begin(), 4, m.bytes.begin() + 12);
        } else if (zero(0, 10) && ((a.bytes[10] == 0xff && a.bytes[11] == 0xff) || zero(10, 12))) {
            std::copy_n(a.bytes.begin() + 12, 4, m.bytes.begin());
        } else if (a.bytes[0] == 0x20 && a.bytes[1] == 0x02) {
            std::copy_n(a.bytes.begin() + 2, 4, m.bytes.begin());
        } else {
            return false;
        }
        a = m;
    }
    unsigned bits = n.prefix;
    for (std::size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
        unsigned take = std::min(bits, 8u);
        auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
        if ((a.bytes[i] & mask) != (n.net.bytes[i] & mask))
            return false;
    }
    return true;
}

std::optional<std::int64_t> int_of(const sample& v)
{
    if (v.type == smp_type::integer || v.type == smp_type::boolean || v.type == smp_type::decimal)
        return v.num;
    if (v.type == smp_type::str) {
        std::int64_t n = 0;
        auto [p, ec] = std::from_chars(v.str.data(), v.str.data() + v.str.size(), n);
        if (ec == std::errc() && p != v.str.data())
            return n;
    }
    return std::nullopt;
}

} // namespace

bool match_value(const compiled_acl& a, eval_ctx& ctx, const sample& v)
{
    switch (a.m) {
    case match_kind::found:
        return true;
    case match_kind::boolean:
        return (v.type == smp_type::boolean || v.type == smp_type::integer) && v.num != 0;
    case match_kind::integer:
    case match_kind::len: {
        std::optional<std::int64_t> n;
        if (a.m == match_kind::len) {
            if (v.type == smp_type::str || v.type == smp_type::bin)
                n = static_cast<std::int64_t>(v.str.size());
            else {
                std::string& t = ctx.tmp();
                sample_to_string(v, t);
                n = static_cast<std::int64_t>(t.size());
            }
        } else {
            n = int_of(v);
        }
        if (!n)
            return false;
        return std::any_of(a.ranges.begin(), a.ranges.end(), [&](const auto& r) { return *n >= r.lo && *n <= r.hi; });
    }
    case match_kind::ip: {
        ip_addr ip;
        if (v.type == smp_type::ip) {
            ip = v.ip;
        } else if (v.type == smp_type::str) {
            auto p = parse_ip(v.str);
            if (!p)
                return false;
            ip = *p;
        } else {
            return false;
        }
        return std::any_of(a.nets.begin(), a.nets.end(), [&](const auto& n) { return in_net(ip, n); });
    }
    default:
        break;
    }
    const sv text = sample_text(ctx, v);
    switch (a.m) {
    case match_kind::bin:
    case match_kind::str:
        return std::any_of(a.strs.begin(), a.strs.end(),
                           [&](const auto& p) { return same(text, p, a.icase && a.m == match_kind::str); });
    case match_kind::beg:
        return std::any_of(a.strs.begin(), a.strs.end(), [&](const auto& p) {
            return text.size() >= p.size() && same(text.substr(0, p.size()), p, a.icase);
        });
    case match_kind::end:
        return std::any_of(a.strs.begin(), a.strs.end(), [&](const auto& p) {
            return text.size() >= p.size() && same(text.substr(text.size() - p.size()), p, a.icase);
        });
    case match_kind::dir:
        return std::any_of(a.strs.begin(), a.strs.end(),
                           [&](const auto& p) { return delimited_match(text, p, a.icase, "/?"); });
    case match_kind::dom:
        return std::any_of(a.strs.begin(), a.strs.end(),
                           [&](const auto& p) { return delimited_match(text, p, a.icase, "/?."); });
    default:
        return false; // sub and reg go through the pattern sets
    }
}

namespace {

// An ACL line's patterns: its own, then each -f FILE's, one a line ('#'
// starts a comment line).
result<std::vector<std::string>> patterns_of(const acl_def& d)
{
    std::vector<std::string> pats = d.patterns;
    for (const auto& file : d.pattern_files) {
        std::FILE* f = std::fopen(file.c_str(), "r");
        if (!f)
            return fail(fmt::format("cannot read pattern file '{}'", file));
        char line[4096];
        while (std::fgets(line, sizeof line, f)) {
            sv l = line;
            while (!l.empty() && (l.back() == '\n' || l.back() == '\r' || l.back() == ' ' || l.back() == '\t'))
                l.remove_suffix(1);
            while (!l.empty() && (l.front() == ' ' || l.front() == '\t'))
                l.remove_prefix(1);
            if (!l.empty() && l.front() != '#')
                pats.emplace_back(l);
        }
        std::fclose(f);
    }
    return pats;
}

// The patterns of an ACL matched by value (all but sub and reg), parsed
// into a.
result<bool> set_values(compiled_acl& a, const std::vector<std::string>& pats)
{
    switch (a.m) {
    case match_kind::integer:
    case match_kind::len: {
        auto r = int_ranges(pats);
        if (!r)
            return fail(r.message());
        a.ranges = std::move(*r);
        break;
    }
    case match_kind::ip:
        for (const auto& p : pats) {
            auto n = parse_cidr(p);
            if (!n)
                return fail(n.message());
            a.nets.push_back(*n);
        }
        break;
    case match_kind::bin:
        for (const auto& p : pats) {
            std::string b;
            for (std::size_t i = 0; i + 1 < p.size(); i += 2)
                b += static_cast<char>(std::stoi(p.substr(i, 2), nullptr, 16));
            a.strs.push_back(std::move(b));
        }
        break;
    default:
        a.strs = pats;
    }
    return true;
}

acl_def predefined_acl(const proxy_section& px, const predefined_def& p)
{
    acl_def d;
    d.at = px.at;
    d.name = std::string(p.name);
    d.expr.fetch = std::string(p.fetch);
    d.expr.args = p.args;
    d.matcher = std::string(p.matcher);
    d.patterns = p.patterns;
    return d;
}

} // namespace

struct acl_set::build_state {
    std::map<std::string, std::size_t> expr_by_key;
    std::map<std::size_t, std::vector<rules::pattern>> set_patterns; // expr -> patterns
};

std::size_t acl_set::intern(compiled_expr e, build_state& b)
{
    auto [it, fresh] = b.expr_by_key.try_emplace(e.key, exprs_.size());
    if (fresh)
        exprs_.push_back(std::move(e));
    return it->second;
}

result<bool> acl_set::add(const acl_def& d, build_state& b, std::vector<std::string>* notes)
{
    auto where = [&](const std::string& msg) {
        return fail(fmt::format("{}:{}: acl '{}': {}", d.at.file, d.at.line, d.name, msg));
    };
    auto e = compile_expr(d.expr);
    compiled_acl a;
    a.name = d.name;
    if (!e) {
        // A fetch or converter of a later issue (TLS): the ACL never
        // matches, and the operator is told, with what that means for
        // a negated use. Refusing to start would take the site down.
        if (notes)
            notes->push_back(fmt::format("{}:{}: acl '{}': {}: it never matches (and '!{}' always does) until "
                                         "it is",
                                         d.at.file, d.at.line, d.name.empty() ? "(anonymous)" : d.name,
                                         e.message(), d.name.empty() ? "..." : d.name));
        sample_expr never;
        never.fetch = "always_false";
        e = compile_expr(never);
        a.m = match_kind::boolean;
        a.expr = intern(std::move(*e), b);
        acls_.push_back(std::move(a));
        return true;
    }
    for (const auto& cv : e->convs) // regsub(...) on PCRE2: said like a -m reg pattern
        if (notes && cv.re && !cv.re->in_hyperscan())
            notes->push_back(fmt::format("{}:{}: regsub regex of acl '{}' runs on PCRE2, not Hyperscan ({}): a "
                                         "search that gives up leaves the value as it is and the rule's condition "
                                         "unknown (a refusal applies)",
                                         d.at.file, d.at.line, d.name.empty() ? "(anonymous)" : d.name,
                                         cv.re->hs_refusal()));
    a.expr = intern(std::move(*e), b);
    auto k = kind_of(d.matcher);
    if (!k)
        return where(fmt::format("match method '{}' is not built yet", d.matcher));
    a.m = *k;
    a.icase = d.icase;
    auto pats = patterns_of(d);
    if (!pats)
        return where(pats.message());
    if (a.m == match_kind::sub || a.m == match_kind::reg) {
        auto& v = b.set_patterns[a.expr];
        for (const auto& p : *pats)
            v.push_back({p, d.icase, a.m == match_kind::sub, static_cast<unsigned>(acls_.size()),
                         fmt::format("{}:{}", d.at.file, d.at.line)});
        a.set = -2; // resolved by compile_sets, once every pattern over the expression is known
    } else if (auto r = set_values(a, *pats); !r) {
        return where(r.message());
    }
    acls_.push_back(std::move(a));
    return true;
}

// One pattern set per expression that reg/sub ACLs match on.
result<bool> acl_set::compile_sets(build_state& b, std::vector<std::string>* notes)
{
    for (auto& [expr, pats] : b.set_patterns) {
        auto set = rules::pattern_set::compile(pats, notes);
        if (!set)
            return fail(set.message()); // it names the pattern's file and line
        for (auto& a : acls_)
            if (a.set == -2 && a.expr == expr)
                a.set = static_cast<int>(sets_.size());
        sets_.push_back(std::move(*set));
        set_expr_.push_back(expr);
    }
    for (auto& a : acls_) // a reg/sub ACL with no pattern at all never matches
        if (a.set == -2)
            a.set = -1;
    return true;
}

result<acl_set> acl_set::build(const proxy_section& px, std::vector<std::string>* notes)
{
    acl_set s;
    build_state b;
    for (const auto& d : px.acls)
        if (auto r = s.add(d, b, notes); !r)
            return fail(r.message());
    s.predefined_at_ = s.acls_.size();
    for (const auto& p : predefined_defs())
        if (auto r = s.add(predefined_acl(px, p), b, notes); !r)
            return fail(r.message());
    if (auto r = s.compile_sets(b, notes); !r)
        return fail(r.message());
    return s;
}

result<compiled_cond> acl_set::compile(const condition& c) const
{
    compiled_cond out;
    out.unless = c.unless;
    for (const auto& conj : c.any_of) {
        auto& dst = out.any_of.emplace_back();
        for (const auto& t : conj) {
            compiled_cond::term ct;
            ct.negate = t.negate;
            if (t.anon >= 0) {
                ct.acls.push_back(static_cast<std::size_t>(t.anon));
            } else {
                for (std::size_t i = 0; i < predefined_at_; ++i)
                    if (acls_[i].name == t.acl)
                        ct.acls.push_back(i);
                if (ct.acls.empty())
                    for (std::size_t i = predefined_at_; i < acls_.size(); ++i)
                        if (acls_[i].name == t.acl)
                            ct.acls.push_back(i);
                if (ct.acls.empty())
                    return fail(fmt::format("no such ACL '{}'", t.acl));
            }
            dst.push_back(std::move(ct));
        }
    }
    return out;
}

void acl_set::prepare_scratch(rules::pattern_scratch& scratch) const
{
    for (const auto& set : sets_)
        scratch.prepare(set);
}

void acl_set::begin(eval_ctx& ctx) const
{
    if (ctx.scanned.size() < sets_.size())
        ctx.scanned.resize(sets_.size());
    if (ctx.hits.size() < acls_.size())
        ctx.hits.resize(acls_.size());
    invalidate(ctx);
}

void acl_set::invalidate(eval_ctx& ctx) const
{
    std::fill(ctx.scanned.begin(), ctx.scanned.end(), 0);
    std::fill(ctx.hits.begin(), ctx.hits.end(), 0);
}

std::uint32_t acl_set::scan(eval_ctx& ctx, std::size_t si) const
{
    if (ctx.scanned[si])
        return ctx.scanned[si] - 1;
    std::uint32_t found = 0;
    ctx.reset();
    eval_expr(ctx, exprs_[set_expr_[si]], true);
    for (const sample& v : ctx.vals) {
        sets_[si].scan(
            sample_text(ctx, v), *ctx.scratch,
            [&](unsigned id) {
                found += !ctx.hits[id];
                ctx.hits[id] |= 1;
            },
            [&](unsigned id) { // counted as found: a rule gated on the set must not skip it
                found += !ctx.hits[id];
                ctx.hits[id] |= 2;
            });
    }
    ctx.scanned[si] = found + 1;
    return found;
}

bool acl_set::eval_acl(eval_ctx& ctx, std::size_t i) const
{
    const compiled_acl& a = acls_[i];
    const compiled_expr& e = exprs_[a.expr];
    if (a.set >= 0) {
        scan(ctx, static_cast<std::size_t>(a.set));
        if (ctx.hits[i] == 2) // no pattern matched, one gave up: the answer is unknown
            ++ctx.regex_errors;
        return ctx.hits[i] & 1;
    }
    if (a.m == match_kind::sub || a.m == match_kind::reg)
        return false; // no pattern
    ctx.reset();
    eval_expr(ctx, e, true);
    for (std::size_t k = 0; k < ctx.vals.size(); ++k) {
        const sample v = ctx.vals[k];
        if (match_value(a, ctx, v))
            return true;
    }
    return false;
}

bool acl_set::eval(eval_ctx& ctx, const compiled_cond& c) const { return eval3(ctx, c) == tri::yes; }

acl_set::tri acl_set::eval3(eval_ctx& ctx, const compiled_cond& c) const
{
    bool any = false, any_unknown = false;
    for (const auto& conj : c.any_of) {
        bool all = true, unknown = false;
        for (const auto& t : conj) {
            bool v = false, u = false; // a term: the OR of its ACLs' lines
            for (std::size_t a : t.acls) {
                std::uint32_t errors = ctx.regex_errors;
                if ((v = eval_acl(ctx, a)))
                    break;
                u = u || ctx.regex_errors != errors;
            }
            if (!v && u) {
                unknown = true; // negated or not, still unknown
                continue;
            }
            if (v == t.negate) {
                all = false;
                break;
            }
        }
        if (all && !unknown) {
            any = true;
            break;
        }
        any_unknown = any_unknown || (all && unknown);
    }
    if (!any && any_unknown)
        return tri::unknown;
    return any != c.unless ? tri::yes : tri::no;
}

} // namespace bulwark::proxy
