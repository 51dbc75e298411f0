// SPDX-License-Identifier: Apache-2.0
// The actions of http-request / http-response rules and the 1.x filters,
// HAProxy's semantics (src/http_act.c, src/http_ana.c; 1.x
// apply_filters_to_request): per action its run functions (its compile
// function is in action_args.cpp), then one row per action.
#include "proxy/http_actions.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <strings.h>

namespace bulwark::proxy::actions {

namespace http = boost::beast::http;
using sv = std::string_view;

namespace {

bool iequals(sv a, sv b) { return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0; }

boost::beast::string_view bsv(sv s) { return {s.data(), s.size()}; }

// ---- editing a message -------------------------------------------------------------


using field_list = std::vector<std::pair<std::string, std::string>>;

// h's fields become `all`, in order.
template <bool isRequest>
bool replace_fields(http::header<isRequest, fields_type>& h, const field_list& all)
{
    h.clear();
    for (const auto& [n, v] : all)
        h.insert(n, v);
    return true;
}

// Rewrites every field of `h` whose name matches: f(value, out) gives the
// new value (return false to keep it). Order and other fields are kept.
template <bool isRequest, class F>
bool rewrite_values(http::header<isRequest, fields_type>& h, sv name, F&& f)
{
    field_list all;
    bool changed = false;
    std::string out;
    for (const auto& field : h) {
        sv n(field.name_string().data(), field.name_string().size());
        sv v(field.value().data(), field.value().size());
        if (iequals(n, name) && f(v, out)) {
            all.emplace_back(n, out);
            changed = true;
        } else {
            all.emplace_back(n, v);
        }
    }
    return changed && replace_fields(h, all);
}

// Every header line "Name: value" through f(line, out) -> keep, replace or
// drop. Returns true when something changed.
enum class line_fate { keep, replace, drop };
template <bool isRequest, class F>
bool rewrite_lines(http::header<isRequest, fields_type>& h, F&& f)
{
    field_list all;
    bool changed = false;
    std::string line, out;
    for (const auto& field : h) {
        sv n(field.name_string().data(), field.name_string().size());
        sv v(field.value().data(), field.value().size());
        line.assign(n);
        line += ": ";
        line.append(v);
        switch (f(line, out)) {
        case line_fate::keep:
            all.emplace_back(n, v);
            break;
        case line_fate::drop:
            changed = true;
            break;
        case line_fate::replace: {
            changed = true;
            auto colon = out.find(':');
            if (colon == std::string::npos || colon == 0)
                break; // no longer a header line: dropped, as 1.x did not re-parse it either
            sv value = sv(out).substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
            all.emplace_back(out.substr(0, colon), value);
            break;
        }
        }
    }
    return changed && replace_fields(h, all);
}

bool del_matches(const http_rule& r, sv name)
{
    switch (r.del_mode) {
    case match_kind::beg:
        return name.size() >= r.name.size() && iequals(name.substr(0, r.name.size()), r.name);
    case match_kind::end:
        return name.size() >= r.name.size() && iequals(name.substr(name.size() - r.name.size()), r.name);
    case match_kind::sub: {
        auto it = std::search(name.begin(), name.end(), r.name.begin(), r.name.end(),
                              [](char a, char b) { return std::tolower(a) == std::tolower(b); });
        return it != name.end() || r.name.empty();
    }
    case match_kind::reg: // a regex that gave up deletes nothing
        return r.re->match(name) == rules::match_rc::yes;
    default:
        return iequals(name, r.name);
    }
}

template <bool isRequest>
void del_header(http::header<isRequest, fields_type>& h, const http_rule& r)
{
    if (r.del_mode == match_kind::str) {
        h.erase(r.name);
        return;
    }
    for (auto it = h.begin(); it != h.end();) {
        if (del_matches(r, sv(it->name_string().data(), it->name_string().size())))
            it = h.erase(it);
        else
            ++it;
    }
}

// replace-value: the regex on each comma-separated value (`err` set when
// it gave up on one: that one is kept).
bool replace_each_value(const rules::regex& re, sv repl, sv v, std::string& out, bool& err)
{
    out.clear();
    bool changed = false;
    std::string piece;
    while (true) {
        auto comma = v.find(',');
        sv one = v.substr(0, comma);
        std::size_t lead = 0;
        while (lead < one.size() && one[lead] == ' ')
            ++lead;
        out.append(one.substr(0, lead));
        auto rc = re.replace(one.substr(lead), repl, piece);
        if (rc == rules::match_rc::yes) {
            out += piece;
            changed = true;
        } else {
            err = err || rc == rules::match_rc::error;
            out.append(one.substr(lead));
        }
        if (comma == sv::npos)
            break;
        out += ',';
        v.remove_prefix(comma + 1);
    }
    return changed;
}

std::string request_line(const request_header& h)
{
    return fmt::format("{} {} HTTP/{}.{}", sv(h.method_string().data(), h.method_string().size()),
                       sv(h.target().data(), h.target().size()), h.version() / 10, h.version() % 10);
}

// A rewritten request line back into the header; false when it no longer
// parses as one (the rewrite is then refused, as a 400 would be harsher).
bool set_request_line(request_header& h, sv line)
{
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == sv::npos || sp2 == sp1)
        return false;
    sv method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1), ver = line.substr(sp2 + 1);
    if (method.empty() || target.empty() || ver.size() != 8 || !ver.starts_with("HTTP/1."))
        return false;
    h.method_string(bsv(method));
    h.target(bsv(target));
    h.version(ver[7] == '0' ? 10 : 11);
    return true;
}

