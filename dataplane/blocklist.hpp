// SPDX-License-Identifier: Apache-2.0
#pragma once

// The source blocklist: `block src CIDR` from the config plus entries with a
// time to live added at run time (the runtime API that exposes this is a
// later issue; this is its C++ interface).
//
// Two lock-free rte_hash tables (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF),
// one per family, keyed by (prefix length, masked address): the control
// plane is their one writer, the worker lcores read it with no lock, and the key slots of
// deleted entries are reclaimed only after every worker has passed a
// quiescent state (rte_hash_rcu_qsbr_add on the workers' rte_rcu_qsbr). A
// lookup probes once per prefix length in use (hosts only: one bulk probe
// per burst). Each entry holds its expiry; readers check it, so an entry
// stops blocking when its TTL ends, before expire() removes it.
//
// IPv4 lookups first test a 2 MB bitmap of the /24s any entry covers, so a
// source in no listed /24 costs one bit test, not a probe of a table of a
// million entries that does not fit in cache.
//
// Why not rte_lpm/rte_lpm6: each costs a 64 MB tbl24 whatever it holds,
// and the lab runs in 512 MB; a blocklist holds few prefix lengths.

#include "common/result.hpp"
#include "common/units.hpp"
#include "dataplane/packet_types.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct rte_hash;
struct rte_rcu_qsbr;
struct rte_ring;

namespace bulwark::dataplane {

class blocklist {
public:
    // Room for `entries` entries (configured and added at run time). `qs`
    // is the workers' quiescent-state variable (nullptr: no concurrent
    // reader, as in tests and the benchmark).
    static result<std::unique_ptr<blocklist>> create(const std::string& name, std::size_t entries, rte_rcu_qsbr* qs);
    ~blocklist();
    blocklist(const blocklist&) = delete;
    blocklist& operator=(const blocklist&) = delete;

    using seconds = std::chrono::seconds;
    // Adds or refreshes entries; ttl 0: until removed. `reason` says why
    // ("block src" for the config's, a drop reason such as "limit_pps" for
    // a worker's request): kept on the writer side for the runtime API, a
    // refresh replaces it. Control plane (any thread; writers are
    // serialised inside). Fails when the table is full; what was added
    // before stays.
    // `code` is the drop reason the blocklist stage gives the entry's
    // frames (blocklisted; l7_block for a proxy's shield-block), kept in
    // the entry's data word beside its expiry (no second lookup).
    result<bool> add(std::span<const cidr> nets, seconds ttl = seconds{0}, std::string_view reason = {},
                     drop_reason code = drop_reason::blocklisted);
    result<bool> add(const cidr& net, seconds ttl = seconds{0}, std::string_view reason = {},
                     drop_reason code = drop_reason::blocklisted)
    {
        return add(std::span(&net, 1), ttl, reason, code);
    }
    bool remove(const cidr& net);
    // Why net is listed ("" when it is not, or was given no reason).
    std::string reason(const cidr& net) const;
    // Every entry, for the runtime API: its prefix, the seconds it has left
    // (0: no TTL) and its reason. Control plane; takes the writers' lock.
    struct entry {
        cidr net;
        seconds left{0};
        std::string reason;
    };
    std::vector<entry> entries() const;
    // Removes the entries whose TTL has passed by `now` (rte_rdtsc(); 0:
    // the current time); returns how many.
    std::size_t expire(std::uint64_t now = 0);
    std::size_t size() const;

    // Fast path: why[i] = the drop reason of the entry listing the source
    // of frames[i] (its `code`: blocklisted, l7_block), drop_reason::none
    // when none does (non-IP frames never are). n <= 64; `now` is
    // rte_rdtsc(). Expiries are kept to 256 TSC cycles.
    void lookup(const parsed_frame* const* frames, unsigned n, std::uint64_t now, drop_reason* why) const noexcept;

    // One address, for tests and the control plane: is it blocked now, and
    // with which drop reason (none: not blocked)?
    drop_reason blocked_why(const ip_addr& src) const;
    bool blocked(const ip_addr& src) const { return blocked_why(src) != drop_reason::none; }

    // 8-byte aligned: rte_hash_crc reads keys 8 bytes at a time. No
    // implicit padding: every byte of a key is hashed and compared.
    struct alignas(8) key4 {
        std::uint32_t len;  // prefix length
        std::array<std::uint8_t, 4> addr; // host bits cleared
    };
    struct alignas(8) key6 {
        std::uint32_t len;
        std::array<std::uint8_t, 16> addr;
        std::uint32_t pad = 0;
    };
    static_assert(sizeof(key4) == 8 && sizeof(key6) == 24, "keys without implicit padding");

private:
    blocklist() = default;
    std::uint64_t expiry_of(seconds ttl) const;
    // The table an entry lives in and its key there.
    struct slot {
        rte_hash* table;
        bool v6;
        key4 k4;
        key6 k6;
        const void* key() const { return v6 ? static_cast<const void*>(&k6) : static_cast<const void*>(&k4); }
    };
    slot slot_of(const cidr& c) const;
    // One entry more (+1) or fewer (-1): the prefix lengths in use and the
    // covered /24s the readers look at. Writers only, under write_.
    void account(const cidr& c, int delta);
    bool remove_locked(const cidr& c);
    static std::string reason_key(const slot& s);

    rte_hash* h4_ = nullptr;
    rte_hash* h6_ = nullptr;
    std::unique_ptr<std::atomic<std::uint64_t>[]> slash24_; // 2^24 bits: a listed entry covers this /24
    std::vector<std::uint16_t> slash24_count_;              // writer side: entries covering each /24 (made on first use)

    std::string name_;
    // prefix lengths in use, as bits: [0] IPv4 0..32, [1..3] IPv6 0..128
    std::array<std::atomic<std::uint64_t>, 4> lengths_{};
    std::array<std::uint32_t, 33 + 129> length_count_{}; // writer side
    std::unordered_map<std::string, std::string> reasons_; // by reason_key; writer side
    mutable std::mutex write_; // control-plane writers only; readers never take it
};

// The block requests queued on `ring` (block_request elements, from the
// workers: limits.hpp), at most `max` of them, added to b as host entries
// with their TTL and their drop reason's name. Control plane, the ring's
// one consumer.
struct applied_blocks {
    std::uint64_t applied = 0, failed = 0; // failed: the blocklist was full
};
applied_blocks apply_block_requests(rte_ring* ring, blocklist& b, unsigned max);

// The event ring from the proxy (shield-block): `slots` block_request
// elements exactly, enqueued in RTS multi-producer mode (the producers are
// preemptible non-EAL threads: see shield.cpp), dequeued by one consumer.
// Null on failure (rte_errno says why).
rte_ring* make_event_ring(const std::string& name, unsigned slots);
// One request on an event ring: src blocked for ttl (0: until removed,
// clamped to 2^32-1 s) with `reason`. Never waits: false when the ring is
// full. Any thread.
bool post_block_request(rte_ring* ring, const ip_addr& src, std::chrono::seconds ttl, drop_reason reason) noexcept;

} // namespace bulwark::dataplane
