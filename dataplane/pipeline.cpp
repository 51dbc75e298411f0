// SPDX-License-Identifier: Apache-2.0
#include "dataplane/pipeline.hpp"

#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/frag_table.hpp"
#include "dataplane/icmp_track.hpp"
#include "dataplane/limits.hpp"
#include "dataplane/mac_table.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/syn_guard.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <type_traits>

namespace bulwark::dataplane {

namespace {

static_assert(std::is_trivially_destructible_v<parsed_frame>, "a burst's frames are never destroyed");

// One burst between the stages, on the worker's stack: the frames' parsed
// fields and verdicts, and the frames still live (parsed, IP, not yet
// dropped), which the table stages look at. The stages loop on local
// copies of n and nlive: through `b` the compiler keeps them in memory.
struct burst {
    // Raw bytes: the parse stage builds each frame it parses. An array of
    // parsed_frame (default member initialisers) was zeroed whole on every
    // burst, 1.6 KB of memset, before each frame was built again.
    alignas(parsed_frame) std::array<std::byte, sizeof(parsed_frame) * burst_size> frame_bytes;
    std::array<pkt_verdict, burst_size> v;
    std::array<const parsed_frame*, burst_size> live;
    std::array<std::uint8_t, burst_size> live_index;
    std::array<bool, burst_size> exempt{}; // by frame: an allow-list rule matched it (no per-source limit)
    std::array<bool, burst_size> punt{};   // by frame: a punt rule matched it (to the host port, if it passes)
    unsigned n = 0, nlive = 0;
    unsigned nfrag = 0;                // fragments among the n frames
    rte_mbuf* const* pkts = nullptr;   // the frames' mbufs (ICMP errors read their quoted bytes)
};

// 1. parse and validate. A frame in several segments (jumbo frames past
//    the pool's buffer size) is read whole into this lcore's scratch
//    buffer first. The L4 checksum is left to the NIC when it says it
//    checked it.
void stage_parse(lcore_ctx& c, side from, rte_mbuf* const* pkts, burst& b) noexcept
{
    const unsigned n = b.n;
    unsigned nlive = 0;
    c.counters.port[from].rx += n;
    for (unsigned i = 0; i < n; ++i) {
        const rte_mbuf* m = pkts[i];
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], const void*));
        std::span<const std::byte> bytes{rte_pktmbuf_mtod(m, const std::byte*), rte_pktmbuf_data_len(m)};
        if (m->nb_segs > 1) {
            const std::uint32_t len = std::min<std::uint32_t>(rte_pktmbuf_pkt_len(m), c.scratch.size());
            const void* p = rte_pktmbuf_read(m, 0, len, c.scratch.data());
            bytes = {static_cast<const std::byte*>(p), p ? len : 0};
        }
        parse_options opt;
        opt.l4_checksum = (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_GOOD;
        parsed_frame* f = ::new (b.frame_bytes.data() + i * sizeof(parsed_frame)) parsed_frame{};
        const drop_reason why = parse_frame(bytes, *f, opt);
        b.v[i] = {why == drop_reason::none ? pkt_action::forward : pkt_action::drop, why};
        b.nfrag += f->fragment;
        if (why == drop_reason::none && f->l3 != l3_kind::other) {
            b.live[nlive] = f;
            b.live_index[nlive++] = static_cast<std::uint8_t>(i);
        }
    }
    b.nlive = nlive;
}

// 2. blocklist, on the frames still live
void stage_blocklist(const lcore_ctx& c, burst& b) noexcept
{
    const unsigned nlive = b.nlive;
    if (!nlive || !c.blocks)
        return;
    std::array<drop_reason, burst_size> why; // blocklisted, l7_block, or none
    c.blocks->lookup(b.live.data(), nlive, rte_rdtsc(), why.data());
    unsigned k = 0;
    for (unsigned j = 0; j < nlive; ++j) {
        if (why[j] != drop_reason::none)
            b.v[b.live_index[j]] = {pkt_action::drop, why[j]};
        else {
            b.live[k] = b.live[j];
            b.live_index[k++] = b.live_index[j];
        }
    }
    b.nlive = k;
}

