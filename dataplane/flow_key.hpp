// SPDX-License-Identifier: Apache-2.0
#pragma once

// A flow's key, the same for both of its directions: the two endpoints
// (address, port) in a fixed order, the lower first. One lookup finds a
// flow whichever way a frame goes, and any hash of the key sends both
// directions to the same worker lcore (flow_lcore). Pure: no DPDK.

#include "dataplane/packet_types.hpp"

#include <array>
#include <cstdint>

namespace bulwark::dataplane {

// 8-byte aligned and without implicit padding: rte_hash_crc reads it 8
// bytes at a time and compares every byte.
struct alignas(8) flow_key {
    std::array<std::uint8_t, 16> a{}, b{}; // IPv4 in the first 4 bytes, the rest zero
    std::uint16_t port_a = 0, port_b = 0;  // host order; ICMP: the echo identifier in both, else 0
    std::uint8_t proto = 0;
    std::uint8_t v6 = 0;
    std::uint8_t pad[2]{};

    bool operator==(const flow_key&) const = default;
};
static_assert(sizeof(flow_key) == 40);

// The key of a parsed IP frame, and whether its source is endpoint a.
struct keyed {
    flow_key key;
    bool src_is_a;
};
keyed make_flow_key(const parsed_frame& f);

// The worker lcore, of n, that owns a flow: a function of the key alone,
// so both directions agree (with one queue per lcore, the NIC's RSS must
// agree too: a symmetric Toeplitz key, 0x6d5a repeated, does).
unsigned flow_lcore(const flow_key& k, unsigned n);

// The RSS key that makes a NIC's Toeplitz hash symmetric: 0x6d5a repeated
// (Woo and Park, "Scalable TCP Session Monitoring with Symmetric
// Receive-side Scaling", 2012). With it, a flow's two directions hash
// alike and land in one queue, so one worker lcore sees both; the shield
// sets it on ports with several queues.
inline constexpr std::array<std::uint8_t, 40> symmetric_rss_key = [] {
    std::array<std::uint8_t, 40> k{};
    for (std::size_t i = 0; i < k.size(); ++i)
        k[i] = i % 2 ? 0x5a : 0x6d;
    return k;
}();

} // namespace bulwark::dataplane
