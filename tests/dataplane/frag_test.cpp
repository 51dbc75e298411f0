// SPDX-License-Identifier: Apache-2.0
// Fragment trains (dataplane/frag_table.hpp) and ICMP's keys
// (dataplane/icmp_track.hpp), without EAL: frames built byte by byte and
// parsed, then given to the table in order.
#include "dataplane/frag_table.hpp"
#include "dataplane/icmp_track.hpp"
#include "tests/dataplane/frames.hpp"

#include <catch2/catch.hpp>

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace Catch {
template <> struct StringMaker<pkt_verdict> {
    static std::string convert(const pkt_verdict& v)
    {
        static constexpr const char* actions[] = {"forward", "drop", "reply", "punt"};
        return std::string(actions[static_cast<unsigned>(v.action)]) + " " + std::string(reason_name(v.why));
    }
};
} // namespace Catch

namespace {

constexpr std::uint16_t mf = 0x2000;
const bytes outer{203, 0, 113, 5}, server{10, 10, 0, 2};

parsed_frame parse(const bytes& f)
{
    parsed_frame p;
    REQUIRE(parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none);
    return p;
}

// A fragment of a UDP datagram from outer:sport to server:4000 with IPv4 id
// `id`: the first (offset 0, the 8-byte UDP header and `len` - 8 bytes), or
// a later one of `len` bytes at `offset` bytes.
parsed_frame udp_first(std::uint16_t id, std::uint16_t sport = 40000, std::size_t len = 24)
{
    return parse(v4frame({.proto = 17, .src = outer, .dst = server, .frag = mf, .id = id}, udp(sport, 4000, len - 8)));
}
parsed_frame udp_later(std::uint16_t id, std::uint16_t offset, std::size_t len, bool more = true)
{
    const auto field = static_cast<std::uint16_t>((more ? mf : 0) | offset / 8);
    return parse(v4frame({.proto = 17, .src = outer, .dst = server, .frag = field, .id = id}, bytes(len, 0x55)));
}

constexpr pkt_verdict fwd{pkt_action::forward, drop_reason::none};
pkt_verdict dropped(drop_reason r) { return {pkt_action::drop, r}; }

} // namespace

TEST_CASE("frag: later fragments inherit the first's verdict, forward or drop", "[dataplane][frag]")
{
    frag_table t(1024, 1);
    // a memcached reflection whose first fragment the ACL denied: every later fragment goes with it
    CHECK(t.first_fragment(udp_first(7, 11211), dropped(drop_reason::acl_deny), 100) ==
          dropped(drop_reason::acl_deny));
    CHECK(t.later_fragment(udp_later(7, 24, 1480), fwd, 100) == dropped(drop_reason::acl_deny));
    CHECK(t.later_fragment(udp_later(7, 1504, 100, false), fwd, 100) == dropped(drop_reason::acl_deny));
    // a valid datagram in three fragments: all forwarded, and once every byte was seen the train is freed
    CHECK(t.first_fragment(udp_first(8), fwd, 100) == fwd);
    CHECK(t.later_fragment(udp_later(8, 24, 1480), fwd, 100) == fwd);
    CHECK(t.find(frag_key_of(udp_first(8)), 100) != nullptr);
    CHECK(t.later_fragment(udp_later(8, 1504, 100, false), fwd, 100) == fwd);
    CHECK(t.find(frag_key_of(udp_first(8)), 100) == nullptr);
    CHECK(t.stats().trains == 2);
    CHECK(t.stats().completed == 1);
    CHECK(t.stats().later == 4);
    // the same id from another protocol, or between other addresses, is another train
    CHECK(t.later_fragment(parse(v4frame({.proto = 6, .src = outer, .dst = server, .frag = mf | 3, .id = 7},
                                         bytes(16, 0))),
                           fwd, 100) == dropped(drop_reason::frag_no_first));
    // a later fragment an earlier stage dropped keeps its own reason
    CHECK(t.later_fragment(udp_later(7, 24, 8), dropped(drop_reason::blocklisted), 100) ==
          dropped(drop_reason::blocklisted));
}

