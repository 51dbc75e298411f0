// SPDX-License-Identifier: Apache-2.0
// The 'global' section's keywords.
#include "controlplane/parse_ctx.hpp"
#include "proxy/registry_types.hpp"

#include <array>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

namespace bulwark::controlplane {

namespace {

constexpr auto L = bulwark::proxy::pending_later;
constexpr auto T = bulwark::proxy::pending_tls;
constexpr auto HD = bulwark::proxy::pending_hardening;
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

void kw_log(parse_ctx& c)
{
    if (c.words.size() == 2 && c.words[1] == "global")
        return;
    if (!c.args(2, 10, "log TARGET [len N] [format F] FACILITY [LEVEL [MINLEVEL]]"))
        return;
    std::size_t i = 2;
    while (i < c.words.size() && (c.words[i] == "len" || c.words[i] == "format" || c.words[i] == "sample"))
        i += 2;
    if (i >= c.words.size())
        return c.alert("missing facility, expected one of 'local0'...'local7', 'daemon', 'user', ...");
    std::vector<std::string_view> fac(facilities.begin(), facilities.end());
    if (std::find(fac.begin(), fac.end(), c.words[i]) == fac.end())
        return c.alert(fmt::format("unknown facility '{}', {}", c.words[i], expected_one_of(c.words[i], fac)));
    std::vector<std::string_view> lv(levels.begin(), levels.end());
    for (++i; i < c.words.size(); ++i)
        if (std::find(lv.begin(), lv.end(), c.words[i]) == lv.end())
            return c.alert(fmt::format("unknown level '{}', {}", c.words[i], expected_one_of(c.words[i], lv)));
    c.cfg.global.log_targets.push_back(c.words[1]);
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

void kw_user(parse_ctx& c)
{
    if (!c.args(1, 1, fmt::format("{} NAME", c.words[0])))
        return;
    bool known = c.words[0] == "user" ? getpwnam(c.words[1].c_str()) != nullptr : getgrnam(c.words[1].c_str()) != nullptr;
    if (!known)
        c.alert(fmt::format("unknown {} '{}'", c.words[0], c.words[1]));
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
    section_kw{"log", G, kw_log, HD},
    section_kw{"stats", G, kw_stats, OPS},
    section_kw{"user", G, kw_user, HD},
    section_kw{"group", G, kw_user, HD},
    section_kw{"chroot", G, kw_path, HD},
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
