// SPDX-License-Identifier: Apache-2.0
// Keywords of the proxy sections: defaults, frontend, backend, listen. Here:
// their one table (proxy_keywords), mode, balance, timeouts, options,
// errorfile and the small keywords. Bind and server lines are parsed in
// kw_lines.cpp, ACL, switching and rule lines in kw_rules.cpp.
#include "controlplane/kw_proxy.hpp"
#include "proxy/check_expect.hpp"
#include "proxy/registry.hpp"
#include "rules/regex.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <fstream>
#include <sys/stat.h>

namespace bulwark::controlplane {

namespace proxy_kw {

std::string join(std::span<const std::string> w, std::size_t from)
{
    std::string s;
    for (std::size_t i = from; i < w.size(); ++i)
        s += (i > from ? " " : "") + w[i];
    return s;
}

std::string read_small(const std::string& path, std::size_t limit, bool& ok)
{
    std::ifstream in(path, std::ios::binary);
    ok = bool(in);
    std::string s;
    if (!ok)
        return s;
    s.resize(limit + 1);
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    s.resize(static_cast<std::size_t>(in.gcount()));
    return s;
}

} // namespace proxy_kw

namespace {

// the keyword functions of kw_lines.cpp and kw_rules.cpp, for the table
using namespace proxy_kw;

constexpr auto L = bulwark::proxy::pending_later;

// ---- mode, maxconn, balance ------------------------------------------------

void kw_mode(parse_ctx& c)
{
    if (!c.args(1, 1, "mode http|tcp"))
        return;
    const std::string& m = c.words[1];
    if (m == "health")
        return c.alert("'mode health' was removed from HAProxy in 2.4: use 'monitor-uri' or 'http-request return'");
    if (m != "http" && m != "tcp")
        return c.alert(fmt::format("unknown mode '{}', {}", m, expected_one_of(m, {"http", "tcp"})));
    c.px->mode = m == "http" ? proxy_mode::http : proxy_mode::tcp;
    c.px->mode_set = true;
}

void kw_maxconn(parse_ctx& c) { c.int_arg(0, 10'000'000, &c.px->maxconn); }

void kw_balance(parse_ctx& c)
{
    if (!c.args(1, 3, "balance ALGORITHM [ARGS]"))
        return;
    const std::string& a = c.words[1];
    static const std::vector<std::string_view> algos{"roundrobin", "static-rr", "leastconn", "first", "source",
                                                     "uri", "url_param", "hdr", "random", "rdp-cookie"};
    std::string_view base = std::string_view(a).substr(0, a.find('('));
    if (std::find(algos.begin(), algos.end(), base) == algos.end())
        return c.alert(fmt::format("unknown algorithm '{}', {}", a, expected_one_of(a, algos)));
    if (base == "url_param" && c.words.size() < 3)
        return c.alert("'url_param' expects a parameter name");
    c.px->balance = std::string(base);
    if (base != "roundrobin" && base != "leastconn" && base != "source")
        c.pending(fmt::format("balance {}", base), L);
}

// ---- timeout ------------------------------------------------------------

struct timeout_kw {
    std::string_view name;
    unsigned sections;
    std::optional<ms> timeouts::*field;
    std::string_view pending;
};

constexpr std::array timeout_table{
    timeout_kw{"client", sec_fe, &timeouts::client, {}},
    timeout_kw{"client-fin", sec_fe, &timeouts::client_fin, {}},
    timeout_kw{"http-request", sec_fe | sec_be, &timeouts::http_request, {}},
    timeout_kw{"http-keep-alive", sec_fe | sec_be, &timeouts::http_keep_alive, {}},
    timeout_kw{"server", sec_be, &timeouts::server, {}},
    timeout_kw{"server-fin", sec_be, &timeouts::server_fin, {}},
    timeout_kw{"connect", sec_be, &timeouts::connect, {}},
    timeout_kw{"queue", sec_be, &timeouts::queue, {}},
    timeout_kw{"tunnel", sec_be, &timeouts::tunnel, {}},
    timeout_kw{"check", sec_be, &timeouts::check, {}},
    timeout_kw{"tarpit", sec_fe | sec_be, &timeouts::tarpit, {}},
};

void set_timeout(parse_ctx& c, std::string_view which, std::string_view value, std::string_view kw)
{
    std::vector<std::string_view> names;
    for (const auto& t : timeout_table)
        names.push_back(t.name);
    for (const auto& t : timeout_table) {
        if (t.name != which)
            continue;
        auto v = parse_time(value);
        if (!v)
            return c.alert_kw(kw, v.message());
        if (!(t.sections & c.sec)) {
            c.warn_kw(kw, fmt::format("'timeout {}' ignored: a {} has no {} capability", which,
                                      section_name(c.sec), t.sections & sec_backend ? "backend" : "frontend"));
            return;
        }
        c.px->timeout.*t.field = *v;
        c.pending(fmt::format("timeout {}", which), t.pending);
        return;
    }
    c.alert_kw(kw, fmt::format("unknown timeout '{}', {}", which, expected_one_of(which, names)));
}

void kw_timeout(parse_ctx& c)
{
    if (c.words.size() == 1)
        return c.alert("missing timeout name, expected 'timeout NAME TIME'");
    if (c.words.size() == 2) {
        // an unknown name gets its own message before the missing value
        bool known = std::any_of(timeout_table.begin(), timeout_table.end(),
                                 [&](auto& t) { return t.name == c.words[1]; });
        if (known)
            return c.alert(fmt::format("missing time, expected 'timeout {} TIME'", c.words[1]));
        return set_timeout(c, c.words[1], "", "timeout");
    }
    if (!c.args(2, 2, "timeout NAME TIME"))
        return;
    set_timeout(c, c.words[1], c.words[2], "timeout");
}

// clitimeout/srvtimeout/contimeout: removed from HAProxy, loaded with a warning.
void kw_old_timeout(parse_ctx& c)
{
    std::string_view modern = c.words[0] == "clitimeout" ? "client" : c.words[0] == "srvtimeout" ? "server" : "connect";
    if (!c.args(1, 1, fmt::format("timeout {} TIME", modern)))
        return;
    c.warn(fmt::format("removed from HAProxy in 2.1; loaded as: timeout {} {}", modern, c.words[1]));
    set_timeout(c, modern, c.words[1], c.words[0]);
}

// ---- option --------------------------------------------------------------

enum class optargs : std::uint8_t { none, some };

struct option_kw {
    std::string_view name;
    unsigned sections;
    optargs args;
    std::string_view pending;
};

constexpr std::array option_table{
    option_kw{"http-buffer-request", sec_fe | sec_be, optargs::none, {}},
    option_kw{"httplog", sec_fe | sec_be, optargs::some, {}},
    option_kw{"tcplog", sec_fe | sec_be, optargs::none, {}},
    option_kw{"dontlognull", sec_fe, optargs::none, {}},
    option_kw{"dontlog-normal", sec_fe, optargs::none, L},
    option_kw{"log-separate-errors", sec_fe, optargs::none, L},
    option_kw{"forwardfor", sec_fe | sec_be, optargs::some, {}},
    option_kw{"httpclose", sec_fe | sec_be, optargs::none, {}},
    option_kw{"http-server-close", sec_fe | sec_be, optargs::none, {}},
    option_kw{"http-keep-alive", sec_fe | sec_be, optargs::none, L},
    option_kw{"http-ignore-probes", sec_fe, optargs::none, {}},
    option_kw{"http-no-delay", sec_fe | sec_be, optargs::none, L},
    option_kw{"redispatch", sec_be, optargs::some, {}},
    option_kw{"httpchk", sec_be, optargs::some, {}},
    option_kw{"tcp-check", sec_be, optargs::none, L},
    option_kw{"ssl-hello-chk", sec_be, optargs::none, L},
    option_kw{"log-health-checks", sec_be, optargs::none, L},
    option_kw{"abortonclose", sec_be, optargs::none, {}},
    option_kw{"allbackups", sec_be, optargs::none, {}},
    option_kw{"prefer-last-server", sec_be, optargs::none, L},
    option_kw{"clitcpka", sec_fe, optargs::none, L},
    option_kw{"srvtcpka", sec_be, optargs::none, L},
    option_kw{"tcpka", sec_fe | sec_be, optargs::none, L},
    option_kw{"nolinger", sec_fe | sec_be, optargs::none, L},
    option_kw{"splice-auto", sec_fe | sec_be, optargs::none, L},
    option_kw{"logasap", sec_fe, optargs::none, L},
    option_kw{"accept-invalid-http-request", sec_fe, optargs::none, L},
    option_kw{"accept-invalid-http-response", sec_be, optargs::none, L},
};

// The arguments of the options whose arguments are built: alerts and
// returns false on a bad one.
bool option_args_ok(parse_ctx& c, std::string_view kw, const std::string& name, const std::vector<std::string>& a)
{
    if (name == "redispatch") { // [INTERVAL]: every INTERVALth retry; < 0: the Nth before last; 0: never
        if (a.size() > 1)
            return c.alert_kw(kw, fmt::format("'redispatch' takes at most an interval, found '{}'", a[1])), false;
        if (a.size() == 1)
            if (auto n = parse_int(a[0], INT32_MIN, INT32_MAX); !n)
                return c.alert_kw(kw, fmt::format("'redispatch': {}", n.message())), false;
        return true;
    }
    if (name == "httpchk") { // [METHOD] [URI] [VERSION]
        if (a.size() > 3)
            return c.alert_kw(kw, fmt::format("'httpchk' takes at most METHOD URI VERSION, found '{}'", a[3])), false;
        return true;
    }
    // forwardfor [except NETWORK] [header NAME] [if-none]
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == "if-none")
            continue;
        if (a[i] != "except" && a[i] != "header") {
            auto best = closest(a[i], std::vector<std::string_view>{"except", "header", "if-none"});
            return c.alert_kw(kw, fmt::format("'forwardfor': unknown argument '{}', expected 'except', 'header' or "
                                              "'if-none'{}",
                                              a[i], best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best))),
                   false;
        }
        if (i + 1 >= a.size())
            return c.alert_kw(kw, fmt::format("'forwardfor': '{}' needs a value", a[i])), false;
        if (a[i] == "except") {
            if (auto n = parse_cidr(a[i + 1]); !n)
                return c.alert_kw(kw, fmt::format("'forwardfor': except: {}", n.message())), false;
        } else if (a[i + 1].find_first_of(" \t:\r\n") != std::string::npos || a[i + 1].empty()) {
            return c.alert_kw(kw, fmt::format("'forwardfor': '{}' is not a header name", a[i + 1])), false;
        }
        ++i;
    }
    return true;
}

