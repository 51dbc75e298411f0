// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: one worker lcore's whole stateful pipeline (validation,
// ACL, flow table, TCP tracker, UDP pseudo-flows, the SYN guard) fed
// arbitrary sequences of frames from both ports, on the in-memory EAL with
// two net_ring ports. Checked after every burst and at the end:
//   * every frame the lcore sends (forwarded, or the guard's answers) is
//     one the validator passes: the shield never emits a malformed frame;
//   * the flow table never holds more than its capacity;
//   * outside the pickup window, no TCP flow exists for which neither end
//     sent a SYN (with the guard, a SYN answered with a cookie counts);
//   * no mbuf is lost: once the ports are drained, the pool is full again.
//
// Input: a first byte (bit 0: pickup window open, bit 1: syn-guard always),
// then 16-byte records (a table of 1024 flows, emptied between inputs), each
// a TCP or UDP frame between client host H (192.0.2.H, 8 of them) port
// 40000+P (4) and 10.10.0.2:80:
//   r[0]  bit 0: from inside (the server's answer), bit 1: UDP, bit 2:
//         ends the burst (else the next record joins it, 32 at most)
//   r[1]  TCP flags
//   r[2]  bits 0-2: H, bits 3-4: P; bit 5: ack := what the other side last
//         sent as its sequence + 1 (a handshake the fuzzer can complete);
//         bit 6: seq := what the other side last acknowledged
//   r[3]  options: 0 none, 1 a SYN's (MSS, SACK, timestamps, window scale
//         7), 2 timestamps echoing the other side's last TSval, else none
//   r[4..7] seq, r[8..11] ack, r[12..13] window, r[14] payload bytes / 8,
//   r[15] spare
#include "dataplane/acl_table.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/packet.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/syn_guard.hpp"
#include "dataplane/tcp_rewrite.hpp"
#include "tests/dataplane/eal.hpp"
#include "tests/dataplane/frames.hpp"
#include "tests/fuzz/ring_world.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

