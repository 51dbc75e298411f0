// SPDX-License-Identifier: Apache-2.0
// ACL definitions and if/unless conditions, checked against the proxy's
// fetch, converter and matcher registries.
#include "controlplane/parse_ctx.hpp"
#include "proxy/registry.hpp"
#include "rules/regex.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace bulwark::controlplane {

std::size_t find_condition(std::span<const std::string> words, std::size_t from)
{
    for (std::size_t i = from; i < words.size(); ++i)
        if (words[i] == "if" || words[i] == "unless")
            return i;
    return words.size();
}

namespace {

// "name(a,b)" at s[pos...]: fills name and args, advances pos. Arguments may
// not contain ')' or ',' (HAProxy's own limit without quoting).
bool take_call(std::string_view s, std::size_t& pos, std::string& name, std::vector<std::string>& args,
               std::string& err)
{
    std::size_t start = pos;
    while (pos < s.size() && s[pos] != '(' && s[pos] != ',')
        ++pos;
    name = std::string(s.substr(start, pos - start));
    if (name.empty()) {
        err = fmt::format("empty name in expression '{}'", s);
        return false;
    }
    if (pos < s.size() && s[pos] == '(') {
        auto close = s.find(')', pos);
        if (close == std::string_view::npos) {
            err = fmt::format("missing ')' in expression '{}'", s);
            return false;
        }
        std::string_view inner = s.substr(pos + 1, close - pos - 1);
        if (!inner.empty())
            for (auto a : split(inner, ','))
                args.emplace_back(a);
        pos = close + 1;
        if (pos < s.size() && s[pos] != ',') {
            err = fmt::format("unexpected '{}' after ')' in expression '{}'", s.substr(pos), s);
            return false;
        }
    }
    return true;
}

std::vector<std::string_view> fetch_names()
{
    // plain names and the ACL derivatives (url_sub, hdr_beg, ...) alike
    static const std::vector<std::string> all = [] {
        std::vector<std::string> v;
        for (const auto& f : bulwark::proxy::fetch_keywords()) {
            v.emplace_back(f.name);
            if (f.derivable)
                for (auto d : {"beg", "dir", "dom", "end", "len", "reg", "sub", "ip"})
                    v.push_back(std::string(f.name) + "_" + d);
        }
        return v;
    }();
    return {all.begin(), all.end()};
}

std::string arg_count(std::uint8_t lo, std::uint8_t hi)
{
    if (lo == hi)
        return lo == 0 ? "no argument" : fmt::format("{} argument{}", lo, lo > 1 ? "s" : "");
    return fmt::format("{} to {} arguments", lo, hi);
}

bool valid_number(std::string_view p, bool decimal)
{
    if (p.empty())
        return false;
    bool dot = false;
    for (std::size_t i = 0; i < p.size(); ++i) {
        char ch = p[i];
        if (ch == '-' && i == 0 && p.size() > 1)
            continue;
        if (ch == '.' && decimal && !dot && i > 0 && i + 1 < p.size()) {
            dot = true;
            continue;
        }
        if (ch < '0' || ch > '9')
            return false;
    }
    return true;
}

// int/len matcher patterns: "N", "N:M", ":M", "N:", or an operator word
// (eq ge gt le lt) applying to the next number.
bool check_int_patterns(parse_ctx& c, std::span<const std::string> pats, bool decimal)
{
    for (std::size_t i = 0; i < pats.size(); ++i) {
        const std::string& p = pats[i];
        if (p == "eq" || p == "ge" || p == "gt" || p == "le" || p == "lt") {
            if (i + 1 >= pats.size() || !valid_number(pats[i + 1], decimal)) {
                c.alert(fmt::format("'{}' expects a number after it", p));
                return false;
            }
            ++i;
            continue;
        }
        auto colon = p.find(':');
        bool ok = colon == std::string::npos
                      ? valid_number(p, decimal)
                      : (colon == 0 || valid_number(std::string_view(p).substr(0, colon), decimal)) &&
                            (colon + 1 == p.size() || valid_number(std::string_view(p).substr(colon + 1), decimal)) &&
                            p.size() > 1;
        if (!ok) {
            c.alert(fmt::format("invalid {} pattern '{}', expected N, N:M, or eq|ge|gt|le|lt N",
                                decimal ? "number" : "integer", p));
            return false;
        }
    }
    return true;
}

// The sample expression "fetch(args),conv(args)...": fills def.expr and
// fname (the fetch as written), returns the fetch, or nullopt (alerted).
std::optional<bulwark::proxy::fetch_lookup> parse_acl_expr(parse_ctx& c, std::string_view expr, acl_def& def,
                                                           std::string& fname)
{
    std::size_t pos = 0;
    std::string err;
    if (!take_call(expr, pos, fname, def.expr.args, err)) {
        c.alert(err);
        return std::nullopt;
    }
    auto found = bulwark::proxy::find_fetch(fname);
    if (!found) {
        auto best = closest(fname, fetch_names());
        c.alert(fmt::format("unknown fetch '{}'{}", fname,
                            best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best)));
        return std::nullopt;
    }
    const bulwark::proxy::fetch_kw& f = *found->fetch;
    def.expr.fetch = std::string(f.name);
    if (def.expr.args.size() < f.min_args || def.expr.args.size() > f.max_args) {
        c.alert(fmt::format("fetch '{}' takes {}, found {}", fname, arg_count(f.min_args, f.max_args),
                            def.expr.args.size()));
        return std::nullopt;
    }
    while (pos < expr.size()) { // ",conv(args)"
        ++pos;
        sample_expr::conv cv;
        if (!take_call(expr, pos, cv.name, cv.args, err)) {
            c.alert(err);
            return std::nullopt;
        }
        const bulwark::proxy::conv_kw* k = bulwark::proxy::find_converter(cv.name);
        if (!k) {
            std::vector<std::string_view> names;
            for (const auto& row : bulwark::proxy::converter_keywords())
                names.push_back(row.name);
            c.alert(fmt::format("unknown converter '{}', {}", cv.name, expected_one_of(cv.name, names)));
            return std::nullopt;
        }
        if (cv.args.size() < k->min_args || cv.args.size() > k->max_args) {
            c.alert(fmt::format("converter '{}' takes {}, found {}", cv.name, arg_count(k->min_args, k->max_args),
                                cv.args.size()));
            return std::nullopt;
        }
        if (cv.name == "regsub")
            if (auto e = rules::check_regex(cv.args[0], false); !e.empty()) {
                c.alert(fmt::format("converter 'regsub': {}", e));
                return std::nullopt;
            }
        def.expr.convs.push_back(std::move(cv));
    }
    return found;
}