void set_option(parse_ctx& c, bool on, std::size_t at)
{
    std::string_view kw = on ? "option" : "no option";
    if (at >= c.words.size())
        return c.alert_kw(kw, "missing option name");
    const std::string& name = c.words[at];
    for (const auto& o : option_table) {
        if (o.name != name)
            continue;
        if (o.args == optargs::none && c.words.size() > at + 1)
            return c.alert_kw(kw, fmt::format("'{}' takes no argument, found '{}'", name, c.words[at + 1]));
        if (!on && c.words.size() > at + 1)
            return c.alert_kw(kw, fmt::format("'no option {}' takes no argument", name));
        if (!(o.sections & c.sec))
            return c.warn_kw(kw, fmt::format("'{}' ignored: it has no effect in a {} section", name,
                                             section_name(c.sec)));
        std::vector<std::string> args(c.words.begin() + static_cast<long>(at) + 1, c.words.end());
        bool args_built = args.empty();
        if (name == "forwardfor" || name == "httpchk" || name == "redispatch") {
            if (!option_args_ok(c, kw, name, args))
                return;
            args_built = true;
        }
        c.px->options[name] = on;
        c.px->option_args[name] = std::move(args);
        c.pending(fmt::format("{} {}", kw, name), o.pending);
        if (o.pending.empty() && !args_built) // built, but not its arguments yet
            c.pending(fmt::format("{} {} {}", kw, name, c.words[at + 1]), L);
        return;
    }
    if (name == "forceclose")
        return c.alert_kw(kw, "'forceclose' was removed from HAProxy in 1.9: use 'option httpclose'");
    std::vector<std::string_view> names;
    for (const auto& o : option_table)
        names.push_back(o.name);
    auto best = closest(name, names);
    c.alert_kw(kw, fmt::format("unknown option '{}'{}", name,
                               best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best)));
}

