// SPDX-License-Identifier: Apache-2.0
// The SYN guard's pure parts without EAL: SipHash against its reference
// vectors, cookies (the period window, the MSS table, forgeries refused),
// the options carried in the timestamp, and the segments the guard writes
// and translates (read back by the validator, checksums included).
#include "dataplane/packet.hpp"
#include "dataplane/syn_cookie.hpp"
#include "dataplane/tcp_rewrite.hpp"
#include "frames.hpp"

#include <catch2/catch.hpp>
#include <random>

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

syn::endpoints client()
{
    syn::endpoints e;
    e.src = {192, 0, 2, 9};
    e.dst = {10, 10, 0, 2};
    e.sport = 40000;
    e.dport = 80;
    return e;
}

constexpr syn::sipkey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL}; // the paper's key 00..0f

// A TCP segment with `opts` (a multiple of 4 bytes) and `payload` bytes.
bytes segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t ack, const bytes& opts, std::size_t payload = 0,
              bool v6 = false)
{
    bytes t = testing::tcp(40000, 80, flags, static_cast<std::uint8_t>(5 + opts.size() / 4), payload);
    put16(t, 4, static_cast<std::uint16_t>(seq >> 16));
    put16(t, 6, static_cast<std::uint16_t>(seq));
    put16(t, 8, static_cast<std::uint16_t>(ack >> 16));
    put16(t, 10, static_cast<std::uint16_t>(ack));
    put16(t, 14, 1000);
    std::copy(opts.begin(), opts.end(), t.begin() + 20);
    for (std::size_t i = 0; i < payload; ++i)
        t[20 + opts.size() + i] = static_cast<std::uint8_t>(i);
    bytes f = v6 ? v6frame(6, t) : v4frame({.proto = 6}, t);
    std::fill(f.begin(), f.begin() + 6, 1); // destination MAC
    std::fill(f.begin() + 6, f.begin() + 12, 2);
    return f;
}

// MSS 1460, SACK permitted, timestamps 0x11223344/0, window scale 7: Linux's SYN
const bytes syn_options{2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7};

parsed_frame parse_ok(const bytes& f)
{
    parsed_frame p;
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    return p;
}

std::span<std::byte> tcp_of(bytes& f, const parsed_frame& p)
{
    const std::size_t doff = (f[p.l4_offset + 12] >> 4) * 4u;
    return std::as_writable_bytes(std::span(f)).subspan(p.l4_offset, doff);
}

} // namespace

TEST_CASE("siphash: the reference vectors", "[dataplane][syn]")
{
    std::uint8_t msg[64];
    for (int i = 0; i < 64; ++i)
        msg[i] = static_cast<std::uint8_t>(i);
    CHECK(syn::siphash24(key, std::span(msg, 0)) == 0x726fdb47dd0e0e31ULL);
    CHECK(syn::siphash24(key, std::span(msg, 1)) == 0x74f839c593dc67fdULL);
    CHECK(syn::siphash24(key, std::span(msg, 8)) == 0x93f5f5799a932462ULL);
    CHECK(syn::siphash24(key, std::span(msg, 15)) == 0xa129ca6149be45e5ULL);
    CHECK(syn::siphash24(key, std::span(msg, 63)) == 0x958a324ceb064572ULL);
}