std::string status_line_of(const response_header& h)
{
    sv reason(h.reason().data(), h.reason().size());
    return fmt::format("HTTP/{}.{} {} {}", h.version() / 10, h.version() % 10, h.result_int(),
                       reason.empty() ? reason_of(static_cast<int>(h.result_int())) : reason);
}

// A rewritten status line back into the header; false (unchanged) when it
// no longer reads as one.
bool set_status_line(response_header& h, sv line)
{
    auto st = parse_status_line(line);
    if (!st)
        return false;
    h.version(line[7] == '0' ? 10 : 11);
    h.result(static_cast<unsigned>(st->code));
    h.reason(bsv(st->reason));
    return true;
}

enum class target_part : std::uint8_t { path, query, uri };

void set_target_part(request_header& h, target_part part, sv value)
{
    sv t(h.target().data(), h.target().size());
    auto q = t.find('?');
    std::string nt;
    if (part == target_part::path)
        nt = std::string(value) + (q == sv::npos ? std::string() : std::string(t.substr(q)));
    else if (part == target_part::query)
        nt = std::string(t.substr(0, q)) + (value.empty() ? std::string() : "?" + std::string(value));
    else
        nt = std::string(value);
    h.target(nt);
}

std::string redirect_response(const http_rule& r, const std::string& target)
{
    std::string resp = fmt::format("HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: {}\r\n{}cache-control: "
                                   "no-cache\r\nconnection: close\r\n\r\n",
                                   r.code, reason_of(r.code), target, r.cookie_header);
    return resp;
}

std::string redirect_target(const http_rule& r, rule_state& st, const request_header& h)
{
    std::string v;
    render(r.value, st.ctx, v);
    sv t(h.target().data(), h.target().size());
    if (r.rtype == http_rule::redir::location)
        return v;
    if (r.rtype == http_rule::redir::scheme) {
        sv host;
        if (auto it = h.find(http::field::host); it != h.end())
            host = sv(it->value().data(), it->value().size());
        std::string path(r.drop_query ? t.substr(0, t.find('?')) : t);
        return fmt::format("{}://{}{}", v, host, path);
    }
    // prefix: the prefix, then the path (and query unless drop-query)
    std::string path(r.drop_query ? t.substr(0, t.find('?')) : t);
    if (r.append_slash && !path.empty() && path.back() != '/' && path.find('?') == std::string::npos)
        path += '/';
    if (v == "/")
        v.clear();
    return v + path;
}

} // namespace

