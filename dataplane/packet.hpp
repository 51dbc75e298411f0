// SPDX-License-Identifier: Apache-2.0
#pragma once

// Parse and validate one Ethernet frame on a plain byte span: what the
// worker lcores run on every packet, and what the unit tests and the fuzzer
// feed directly (no EAL). Reads only inside the span; allocates nothing;
// any bytes are fine.

#include "dataplane/packet_types.hpp"

#include <cstddef>
#include <span>

namespace bulwark::dataplane {

struct parse_options {
    // Verify TCP, UDP and ICMP checksums (of unfragmented datagrams). The
    // DPDK layer turns it off for a frame whose NIC already checked it.
    bool l4_checksum = true;
};

// Fills `out` and returns drop_reason::none for a frame to pass on, or the
// reason to drop it. Non-IP frames (ARP, LLDP, ...) pass with l3 other.
// Any thread; noexcept.
drop_reason parse_frame(std::span<const std::byte> frame, parsed_frame& out, parse_options opt = {}) noexcept;

// The Internet checksum (RFC 1071) of `data`, folded, not complemented
// over a zero sum: 0 means the data (checksum field included) is valid.
std::uint16_t internet_checksum(std::span<const std::byte> data) noexcept;

// The pieces of it, for writers of headers (dataplane/tcp_rewrite.cpp):
// `data` added to a running ones' complement sum in memory order (so a
// folded, complemented sum is stored as it is, with memcpy), and the fold.
std::uint64_t checksum_add(std::span<const std::byte> data, std::uint64_t acc) noexcept;
std::uint16_t checksum_fold(std::uint64_t acc) noexcept;

} // namespace bulwark::dataplane
