// SPDX-License-Identifier: Apache-2.0
#pragma once

// What parsing a frame yields: its verdict (a drop reason, or none) and the
// fields later stages read. Plain types: no DPDK, no allocation.

#include <array>
#include <cstdint>
#include <string_view>

namespace bulwark::dataplane {

// Why a frame is dropped by validation. Each has its rule, source and
// tests in dataplane/VALIDATION.md; the names are what counters and pcapng
// comments say.
enum class drop_reason : std::uint8_t {
    none = 0,
    eth_truncated,
    vlan_truncated,
    vlan_too_deep,
    ipv4_truncated,
    ipv4_bad_version,
    ipv4_bad_ihl,
    ipv4_bad_total_length,
    ipv4_bad_checksum,
    ipv4_martian_src,
    ipv4_land,
    ipv4_frag_oversize,
    ipv4_frag_too_small,
    ipv4_frag_overlap,
    ipv6_truncated,
    ipv6_bad_version,
    ipv6_bad_payload_length,
    ipv6_ext_overrun,
    ipv6_ext_too_many,
    ipv6_ext_bad_order,
    ipv6_rh0,
    ipv6_martian_src,
    ipv6_land,
    ipv6_frag_oversize,
    ipv6_frag_too_small,
    ipv6_frag_overlap,
    tcp_truncated,
    tcp_bad_offset,
    tcp_bad_flags,
    tcp_zero_port,
    udp_truncated,
    udp_bad_length,
    udp_zero_port,
    icmp_truncated,
    tcp_bad_checksum,
    udp_bad_checksum,
    icmp_bad_checksum,
    // past validation: the pipeline's own verdicts (dataplane/pipeline.cpp)
    blocklisted,       // the source is on the blocklist
    l7_block,          // the source is on the blocklist by a proxy 'shield-block' rule (issue #14)
    acl_deny,          // a 'deny' rule matched
    acl_default_deny,  // no rule matched and the default is deny
    // stateful mode's TCP tracking (dataplane/tcp_track.hpp)
    tcp_not_syn,           // no flow, and not a SYN (outside the pickup window)
    tcp_bad_transition,    // flags the flow's state cannot take
    tcp_out_of_window,     // sequence or acknowledgement outside the window
    tcp_rst_out_of_window, // a blind RST (RFC 5961 §3)
    tcp_syn_in_window,     // a blind SYN on a synchronized flow (RFC 5961 §4)
    flows_full,            // a new flow, the lcore's flow table full with nothing to evict
    // stateful mode's UDP pseudo-flows: an "answer" from outside that no request from inside asked for
    udp_dns_no_query,      // from port 53
    udp_ntp_reflection,    // from port 123
    udp_ssdp_reflection,   // from port 1900
    udp_memcached_reflection, // from port 11211
    udp_chargen_reflection,   // from port 19
    // fragment trains (dataplane/frag_table.hpp), both modes
    frag_no_first,         // a later fragment of no train: its first fragment was never seen
    frag_table_full,       // a first fragment to forward whose train the full table cannot record
    frag_overlap_train,    // a fragment overlapping bytes its train already carried (RFC 5722, RFC 1858)
    // stateful mode's ICMP (dataplane/icmp_track.hpp)
    icmp_reply_no_request, // an echo reply no echo request asked for
    icmp_error_no_flow,    // an ICMP error whose quoted header names no tracked flow
    synproxy_unfit,    // the SYN guard cannot rewrite the segment (in several buffers, or no room)
    tcp_martian_dst,   // a SYN the guard would answer from an address no host has (RFC 1122 §4.2.3.10)
    // per-source limits (dataplane/source_table.hpp): a source from outside over its rate
    limit_pps,             // 'limit src pps N burst M'
    limit_new_flows,       // 'limit src new-flows N/s' (mode stateful)
    limit_concurrent_flows, // 'limit src concurrent-flows N' (mode stateful)
    tx_full,           // the TX queue (the other port's; for a reply, its own) took no more of the burst
    punt_full,         // the punt ring took no more of the burst (or there is none)
    host_not_punted,   // from outside to the host port's address, matching no punt rule (nor ARP, ND)
    count_ // not a reason: the number of them
};

inline constexpr std::size_t drop_reason_count = static_cast<std::size_t>(drop_reason::count_);

// "ipv4_bad_checksum": the reason as counters and logs name it.
std::string_view reason_name(drop_reason r);

enum class l3_kind : std::uint8_t { other, ipv4, ipv6 };

// The fields of a frame that passed validation (partly filled when it did
// not: up to where the parse stopped).
struct parsed_frame {
    std::uint16_t ethertype = 0;       // after any VLAN tags
    std::uint8_t vlan_tags = 0;
    l3_kind l3 = l3_kind::other;
    std::uint16_t l3_offset = 0;       // bytes from the frame's start
    std::array<std::uint8_t, 16> src{}, dst{}; // IPv4 in the first 4 bytes
    std::uint8_t proto = 0;            // upper-layer protocol (after IPv6 extension headers)
    bool fragment = false;             // part of a fragmented datagram
    bool later_fragment = false;       // a fragment with a non-zero offset: no L4 header in it
    std::uint16_t l4_offset = 0;       // bytes from the frame's start; 0 when there is no L4 header
    std::uint16_t l4_length = 0;       // bytes of L4 header and payload in this frame
    std::uint16_t sport = 0, dport = 0;
    std::uint8_t tcp_flags = 0;
    std::int8_t tcp_wscale = -1;       // a SYN's window scale option, -1 when absent
    std::uint16_t tcp_window = 0;      // as on the wire
    std::uint32_t tcp_seq = 0, tcp_ack = 0;
    std::uint16_t tcp_payload = 0;     // bytes after the TCP header in this frame
    // fragments (fragment true): a train is (src, dst, proto, id) for IPv4, (src, dst, id) for IPv6
    std::uint32_t frag_id = 0;         // IPv4 identification, or the IPv6 fragment header's 32-bit id
    std::uint16_t frag_offset = 0;     // bytes
    std::uint16_t frag_length = 0;     // bytes of the fragmentable part in this frame
    bool frag_more = false;            // MF: more fragments follow
    std::uint8_t icmp_type = 0, icmp_code = 0; // ICMP and ICMPv6 (not in later fragments)
    std::uint16_t icmp_id = 0;         // an echo request's or reply's identifier

    bool operator==(const parsed_frame&) const = default;
};

} // namespace bulwark::dataplane