void kw_option(parse_ctx& c) { set_option(c, true, 1); }

void kw_no(parse_ctx& c)
{
    if (c.words.size() < 2 || c.words[1] != "option")
        return c.alert("expected 'no option NAME'");
    set_option(c, false, 2);
}

// ---- errorfile ----------------------------------------------------------

constexpr std::array<std::string_view, 17> error_codes{"200", "400", "401", "403", "404", "405", "407", "408", "410",
                                                       "413", "425", "429", "500", "501", "502", "503", "504"};

void kw_errorfile(parse_ctx& c)
{
    if (!c.args(2, 2, "errorfile STATUS FILE"))
        return;
    std::vector<std::string_view> codes(error_codes.begin(), error_codes.end());
    if (std::find(codes.begin(), codes.end(), c.words[1]) == codes.end())
        return c.alert(fmt::format("unsupported status '{}', expected one of 200, 400, 401, 403, 404, 405, 407, "
                                   "408, 410, 413, 425, 429, 500, 501, 502, 503, 504",
                                   c.words[1]));
    std::string path = c.resolve(c.words[2]);
    if (struct stat sb{}; stat(path.c_str(), &sb) == 0 && !S_ISREG(sb.st_mode))
        return c.alert(fmt::format("error file '{}' is not a regular file", path));
    bool ok;
    std::size_t limit = c.cfg.global.tune_bufsize;
    std::string body = read_small(path, limit, ok);
    if (!ok)
        return c.alert(fmt::format("unable to read error file '{}': no such file or no permission", path));
    if (body.size() > limit)
        return c.alert(fmt::format("error file '{}' is larger than tune.bufsize ({} bytes)", path, limit));
    // A full HTTP response: status line, headers, empty line.
    if (!body.starts_with("HTTP/1.0 ") && !body.starts_with("HTTP/1.1 "))
        return c.alert(fmt::format("error file '{}' must start with an HTTP status line ('HTTP/1.0 503 ...')", path));
    if (body.find("\n\n") == std::string::npos && body.find("\r\n\r\n") == std::string::npos)
        return c.alert(fmt::format("error file '{}' has no empty line ending its headers", path));
    c.px->errorfiles[std::stoi(c.words[1])] = std::move(body);
}

