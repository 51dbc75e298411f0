// SPDX-License-Identifier: Apache-2.0
// bulwark-bench: the shield's worker lcore, all in (RX from a PMD, the
// pipeline, TX, as dataplane::worker_main runs it), against testpmd's io
// forwarding loop over the same ports; then the pipeline alone, in memory,
// against plain DPDK forwarding (the table of the benchmarks before #13).
//
// Traffic: pre-built mbufs holding mixes (valid stateless TCP/UDP, ACKs of
// established flows drawn at random from a table of --flows flows,
// malformed, ACL-denied, blocklisted among --entries entries, a mixed
// attack, a spoofed SYN flood answered with cookies by 'syn-guard always':
// all-in only, the feeder writing each frame back before it goes round
// again), each of --frames distinct frames whose sources are spread over
// the blocklist's space or the whole flow table (cache-cold state).
//
//   * all-in (bench_allin.hpp): worker_main on lcore 1, two net_ring
//     ports, a feeder on lcore 0 keeping the outside RX ring full and
//     draining the TX rings. Baseline: testpmd's io forwarding loop on the
//     same ports with the same feeder, so both pay the same RX and TX.
//   * pipeline only: process_burst over the mbufs, TX on a net_null port.
//     Baselines: the same harness with no pipeline (TX only), and
//     dpdk-testpmd io forwarding between two net_null ports, started as
//     its own process (its Rx-pps per port, median of its stats periods).
// Each mix runs --runs times, interleaved with the others and the
// baseline; the median is printed in Mpps and TSC cycles per packet.
#include "controlplane/parser.hpp"
#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/syn_guard.hpp"
#include "tools/bench/bench_allin.hpp"
#include "tools/bench/bench_mixes.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
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
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace bulwark;
using namespace bulwark::dataplane;
using namespace bulwark::bench;

namespace {

constexpr const char* usage = R"(Usage: bulwark-bench [--runs N] [--packets N] [--entries N] [--flows N]
                     [--frames N] [--memory MB] [--huge-dir DIR] [--cold-buffers]
                     [--testpmd PATH|none]
                     [--testpmd-seconds N] [--no-allin] [--no-pipeline-only]

Runs the shield's worker lcore over pre-built mbufs for several traffic
mixes and prints Mpps and TSC cycles per packet (median of --runs runs,
interleaved) in two tables:

  all-in         the whole worker loop (dataplane::worker_main: RX burst
                 from a net_ring port, the pipeline, TX, mailbox, flow
                 sweep, RCU) on lcore 1, a feeder on lcore 0 keeping its
                 RX ring full; baseline: testpmd's io forwarding loop on
                 the same ports and feeder. Needs two CPUs.
  pipeline only  process_burst + TX on a net_null port, on lcore 0;
                 baselines: the same harness with no pipeline, and
                 dpdk-testpmd io forwarding between two net_null ports.

  --runs N             runs per mix (default 5)
  --packets N          packets per run (default 20000000)
  --entries N          blocklist entries (default 1000000)
  --flows N            flows in the stateful mixes' table (default 4000000)
  --frames N           distinct frames (mbufs) per mix (default 65536)
  --memory MB          EAL memory (default 4096)
  --huge-dir DIR       EAL memory from the hugetlbfs mounted at DIR (default:
                       --no-huge, 4 KiB pages: what fits on any machine)
  --testpmd PATH|none  testpmd binary (default /usr/bin/dpdk-testpmd)
  --testpmd-seconds N  how long testpmd forwards (default 6)
  --cold-buffers       all-in: the feeder leaves the mbufs alone (by default it
                       writes each mbuf's header and reads its frame's first
                       line before the worker gets it, as a NIC with DDIO and
                       its PMD leave them: in cache, not in memory)
  --no-allin           only the pipeline-only table
  --no-pipeline-only   only the all-in table
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

struct options {
    int runs = 5, tp_seconds = 6;
    long packets = 20'000'000, entries = 1'000'000, nflows = 4'000'000, frames = 65536, memory = 4096;
    std::string testpmd = "/usr/bin/dpdk-testpmd", huge_dir;
    bool allin = true, pipeline_only = true, touch = true;
};

options parse(int argc, char** argv)
{
    options o;
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
            o.runs = std::max(1, std::atoi(next().c_str()));
        else if (a == "--packets")
            o.packets = std::max(1024L, std::atol(next().c_str()));
        else if (a == "--entries")
            o.entries = std::max(0L, std::atol(next().c_str()));
        else if (a == "--flows")
            o.nflows = std::max(1024L, std::atol(next().c_str()));
        else if (a == "--frames")
            o.frames = std::max(1024L, std::atol(next().c_str())) / burst_size * burst_size;
        else if (a == "--memory")
            o.memory = std::max(256L, std::atol(next().c_str()));
        else if (a == "--testpmd")
            o.testpmd = next();
        else if (a == "--testpmd-seconds")
            o.tp_seconds = std::max(3, std::atoi(next().c_str()));
        else if (a == "--huge-dir")
            o.huge_dir = next();
        else if (a == "--cold-buffers")
            o.touch = false;
        else if (a == "--no-allin")
            o.allin = false;
        else if (a == "--no-pipeline-only")
            o.pipeline_only = false;
        else if (a == "-h" || a == "--help") {
            std::fputs(usage, stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "bulwark-bench: unknown option '%s'\n%s", a.c_str(), usage);
            std::exit(2);
        }
    }
    return o;
}

