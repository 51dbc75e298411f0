// SPDX-License-Identifier: Apache-2.0
#include "dataplane/syn_guard.hpp"

#include "dataplane/flow_table.hpp"
#include "dataplane/lcore_ctx.hpp"
#include "dataplane/limits.hpp"
#include "dataplane/tcp_rewrite.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <array>

namespace bulwark::dataplane {

namespace {

constexpr std::uint64_t window_ms = 100, hold_seconds = 10;

constexpr std::uint8_t ack = tcp::flag::ack, rst = tcp::flag::rst, syn_flag = tcp::flag::syn;

// The frame's bytes and its TCP header in them, when the guard can work
// on it: one segment (a SYN or an ACK is never split), the header inside.
struct frame_view {
    std::span<std::byte> room;  // the frame and its mbuf's tailroom
    std::span<std::byte> tcp;   // the TCP header with its options
};
bool view_of(rte_mbuf* m, const parsed_frame& f, frame_view& v) noexcept
{
    if (m->nb_segs != 1 || f.l4_offset + 20u > m->data_len)
        return false;
    auto* p = rte_pktmbuf_mtod(m, std::byte*);
    const std::size_t doff = (static_cast<unsigned>(p[f.l4_offset + 12]) >> 4) * 4u;
    if (doff < 20 || f.l4_offset + doff > m->data_len)
        return false;
    v.room = {p, std::size_t{m->data_len} + rte_pktmbuf_tailroom(m)};
    v.tcp = {p + f.l4_offset, doff};
    return true;
}

// Rewrites m into segment s (see tcp::write_segment).
bool rewrite(rte_mbuf* m, const frame_view& v, const parsed_frame& f, bool reverse, const tcp::new_segment& s) noexcept
{
    const tcp::frame_at at{f.l3_offset, f.l3 == l3_kind::ipv6, f.sport, f.dport};
    const std::size_t len = tcp::write_segment(v.room, at, reverse, s);
    if (!len)
        return false;
    m->data_len = static_cast<std::uint16_t>(len);
    m->pkt_len = static_cast<std::uint32_t>(len);
    return true;
}

syn::endpoints endpoints_of(const parsed_frame& f) noexcept
{
    return {f.src, f.dst, f.sport, f.dport};
}

// An address no host has, which the guard's answer would come from: a
// SYN to a broadcast or multicast address is silently discarded (RFC 1122
// §4.2.3.10), and so is one to loopback or "this network".
bool martian_dst(const parsed_frame& f) noexcept
{
    if (f.l3 == l3_kind::ipv4)
        return f.dst[0] == 0 || f.dst[0] == 127 || f.dst[0] >= 224;
    static constexpr std::array<std::uint8_t, 16> loopback{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return f.dst[0] == 0xff || f.dst == loopback || f.dst == std::array<std::uint8_t, 16>{};
}

std::uint32_t seconds(const lcore_ctx& c, std::uint64_t tsc) noexcept
{
    return static_cast<std::uint32_t>(tsc / c.tsc_hz);
}

constexpr pkt_verdict drop(drop_reason r) noexcept { return {pkt_action::drop, r}; }
constexpr pkt_verdict forward{pkt_action::forward, drop_reason::none};
constexpr pkt_verdict reply{pkt_action::reply, drop_reason::none};

// The SYN that opens the server's side, from what the flow keeps of the
// client's handshake, written over the client's segment m.
bool open_server(rte_mbuf* m, const frame_view& v, const parsed_frame& f, const proxy_state& p) noexcept
{
    tcp::new_segment s;
    s.seq = p.isn;
    s.flags = syn_flag;
    s.window = p.window;
    s.opt.mss = p.mss;
    s.opt.wscale = p.wscale;
    s.opt.sack_perm = p.sack;
    s.opt.ts = p.ts;
    s.opt.tsval = p.tsval;
    return rewrite(m, v, f, false, s);
}

// The server's SYN-ACK on an opening flow: the tracker takes it, the
// translation is set, and the frame becomes the ACK that completes the
// server's handshake, sent back to it.
pkt_verdict server_answered(lcore_ctx& c, rte_mbuf* m, const frame_view& v, const parsed_frame& f, flow_entry& e,
                            std::uint32_t now) noexcept
{
    proxy_state& p = e.proxy;
    const tcp::segment seg{f.tcp_seq, f.tcp_ack, f.tcp_window, f.tcp_flags, f.tcp_payload, f.tcp_wscale};
    if (auto r = tcp::track(e.tcp, tcp::side::reply, seg, false); r != tcp::verdict::accept)
        return drop(tcp::reason_of(r));
    const tcp::options o = tcp::read_options(v.tcp);
    p.seq_delta = f.tcp_seq - p.cookie;
    p.ts_delta = p.ts && o.ts ? o.tsval - p.ts_ours : 0;
    // the client reads the server's windows with the scale the guard
    // offered it; the server writes them with its own
    const int client_view = p.ts && p.wscale >= 0 ? c.guard->config().wscale : 0;
    p.window_shift = static_cast<std::int8_t>(e.tcp.p[1].scale - client_view);
    tcp::new_segment s;
    s.seq = p.isn + 1;
    s.ack = f.tcp_seq + 1;
    s.flags = ack;
    s.window = p.window;
    s.opt.ts = p.ts && o.ts;
    s.opt.tsval = p.tsval;
    s.opt.tsecr = o.tsval;
    if (!rewrite(m, v, f, true, s))
        return drop(drop_reason::synproxy_unfit);
    const tcp::segment done{s.seq, s.ack, s.window, ack, 0, -1};
    if (auto r = tcp::track(e.tcp, tcp::side::original, done, false); r != tcp::verdict::accept)
        return drop(tcp::reason_of(r)); // not reached: the tracker just took the SYN-ACK it acknowledges
    p.ph = proxy_state::phase::open;
    e.tcp_touched(now);
    return reply;
}

// The server's SYN-ACK again, once the flow is open (it answered a SYN the
// guard sent again): answered as the client would, with an ACK of where
// the flow is, back to the server; not tracked, not shown to the client.
pkt_verdict server_repeated(rte_mbuf* m, const frame_view& v, const parsed_frame& f, const flow_entry& e) noexcept
{
    tcp::new_segment s;
    s.seq = e.tcp.p[0].end;
    s.ack = e.tcp.p[1].end;
    s.flags = ack;
    s.window = e.proxy.window;
    return rewrite(m, v, f, true, s) ? reply : drop(drop_reason::synproxy_unfit);
}

// A segment of a flow whose server side is still opening.
pkt_verdict opening(lcore_ctx& c, tcp::side s, rte_mbuf* m, const frame_view& v, const parsed_frame& f,
                    std::int32_t pos, std::uint32_t now) noexcept
{
    flow_table& ft = *c.flows;
    flow_entry& e = ft.at(pos);
    proxy_state& p = e.proxy;
    if (s == tcp::side::original) {
        if (f.tcp_flags & rst) { // the client gives up: its RST, at the server's next sequence, resets it too
            ft.remove(pos);
            return forward;
        }
        if (const tcp::options o = tcp::read_options(v.tcp); o.ts)
            p.tsval = o.tsval;
        return open_server(m, v, f, p) ? forward : drop(drop_reason::synproxy_unfit);
    }
    if ((f.tcp_flags & (syn_flag | ack | rst)) == (syn_flag | ack) && f.tcp_ack == p.isn + 1)
        return server_answered(c, m, v, f, e, now);
    if ((f.tcp_flags & rst) && f.tcp_ack == p.isn + 1) {
        // refused: the client hears it at the sequence it expects
        tcp::translate(v.tcp, {.seq = p.cookie + 1 - f.tcp_seq});
        ft.remove(pos);
        return forward;
    }
    return drop(drop_reason::tcp_bad_transition);
}

} // namespace

syn_guard::syn_guard(const syn_guard_config& cfg, std::uint64_t tsc_hz) noexcept
    : cfg_(cfg),
      jar_(cfg.key),
      window_len_(tsc_hz * window_ms / 1000),
      hold_len_(tsc_hz * hold_seconds),
      per_window_(std::max<std::uint64_t>(1, cfg.threshold * window_ms / 1000)),
      on_(cfg.m == syn_guard_config::mode::always)
{
}

bool syn_guard::answers(std::uint64_t tsc) noexcept
{
    if (cfg_.m != syn_guard_config::mode::automatic)
        return on_;
    if (tsc - window_start_ >= window_len_) {
        // the window that just ended (none if it was longer ago: it was quiet)
        const std::uint64_t last = tsc - window_start_ >= 2 * window_len_ ? 0 : syns_;
        if (on_ && tsc >= on_until_ && last <= per_window_ / 2)
            on_ = false;
        window_start_ = tsc;
        syns_ = 0;
    }
    if (++syns_ > per_window_) {
        if (!on_)
            ++switched_on_;
        on_ = true;
        on_until_ = tsc + hold_len_;
    }
    return on_;
}

pkt_verdict guard_syn(lcore_ctx& c, rte_mbuf* m, const parsed_frame& f, std::uint64_t tsc) noexcept
{
    if (martian_dst(f))
        return drop(drop_reason::tcp_martian_dst);
    frame_view v;
    if (!view_of(m, f, v))
        return drop(drop_reason::synproxy_unfit);
    syn_guard& g = *c.guard;
    const tcp::options o = tcp::read_options(v.tcp);
    const std::uint32_t cookie = g.jar().make(endpoints_of(f), f.tcp_seq, o.mss ? o.mss : 536, seconds(c, tsc));
    tcp::new_segment s;
    s.seq = cookie;
    s.ack = f.tcp_seq + 1;
    s.flags = syn_flag | ack;
    s.window = 65535;
    s.opt.mss = f.l3 == l3_kind::ipv6 ? g.config().mss6 : g.config().mss4;
    if (o.ts) { // what the cookie cannot carry rides in the timestamp; without one, MSS alone
        s.opt.ts = true;
        s.opt.tsval = syn::ts_encode(static_cast<std::uint32_t>(tsc / (c.tsc_hz / 1000 + 1)), {o.wscale, o.sack_perm});
        s.opt.tsecr = o.tsval;
        s.opt.sack_perm = o.sack_perm;
        s.opt.wscale = o.wscale >= 0 ? static_cast<std::int8_t>(g.config().wscale) : -1;
    }
    if (!rewrite(m, v, f, true, s))
        return drop(drop_reason::synproxy_unfit);
    ++c.guard_counts.cookies_sent;
    return reply;
}

bool guard_ack(lcore_ctx& c, rte_mbuf* m, const parsed_frame& f, const keyed& k, std::uint64_t tsc, bool limited,
               pkt_verdict& out) noexcept
{
    const std::uint32_t now = seconds(c, tsc);
    const std::uint32_t isn = f.tcp_seq - 1, cookie = f.tcp_ack - 1;
    const std::uint16_t mss = c.guard->jar().check(endpoints_of(f), isn, cookie, now);
    if (!mss) {
        ++c.guard_counts.cookies_invalid;
        return false;
    }
    ++c.guard_counts.cookies_valid;
    frame_view v;
    if (!view_of(m, f, v)) {
        out = drop(drop_reason::synproxy_unfit);
        return true;
    }
    flow_table& ft = *c.flows;
    drop_reason why;
    const std::int32_t pos = open_flow(c, f, k.key, now, limited, why);
    if (pos < 0) {
        out = drop(why);
        return true;
    }
    flow_entry& e = ft.at(pos);
    e.original_is_a = k.src_is_a;
    const tcp::options o = tcp::read_options(v.tcp);
    const syn::ts_options carried = o.ts ? syn::ts_decode(o.tsecr) : syn::ts_options{};
    proxy_state& p = e.proxy;
    p.ph = proxy_state::phase::opening;
    p.wscale = carried.wscale;
    p.sack = carried.sack;
    p.ts = o.ts;
    p.mss = mss;
    p.window = f.tcp_window;
    p.isn = isn;
    p.cookie = cookie;
    p.tsval = o.tsval;
    p.ts_ours = o.tsecr;
    const tcp::segment opened{isn, 0, f.tcp_window, syn_flag, 0, p.wscale};
    tcp::track(e.tcp, tcp::side::original, opened, false); // a fresh flow takes any SYN
    e.tcp_touched(now);
    if (!open_server(m, v, f, p)) {
        ft.remove(pos);
        out = drop(drop_reason::synproxy_unfit);
        return true;
    }
    out = forward;
    return true;
}

pkt_verdict guard_segment(lcore_ctx& c, rte_mbuf* m, const parsed_frame& f, const keyed& k, std::int32_t pos,
                          std::uint64_t tsc) noexcept
{
    frame_view v;
    if (!view_of(m, f, v))
        return drop(drop_reason::synproxy_unfit);
    const std::uint32_t now = seconds(c, tsc);
    flow_entry& e = c.flows->at(pos);
    const tcp::side s = k.src_is_a == e.original_is_a ? tcp::side::original : tcp::side::reply;
    if (e.proxy.ph == proxy_state::phase::opening)
        return opening(c, s, m, v, f, pos, now);
    const proxy_state& p = e.proxy;
    if (s == tcp::side::reply && (f.tcp_flags & (syn_flag | ack | rst)) == (syn_flag | ack) &&
        f.tcp_seq == p.cookie + p.seq_delta)
        return server_repeated(m, v, f, e);
    tcp::segment seg{f.tcp_seq, f.tcp_ack, f.tcp_window, f.tcp_flags, f.tcp_payload, f.tcp_wscale};
    if (s == tcp::side::original) { // client to server: into the server's sequence space, then tracked
        if (seg.flags & ack)
            seg.ack += p.seq_delta;
        if (auto r = tcp::track(e.tcp, s, seg, false); r != tcp::verdict::accept)
            return drop(tcp::reason_of(r));
        tcp::translate(v.tcp, {.ack = p.seq_delta, .tsecr = p.ts_delta});
    } else { // server to client: tracked, then into the client's
        if (auto r = tcp::track(e.tcp, s, seg, false); r != tcp::verdict::accept)
            return drop(tcp::reason_of(r));
        tcp::translate(v.tcp, {.seq = -p.seq_delta, .tsval = -p.ts_delta, .window = p.window_shift});
    }
    e.tcp_touched(now);
    return forward;
}

} // namespace bulwark::dataplane
