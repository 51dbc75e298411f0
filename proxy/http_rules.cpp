// SPDX-License-Identifier: Apache-2.0
// HAProxy's rule processing (src/http_ana.c http_req_get_intercept_rule,
// http_res_get_intercept_rule; 1.x apply_filters_to_request for req*):
// rules in file order, a condition per rule, the first final action stops.
#include "proxy/http_rules.hpp"

#include "proxy/http_actions.hpp"
#include "proxy/http_errors.hpp"
#include "proxy/registry.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>
#include <strings.h>

namespace bulwark::proxy {

namespace http = boost::beast::http;
using sv = std::string_view;
using ms = std::chrono::milliseconds;

proxy_rules::proxy_rules() = default;
proxy_rules::proxy_rules(proxy_rules&&) noexcept = default;
proxy_rules::~proxy_rules() = default;

namespace {

bool iequals(sv a, sv b) { return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0; }

} // namespace

// The helpers http_actions.hpp shares with the action rows.
namespace actions {

// An HTTP field name: a token (RFC 9110 5.1), so never empty.
bool field_name_ok(sv s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               sv("!#$%&'*+-.^_`|~").find(static_cast<char>(ch)) != sv::npos;
    });
}

// What a rule may put into a message. A value built from the request
// (%[url_param(x),url_dec] can hold "%0d%0a") must not add a line to the
// message (request or response splitting): such a value is not used and
// the message is left as it was.
bool value_ok(sv v) { return v.find_first_of(sv("\r\n\0", 3)) == sv::npos; }
// A request target: no blank, no control byte (it goes between two spaces).
bool target_ok(sv v)
{
    return !v.empty() && std::none_of(v.begin(), v.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

sv reason_of(int status)
{
    auto r = http::obsolete_reason(static_cast<http::status>(status));
    return {r.data(), r.size()};
}

// "name(a,b),conv(c)" as a sample expression (the text of a %[...]).
result<sample_expr> parse_sample_text(sv s)
{
    sample_expr e;
    std::size_t pos = 0;
    bool first = true;
    while (pos <= s.size()) {
        std::size_t start = pos;
        while (pos < s.size() && s[pos] != '(' && s[pos] != ',')
            ++pos;
        std::string name(s.substr(start, pos - start));
        std::vector<std::string> args;
        if (pos < s.size() && s[pos] == '(') {
            auto close = s.find(')', pos);
            if (close == sv::npos)
                return fail(fmt::format("missing ')' in '%[{}]'", s));
            sv inner = s.substr(pos + 1, close - pos - 1);
            while (!inner.empty()) {
                auto comma = inner.find(',');
                args.emplace_back(inner.substr(0, comma));
                if (comma == sv::npos)
                    break;
                inner.remove_prefix(comma + 1);
            }
            pos = close + 1;
        }
        if (name.empty())
            return fail(fmt::format("empty name in '%[{}]'", s));
        if (first) {
            auto f = find_fetch(name);
            if (!f || !f->implied_matcher.empty())
                return fail(fmt::format("unknown fetch '{}' in '%[{}]'", name, s));
            e.fetch = std::string(f->fetch->name);
            e.args = std::move(args);
            first = false;
        } else {
            e.convs.push_back({std::move(name), std::move(args)});
        }
        if (pos >= s.size())
            break;
        if (s[pos] != ',')
            return fail(fmt::format("unexpected '{}' in '%[{}]'", s.substr(pos), s));
        ++pos;
    }
    return e;
}

// A log-format string: literal text with %[expr] parts and %% for '%'.
// Other %X variables are not built: kept as written, with a note.
result<log_format> parse_log_format(sv s, std::vector<std::string>* notes, const std::string& at)
{
    log_format lf;
    std::string lit;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%' || i + 1 >= s.size()) {
            lit += s[i];
            continue;
        }
        if (s[i + 1] == '%') {
            lit += '%';
            ++i;
            continue;
        }
        if (s[i + 1] != '[') {
            if (notes)
                notes->push_back(fmt::format("{}: log-format variable in '{}' is not built yet: kept as written", at, s));
            lit += s[i];
            continue;
        }
        auto close = s.find(']', i + 2);
        if (close == sv::npos)
            return fail(fmt::format("missing ']' in '{}'", s));
        auto e = parse_sample_text(s.substr(i + 2, close - i - 2));
        if (!e)
            return fail(e.message());
        auto ce = compile_expr(*e);
        if (!ce)
            return fail(ce.message());
        if (!lit.empty())
            lf.parts.push_back({std::move(lit), std::nullopt});
        lit.clear();
        lf.parts.push_back({{}, std::move(*ce)});
        i = close;
    }
    if (!lit.empty() || lf.parts.empty())
        lf.parts.push_back({std::move(lit), std::nullopt});
    return lf;
}

