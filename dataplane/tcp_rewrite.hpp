// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the SYN guard writes into frames (issue #13): a whole segment built
// over a frame it received (the SYN-ACK that answers a SYN with a cookie,
// the SYN that opens the server side, the ACK that completes it), and the
// in-place translation of a proxied flow's sequence numbers, SACK blocks,
// timestamps and window. Pure: byte spans, no DPDK, no allocation; every
// offset is checked against the span.

#include <cstddef>
#include <cstdint>
#include <span>

namespace bulwark::dataplane::tcp {

// A segment's TCP options, as far as the guard needs them.
struct options {
    std::uint16_t mss = 0;   // 0: none
    std::int8_t wscale = -1; // -1: none (values above 14 read as 14, RFC 7323 §2.3)
    bool sack_perm = false;
    bool ts = false;
    std::uint32_t tsval = 0, tsecr = 0;
};
// `header`: the TCP header with its options (data offset × 4 bytes). A
// malformed option list ends the walk; what was read before stands.
options read_options(std::span<const std::byte> header) noexcept;

struct new_segment {
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    options opt; // each option written when set (mss != 0, wscale >= 0, sack_perm, ts)
};

// The frame's IP header, as write_segment reads it before writing.
struct frame_at {
    std::size_t l3 = 0;       // the IP header's offset
    bool v6 = false;
    std::uint16_t sport = 0, dport = 0; // the received segment's ports
};

// Writes over `frame` (its Ethernet header and any VLAN tags kept) an IP
// header with no options or extension headers and a segment with no
// payload, from the received frame's addresses and ports; `reverse`
// swaps MACs, addresses and ports (an answer to the sender). Returns the
// frame's new length, or 0 when `frame` has no room for it (frame is then
// unchanged).
std::size_t write_segment(std::span<std::byte> frame, const frame_at& at, bool reverse, const new_segment& s) noexcept;

// A proxied flow's translation, applied in place to one segment. All
// additions are modulo 2^32.
struct shift {
    std::uint32_t seq = 0;         // added to the sequence number
    std::uint32_t ack = 0;         // added to the acknowledgement number (if ACK) and SACK blocks' edges
    std::uint32_t tsval = 0, tsecr = 0; // added to the timestamp option's fields
    std::int8_t window = 0;        // the window shifted left (> 0) or right (< 0), at most 65535
};
// `tcp`: the segment's TCP header with its options. The checksum is
// updated incrementally (RFC 1624): the payload is not read.
void translate(std::span<std::byte> tcp, const shift& s) noexcept;

} // namespace bulwark::dataplane::tcp
