// SPDX-License-Identifier: Apache-2.0
#include "dataplane/limits.hpp"

#include "dataplane/flow_table.hpp"

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <array>

namespace bulwark::dataplane {

namespace {

source_key key_of(const parsed_frame& f) noexcept { return make_source_key(f.src, f.l3 == l3_kind::ipv6); }

// e's source is over a limit: blocklisted, once per block time.
void block_over(lcore_ctx& c, const parsed_frame& f, source_entry& e, drop_reason why, std::uint64_t now) noexcept
{
    const limit_params& l = c.sources->limits();
    if (!l.block_seconds || (e.block_asked && now - e.block_asked < l.block_tsc))
        return; // no blocking; or asked already: the block is on its way or in force
    if (ask_block(c, f, why, l.block_seconds))
        e.block_asked = now ? now : 1;
}

void update_gauges(lcore_ctx& c) noexcept
{
    c.limit_counts.sources.set(c.sources->size());
    c.limit_counts.untracked.set(c.sources->stats().untracked);
}

} // namespace

bool ask_block(lcore_ctx& c, const parsed_frame& f, drop_reason why, std::uint32_t seconds) noexcept
{
    if (!c.block_ring)
        return false;
    block_request r;
    r.addr = f.src;
    r.v6 = f.l3 == l3_kind::ipv6;
    r.reason = why;
    r.seconds = seconds;
    if (rte_ring_mp_enqueue_elem(c.block_ring, &r, sizeof r) != 0) {
        ++c.limit_counts.block_ring_full;
        return false;
    }
    ++c.limit_counts.blocks_asked;
    return true;
}

void limit_packets(lcore_ctx& c, const parsed_frame* const* frames, unsigned n, std::uint64_t now,
                   drop_reason* why) noexcept
{
    source_table& st = *c.sources;
    const limit_params& l = st.limits();
    std::array<source_key, burst_size> keys;
    std::array<const source_key*, burst_size> kp;
    std::array<std::int32_t, burst_size> pos;
    n = std::min(n, burst_size);
    for (unsigned i = 0; i < n; ++i) {
        keys[i] = key_of(*frames[i]);
        kp[i] = &keys[i];
    }
    if (n)
        st.find_or_add(kp.data(), n, now, pos.data());
    for (unsigned i = 0; i < n; ++i) {
        why[i] = drop_reason::none;
        if (pos[i] < 0)
            continue; // not tracked: not limited (counted by the table)
        source_entry& e = st.at(pos[i]);
        if (!e.pps.take(l.pps, now)) {
            why[i] = drop_reason::limit_pps;
            block_over(c, *frames[i], e, why[i], now);
        }
    }
    update_gauges(c);
}

drop_reason limit_new_flow(lcore_ctx& c, const parsed_frame& f, std::uint64_t now, std::int32_t& source,
                           bool picked_up) noexcept
{
    source = -1;
    source_table& st = *c.sources;
    const limit_params& l = st.limits();
    if (!l.new_flows.on() && !l.concurrent)
        return drop_reason::none;
    const std::int32_t p = st.find_or_add(key_of(f), now);
    update_gauges(c);
    if (p < 0)
        return drop_reason::none;
    source_entry& e = st.at(p);
    drop_reason why = drop_reason::none;
    if (picked_up) {
        // counted, never refused
    } else if (l.concurrent && e.flows >= l.concurrent) {
        why = drop_reason::limit_concurrent_flows;
    } else if (!e.new_flows.take(l.new_flows, now)) {
        why = drop_reason::limit_new_flows;
    }
    if (why != drop_reason::none) {
        block_over(c, f, e, why, now);
        return why;
    }
    if (l.concurrent)
        source = p; // counted only when a limit reads the count: otherwise the entry could go idle
    return drop_reason::none;
}

void count_flow(lcore_ctx& c, std::int32_t source, flow_entry& e) noexcept
{
    if (source < 0)
        return;
    ++c.sources->at(source).flows;
    e.limited = true;
}

std::int32_t open_flow(lcore_ctx& c, const parsed_frame& f, const flow_key& key, std::uint32_t now, bool limited,
                       drop_reason& why, bool picked_up) noexcept
{
    std::int32_t source = -1;
    if (limited && (why = limit_new_flow(c, f, rte_rdtsc(), source, picked_up)) != drop_reason::none)
        return -1;
    const std::int32_t pos = c.flows->insert(key, now);
    if (pos < 0) {
        why = drop_reason::flows_full;
        return -1;
    }
    count_flow(c, source, c.flows->at(pos));
    return pos;
}

void sweep_sources(lcore_ctx& c) noexcept
{
    c.sources->sweep(rte_rdtsc(), source_sweep_per_loop);
    update_gauges(c);
}

} // namespace bulwark::dataplane
