// SPDX-License-Identifier: Apache-2.0
#pragma once

// TCP tracking as a man in the middle sees it, in the manner of netfilter's
// conntrack (its state names, its per-state timeouts) and of Guido van
// Rooij's "Real Stateful TCP Packet Filtering" (the window checks): one
// flow's state, advanced by one segment at a time, answering whether the
// segment may pass. Pure: no DPDK, no clock, no allocation; the flow table
// (issue #13) keeps one `conn` per flow and calls track() per segment.
//
// What it refuses (each a verdict the pipeline counts as its own drop
// reason):
//  * a first segment that is not a SYN, outside the pickup window;
//  * flags the state cannot take (a SYN/ACK from the side that opened);
//  * data or acks outside what the other side allowed (out of window);
//  * a RST outside the receiver's window (RFC 5961 §3: blind reset); one in
//    the window but not at the exact next sequence passes without closing
//    the flow, so the endpoint's challenge ACK (§3.2) decides;
//  * a SYN inside the window of a synchronized flow (RFC 5961 §4: blind
//    SYN injection). One outside it passes unchanged: the endpoint answers
//    with an ACK, and a peer that really restarted resets the old flow with
//    a RST at the exact sequence, which closes it here too.

#include "dataplane/packet_types.hpp"

#include <cstdint>
#include <string_view>

namespace bulwark::dataplane::tcp {

enum class state : std::uint8_t {
    none,        // nothing seen yet
    syn_sent,    // the original side's SYN
    syn_recv,    // and the reply side's SYN/ACK
    established, // the handshake's last ACK (or a flow picked up mid-stream)
    fin_wait,    // one side sent a FIN, not acknowledged yet
    close_wait,  // one side's FIN acknowledged, the other side still open
    last_ack,    // both sides sent a FIN, the last not acknowledged yet
    time_wait,   // both FINs acknowledged
    close,       // reset
    syn_sent2,   // simultaneous open: a SYN from each side
    count_
};
std::string_view state_name(state s);

// Whether the flow is still opening: evicted first when the table is full.
constexpr bool embryonic(state s)
{
    return s == state::syn_sent || s == state::syn_recv || s == state::syn_sent2;
}

// How long a flow in each state lives without a segment (netfilter's
// defaults), in seconds.
std::uint32_t timeout_seconds(state s);

// The side a segment comes from: the one whose first segment created the
// flow, or the other.
enum class side : std::uint8_t { original = 0, reply = 1 };

namespace flag {
inline constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20;
}

// What track() reads of a segment (the parser fills it).
struct segment {
    std::uint32_t seq = 0, ack = 0;
    std::uint16_t window = 0; // as on the wire: unscaled
    std::uint8_t flags = 0;
    std::uint32_t payload = 0; // bytes after the TCP header
    std::int8_t wscale = -1;   // the window scale option (SYN only), -1 when absent
};

// One side's sequence space as the middle sees it.
struct peer {
    std::uint32_t end = 0;    // the highest sequence it has sent (seq + length)
    std::uint32_t maxend = 0; // the highest sequence the other side let it send (ack + window)
    std::uint32_t maxwin = 1; // the largest window it advertised, scaled
    std::uint32_t fin_end = 0; // with fin_sent: the sequence just after its FIN
    std::uint8_t scale = 0;    // its window scale, once both SYNs carried the option
    std::int8_t offered = -1;  // the scale its SYN offered
    bool seen = false;         // its fields were set by a segment
    bool fin_sent = false, fin_acked = false;
};

struct conn {
    state st = state::none;
    bool picked_up = false; // created mid-stream in the pickup window: windows learnt, not checked, until both sides spoke
    peer p[2];
};

enum class verdict : std::uint8_t {
    accept,
    not_syn,            // no flow, and not a SYN (outside the pickup window)
    bad_transition,     // flags this state cannot take
    out_of_window,      // sequence or acknowledgement outside the window
    rst_out_of_window,  // a blind RST (RFC 5961 §3)
    syn_in_window,      // a blind SYN (RFC 5961 §4)
};
std::string_view verdict_name(verdict v);
// The drop reason a refusal is counted as (none for accept).
drop_reason reason_of(verdict v);

// One segment from `from` on flow c. `pickup`: a flow in state none may
// start with any segment carrying an ACK (a session that existed before a
// start or a reload). c changes only when the verdict is accept.
verdict track(conn& c, side from, const segment& seg, bool pickup);

// Sequence-space comparisons, modulo 2^32 (RFC 1982).
constexpr bool before(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }
constexpr bool after(std::uint32_t a, std::uint32_t b) { return before(b, a); }

} // namespace bulwark::dataplane::tcp
