// SPDX-License-Identifier: Apache-2.0
// Frame validation, rule by rule: a frame each rule must drop, and the
// nearest frame it must pass (dataplane/VALIDATION.md lists the rules).
#include "dataplane/packet.hpp"
#include "tests/dataplane/frames.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

drop_reason verdict(const bytes& f)
{
    parsed_frame p;
    return parse_frame(std::as_bytes(std::span(f)), p);
}

struct row {
    const char* what;
    bytes frame;
    drop_reason expect;
};

bytes truncate(bytes b, std::size_t n)
{
    b.resize(n);
    return b;
}

// The frame with one byte flipped (after its checksums were computed).
bytes flip(bytes b, std::size_t at)
{
    b.at(at) ^= 0x01;
    return b;
}

bytes zero16(bytes b, std::size_t at)
{
    b.at(at) = b.at(at + 1) = 0;
    return b;
}

} // namespace

TEST_CASE("every drop reason has a name", "[packet]")
{
    for (std::size_t i = 0; i < drop_reason_count; ++i)
        CHECK_FALSE(reason_name(static_cast<drop_reason>(i)).empty());
    CHECK(reason_name(drop_reason::ipv4_bad_checksum) == "ipv4_bad_checksum");
}

TEST_CASE("frames each rule drops, and their nearest neighbours that pass", "[packet]")
{
    using r = drop_reason;
    const bytes syn = tcp();
    const row rows[] = {
        // Ethernet and VLAN
        {"a valid TCP SYN", v4frame({}, syn), r::none},
        {"ARP passes the bridge", eth(0x0806, bytes(28, 1)), r::none},
        {"13 bytes", bytes(13, 0), r::eth_truncated},
        {"one VLAN tag", eth(0x0800, ipv4({}, syn), {0x8100}), r::none},
        {"802.1ad outer + inner tag", eth(0x0800, ipv4({}, syn), {0x88a8, 0x8100}), r::none},
        {"three tags", eth(0x0800, ipv4({}, syn), {0x88a8, 0x8100, 0x8100}), r::vlan_too_deep},
        {"a tag cut short", truncate(eth(0x0800, {}, {0x8100}), 16), r::vlan_truncated},
        // IPv4 header
        {"19 bytes of IPv4", truncate(v4frame({}, syn), 14 + 19), r::ipv4_truncated},
        {"version 5 under 0x0800", v4frame({.version = 5}, syn), r::ipv4_bad_version},
        {"IHL 4", v4frame({.ihl_words = 4}, syn), r::ipv4_bad_ihl},
        {"IHL 6 (4 bytes of options)", v4frame({.ihl_words = 6}, syn), r::none},
        {"options past the total length", v4frame({.ihl_words = 15, .total = 40}, syn), r::ipv4_bad_total_length},
        {"total length past the frame", v4frame({.total = 1000}, syn), r::ipv4_bad_total_length},
        {"Ethernet padding after the datagram", cat(v4frame({}, syn), bytes(6, 0)), r::none},
        {"bad header checksum", v4frame({.bad_checksum = true}, syn), r::ipv4_bad_checksum},
        // IPv4 addresses
        {"source 127.0.0.1", v4frame({.src = {127, 0, 0, 1}}, syn), r::ipv4_martian_src},
        {"source 0.0.0.0 on TCP", v4frame({.src = {0, 0, 0, 0}}, syn), r::ipv4_martian_src},
        {"DHCP discover from 0.0.0.0", v4frame({.proto = 17, .src = {0, 0, 0, 0}, .dst = {255, 255, 255, 255}},
                                               udp(68, 67, 300)), r::none},
        {"0.0.0.0 to port 53", v4frame({.proto = 17, .src = {0, 0, 0, 0}}, udp(68, 53)), r::ipv4_martian_src},
        {"multicast source", v4frame({.src = {224, 0, 0, 5}}, syn), r::ipv4_martian_src},
        {"broadcast source", v4frame({.src = {255, 255, 255, 255}}, syn), r::ipv4_martian_src},
        {"class E source", v4frame({.src = {240, 0, 0, 1}}, syn), r::ipv4_martian_src},
        {"223.255.255.255 source (last unicast /8)", v4frame({.src = {223, 255, 255, 254}}, syn), r::none},
        {"multicast destination", v4frame({.proto = 17, .dst = {239, 1, 2, 3}}, udp()), r::none},
        {"land: source = destination", v4frame({.dst = {192, 0, 2, 1}}, syn), r::ipv4_land},
        // IPv4 fragments
        {"first fragment with the whole TCP header", v4frame({.frag = 0x2000}, tcp(40000, 80, 0x10, 5, 8)), r::none},
        {"first fragment of 8 TCP bytes (tiny fragment)", v4frame({.frag = 0x2000}, bytes(8, 1)),
         r::ipv4_frag_too_small},
        {"a later fragment", v4frame({.frag = 185}, bytes(64, 1)), r::none},
        {"last fragment ending at 65535", v4frame({.frag = 8183}, bytes(65535 - 8183 * 8, 1)), r::none},
        {"ping of death: past 65535", v4frame({.proto = 1, .frag = 8189}, bytes(100, 1)), r::ipv4_frag_oversize},
        {"a later TCP fragment at offset 8, inside the TCP header (RFC 1858)", v4frame({.frag = 1}, bytes(64, 1)),
         r::ipv4_frag_overlap},
        {"a later TCP fragment at offset 16", v4frame({.frag = 2}, bytes(64, 1)), r::ipv4_frag_overlap},
        {"a later TCP fragment at offset 24, past the header", v4frame({.frag = 3}, bytes(64, 1)), r::none},
        {"a later UDP fragment at offset 8, past the UDP header", v4frame({.proto = 17, .frag = 1}, bytes(64, 1)),
         r::none},
        {"a first fragment's L4 checksum is not checked (it covers the datagram)",
         v4frame({.frag = 0x2000, .bad_l4_checksum = true}, tcp(40000, 80, 0x10, 5, 8)), r::none},
        // TCP
        {"16 bytes of TCP", v4frame({}, truncate(syn, 16)), r::tcp_truncated},
        {"data offset 4", v4frame({}, tcp(1, 2, 0x02, 4)), r::tcp_bad_offset},
        {"data offset past the segment", v4frame({}, truncate(tcp(1, 2, 0x02, 15), 40)), r::tcp_bad_offset},
        {"data offset 15 with its options", v4frame({}, tcp(1, 2, 0x02, 15)), r::none},
        {"source port 0", v4frame({}, tcp(0, 80)), r::tcp_zero_port},
        {"destination port 0", v4frame({}, tcp(40000, 0)), r::tcp_zero_port},
        {"SYN+FIN", v4frame({}, tcp(40000, 80, 0x03)), r::tcp_bad_flags},
        {"SYN+RST", v4frame({}, tcp(40000, 80, 0x06)), r::tcp_bad_flags},
        {"no flags (null scan)", v4frame({}, tcp(40000, 80, 0x00)), r::tcp_bad_flags},
        {"FIN alone", v4frame({}, tcp(40000, 80, 0x01)), r::tcp_bad_flags},
        {"XMAS (FIN PSH URG)", v4frame({}, tcp(40000, 80, 0x29)), r::tcp_bad_flags},
        {"FIN+ACK", v4frame({}, tcp(40000, 80, 0x11)), r::none},
        {"SYN+ACK with ECE and CWR", v4frame({}, tcp(80, 40000, 0xd2)), r::none},
        {"PSH+ACK", v4frame({}, tcp(40000, 80, 0x18)), r::none},
        {"RST", v4frame({}, tcp(40000, 80, 0x04)), r::none},
        {"PSH alone", v4frame({}, tcp(40000, 80, 0x08)), r::tcp_bad_flags},
        {"bad TCP checksum", v4frame({.bad_l4_checksum = true}, syn), r::tcp_bad_checksum},
        {"TCP checksum right with 1400 bytes of data", v4frame({}, tcp(40000, 80, 0x18, 5, 1400)), r::none},
        {"TCP data changed after the checksum", flip(v4frame({}, tcp(40000, 80, 0x18, 5, 1400)), 14 + 20 + 700),
         r::tcp_bad_checksum},
        // UDP
        {"7 bytes of UDP", v4frame({.proto = 17}, bytes(7, 1)), r::udp_truncated},
        {"UDP length 7", v4frame({.proto = 17}, udp(1000, 53, 4, 7)), r::udp_bad_length},
        {"UDP length past the datagram", v4frame({.proto = 17}, udp(1000, 53, 4, 100)), r::udp_bad_length},
        {"UDP length short of the datagram (padding)", v4frame({.proto = 17}, udp(1000, 53, 4, 10)), r::none},
        {"UDP destination port 0", v4frame({.proto = 17}, udp(1000, 0)), r::udp_zero_port},
        {"UDP source port 0", v4frame({.proto = 17}, udp(0, 53)), r::udp_zero_port},
        {"bad UDP checksum", v4frame({.proto = 17, .bad_l4_checksum = true}, udp()), r::udp_bad_checksum},
        {"UDP checksum 0 over IPv4: none sent (RFC 768)", v4frame({.proto = 17, .no_l4_checksum = true}, udp()),
         r::none},
        {"UDP with an odd payload length", v4frame({.proto = 17}, udp(1000, 53, 5)), r::none},
        {"UDP odd payload changed in its last byte", flip(v4frame({.proto = 17}, udp(1000, 53, 5)), 14 + 20 + 12),
         r::udp_bad_checksum},
        // ICMP
        {"ICMP echo", v4frame({.proto = 1}, icmp()), r::none},
        {"7 bytes of ICMP", v4frame({.proto = 1}, icmp(7)), r::icmp_truncated},
        {"bad ICMP checksum", v4frame({.proto = 1, .bad_l4_checksum = true}, icmp()), r::icmp_bad_checksum},
        // IPv6
        {"IPv6 TCP SYN", v6frame(6, syn), r::none},
        {"39 bytes of IPv6", truncate(v6frame(6, syn), 14 + 39), r::ipv6_truncated},
        {"version 4 under 0x86dd", eth(0x86dd, ipv6(6, syn, v6a, v6b, -1, 4)), r::ipv6_bad_version},
        {"payload length past the frame", eth(0x86dd, ipv6(6, syn, v6a, v6b, 100)), r::ipv6_bad_payload_length},
        {"::1 source", eth(0x86dd, ipv6(6, syn, []{ bytes b(16, 0); b[15] = 1; return b; }(), v6b)),
         r::ipv6_martian_src},
        {"multicast source", eth(0x86dd, ipv6(6, syn, []{ bytes b(16, 0); b[0] = 0xff; b[1] = 2; return b; }(), v6b)),
         r::ipv6_martian_src},
        {":: source on TCP", eth(0x86dd, ipv6(6, syn, bytes(16, 0), v6b)), r::ipv6_martian_src},
        {":: source on ICMPv6 (duplicate address detection)", eth(0x86dd, ipv6(58, icmp(24), bytes(16, 0), v6b)),
         r::none},
        {"land", eth(0x86dd, ipv6(6, syn, v6a, v6a)), r::ipv6_land},
        {"hop-by-hop then TCP", v6frame(0, cat(ext(6), syn)), r::none},
        {"hop-by-hop after a destination header", v6frame(60, cat(ext(0), cat(ext(6), syn))), r::ipv6_ext_bad_order},
        {"an extension header running past the payload", v6frame(60, truncate(ext(6, 3), 8)), // claims 32 bytes
         r::ipv6_ext_overrun},
        {"an extension header shorter than 8 bytes", v6frame(60, truncate(ext(6), 6)), r::ipv6_ext_overrun},
        {"nine destination-option headers", v6frame(60, [] { bytes b; for (int i = 0; i < 8; ++i) b = cat(b, ext(60));
                                                             return cat(b, ext(6)); }()), r::ipv6_ext_too_many},
        {"eight extension headers", v6frame(60, [] { bytes b; for (int i = 0; i < 7; ++i) b = cat(b, ext(60));
                                                     return cat(cat(b, ext(6)), tcp()); }()), r::none},
        {"routing header type 0", v6frame(43, cat(ext(6, 0, 0), syn)), r::ipv6_rh0},
        {"routing header type 2", v6frame(43, cat(ext(6, 0, 2), syn)), r::none},
        {"first fragment with the TCP header", v6frame(44, cat(frag6(6, 0, true), syn)), r::none},
        {"first fragment without the TCP header (RFC 7112)", v6frame(44, cat(frag6(6, 0, true), bytes(8, 1))),
         r::ipv6_frag_too_small},
        {"a later fragment", v6frame(44, cat(frag6(6, 1448, true), bytes(64, 1))), r::none},
        {"a fragment past 65535", v6frame(44, cat(frag6(17, 65528, false), bytes(16, 1))), r::ipv6_frag_oversize},
        {"UDP over IPv6 with a bad length", v6frame(17, udp(1000, 53, 4, 100)), r::udp_bad_length},
        {"a later TCP fragment at offset 8 (RFC 5722)", v6frame(44, cat(frag6(6, 8, true), bytes(64, 1))),
         r::ipv6_frag_overlap},
        {"a later TCP fragment at offset 24", v6frame(44, cat(frag6(6, 24, true), bytes(64, 1))), r::none},
        {"a later UDP fragment at offset 8", v6frame(44, cat(frag6(17, 8, true), bytes(64, 1))), r::none},
        {"UDP over IPv6", v6frame(17, udp()), r::none},
        {"UDP over IPv6 with checksum 0 (RFC 8200 §8.1)", zero16(v6frame(17, udp()), 14 + 40 + 6),
         r::udp_bad_checksum},
        {"TCP over IPv6 with a bad checksum", flip(v6frame(6, syn), 14 + 40 + 19), r::tcp_bad_checksum},
        {"TCP after a hop-by-hop header, checksum right", v6frame(0, cat(ext(6), tcp(40000, 80, 0x18, 5, 3))),
         r::none},
        {"ICMPv6 echo", eth(0x86dd, ipv6(58, icmp(24))), r::none},
        {"ICMPv6 with a bad checksum (its pseudo-header counts)", flip(eth(0x86dd, ipv6(58, icmp(24))), 14 + 40 + 23),
         r::icmp_bad_checksum},
        {"ICMPv6 checksummed without the pseudo-header", [] {
             bytes m = icmp(24);
             fix_l4(m, 1, v6a, v6b); // the ICMPv4 rule: the message alone
             bytes f = eth(0x86dd, ipv6(58, icmp(24)));
             f[14 + 40 + 2] = m[2];
             f[14 + 40 + 3] = m[3];
             return f;
         }(), r::icmp_bad_checksum},
        {"no next header", v6frame(59, {}), r::none},
    };
    for (const auto& row : rows) {
        CAPTURE(row.what);
        CHECK(reason_name(verdict(row.frame)) == reason_name(row.expect));
    }
}