// ---- small keywords -------------------------------------------------------

void kw_words(parse_ctx& c) { c.args(1, -1, fmt::format("{} ...", c.words[0])); }

void kw_int(parse_ctx& c) { c.int_arg(0, INT32_MAX); }

void kw_retries(parse_ctx& c) { c.int_arg(0, INT32_MAX, &c.px->retries); }

// stick-table type ip|ipv6|integer|string [len N] size N [expire T] [store LIST]:
// one per section, named after it (HAProxy: "only one stick-table per proxy").
void kw_stick_table(parse_ctx& c)
{
    if (!c.args(2, -1, "stick-table type ip|ipv6|integer|string [len N] size N [expire T] [store LIST]"))
        return;
    if (c.px->stick_table)
        return c.alert("only one stick-table per proxy");
    std::vector<std::string> words(c.words.begin() + 1, c.words.end());
    auto p = bulwark::proxy::parse_stick_table(words, c.px->name);
    if (!p.cfg)
        return c.alert(p.error);
    c.px->stick_table = std::move(*p.cfg);
}

// disabled / enabled: the last one in the section (or its defaults) wins.
void kw_disabled(parse_ctx& c)
{
    if (c.args(0, 0, c.words[0]))
        c.px->disabled = c.words[0] == "disabled";
}

