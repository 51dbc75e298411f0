// SPDX-License-Identifier: Apache-2.0
#pragma once

// The plain types a burst is described with (DESIGN.md section 1): the two
// bridged ports, the verdict each frame of a burst ends with, and a sampled
// drop. No DPDK beyond forward declarations, no allocation.

#include "dataplane/packet_types.hpp"

#include <array>
#include <cstdint>
#include <string_view>

struct rte_mempool;
struct rte_ring;

namespace bulwark::dataplane {

// The two bridged ports and the host port (the local kernel's leg on the
// bridge, issue #14), as indices into per-port arrays.
enum side : std::uint8_t { outside = 0, inside = 1, host = 2 };
inline constexpr unsigned sides = 3;
// The other bridged port (outside <-> inside); the host has none.
inline constexpr side other_side(side s) noexcept { return s == outside ? inside : outside; }
// "outside", "inside", "host": as counters and logs name them.
inline constexpr std::string_view side_name(unsigned s) noexcept
{
    return s == outside ? "outside" : s == inside ? "inside" : "host";
}

// Frames per RX burst, and the size of every per-burst array.
inline constexpr unsigned burst_size = 32;

// What becomes of one frame of a burst: the last stage acts on it.
enum class pkt_action : std::uint8_t {
    forward,    // TX on the other port
    drop,       // counted per reason on the port it came from, sampled, freed
    reply,      // TX on the port it came from (the SYN guard's SYN-ACK, its ACK to a server)
    punt,       // to the host port: enqueued on the punt ring
    flood,      // a group or unknown address: to every port but the one it came from, the host's included
    to_outside, // from the host port: TX on outside (its destination was learned there)
    to_inside,  // from the host port: TX on inside
};

struct pkt_verdict {
    pkt_action action;
    drop_reason why; // drop_reason::none unless action is drop
    bool operator==(const pkt_verdict&) const = default;
};
static_assert(sizeof(pkt_verdict) == 2, "a burst's verdicts fit in one cache line");

// A dropped frame's first bytes, handed to the control plane's pcapng
// writer through a ring (objects from a fixed mempool: no allocation).
struct drop_sample {
    static constexpr unsigned snaplen = 256;
    std::uint64_t tsc;
    std::uint16_t port_id;
    std::uint8_t side;
    drop_reason reason;
    std::uint16_t caplen, len;
    std::uint8_t bytes[snaplen];
};

// A worker's request to blocklist a source, by value through the shield's
// block ring (MP/SC rte_ring) to the control thread, which adds it to the
// blocklist: a worker takes no lock and makes no system call. Generic: the
// per-source limits ask with their drop reason; 'shield-block' rules
// (issue #14) will too.
struct block_request {
    std::array<std::uint8_t, 16> addr{}; // IPv4 in the first 4 bytes
    std::uint8_t v6 = 0;
    drop_reason reason = drop_reason::none;
    std::uint16_t reserved = 0;
    std::uint32_t seconds = 0;           // its time to live; 0: until removed
};
static_assert(sizeof(block_request) == 24, "rte_ring element sizes are multiples of 4");

// Where sampled drops go: the first `per_second` drops of each reason per
// second per lcore.
struct drop_sampling {
    rte_mempool* pool = nullptr;
    rte_ring* ring = nullptr;
    unsigned per_second = 0;
};

} // namespace bulwark::dataplane
