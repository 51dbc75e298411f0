// SPDX-License-Identifier: Apache-2.0
#include "proxy/stick_table.hpp"

#include "common/units.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <fmt/format.h>
#include <functional>

namespace bulwark::proxy {

// ---- frequency counters (HAProxy's update_freq_ctr_period / freq_ctr_total)

void freq_ctr::add(std::uint64_t now, std::uint32_t period, std::uint32_t n)
{
    if (period == 0)
        return;
    if (now - curr_tick >= period) {
        prev = curr;
        curr = 0;
        curr_tick += period;
        if (now - curr_tick >= period) { // two periods or more went by
            prev = 0;
            curr_tick = now;
        }
    }
    curr += n;
}

std::uint32_t freq_ctr::read(std::uint64_t now, std::uint32_t period) const
{
    if (period == 0)
        return 0;
    std::uint64_t c = curr, past = prev, elapsed = now - curr_tick;
    if (elapsed >= period) { // the current period is over: it is the previous one now
        past = c;
        c = 0;
        elapsed -= period;
        if (elapsed >= period)
            past = 0;
    }
    return static_cast<std::uint32_t>((past * (period - elapsed) + c * period) / period);
}

// ---- data types -------------------------------------------------------------

namespace {

struct data_row {
    stk_data d;
    std::string_view name;
    bool period;
};

constexpr std::array<data_row, stk_data_count> data_rows{{
    {stk_data::conn_cur, "conn_cur", false},
    {stk_data::conn_cnt, "conn_cnt", false},
    {stk_data::conn_rate, "conn_rate", true},
    {stk_data::http_req_cnt, "http_req_cnt", false},
    {stk_data::http_req_rate, "http_req_rate", true},
    {stk_data::http_err_cnt, "http_err_cnt", false},
    {stk_data::http_err_rate, "http_err_rate", true},
    {stk_data::gpc0, "gpc0", false},
    {stk_data::gpc0_rate, "gpc0_rate", true},
    {stk_data::bytes_in_rate, "bytes_in_rate", true},
    {stk_data::bytes_out_rate, "bytes_out_rate", true},
    {stk_data::gpc1, "gpc1", false},
    {stk_data::gpc1_rate, "gpc1_rate", true},
}};

} // namespace

std::string_view stk_data_name(stk_data d) { return data_rows[static_cast<std::size_t>(d)].name; }
bool stk_data_has_period(stk_data d) { return data_rows[static_cast<std::size_t>(d)].period; }

std::optional<stk_data> stk_data_from_name(std::string_view name)
{
    for (const auto& r : data_rows)
        if (r.name == name)
            return r.d;
    return std::nullopt;
}

// ---- parsing ----------------------------------------------------------------

namespace {

// One `store` item: "conn_cur" or "http_req_rate(10s)".
std::string parse_store_item(std::string_view item, stick_table_config& c)
{
    std::string_view name = item, arg;
    if (auto p = item.find('('); p != std::string_view::npos) {
        if (!item.ends_with(')'))
            return fmt::format("missing ')' in store data type '{}'", item);
        name = item.substr(0, p);
        arg = item.substr(p + 1, item.size() - p - 2);
    }
    auto d = stk_data_from_name(name);
    if (!d)
        return fmt::format("unknown data type '{}' in 'store'", name);
    auto i = static_cast<std::size_t>(*d);
    if (stk_data_has_period(*d)) {
        if (arg.empty())
            return fmt::format("data type '{}' expects a period in parentheses, e.g. '{}(10s)'", name, name);
        auto t = parse_time(arg);
        if (!t || t->count() <= 0)
            return fmt::format("invalid period '{}' for data type '{}'", arg, name);
        c.period_ms[i] = static_cast<std::uint32_t>(t->count());
    } else if (!arg.empty()) {
        return fmt::format("data type '{}' takes no argument", name);
    }
    c.stored |= 1u << i;
    return {};
}

std::string parse_type(const std::vector<std::string>& w, std::size_t& i, stick_table_config& c)
{
    if (i + 1 >= w.size())
        return "'type' expects ip, ipv6, integer or string";
    const auto& t = w[++i];
    if (t == "ip") c.type = stk_key_type::ip;
    else if (t == "ipv6") c.type = stk_key_type::ipv6;
    else if (t == "integer") c.type = stk_key_type::integer;
    else if (t == "string") c.type = stk_key_type::string;
    else if (t == "binary") return "type 'binary' is not built (no issue yet)";
    else return fmt::format("unknown type '{}', expected ip, ipv6, integer or string", t);
    if (c.type == stk_key_type::string && i + 2 < w.size() && w[i + 1] == "len") {
        auto n = parse_int(w[i + 2], 1, 65535);
        if (!n)
            return fmt::format("invalid 'len' '{}': {}", w[i + 2], n.message());
        c.key_len = static_cast<std::uint32_t>(*n);
        i += 2;
    }
    return {};
}

} // namespace

stick_table_parse parse_stick_table(const std::vector<std::string>& w, std::string name)
{
    stick_table_config c;
    c.name = std::move(name);
    bool have_type = false;
    auto fail = [](std::string e) { return stick_table_parse{std::nullopt, std::move(e)}; };
    for (std::size_t i = 0; i < w.size(); ++i) {
        const auto& k = w[i];
        bool has_arg = i + 1 < w.size();
        if (k == "type") {
            if (auto e = parse_type(w, i, c); !e.empty())
                return fail(e);
            have_type = true;
        } else if (k == "size" && has_arg) {
            auto n = parse_size(w[++i]);
            if (!n || *n == 0 || *n > 0xffffffffu)
                return fail(fmt::format("invalid 'size' '{}'", w[i]));
            c.size = static_cast<std::uint32_t>(*n);
        } else if (k == "expire" && has_arg) {
            auto t = parse_time(w[++i]);
            if (!t)
                return fail(fmt::format("invalid 'expire' '{}': {}", w[i], t.message()));
            c.expire_ms = static_cast<std::uint32_t>(t->count());
        } else if (k == "store" && has_arg) {
            for (auto item : split(w[++i], ','))
                if (auto e = parse_store_item(item, c); !e.empty())
                    return fail(e);
        } else if (k == "nopurge" || ((k == "peers" || k == "srvkey" || k == "write-to") && has_arg)) {
            i += k == "nopurge" ? 0 : 1; // HAProxy options with no effect here
        } else {
            return fail(fmt::format("unexpected '{}', expected 'type', 'size', 'expire', 'store', "
                                    "'nopurge' or 'peers'", k));
        }
    }
    if (!have_type)
        return fail("missing 'type'");
    if (c.size == 0)
        return fail("missing 'size'");
    return {std::move(c), {}};
}

// ---- the table --------------------------------------------------------------

stick_table::stick_table(stick_table_config cfg, unsigned shards) : cfg_(std::move(cfg))
{
    std::size_t n = std::bit_floor(std::max<std::size_t>(1, std::min<std::size_t>(shards, cfg_.size)));
    mask_ = n - 1;
    for (std::size_t i = 0; i < n; ++i) {
        shards_.push_back(std::make_unique<shard>());
        shards_.back()->cap = cfg_.size / n + (i < cfg_.size % n ? 1 : 0);
        shards_.back()->index.reserve(std::min<std::size_t>(shards_.back()->cap, 4096));
    }
}

stick_table::shard& stick_table::shard_of(std::string_view key)
{
    // the low bits of std::hash on a string are well mixed (murmur/FNV in libstdc++)
    return *shards_[std::hash<std::string_view>{}(key) & mask_];
}

// Marks e used at now: it moves to the front of its shard's LRU list, so
// the list stays in order of last use and expired entries gather at its end.
void stick_table::touch(shard& s, stk_entry& e, std::uint64_t now)
{
    e.touched = now;
    if (auto f = s.index.find(std::string_view(e.key)); f != s.index.end())
        s.lru.splice(s.lru.begin(), s.lru, f->second);
}

bool stick_table::expired(const stk_entry& e, std::uint64_t now) const
{
    return e.refs == 0 && cfg_.expire_ms != 0 && now - e.touched >= cfg_.expire_ms;
}

// Makes room for one entry in s: drops every expired entry from the LRU
// end, then, if still full, the least recently used one nobody tracks.
bool stick_table::make_room(shard& s, std::uint64_t now)
{
    while (!s.lru.empty() && expired(s.lru.back(), now)) {
        s.index.erase(std::string_view(s.lru.back().key));
        s.lru.pop_back();
    }
    if (s.lru.size() < s.cap)
        return true;
    for (auto it = s.lru.end(); it != s.lru.begin();) {
        --it;
        if (it->refs == 0) {
            s.index.erase(std::string_view(it->key));
            s.lru.erase(it);
            return true;
        }
    }
    return false;
}

stk_entry* stick_table::find_or_make(shard& s, std::string_view key, std::uint64_t now)
{
    if (auto f = s.index.find(key); f != s.index.end()) {
        auto it = f->second;
        if (expired(*it, now)) { // a stale entry starts afresh
            std::string k = std::move(it->key);
            *it = stk_entry{};
            it->key = std::move(k);
            s.index.erase(f);
            s.index.emplace(std::string_view(it->key), it);
        }
        s.lru.splice(s.lru.begin(), s.lru, it);
        ++it->refs;
        it->touched = now;
        return &*it;
    }
    if (!make_room(s, now))
        return nullptr;
    s.lru.emplace_front();
    auto it = s.lru.begin();
    it->key.assign(key);
    it->touched = now;
    it->refs = 1;
    s.index.emplace(std::string_view(it->key), it);
    return &*it;
}

stk_ref stick_table::acquire(std::string_view key, std::uint64_t now)
{
    if (cfg_.type == stk_key_type::string && key.size() > cfg_.key_len)
        key = key.substr(0, cfg_.key_len);
    shard& s = shard_of(key);
    std::lock_guard lk(s.mu);
    stk_entry* e = find_or_make(s, key, now);
    return e ? stk_ref{this, e} : stk_ref{};
}

stk_ref stick_table::acquire_tracked(std::string_view key, std::uint64_t now, bool http_req)
{
    if (cfg_.type == stk_key_type::string && key.size() > cfg_.key_len)
        key = key.substr(0, cfg_.key_len);
    shard& s = shard_of(key);
    std::lock_guard lk(s.mu);
    stk_entry* e = find_or_make(s, key, now);
    if (!e)
        return {};
    ++e->conn_cur;
    ++e->conn_cnt;
    e->conn_rate.add(now, period(stk_data::conn_rate), 1);
    if (http_req) {
        ++e->http_req_cnt;
        e->http_req_rate.add(now, period(stk_data::http_req_rate), 1);
    }
    return {this, e};
}

void stick_table::untrack(stk_ref r, std::uint64_t now)
{
    update(r, now, [&](stk_entry& e) {
        if (e.conn_cur > 0)
            --e.conn_cur;
        if (e.refs > 0)
            --e.refs;
    });
}

void stick_table::release(stk_ref r, std::uint64_t now)
{
    if (!r)
        return;
    shard& s = shard_of(*r.entry);
    std::lock_guard lk(s.mu);
    if (r.entry->refs > 0)
        --r.entry->refs;
    touch(s, *r.entry, now);
}

void stick_table::on_track(stk_ref r, std::uint64_t now)
{
    update(r, now, [&](stk_entry& e) {
        ++e.conn_cur;
        ++e.conn_cnt;
        e.conn_rate.add(now, period(stk_data::conn_rate), 1);
    });
}

void stick_table::on_untrack(stk_ref r, std::uint64_t now)
{
    update(r, now, [&](stk_entry& e) {
        if (e.conn_cur > 0)
            --e.conn_cur;
    });
}

void stick_table::on_http_req(stk_ref r, std::uint64_t now)
{
    update(r, now, [&](stk_entry& e) {
        ++e.http_req_cnt;
        e.http_req_rate.add(now, period(stk_data::http_req_rate), 1);
    });
}

void stick_table::on_http_err(stk_ref r, std::uint64_t now)
{
    update(r, now, [&](stk_entry& e) {
        ++e.http_err_cnt;
        e.http_err_rate.add(now, period(stk_data::http_err_rate), 1);
    });
}

void stick_table::on_bytes_in(stk_ref r, std::uint64_t now, std::uint64_t n)
{
    on_request_end(r, now, n, 0, false);
}

namespace {
std::uint32_t clamp32(std::uint64_t n) { return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, 0xffffffffu)); }
} // namespace

