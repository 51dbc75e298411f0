// SPDX-License-Identifier: Apache-2.0
#include "dataplane/tcp_rewrite.hpp"

#include "dataplane/packet.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace bulwark::dataplane::tcp {

namespace {

std::uint8_t u8(std::span<const std::byte> s, std::size_t at) { return static_cast<std::uint8_t>(s[at]); }
std::uint16_t be16(std::span<const std::byte> s, std::size_t at)
{
    return static_cast<std::uint16_t>(u8(s, at) << 8 | u8(s, at + 1));
}
std::uint32_t be32(std::span<const std::byte> s, std::size_t at)
{
    return std::uint32_t(be16(s, at)) << 16 | be16(s, at + 2);
}
void put16(std::byte* p, std::uint16_t v)
{
    p[0] = std::byte(v >> 8);
    p[1] = std::byte(v);
}
void put32(std::byte* p, std::uint32_t v)
{
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
}
// A checksum field holds the complement of the folded memory-order sum.
void put_checksum(std::byte* field, std::uint64_t acc)
{
    const auto c = static_cast<std::uint16_t>(~checksum_fold(acc));
    std::memcpy(field, &c, 2);
}

// Writes n (2 or 4) bytes of v at tcp[off] and updates the checksum at
// tcp[16] for the change (RFC 1624 eqn. 3) over the even-aligned words
// that hold them. off + n stays below the options' end, a multiple of 4,
// so the rounded-up end is inside tcp.
void patch(std::span<std::byte> tcp, std::size_t off, std::size_t n, std::uint32_t v)
{
    const std::size_t a = off & ~std::size_t{1}, b = (off + n + 1) & ~std::size_t{1};
    const std::span<const std::byte> words = tcp.subspan(a, b - a);
    const std::uint16_t before = checksum_fold(checksum_add(words, 0));
    if (n == 4)
        put32(tcp.data() + off, v);
    else
        put16(tcp.data() + off, static_cast<std::uint16_t>(v));
    const std::uint16_t after = checksum_fold(checksum_add(words, 0));
    std::uint16_t hc;
    std::memcpy(&hc, tcp.data() + 16, 2);
    const std::uint64_t acc = std::uint64_t(static_cast<std::uint16_t>(~hc)) + static_cast<std::uint16_t>(~before) + after;
    const auto out = static_cast<std::uint16_t>(~checksum_fold(acc));
    std::memcpy(tcp.data() + 16, &out, 2);
}

// Calls f(kind, offset, length) for each option of a header whose
// options end at `end`; a malformed list ends the walk.
template <class F>
void each_option(std::span<const std::byte> h, std::size_t end, F&& f)
{
    std::size_t at = 20;
    while (at < end) {
        const std::uint8_t kind = u8(h, at);
        if (kind == 0)
            return;
        if (kind == 1) {
            ++at;
            continue;
        }
        if (at + 1 >= end)
            return;
        const std::size_t len = u8(h, at + 1);
        if (len < 2 || at + len > end)
            return;
        f(kind, at, len);
        at += len;
    }
}

std::size_t options_end(std::span<const std::byte> h)
{
    if (h.size() < 20)
        return 0;
    const std::size_t doff = (u8(h, 12) >> 4) * 4u;
    return doff < 20 ? 0 : std::min(doff, h.size() & ~std::size_t{3});
}

std::size_t options_size(const options& o)
{
    return (o.mss ? 4 : 0) + (o.ts ? 12 : (o.sack_perm ? 4 : 0)) + (o.wscale >= 0 ? 4 : 0);
}

// The options in Linux's order and padding: MSS, SACK-permitted with the
// timestamps (or NOP NOP before either alone), NOP and window scale.
void write_options(std::byte* p, const options& o)
{
    if (o.mss) {
        p[0] = std::byte{2};
        p[1] = std::byte{4};
        put16(p + 2, o.mss);
        p += 4;
    }
    if (o.ts) {
        p[0] = o.sack_perm ? std::byte{4} : std::byte{1};
        p[1] = o.sack_perm ? std::byte{2} : std::byte{1};
        p[2] = std::byte{8};
        p[3] = std::byte{10};
        put32(p + 4, o.tsval);
        put32(p + 8, o.tsecr);
        p += 12;
    } else if (o.sack_perm) {
        p[0] = p[1] = std::byte{1};
        p[2] = std::byte{4};
        p[3] = std::byte{2};
        p += 4;
    }
    if (o.wscale >= 0) {
        p[0] = std::byte{1};
        p[1] = std::byte{3};
        p[2] = std::byte{3};
        p[3] = std::byte(std::min<std::int8_t>(o.wscale, 14));
    }
}

} // namespace

