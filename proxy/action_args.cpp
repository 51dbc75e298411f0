// SPDX-License-Identifier: Apache-2.0
// How each http-request / http-response action's arguments compile into
// its rule: the compile functions of the rows in http_actions.cpp. They are
// the only reader of an action's arguments: the config checker runs them
// for their messages (check_action, registry.cpp) and compile_rules for the
// rule, so a message and a built rule never disagree.
#include "proxy/http_actions.hpp"

#include "common/units.hpp"
#include "proxy/registry.hpp"
#include "rules/regex.hpp"

#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

namespace bulwark::proxy::actions {

using sv = std::string_view;

namespace {

result<std::string> read_file(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return fail(fmt::format("cannot read '{}'", path));
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// An HTTP status a rule may answer with: 200 to 599.
result<int> parse_status(std::string_view word, std::string_view what)
{
    auto s = parse_int(word, 200, 599);
    if (!s)
        return fail(fmt::format("invalid {} '{}', expected an HTTP status 200 to 599", what, word));
    return static_cast<int>(*s);
}

// deny / tarpit / return arguments: the status and, when a body or headers
// are given, the whole reply.
// [deny_status N] [status N] [content-type T] [string S|file F|errorfile F|...] [hdr N V]
bool is_reply_word(std::string_view w)
{
    return w == "deny_status" || w == "status" || w == "content-type" || w == "string" || w == "lf-string" ||
           w == "file" || w == "lf-file" || w == "errorfile" || w == "errorfiles" || w == "hdr";
}

result<bool> parse_reply(http_rule& r, const std::vector<std::string>& a, int default_status, bool build_always)
{
    r.status = default_status;
    std::string ctype, body, hdrs, errorfile;
    bool have_body = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string& w = a[i];
        const std::size_t need = w == "hdr" ? 2 : w == "default-errorfiles" ? 0 : 1;
        if (i + need >= a.size() && need > 0 && is_reply_word(w))
            return fail(fmt::format("'{}' expects {} argument{}", w, need, need > 1 ? "s" : ""));
        if (w == "deny_status" || w == "status") {
            auto st = parse_status(a[++i], w);
            if (!st)
                return fail(st.message());
            r.status = *st;
        } else if (w == "content-type") {
            ctype = a[++i];
        } else if (w == "string" || w == "lf-string") {
            body = a[++i];
            have_body = true;
        } else if (w == "file" || w == "lf-file") {
            auto f = read_file(a[++i]);
            if (!f)
                return fail(f.message());
            body = std::move(*f);
            have_body = true;
        } else if (w == "errorfile") {
            auto f = read_file(a[++i]);
            if (!f)
                return fail(f.message());
            errorfile = std::move(*f);
        } else if (w == "hdr") {
            hdrs += fmt::format("{}: {}\r\n", a[i + 1], a[i + 2]);
            i += 2;
        } else if (w == "errorfiles") {
            ++i; // an http-errors section: not built, the proxy's error pages answer
        } else if (w != "default-errorfiles") {
            return fail(fmt::format("unexpected '{}', expected one of 'deny_status', 'status', 'content-type', "
                                    "'string', 'lf-string', 'file', 'lf-file', 'errorfile', 'errorfiles', 'hdr', "
                                    "'default-errorfiles'",
                                    w));
        }
    }
    if (!errorfile.empty()) {
        r.response = std::move(errorfile);
        return true;
    }
    if (have_body && ctype.empty())
        return fail("a body ('string' or 'file') needs a 'content-type'");
    if (!have_body && hdrs.empty() && !build_always)
        return true; // the proxy's error page for the status
    r.response = fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason_of(r.status));
    if (have_body)
        r.response += fmt::format("content-type: {}\r\n", ctype);
    r.response += hdrs;
    r.response += fmt::format("content-length: {}\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n", body.size());
    r.response += body;
    return true;
}

// redirect location|prefix|scheme TARGET [code N] [drop-query] [append-slash]
//          [set-cookie NAME=V] [clear-cookie NAME=] [ignore-empty]
result<bool> parse_redirect(http_rule& r, const std::vector<std::string>& a, std::vector<std::string>* notes)
{
    if (a[0] != "location" && a[0] != "prefix" && a[0] != "scheme")
        return fail(fmt::format("unknown redirect type '{}', expected one of 'location', 'prefix', 'scheme'", a[0]));
    r.rtype = a[0] == "prefix" ? http_rule::redir::prefix
              : a[0] == "scheme" ? http_rule::redir::scheme
                                 : http_rule::redir::location;
    for (std::size_t i = 2; i < a.size(); ++i) {
        const std::string& w = a[i];
        if (w == "code") {
            if (i + 1 >= a.size())
                return fail("'code' expects a status 301, 302, 303, 307 or 308");
            const std::string& c = a[++i];
            if (c != "301" && c != "302" && c != "303" && c != "307" && c != "308")
                return fail(fmt::format("invalid redirect code '{}', expected 301, 302, 303, 307 or 308", c));
            r.code = static_cast<int>(*parse_int(c, 301, 308));
        } else if (w == "set-cookie" || w == "clear-cookie") {
            if (i + 1 >= a.size())
                return fail(fmt::format("'{}' expects a cookie", w));
            r.cookie_header = w == "set-cookie"
                                  ? fmt::format("set-cookie: {}; path=/\r\n", a[++i])
                                  : fmt::format("set-cookie: {}; path=/; Max-Age=0; "
                                                "Expires=Thu, 01-Jan-1970 00:00:01 GMT\r\n",
                                                a[++i]);
        } else if (w == "drop-query") {
            r.drop_query = true;
        } else if (w == "append-slash") {
            r.append_slash = true;
        } else if (w != "ignore-empty") {
            return fail(fmt::format("unexpected '{}', expected one of 'code', 'drop-query', 'append-slash', "
                                    "'set-cookie', 'clear-cookie', 'ignore-empty'",
                                    w));
        }
    }
    auto lf = parse_log_format(a[1], notes, r.at);
    if (!lf)
        return fail(lf.message());
    r.value = std::move(*lf);
    return true;
}

// A regex and a replacement that may refer only to groups the regex has.
result<bool> parse_regex_replacement(http_rule& r, const std::string& pattern, const std::string& repl)
{
    if (auto e = rules::check_regex(pattern, false); !e.empty())
        return fail(e);
    int groups = rules::capture_count(pattern);
    if (int ref = rules::max_backref(repl); ref > groups)
        return fail(fmt::format("replacement '{}' refers to \\{} but regex '{}' has {} group{}", repl, ref, pattern,
                                groups, groups == 1 ? "" : "s"));
    auto re = rules::regex::compile(pattern, false);
    if (!re)
        return fail(re.message());
    r.re = std::move(*re);
    r.repl = repl;
    return true;
}

// wait-for-body time TIME [at-least SIZE]
result<bool> parse_wait(http_rule& r, const std::vector<std::string>& a)
{
    for (std::size_t i = 0; i + 1 < a.size(); i += 2) {
        if (a[i] == "time") {
            auto t = parse_time(a[i + 1]);
            if (!t)
                return fail(t.message());
            r.wait = *t;
        } else if (a[i] == "at-least") {
            auto n = parse_size(a[i + 1]);
            if (!n)
                return fail(n.message());
            r.at_least = *n;
        } else {
            return fail(fmt::format("unexpected '{}', expected 'time' or 'at-least'", a[i]));
        }
    }
    if (r.wait.count() == 0)
        return fail("'wait-for-body' expects 'time TIME'");
    return true;
}

} // namespace

