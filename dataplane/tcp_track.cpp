// SPDX-License-Identifier: Apache-2.0
#include "dataplane/tcp_track.hpp"

#include <algorithm>
#include <array>

namespace bulwark::dataplane::tcp {

namespace {

constexpr std::uint32_t max_ack_window = 66000; // how far back an ACK may lag (netfilter's MAXACKWINCONST)

constexpr std::array<std::string_view, static_cast<std::size_t>(state::count_)> state_names{
    "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",
    "SYN_SENT2"};

constexpr std::array<std::uint32_t, static_cast<std::size_t>(state::count_)> timeouts{
    0, 120, 60, 5 * 24 * 3600, 120, 60, 30, 120, 10, 120};

enum class kind : std::uint8_t { syn, synack, fin, ack, rst, other };

kind kind_of(std::uint8_t f)
{
    if (f & flag::rst)
        return kind::rst;
    if (f & flag::syn)
        return (f & flag::ack) ? kind::synack : kind::syn;
    if (f & flag::fin)
        return kind::fin;
    if (f & flag::ack)
        return kind::ack;
    return kind::other;
}

std::size_t index(side s) { return static_cast<std::size_t>(s) & 1; }
std::size_t other(side s) { return index(s) ^ 1; }

// The sequence just after the segment: SYN and FIN take one each.
std::uint32_t end_of(const segment& seg)
{
    return seg.seq + seg.payload + ((seg.flags & flag::syn) ? 1 : 0) + ((seg.flags & flag::fin) ? 1 : 0);
}

std::uint32_t scaled_window(const peer& p, const segment& seg)
{
    // a SYN's window is never scaled (RFC 7323 §2.2)
    return std::max<std::uint32_t>(1, (seg.flags & flag::syn) ? seg.window : std::uint32_t(seg.window) << p.scale);
}

// A side's SYN (or SYN/ACK) opens its sequence space.
void open_side(peer& p, const segment& seg)
{
    p = peer{};
    p.end = end_of(seg);
    p.maxend = p.end;
    p.maxwin = std::max<std::uint32_t>(1, seg.window);
    p.offered = seg.wscale;
    p.seen = true;
}

// The reply's SYN/ACK: both SYNs seen, the window scales are agreed.
void agree_scales(conn& c)
{
    peer &o = c.p[0], &r = c.p[1];
    if (o.offered >= 0 && r.offered >= 0) {
        o.scale = static_cast<std::uint8_t>(std::min<int>(o.offered, 14));
        r.scale = static_cast<std::uint8_t>(std::min<int>(r.offered, 14));
    }
}

// A side first heard mid-stream (pickup): what it sends is taken as its window.
void learn_side(peer& p, const segment& seg)
{
    p = peer{};
    p.end = end_of(seg);
    p.maxwin = std::max<std::uint32_t>(1, seg.window);
    p.maxend = p.end + p.maxwin;
    p.seen = true;
}

// van Rooij's four bounds: the segment's data lies within what the
// receiver allowed and is at most one window old; its ACK acknowledges
// nothing the receiver has not sent and is at most one window old.
bool in_window(const conn& c, side from, const segment& seg)
{
    const peer& snd = c.p[index(from)];
    const peer& rcv = c.p[other(from)];
    if (c.picked_up || !snd.seen || !rcv.seen)
        return true; // a picked-up flow's scales are unknown: it is tracked liberally, as netfilter does
    const std::uint32_t end = end_of(seg);
    const bool seq_ok = !after(end, snd.maxend) && !before(seg.seq, snd.end - rcv.maxwin - 1);
    if (!seq_ok)
        return false;
    if (!(seg.flags & flag::ack))
        return true;
    const std::uint32_t lag = std::max(snd.maxwin, max_ack_window);
    return !after(seg.ack, rcv.end) && !before(seg.ack, rcv.end - lag);
}

// What an accepted segment teaches about both sides' windows and FINs.
void update(conn& c, side from, const segment& seg)
{
    peer& snd = c.p[index(from)];
    peer& rcv = c.p[other(from)];
    const std::uint32_t end = end_of(seg);
    if (!snd.seen)
        learn_side(snd, seg);
    if (after(end, snd.end))
        snd.end = end;
    snd.maxwin = std::max(snd.maxwin, scaled_window(snd, seg));
    if (after(snd.end, snd.maxend))
        snd.maxend = snd.end;
    if (seg.flags & flag::fin && !snd.fin_sent) {
        snd.fin_sent = true;
        snd.fin_end = end;
    }
    if (seg.flags & flag::ack) {
        const std::uint32_t allowed = seg.ack + scaled_window(snd, seg);
        if (rcv.seen && after(allowed, rcv.maxend))
            rcv.maxend = allowed;
        if (rcv.fin_sent && !before(seg.ack, rcv.fin_end))
            rcv.fin_acked = true;
    }
}

// The closing states follow from the two sides' FINs.
state closing_state(const conn& c)
{
    const peer &a = c.p[0], &b = c.p[1];
    const int sent = a.fin_sent + b.fin_sent, acked = a.fin_acked + b.fin_acked;
    if (sent == 0)
        return state::established;
    if (sent == 1)
        return acked == 1 ? state::close_wait : state::fin_wait;
    return acked == 2 ? state::time_wait : state::last_ack;
}

// A RST on a synchronized flow (RFC 5961 §3): at the exact next sequence
// it closes the flow; elsewhere in the receiver's window it passes and the
// flow stays (the endpoint sends a challenge ACK); outside, it is blind.
verdict track_rst(conn& c, side from, const segment& seg)
{
    const peer& snd = c.p[index(from)];
    const peer& rcv = c.p[other(from)];
    if (snd.seen && seg.seq == snd.end) {
        c.st = state::close;
        return verdict::accept;
    }
    if (c.picked_up || !snd.seen || !rcv.seen)
        return verdict::accept; // no window to judge by: the endpoint judges, the flow stays
    const bool in = !after(seg.seq, snd.maxend) && !before(seg.seq, snd.end - rcv.maxwin - 1);
    return in ? verdict::accept : verdict::rst_out_of_window;
}

// A SYN on a synchronized flow (RFC 5961 §4).
verdict track_late_syn(conn& c, side from, const segment& seg)
{
    const peer& snd = c.p[index(from)];
    const peer& rcv = c.p[other(from)];
    if (c.st == state::time_wait || c.st == state::close) {
        if (from != side::original)
            return verdict::bad_transition;
        open_side(c.p[0], seg); // a new connection on the same ports
        c.p[1] = peer{};
        c.picked_up = false;
        c.st = state::syn_sent;
        return verdict::accept;
    }
    if (c.picked_up || !snd.seen || !rcv.seen)
        return verdict::syn_in_window; // no window to judge by: a SYN on a live flow is refused
    const bool in = !after(seg.seq, snd.maxend) && !before(seg.seq, snd.end - rcv.maxwin - 1);
    return in ? verdict::syn_in_window : verdict::accept; // outside: the endpoint answers with an ACK
}

verdict track_new(conn& c, side from, const segment& seg, bool pickup)
{
    const kind k = kind_of(seg.flags);
    if (k == kind::syn && from == side::original) {
        open_side(c.p[0], seg);
        c.st = state::syn_sent;
        return verdict::accept;
    }
    if (!pickup || !(seg.flags & flag::ack) || k == kind::synack || k == kind::rst)
        return verdict::not_syn;
    c = conn{};
    c.picked_up = true;
    update(c, from, seg);
    c.st = closing_state(c);
    return verdict::accept;
}

verdict track_opening(conn& c, side from, const segment& seg)
{
    const kind k = kind_of(seg.flags);
    peer& o = c.p[0];
    if (k == kind::rst) {
        // in SYN_SENT a RST must acknowledge the SYN (RFC 9293 3.10.7.3)
        if (from == side::reply && c.st == state::syn_sent &&
            (!(seg.flags & flag::ack) || seg.ack != o.end))
            return verdict::rst_out_of_window;
        c.st = state::close;
        return verdict::accept;
    }
    if (k == kind::syn) {
        if (from == side::original) { // a retransmitted SYN, or a new one after a lost SYN/ACK
            if (c.st == state::syn_sent)
                open_side(o, seg);
            return verdict::accept;
        }
        if (c.st != state::syn_sent)
            return verdict::bad_transition;
        open_side(c.p[1], seg); // simultaneous open
        c.st = state::syn_sent2;
        return verdict::accept;
    }
    if (k == kind::synack) {
        if (c.st == state::syn_recv && from == side::reply)
            return seg.ack == o.end ? verdict::accept : verdict::out_of_window; // retransmitted
        if (from == side::original && c.st != state::syn_sent2)
            return verdict::bad_transition;
        if (seg.ack != c.p[other(from)].end)
            return verdict::out_of_window; // it must acknowledge the SYN exactly
        peer& snd = c.p[index(from)];
        if (c.st == state::syn_sent)
            open_side(snd, seg);
        peer& rcv = c.p[other(from)];
        rcv.maxend = seg.ack + std::max<std::uint32_t>(1, seg.window); // SYN windows are unscaled
        snd.maxend = snd.end + rcv.maxwin;
        agree_scales(c);
        c.st = state::syn_recv;
        return verdict::accept;
    }
    if (c.st != state::syn_recv)
        return verdict::bad_transition; // data or FIN before the SYN/ACK
    if (!in_window(c, from, seg))
        return verdict::out_of_window;
    update(c, from, seg);
    if (from == side::original && (seg.flags & flag::ack)) // the handshake's last ACK
        c.st = closing_state(c);
    return verdict::accept;
}

} // namespace

std::string_view state_name(state s)
{
    auto i = static_cast<std::size_t>(s);
    return i < state_names.size() ? state_names[i] : "?";
}

std::uint32_t timeout_seconds(state s)
{
    auto i = static_cast<std::size_t>(s);
    return i < timeouts.size() ? timeouts[i] : 0;
}

drop_reason reason_of(verdict v)
{
    switch (v) {
    case verdict::accept: return drop_reason::none;
    case verdict::not_syn: return drop_reason::tcp_not_syn;
    case verdict::bad_transition: return drop_reason::tcp_bad_transition;
    case verdict::out_of_window: return drop_reason::tcp_out_of_window;
    case verdict::rst_out_of_window: return drop_reason::tcp_rst_out_of_window;
    case verdict::syn_in_window: return drop_reason::tcp_syn_in_window;
    }
    return drop_reason::tcp_bad_transition;
}

std::string_view verdict_name(verdict v)
{
    switch (v) {
    case verdict::accept: return "accept";
    case verdict::not_syn: return "tcp_not_syn";
    case verdict::bad_transition: return "tcp_bad_transition";
    case verdict::out_of_window: return "tcp_out_of_window";
    case verdict::rst_out_of_window: return "tcp_rst_out_of_window";
    case verdict::syn_in_window: return "tcp_syn_in_window";
    }
    return "?";
}

verdict track(conn& c, side from, const segment& seg, bool pickup)
{
    if (c.st == state::none)
        return track_new(c, from, seg, pickup);
    if (embryonic(c.st))
        return track_opening(c, from, seg);
    const kind k = kind_of(seg.flags);
    if (k == kind::rst)
        return track_rst(c, from, seg);
    if (k == kind::syn || k == kind::synack)
        return k == kind::syn ? track_late_syn(c, from, seg) : verdict::bad_transition;
    if (c.st == state::close)
        return verdict::accept; // a late segment of a reset flow: it changes nothing
    if (k == kind::other)
        return verdict::bad_transition; // no ACK: nothing a synchronized flow sends
    if (!in_window(c, from, seg))
        return verdict::out_of_window;
    const peer& snd = c.p[index(from)];
    if (snd.fin_sent && after(end_of(seg), snd.fin_end))
        return verdict::out_of_window; // data after its own FIN
    update(c, from, seg);
    c.st = closing_state(c);
    return verdict::accept;
}

} // namespace bulwark::dataplane::tcp
