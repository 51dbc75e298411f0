// SPDX-License-Identifier: Apache-2.0
#pragma once

// A worker lcore's loop (DESIGN.md section 2), run to completion: an RX
// burst from each port through the pipeline's stages, then up to
// mailbox_per_loop control commands, then (stateful) a sweep of a few
// flow slots for expired flows, then a quiescent state for the RCU readers
// of the tables, until *ctx.quit.

#include "dataplane/lcore_ctx.hpp"

#include <array>

struct rte_mbuf;

namespace bulwark::dataplane {

// The lcore_function_t rte_eal_remote_launch() runs; arg is the lcore's
// lcore_ctx, filled in (queues, tables, mailbox, qs, quit). Returns 0 when
// quit is set.
int worker_main(void* arg) noexcept;

// The host port's turns in the loop of the lcore serving it (pkts: the
// loop's burst array): the punt ring's frames to the TAP, every loop; a
// burst from the TAP through the pipeline (from `host`), returning its
// size. A TAP's RX burst is a system call even when empty, so a busy loop
// polls it only every host_poll_busy loops (an idle one always).
void drain_punts(lcore_ctx& ctx, std::array<rte_mbuf*, burst_size>& pkts) noexcept;
unsigned poll_host(lcore_ctx& ctx, std::array<rte_mbuf*, burst_size>& pkts) noexcept;
inline constexpr unsigned host_poll_busy = 8;

// Flow slots looked at per loop for expiry: a 1 M-slot table goes round in
// 65 536 loops (well under a second when idle, as long as a burst takes).
inline constexpr unsigned flow_sweep_per_loop = 16;
// One sweep step and the flow gauges it changes; ctx's lcore only.
void sweep_flows(lcore_ctx& ctx) noexcept;

} // namespace bulwark::dataplane