result<bool> compile_nothing(http_rule&, const std::vector<std::string>&, const compile_env&) { return true; }

result<bool> compile_deny(http_rule& r, const std::vector<std::string>& a, const compile_env& env)
{
    return parse_reply(r, a, env.response ? 502 : 403, false);
}

result<bool> compile_tarpit(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    return parse_reply(r, a, 500, false);
}

result<bool> compile_return(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    return parse_reply(r, a, 200, true);
}

result<bool> compile_redirect(http_rule& r, const std::vector<std::string>& a, const compile_env& env)
{
    return parse_redirect(r, a, env.notes);
}

// set-header / add-header NAME FMT
result<bool> compile_header_value(http_rule& r, const std::vector<std::string>& a, const compile_env& env)
{
    // reqadd ":x" and set-header "" x would send a field without a name
    if (!field_name_ok(a[0]))
        return fail(fmt::format("invalid header name '{}'", a[0]));
    r.name = a[0];
    auto v = parse_log_format(a[1], env.notes, r.at);
    if (!v)
        return fail(v.message());
    r.value = std::move(*v);
    return true;
}

// del-header NAME [-m str|beg|end|sub|reg]
result<bool> compile_del_header(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    r.name = a[0];
    if (a.size() == 1)
        return true;
    if (a.size() != 3 || a[1] != "-m")
        return fail("expected 'del-header NAME [-m str|beg|end|sub|reg]'");
    static const std::map<sv, match_kind> modes{{"str", match_kind::str}, {"beg", match_kind::beg},
                                                {"end", match_kind::end}, {"sub", match_kind::sub},
                                                {"reg", match_kind::reg}};
    auto m = modes.find(a[2]);
    if (m == modes.end())
        return fail(fmt::format("unknown match method '{}', expected one of 'str', 'beg', 'end', 'sub', 'reg'", a[2]));
    r.del_mode = m->second;
    if (r.del_mode == match_kind::reg) {
        auto re = rules::regex::compile(a[0], true);
        if (!re)
            return fail(re.message());
        r.re = std::move(*re);
    }
    return true;
}

// replace-header / replace-value NAME REGEX REPLACEMENT
result<bool> compile_replace_header(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    r.name = a[0];
    return parse_regex_replacement(r, a[1], a[2]);
}

// replace-path / replace-uri REGEX REPLACEMENT
result<bool> compile_replace_target(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    return parse_regex_replacement(r, a[0], a[1]);
}

