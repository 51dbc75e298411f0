// SPDX-License-Identifier: Apache-2.0
// The per-source limits (issue #13): the token bucket's arithmetic without
// EAL; the source table and the pipeline with net_null ports on the test
// EAL: exactly the source over its rate is cut and blocklisted with its
// reason, another source is untouched, an allow-listed source is exempt,
// what comes from inside is never limited; the flow limits where a flow
// opens; the keyword.
#include "controlplane/parser.hpp"
#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/flow_table.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/limits.hpp"
#include "dataplane/pipeline.hpp"
#include "dataplane/source_table.hpp"
#include "dataplane/syn_guard.hpp"
#include "dataplane/token_bucket.hpp"
#include "tests/controlplane/diag_helpers.hpp"
#include "tests/dataplane/eal.hpp"
#include "tests/dataplane/frames.hpp"
#include "tests/dataplane/ring_ports.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

using namespace bulwark;
using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

TEST_CASE("token bucket: a burst at once, then exactly the rate; never an overflow", "[dataplane][limits]")
{
    // 1000 tokens a second, 10 deep, a 1 MHz clock: one token per 1000 ticks
    const auto r = bucket_rate::make(1000, 10, 1'000'000);
    CHECK(r.full_after == 10'000);
    token_bucket b;
    b.reset(r, 5'000'000);
    for (int i = 0; i < 10; ++i)
        CHECK(b.take(r, 5'000'000));
    CHECK_FALSE(b.take(r, 5'000'000));
    CHECK_FALSE(b.take(r, 5'000'999)); // 999 ticks: 0.999 of a token
    CHECK(b.take(r, 5'001'000));       // the remainder was kept: one token at 1000 ticks
    CHECK_FALSE(b.take(r, 5'001'000));
    // a steady sender at the rate is never cut
    for (std::uint64_t t = 5'002'000; t < 5'102'000; t += 1000)
        CHECK(b.take(r, t));
    // full again only after full_after ticks
    CHECK_FALSE(b.full(r, 5'101'000 + 9'999));
    CHECK(b.full(r, 5'101'000 + 10'000));
    // a clock read behind the last one refills nothing, takes nothing away
    token_bucket c;
    c.reset(r, 1'000'000);
    CHECK(c.take(r, 999'000));
    CHECK(c.level == 9 * r.hz);
    // the largest rate and depth on a fast clock, idle for ages: full, no overflow
    const auto big = bucket_rate::make(1'000'000'000, 1'000'000'000, 4'000'000'000ull);
    token_bucket d;
    d.reset(big, 0);
    d.level = 0;
    CHECK(d.take(big, std::uint64_t{1} << 62));
    CHECK(d.level == big.cap - big.hz);
    // a rate that is off always gives
    token_bucket off;
    CHECK(off.take(bucket_rate{}, 1));
    CHECK(off.full(bucket_rate{}, 0));
}

namespace {

limit_params no_refill(std::uint64_t pps_burst, std::uint64_t new_flows, std::uint32_t concurrent,
                       std::uint32_t block_seconds)
{
    // rates of one token an hour: nothing refills while a test runs, however slow the machine
    const std::uint64_t hour = rte_get_tsc_hz() * 3600;
    limit_params l;
    if (pps_burst)
        l.pps = bucket_rate::make(1, pps_burst, hour);
    if (new_flows)
        l.new_flows = bucket_rate::make(1, new_flows, hour);
    l.concurrent = concurrent;
    l.block_seconds = block_seconds;
    l.block_tsc = block_seconds * rte_get_tsc_hz();
    return l;
}

source_key src(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d)
{
    return make_source_key({a, b, c, d}, false);
}

} // namespace

TEST_CASE("source table: idle entries are reclaimed, busy ones never; a full table tracks no more",
          "[dataplane][limits]")
{
    ensure_eal();
    limit_params l;
    l.pps = bucket_rate::make(1000, 2, rte_get_tsc_hz());
    auto made = source_table::create("t_src_t", 16, l);
    REQUIRE(made);
    source_table& t = **made;
    const std::uint64_t now = rte_rdtsc();
    for (std::uint8_t i = 0; i < 16; ++i)
        REQUIRE(t.find_or_add(src(192, 0, 2, i), now) >= 0);
    CHECK(t.size() == 16);
    CHECK(t.find_or_add(src(192, 0, 2, 3), now) == t.find(src(192, 0, 2, 3))); // found, not added twice
    // full of idle entries (their buckets are full): one goes for the new source
    CHECK(t.find_or_add(src(198, 51, 100, 1), now) >= 0);
    CHECK(t.size() == 16);
    CHECK(t.stats().reclaimed == 1);
    // every entry busy (a token taken from each): the next source is not tracked, and counted
    for (std::uint8_t i = 0; i < 16; ++i)
        if (const std::int32_t p = t.find(src(192, 0, 2, i)); p >= 0)
            CHECK(t.at(p).pps.take(l.pps, now));
    CHECK(t.at(t.find(src(198, 51, 100, 1))).pps.take(l.pps, now));
    CHECK(t.find_or_add(src(198, 51, 100, 2), now) == -1);
    CHECK(t.stats().untracked == 1);
    // an entry with a live flow stays whatever its buckets
    const std::int32_t kept = t.find(src(198, 51, 100, 1));
    t.at(kept).flows = 1;
    // once the buckets are full again, the sweep drops every idle entry, a few slots per call
    const std::uint64_t later = now + l.pps.full_after;
    CHECK(t.sweep(later, 4) <= 4);
    for (int i = 0; i < 100 && t.size() > 1; ++i)
        t.sweep(later, 4);
    CHECK(t.size() == 1);
    CHECK(t.find(src(198, 51, 100, 1)) == kept);
    t.flow_closed(src(198, 51, 100, 1));
    CHECK(t.at(kept).flows == 0);
    t.flow_closed(src(198, 51, 100, 1)); // never below zero
    CHECK(t.at(kept).flows == 0);
    for (int i = 0; i < 100 && t.size() > 0; ++i)
        t.sweep(later, 4);
    CHECK(t.size() == 0);
    // IPv4 and IPv6 keys never meet: IPv4 is IPv4-mapped
    const source_key k6 = make_source_key({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, true);
    CHECK_FALSE(k6 == src(0x20, 0x01, 0x0d, 0xb8));
    CHECK(src(10, 0, 0, 1).addr[10] == 0xff);
}

namespace {

// net_null0 and net_null1 as the two ports, started once: what is sent on
// them is freed and counted as sent.
std::array<std::uint16_t, 2> null_ports()
{
    static const std::array<std::uint16_t, 2> ids = start_ports("net_null0", "net_null1", "t_null_rx");
    return ids;
}

dataplane::shield_section shield_of(const std::string& body)
{
    auto r = controlplane::load_text("shield edge\n    eal -l 0-1\n    port outside p0\n    port inside p1\n" + body,
                                     "t.cfg", {});
    INFO(body);
    REQUIRE_FALSE(r.diag.failed());
    return r.cfg.shields.at(0);
}

// One lcore's pipeline with limits, on the null ports.
struct limited_lcore {
    std::unique_ptr<acl_table> acl;
    std::unique_ptr<source_table> sources;
    std::unique_ptr<flow_table> flows;
    std::unique_ptr<blocklist> blocks;
    rte_mempool* pool;
    rte_ring* ring;
    std::unique_ptr<lcore_ctx> w;

    limited_lcore(const std::string& tag, const std::string& rules, const limit_params& l, bool stateful)
    {
        auto sh = shield_of(rules);
        auto a = acl_table::build(sh.rules, sh.default_verdict, "t_acl_" + tag);
        REQUIRE(a);
        acl = std::move(*a);
        auto s = source_table::create("t_src_" + tag, 1024, l);
        REQUIRE(s);
        sources = std::move(*s);
        auto b = blocklist::create("t_bl_" + tag, 1024, nullptr);
        REQUIRE(b);
        blocks = std::move(*b);
        pool = rte_pktmbuf_pool_create(("t_pool_" + tag).c_str(), 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ring = rte_ring_create_elem(("t_ring_" + tag).c_str(), sizeof(block_request), 64, 0, RING_F_SC_DEQ);
        REQUIRE((pool && ring));
        w = std::make_unique<lcore_ctx>(acl->rules(), drop_sampling{}, null_ports());
        w->acl = acl.get();
        w->blocks = blocks.get();
        w->sources = sources.get();
        w->block_ring = ring;
        w->tsc_hz = rte_get_tsc_hz();
        if (stateful) {
            auto f = flow_table::create("t_flows_" + tag, 1024);
            REQUIRE(f);
            flows = std::move(*f);
            flows->set_sources(sources.get());
            w->flows = flows.get();
        }
    }
    ~limited_lcore()
    {
        w.reset();
        rte_ring_free(ring);
        rte_mempool_free(pool);
    }
    // frames sent as one burst from `from`; returns how many were forwarded
    std::uint64_t burst(side from, const std::vector<bytes>& frames)
    {
        std::array<rte_mbuf*, burst_size> m;
        REQUIRE(frames.size() <= burst_size);
        for (std::size_t i = 0; i < frames.size(); ++i) {
            m[i] = rte_pktmbuf_alloc(pool);
            REQUIRE(m[i]);
            std::memcpy(rte_pktmbuf_append(m[i], static_cast<std::uint16_t>(frames[i].size())), frames[i].data(),
                        frames[i].size());
        }
        const std::uint64_t before = w->counters.port[other_side(from)].tx;
        process_burst(*w, from, m.data(), static_cast<unsigned>(frames.size()));
        CHECK(rte_mempool_in_use_count(pool) == 0);
        return w->counters.port[other_side(from)].tx - before;
    }
    std::uint64_t drops(side s, drop_reason r) const { return w->counters.port[s].drops[std::size_t(r)]; }
    std::uint64_t dropped(side s) const
    {
        std::uint64_t n = 0;
        for (std::size_t r = 0; r < drop_reason_count; ++r)
            n += w->counters.port[s].drops[r];
        return n;
    }
    std::vector<block_request> requests() const
    {
        std::vector<block_request> out;
        block_request r;
        while (rte_ring_sc_dequeue_elem(ring, &r, sizeof r) == 0)
            out.push_back(r);
        return out;
    }
};

const bytes server{10, 10, 0, 2};

bytes udp_from(const bytes& s, std::uint16_t sport = 40000)
{
    return v4frame({.proto = 17, .src = s, .dst = server}, udp(sport, 5000));
}

bytes syn_from(const bytes& s, std::uint16_t sport)
{
    return v4frame({.proto = 6, .src = s, .dst = server}, testing::tcp(sport, 80, 0x02));
}

cidr host_cidr(const bytes& a)
{
    cidr c;
    std::copy(a.begin(), a.end(), c.net.bytes.begin());
    c.prefix = 32;
    return c;
}

} // namespace

TEST_CASE("pipeline, limits: exactly the source over its packet rate is cut and blocklisted with its reason",
          "[dataplane][limits][pipeline]")
{
    limited_lcore l("pps", "    mode stateless\n    allow udp src 192.0.2.50\n    default allow\n",
                    no_refill(3, 0, 0, 60), false);
    const bytes a{192, 0, 2, 9}, b{198, 51, 100, 7}, allowed{192, 0, 2, 50};
    // one burst: a sends 5 (burst 3), b sends 3, the allow-listed source 10
    std::vector<bytes> frames;
    for (int i = 0; i < 5; ++i)
        frames.push_back(udp_from(a));
    for (int i = 0; i < 3; ++i)
        frames.push_back(udp_from(b));
    for (int i = 0; i < 10; ++i)
        frames.push_back(udp_from(allowed));
    CHECK(l.burst(outside, frames) == 3 + 3 + 10);
    CHECK(l.drops(outside, drop_reason::limit_pps) == 2);
    CHECK(l.dropped(outside) == 2);
    CHECK(l.w->limit_counts.sources == 2); // a and b: the exempt source is not tracked
    // b is at its burst, not over it; a was asked blocklisted once, with the reason and the block time
    CHECK(l.burst(outside, {udp_from(a)}) == 0);
    CHECK(l.drops(outside, drop_reason::limit_pps) == 3);
    auto req = l.requests();
    REQUIRE(req.size() == 1);
    CHECK(std::equal(a.begin(), a.end(), req[0].addr.begin()));
    CHECK(req[0].v6 == 0);
    CHECK(req[0].reason == drop_reason::limit_pps);
    CHECK(req[0].seconds == 60);
    CHECK(l.w->limit_counts.blocks_asked == 1);
    // the same source address from inside is never limited
    CHECK(l.burst(inside, std::vector<bytes>(8, v4frame({.proto = 17, .src = server, .dst = a}, udp(5000, 40000)))) ==
          8);
    CHECK(l.dropped(inside) == 0);
    // the control thread's side: the request becomes a blocklist entry with its reason and TTL
    for (auto& r : req)
        REQUIRE(rte_ring_enqueue_elem(l.ring, &r, sizeof r) == 0);
    const applied_blocks done = apply_block_requests(l.ring, *l.blocks, 64);
    CHECK(done.applied == 1);
    CHECK(done.failed == 0);
    CHECK(l.blocks->reason(host_cidr(a)) == "limit_pps");
    auto listed = l.blocks->entries();
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].net == host_cidr(a));
    CHECK(listed[0].reason == "limit_pps");
    CHECK(listed[0].left.count() > 58);
    CHECK(listed[0].left.count() <= 60);
    // from then on a is dropped by the blocklist before the limits; b and the exempt source pass
    CHECK(l.burst(outside, {udp_from(a), udp_from(allowed), udp_from(allowed)}) == 2);
    CHECK(l.drops(outside, drop_reason::blocklisted) == 1);
    CHECK(l.drops(outside, drop_reason::limit_pps) == 3);
    CHECK(l.burst(outside, {udp_from(b)}) == 0); // b's fourth frame: over its burst now
    CHECK(l.drops(outside, drop_reason::limit_pps) == 4);
    CHECK(l.requests().size() == 1); // b asked blocklisted in its turn
}

TEST_CASE("pipeline, limits: a full block ring is counted, never waited for; block 0s only drops",
          "[dataplane][limits][pipeline]")
{
    limited_lcore l("ring", "    mode stateless\n    default allow\n", no_refill(1, 0, 0, 30), false);
    block_request filler;
    while (rte_ring_enqueue_elem(l.ring, &filler, sizeof filler) == 0) {
    }
    const bytes a{192, 0, 2, 9};
    CHECK(l.burst(outside, {udp_from(a), udp_from(a), udp_from(a)}) == 1);
    CHECK(l.drops(outside, drop_reason::limit_pps) == 2);
    CHECK(l.w->limit_counts.block_ring_full == 2); // asked again by the next frame over, since none was queued
    CHECK(l.w->limit_counts.blocks_asked == 0);

    limited_lcore d("drop", "    mode stateless\n    default allow\n", no_refill(1, 0, 0, 0), false);
    CHECK(d.burst(outside, {udp_from(a), udp_from(a)}) == 1);
    CHECK(d.drops(outside, drop_reason::limit_pps) == 1);
    CHECK(d.requests().empty());
    CHECK(d.w->limit_counts.block_ring_full == 0);
}

TEST_CASE("pipeline, limits: new flows and live flows per source are counted where a flow opens and goes",
          "[dataplane][limits][pipeline][flows]")
{
    limited_lcore l("flows", "    allow tcp src 192.0.2.50\n    default allow\n", no_refill(0, 4, 2, 0), true);
    const bytes a{192, 0, 2, 9}, b{198, 51, 100, 7}, allowed{192, 0, 2, 50};
    CHECK(l.burst(outside, {syn_from(a, 1001), syn_from(a, 1002)}) == 2);
    // a third live flow is over 'concurrent-flows 2'
    CHECK(l.burst(outside, {syn_from(a, 1003)}) == 0);
    CHECK(l.drops(outside, drop_reason::limit_concurrent_flows) == 1);
    const std::int32_t pa = l.sources->find(make_source_key({192, 0, 2, 9}, false));
    REQUIRE(pa >= 0);
    CHECK(l.sources->at(pa).flows == 2);
    // a SYN retransmitted on a live flow opens nothing
    CHECK(l.burst(outside, {syn_from(a, 1002)}) == 1);
    CHECK(l.sources->at(pa).flows == 2);
    // a flow that goes (expiry, eviction, close: flow_table::remove) frees its place
    auto key_of = [](const bytes& f) {
        parsed_frame p;
        REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
        return make_flow_key(p).key;
    };
    l.flows->remove(l.flows->find(key_of(syn_from(a, 1001))));
    CHECK(l.sources->at(pa).flows == 1);
    CHECK(l.burst(outside, {syn_from(a, 1003)}) == 1); // the third new flow
    l.flows->remove(l.flows->find(key_of(syn_from(a, 1002))));
    l.flows->remove(l.flows->find(key_of(syn_from(a, 1003))));
    CHECK(l.sources->at(pa).flows == 0);
    CHECK(l.burst(outside, {syn_from(a, 1004)}) == 1); // the fourth
    // 'new-flows' holds 4: the fifth is over it, though a has one live flow
    CHECK(l.burst(outside, {syn_from(a, 1005)}) == 0);
    CHECK(l.drops(outside, drop_reason::limit_new_flows) == 1);
    // b and the allow-listed source are untouched; flows opened from inside are not limited
    CHECK(l.burst(outside, {syn_from(b, 2001), syn_from(b, 2002)}) == 2);
    std::vector<bytes> many;
    for (std::uint16_t p = 0; p < 8; ++p)
        many.push_back(syn_from(allowed, static_cast<std::uint16_t>(3000 + p)));
    CHECK(l.burst(outside, many) == 8);
    std::vector<bytes> out;
    for (std::uint16_t p = 0; p < 8; ++p)
        out.push_back(v4frame({.proto = 6, .src = server, .dst = a}, testing::tcp(static_cast<std::uint16_t>(4000 + p), 80, 0x02)));
    CHECK(l.burst(inside, out) == 8);
    CHECK(l.drops(outside, drop_reason::limit_concurrent_flows) == 1);
    CHECK(l.drops(outside, drop_reason::limit_new_flows) == 1);
    CHECK(l.dropped(inside) == 0);
    CHECK(l.requests().empty()); // block 0s: dropped, never blocklisted
}

TEST_CASE("pipeline, limits: flows picked up after a restart are counted, never refused", "[dataplane][limits][pipeline][flows]")
{
    limited_lcore l("pickup", "    default allow\n", no_refill(0, 1, 1, 0), true);
    l.w->pickup_until = ~0ull; // in the pickup window: mid-stream segments open their flows
    const bytes a{192, 0, 2, 9};
    auto mid = [&](std::uint16_t sport) {
        return v4frame({.proto = 6, .src = a, .dst = server}, testing::tcp(sport, 80, 0x10));
    };
    // three sessions a had open before the restart: all go on, though 'concurrent-flows 1' and 'new-flows 1/s'
    CHECK(l.burst(outside, {mid(1001), mid(1002), mid(1003)}) == 3);
    CHECK(l.dropped(outside) == 0);
    const std::int32_t pa = l.sources->find(make_source_key({192, 0, 2, 9}, false));
    REQUIRE(pa >= 0);
    CHECK(l.sources->at(pa).flows == 3);
    // a new session (a SYN) is over the limit while they live
    CHECK(l.burst(outside, {syn_from(a, 1004)}) == 0);
    CHECK(l.drops(outside, drop_reason::limit_concurrent_flows) == 1);
}

TEST_CASE("pipeline, limits: with the SYN guard, a flow counts when the ACK that proves its cookie opens it",
          "[dataplane][limits][pipeline][syn]")
{
    limited_lcore l("guard", "    default allow\n", no_refill(0, 0, 1, 0), true);
    syn_guard_config gc;
    gc.m = syn_guard_config::mode::always;
    gc.key = {0x1234, 0x5678};
    syn_guard guard(gc, l.w->tsc_hz);
    l.w->guard = &guard;
    const bytes a{192, 0, 2, 9};
    const std::uint32_t isn = 1000;
    auto proving_ack = [&](std::uint16_t sport) {
        syn::endpoints e;
        std::copy(a.begin(), a.end(), e.src.begin());
        std::copy(server.begin(), server.end(), e.dst.begin());
        e.sport = sport;
        e.dport = 80;
        const std::uint32_t cookie =
            guard.jar().make(e, isn, 1460, static_cast<std::uint32_t>(rte_rdtsc() / l.w->tsc_hz));
        bytes t = testing::tcp(sport, 80, 0x10);
        put16(t, 4, static_cast<std::uint16_t>((isn + 1) >> 16));
        put16(t, 6, static_cast<std::uint16_t>(isn + 1));
        put16(t, 8, static_cast<std::uint16_t>((cookie + 1) >> 16));
        put16(t, 10, static_cast<std::uint16_t>(cookie + 1));
        return v4frame({.proto = 6, .src = a, .dst = server}, t);
    };
    // the guard answers the SYNs (sent back outside): no flow, nothing counted
    CHECK(l.burst(outside, {syn_from(a, 1001), syn_from(a, 1002)}) == 0);
    CHECK(l.w->counters.port[outside].tx == 2);
    CHECK(l.flows->size() == 0);
    // the first proving ACK opens a flow (the server's SYN, forwarded); the second is over 'concurrent-flows 1'
    CHECK(l.burst(outside, {proving_ack(1001)}) == 1);
    CHECK(l.burst(outside, {proving_ack(1002)}) == 0);
    CHECK(l.w->guard_counts.cookies_valid == 2);
    CHECK(l.drops(outside, drop_reason::limit_concurrent_flows) == 1);
    CHECK(l.dropped(outside) == 1);
    CHECK(l.flows->size() == 1);
    CHECK(l.sources->at(l.sources->find(make_source_key({192, 0, 2, 9}, false))).flows == 1);
}

TEST_CASE("limit: the keyword's forms, ranges and defaults", "[dataplane][limits][parser]")
{
    using namespace bulwark::controlplane::testing;
    const std::string head = "shield edge\n eal -l 0-1\n port outside p0\n port inside p1\n";
    auto ok = controlplane::load_text(head + " limit src pps 100 burst 200\n limit src block 2m\n limit src table 64k\n"
                                             " limit src new-flows 20/s\n limit src concurrent-flows 8\n",
                                      "t.cfg", no_env());
    REQUIRE(alerts(ok).empty());
    CHECK(warnings(ok).empty());
    const auto& s = ok.cfg.shields.at(0);
    CHECK(s.limit_pps == 100);
    CHECK(s.limit_burst == 200);
    CHECK(s.limit_block == std::chrono::seconds(120));
    CHECK(s.limit_sources == 65536);
    CHECK(s.limit_new_flows == 20);
    CHECK(s.limit_concurrent == 8);
    auto dflt = controlplane::load_text(head + " limit src pps 100 burst 200\n", "t.cfg", no_env());
    CHECK(dflt.cfg.shields.at(0).limit_block == std::chrono::seconds(60));
    CHECK(dflt.cfg.shields.at(0).limit_sources == 262144);
    const std::pair<std::string, std::string> bad[] = {
        {" limit src block 31d\n", "t.cfg:5: 'limit': time '31d' is too large (at most 2147483647ms, about 24.8 days)"},
        {" limit src table 100\n", "t.cfg:5: 'limit': 100 is out of range, expected 1k to 64m sources"},
        {" limit src block 1s 2s\n",
         "t.cfg:5: 'limit': expected 'limit src block TIME' (0s: drop only, never blocklist)"},
    };
    for (const auto& [line, msg] : bad) {
        INFO(line);
        auto r = controlplane::load_text(head + line, "t.cfg", no_env());
        CHECK(alerts(r) == std::vector<std::string>{msg});
    }
    auto stateless = controlplane::load_text(head + " mode stateless\n limit src new-flows 20/s\n", "t.cfg", no_env());
    CHECK(warnings(stateless) ==
          std::vector<std::string>{"t.cfg:1: 'limit': 'edge' is in mode stateless: 'limit src new-flows' and 'limit "
                                   "src concurrent-flows' count flows, which only mode stateful tracks; they are "
                                   "ignored"});
}

// shield-block (issue #14): the proxy's events reach the blocklist through
// the same drain as the limits' requests, and the blocklist stage drops
// their sources with l7_block, the limits' and the config's as blocklisted.
TEST_CASE("shield-block events: RTS event ring, full ring refused at once, l7_block at the blocklist stage, expiry",
          "[dataplane][blocklist][pipeline][l7_block]")
{
    limited_lcore l("l7", "    mode stateless\n    default allow\n", no_refill(100, 0, 0, 60), false);
    rte_ring* events = make_event_ring("t_l7_events", 2);
    REQUIRE(events);
    CHECK(rte_ring_get_capacity(events) == 2); // exactly the size asked
    const bytes a{10, 10, 0, 1}, b{192, 0, 2, 9}, c{198, 51, 100, 7};
    ip_addr src_a;
    std::copy(a.begin(), a.end(), src_a.bytes.begin());
    auto v6 = *parse_ip("2001:db8::1");
    CHECK(post_block_request(events, src_a, std::chrono::seconds(2), drop_reason::l7_block));
    CHECK(post_block_request(events, v6, std::chrono::seconds(60), drop_reason::l7_block));
    CHECK_FALSE(post_block_request(events, src_a, std::chrono::seconds(2), drop_reason::l7_block)); // full: no wait

    // a limits' request on the workers' ring, for b: blocklisted as before
    block_request lim;
    std::copy(b.begin(), b.end(), lim.addr.begin());
    lim.reason = drop_reason::limit_pps;
    lim.seconds = 60;
    REQUIRE(rte_ring_enqueue_elem(l.ring, &lim, sizeof lim) == 0);

    const applied_blocks e = apply_block_requests(events, *l.blocks, 64);
    CHECK(e.applied == 2);
    CHECK(e.failed == 0);
    CHECK(apply_block_requests(l.ring, *l.blocks, 64).applied == 1);
    CHECK(rte_ring_count(events) == 0);
    CHECK(l.blocks->reason(host_cidr(a)) == "l7_block");
    CHECK(l.blocks->blocked_why(src_a) == drop_reason::l7_block);
    CHECK(l.blocks->blocked_why(v6) == drop_reason::l7_block);
    ip_addr src_b;
    std::copy(b.begin(), b.end(), src_b.bytes.begin());
    CHECK(l.blocks->blocked_why(src_b) == drop_reason::blocklisted);
    auto listed = l.blocks->entries();
    REQUIRE(listed.size() == 3);
    for (const auto& en : listed)
        if (en.net == host_cidr(a))
            CHECK((en.left.count() >= 1 && en.left.count() <= 2));

    // the stage: a's frames drop as l7_block, b's as blocklisted, c passes
    CHECK(l.burst(outside, {udp_from(a), udp_from(b), udp_from(c), udp_from(a)}) == 1);
    CHECK(l.drops(outside, drop_reason::l7_block) == 2);
    CHECK(l.drops(outside, drop_reason::blocklisted) == 1);
    CHECK(l.dropped(outside) == 3);

    // a's 2 s pass: the reader stops blocking it, expire() removes it, its frames pass
    const std::uint64_t later = rte_rdtsc() + 3 * rte_get_tsc_hz();
    const parsed_frame fa = [&] {
        parsed_frame f;
        f.l3 = l3_kind::ipv4;
        f.src = src_a.bytes;
        return f;
    }();
    const parsed_frame* fp = &fa;
    drop_reason why = drop_reason::blocklisted;
    l.blocks->lookup(&fp, 1, later, &why);
    CHECK(why == drop_reason::none);
    CHECK(l.blocks->expire(later) == 1);
    CHECK(l.burst(outside, {udp_from(a)}) == 1);
    CHECK(l.drops(outside, drop_reason::l7_block) == 2);
    rte_ring_free(events);
}

TEST_CASE("blocklist: the reason code rides in the entry with any expiry; a refresh replaces it",
          "[dataplane][blocklist][l7_block]")
{
    auto b = blocklist::create("t_bl_codes", 1024, nullptr);
    REQUIRE(b);
    cidr n = *parse_cidr("198.51.100.0/24");
    cidr h = *parse_cidr("203.0.113.9/32");
    REQUIRE((*b)->add(n));
    REQUIRE((*b)->add(h, std::chrono::seconds(86400), "l7_block", drop_reason::l7_block));
    CHECK((*b)->blocked_why(*parse_ip("203.0.113.9")) == drop_reason::l7_block); // a day: the top bits hold both
    CHECK((*b)->blocked_why(*parse_ip("198.51.100.10")) == drop_reason::blocklisted);
    CHECK((*b)->blocked_why(*parse_ip("203.0.113.10")) == drop_reason::none);
    REQUIRE((*b)->add(h, std::chrono::seconds(0), "block src")); // a refresh by the config's kind
    CHECK((*b)->reason(h) == "block src");
    CHECK((*b)->blocked_why(*parse_ip("203.0.113.9")) == drop_reason::blocklisted);
    REQUIRE((*b)->add(h, std::chrono::seconds(1), "l7_block", drop_reason::l7_block));
    const parsed_frame f = [] {
        parsed_frame x;
        x.l3 = l3_kind::ipv4;
        x.src = parse_ip("203.0.113.9")->bytes;
        return x;
    }();
    const parsed_frame* fp = &f;
    drop_reason why = drop_reason::none;
    (*b)->lookup(&fp, 1, rte_rdtsc(), &why);
    CHECK(why == drop_reason::l7_block);
    (*b)->lookup(&fp, 1, rte_rdtsc() + 2 * rte_get_tsc_hz(), &why);
    CHECK(why == drop_reason::none);
}
