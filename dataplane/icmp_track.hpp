// SPDX-License-Identifier: Apache-2.0
#pragma once

// ICMP in mode stateful (issue #13), as netfilter's conntrack does it
// (nf_conntrack_proto_icmp.c, nf_conntrack_proto_icmpv6.c): echo requests
// open pseudo-flows keyed by (src, dst, identifier), 30 s; an echo reply
// must answer one. An error (destination unreachable, packet too big, time
// exceeded, parameter problem; IPv4's source quench and redirect too)
// passes only when the header it quotes names a tracked flow and was sent
// by the error's destination. Every other type passes untracked (neighbour
// and router discovery, MLD: a bridge must carry them). Pure: no DPDK; the
// flow-table side is track_icmp (dataplane/icmp_flows.cpp).

#include "dataplane/flow_key.hpp"
#include "dataplane/pipeline_types.hpp"

#include <cstdint>
#include <span>

namespace bulwark::dataplane {

class flow_table;

// Seconds an echo pseudo-flow lives (netfilter's nf_conntrack_icmp_timeout).
inline constexpr std::uint32_t icmp_timeout = 30;

enum class icmp_kind : std::uint8_t { echo_request, echo_reply, error, other };

// The kind of a parsed ICMP or ICMPv6 message (not a later fragment).
icmp_kind classify_icmp(const parsed_frame& f) noexcept;

// An echo's flow key: both endpoints with the identifier for ports.
keyed echo_key(const parsed_frame& f) noexcept;

// The flow an ICMP error quotes (the IP header and at least 8 bytes of L4
// after the error's 8-byte header; RFC 792, RFC 1812 §4.3.2.3, RFC 4443
// §2.4), read from the frame's bytes with every length bounded. False when
// they name none: truncated, a later fragment, not TCP, UDP or an echo
// request, a version other than the error's, or a quoted source other than
// the error's destination (the error goes back to the sender).
bool quoted_flow(std::span<const std::byte> frame, const parsed_frame& f, keyed& out) noexcept;

// One ICMP message through the lcore's flows (`pos`: the entry of `k`, or -1).
drop_reason track_icmp(flow_table& ft, icmp_kind kind, const keyed& k, std::int32_t pos, std::uint32_t now,
                       bool pickup) noexcept;

} // namespace bulwark::dataplane