// set-path / set-query / set-uri / set-method FMT
result<bool> compile_value(http_rule& r, const std::vector<std::string>& a, const compile_env& env)
{
    auto v = parse_log_format(a[0], env.notes, r.at);
    if (!v)
        return fail(v.message());
    r.value = std::move(*v);
    return true;
}

// set-status STATUS [reason TEXT]
result<bool> compile_set_status(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    auto st = parse_status(a[0], "status");
    if (!st)
        return fail(st.message());
    if (a.size() != 1 && !(a.size() == 3 && a[1] == "reason"))
        return fail("expected 'set-status STATUS [reason TEXT]'");
    r.status = *st;
    if (a.size() == 3)
        r.reason = a[2];
    return true;
}

result<bool> compile_wait(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    return parse_wait(r, a);
}

// capture SAMPLE len N: a new slot after the 'capture request header' ones
// (placed by compile_rules); 'id N' needs 'declare capture', not built.
result<bool> compile_capture(http_rule& r, const std::vector<std::string>& a, const compile_env& env)
{
    if (a.size() != 3 || (a[1] != "len" && a[1] != "id"))
        return fail("expected 'capture SAMPLE len LENGTH' or 'capture SAMPLE id ID'");
    auto n = parse_int(a[2], a[1] == "len" ? 1 : 0, 65535);
    if (!n)
        return fail(fmt::format("invalid {} '{}': {}", a[1], a[2], n.message()));
    if (a[1] != "len") {
        if (env.notes)
            env.notes->push_back(fmt::format("{}: 'http-request capture ... id' is not built yet (it needs "
                                             "'declare capture'): the rule is passed over",
                                             r.at));
        return false;
    }
    auto e = parse_sample_text(a[0]);
    if (!e)
        return fail(e.message());
    auto ce = compile_expr(*e);
    if (!ce)
        return fail(ce.message());
    r.value.parts.push_back({{}, std::move(*ce)});
    r.status = static_cast<int>(*n);
    return true;
}

result<bool> compile_track_args(http_rule& r, const std::vector<std::string>& a, int n)
{
    if (a.size() != 1 && (a.size() != 3 || a[1] != "table"))
        return fail(fmt::format("expected 'track-sc{} KEY [table TABLE]'", n));
    auto e = parse_sample_text(a[0]);
    if (!e)
        return fail(e.message());
    auto ce = compile_expr(*e);
    if (!ce)
        return fail(ce.message());
    r.value.parts.push_back({{}, std::move(*ce)});
    r.track = n;
    if (a.size() == 3)
        r.name = a[2];
    return true;
}

result<bool> compile_shield_block_args(http_rule& r, const std::vector<std::string>& a)
{
    r.shield_block = true;
    r.block_ttl = shield_block_default;
    if (a.empty())
        return true;
    if (a.size() != 1)
        return fail("expected 'shield-block [TIME]'");
    auto t = parse_time(a[0]);
    if (!t)
        return fail(fmt::format("invalid time '{}': {}", a[0], t.message()));
    // HAProxy's times are in milliseconds without a unit: "60" is 60 ms
    if (*t < std::chrono::seconds(1) || *t > shield_block_max)
        return fail(fmt::format("time '{}' is out of range, expected 1s to 24h (a number without a unit is in "
                                "milliseconds)",
                                a[0]));
    r.block_ttl = std::chrono::duration_cast<std::chrono::seconds>(*t);
    return true;
}

result<bool> compile_shield_block(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    r.status = 403;
    return compile_shield_block_args(r, a);
}

template <int N>
result<bool> compile_track(http_rule& r, const std::vector<std::string>& a, const compile_env&)
{
    return compile_track_args(r, a, N);
}
template result<bool> compile_track<0>(http_rule&, const std::vector<std::string>&, const compile_env&);
template result<bool> compile_track<1>(http_rule&, const std::vector<std::string>&, const compile_env&);
template result<bool> compile_track<2>(http_rule&, const std::vector<std::string>&, const compile_env&);

} // namespace bulwark::proxy::actions

namespace bulwark::proxy {

std::string check_action(const action_kw& a, std::span<const std::string> args)
{
    if (a.check)
        return a.check(args);
    const bool response = a.family == "http-response";
    if (a.family.starts_with("tcp-request") && a.name.starts_with("track-sc")) {
        http_rule scratch;
        std::vector<std::string> words(args.begin(), args.end());
        auto ok = actions::compile_track_args(scratch, words, a.name.back() - '0');
        return ok ? std::string() : ok.message();
    }
    if (a.family.starts_with("tcp-request") && a.name == "shield-block") {
        http_rule scratch;
        auto ok = actions::compile_shield_block_args(scratch, std::vector<std::string>(args.begin(), args.end()));
        return ok ? std::string() : ok.message();
    }
    if (a.family != "http-request" && !response)
        return {};
    const actions::row* row = actions::find(a.name);
    if (!row || !row->runs_in(response) || !row->compile)
        return {};
    http_rule scratch;
    std::vector<std::string> words(args.begin(), args.end());
    auto ok = row->compile(scratch, words, actions::compile_env{response, nullptr});
    return ok ? std::string() : ok.message();
}

} // namespace bulwark::proxy
