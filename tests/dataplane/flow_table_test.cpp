// SPDX-License-Identifier: Apache-2.0
// The flow key (both directions, one key, one lcore; no EAL) and one
// lcore's flow table on the in-memory EAL: lookups both ways, the sweep,
// eviction of embryonic flows when full.
#include "dataplane/flow_key.hpp"
#include "dataplane/flow_table.hpp"
#include "tests/dataplane/eal.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <rte_thash.h>
#include <set>
#include <vector>

using namespace bulwark::dataplane;
using bulwark::dataplane::testing::ensure_eal;

namespace {

parsed_frame v4(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport, std::uint8_t proto = 6)
{
    parsed_frame f;
    f.l3 = l3_kind::ipv4;
    f.proto = proto;
    for (int i = 0; i < 4; ++i) {
        f.src[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
        f.dst[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
    }
    f.sport = sport;
    f.dport = dport;
    return f;
}

parsed_frame reversed(parsed_frame f)
{
    std::swap(f.src, f.dst);
    std::swap(f.sport, f.dport);
    return f;
}

} // namespace

TEST_CASE("flow key: both directions give one key; the owning lcore agrees", "[dataplane][flows]")
{
    const parsed_frame out = v4(0x0a0a0001, 40000, 0x0a0a0002, 80);
    const keyed a = make_flow_key(out), b = make_flow_key(reversed(out));
    CHECK(a.key == b.key);
    CHECK(a.src_is_a != b.src_is_a);
    CHECK(a.src_is_a); // 10.10.0.1 is the lower address
    // same addresses, the ports decide the order
    const parsed_frame self = v4(0x7f000001, 5000, 0x7f000001, 80);
    CHECK(make_flow_key(self).key == make_flow_key(reversed(self)).key);
    CHECK_FALSE(make_flow_key(self).src_is_a);
    // protocol and family are part of the key
    CHECK_FALSE(make_flow_key(v4(1, 2, 3, 4, 17)).key == make_flow_key(v4(1, 2, 3, 4, 6)).key);
    parsed_frame six = out;
    six.l3 = l3_kind::ipv6;
    CHECK_FALSE(make_flow_key(six).key == a.key);
    // both directions of many flows land on the same lcore of 4, and the lcores are all used
    std::set<unsigned> used;
    for (std::uint32_t i = 0; i < 2000; ++i) {
        const parsed_frame f = v4(0xc0000200 + i, static_cast<std::uint16_t>(1024 + i * 7), 0x0a0a0064, 443);
        const unsigned l = flow_lcore(make_flow_key(f).key, 4);
        CHECK(l == flow_lcore(make_flow_key(reversed(f)).key, 4));
        CHECK(l < 4);
        used.insert(l);
    }
    CHECK(used.size() == 4);
    CHECK(flow_lcore(a.key, 1) == 0);
}

TEST_CASE("flow key: the symmetric RSS key hashes both directions of a flow alike, the default key does not",
          "[dataplane][flows]")
{
    // Intel's default RSS key (the Microsoft RSS specification's), for contrast
    constexpr std::uint8_t ms_key[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
                                         0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
                                         0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};
    std::mt19937 rng(11);
    unsigned asymmetric = 0;
    for (int i = 0; i < 1000; ++i) {
        rte_ipv4_tuple t{};
        t.src_addr = static_cast<std::uint32_t>(rng());
        t.dst_addr = static_cast<std::uint32_t>(rng());
        t.sport = static_cast<std::uint16_t>(rng());
        t.dport = static_cast<std::uint16_t>(rng());
        rte_ipv4_tuple r = t;
        std::swap(r.src_addr, r.dst_addr);
        std::swap(r.sport, r.dport);
        auto h = [](rte_ipv4_tuple& x, const std::uint8_t* key) {
            return rte_softrss(reinterpret_cast<std::uint32_t*>(&x), RTE_THASH_V4_L4_LEN, key);
        };
        CHECK(h(t, symmetric_rss_key.data()) == h(r, symmetric_rss_key.data()));
        asymmetric += h(t, ms_key) != h(r, ms_key);

        rte_ipv6_tuple t6{};
        for (auto& b : t6.src_addr)
            b = static_cast<std::uint8_t>(rng());
        for (auto& b : t6.dst_addr)
            b = static_cast<std::uint8_t>(rng());
        t6.sport = static_cast<std::uint16_t>(rng());
        t6.dport = static_cast<std::uint16_t>(rng());
        rte_ipv6_tuple r6 = t6;
        std::swap(r6.src_addr, r6.dst_addr);
        std::swap(r6.sport, r6.dport);
        CHECK(rte_softrss(reinterpret_cast<std::uint32_t*>(&t6), RTE_THASH_V6_L4_LEN, symmetric_rss_key.data()) ==
              rte_softrss(reinterpret_cast<std::uint32_t*>(&r6), RTE_THASH_V6_L4_LEN, symmetric_rss_key.data()));
    }
    CHECK(asymmetric > 990);
}

TEST_CASE("flow table: one entry for both directions, found in bulk; removed entries go", "[dataplane][flows]")
{
    ensure_eal();
    auto t = flow_table::create("t_flows_a", 1024);
    REQUIRE(t);
    flow_table& ft = **t;
    CHECK(ft.bytes_per_flow() > sizeof(flow_entry));
    std::vector<flow_key> keys;
    for (std::uint32_t i = 0; i < 100; ++i)
        keys.push_back(make_flow_key(v4(0x0a000000 + i, 1000, 0x0a0a0002, 80)).key);
    std::set<std::int32_t> seen;
    for (const auto& k : keys) {
        auto p = ft.insert(k, 10);
        REQUIRE(p >= 0);
        ft.at(p).timeout = 60;
        seen.insert(p);
    }
    CHECK(seen.size() == 100);
    CHECK(ft.size() == 100);
    const flow_key back = make_flow_key(reversed(v4(0x0a000000 + 7, 1000, 0x0a0a0002, 80))).key;
    CHECK(ft.find(back) == ft.find(keys[7]));
    const flow_key* ptrs[3] = {&keys[0], &back, &keys[99]};
    flow_key missing = make_flow_key(v4(0x0b000000, 1, 2, 3)).key;
    const flow_key* with_miss[2] = {&keys[5], &missing};
    std::int32_t pos[3];
    ft.lookup(ptrs, 3, pos);
    CHECK(pos[0] == ft.find(keys[0]));
    CHECK(pos[1] == ft.find(keys[7]));
    CHECK(pos[2] == ft.find(keys[99]));
    ft.lookup(with_miss, 2, pos);
    CHECK(pos[0] >= 0);
    CHECK(pos[1] == -1);
    ft.remove(ft.find(keys[5]));
    CHECK(ft.find(keys[5]) == -1);
    CHECK(ft.size() == 99);
}

TEST_CASE("flow table: the sweep removes what timed out, a few slots at a time", "[dataplane][flows]")
{
    ensure_eal();
    auto t = flow_table::create("t_flows_s", 256);
    REQUIRE(t);
    flow_table& ft = **t;
    for (std::uint32_t i = 0; i < 50; ++i) {
        auto p = ft.insert(make_flow_key(v4(0x0a000000 + i, 1000, 0x0a0a0002, 80)).key, 100);
        REQUIRE(p >= 0);
        ft.at(p).timeout = i < 20 ? 30 : 600; // 20 short-lived flows
    }
    // one call looks at `budget` slots only
    CHECK(ft.sweep(200, 4) <= 4);
    unsigned removed = 0;
    for (int round = 0; round < 1000 && ft.size() > 30; ++round)
        removed += ft.sweep(200, 16);
    CHECK(ft.size() == 30);
    CHECK(ft.stats().expired == 20);
    // a whole turn later, nothing more is due
    for (int round = 0; round < 100; ++round)
        ft.sweep(200, 16);
    CHECK(ft.size() == 30);
    (void)removed;
}

TEST_CASE("flow table: when full, embryonic flows are evicted first; else the new flow is refused",
          "[dataplane][flows]")
{
    ensure_eal();
    auto t = flow_table::create("t_flows_f", 64);
    REQUIRE(t);
    flow_table& ft = **t;
    // fill it: 56 established flows and 8 embryonic ones (a SYN flood's)
    const std::uint32_t n = 64;
    for (std::uint32_t i = 0; i < n; ++i) {
        auto p = ft.insert(make_flow_key(v4(0x0a000000 + i, 1000, 0x0a0a0002, 80)).key, 100 + i);
        REQUIRE(p >= 0);
        ft.at(p).timeout = 600;
        ft.at(p).embryonic = i % 8 == 0;
    }
    const std::uint32_t full = ft.size();
    REQUIRE(full == 64);
    CHECK(ft.slots() == 64);
    CHECK(ft.stats().evicted == 0);
    const std::uint32_t embryonic = 8;
    // each new flow now takes the place of an embryonic one, the oldest first
    auto key_of = [](std::uint32_t i) { return make_flow_key(v4(0x0a000000 + i, 1000, 0x0a0a0002, 80)).key; };
    for (std::uint32_t i = 0; i < embryonic; ++i) {
        auto p = ft.insert(make_flow_key(v4(0x0b000000 + i, 1000, 0x0a0a0002, 80)).key, 1000);
        REQUIRE(p >= 0);
        ft.at(p).timeout = 600;
        if (i == 0) {
            CHECK(ft.find(key_of(0)) == -1); // last seen at 100: the oldest
            CHECK(ft.find(key_of(8)) >= 0);
        }
    }
    CHECK(ft.size() == full);
    CHECK(ft.stats().evicted == embryonic);
    // none left to evict: refused, and every established flow is still there
    CHECK(ft.insert(make_flow_key(v4(0x0c000000, 1000, 0x0a0a0002, 80)).key, 1000) == -1);
    CHECK(ft.stats().refused_full == 1);
    for (std::uint32_t i = 0; i < n; ++i)
        if (i % 8 != 0)
            CHECK(ft.find(make_flow_key(v4(0x0a000000 + i, 1000, 0x0a0a0002, 80)).key) >= 0);
}