// The flags after the expression (words[1...]): -i, -n, -m METHOD, -f FILE,
// -M/-u (read, unused), "--". Sets def.icase, def.pattern_files and matcher
// (when -m is given); returns the index of the first pattern, or 0 on error
// (alerted).
std::size_t parse_acl_flags(parse_ctx& c, std::span<const std::string> words, std::string_view fname,
                            const bulwark::proxy::fetch_lookup& found, acl_def& def, std::string& matcher)
{
    std::size_t i = 1;
    for (; i < words.size() && words[i].size() > 1 && words[i][0] == '-'; ++i) {
        const std::string& fl = words[i];
        if (fl == "--") {
            ++i;
            break;
        }
        if (fl == "-i") {
            def.icase = true;
        } else if (fl == "-n") {
        } else if (fl == "-m" || fl == "-f" || fl == "-M" || fl == "-u") {
            if (i + 1 >= words.size()) {
                c.alert(fmt::format("'{}' expects an argument", fl));
                return 0;
            }
            const std::string& v = words[++i];
            if (fl == "-m") {
                if (!found.implied_matcher.empty()) {
                    c.alert(fmt::format("'{}' already sets the match method '{}': remove '-m {}' or use '{}'",
                                        fname, found.implied_matcher, v, found.fetch->name));
                    return 0;
                }
                if (!bulwark::proxy::find_matcher(v)) {
                    std::vector<std::string_view> names;
                    for (const auto& m : bulwark::proxy::matcher_keywords())
                        names.push_back(m.name);
                    c.alert(fmt::format("unknown match method '{}', {}", v, expected_one_of(v, names)));
                    return 0;
                }
                matcher = v;
            } else if (fl == "-f") {
                std::string path = c.resolve(v);
                struct stat sb{};
                if (stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
                    c.alert(fmt::format("unable to load patterns from '{}': no such file", path));
                    return 0;
                }
                def.pattern_files.push_back(path);
            }
        } else {
            c.alert(fmt::format("unknown flag '{}', expected one of '-i', '-m', '-f', '-n', '-M', '-u', '--'", fl));
            return 0;
        }
    }
    return i;
}