struct row {
    std::string name;
    std::vector<double> cycles, wall, passed, empty;
};

// This thread's time on a CPU, in ns.
std::uint64_t thread_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void print_table(const std::vector<row>& rows, double hz, const char* base_col, double base_cycles)
{
    const bool feeder = !rows[0].empty.empty();
    fmt::print("{:<46} {:>8} {:>11} {:>10} {:>7} {:>10}{}\n", "mix", "Mpps", "cycles/pkt", "wall", "passed", base_col,
               feeder ? "  ring empty" : "");
    for (const auto& r : rows) {
        const double c = median(r.cycles);
        fmt::print("{:<46} {:>8.2f} {:>11.1f} {:>10.1f} {:>6.0f}% {:>9.2f}x{}\n", r.name, hz / c / 1e6, c, median(r.wall),
                   median(r.passed) * 100, base_cycles / c,
                   feeder ? fmt::format(" {:>11.2f}%", *std::max_element(r.empty.begin(), r.empty.end()) * 100) : "");
    }
    fmt::print("(cycles/pkt: the lcore thread's own time on a CPU, in TSC cycles; Mpps from it: what a core of its own "
               "would do. wall: the same from the wall clock, time scheduled out included)\n");
}

// The pipeline's own drop counters, summed over the lcores that ran.
void print_drops(std::initializer_list<const lcore_ctx*> ctxs)
{
    std::uint64_t rx = 0, drops = 0;
    std::array<std::uint64_t, drop_reason_count> by{};
    for (const lcore_ctx* c : ctxs) {
        rx += c->counters.port[outside].rx.read();
        for (std::size_t i = 1; i < drop_reason_count; ++i) {
            by[i] += c->counters.port[outside].drops[i].read();
            drops += c->counters.port[outside].drops[i].read();
        }
    }
    fmt::print("pipeline counters: rx {}, dropped {} (", rx, drops);
    bool first = true;
    for (std::size_t i = 1; i < drop_reason_count; ++i)
        if (by[i]) {
            fmt::print("{}{} {}", first ? "" : ", ", reason_name(static_cast<drop_reason>(i)), by[i]);
            first = false;
        }
    fmt::print(")\n");
}

struct tables {
    const acl_table* acl;
    const blocklist* blocks;
    flow_table* flows;
    std::size_t acl_rules;
};

// The all-in table: worker_main (or testpmd's io loop) on lcore 1.
void allin_table(const options& o, const tables& t, const std::vector<mix>& mixes,
                 std::vector<std::vector<rte_mbuf*>>& bufs, double hz)
{
    // 32 k-frame rings: a backlog the sleeping feeder tops up (bench_allin.hpp)
    auto ports = allin_ports::create(32768, 65536);
    if (!ports)
        return;
    ports->touch(o.touch);
    auto ws = ports->make_ctx(t.acl_rules, "allin_mbox_s");
    auto wf = ports->make_ctx(t.acl_rules, "allin_mbox_f");
    if (!ws || !wf) {
        std::fprintf(stderr, "bulwark-bench: no memory for the lcores' mailboxes\n");
        return;
    }
    for (lcore_ctx* c : {ws.get(), wf.get()}) {
        c->acl = t.acl;
        c->blocks = t.blocks;
        c->lcore = 1;
    }
    wf->flows = t.flows;
    // the guarded mix: the stateful lcore with 'syn-guard always'
    auto wg = ports->make_ctx(t.acl_rules, "allin_mbox_g");
    if (!wg) {
        std::fprintf(stderr, "bulwark-bench: no memory for the lcores' mailboxes\n");
        return;
    }
    wg->acl = t.acl;
    wg->blocks = t.blocks;
    wg->lcore = 1;
    wg->flows = t.flows;
    syn_guard_config gc;
    gc.m = syn_guard_config::mode::always;
    gc.key = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    syn_guard guard(gc, rte_get_tsc_hz());
    wg->guard = &guard;
    std::vector<row> rows{{"testpmd io forwarding loop (same ports, feeder)", {}, {}, {}, {}}};
    for (const auto& m : mixes)
        rows.push_back({m.name, {}, {}, {}, {}});
    auto record = [](row& r, const allin_result& a) {
        r.cycles.push_back(a.cycles);
        r.wall.push_back(a.wall_cycles);
        r.passed.push_back(a.passed);
        r.empty.push_back(a.rx_empty);
    };
    for (int r = 0; r < o.runs; ++r) {
        record(rows[0], ports->run(1, nullptr, bufs[0], o.packets));
        for (std::size_t m = 0; m < mixes.size(); ++m) {
            lcore_ctx* c = mixes[m].guarded ? wg.get() : mixes[m].stateful ? wf.get() : ws.get();
            record(rows[m + 1], ports->run(1, c, bufs[m], o.packets, mixes[m].guarded ? &mixes[m].frames : nullptr));
        }
        std::fprintf(stderr, "bulwark-bench: all-in run %d of %d done\n", r + 1, o.runs);
    }
    fmt::print("\nAll-in: the whole worker loop on lcore 1 (RX from net_ring, pipeline, TX, mailbox, flow sweep, RCU),\n"
               "a feeder on lcore 0 ({}); median of {} interleaved runs of {} packets\n",
               o.touch ? "buffers delivered in cache, as by a NIC" : "--cold-buffers", o.runs, o.packets);
    print_table(rows, hz, "vs io loop", median(rows[0].cycles));
    fmt::print("(ring empty: the most, over the runs, of the feeder's rounds that found the worker's RX ring "
               "empty: above 0 the worker may have waited for packets, and its waiting counts in its cycles)\n");
    print_drops({ws.get(), wf.get(), wg.get()});
}

