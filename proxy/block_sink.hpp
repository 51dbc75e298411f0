// SPDX-License-Identifier: Apache-2.0
#pragma once

// The proxy's side of the event ring to the packet layer (DESIGN.md
// section 1, issue #14): a `shield-block` rule asks for its connection's
// source to be dropped at the packet layer for a time. The proxy never
// includes dataplane/: the control plane, when it runs a shield too, gives
// the proxy a block_sink that posts to the shield's ring.

#include "common/units.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace bulwark::proxy {

class block_sink {
public:
    virtual ~block_sink() = default;
    // Asks for `src` to be blocked for `ttl`. Any proxy thread; never
    // blocks nor waits: false when the event could not be queued (the
    // ring is full: the sink counts it).
    virtual bool post(const ip_addr& src, std::chrono::seconds ttl) noexcept = 0;
};

// Where a runtime's shield-block rules post, with their counters (relaxed
// atomics: a rule that fires is rare next to the requests it refuses).
struct shield_link {
    // Set by the control plane before the proxy's threads run, when a
    // shield runs; null: the proxy runs alone.
    std::atomic<block_sink*> sink{nullptr};
    std::atomic<std::uint64_t> posted{0};     // queued for the packet layer
    std::atomic<std::uint64_t> refused{0};    // the sink's ring was full
    std::atomic<std::uint64_t> no_shield{0};  // no shield runs: the rule only denied/rejected
    std::atomic<std::uint64_t> no_source{0};  // the connection has no IP source (unix socket)

    // One shield-block event for src; counted in exactly one counter.
    void block(const std::optional<ip_addr>& src, std::chrono::seconds ttl) noexcept
    {
        if (!src) {
            no_source.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        block_sink* s = sink.load(std::memory_order_acquire);
        if (!s)
            no_shield.fetch_add(1, std::memory_order_relaxed);
        else if (s->post(*src, ttl))
            posted.fetch_add(1, std::memory_order_relaxed);
        else
            refused.fetch_add(1, std::memory_order_relaxed);
    }
};

} // namespace bulwark::proxy
