// SPDX-License-Identifier: Apache-2.0
// The host port's MAC-learning table (dataplane/mac_table.hpp), without EAL.
#include "dataplane/mac_table.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace bulwark::dataplane;

namespace {

mac_addr mac(std::uint64_t v)
{
    mac_addr m;
    for (int i = 5; i >= 0; --i, v >>= 8)
        m[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
    return m;
}

} // namespace

TEST_CASE("mac_table: a station is found on the port it was last seen on", "[mac_table]")
{
    mac_table t(64);
    const mac_addr a = mac(0x020000000001), b = mac(0x020000000002);
    CHECK_FALSE(t.lookup(a, 10));
    t.learn(a, 0, 10);
    t.learn(b, 1, 10);
    CHECK(t.lookup(a, 10) == std::optional<std::uint8_t>(0));
    CHECK(t.lookup(b, 11) == std::optional<std::uint8_t>(1));
    // it moved: found on the new port from its first frame there
    t.learn(a, 1, 12);
    CHECK(t.lookup(a, 12) == std::optional<std::uint8_t>(1));
    CHECK(t.size(12) == 2);
}

TEST_CASE("mac_table: group addresses are never learned nor found", "[mac_table]")
{
    mac_table t(64);
    const mac_addr broadcast = mac(0xffffffffffff), ipv6_multicast = mac(0x333300000001), ipv4_multicast =
                                                                                              mac(0x01005e000001);
    for (const auto& m : {broadcast, ipv6_multicast, ipv4_multicast}) {
        CHECK(is_group(m));
        t.learn(m, 0, 1);
        CHECK_FALSE(t.lookup(m, 1));
    }
    CHECK(t.size(1) == 0);
    CHECK_FALSE(is_group(mac(0x020000000001)));
}

TEST_CASE("mac_table: entries age out after max_age seconds, across the clock's wrap", "[mac_table]")
{
    mac_table t(64);
    const mac_addr a = mac(0x0a0000000001);
    for (std::uint32_t start : {100u, 16383u, 0xfffffff0u}) {
        t.learn(a, 1, start);
        CHECK(t.lookup(a, start + mac_table::max_age) == std::optional<std::uint8_t>(1));
        CHECK_FALSE(t.lookup(a, start + mac_table::max_age + 1));
        // seen again: fresh again
        t.learn(a, 1, start + mac_table::max_age + 1);
        CHECK(t.lookup(a, start + mac_table::max_age + 2) == std::optional<std::uint8_t>(1));
    }
}

TEST_CASE("mac_table: a full bucket replaces its least recently seen station", "[mac_table]")
{
    mac_table t(4); // one bucket of four: every station shares it
    REQUIRE(t.capacity() == mac_table::ways);
    for (std::uint64_t i = 0; i < 4; ++i)
        t.learn(mac(0x020000000100 + i), 0, static_cast<std::uint32_t>(10 + i));
    t.learn(mac(0x020000000100), 0, 20); // the first seen again: now the most recent
    t.learn(mac(0x020000000200), 1, 21); // replaces the least recently seen: the second
    CHECK(t.lookup(mac(0x020000000100), 21));
    CHECK_FALSE(t.lookup(mac(0x020000000101), 21));
    CHECK(t.lookup(mac(0x020000000102), 21));
    CHECK(t.lookup(mac(0x020000000103), 21));
    CHECK(t.lookup(mac(0x020000000200), 21) == std::optional<std::uint8_t>(1));
    CHECK(t.size(21) == 4);
}

TEST_CASE("mac_table: thousands of stations in a table sized for them are all found", "[mac_table]")
{
    mac_table t(4096);
    CHECK(t.capacity() == 4096);
    // a few vendors' addresses, the last three bytes counting up: what real segments look like
    std::set<std::uint64_t> lost;
    for (std::uint64_t v : {0x00163e000000ull, 0x525400000000ull, 0xf0de00000000ull})
        for (std::uint64_t i = 0; i < 500; ++i)
            t.learn(mac(v + i), static_cast<std::uint8_t>(i & 1), 5);
    for (std::uint64_t v : {0x00163e000000ull, 0x525400000000ull, 0xf0de00000000ull})
        for (std::uint64_t i = 0; i < 500; ++i)
            if (t.lookup(mac(v + i), 5) != std::optional<std::uint8_t>(i & 1))
                lost.insert(v + i);
    // 1,500 stations in 1,024 buckets of 4: a bucket overflowing is possible, rare
    CHECK(lost.size() <= 3);
}

TEST_CASE("mac_table: a station held on a port is not moved by a frame from another while fresh", "[mac_table]")
{
    mac_table t(64);
    const mac_addr server = mac(0x020000000002);
    t.learn(server, 1, 100);
    // a frame from outside (port 0) spoofing the server's MAC, learned with the inside (1) held
    t.learn(server, 0, 110, 1);
    CHECK(t.lookup(server, 110) == std::optional<std::uint8_t>(1));
    // without the hold a station moves; with it, once it is stale there
    t.learn(server, 0, 111);
    CHECK(t.lookup(server, 111) == std::optional<std::uint8_t>(0));
    t.learn(server, 1, 120);
    t.learn(server, 0, 120 + mac_table::max_age + 1, 1);
    CHECK(t.lookup(server, 120 + mac_table::max_age + 1) == std::optional<std::uint8_t>(0));
}