// The pipeline-only table: process_burst + TX on net_null1, on lcore 0.
void pipeline_table(const options& o, const tables& t, const std::vector<mix>& mixes,
                    std::vector<std::vector<rte_mbuf*>>& bufs, double hz)
{
    const std::uint16_t port_tx = 1;
    lcore_ctx ws(t.acl_rules, {}, {0, port_tx});
    ws.acl = t.acl;
    ws.blocks = t.blocks;
    lcore_ctx wf(t.acl_rules, {}, {0, port_tx}); // the same, stateful
    wf.acl = t.acl;
    wf.blocks = t.blocks;
    wf.flows = t.flows;
    wf.tsc_hz = rte_get_tsc_hz();

    // one run: `packets` through filter+TX (pipeline) or TX alone (plain)
    auto run = [&](std::vector<rte_mbuf*>& v, lcore_ctx* w) {
        const std::size_t n = v.size();
        const long uses = o.packets / static_cast<long>(n) + 2;
        for (rte_mbuf* m : v)
            rte_mbuf_refcnt_set(m, static_cast<std::uint16_t>(std::min<long>(uses + 1, 65000)));
        rte_mbuf* burst[burst_size];
        std::uint64_t passed = 0;
        const std::uint64_t tx0 = w ? w->counters.port[inside].tx.read() : 0;
        const std::uint64_t c0 = rte_rdtsc(), ns0 = thread_ns();
        std::size_t at = 0;
        for (long done = 0; done < o.packets; done += burst_size) {
            std::memcpy(burst, v.data() + at, sizeof burst);
            at = (at + burst_size) % n;
            if (w) {
                process_burst(*w, outside, burst, burst_size);
                continue;
            }
            std::uint16_t sent = rte_eth_tx_burst(port_tx, 0, burst, burst_size);
            if (sent < burst_size)
                rte_pktmbuf_free_bulk(burst + sent, burst_size - sent);
            passed += sent;
        }
        const double wall = static_cast<double>(rte_rdtsc() - c0);
        const double cpu = static_cast<double>(thread_ns() - ns0) * 1e-9 * hz;
        if (w)
            passed = w->counters.port[inside].tx.read() - tx0;
        const double all = static_cast<double>(o.packets);
        return std::array{cpu / all, wall / all, static_cast<double>(passed) / all};
    };
    std::vector<row> rows{{"plain forwarding (harness, no pipeline)", {}, {}, {}, {}}};
    for (const auto& m : mixes) // the guard rewrites frames in place: all-in only, where the feeder restores them
        if (!m.guarded)
            rows.push_back({m.name, {}, {}, {}, {}});
    auto record = [](row& r, std::array<double, 3> a) {
        r.cycles.push_back(a[0]);
        r.wall.push_back(a[1]);
        r.passed.push_back(a[2]);
    };
    for (int r = 0; r < o.runs; ++r) {
        record(rows[0], run(bufs[0], nullptr));
        for (std::size_t m = 0, at = 1; m < mixes.size(); ++m)
            if (!mixes[m].guarded)
                record(rows[at++], run(bufs[m], mixes[m].stateful ? &wf : &ws));
        std::fprintf(stderr, "bulwark-bench: pipeline-only run %d of %d done\n", r + 1, o.runs);
    }
    double tp = 0;
    if (o.testpmd != "none") {
        std::fprintf(stderr, "bulwark-bench: dpdk-testpmd io forwarding on net_null for %d s...\n", o.tp_seconds);
        tp = testpmd_pps(o.testpmd, o.tp_seconds);
    }
    fmt::print("\nPipeline only (the table before #13): process_burst + TX on net_null on lcore 0, no RX, no loop;\n"
               "median of {} interleaved runs of {} packets\n",
               o.runs, o.packets);
    print_table(rows, hz, "vs plain", median(rows[0].cycles));
    if (tp > 0)
        fmt::print("{:<46} {:>8.2f}   (Rx-pps per port, median of its 1 s periods; its one forwarding lcore "
                   "serves both ports: {:.2f} Mpps in all)\n",
                   "dpdk-testpmd io, net_null (own process)", tp / 1e6, 2 * tp / 1e6);
    else
        fmt::print("dpdk-testpmd: not measured ({})\n", o.testpmd == "none" ? "--testpmd none" : "no Rx-pps in its output");
    print_drops({&ws, &wf});
}

} // namespace