std::uint32_t be32(const std::uint8_t* p)
{
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

struct world {
    std::array<std::uint16_t, 2> ports{};
    rte_mempool* pool = nullptr;
    std::unique_ptr<acl_table> acl;
    std::unique_ptr<flow_table> flows;
};

world& the_world()
{
    static world w = [] {
        world x;
        x.ports = start_ring_ports<2>("fz_ring_rx");
        x.pool = rte_pktmbuf_pool_create("fz_pool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        check(x.pool != nullptr);
        auto acl = acl_table::build({}, verdict::allow, "fz_acl");
        check(bool(acl));
        x.acl = std::move(*acl);
        auto flows = flow_table::create("fz_flows", 1024);
        check(bool(flows));
        x.flows = std::move(*flows);
        return x;
    }();
    return w;
}

// What each direction of each (host, port) last showed: for the records
// that answer it.
struct seen {
    std::uint32_t seq = 0, ack = 0, tsval = 0;
};
using conv = std::pair<unsigned, unsigned>; // host, port index

conv conv_of(const parsed_frame& f)
{
    const bool from_client = f.src[0] == 192;
    const auto& client = from_client ? f.src : f.dst;
    const std::uint16_t port = from_client ? f.sport : f.dport;
    return {client[3], static_cast<unsigned>(port - 40000)};
}

bytes frame_of(const std::uint8_t* r, const std::map<std::pair<conv, bool>, seen>& last)
{
    const bool in = r[0] & 1, udp = r[0] & 2;
    const conv cv{r[2] & 7u, (r[2] >> 3) & 3u};
    const bytes client{192, 0, 2, static_cast<std::uint8_t>(cv.first)}, server{10, 10, 0, 2};
    const auto cport = static_cast<std::uint16_t>(40000 + cv.second);
    const std::size_t payload = std::size_t{r[14]} / 8;
    const bytes& src = in ? server : client;
    const bytes& dst = in ? client : server;
    const std::uint16_t sport = in ? 80 : cport, dport = in ? cport : 80;
    if (udp) {
        bytes u = testing::udp(sport, dport, payload);
        return v4frame({.proto = 17, .src = src, .dst = dst}, u);
    }
    const auto other = last.find({cv, !in}); // the other direction
    const seen o = other == last.end() ? seen{} : other->second;
    bytes opts;
    if (r[3] == 1)
        opts = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7};
    else if (r[3] == 2)
        opts = {1, 1, 8, 10, 0, 0, 0, 9, static_cast<std::uint8_t>(o.tsval >> 24), static_cast<std::uint8_t>(o.tsval >> 16),
                static_cast<std::uint8_t>(o.tsval >> 8), static_cast<std::uint8_t>(o.tsval)};
    bytes t = testing::tcp(sport, dport, r[1], static_cast<std::uint8_t>(5 + opts.size() / 4), payload);
    std::copy(opts.begin(), opts.end(), t.begin() + 20);
    const std::uint32_t seq = r[2] & 0x40 ? o.ack : be32(r + 4);
    const std::uint32_t ack = r[2] & 0x20 ? o.seq + 1 : be32(r + 8);
    put16(t, 4, static_cast<std::uint16_t>(seq >> 16));
    put16(t, 6, static_cast<std::uint16_t>(seq));
    put16(t, 8, static_cast<std::uint16_t>(ack >> 16));
    put16(t, 10, static_cast<std::uint16_t>(ack));
    t[14] = r[12];
    t[15] = r[13];
    return v4frame({.proto = 6, .src = src, .dst = dst}, t);
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

// Reads and frees what the lcore sent on both ports: each must be valid;
// TCP ones update what each direction last showed.
void drain(const world& w, std::map<std::pair<conv, bool>, seen>& last)
{
    std::array<rte_mbuf*, 32> b;
    for (side s : {outside, inside})
        while (const std::uint16_t n = rte_eth_rx_burst(w.ports[s], 0, b.data(), b.size())) {
            for (std::uint16_t i = 0; i < n; ++i) {
                const auto* d = rte_pktmbuf_mtod(b[i], const std::byte*);
                parsed_frame f;
                check(parse_frame({d, rte_pktmbuf_data_len(b[i])}, f) == drop_reason::none);
                if (f.proto == 6 && f.l3 == l3_kind::ipv4 && (f.src[0] == 192 || f.dst[0] == 192)) {
                    const bool from_server = f.src[0] == 10;
                    seen& x = last[{conv_of(f), from_server}];
                    x.seq = f.tcp_seq + f.tcp_payload;
                    x.ack = f.tcp_ack;
                    const std::size_t doff = (static_cast<unsigned>(d[f.l4_offset + 12]) >> 4) * 4u;
                    if (const tcp::options o = tcp::read_options({d + f.l4_offset, doff}); o.ts)
                        x.tsval = o.tsval;
                }
            }
            rte_pktmbuf_free_bulk(b.data(), n);
        }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    world& w = the_world();
    const bool pickup = data[0] & 1, guarded = data[0] & 2;
    flow_table* flows = w.flows.get();
    flows->clear();
    static lcore_ctx c(w.acl->rules(), {}, w.ports); // its counters add up across inputs: nothing reads them
    c.acl = w.acl.get();
    c.flows = flows;
    c.tsc_hz = rte_get_tsc_hz();
    c.pickup_until = pickup ? ~0ull : 0;
    syn_guard_config gc;
    gc.m = syn_guard_config::mode::always;
    gc.key = {1, 2};
    syn_guard guard(gc, c.tsc_hz);
    c.guard = guarded ? &guard : nullptr;

    std::map<std::pair<conv, bool>, seen> last;
    std::set<conv> opened; // conversations in which a SYN was sent
    std::vector<rte_mbuf*> burst;
    for (std::size_t at = 1; at + 16 <= size; at += 16) {
        const std::uint8_t* r = data + at;
        if (!(r[0] & 2) && (r[1] & (tcp::flag::syn | tcp::flag::ack)) == tcp::flag::syn) // either side's SYN
            opened.insert({r[2] & 7u, (r[2] >> 3) & 3u});
        const bool in = r[0] & 1;
        burst.push_back(mbuf_of(w.pool, frame_of(r, last)));
        const bool last_record = at + 32 > size;
        const bool next_same_side = !last_record && ((data[at + 16] & 1) == (r[0] & 1));
        if ((r[0] & 4) || burst.size() == burst_size || last_record || !next_same_side) {
            process_burst(c, in ? inside : outside, burst.data(), static_cast<unsigned>(burst.size()));
            burst.clear();
            drain(w, last);
            check(flows->size() <= flows->capacity());
        }
    }
    // every flow is one of the 32 conversations' (TCP or UDP): found by key, and no other is in the table
    std::uint32_t found = 0;
    for (unsigned h = 0; h < 8; ++h)
        for (unsigned p = 0; p < 4; ++p)
            for (std::uint8_t proto : {6, 17}) {
                parsed_frame f;
                f.l3 = l3_kind::ipv4;
                f.proto = proto;
                f.src = {192, 0, 2, static_cast<std::uint8_t>(h)};
                f.dst = {10, 10, 0, 2};
                f.sport = static_cast<std::uint16_t>(40000 + p);
                f.dport = 80;
                if (flows->find(make_flow_key(f).key) < 0)
                    continue;
                ++found;
                if (proto == 6 && !pickup)
                    check(opened.count({h, p}) == 1);
            }
    check(found == flows->size());
    check(rte_mempool_in_use_count(w.pool) == 0);
    return 0;
}
