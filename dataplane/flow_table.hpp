// SPDX-License-Identifier: Apache-2.0
#pragma once

// One worker lcore's flows (issue #13): an rte_hash keyed by flow_key
// (both directions, one lookup) beside an array of entries at the hash's
// key positions. One writer, its lcore; no lock, no RCU (no other thread
// reads it: the control plane reads counters). Fixed memory, sized at
// start from 'flows N'.
//
// Expiry: sweep() looks at a few slots per call from a cursor that goes
// round the table (the worker calls it once per loop), never the whole
// table at once. When the table is full, insert() evicts the oldest
// embryonic flow (still opening: a SYN flood's) among the next slots it
// looks at; with none there, the new flow is refused and counted.
//
// Why rte_hash: cuckoo buckets with bulk lookup and signatures; what it
// costs per flow is measured (bytes_per_flow) and printed at start.

#include "common/result.hpp"
#include "dataplane/flow_key.hpp"
#include "dataplane/tcp_track.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_hash;

namespace bulwark::dataplane {

struct flow_entry {
    tcp::conn tcp;               // TCP flows: the tracker's state
    std::uint32_t last_seen = 0; // seconds, the worker's clock
    std::uint32_t timeout = 0;   // seconds of silence after which it goes
    bool in_use = false;
    bool original_is_a = false;  // the flow's first frame came from endpoint a
    bool embryonic = false;      // still opening: evicted first
    bool replied = false;        // UDP: the other end has answered
};

// UDP pseudo-flows' lifetimes, in seconds, as netfilter's: one way, both ways.
inline constexpr std::uint32_t udp_timeout = 30, udp_stream_timeout = 180;

struct flow_table_stats {
    std::uint64_t inserted = 0, expired = 0, evicted = 0, refused_full = 0;
};

class flow_table {
public:
    static constexpr unsigned max_burst = 64;

    static result<std::unique_ptr<flow_table>> create(const std::string& name, std::uint32_t capacity);
    ~flow_table();
    flow_table(const flow_table&) = delete;
    flow_table& operator=(const flow_table&) = delete;

    // pos[i]: the entry of keys[i], or -1 when it has none. n <= max_burst.
    void lookup(const flow_key* const* keys, unsigned n, std::int32_t* pos) const noexcept;
    std::int32_t find(const flow_key& k) const noexcept;
    // A new entry for k (not present), its fields reset; -1 when the table
    // is full and nothing could be evicted.
    std::int32_t insert(const flow_key& k, std::uint32_t now) noexcept;
    void remove(std::int32_t pos) noexcept;
    flow_entry& at(std::int32_t pos) noexcept { return entries_[static_cast<std::size_t>(pos)]; }

    // Removes the expired entries among the next `budget` slots.
    unsigned sweep(std::uint32_t now, unsigned budget) noexcept;

    std::uint32_t size() const noexcept { return size_; }
    std::uint32_t capacity() const noexcept { return capacity_; }
    std::size_t slots() const noexcept { return entries_.size(); } // the hash's key positions
    const flow_table_stats& stats() const noexcept { return stats_; }
    // The table's memory (hash and entries) divided by its capacity.
    std::size_t bytes_per_flow() const noexcept { return bytes_ / capacity_; }

private:
    flow_table() = default;
    bool evict_one(std::uint32_t now) noexcept;

    rte_hash* hash_ = nullptr;
    std::vector<flow_entry> entries_; // at the hash's key positions
    std::uint32_t capacity_ = 0, size_ = 0;
    std::size_t sweep_at_ = 0, evict_at_ = 0;
    std::size_t bytes_ = 0;
    flow_table_stats stats_;
};

} // namespace bulwark::dataplane
