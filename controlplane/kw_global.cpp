// SPDX-License-Identifier: Apache-2.0
// The 'global' section's keywords.
#include "controlplane/parse_ctx.hpp"
#include "proxy/registry_types.hpp"

#include <array>
#include <fmt/format.h>
#include <sys/stat.h>
#include <grp.h>
#include <pwd.h>

namespace bulwark::controlplane {

namespace {

constexpr auto L = bulwark::proxy::pending_later;
constexpr auto T = bulwark::proxy::pending_tls;
constexpr auto OPS = bulwark::proxy::pending_ops;

void kw_flag(parse_ctx& c) { c.args(0, 0, c.words[0]); }

void kw_daemon(parse_ctx& c)
{
    if (c.args(0, 0, "daemon"))
        c.cfg.global.daemon = true;
}

void kw_nbthread(parse_ctx& c) { c.int_arg(1, 64, &c.cfg.global.nbthread); }

void kw_maxconn(parse_ctx& c) { c.int_arg(1, 10'000'000, &c.cfg.global.maxconn); }

// log TARGET [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]  |  log global
constexpr std::array<std::string_view, 24> facilities{
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp",
    "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
constexpr std::array<std::string_view, 8> levels{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

// The TARGET word: stdout, stderr, a unix datagram socket's path
// (/dev/log, unix@PATH) or a UDP syslog server (ADDR[:PORT], udp@ADDR[:PORT]).
bool log_destination(parse_ctx& c, const std::string& w, proxy::log_target& t)
{
    using kind = proxy::log_target::kind;
    t.where = w;
    if (w == "stdout" || w == "stderr") {
        t.k = kind::fd;
        t.fd = w == "stdout" ? 1 : 2;
        return true;
    }
    if (w.starts_with("/") || w.starts_with("unix@")) {
        t.k = kind::unix_dgram;
        t.path = w.starts_with("/") ? w : w.substr(5);
        return true;
    }
    std::string_view a = w;
    for (std::string_view p : {"udp@", "udp4@", "udp6@"})
        if (a.starts_with(p))
            a.remove_prefix(p.size());
    auto addr = parse_address(a, port_need::optional);
    if (!addr || addr->k != address::kind::ip || addr->any) {
        c.alert(fmt::format("unsupported log target '{}', expected stdout, stderr, a unix socket path (/dev/log) or "
                            "an IP address with an optional port (udp@ADDR:PORT)",
                            w));
        return false;
    }
    t.k = kind::udp;
    t.ip = addr->ip;
    if (addr->ports.lo)
        t.port = addr->ports.lo;
    return true;
}

// Its options: len N, format raw|rfc3164|rfc5424, sample R:S (not built:
// every line is sent). i: the word after the target, left at the facility.
bool log_options(parse_ctx& c, std::size_t& i, proxy::log_target& t)
{
    using fmt_k = proxy::log_target::format;
    for (; i + 1 < c.words.size(); i += 2) {
        const std::string& o = c.words[i];
        const std::string& v = c.words[i + 1];
        if (o == "len") {
            auto n = parse_int(v, 80, 65535);
            if (!n) {
                c.alert(n.message());
                return false;
            }
            t.len = static_cast<std::size_t>(*n);
        } else if (o == "format") {
            if (v == "raw" || v == "rfc3164" || v == "rfc5424") {
                t.fmt = v == "raw" ? fmt_k::raw : v == "rfc3164" ? fmt_k::rfc3164 : fmt_k::rfc5424;
            } else {
                c.alert(fmt::format("unsupported log format '{}', {}", v,
                                    expected_one_of(v, {"raw", "rfc3164", "rfc5424"})));
                return false;
            }
        } else if (o == "sample") {
            c.warn("'sample' is not built yet: every line is sent");
        } else {
            return true;
        }
    }
    return true;
}

} // namespace

std::optional<proxy::log_target> parse_log_line(parse_ctx& c)
{
    if (!c.args(2, 10, "log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]"))
        return std::nullopt;
    proxy::log_target t;
    if (!log_destination(c, c.words[1], t))
        return std::nullopt;
    std::size_t i = 2;
    if (!log_options(c, i, t))
        return std::nullopt;
    if (i >= c.words.size()) {
        c.alert("missing facility, expected one of 'local0'...'local7', 'daemon', 'user', ...");
        return std::nullopt;
    }
    std::vector<std::string_view> fac(facilities.begin(), facilities.end());
    auto f = std::find(fac.begin(), fac.end(), c.words[i]);
    if (f == fac.end()) {
        c.alert(fmt::format("unknown facility '{}', {}", c.words[i], expected_one_of(c.words[i], fac)));
        return std::nullopt;
    }
    t.facility = static_cast<int>(f - fac.begin());
    std::vector<std::string_view> lv(levels.begin(), levels.end());
    for (std::size_t k = i + 1; k < c.words.size(); ++k) {
        auto l = std::find(lv.begin(), lv.end(), c.words[k]);
        if (l == lv.end()) {
            c.alert(fmt::format("unknown level '{}', {}", c.words[k], expected_one_of(c.words[k], lv)));
            return std::nullopt;
        }
        if (k == i + 1)
            t.level = static_cast<int>(l - lv.begin());
    }
    return t;
}

namespace {

void kw_log(parse_ctx& c)
{
    if (c.words.size() == 2 && c.words[1] == "global")
        return;
    if (auto t = parse_log_line(c))
        c.cfg.global.log_targets.push_back(std::move(*t));
}

void kw_stats(parse_ctx& c)
{
    if (c.words.size() >= 2 && c.words[1] == "timeout") {
        if (c.args(2, 2, "stats timeout TIME"))
            if (auto t = parse_time(c.words[2]); !t)
                c.alert(t.message());
        return;
    }
    if (c.words.size() < 2 || c.words[1] != "socket")
        return c.alert("expected 'stats socket ADDRESS [options]' or 'stats timeout TIME'");
    if (!c.args(2, -1, "stats socket ADDRESS [level LEVEL] [mode MODE] ..."))
        return;
    auto a = parse_address(c.words[2], port_need::required);
    if (!a)
        return c.alert(a.message());
    c.cfg.global.stats_sockets.push_back(*a);
}

void note_process_line(parse_ctx& c)
{
    auto& p = c.cfg.process;
    if (p.user.empty() && p.group.empty() && p.chroot.empty())
        p.at = c.here();
}

// user NAME / group NAME: who bulwarkd runs as once its ports are open.
void kw_user(parse_ctx& c)
{
    if (!c.args(1, 1, fmt::format("{} NAME", c.words[0])))
        return;
    const bool user = c.words[0] == "user";
    bool known = user ? getpwnam(c.words[1].c_str()) != nullptr : getgrnam(c.words[1].c_str()) != nullptr;
    if (!known)
        return c.alert(fmt::format("unknown {} '{}'", c.words[0], c.words[1]));
    note_process_line(c);
    (user ? c.cfg.process.user : c.cfg.process.group) = c.words[1];
}

// chroot DIR: the root bulwarkd serves from.
void kw_chroot(parse_ctx& c)
{
    if (!c.args(1, 1, "chroot DIR"))
        return;
    struct stat st {};
    if (c.words[1].empty() || c.words[1][0] != '/')
        return c.alert(fmt::format("chroot '{}' must be an absolute path", c.words[1]));
    if (::stat(c.words[1].c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return c.alert(fmt::format("chroot '{}' is not a directory", c.words[1]));
    note_process_line(c);
    c.cfg.process.chroot = c.words[1];
}

void kw_path(parse_ctx& c) { c.args(1, 1, fmt::format("{} PATH", c.words[0])); }

void kw_default_path(parse_ctx& c)
{
    if (!c.args(1, 2, "default-path current|config|parent|origin PATH"))
        return;
    const std::string& m = c.words[1];
    if (m != "current" && m != "config" && m != "parent" && m != "origin")
        return c.alert(fmt::format("unknown mode '{}', {}", m,
                                   expected_one_of(m, {"current", "config", "parent", "origin"})));
    if ((m == "origin") != (c.words.size() == 3))
        return c.alert(m == "origin" ? "'origin' expects a path" : fmt::format("'{}' takes no path", m));
    c.st.default_path = m;
    c.cfg.global.default_path = m;
    if (m == "origin")
        c.st.default_path_origin = c.words[2];
}

void kw_crt_base(parse_ctx& c)
{
    if (!c.args(1, 1, "crt-base DIR"))
        return;
    c.st.crt_base = c.resolve(c.words[1]);
    c.cfg.global.crt_base = c.st.crt_base;
}

void kw_setenv(parse_ctx& c)
{
    if (!c.args(2, 2, fmt::format("{} NAME VALUE", c.words[0])))
        return;
    if (c.words[0] == "presetenv" && c.st.env(c.words[1]))
        return;
    c.st.setenv[c.words[1]] = c.words[2];
}

void kw_unsetenv(parse_ctx& c)
{
    if (c.args(1, -1, "unsetenv NAME..."))
        for (std::size_t i = 1; i < c.words.size(); ++i)
            c.st.setenv[c.words[i]] = "";
}

void kw_tune_bufsize(parse_ctx& c)
{
    if (!c.args(1, 1, "tune.bufsize SIZE"))
        return;
    auto s = parse_size(c.words[1]);
    if (!s)
        return c.alert(s.message());
    if (*s < 1024 || *s > (256u << 20))
        return c.alert(fmt::format("{} is out of range, expected 1k to 256m", c.words[1]));
    c.cfg.global.tune_bufsize = *s;
}

void kw_tune_maxhdr(parse_ctx& c) { c.int_arg(1, 32767, &c.cfg.global.tune_http_maxhdr); }

// bulwark's own (HAProxy has no such keyword): PCRE2's limits on one
// search, so a backtracking pattern gives up (and its rule fails closed)
// instead of spinning the thread.
void kw_tune_pcre2(parse_ctx& c)
{
    c.int_arg(100, 100000000,
              c.words[0] == "tune.pcre2.match-limit" ? &c.cfg.global.tune_pcre2_match_limit
                                                     : &c.cfg.global.tune_pcre2_depth_limit);
}

void kw_number(parse_ctx& c) { c.int_arg(0, INT32_MAX); }

void kw_time(parse_ctx& c)
{
    if (!c.args(1, 1, fmt::format("{} TIME", c.words[0])))
        return;
    if (auto t = parse_time(c.words[1]); !t)
        c.alert(t.message());
}

void kw_words(parse_ctx& c) { c.args(1, -1, fmt::format("{} ...", c.words[0])); }

// ssl-default-bind-options: the bind options HAProxy accepts there.
void kw_ssl_options(parse_ctx& c)
{
    if (!c.args(1, -1, fmt::format("{} OPTION...", c.words[0])))
        return;
    static constexpr std::array<std::string_view, 12> opts{"no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12",
                                                           "no-tlsv13", "no-tls-tickets", "force-sslv3",
                                                           "force-tlsv10", "force-tlsv11", "force-tlsv12",
                                                           "ssl-min-ver", "ssl-max-ver"};
    std::vector<std::string_view> v(opts.begin(), opts.end());
    for (std::size_t i = 1; i < c.words.size(); ++i) {
        const std::string& w = c.words[i];
        if (std::find(v.begin(), v.end(), w) == v.end())
            return c.alert(fmt::format("unknown option '{}', {}", w, expected_one_of(w, v)));
        if (w == "ssl-min-ver" || w == "ssl-max-ver") {
            if (++i >= c.words.size())
                return c.alert(fmt::format("'{}' expects SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3", w));
        }
    }
}

void kw_removed(parse_ctx& c)
{
    c.alert(fmt::format("removed from HAProxy in 2.5 and not supported: use 'nbthread' (one process, "
                        "several threads)"));
}

constexpr unsigned G = sec_global;

constexpr std::array table{
    section_kw{"daemon", G, kw_daemon, L},
    section_kw{"master-worker", G, kw_flag, L},
    section_kw{"quiet", G, kw_flag, {}},
    section_kw{"nbthread", G, kw_nbthread, {}},
    section_kw{"maxconn", G, kw_maxconn, {}},
    section_kw{"log", G, kw_log, {}},
    section_kw{"stats", G, kw_stats, OPS},
    section_kw{"user", G, kw_user, {}},
    section_kw{"group", G, kw_user, {}},
    section_kw{"chroot", G, kw_chroot, {}},
    section_kw{"pidfile", G, kw_path, L},
    section_kw{"default-path", G, kw_default_path, {}},
    section_kw{"crt-base", G, kw_crt_base, {}},
    section_kw{"ca-base", G, kw_path, {}},
    section_kw{"setenv", G, kw_setenv, {}},
    section_kw{"presetenv", G, kw_setenv, {}},
    section_kw{"unsetenv", G, kw_unsetenv, {}},
    section_kw{"tune.bufsize", G, kw_tune_bufsize, {}},
    section_kw{"tune.http.maxhdr", G, kw_tune_maxhdr, {}},
    section_kw{"tune.pcre2.match-limit", G, kw_tune_pcre2, {}},
    section_kw{"tune.pcre2.depth-limit", G, kw_tune_pcre2, {}},
    section_kw{"tune.ssl.default-dh-param", G, kw_number, T},
    section_kw{"ssl-default-bind-options", G, kw_ssl_options, T},
    section_kw{"ssl-default-server-options", G, kw_ssl_options, T},
    section_kw{"ssl-default-bind-ciphers", G, kw_words, T},
    section_kw{"ssl-default-bind-ciphersuites", G, kw_words, T},
    section_kw{"ssl-default-server-ciphers", G, kw_words, T},
    section_kw{"ssl-server-verify", G, kw_words, T},
    section_kw{"hard-stop-after", G, kw_time, L},
    section_kw{"spread-checks", G, kw_number, L},
    section_kw{"description", G, kw_words, {}},
    section_kw{"node", G, kw_words, {}},
    section_kw{"cpu-map", G, kw_words, L},
    section_kw{"nbproc", G, kw_removed, {}},
};

} // namespace

std::span<const section_kw> global_keywords() { return table; }

} // namespace bulwark::controlplane