// 3. ACL: first matching rule, else the default verdict (IP only: ARP and
//    other non-IP frames pass)
void stage_acl(lcore_ctx& c, side from, burst& b) noexcept
{
    const unsigned nlive = b.nlive;
    if (!nlive || !c.acl)
        return;
    const acl_table& acl = *c.acl;
    std::array<std::uint32_t, burst_size> res;
    acl.classify(b.live.data(), nlive, res.data());
    counter* const hits = &c.rule_hits[0];
    const std::size_t dflt = c.rule_hits.size() - 1;
    unsigned k = 0;
    for (unsigned j = 0; j < nlive; ++j) {
        ++hits[res[j] ? std::min<std::size_t>(res[j] - 1, dflt) : dflt];
        switch (acl.verdict_of(res[j])) {
        case verdict::deny:
            b.v[b.live_index[j]] = {pkt_action::drop, res[j] ? drop_reason::acl_deny : drop_reason::acl_default_deny};
            break;
        case verdict::punt:
            // to the host port once every later stage passed it (stage_bridge)
            if (c.host)
                b.punt[b.live_index[j]] = true;
            else
                ++c.counters.port[from].punted; // no host port (tests): forwarded inline
            [[fallthrough]];
        case verdict::allow:
            b.exempt[b.live_index[j]] = acl.exempts(res[j]);
            b.live[k] = b.live[j];
            b.live_index[k++] = b.live_index[j];
            break;
        }
    }
    b.nlive = k;
}

// 3b. per-source limits: a source from outside over its packet rate
//     (limits.hpp); the frames of allow-listed sources are exempt
void stage_limits(lcore_ctx& c, side from, burst& b) noexcept
{
    const unsigned nlive = b.nlive;
    if (!nlive || from != outside || !c.sources || !c.sources->limits().pps.on())
        return;
    std::array<const parsed_frame*, burst_size> f;
    std::array<std::uint8_t, burst_size> at;
    unsigned n = 0;
    for (unsigned j = 0; j < nlive; ++j)
        if (!b.exempt[b.live_index[j]]) {
            f[n] = b.live[j];
            at[n++] = static_cast<std::uint8_t>(j);
        }
    std::array<drop_reason, burst_size> why;
    limit_packets(c, f.data(), n, rte_rdtsc(), why.data());
    std::array<bool, burst_size> cut{};
    for (unsigned k = 0; k < n; ++k)
        if (why[k] != drop_reason::none) {
            b.v[b.live_index[at[k]]] = {pkt_action::drop, why[k]};
            cut[at[k]] = true;
        }
    unsigned k = 0;
    for (unsigned j = 0; j < nlive; ++j)
        if (!cut[j]) {
            b.live[k] = b.live[j];
            b.live_index[k++] = b.live_index[j];
        }
    b.nlive = k;
}

// One TCP segment against its flow (pos: its entry, or -1 for none yet).
drop_reason track_segment(lcore_ctx& c, const parsed_frame& f, const keyed& k, std::int32_t pos, std::uint32_t now,
                          bool pickup, bool limited) noexcept
{
    flow_table& ft = *c.flows;
    const tcp::segment seg{f.tcp_seq, f.tcp_ack, f.tcp_window, f.tcp_flags, f.tcp_payload, f.tcp_wscale};
    if (pos < 0) {
        tcp::conn fresh;
        if (auto v = tcp::track(fresh, tcp::side::original, seg, pickup); v != tcp::verdict::accept)
            return tcp::reason_of(v);
        drop_reason why;
        if ((pos = open_flow(c, f, k.key, now, limited, why, fresh.picked_up)) < 0)
            return why;
        flow_entry& e = ft.at(pos);
        e.tcp = fresh;
        e.original_is_a = k.src_is_a;
    } else {
        flow_entry& e = ft.at(pos);
        const tcp::side s = k.src_is_a == e.original_is_a ? tcp::side::original : tcp::side::reply;
        if (auto v = tcp::track(e.tcp, s, seg, pickup); v != tcp::verdict::accept)
            return tcp::reason_of(v);
    }
    ft.at(pos).tcp_touched(now);
    return drop_reason::none;
}

// The UDP services whose answers amplify: from outside, an answer from one
// of them with no request from inside is a reflection.
drop_reason reflection_of(std::uint16_t sport) noexcept
{
    switch (sport) {
    case 53: return drop_reason::udp_dns_no_query;
    case 123: return drop_reason::udp_ntp_reflection;
    case 1900: return drop_reason::udp_ssdp_reflection;
    case 11211: return drop_reason::udp_memcached_reflection;
    case 19: return drop_reason::udp_chargen_reflection;
    default: return drop_reason::none;
    }
}

