// SPDX-License-Identifier: Apache-2.0
// bulwarkd: loads and checks the configuration, then runs what is built.
#include "controlplane/parser.hpp"
#include "controlplane/privileges.hpp"
#include "controlplane/stats_text.hpp"
#include "dataplane/shield.hpp"
#include "proxy/block_sink.hpp"
#include "proxy/http_rules.hpp"
#include "proxy/server.hpp"
#include "version.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace bulwark::controlplane;

namespace {

constexpr const char* usage_text = R"(Usage: bulwarkd [-c] [-q] [-f FILE|DIR]...
       bulwarkd -v | -vv | --dump-default | --keywords | --keyword NAME | -h

bulwark: a DDoS-protection appliance. A DPDK stateful packet filter (the
'shield' section) with an HAProxy-style L7 reverse proxy (global, defaults,
frontend, backend and listen sections), configured in HAProxy's syntax.

Options:
  -f FILE|DIR     load FILE, or every *.cfg file of DIR in lexical order;
                  repeat to load several in order. Without -f, bulwarkd uses
                  its embedded default configuration.
  -c              check the configuration and exit: 0 when it is valid, 1 when
                  it is not. Every error and warning is printed as
                  FILE:LINE: 'KEYWORD': MESSAGE. Warnings never fail a check.
                  A [NOTICE] line names each rule regex that runs on PCRE2
                  (Hyperscan refuses it): its search is bounded by
                  tune.pcre2.match-limit and, when it gives up, a deny,
                  tarpit, silent-drop or reject rule applies (fails closed).
  -q              quiet: do not print warnings (errors are always printed).
  -v              print the version and exit; -vv adds the build details.
  --dump-default  print the embedded default configuration and exit.
  --keywords      list every config keyword, fetch, converter, matcher and
                  action bulwarkd knows, with whether it is built yet.
  --keyword NAME  describe the fetch, converter, matcher or action NAME:
                  its usage, where it may be used and whether it is built.
  -h, --help      print this help and exit.

Environment: "${NAME}" and "${NAME-default}" inside double quotes in a
config file expand to environment variables, as in HAProxy.

What runs today: bulwarkd loads and checks the whole configuration and
reports, as a warning, every keyword whose behaviour is not built yet. It
then serves the frontends (plain HTTP/1.1, or mode tcp relaying bytes as
they are) on ip:port, unix@ and abns@ binds, in front of their backends
(default_backend, use_backend with or without conditions; balance
roundrobin with weights, leastconn or source; server maxconn with the
backend queue and timeout queue; TCP or HTTP health checks; upgrades to
tunnels). HTTP frontends and backends run their ACLs, http-request and
http-response rules (deny, allow, return, redirect, tarpit, header
rewrites, wait-for-body, ...), the legacy reqdeny/rsprep/... filters and
header captures; 'include FILE' in a section reads a rule pack (rules/).
tcp-request connection/session/content accept, reject and silent-drop
rules run at accept on the connection's addresses. A line per request or
connection is logged with 'option httplog' or 'option tcplog' (raw on
stdout, or to the 'log' lines' targets: stdout, stderr, /dev/log, a UDP
ADDR:PORT; never waited for: a full sink drops the line and counts it),
until SIGINT or SIGTERM, and bulwarkd exits 0. Counters per frontend,
backend, server, rule (hits, regex errors) and log target are printed on
SIGUSR1 and at exit.

A 'shield' section starts DPDK (EAL from its 'eal' line) and bridges its
outside and inside ports on the worker lcores: every frame is validated
(dataplane/VALIDATION.md), sources on the blocklist ('block src') are
dropped, then the allow/deny rules apply (first match, else 'default');
ARP and other non-IP frames pass. In 'mode stateful' (the default) TCP
segments must then belong to a tracked flow (or open one with a SYN; any
segment may during 'pickup', 30s after start), UDP answers from DNS,
NTP, SSDP, memcached or chargen need a request, ICMP echo replies need a
request and ICMP errors must quote a tracked flow, and with 'syn-guard
always' (or 'auto RATE' above RATE SYN/s) the shield answers SYNs itself
with SYN cookies and opens the server's side only for clients that prove
one (a SYN proxy). In both modes the later fragments of a datagram take
its first fragment's verdict ('fragments N' trains remembered 5s; a later
fragment of no known train is dropped). 'limit src' lines limit each
source on the outside port (packets per second; in mode stateful, new
flows per second and live flows), except those an 'allow ... src' rule
names; a source over a limit is dropped and blocklisted for 'limit src
block TIME' (60s) with the limit as its reason. Every drop is counted
per reason and port (printed on SIGUSR1 and at exit) and, with
'drop-capture FILE', sampled to a pcapng file. A config with no shield
section starts no EAL.

