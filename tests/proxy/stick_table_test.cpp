// SPDX-License-Identifier: Apache-2.0
// Stick-tables on a fake clock: HAProxy's frequency counter arithmetic,
// counters, expiry, the size bound and its eviction order, shards.
#include "proxy/stick_table.hpp"

#include "proxy/sample.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace bulwark::proxy;

namespace {

constexpr std::uint64_t t0 = 1'000'000; // a steady clock is far from 0

stick_table_config parse(std::vector<std::string> words)
{
    auto p = parse_stick_table(words, "fe");
    INFO(p.error);
    REQUIRE(p.cfg);
    return *p.cfg;
}

std::string parse_error(std::vector<std::string> words)
{
    auto p = parse_stick_table(words, "fe");
    REQUIRE_FALSE(p.cfg);
    return p.error;
}

} // namespace

TEST_CASE("a frequency counter weights the previous period by what the window still covers", "[stick]")
{
    freq_ctr f;
    constexpr std::uint32_t p = 10'000;
    f.add(t0, p, 20); // first event: the period starts here
    CHECK(f.curr_tick == t0);
    CHECK(f.read(t0, p) == 20);
    CHECK(f.read(t0 + 9'999, p) == 20);
    CHECK(f.read(t0 + 10'000, p) == 20);   // the whole previous period still in the window
    CHECK(f.read(t0 + 15'000, p) == 10);   // half of it
    CHECK(f.read(t0 + 17'500, p) == 5);
    CHECK(f.read(t0 + 20'000, p) == 0);    // two periods later: nothing
    f.add(t0 + 12'000, p, 1);              // rotates: prev 20, period starts at t0+10s
    CHECK(f.curr_tick == t0 + 10'000);
    CHECK(f.prev == 20);
    CHECK(f.read(t0 + 12'000, p) == 1 + 16); // 20 * 8000/10000
    f.add(t0 + 35'000, p, 1);              // two periods missed: realigned on now
    CHECK(f.curr_tick == t0 + 35'000);
    CHECK(f.prev == 0);
    CHECK(f.read(t0 + 35'000, p) == 1);
}

TEST_CASE("stick-table parses HAProxy's DDoS line and rejects what HAProxy rejects", "[stick]")
{
    auto c = parse({"type", "ip", "size", "100k", "expire", "30s", "store", "http_req_rate(10s),conn_cur"});
    CHECK(c.type == stk_key_type::ip);
    CHECK(c.size == 102'400); // HAProxy's k is 1024
    CHECK(c.expire_ms == 30'000);
    CHECK(c.stores(stk_data::http_req_rate));
    CHECK(c.stores(stk_data::conn_cur));
    CHECK_FALSE(c.stores(stk_data::gpc0));
    CHECK(c.period_ms[static_cast<std::size_t>(stk_data::http_req_rate)] == 10'000);
    auto s = parse({"type", "string", "len", "8", "size", "10", "store",
                    "gpc0,gpc0_rate(1m),conn_cnt,conn_rate(3s),http_req_cnt,http_err_cnt,"
                    "http_err_rate(5s),bytes_in_rate(1s)"});
    CHECK(s.type == stk_key_type::string);
    CHECK(s.key_len == 8);
    CHECK(s.expire_ms == 0);
    CHECK(s.period_ms[static_cast<std::size_t>(stk_data::gpc0_rate)] == 60'000);
    CHECK(parse_error({"size", "10"}) == "missing 'type'");
    CHECK(parse_error({"type", "ip"}) == "missing 'size'");
    CHECK(parse_error({"type", "mac", "size", "1"}) ==
          "unknown type 'mac', expected ip, ipv6, integer or string");
    CHECK(parse_error({"type", "ip", "size", "1", "store", "http_req_rate"}) ==
          "data type 'http_req_rate' expects a period in parentheses, e.g. 'http_req_rate(10s)'");
    CHECK(parse_error({"type", "ip", "size", "1", "store", "gpc9"}) == "unknown data type 'gpc9' in 'store'");
    CHECK(parse_error({"type", "ip", "size", "1", "store", "conn_cur(1s)"}) ==
          "data type 'conn_cur' takes no argument");
    CHECK(parse_error({"type", "ip", "size", "x"}) == "invalid 'size' 'x'");
    CHECK(parse_error({"type", "ip", "size", "1", "bogus"}) ==
          "unexpected 'bogus', expected 'type', 'size', 'expire', 'store', 'nopurge' or 'peers'");
}

TEST_CASE("stick-table counts connections, requests, errors, gpc0 and bytes of a tracked key", "[stick]")
{
    stick_table t(parse({"type", "ip", "size", "10", "expire", "30s", "store",
                         "conn_cur,conn_cnt,conn_rate(10s),http_req_cnt,http_req_rate(10s),"
                         "http_err_cnt,http_err_rate(10s),gpc0,bytes_in_rate(1s)"}));
    auto a = t.acquire("k1", t0);
    REQUIRE(a);
    t.on_track(a, t0);
    auto b = t.acquire("k1", t0 + 1);
    REQUIRE(b.entry == a.entry);
    t.on_track(b, t0 + 1);
    CHECK(t.read(a, stk_data::conn_cur, t0 + 1) == 2);
    CHECK(t.read(a, stk_data::conn_cnt, t0 + 1) == 2);
    CHECK(t.read(a, stk_data::conn_rate, t0 + 1) == 2);
    for (int i = 0; i < 21; ++i)
        t.on_http_req(a, t0 + 2);
    t.on_http_err(a, t0 + 2);
    t.on_bytes_in(a, t0 + 2, 1500);
    CHECK(t.read(a, stk_data::http_req_cnt, t0 + 2) == 21);
    CHECK(t.read(a, stk_data::http_req_rate, t0 + 2) == 21);
    CHECK(t.read(a, stk_data::http_err_cnt, t0 + 2) == 1);
    CHECK(t.read(a, stk_data::http_err_rate, t0 + 2) == 1);
    CHECK(t.read(a, stk_data::bytes_in_rate, t0 + 2) == 1500);
    CHECK(t.read(a, stk_data::gpc0, t0 + 2) == 0);
    CHECK(t.inc_gpc0(a, t0 + 2) == 1);
    CHECK(t.inc_gpc0(a, t0 + 2) == 2);
    CHECK_FALSE(t.read(a, stk_data::gpc0_rate, t0 + 2)); // not stored
    t.on_untrack(b, t0 + 3);
    t.release(b, t0 + 3);
    CHECK(t.read_key("k1", stk_data::conn_cur, t0 + 3) == 1);
    CHECK(t.read_key("nobody", stk_data::conn_cur, t0 + 3) == 0);
    CHECK_FALSE(t.read_key("k1", stk_data::gpc0_rate, t0 + 3));
}

TEST_CASE("stick-table entries expire after their idle time unless tracked", "[stick]")
{
    stick_table t(parse({"type", "integer", "size", "4", "expire", "30s", "store", "http_req_cnt"}));
    auto a = t.acquire("a", t0);
    t.on_http_req(a, t0);
    t.release(a, t0 + 1'000);
    CHECK(t.read_key("a", stk_data::http_req_cnt, t0 + 30'999) == 1);
    CHECK(t.read_key("a", stk_data::http_req_cnt, t0 + 31'000) == 0);
    auto again = t.acquire("a", t0 + 31'000); // starts afresh
    CHECK(t.read(again, stk_data::http_req_cnt, t0 + 31'000) == 0);
    // a tracked entry never expires
    CHECK(t.read_key("a", stk_data::http_req_cnt, t0 + 500'000) == 0);
    t.on_http_req(again, t0 + 500'000);
    CHECK(t.read_key("a", stk_data::http_req_cnt, t0 + 900'000) == 1);
}

TEST_CASE("a full stick-table drops expired entries, then the least recently used untracked one", "[stick]")
{
    stick_table t(parse({"type", "integer", "size", "3", "expire", "10s", "store", "conn_cnt"}), 1);
    for (auto k : {"a", "b", "c"}) {
        auto r = t.acquire(k, t0);
        t.on_track(r, t0);
        t.release(r, t0);
    }
    auto a = t.acquire("a", t0 + 5'000); // a is now the most recently used
    t.release(a, t0 + 5'000);
    auto d = t.acquire("d", t0 + 6'000); // evicts b, the least recently used
    REQUIRE(d);
    t.release(d, t0 + 6'000);
    CHECK(t.entries() == 3);
    CHECK(t.read_key("b", stk_data::conn_cnt, t0 + 6'000) == 0);
    CHECK(t.read_key("a", stk_data::conn_cnt, t0 + 6'000) == 1);
    CHECK(t.read_key("c", stk_data::conn_cnt, t0 + 6'000) == 1);
    // at t0+10s c expired: it goes, not a
    auto e = t.acquire("e", t0 + 10'000);
    REQUIRE(e);
    CHECK(t.read_key("c", stk_data::conn_cnt, t0 + 10'000) == 0);
    CHECK(t.read_key("a", stk_data::conn_cnt, t0 + 10'000) == 1);
    // every entry tracked: no room, the new key is not tracked
    auto a2 = t.acquire("a", t0 + 10'000);
    auto d2 = t.acquire("d", t0 + 10'000);
    CHECK_FALSE(t.acquire("f", t0 + 10'000));
    CHECK(t.entries() == 3);
    t.release(a2, t0 + 10'000);
    t.release(d2, t0 + 10'000);
    t.release(e, t0 + 10'000);
}

TEST_CASE("stick-table shards hold exactly `size` entries together", "[stick]")
{
    stick_table t(parse({"type", "integer", "size", "100", "store", "conn_cnt"}), 16);
    for (int i = 0; i < 1'000; ++i) {
        auto r = t.acquire(std::to_string(i), t0 + i);
        REQUIRE(r);
        t.release(r, t0 + i);
    }
    CHECK(t.entries() == 100); // 1000 keys over 16 shards of 6 or 7: every shard filled
    stick_table tiny(parse({"type", "integer", "size", "3", "store", "conn_cnt"}), 16);
    for (int i = 0; i < 50; ++i)
        tiny.release(tiny.acquire(std::to_string(i), t0), t0);
    CHECK(tiny.entries() == 3); // 2 shards holding 2 and 1
}

TEST_CASE("two threads counting one key lose no update", "[stick]")
{
    stick_table t(parse({"type", "ip", "size", "1k", "store", "http_req_cnt,conn_cur"}));
    constexpr int n = 20'000;
    constexpr std::string_view lo("\x7f\0\0\x01", 4);
    auto run = [&] {
        for (int i = 0; i < n; ++i) {
            auto r = t.acquire(lo, t0);
            t.on_track(r, t0);
            t.on_http_req(r, t0);
            t.on_untrack(r, t0);
            t.release(r, t0);
        }
    };
    std::thread a(run), b(run);
    a.join();
    b.join();
    CHECK(t.read_key(lo, stk_data::http_req_cnt, t0) == 2 * n);
    CHECK(t.read_key(lo, stk_data::conn_cur, t0) == 0);
}

TEST_CASE("stick-table keys of addresses follow the table's type", "[stick]")
{
    stick_table v4(parse({"type", "ip", "size", "1", "store", "conn_cur"}));
    stick_table v6(parse({"type", "ipv6", "size", "1", "store", "conn_cur"}));
    std::array<std::uint8_t, 16> buf{};
    const std::uint8_t a4[4] = {127, 0, 0, 2};
    const std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2};
    const std::uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(v4.ip_key(a4, 4, buf) == std::string_view("\x7f\0\0\x02", 4));
    CHECK(v4.ip_key(mapped, 16, buf) == std::string_view("\x7f\0\0\x02", 4));
    CHECK_FALSE(v4.ip_key(a6, 16, buf));
    CHECK(v6.ip_key(a4, 4, buf) == std::string_view(reinterpret_cast<const char*>(mapped), 16));
    CHECK(v6.ip_key(a6, 16, buf) == std::string_view(reinterpret_cast<const char*>(a6), 16));
}

namespace {

// The value of fetch(args) on a transaction from src that tracks through trk.
std::optional<std::int64_t> sc_fetch(track_state& trk, const char* name, std::vector<std::string> args)
{
    sample_expr se;
    se.fetch = name;
    se.args = std::move(args);
    auto e = compile_expr(se);
    INFO(name);
    REQUIRE(e);
    txn_view v;
    v.src = *bulwark::parse_ip("127.0.0.1");
    v.trk = &trk;
    eval_ctx ctx;
    ctx.txn = &v;
    if (eval_expr(ctx, *e, false) == 0)
        return std::nullopt;
    return ctx.vals.front().num;
}

} // namespace

TEST_CASE("sc_* and src_* fetches read the tracked entry and the source's entry", "[stick]")
{
    stick_registry reg;
    auto& own = reg.add(parse({"type", "ip", "size", "10", "expire", "30s", "store",
                               "conn_cur,conn_cnt,conn_rate(10s),http_req_cnt,http_req_rate(10s),"
                               "http_err_cnt,http_err_rate(10s),gpc0,gpc0_rate(10s),bytes_in_rate(10s)"}));
    auto other_cfg = parse({"type", "ip", "size", "10", "store", "gpc0"});
    other_cfg.name = "other";
    auto& other = reg.add(other_cfg);
    track_state trk;
    trk.own = &own;
    trk.tables = &reg;
    trk.now = t0;
    // nothing tracked: sc_* read 0, src_* read 0 (no entry yet)
    CHECK(sc_fetch(trk, "sc_http_req_rate", {"0"}) == 0);
    CHECK(sc_fetch(trk, "src_conn_cur", {}) == 0);
    const std::string lo("\x7f\0\0\x01", 4);
    trk.track(0, own, lo, true);
    trk.track(0, own, lo, true); // sc0 tracks already: no effect
    trk.count_error();
    trk.count_bytes_in(100);
    trk.count_request();
    CHECK(sc_fetch(trk, "sc_http_req_rate", {"0"}) == 2);
    CHECK(sc_fetch(trk, "sc_http_req_cnt", {"0"}) == 2);
    CHECK(sc_fetch(trk, "sc0_http_req_rate", {}) == 2);
    CHECK(sc_fetch(trk, "sc_conn_cur", {"0"}) == 1);
    CHECK(sc_fetch(trk, "sc0_conn_cur", {}) == 1);
    CHECK(sc_fetch(trk, "sc_conn_cnt", {"0"}) == 1);
    CHECK(sc_fetch(trk, "sc_conn_rate", {"0"}) == 1);
    CHECK(sc_fetch(trk, "sc0_conn_rate", {}) == 1);
    CHECK(sc_fetch(trk, "sc_http_err_rate", {"0"}) == 1);
    CHECK(sc_fetch(trk, "sc0_http_err_rate", {}) == 1);
    CHECK(sc_fetch(trk, "sc_http_err_cnt", {"0"}) == 1);
    CHECK(sc_fetch(trk, "sc_bytes_in_rate", {"0"}) == 100);
    CHECK(sc_fetch(trk, "sc_get_gpc0", {"0"}) == 0);
    CHECK(sc_fetch(trk, "sc_inc_gpc0", {"0"}) == 1);
    CHECK(sc_fetch(trk, "sc0_inc_gpc0", {}) == 2);
    CHECK(sc_fetch(trk, "sc0_get_gpc0", {}) == 2);
    CHECK(sc_fetch(trk, "sc_gpc0_rate", {"0"}) == 2);
    CHECK(sc_fetch(trk, "sc_http_req_rate", {"1"}) == 0); // sc1 tracks nothing
    CHECK(sc_fetch(trk, "src_conn_cur", {}) == 1);
    CHECK(sc_fetch(trk, "src_conn_cnt", {}) == 1);
    CHECK(sc_fetch(trk, "src_conn_rate", {}) == 1);
    CHECK(sc_fetch(trk, "src_http_req_rate", {}) == 2);
    CHECK(sc_fetch(trk, "src_http_err_rate", {}) == 1);
    CHECK(sc_fetch(trk, "src_get_gpc0", {}) == 2);
    CHECK(sc_fetch(trk, "src_inc_gpc0", {}) == 3);
    // another table: the tracked key looked up there; a type it does not store: no sample
    CHECK(sc_fetch(trk, "sc_get_gpc0", {"0", "other"}) == 0);
    CHECK(sc_fetch(trk, "sc_inc_gpc0", {"0", "other"}) == 1);
    CHECK(sc_fetch(trk, "src_get_gpc0", {"other"}) == 1);
    CHECK_FALSE(sc_fetch(trk, "src_conn_cur", {"other"}));
    CHECK_FALSE(sc_fetch(trk, "src_conn_cur", {"nosuch"}));
    CHECK(other.entries() == 1);
    trk.untrack_all(t0);
    CHECK(own.read_key(lo, stk_data::conn_cur, t0) == 0);
}

TEST_CASE("stick-table adds a request's bytes both ways and its error under one update", "[stick]")
{
    stick_table t(parse({"type", "ip", "size", "4", "store",
                         "http_err_cnt,http_err_rate(10s),bytes_in_rate(10s),bytes_out_rate(10s)"}));
    auto a = t.acquire("k", t0);
    REQUIRE(a);
    t.on_request_end(a, t0, 300, 5000, false);
    t.on_request_end(a, t0 + 5, 200, 0, true);
    CHECK(t.read(a, stk_data::bytes_in_rate, t0 + 5) == 500);
    CHECK(t.read(a, stk_data::bytes_out_rate, t0 + 5) == 5000);
    CHECK(t.read(a, stk_data::http_err_cnt, t0 + 5) == 1);
    CHECK(t.read(a, stk_data::http_err_rate, t0 + 5) == 1);
    // 15 s on: the first period (t0..t0+10s) weighs half in the sliding window
    CHECK(t.read(a, stk_data::bytes_in_rate, t0 + 15'000) == 250);
    CHECK(t.read(a, stk_data::bytes_out_rate, t0 + 15'000) == 2500);
    t.release(a, t0 + 5);
}

TEST_CASE("track_state ends a request in every tracked entry that stores its data", "[stick]")
{
    stick_registry reg;
    auto& bytes = reg.add(parse({"type", "ip", "size", "4", "store", "bytes_in_rate(10s),bytes_out_rate(10s)"}));
    auto cfg = parse({"type", "ip", "size", "4", "store", "http_req_cnt,http_err_cnt"});
    cfg.name = "errs";
    auto& errs = reg.add(cfg);
    track_state trk;
    trk.tables = &reg;
    trk.now = t0;
    CHECK_FALSE(trk.tracking());
    trk.track(0, bytes, "k", true);
    trk.track(2, errs, "k", true);
    CHECK(trk.tracking());
    trk.end_request(40, 900, true);
    trk.end_request(60, 100, false);
    CHECK(bytes.read_key("k", stk_data::bytes_in_rate, t0) == 100);
    CHECK(bytes.read_key("k", stk_data::bytes_out_rate, t0) == 1000);
    CHECK(errs.read_key("k", stk_data::http_req_cnt, t0) == 1);
    CHECK(errs.read_key("k", stk_data::http_err_cnt, t0) == 1);
    trk.untrack_all(t0);
}

TEST_CASE("gpc0 and gpc1 count apart; clr returns the value before", "[stick]")
{
    stick_table t(parse({"type", "string", "size", "4", "store", "gpc0,gpc1,gpc1_rate(1m)"}));
    auto a = t.acquire("k", t0);
    REQUIRE(a);
    CHECK(t.inc_gpc(a, t0, 1) == 1);
    CHECK(t.inc_gpc(a, t0, 1) == 2);
    CHECK(t.inc_gpc(a, t0, 0) == 1);
    CHECK(t.read(a, stk_data::gpc1, t0) == 2);
    CHECK(t.read(a, stk_data::gpc1_rate, t0) == 2);
    CHECK(t.read(a, stk_data::gpc0, t0) == 1);
    CHECK(t.clr_gpc(a, t0, 1) == 2);
    CHECK(t.read(a, stk_data::gpc1, t0) == 0);
    CHECK(t.read(a, stk_data::gpc0, t0) == 1);
    t.release(a, t0);
    stick_table none(parse({"type", "string", "size", "4", "store", "conn_cur"}));
    auto b = none.acquire("k", t0);
    CHECK_FALSE(none.inc_gpc(b, t0, 1));
    CHECK_FALSE(none.clr_gpc(b, t0, 0));
    none.release(b, t0);
}

TEST_CASE("sc1_/sc2_ fetches, gpc1, clr and tracked read their own counter", "[stick]")
{
    stick_registry reg;
    auto& own = reg.add(parse({"type", "ip", "size", "10", "store",
                               "http_req_rate(10s),gpc0,gpc1,bytes_out_rate(10s)"}));
    track_state trk;
    trk.own = &own;
    trk.tables = &reg;
    trk.now = t0;
    const std::string lo("\x7f\0\0\x01", 4);
    CHECK(sc_fetch(trk, "sc1_tracked", {}) == 0);
    CHECK(sc_fetch(trk, "sc_tracked", {"2"}) == 0);
    trk.track(1, own, lo, true);
    trk.track(2, own, lo, true);
    trk.end_request(0, 700, false);
    CHECK(sc_fetch(trk, "sc1_tracked", {}) == 1);
    CHECK(sc_fetch(trk, "sc0_tracked", {}) == 0);
    CHECK(sc_fetch(trk, "sc_tracked", {"2"}) == 1);
    CHECK(sc_fetch(trk, "sc1_http_req_rate", {}) == 2); // one entry tracked twice: two requests counted
    CHECK(sc_fetch(trk, "sc2_http_req_rate", {}) == 2);
    CHECK(sc_fetch(trk, "sc2_bytes_out_rate", {}) == 1400);
    CHECK(sc_fetch(trk, "src_bytes_out_rate", {}) == 1400);
    CHECK(sc_fetch(trk, "sc1_inc_gpc1", {}) == 1);
    CHECK(sc_fetch(trk, "sc2_inc_gpc1", {}) == 2);
    CHECK(sc_fetch(trk, "sc_get_gpc1", {"1"}) == 2);
    CHECK(sc_fetch(trk, "src_inc_gpc1", {}) == 3);
    CHECK(sc_fetch(trk, "sc1_clr_gpc1", {}) == 3);
    CHECK(sc_fetch(trk, "src_get_gpc1", {}) == 0);
    CHECK(sc_fetch(trk, "sc2_get_gpc0", {}) == 0);
    CHECK(sc_fetch(trk, "src_clr_gpc0", {}) == 0);
    trk.untrack_all(t0);
}

TEST_CASE("every scN_*, src_* form reads what sc_*(N) reads; inc and clr of each gpc", "[stick]")
{
    stick_registry reg;
    auto& own = reg.add(parse({"type", "ip", "size", "10", "store",
                               "conn_cur,conn_cnt,conn_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,"
                               "http_err_rate(10s),bytes_in_rate(10s),bytes_out_rate(10s),gpc0,gpc0_rate(10s),"
                               "gpc1,gpc1_rate(10s)"}));
    track_state trk;
    trk.own = &own;
    trk.tables = &reg;
    trk.now = t0;
    // sc0 tracks the source (127.0.0.1: what src_* read), sc1 and sc2 other keys, each counted apart
    const std::array<std::string, 3> keys{std::string("\x7f\0\0\x01", 4), "k1", "k2"};
    for (unsigned n = 0; n < 3; ++n) {
        auto r = own.acquire(keys[n], t0);
        for (unsigned i = 0; i <= n; ++i) { // n + 1 of everything
            own.on_track(r, t0);
            own.on_http_req(r, t0);
            own.on_request_end(r, t0, 10, 20, true);
            own.inc_gpc(r, t0, 0);
            own.inc_gpc(r, t0, 1);
        }
        own.release(r, t0);
        trk.track(n, own, keys[n], false);
    }
    struct form {
        const char* name;
        const char* generic;
        int n;
    };
    const std::vector<form> forms{
        {"sc0_http_req_rate", "sc_http_req_rate", 0},
        {"sc0_http_req_cnt", "sc_http_req_cnt", 0},
        {"sc0_http_err_rate", "sc_http_err_rate", 0},
        {"sc0_http_err_cnt", "sc_http_err_cnt", 0},
        {"sc0_conn_cur", "sc_conn_cur", 0},
        {"sc0_conn_cnt", "sc_conn_cnt", 0},
        {"sc0_conn_rate", "sc_conn_rate", 0},
        {"sc0_bytes_in_rate", "sc_bytes_in_rate", 0},
        {"sc0_bytes_out_rate", "sc_bytes_out_rate", 0},
        {"sc0_get_gpc0", "sc_get_gpc0", 0},
        {"sc0_gpc0_rate", "sc_gpc0_rate", 0},
        {"sc0_get_gpc1", "sc_get_gpc1", 0},
        {"sc0_gpc1_rate", "sc_gpc1_rate", 0},
        {"sc0_tracked", "sc_tracked", 0},
        {"sc1_http_req_rate", "sc_http_req_rate", 1},
        {"sc1_http_req_cnt", "sc_http_req_cnt", 1},
        {"sc1_http_err_rate", "sc_http_err_rate", 1},
        {"sc1_http_err_cnt", "sc_http_err_cnt", 1},
        {"sc1_conn_cur", "sc_conn_cur", 1},
        {"sc1_conn_cnt", "sc_conn_cnt", 1},
        {"sc1_conn_rate", "sc_conn_rate", 1},
        {"sc1_bytes_in_rate", "sc_bytes_in_rate", 1},
        {"sc1_bytes_out_rate", "sc_bytes_out_rate", 1},
        {"sc1_get_gpc0", "sc_get_gpc0", 1},
        {"sc1_gpc0_rate", "sc_gpc0_rate", 1},
        {"sc1_get_gpc1", "sc_get_gpc1", 1},
        {"sc1_gpc1_rate", "sc_gpc1_rate", 1},
        {"sc1_tracked", "sc_tracked", 1},
        {"sc2_http_req_rate", "sc_http_req_rate", 2},
        {"sc2_http_req_cnt", "sc_http_req_cnt", 2},
        {"sc2_http_err_rate", "sc_http_err_rate", 2},
        {"sc2_http_err_cnt", "sc_http_err_cnt", 2},
        {"sc2_conn_cur", "sc_conn_cur", 2},
        {"sc2_conn_cnt", "sc_conn_cnt", 2},
        {"sc2_conn_rate", "sc_conn_rate", 2},
        {"sc2_bytes_in_rate", "sc_bytes_in_rate", 2},
        {"sc2_bytes_out_rate", "sc_bytes_out_rate", 2},
        {"sc2_get_gpc0", "sc_get_gpc0", 2},
        {"sc2_gpc0_rate", "sc_gpc0_rate", 2},
        {"sc2_get_gpc1", "sc_get_gpc1", 2},
        {"sc2_gpc1_rate", "sc_gpc1_rate", 2},
        {"sc2_tracked", "sc_tracked", 2},
        {"src_http_req_rate", "sc_http_req_rate", 0},
        {"src_http_req_cnt", "sc_http_req_cnt", 0},
        {"src_http_err_rate", "sc_http_err_rate", 0},
        {"src_http_err_cnt", "sc_http_err_cnt", 0},
        {"src_conn_cur", "sc_conn_cur", 0},
        {"src_conn_cnt", "sc_conn_cnt", 0},
        {"src_conn_rate", "sc_conn_rate", 0},
        {"src_bytes_in_rate", "sc_bytes_in_rate", 0},
        {"src_bytes_out_rate", "sc_bytes_out_rate", 0},
        {"src_get_gpc0", "sc_get_gpc0", 0},
        {"src_gpc0_rate", "sc_gpc0_rate", 0},
        {"src_get_gpc1", "sc_get_gpc1", 0},
        {"src_gpc1_rate", "sc_gpc1_rate", 0},
    };
    for (const auto& f : forms) {
        INFO(f.name);
        auto generic = sc_fetch(trk, f.generic, {std::to_string(f.n)});
        REQUIRE(generic);
        CHECK(*generic > 0);
        CHECK(sc_fetch(trk, f.name, {}) == generic);
    }
    struct gpc_form {
        const char* inc;
        const char* clr;
        const char* get;
    };
    const std::vector<gpc_form> gpcs{
        {"sc0_inc_gpc0", "sc0_clr_gpc0", "sc0_get_gpc0"},
        {"sc0_inc_gpc1", "sc0_clr_gpc1", "sc0_get_gpc1"},
        {"sc1_inc_gpc0", "sc1_clr_gpc0", "sc1_get_gpc0"},
        {"sc1_inc_gpc1", "sc1_clr_gpc1", "sc1_get_gpc1"},
        {"sc2_inc_gpc0", "sc2_clr_gpc0", "sc2_get_gpc0"},
        {"sc2_inc_gpc1", "sc2_clr_gpc1", "sc2_get_gpc1"},
        {"sc_inc_gpc0", "sc_clr_gpc0", "sc_get_gpc0"},
        {"src_inc_gpc0", "src_clr_gpc0", "src_get_gpc0"},
        {"sc_inc_gpc1", "sc_clr_gpc1", "sc_get_gpc1"},
        {"src_inc_gpc1", "src_clr_gpc1", "src_get_gpc1"},
    };
    for (const auto& g : gpcs) {
        INFO(g.inc);
        // the generic forms take N (0 here); the others none
        std::vector<std::string> args;
        if (std::string_view(g.inc).starts_with("sc_"))
            args.push_back("0");
        auto before = sc_fetch(trk, g.get, args);
        REQUIRE(before);
        CHECK(sc_fetch(trk, g.inc, args) == *before + 1);
        CHECK(sc_fetch(trk, g.clr, args) == *before + 1);
        CHECK(sc_fetch(trk, g.get, args) == 0);
    }
    trk.untrack_all(t0);
}

TEST_CASE("an http-request track lasts the request, a connection track the connection", "[stick]")
{
    stick_table t(parse({"type", "string", "size", "100", "store", "conn_cur,http_req_cnt"}));
    track_state trk;
    trk.now = t0;
    trk.track(0, t, "conn", false); // tcp-request connection track-sc0
    trk.track(1, t, "/a", true);    // http-request track-sc1 path
    CHECK(t.read_key("/a", stk_data::conn_cur, t0) == 1);
    CHECK(t.read_key("/a", stk_data::http_req_cnt, t0) == 1);
    trk.untrack_requests(t0);
    CHECK_FALSE(trk.sc[1]);
    CHECK(trk.sc[0]);
    CHECK(t.read_key("/a", stk_data::conn_cur, t0) == 0);
    trk.count_request();             // the next request: sc0 counts it
    trk.track(1, t, "/b", true);     // and sc1 tracks its own path
    CHECK(t.read_key("/b", stk_data::http_req_cnt, t0) == 1);
    CHECK(t.read_key("/a", stk_data::http_req_cnt, t0) == 1);
    CHECK(t.read_key("conn", stk_data::http_req_cnt, t0) == 1);
    trk.untrack_all(t0);
    CHECK(t.read_key("conn", stk_data::conn_cur, t0) == 0);
    CHECK(t.read_key("/b", stk_data::conn_cur, t0) == 0);
}
