// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the host port's bridge (issue #14). One worker lcore,
// stateless or stateful (with or without the SYN guard), with a host port
// and the rule 'punt tcp dst 10.10.0.100 dport 80', fed arbitrary
// sequences of frames from outside, inside and the host, with every MAC
// address the bridge tells apart (the host's, broadcast, IPv6 multicast,
// a learned station's, a stranger's). Checked after every burst:
//   * from outside, the host gets only ARP, neighbour discovery and what
//     the punt rule names (TCP to the VIP's port 80): nothing else reaches
//     the kernel past the shield;
//   * the host's own frames never come back to it;
//   * every IP frame the lcore sends anywhere passes the validator;
//   * no mbuf is lost: a flooded frame is sent twice and freed once per
//     send, so once every port and the punt ring are drained the pool is
//     full again.
//
// Input: a first byte (bit 0: mode stateful, bit 1: syn-guard always),
// then 12-byte records:
//   r[0]  side (mod 3: outside, inside, host); bit 7 ends the burst (else
//         the next record joins it, 32 at most)
//   r[1]  kind (mod 5): ARP request, ARP reply, ICMPv6 neighbour
//         solicitation, UDP, TCP
//   r[2]  destination MAC (mod 6): host, broadcast, 33:33:ff multicast,
//         client, server, stranger; r[3] source MAC (mod 4): client,
//         server, host, stranger
//   r[4]  destination IPv4 (mod 3): the VIP, the server, the client; the
//         source is another of them
//   r[5]  bit 0: destination port 80, else 8080; r[6] TCP flags
//   r[7..10] TCP sequence; r[11] payload bytes
#include "dataplane/acl_table.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/mac_table.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/syn_guard.hpp"
#include "tests/dataplane/eal.hpp"
#include "tests/dataplane/frames.hpp"
#include "tests/fuzz/ring_world.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

const mac_addr host_mac{0x02, 0, 0, 0, 0, 0x64};
const std::array<mac_addr, 6> dst_macs{host_mac,
                                       mac_addr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                                       mac_addr{0x33, 0x33, 0xff, 0, 0, 0x01},
                                       mac_addr{0x02, 0, 0, 0, 0, 0x01},
                                       mac_addr{0x02, 0, 0, 0, 0, 0x02},
                                       mac_addr{0x02, 0, 0, 0, 0, 0x77}};
const std::array<mac_addr, 4> src_macs{dst_macs[3], dst_macs[4], host_mac, dst_macs[5]};
const std::array<bytes, 3> addrs{bytes{10, 10, 0, 100}, bytes{10, 10, 0, 2}, bytes{10, 10, 0, 1}};

struct world {
    std::array<std::uint16_t, 3> ports{};
    rte_mempool* pool = nullptr;
    rte_ring* punts = nullptr;
    std::unique_ptr<acl_table> acl;
    std::unique_ptr<flow_table> flows;
    std::unique_ptr<mac_table> macs;
    std::unique_ptr<syn_guard> guard;
    host_link link;
};

world& the_world()
{
    static world w = [] {
        world x;
        x.ports = start_ring_ports<3>("fz_br_rx");
        x.pool = rte_pktmbuf_pool_create("fz_br_pool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        x.punts = rte_ring_create("fz_br_punt", 256, 0, RING_F_SC_DEQ);
        check(x.pool && x.punts);
        shield_rule punt;
        punt.v = verdict::punt;
        punt.proto = 6;
        punt.dst = bulwark::cidr{bulwark::ip_addr{bulwark::family::ipv4, {10, 10, 0, 100}}, 32};
        punt.dport = {bulwark::port_range{80, 80}};
        auto acl = acl_table::build({punt}, verdict::allow, "fz_br_acl");
        check(bool(acl));
        x.acl = std::move(*acl);
        auto flows = flow_table::create("fz_br_flows", 1024);
        check(bool(flows));
        x.flows = std::move(*flows);
        x.macs = std::make_unique<mac_table>(64);
        syn_guard_config g;
        g.m = syn_guard_config::mode::always;
        x.guard = std::make_unique<syn_guard>(g, rte_get_tsc_hz());
        x.link = {x.ports[host], host_mac, x.punts, x.macs.get()};
        return x;
    }();
    return w;
}

bytes frame_of(const std::uint8_t* r)
{
    const unsigned kind = r[1] % 5;
    const mac_addr& dmac = dst_macs[r[2] % dst_macs.size()];
    const mac_addr& smac = src_macs[r[3] % src_macs.size()];
    const bytes& dst = addrs[r[4] % 3];
    const bytes& src = addrs[(r[4] + 1u) % 3];
    const std::size_t payload = r[11] % 64;
    bytes f;
    if (kind <= 1) { // ARP (RFC 826)
        bytes arp{0, 1, 0x08, 0, 6, 4, 0, static_cast<std::uint8_t>(kind + 1)};
        arp.insert(arp.end(), smac.begin(), smac.end());
        arp.insert(arp.end(), src.begin(), src.end());
        arp.insert(arp.end(), 6, 0);
        arp.insert(arp.end(), dst.begin(), dst.end());
        f = eth(0x0806, arp);
    } else if (kind == 2) { // an ICMPv6 neighbour solicitation (type 135)
        bytes ns = icmp(24);
        ns[0] = 135;
        fix_l4(ns, 58, v6a, v6b);
        f = v6frame(58, ns);
    } else if (kind == 3) {
        f = v4frame({.proto = 17, .src = src, .dst = dst}, testing::udp(40000, r[5] & 1 ? 80 : 8080, payload));
    } else {
        bytes t = testing::tcp(40000, r[5] & 1 ? 80 : 8080, r[6], 5, payload);
        for (unsigned i = 0; i < 4; ++i)
            t[4 + i] = r[7 + i];
        f = v4frame({.proto = 6, .src = src, .dst = dst}, t);
    }
    std::copy(dmac.begin(), dmac.end(), f.begin());
    std::copy(smac.begin(), smac.end(), f.begin() + 6);
    return f;
}

rte_mbuf* mbuf_of(rte_mempool* pool, const bytes& f)
{
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    check(m != nullptr);
    char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size()));
    check(d != nullptr);
    std::memcpy(d, f.data(), f.size());
    return m;
}