// http-check expect [!] status|rstatus|string|rstring PATTERN. The other
// http-check directives (send, connect, ...) are not built.
void kw_http_check(parse_ctx& c)
{
    if (!c.args(1, -1, "http-check expect [!] status|rstatus|string|rstring PATTERN"))
        return;
    if (c.words[1] != "expect")
        return c.pending(fmt::format("http-check {}", c.words[1]), L);
    std::size_t i = 2;
    bulwark::proxy::http_expect e;
    e.at = c.here();
    if (i < c.words.size() && c.words[i] == "!") {
        e.negate = true;
        ++i;
    }
    static const std::vector<std::string_view> kinds{"status", "rstatus", "string", "rstring"};
    if (i + 2 != c.words.size() || std::find(kinds.begin(), kinds.end(), c.words[i]) == kinds.end()) {
        std::string found = i < c.words.size() ? c.words[i] : "";
        if (i < c.words.size() && std::find(kinds.begin(), kinds.end(), found) == kinds.end())
            return c.alert(fmt::format("'expect': unknown match '{}', {}", found, expected_one_of(found, kinds)));
        return c.alert("expected 'http-check expect [!] status|rstatus|string|rstring PATTERN'");
    }
    e.match = c.words[i];
    e.pattern = c.words[i + 1];
    if (e.match == "status") {
        if (!bulwark::proxy::parse_status_list(e.pattern))
            return c.alert(fmt::format("'expect status': '{}' is not a status, a range or a list of them "
                                       "('200', '200-399', '200,302')",
                                       e.pattern));
    } else if (e.match[0] == 'r') {
        if (auto err = rules::check_regex(e.pattern, false); !err.empty())
            return c.alert(fmt::format("'expect {}': {}", e.match, err));
    }
    c.px->check_expect = std::move(e);
}

// log global | log TARGET ... (parse_log_line): a section's own targets.
void kw_log(parse_ctx& c)
{
    if (c.words.size() >= 2 && c.words[1] == "global") {
        if (c.words.size() > 2)
            return c.alert("'log global' takes no more arguments");
        c.px->log_global = true;
        return;
    }
    if (auto t = parse_log_line(c))
        c.px->logs.push_back(std::move(*t));
}

// ---- the section table ---------------------------------------------------

constexpr unsigned A = sec_proxies, FE = sec_fe, BE = sec_be, FLB = sec_fe_be;

