// SPDX-License-Identifier: Apache-2.0
#pragma once

// The source blocklist: `block src CIDR` from the config plus entries with a
// time to live added at run time (the runtime API that exposes this is a
// later issue; this is its C++ interface).
//
// One lock-free rte_hash (RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF) keyed by
// (family, prefix length, masked address): the control plane is its one
// writer, the worker lcores read it with no lock, and the key slots of
// deleted entries are reclaimed only after every worker has passed a
// quiescent state (rte_hash_rcu_qsbr_add on the workers' rte_rcu_qsbr). A
// lookup probes once per prefix length in use (hosts only: one bulk probe
// per burst). Each entry holds its expiry; readers check it, so an entry
// stops blocking when its TTL ends, before expire() removes it.
//
// Why not rte_lpm/rte_lpm6: each costs a 64 MB tbl24 whatever it holds,
// and the lab runs in 512 MB; a blocklist holds few prefix lengths.

#include "controlplane/result.hpp"
#include "controlplane/units.hpp"
#include "dataplane/packet_types.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

struct rte_hash;
struct rte_rcu_qsbr;

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
    // Adds or refreshes entries; ttl 0: until removed. Control plane (any
    // thread; writers are serialised inside). Fails when the table is full;
    // what was added before stays.
    result<bool> add(std::span<const controlplane::cidr> nets, seconds ttl = seconds{0});
    result<bool> add(const controlplane::cidr& net, seconds ttl = seconds{0}) { return add(std::span(&net, 1), ttl); }
    bool remove(const controlplane::cidr& net);
    // Removes the entries whose TTL has passed by `now` (rte_rdtsc(); 0:
    // the current time); returns how many.
    std::size_t expire(std::uint64_t now = 0);
    std::size_t size() const;

    // Fast path: blocked[i] = the source of frames[i] is listed (non-IP
    // frames never are). n <= 64; `now` is rte_rdtsc().
    void lookup(const parsed_frame* const* frames, unsigned n, std::uint64_t now, bool* blocked) const noexcept;

    // One address, for tests and the control plane: is it blocked now?
    bool blocked(const controlplane::ip_addr& src) const;

    struct key {
        std::uint8_t len;   // prefix length
        std::uint8_t v6;    // 0: IPv4, 1: IPv6
        std::uint8_t pad[2];
        std::array<std::uint8_t, 16> addr; // host bits cleared
    };

private:
    blocklist() = default;
    std::uint64_t expiry_of(seconds ttl) const;
    void count_length(bool v6, unsigned len, int delta);

    rte_hash* h_ = nullptr;
    std::string name_;
    // prefix lengths in use, as bits: [0] IPv4 0..32, [1..3] IPv6 0..128
    std::array<std::atomic<std::uint64_t>, 4> lengths_{};
    std::array<std::uint32_t, 33 + 129> length_count_{}; // writer side
    mutable std::mutex write_; // control-plane writers only; readers never take it
};

} // namespace bulwark::dataplane
