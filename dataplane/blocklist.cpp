// SPDX-License-Identifier: Apache-2.0
#include "dataplane/blocklist.hpp"

#include "dataplane/pipeline_types.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace bulwark::dataplane {


namespace {

// An entry's data word: its drop reason code in the top 8 bits (what the
// stage drops its frames with: blocklisted, l7_block), and its expiry in
// the low 56 in units of 256 TSC cycles, rounded up (0: none). 56 bits of
// 256 cycles cover the whole 64-bit TSC, and one word keeps the lookup to
// the one load it always made: the code costs a shift on a hit only.
constexpr unsigned code_shift = 56, unit_shift = 8;
constexpr std::uint64_t unit_mask = (std::uint64_t{1} << code_shift) - 1;

std::uint64_t data_word(void* d) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(d)); }

// The expiry in TSC cycles (0: none), to 256 cycles.
std::uint64_t data_expiry(void* d) { return (data_word(d) & unit_mask) << unit_shift; }

drop_reason data_code(void* d) { return static_cast<drop_reason>(data_word(d) >> code_shift); }

void* make_data(std::uint64_t expiry, drop_reason code)
{
    const std::uint64_t units = expiry ? ((expiry >> unit_shift) + 1) & unit_mask : 0;
    return reinterpret_cast<void*>(static_cast<std::uintptr_t>(std::uint64_t(code) << code_shift | units));
}

bool live(std::uint64_t expiry, std::uint64_t now) { return expiry == 0 || now < expiry; }

void mask(std::uint8_t* out, const std::uint8_t* addr, unsigned bytes, unsigned len)
{
    unsigned full = std::min(len / 8, bytes);
    std::memcpy(out, addr, full);
    if (full < bytes && len % 8)
        out[full] = static_cast<std::uint8_t>(addr[full] & (0xff00u >> (len % 8)));
}

blocklist::key4 make_key4(unsigned len, const std::uint8_t* addr)
{
    blocklist::key4 k{};
    k.len = len;
    mask(k.addr.data(), addr, 4, len);
    return k;
}

blocklist::key6 make_key6(unsigned len, const std::uint8_t* addr)
{
    blocklist::key6 k{};
    k.len = len;
    mask(k.addr.data(), addr, 16, len);
    return k;
}

bool is_v6(const cidr& c) { return c.net.fam == family::ipv6; }

std::uint32_t top24(const std::uint8_t* a) { return std::uint32_t(a[0]) << 16 | std::uint32_t(a[1]) << 8 | a[2]; }

rte_hash* make_table(const std::string& name, std::uint32_t entries, std::uint32_t key_len, rte_rcu_qsbr* qs,
                     std::string& err)
{
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = entries;
    p.key_len = key_len;
    p.hash_func = rte_hash_crc; // SSE4.2 CRC32: a few cycles for 8 or 20 bytes
    p.socket_id = SOCKET_ID_ANY;
    // lock-free readers; extendable buckets so a full bucket never refuses
    // an entry before the table is full
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    rte_hash* h = rte_hash_create(&p);
    if (!h) {
        err = fmt::format("cannot make a table of {} entries: {}", entries, rte_strerror(rte_errno));
        return nullptr;
    }
    if (qs) {
        rte_hash_rcu_config rc{};
        rc.v = qs;
        rc.mode = RTE_HASH_QSBR_MODE_DQ; // deleted slots wait in a queue for the workers' grace period
        if (int e = rte_hash_rcu_qsbr_add(h, &rc); e != 0) {
            err = fmt::format("rte_hash_rcu_qsbr_add: {}", rte_strerror(-e));
            rte_hash_free(h);
            return nullptr;
        }
    }
    return h;
}

unsigned length_slot(bool v6, unsigned len) { return v6 ? 33 + len : len; }