TEST_CASE("frag: a later fragment whose first was never seen is dropped; trains expire", "[dataplane][frag]")
{
    frag_table t(1024, 2);
    CHECK(t.later_fragment(udp_later(9, 24, 64), fwd, 50) == dropped(drop_reason::frag_no_first));
    // the first fragment arriving after it starts a train: the rest of it passes
    CHECK(t.first_fragment(udp_first(9), fwd, 50) == fwd);
    CHECK(t.later_fragment(udp_later(9, 88, 64), fwd, 50 + frag_life - 1) == fwd);
    CHECK(t.live(50 + frag_life - 1) == 1);
    // frag_life seconds after its first fragment the train is gone
    CHECK(t.later_fragment(udp_later(9, 152, 64), fwd, 50 + frag_life) == dropped(drop_reason::frag_no_first));
    CHECK(t.live(50 + frag_life) == 0);
    // and its id may start a new one
    CHECK(t.first_fragment(udp_first(9), fwd, 50 + frag_life) == fwd);
}

TEST_CASE("frag: a full table refuses the first fragment (fail closed); dropped trains make room",
          "[dataplane][frag]")
{
    frag_table t(16, 3); // two buckets of eight: every key may use either
    REQUIRE(t.capacity() == 16);
    for (std::uint16_t id = 1; id <= 16; ++id)
        REQUIRE(t.first_fragment(udp_first(id), fwd, 10) == fwd);
    CHECK(t.first_fragment(udp_first(17), fwd, 10) == dropped(drop_reason::frag_table_full));
    CHECK(t.stats().refused == 1);
    CHECK(t.later_fragment(udp_later(17, 24, 64), fwd, 10) == dropped(drop_reason::frag_no_first));
    // trains already recorded go on
    CHECK(t.later_fragment(udp_later(16, 24, 64), fwd, 10) == fwd);
    // once they expire the slots are free again, with no sweep
    CHECK(t.first_fragment(udp_first(17), fwd, 10 + frag_life) == fwd);

    // a table full of dropped trains: a train to forward takes one's slot, and that train's later
    // fragments are still dropped (as frag_no_first)
    frag_table d(16, 4);
    for (std::uint16_t id = 1; id <= 16; ++id)
        REQUIRE(d.first_fragment(udp_first(id, 11211), dropped(drop_reason::acl_deny), 10) ==
                dropped(drop_reason::acl_deny));
    CHECK(d.first_fragment(udp_first(100), fwd, 10) == fwd);
    CHECK(d.later_fragment(udp_later(100, 24, 64), fwd, 10) == fwd);
    unsigned no_first = 0, denied = 0;
    for (std::uint16_t id = 1; id <= 16; ++id) {
        const pkt_verdict v = d.later_fragment(udp_later(id, 24, 64), fwd, 10);
        no_first += v == dropped(drop_reason::frag_no_first);
        denied += v == dropped(drop_reason::acl_deny);
    }
    CHECK(no_first == 1);
    CHECK(denied == 15);
    // a dropped train that finds no room is simply not recorded: its fragments are dropped all the same
    CHECK(d.first_fragment(udp_first(101, 11211), dropped(drop_reason::acl_deny), 10) ==
          dropped(drop_reason::acl_deny));
    CHECK(d.later_fragment(udp_later(101, 24, 64), fwd, 10) == dropped(drop_reason::frag_no_first));
    CHECK(d.stats().refused == 0);
}

