// SPDX-License-Identifier: Apache-2.0
// bulwark-bench: the shield's pipeline on one lcore, in memory, against
// plain DPDK forwarding measured in the same run.
//
// Pre-built mbufs holding traffic mixes (valid TCP/UDP, malformed,
// ACL-denied, blocklisted among 1M entries, and TCP ACKs of flows drawn at
// random from a stateful table of --flows established flows) go through
// the real pipeline (process_burst over an lcore_ctx with the rte_acl trie,
// the blocklist and, for the stateful mix, the flow table a shield builds;
// for the two limited mixes, a table of sources with 'limit src pps': its stages, then TX of what passes on a net_null port,
// as a worker lcore does). Each mix runs --runs times, interleaved;
// the median is printed in Mpps and TSC cycles per packet. Baselines:
//   * "plain forwarding": the same harness with no pipeline (TX only);
//   * dpdk-testpmd io forwarding between two net_null ports, started as its
//     own process after the pipeline runs (its Rx-pps per port, median of
//     its stats periods).
// The mbufs' reference counts are raised once per run so that freeing them
// (TX on net_null, or a drop) only decrements them: no refill per burst.
//
//   build/release/tools/bulwark-bench [--runs 5] [--packets 20000000]
//        [--entries 1000000] [--testpmd PATH|none] [--testpmd-seconds 6]
#include "controlplane/parser.hpp"
#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/source_table.hpp"
#include "tests/dataplane/frames.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fcntl.h>
#include <sched.h>
#include <csignal>
#include <fstream>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace bulwark;
using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

constexpr const char* usage = R"(Usage: bulwark-bench [--runs N] [--packets N] [--entries N] [--testpmd PATH|none]
                     [--testpmd-seconds N]

Runs the shield's pipeline (validation, blocklist, rte_acl rules, TX) on one
lcore over pre-built mbufs for several traffic mixes, and prints Mpps and
TSC cycles per packet (median of --runs runs) beside two baselines measured
in the same run: the same harness with no pipeline, and dpdk-testpmd io
forwarding between two net_null ports.

  --runs N             runs per mix (default 5)
  --packets N          packets per run (default 20000000)
  --entries N          blocklist entries (default 1000000)
  --flows N            flows in the stateful mix's table (default 1000000)
  --testpmd PATH|none  testpmd binary (default /usr/bin/dpdk-testpmd)
  --testpmd-seconds N  how long testpmd forwards (default 6)
)";

// The shield the pipeline runs: the default config's reflection filter,
// a telnet deny, and a few allows before the default.
constexpr const char* shield_text = R"(shield bench
    eal -l 0
    port outside net_null0
    port inside net_null1
    mode stateless
    deny udp sport 19,123,1900,11211
    deny tcp dport 23
    allow tcp src 192.0.2.0/24 dport 22
    deny tcp dport 22
    allow icmp
    default allow
)";

struct mix {
    std::string name;
    std::vector<bytes> frames;
    unsigned expect_pass; // of frames.size() per cycle
};

std::string cpu_model()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    return "unknown";
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// The testpmd baseline: io forwarding net_null0 <-> net_null1 on one
// forwarding lcore; its "Rx-pps" lines per port, median over the periods
// after the first.
double testpmd_pps(const std::string& path, int seconds)
{
    int out[2];
    if (pipe(out) != 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        // EAL pinned this process to lcore 0: give testpmd every CPU back
        cpu_set_t all;
        CPU_ZERO(&all);
        for (int c = 0; c < CPU_SETSIZE; ++c)
            CPU_SET(c, &all);
        sched_setaffinity(0, sizeof all, &all);
        dup2(out[1], 1);
        int devnull = ::open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(out[1], 2); // its errors too, to say why when it fails
        close(out[0]);
        std::string prefix = fmt::format("--file-prefix=bwtestpmd{}", getppid());
        // stdbuf: testpmd's stdout is a pipe here, block-buffered otherwise
        execl("/usr/bin/stdbuf", "stdbuf", "-o0", path.c_str(), "-l", "0,1", "--no-huge", "-m", "512", "--no-pci", prefix.c_str(),
              "--vdev=net_null0", "--vdev=net_null1", "--", "--forward-mode=io", "--auto-start", "--stats-period",
              "1", "--total-num-mbufs=32768", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[4096];
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    while (std::chrono::steady_clock::now() < until) {
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n > 0)
            text.append(buf, static_cast<std::size_t>(n));
        else if (n == 0)
            break;
        else
            usleep(50000);
    }
    kill(pid, SIGINT);
    int st;
    for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; ++i)
        usleep(50000);
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(out[0]);
    // "  Rx-pps:     24920370          Rx-bps: ..." per port per period
    std::vector<double> pps;
    std::size_t at = 0;
    while ((at = text.find("Rx-pps:", at)) != std::string::npos) {
        at += 7;
        pps.push_back(std::strtod(text.c_str() + at, nullptr));
    }
    if (pps.empty())
        std::fprintf(stderr, "bulwark-bench: testpmd printed no Rx-pps; its output ends:\n%s\n",
                     text.substr(text.size() > 1500 ? text.size() - 1500 : 0).c_str());
    // drop the first period of each port (start-up)
    if (pps.size() > 2)
        pps.erase(pps.begin(), pps.begin() + 2);
    return median(pps);
}

} // namespace

