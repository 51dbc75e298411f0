// SPDX-License-Identifier: Apache-2.0
#include "dataplane/worker.hpp"

#include "dataplane/flow_table.hpp"
#include "dataplane/limits.hpp"
#include "dataplane/pipeline.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <array>

namespace bulwark::dataplane {

void sweep_flows(lcore_ctx& c) noexcept
{
    flow_table& ft = *c.flows;
    ft.sweep(static_cast<std::uint32_t>(rte_rdtsc() / c.tsc_hz), flow_sweep_per_loop);
    c.flow_counts.active.set(ft.size());
    c.flow_counts.expired.set(ft.stats().expired);
}

void drain_punts(lcore_ctx& c, std::array<rte_mbuf*, burst_size>& pkts) noexcept
{
    const unsigned n = rte_ring_sc_dequeue_burst(c.host->punt_ring, reinterpret_cast<void**>(pkts.data()), burst_size,
                                                 nullptr);
    if (n)
        transmit(c, host, pkts.data(), n);
}

unsigned poll_host(lcore_ctx& c, std::array<rte_mbuf*, burst_size>& pkts) noexcept
{
    const std::uint16_t n = rte_eth_rx_burst(c.port_ids[host], 0, pkts.data(), burst_size);
    if (n)
        process_burst(c, host, pkts.data(), n);
    return n;
}

int worker_main(void* arg) noexcept
{
    lcore_ctx& c = *static_cast<lcore_ctx*>(arg);
    rte_rcu_qsbr_thread_register(c.qs, c.index);
    rte_rcu_qsbr_thread_online(c.qs, c.index);
    std::array<rte_mbuf*, burst_size> pkts;
    unsigned busy_loops = 0;
    bool host_full = false;
    while (!c.quit->load(std::memory_order_relaxed)) {
        bool busy = false;
        for (side from : {outside, inside}) {
            const std::uint16_t n = rte_eth_rx_burst(c.port_ids[from], c.queue, pkts.data(), burst_size);
            if (n) {
                process_burst(c, from, pkts.data(), n);
                busy = true;
            }
        }
        if (c.serves_host) {
            drain_punts(c, pkts);
            // the TAP's RX burst is a read(2) whether or not the kernel
            // sent anything: on every idle loop, every host_poll_busy-th
            // busy one, and at once again after a full burst
            if (!busy || host_full || ++busy_loops % host_poll_busy == 0)
                host_full = poll_host(c, pkts) == burst_size;
        }
        drain_mailbox(c);
        if (c.flows)
            sweep_flows(c);
        step_census(c);
        if (c.sources)
            sweep_sources(c);
        rte_rcu_qsbr_quiescent(c.qs, c.index);
    }
    rte_rcu_qsbr_thread_offline(c.qs, c.index);
    rte_rcu_qsbr_thread_unregister(c.qs, c.index);
    return 0;
}

} // namespace bulwark::dataplane