TEST_CASE("syn cookies: made and checked in their period and the next, with the MSS they carry", "[dataplane][syn]")
{
    CHECK(syn::mss_index(1460) == 3);
    CHECK(syn::mss_index(9000) == 3);
    CHECK(syn::mss_index(1459) == 2);
    CHECK(syn::mss_index(1300) == 1);
    CHECK(syn::mss_index(100) == 0);

    syn::cookie_jar jar(key);
    const auto e = client();
    const std::uint32_t t0 = 1'000'000 * 64 + 5; // early in a period
    for (std::uint16_t mss : {536, 1300, 1440, 1460, 1400, 8960}) {
        INFO(mss);
        const std::uint32_t c = jar.make(e, 12345, mss, t0);
        CHECK(jar.check(e, 12345, c, t0) == syn::mss_table[syn::mss_index(mss)]);
        CHECK(jar.check(e, 12345, c, t0 + 63) != 0);        // the next period
        CHECK(jar.check(e, 12345, c, t0 + 64 + 58) != 0);  // its last second
        CHECK(jar.check(e, 12345, c, t0 + 128) == 0);      // two periods on: too old
        CHECK(jar.check(e, 12345, c, t0 - 64) == 0);       // from the future
        CHECK(jar.check(e, 12345, c, t0 + 64 * 64) == 0);  // the period counter wrapped: another key
    }
    const std::uint32_t c = jar.make(e, 12345, 1460, t0);
    CHECK(jar.make(e, 12345, 1460, t0 + 30) == c); // a retransmitted SYN gets the same cookie
    // any field changed, or another jar's key: refused
    CHECK(jar.check(e, 12346, c, t0) == 0);
    auto other = e;
    other.sport = 40001;
    CHECK(jar.check(other, 12345, c, t0) == 0);
    other = e;
    other.src[3] = 10;
    CHECK(jar.check(other, 12345, c, t0) == 0);
    CHECK(jar.check(e, 12345, c ^ 0x01000000u, t0) == 0); // another MSS index
    CHECK(jar.check(e, 12345, c ^ 1u, t0) == 0);
    syn::cookie_jar stranger({1, 2});
    CHECK(stranger.check(e, 12345, c, t0) == 0);

    // forgeries: random acknowledgements of a flood pass with odds 2 * 2^-24 each
    std::mt19937 rng(7);
    unsigned forged = 0;
    for (int i = 0; i < 200'000; ++i)
        forged += jar.check(e, static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng()), t0) != 0;
    CHECK(forged <= 2);
}

TEST_CASE("syn cookies: the window scale and SACK ride in the timestamp's low bits", "[dataplane][syn]")
{
    for (int ws = -1; ws <= 14; ++ws)
        for (bool sack : {false, true}) {
            const std::uint32_t ts = syn::ts_encode(0xabcdef12u, {static_cast<std::int8_t>(ws), sack});
            CHECK((ts & ~0x3fu) == (0xabcdef12u & ~0x3fu));
            const auto o = syn::ts_decode(ts);
            CHECK(o.wscale == ws);
            CHECK(o.sack == sack);
        }
}

TEST_CASE("tcp rewrite: options are read, malformed lists end the walk", "[dataplane][syn]")
{
    bytes f = segment(0x02, 1, 0, syn_options);
    const parsed_frame p = parse_ok(f);
    const tcp::options o = tcp::read_options(tcp_of(f, p));
    CHECK(o.mss == 1460);
    CHECK(o.sack_perm);
    CHECK(o.ts);
    CHECK(o.tsval == 0x11223344u);
    CHECK(o.wscale == 7);
    // an option whose length runs past the header: nothing after it is read
    bytes bad = segment(0x02, 1, 0, {2, 4, 0x05, 0xb4, 8, 30, 0, 0, 1, 3, 3, 7});
    const tcp::options b = tcp::read_options(tcp_of(bad, parse_ok(bad)));
    CHECK(b.mss == 1460);
    CHECK_FALSE(b.ts);
    CHECK(b.wscale == -1);
}

