// SPDX-License-Identifier: Apache-2.0
#pragma once

// The shield's counters as plain data (DESIGN.md section 2): what
// shield::stats() returns, summed over the worker lcores' own counters when
// it is called. The control plane formats it (controlplane/stats_text.hpp);
// the runtime API and the Prometheus exporter (later issues) read it too.
// The names that go with the numbers (rules, ports, the shield's) are in
// its shield_section.

#include "dataplane/flow_census.hpp"
#include "dataplane/packet_types.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::dataplane {

// A port's own counters from its PMD (rte_eth_stats): what it lost before
// a worker saw it, and what it failed to send.
struct driver_stats {
    std::uint64_t missed = 0;    // imissed: the RX queue was full
    std::uint64_t rx_errors = 0; // ierrors
    std::uint64_t rx_nombuf = 0; // no mbuf to receive into
    std::uint64_t tx_errors = 0; // oerrors
};

struct port_stats {
    std::uint64_t rx = 0, tx = 0;
    std::uint64_t dropped = 0;                             // the sum of drops
    std::uint64_t punted = 0;                              // to the host port (a punt rule's, ARP, ND, the proxy's servers)
    std::array<std::uint64_t, drop_reason_count> drops{};  // by drop_reason; [none] is 0
    std::optional<driver_stats> driver;                    // none: the port is not started, or its PMD did not say
};

struct shield_stats {
    std::array<port_stats, 3> port;       // by side: [outside], [inside], [host] (with a host port)
    bool host = false;                    // the shield has a host port: port[host] counts
    std::vector<std::uint64_t> rule_hits; // by rule, as shield_section::rules
    std::uint64_t default_hits = 0;       // IP frames no rule matched
    struct flow_stats {
        std::uint64_t active = 0, created = 0, expired = 0, evicted = 0, refused = 0;
    };
    std::optional<flow_stats> flows;      // mode stateful: summed over the lcores
    struct frag_stats {
        std::uint64_t trains = 0, later = 0, completed = 0, refused = 0;
    };
    std::optional<frag_stats> fragments;  // fragment trains (both modes): summed over the lcores
    struct guard_stats {
        std::uint64_t on_lcores = 0, switched_on = 0, cookies_sent = 0, cookies_valid = 0, cookies_invalid = 0;
    };
    std::optional<guard_stats> guard;     // with a SYN guard: summed over the lcores
    std::optional<flow_summary> census;   // when asked for (shield::flows): by state, the top sources
    std::string census_error;             // why it was asked for and is not there
    struct limit_stats {
        std::uint64_t sources = 0;        // tracked now
        std::uint64_t untracked = 0;      // frames whose source the full table could not track (not limited)
        std::uint64_t blocks_asked = 0;   // block requests the workers queued
        std::uint64_t block_ring_full = 0; // requests the full ring refused
        std::uint64_t blocks_applied = 0; // added to the blocklist by the control thread
        std::uint64_t blocks_failed = 0;  // refused by a full blocklist
    };
    std::optional<limit_stats> limits;    // with 'limit src' lines
    // The event ring from the proxy (shield-block rules, shield::post_block).
    struct event_stats {
        std::uint64_t posted = 0;         // queued by proxy threads
        std::uint64_t ring_full = 0;      // refused by the full ring (the proxy never waits)
        std::uint64_t applied = 0;        // added to the blocklist by the control thread
        std::uint64_t failed = 0;         // refused by a full blocklist
    };
    event_stats events;
    std::optional<std::size_t> blocklist_entries;
    std::optional<std::uint64_t> capture_frames; // frames written to the drop-capture file, when there is one
    std::uint64_t capture_refused = 0;           // frames not written: the file reached its max-size
};

} // namespace bulwark::dataplane