int main(int argc, char** argv)
{
    int runs = 5, tp_seconds = 6;
    long packets = 20'000'000, entries = 1'000'000, nflows = 1'000'000;
    std::string testpmd = "/usr/bin/dpdk-testpmd";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bulwark-bench: '%s' expects a value\n%s", a.c_str(), usage);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--runs")
            runs = std::max(1, std::atoi(next().c_str()));
        else if (a == "--packets")
            packets = std::max(32L, std::atol(next().c_str()));
        else if (a == "--entries")
            entries = std::max(0L, std::atol(next().c_str()));
        else if (a == "--flows")
            nflows = std::max(1024L, std::atol(next().c_str()));
        else if (a == "--testpmd")
            testpmd = next();
        else if (a == "--testpmd-seconds")
            tp_seconds = std::max(3, std::atoi(next().c_str()));
        else if (a == "-h" || a == "--help") {
            std::fputs(usage, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "bulwark-bench: unknown option '%s'\n%s", a.c_str(), usage);
            return 2;
        }
    }

    std::string prefix = fmt::format("--file-prefix=bwbench{}", getpid());
    const char* eal[] = {"bulwark-bench", "-l", "0", "--no-huge", "-m", "1024", "--no-pci", prefix.c_str(),
                         "--log-level=error", "--vdev=net_null0", "--vdev=net_null1"};
    if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "bulwark-bench: EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    const double hz = static_cast<double>(rte_get_tsc_hz());
    fmt::print("bulwark-bench: CPU {}, TSC {:.3f} GHz, one lcore, bursts of {}, {} packets per run, median of {} runs\n",
               cpu_model(), hz / 1e9, burst_size, packets, runs);

    auto loaded = controlplane::load_text(shield_text, "bench.cfg", {});
    if (loaded.diag.failed() || loaded.cfg.shields.empty()) {
        std::fprintf(stderr, "bulwark-bench: the bench shield does not load\n");
        return 1;
    }
    const auto& sh = loaded.cfg.shields[0];
    auto acl = acl_table::build(sh.rules, sh.default_verdict, "bench_acl");
    if (!acl) {
        std::fprintf(stderr, "bulwark-bench: %s\n", acl.message().c_str());
        return 1;
    }

    // 1M /32 sources, spread over 1.0.0.0 - 99.x (no martians)
    std::vector<bulwark::cidr> listed;
    listed.reserve(static_cast<std::size_t>(entries));
    std::mt19937 rng(42);
    while (listed.size() < static_cast<std::size_t>(entries)) {
        std::uint32_t a = 0x01000000u + rng() % (99u << 24);
        bulwark::cidr c;
        c.prefix = 32;
        c.net.bytes = {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
                       static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
        listed.push_back(c);
    }
    auto bl = blocklist::create("bench_bl", listed.size() + 65536, nullptr);
    if (!bl) {
        std::fprintf(stderr, "bulwark-bench: %s\n", bl.message().c_str());
        return 1;
    }
    auto t0 = std::chrono::steady_clock::now();
    if (auto r = (*bl)->add(listed); !r) {
        std::fprintf(stderr, "bulwark-bench: %s\n", r.message().c_str());
        return 1;
    }
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("blocklist: {} entries loaded in {:.3f} s ({:.0f} ns per entry); {} in the table\n", listed.size(),
               load_s, load_s * 1e9 / std::max<double>(1, static_cast<double>(listed.size())), (*bl)->size());

    // the mixes; sources outside the blocklist for all but "blocklisted"
    auto src = [](std::uint32_t i) { return bytes{198, 18, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)}; };
    mix valid{"valid TCP/UDP (forwarded)", {}, 0};
    for (std::uint32_t i = 0; i < 64; ++i) {
        valid.frames.push_back(v4frame({.proto = 6, .src = src(i)}, testing::tcp(static_cast<std::uint16_t>(40000 + i), 80, i % 2 ? 0x10 : 0x02)));
        valid.frames.push_back(v4frame({.proto = 17, .src = src(i)}, udp(static_cast<std::uint16_t>(40000 + i), 53, 18)));
    }
    valid.expect_pass = static_cast<unsigned>(valid.frames.size());
    mix malformed{"malformed (dropped)", {}, 0};
    for (std::uint32_t i = 0; i < 16; ++i) {
        malformed.frames.push_back(v4frame({.proto = 6, .src = src(i), .bad_checksum = true}, testing::tcp()));
        malformed.frames.push_back(v4frame({.proto = 6, .src = src(i)}, testing::tcp(40000, 80, 0x03)));   // SYN+FIN
        malformed.frames.push_back(v4frame({.proto = 6, .src = {127, 0, 0, 2}}, testing::tcp()));           // martian
        malformed.frames.push_back(v4frame({.proto = 17, .src = src(i)}, udp(40000, 53, 4, 200))); // UDP length
    }
    mix denied{"ACL-denied (dropped)", {}, 0};
    for (std::uint32_t i = 0; i < 64; ++i)
        denied.frames.push_back(v4frame({.proto = 17, .src = src(i)}, udp(i % 2 ? 123 : 11211, 40000, 48)));
    mix blocked{"blocklisted of 1M (dropped)", {}, 0};
    for (std::uint32_t i = 0; i < 1024 && !listed.empty(); ++i) {
        const auto& b = listed[rng() % listed.size()].net.bytes;
        blocked.frames.push_back(v4frame({.proto = 6, .src = bytes(b.begin(), b.begin() + 4)}, testing::tcp()));
    }
    if (listed.empty())
        blocked.frames.push_back(v4frame({.proto = 6}, testing::tcp()));
    // stateful: ACKs of established flows drawn at random from a table of
    // nflows, so the lookups go to memory as real traffic's do
    auto flows = flow_table::create("bench_flows", static_cast<std::uint32_t>(nflows));
    if (!flows) {
        std::fprintf(stderr, "bulwark-bench: %s\n", flows.message().c_str());
        return 1;
    }
    auto flow_frame = [&](std::uint32_t i) {
        return v4frame({.proto = 6, .src = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8),
                                            static_cast<std::uint8_t>(i)}},
                       testing::tcp(static_cast<std::uint16_t>(1024 + (i >> 24)), 80, 0x10));
    };
    t0 = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < static_cast<std::uint32_t>(nflows); ++i) {
        const bytes f = flow_frame(i);
        parsed_frame p;
        parse_frame(std::as_bytes(std::span(f)), p);
        const keyed k = make_flow_key(p);
        const std::int32_t at = (*flows)->insert(k.key, 0);
        if (at < 0)
            break;
        flow_entry& e = (*flows)->at(at);
        e.tcp.st = dataplane::tcp::state::established;
        e.tcp.picked_up = true; // windows learnt, not checked: these frames carry no real sequence numbers
        e.original_is_a = k.src_is_a;
        e.timeout = ~0u;
    }
    fmt::print("flows: {} established in the table ({} bytes per flow), filled in {:.3f} s\n", (*flows)->size(),
               (*flows)->bytes_per_flow(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    mix stateful{fmt::format("stateful TCP, {}k flows (forwarded)", (*flows)->size() / 1000), {}, 0};
    for (std::uint32_t i = 0; i < 4096; ++i)
        stateful.frames.push_back(flow_frame(static_cast<std::uint32_t>(rng() % (*flows)->size())));
    stateful.expect_pass = static_cast<unsigned>(stateful.frames.size());
    // per-source limits: valid frames from 16k sources spread over a table
    // of 64k, under a rate none reaches; and one source over its rate
    mix limited{"UDP of 16k sources, limit src pps (fwd)", {}, 0};
    for (std::uint32_t i = 0; i < 16384; ++i) {
        const std::uint32_t s = rng() % 65536;
        limited.frames.push_back(v4frame({.proto = 17, .src = src(s)}, udp(static_cast<std::uint16_t>(40000 + s % 1000), 53, 18)));
    }
    limited.expect_pass = static_cast<unsigned>(limited.frames.size());
    mix unlimited{"UDP of 16k sources, no limit (fwd)", limited.frames, limited.expect_pass}; // the baseline
    mix over{"one source over limit src pps (dropped)", {}, 0};
    over.frames.push_back(v4frame({.proto = 17, .src = src(7)}, udp(40000, 53, 18)));
    std::vector<mix*> mixes{&valid, &malformed, &denied, &blocked, &stateful, &unlimited, &limited, &over};

    // mbufs: 16384 per mix, each frame repeated; refcounts raised per run
    constexpr unsigned pool_n = 16384;
    rte_mempool* mp = rte_pktmbuf_pool_create("bench_mbufs", pool_n * static_cast<unsigned>(mixes.size()) + 1024, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    rte_eth_conf conf{};
    std::uint16_t port_tx = 1;
    if (!mp || rte_eth_dev_configure(port_tx, 1, 1, &conf) != 0 || rte_eth_rx_queue_setup(port_tx, 0, 512, 0, nullptr, mp) != 0 ||
        rte_eth_tx_queue_setup(port_tx, 0, 512, 0, nullptr) != 0 || rte_eth_dev_start(port_tx) != 0) {
        std::fprintf(stderr, "bulwark-bench: cannot set up the mbufs or the net_null TX port\n");
        return 1;
    }
    std::vector<std::vector<rte_mbuf*>> bufs(mixes.size());
    for (std::size_t m = 0; m < mixes.size(); ++m)
        for (unsigned i = 0; i < pool_n; ++i) {
            const bytes& f = mixes[m]->frames[i % mixes[m]->frames.size()];
            rte_mbuf* b = rte_pktmbuf_alloc(mp);
            std::memcpy(rte_pktmbuf_append(b, static_cast<std::uint16_t>(f.size())), f.data(), f.size());
            bufs[m].push_back(b);
        }

    // the frames come "from" net_null0 (outside, never polled here) and
    // leave on net_null1 (inside)
    lcore_ctx ws((*acl)->rules(), {}, {0, port_tx});
    ws.acl = acl->get();
    ws.blocks = bl->get();
    lcore_ctx wf((*acl)->rules(), {}, {0, port_tx}); // the same, stateful
    wf.acl = acl->get();
    wf.blocks = bl->get();
    wf.flows = flows->get();
    wf.tsc_hz = rte_get_tsc_hz();
    // the same, stateless, with per-source limits: a rate none reaches, and one that cuts all but the first
    limit_params high, low;
    high.pps = bucket_rate::make(1'000'000'000, 1'000'000'000, rte_get_tsc_hz());
    low.pps = bucket_rate::make(1, 1, rte_get_tsc_hz());
    auto src_high = source_table::create("bench_src_h", 65536, high);
    auto src_low = source_table::create("bench_src_l", 65536, low);
    if (!src_high || !src_low) {
        std::fprintf(stderr, "bulwark-bench: cannot create the source tables\n");
        return 1;
    }
    fmt::print("sources: {} bytes per source\n", (*src_high)->bytes_per_source());
    lcore_ctx wl((*acl)->rules(), {}, {0, port_tx});
    wl.acl = acl->get();
    wl.blocks = bl->get();
    wl.sources = src_high->get();
    lcore_ctx wo((*acl)->rules(), {}, {0, port_tx});
    wo.acl = acl->get();
    wo.blocks = bl->get();
    wo.sources = src_low->get();

    // one run: `packets` through filter+TX (pipeline) or TX alone (plain)
    auto run = [&](std::vector<rte_mbuf*>& v, bool pipeline, std::uint64_t& passed, lcore_ctx& w) {
        const long uses = packets / pool_n + 2;
        for (rte_mbuf* m : v)
            rte_mbuf_refcnt_set(m, static_cast<std::uint16_t>(std::min<long>(uses + 1, 65000)));
        rte_mbuf* burst[burst_size];
        passed = 0;
        const std::uint64_t tx0 = w.counters.port[inside].tx;
        std::uint64_t c0 = rte_rdtsc();
        std::size_t at = 0;
        for (long done = 0; done < packets; done += burst_size) {
            std::memcpy(burst, v.data() + at, sizeof burst);
            at = (at + burst_size) % pool_n;
            if (pipeline) {
                process_burst(w, outside, burst, burst_size);
                continue;
            }
            std::uint16_t sent = rte_eth_tx_burst(port_tx, 0, burst, burst_size);
            if (sent < burst_size)
                rte_pktmbuf_free_bulk(burst + sent, burst_size - sent);
            passed += sent;
        }
        if (pipeline)
            passed = w.counters.port[inside].tx - tx0;
        return static_cast<double>(rte_rdtsc() - c0);
    };

    struct row {
        std::string name;
        std::vector<double> cycles;
        double pass_share = 0;
    };
    std::vector<row> rows{{"plain forwarding (harness, no pipeline)", {}, 0}};
    for (auto* m : mixes)
        rows.push_back({m->name, {}, 0});
    for (int r = 0; r < runs; ++r) {
        std::uint64_t passed;
        rows[0].cycles.push_back(run(bufs[0], false, passed, ws) / static_cast<double>(packets));
        rows[0].pass_share = static_cast<double>(passed) / static_cast<double>(packets);
        for (std::size_t m = 0; m < mixes.size(); ++m) {
            lcore_ctx& w = mixes[m] == &stateful ? wf : mixes[m] == &limited ? wl : mixes[m] == &over ? wo : ws;
            rows[m + 1].cycles.push_back(run(bufs[m], true, passed, w) / static_cast<double>(packets));
            rows[m + 1].pass_share = static_cast<double>(passed) / static_cast<double>(packets);
        }
        std::fprintf(stderr, "bulwark-bench: run %d of %d done\n", r + 1, runs);
    }

    double tp = 0;
    if (testpmd != "none") {
        std::fprintf(stderr, "bulwark-bench: dpdk-testpmd io forwarding on net_null for %d s...\n", tp_seconds);
        tp = testpmd_pps(testpmd, tp_seconds);
    }
    const double plain_pps = hz / median(rows[0].cycles);
    fmt::print("\n{:<42} {:>9} {:>13} {:>8} {:>12} {:>12}\n", "mix", "Mpps", "cycles/pkt", "passed", "vs plain",
               "vs testpmd");
    for (const auto& r : rows) {
        double c = median(r.cycles);
        double pps = hz / c;
        fmt::print("{:<42} {:>9.2f} {:>13.1f} {:>7.0f}% {:>11.2f}x {:>11}\n", r.name, pps / 1e6, c, r.pass_share * 100,
                   pps / plain_pps, tp > 0 ? fmt::format("{:.2f}x", pps / tp) : std::string("-"));
    }
    if (tp > 0)
        fmt::print("{:<42} {:>9.2f}   (Rx-pps per port, median of its 1 s periods; its one forwarding lcore "
                   "serves both ports: {:.2f} Mpps in all, so the pipeline's share of that is half the ratio above)\n",
                   "dpdk-testpmd io, net_null", tp / 1e6, 2 * tp / 1e6);
    else
        fmt::print("dpdk-testpmd: not measured ({})\n", testpmd == "none" ? "--testpmd none" : "no Rx-pps in its output");
    std::uint64_t drops = 0;
    for (const auto& d : ws.counters.port[outside].drops)
        drops += d;
    fmt::print("pipeline counters: rx {}, dropped {} (", ws.counters.port[outside].rx.read(), drops);
    bool first = true;
    for (std::size_t i = 1; i < drop_reason_count; ++i)
        if (ws.counters.port[outside].drops[i]) {
            fmt::print("{}{} {}", first ? "" : ", ", reason_name(static_cast<drop_reason>(i)),
                       ws.counters.port[outside].drops[i].read());
            first = false;
        }
    fmt::print(")\n");
    rte_eth_dev_stop(port_tx);
    return 0;
}