// The patterns of def against its matcher: numbers, networks, regexes, hex.
// False on a bad one (alerted); warns when they can have no effect.
bool check_acl_patterns(parse_ctx& c, std::string_view expr, const bulwark::proxy::fetch_kw& f, const acl_def& def)
{
    const std::string& matcher = def.matcher;
    const bulwark::proxy::matcher_kw* m = bulwark::proxy::find_matcher(matcher);
    if (!m->takes_patterns) {
        if (!def.patterns.empty())
            c.warn(fmt::format("'{}' matching ignores patterns: '{}' has no effect (HAProxy behaves the same)", matcher,
                               def.patterns[0]));
        return true;
    }
    if (def.patterns.empty() && def.pattern_files.empty()) {
        c.warn(fmt::format("no pattern given for '{}' with '-m {}': it never matches", expr, matcher));
        return true;
    }
    if (matcher == "int" || matcher == "len")
        return check_int_patterns(c, def.patterns, matcher == "int" && f.out == bulwark::proxy::smp_type::decimal);
    if (matcher == "ip") {
        for (const auto& p : def.patterns)
            if (auto n = parse_cidr(p); !n) {
                c.alert(n.message());
                return false;
            }
    }
    if (matcher == "reg") {
        for (const auto& p : def.patterns) {
            if (auto e = rules::check_regex(p, def.icase); !e.empty()) {
                c.alert(e);
                return false;
            }
            if (rules::looks_unescaped(p))
                c.warn(fmt::format("regex '{}' looks like its backslashes were lost ('s*' for '\\s*'?)", p));
        }
    }
    if (matcher == "bin") {
        for (const auto& p : def.patterns)
            if (p.size() % 2 || p.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
                c.alert(fmt::format("invalid binary pattern '{}', expected an even number of hex digits", p));
                return false;
            }
    }
    return true;
}

} // namespace

bool parse_acl_body(parse_ctx& c, std::span<const std::string> words, acl_def& def)
{
    if (words.empty()) {
        c.alert("missing fetch, expected 'FETCH [flags] [PATTERN...]'");
        return false;
    }
    std::string fname;
    auto found = parse_acl_expr(c, words[0], def, fname);
    if (!found)
        return false;
    std::string matcher(found->implied_matcher);
    std::size_t i = parse_acl_flags(c, words, fname, *found, def, matcher);
    if (i == 0)
        return false;
    if (matcher.empty())
        matcher = std::string(bulwark::proxy::default_matcher(found->fetch->out));
    def.matcher = matcher;
    def.patterns.assign(words.begin() + static_cast<long>(i), words.end());
    return check_acl_patterns(c, words[0], *found->fetch, def);
}

bool parse_condition(parse_ctx& c, std::span<const std::string> words, condition& out)
{
    out.unless = words[0] == "unless";
    out.any_of.assign(1, {});
    if (words.size() == 1) {
        c.alert(fmt::format("missing condition after '{}'", words[0]));
        return false;
    }
    bool negate = false;
    for (std::size_t i = 1; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (w == "||" || w == "or") {
            if (out.any_of.back().empty() || negate) {
                c.alert(fmt::format("'{}' needs a condition on each side", w));
                return false;
            }
            out.any_of.emplace_back();
            continue;
        }
        if (w == "!") {
            negate = !negate;
            continue;
        }
        condition::term t;
        if (w.starts_with("!")) {
            negate = !negate;
            w.remove_prefix(1);
        }
        t.negate = negate;
        negate = false;
        if (w == "{") {
            std::size_t close = i + 1;
            while (close < words.size() && words[close] != "}")
                ++close;
            if (close == words.size()) {
                c.alert("missing '}' closing the anonymous ACL (braces need spaces around them)");
                return false;
            }
            acl_def def;
            def.at = c.here();
            if (!parse_acl_body(c, words.subspan(i + 1, close - i - 1), def))
                return false;
            c.px->acls.push_back(std::move(def));
            t.anon = static_cast<int>(c.px->acls.size()) - 1;
            i = close;
        } else if (w == "}") {
            c.alert("'}' without a '{'");
            return false;
        } else if (w.starts_with("{") || w.ends_with("}")) {
            c.alert(fmt::format("'{}': braces of an anonymous ACL must stand alone, with spaces around them", w));
            return false;
        } else {
            bool known = false;
            std::vector<std::string_view> names;
            for (const auto& a : c.px->acls)
                if (!a.name.empty()) {
                    known = known || a.name == w;
                    names.push_back(a.name);
                }
            for (auto p : bulwark::proxy::predefined_acls()) {
                known = known || p == w;
                names.push_back(p);
            }
            if (!known) {
                auto best = closest(w, names);
                c.alert(fmt::format("no such ACL '{}'{}", w,
                                    best.empty() ? std::string(" (ACLs must be declared before they are used)")
                                                 : fmt::format(" (did you mean '{}'?)", best)));
                return false;
            }
            t.acl = std::string(w);
        }
        out.any_of.back().push_back(std::move(t));
    }
    if (out.any_of.back().empty() || negate) {
        c.alert(fmt::format("condition ends with '{}'", words.back()));
        return false;
    }
    return true;
}

} // namespace bulwark::controlplane
