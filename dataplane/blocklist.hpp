// SPDX-License-Identifier: Apache-2.0
#pragma once

// The source blocklist: `block src CIDR` from the config plus entries with a
// time to live added at run time (the runtime API that exposes this is a
// later issue; this is its C++ interface).
//
// Host entries (/32, /128) live in lock-free rte_hash tables (one writer:
// the control plane; readers: the worker lcores, no lock), whose freed key
// slots are reclaimed through rte_rcu_qsbr. Shorter prefixes live in
// rte_lpm/rte_lpm6 tables that are rebuilt whole on a change and swapped by
// pointer: the old snapshot is freed once every worker has passed a
// quiescent state. An entry's expiry is checked by the readers too, so an
// entry stops blocking when its TTL ends, before expire() removes it.

#include "controlplane/result.hpp"
#include "controlplane/units.hpp"
#include "dataplane/packet_types.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

struct rte_hash;
struct rte_rcu_qsbr;

namespace bulwark::dataplane {

class blocklist {
public:
    // Room for `hosts` host entries per family (configured and added at run
    // time). `qs` is the workers' quiescent-state variable (may have no
    // reader registered, as in tests and the benchmark).
    static result<std::unique_ptr<blocklist>> create(const std::string& name, std::size_t hosts, rte_rcu_qsbr* qs);
    ~blocklist();
    blocklist(const blocklist&) = delete;
    blocklist& operator=(const blocklist&) = delete;

    using seconds = std::chrono::seconds;
    // Adds or refreshes entries; ttl 0: until removed. Control plane only
    // (serialised inside). Fails when the host tables are full.
    result<bool> add(std::span<const controlplane::cidr> nets, seconds ttl = seconds{0});
    result<bool> add(const controlplane::cidr& net, seconds ttl = seconds{0}) { return add(std::span(&net, 1), ttl); }
    bool remove(const controlplane::cidr& net);
    // Removes the entries whose TTL has passed; returns how many.
    std::size_t expire();
    std::size_t size() const;

    // Fast path: blocked[i] = the source of frames[i] is listed (non-IP
    // frames never are). n <= 64; `now` is rte_rdtsc().
    void lookup(const parsed_frame* const* frames, unsigned n, std::uint64_t now, bool* blocked) const noexcept;

    // One frame, for tests: is this source blocked now?
    bool blocked(const controlplane::ip_addr& src) const;

private:
    struct prefixes; // the rte_lpm/rte_lpm6 snapshot
    blocklist() = default;
    result<bool> rebuild_prefixes();
    std::uint64_t expiry_of(seconds ttl) const;

    rte_hash* h4_ = nullptr;
    rte_hash* h6_ = nullptr;
    std::atomic<prefixes*> prefixes_{nullptr};
    rte_rcu_qsbr* qs_ = nullptr;
    std::string name_;
    unsigned generation_ = 0;
    mutable std::mutex write_; // control-plane writers only; readers never take it
    struct prefix_entry {
        controlplane::cidr net;
        std::uint64_t expiry; // TSC; 0: never
    };
    std::vector<prefix_entry> prefix_entries_;
};

} // namespace bulwark::dataplane