// The prefix of a table's key.
cidr cidr_of(bool v6, const void* k)
{
    cidr c;
    if (!v6) {
        const auto* kk = static_cast<const blocklist::key4*>(k);
        std::memcpy(c.net.bytes.data(), kk->addr.data(), 4);
        c.prefix = static_cast<std::uint8_t>(kk->len);
    } else {
        const auto* kk = static_cast<const blocklist::key6*>(k);
        c.net.fam = family::ipv6;
        c.net.bytes = kk->addr;
        c.prefix = static_cast<std::uint8_t>(kk->len);
    }
    return c;
}

} // namespace

result<std::unique_ptr<blocklist>> blocklist::create(const std::string& name, std::size_t entries, rte_rcu_qsbr* qs)
{
    std::unique_ptr<blocklist> b{new blocklist};
    b->name_ = name;
    auto n = static_cast<std::uint32_t>(std::clamp<std::size_t>(entries, 1024, 1u << 28));
    std::string err;
    b->h4_ = make_table(name + "_4", n, sizeof(key4), qs, err);
    if (b->h4_)
        b->h6_ = make_table(name + "_6", std::max<std::uint32_t>(n / 4, 1024), sizeof(key6), qs, err);
    if (!b->h6_)
        return fail(fmt::format("blocklist '{}': {}", name, err));
    b->slash24_.reset(new std::atomic<std::uint64_t>[(1u << 24) / 64]());
    return b;
}

blocklist::~blocklist()
{
    rte_hash_free(h4_);
    rte_hash_free(h6_);
}

std::uint64_t blocklist::expiry_of(seconds ttl) const
{
    return ttl.count() <= 0 ? 0 : rte_rdtsc() + static_cast<std::uint64_t>(ttl.count()) * rte_get_tsc_hz();
}

blocklist::slot blocklist::slot_of(const cidr& c) const
{
    const bool v6 = is_v6(c);
    slot s{v6 ? h6_ : h4_, v6, {}, {}};
    if (v6)
        s.k6 = make_key6(c.prefix, c.net.bytes.data());
    else
        s.k4 = make_key4(c.prefix, c.net.bytes.data());
    return s;
}

void blocklist::account(const cidr& c, int delta)
{
    const bool v6 = is_v6(c);
    auto& n = length_count_[length_slot(v6, c.prefix)];
    n = static_cast<std::uint32_t>(static_cast<int>(n) + delta);
    // IPv4 lengths 0..32 are bits of word 0; IPv6 0..128 of words 1..3
    auto& word = v6 ? lengths_[1 + c.prefix / 64] : lengths_[0];
    const std::uint64_t mask = std::uint64_t{1} << (c.prefix % 64);
    if (n)
        word.fetch_or(mask, std::memory_order_release);
    else
        word.fetch_and(~mask, std::memory_order_release);
    if (v6)
        return;
    // the /24s the entry covers
    if (slash24_count_.empty())
        slash24_count_.assign(1u << 24, 0); // 32 MB, control plane only: a /24 holds at most a few hundred entries
    const std::uint32_t first = top24(c.net.bytes.data());
    const std::uint32_t count = c.prefix >= 24 ? 1u : 1u << (24 - c.prefix);
    for (std::uint32_t i = first; i < first + count; ++i) {
        std::uint16_t& cnt = slash24_count_[i];
        cnt = static_cast<std::uint16_t>(static_cast<int>(cnt) + delta);
        const std::uint64_t bit = std::uint64_t{1} << (i % 64);
        if (cnt)
            slash24_[i / 64].fetch_or(bit, std::memory_order_release);
        else
            slash24_[i / 64].fetch_and(~bit, std::memory_order_release);
    }
}

std::string blocklist::reason_key(const slot& s)
{
    const std::size_t n = s.v6 ? sizeof(key6) : sizeof(key4);
    std::string k(1 + n, s.v6 ? '6' : '4');
    std::memcpy(k.data() + 1, s.key(), n);
    return k;
}