void stick_table::on_request_end(stk_ref r, std::uint64_t now, std::uint64_t in, std::uint64_t out, bool err)
{
    update(r, now, [&](stk_entry& e) {
        if (in)
            e.bytes_in_rate.add(now, period(stk_data::bytes_in_rate), clamp32(in));
        if (out)
            e.bytes_out_rate.add(now, period(stk_data::bytes_out_rate), clamp32(out));
        if (err) {
            ++e.http_err_cnt;
            e.http_err_rate.add(now, period(stk_data::http_err_rate), 1);
        }
    });
}

std::optional<std::int64_t> stick_table::inc_gpc(stk_ref r, std::uint64_t now, unsigned idx)
{
    const stk_data cnt = idx ? stk_data::gpc1 : stk_data::gpc0;
    const stk_data rate = idx ? stk_data::gpc1_rate : stk_data::gpc0_rate;
    if (!cfg_.stores(cnt) && !cfg_.stores(rate))
        return std::nullopt;
    std::uint64_t v = 0;
    update(r, now, [&](stk_entry& e) {
        v = ++e.gpc[idx & 1];
        e.gpc_rate[idx & 1].add(now, period(rate), 1);
    });
    if (!cfg_.stores(cnt))
        return std::nullopt;
    return static_cast<std::int64_t>(v);
}

