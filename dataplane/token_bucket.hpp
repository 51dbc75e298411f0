// SPDX-License-Identifier: Apache-2.0
#pragma once

// An integer token bucket on a cycle clock (the TSC), for the per-source
// limits (issue #13): no floating point, no division on the fast path,
// exact over any interval. Pure: no DPDK, tested without EAL.
//
// The level is kept in tokens times the clock's rate (hz), so a refill of
// dt ticks adds dt * rate exactly, with no remainder lost between calls.
// A refill of more than `full_after` ticks fills the bucket without the
// multiplication, so dt * rate never overflows: depth * hz is at most
// 1e9 * 1e10 (the config caps rates and depths at 1e9), under 2^64.

#include <algorithm>
#include <cstdint>

namespace bulwark::dataplane {

struct bucket_rate {
    std::uint64_t per_second = 0; // tokens added per second; 0: no limit
    std::uint64_t depth = 0;      // tokens the bucket holds (the burst)
    std::uint64_t hz = 1;         // clock ticks per second
    std::uint64_t cap = 0;        // depth * hz
    std::uint64_t full_after = 0; // ticks from empty to full: ceil(cap / per_second)

    static constexpr bucket_rate make(std::uint64_t per_second, std::uint64_t depth, std::uint64_t hz) noexcept
    {
        bucket_rate r;
        r.per_second = per_second;
        r.depth = depth;
        r.hz = hz ? hz : 1;
        r.cap = depth * r.hz;
        r.full_after = per_second ? (r.cap + per_second - 1) / per_second : 0;
        return r;
    }
    constexpr bool on() const noexcept { return per_second != 0; }
};

struct token_bucket {
    std::uint64_t level = 0; // tokens * hz
    std::uint64_t last = 0;  // the clock at the last refill

    // A new bucket: full at `now`.
    constexpr void reset(const bucket_rate& r, std::uint64_t now) noexcept
    {
        level = r.cap;
        last = now;
    }
    constexpr void refill(const bucket_rate& r, std::uint64_t now) noexcept
    {
        const std::uint64_t dt = now > last ? now - last : 0; // a clock read on another core may be behind
        last = std::max(last, now);
        level = dt >= r.full_after ? r.cap : std::min(r.cap, level + dt * r.per_second);
    }
    // Takes one token at `now`; false (and nothing taken) when there is
    // none. A bucket of a rate that is off always gives one.
    constexpr bool take(const bucket_rate& r, std::uint64_t now) noexcept
    {
        if (!r.on())
            return true;
        refill(r, now);
        if (level < r.hz)
            return false;
        level -= r.hz;
        return true;
    }
    // Full at `now`: it remembers nothing a fresh bucket would not.
    constexpr bool full(const bucket_rate& r, std::uint64_t now) const noexcept
    {
        // (the product only when dt < full_after: it cannot overflow)
        return !r.on() || level >= r.cap ||
               (now > last && (now - last >= r.full_after || level + (now - last) * r.per_second >= r.cap));
    }
};

} // namespace bulwark::dataplane