void render(const log_format& lf, eval_ctx& ctx, std::string& out)
{
    out.clear();
    std::string piece;
    for (const auto& p : lf.parts) {
        if (!p.expr) {
            out += p.text;
            continue;
        }
        ctx.reset();
        if (eval_string(ctx, *p.expr, piece))
            out += piece;
    }
}

} // namespace actions

using namespace actions;

namespace {

// The actions that refuse: a condition or filter regex that gave up
// applies them (fail closed).
bool refuses(std::string_view action)
{
    return action == "deny" || action == "tarpit" || action == "silent-drop" || action == "reject" ||
           action == "shield-block";
}

// A note for -c and the start: a rule's regex that PCRE2 alone runs
// (Hyperscan refused it), so a backtracking search may give up on it.
void note_pcre2(const http_rule& r, std::vector<std::string>* notes)
{
    if (notes && r.re && !r.re->in_hyperscan())
        notes->push_back(fmt::format("{}: '{}': regex runs on PCRE2, not Hyperscan ({}): tune.pcre2.match-limit "
                                     "bounds it, and a search that gives up {}",
                                     r.at, r.what, r.re->hs_refusal(),
                                     r.fail_closed ? "applies the rule (fails closed)" : "leaves the message as it is"));
}

// One http-request / http-response rule; nullopt (with a note) when its
// action is not built.
result<std::optional<http_rule>> compile_http_rule(const rule& cr, const acl_set& acls,
                                                   std::vector<std::string>* notes)
{
    http_rule r;
    r.at = fmt::format("{}:{}", cr.at.file, cr.at.line);
    r.what = cr.family.starts_with("http-") ? cr.family + " " + cr.action : cr.family;
    const bool response = cr.family == "http-response" || cr.family == "rspadd";
    r.act = actions::find(cr.action);
    if (!r.act || !r.act->runs_in(response)) {
        if (notes)
            notes->push_back(fmt::format("{}: '{} {}' is not built yet: the rule is passed over", r.at, cr.family,
                                         cr.action));
        return std::optional<http_rule>();
    }
    r.fail_closed = refuses(cr.action);
    const compile_env env{response, notes};
    auto ok = r.act->compile(r, cr.args, env);
    if (!ok)
        return fail(ok.message());
    if (!*ok)
        return std::optional<http_rule>();
    note_pcre2(r, notes);
    if (cr.cond) {
        auto c = acls.compile(*cr.cond);
        if (!c)
            return fail(c.message());
        r.cond = std::move(*c);
    }
    return std::optional<http_rule>(std::move(r));
}

// A 1.x req*/rsp* filter: its regex (reqi*: case-insensitive) and action.
result<http_rule> compile_legacy(const rule& cr, const acl_set& acls, std::vector<std::string>* notes)
{
    http_rule r;
    r.at = fmt::format("{}:{}", cr.at.file, cr.at.line);
    r.what = cr.family;
    const bool icase = cr.family.size() > 3 && cr.family[3] == 'i';
    r.act = actions::find_legacy(cr.action);
    if (!r.act || !r.act->runs_in(cr.family.starts_with("rsp")))
        return fail(fmt::format("'{}' has no action '{}'", cr.family, cr.action));
    auto re = rules::regex::compile(cr.args[0], icase);
    if (!re)
        return fail(re.message());
    r.re = std::move(*re);
    if (cr.action == "rep")
        r.repl = cr.args[1];
    r.status = cr.family.starts_with("req") ? (cr.action == "tarpit" ? 500 : 403) : 502;
    r.fail_closed = refuses(cr.action);
    note_pcre2(r, notes);
    if (cr.cond) {
        auto c = acls.compile(*cr.cond);
        if (!c)
            return fail(c.message());
        r.cond = std::move(*c);
    }
    return r;
}

error where(const rule& r, const std::string& msg)
{
    return fail(fmt::format("{}:{}: '{} {}': {}", r.at.file, r.at.line, r.family, r.action, msg));
}

// http-request rules first, then the legacy filters (HAProxy 1.x ran
// the filters after the http-request rules); likewise for responses.
result<bool> compile_http_rules(const proxy_section& px, proxy_rules& out, std::vector<std::string>* notes)
{
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& cr : px.rules) {
            const bool modern = cr.family == "http-request" || cr.family == "http-response";
            const bool legacy = cr.family.starts_with("req") || cr.family.starts_with("rsp");
            if ((pass == 0) != modern || (!modern && !legacy))
                continue;
            const bool request = cr.family == "http-request" || cr.family.starts_with("req");
            if (modern || cr.action == "add-header") { // reqadd / rspadd are add-header rules
                auto r = compile_http_rule(cr, out.acls, notes);
                if (!r)
                    return where(cr, r.message());
                if (*r && (*r)->act == actions::find("capture")) {
                    if (!px.has_fe()) {
                        if (notes)
                            notes->push_back(fmt::format("{}: 'http-request capture' in a backend is not built yet "
                                                         "(its slot is the frontend's): the rule is passed over",
                                                         (*r)->at));
                        continue;
                    }
                }
                if (*r)
                    (request ? out.req : out.res).push_back(std::move(**r));
            } else {
                auto r = compile_legacy(cr, out.acls, notes);
                if (!r)
                    return where(cr, r.message());
                (request ? out.req : out.res).push_back(std::move(*r));
            }
        }
    }
    return true;
}

