// SPDX-License-Identifier: Apache-2.0
#include "dataplane/mac_table.hpp"

#include <bit>

namespace bulwark::dataplane {

mac_table::mac_table(std::size_t slots)
    : mask_(std::bit_ceil(std::max<std::size_t>(slots, ways)) - 1),
      slots_(std::make_unique<std::atomic<std::uint64_t>[]>(mask_ + 1))
{
    for (std::size_t i = 0; i <= mask_; ++i)
        slots_[i].store(0, std::memory_order_relaxed);
}

std::size_t mac_table::bucket(std::uint64_t mac) const noexcept
{
    // Fibonacci hashing of the 48 bits: vendors share their first three bytes
    std::uint64_t h = mac * 0x9e3779b97f4a7c15ull;
    return static_cast<std::size_t>(h >> 32) & mask_ & ~std::size_t(ways - 1);
}

void mac_table::learn(const mac_addr& m, std::uint8_t port, std::uint32_t now, std::uint8_t held) noexcept
{
    if (is_group(m))
        return;
    const std::uint64_t mac = mac_bits(m);
    const std::size_t b = bucket(mac);
    std::size_t victim = b;
    std::uint32_t oldest = 0;
    for (std::size_t i = b; i < b + ways; ++i) {
        const std::uint64_t e = slots_[i].load(std::memory_order_relaxed);
        if ((e & 3) && e >> 16 == mac) {
            if ((e & 3) != port + 1u && (e & 3) == held + 1u && fresh(e, now))
                return; // held where it is
            if ((e & 3) != port + 1u || static_cast<std::uint32_t>(e >> 2 & 0x3fff) != (now & 0x3fff))
                slots_[i].store(pack(mac, port, now), std::memory_order_relaxed);
            return;
        }
        // an empty slot is the oldest of all; otherwise the least recently seen
        const std::uint32_t age = (e & 3) ? ((now - static_cast<std::uint32_t>(e >> 2)) & 0x3fff) + 1 : 0x10000;
        if (age > oldest) {
            oldest = age;
            victim = i;
        }
    }
    slots_[victim].store(pack(mac, port, now), std::memory_order_relaxed);
}

std::optional<std::uint8_t> mac_table::lookup(const mac_addr& m, std::uint32_t now) const noexcept
{
    if (is_group(m))
        return std::nullopt;
    const std::uint64_t mac = mac_bits(m);
    const std::size_t b = bucket(mac);
    for (std::size_t i = b; i < b + ways; ++i) {
        const std::uint64_t e = slots_[i].load(std::memory_order_relaxed);
        if ((e & 3) && e >> 16 == mac)
            return fresh(e, now) ? std::optional<std::uint8_t>((e & 3) - 1) : std::nullopt;
    }
    return std::nullopt;
}

std::size_t mac_table::size(std::uint32_t now) const noexcept
{
    std::size_t n = 0;
    for (std::size_t i = 0; i <= mask_; ++i)
        n += fresh(slots_[i].load(std::memory_order_relaxed), now);
    return n;
}

} // namespace bulwark::dataplane
