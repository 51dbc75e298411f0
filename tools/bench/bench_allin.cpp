// SPDX-License-Identifier: Apache-2.0
#include "tools/bench/bench_allin.hpp"

#include "dataplane/pipeline_types.hpp"
#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <string>

namespace bulwark::bench {

using dataplane::burst_size;

namespace {

// testpmd's io forwarding (app/test-pmd/iofwd.c pkt_burst_io_forward),
// one stream each way: rx_burst, tx_burst of what came, free the rest.
struct io_fwd {
    std::array<std::uint16_t, 2> ports{};
    const std::atomic<bool>* quit = nullptr;
    alignas(64) std::atomic<std::uint64_t> rx{0}, tx{0}; // this lcore writes, the feeder reads
};

int io_fwd_main(void* arg) noexcept
{
    io_fwd& f = *static_cast<io_fwd*>(arg);
    std::array<rte_mbuf*, burst_size> pkts;
    while (!f.quit->load(std::memory_order_relaxed)) {
        for (int from = 0; from < 2; ++from) {
            const std::uint16_t n = rte_eth_rx_burst(f.ports[from], 0, pkts.data(), burst_size);
            if (!n)
                continue;
            f.rx.store(f.rx.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
            const std::uint16_t sent = rte_eth_tx_burst(f.ports[1 - from], 0, pkts.data(), n);
            f.tx.store(f.tx.load(std::memory_order_relaxed) + sent, std::memory_order_relaxed);
            if (sent < n)
                rte_pktmbuf_free_bulk(pkts.data() + sent, n - sent);
        }
    }
    return 0;
}

// What a NIC and its PMD's RX leave behind, done by the feeder: the
// mbuf's first line written (the descriptor's fields: here the RSS hash,
// as the PMD writes it), the frame's first line read into the cache (a
// NIC with DDIO writes frames into the last-level cache).
volatile std::uint8_t deliver_sink; // keeps the reads

void deliver(rte_mbuf* const* pkts) noexcept
{
    std::uint8_t x = 0;
    for (unsigned i = 0; i < burst_size; ++i) {
        pkts[i]->hash.rss = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(pkts[i]) >> 6);
        x ^= *rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
    }
    deliver_sink = x;
}

int tid_probe(void* arg) noexcept
{
    *static_cast<int*>(arg) = rte_sys_gettid();
    return 0;
}

} // namespace

std::uint64_t on_cpu_ns(int tid)
{
    std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
    std::uint64_t ns = 0;
    in >> ns;
    return ns;
}

namespace {

rte_ring* ring(const char* name, unsigned slots)
{
    rte_ring* r = rte_ring_create(name, slots, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r)
        std::fprintf(stderr, "bulwark-bench: ring %s: %s\n", name, rte_strerror(rte_errno));
    return r;
}

bool start_port(std::uint16_t port, rte_mempool* mp)
{
    rte_eth_conf conf{};
    return rte_eth_dev_configure(port, 1, 1, &conf) == 0 && rte_eth_rx_queue_setup(port, 0, 512, 0, nullptr, mp) == 0 &&
           rte_eth_tx_queue_setup(port, 0, 512, 0, nullptr) == 0 && rte_eth_dev_start(port) == 0;
}

} // namespace

std::unique_ptr<allin_ports> allin_ports::create(unsigned rx_slots, unsigned tx_slots)
{
    std::unique_ptr<allin_ports> p(new allin_ports);
    p->rx_out_ = ring("allin_rx_out", rx_slots);
    p->rx_in_ = ring("allin_rx_in", rx_slots);
    p->tx_out_ = ring("allin_tx_out", tx_slots);
    p->tx_in_ = ring("allin_tx_in", tx_slots);
    if (!p->rx_out_ || !p->rx_in_ || !p->tx_out_ || !p->tx_in_)
        return nullptr;
    const int out = rte_eth_from_rings("net_ring_outside", &p->rx_out_, 1, &p->tx_out_, 1, static_cast<unsigned>(rte_socket_id()));
    const int in = rte_eth_from_rings("net_ring_inside", &p->rx_in_, 1, &p->tx_in_, 1, static_cast<unsigned>(rte_socket_id()));
    // the ring PMD takes no mbuf from it; ethdev wants one all the same
    rte_mempool* mp = rte_pktmbuf_pool_create("allin_unused", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (out < 0 || in < 0 || !mp || !start_port(static_cast<std::uint16_t>(out), mp) ||
        !start_port(static_cast<std::uint16_t>(in), mp)) {
        std::fprintf(stderr, "bulwark-bench: cannot start the net_ring ports: %s\n", rte_strerror(rte_errno));
        return nullptr;
    }
    p->outside_ = static_cast<std::uint16_t>(out);
    p->inside_ = static_cast<std::uint16_t>(in);
    const std::size_t qsz = rte_rcu_qsbr_get_memsize(1);
    auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("allin_qsbr", qsz, RTE_CACHE_LINE_SIZE));
    if (!qs || rte_rcu_qsbr_init(qs, 1) != 0) {
        std::fprintf(stderr, "bulwark-bench: no memory for the RCU variable\n");
        return nullptr;
    }
    p->qs_ = qs;
    return p;
}

allin_ports::~allin_ports()
{
    for (std::uint16_t port : {outside_, inside_})
        rte_eth_dev_stop(port);
    rte_free(qs_);
}

std::unique_ptr<dataplane::lcore_ctx> allin_ports::make_ctx(std::size_t acl_rules, const std::string& name)
{
    auto c = std::make_unique<dataplane::lcore_ctx>(acl_rules, dataplane::drop_sampling{}, port_ids());
    c->index = 0;
    c->queue = 0;
    c->qs = static_cast<rte_rcu_qsbr*>(qs_);
    c->quit = &quit_;
    c->tsc_hz = rte_get_tsc_hz();
    if (!dataplane::open_mailbox(*c, name))
        return nullptr;
    return c;
}

void allin_ports::drain_tx()
{
    std::array<void*, 256> out;
    while (rte_ring_sc_dequeue_burst(tx_in_, out.data(), out.size(), nullptr) == out.size()) {
    }
    while (rte_ring_sc_dequeue_burst(tx_out_, out.data(), out.size(), nullptr) == out.size()) {
    }
}

allin_result allin_ports::run(unsigned lcore, dataplane::lcore_ctx* ctx, std::vector<rte_mbuf*>& mbufs, long packets,
                              const std::vector<std::vector<std::uint8_t>>* restore)
{
    if (!worker_tid_) {
        rte_eal_remote_launch(tid_probe, &worker_tid_, lcore);
        rte_eal_wait_lcore(lcore);
    }
    const long uses = packets / static_cast<long>(mbufs.size()) + 4;
    for (rte_mbuf* m : mbufs)
        rte_mbuf_refcnt_set(m, static_cast<std::uint16_t>(std::min<long>(uses + 1, 65000)));
    io_fwd fwd;
    fwd.ports = port_ids();
    fwd.quit = &quit_;
    auto rx = [&] {
        return ctx ? ctx->counters.port[dataplane::outside].rx.read() : fwd.rx.load(std::memory_order_relaxed);
    };
    auto tx = [&] {
        return ctx ? ctx->counters.port[dataplane::inside].tx.read() + ctx->counters.port[dataplane::outside].tx.read()
                   : fwd.tx.load(std::memory_order_relaxed);
    };
    quit_.store(false);
    std::uint64_t rx0 = rx(), tx0 = tx();
    if (ctx)
        rte_eal_remote_launch(dataplane::worker_main, ctx, lcore);
    else
        rte_eal_remote_launch(io_fwd_main, &fwd, lcore);

    // Fill the RX ring, then every round top it up and drain the TX rings;
    // the feeder sleeps feeder_sleep_us after a round that found the ring
    // more than half full, and the ring's backlog covers it (and the
    // feeder being scheduled out, on a shared machine); after a round
    // that found it less than half full it goes straight on.
    const std::uint64_t target = rx0 + static_cast<std::uint64_t>(packets);
    const unsigned slots = rte_ring_get_capacity(rx_out_);
    std::size_t at = 0;
    std::uint64_t rounds = 0, empty = 0, got = rx0;
    std::uint64_t c0 = 0, ns0 = 0;
    while (got < target) {
        unsigned room = rte_ring_free_count(rx_out_);
        if (rounds++ && room == slots)
            ++empty;
        const bool low = room > slots / 2; // the worker is catching up: no sleep after this round
        for (; room >= burst_size; room -= burst_size) {
            if (restore)
                for (std::size_t k = at; k < at + burst_size; ++k) {
                    const auto& f = (*restore)[k];
                    std::memcpy(rte_pktmbuf_mtod(mbufs[k], void*), f.data(), f.size());
                    mbufs[k]->data_len = static_cast<std::uint16_t>(f.size());
                    mbufs[k]->pkt_len = static_cast<std::uint32_t>(f.size());
                }
            if (touch_)
                deliver(mbufs.data() + at);
            rte_ring_sp_enqueue_bulk(rx_out_, reinterpret_cast<void* const*>(mbufs.data() + at), burst_size, nullptr);
            at = (at + burst_size) % mbufs.size();
        }
        drain_tx();
        if (rounds == 1) { // the clocks start with a full ring
            got = rx0 = rx();
            tx0 = tx();
            ns0 = on_cpu_ns(worker_tid_);
            c0 = rte_rdtsc();
            continue;
        }
        if (!low)
            rte_delay_us_sleep(feeder_sleep_us);
        got = rx();
    }
    const std::uint64_t c1 = rte_rdtsc(), ns1 = on_cpu_ns(worker_tid_);
    const std::uint64_t sent = tx() - tx0;
    quit_.store(true);
    rte_eal_wait_lcore(lcore);
    std::array<void*, 256> left;
    while (rte_ring_sc_dequeue_burst(rx_out_, left.data(), left.size(), nullptr) > 0) {
    }
    drain_tx();
    allin_result r;
    const double n = static_cast<double>(got - rx0);
    r.wall_cycles = static_cast<double>(c1 - c0) / n;
    r.cycles = ns1 > ns0 ? static_cast<double>(ns1 - ns0) * 1e-9 * static_cast<double>(rte_get_tsc_hz()) / n : r.wall_cycles;
    r.passed = static_cast<double>(sent) / n;
    r.rx_empty = rounds > 1 ? static_cast<double>(empty) / static_cast<double>(rounds - 1) : 0;
    return r;
}

} // namespace bulwark::bench
