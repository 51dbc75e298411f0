// SPDX-License-Identifier: Apache-2.0
// TCP tracking without EAL: conntrack's states walked segment by segment
// (table-driven: each step is a segment, the verdict it gets and the state
// after it), the window checks, RFC 5961's blind RST and SYN, pickup.
#include "dataplane/tcp_track.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

using namespace bulwark::dataplane::tcp;

namespace {

constexpr side O = side::original, R = side::reply;
constexpr std::uint8_t SYN = flag::syn, ACK = flag::ack, FIN = flag::fin, RST = flag::rst, PSH = flag::psh;

struct step {
    side from;
    std::uint8_t flags;
    std::uint32_t seq, ack;
    std::uint32_t payload = 0;
    std::uint16_t window = 60000;
    verdict want = verdict::accept;
    state after = state::none;
    std::int8_t wscale = -1;
};

bool same(const conn& a, const conn& b) { return std::memcmp(&a, &b, sizeof(conn)) == 0; }

// Runs the steps on one flow; a refused segment must leave the flow as it was.
void walk(const std::vector<step>& steps, bool pickup = false, conn c = {})
{
    int n = 0;
    for (const auto& s : steps) {
        ++n;
        segment seg{s.seq, s.ack, s.window, s.flags, s.payload, s.wscale};
        const conn before = c;
        verdict v = track(c, s.from, seg, pickup);
        INFO("step " << n << ": " << (s.from == O ? "original" : "reply") << " flags " << int(s.flags) << " seq "
                     << s.seq << " ack " << s.ack);
        CHECK(verdict_name(v) == verdict_name(s.want));
        CHECK(state_name(c.st) == state_name(s.after));
        if (v != verdict::accept)
            CHECK(same(c, before));
    }
}

// A client at 1000 and a server at 5000 after the handshake.
std::vector<step> handshake(std::uint32_t c = 1000, std::uint32_t s = 5000)
{
    return {
        {O, SYN, c, 0, 0, 64240, verdict::accept, state::syn_sent},
        {R, SYN | ACK, s, c + 1, 0, 65160, verdict::accept, state::syn_recv},
        {O, ACK, c + 1, s + 1, 0, 502, verdict::accept, state::established},
    };
}

std::vector<step> operator+(std::vector<step> a, const std::vector<step>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

TEST_CASE("tcp: a whole connection, opened, used and closed from both sides", "[dataplane][tcp]")
{
    walk(handshake() + std::vector<step>{
        {O, ACK | PSH, 1001, 5001, 100, 502, verdict::accept, state::established},
        {R, ACK | PSH, 5001, 1101, 1000, 509, verdict::accept, state::established},
        {O, ACK, 1101, 6001, 0, 500, verdict::accept, state::established},
        {O, FIN | ACK, 1101, 6001, 0, 500, verdict::accept, state::fin_wait},
        {R, ACK, 6001, 1102, 0, 509, verdict::accept, state::close_wait},
        {R, FIN | ACK, 6001, 1102, 0, 509, verdict::accept, state::last_ack},
        {O, ACK, 1102, 6002, 0, 500, verdict::accept, state::time_wait},
        // a new connection on the same ports once the old one is over
        {O, SYN, 90000, 0, 0, 64240, verdict::accept, state::syn_sent},
    });
}

TEST_CASE("tcp: both FINs at once, and a FIN on the handshake's last ACK", "[dataplane][tcp]")
{
    walk(handshake() + std::vector<step>{
        {O, FIN | ACK, 1001, 5001, 0, 502, verdict::accept, state::fin_wait},
        {R, FIN | ACK, 5001, 1002, 0, 509, verdict::accept, state::last_ack},   // acks the first, sends its own
        {O, ACK, 1002, 5002, 0, 502, verdict::accept, state::time_wait},
    });
    walk({
        {O, SYN, 1000, 0, 0, 64240, verdict::accept, state::syn_sent},
        {R, SYN | ACK, 5000, 1001, 0, 65160, verdict::accept, state::syn_recv},
        {O, FIN | ACK, 1001, 5001, 0, 502, verdict::accept, state::fin_wait},
    });
}

TEST_CASE("tcp: a flow starts with a SYN, or mid-stream in the pickup window only", "[dataplane][tcp]")
{
    walk({{O, ACK, 1000, 5000, 0, 502, verdict::not_syn, state::none}});
    walk({{O, ACK | PSH, 1000, 5000, 10, 502, verdict::not_syn, state::none}});
    walk({{O, FIN | ACK, 1000, 5000, 0, 502, verdict::not_syn, state::none}});
    walk({{O, SYN | ACK, 1000, 5000, 0, 502, verdict::not_syn, state::none}}, true); // never a flow's first
    walk({{O, RST, 1000, 0, 0, 0, verdict::not_syn, state::none}}, true);
    walk({{O, 0, 1000, 0, 10, 0, verdict::not_syn, state::none}}, true);             // no ACK
    // picked up: an established session from before a restart goes on, both ways, and closes
    walk({
        {O, ACK | PSH, 1000, 5000, 100, 502, verdict::accept, state::established},
        {R, ACK, 5000, 1100, 0, 509, verdict::accept, state::established},
        {R, ACK | PSH, 5000, 1100, 5000, 509, verdict::accept, state::established},
        {O, FIN | ACK, 1100, 10000, 0, 502, verdict::accept, state::fin_wait},
        {R, FIN | ACK, 10000, 1101, 0, 509, verdict::accept, state::last_ack},
        {O, ACK, 1101, 10001, 0, 502, verdict::accept, state::time_wait},
    }, true);
    conn c;
    segment mid{1000, 5000, 502, ACK, 100, -1};
    REQUIRE(track(c, O, mid, true) == verdict::accept);
    CHECK(c.picked_up);
}

TEST_CASE("tcp: the handshake refuses what no real peer sends", "[dataplane][tcp]")
{
    const step syn{O, SYN, 1000, 0, 0, 64240, verdict::accept, state::syn_sent};
    walk({syn, {O, SYN | ACK, 1000, 1, 0, 64240, verdict::bad_transition, state::syn_sent}});
    walk({syn, {R, SYN | ACK, 5000, 4242, 0, 65160, verdict::out_of_window, state::syn_sent}}); // acks no SYN
    walk({syn, {R, ACK, 5000, 1001, 0, 65160, verdict::bad_transition, state::syn_sent}});
    walk({syn, {O, ACK | PSH, 1001, 1, 10, 64240, verdict::bad_transition, state::syn_sent}});
    // a RST in SYN_SENT must acknowledge the SYN (RFC 9293 3.10.7.3): a blind one does not close
    walk({syn, {R, RST, 5000, 0, 0, 0, verdict::rst_out_of_window, state::syn_sent}});
    walk({syn, {R, RST | ACK, 0, 77, 0, 0, verdict::rst_out_of_window, state::syn_sent}});
    walk({syn, {R, RST | ACK, 0, 1001, 0, 0, verdict::accept, state::close}});   // port closed: refused
    // retransmissions pass and change nothing
    walk({syn, syn, {R, SYN | ACK, 5000, 1001, 0, 65160, verdict::accept, state::syn_recv},
          {R, SYN | ACK, 5000, 1001, 0, 65160, verdict::accept, state::syn_recv},
          {R, SYN | ACK, 5000, 999, 0, 65160, verdict::out_of_window, state::syn_recv},
          {O, SYN, 1000, 0, 0, 64240, verdict::accept, state::syn_recv},
          {O, ACK, 1001, 9999, 0, 502, verdict::out_of_window, state::syn_recv}, // acks what was never sent
          {O, ACK, 1001, 5001, 0, 502, verdict::accept, state::established}});
}

TEST_CASE("tcp: simultaneous open", "[dataplane][tcp]")
{
    walk({
        {O, SYN, 1000, 0, 0, 64240, verdict::accept, state::syn_sent},
        {R, SYN, 5000, 0, 0, 65160, verdict::accept, state::syn_sent2},
        {R, SYN | ACK, 5000, 1001, 0, 65160, verdict::accept, state::syn_recv},
        {O, ACK, 1001, 5001, 0, 502, verdict::accept, state::established},
    });
}

TEST_CASE("tcp: segments outside the window are refused, retransmissions within one window pass",
          "[dataplane][tcp]")
{
    // the server's SYN/ACK window is 65160 bytes: the client may send up to 1001 + 65160
    walk(handshake() + std::vector<step>{
        {O, ACK | PSH, 1001, 5001, 65160, 502, verdict::accept, state::established},      // fills it exactly
        {O, ACK | PSH, 66161, 5001, 1, 502, verdict::out_of_window, state::established},  // one byte over
        {O, ACK | PSH, 1001, 5001, 1000, 502, verdict::accept, state::established},       // a retransmission
        {O, ACK | PSH, 1001u - 70000u, 5001, 10, 502, verdict::out_of_window, state::established}, // too old
        {O, ACK, 66161, 5002, 0, 502, verdict::out_of_window, state::established},        // acks unsent data
        {O, ACK, 66161, 5001u - 70000u, 0, 502, verdict::out_of_window, state::established}, // an ack far behind
        // the server's ACK opens the window further: ack 66161 + window 509 (unscaled) allows up to 66670
        {R, ACK, 5001, 66161, 0, 509, verdict::accept, state::established},
        {O, ACK | PSH, 66161, 5001, 509, 502, verdict::accept, state::established},
        {O, ACK | PSH, 66670, 5001, 1, 502, verdict::out_of_window, state::established},
        // a FIN takes a sequence number too: it waits for the server's ACK to open the window
        {O, FIN | ACK, 66670, 5001, 0, 502, verdict::out_of_window, state::established},
        {R, ACK, 5001, 66670, 0, 509, verdict::accept, state::established},
        // data after its own FIN
        {O, FIN | ACK, 66670, 5001, 0, 502, verdict::accept, state::fin_wait},
        {O, ACK | PSH, 66671, 5001, 10, 502, verdict::out_of_window, state::fin_wait},
    });
}

TEST_CASE("tcp: window scaling applies once both SYNs offered it", "[dataplane][tcp]")
{
    // both offer 7: a window of 512 means 65536 bytes after the handshake
    walk({
        {O, SYN, 1000, 0, 0, 64240, verdict::accept, state::syn_sent, 7},
        {R, SYN | ACK, 5000, 1001, 0, 65160, verdict::accept, state::syn_recv, 7},
        {O, ACK, 1001, 5001, 0, 502, verdict::accept, state::established},
        {R, ACK, 5001, 1001, 0, 512, verdict::accept, state::established},
        {O, ACK | PSH, 1001, 5001, 65536, 502, verdict::accept, state::established},
        {O, ACK | PSH, 66537, 5001, 1, 502, verdict::out_of_window, state::established},
    });
    // only the client offers it: windows stay unscaled, 512 means 512
    walk({
        {O, SYN, 1000, 0, 0, 64240, verdict::accept, state::syn_sent, 7},
        {R, SYN | ACK, 5000, 1001, 0, 512, verdict::accept, state::syn_recv},
        {O, ACK, 1001, 5001, 0, 502, verdict::accept, state::established},
        {R, ACK, 5001, 1001, 0, 512, verdict::accept, state::established},
        {O, ACK | PSH, 1001, 5001, 512, 502, verdict::accept, state::established},
        {O, ACK | PSH, 1513, 5001, 1, 502, verdict::out_of_window, state::established},
    });
}

TEST_CASE("tcp: RFC 5961 — a blind RST or SYN does not kill the session", "[dataplane][tcp]")
{
    const auto est = handshake() + std::vector<step>{{O, ACK | PSH, 1001, 5001, 100, 502, verdict::accept,
                                                      state::established}};
    // a RST far from the window: dropped; in the window but not exact: passes, the flow stays
    walk(est + std::vector<step>{{R, RST, 900000, 0, 0, 0, verdict::rst_out_of_window, state::established},
                                 {O, RST, 1050, 0, 0, 0, verdict::accept, state::established},
                                 {O, RST, 1101, 0, 0, 0, verdict::accept, state::close}}); // the exact next: closes
    walk(est + std::vector<step>{{R, RST | ACK, 5001, 1101, 0, 0, verdict::accept, state::close}});
    // a SYN inside the window: a blind injection; far outside: it passes, the endpoint answers with an ACK
    walk(est + std::vector<step>{{O, SYN, 1200, 0, 0, 64240, verdict::syn_in_window, state::established},
                                 {R, SYN, 5001, 0, 0, 64240, verdict::syn_in_window, state::established},
                                 {O, SYN, 3000000, 0, 0, 64240, verdict::accept, state::established},
                                 {O, SYN | ACK, 1101, 5001, 0, 64240, verdict::bad_transition, state::established},
                                 {O, 0, 1101, 0, 10, 0, verdict::bad_transition, state::established}});
    // a peer that really restarted: its SYN passes, the server's ACK comes back, the peer's RST at that exact
    // sequence closes the flow, and the peer's next SYN opens a new one
    walk(est + std::vector<step>{{O, SYN, 3000000, 0, 0, 64240, verdict::accept, state::established},
                                 {R, ACK, 5001, 1101, 0, 509, verdict::accept, state::established},
                                 {O, RST, 1101, 0, 0, 0, verdict::accept, state::close},
                                 {O, SYN, 3000000, 0, 0, 64240, verdict::accept, state::syn_sent}});
    // a picked-up flow has no window to judge by: a RST passes without closing unless exact, a SYN is refused
    walk({{O, ACK | PSH, 1000, 5000, 100, 502, verdict::accept, state::established},
          {R, RST, 77777, 0, 0, 0, verdict::accept, state::established},
          {O, SYN, 1100, 0, 0, 64240, verdict::syn_in_window, state::established},
          {O, RST, 1100, 0, 0, 0, verdict::accept, state::close}},
         true);
}

TEST_CASE("tcp: sequence numbers wrap around 2^32", "[dataplane][tcp]")
{
    const std::uint32_t c = 0xffffff00u, s = 0xfffffff0u;
    walk(handshake(c, s) + std::vector<step>{
        {O, ACK | PSH, c + 1, s + 1, 1000, 502, verdict::accept, state::established}, // crosses zero
        {R, ACK | PSH, s + 1, c + 1001, 100, 509, verdict::accept, state::established},
        {O, FIN | ACK, c + 1001, s + 101, 0, 502, verdict::accept, state::fin_wait},
        {R, ACK, s + 101, c + 1002, 0, 509, verdict::accept, state::close_wait},
    });
    CHECK(before(0xffffffffu, 0));
    CHECK(after(5, 0xfffffff0u));
    CHECK_FALSE(before(7, 7));
}

TEST_CASE("tcp: every state has a name and a timeout; opening states are embryonic", "[dataplane][tcp]")
{
    for (int i = 0; i < static_cast<int>(state::count_); ++i) {
        auto s = static_cast<state>(i);
        CHECK(state_name(s) != "?");
        CHECK((s == state::none) == (timeout_seconds(s) == 0));
    }
    CHECK(timeout_seconds(state::established) == 5 * 24 * 3600);
    CHECK(timeout_seconds(state::syn_recv) == 60);
    CHECK(embryonic(state::syn_sent));
    CHECK(embryonic(state::syn_sent2));
    CHECK_FALSE(embryonic(state::established));
}
