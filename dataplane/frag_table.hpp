// SPDX-License-Identifier: Apache-2.0
#pragma once

// Fragment trains without reassembly (issue #13): one worker lcore's
// table of the datagrams whose first fragment it saw, keyed by (src, dst,
// protocol, IPv4 id) or (src, dst, IPv6 fragment id) (RFC 791, RFC 8200
// §4.5). The first fragment (offset 0, the one with the L4 header) goes
// through every stage; its verdict is recorded for the train, and the later
// fragments, which carry no ports, inherit it. See dataplane/VALIDATION.md.
//
// A table of our own, not rte_hash: pure C++ (tested and fuzzed without
// EAL), fixed memory, and expiry for free. A train lives `frag_life`
// seconds from its first fragment; a slot whose time is up is free, so
// there is no sweep and no delete on the fast path (rte_hash has no
// expiry: it would need a sweep like the flow table's). Two-choice
// buckets of 8 slots (each key may sit in either of two buckets, the
// emptier is taken: high load before a bucket is full); a bucket's
// signatures and expiry times are one cache line. The hash is seeded per
// table so trains cannot be aimed at one bucket from outside.
//
// One writer, its lcore; no lock.

#include "dataplane/pipeline_types.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace bulwark::dataplane {

// Seconds a train is remembered after its first fragment. A datagram's
// fragments leave its sender back to back and cross a link in
// milliseconds; Linux's ipfrag_time (30 s) and RFC 791's 15 s are an end
// host's reassembly timers for slow paths, and long lives make id reuse
// misassociate trains at high rates (RFC 4963 §2). Short lives also free a
// full table sooner under a fragment flood.
inline constexpr std::uint32_t frag_life = 5;

struct frag_key {
    std::array<std::uint8_t, 16> src{}, dst{}; // IPv4 in the first 4 bytes
    std::uint32_t id = 0;
    std::uint8_t proto = 0; // IPv4 only: RFC 8200 keys IPv6 trains without it
    std::uint8_t v6 = 0;
    std::uint8_t pad[2]{};
    bool operator==(const frag_key&) const = default;
};
static_assert(sizeof(frag_key) == 40);

frag_key frag_key_of(const parsed_frame& f) noexcept;

struct frag_train {
    static constexpr unsigned max_ranges = 4; // disjoint byte ranges seen; more: fail closed
    struct range {
        std::uint16_t lo, hi; // [lo, hi) in bytes of the fragmentable part (at most 65535)
    };
    frag_key key;
    pkt_verdict verdict{pkt_action::forward, drop_reason::none}; // the first fragment's
    std::uint8_t nranges = 0;
    std::uint16_t first_length = 0; // the first fragment's bytes: a copy of it is a duplicate
    std::uint16_t total = 0; // the datagram's length once its last fragment is seen, else 0
    std::array<range, max_ranges> ranges{};
};
static_assert(sizeof(frag_train) == 64, "a train is one cache line");

struct frag_stats {
    std::uint64_t trains = 0;    // first fragments recorded
    std::uint64_t later = 0;     // later fragments given their train's verdict
    std::uint64_t completed = 0; // trains whose every byte was seen: freed at once
    std::uint64_t refused = 0;   // first fragments not recorded, the table full (frag_table_full)
};

class frag_table {
public:
    static constexpr unsigned bucket_slots = 8;

    // At least `capacity` slots (rounded up to whole buckets, a power of two).
    explicit frag_table(std::uint32_t capacity, std::uint64_t seed = 0);

    // The verdicts of a burst's fragments: `frames[i]` was parsed (all n of
    // them), `v[i]` is its verdict after every other stage. A first
    // fragment records its train; a later fragment not already dropped gets
    // its train's verdict, or frag_no_first, or frag_overlap_train. Frames
    // in order: a first fragment earlier in the burst counts.
    void apply(const parsed_frame* frames, pkt_verdict* v, unsigned n, std::uint32_t now) noexcept;

    // One fragment (frame order), as apply() does.
    pkt_verdict first_fragment(const parsed_frame& f, pkt_verdict v, std::uint32_t now) noexcept;
    pkt_verdict later_fragment(const parsed_frame& f, pkt_verdict v, std::uint32_t now) noexcept;

    // The live train of k, or null.
    const frag_train* find(const frag_key& k, std::uint32_t now) const noexcept;
    // Live trains (a walk of the whole table: tests and stats, not the fast path).
    std::uint32_t live(std::uint32_t now) const noexcept;

    std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(trains_.size()); }
    std::size_t bytes_per_train() const noexcept { return sizeof(frag_train) + sizeof(bucket) / bucket_slots; }
    const frag_stats& stats() const noexcept { return stats_; }

private:
    struct alignas(64) bucket {
        std::array<std::uint32_t, bucket_slots> sig{};     // 0: never used or freed
        std::array<std::uint32_t, bucket_slots> expires{}; // seconds; free once reached
    };
    struct where {
        std::uint64_t hash;
        std::uint32_t b1, b2, sig;
    };
    where locate(const frag_key& k) const noexcept;
    std::int64_t lookup(const frag_key& k, const where& w, std::uint32_t now) const noexcept;
    // A slot for a new train; a dropped train's slot may be taken for a
    // forwarded one (its later fragments are then dropped as frag_no_first:
    // still dropped). -1: none.
    std::int64_t claim(const where& w, std::uint32_t now, bool may_evict) noexcept;
    void free_slot(std::size_t slot) noexcept;

    std::vector<bucket> buckets_;
    std::vector<frag_train> trains_;
    std::uint32_t mask_ = 0;
    std::uint64_t seed_;
    frag_stats stats_;
};

} // namespace bulwark::dataplane