// One UDP datagram: a pseudo-flow, opened by the first datagram unless
// that is an unasked answer from outside; 30 s, 180 s once both ways spoke.
drop_reason track_datagram(lcore_ctx& c, side from, const parsed_frame& f, const keyed& k, std::int32_t pos,
                           std::uint32_t now, bool limited) noexcept
{
    flow_table& ft = *c.flows;
    if (pos < 0) {
        if (from == outside)
            if (drop_reason r = reflection_of(f.sport); r != drop_reason::none)
                return r;
        drop_reason why;
        if ((pos = open_flow(c, f, k.key, now, limited, why)) < 0)
            return why;
        ft.at(pos).original_is_a = k.src_is_a;
    }
    flow_entry& e = ft.at(pos);
    if (k.src_is_a != e.original_is_a)
        e.replied = true;
    e.last_seen = now;
    e.timeout = e.replied ? udp_stream_timeout : udp_timeout;
    e.embryonic = !e.replied; // a one-way flood's flows go first when the table is full
    return drop_reason::none;
}

// An ICMP message's flow key (an echo's, or the flow an error quotes) and
// kind; false when there is none to look up: not ICMP, a type not tracked,
// or an error quoting no flow (then dropped here).
bool icmp_flow_key(burst& b, unsigned j, keyed& k, icmp_kind& kind) noexcept
{
    const parsed_frame& f = *b.live[j];
    if (f.proto != 1 && f.proto != 58)
        return false;
    kind = classify_icmp(f);
    if (kind == icmp_kind::other)
        return false;
    if (kind != icmp_kind::error) {
        k = echo_key(f);
        return true;
    }
    const rte_mbuf* m = b.pkts[b.live_index[j]];
    const std::span<const std::byte> bytes{rte_pktmbuf_mtod(m, const std::byte*), rte_pktmbuf_data_len(m)};
    if (quoted_flow(bytes, f, k))
        return true;
    b.v[b.live_index[j]] = {pkt_action::drop, drop_reason::icmp_error_no_flow};
    return false;
}

// A TCP segment in a stateful lcore with a SYN guard: the guard's when it
// answers a SYN, proves a cookie or belongs to a flow it opened; the
// tracker's otherwise.
pkt_verdict guarded_segment(lcore_ctx& c, side from, rte_mbuf* m, const parsed_frame& f, const keyed& k,
                            std::int32_t pos, std::uint64_t tsc, bool pickup, bool limited) noexcept
{
    if (pos >= 0) {
        if (c.flows->at(pos).proxy.ph != proxy_state::phase::none)
            return guard_segment(c, m, f, k, pos, tsc);
    } else if (from == outside) {
        const std::uint8_t fl = f.tcp_flags & (tcp::flag::syn | tcp::flag::ack | tcp::flag::rst | tcp::flag::fin);
        if (fl == tcp::flag::syn && c.guard->answers(tsc)) {
            c.guard_counts.on.set(1);
            return guard_syn(c, m, f, tsc);
        }
        pkt_verdict out;
        if (fl == tcp::flag::ack && guard_ack(c, m, f, k, tsc, limited, out))
            return out;
    }
    const auto now = static_cast<std::uint32_t>(tsc / c.tsc_hz);
    const drop_reason why = track_segment(c, f, k, pos, now, pickup, limited);
    return {why == drop_reason::none ? pkt_action::forward : pkt_action::drop, why};
}