'http-request shield-block [TIME]' (and 'tcp-request connection|content
shield-block [TIME]') joins the two: the connection's source is posted
on the shield's event ring ('event-ring N' slots, 4096; never waited
for, a full ring is counted) and blocklisted for TIME (default 60s, 1s to
24h), its packets then dropped as 'l7_block'; the request is answered
403 as 'deny' does (a tcp-request rule closes as 'reject' does). Without
a shield section the rule only refuses, and -c warns. TLS, content inspection (tcp-request
inspect-delay) and the host port (punt rules forward inline) are not
built yet: bulwarkd says at start
what it skips. It never reads standard input.

With 'user', 'group' or 'chroot' in global, bulwarkd opens its ports,
listeners and files as root, then chroots, takes the group and the user
for every thread, and only then starts its lcores and proxy threads.

Exit status: 0 on success, 1 on a configuration error, 2 on a usage error.
)";

volatile std::sig_atomic_t stop_signal = 0;
volatile std::sig_atomic_t stats_asked = 0;
void on_signal(int sig) { stop_signal = sig; }
void on_usr1(int) { stats_asked = 1; }

void print_stats(const bulwark::proxy::server& proxy)
{
    fmt::print("{}", proxy_stats_text(proxy.read_stats()));
    std::fflush(stdout);
}

void print_stats(bulwark::dataplane::shield& shield, const bulwark::dataplane::shield_section& cfg)
{
    auto st = shield.stats();
    if (cfg.stateful) { // the workers count their flows while they run: a few milliseconds
        if (auto f = shield.flows(5))
            st.census = std::move(*f);
        else
            st.census_error = f.message();
    }
    fmt::print("{}", shield_stats_text(cfg, st));
    std::fflush(stdout);
}

void print_diags(const diagnostics& d, bool quiet)
{
    for (const auto& x : d.all()) {
        if (x.sev == severity::warning && quiet)
            continue;
        fmt::print(stderr, "[{}] {}\n", x.sev == severity::alert ? "ALERT" : "WARNING", x.text());
    }
}

std::string summary(const config& cfg)
{
    int fe = 0, be = 0;
    for (const auto& p : cfg.proxies) {
        fe += p.has_fe();
        be += p.has_be();
    }
    std::size_t rules = 0;
    for (const auto& s : cfg.shields)
        rules += s.rules.size();
    std::string out = fmt::format("{} frontend{}, {} backend{}", fe, fe == 1 ? "" : "s", be, be == 1 ? "" : "s");
    if (!cfg.shields.empty()) {
        const auto& sh = cfg.shields[0];
        using g = bulwark::dataplane::shield_section::syn_guard_mode;
        std::string mode = sh.stateful ? "stateful" : "stateless";
        if (!sh.mode_given)
            mode += " by default";
        if (sh.stateful)
            mode += sh.syn_guard == g::off      ? ", syn-guard off"
                    : sh.syn_guard == g::always ? ", syn-guard always"
                                                : fmt::format(", syn-guard auto {}", sh.syn_guard_threshold);
        std::string limits; // the ones that run (a stateless shield's flow limits do not: a warning says so)
        if (sh.limit_pps)
            limits += fmt::format(", limit src pps {} burst {}", sh.limit_pps, sh.limit_burst);
        if (sh.stateful && sh.limit_new_flows)
            limits += fmt::format(", limit src new-flows {}/s", sh.limit_new_flows);
        if (sh.stateful && sh.limit_concurrent)
            limits += fmt::format(", limit src concurrent-flows {}", sh.limit_concurrent);
        if (!limits.empty())
            mode += limits + (sh.limit_block.count() ? fmt::format(" (block {}s)", sh.limit_block.count()) : " (drop only)");
        std::string host;
        if (!sh.host_port.empty()) {
            host = fmt::format(", host port {}", sh.host_port);
            for (std::size_t i = 0; i < sh.host_addresses.size(); ++i)
                host += fmt::format("{}{}", i ? ", " : " ", sh.host_addresses[i].str());
        }
        out += fmt::format(", shield '{}' (mode {}{}, {} filter rule{})", sh.name, mode, host, rules,
                           rules == 1 ? "" : "s");
    }
    return out;
}

struct options {
    std::vector<std::string> files; // -f, in order; empty: the embedded default
    bool check = false;              // -c
    bool quiet = false;              // -q
};

