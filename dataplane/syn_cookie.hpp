// SPDX-License-Identifier: Apache-2.0
#pragma once

// SYN cookies for the SYN guard (issue #13): the initial sequence number
// the appliance answers a SYN with, so that it keeps no state until the
// client's ACK proves it saw the answer. Pure: no DPDK, no clock (the
// caller passes the time), no allocation.
//
// A cookie is 32 bits, as in Linux's and netfilter's SYNPROXY:
//
//     31..26  the period it was made in (seconds / 64, modulo 64)
//     25..24  the MSS the client offered, as an index into mss_table
//     23..0   a MAC: SipHash-2-4 over the four-tuple, the client's ISN
//             and the MSS index, under the period's key
//
// Each period has its own key, derived from a random master key with
// SipHash, so the keys rotate every 64 s on their own and a cookie is
// accepted only in its period and the next one (64 to 128 s). Forging
// one without the key is a 2^-24 guess per ACK.
//
// What 32 bits cannot carry (the client's window scale and SACK
// permission) rides in the low bits of the SYN-ACK's timestamp, which the
// client echoes in every ACK (netfilter's layout). A client that sends no
// timestamps gets a SYN-ACK with the MSS alone, and its flow runs without
// window scaling and SACK.

#include <array>
#include <cstdint>
#include <span>

namespace bulwark::dataplane::syn {

struct sipkey {
    std::uint64_t k0 = 0, k1 = 0;
};

// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012), as its reference implementation computes it (little-endian).
std::uint64_t siphash24(const sipkey& k, std::span<const std::uint8_t> data) noexcept;

// The four MSS values a cookie can say, as Linux's IPv4 table; a client's
// MSS is rounded down to one of them (below 536: 536, RFC 879's default).
inline constexpr std::array<std::uint16_t, 4> mss_table{536, 1300, 1440, 1460};
unsigned mss_index(std::uint16_t mss) noexcept;

// The client's side of a handshake as the SYN and its ACK both carry it.
struct endpoints {
    std::array<std::uint8_t, 16> src{}, dst{}; // IPv4 in the first 4 bytes
    std::uint16_t sport = 0, dport = 0;
};

inline constexpr std::uint32_t period_seconds = 64;

class cookie_jar {
public:
    explicit cookie_jar(const sipkey& master) noexcept : master_(master) {}

    // The cookie for a SYN with initial sequence `isn` offering `mss`, at
    // `now` (seconds on any clock that the check uses too).
    std::uint32_t make(const endpoints& e, std::uint32_t isn, std::uint16_t mss, std::uint32_t now) noexcept;
    // The MSS a cookie carries when it is one this jar made for e and isn in
    // this period or the last; 0 when it is forged or too old.
    std::uint16_t check(const endpoints& e, std::uint32_t isn, std::uint32_t cookie, std::uint32_t now) noexcept;

private:
    const sipkey& key_of(std::uint32_t period) noexcept;
    std::uint32_t mac(const endpoints& e, std::uint32_t isn, unsigned mss_idx, std::uint32_t period) noexcept;

    sipkey master_;
    // the last two periods' keys: derived once per period, not per SYN
    std::array<std::uint32_t, 2> period_{~0u, ~0u};
    std::array<sipkey, 2> keys_{};
};

// The options a cookie cannot carry, in the low 6 bits of the SYN-ACK's
// TSval: bits 0..3 the client's window scale (15: none), bit 4 SACK
// permitted. `clock` gives the rest (it should grow, as a TSval does).
struct ts_options {
    std::int8_t wscale = -1; // -1: the client offered none
    bool sack = false;
};
std::uint32_t ts_encode(std::uint32_t clock, ts_options o) noexcept;
ts_options ts_decode(std::uint32_t tsecr) noexcept;

} // namespace bulwark::dataplane::syn
