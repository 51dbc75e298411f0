// SPDX-License-Identifier: Apache-2.0
#include "controlplane/stats_text.hpp"

#include "dataplane/pipeline_types.hpp"

#include <fmt/format.h>

namespace bulwark::controlplane {

namespace {

std::string traffic_text(const proxy::server::traffic& t)
{
    return fmt::format("requests {} (1xx {}, 2xx {}, 3xx {}, 4xx {}, 5xx {}, none {}), bytes out {}", t.requests,
                       t.status[0], t.status[1], t.status[2], t.status[3], t.status[4], t.status[5], t.bytes_out);
}

} // namespace

std::string proxy_stats_text(const proxy::server::stats& st)
{
    std::string out;
    for (const auto& f : st.frontends)
        out += fmt::format("bulwarkd: stats: frontend {}: connections {}, {}, request errors {}, denied connections {}, "
                           "denied requests {}, denied responses {}\n",
                           f.name, f.connections, traffic_text(f.t), f.request_errors, f.denied_connections,
                           f.denied_requests, f.denied_responses);
    for (const auto& b : st.backends) {
        out += fmt::format("bulwarkd: stats: backend {}: {}, connect errors {}, response errors {}, queue timeouts {}, "
                           "no server {}\n",
                           b.name, traffic_text(b.t), b.connect_errors, b.response_errors, b.queue_timeouts,
                           b.no_server);
        for (const auto& sv : b.servers)
            out += fmt::format("bulwarkd: stats: server {}: {}, connect errors {}, response errors {}\n", sv.name,
                               traffic_text(sv.t), sv.connect_errors, sv.response_errors);
    }
    // The rules that applied at least once: which rule refused what; and
    // those whose regex gave up (PCRE2 limits), failing closed or open.
    for (const auto& r : st.rules)
        if (r.hits || r.regex_errors)
            out += fmt::format("bulwarkd: stats: rule {} {} '{}': hits {}{}\n", r.section, r.at, r.what, r.hits,
                               r.regex_errors ? fmt::format(", regex errors {}", r.regex_errors) : "");
    // shield-block events, once any rule fired
    if (st.blocks_posted || st.blocks_refused || st.blocks_no_shield || st.blocks_no_source)
        out += fmt::format("bulwarkd: stats: shield-block: posted {}, refused (ring full) {}, not posted: no shield "
                           "{}, not posted: no source address {}\n",
                           st.blocks_posted, st.blocks_refused, st.blocks_no_shield, st.blocks_no_source);
    // Log lines that a full sink refused (never waited for).
    for (const auto& l : st.logs)
        out += fmt::format("bulwarkd: stats: log {}: sent {}, dropped {}\n", l.where, l.sent, l.dropped);
    return out;
}

std::string shield_stats_text(const dataplane::shield_section& cfg, const dataplane::shield_stats& st)
{
    using dataplane::side_name;
    std::string out;
    const std::string& sh = cfg.name;
    const unsigned ports = st.host ? 3 : 2;
    for (unsigned s = 0; s < ports; ++s) {
        const auto& p = st.port[s];
        out += fmt::format("bulwarkd: stats: shield {} port {}: rx {}, tx {}, dropped {}, punted {}\n", sh,
                           side_name(s), p.rx, p.tx, p.dropped, p.punted);
        // what the port lost before a worker saw it: the driver's own counters
        if (p.driver)
            out += fmt::format("bulwarkd: stats: shield {} port {} driver: missed {}, rx errors {}, no buffer {}, "
                               "tx errors {}\n",
                               sh, side_name(s), p.driver->missed, p.driver->rx_errors, p.driver->rx_nombuf,
                               p.driver->tx_errors);
    }
    for (unsigned s = 0; s < ports; ++s)
        for (std::size_t r = 1; r < dataplane::drop_reason_count; ++r)
            if (st.port[s].drops[r])
                out += fmt::format("bulwarkd: stats: shield {} drop {} {}: {}\n", sh, side_name(s),
                                   dataplane::reason_name(static_cast<dataplane::drop_reason>(r)), st.port[s].drops[r]);
    for (std::size_t i = 0; i < cfg.rules.size() && i < st.rule_hits.size(); ++i)
        if (st.rule_hits[i])
            out += fmt::format("bulwarkd: stats: shield {} rule {}:{} '{}': hits {}\n", sh, cfg.rules[i].at.file,
                               cfg.rules[i].at.line, cfg.rules[i].text, st.rule_hits[i]);
    if (st.default_hits)
        out += fmt::format("bulwarkd: stats: shield {} default {}: hits {}\n", sh,
                           cfg.default_verdict == dataplane::verdict::allow ? "allow" : "deny", st.default_hits);
    if (st.flows)
        out += fmt::format("bulwarkd: stats: shield {} flows: active {}, created {}, expired {}, evicted {}, "
                           "refused {}\n",
                           sh, st.flows->active, st.flows->created, st.flows->expired, st.flows->evicted,
                           st.flows->refused);
    if (st.census) {
        const auto& c = st.census->counts;
        std::string states;
        for (std::size_t i = 0; i < c.tcp.size(); ++i)
            if (c.tcp[i])
                states += fmt::format("{}{} {}", states.empty() ? "" : ", ",
                                      dataplane::tcp::state_name(static_cast<dataplane::tcp::state>(i)), c.tcp[i]);
        for (auto [name, n] : {std::pair{"udp_one_way", c.udp_one_way}, std::pair{"udp_answered", c.udp_answered},
                               std::pair{"proxied", c.proxied}})
            if (n)
                states += fmt::format("{}{} {}", states.empty() ? "" : ", ", name, n);
        out += fmt::format("bulwarkd: stats: shield {} flows by state: {}\n", sh, states.empty() ? "none" : states);
        std::string top;
        for (const auto& s : st.census->top) {
            ip_addr a;
            a.fam = s.v6 ? family::ipv6 : family::ipv4;
            a.bytes = s.addr;
            top += fmt::format("{}{} {}", top.empty() ? "" : ", ", a.str(), s.flows);
        }
        out += fmt::format("bulwarkd: stats: shield {} flows by source: {}\n", sh, top.empty() ? "none" : top);
    } else if (!st.census_error.empty()) {
        out += fmt::format("bulwarkd: stats: shield {} flows by state: not counted: {}\n", sh, st.census_error);
    }
    if (st.fragments)
        out += fmt::format("bulwarkd: stats: shield {} fragments: trains {}, later {}, completed {}, refused {}\n",
                           sh, st.fragments->trains, st.fragments->later, st.fragments->completed,
                           st.fragments->refused);
    if (st.guard)
        out += fmt::format("bulwarkd: stats: shield {} syn guard: on {} lcores, switched on {}, cookies sent {}, "
                           "valid {}, invalid {}\n",
                           sh, st.guard->on_lcores, st.guard->switched_on, st.guard->cookies_sent,
                           st.guard->cookies_valid, st.guard->cookies_invalid);
    if (st.limits)
        out += fmt::format("bulwarkd: stats: shield {} limits: sources {}, untracked {}, blocks asked {}, ring full {}, "
                           "applied {}, failed {}\n",
                           sh, st.limits->sources, st.limits->untracked, st.limits->blocks_asked,
                           st.limits->block_ring_full, st.limits->blocks_applied, st.limits->blocks_failed);
    out += fmt::format("bulwarkd: stats: shield {} events from the proxy: posted {}, dropped (ring full) {}, "
                       "applied {}, failed {}\n",
                       sh, st.events.posted, st.events.ring_full, st.events.applied, st.events.failed);
    if (st.blocklist_entries)
        out += fmt::format("bulwarkd: stats: shield {} blocklist: {} entries\n", sh, *st.blocklist_entries);
    if (st.capture_frames)
        out += fmt::format("bulwarkd: stats: shield {} drop capture {}: {} frames written{}\n", sh, cfg.drop_capture,
                           *st.capture_frames,
                           st.capture_refused ? fmt::format(", {} past max-size", st.capture_refused) : "");
    return out;
}

} // namespace bulwark::controlplane