// A tcp-request action's outcome (go_on: accept), or nullopt when it is
// not built.
std::optional<rule_outcome> tcp_outcome(const std::string& action)
{
    if (action.starts_with("track-sc"))
        return rule_outcome::go_on; // and rule.track says it tracks (compile_track_args)
    if (action == "accept")
        return rule_outcome::go_on;
    if (action == "reject" || action == "shield-block")
        return rule_outcome::reject; // shield-block: and rule.shield_block posts the source first
    if (action == "silent-drop")
        return rule_outcome::silent_drop;
    return std::nullopt;
}

// tcp-request connection, session, then content rules, run at accept
// on the connection's addresses (a phase's accept ends that phase).
result<bool> compile_tcp_rules(const proxy_section& px, proxy_rules& out, std::vector<std::string>* notes)
{
    int phase = 0;
    for (std::string_view fam : {"tcp-request connection", "tcp-request session", "tcp-request content"}) {
        for (const auto& cr : px.rules) {
            if (cr.family != fam)
                continue;
            std::optional<rule_outcome> o = tcp_outcome(cr.action);
            if (!o || !px.has_fe()) {
                if (notes)
                    notes->push_back(fmt::format("{}:{}: '{} {}' {}: the rule is passed over", cr.at.file, cr.at.line,
                                                 cr.family, cr.action,
                                                 !o ? "is not built yet" : "in a backend is not built yet"));
                continue;
            }
            http_rule r;
            r.at = fmt::format("{}:{}", cr.at.file, cr.at.line);
            r.what = cr.family + " " + cr.action;
            r.tcp = *o;
            r.fail_closed = *o != rule_outcome::go_on;
            if (cr.action.starts_with("track-sc")) {
                if (auto t = actions::compile_track_args(r, cr.args, cr.action.back() - '0'); !t)
                    return where(cr, t.message());
            } else if (cr.action == "shield-block") {
                if (auto t = actions::compile_shield_block_args(r, cr.args); !t)
                    return where(cr, t.message());
            }
            r.slot = static_cast<std::size_t>(phase);
            if (cr.cond) {
                auto c = out.acls.compile(*cr.cond);
                if (!c)
                    return where(cr, c.message());
                r.cond = std::move(*c);
            }
            out.tcp.push_back(std::move(r));
        }
        ++phase;
    }
    return true;
}

