// SPDX-License-Identifier: Apache-2.0
#pragma once

// The flows of a running shield as data, for the runtime API (issue #16:
// `show flows [summary|SRC]`): counts by state, the sources with the most
// flows, one flow's state.
//
// Taken without stopping the workers and without sharing their tables: the
// control plane hands a worker lcore a census (or a query) by pointer
// through its mailbox; the worker walks its own table into it a bounded
// number of slots per loop (flow_census::step), then sets `done` (release).
// Until then the census is the worker's; after it, the control plane's.
// The counts are therefore not one instant's: each slot is read once,
// while traffic goes on.

#include "dataplane/flow_key.hpp"
#include "dataplane/tcp_track.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bulwark::dataplane {

class flow_table;

struct flow_state_counts {
    std::array<std::uint64_t, static_cast<std::size_t>(tcp::state::count_)> tcp{}; // by tcp::state
    std::uint64_t udp_one_way = 0, udp_answered = 0;
    std::uint64_t proxied = 0; // TCP flows the SYN guard opened (also counted by state)
    std::uint64_t total() const noexcept;
    flow_state_counts& operator+=(const flow_state_counts& o) noexcept;
};

// A flow's source: the endpoint whose frame created it (a TCP client).
struct flow_source {
    std::array<std::uint8_t, 16> addr{}; // IPv4 in the first 4 bytes
    bool v6 = false;
    std::uint32_t flows = 0;
};

struct flow_summary {
    flow_state_counts counts;
    std::vector<flow_source> top;        // the sources with the most flows, the most first
    std::uint64_t sources_uncounted = 0; // flows whose source found no room in a census's table
};

// One worker lcore's census. Made (and its memory allocated) by the control
// plane; begin() and step() on the worker.
class flow_census {
public:
    static constexpr unsigned slots_per_step = 256;

    explicit flow_census(std::size_t source_slots = std::size_t{1} << 16);

    void begin() noexcept;
    // Counts the next `budget` slots of ft; true when the whole table is counted.
    bool step(const flow_table& ft, unsigned budget = slots_per_step) noexcept;

    const flow_state_counts& counts() const noexcept { return counts_; }
    std::uint64_t sources_uncounted() const noexcept { return uncounted_; }
    // The sources counted, in no order (slots with flows == 0 are empty).
    const std::vector<flow_source>& sources() const noexcept { return sources_; }

    std::atomic<bool> done{true};

private:
    void count_source(const flow_source& s) noexcept;

    flow_state_counts counts_;
    std::vector<flow_source> sources_; // open addressing, linear probing
    std::uint64_t uncounted_ = 0;
    std::size_t at_ = 0;
};

// Sums the censuses of the workers into one summary with the `top` sources.
flow_summary summarize(const std::vector<const flow_census*>& censuses, std::size_t top);

// One flow's state, looked up by the worker that owns it.
struct flow_query {
    flow_key key;
    // the answer
    bool found = false;
    tcp::state st = tcp::state::none; // TCP flows
    bool udp = false, replied = false, proxied = false;
    std::uint32_t idle = 0, timeout = 0; // seconds since its last frame, and its lifetime without one
    std::atomic<bool> done{true};

    // On the worker: fills the answer from ft at `now` (the worker's clock).
    void answer(const flow_table& ft, std::uint32_t now) noexcept;
};

} // namespace bulwark::dataplane