result<bool> blocklist::add(std::span<const cidr> nets, seconds ttl, std::string_view reason, drop_reason code)
{
    std::lock_guard lock(write_);
    void* data = make_data(expiry_of(ttl), code);
    for (const cidr& c : nets) {
        const slot s = slot_of(c);
        const bool existed = rte_hash_lookup(s.table, s.key()) >= 0;
        if (int rc = rte_hash_add_key_data(s.table, s.key(), data); rc != 0)
            return fail(fmt::format("blocklist '{}': cannot add {}: {}", name_, c.str(),
                                    rc == -ENOSPC ? "the table is full" : rte_strerror(-rc)));
        if (!existed)
            account(c, +1);
        if (reason.empty())
            reasons_.erase(reason_key(s));
        else
            reasons_[reason_key(s)] = std::string(reason);
    }
    return true;
}

bool blocklist::remove(const cidr& c)
{
    std::lock_guard lock(write_);
    return remove_locked(c);
}

bool blocklist::remove_locked(const cidr& c)
{
    const slot s = slot_of(c);
    if (rte_hash_del_key(s.table, s.key()) < 0)
        return false;
    account(c, -1);
    reasons_.erase(reason_key(s));
    return true;
}

std::string blocklist::reason(const cidr& c) const
{
    std::lock_guard lock(write_);
    auto it = reasons_.find(reason_key(slot_of(c)));
    return it == reasons_.end() ? std::string{} : it->second;
}

std::vector<blocklist::entry> blocklist::entries() const
{
    std::lock_guard lock(write_);
    const std::uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
    std::vector<entry> out;
    for (rte_hash* h : {h4_, h6_}) {
        const void* k;
        void* data;
        std::uint32_t next = 0;
        while (rte_hash_iterate(h, &k, &data, &next) >= 0) {
            const std::uint64_t expiry = data_expiry(data);
            if (!live(expiry, now))
                continue;
            entry e;
            e.net = cidr_of(h == h6_, k);
            e.left = seconds{expiry ? static_cast<std::int64_t>((expiry - now + hz - 1) / hz) : 0};
            auto it = reasons_.find(reason_key(slot_of(e.net)));
            if (it != reasons_.end())
                e.reason = it->second;
            out.push_back(std::move(e));
        }
    }
    return out;
}

std::size_t blocklist::expire(std::uint64_t now)
{
    std::lock_guard lock(write_);
    if (!now)
        now = rte_rdtsc();
    std::vector<cidr> dead;
    for (rte_hash* h : {h4_, h6_}) {
        const void* k;
        void* data;
        std::uint32_t next = 0;
        while (rte_hash_iterate(h, &k, &data, &next) >= 0)
            if (!live(data_expiry(data), now))
                dead.push_back(cidr_of(h == h6_, k));
    }
    std::size_t removed = 0;
    for (const cidr& c : dead)
        removed += remove_locked(c);
    return removed;
}

std::size_t blocklist::size() const
{
    std::lock_guard lock(write_);
    std::size_t n = 0;
    for (auto c : length_count_)
        n += c;
    return n;
}

