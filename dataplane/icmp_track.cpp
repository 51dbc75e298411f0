// SPDX-License-Identifier: Apache-2.0
#include "dataplane/icmp_track.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark::dataplane {

namespace {

constexpr std::uint8_t ip_icmp = 1, ip_tcp = 6, ip_udp = 17, ip_icmpv6 = 58;
constexpr unsigned max_quoted_ext = 8; // as the parser's bound on extension headers

std::uint8_t u8(std::span<const std::byte> s, std::size_t at) { return static_cast<std::uint8_t>(s[at]); }
std::uint16_t be16(std::span<const std::byte> s, std::size_t at)
{
    return static_cast<std::uint16_t>(u8(s, at) << 8 | u8(s, at + 1));
}

bool echo_type(std::uint8_t proto, std::uint8_t type) noexcept
{
    return proto == ip_icmp ? (type == 8 || type == 0) : (type == 128 || type == 129);
}

// The quoted L4 header at q[at, end): its ports, or an echo's identifier
// in both. At least 8 bytes of it are quoted (RFC 792, RFC 4443).
bool quoted_ports(std::span<const std::byte> q, std::size_t at, std::size_t end, parsed_frame& inner) noexcept
{
    if (end < at || end - at < 8)
        return false;
    switch (inner.proto) {
    case ip_tcp:
    case ip_udp:
        inner.sport = be16(q, at);
        inner.dport = be16(q, at + 2);
        return true;
    case ip_icmp:
    case ip_icmpv6:
        if (!echo_type(inner.proto, u8(q, at)))
            return false; // an error about an error, or untracked types: no flow
        inner.sport = inner.dport = be16(q, at + 4);
        return true;
    default:
        return false;
    }
}

bool quoted_v4(std::span<const std::byte> q, parsed_frame& inner) noexcept
{
    if (q.size() < 20 || u8(q, 0) >> 4 != 4)
        return false;
    const std::size_t ihl = (u8(q, 0) & 0x0f) * 4u;
    if (ihl < 20 || ihl > q.size())
        return false;
    if ((be16(q, 6) & 0x1fff) != 0)
        return false; // a later fragment quoted: no ports in it
    inner.l3 = l3_kind::ipv4;
    inner.proto = u8(q, 9);
    std::memcpy(inner.src.data(), &q[12], 4);
    std::memcpy(inner.dst.data(), &q[16], 4);
    return quoted_ports(q, ihl, q.size(), inner);
}

bool quoted_v6(std::span<const std::byte> q, parsed_frame& inner) noexcept
{
    if (q.size() < 40 || u8(q, 0) >> 4 != 6)
        return false;
    inner.l3 = l3_kind::ipv6;
    std::memcpy(inner.src.data(), &q[8], 16);
    std::memcpy(inner.dst.data(), &q[24], 16);
    std::uint8_t nh = u8(q, 6);
    std::size_t at = 40;
    for (unsigned n = 0; n <= max_quoted_ext; ++n) {
        if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
            break;
        if (n == max_quoted_ext || q.size() - at < 8)
            return false;
        const std::size_t len = nh == 44 ? 8 : nh == 51 ? (u8(q, at + 1) + 2u) * 4 : (u8(q, at + 1) + 1u) * 8;
        if (len > q.size() - at)
            return false;
        if (nh == 44 && (be16(q, at + 2) & 0xfff8u) != 0)
            return false; // a later fragment quoted
        nh = u8(q, at);
        at += len;
    }
    inner.proto = nh;
    return quoted_ports(q, at, q.size(), inner);
}

} // namespace

icmp_kind classify_icmp(const parsed_frame& f) noexcept
{
    const std::uint8_t t = f.icmp_type;
    if (f.proto == ip_icmp) {
        switch (t) {
        case 8: return icmp_kind::echo_request;
        case 0: return icmp_kind::echo_reply;
        case 3:  // destination unreachable (fragmentation needed: path MTU discovery, RFC 1191)
        case 4:  // source quench (deprecated, RFC 6633; netfilter still counts it an error)
        case 5:  // redirect
        case 11: // time exceeded
        case 12: // parameter problem
            return icmp_kind::error;
        default: return icmp_kind::other;
        }
    }
    if (t == 128)
        return icmp_kind::echo_request;
    if (t == 129)
        return icmp_kind::echo_reply;
    // RFC 4443 §2.1: 1 unreachable, 2 packet too big, 3 time exceeded, 4 parameter problem
    return t >= 1 && t <= 4 ? icmp_kind::error : icmp_kind::other;
}

keyed echo_key(const parsed_frame& f) noexcept
{
    parsed_frame e;
    e.l3 = f.l3;
    e.proto = f.proto;
    e.src = f.src;
    e.dst = f.dst;
    e.sport = e.dport = f.icmp_id;
    return make_flow_key(e);
}

bool quoted_flow(std::span<const std::byte> frame, const parsed_frame& f, keyed& out) noexcept
{
    const std::size_t at = std::size_t(f.l4_offset) + 8;
    if (f.l4_offset == 0 || f.l4_length < 8 || at > frame.size())
        return false;
    const std::size_t len = std::min<std::size_t>(f.l4_length - 8u, frame.size() - at);
    const std::span<const std::byte> q = frame.subspan(at, len);
    parsed_frame inner;
    if (!(f.l3 == l3_kind::ipv4 ? quoted_v4(q, inner) : quoted_v6(q, inner)))
        return false;
    // the error goes back to whoever sent the quoted packet (netfilter's
    // nf_conntrack_inet_error checks the same)
    const std::size_t alen = f.l3 == l3_kind::ipv4 ? 4 : 16;
    if (std::memcmp(inner.src.data(), f.dst.data(), alen) != 0)
        return false;
    out = make_flow_key(inner);
    return true;
}

} // namespace bulwark::dataplane