TEST_CASE("frag: overlaps between fragments drop the train (RFC 5722, RFC 1858)", "[dataplane][frag]")
{
    frag_table t(1024, 5);
    REQUIRE(t.first_fragment(udp_first(1), fwd, 1) == fwd); // [0, 24)
    REQUIRE(t.later_fragment(udp_later(1, 24, 24), fwd, 1) == fwd); // [24, 48)
    // [40, 64) overlaps what the train carried: dropped, and so is the rest of the train
    CHECK(t.later_fragment(udp_later(1, 40, 24), fwd, 1) == dropped(drop_reason::frag_overlap_train));
    CHECK(t.later_fragment(udp_later(1, 48, 24, false), fwd, 1) == dropped(drop_reason::frag_overlap_train));

    // a later fragment over the first fragment's bytes (offset 16 < 24)
    REQUIRE(t.first_fragment(udp_first(2), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(2, 16, 24), fwd, 1) == dropped(drop_reason::frag_overlap_train));

    // out of order but disjoint: fine; then a second last fragment, and bytes past the end
    REQUIRE(t.first_fragment(udp_first(3), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(3, 64, 16, false), fwd, 1) == fwd); // the last, out of order
    CHECK(t.later_fragment(udp_later(3, 24, 16), fwd, 1) == fwd);        // a hole at [40, 64) left
    CHECK(t.later_fragment(udp_later(3, 80, 8, false), fwd, 1) == dropped(drop_reason::frag_overlap_train));
    REQUIRE(t.first_fragment(udp_first(4), fwd, 1) == fwd);
    REQUIRE(t.later_fragment(udp_later(4, 64, 16, false), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(4, 80, 8), fwd, 1) == dropped(drop_reason::frag_overlap_train));

    // a duplicate of the first fragment (same length, same verdict) passes; a different one is an overlap
    REQUIRE(t.first_fragment(udp_first(5), fwd, 1) == fwd);
    CHECK(t.first_fragment(udp_first(5), fwd, 1) == fwd);
    CHECK(t.first_fragment(udp_first(5, 40000, 32), fwd, 1) == dropped(drop_reason::frag_overlap_train));
    CHECK(t.later_fragment(udp_later(5, 24, 8), fwd, 1) == dropped(drop_reason::frag_overlap_train));
    // a first fragment that rewrites the ports into a denied one: dropped with its own reason, train poisoned
    REQUIRE(t.first_fragment(udp_first(6), fwd, 1) == fwd);
    CHECK(t.first_fragment(udp_first(6, 11211), dropped(drop_reason::acl_deny), 1) == dropped(drop_reason::acl_deny));
    CHECK(t.later_fragment(udp_later(6, 24, 8), fwd, 1) == dropped(drop_reason::frag_overlap_train));

    // more than four disjoint ranges: fail closed
    REQUIRE(t.first_fragment(udp_first(7), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(7, 40, 8), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(7, 64, 8), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(7, 88, 8), fwd, 1) == fwd);
    CHECK(t.later_fragment(udp_later(7, 112, 8), fwd, 1) == dropped(drop_reason::frag_overlap_train));
    // filling holes merges ranges: a train delivered backwards completes
    REQUIRE(t.first_fragment(udp_first(8), fwd, 1) == fwd);
    for (std::uint16_t off : {96, 72, 48, 24})
        CHECK(t.later_fragment(udp_later(8, off, 24, off != 96), fwd, 1) == fwd);
    CHECK(t.find(frag_key_of(udp_first(8)), 1) == nullptr);
}

TEST_CASE("frag: IPv6 trains are keyed by the 32-bit id without the protocol; apply() goes in frame order",
          "[dataplane][frag]")
{
    const bytes first = v6frame(44, cat(frag6(17, 0, true), udp(11211, 4000, 16)));
    const bytes later = v6frame(44, cat(frag6(17, 24, false), bytes(40, 0)));
    bytes other_id = later;
    other_id[14 + 40 + 7] ^= 1; // the id's last byte
    parsed_frame frames[4] = {parse(later), parse(first), parse(later), parse(other_id)};
    CHECK(frames[1].frag_id == frames[2].frag_id);
    pkt_verdict v[4] = {fwd, dropped(drop_reason::acl_deny), fwd, fwd};
    frag_table t(1024, 6);
    t.apply(frames, v, 4, 1);
    CHECK(v[0] == dropped(drop_reason::frag_no_first)); // before its first in the burst
    CHECK(v[1] == dropped(drop_reason::acl_deny));
    CHECK(v[2] == dropped(drop_reason::acl_deny));
    CHECK(v[3] == dropped(drop_reason::frag_no_first));
    // frames that are not fragments are left alone
    parsed_frame plain = parse(v6frame(17, udp(1, 2)));
    pkt_verdict pv = fwd;
    t.apply(&plain, &pv, 1, 1);
    CHECK(pv == fwd);
}

namespace {

// The IP header and first 8 bytes of L4 of `frame` (an Ethernet frame), as an ICMP error quotes them.
bytes quote(const bytes& frame, std::size_t ip_header)
{
    return bytes(frame.begin() + 14, frame.begin() + 14 + static_cast<std::ptrdiff_t>(ip_header) + 8);
}
bytes icmp_msg(std::uint8_t type, std::uint8_t code, const bytes& body)
{
    bytes m{type, code, 0, 0, 0, 0, 0, 0};
    return cat(m, body);
}

} // namespace