// Per rule: the one pattern set its condition needs a hit in (when it is
// a plain OR of ACLs over one set), and the first rule after the run of
// rules gated on that same set.
std::vector<proxy_rules::rule_gate> gates_of(const std::vector<http_rule>& rules, const acl_set& acls)
{
    std::vector<proxy_rules::rule_gate> g(rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& c = rules[i].cond;
        if (!c || c->unless || c->any_of.empty())
            continue;
        int set = -1;
        bool ok = true;
        for (const auto& conj : c->any_of) {
            ok = ok && conj.size() == 1 && !conj[0].negate && !conj[0].acls.empty();
            for (std::size_t a : ok ? conj[0].acls : std::vector<std::size_t>{}) {
                int s = acls.set_of(a);
                ok = ok && s >= 0 && (set < 0 || s == set);
                set = s;
            }
        }
        if (ok)
            g[i].set = set;
    }
    for (std::size_t i = rules.size(); i-- > 0;)
        g[i].skip_to = g[i].set >= 0 && i + 1 < rules.size() && g[i + 1].set == g[i].set
                           ? g[i + 1].skip_to
                           : static_cast<std::uint32_t>(i + 1);
    return g;
}

result<bool> compile_use_backends(const proxy_section& px, proxy_rules& out)
{
    for (const auto& u : px.use_backends) {
        proxy_rules::switch_rule s{u.backend, std::nullopt};
        if (u.cond) {
            auto c = out.acls.compile(*u.cond);
            if (!c)
                return fail(fmt::format("{}:{}: 'use_backend': {}", u.at.file, u.at.line, c.message()));
            s.cond = std::move(*c);
        }
        out.use_backends.push_back(std::move(s));
    }
    return true;
}

// The capture slots: 'capture request/response header' lines first, then
// the 'http-request capture' rules' (in rule order).
void assign_captures(const proxy_section& px, proxy_rules& out)
{
    for (const auto& c : px.captures)
        (c.request ? out.req_captures : out.res_captures).push_back({c.header, c.len});
    for (auto& r : out.req)
        if (r.act == actions::find("capture")) {
            r.slot = out.req_captures.size();
            out.req_captures.push_back({"", static_cast<unsigned>(r.status)});
        }
}

} // namespace

result<std::shared_ptr<const proxy_rules>> compile_rules(const proxy_section& px, ms tarpit_fallback,
                                                         std::vector<std::string>* notes)
{
    auto out = std::make_shared<proxy_rules>();
    out->name = px.name;
    out->errorfiles = px.errorfiles;
    out->tarpit = px.timeout.tarpit ? *px.timeout.tarpit : tarpit_fallback;
    auto acls = acl_set::build(px, notes);
    if (!acls)
        return fail(acls.message());
    out->acls = std::move(*acls);
    if (auto r = compile_http_rules(px, *out, notes); !r)
        return fail(r.message());
    if (auto r = compile_tcp_rules(px, *out, notes); !r)
        return fail(r.message());
    out->req_gates = gates_of(out->req, out->acls);
    out->res_gates = gates_of(out->res, out->acls);
    if (auto r = compile_use_backends(px, *out); !r)
        return fail(r.message());
    assign_captures(px, *out);
    std::uint32_t id = 0; // per-thread hit counters are indexed by it
    for (auto* list : {&out->tcp, &out->req, &out->res})
        for (auto& r : *list) {
            r.id = id++;
            // HAProxy refuses a track-sc with no table to count in
            if (r.track >= 0 && r.name.empty() && !px.stick_table)
                return fail(fmt::format("{}: '{}': no stick-table in '{}' and no 'table' argument", r.at, r.what,
                                        px.name));
            if (r.track >= 0 && r.name.empty())
                r.name = px.name; // its own section's table: a backend's rule counts in the backend's
        }
    return std::shared_ptr<const proxy_rules>(std::move(out));
}

