// SPDX-License-Identifier: Apache-2.0
#pragma once

// The stateless pipeline a worker lcore runs on each RX burst (DESIGN.md
// section 1): parse and validate -> blocklist -> ACL -> verdict. Flow
// tracking, the SYN guard and rate limits (the next dataplane issue) slot
// in as stages after the ACL. Per lcore; no lock, no allocation, no
// syscall, no log.

#include "dataplane/acl_table.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/packet_types.hpp"

#include <array>
#include <cstdint>
#include <vector>

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace bulwark::dataplane {

enum side : std::uint8_t { outside = 0, inside = 1 };
inline constexpr unsigned burst_size = 32;

struct port_counters {
    std::uint64_t rx = 0, tx = 0, punted = 0;
    std::array<std::uint64_t, drop_reason_count> drops{};
};

// One worker lcore's counters: plain 64-bit, written by that lcore only,
// read (summed) by the control plane. Cache-line separated.
struct alignas(64) lcore_counters {
    std::array<port_counters, 2> port;
};

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

// Where sampled drops go: the first `per_second` drops of each reason per
// second per lcore.
struct drop_sampling {
    rte_mempool* pool = nullptr;
    rte_ring* ring = nullptr;
    unsigned per_second = 0;
};

// The tables a burst is filtered with; immutable while workers read them.
struct pipeline_tables {
    const acl_table* acl = nullptr;
    const blocklist* blocks = nullptr;
};

class worker_state {
public:
    worker_state(std::size_t acl_rules, drop_sampling sampling, std::array<std::uint16_t, 2> port_ids);

    // Filters a burst received on `from`: drops are counted, sampled and
    // freed; what passes is compacted to the front of pkts. Returns how many
    // pass. n <= burst_size.
    unsigned filter(const pipeline_tables& t, side from, rte_mbuf** pkts, unsigned n) noexcept;

    // Counts a burst's frames the other port would not take, and frees them.
    void tx_dropped(side to, rte_mbuf** pkts, unsigned n) noexcept;

    lcore_counters counters;
    std::vector<std::uint64_t> rule_hits; // by ACL rule index; [rules] = the default verdict

private:
    void sample(side from, drop_reason r, const rte_mbuf* m, std::uint64_t now) noexcept;
    drop_sampling sampling_;
    std::array<std::uint16_t, 2> port_ids_;
    std::uint64_t window_start_ = 0, window_len_ = 0;
    std::array<std::uint32_t, drop_reason_count> sampled_{};
    std::vector<std::byte> scratch_; // a multi-segment frame, linearised to be parsed
};

} // namespace bulwark::dataplane
