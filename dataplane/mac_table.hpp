// SPDX-License-Identifier: Apache-2.0
#pragma once

// The host port's MAC-learning table (DESIGN.md section 1): which bridged
// port each station's MAC address was last seen on, so that what the local
// kernel sends on the host port goes to the one port that leads to its
// destination, as a Linux bridge's forwarding database does for its own
// port. Plain memory, no DPDK, no lock: each slot is one 64-bit atomic
// word (the MAC, the port, the second it was last seen), so a worker lcore
// learning and the host port's lcore looking up never tear an entry; two
// lcores learning the same station race harmlessly (the last store wins).
//
// Fixed size, set at setup; four slots per bucket. A full bucket replaces
// its oldest entry; an entry not refreshed for `max_age` seconds (Linux's
// bridge ageing time, 300 s by default) is not found. A station that moves
// port is found on the new one from its first frame there.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace bulwark::dataplane {

using mac_addr = std::array<std::uint8_t, 6>;

// Group (broadcast, multicast) addresses have the I/G bit of the first
// byte set: never learned, always flooded.
inline constexpr bool is_group(const mac_addr& m) noexcept { return m[0] & 1; }

class mac_table {
public:
    static constexpr unsigned ways = 4;
    static constexpr std::uint32_t max_age = 300; // seconds

    // `slots` rounded up to a power of two, at least one bucket.
    explicit mac_table(std::size_t slots);

    // Records that `m` was seen on port `port` (0..2) at second `now`.
    // Group addresses are ignored. Stores only when the entry changes or
    // is a second old, so a steady stream keeps its cache line shared.
    // A station learned on `held` and seen there within max_age is not
    // moved: the bridge learns the outside's frames with the inside held,
    // so a frame spoofing a server's MAC from outside cannot draw the
    // host's traffic to that server out of the outside port.
    void learn(const mac_addr& m, std::uint8_t port, std::uint32_t now, std::uint8_t held = no_port) noexcept;
    static constexpr std::uint8_t no_port = 0xff;
    // The port `m` was last seen on, if it was within max_age of `now`.
    std::optional<std::uint8_t> lookup(const mac_addr& m, std::uint32_t now) const noexcept;

    std::size_t capacity() const noexcept { return mask_ + 1; }
    // Entries within max_age of `now` (a walk of the table: not for the fast path).
    std::size_t size(std::uint32_t now) const noexcept;

private:
    // bits 63..16: the MAC; 15..2: the second, mod 2^14; 1..0: port + 1 (0: empty)
    static std::uint64_t pack(std::uint64_t mac, std::uint8_t port, std::uint32_t now) noexcept
    {
        return mac << 16 | (std::uint64_t(now) & 0x3fff) << 2 | (port + 1u);
    }
    static bool fresh(std::uint64_t e, std::uint32_t now) noexcept
    {
        return (e & 3) && ((now - static_cast<std::uint32_t>(e >> 2)) & 0x3fff) <= max_age;
    }
    std::size_t bucket(std::uint64_t mac) const noexcept;

    std::size_t mask_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;
};

// The 48 bits of a MAC address as a number (the first byte highest).
inline std::uint64_t mac_bits(const mac_addr& m) noexcept
{
    std::uint64_t v = 0;
    for (auto b : m)
        v = v << 8 | b;
    return v;
}

} // namespace bulwark::dataplane