// 4. stateful mode: TCP segments, UDP datagrams and ICMP through the
//    lcore's flows (later fragments carry no L4 header: stage_fragments);
//    the SYN guard's frames are rewritten here
void stage_flows(lcore_ctx& c, side from, rte_mbuf* const* pkts, burst& b) noexcept
{
    const unsigned nlive = b.nlive;
    if (!nlive || !c.flows)
        return;
    flow_table& ft = *c.flows;
    const std::uint64_t tsc = rte_rdtsc();
    const auto now = static_cast<std::uint32_t>(tsc / c.tsc_hz);
    const bool pickup = tsc < c.pickup_until;
    std::array<keyed, burst_size> keys;
    std::array<const flow_key*, burst_size> kp;
    std::array<std::uint8_t, burst_size> at;
    std::array<icmp_kind, burst_size> kinds;
    unsigned n = 0;
    for (unsigned j = 0; j < nlive; ++j) {
        const parsed_frame& f = *b.live[j];
        if (f.later_fragment)
            continue;
        if (f.proto == 6 || f.proto == 17)
            keys[n] = make_flow_key(f);
        else if (!icmp_flow_key(b, j, keys[n], kinds[n]))
            continue;
        kp[n] = &keys[n].key;
        at[n++] = static_cast<std::uint8_t>(j);
    }
    std::array<std::int32_t, burst_size> pos;
    if (n)
        ft.lookup(kp.data(), n, pos.data());
    const std::uint64_t removed = ft.stats().removed;
    for (unsigned k = 0; k < n; ++k) {
        // a flow an earlier segment of this burst created, or a slot a
        // removal (an eviction, a reset) freed and maybe reused: found again
        std::int32_t p = pos[k] < 0 || ft.stats().removed != removed ? ft.find(keys[k].key) : pos[k];
        const parsed_frame& f = *b.live[at[k]];
        const unsigned i = b.live_index[at[k]];
        const bool limited = from == outside && c.sources && !b.exempt[i];
        if (f.proto == 6 && c.guard) {
            b.v[i] = guarded_segment(c, from, pkts[i], f, keys[k], p, tsc, pickup, limited);
            continue;
        }
        const drop_reason why = f.proto == 6    ? track_segment(c, f, keys[k], p, now, pickup, limited)
                                : f.proto == 17 ? track_datagram(c, from, f, keys[k], p, now, limited)
                                                : track_icmp(ft, kinds[k], keys[k], p, now, pickup);
        if (why != drop_reason::none)
            b.v[i] = {pkt_action::drop, why};
    }
    b.nlive = 0; // the last stage that reads the live list
    auto& g = c.flow_counts;
    g.active.set(ft.size());
    g.created.set(ft.stats().inserted);
    g.evicted.set(ft.stats().evicted);
    g.refused.set(ft.stats().refused_full);
    if (c.guard) {
        c.guard_counts.on.set(c.guard->on());
        c.guard_counts.switched_on.set(c.guard->switched_on());
    }
}

// 5. both modes: fragment trains. A first fragment's verdict, from every
//    stage before, is recorded for its train; later fragments inherit it.
void stage_fragments(lcore_ctx& c, burst& b) noexcept
{
    if (!b.nfrag || !c.frags)
        return;
    frag_table& t = *c.frags;
    const auto now = static_cast<std::uint32_t>(rte_rdtsc() / c.tsc_hz);
    t.apply(std::launder(reinterpret_cast<const parsed_frame*>(b.frame_bytes.data())), b.v.data(), b.n, now);
    auto& g = c.frag_counts;
    g.trains.set(t.stats().trains);
    g.later.set(t.stats().later);
    g.completed.set(t.stats().completed);
    g.refused.set(t.stats().refused);
}

// IPv6 neighbour discovery (RFC 4861: router and neighbour solicitations
// and advertisements, redirects), which the host port's kernel needs to
// resolve its neighbours through the bridge, as ARP for IPv4.
bool neighbour_discovery(const parsed_frame& f) noexcept
{
    return f.l3 == l3_kind::ipv6 && f.proto == 58 && !f.later_fragment && f.icmp_type >= 133 && f.icmp_type <= 137;
}

constexpr std::uint16_t eth_arp = 0x0806;

