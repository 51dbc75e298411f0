// SPDX-License-Identifier: Apache-2.0
#pragma once

// One worker lcore's context (DESIGN.md section 2), in the manner of DPDK
// l3fwd's lcore_conf and Gatekeeper's gk_instance: its queues, the tables
// it reads, its counters and its mailbox. The control plane fills it in
// before the lcore is launched; from then on only its lcore writes it. Its
// counters are the exception that any thread may read: each is an atomic
// with one writer (a relaxed load and store, a plain add on x86), summed
// by the control plane when it reads them.

#include "dataplane/mac_table.hpp"
#include "dataplane/pipeline_types.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct rte_rcu_qsbr;

namespace bulwark::dataplane {

class acl_table;
class blocklist;
class flow_census;
class flow_table;
class frag_table;
class syn_guard;
class source_table;

inline constexpr std::size_t cache_line = 64; // RTE_CACHE_LINE_SIZE, checked in lcore_ctx.cpp

// A 64-bit event counter with one writer thread and any number of readers,
// free of data races in the C++ memory model. Not a fetch_add: there is one
// writer, so a relaxed load and store compile to a plain add.
class counter {
public:
    counter& operator+=(std::uint64_t n) noexcept
    {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        return *this;
    }
    counter& operator++() noexcept { return *this += 1; }
    void set(std::uint64_t v) noexcept { v_.store(v, std::memory_order_relaxed); } // a gauge
    std::uint64_t read() const noexcept { return v_.load(std::memory_order_relaxed); }
    operator std::uint64_t() const noexcept { return read(); }

private:
    std::atomic<std::uint64_t> v_{0};
};
static_assert(sizeof(counter) == 8 && std::atomic<std::uint64_t>::is_always_lock_free);

// n counters sized at setup, zero, in whole cache lines of their own (no
// line shared with another lcore's).
class counter_array {
public:
    explicit counter_array(std::size_t n = 0);
    ~counter_array();
    counter_array(const counter_array&) = delete;
    counter_array& operator=(const counter_array&) = delete;
    counter& operator[](std::size_t i) noexcept { return c_[i]; }
    const counter& operator[](std::size_t i) const noexcept { return c_[i]; }
    std::size_t size() const noexcept { return n_; }
    const counter& back() const noexcept { return c_[n_ - 1]; }

private:
    std::size_t n_;
    counter* c_;
};

struct port_counters {
    counter rx, tx, punted;
    std::array<counter, drop_reason_count> drops;
};

// One worker lcore's packet counters, by port (the host port's last).
struct alignas(cache_line) lcore_counters {
    std::array<port_counters, sides> port;
};

// The host port (DESIGN.md section 1, issue #14): a TAP device that gives
// the local kernel, and so the proxy, a leg on the bridge. Set up by the
// shield before launch and shared, read-only, by every worker but its
// table: each worker learns into `macs` which bridged port a station is
// on; the lcore serving the host port reads it to switch the kernel's
// frames. Frames for the host go through `punt_ring` (MP/SC): every worker
// enqueues, the serving lcore dequeues and sends them on the TAP.
struct host_link {
    std::uint16_t port_id = 0;  // the TAP's DPDK port
    mac_addr mac{};             // the kernel interface's address: frames to it are the host's
    rte_ring* punt_ring = nullptr;
    mac_table* macs = nullptr;
};
static_assert(sizeof(lcore_counters) % cache_line == 0);

// A control-plane command to one worker lcore, by value through its
// mailbox ring (no allocation on either side). Gatekeeper's gk_cmd_entry.
enum class mbox_op : std::uint32_t {
    ping,       // the lcore stores `arg` in lcore_ctx::pong: it is alive and drains its mailbox
    census,     // arg: a flow_census* the lcore fills from its flows, a few slots per loop, then marks done
    flow_query, // arg: a flow_query* the lcore answers at once and marks done
};
struct mbox_cmd {
    mbox_op op;
    std::uint32_t reserved = 0;
    std::uint64_t arg = 0;
};
static_assert(sizeof(mbox_cmd) == 16, "rte_ring element sizes are multiples of 4");

inline constexpr unsigned mailbox_slots = 64;     // a power of two; one is kept free
inline constexpr unsigned mailbox_per_loop = 8;   // commands done per worker loop, at most

struct alignas(cache_line) lcore_ctx {
    // acl_rules: the shield's rule count (its hits, plus one for the default).
    lcore_ctx(std::size_t acl_rules, drop_sampling sampling, std::array<std::uint16_t, 2> port_ids);
    ~lcore_ctx();
    lcore_ctx(const lcore_ctx&) = delete;
    lcore_ctx& operator=(const lcore_ctx&) = delete;