// What the bridge may hand the host from outside: ARP, neighbour
// discovery, and the punt rule's TCP to the VIP's port 80.
bool fit_for_host(const parsed_frame& f)
{
    if (f.ethertype == 0x0806)
        return true;
    if (f.l3 == l3_kind::ipv6)
        return f.proto == 58 && f.icmp_type >= 133 && f.icmp_type <= 137;
    return f.l3 == l3_kind::ipv4 && f.proto == 6 && f.dport == 80 && std::memcmp(f.dst.data(), addrs[0].data(), 4) == 0;
}

// Reads and frees everything the lcore sent (ports and punt ring); checks
// what went to the host after a burst from `from`.
void drain(const world& w, side from)
{
    std::array<rte_mbuf*, 32> b;
    auto each = [&](unsigned n, bool to_host) {
        for (unsigned i = 0; i < n; ++i) {
            parsed_frame f;
            const drop_reason why = parse_frame({rte_pktmbuf_mtod(b[i], const std::byte*), rte_pktmbuf_data_len(b[i])}, f);
            check(why == drop_reason::none);
            if (to_host) {
                check(from != host || f.proto == 6); // the host's own frames never come back, the guard's ACK aside
                check(from != outside || fit_for_host(f));
            }
        }
        rte_pktmbuf_free_bulk(b.data(), n);
    };
    for (unsigned s = 0; s < 3; ++s)
        while (const std::uint16_t n = rte_eth_rx_burst(w.ports[s], 0, b.data(), b.size()))
            each(n, s == host);
    while (const unsigned n = rte_ring_sc_dequeue_burst(w.punts, reinterpret_cast<void**>(b.data()), b.size(), nullptr))
        each(n, true);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    world& w = the_world();
    const bool stateful = data[0] & 1, guarded = data[0] & 2;
    w.flows->clear();
    static lcore_ctx c(w.acl->rules(), {}, {w.ports[outside], w.ports[inside]});
    c.acl = w.acl.get();
    c.flows = stateful ? w.flows.get() : nullptr;
    c.guard = stateful && guarded ? w.guard.get() : nullptr;
    c.tsc_hz = rte_get_tsc_hz();
    c.host = &w.link;
    c.port_ids[host] = w.ports[host];
    std::vector<rte_mbuf*> burst;
    side burst_from = outside;
    for (std::size_t at = 1; at + 12 <= size; at += 12) {
        const std::uint8_t* r = data + at;
        const auto from = static_cast<side>((r[0] & 0x7f) % 3);
        if (!burst.empty() && from != burst_from) {
            process_burst(c, burst_from, burst.data(), static_cast<unsigned>(burst.size()));
            burst.clear();
            drain(w, burst_from);
        }
        burst_from = from;
        burst.push_back(mbuf_of(w.pool, frame_of(r)));
        if ((r[0] & 0x80) || burst.size() == burst_size || at + 24 > size) {
            process_burst(c, burst_from, burst.data(), static_cast<unsigned>(burst.size()));
            burst.clear();
            drain(w, burst_from);
        }
    }
    check(rte_mempool_in_use_count(w.pool) == 0);
    return 0;
}
