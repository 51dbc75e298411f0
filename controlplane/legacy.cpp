// SPDX-License-Identifier: Apache-2.0
// The regex directives HAProxy removed in 2.1 (reqdeny, reqirep, rspdeny,
// rspirep, ...). The seed articles use them, so bulwark loads them with
// their 1.x meaning — a regex applied to each request/status line and each
// header line — and a warning that prints the modern equivalent.
#include "controlplane/parse_ctx.hpp"
#include "proxy/registry_types.hpp"
#include "rules/regex.hpp"

#include <fmt/format.h>

namespace bulwark::controlplane {

namespace {

struct legacy_kind {
    bool request;     // req* or rsp*
    bool icase;       // the 'i' variants
    std::string action;
};

legacy_kind classify(std::string_view kw)
{
    legacy_kind k;
    k.request = kw.starts_with("req");
    std::string_view rest = kw.substr(3);
    k.icase = rest.starts_with("i");
    if (k.icase)
        rest.remove_prefix(1);
    k.action = std::string(rest);
    return k;
}

std::string quote(std::string_view w)
{
    bool plain = !w.empty() && w.find_first_of(" \t#'\"\\{}") == std::string_view::npos;
    if (plain)
        return std::string(w);
    // single quotes keep everything literal; a single quote itself is closed,
    // escaped and reopened.
    std::string q = "'";
    for (char ch : w)
        q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
}

// "^Name: ..." or "^(Name: ...)": the header name the regex is anchored on.
struct header_split {
    std::string name;
    bool grouped = false;    // the name sits inside group 1
    std::string value_re;    // what follows "Name:", leading blanks dropped
};

std::optional<header_split> split_header(std::string_view re)
{
    if (!re.starts_with("^"))
        return std::nullopt;
    re.remove_prefix(1);
    header_split h;
    if (re.starts_with("(")) {
        h.grouped = true;
        re.remove_prefix(1);
    }
    std::size_t n = 0;
    while (n < re.size() && (std::isalnum(static_cast<unsigned char>(re[n])) || re[n] == '-' || re[n] == '_'))
        ++n;
    if (n == 0 || n >= re.size() || re[n] != ':')
        return std::nullopt;
    h.name = std::string(re.substr(0, n));
    std::string_view v = re.substr(n + 1);
    for (bool again = true; again;) {
        again = false;
        for (std::string_view blank : {"\\s*", "\\s+", " *", " +", " "})
            if (v.starts_with(blank)) {
                v.remove_prefix(blank.size());
                again = true;
            }
    }
    h.value_re = std::string(v);
    return h;
}

std::string cond_text(std::span<const std::string> w, std::size_t at)
{
    std::string s;
    for (std::size_t i = at + 1; i < w.size(); ++i)
        s += " " + w[i];
    return s;
}

// The modern line for one legacy directive, as precise as the regex allows.
std::string modern_equivalent(const legacy_kind& k, std::span<const std::string> words, std::size_t cond_at)
{
    const std::string& re = words[1];
    std::string fam = k.request ? "http-request" : "http-response";
    std::string hdr_fetch = k.request ? "req.hdr" : "res.hdr";
    std::string flags = k.icase ? "-i " : "";
    std::string extra;
    if (cond_at < words.size())
        extra = words[cond_at] == "if" ? " if" + cond_text(words, cond_at)
                                       : fmt::format(" (and '{}{}')", words[cond_at], cond_text(words, cond_at));
    auto h = split_header(re);
    bool whole_line = h && h->grouped && (h->value_re == ".*)" || h->value_re == ".*)$");

    std::string action = k.action == "pass" ? "allow" : k.action;
    if (action == "deny" || action == "allow" || action == "tarpit") {
        if (h && !h->grouped)
            return fmt::format("{} {} if {{ {}({}) -m reg {}{} }}{}", fam, action, hdr_fetch, h->name, flags,
                               quote("^" + h->value_re), extra);
        return fmt::format("{} {} if {{ {} -m reg {}{} }}{}   (matched over all header lines at once: HAProxy 2.x "
                           "has no per-line fetch)",
                           fam, action, k.request ? "req.hdrs" : "res.hdrs", flags, quote("(?m)" + re), extra);
    }
    if (action == "del") {
        if (h && (h->value_re.empty() || h->value_re == ".*"))
            return fmt::format("{} del-header {}{}", fam, h->name, extra);
        if (h && !h->grouped)
            return fmt::format("{} del-header {} (values matching {} only: no exact equivalent){}", fam, h->name,
                               quote("^" + h->value_re), extra);
        return fmt::format("{} del-header NAME -m reg REGEX{} (no exact one-line equivalent)", fam, extra);
    }
    // rep: the replacement is words[2]
    const std::string& repl = words[2];
    if (whole_line && repl.starts_with("\\1"))
        return fmt::format("{} replace-header {} {} {}{}", fam, h->name, quote("(.*)"), quote(repl), extra);
    if (h && !h->grouped) {
        std::string_view r = repl;
        std::string prefix = h->name + ":";
        if (r.size() >= prefix.size() && strncasecmp(r.data(), prefix.data(), prefix.size()) == 0) {
            r.remove_prefix(prefix.size());
            while (r.starts_with(" "))
                r.remove_prefix(1);
            return fmt::format("{} replace-header {} {} {}{}", fam, h->name, quote("^" + h->value_re), quote(r), extra);
        }
    }
    return fmt::format("{} replace-header NAME REGEX REPLACEMENT{} (the regex spans the header name: no exact one-line "
                       "equivalent; use replace-path/replace-uri for the request line)",
                       fam, extra);
}

std::string meaning(const legacy_kind& k)
{
    std::string lines = k.request ? "the request line and each request header line"
                                  : "the status line and each response header line";
    if (k.action == "deny")
        return fmt::format("a {} whose {} line or any header line matches the regex gets {}",
                           k.request ? "request" : "response", k.request ? "request" : "status",
                           k.request ? "403" : "502");
    if (k.action == "allow" || k.action == "pass")
        return fmt::format("{} matching the regex stop the {}-rule processing", lines, k.request ? "request" : "response");
    if (k.action == "tarpit")
        return "requests matching the regex are held, then get 500";
    if (k.action == "del")
        return fmt::format("header lines matching the regex are removed");
    return fmt::format("the regex rewrites {} it matches", lines);
}

} // namespace

void parse_legacy(parse_ctx& c)
{
    const std::string kw = c.words[0];
    legacy_kind k = classify(kw);
    bool rep = k.action == "rep";
    if (!k.request && (k.action == "allow" || k.action == "pass" || k.action == "tarpit"))
        return c.alert("unknown legacy directive");
    std::size_t need = rep ? 2 : 1;
    std::size_t cond_at = find_condition(c.words, 1 + need);
    if (!rep && c.words.size() > 2 && cond_at > 2) {
        // "^Location: http://..." : in 1.x a blank in the regex had to be
        // written '\ '. Articles printed without their backslashes lose it;
        // read the words up to if/unless as one regex, and say so.
        std::string joined = c.words[1];
        for (std::size_t i = 2; i < cond_at; ++i)
            joined += " " + c.words[i];
        std::string escaped = c.words[1];
        for (std::size_t i = 2; i < cond_at; ++i)
            escaped += "\\ " + c.words[i];
        c.warn(fmt::format("the regex is followed by '{}' where 'if' or 'unless' was expected: read as one regex "
                           "'{}' with its blank (write it '{}': in HAProxy 1.x a blank inside a regex had to be escaped)",
                           c.words[2], joined, escaped));
        c.words.erase(c.words.begin() + 2, c.words.begin() + static_cast<long>(cond_at));
        c.words[1] = joined;
        cond_at = 2;
    }
    if (c.words.size() < 1 + need || cond_at != 1 + need) {
        if (c.words.size() >= 1 + need && cond_at != 1 + need)
            return c.alert(fmt::format("unexpected '{}' after the {}, expected 'if' or 'unless' (a blank inside the "
                                       "regex must be escaped as '\\ ')",
                                       c.words[1 + need], rep ? "replacement" : "regex"));
        return c.alert(fmt::format("missing argument, expected '{} REGEX{} [if|unless CONDITION]'", kw,
                                   rep ? " REPLACEMENT" : ""));
    }
    const std::string& re = c.words[1];
    if (auto e = rules::check_regex(re, k.icase); !e.empty())
        return c.alert(e);
    if (rep) {
        int groups = rules::capture_count(re);
        if (int ref = rules::max_backref(c.words[2]); ref > groups)
            return c.alert(fmt::format("replacement '{}' refers to \\{} but the regex has {} group{}", c.words[2], ref,
                                       groups, groups == 1 ? "" : "s"));
    }
    rule r{c.here(), kw, k.action, {c.words.begin() + 1, c.words.begin() + 1 + static_cast<long>(need)}, std::nullopt};
    if (cond_at < c.words.size()) {
        condition cond;
        if (!parse_condition(c, std::span(c.words).subspan(cond_at), cond))
            return;
        r.cond = std::move(cond);
    }
    c.warn(fmt::format("removed from HAProxy in 2.1; loaded with its 1.x meaning ({}); modern equivalent: {}",
                       meaning(k), modern_equivalent(k, c.words, cond_at)));
    if (rules::looks_unescaped(re))
        c.warn(fmt::format("regex '{}' looks like its backslashes were lost ('s*' for '\\s*', '(s*)' for "
                           "'\\(\\s*\\)'?); it is loaded as written",
                           re));
    c.px->rules.push_back(std::move(r));
}

} // namespace bulwark::controlplane