// ---- views ----------------------------------------------------------------------

namespace {

template <class Fields>
void fill_refs(std::vector<header_ref>& refs, const Fields& f)
{
    refs.clear();
    for (const auto& field : f)
        refs.push_back({sv(field.name_string().data(), field.name_string().size()),
                        sv(field.value().data(), field.value().size())});
}

} // namespace

void view_request(rule_state& st, const request_header& h, std::string_view body)
{
    fill_refs(st.req_refs, h);
    st.view.has_request = true;
    st.view.method = sv(h.method_string().data(), h.method_string().size());
    st.view.target = sv(h.target().data(), h.target().size());
    st.view.version = static_cast<int>(h.version());
    st.view.req_headers = st.req_refs;
    st.view.req_body = body;
    st.ctx.txn = &st.view;
}

void view_response(rule_state& st, const response_header& h)
{
    fill_refs(st.res_refs, h);
    st.view.has_response = true;
    st.view.status = static_cast<int>(h.result_int());
    st.view.res_headers = st.res_refs;
    st.ctx.txn = &st.view;
}

namespace {

// Whether rule's condition holds. When its answer hangs on a regex that
// gave up, it is the rule's fail_closed (a refusal applies, anything else does not),
// and the error is counted and told.
bool cond_holds(const proxy_rules& r, const http_rule& rule, rule_state& st)
{
    if (!rule.cond)
        return true;
    auto v = r.acls.eval3(st.ctx, *rule.cond);
    if (v != acl_set::tri::unknown)
        return v == acl_set::tri::yes;
    note_regex_error(rule, rule.fail_closed);
    return rule.fail_closed;
}

// Whether rule i applies: its gate's pattern set matched something (else
// i moves to the last rule of the gated run, which the caller's ++i
// passes) and its condition holds.
bool applies(const proxy_rules& r, const http_rule& rule, const proxy_rules::rule_gate& g, rule_state& st,
             std::size_t& i)
{
    if (g.set >= 0 && r.acls.scan(st.ctx, static_cast<std::size_t>(g.set)) == 0) {
        i = g.skip_to - 1;
        return false;
    }
    if (!cond_holds(r, rule, st))
        return false;
    if (!rule.act->legacy) // a legacy filter counts when its regex matched too
        count(rule, st);
    return true;
}

// The loop both directions share: each rule that applies runs its action
// for this direction; an edit refreshes the view, a stop ends the loop.
template <bool isRequest, class Refresh>
rule_result run_rules(const proxy_rules& r, const std::vector<http_rule>& rules,
                      const std::vector<proxy_rules::rule_gate>& gates, rule_state& st, header_of<isRequest>& h,
                      std::size_t from, Refresh refresh)
{
    r.acls.begin(st.ctx);
    for (std::size_t i = from; i < rules.size(); ++i) {
        const http_rule& rule = rules[i];
        if (!applies(r, rule, gates[i], st, i))
            continue;
        run_env env{r, st, i};
        step out;
        if constexpr (isRequest)
            out = rule.act->on_request(rule, env, h);
        else
            out = rule.act->on_response(rule, env, h);
        if (out.stop)
            return std::move(out.res);
        if (out.changed) {
            refresh();
            r.acls.invalidate(st.ctx);
        }
    }
    return {};
}

} // namespace

rule_result run_request_rules(const proxy_rules& r, rule_state& st, request_header& h, std::size_t from)
{
    if (st.view.trk)
        st.trk.now = stick_now();
    return run_rules<true>(r, r.req, r.req_gates, st, h, from, [&] { view_request(st, h, st.view.req_body); });
}