std::optional<std::int64_t> stick_table::clr_gpc(stk_ref r, std::uint64_t now, unsigned idx)
{
    if (!cfg_.stores(idx ? stk_data::gpc1 : stk_data::gpc0))
        return std::nullopt;
    std::uint64_t was = 0;
    update(r, now, [&](stk_entry& e) {
        was = e.gpc[idx & 1];
        e.gpc[idx & 1] = 0;
    });
    return static_cast<std::int64_t>(was);
}

std::optional<std::int64_t> stick_table::value(stk_entry& e, stk_data d, std::uint64_t now) const
{
    if (!cfg_.stores(d))
        return std::nullopt;
    auto p = period(d);
    switch (d) {
    case stk_data::conn_cur: return e.conn_cur;
    case stk_data::conn_cnt: return static_cast<std::int64_t>(e.conn_cnt);
    case stk_data::conn_rate: return e.conn_rate.read(now, p);
    case stk_data::http_req_cnt: return static_cast<std::int64_t>(e.http_req_cnt);
    case stk_data::http_req_rate: return e.http_req_rate.read(now, p);
    case stk_data::http_err_cnt: return static_cast<std::int64_t>(e.http_err_cnt);
    case stk_data::http_err_rate: return e.http_err_rate.read(now, p);
    case stk_data::gpc0: return static_cast<std::int64_t>(e.gpc[0]);
    case stk_data::gpc0_rate: return e.gpc_rate[0].read(now, p);
    case stk_data::gpc1: return static_cast<std::int64_t>(e.gpc[1]);
    case stk_data::gpc1_rate: return e.gpc_rate[1].read(now, p);
    case stk_data::bytes_in_rate: return e.bytes_in_rate.read(now, p);
    case stk_data::bytes_out_rate: return e.bytes_out_rate.read(now, p);
    case stk_data::count_: break;
    }
    return std::nullopt;
}

