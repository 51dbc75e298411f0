// SPDX-License-Identifier: Apache-2.0
#pragma once

// Stick-tables, HAProxy's per-key counters (src/stick_table.c): entries
// keyed by an address, an integer or a string, each holding the data types
// the table's `store` names (conn_cur, http_req_rate(P), gpc0, ...). Rates
// are HAProxy's frequency counters (include/haproxy/freq_ctr.h): the count
// of the current period plus the previous period's count weighted by the
// part of the sliding window it still covers.
//
// Shared by every proxy thread (HAProxy's semantics are per process), split
// into shards by key hash, one mutex per shard: a lookup holds one shard's
// lock for a hash probe and a few integer updates, so two threads collide
// only when their keys fall in one shard at the same instant (2 proxy
// threads, 16 shards). No global lock on the request path.
//
// Pure logic: every call takes `now` in milliseconds (a steady clock), so
// tests run it on a fake clock.

#include "proxy/stick_table_types.hpp"

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bulwark::proxy {

// HAProxy's freq_ctr with a period (freq_ctr_period): counts events in
// periods of `period` ms aligned on the first event's period start.
struct freq_ctr {
    std::uint64_t curr_tick = 0; // start of the current period (ms)
    std::uint32_t curr = 0;      // events in the current period
    std::uint32_t prev = 0;      // events in the previous period

    // Adds n events at now (ms).
    void add(std::uint64_t now, std::uint32_t period, std::uint32_t n);
    // Events over the last `period` ms: curr + prev * (time left in the
    // current period) / period (read_freq_ctr_period).
    std::uint32_t read(std::uint64_t now, std::uint32_t period) const;
};

struct stk_entry {
    std::string key;
    std::uint64_t touched = 0;  // last use (ms): expiry runs from it
    std::uint32_t refs = 0;     // sessions tracking it: never evicted while > 0
    std::uint32_t conn_cur = 0;
    std::uint64_t conn_cnt = 0, http_req_cnt = 0, http_err_cnt = 0;
    std::array<std::uint64_t, 2> gpc{}; // gpc0, gpc1
    freq_ctr conn_rate, http_req_rate, http_err_rate, bytes_in_rate, bytes_out_rate;
    std::array<freq_ctr, 2> gpc_rate{};
};

class stick_table;

// A tracked entry: what a session's sc0/1/2 holds. Releasing it (untrack)
// is the caller's duty; the entry stays while it is tracked.
struct stk_ref {
    stick_table* table = nullptr;
    stk_entry* entry = nullptr;
    explicit operator bool() const { return entry != nullptr; }
};

class stick_table {
public:
    // shards: rounded down to a power of two, at most `size` (every shard
    // holds at least one entry; together they hold exactly `size`).
    explicit stick_table(stick_table_config cfg, unsigned shards = 16);
    stick_table(const stick_table&) = delete;
    stick_table& operator=(const stick_table&) = delete;

    const stick_table_config& config() const { return cfg_; }

    // The entry of key, created when missing (expired entries go first,
    // then the least recently used one not tracked), with one more
    // reference. Empty when the shard is full of tracked entries.
    stk_ref acquire(std::string_view key, std::uint64_t now);
    // acquire, on_track and (http_req) on_http_req under one lock: what a
    // track-sc does.
    stk_ref acquire_tracked(std::string_view key, std::uint64_t now, bool http_req);
    // Drops a reference; the entry's expiry runs from now.
    void release(stk_ref r, std::uint64_t now);
    // on_untrack and release under one lock.
    void untrack(stk_ref r, std::uint64_t now);

    // Session events on a tracked entry (each only for the stored types).
    void on_track(stk_ref r, std::uint64_t now);   // conn_cur+1, conn_cnt, conn_rate
    void on_untrack(stk_ref r, std::uint64_t now); // conn_cur-1
    void on_http_req(stk_ref r, std::uint64_t now);
    void on_http_err(stk_ref r, std::uint64_t now);
    void on_bytes_in(stk_ref r, std::uint64_t now, std::uint64_t n);
    // The end of a request (or of a tcp connection) under one lock: bytes
    // from the client (bytes_in_rate) and to it (bytes_out_rate), and an
    // HTTP error (http_err_cnt/rate) when err.
    void on_request_end(stk_ref r, std::uint64_t now, std::uint64_t in, std::uint64_t out, bool err);
    // gpcN + 1 (and gpcN_rate), N = idx (0 or 1); returns the new gpcN,
    // nullopt if not stored.
    std::optional<std::int64_t> inc_gpc(stk_ref r, std::uint64_t now, unsigned idx);
    std::optional<std::int64_t> inc_gpc0(stk_ref r, std::uint64_t now) { return inc_gpc(r, now, 0); }
    // gpcN = 0; returns the value before, nullopt if not stored.
    std::optional<std::int64_t> clr_gpc(stk_ref r, std::uint64_t now, unsigned idx);

    // The value of d in r's entry; nullopt when the table does not store it.
    std::optional<std::int64_t> read(stk_ref r, stk_data d, std::uint64_t now);
    // The same for key without creating it: 0 when there is no entry
    // (HAProxy's src_* fetches), nullopt when d is not stored.
    std::optional<std::int64_t> read_key(std::string_view key, stk_data d, std::uint64_t now);

    std::size_t entries() const; // live entries (tests, stats)

    // The key of an address as this table stores it: 4 bytes for an
    // IPv4 (an IPv6 in an ip table: nullopt unless v4-mapped), 16 for ipv6.
    std::optional<std::string_view> ip_key(const std::uint8_t* bytes, std::size_t len,
                                           std::array<std::uint8_t, 16>& buf) const;

private:
    struct shard {
        std::mutex mu;
        std::list<stk_entry> lru; // front: most recently used
        std::unordered_map<std::string_view, std::list<stk_entry>::iterator> index;
        std::size_t cap = 0;
    };
    shard& shard_of(std::string_view key);
    shard& shard_of(const stk_entry& e) { return shard_of(std::string_view(e.key)); }
    void touch(shard& s, stk_entry& e, std::uint64_t now);
    // Under its shard's lock: change(entry), then the entry is touched.
    template <class F>
    void update(stk_ref r, std::uint64_t now, F&& change)
    {
        shard& s = shard_of(*r.entry);
        std::lock_guard lk(s.mu);
        change(*r.entry);
        touch(s, *r.entry, now);
    }
    bool expired(const stk_entry& e, std::uint64_t now) const;
    // Under s's lock: key's entry with one more reference, made if missing.
    stk_entry* find_or_make(shard& s, std::string_view key, std::uint64_t now);
    bool make_room(shard& s, std::uint64_t now);
    std::optional<std::int64_t> value(stk_entry& e, stk_data d, std::uint64_t now) const;
    std::uint32_t period(stk_data d) const { return cfg_.period_ms[static_cast<std::size_t>(d)]; }

    stick_table_config cfg_;
    std::vector<std::unique_ptr<shard>> shards_;
    std::size_t mask_ = 0;
};

// Milliseconds of the steady clock: the `now` of the proxy's tables.
std::uint64_t stick_now();

// Every section's table, by the section's name: made at load, read by
// every thread (never changed after).
class stick_registry {
public:
    stick_table& add(stick_table_config cfg);
    stick_table* find(std::string_view name) const;
    bool empty() const { return tables_.empty(); }

private:
    std::vector<std::unique_ptr<stick_table>> tables_;
};

// A connection's stick counters sc0..sc2 (HAProxy's stkctr): what it
// tracks, the tables its rules and fetches see. One thread's (the
// connection's); leaving it untracks everything (conn_cur goes down).
struct track_state {
    std::array<stk_ref, 3> sc{};
    // sc[i] tracked by an http-request rule: for the request only (HAProxy
    // tracks those per stream), untracked at its end (untrack_requests).
    std::array<bool, 3> per_request{};
    stick_table* own = nullptr;              // the frontend's table (src_*, track without `table`)
    const stick_registry* tables = nullptr;  // `table T`
    std::uint64_t now = 0;                   // ms, set before the rules run

    track_state() = default;
    track_state(const track_state&) = delete;
    track_state& operator=(const track_state&) = delete;
    ~track_state() { untrack_all(stick_now()); }

    // Tracks key in t as sc[i] unless sc[i] tracks something already
    // (HAProxy: the first track-scN that applies wins): conn_cur, conn_cnt,
    // conn_rate, and, from an http-request rule, the request (http_req_*);
    // one lock. An http-request rule's track lasts until untrack_requests.
    void track(unsigned i, stick_table& t, std::string_view key, bool http_request);
    // A new request on the connection: counted in each tracked entry.
    void count_request();
    // An error answered (4xx): counted in each tracked entry.
    void count_error();
    void count_bytes_in(std::uint64_t n) { end_request(n, 0, false); }
    // The end of a request: the bytes it moved each way and whether it
    // was an HTTP error, one locked update per tracked entry that stores
    // any of it.
    void end_request(std::uint64_t in, std::uint64_t out, bool err);
    void untrack_all(std::uint64_t at); // conn_cur-1, released: expiry runs from at
    void untrack_requests(std::uint64_t at); // the same for what http-request rules track
    bool tracking() const { return sc[0] || sc[1] || sc[2]; }
    // The table a fetch or rule means: `table T`, else the frontend's.
    stick_table* table(std::string_view name) const;
};

} // namespace bulwark::proxy
