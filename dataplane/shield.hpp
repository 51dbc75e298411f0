// SPDX-License-Identifier: Apache-2.0
#pragma once

// The packet filter of a `shield` section, running: EAL from its `eal`
// line, the outside and inside ports, one worker lcore per RX/TX queue pair
// bridging them through the pipeline, and a control thread that writes
// sampled drops to pcapng and expires blocklist entries.
//
// One per process (EAL initialises once). open() sets up EAL, the ports,
// the tables and the capture file (what needs root); launch() starts the
// workers and the control thread (bulwarkd drops its privileges between the
// two); start() is both. stop() (or the destructor) stops the workers,
// closes the ports and releases EAL.

#include "dataplane/config_types.hpp"
#include "common/result.hpp"
#include "dataplane/blocklist.hpp"
#include "dataplane/flow_census.hpp"
#include "dataplane/stats_types.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace bulwark::dataplane {

class shield {
public:
    static result<std::unique_ptr<shield>> open(const shield_section& cfg);
    result<bool> launch();
    static result<std::unique_ptr<shield>> start(const shield_section& cfg);
    ~shield();
    shield(const shield&) = delete;
    shield& operator=(const shield&) = delete;

    // What start() set up, one line each, for the startup log.
    const std::vector<std::string>& describe() const;
    // The counters, summed over the workers' own as they are now (each
    // read is atomic, the sum is not a snapshot of one instant), with the
    // ports' driver counters. Any thread; the workers keep running.
    shield_stats stats() const;
    // The blocklist, for run-time entries (the runtime API is a later issue).
    blocklist& blocks();

    // Asks for `src` to be blocklisted for `ttl` (0: until removed) with
    // `reason` (l7_block from a proxy's shield-block rule: its frames then
    // drop as l7_block). Queued on the event ring (rte_ring in RTS
    // multi-producer mode, safe for preemptible non-EAL threads), which the
    // control thread drains into the blocklist at once (it is woken; a
    // wake-up lost to a race waits for its 100 ms drain). Never waits:
    // false when the ring is full (counted in stats().events.ring_full).
    // Any thread, the proxy's included, from open() to the destructor.
    bool post_block(const ip_addr& src, std::chrono::seconds ttl, drop_reason reason) noexcept;

    // The flows now (mode stateful): counts by state and the `top` sources
    // with the most flows, over every worker lcore. Each worker walks its
    // own table a few hundred slots per loop into a census it was handed
    // through its mailbox: nothing stops and nothing is shared while it
    // does. Fails when the shield is stateless, when a worker does not
    // finish within `wait`, or while an earlier census is still running.
    // One caller at a time (serialised inside).
    result<flow_summary> flows(std::size_t top, std::chrono::milliseconds wait = std::chrono::seconds(2));
    // One flow by its endpoints, either way round (proto 6 or 17): its
    // state, asked of every worker lcore; nullopt when none has it.
    struct flow_view {
        tcp::state st;
        bool udp, replied, proxied;
        std::uint32_t idle, timeout;
    };
    result<std::optional<flow_view>> flow(std::uint8_t proto, const ip_addr& src, std::uint16_t sport,
                                          const ip_addr& dst, std::uint16_t dport,
                                          std::chrono::milliseconds wait = std::chrono::seconds(2));
    void stop();

    struct impl;

private:
    explicit shield(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

} // namespace bulwark::dataplane