TEST_CASE("icmp: kinds, echo keys both ways, and the flow an error quotes", "[dataplane][icmp]")
{
    bytes echo = icmp_msg(8, 0, bytes(8, 1));
    put16(echo, 4, 0x1234);
    bytes reply = echo;
    reply[0] = 0;
    const parsed_frame req = parse(v4frame({.proto = 1, .src = server, .dst = outer}, echo));
    const parsed_frame rep = parse(v4frame({.proto = 1, .src = outer, .dst = server}, reply));
    CHECK(classify_icmp(req) == icmp_kind::echo_request);
    CHECK(classify_icmp(rep) == icmp_kind::echo_reply);
    CHECK(req.icmp_id == 0x1234);
    CHECK(echo_key(req).key == echo_key(rep).key);
    CHECK(echo_key(req).src_is_a != echo_key(rep).src_is_a);
    for (std::uint8_t t : {3, 4, 5, 11, 12})
        CHECK(classify_icmp(parse(v4frame({.proto = 1, .src = outer, .dst = server}, icmp_msg(t, 0, {})))) ==
              icmp_kind::error);
    for (std::uint8_t t : {9, 10, 13, 14})
        CHECK(classify_icmp(parse(v4frame({.proto = 1, .src = outer, .dst = server}, icmp_msg(t, 0, {})))) ==
              icmp_kind::other);

    // an inside server's UDP datagram, and a router's port unreachable back to it
    const bytes sent = v4frame({.proto = 17, .src = server, .dst = outer}, udp(33000, 53));
    const keyed flow = make_flow_key(parse(sent));
    const bytes router{198, 51, 100, 1};
    const bytes err = v4frame({.proto = 1, .src = router, .dst = server}, icmp_msg(3, 3, quote(sent, 20)));
    keyed k;
    REQUIRE(quoted_flow(std::as_bytes(std::span(err)), parse(err), k));
    CHECK(k.key == flow.key);
    // quoted bytes that name nothing: cut inside the UDP header, a quoted source that is not the error's
    // destination, a later fragment, an IP version that lies
    bytes short_quote = quote(sent, 20);
    short_quote.pop_back();
    const bytes cut = v4frame({.proto = 1, .src = router, .dst = server}, icmp_msg(3, 3, short_quote));
    CHECK_FALSE(quoted_flow(std::as_bytes(std::span(cut)), parse(cut), k));
    const bytes elsewhere = v4frame({.proto = 1, .src = router, .dst = {10, 10, 0, 3}}, icmp_msg(3, 3, quote(sent, 20)));
    CHECK_FALSE(quoted_flow(std::as_bytes(std::span(elsewhere)), parse(elsewhere), k));
    bytes q = quote(sent, 20);
    q[6] = 0x00;
    q[7] = 0x10; // offset 128 bytes: no ports in it
    const bytes frag = v4frame({.proto = 1, .src = router, .dst = server}, icmp_msg(11, 1, q));
    CHECK_FALSE(quoted_flow(std::as_bytes(std::span(frag)), parse(frag), k));
    q = quote(sent, 20);
    q[0] = 0x65;
    const bytes v6in4 = v4frame({.proto = 1, .src = router, .dst = server}, icmp_msg(3, 3, q));
    CHECK_FALSE(quoted_flow(std::as_bytes(std::span(v6in4)), parse(v6in4), k));
    // an error quoting an echo request names the echo's pseudo-flow
    const bytes ping = v4frame({.proto = 1, .src = server, .dst = outer}, echo);
    const bytes ttl = v4frame({.proto = 1, .src = router, .dst = server}, icmp_msg(11, 0, quote(ping, 20)));
    REQUIRE(quoted_flow(std::as_bytes(std::span(ttl)), parse(ttl), k));
    CHECK(k.key == echo_key(req).key);

    // IPv6: packet too big quoting a TCP segment from v6a, after a destination options header
    const bytes seg6 = eth(0x86dd, ipv6(60, cat(ext(6), testing::tcp(40000, 443, 0x10)), v6a, v6b));
    const bytes ptb = eth(0x86dd, ipv6(58, icmp_msg(2, 0, bytes(seg6.begin() + 14, seg6.begin() + 14 + 48 + 8)), v6b, v6a));
    const parsed_frame p6 = parse(ptb);
    CHECK(classify_icmp(p6) == icmp_kind::error);
    REQUIRE(quoted_flow(std::as_bytes(std::span(ptb)), p6, k));
    CHECK(k.key == make_flow_key(parse(seg6)).key);
    // neighbour solicitation: untracked, passes
    CHECK(classify_icmp(parse(eth(0x86dd, ipv6(58, icmp_msg(135, 0, bytes(16, 0)), v6a, v6b)))) == icmp_kind::other);
}