rule_result run_response_rules(const proxy_rules& r, rule_state& st, response_header& h, std::size_t from)
{
    return run_rules<false>(r, r.res, r.res_gates, st, h, from, [&] { view_response(st, h); });
}

void attach_tables(rule_state& st, stick_table* own, const stick_registry* all)
{
    st.trk.own = own;
    st.trk.tables = all;
    st.view.trk = &st.trk;
}

void count_tracked_request(rule_state& st)
{
    st.trk.now = stick_now();
    st.trk.count_request();
}

void apply_track(const http_rule& rule, rule_state& st, bool http_request)
{
    auto n = static_cast<unsigned>(rule.track);
    if (n >= st.trk.sc.size() || st.trk.sc[n] || rule.value.parts.empty())
        return;
    stick_table* t = st.trk.table(rule.name);
    if (!t)
        return;
    std::array<std::uint8_t, 16> buf{};
    if (auto key = stick_key(st.ctx, *rule.value.parts[0].expr, *t, buf))
        st.trk.track(n, *t, *key, http_request);
}

void post_shield_block(const http_rule& rule, rule_state& st) noexcept
{
    if (st.shield)
        st.shield->block(st.view.src, rule.block_ttl);
}

rule_outcome run_connection_rules(const proxy_rules& r, rule_state& st)
{
    st.trk.now = stick_now();
    r.acls.begin(st.ctx);
    std::size_t skip_phase = SIZE_MAX;
    for (const http_rule& rule : r.tcp) {
        if (rule.slot == skip_phase)
            continue;
        if (!cond_holds(r, rule, st))
            continue;
        count(rule, st);
        if (rule.track >= 0)
            apply_track(rule, st, false);
        else if (rule.tcp == rule_outcome::go_on)
            skip_phase = rule.slot; // accept: the rest of this phase is skipped
        else {
            if (rule.shield_block)
                post_shield_block(rule, st);
            return rule.tcp;
        }
    }
    return rule_outcome::go_on;
}

int choose_backend(const proxy_rules& r, rule_state& st)
{
    r.acls.begin(st.ctx);
    for (std::size_t i = 0; i < r.use_backends.size(); ++i)
        if (!r.use_backends[i].cond || r.acls.eval(st.ctx, *r.use_backends[i].cond))
            return static_cast<int>(i);
    return -1;
}

void capture_headers(const proxy_rules& r, const fields_type& f, bool request, std::vector<std::string>& out)
{
    const auto& caps = request ? r.req_captures : r.res_captures;
    out.resize(caps.size());
    for (std::size_t i = 0; i < caps.size(); ++i) {
        if (caps[i].header.empty())
            continue; // an 'http-request capture' slot: the rule fills it
        sv last; // the last occurrence, as HAProxy takes it
        for (const auto& field : f)
            if (iequals(sv(field.name_string().data(), field.name_string().size()), caps[i].header))
                last = sv(field.value().data(), field.value().size());
        out[i].assign(last.substr(0, caps[i].len));
    }
}

std::string format_captures(std::span<const std::string> values)
{
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i)
            out += '|';
        // HAProxy's log encoding: '#' + hex for controls, '"', '#', '{', '|', '}'
        for (unsigned char ch : values[i]) {
            if (ch < 32 || ch > 126 || ch == '"' || ch == '#' || ch == '{' || ch == '|' || ch == '}')
                out += fmt::format("#{:02X}", ch);
            else
                out += static_cast<char>(ch);
        }
    }
    out += '}';
    return out;
}

std::string captures_text(const proxy_rules& r, const fields_type& f, bool request, const rule_state* st)
{
    const auto& caps = request ? r.req_captures : r.res_captures;
    if (caps.empty())
        return {};
    std::vector<std::string> values;
    capture_headers(r, f, request, values);
    if (st)
        for (std::size_t i = 0; i < caps.size() && i < st->captured.size(); ++i)
            if (caps[i].header.empty())
                values[i] = st->captured[i];
    return format_captures(values);
}

} // namespace bulwark::proxy