void blocklist::lookup(const parsed_frame* const* frames, unsigned n, std::uint64_t now,
                       drop_reason* why) const noexcept
{
    constexpr unsigned max = 64;
    n = std::min(n, max);
    key4 k4[max];
    key6 k6[max];
    const void* kp[max];
    void* data[max];
    std::uint8_t index[max];
    std::uint8_t cand[max];
    unsigned ncand = 0;
    bool any6 = false;
    for (unsigned i = 0; i < n; ++i) {
        why[i] = drop_reason::none;
        const parsed_frame& f = *frames[i];
        if (f.l3 == l3_kind::ipv4) {
            std::uint32_t s24 = top24(f.src.data());
            if (slash24_[s24 / 64].load(std::memory_order_relaxed) >> (s24 % 64) & 1)
                cand[ncand++] = static_cast<std::uint8_t>(i);
        } else if (f.l3 == l3_kind::ipv6) {
            any6 = true;
        }
    }
    auto probe = [&](rte_hash* h, unsigned m) {
        std::uint64_t hits = 0;
        if (m && rte_hash_lookup_bulk_data(h, kp, m, &hits, data) > 0)
            for (unsigned j = 0; j < m; ++j)
                if ((hits >> j & 1) && live(data_expiry(data[j]), now))
                    why[index[j]] = data_code(data[j]);
    };
    if (ncand) {
        std::uint64_t bits = lengths_[0].load(std::memory_order_acquire);
        while (bits) {
            unsigned len = static_cast<unsigned>(__builtin_ctzll(bits));
            bits &= bits - 1;
            unsigned m = 0;
            for (unsigned c = 0; c < ncand; ++c)
                if (why[cand[c]] == drop_reason::none) {
                    k4[m] = make_key4(len, frames[cand[c]]->src.data());
                    kp[m] = &k4[m];
                    index[m++] = cand[c];
                }
            probe(h4_, m);
        }
    }
    if (!any6)
        return;
    for (unsigned w = 1; w < 4; ++w) {
        std::uint64_t bits = lengths_[w].load(std::memory_order_acquire);
        while (bits) {
            unsigned len = static_cast<unsigned>(__builtin_ctzll(bits)) + (w - 1) * 64;
            bits &= bits - 1;
            unsigned m = 0;
            for (unsigned i = 0; i < n; ++i)
                if (frames[i]->l3 == l3_kind::ipv6 && why[i] == drop_reason::none) {
                    k6[m] = make_key6(len, frames[i]->src.data());
                    kp[m] = &k6[m];
                    index[m++] = static_cast<std::uint8_t>(i);
                }
            probe(h6_, m);
        }
    }
}

drop_reason blocklist::blocked_why(const ip_addr& src) const
{
    parsed_frame f;
    f.l3 = src.fam == family::ipv4 ? l3_kind::ipv4 : l3_kind::ipv6;
    f.src = src.bytes;
    const parsed_frame* fp = &f;
    drop_reason why = drop_reason::none;
    lookup(&fp, 1, rte_rdtsc(), &why);
    return why;
}

applied_blocks apply_block_requests(rte_ring* ring, blocklist& b, unsigned max)
{
    applied_blocks out;
    if (!ring)
        return out;
    std::array<block_request, 64> req;
    while (max) {
        const unsigned got = rte_ring_sc_dequeue_burst_elem(ring, req.data(), sizeof(block_request),
                                                            std::min<unsigned>(max, req.size()), nullptr);
        for (unsigned i = 0; i < got; ++i) {
            cidr c;
            c.net.fam = req[i].v6 ? family::ipv6 : family::ipv4;
            c.net.bytes = req[i].addr;
            c.prefix = req[i].v6 ? 128 : 32;
            // a proxy's shield-block keeps its own drop reason at the
            // blocklist stage; the other requests drop as `blocklisted`
            const drop_reason code =
                req[i].reason == drop_reason::l7_block ? drop_reason::l7_block : drop_reason::blocklisted;
            if (b.add(c, std::chrono::seconds(req[i].seconds), reason_name(req[i].reason), code))
                ++out.applied;
            else
                ++out.failed;
        }
        max -= got;
        if (got < req.size())
            break;
    }
    return out;
}

rte_ring* make_event_ring(const std::string& name, unsigned slots)
{
    return rte_ring_create_elem(name.c_str(), sizeof(block_request), slots, SOCKET_ID_ANY,
                                RING_F_MP_RTS_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
}

bool post_block_request(rte_ring* ring, const ip_addr& src, std::chrono::seconds ttl, drop_reason reason) noexcept
{
    block_request r;
    r.addr = src.bytes;
    r.v6 = src.fam == family::ipv6;
    r.reason = reason;
    r.seconds = static_cast<std::uint32_t>(std::clamp<std::int64_t>(ttl.count(), 0, UINT32_MAX));
    // the generic enqueue takes the ring's own producer mode (RTS); the
    // rte_ring_mp_* calls would force the classic one
    return rte_ring_enqueue_elem(ring, &r, sizeof r) == 0;
}

} // namespace bulwark::dataplane