// The command line. An exit status when bulwarkd is done (help, version,
// listings, usage errors), nothing when it goes on with o filled.
std::optional<int> parse_options(int argc, char** argv, options& o)
{
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            fmt::print("{}", usage_text);
            return 0;
        } else if (a == "-v") {
            fmt::print("bulwarkd {}\n", bulwark::version);
            return 0;
        } else if (a == "-vv") {
            fmt::print("bulwarkd {}\n{}", bulwark::version, bulwark::build_info);
            return 0;
        } else if (a == "--keywords") {
            fmt::print("{}", keyword_listing());
            return 0;
        } else if (a == "--keyword") {
            if (i + 1 >= argc) {
                fmt::print(stderr, "bulwarkd: '--keyword' expects a name\nTry 'bulwarkd --help'.\n");
                return 2;
            }
            std::string text = keyword_help(argv[++i]);
            if (text.empty()) {
                fmt::print(stderr, "bulwarkd: no fetch, converter, matcher or action is named '{}'\n", argv[i]);
                return 1;
            }
            fmt::print("{}", text);
            return 0;
        } else if (a == "--dump-default") {
            fmt::print("{}", embedded_default_config());
            return 0;
        } else if (a == "-c") {
            o.check = true;
        } else if (a == "-q") {
            o.quiet = true;
        } else if (a == "-f") {
            if (i + 1 >= argc) {
                fmt::print(stderr, "bulwarkd: '-f' expects a file name\n{}", "Try 'bulwarkd --help'.\n");
                return 2;
            }
            o.files.push_back(argv[++i]);
        } else if (a.starts_with("-f") && a.size() > 2) {
            o.files.push_back(a.substr(2));
        } else {
            fmt::print(stderr, "bulwarkd: unknown option '{}'\nTry 'bulwarkd --help'.\n", a);
            return 2;
        }
    }
    return std::nullopt;
}

// Blocks the stop signals before any thread starts (threads inherit the
// mask), so they reach only the sigsuspend of wait_for_stop and none is
// lost. Returns the mask to wait with.
sigset_t block_stop_signals()
{
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGUSR1);
    sigprocmask(SIG_BLOCK, &stops, &old);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGUSR1, on_usr1);
    std::signal(SIGPIPE, SIG_IGN);
    return old;
}

// shield-block rules of the proxy, posted to the shield's event ring as
// l7_block entries: the control plane joins the two engines, which never
// include each other.
class shield_block_sink final : public bulwark::proxy::block_sink {
public:
    explicit shield_block_sink(bulwark::dataplane::shield& s) : shield_(s) {}
    bool post(const bulwark::ip_addr& src, std::chrono::seconds ttl) noexcept override
    {
        return shield_.post_block(src, ttl, bulwark::dataplane::drop_reason::l7_block);
    }

private:
    bulwark::dataplane::shield& shield_;
};

// The packet filter of the first shield section, if any, set up but not
// launched; false when it could not be (alerted).
bool start_shield(const config& cfg, std::unique_ptr<bulwark::dataplane::shield>& shield)
{
    if (cfg.shields.empty())
        return true;
    if (cfg.shields.size() > 1)
        fmt::print(stderr, "[WARNING] only the first shield section ('{}') runs; one process has one EAL.\n",
                   cfg.shields[0].name);
    auto started = bulwark::dataplane::shield::open(cfg.shields[0]);
    if (!started) {
        fmt::print(stderr, "[ALERT] {}\n", started.message());
        return false;
    }
    shield = std::move(*started);
    return true;
}

// For -c: one line per rule regex left to PCRE2 (Hyperscan refused it),
// with its file:line: where a backtracking search may give up (and fail
// closed). The rules are compiled as at start; the servers are not resolved.
void print_pcre2_notes(const config& cfg)
{
    for (const auto& p : cfg.proxies) {
        std::vector<std::string> notes;
        if (!bulwark::proxy::compile_rules(p, std::chrono::milliseconds(0), &notes))
            continue; // the start reports it
        for (const auto& n : notes)
            if (n.find("runs on PCRE2") != std::string::npos)
                fmt::print(stderr, "[NOTICE] {}\n", n);
    }
}