    // --- set by the control plane before launch; read-only on the lcore
    unsigned index = 0;                  // the worker's number: its RCU thread id
    unsigned lcore = 0;
    std::uint16_t queue = 0;             // its RX and TX queue on both ports
    std::array<std::uint16_t, sides> port_ids{}; // [host]: the host port's, when there is one
    const acl_table* acl = nullptr;      // null: no ACL stage, no rule hits (tests)
    const blocklist* blocks = nullptr;   // null: no blocklist stage
    // The host port, when the shield has one; null: a punt rule forwards
    // inline and counts the frame as punted (tests without a TAP).
    const host_link* host = nullptr;
    bool serves_host = false;            // this lcore drains the punt ring to the TAP and reads the TAP
    drop_sampling sampling;
    flow_table* flows = nullptr;         // mode stateful: this lcore's flows; null: stateless
    syn_guard* guard = nullptr;          // mode stateful with syn-guard always|auto: this lcore's
    std::uint64_t pickup_until = 0;      // TSC: until then a flow may start mid-stream
    frag_table* frags = nullptr;         // this lcore's fragment trains (both modes); null: none kept
    std::uint64_t tsc_hz = 1;
    source_table* sources = nullptr;     // per-source limits: this lcore's sources; null: none configured
    rte_ring* block_ring = nullptr;      // block_request to the control thread (shared, MP); null: none
    rte_ring* mailbox = nullptr;         // owned; see open_mailbox()
    rte_rcu_qsbr* qs = nullptr;          // the workers' quiescent-state variable
    const std::atomic<bool>* quit = nullptr;

    // --- written by this lcore only, read by any thread
    lcore_counters counters;
    counter_array rule_hits;             // by ACL rule index; [rules] = the default verdict
    counter commands;                    // mailbox commands done
    struct flow_gauges {
        counter active, created, expired, evicted, refused;
    } flow_counts;                       // copied from the flow table after each burst and sweep
    struct frag_gauges {
        counter trains, later, completed, refused;
    } frag_counts;                       // copied from the fragment table after a burst with fragments
    struct guard_gauges {
        counter on, switched_on, cookies_sent, cookies_valid, cookies_invalid;
    } guard_counts;                      // the SYN guard's
    struct limit_gauges {
        counter sources, untracked;      // copied from the source table
        counter blocks_asked, block_ring_full; // block requests queued, and refused by a full ring
    } limit_counts;
    std::atomic<std::uint64_t> pong{0};  // the last ping's arg (release store)

    // --- this lcore's alone
    alignas(cache_line) std::uint64_t window_start = 0, window_len = 0; // drop sampling, in TSC
    std::array<std::uint32_t, drop_reason_count> sampled{};
    std::vector<std::byte> scratch;      // a multi-segment frame, linearised to be parsed
    flow_census* census = nullptr;       // a census being taken (see mbox_op::census)
};
static_assert(alignof(lcore_ctx) == cache_line && sizeof(lcore_ctx) % cache_line == 0);

// Creates ctx's mailbox, an MP/SC rte_ring of mbox_cmd named `name`.
// Setup time; false with rte_errno set when DPDK has no memory for it.
bool open_mailbox(lcore_ctx& ctx, const std::string& name) noexcept;

// Posts a command to ctx's lcore; false when its mailbox is full (or it has
// none): the caller decides whether to retry. Any thread but ctx's lcore
// (the ring is multi-producer), e.g. the control plane.
bool post(lcore_ctx& ctx, const mbox_cmd& cmd) noexcept;

// Does up to mailbox_per_loop commands of ctx's mailbox; returns how many.
// ctx's lcore only, once per loop.
unsigned drain_mailbox(lcore_ctx& ctx) noexcept;

// Counts the next slots of a census being taken, if any; marks it done at
// the end of the table. ctx's lcore only, once per loop.
void step_census(lcore_ctx& ctx) noexcept;

} // namespace bulwark::dataplane