constexpr std::array table{
    section_kw{"mode", A, kw_mode, {}},
    section_kw{"bind", sec_frontend | sec_listen, kw_bind, {}},
    section_kw{"server", sec_backend | sec_listen, kw_server, {}},
    section_kw{"default-server", BE, kw_default_server, pending_varies},
    section_kw{"balance", BE, kw_balance, pending_varies},
    section_kw{"timeout", A, kw_timeout, pending_varies},
    section_kw{"clitimeout", A, kw_old_timeout, pending_varies},
    section_kw{"srvtimeout", A, kw_old_timeout, pending_varies},
    section_kw{"contimeout", A, kw_old_timeout, pending_varies},
    section_kw{"option", A, kw_option, pending_varies},
    section_kw{"no", A, kw_no, pending_varies},
    section_kw{"maxconn", FE, kw_maxconn, {}},
    section_kw{"fullconn", BE, kw_int, L},
    section_kw{"retries", BE, kw_retries, {}},
    section_kw{"log", A, kw_log, {}},
    section_kw{"log-format", A, kw_words, L},
    section_kw{"acl", FLB, kw_acl, {}},
    section_kw{"use_backend", sec_frontend | sec_listen, kw_use_backend, pending_varies},
    section_kw{"default_backend", FE, kw_default_backend, {}},
    section_kw{"http-request", FLB, kw_http_rule, pending_varies},
    section_kw{"http-response", FLB, kw_http_rule, pending_varies},
    section_kw{"tcp-request", FLB, kw_tcp_rule, pending_varies},
    section_kw{"tcp-response", sec_backend | sec_listen, kw_tcp_rule, pending_varies},
    section_kw{"redirect", FLB, kw_redirect, pending_varies},
    section_kw{"capture", sec_frontend | sec_listen, kw_capture, pending_varies},
    section_kw{"errorfile", A, kw_errorfile, {}},
    section_kw{"description", A, kw_words, {}},
    section_kw{"disabled", A, kw_disabled, {}},
    section_kw{"enabled", A, kw_disabled, {}},
    section_kw{"id", FLB, kw_int, {}},
    section_kw{"cookie", BE, kw_words, L},
    section_kw{"stats", A, kw_words, L},
    section_kw{"monitor-uri", FE, kw_words, L},
    section_kw{"unique-id-format", FE, kw_words, L},
    section_kw{"unique-id-header", FE, kw_words, L},
    section_kw{"http-check", BE, kw_http_check, pending_varies},
    section_kw{"stick-table", FLB, kw_stick_table, {}},
    section_kw{"hash-type", BE, kw_words, L},
    section_kw{"http-reuse", BE, kw_words, L},
    section_kw{"compression", A, kw_words, L},
    section_kw{"rate-limit", FE, kw_words, L},
    section_kw{"block", FLB, kw_block, {}},
    section_kw{"reqadd", FLB, kw_add_header_legacy, pending_varies},
    section_kw{"rspadd", FLB, kw_add_header_legacy, pending_varies},
    // The regex directives HAProxy removed in 2.1, kept with their 1.x meaning.
    section_kw{"reqdeny", FLB, parse_legacy, pending_varies},
    section_kw{"reqideny", FLB, parse_legacy, pending_varies},
    section_kw{"reqallow", FLB, parse_legacy, pending_varies},
    section_kw{"reqiallow", FLB, parse_legacy, pending_varies},
    section_kw{"reqpass", FLB, parse_legacy, pending_varies},
    section_kw{"reqipass", FLB, parse_legacy, pending_varies},
    section_kw{"reqtarpit", FLB, parse_legacy, pending_varies},
    section_kw{"reqitarpit", FLB, parse_legacy, pending_varies},
    section_kw{"reqdel", FLB, parse_legacy, pending_varies},
    section_kw{"reqidel", FLB, parse_legacy, pending_varies},
    section_kw{"reqrep", FLB, parse_legacy, pending_varies},
    section_kw{"reqirep", FLB, parse_legacy, pending_varies},
    section_kw{"rspdeny", FLB, parse_legacy, pending_varies},
    section_kw{"rspideny", FLB, parse_legacy, pending_varies},
    section_kw{"rspdel", FLB, parse_legacy, pending_varies},
    section_kw{"rspidel", FLB, parse_legacy, pending_varies},
    section_kw{"rsprep", FLB, parse_legacy, pending_varies},
    section_kw{"rspirep", FLB, parse_legacy, pending_varies},
};

} // namespace

std::span<const section_kw> proxy_keywords() { return table; }

void list_proxy_subkeywords(
    const std::function<void(std::string_view, std::string_view, std::string_view)>& f)
{
    for (const auto& t : timeout_table)
        f("timeout", t.name, t.pending);
    for (const auto& o : option_table)
        f("option", o.name, o.pending);
    for (const auto& b : proxy_kw::bind_option_rows())
        f("bind-opt", b.name, b.pending);
    for (const auto& sv : proxy_kw::server_option_rows())
        f("server-opt", sv.name, sv.pending);
}

} // namespace bulwark::controlplane
