// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: what the SYN guard reads and writes (dataplane/
// syn_cookie.hpp, dataplane/tcp_rewrite.hpp) on hostile frames.
//
// Input: 12 bytes of parameters, then an Ethernet frame. The options walk
// and the translation run on the frame's bytes from its TCP header on,
// whatever they are (ASan: nothing read or written outside). For a frame
// the validator passes as TCP, two properties must hold:
//   * translation keeps it valid (its checksum updated incrementally must
//     equal the full one) and moves sequence, acknowledgement (when the
//     ACK flag is set) and timestamps by exactly what was asked;
//   * a segment written over it with the options the parameters choose
//     is valid, with the fields and options asked for, addresses and
//     ports swapped when reversed.
// And a cookie made for the frame's four-tuple checks, with its MSS.
// Seeds: tests/fuzz/corpus/syn (12 bytes of parameters before TCP frames).
#include "dataplane/packet.hpp"
#include "dataplane/syn_cookie.hpp"
#include "dataplane/tcp_rewrite.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace bulwark::dataplane;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

std::uint32_t u32(const std::uint8_t* p)
{
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

std::span<std::byte> tcp_header(std::vector<std::uint8_t>& f, const parsed_frame& p)
{
    const std::size_t doff = (f[p.l4_offset + 12] >> 4) * 4u;
    return std::as_writable_bytes(std::span(f)).subspan(p.l4_offset, doff);
}

void translated(const std::vector<std::uint8_t>& frame, const parsed_frame& p, const std::uint8_t* prm)
{
    std::vector<std::uint8_t> f = frame;
    const tcp::shift s{.seq = u32(prm), .ack = u32(prm + 4), .tsval = u32(prm + 8), .tsecr = ~u32(prm + 8)};
    const tcp::options before = tcp::read_options(tcp_header(f, p));
    tcp::translate(tcp_header(f, p), s);
    parsed_frame q;
    check(parse_frame(std::as_bytes(std::span(f)), q) == drop_reason::none);
    check(q.tcp_seq == p.tcp_seq + s.seq);
    check(q.tcp_ack == (p.tcp_flags & 0x10 ? p.tcp_ack + s.ack : p.tcp_ack));
    const tcp::options after = tcp::read_options(tcp_header(f, q));
    check(after.ts == before.ts && after.mss == before.mss && after.wscale == before.wscale);
    if (before.ts) // every timestamp option is moved; the last is the one read
        check(after.tsval == before.tsval + s.tsval && after.tsecr == before.tsecr + s.tsecr);
}

void rewritten(const std::vector<std::uint8_t>& frame, const parsed_frame& p, const std::uint8_t* prm)
{
    std::vector<std::uint8_t> f = frame;
    f.resize(f.size() + prm[0] % 64); // tailroom
    tcp::new_segment s;
    s.seq = u32(prm);
    s.ack = u32(prm + 4);
    s.flags = 0x10 | (prm[8] & 0x02);
    s.window = static_cast<std::uint16_t>(u32(prm + 8) >> 16);
    s.opt.mss = prm[9] & 1 ? static_cast<std::uint16_t>(u32(prm + 4)) : 0;
    s.opt.wscale = prm[9] & 2 ? static_cast<std::int8_t>(prm[10] % 15) : -1;
    s.opt.sack_perm = prm[9] & 4;
    s.opt.ts = prm[9] & 8;
    s.opt.tsval = u32(prm + 8);
    s.opt.tsecr = u32(prm);
    const bool reverse = prm[9] & 16;
    const tcp::frame_at at{p.l3_offset, p.l3 == l3_kind::ipv6, p.sport, p.dport};
    const std::size_t len = tcp::write_segment(std::as_writable_bytes(std::span(f)), at, reverse, s);
    if (!len) {
        f.resize(frame.size());
        check(f == frame); // refused: unchanged
        return;
    }
    f.resize(len);
    parsed_frame q;
    const drop_reason r = parse_frame(std::as_bytes(std::span(f)), q);
    // write_segment does not judge addresses: reversed, a multicast destination becomes a martian
    // source (the guard refuses such SYNs before it writes: tcp_martian_dst)
    if (reverse && (r == drop_reason::ipv4_martian_src || r == drop_reason::ipv6_martian_src))
        return;
    check(r == drop_reason::none);
    check(q.tcp_seq == s.seq && q.tcp_ack == s.ack && q.tcp_flags == s.flags && q.tcp_window == s.window);
    check(q.tcp_payload == 0 && !q.fragment);
    check(reverse ? (q.src == p.dst && q.dst == p.src && q.sport == p.dport && q.dport == p.sport)
                  : (q.src == p.src && q.dst == p.dst && q.sport == p.sport && q.dport == p.dport));
    const tcp::options o = tcp::read_options(tcp_header(f, q));
    check(o.mss == s.opt.mss && o.wscale == s.opt.wscale && o.sack_perm == s.opt.sack_perm && o.ts == s.opt.ts);
    if (o.ts)
        check(o.tsval == s.opt.tsval && o.tsecr == s.opt.tsecr);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 12)
        return 0;
    const std::uint8_t* prm = data;
    std::vector<std::uint8_t> frame(data + 12, data + size);
    // any bytes as a TCP header: bounded walks only
    std::vector<std::uint8_t> raw = frame;
    tcp::read_options(std::as_bytes(std::span(raw)));
    tcp::translate(std::as_writable_bytes(std::span(raw)), {.seq = 1, .ack = 2, .tsval = 3, .tsecr = 4, .window = 2});

    parsed_frame p;
    if (parse_frame(std::as_bytes(std::span(frame)), p) != drop_reason::none || p.proto != 6 || p.fragment ||
        !p.l4_offset)
        return 0;
    translated(frame, p, prm);
    rewritten(frame, p, prm);

    syn::cookie_jar jar({u32(prm), u32(prm + 4)});
    const syn::endpoints e{p.src, p.dst, p.sport, p.dport};
    const std::uint32_t now = u32(prm + 8);
    const std::uint32_t c = jar.make(e, p.tcp_seq, p.tcp_window, now);
    check(jar.check(e, p.tcp_seq, c, now) == syn::mss_table[syn::mss_index(p.tcp_window)]);
    return 0;
}
