// SPDX-License-Identifier: Apache-2.0
// Bind and server lines of the proxy sections: their addresses, their option
// rows and the checks of the certificates 'crt' names.
#include "controlplane/kw_proxy.hpp"
#include "proxy/registry.hpp"

#include <algorithm>
#include <array>
#include <dirent.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

namespace bulwark::controlplane::proxy_kw {

namespace {

constexpr auto T = bulwark::proxy::pending_tls;
constexpr auto L = bulwark::proxy::pending_later;

// ---- certificate and file checks -----------------------------------------

bool pem_has(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

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

// ---- option rows --------------------------------------------------------

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
    line_option{"accept-proxy", argk::none, {}, T}, line_option{"user", argk::word, {}, {}},
    line_option{"group", argk::word, {}, {}},        line_option{"uid", argk::integer, {}, {}},
    line_option{"gid", argk::integer, {}, {}},       line_option{"mode", argk::word, {}, {}},
    line_option{"name", argk::word, {}, {}},        line_option{"id", argk::integer, {}, {}},
    line_option{"maxconn", argk::integer, {}, L},   line_option{"backlog", argk::integer, {}, L},
    line_option{"v4v6", argk::none, {}, L},         line_option{"v6only", argk::none, {}, L},
    line_option{"transparent", argk::none, {}, L},  line_option{"interface", argk::word, {}, L},
    line_option{"defer-accept", argk::none, {}, L}, line_option{"tfo", argk::none, {}, L},
    line_option{"nice", argk::integer, {}, L},      line_option{"thread", argk::word, {}, L},
    line_option{"tcp-ut", argk::time, {}, L},       line_option{"level", argk::word, {}, L},
};

constexpr std::array server_table{
    line_option{"check", argk::none, {}, {}},        line_option{"inter", argk::time, {}, {}},
    line_option{"fastinter", argk::time, {}, L},    line_option{"downinter", argk::time, {}, L},
    line_option{"rise", argk::integer, {}, {}},      line_option{"fall", argk::integer, {}, {}},
    line_option{"maxconn", argk::integer, {}, {}},  line_option{"maxqueue", argk::integer, {}, {}},
    line_option{"minconn", argk::integer, {}, L},   line_option{"weight", argk::integer, {}, {}},
    line_option{"backup", argk::none, {}, {}},       line_option{"disabled", argk::none, {}, {}},
    line_option{"enabled", argk::none, {}, {}},      line_option{"send-proxy", argk::none, {}, T},
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

// ---- reading options ----------------------------------------------------

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
        else if (w == "maxqueue")
            return intval(s.maxqueue, 0, 10'000'000);
        else if (w == "backup")
            s.backup = true;
        else if (w == "disabled" || w == "enabled")
            s.disabled = w == "disabled";
        else if (w == "send-proxy")
            s.send_proxy = true;
        else if (w == "send-proxy-v2")
            s.send_proxy_v2 = true;
        else if (w == "ssl")
            s.ssl = true;
        return true;
    });
}

} // namespace

// ---- bind ---------------------------------------------------------------

namespace {

// user/group/uid/gid/mode of a unix@ bind's socket file, as HAProxy's.
bool unix_bind_option(parse_ctx& c, bind_line& b, const std::string& w, const std::string& arg)
{
    if (w == "user" || w == "group") {
        const passwd* pw = w == "user" ? getpwnam(arg.c_str()) : nullptr;
        const group* gr = w == "group" ? getgrnam(arg.c_str()) : nullptr;
        if (!pw && !gr) {
            c.alert(fmt::format("unknown {} '{}'", w, arg));
            return false;
        }
        (pw ? b.uid : b.gid) = pw ? static_cast<int>(pw->pw_uid) : static_cast<int>(gr->gr_gid);
    } else if (w == "uid" || w == "gid") {
        auto n = parse_int(arg, 0, 2147483647);
        if (!n) {
            c.alert(fmt::format("'{}': {}", w, n.message()));
            return false;
        }
        (w == "uid" ? b.uid : b.gid) = static_cast<int>(*n);
    } else { // mode: octal permission bits
        unsigned m = 0;
        bool ok = !arg.empty() && arg.size() <= 4;
        for (char ch : arg)
            ok = ok && ch >= '0' && ch <= '7' && ((m = m * 8 + static_cast<unsigned>(ch - '0')), true);
        if (!ok) {
            c.alert(fmt::format("invalid mode '{}', expected octal permission bits such as 660", arg));
            return false;
        }
        b.mode = m;
    }
    return true;
}

} // namespace

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
        } else if (w == "user" || w == "group" || w == "uid" || w == "gid" || w == "mode") {
            return unix_bind_option(c, b, w, arg);
        }
        return true;
    });
    if (!ok)
        return;
    if (b.ssl && b.crts.empty() && std::find(b.options.begin(), b.options.end(), "crt-list") == b.options.end())
        return c.alert("'ssl' needs a certificate: add 'crt FILE' or 'crt-list FILE'");
    if (!b.ssl && !b.crts.empty())
        c.warn("'crt' given without 'ssl': the certificate is not used");
    const bool owner_options = b.mode || b.uid >= 0 || b.gid >= 0;
    for (auto& a : addrs) {
        if (owner_options && a.k != address::kind::unix_path)
            c.warn(fmt::format("'mode', 'user', 'group', 'uid' and 'gid' apply to unix@ binds only: ignored for '{}'",
                               a.str()));
        if (a.k == address::kind::host) // served: ip, unix@, abns@
            c.pending(fmt::format("bind {}", a.str()), L);
        b.addr = a;
        c.px->binds.push_back(b);
    }
}

// ---- server -------------------------------------------------------------

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

std::span<const line_option> bind_option_rows() { return bind_table; }
std::span<const line_option> server_option_rows() { return server_table; }

} // namespace bulwark::controlplane::proxy_kw
