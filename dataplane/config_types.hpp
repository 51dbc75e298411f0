// SPDX-License-Identifier: Apache-2.0
#pragma once

// The packet filter's configuration: a `shield` section with every value
// checked. Plain data: the control plane fills it, shield::start() runs it.

#include "common/config_base.hpp"
#include "common/units.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::dataplane {

enum class verdict : std::uint8_t { allow, deny, punt };

struct shield_rule {
    source_loc at;
    std::string text;                  // the line as written, for counters and logs
    verdict v = verdict::allow;
    std::uint8_t proto = 0;            // IPPROTO_*; 0 = any ("ip")
    std::optional<cidr> src, dst;
    std::vector<port_range> sport, dport;
};

struct shield_section {
    source_loc at;
    std::string name;
    std::vector<std::string> eal_args;
    std::string port_outside, port_inside;
    std::string host_port;
    source_loc host_port_at;            // its line
    std::vector<cidr> host_addresses;   // host-port addresses (the VIPs), each with its network's prefix
    std::uint32_t punt_ring = 1024;     // 'punt-ring N': frames on their way to the host port between two drains
    std::uint32_t mac_table = 4096;     // 'mac-table N': stations the host port's bridge learns (a power of two)
    bool stateful = true;
    bool mode_given = false;            // a 'mode' line set it (-c says which it is either way)
    std::uint64_t flows = 1u << 20;     // for all worker lcores together
    std::uint64_t fragments = 64u << 10; // fragment trains, for all worker lcores together (both modes)
    std::chrono::seconds pickup{30};    // after start: flows may start mid-stream
    enum class syn_guard_mode : std::uint8_t { off, always, automatic } syn_guard = syn_guard_mode::off;
    std::uint64_t syn_guard_threshold = 0;  // SYN/s for automatic
    // per-source limits ('limit src ...'); 0: that limit is off
    std::uint64_t limit_pps = 0, limit_burst = 0, limit_new_flows = 0, limit_concurrent = 0;
    std::chrono::seconds limit_block{60};   // a source over a limit is blocklisted this long; 0: only dropped
    std::uint64_t limit_sources = 1u << 18; // sources tracked, for all worker lcores together
    std::uint32_t event_ring = 4096;    // 'event-ring N': shield-block events from the proxy between two drains
    bool limits() const { return limit_pps || limit_new_flows || limit_concurrent; }
    std::vector<cidr> blocks;
    std::vector<shield_rule> rules;     // first match wins
    verdict default_verdict = verdict::allow;
    std::string drop_capture;           // pcapng file of sampled drops; empty: none
    unsigned drop_capture_rate = 10;    // frames per drop reason per second (per lcore)
    std::uint64_t drop_capture_max = 100ull << 20; // bytes; frames past it are counted, not written
};

} // namespace bulwark::dataplane