std::optional<std::int64_t> stick_table::read(stk_ref r, stk_data d, std::uint64_t now)
{
    shard& s = shard_of(*r.entry);
    std::lock_guard lk(s.mu);
    return value(*r.entry, d, now);
}

std::optional<std::int64_t> stick_table::read_key(std::string_view key, stk_data d, std::uint64_t now)
{
    if (!cfg_.stores(d))
        return std::nullopt;
    if (cfg_.type == stk_key_type::string && key.size() > cfg_.key_len)
        key = key.substr(0, cfg_.key_len);
    shard& s = shard_of(key);
    std::lock_guard lk(s.mu);
    auto f = s.index.find(key);
    if (f == s.index.end() || expired(*f->second, now))
        return 0;
    return value(*f->second, d, now);
}

std::size_t stick_table::entries() const
{
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lk(s->mu);
        n += s->lru.size();
    }
    return n;
}

std::optional<std::string_view> stick_table::ip_key(const std::uint8_t* bytes, std::size_t len,
                                                    std::array<std::uint8_t, 16>& buf) const
{
    static constexpr std::uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (cfg_.type == stk_key_type::ip) {
        if (len == 16 && std::memcmp(bytes, v4mapped, 12) == 0) {
            bytes += 12;
            len = 4;
        }
        if (len != 4)
            return std::nullopt;
        std::memcpy(buf.data(), bytes, 4);
        return std::string_view(reinterpret_cast<const char*>(buf.data()), 4);
    }
    if (cfg_.type == stk_key_type::ipv6) {
        if (len == 4) { // an IPv4 in an ipv6 table: v4-mapped, as HAProxy converts it
            std::memcpy(buf.data(), v4mapped, 12);
            std::memcpy(buf.data() + 12, bytes, 4);
        } else if (len == 16) {
            std::memcpy(buf.data(), bytes, 16);
        } else {
            return std::nullopt;
        }
        return std::string_view(reinterpret_cast<const char*>(buf.data()), 16);
    }
    return std::nullopt;
}

