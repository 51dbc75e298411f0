// SPDX-License-Identifier: Apache-2.0
// bulwarkd: loads and checks the configuration, then runs what is built.
#include "controlplane/parser.hpp"
#include "version.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace bulwark::controlplane;

namespace {

constexpr const char* usage_text = R"(Usage: bulwarkd [-c] [-q] [-f FILE|DIR]...
       bulwarkd -v | -vv | --dump-default | --keywords | -h

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
  -q              quiet: do not print warnings (errors are always printed).
  -v              print the version and exit; -vv adds the build details.
  --dump-default  print the embedded default configuration and exit.
  --keywords      list every config keyword, fetch, converter, matcher and
                  action bulwarkd knows, with whether it is built yet.
  -h, --help      print this help and exit.

Environment: "${NAME}" and "${NAME-default}" inside double quotes in a
config file expand to environment variables, as in HAProxy.

What runs today: bulwarkd loads and checks the whole configuration and
reports, as a warning, every keyword whose behaviour is not built yet. The
L7 proxy and the packet filter are not built yet, so bulwarkd then idles
until SIGINT or SIGTERM and exits 0. It never reads standard input.

Exit status: 0 on success, 1 on a configuration error, 2 on a usage error.
)";

volatile std::sig_atomic_t stop_signal = 0;
void on_signal(int sig) { stop_signal = sig; }

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
    if (!cfg.shields.empty())
        out += fmt::format(", shield '{}' ({} filter rule{})", cfg.shields[0].name, rules, rules == 1 ? "" : "s");
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> files;
    bool check = false, quiet = false;
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
        } else if (a == "--dump-default") {
            fmt::print("{}", embedded_default_config());
            return 0;
        } else if (a == "-c") {
            check = true;
        } else if (a == "-q") {
            quiet = true;
        } else if (a == "-f") {
            if (i + 1 >= argc) {
                fmt::print(stderr, "bulwarkd: '-f' expects a file name\n{}", "Try 'bulwarkd --help'.\n");
                return 2;
            }
            files.push_back(argv[++i]);
        } else if (a.starts_with("-f") && a.size() > 2) {
            files.push_back(a.substr(2));
        } else {
            fmt::print(stderr, "bulwarkd: unknown option '{}'\nTry 'bulwarkd --help'.\n", a);
            return 2;
        }
    }

    load_result r = files.empty() ? load_text(embedded_default_config(), "<default>", process_env())
                                  : load_files(files, process_env());
    print_diags(r.diag, quiet);
    std::string what = files.empty() ? "the embedded default configuration" : "configuration";
    if (r.diag.failed()) {
        fmt::print(stderr, "[ALERT] Fatal errors found in {}: {} error{}, {} warning{}.\n", what, r.diag.alerts(),
                   r.diag.alerts() == 1 ? "" : "s", r.diag.warnings(), r.diag.warnings() == 1 ? "" : "s");
        return 1;
    }
    if (check) {
        fmt::print("Configuration file is valid ({}; {} warning{}).\n", summary(r.cfg), r.diag.warnings(),
                   r.diag.warnings() == 1 ? "" : "s");
        return 0;
    }

    // Block the stop signals until sigsuspend, so one arriving between the
    // check and the wait is not lost.
    sigset_t stops, old;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &old);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    fmt::print("bulwarkd {}: loaded {}: {}.\n", bulwark::version, what, summary(r.cfg));
    fmt::print("bulwarkd: the L7 proxy (issue #3) and the packet filter (issue #4) are not built yet: "
               "nothing is served; waiting for SIGINT or SIGTERM.\n");
    std::fflush(stdout);
    while (!stop_signal)
        sigsuspend(&old);
    fmt::print("bulwarkd: {} received, exiting.\n", strsignal(stop_signal));
    return 0;
}
