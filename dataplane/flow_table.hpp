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

class source_table;

// A TCP flow the SYN guard opened (dataplane/syn_guard.hpp): the client's
// handshake answered with a cookie, the server's opened by the guard. The
// tracker sees the server's sequence space; the client sees the cookie's,
// and each segment is translated between the two.
struct proxy_state {
    enum class phase : std::uint8_t { none, opening, open };
    phase ph = phase::none;
    std::int8_t wscale = -1;      // the client's window scale (from the cookie's timestamp bits)
    std::int8_t window_shift = 0; // server to client: the window is shifted by this
    bool sack = false, ts = false;
    std::uint16_t mss = 0;        // the cookie's
    std::uint16_t window = 0;     // opening: the window of the client's ACK
    std::uint32_t isn = 0;        // the client's initial sequence number
    std::uint32_t cookie = 0;     // the guard's, the client's view of the server's
    std::uint32_t tsval = 0;      // opening: the client's TSval
    std::uint32_t ts_ours = 0;    // the TSval of the guard's SYN-ACK, as the client echoed it
    std::uint32_t seq_delta = 0;  // the server's ISN minus the cookie
    std::uint32_t ts_delta = 0;   // the server's TSval minus ts_ours
};

struct flow_entry {
    tcp::conn tcp;               // TCP flows: the tracker's state
    proxy_state proxy;           // TCP flows the SYN guard opened
    std::uint32_t last_seen = 0; // seconds, the worker's clock
    std::uint32_t timeout = 0;   // seconds of silence after which it goes
    bool in_use = false;
    bool original_is_a = false;  // the flow's first frame came from endpoint a
    bool embryonic = false;      // still opening: evicted first
    bool replied = false;        // UDP: the other end has answered
    bool limited = false;        // counted in its opener's live flows (source_table): uncounted when it goes

    // After a TCP segment was accepted: its lifetime from the tracker's state.
    void tcp_touched(std::uint32_t now) noexcept
    {
        last_seen = now;
        timeout = tcp::timeout_seconds(tcp.st);
        embryonic = tcp::embryonic(tcp.st) || proxy.ph == proxy_state::phase::opening;
    }
};

// UDP pseudo-flows' lifetimes, in seconds, as netfilter's: one way, both ways.
inline constexpr std::uint32_t udp_timeout = 30, udp_stream_timeout = 180;

struct flow_table_stats {
    std::uint64_t inserted = 0, expired = 0, evicted = 0, refused_full = 0;
    std::uint64_t removed = 0; // every removal, expiry and eviction included: a slot may have been reused
};

// The bytes DPDK's heap has handed out, on every socket: a table's memory
// is the difference before and after it is made (flow_table, source_table).
std::size_t dpdk_heap_used() noexcept;

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
    // Removes an entry; a `limited` one is uncounted from its opener's
    // live flows in the lcore's source table (set_sources).
    void remove(std::int32_t pos) noexcept;
    void set_sources(source_table* s) noexcept { sources_ = s; }
    flow_entry& at(std::int32_t pos) noexcept { return entries_[static_cast<std::size_t>(pos)]; }
    const flow_entry& at(std::int32_t pos) const noexcept { return entries_[static_cast<std::size_t>(pos)]; }
    // The key of the entry at pos (in use), or null.
    const flow_key* key_at(std::int32_t pos) const noexcept;

    // Empties the table (its counters too), as new.
    void clear() noexcept;

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
    source_table* sources_ = nullptr;
    std::vector<flow_entry> entries_; // at the hash's key positions
    std::uint32_t capacity_ = 0, size_ = 0;
    std::size_t sweep_at_ = 0, evict_at_ = 0;
    std::size_t bytes_ = 0;
    flow_table_stats stats_;
};

} // namespace bulwark::dataplane