// The proxy, when there is a frontend to serve, its listeners bound but
// its threads not started; false when it could not be (alerted).
bool start_proxy(const config& cfg, std::unique_ptr<bulwark::proxy::server>& proxy)
{
    auto rt = bulwark::proxy::build_runtime(cfg, std::thread::hardware_concurrency());
    if (!rt) {
        fmt::print(stderr, "[ALERT] {}\n", rt.message());
        return false;
    }
    for (const auto& note : rt->notes)
        fmt::print(stderr, "[WARNING] {}\n", note);
    if (rt->frontends.empty()) {
        fmt::print("bulwarkd: no HTTP frontend to serve.\n");
        return true;
    }
    auto started = bulwark::proxy::server::open(std::move(*rt), stdout);
    if (!started) {
        fmt::print(stderr, "[ALERT] {}\n", started.message());
        return false;
    }
    proxy = std::move(*started);
    return true;
}

// Until SIGINT or SIGTERM: prints the counters on each SIGUSR1. Then stops
// the proxy and the shield and prints their last counters.
void run_until_stopped(const sigset_t& wait_mask, const config& cfg, bulwark::proxy::server* proxy,
                       std::unique_ptr<bulwark::dataplane::shield>& shield)
{
    while (!stop_signal) {
        sigsuspend(&wait_mask);
        if (stats_asked) {
            stats_asked = 0;
            if (proxy)
                print_stats(*proxy);
            if (shield)
                print_stats(*shield, cfg.shields[0]);
        }
    }
    if (proxy)
        proxy->stop();
    if (shield)
        shield->stop();
    fmt::print("bulwarkd: {} received, exiting.\n", strsignal(stop_signal));
    if (proxy)
        print_stats(*proxy);
    if (shield) {
        print_stats(*shield, cfg.shields[0]);
        shield.reset(); // closes the ports and releases EAL
    }
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    if (auto done = parse_options(argc, argv, o))
        return *done;

    load_result r = o.files.empty() ? load_text(embedded_default_config(), "<default>", process_env())
                                    : load_files(o.files, process_env());
    print_diags(r.diag, o.quiet);
    std::string what = o.files.empty() ? "the embedded default configuration" : "configuration";
    if (r.diag.failed()) {
        fmt::print(stderr, "[ALERT] Fatal errors found in {}: {} error{}, {} warning{}.\n", what, r.diag.alerts(),
                   r.diag.alerts() == 1 ? "" : "s", r.diag.warnings(), r.diag.warnings() == 1 ? "" : "s");
        return 1;
    }
    if (o.check) {
        if (!o.quiet)
            print_pcre2_notes(r.cfg);
        fmt::print("Configuration file is valid ({}; {} warning{}).\n", summary(r.cfg), r.diag.warnings(),
                   r.diag.warnings() == 1 ? "" : "s");
        return 0;
    }

    sigset_t wait_mask = block_stop_signals();
    fmt::print("bulwarkd {}: loaded {}: {}.\n", bulwark::version, what, summary(r.cfg));

    // The packet filter first: EAL takes its lcores before the proxy's
    // threads start (they inherit the blocked signals either way).
    std::unique_ptr<bulwark::dataplane::shield> shield;
    if (!start_shield(r.cfg, shield))
        return 1;
    std::unique_ptr<shield_block_sink> sink; // outlives the proxy's threads (declared before it)
    std::unique_ptr<bulwark::proxy::server> proxy;
    if (!start_proxy(r.cfg, proxy))
        return 1;
    if (proxy && shield) {
        sink = std::make_unique<shield_block_sink>(*shield);
        proxy->set_block_sink(sink.get());
    }
    // Everything that needs root is open: no packet or request is served
    // before the drop.
    auto dropped = bulwark::controlplane::drop_privileges(r.cfg.process);
    if (!dropped) {
        fmt::print(stderr, "[ALERT] {}\n", dropped.message());
        return 1;
    }
    if (!dropped->empty())
        fmt::print("bulwarkd: {}\n", *dropped);
    if (shield) {
        if (auto l = shield->launch(); !l) {
            fmt::print(stderr, "[ALERT] {}\n", l.message());
            return 1;
        }
        for (const auto& l : shield->describe())
            fmt::print("bulwarkd: shield {}: {}\n", r.cfg.shields[0].name, l);
    }
    if (proxy) {
        proxy->run();
        const int threads = proxy->threads();
        for (const auto& l : proxy->listening())
            fmt::print("bulwarkd: proxy: {} ({} thread{})\n", l, threads, threads == 1 ? "" : "s");
        fmt::print("bulwarkd: proxy: maxconn {}\n", proxy->maxconn());
    }
    fmt::print("bulwarkd: running; SIGINT or SIGTERM stops it, SIGUSR1 prints the counters.\n");
    std::fflush(stdout);
    run_until_stopped(wait_mask, r.cfg, proxy.get(), shield);
    return 0;
}
