// SPDX-License-Identifier: Apache-2.0
#pragma once

// The stages a worker lcore runs each RX burst through (DESIGN.md section
// 1), in the manner of Gatekeeper's process_pkts_front: parse and validate
// -> blocklist -> ACL -> emit. Each stage narrows the frames still live and
// sets their verdict (pipeline_types.hpp); emit acts on the verdicts:
// forward, drop(reason), reply, punt, and with a host port the bridge's
// switching (stage_bridge: to the host, flood, by learned MAC). After the ACL: the per-source packet
// limit (limits.hpp), then mode stateful's flows, which check the
// per-source flow limits where they open a flow. Per lcore; no
// lock, no allocation, no syscall, no log.

#include "dataplane/lcore_ctx.hpp"
#include "dataplane/pipeline_types.hpp"

struct rte_mbuf;

namespace bulwark::dataplane {

// Runs a burst received on `from` through every stage, then emit(): on
// return each of pkts[0..n) has been sent, enqueued or freed. n <=
// burst_size (frames past it are left alone). ctx's lcore only.
void process_burst(lcore_ctx& ctx, side from, rte_mbuf* const* pkts, unsigned n) noexcept;

// TX on port `to` (the host port: its one queue, which only the lcore
// serving it sends on); what its queue does not take is counted tx_full
// there and freed. ctx's lcore only.
void transmit(lcore_ctx& ctx, side to, rte_mbuf** pkts, unsigned n) noexcept;

// The last stage: acts on v[i] for pkts[i] received on `from`, and counts
// what it does on ctx.counters.
//   forward: TX burst on the other port's ctx.queue; counted tx there; what
//            its queue does not take is counted tx_full there and freed.
//   drop:    counted under v[i].why on `from`, sampled, freed.
//   reply:   TX burst on `from` itself; tx and tx_full counted on `from`.
//   punt:    enqueued on the host port's punt ring, counted punted on `from`; what the
//            ring does not take (full, or no ring) is counted punt_full on
//            `from` and freed. Never waits.
//   flood:   from the host, TX on both bridged ports; from a bridged
//            port, TX on the other one and to the host's punt ring.
//   to_outside, to_inside: from the host, TX on that port.
// n <= burst_size. ctx's lcore only; public so tests can set verdicts.
void emit(lcore_ctx& ctx, side from, rte_mbuf* const* pkts, const pkt_verdict* v, unsigned n) noexcept;

} // namespace bulwark::dataplane
