// SPDX-License-Identifier: Apache-2.0
#pragma once

// bulwark-bench's all-in harness (issue #13): the whole worker loop on
// lcore 1 as the shield runs it (dataplane::worker_main: an RX burst from
// each port, the pipeline, TX, the mailbox, the flow sweep, the RCU
// quiescent state), its ports two net_ring PMDs, the outside port's RX
// ring kept full by a feeder on lcore 0 (the main lcore) from pre-built
// mbufs, and the TX rings drained by the same feeder. The baseline pays
// the same RX and TX: testpmd's io forwarding loop (rx_burst on one port,
// tx_burst of it on the other, both directions), on the same ports, fed
// by the same feeder.
//
// Timing: on a machine shared with other work, the wall clock counts the
// time the worker was scheduled out; the figure reported is the worker
// thread's own time on a CPU (schedstat), in TSC cycles, beside the wall
// clock's. The feeder sleeps between rounds over a deep RX ring, so it
// takes little CPU from the worker and the worker seldom waits for it
// (the share of rounds that found the ring empty is reported).
//
// The mbufs' reference counts are raised once per run (as the
// pipeline-only table does), so a drop's free only decrements one and
// the feeder recycles pointers without touching an mbuf: the worker is
// the only lcore that reads or writes them during a run.

#include "dataplane/lcore_ctx.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_mbuf;
struct rte_ring;

namespace bulwark::bench {

struct allin_result {
    double cycles = 0;      // the worker thread's time on a CPU per packet received, in TSC cycles
    double wall_cycles = 0; // TSC cycles per packet, wall clock (the worker scheduled out included)
    double passed = 0;      // share of them sent on (TX rings)
    double rx_empty = 0;    // share of the feeder's rounds that found the worker's RX ring empty
};

// How long the feeder sleeps after a round that found the RX ring more
// than half full; half the ring's backlog must cover it (16 k frames at
// 100 cycles each: 0.6 ms at 2.6 GHz).
inline constexpr unsigned feeder_sleep_us = 100;

// The time thread `tid` of this process has spent on a CPU, in ns (from
// /proc/self/task/TID/schedstat); 0 when it cannot be read.
std::uint64_t on_cpu_ns(int tid);

class allin_ports {
public:
    // Two net_ring ports ("outside", "inside") over rings of `rx_slots`
    // (the feeder's) and `tx_slots`; null with a message on stderr when
    // DPDK has no memory for them. After EAL, on the main lcore.
    static std::unique_ptr<allin_ports> create(unsigned rx_slots, unsigned tx_slots);
    ~allin_ports();
    allin_ports(const allin_ports&) = delete;
    allin_ports& operator=(const allin_ports&) = delete;

    std::array<std::uint16_t, 2> port_ids() const { return {outside_, inside_}; }
    // The feeder delivers each burst as a NIC would (deliver() in the .cpp:
    // mbuf header written, frame's first line read) or, false, leaves the
    // mbufs as they are (cold in memory when there are many).
    void touch(bool on) { touch_ = on; }

    // A context for worker_main on these ports (queue 0, a mailbox, the
    // RCU variable, quit), with the tables the caller sets after.
    std::unique_ptr<dataplane::lcore_ctx> make_ctx(std::size_t acl_rules, const std::string& name);

    // `packets` from `mbufs` (cyclically; a multiple of burst_size) into
    // the outside port while `lcore` runs the whole worker loop over
    // `ctx` (pipeline) or the io forwarding loop (ctx null). Main lcore.
    // `restore`: the frames mbufs[i] were built from, written back by the
    // feeder before each mbuf goes round again (the SYN guard rewrites the
    // frames it answers in place); the feeder's work, not the worker's.
    allin_result run(unsigned lcore, dataplane::lcore_ctx* ctx, std::vector<rte_mbuf*>& mbufs, long packets,
                     const std::vector<std::vector<std::uint8_t>>* restore = nullptr);

private:
    allin_ports() = default;
    void drain_tx();

    rte_ring* rx_out_ = nullptr; // fed by the feeder: the outside port's RX
    rte_ring* rx_in_ = nullptr;  // the inside port's RX: never fed
    rte_ring* tx_out_ = nullptr; // the worker's TX, drained by the feeder
    rte_ring* tx_in_ = nullptr;
    std::uint16_t outside_ = 0, inside_ = 0;
    bool touch_ = true;
    int worker_tid_ = 0;         // the worker lcore's thread, for on_cpu_ns
    void* qs_ = nullptr;         // rte_rcu_qsbr, for one worker
    std::atomic<bool> quit_{false};
};

} // namespace bulwark::bench
