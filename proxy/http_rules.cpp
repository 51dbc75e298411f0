// SPDX-License-Identifier: Apache-2.0
// HAProxy's rule processing (src/http_ana.c http_req_get_intercept_rule,
// http_res_get_intercept_rule; 1.x apply_filters_to_request for req*):
// rules in file order, a condition per rule, the first final action stops.
#include "proxy/http_rules.hpp"

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

boost::beast::string_view bsv(sv s) { return {s.data(), s.size()}; }

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

result<std::string> read_file(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return fail(fmt::format("cannot read '{}'", path));
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// deny / tarpit / return arguments: the status and, when a body or headers
// are given, the whole reply.
result<bool> parse_reply(http_rule& r, const std::vector<std::string>& a, int default_status, bool build_always)
{
    r.status = default_status;
    std::string ctype, body, hdrs, errorfile;
    bool have_body = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string& w = a[i];
        if (w == "deny_status" || w == "status") {
            r.status = std::stoi(a[++i]);
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

result<bool> parse_redirect(http_rule& r, const std::vector<std::string>& a, std::vector<std::string>* notes)
{
    r.rtype = a[0] == "prefix" ? http_rule::redir::prefix
              : a[0] == "scheme" ? http_rule::redir::scheme
                                 : http_rule::redir::location;
    auto lf = parse_log_format(a[1], notes, r.at);
    if (!lf)
        return fail(lf.message());
    r.value = std::move(*lf);
    for (std::size_t i = 2; i < a.size(); ++i) {
        const std::string& w = a[i];
        if (w == "code")
            r.code = std::stoi(a[++i]);
        else if (w == "drop-query")
            r.drop_query = true;
        else if (w == "append-slash")
            r.append_slash = true;
        else if (w == "set-cookie")
            r.cookie_header = fmt::format("set-cookie: {}; path=/\r\n", a[++i]);
        else if (w == "clear-cookie")
            r.cookie_header =
                fmt::format("set-cookie: {}; path=/; Max-Age=0; Expires=Thu, 01-Jan-1970 00:00:01 GMT\r\n", a[++i]);
    }
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

struct action_row {
    sv name;
    op o;
};
constexpr action_row http_actions[]{
    {"allow", op::allow},           {"deny", op::deny},
    {"tarpit", op::tarpit},         {"return", op::ret},
    {"redirect", op::redirect},     {"set-header", op::set_header},
    {"add-header", op::add_header}, {"del-header", op::del_header},
    {"replace-header", op::replace_header}, {"replace-value", op::replace_value},
    {"set-path", op::set_path},     {"set-query", op::set_query},
    {"set-uri", op::set_uri},       {"set-method", op::set_method},
    {"replace-path", op::replace_path}, {"replace-uri", op::replace_uri},
    {"set-status", op::set_status}, {"silent-drop", op::silent_drop},
    {"reject", op::reject},         {"wait-for-body", op::wait_for_body},
    {"capture", op::capture},
};

// One http-request / http-response rule; nullopt (with a note) when its
// action is not built.
result<std::optional<http_rule>> compile_http_rule(const rule& cr, const acl_set& acls,
                                                   std::vector<std::string>* notes)
{
    http_rule r;
    r.at = fmt::format("{}:{}", cr.at.file, cr.at.line);
    r.what = cr.family.starts_with("http-") ? cr.family + " " + cr.action : cr.family;
    const auto* row = std::find_if(std::begin(http_actions), std::end(http_actions),
                                   [&](const auto& x) { return x.name == cr.action; });
    if (row == std::end(http_actions)) {
        if (notes)
            notes->push_back(fmt::format("{}: '{} {}' is not built yet: the rule is passed over", r.at, cr.family,
                                         cr.action));
        return std::optional<http_rule>();
    }
    r.o = row->o;
    const bool response = cr.family == "http-response" || cr.family == "rspadd";
    const auto& a = cr.args;
    auto lf = [&](const std::string& s) -> result<log_format> { return parse_log_format(s, notes, r.at); };
    switch (r.o) {
    case op::deny:
        if (auto x = parse_reply(r, a, response ? 502 : 403, false); !x)
            return fail(x.message());
        break;
    case op::tarpit:
        if (auto x = parse_reply(r, a, 500, false); !x)
            return fail(x.message());
        break;
    case op::ret:
        if (auto x = parse_reply(r, a, 200, true); !x)
            return fail(x.message());
        break;
    case op::redirect:
        if (auto x = parse_redirect(r, a, notes); !x)
            return fail(x.message());
        break;
    case op::set_header:
    case op::add_header: {
        // reqadd ":x" and set-header "" x would send a field without a name
        if (!field_name_ok(a[0]))
            return fail(fmt::format("invalid header name '{}'", a[0]));
        r.name = a[0];
        auto v = lf(a[1]);
        if (!v)
            return fail(v.message());
        r.value = std::move(*v);
        break;
    }
    case op::del_header:
        r.name = a[0];
        if (a.size() == 3) {
            static const std::map<sv, match_kind> modes{{"str", match_kind::str}, {"beg", match_kind::beg},
                                                        {"end", match_kind::end}, {"sub", match_kind::sub},
                                                        {"reg", match_kind::reg}};
            r.del_mode = modes.at(a[2]);
            if (r.del_mode == match_kind::reg) {
                auto re = rules::regex::compile(a[0], true);
                if (!re)
                    return fail(re.message());
                r.re = std::move(*re);
            }
        }
        break;
    case op::replace_header:
    case op::replace_value: {
        r.name = a[0];
        auto re = rules::regex::compile(a[1], false);
        if (!re)
            return fail(re.message());
        r.re = std::move(*re);
        r.repl = a[2];
        break;
    }
    case op::replace_path:
    case op::replace_uri: {
        auto re = rules::regex::compile(a[0], false);
        if (!re)
            return fail(re.message());
        r.re = std::move(*re);
        r.repl = a[1];
        break;
    }
    case op::set_path:
    case op::set_query:
    case op::set_uri:
    case op::set_method: {
        auto v = lf(a[0]);
        if (!v)
            return fail(v.message());
        r.value = std::move(*v);
        break;
    }
    case op::set_status:
        r.status = std::stoi(a[0]);
        if (a.size() == 3)
            r.reason = a[2];
        break;
    case op::wait_for_body:
        if (auto x = parse_wait(r, a); !x)
            return fail(x.message());
        break;
    case op::capture: {
        // capture SAMPLE len N: a new slot after the 'capture request
        // header' ones (placed by compile_rules); 'id N' needs 'declare
        // capture', which is not built.
        if (a[1] != "len") {
            if (notes)
                notes->push_back(fmt::format("{}: 'http-request capture ... id' is not built yet (it needs "
                                             "'declare capture'): the rule is passed over",
                                             r.at));
            return std::optional<http_rule>();
        }
        auto e = parse_sample_text(a[0]);
        if (!e)
            return fail(e.message());
        auto ce = compile_expr(*e);
        if (!ce)
            return fail(ce.message());
        r.value.parts.push_back({{}, std::move(*ce)});
        r.status = std::stoi(a[2]);
        break;
    }
    default:
        break;
    }
    if (cr.cond) {
        auto c = acls.compile(*cr.cond);
        if (!c)
            return fail(c.message());
        r.cond = std::move(*c);
    }
    return std::optional<http_rule>(std::move(r));
}

result<http_rule> compile_legacy(const rule& cr, const acl_set& acls)
{
    http_rule r;
    r.at = fmt::format("{}:{}", cr.at.file, cr.at.line);
    r.what = cr.family;
    const bool icase = cr.family.size() > 3 && cr.family[3] == 'i';
    const std::string& act = cr.action;
    r.o = act == "deny" ? op::legacy_deny
          : act == "allow" ? op::legacy_allow
          : act == "pass" ? op::legacy_pass
          : act == "tarpit" ? op::legacy_tarpit
          : act == "del" ? op::legacy_del
                         : op::legacy_rep;
    auto re = rules::regex::compile(cr.args[0], icase);
    if (!re)
        return fail(re.message());
    r.re = std::move(*re);
    if (r.o == op::legacy_rep)
        r.repl = cr.args[1];
    r.status = cr.family.starts_with("req") ? (r.o == op::legacy_tarpit ? 500 : 403) : 502;
    if (cr.cond) {
        auto c = acls.compile(*cr.cond);
        if (!c)
            return fail(c.message());
        r.cond = std::move(*c);
    }
    return r;
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
    auto where = [](const rule& r, const std::string& msg) {
        return fail(fmt::format("{}:{}: '{} {}': {}", r.at.file, r.at.line, r.family, r.action, msg));
    };
    // http-request rules first, then the legacy filters (HAProxy 1.x ran
    // the filters after the http-request rules); likewise for responses.
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& cr : px.rules) {
            const bool modern = cr.family == "http-request" || cr.family == "http-response";
            const bool legacy = cr.family.starts_with("req") || cr.family.starts_with("rsp");
            if ((pass == 0) != modern || (!modern && !legacy))
                continue;
            const bool request = cr.family == "http-request" || cr.family.starts_with("req");
            if (modern || cr.action == "add-header") { // reqadd / rspadd are add-header rules
                auto r = compile_http_rule(cr, out->acls, notes);
                if (!r)
                    return where(cr, r.message());
                if (*r && (*r)->o == op::capture) {
                    if (!px.has_fe()) {
                        if (notes)
                            notes->push_back(fmt::format("{}: 'http-request capture' in a backend is not built yet "
                                                         "(its slot is the frontend's): the rule is passed over",
                                                         (*r)->at));
                        continue;
                    }
                }
                if (*r)
                    (request ? out->req : out->res).push_back(std::move(**r));
            } else {
                auto r = compile_legacy(cr, out->acls);
                if (!r)
                    return where(cr, r.message());
                (request ? out->req : out->res).push_back(std::move(*r));
            }
        }
    }
    // tcp-request connection, session, then content rules, run at accept
    // on the connection's addresses (a phase's accept ends that phase).
    int phase = 0;
    for (std::string_view fam : {"tcp-request connection", "tcp-request session", "tcp-request content"}) {
        for (const auto& cr : px.rules) {
            if (cr.family != fam)
                continue;
            std::optional<op> o = cr.action == "accept"        ? std::optional<op>(op::allow)
                                  : cr.action == "reject"      ? std::optional<op>(op::reject)
                                  : cr.action == "silent-drop" ? std::optional<op>(op::silent_drop)
                                                               : std::nullopt;
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
            r.o = *o;
            r.slot = static_cast<std::size_t>(phase);
            if (cr.cond) {
                auto c = out->acls.compile(*cr.cond);
                if (!c)
                    return where(cr, c.message());
                r.cond = std::move(*c);
            }
            out->tcp.push_back(std::move(r));
        }
        ++phase;
    }
    auto gates = [&](const std::vector<http_rule>& rules) {
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
                    int s = out->acls.set_of(a);
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
    };
    out->req_gates = gates(out->req);
    out->res_gates = gates(out->res);
    for (const auto& u : px.use_backends) {
        proxy_rules::switch_rule s{u.backend, std::nullopt};
        if (u.cond) {
            auto c = out->acls.compile(*u.cond);
            if (!c)
                return fail(fmt::format("{}:{}: 'use_backend': {}", u.at.file, u.at.line, c.message()));
            s.cond = std::move(*c);
        }
        out->use_backends.push_back(std::move(s));
    }
    for (const auto& c : px.captures)
        (c.request ? out->req_captures : out->res_captures).push_back({c.header, c.len});
    for (auto& r : out->req) // 'http-request capture' slots follow the header ones, in rule order
        if (r.o == op::capture) {
            r.slot = out->req_captures.size();
            out->req_captures.push_back({"", static_cast<unsigned>(r.status)});
        }
    std::uint32_t id = 0; // per-thread hit counters are indexed by it
    for (auto* list : {&out->tcp, &out->req, &out->res})
        for (auto& r : *list)
            r.id = id++;
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

// ---- running ---------------------------------------------------------------------

namespace {

// Rewrites every field of `h` whose name matches: f(value, out) gives the
// new value (return false to keep it). Order and other fields are kept.
template <bool isRequest, class F>
bool rewrite_values(http::header<isRequest, fields_type>& h, sv name, F&& f)
{
    std::vector<std::pair<std::string, std::string>> all;
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
    if (!changed)
        return false;
    h.clear();
    for (auto& [n, v] : all)
        h.insert(n, v);
    return true;
}

// Every header line "Name: value" through f(line, out) -> keep, replace or
// drop. Returns true when something changed.
enum class line_fate { keep, replace, drop };
template <bool isRequest, class F>
bool rewrite_lines(http::header<isRequest, fields_type>& h, F&& f)
{
    std::vector<std::pair<std::string, std::string>> all;
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
    if (!changed)
        return false;
    h.clear();
    for (auto& [n, v] : all)
        h.insert(n, v);
    return true;
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
    case match_kind::reg:
        return r.re->search(name);
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

// replace-value: the regex on each comma-separated value.
bool replace_each_value(const rules::regex& re, sv repl, sv v, std::string& out)
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
        if (re.replace(one.substr(lead), repl, piece)) {
            out += piece;
            changed = true;
        } else {
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

void set_target_part(request_header& h, op o, sv value)
{
    sv t(h.target().data(), h.target().size());
    auto q = t.find('?');
    std::string nt;
    if (o == op::set_path)
        nt = std::string(value) + (q == sv::npos ? std::string() : std::string(t.substr(q)));
    else if (o == op::set_query)
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

// The actions common to both directions on the header (set/add/del/replace).
template <bool isRequest>
bool edit_header(const http_rule& r, rule_state& st, http::header<isRequest, fields_type>& h)
{
    switch (r.o) {
    case op::set_header:
    case op::add_header:
        render(r.value, st.ctx, st.scratch);
        if (!value_ok(st.scratch))
            return false;
        if (r.o == op::set_header)
            h.set(r.name, st.scratch);
        else
            h.insert(r.name, st.scratch);
        return true;
    case op::del_header:
        del_header(h, r);
        return true;
    case op::replace_header:
        return rewrite_values(h, r.name, [&](sv v, std::string& out) { return r.re->replace(v, r.repl, out); });
    case op::replace_value:
        return rewrite_values(h, r.name,
                              [&](sv v, std::string& out) { return replace_each_value(*r.re, r.repl, v, out); });
    default:
        return false;
    }
}

void count(const http_rule& rule, rule_state& st)
{
    if (!st.hits) {
        rule.hits->fetch_add(1, std::memory_order_relaxed);
        return;
    }
    auto& c = st.hits[rule.id]; // this thread's own: a plain add, no lock prefix
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
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
    if (rule.cond && !r.acls.eval(st.ctx, *rule.cond))
        return false;
    if (rule.o < op::legacy_deny) // a legacy filter counts when its regex matched too
        count(rule, st);
    return true;
}

// A legacy rep/del filter: the start line first (set_line puts a rewrite
// back, false when it no longer parses), the header lines only when the
// start line did not match, as 1.x did. True when something changed.
template <bool isRequest, class SetLine>
bool legacy_rewrite(const http_rule& rule, rule_state& st, http::header<isRequest, fields_type>& h,
                    const std::string& line, SetLine set_line)
{
    std::string out;
    bool line_matched = rule.o == op::legacy_rep ? rule.re->replace(line, rule.repl, out) : rule.re->search(line);
    bool changed = line_matched ? rule.o == op::legacy_rep && out != line && set_line(out)
                                : rewrite_lines(h, [&](const std::string& hl, std::string& o) {
                                      if (rule.o == op::legacy_del)
                                          return rule.re->search(hl) ? line_fate::drop : line_fate::keep;
                                      return rule.re->replace(hl, rule.repl, o) ? line_fate::replace
                                                                                : line_fate::keep;
                                  });
    if (changed)
        count(rule, st);
    return changed;
}

// deny and return in either direction: the rule's status and reply (empty:
// the proxy's error page for the status); return is an answer, not a refusal.
rule_result reply_of(const http_rule& rule)
{
    rule_result res;
    res.what = rule_outcome::reply;
    res.status = rule.status;
    res.response = rule.response;
    res.local = rule.o == op::ret;
    return res;
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

} // namespace

rule_result run_request_rules(const proxy_rules& r, rule_state& st, request_header& h, std::size_t from)
{
    rule_result res;
    r.acls.begin(st.ctx);
    auto changed = [&] {
        view_request(st, h, st.view.req_body);
        r.acls.invalidate(st.ctx);
    };
    for (std::size_t i = from; i < r.req.size(); ++i) {
        const http_rule& rule = r.req[i];
        if (!applies(r, rule, r.req_gates[i], st, i))
            continue;
        switch (rule.o) {
        case op::allow:
            return res;
        case op::deny:
        case op::ret:
            return reply_of(rule);
        case op::tarpit:
            res.what = rule_outcome::tarpit;
            res.status = rule.status;
            res.response = rule.response;
            res.wait = r.tarpit;
            return res;
        case op::redirect:
            if (auto out = redirect_of(rule, redirect_target(rule, st, h)); out.what != rule_outcome::go_on)
                return out;
            break; // a Location that would split the response: no redirect
        case op::silent_drop:
            res.what = rule_outcome::silent_drop;
            return res;
        case op::reject:
            res.what = rule_outcome::reject;
            return res;
        case op::wait_for_body:
            res.what = rule_outcome::wait_body;
            res.wait = rule.wait;
            res.at_least = rule.at_least;
            res.next = i + 1;
            return res;
        case op::capture:
            if (st.captured.size() < r.req_captures.size()) // the session sized it; a test may not have
                st.captured.resize(r.req_captures.size());
            render(rule.value, st.ctx, st.scratch);
            st.captured[rule.slot].assign(std::string_view(st.scratch).substr(0, static_cast<std::size_t>(rule.status)));
            break;
        case op::set_path:
        case op::set_query:
        case op::set_uri:
            render(rule.value, st.ctx, st.scratch);
            // a path or query goes into the target as it is: no blank, no
            // control (an HTAB splits the request line for some servers)
            if (rule.o == op::set_uri ? !target_ok(st.scratch) : !st.scratch.empty() && !target_ok(st.scratch))
                break;
            set_target_part(h, rule.o, st.scratch);
            changed();
            break;
        case op::set_method:
            render(rule.value, st.ctx, st.scratch);
            if (!field_name_ok(st.scratch)) // a method is a token
                break;
            h.method_string(st.scratch);
            changed();
            break;
        case op::replace_path:
        case op::replace_uri: {
            sv t(h.target().data(), h.target().size());
            sv part = rule.o == op::replace_path ? t.substr(0, t.find('?')) : t;
            if (rule.re->replace(part, rule.repl, st.scratch) && target_ok(st.scratch)) {
                if (rule.o == op::replace_path)
                    st.scratch.append(t.substr(part.size()));
                h.target(st.scratch);
                changed();
            }
            break;
        }
        case op::legacy_deny:
        case op::legacy_allow:
        case op::legacy_pass:
        case op::legacy_tarpit: {
            bool hit = rule.re->search(request_line(h));
            for (std::size_t k = 0; !hit && k < st.req_refs.size(); ++k) {
                st.scratch.assign(st.req_refs[k].name);
                st.scratch += ": ";
                st.scratch.append(st.req_refs[k].value);
                hit = rule.re->search(st.scratch);
            }
            if (!hit)
                break;
            count(rule, st);
            if (rule.o == op::legacy_pass)
                break;
            if (rule.o == op::legacy_allow)
                return res;
            if (rule.o == op::legacy_tarpit) {
                res.what = rule_outcome::tarpit;
                res.status = 500;
                res.wait = r.tarpit;
                res.legacy = true;
                return res;
            }
            res.what = rule_outcome::reply;
            res.status = rule.status;
            res.legacy = true;
            return res;
        }
        case op::legacy_rep:
        case op::legacy_del: {
            if (legacy_rewrite(rule, st, h, request_line(h), [&](sv line) { return set_request_line(h, line); }))
                changed();
            break;
        }
        default:
            if (edit_header(rule, st, h))
                changed();
            break;
        }
    }
    return res;
}

rule_result run_response_rules(const proxy_rules& r, rule_state& st, response_header& h, std::size_t from)
{
    rule_result res;
    r.acls.begin(st.ctx);
    auto changed = [&] {
        view_response(st, h);
        r.acls.invalidate(st.ctx);
    };
    for (std::size_t i = from; i < r.res.size(); ++i) {
        const http_rule& rule = r.res[i];
        if (!applies(r, rule, r.res_gates[i], st, i))
            continue;
        switch (rule.o) {
        case op::allow:
            return res;
        case op::deny:
        case op::ret:
            return reply_of(rule);
        case op::redirect: {
            std::string target;
            render(rule.value, st.ctx, target);
            if (auto out = redirect_of(rule, target); out.what != rule_outcome::go_on)
                return out;
            break; // a Location that would split the response: no redirect
        }
        case op::silent_drop:
            res.what = rule_outcome::silent_drop;
            return res;
        case op::set_status:
            h.result(rule.status);
            h.reason(bsv(rule.reason.empty() ? reason_of(rule.status) : sv(rule.reason)));
            changed();
            break;
        case op::wait_for_body:
            res.what = rule_outcome::wait_body;
            res.wait = rule.wait;
            res.at_least = rule.at_least;
            res.next = i + 1;
            return res;
        case op::legacy_deny: {
            bool hit = rule.re->search(status_line_of(h));
            for (std::size_t k = 0; !hit && k < st.res_refs.size(); ++k) {
                st.scratch.assign(st.res_refs[k].name);
                st.scratch += ": ";
                st.scratch.append(st.res_refs[k].value);
                hit = rule.re->search(st.scratch);
            }
            if (hit) {
                count(rule, st);
                res.what = rule_outcome::reply;
                res.status = 502;
                res.legacy = true;
                return res;
            }
            break;
        }
        case op::legacy_rep:
        case op::legacy_del: {
            if (legacy_rewrite(rule, st, h, status_line_of(h), [&](sv line) { return set_status_line(h, line); }))
                changed();
            break;
        }
        default:
            if (edit_header(rule, st, h))
                changed();
            break;
        }
    }
    return res;
}

rule_outcome run_connection_rules(const proxy_rules& r, rule_state& st)
{
    r.acls.begin(st.ctx);
    std::size_t skip_phase = SIZE_MAX;
    for (const http_rule& rule : r.tcp) {
        if (rule.slot == skip_phase)
            continue;
        if (rule.cond && !r.acls.eval(st.ctx, *rule.cond))
            continue;
        count(rule, st);
        if (rule.o == op::allow)
            skip_phase = rule.slot; // accept: the rest of this phase is skipped
        else
            return rule.o == op::reject ? rule_outcome::reject : rule_outcome::silent_drop;
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