options read_options(std::span<const std::byte> header) noexcept
{
    options o;
    each_option(header, options_end(header), [&](std::uint8_t kind, std::size_t at, std::size_t len) {
        if (kind == 2 && len == 4)
            o.mss = be16(header, at + 2);
        else if (kind == 3 && len == 3)
            o.wscale = static_cast<std::int8_t>(std::min<std::uint8_t>(u8(header, at + 2), 14));
        else if (kind == 4 && len == 2)
            o.sack_perm = true;
        else if (kind == 8 && len == 10) {
            o.ts = true;
            o.tsval = be32(header, at + 2);
            o.tsecr = be32(header, at + 6);
        }
    });
    return o;
}

std::size_t write_segment(std::span<std::byte> frame, const frame_at& at, bool reverse, const new_segment& s) noexcept
{
    const std::size_t alen = at.v6 ? 16 : 4, iplen = at.v6 ? 40 : 20;
    const std::size_t tcplen = 20 + options_size(s.opt);
    const std::size_t src_at = at.l3 + (at.v6 ? 8 : 12); // the addresses end within the IP header
    if (at.l3 < 14 || frame.size() < at.l3 + iplen + tcplen)
        return 0;
    std::array<std::byte, 16> src{}, dst{};
    std::memcpy(src.data(), frame.data() + src_at, alen);
    std::memcpy(dst.data(), frame.data() + src_at + alen, alen);
    std::uint16_t sport = at.sport, dport = at.dport;
    if (reverse) {
        std::array<std::byte, 6> mac;
        std::memcpy(mac.data(), frame.data(), 6);
        std::memmove(frame.data(), frame.data() + 6, 6);
        std::memcpy(frame.data() + 6, mac.data(), 6);
        std::swap(src, dst);
        std::swap(sport, dport);
    }
    std::byte* ip = frame.data() + at.l3;
    std::memset(ip, 0, iplen);
    if (at.v6) {
        ip[0] = std::byte{0x60};
        put16(ip + 4, static_cast<std::uint16_t>(tcplen));
        ip[6] = std::byte{6};
        ip[7] = std::byte{64};
    } else {
        ip[0] = std::byte{0x45};
        put16(ip + 2, static_cast<std::uint16_t>(iplen + tcplen));
        ip[6] = std::byte{0x40}; // don't fragment
        ip[8] = std::byte{64};
        ip[9] = std::byte{6};
    }
    std::memcpy(ip + (at.v6 ? 8 : 12), src.data(), alen);
    std::memcpy(ip + (at.v6 ? 24 : 16), dst.data(), alen);
    if (!at.v6)
        put_checksum(ip + 10, checksum_add({ip, iplen}, 0));

    std::byte* t = ip + iplen;
    std::memset(t, 0, 20);
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, s.seq);
    put32(t + 8, s.ack);
    t[12] = std::byte(tcplen / 4 << 4);
    t[13] = std::byte{s.flags};
    put16(t + 14, s.window);
    write_options(t + 20, s.opt);
    const std::byte tail[4] = {std::byte(tcplen >> 8), std::byte(tcplen), std::byte{0}, std::byte{6}};
    std::uint64_t acc = checksum_add({src.data(), alen}, 0);
    acc = checksum_add({dst.data(), alen}, acc);
    acc = checksum_add(tail, acc);
    put_checksum(t + 16, checksum_add({t, tcplen}, acc));
    return at.l3 + iplen + tcplen;
}

void translate(std::span<std::byte> tcp, const shift& s) noexcept
{
    const std::size_t end = options_end(tcp);
    if (!end)
        return;
    if (s.seq)
        patch(tcp, 4, 4, be32(tcp, 4) + s.seq);
    if (s.ack && (u8(tcp, 13) & 0x10))
        patch(tcp, 8, 4, be32(tcp, 8) + s.ack);
    if (s.window) {
        const std::uint32_t w = be16(tcp, 14);
        const std::uint32_t out = s.window > 0 ? std::min<std::uint32_t>(w << s.window, 65535) : w >> -s.window;
        patch(tcp, 14, 2, out);
    }
    if (!s.ack && !s.tsval && !s.tsecr)
        return;
    each_option(tcp, end, [&](std::uint8_t kind, std::size_t at, std::size_t len) {
        if (kind == 5 && s.ack && (len - 2) % 8 == 0) {
            for (std::size_t e = at + 2; e < at + len; e += 4)
                patch(tcp, e, 4, be32(tcp, e) + s.ack);
        } else if (kind == 8 && len == 10) {
            if (s.tsval)
                patch(tcp, at + 2, 4, be32(tcp, at + 2) + s.tsval);
            if (s.tsecr)
                patch(tcp, at + 6, 4, be32(tcp, at + 6) + s.tsecr);
        }
    });
}

} // namespace bulwark::dataplane::tcp
