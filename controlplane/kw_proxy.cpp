// SPDX-License-Identifier: Apache-2.0
// Keywords of the proxy sections: defaults, frontend, backend, listen.
#include "controlplane/parse_ctx.hpp"
#include "proxy/registry.hpp"

#include <array>
#include <fmt/format.h>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <dirent.h>

namespace bulwark::controlplane {

namespace {

constexpr auto T = bulwark::proxy::pending_tls;
constexpr auto L = bulwark::proxy::pending_later;
constexpr auto HD = bulwark::proxy::pending_hardening;

std::string join(std::span<const std::string> w, std::size_t from = 0)
{
    std::string s;
    for (std::size_t i = from; i < w.size(); ++i)
        s += (i > from ? " " : "") + w[i];
    return s;
}

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
    option_kw{"redispatch", sec_be, optargs::some, HD},
    option_kw{"httpchk", sec_be, optargs::some, {}},
    option_kw{"tcp-check", sec_be, optargs::none, L},
    option_kw{"ssl-hello-chk", sec_be, optargs::none, L},
    option_kw{"log-health-checks", sec_be, optargs::none, L},
    option_kw{"abortonclose", sec_be, optargs::none, HD},
    option_kw{"allbackups", sec_be, optargs::none, HD},
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
        if (name == "forwardfor" || name == "httpchk") {
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

// ---- certificate and file checks -----------------------------------------

bool pem_has(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

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

// A PEM file must hold a certificate and a private key (in it, or in FILE.key).
std::string check_pem(const std::string& path)
{
    bool ok;
    std::string text = read_small(path, 1 << 20, ok);
    if (!ok)
        return fmt::format("unable to read SSL certificate file '{}'", path);
    if (!pem_has(text, "-----BEGIN CERTIFICATE-----"))
        return fmt::format("'{}' holds no PEM certificate", path);
    if (!pem_has(text, "PRIVATE KEY-----")) {
        std::string key = read_small(path + ".key", 1 << 20, ok);
        if (!ok || !pem_has(key, "PRIVATE KEY-----"))
            return fmt::format("'{}' holds no private key (nor does '{}.key')", path, path);
    }
    return {};
}

// crt PATH: a PEM file, or a directory whose files are each loaded (.key,
// .ocsp, .issuer, .sctl side files aside), as HAProxy does.
std::string check_crt(const std::string& path, int& loaded)
{
    struct stat sb{};
    if (stat(path.c_str(), &sb) != 0)
        return fmt::format("unable to stat SSL certificate from file '{}': no such file or directory", path);
    if (!S_ISDIR(sb.st_mode)) {
        if (!S_ISREG(sb.st_mode))
            return fmt::format("'{}' is neither a file nor a directory", path);
        loaded = 1;
        return check_pem(path);
    }
    DIR* d = opendir(path.c_str());
    if (!d)
        return fmt::format("unable to read directory '{}'", path);
    std::vector<std::string> files;
    while (auto* e = readdir(d)) {
        std::string n = e->d_name;
        if (n.starts_with("."))
            continue;
        bool side = false;
        for (std::string_view ext : {".key", ".ocsp", ".issuer", ".sctl"})
            side = side || n.ends_with(ext);
        std::string full = path + (path.ends_with("/") ? "" : "/") + n;
        struct stat fsb{};
        if (!side && stat(full.c_str(), &fsb) == 0 && S_ISREG(fsb.st_mode))
            files.push_back(full);
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        if (auto e = check_pem(f); !e.empty())
            return e;
    loaded = static_cast<int>(files.size());
    if (files.empty())
        return fmt::format("directory '{}' holds no certificate", path);
    return {};
}

std::string crt_path(parse_ctx& c, const std::string& p)
{
    if (!p.empty() && p.front() != '/' && !c.st.crt_base.empty())
        return c.st.crt_base + "/" + p;
    return c.resolve(p);
}

// ---- bind ---------------------------------------------------------------

enum class argk : std::uint8_t { none, word, time, integer, path, choice };

// An option of a bind or server line: "ssl", "crt FILE", "inter 2s", ...
struct line_option {
    std::string_view name;
    argk a;
    std::string_view choices;  // argk::choice: "a|b|c"
    std::string_view pending;
};

constexpr std::array bind_table{
    line_option{"ssl", argk::none, {}, T},          line_option{"crt", argk::path, {}, T},
    line_option{"crt-list", argk::path, {}, T},     line_option{"ca-file", argk::path, {}, T},
    line_option{"crl-file", argk::path, {}, T},     line_option{"verify", argk::choice, "none|optional|required", T},
    line_option{"no-sslv3", argk::none, {}, T},     line_option{"no-tlsv10", argk::none, {}, T},
    line_option{"no-tlsv11", argk::none, {}, T},    line_option{"no-tlsv12", argk::none, {}, T},
    line_option{"no-tlsv13", argk::none, {}, T},    line_option{"no-tls-tickets", argk::none, {}, T},
    line_option{"force-tlsv12", argk::none, {}, T}, line_option{"force-tlsv13", argk::none, {}, T},
    line_option{"ssl-min-ver", argk::choice, "SSLv3|TLSv1.0|TLSv1.1|TLSv1.2|TLSv1.3", T},
    line_option{"ssl-max-ver", argk::choice, "SSLv3|TLSv1.0|TLSv1.1|TLSv1.2|TLSv1.3", T},
    line_option{"ciphers", argk::word, {}, T},      line_option{"ciphersuites", argk::word, {}, T},
    line_option{"curves", argk::word, {}, T},       line_option{"ecdhe", argk::word, {}, T},
    line_option{"alpn", argk::word, {}, T},         line_option{"npn", argk::word, {}, T},
    line_option{"strict-sni", argk::none, {}, T},   line_option{"prefer-client-ciphers", argk::none, {}, T},
    line_option{"allow-0rtt", argk::none, {}, T},
    line_option{"accept-proxy", argk::none, {}, T}, line_option{"user", argk::word, {}, HD},
    line_option{"group", argk::word, {}, HD},        line_option{"uid", argk::integer, {}, HD},
    line_option{"gid", argk::integer, {}, HD},       line_option{"mode", argk::word, {}, HD},
    line_option{"name", argk::word, {}, {}},        line_option{"id", argk::integer, {}, {}},
    line_option{"maxconn", argk::integer, {}, L},   line_option{"backlog", argk::integer, {}, L},
    line_option{"v4v6", argk::none, {}, L},         line_option{"v6only", argk::none, {}, L},
    line_option{"transparent", argk::none, {}, L},  line_option{"interface", argk::word, {}, L},
    line_option{"defer-accept", argk::none, {}, L}, line_option{"tfo", argk::none, {}, L},
    line_option{"nice", argk::integer, {}, L},      line_option{"thread", argk::word, {}, L},
    line_option{"tcp-ut", argk::time, {}, L},       line_option{"level", argk::word, {}, L},
};

// One "KEY [ARG]" option at words[i]: checks the argument as the row says.
// Returns the number of words it takes, 0 on error (alerted).
std::size_t take_option(parse_ctx& c, std::span<const line_option> table, std::size_t i, const line_option*& found)
{
    const std::string& w = c.words[i];
    found = nullptr;
    for (const auto& r : table)
        if (r.name == w)
            found = &r;
    if (!found) {
        std::vector<std::string_view> names;
        for (const auto& r : table)
            names.push_back(r.name);
        auto best = closest(w, names);
        c.alert(fmt::format("unknown option '{}'{}", w,
                            best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best)));
        return 0;
    }
    if (found->a == argk::none)
        return 1;
    if (i + 1 >= c.words.size()) {
        c.alert(fmt::format("'{}' expects an argument", w));
        return 0;
    }
    const std::string& v = c.words[i + 1];
    switch (found->a) {
    case argk::time:
        if (auto t = parse_time(v); !t) {
            c.alert(fmt::format("'{}': {}", w, t.message()));
            return 0;
        }
        break;
    case argk::integer:
        if (auto n = parse_int(v, 0, INT32_MAX); !n) {
            c.alert(fmt::format("'{}': {}", w, n.message()));
            return 0;
        }
        break;
    case argk::choice: {
        auto ch = split(found->choices, '|');
        if (std::find(ch.begin(), ch.end(), v) == ch.end()) {
            c.alert(fmt::format("'{}': unknown value '{}', {}", w, v, expected_one_of(v, ch)));
            return 0;
        }
        break;
    }
    default:
        break;
    }
    return 2;
}

// Walks the options of a bind or server line from words[from], calling
// apply(option, argument) for each; apply returns false on an error it
// alerted. Options not built yet get their warning once per line. False
// when anything failed.
template <class Apply>
bool for_each_option(parse_ctx& c, std::size_t from, std::span<const line_option> table, Apply apply)
{
    std::vector<const line_option*> pend;
    for (std::size_t i = from; i < c.words.size();) {
        const line_option* row;
        std::size_t n = take_option(c, table, i, row);
        if (n == 0 || !apply(c.words[i], n == 2 ? c.words[i + 1] : std::string()))
            return false;
        if (!row->pending.empty() && std::find(pend.begin(), pend.end(), row) == pend.end())
            pend.push_back(row);
        i += n;
    }
    for (const auto* row : pend)
        c.pending(fmt::format("{} {}", c.words[0], row->name), row->pending);
    return true;
}

void kw_bind(parse_ctx& c)
{
    if (!c.args(1, -1, "bind ADDRESS[,ADDRESS...] [options]"))
        return;
    std::vector<address> addrs;
    for (auto part : split(c.words[1], ',')) {
        auto a = parse_address(part, port_need::range_ok);
        if (!a)
            return c.alert(a.message());
        addrs.push_back(*a);
    }
    bind_line b;
    b.at = c.here();
    bool ok = for_each_option(c, 2, bind_table, [&](const std::string& w, const std::string& arg) {
        b.options.push_back(w);
        if (w == "ssl") {
            b.ssl = true;
        } else if (w == "accept-proxy") {
            b.accept_proxy = true;
        } else if (w == "crt") {
            std::string path = crt_path(c, arg);
            int loaded = 0;
            if (auto e = check_crt(path, loaded); !e.empty()) {
                c.alert(e);
                return false;
            }
            b.crts.push_back(path);
        } else if (w == "crt-list" || w == "ca-file" || w == "crl-file") {
            std::string path = c.resolve(arg);
            if (struct stat sb{}; stat(path.c_str(), &sb) != 0) {
                c.alert(fmt::format("'{}': unable to load '{}': no such file", w, path));
                return false;
            }
        } else if ((w == "user" && !getpwnam(arg.c_str())) || (w == "group" && !getgrnam(arg.c_str()))) {
            c.alert(fmt::format("unknown {} '{}'", w, arg));
            return false;
        }
        return true;
    });
    if (!ok)
        return;
    if (b.ssl && b.crts.empty() && std::find(b.options.begin(), b.options.end(), "crt-list") == b.options.end())
        return c.alert("'ssl' needs a certificate: add 'crt FILE' or 'crt-list FILE'");
    if (!b.ssl && !b.crts.empty())
        c.warn("'crt' given without 'ssl': the certificate is not used");
    for (auto& a : addrs) {
        if (a.k == address::kind::host) // served: ip, unix@, abns@
            c.pending(fmt::format("bind {}", a.str()), L);
        b.addr = a;
        c.px->binds.push_back(b);
    }
}

// ---- server -------------------------------------------------------------


constexpr std::array server_table{
    line_option{"check", argk::none, {}, {}},        line_option{"inter", argk::time, {}, {}},
    line_option{"fastinter", argk::time, {}, L},    line_option{"downinter", argk::time, {}, L},
    line_option{"rise", argk::integer, {}, {}},      line_option{"fall", argk::integer, {}, {}},
    line_option{"maxconn", argk::integer, {}, {}},  line_option{"maxqueue", argk::integer, {}, HD},
    line_option{"minconn", argk::integer, {}, L},   line_option{"weight", argk::integer, {}, {}},
    line_option{"backup", argk::none, {}, HD},       line_option{"disabled", argk::none, {}, HD},
    line_option{"enabled", argk::none, {}, HD},      line_option{"send-proxy", argk::none, {}, T},
    line_option{"send-proxy-v2", argk::none, {}, T}, line_option{"send-proxy-v2-ssl", argk::none, {}, T},
    line_option{"check-send-proxy", argk::none, {}, T},
    line_option{"ssl", argk::none, {}, T},          line_option{"verify", argk::choice, "none|required", T},
    line_option{"verifyhost", argk::word, {}, T},   line_option{"sni", argk::word, {}, T},
    line_option{"ca-file", argk::path, {}, T},      line_option{"crt", argk::path, {}, T},
    line_option{"no-sslv3", argk::none, {}, T},     line_option{"check-ssl", argk::none, {}, T},
    line_option{"ssl-min-ver", argk::choice, "SSLv3|TLSv1.0|TLSv1.1|TLSv1.2|TLSv1.3", T},
    line_option{"ssl-max-ver", argk::choice, "SSLv3|TLSv1.0|TLSv1.1|TLSv1.2|TLSv1.3", T},
    line_option{"alpn", argk::word, {}, T},         line_option{"cookie", argk::word, {}, L},
    line_option{"port", argk::integer, {}, L},      line_option{"addr", argk::word, {}, L},
    line_option{"slowstart", argk::time, {}, L},    line_option{"on-marked-down", argk::choice, "shutdown-sessions", L},
    line_option{"on-marked-up", argk::choice, "shutdown-backup-sessions", L},
    line_option{"on-error", argk::choice, "fastinter|fail-check|sudden-death|mark-down", L},
    line_option{"observe", argk::choice, "layer4|layer7", L},
    line_option{"error-limit", argk::integer, {}, L}, line_option{"resolvers", argk::word, {}, L},
    line_option{"resolve-prefer", argk::choice, "ipv4|ipv6", L}, line_option{"init-addr", argk::word, {}, L},
    line_option{"proto", argk::word, {}, L},        line_option{"pool-max-conn", argk::integer, {}, L},
    line_option{"track", argk::word, {}, L},        line_option{"id", argk::integer, {}, {}},
    line_option{"source", argk::word, {}, L},       line_option{"tfo", argk::none, {}, L},
};

bool server_options(parse_ctx& c, std::size_t from, server_line& s)
{
    return for_each_option(c, from, server_table, [&](const std::string& w, const std::string& arg) {
        auto intval = [&](int& out, std::int64_t lo, std::int64_t hi) {
            auto v = parse_int(arg, lo, hi);
            if (!v)
                c.alert(fmt::format("'{}': {}", w, v.message()));
            else
                out = static_cast<int>(*v);
            return v.ok();
        };
        int port = 0;
        if (w == "check")
            s.check = true;
        else if (w == "inter")
            s.inter = *parse_time(arg);
        else if (w == "rise")
            return intval(s.rise, 1, 1000);
        else if (w == "fall")
            return intval(s.fall, 1, 1000);
        else if (w == "maxconn")
            return intval(s.maxconn, 0, 10'000'000);
        else if (w == "weight")
            return intval(s.weight, 0, 256);
        else if (w == "port")
            return intval(port, 1, 65535);
        else if (w == "backup")
            s.backup = true;
        else if (w == "send-proxy")
            s.send_proxy = true;
        else if (w == "send-proxy-v2")
            s.send_proxy_v2 = true;
        else if (w == "ssl")
            s.ssl = true;
        return true;
    });
}

void kw_server(parse_ctx& c)
{
    if (!c.args(2, -1, "server NAME ADDRESS [options]"))
        return;
    server_line s;
    s.at = c.here();
    s.name = c.words[1];
    for (const auto& other : c.px->servers)
        if (other.name == s.name)
            return c.alert(fmt::format("duplicate server name '{}' (first at line {})", s.name, other.at.line));
    for (const auto& r : server_table)
        if (r.name == c.words[2]) // "server backend_1 check": the address was left out
            return c.alert(fmt::format("missing address for server '{}': '{}' is an option, expected "
                                       "'server {} ADDRESS {}'",
                                       s.name, c.words[2], s.name, join(c.words, 2)));
    auto a = parse_address(c.words[2], port_need::optional);
    if (!a)
        return c.alert(a.message());
    s.addr = *a;
    if (server_options(c, 3, s))
        c.px->servers.push_back(std::move(s));
}

void kw_default_server(parse_ctx& c)
{
    server_line s;
    (void)server_options(c, 1, s);
}

// ---- acl, conditions, switching ----------------------------------------

bool valid_acl_name(std::string_view n)
{
    return !n.empty() && std::all_of(n.begin(), n.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
               ch == '_' || ch == '.' || ch == ':';
    });
}

void kw_acl(parse_ctx& c)
{
    if (!c.args(2, -1, "acl NAME FETCH [flags] [--] [PATTERN...]"))
        return;
    if (!valid_acl_name(c.words[1]))
        return c.alert(fmt::format("invalid ACL name '{}': use letters, digits, '-', '_', '.' and ':'", c.words[1]));
    acl_def def;
    def.at = c.here();
    def.name = c.words[1];
    if (!parse_acl_body(c, std::span(c.words).subspan(2), def))
        return;
    c.px->acls.push_back(std::move(def));
}

// Parses the optional "if|unless ..." tail at index `at`; false on error.
bool tail_condition(parse_ctx& c, std::size_t at, std::optional<condition>& out)
{
    if (at >= c.words.size())
        return true;
    condition cond;
    if (!parse_condition(c, std::span(c.words).subspan(at), cond))
        return false;
    out = std::move(cond);
    return true;
}

void kw_use_backend(parse_ctx& c)
{
    if (!c.args(1, -1, "use_backend NAME [if|unless CONDITION]"))
        return;
    std::size_t cond = find_condition(c.words, 2);
    if (cond != 2)
        return c.alert(fmt::format("unexpected '{}', expected 'if' or 'unless'", c.words[2]));
    proxy_section::switching s{c.here(), c.words[1], std::nullopt};
    if (!tail_condition(c, 2, s.cond))
        return;
    c.px->use_backends.push_back(std::move(s));
}

void kw_default_backend(parse_ctx& c)
{
    if (!c.args(1, 1, "default_backend NAME"))
        return;
    c.px->default_backend = proxy_section::switching{c.here(), c.words[1], std::nullopt};
}

// ---- rules ----------------------------------------------------------------

// A rule of `family` whose action is words[action_at]; messages name the
// keyword as written (`shown`: "redirect" is an http-request rule).
void parse_rule(parse_ctx& c, std::string family, std::size_t action_at, std::string_view shown = {})
{
    if (shown.empty())
        shown = family;
    if (action_at >= c.words.size())
        return c.alert_kw(shown, "missing action");
    const std::string& name = c.words[action_at];
    const bulwark::proxy::action_kw* a = bulwark::proxy::find_action(family, name);
    if (!a) {
        std::vector<std::string_view> names;
        for (const auto& row : bulwark::proxy::action_keywords())
            if (row.family == family)
                names.push_back(row.name);
        return c.alert_kw(shown, fmt::format("unknown action '{}', {}", name, expected_one_of(name, names)));
    }
    std::size_t cond_at = find_condition(c.words, action_at + 1);
    std::span<const std::string> args(c.words.begin() + static_cast<long>(action_at) + 1,
                                      c.words.begin() + static_cast<long>(cond_at));
    if (args.size() < a->min_args || (a->max_args >= 0 && args.size() > static_cast<std::size_t>(a->max_args)))
        return c.alert_kw(shown, fmt::format("'{}' expects {} argument{}, found {}", name,
                                              a->max_args == a->min_args ? fmt::format("{}", a->min_args)
                                              : a->max_args < 0 ? fmt::format("at least {}", a->min_args)
                                                                : fmt::format("{} to {}", a->min_args, a->max_args),
                                              a->max_args == 1 ? "" : "s", args.size()));
    if (a->check)
        if (auto e = a->check(args); !e.empty())
            return c.alert_kw(shown, fmt::format("'{}': {}", name, e));
    rule r{c.here(), family, name, {args.begin(), args.end()}, std::nullopt};
    if (!tail_condition(c, cond_at, r.cond))
        return;
    c.px->rules.push_back(std::move(r));
    c.pending(fmt::format("{} {}", family, a->name), a->pending);
}

void kw_http_rule(parse_ctx& c) { parse_rule(c, c.words[0], 1); }

void kw_tcp_rule(parse_ctx& c)
{
    const std::string& kw = c.words[0];
    if (c.words.size() < 2)
        return c.alert(fmt::format("missing rule type, expected 'inspect-delay' or 'content'"));
    const std::string& type = c.words[1];
    if (type == "inspect-delay") {
        if (!c.args(2, 2, fmt::format("{} inspect-delay TIME", kw)))
            return;
        auto t = parse_time(c.words[2]);
        if (!t)
            return c.alert(t.message());
        c.px->inspect_delay = *t;
        c.pending(fmt::format("{} inspect-delay", kw), bulwark::proxy::pending_tls); // content inspection: ClientHello
        return;
    }
    std::vector<std::string_view> types = kw == "tcp-request"
                                              ? std::vector<std::string_view>{"inspect-delay", "content", "connection",
                                                                              "session"}
                                              : std::vector<std::string_view>{"inspect-delay", "content"};
    if (std::find(types.begin(), types.end(), type) == types.end())
        return c.alert(fmt::format("unknown rule type '{}', {}", type, expected_one_of(type, types)));
    if ((type == "connection" || type == "session") && !(c.sec & (sec_frontend | sec_listen)))
        return c.alert(fmt::format("'{} {}' rules need a frontend", kw, type));
    parse_rule(c, kw + " " + type, 2);
}

// redirect location|prefix|scheme X [code N] [option...] [if|unless cond]
void kw_redirect(parse_ctx& c)
{
    parse_rule(c, "http-request", 0, "redirect");
}

// ---- capture, errorfile ---------------------------------------------------

void kw_capture(parse_ctx& c)
{
    // capture request|response header NAME len N  |  capture cookie NAME len N
    bool cookie = c.words.size() > 1 && c.words[1] == "cookie";
    std::size_t len_at = cookie ? 3 : 4;
    if (c.words.size() > 1 && !cookie && c.words[1] != "request" && c.words[1] != "response")
        return c.alert(fmt::format("unknown capture '{}', {}", c.words[1],
                                   expected_one_of(c.words[1], {"request", "response", "cookie"})));
    if (c.words.size() != len_at + 2 || (!cookie && c.words[2] != "header"))
        return c.alert("expected 'capture request header NAME len LENGTH', 'capture response header NAME len LENGTH' "
                       "or 'capture cookie NAME len LENGTH'");
    std::string& len_kw = c.words[len_at];
    if (len_kw != "len") {
        if (len_kw.size() == 3 && (len_kw[0] == 'L' || len_kw[0] == 'l') && (len_kw[1] | 0x20) == 'e' &&
            (len_kw[2] | 0x20) == 'n') {
            std::vector<std::string> fixed = c.words;
            fixed[len_at] = "len";
            std::string canonical = join(fixed);
            c.warn(fmt::format("'{}' is not HAProxy's spelling (HAProxy 2.6 rejects it); read as 'len': {}", len_kw,
                               canonical));
        } else {
            return c.alert(fmt::format("unexpected '{}', expected 'len'", len_kw));
        }
    }
    auto n = parse_int(c.words[len_at + 1], 1, 65535);
    if (!n)
        return c.alert(fmt::format("invalid length: {}", n.message()));
    if (cookie) {
        c.pending("capture cookie", bulwark::proxy::pending_later);
        return;
    }
    c.px->captures.push_back({c.here(), c.words[1] == "request", c.words[3], static_cast<unsigned>(*n)});
}

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
void kw_flag(parse_ctx& c) { c.args(0, 0, c.words[0]); }

void kw_int(parse_ctx& c) { c.int_arg(0, INT32_MAX); }

void kw_log(parse_ctx& c)
{
    if (c.words.size() == 2 && (c.words[1] == "global" || c.words[1] == "stdout" || c.words[1] == "stderr"))
        return;
    if (c.words.size() == 3 && c.words[0] == "log" && c.words[1] == "global")
        return c.alert("'log global' takes no more arguments");
    c.args(2, 10, "log global | log TARGET [len N] [format F] FACILITY [LEVEL]");
}

void kw_block(parse_ctx& c)
{
    c.alert(fmt::format("removed from HAProxy in 2.0: use 'http-request deny {}'", join(c.words, 1)));
}

void kw_add_header_legacy(parse_ctx& c)
{
    // reqadd/rspadd "Name:\ value" [cond] -> http-request/http-response add-header Name value
    if (!c.args(1, -1, fmt::format("{} HEADER [if|unless CONDITION]", c.words[0])))
        return;
    bool req = c.words[0] == "reqadd";
    const std::string& h = c.words[1];
    auto colon = h.find(':');
    std::string name = h.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    std::size_t cond_at = find_condition(c.words, 2);
    std::string modern = fmt::format("{} add-header {} \"{}\"{}{}", req ? "http-request" : "http-response", name, value,
                                     cond_at < c.words.size() ? " " : "", join(c.words, cond_at));
    c.warn(fmt::format("removed from HAProxy in 2.1; loaded as: {}", modern));
    rule r{c.here(), std::string(c.words[0]), "add-header", {name, value}, std::nullopt};
    if (!tail_condition(c, cond_at, r.cond))
        return;
    c.px->rules.push_back(std::move(r));
}

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
    section_kw{"retries", BE, kw_int, HD},
    section_kw{"log", A, kw_log, HD},
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
    section_kw{"disabled", A, kw_flag, HD},
    section_kw{"enabled", A, kw_flag, HD},
    section_kw{"id", FLB, kw_int, {}},
    section_kw{"cookie", BE, kw_words, L},
    section_kw{"stats", A, kw_words, L},
    section_kw{"monitor-uri", FE, kw_words, L},
    section_kw{"unique-id-format", FE, kw_words, L},
    section_kw{"unique-id-header", FE, kw_words, L},
    section_kw{"http-check", BE, kw_words, HD},
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
    for (const auto& b : bind_table)
        f("bind-opt", b.name, b.pending);
    for (const auto& sv : server_table)
        f("server-opt", sv.name, sv.pending);
}

} // namespace bulwark::controlplane
