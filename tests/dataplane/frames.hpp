// SPDX-License-Identifier: Apache-2.0
#pragma once

// Frames built field by field, for the validation tests and parse_bench:
// each builder makes a valid header unless told what to break.

#include "dataplane/packet.hpp"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <vector>

namespace bulwark::dataplane::testing {

using bytes = std::vector<std::uint8_t>;

inline void put16(bytes& b, std::size_t at, std::uint16_t v)
{
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

// RFC 1071's sum, 16-bit big-endian words one at a time: the tests' own
// reference, independent of the validator's 8-bytes-at-a-time sum.
inline std::uint16_t checksum(const bytes& b, std::size_t from, std::size_t len)
{
    std::uint32_t sum = 0;
    std::size_t i = from;
    for (; i + 1 < from + len; i += 2)
        sum += static_cast<std::uint32_t>(b[i] << 8 | b[i + 1]);
    if (i < from + len)
        sum += static_cast<std::uint32_t>(b[i] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

inline bytes cat(bytes a, const bytes& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline bytes tcp(std::uint16_t sport = 40000, std::uint16_t dport = 80, std::uint8_t flags = 0x02, std::uint8_t words = 5,
          std::size_t payload = 0)
{
    bytes t(20 + std::max<int>(0, words - 5) * 4 + payload, 0);
    put16(t, 0, sport);
    put16(t, 2, dport);
    t[12] = static_cast<std::uint8_t>(words << 4);
    t[13] = flags;
    put16(t, 14, 65535);
    return t;
}

inline bytes udp(std::uint16_t sport = 40000, std::uint16_t dport = 53, std::size_t payload = 4, int length = -1)
{
    bytes u(8 + payload, 0);
    put16(u, 0, sport);
    put16(u, 2, dport);
    put16(u, 4, static_cast<std::uint16_t>(length < 0 ? 8 + payload : length));
    return u;
}

inline bytes icmp(std::size_t len = 8)
{
    bytes i(len, 0);
    if (len > 0)
        i[0] = 8; // echo request
    return i;
}

// Writes the right TCP/UDP/ICMP checksum into `l4` (its whole length, or
// the UDP length's), off by one when `bad`. With the reference sum above,
// not the validator's own: the two must agree.
inline void fix_l4(bytes& l4, std::uint8_t proto, const bytes& src, const bytes& dst, bool bad = false)
{
    std::size_t at = proto == 6 ? 16 : proto == 17 ? 6 : (proto == 1 || proto == 58) ? 2 : 0;
    if (!at || l4.size() < at + 2)
        return;
    std::size_t len = l4.size();
    if (proto == 17)
        len = std::min<std::size_t>(len, static_cast<std::size_t>(l4[4] << 8 | l4[5]));
    l4[at] = l4[at + 1] = 0;
    bytes sum;
    if (proto != 1) { // ICMPv4 has no pseudo-header
        const bool v6 = src.size() == 16;
        sum = cat(src, dst);
        if (v6)
            sum = cat(sum, bytes{0, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0, 0, 0, proto});
        else
            sum = cat(sum, bytes{0, proto, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
        if (sum.size() % 2)
            sum.push_back(0);
    }
    sum.insert(sum.end(), l4.begin(), l4.begin() + static_cast<std::ptrdiff_t>(len));
    std::uint16_t c = checksum(sum, 0, sum.size());
    if (proto == 17 && c == 0)
        c = 0xffff; // 0 means "none" in UDP
    put16(l4, at, static_cast<std::uint16_t>(c ^ (bad ? 1 : 0)));
}

struct v4 {
    std::uint8_t proto = 6;
    bytes src{192, 0, 2, 1}, dst{198, 51, 100, 7};
    std::uint8_t version = 4, ihl_words = 5;
    int total = -1;             // -1: the right one
    std::uint16_t frag = 0;     // flags + offset field
    bool bad_checksum = false;
    bool bad_l4_checksum = false;
    bool no_l4_checksum = false; // leave the L4 checksum field as given
    std::uint16_t id = 0;        // identification (fragment trains)
};

inline bytes ipv4(const v4& h, const bytes& l4)
{
    std::size_t ihl = std::max<std::size_t>(h.ihl_words, 5) * 4;
    bytes b(ihl, 0);
    b[0] = static_cast<std::uint8_t>(h.version << 4 | h.ihl_words);
    put16(b, 2, static_cast<std::uint16_t>(h.total < 0 ? ihl + l4.size() : h.total));
    put16(b, 4, h.id);
    put16(b, 6, h.frag);
    b[8] = 64;
    b[9] = h.proto;
    std::copy(h.src.begin(), h.src.end(), b.begin() + 12);
    std::copy(h.dst.begin(), h.dst.end(), b.begin() + 16);
    put16(b, 10, static_cast<std::uint16_t>(checksum(b, 0, std::min<std::size_t>(ihl, b.size())) ^
                                            (h.bad_checksum ? 1 : 0)));
    bytes l4c = l4;
    if (!h.no_l4_checksum && (h.frag & 0x3fff) == 0 && h.src.size() == 4 && h.dst.size() == 4)
        fix_l4(l4c, h.proto, h.src, h.dst, h.bad_l4_checksum);
    return cat(b, l4c);
}

inline const bytes v6a{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
inline const bytes v6b{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

inline bytes ipv6(std::uint8_t nh, const bytes& payload, bytes src = v6a, bytes dst = v6b, int payload_len = -1,
           std::uint8_t version = 6)
{
    bytes b(40, 0);
    b[0] = static_cast<std::uint8_t>(version << 4);
    put16(b, 4, static_cast<std::uint16_t>(payload_len < 0 ? payload.size() : payload_len));
    b[6] = nh;
    b[7] = 64;
    std::copy(src.begin(), src.end(), b.begin() + 8);
    std::copy(dst.begin(), dst.end(), b.begin() + 24);
    // the upper-layer checksum, after any extension headers, unless fragmented
    bytes p = payload;
    std::size_t at = 0;
    while ((nh == 0 || nh == 43 || nh == 60 || nh == 51) && at + 8 <= p.size()) {
        std::size_t len = nh == 51 ? (p[at + 1] + 2u) * 4 : (p[at + 1] + 1u) * 8;
        nh = p[at];
        at += len;
    }
    if (nh != 44 && at < p.size() && src.size() == 16 && dst.size() == 16) {
        bytes l4(p.begin() + static_cast<std::ptrdiff_t>(at), p.end());
        fix_l4(l4, nh, src, dst);
        std::copy(l4.begin(), l4.end(), p.begin() + static_cast<std::ptrdiff_t>(at));
    }
    return cat(b, p);
}

// An extension header: next header, and `units` 8-byte units after the first.
inline bytes ext(std::uint8_t next, std::uint8_t units = 0, std::uint8_t byte2 = 0)
{
    bytes e((units + 1u) * 8, 0);
    e[0] = next;
    e[1] = units;
    e[2] = byte2;
    return e;
}

inline bytes frag6(std::uint8_t next, std::uint16_t offset_bytes, bool more)
{
    bytes e(8, 0);
    e[0] = next;
    put16(e, 2, static_cast<std::uint16_t>(offset_bytes | (more ? 1 : 0)));
    return e;
}

inline bytes eth(std::uint16_t type, const bytes& l3, std::initializer_list<std::uint16_t> tags = {})
{
    bytes b(12, 0xaa);
    for (auto tpid : tags) {
        b.push_back(static_cast<std::uint8_t>(tpid >> 8));
        b.push_back(static_cast<std::uint8_t>(tpid));
        b.push_back(0);
        b.push_back(10);
    }
    b.push_back(static_cast<std::uint8_t>(type >> 8));
    b.push_back(static_cast<std::uint8_t>(type));
    return cat(b, l3);
}

inline bytes v4frame(const v4& h, const bytes& l4) { return eth(0x0800, ipv4(h, l4)); }
inline bytes v6frame(std::uint8_t nh, const bytes& payload) { return eth(0x86dd, ipv6(nh, payload)); }

} // namespace bulwark::dataplane::testing