int main(int argc, char** argv)
{
    const options o = parse(argc, argv);
    std::string prefix = fmt::format("--file-prefix=bwbench{}", getpid());
    std::string mem = std::to_string(o.memory);
    std::string huge = o.huge_dir.empty() ? "--no-huge" : "--huge-dir=" + o.huge_dir;
    const char* eal[] = {"bulwark-bench", "-l", o.allin ? "0,1" : "0", huge.c_str(), "-m", mem.c_str(), "--no-pci",
                         prefix.c_str(), "--log-level=error", "--vdev=net_null0", "--vdev=net_null1"};
    if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "bulwark-bench: EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    const double hz = static_cast<double>(rte_get_tsc_hz());
    fmt::print("bulwark-bench: CPU {}, TSC {:.3f} GHz, bursts of {}, {} packets per run, median of {} runs, "
               "EAL {} -m {}\n",
               cpu_model(), hz / 1e9, burst_size, o.packets, o.runs, huge, o.memory);

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
    std::mt19937 rng(42);
    const std::vector<bulwark::cidr> listed = random_sources(static_cast<std::size_t>(o.entries), rng);
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

    auto flows = flow_table::create("bench_flows", static_cast<std::uint32_t>(o.nflows));
    if (!flows) {
        std::fprintf(stderr, "bulwark-bench: %s (try fewer --flows or more --memory)\n", flows.message().c_str());
        return 1;
    }
    t0 = std::chrono::steady_clock::now();
    const std::uint32_t filled = fill_flows(**flows, static_cast<std::uint32_t>(o.nflows));
    fmt::print("flows: {} established in a table of {} ({} bytes per flow: hash and entries), filled in {:.3f} s\n",
               filled, (*flows)->capacity(), (*flows)->bytes_per_flow(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    const std::vector<mix> mixes = make_mixes(listed, filled, static_cast<std::size_t>(o.frames), rng);
    // mbufs: --frames per mix, each a distinct frame; room for 256 B frames
    rte_mempool* mp = rte_pktmbuf_pool_create("bench_mbufs", static_cast<unsigned>(o.frames * mixes.size() + 1024), 256, 0,
                                              RTE_PKTMBUF_HEADROOM + 256, 0);
    if (!mp) {
        std::fprintf(stderr, "bulwark-bench: no memory for the mbufs (try more --memory)\n");
        return 1;
    }
    std::vector<std::vector<rte_mbuf*>> bufs(mixes.size());
    for (std::size_t m = 0; m < mixes.size(); ++m)
        for (const bytes& f : mixes[m].frames) {
            rte_mbuf* b = rte_pktmbuf_alloc(mp);
            std::memcpy(rte_pktmbuf_append(b, static_cast<std::uint16_t>(f.size())), f.data(), f.size());
            bufs[m].push_back(b);
        }
    rte_eth_conf conf{};
    const std::uint16_t port_tx = 1;
    if (rte_eth_dev_configure(port_tx, 1, 1, &conf) != 0 || rte_eth_rx_queue_setup(port_tx, 0, 512, 0, nullptr, mp) != 0 ||
        rte_eth_tx_queue_setup(port_tx, 0, 512, 0, nullptr) != 0 || rte_eth_dev_start(port_tx) != 0) {
        std::fprintf(stderr, "bulwark-bench: cannot set up the net_null TX port\n");
        return 1;
    }
    const tables t{acl->get(), bl->get(), flows->get(), (*acl)->rules()};
    if (o.allin && rte_lcore_count() >= 2)
        allin_table(o, t, mixes, bufs, hz);
    if (o.pipeline_only)
        pipeline_table(o, t, mixes, bufs, hz);
    rte_eth_dev_stop(port_tx);
    return 0;
}
