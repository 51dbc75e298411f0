// SPDX-License-Identifier: Apache-2.0
// Frame validation: every rule here is listed, with its source, in
// dataplane/VALIDATION.md, and tested both ways in
// tests/dataplane/packet_test.cpp.
#include "dataplane/packet.hpp"

#include <algorithm>
#include <cstring>

namespace bulwark::dataplane {

namespace {

constexpr std::string_view reason_names[] = {
    "none",
    "eth_truncated",
    "vlan_truncated",
    "vlan_too_deep",
    "ipv4_truncated",
    "ipv4_bad_version",
    "ipv4_bad_ihl",
    "ipv4_bad_total_length",
    "ipv4_bad_checksum",
    "ipv4_martian_src",
    "ipv4_land",
    "ipv4_frag_oversize",
    "ipv4_frag_too_small",
    "ipv4_frag_overlap",
    "ipv6_truncated",
    "ipv6_bad_version",
    "ipv6_bad_payload_length",
    "ipv6_ext_overrun",
    "ipv6_ext_too_many",
    "ipv6_ext_bad_order",
    "ipv6_rh0",
    "ipv6_martian_src",
    "ipv6_land",
    "ipv6_frag_oversize",
    "ipv6_frag_too_small",
    "ipv6_frag_overlap",
    "tcp_truncated",
    "tcp_bad_offset",
    "tcp_bad_flags",
    "tcp_zero_port",
    "udp_truncated",
    "udp_bad_length",
    "udp_zero_port",
    "icmp_truncated",
    "tcp_bad_checksum",
    "udp_bad_checksum",
    "icmp_bad_checksum",
    "blocklisted",
    "l7_block",
    "acl_deny",
    "acl_default_deny",
    "tcp_not_syn",
    "tcp_bad_transition",
    "tcp_out_of_window",
    "tcp_rst_out_of_window",
    "tcp_syn_in_window",
    "flows_full",
    "udp_dns_no_query",
    "udp_ntp_reflection",
    "udp_ssdp_reflection",
    "udp_memcached_reflection",
    "udp_chargen_reflection",
    "frag_no_first",
    "frag_table_full",
    "frag_overlap_train",
    "icmp_reply_no_request",
    "icmp_error_no_flow",
    "synproxy_unfit",
    "tcp_martian_dst",
    "limit_pps",
    "limit_new_flows",
    "limit_concurrent_flows",
    "tx_full",
    "punt_full",
    "host_not_punted",
};
static_assert(std::size(reason_names) == drop_reason_count, "a name for every drop reason");

constexpr std::uint16_t eth_ipv4 = 0x0800, eth_ipv6 = 0x86dd, eth_vlan = 0x8100, eth_qinq = 0x88a8;
constexpr std::uint8_t ip_icmp = 1, ip_tcp = 6, ip_udp = 17, ip_icmpv6 = 58;
constexpr std::size_t max_vlan_tags = 2;       // 802.1ad: an outer and an inner tag
constexpr std::size_t max_ipv6_ext_headers = 8; // more is abuse, not a real stack

std::uint8_t u8(std::span<const std::byte> s, std::size_t at) { return static_cast<std::uint8_t>(s[at]); }
std::uint16_t be16(std::span<const std::byte> s, std::size_t at)
{
    return static_cast<std::uint16_t>(u8(s, at) << 8 | u8(s, at + 1));
}
std::uint32_t be32(std::span<const std::byte> s, std::size_t at)
{
    return std::uint32_t(be16(s, at)) << 16 | be16(s, at + 2);
}

// The ones' complement sum (RFC 1071) of `n` bytes, added to `acc`, taken
// 8 bytes at a time in memory order: the sum is byte-order independent
// until it is folded, and a valid message folds to 0xffff either way.
std::uint64_t sum_bytes(const std::byte* p, std::size_t n, std::uint64_t acc)
{
    while (n >= 8) {
        std::uint64_t x;
        std::memcpy(&x, p, 8);
        acc += (x & 0xffffffffu) + (x >> 32);
        p += 8;
        n -= 8;
    }
    // the tail in fixed-size loads (a variable-length memcpy is a call);
    // each piece starts at an even offset, so it adds as whole words, and
    // an odd last byte is the first byte of a zero-padded word (RFC 1071)
    if (n & 4) {
        std::uint32_t x;
        std::memcpy(&x, p, 4);
        acc += x;
        p += 4;
    }
    if (n & 2) {
        std::uint16_t x;
        std::memcpy(&x, p, 2);
        acc += x;
        p += 2;
    }
    if (n & 1) {
        std::uint16_t x = 0;
        std::memcpy(&x, p, 1);
        acc += x;
    }
    return acc;
}

std::uint16_t fold(std::uint64_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

// The upper-layer checksum of `len` bytes at `l4` is right: its sum with
// the pseudo-header (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1) folds to 0xffff.
bool l4_checksum_ok(std::span<const std::byte> f, std::size_t l4, std::size_t len, const parsed_frame& out,
                    bool pseudo_header)
{
    std::uint64_t acc = 0;
    if (pseudo_header) {
        // the pseudo-header's words added as they lie in memory: the
        // addresses as they are, then {0, proto} and the big-endian length
        const std::size_t alen = out.l3 == l3_kind::ipv4 ? 4 : 16;
        acc = sum_bytes(reinterpret_cast<const std::byte*>(out.src.data()), alen, 0);
        acc = sum_bytes(reinterpret_cast<const std::byte*>(out.dst.data()), alen, acc);
        const std::byte tail[4] = {std::byte(len >> 8), std::byte(len), std::byte{0}, std::byte{out.proto}};
        acc = sum_bytes(tail, 4, acc); // IPv6's 32-bit length and next header sum the same way
    }
    return fold(sum_bytes(f.data() + l4, len, acc)) == 0xffff;
}

// TCP flag bits (RFC 9293 §3.1).
// (PSH 0x08, ECE 0x40 and CWR 0x80 take no part in validity.)
constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, ack = 0x10, urg = 0x20;

// The flag combinations an honest stack sends, PSH, ECE and CWR aside: the
// table Linux's conntrack keeps (nf_conntrack_proto_tcp.c, tcp_valid_flags).
bool tcp_flags_valid(std::uint8_t flags)
{
    switch (flags & (fin | syn | rst | ack | urg)) {
    case syn:
    case syn | urg:
    case syn | ack:
    case rst:
    case rst | ack:
    case fin | ack:
    case fin | ack | urg:
    case ack:
    case ack | urg:
        return true;
    default:
        return false;
    }
}

// The window scale option (RFC 7323 §2.2) among a SYN's options in
// [at, end), or -1; a malformed option list ends the search.
std::int8_t window_scale(std::span<const std::byte> f, std::size_t at, std::size_t end)
{
    while (at < end) {
        const std::uint8_t kind = u8(f, at);
        if (kind == 0)
            break; // end of options
        if (kind == 1) {
            ++at; // no-operation
            continue;
        }
        if (at + 1 >= end)
            break;
        const std::size_t len = u8(f, at + 1);
        if (len < 2 || at + len > end)
            break;
        if (kind == 3 && len == 3)
            return static_cast<std::int8_t>(std::min<std::uint8_t>(u8(f, at + 2), 14));
        at += len;
    }
    return -1;
}

// The upper-layer header at `l4` (`len` bytes of it in this frame): its
// minimum size, ports and flags. Shared by IPv4 and IPv6.
drop_reason parse_l4(std::span<const std::byte> f, std::size_t l4, std::size_t len, parsed_frame& out,
                     const parse_options& opt)
{
    // a fragment's checksum covers the whole datagram: not checkable here
    const bool verify = opt.l4_checksum && !out.fragment;
    out.l4_offset = static_cast<std::uint16_t>(l4);
    out.l4_length = static_cast<std::uint16_t>(len);
    switch (out.proto) {
    case ip_tcp: {
        if (len < 20)
            return drop_reason::tcp_truncated;
        std::size_t data_offset = (u8(f, l4 + 12) >> 4) * 4u;
        if (data_offset < 20 || data_offset > len)
            return drop_reason::tcp_bad_offset;
        out.sport = be16(f, l4);
        out.dport = be16(f, l4 + 2);
        out.tcp_flags = u8(f, l4 + 13);
        if (out.sport == 0 || out.dport == 0)
            return drop_reason::tcp_zero_port;
        if (!tcp_flags_valid(out.tcp_flags))
            return drop_reason::tcp_bad_flags;
        // the fields first: a frame's fields do not depend on whether its checksum is checked
        out.tcp_seq = be32(f, l4 + 4);
        out.tcp_ack = be32(f, l4 + 8);
        out.tcp_window = be16(f, l4 + 14);
        out.tcp_payload = static_cast<std::uint16_t>(len - data_offset);
        if (out.tcp_flags & syn)
            out.tcp_wscale = window_scale(f, l4 + 20, l4 + data_offset);
        if (verify && !l4_checksum_ok(f, l4, len, out, true))
            return drop_reason::tcp_bad_checksum;
        return drop_reason::none;
    }
    case ip_udp: {
        if (len < 8)
            return drop_reason::udp_truncated;
        std::size_t udp_length = be16(f, l4 + 4);
        // Shorter than the IP payload is padding (Linux trims it); longer
        // claims bytes that are not there. A fragment's UDP length covers
        // the whole datagram, so it is only checked unfragmented.
        if (udp_length < 8 || (!out.fragment && udp_length > len))
            return drop_reason::udp_bad_length;
        out.sport = be16(f, l4);
        out.dport = be16(f, l4 + 2);
        if (out.sport == 0 || out.dport == 0)
            return drop_reason::udp_zero_port;
        // 0: no checksum, allowed over IPv4 only (RFC 768; RFC 8200 §8.1)
        const bool none = be16(f, l4 + 6) == 0;
        if (verify && (out.l3 == l3_kind::ipv6 || !none) && (none || !l4_checksum_ok(f, l4, udp_length, out, true)))
            return drop_reason::udp_bad_checksum;
        return drop_reason::none;
    }
    case ip_icmp:
    case ip_icmpv6:
        if (len < 8)
            return drop_reason::icmp_truncated;
        out.icmp_type = u8(f, l4);
        out.icmp_code = u8(f, l4 + 1);
        out.icmp_id = be16(f, l4 + 4); // the identifier of an echo (RFC 792, RFC 4443 §4.1)
        // ICMPv4 sums the message alone (RFC 792); ICMPv6 with the pseudo-header (RFC 4443 §2.3)
        if (verify && !l4_checksum_ok(f, l4, len, out, out.proto == ip_icmpv6))
            return drop_reason::icmp_bad_checksum;
        return drop_reason::none;
    default:
        return drop_reason::none;
    }
}

// The minimum bytes of an upper-layer header a first fragment must hold
// (RFC 1858 §3.2 for TCP; the fixed headers otherwise).
std::size_t l4_minimum(std::uint8_t proto)
{
    switch (proto) {
    case ip_tcp:
        return 20;
    case ip_udp:
    case ip_icmp:
    case ip_icmpv6:
        return 8;
    default:
        return 0;
    }
}

drop_reason parse_ipv4(std::span<const std::byte> f, std::size_t l3, parsed_frame& out, const parse_options& opt)
{
    out.l3 = l3_kind::ipv4;
    const std::size_t avail = f.size() - l3;
    if (avail < 20)
        return drop_reason::ipv4_truncated;
    if (u8(f, l3) >> 4 != 4)
        return drop_reason::ipv4_bad_version;
    const std::size_t ihl = (u8(f, l3) & 0x0f) * 4u;
    if (ihl < 20)
        return drop_reason::ipv4_bad_ihl;
    const std::size_t total = be16(f, l3 + 2);
    // Longer frames are Ethernet padding; a shorter one lost bytes, and a
    // total shorter than the header contradicts it (options running past).
    if (total < ihl || total > avail)
        return drop_reason::ipv4_bad_total_length;
    if (fold(sum_bytes(f.data() + l3, ihl, 0)) != 0xffff)
        return drop_reason::ipv4_bad_checksum;
    std::memcpy(out.src.data(), &f[l3 + 12], 4);
    std::memcpy(out.dst.data(), &f[l3 + 16], 4);
    out.proto = u8(f, l3 + 9);

    // Sources no host can have (RFC 1122 §3.2.1.3, RFC 5735): "this network"
    // 0/8 (but 0.0.0.0 for a DHCP client's discover, RFC 2131 §4.1),
    // loopback 127/8, multicast 224/4 and the reserved 240/4 with the
    // limited broadcast.
    const std::uint8_t a = out.src[0];
    const bool dhcp_discover = out.proto == ip_udp && std::all_of(out.src.begin(), out.src.begin() + 4,
                                                                  [](std::uint8_t b) { return b == 0; });
    if ((a == 0 && !dhcp_discover) || a == 127 || a >= 224)
        return drop_reason::ipv4_martian_src;
    if (std::memcmp(out.src.data(), out.dst.data(), 4) == 0)
        return drop_reason::ipv4_land;

    const std::uint16_t frag = be16(f, l3 + 6);
    const std::size_t offset = (frag & 0x1fff) * 8u;
    const bool more = frag & 0x2000;
    const std::size_t payload = total - ihl;
    out.fragment = more || offset != 0;
    out.later_fragment = offset != 0;
    out.frag_id = be16(f, l3 + 4);
    out.frag_offset = static_cast<std::uint16_t>(offset);
    out.frag_length = static_cast<std::uint16_t>(payload);
    out.frag_more = more;
    // Reassembled, it would pass 65535 bytes: the ping of death.
    if (offset + payload > 65535)
        return drop_reason::ipv4_frag_oversize;
    // A later fragment starting inside the L4 header the first fragment
    // must hold overlaps it: rewriting TCP flags or ports past a filter
    // (RFC 1858 §4, RFC 3128). Other overlaps need the flow stage's state.
    if (out.later_fragment && offset < l4_minimum(out.proto))
        return drop_reason::ipv4_frag_overlap;
    if (out.later_fragment)
        return drop_reason::none; // no L4 header in it: the flow stage sees fragments
    // A first fragment too short for its L4 header hides it from filters
    // (the tiny fragment attack, RFC 1858).
    if (more && payload < l4_minimum(out.proto))
        return drop_reason::ipv4_frag_too_small;
    if (dhcp_discover) {
        // the ports decide whether 0.0.0.0 is a martian, before its checksum
        drop_reason r = parse_l4(f, l3 + ihl, payload, out, parse_options{.l4_checksum = false});
        if (r != drop_reason::none)
            return r;
        if (out.sport != 68 || out.dport != 67)
            return drop_reason::ipv4_martian_src;
    }
    return parse_l4(f, l3 + ihl, payload, out, opt);
}

bool ipv6_extension(std::uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 || nh == 139 || nh == 140;
}

drop_reason parse_ipv6(std::span<const std::byte> f, std::size_t l3, parsed_frame& out, const parse_options& opt)
{
    out.l3 = l3_kind::ipv6;
    const std::size_t avail = f.size() - l3;
    if (avail < 40)
        return drop_reason::ipv6_truncated;
    if (u8(f, l3) >> 4 != 6)
        return drop_reason::ipv6_bad_version;
    const std::size_t payload = be16(f, l3 + 4);
    if (payload > avail - 40) // (a jumbogram's 0 with a hop-by-hop option is not for Ethernet)
        return drop_reason::ipv6_bad_payload_length;
    std::memcpy(out.src.data(), &f[l3 + 8], 16);
    std::memcpy(out.dst.data(), &f[l3 + 24], 16);
    std::uint8_t nh = u8(f, l3 + 6);

    // Sources no host can have (RFC 4291 §2.5.2, §2.5.3, §2.7): loopback,
    // multicast, and the unspecified address except for ICMPv6 (duplicate
    // address detection sends from it, RFC 4862 §5.4.2).
    static constexpr std::array<std::uint8_t, 16> loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const bool unspecified = std::all_of(out.src.begin(), out.src.end(), [](std::uint8_t b) { return b == 0; });
    if (out.src[0] == 0xff || out.src == loopback)
        return drop_reason::ipv6_martian_src;
    if (out.src == out.dst && !unspecified)
        return drop_reason::ipv6_land;

    // The extension header chain (RFC 8200 §4): bounded, in the payload,
    // hop-by-hop first if at all, no type 0 routing header (RFC 5095).
    std::size_t at = l3 + 40;
    const std::size_t end = at + payload;
    std::size_t count = 0;
    bool first_fragment_seen = false;
    while (ipv6_extension(nh)) {
        if (++count > max_ipv6_ext_headers)
            return drop_reason::ipv6_ext_too_many;
        if (nh == 0 && count != 1)
            return drop_reason::ipv6_ext_bad_order;
        if (end - at < 8)
            return drop_reason::ipv6_ext_overrun;
        std::size_t len = nh == 44 ? 8 : nh == 51 ? (u8(f, at + 1) + 2u) * 4 : (u8(f, at + 1) + 1u) * 8;
        if (len > end - at)
            return drop_reason::ipv6_ext_overrun;
        if (nh == 43 && u8(f, at + 2) == 0)
            return drop_reason::ipv6_rh0;
        if (nh == 44) {
            const std::uint16_t off_flags = be16(f, at + 2);
            const std::size_t offset = (off_flags & 0xfff8u);
            const bool more = off_flags & 1;
            out.fragment = more || offset != 0;
            out.later_fragment = offset != 0;
            out.frag_id = be32(f, at + 4);
            out.frag_offset = static_cast<std::uint16_t>(offset);
            out.frag_length = static_cast<std::uint16_t>(std::min<std::size_t>(end - (at + len), 65535));
            out.frag_more = more;
            // the fragmentable part starts after this header
            if (offset + (end - (at + len)) > 65535)
                return drop_reason::ipv6_frag_oversize;
            first_fragment_seen = out.fragment && offset == 0;
            if (offset != 0 && offset < l4_minimum(u8(f, at))) // RFC 5722: overlaps are dropped
                return drop_reason::ipv6_frag_overlap;
        }
        nh = u8(f, at);
        at += len;
        if (out.later_fragment) { // the rest is payload of a later fragment
            out.proto = nh;
            return drop_reason::none;
        }
    }
    out.proto = nh;
    if (unspecified && nh != ip_icmpv6)
        return drop_reason::ipv6_martian_src;
    // A first fragment holds the whole header chain and the upper-layer
    // header (RFC 7112).
    if (first_fragment_seen && end - at < l4_minimum(nh))
        return drop_reason::ipv6_frag_too_small;
    if (nh == 59) // no next header
        return drop_reason::none;
    return parse_l4(f, at, end - at, out, opt);
}

} // namespace

std::string_view reason_name(drop_reason r)
{
    auto i = static_cast<std::size_t>(r);
    return i < std::size(reason_names) ? reason_names[i] : "unknown";
}

std::uint64_t checksum_add(std::span<const std::byte> data, std::uint64_t acc) noexcept
{
    return sum_bytes(data.data(), data.size(), acc);
}

std::uint16_t checksum_fold(std::uint64_t acc) noexcept { return fold(acc); }

std::uint16_t internet_checksum(std::span<const std::byte> data) noexcept
{
    // the folded sum is in memory order: its complement's bytes are the
    // checksum field's, read here as the big-endian number they make
    const std::uint16_t field = static_cast<std::uint16_t>(~fold(sum_bytes(data.data(), data.size(), 0)));
    unsigned char b[2];
    std::memcpy(b, &field, 2);
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

drop_reason parse_frame(std::span<const std::byte> f, parsed_frame& out, parse_options opt) noexcept
{
    out = parsed_frame{};
    if (f.size() < 14)
        return drop_reason::eth_truncated;
    std::size_t at = 12;
    std::uint16_t type = be16(f, at);
    while (type == eth_vlan || type == eth_qinq) {
        if (++out.vlan_tags > max_vlan_tags)
            return drop_reason::vlan_too_deep;
        if (f.size() < at + 4 + 2)
            return drop_reason::vlan_truncated;
        at += 4;
        type = be16(f, at);
    }
    at += 2;
    out.ethertype = type;
    out.l3_offset = static_cast<std::uint16_t>(at);
    if (type == eth_ipv4)
        return parse_ipv4(f, at, out, opt);
    if (type == eth_ipv6)
        return parse_ipv6(f, at, out, opt);
    return drop_reason::none; // ARP, LLDP, ...: the bridge passes them
}

} // namespace bulwark::dataplane
