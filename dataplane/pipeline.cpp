// SPDX-License-Identifier: Apache-2.0
#include "dataplane/pipeline.hpp"

#include "dataplane/packet.hpp"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

namespace bulwark::dataplane {

worker_state::worker_state(std::size_t acl_rules, drop_sampling sampling, std::array<std::uint16_t, 2> port_ids)
    : rule_hits(acl_rules + 1, 0), sampling_(sampling), port_ids_(port_ids), window_len_(rte_get_tsc_hz()),
      scratch_(65536)
{
}

// Called only with a sampling ring.
void worker_state::sample(side from, drop_reason r, const rte_mbuf* m, std::uint64_t now) noexcept
{
    if (now - window_start_ >= window_len_) {
        window_start_ = now;
        sampled_.fill(0);
    }
    auto& used = sampled_[static_cast<std::size_t>(r)];
    if (used >= sampling_.per_second)
        return;
    void* obj;
    if (rte_mempool_get(sampling_.pool, &obj) != 0)
        return;
    ++used;
    auto* s = static_cast<drop_sample*>(obj);
    s->tsc = now;
    s->port_id = port_ids_[from];
    s->side = from;
    s->reason = r;
    s->len = static_cast<std::uint16_t>(std::min<std::uint32_t>(rte_pktmbuf_pkt_len(m), 65535));
    s->caplen = static_cast<std::uint16_t>(std::min<std::uint32_t>(rte_pktmbuf_data_len(m), drop_sample::snaplen));
    std::memcpy(s->bytes, rte_pktmbuf_mtod(m, const void*), s->caplen);
    if (rte_ring_mp_enqueue(sampling_.ring, obj) != 0)
        rte_mempool_put(sampling_.pool, obj);
}

unsigned worker_state::filter(const pipeline_tables& t, side from, rte_mbuf** pkts, unsigned n) noexcept
{
    n = std::min(n, burst_size);
    port_counters& pc = counters.port[from];
    pc.rx += n;
    parsed_frame frames[burst_size];
    drop_reason why[burst_size];
    const parsed_frame* live[burst_size];
    std::uint8_t live_index[burst_size];
    unsigned nlive = 0;

    // 1. parse and validate. A frame in several segments (jumbo frames
    //    past the pool's buffer size) is read whole into this lcore's
    //    scratch buffer first. The L4 checksum is left to the NIC when it
    //    says it checked it.
    for (unsigned i = 0; i < n; ++i) {
        const rte_mbuf* m = pkts[i];
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], const void*));
        std::span<const std::byte> bytes{rte_pktmbuf_mtod(m, const std::byte*), rte_pktmbuf_data_len(m)};
        if (m->nb_segs > 1) {
            const std::uint32_t len = std::min<std::uint32_t>(rte_pktmbuf_pkt_len(m), scratch_.size());
            const void* p = rte_pktmbuf_read(m, 0, len, scratch_.data());
            bytes = {static_cast<const std::byte*>(p), p ? len : 0};
        }
        parse_options opt;
        opt.l4_checksum = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD;
        frames[i] = parsed_frame{};
        why[i] = parse_frame(bytes, frames[i], opt);
        if (why[i] == drop_reason::none && frames[i].l3 != l3_kind::other) {
            live[nlive] = &frames[i];
            live_index[nlive++] = static_cast<std::uint8_t>(i);
        }
    }

    // 2. blocklist, on the frames still in
    if (nlive && t.blocks) {
        bool blocked[burst_size];
        t.blocks->lookup(live, nlive, rte_rdtsc(), blocked);
        unsigned k = 0;
        for (unsigned j = 0; j < nlive; ++j) {
            if (blocked[j])
                why[live_index[j]] = drop_reason::blocklisted;
            else {
                live[k] = live[j];
                live_index[k++] = live_index[j];
            }
        }
        nlive = k;
    }

    // 3. ACL: first matching rule, else the default verdict (IP only:
    //    ARP and other non-IP frames pass)
    if (nlive && t.acl) {
        std::uint32_t res[burst_size];
        t.acl->classify(live, nlive, res);
        const std::size_t dflt = rule_hits.size() - 1;
        for (unsigned j = 0; j < nlive; ++j) {
            ++rule_hits[res[j] ? std::min<std::size_t>(res[j] - 1, dflt) : dflt];
            switch (t.acl->verdict_of(res[j])) {
            case verdict::deny:
                why[live_index[j]] = res[j] ? drop_reason::acl_deny : drop_reason::acl_default_deny;
                break;
            case verdict::punt:
                // the host port is not built yet: punted traffic goes inline
                ++pc.punted;
                break;
            case verdict::allow:
                break;
            }
        }
    }

    // 4. verdict: compact what passes, count, sample and free the rest
    unsigned pass = 0;
    rte_mbuf* dropped[burst_size];
    unsigned ndropped = 0;
    std::uint64_t now = 0;
    for (unsigned i = 0; i < n; ++i) {
        if (why[i] == drop_reason::none) {
            pkts[pass++] = pkts[i];
            continue;
        }
        ++pc.drops[static_cast<std::size_t>(why[i])];
        if (sampling_.ring) {
            if (!now)
                now = rte_rdtsc();
            sample(from, why[i], pkts[i], now);
        }
        dropped[ndropped++] = pkts[i];
    }
    if (ndropped)
        rte_pktmbuf_free_bulk(dropped, ndropped);
    return pass;
}

void worker_state::tx_dropped(side to, rte_mbuf** pkts, unsigned n) noexcept
{
    // counted on the port the frames would have left by
    counters.port[to].drops[static_cast<std::size_t>(drop_reason::tx_full)] += n;
    rte_pktmbuf_free_bulk(pkts, n);
}

} // namespace bulwark::dataplane