void count(const http_rule& rule, rule_state& st)
{
    if (!st.hits) {
        rule.hits->fetch_add(1, std::memory_order_relaxed);
        return;
    }
    auto& c = st.hits[rule.id]; // this thread's own: a plain add, no lock prefix
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void note_regex_error(const http_rule& rule, bool applied)
{
    auto& told = rule.regex_errors->told_at;
    std::uint64_t n = rule.regex_errors->n.fetch_add(1, std::memory_order_relaxed) + 1;
    std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    std::int64_t last = told.load(std::memory_order_relaxed);
    if (last == now || !told.compare_exchange_strong(last, now, std::memory_order_relaxed))
        return; // said already this second
    fmt::print(stderr,
               "[WARNING] {}: '{}': a regex gave up (PCRE2 match or depth limit, tune.pcre2.*): the rule {} "
               "({} time{} for this rule; at most one such line a second per rule)\n",
               rule.at, rule.what, applied ? "applies (fails closed)" : "does not apply", n, n == 1 ? "" : "s");
}

namespace {

// ---- the actions, run --------------------------------------------------------------

step stop_with(rule_result res)
{
    step s;
    s.stop = true;
    s.res = std::move(res);
    return s;
}

step stop_with(rule_outcome o)
{
    rule_result res;
    res.what = o;
    return stop_with(std::move(res));
}

step edited(bool changed)
{
    step s;
    s.changed = changed;
    return s;
}

// allow: the rest of the rules are skipped, the message goes on.
template <bool isRequest>
step run_allow(const http_rule&, run_env&, header_of<isRequest>&)
{
    return stop_with(rule_outcome::go_on);
}

// deny and return in either direction: the rule's status and reply (empty:
// the proxy's error page for the status); return is an answer, not a refusal.
rule_result reply_of(const http_rule& rule, bool local)
{
    rule_result res;
    res.what = rule_outcome::reply;
    res.status = rule.status;
    res.response = rule.response;
    res.local = local;
    return res;
}

template <bool isRequest>
step run_deny(const http_rule& rule, run_env&, header_of<isRequest>&)
{
    return stop_with(reply_of(rule, false));
}

template <bool isRequest>
step run_return(const http_rule& rule, run_env&, header_of<isRequest>&)
{
    return stop_with(reply_of(rule, true));
}

step run_tarpit(const http_rule& rule, run_env& env, request_header&)
{
    rule_result res;
    res.what = rule_outcome::tarpit;
    res.status = rule.status;
    res.response = rule.response;
    res.wait = env.r.tarpit;
    return stop_with(std::move(res));
}

// A redirect to `target`, or go_on when the target would split the response.
rule_result redirect_of(const http_rule& rule, const std::string& target)
{
    rule_result res;
    if (!value_ok(target))
        return res;
    res.what = rule_outcome::reply;
    res.status = rule.code;
    res.response = redirect_response(rule, target);
    res.local = true;
    return res;
}

step redirect_step(const http_rule& rule, const std::string& target)
{
    auto out = redirect_of(rule, target);
    if (out.what == rule_outcome::go_on)
        return {}; // a Location that would split the response: no redirect
    return stop_with(std::move(out));
}

step run_redirect_req(const http_rule& rule, run_env& env, request_header& h)
{
    return redirect_step(rule, redirect_target(rule, env.st, h));
}

step run_redirect_res(const http_rule& rule, run_env& env, response_header&)
{
    std::string target;
    render(rule.value, env.st.ctx, target);
    return redirect_step(rule, target);
}

template <bool isRequest>
step run_silent_drop(const http_rule&, run_env&, header_of<isRequest>&)
{
    return stop_with(rule_outcome::silent_drop);
}

step run_reject(const http_rule&, run_env&, request_header&) { return stop_with(rule_outcome::reject); }

// shield-block: the source to the packet layer for the rule's time, and
// the request refused as deny refuses it (403; the connection then closes).
step run_shield_block(const http_rule& rule, run_env& env, request_header&)
{
    post_shield_block(rule, env.st);
    return stop_with(reply_of(rule, false));
}

template <bool isRequest>
step run_wait_for_body(const http_rule& rule, run_env& env, header_of<isRequest>&)
{
    rule_result res;
    res.what = rule_outcome::wait_body;
    res.wait = rule.wait;
    res.at_least = rule.at_least;
    res.next = env.i + 1;
    return stop_with(std::move(res));
}

step run_capture(const http_rule& rule, run_env& env, request_header&)
{
    auto& st = env.st;
    if (st.captured.size() < env.r.req_captures.size()) // the session sized it; a test may not have
        st.captured.resize(env.r.req_captures.size());
    render(rule.value, st.ctx, st.scratch);
    st.captured[rule.slot].assign(std::string_view(st.scratch).substr(0, static_cast<std::size_t>(rule.status)));
    return {};
}

step run_track(const http_rule& rule, run_env& env, request_header&)
{
    apply_track(rule, env.st, true);
    return {};
}

// set-path / set-query / set-uri: a path or query goes into the target as
// it is: no blank, no control (an HTAB splits the request line for some
// servers); an empty path or query is allowed, an empty URI is not.
template <target_part Part>
step run_set_target(const http_rule& rule, run_env& env, request_header& h)
{
    auto& st = env.st;
    render(rule.value, st.ctx, st.scratch);
    if (Part == target_part::uri ? !target_ok(st.scratch) : !st.scratch.empty() && !target_ok(st.scratch))
        return {};
    set_target_part(h, Part, st.scratch);
    return edited(true);
}

step run_set_method(const http_rule& rule, run_env& env, request_header& h)
{
    render(rule.value, env.st.ctx, env.st.scratch);
    if (!field_name_ok(env.st.scratch)) // a method is a token
        return {};
    h.method_string(env.st.scratch);
    return edited(true);
}

// replace-path (the query kept) / replace-uri (the whole target)
template <bool WholeUri>
step run_replace_target(const http_rule& rule, run_env& env, request_header& h)
{
    auto& scratch = env.st.scratch;
    sv t(h.target().data(), h.target().size());
    sv part = WholeUri ? t : t.substr(0, t.find('?'));
    auto rc = rule.re->replace(part, rule.repl, scratch);
    if (rc == rules::match_rc::error)
        note_regex_error(rule, false);
    if (rc != rules::match_rc::yes || !target_ok(scratch))
        return {};
    if (!WholeUri)
        scratch.append(t.substr(part.size()));
    h.target(scratch);
    return edited(true);
}

step run_set_status(const http_rule& rule, run_env&, response_header& h)
{
    h.result(rule.status);
    h.reason(bsv(rule.reason.empty() ? reason_of(rule.status) : sv(rule.reason)));
    return edited(true);
}

// set-header / add-header: the value rendered; one that would split the
// message is not set.
template <bool Replace, bool isRequest>
step run_header_value(const http_rule& r, run_env& env, header_of<isRequest>& h)
{
    render(r.value, env.st.ctx, env.st.scratch);
    if (!value_ok(env.st.scratch))
        return {};
    if (Replace)
        h.set(r.name, env.st.scratch);
    else
        h.insert(r.name, env.st.scratch);
    return edited(true);
}

template <bool isRequest>
step run_del_header(const http_rule& r, run_env&, header_of<isRequest>& h)
{
    del_header(h, r);
    return edited(true);
}

template <bool isRequest>
step run_replace_header(const http_rule& r, run_env&, header_of<isRequest>& h)
{
    bool err = false;
    bool changed = rewrite_values(h, r.name, [&](sv v, std::string& out) {
        auto rc = r.re->replace(v, r.repl, out);
        err = err || rc == rules::match_rc::error;
        return rc == rules::match_rc::yes;
    });
    if (err)
        note_regex_error(r, false);
    return edited(changed);
}

template <bool isRequest>
step run_replace_value(const http_rule& r, run_env&, header_of<isRequest>& h)
{
    bool err = false;
    bool changed =
        rewrite_values(h, r.name, [&](sv v, std::string& out) { return replace_each_value(*r.re, r.repl, v, out, err); });
    if (err)
        note_regex_error(r, false);
    return edited(changed);
}

// ---- the legacy req*/rsp* filters ----

// Whether a filter's regex matches the start line or a header line: yes
// when one line matched, else error when the regex gave up on one. Each
// line is searched alone ("Name: value"), as 1.x did: a pattern Hyperscan
// takes is one linear scan per line, never a backtracking PCRE2 search.
template <bool isRequest>
rules::match_rc legacy_hit(const http_rule& rule, rule_state& st, const header_of<isRequest>& h)
{
    using rules::match_rc;
    match_rc rc;
    if constexpr (isRequest)
        rc = rule.re->match(request_line(h));
    else
        rc = rule.re->match(status_line_of(h));
    bool gave_up = rc == match_rc::error;
    const auto& refs = isRequest ? st.req_refs : st.res_refs;
    for (std::size_t k = 0; rc != match_rc::yes && k < refs.size(); ++k) {
        st.scratch.assign(refs[k].name);
        st.scratch += ": ";
        st.scratch.append(refs[k].value);
        rc = rule.re->match(st.scratch);
        gave_up = gave_up || rc == match_rc::error;
    }
    return rc == match_rc::yes ? match_rc::yes : gave_up ? match_rc::error : match_rc::no;
}

// Whether a filter that decides (deny, allow, tarpit, pass) applies: a
// regex that gave up counts as a match for a refusal (the rule fails
// closed) and as none for allow and pass; either way it is counted.
template <bool isRequest>
bool legacy_applies(const http_rule& rule, rule_state& st, const header_of<isRequest>& h)
{
    auto rc = legacy_hit<isRequest>(rule, st, h);
    if (rc == rules::match_rc::error)
        note_regex_error(rule, rule.fail_closed);
    return rc == rules::match_rc::yes || (rc == rules::match_rc::error && rule.fail_closed);
}

// reqdeny / reqallow / reqpass / reqtarpit and rspdeny: what a match does.
template <rule_outcome What>
step run_legacy_filter(const http_rule& rule, run_env& env, request_header& h)
{
    if (!legacy_applies<true>(rule, env.st, h))
        return {};
    count(rule, env.st);
    if (What == rule_outcome::go_on) // reqallow: the rest is skipped, the request goes on
        return stop_with(rule_result{});
    rule_result res;
    res.what = What;
    res.legacy = true;
    if (What == rule_outcome::tarpit) {
        res.status = 500;
        res.wait = env.r.tarpit;
    } else if (What == rule_outcome::reply) {
        res.status = rule.status;
    }
    return stop_with(std::move(res));
}

step run_legacy_pass(const http_rule& rule, run_env& env, request_header& h)
{
    if (legacy_applies<true>(rule, env.st, h))
        count(rule, env.st);
    return {};
}

step run_legacy_deny_res(const http_rule& rule, run_env& env, response_header& h)
{
    if (!legacy_applies<false>(rule, env.st, h))
        return {};
    count(rule, env.st);
    rule_result res;
    res.what = rule_outcome::reply;
    res.status = 502;
    res.legacy = true;
    return stop_with(std::move(res));
}

// A legacy rep/del filter: the start line first (set_line puts a rewrite
// back, false when it no longer parses), the header lines only when the
// start line did not match, as 1.x did. True when something changed. A
// line the regex gave up on is kept as it is (and counted).
template <bool isRequest, class SetLine>
bool legacy_rewrite(const http_rule& rule, bool del, rule_state& st, header_of<isRequest>& h,
                    const std::string& line, SetLine set_line)
{
    using rules::match_rc;
    bool err = false;
    auto on = [&](match_rc rc) {
        err = err || rc == match_rc::error;
        return rc == match_rc::yes;
    };
    std::string out;
    bool line_matched = on(!del ? rule.re->replace(line, rule.repl, out) : rule.re->match(line));
    bool changed = line_matched ? !del && out != line && set_line(out)
                                : rewrite_lines(h, [&](const std::string& hl, std::string& o) {
                                      if (del)
                                          return on(rule.re->match(hl)) ? line_fate::drop : line_fate::keep;
                                      return on(rule.re->replace(hl, rule.repl, o)) ? line_fate::replace
                                                                                    : line_fate::keep;
                                  });
    if (err)
        note_regex_error(rule, false);
    if (changed)
        count(rule, st);
    return changed;
}

template <bool Del>
step run_legacy_edit_req(const http_rule& rule, run_env& env, request_header& h)
{
    return edited(
        legacy_rewrite(rule, Del, env.st, h, request_line(h), [&](sv line) { return set_request_line(h, line); }));
}

template <bool Del>
step run_legacy_edit_res(const http_rule& rule, run_env& env, response_header& h)
{
    return edited(
        legacy_rewrite(rule, Del, env.st, h, status_line_of(h), [&](sv line) { return set_status_line(h, line); }));
}

// ---- the rows ----------------------------------------------------------------------

constexpr row http_rows[]{
    // name            compile                 on a request                        on a response                 legacy
    {"allow",          compile_nothing,        run_allow<true>,                    run_allow<false>,             false},
    {"deny",           compile_deny,           run_deny<true>,                     run_deny<false>,              false},
    {"tarpit",         compile_tarpit,         run_tarpit,                         nullptr,                      false},
    {"return",         compile_return,         run_return<true>,                   run_return<false>,            false},
    {"redirect",       compile_redirect,       run_redirect_req,                   run_redirect_res,             false},
    {"set-header",     compile_header_value,   run_header_value<true, true>,       run_header_value<true, false>, false},
    {"add-header",     compile_header_value,   run_header_value<false, true>,      run_header_value<false, false>, false},
    {"del-header",     compile_del_header,     run_del_header<true>,               run_del_header<false>,        false},
    {"replace-header", compile_replace_header, run_replace_header<true>,           run_replace_header<false>,    false},
    {"replace-value",  compile_replace_header, run_replace_value<true>,            run_replace_value<false>,     false},
    {"set-path",       compile_value,          run_set_target<target_part::path>,  nullptr,                      false},
    {"set-query",      compile_value,          run_set_target<target_part::query>, nullptr,                      false},
    {"set-uri",        compile_value,          run_set_target<target_part::uri>,   nullptr,                      false},
    {"set-method",     compile_value,          run_set_method,                     nullptr,                      false},
    {"replace-path",   compile_replace_target, run_replace_target<false>,          nullptr,                      false},
    {"replace-uri",    compile_replace_target, run_replace_target<true>,           nullptr,                      false},
    {"set-status",     compile_set_status,     nullptr,                            run_set_status,               false},
    {"silent-drop",    compile_nothing,        run_silent_drop<true>,              run_silent_drop<false>,       false},
    {"reject",         compile_nothing,        run_reject,                         nullptr,                      false},
    {"shield-block",   compile_shield_block,   run_shield_block,                   nullptr,                      false},
    {"wait-for-body",  compile_wait,           run_wait_for_body<true>,            run_wait_for_body<false>,     false},
    {"capture",        compile_capture,        run_capture,                        nullptr,                      false},
    {"track-sc0",      compile_track<0>,       run_track,                          nullptr,                      false},
    {"track-sc1",      compile_track<1>,       run_track,                          nullptr,                      false},
    {"track-sc2",      compile_track<2>,       run_track,                          nullptr,                      false},
};

// The 1.x filters by their action word (reqideny: "deny"); compile_legacy
// parses their regex.
constexpr row legacy_rows[]{
    {"deny",   nullptr, run_legacy_filter<rule_outcome::reply>,  run_legacy_deny_res,       true},
    {"allow",  nullptr, run_legacy_filter<rule_outcome::go_on>,  nullptr,                   true},
    {"pass",   nullptr, run_legacy_pass,                         nullptr,                   true},
    {"tarpit", nullptr, run_legacy_filter<rule_outcome::tarpit>, nullptr,                   true},
    {"del",    nullptr, run_legacy_edit_req<true>,               run_legacy_edit_res<true>, true},
    {"rep",    nullptr, run_legacy_edit_req<false>,              run_legacy_edit_res<false>, true},
};

} // namespace

const row* find(sv name)
{
    for (const auto& a : http_rows)
        if (a.name == name)
            return &a;
    return nullptr;
}

const row* find_legacy(sv name)
{
    for (const auto& a : legacy_rows)
        if (a.name == name)
            return &a;
    return nullptr;
}

} // namespace bulwark::proxy::actions