// 6. with a host port: the bridge's switching, in the manner of a Linux
//    bridge with the host as one of its ports. Frames that passed every
//    stage before:
//    * from outside or inside: their source MAC is learned on that port;
//      a punt rule's frames go to the host (their destination MAC set to
//      the host's: the kernel takes no frame for another); a frame to the
//      host's MAC goes to it from inside (the proxy's servers answering)
//      and, from outside, only when it is ARP or neighbour discovery
//      (else host_not_punted); a broadcast or multicast ARP or ND frame
//      goes to the other port and to the host; the rest to the other port.
//    * from the host: to the port its destination was learned on; a group
//      address or one not learned (yet) to both.
void stage_bridge(lcore_ctx& c, side from, rte_mbuf* const* pkts, burst& b) noexcept
{
    const host_link& h = *c.host;
    const auto now = static_cast<std::uint32_t>(rte_rdtsc() / c.tsc_hz);
    const auto* frames = std::launder(reinterpret_cast<const parsed_frame*>(b.frame_bytes.data()));
    for (unsigned i = 0; i < b.n; ++i) {
        if (b.v[i].action != pkt_action::forward)
            continue;
        // a frame that parsed has its Ethernet header in the first segment,
        // unless a driver chained a shorter one: then nothing is learned and
        // it never goes to the host (from the host, to both ports)
        if (rte_pktmbuf_data_len(pkts[i]) < 14) {
            b.v[i].action = from == host ? pkt_action::flood : pkt_action::forward;
            continue;
        }
        auto* eth = rte_pktmbuf_mtod(pkts[i], std::uint8_t*);
        mac_addr dst, src;
        std::memcpy(dst.data(), eth, 6);
        std::memcpy(src.data(), eth + 6, 6);
        if (from == host) {
            const auto port = h.macs->lookup(dst, now);
            b.v[i].action = !port ? pkt_action::flood : *port == outside ? pkt_action::to_outside
                                                      : *port == inside  ? pkt_action::to_inside
                                                                         : pkt_action::flood;
            continue;
        }
        h.macs->learn(src, from, now, from == outside ? std::uint8_t(inside) : mac_table::no_port);
        const parsed_frame& f = frames[i];
        if (b.punt[i]) {
            if (dst != h.mac)
                std::memcpy(eth, h.mac.data(), 6);
            b.v[i].action = pkt_action::punt;
        } else if (dst == h.mac) {
            if (from == inside || f.ethertype == eth_arp || neighbour_discovery(f))
                b.v[i].action = pkt_action::punt;
            else
                b.v[i] = {pkt_action::drop, drop_reason::host_not_punted};
        } else if (is_group(dst) && (f.ethertype == eth_arp || neighbour_discovery(f))) {
            b.v[i].action = pkt_action::flood;
        }
    }
}

// Samples a drop; only with a sampling ring. Out of line: it keeps a few
// frames per second, and inlined it cost emit() registers on every frame.
[[gnu::noinline]] void sample(lcore_ctx& c, side from, drop_reason r, const rte_mbuf* m, std::uint64_t now) noexcept
{
    if (now - c.window_start >= c.window_len) {
        c.window_start = now;
        c.sampled.fill(0);
    }
    auto& used = c.sampled[static_cast<std::size_t>(r)];
    if (used >= c.sampling.per_second)
        return;
    void* obj;
    if (rte_mempool_get(c.sampling.pool, &obj) != 0)
        return;
    ++used;
    auto* s = static_cast<drop_sample*>(obj);
    s->tsc = now;
    s->port_id = c.port_ids[from];
    s->side = from;
    s->reason = r;
    s->len = static_cast<std::uint16_t>(std::min<std::uint32_t>(rte_pktmbuf_pkt_len(m), 65535));
    s->caplen = static_cast<std::uint16_t>(std::min<std::uint32_t>(rte_pktmbuf_data_len(m), drop_sample::snaplen));
    std::memcpy(s->bytes, rte_pktmbuf_mtod(m, const void*), s->caplen);
    if (rte_ring_mp_enqueue(c.sampling.ring, obj) != 0)
        rte_mempool_put(c.sampling.pool, obj);
}

// To the punt ring, never waiting for room: the rest is counted punt_full
// on `from` and freed.
void punt(lcore_ctx& c, side from, rte_mbuf** pkts, unsigned n) noexcept
{
    port_counters& pc = c.counters.port[from];
    rte_ring* const ring = c.host ? c.host->punt_ring : nullptr;
    const unsigned queued = ring ? rte_ring_enqueue_burst(ring, reinterpret_cast<void* const*>(pkts), n, nullptr) : 0;
    pc.punted += queued;
    if (queued < n) {
        pc.drops[static_cast<std::size_t>(drop_reason::punt_full)] += n - queued;
        rte_pktmbuf_free_bulk(pkts + queued, n - queued);
    }
}

