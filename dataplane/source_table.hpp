// SPDX-License-Identifier: Apache-2.0
#pragma once

// One worker lcore's sources, for the per-source limits (issue #13): an
// rte_hash keyed by the source address beside an array of entries at the
// hash's key positions, as the flow table is. One writer, its lcore; no
// lock. Fixed memory, sized at start from 'limit src table N'.
//
// An entry holds the source's token buckets ('limit src pps', 'limit src
// new-flows') and its live flows ('limit src concurrent-flows'). An entry
// with no live flow whose buckets are full is idle: it remembers nothing a
// fresh entry would not, so dropping it loses nothing. sweep() drops the
// idle entries among a few slots per call; when the table is full, add()
// drops the first idle entry among the next slots it looks at. With none
// there the source is not tracked: it is not limited (fail open) and
// counted, so a flood of spoofed sources cannot make the table refuse the
// real clients (it would if untracked sources were dropped), and a source
// that stays untracked is one among more active sources than the table
// holds, which the operator sizes.

#include "common/result.hpp"
#include "dataplane/token_bucket.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_hash;

namespace bulwark::dataplane {

// The limits in force, in TSC units (set at start, read-only after).
struct limit_params {
    bucket_rate pps;              // per packet from outside
    bucket_rate new_flows;        // per flow a source opens
    std::uint32_t concurrent = 0; // live flows a source may hold; 0: no limit
    std::uint32_t block_seconds = 0; // a source over a limit is blocklisted this long; 0: only dropped
    std::uint64_t block_tsc = 0;     // the same in TSC ticks
    bool any() const noexcept { return pps.on() || new_flows.on() || concurrent; }
};

// A source address: IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so one
// 16-byte key serves both families. 8-byte aligned for rte_hash_crc.
struct alignas(8) source_key {
    std::array<std::uint8_t, 16> addr{};
    bool operator==(const source_key&) const = default;
};
static_assert(sizeof(source_key) == 16);
// bytes: IPv4 in the first 4 (as parsed_frame and flow_key hold it).
source_key make_source_key(const std::array<std::uint8_t, 16>& bytes, bool v6) noexcept;

struct source_entry {
    token_bucket pps, new_flows;
    std::uint64_t block_asked = 0; // TSC when a block of it was queued; 0: never
    std::uint32_t flows = 0;       // live flows it opened
    bool in_use = false;
};

struct source_table_stats {
    std::uint64_t inserted = 0, reclaimed = 0, untracked = 0;
};

class source_table {
public:
    static constexpr unsigned max_burst = 64;

    static result<std::unique_ptr<source_table>> create(const std::string& name, std::uint32_t capacity,
                                                        const limit_params& limits);
    ~source_table();
    source_table(const source_table&) = delete;
    source_table& operator=(const source_table&) = delete;

    // pos[i]: the entry of keys[i], added (buckets full) when missing; -1
    // when it is not tracked (counted). n <= max_burst.
    void find_or_add(const source_key* const* keys, unsigned n, std::uint64_t now, std::int32_t* pos) noexcept;
    std::int32_t find_or_add(const source_key& k, std::uint64_t now) noexcept;
    std::int32_t find(const source_key& k) const noexcept;
    source_entry& at(std::int32_t pos) noexcept { return entries_[static_cast<std::size_t>(pos)]; }
    // One of k's flows has gone (expired, evicted, closed).
    void flow_closed(const source_key& k) noexcept;

    // Drops the idle entries among the next `budget` slots.
    unsigned sweep(std::uint64_t now, unsigned budget) noexcept;

    bool idle(const source_entry& e, std::uint64_t now) const noexcept;
    const limit_params& limits() const noexcept { return limits_; }
    std::uint32_t size() const noexcept { return size_; }
    std::uint32_t capacity() const noexcept { return capacity_; }
    const source_table_stats& stats() const noexcept { return stats_; }
    std::size_t bytes_per_source() const noexcept { return bytes_ / capacity_; }

private:
    source_table() = default;
    std::int32_t add(const source_key& k, std::uint64_t now) noexcept;
    void remove(std::size_t pos) noexcept;
    bool reclaim_one(std::uint64_t now) noexcept;

    rte_hash* hash_ = nullptr;
    std::vector<source_entry> entries_; // at the hash's key positions
    limit_params limits_;
    std::uint32_t capacity_ = 0, size_ = 0;
    std::size_t sweep_at_ = 0, reclaim_at_ = 0;
    std::size_t bytes_ = 0;
    source_table_stats stats_;
};

} // namespace bulwark::dataplane