TEST_CASE("tcp rewrite: a SYN becomes its SYN-ACK, valid, back to the sender", "[dataplane][syn]")
{
    for (bool v6 : {false, true}) {
        INFO(v6);
        bytes f = segment(0x02, 1000, 0, syn_options, 0, v6);
        const parsed_frame in = parse_ok(f);
        f.resize(f.size() + 64); // the mbuf's tailroom
        tcp::new_segment s;
        s.seq = 0xdeadbeef;
        s.ack = 1001;
        s.flags = 0x12;
        s.window = 65535;
        s.opt = {.mss = 1440, .wscale = 7, .sack_perm = true, .ts = true, .tsval = 77, .tsecr = 0x11223344u};
        const std::size_t len =
            tcp::write_segment(std::as_writable_bytes(std::span(f)), {in.l3_offset, v6, in.sport, in.dport}, true, s);
        REQUIRE(len == 14 + (v6 ? 40 : 20) + 40);
        f.resize(len);
        const parsed_frame out = parse_ok(f); // checksums verified
        CHECK(out.src == in.dst);
        CHECK(out.dst == in.src);
        CHECK(out.sport == 80);
        CHECK(out.dport == 40000);
        CHECK(out.tcp_seq == 0xdeadbeef);
        CHECK(out.tcp_ack == 1001);
        CHECK(out.tcp_flags == 0x12);
        CHECK(out.tcp_payload == 0);
        CHECK(out.tcp_wscale == 7);
        const tcp::options o = tcp::read_options(tcp_of(f, out));
        CHECK(o.mss == 1440);
        CHECK(o.sack_perm);
        CHECK(o.tsval == 77);
        CHECK(o.tsecr == 0x11223344u);
        CHECK(bytes(f.begin(), f.begin() + 12) == bytes{2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1}); // the MACs swapped
    }
    // options alone, each layout, and no room
    for (const tcp::options& opt : {tcp::options{.mss = 536}, tcp::options{.mss = 1460, .sack_perm = true},
                                    tcp::options{.wscale = 3, .ts = true}}) {
        bytes f = segment(0x10, 5, 6, {}, 100);
        const parsed_frame in = parse_ok(f);
        tcp::new_segment s{.seq = 1, .ack = 2, .flags = 0x02, .window = 9, .opt = opt};
        const std::size_t len = tcp::write_segment(std::as_writable_bytes(std::span(f)), {14, false, 40000, 80}, false, s);
        REQUIRE(len);
        f.resize(len);
        const parsed_frame out = parse_ok(f);
        CHECK(out.src == in.src);
        CHECK(out.tcp_payload == 0);
        const tcp::options o = tcp::read_options(tcp_of(f, out));
        CHECK(o.mss == opt.mss);
        CHECK(o.sack_perm == opt.sack_perm);
        CHECK(o.wscale == opt.wscale);
        CHECK(o.ts == opt.ts);
    }
    bytes small = segment(0x02, 1, 0, {});
    CHECK(tcp::write_segment(std::as_writable_bytes(std::span(small)), {14, false, 40000, 80}, true,
                             {.opt = {.mss = 1460, .ts = true}}) == 0);
    CHECK(small == segment(0x02, 1, 0, {})); // unchanged
}

TEST_CASE("tcp rewrite: translation shifts sequence, SACK, timestamps and window, checksum kept valid",
          "[dataplane][syn]")
{
    // NOP NOP TS(10), NOP NOP SACK with two blocks (18): 32 bytes; 300 bytes of data
    const bytes opts{1, 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 200, 1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0,
                     0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10};
    bytes f = segment(0x18, 0xfffffff0u, 5000, opts, 301);
    const parsed_frame in = parse_ok(f);
    tcp::translate(tcp_of(f, in), {.seq = 0x20, .ack = 0x1000, .tsval = 1, .tsecr = 0xffffffffu, .window = 3});
    const parsed_frame out = parse_ok(f); // the payload's sum untouched, the header's updated
    CHECK(out.tcp_seq == 0x10);          // wrapped
    CHECK(out.tcp_ack == 5000 + 0x1000);
    CHECK(out.tcp_window == 8000);
    const tcp::options o = tcp::read_options(tcp_of(f, out));
    CHECK(o.tsval == 101);
    CHECK(o.tsecr == 199);
    const std::size_t sack = out.l4_offset + 20 + 16;
    auto be32 = [&](std::size_t at) {
        return std::uint32_t(f[at]) << 24 | std::uint32_t(f[at + 1]) << 16 | std::uint32_t(f[at + 2]) << 8 | f[at + 3];
    };
    CHECK(be32(sack) == 0x1000 + 0x1000);
    CHECK(be32(sack + 4) == 0x2000 + 0x1000);
    CHECK(be32(sack + 8) == 0xfffffff0u + 0x1000); // wrapped
    CHECK(be32(sack + 12) == 0x10 + 0x1000);
    // a window shifted left saturates; right loses the low bits; no ACK flag: the ack field stays
    tcp::translate(tcp_of(f, out), {.window = 4});
    CHECK(parse_ok(f).tcp_window == 65535);
    tcp::translate(tcp_of(f, out), {.window = -8});
    CHECK(parse_ok(f).tcp_window == 255);
    bytes syn = segment(0x02, 1, 77, syn_options);
    tcp::translate(tcp_of(syn, parse_ok(syn)), {.ack = 5});
    CHECK(parse_ok(syn).tcp_ack == 77);
}