// ---- registry and tracking ----------------------------------------------

stick_table& stick_registry::add(stick_table_config cfg)
{
    tables_.push_back(std::make_unique<stick_table>(std::move(cfg)));
    return *tables_.back();
}

stick_table* stick_registry::find(std::string_view name) const
{
    for (const auto& t : tables_)
        if (t->config().name == name)
            return t.get();
    return nullptr;
}

std::uint64_t stick_now()
{
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

void track_state::track(unsigned i, stick_table& t, std::string_view key, bool http_request)
{
    if (i >= sc.size() || sc[i])
        return;
    sc[i] = t.acquire_tracked(key, now, http_request); // empty when the table is full of tracked entries
    per_request[i] = http_request && sc[i];
}

void track_state::count_request()
{
    for (auto& r : sc)
        if (r)
            r.table->on_http_req(r, now);
}

void track_state::count_error()
{
    for (auto& r : sc)
        if (r)
            r.table->on_http_err(r, now);
}

void track_state::end_request(std::uint64_t in, std::uint64_t out, bool err)
{
    for (auto& r : sc)
        if (r && (err || (in && r.table->config().stores(stk_data::bytes_in_rate)) ||
                  (out && r.table->config().stores(stk_data::bytes_out_rate))))
            r.table->on_request_end(r, now, in, out, err);
}

void track_state::untrack_all(std::uint64_t t)
{
    for (std::size_t i = 0; i < sc.size(); ++i) {
        if (!sc[i])
            continue;
        sc[i].table->untrack(sc[i], t);
        sc[i] = {};
        per_request[i] = false;
    }
}

void track_state::untrack_requests(std::uint64_t t)
{
    for (std::size_t i = 0; i < sc.size(); ++i)
        if (per_request[i]) {
            sc[i].table->untrack(sc[i], t);
            sc[i] = {};
            per_request[i] = false;
        }
}

stick_table* track_state::table(std::string_view name) const
{
    if (name.empty())
        return own;
    return tables ? tables->find(name) : nullptr;
}

} // namespace bulwark::proxy