TEST_CASE("a passing frame's fields", "[packet]")
{
    parsed_frame p;
    bytes f = eth(0x0800, ipv4({.proto = 6}, tcp(40000, 443, 0x12)), {0x8100});
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    CHECK(p.vlan_tags == 1);
    CHECK(p.ethertype == 0x0800);
    CHECK(p.l3 == l3_kind::ipv4);
    CHECK(p.l3_offset == 18);
    CHECK(p.l4_offset == 38);
    CHECK((p.sport == 40000 && p.dport == 443 && p.tcp_flags == 0x12));
    CHECK((p.src[0] == 192 && p.dst[3] == 7));

    bytes g = v6frame(0, cat(ext(17), udp(5353, 53)));
    REQUIRE(parse_frame(std::as_bytes(std::span(g)), p) == drop_reason::none);
    CHECK(p.l3 == l3_kind::ipv6);
    CHECK(p.proto == 17);
    CHECK(p.l4_offset == 14 + 40 + 8);
    CHECK((p.sport == 5353 && p.dport == 53));
}

TEST_CASE("a TCP segment's sequence, acknowledgement, window, payload and window scale", "[packet]")
{
    // a SYN with MSS, NOP, window scale 7, then end of options: 12 bytes of options, 10 of payload
    bytes t = tcp(40000, 443, 0x02, 8, 10);
    const std::uint8_t opts[12] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 0, 0, 0, 0};
    std::copy(std::begin(opts), std::end(opts), t.begin() + 20);
    put16(t, 4, 0xdead);
    put16(t, 6, 0xbeef);
    put16(t, 8, 0x0102);
    put16(t, 10, 0x0304);
    put16(t, 14, 29200);
    bytes f = v4frame({.proto = 6}, t);
    parsed_frame p;
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    CHECK(p.tcp_seq == 0xdeadbeef);
    CHECK(p.tcp_ack == 0x01020304);
    CHECK(p.tcp_window == 29200);
    CHECK(p.tcp_payload == 10);
    CHECK(p.tcp_wscale == 7);
    // a scale over 14 is read as 14 (RFC 7323 §2.3); only a SYN's option counts
    t[27] = 20;
    f = v4frame({.proto = 6}, t);
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    CHECK(p.tcp_wscale == 14);
    t[13] = 0x10;
    f = v4frame({.proto = 6}, t);
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    CHECK(p.tcp_wscale == -1);
    // a malformed option list (a length running past the header) yields no scale, and no read past it
    t[13] = 0x02;
    t[21] = 40;
    f = v4frame({.proto = 6}, t);
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    CHECK(p.tcp_wscale == -1);
}

TEST_CASE("the Internet checksum (RFC 1071's example)", "[packet]")
{
    auto fast = [](const bytes& b) { return internet_checksum(std::as_bytes(std::span(b))); };
    const bytes data{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(checksum(data, 0, data.size()) == static_cast<std::uint16_t>(~0xddf2 & 0xffff));
    CHECK(fast(data) == static_cast<std::uint16_t>(~0xddf2 & 0xffff));
    bytes odd{0x01};
    CHECK(checksum(odd, 0, 1) == static_cast<std::uint16_t>(~0x0100 & 0xffff));
    CHECK(fast(odd) == static_cast<std::uint16_t>(~0x0100 & 0xffff));
    // the validator's 8-bytes-at-a-time sum against the reference, every tail length
    for (std::size_t n = 0; n < 40; ++n) {
        bytes b(n);
        for (std::size_t i = 0; i < n; ++i)
            b[i] = static_cast<std::uint8_t>(i * 37 + 11);
        CAPTURE(n);
        CHECK(fast(b) == checksum(b, 0, n));
    }
}
