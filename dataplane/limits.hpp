// SPDX-License-Identifier: Apache-2.0
#pragma once

// The per-source limits on one worker lcore (issue #13), as the pipeline's
// stages call them: 'limit src pps' on every frame from outside that the
// ACL let through, 'limit src new-flows' and 'limit src concurrent-flows'
// where stage_flows opens a flow. Only sources on the outside port are
// limited: they are the clients; what comes from inside is the protected
// servers' traffic, and an inside host opening flows out is not an attack
// on them. An 'allow ... src CIDR' rule exempts its sources
// (acl_table::exempts). A source over a limit has the frame dropped with
// the limit's reason and, with 'limit src block TIME', is queued on the
// block ring for the control thread to blocklist (block_request); it is
// asked once per TIME, and a full ring is counted, never waited for.
//
// With several worker lcores each keeps its own sources (the flows of one
// source may reach several lcores): a source may then get up to its limit
// on each. ctx's lcore only; no lock, no allocation, no syscall.

#include "dataplane/flow_key.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/source_table.hpp"

namespace bulwark::dataplane {

struct flow_entry;

// why[i]: none, or limit_pps when frames[i]'s source (from outside, not
// exempt) is over its packet rate. n <= burst_size; now: rte_rdtsc().
void limit_packets(lcore_ctx& c, const parsed_frame* const* frames, unsigned n, std::uint64_t now,
                   drop_reason* why) noexcept;

// f (from outside, not exempt) is about to open a flow: none, or the limit
// its source is over. On none, `source` is the source entry that counts
// the flow's life (count_flow), or -1 when none does. A flow picked up
// mid-stream in the pickup window existed before a restart: it is counted
// but never refused (no session open before a restart is cut).
drop_reason limit_new_flow(lcore_ctx& c, const parsed_frame& f, std::uint64_t now, std::int32_t& source,
                           bool picked_up = false) noexcept;
// The flow e, just opened, is one of source's live flows until it goes.
void count_flow(lcore_ctx& c, std::int32_t source, flow_entry& e) noexcept;
// A new flow for `key` in c's flow table, opened by f: when `limited`
// (from outside, not exempt), its source's flow limits first, and the flow
// counted among its live flows. -1 with `why` (a limit, or flows_full)
// when refused. Every flow the pipeline or the SYN guard opens goes here.
std::int32_t open_flow(lcore_ctx& c, const parsed_frame& f, const flow_key& key, std::uint32_t now, bool limited,
                       drop_reason& why, bool picked_up = false) noexcept;

// Queues a request to blocklist f's source for `seconds` with `why`; false
// when the ring is full (counted) or there is none.
bool ask_block(lcore_ctx& c, const parsed_frame& f, drop_reason why, std::uint32_t seconds) noexcept;

// Source slots looked at per worker loop for idle entries.
inline constexpr unsigned source_sweep_per_loop = 16;
void sweep_sources(lcore_ctx& c) noexcept;

} // namespace bulwark::dataplane