// emit()'s rare verdicts: replies, punts, floods and the host port's
// frames, each kind sent as one burst. A flooded frame goes out twice: its
// reference count is raised, and each TX (or its failure) drops one.
void emit_rest(lcore_ctx& c, side from, rte_mbuf* const* pkts, const pkt_verdict* v, const std::uint8_t* rest,
               unsigned nrest) noexcept
{
    std::array<rte_mbuf*, burst_size> replies, punts;
    std::array<std::array<rte_mbuf*, burst_size>, 2> out; // by bridged port
    std::array<unsigned, 2> nout{};
    unsigned nreplies = 0, npunts = 0;
    for (unsigned k = 0; k < nrest; ++k) {
        const unsigned i = rest[k];
        rte_mbuf* m = pkts[i];
        switch (v[i].action) {
        case pkt_action::reply: replies[nreplies++] = m; break;
        case pkt_action::punt: punts[npunts++] = m; break;
        case pkt_action::to_outside: out[outside][nout[outside]++] = m; break;
        case pkt_action::to_inside: out[inside][nout[inside]++] = m; break;
        case pkt_action::flood:
            rte_mbuf_refcnt_update(m, 1);
            if (from == host) {
                out[outside][nout[outside]++] = m;
                out[inside][nout[inside]++] = m;
            } else {
                out[other_side(from)][nout[other_side(from)]++] = m;
                punts[npunts++] = m;
            }
            break;
        default: break; // forward and drop: emit()'s own
        }
    }
    if (nreplies)
        transmit(c, from, replies.data(), nreplies);
    for (side s : {outside, inside})
        if (nout[s])
            transmit(c, s, out[s].data(), nout[s]);
    if (npunts)
        punt(c, from, punts.data(), npunts);
}

} // namespace

void transmit(lcore_ctx& c, side to, rte_mbuf** pkts, unsigned n) noexcept
{
    port_counters& pc = c.counters.port[to];
    const std::uint16_t q = to == host ? 0 : c.queue;
    const std::uint16_t sent = rte_eth_tx_burst(c.port_ids[to], q, pkts, static_cast<std::uint16_t>(n));
    pc.tx += sent;
    if (sent < n) {
        pc.drops[static_cast<std::size_t>(drop_reason::tx_full)] += n - sent;
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
}

void emit(lcore_ctx& c, side from, rte_mbuf* const* pkts, const pkt_verdict* v, unsigned n) noexcept
{
    counter* const drops = c.counters.port[from].drops.data();
    rte_ring* const sampled = c.sampling.ring;
    std::array<rte_mbuf*, burst_size> fwd, dropped;
    std::array<std::uint8_t, burst_size> rest; // replies and punts: rare, sorted after the loop
    unsigned nfwd = 0, ndropped = 0, nrest = 0;
    std::uint64_t now = 0;
    // forward and drop first: they are every frame today, and a loop that
    // tests for them alone keeps its counts in registers (bulwark-bench)
    for (unsigned i = 0; i < n; ++i) {
        if (v[i].action == pkt_action::forward) {
            fwd[nfwd++] = pkts[i];
        } else if (v[i].action == pkt_action::drop) {
            ++drops[static_cast<std::size_t>(v[i].why)];
            if (sampled) {
                if (!now)
                    now = rte_rdtsc();
                sample(c, from, v[i].why, pkts[i], now);
            }
            dropped[ndropped++] = pkts[i];
        } else {
            rest[nrest++] = static_cast<std::uint8_t>(i);
        }
    }
    if (ndropped)
        rte_pktmbuf_free_bulk(dropped.data(), ndropped);
    if (nfwd)
        transmit(c, other_side(from), fwd.data(), nfwd);
    if (nrest)
        emit_rest(c, from, pkts, v, rest.data(), nrest);
}

void process_burst(lcore_ctx& c, side from, rte_mbuf* const* pkts, unsigned n) noexcept
{
    burst b;
    b.n = std::min(n, burst_size);
    b.pkts = pkts;
    stage_parse(c, from, pkts, b);
    // the host port's frames are the appliance's own (its kernel's, its
    // proxy's): validated and tracked, not filtered
    if (from != host) {
        stage_blocklist(c, b);
        stage_acl(c, from, b);
        stage_limits(c, from, b);
    }
    stage_flows(c, from, pkts, b);
    stage_fragments(c, b);
    if (c.host)
        stage_bridge(c, from, pkts, b);
    emit(c, from, pkts, b.v.data(), b.n);
}

} // namespace bulwark::dataplane
