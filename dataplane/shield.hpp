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
#include "dataplane/stats_types.hpp"

#include <cstdio>
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
    void stop();

    struct impl;

private:
    explicit shield(std::unique_ptr<impl> p);
    std::unique_ptr<impl> p_;
};

} // namespace bulwark::dataplane
