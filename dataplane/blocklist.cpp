// SPDX-License-Identifier: Apache-2.0
#include "dataplane/blocklist.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

namespace bulwark::dataplane {

using controlplane::cidr;
using controlplane::family;

struct blocklist::prefixes {
    rte_lpm* v4 = nullptr;
    rte_lpm6* v6 = nullptr;
    std::vector<std::uint64_t> expiry; // by next hop
    ~prefixes()
    {
        rte_lpm_free(v4);
        rte_lpm6_free(v6);
    }
};

namespace {

bool host_entry(const cidr& c) { return c.prefix == (c.net.fam == family::ipv4 ? 32 : 128); }

bool live(std::uint64_t expiry, std::uint64_t now) { return expiry == 0 || now < expiry; }

std::uint64_t data_expiry(void* d) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(d)); }

rte_hash* make_hash(const std::string& name, std::size_t entries, std::uint32_t key_len, rte_rcu_qsbr* qs)
{
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = static_cast<std::uint32_t>(entries);
    p.key_len = key_len;
    p.hash_func = rte_jhash;
    p.socket_id = SOCKET_ID_ANY;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    rte_hash* h = rte_hash_create(&p);
    if (h && qs) {
        rte_hash_rcu_config rc{};
        rc.v = qs;
        rc.mode = RTE_HASH_QSBR_MODE_DQ;
        if (rte_hash_rcu_qsbr_add(h, &rc) != 0) {
            rte_hash_free(h);
            return nullptr;
        }
    }
    return h;
}

std::uint32_t v4_host_order(const std::uint8_t* b)
{
    return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | b[3];
}

} // namespace

result<std::unique_ptr<blocklist>> blocklist::create(const std::string& name, std::size_t hosts, rte_rcu_qsbr* qs)
{
    std::unique_ptr<blocklist> b{new blocklist};
    b->name_ = name;
    b->qs_ = qs;
    hosts = std::max<std::size_t>(hosts, 1024);
    b->h4_ = make_hash(name + "_h4", hosts, 4, qs);
    b->h6_ = b->h4_ ? make_hash(name + "_h6", hosts, 16, qs) : nullptr;
    if (!b->h4_ || !b->h6_)
        return fail(fmt::format("blocklist '{}': cannot make hash tables for {} hosts: {}", name, hosts,
                                rte_strerror(rte_errno)));
    return b;
}

blocklist::~blocklist()
{
    delete prefixes_.load();
    rte_hash_free(h4_);
    rte_hash_free(h6_);
}

std::uint64_t blocklist::expiry_of(seconds ttl) const
{
    return ttl.count() <= 0 ? 0 : rte_rdtsc() + static_cast<std::uint64_t>(ttl.count()) * rte_get_tsc_hz();
}

result<bool> blocklist::add(std::span<const cidr> nets, seconds ttl)
{
    std::lock_guard lock(write_);
    const std::uint64_t expiry = expiry_of(ttl);
    void* data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(expiry));
    bool prefix_changed = false;
    for (const cidr& c : nets) {
        if (host_entry(c)) {
            rte_hash* h = c.net.fam == family::ipv4 ? h4_ : h6_;
            int rc = rte_hash_add_key_data(h, c.net.bytes.data(), data);
            if (rc != 0)
                return fail(fmt::format("blocklist '{}': cannot add {}: {}", name_, c.str(),
                                        rc == -ENOSPC ? "the host table is full" : rte_strerror(-rc)));
            continue;
        }
        auto same = std::find_if(prefix_entries_.begin(), prefix_entries_.end(), [&](const prefix_entry& e) { return e.net == c; });
        if (same != prefix_entries_.end())
            same->expiry = expiry;
        else
            prefix_entries_.push_back({c, expiry});
        prefix_changed = true;
    }
    if (prefix_changed)
        return rebuild_prefixes();
    return true;
}

bool blocklist::remove(const cidr& c)
{
    std::lock_guard lock(write_);
    if (host_entry(c))
        return rte_hash_del_key(c.net.fam == family::ipv4 ? h4_ : h6_, c.net.bytes.data()) >= 0;
    auto it = std::find_if(prefix_entries_.begin(), prefix_entries_.end(), [&](const prefix_entry& e) { return e.net == c; });
    if (it == prefix_entries_.end())
        return false;
    prefix_entries_.erase(it);
    (void)rebuild_prefixes();
    return true;
}

std::size_t blocklist::expire()
{
    std::lock_guard lock(write_);
    const std::uint64_t now = rte_rdtsc();
    std::size_t removed = 0;
    for (rte_hash* h : {h4_, h6_}) {
        std::vector<std::array<std::uint8_t, 16>> dead;
        const void* key;
        void* data;
        std::uint32_t next = 0;
        const std::size_t len = h == h4_ ? 4 : 16;
        while (rte_hash_iterate(h, &key, &data, &next) >= 0)
            if (!live(data_expiry(data), now)) {
                std::array<std::uint8_t, 16> k{};
                std::memcpy(k.data(), key, len);
                dead.push_back(k);
            }
        for (const auto& k : dead)
            removed += rte_hash_del_key(h, k.data()) >= 0;
    }
    auto old = prefix_entries_.size();
    std::erase_if(prefix_entries_, [&](const prefix_entry& e) { return !live(e.expiry, now); });
    if (prefix_entries_.size() != old) {
        removed += old - prefix_entries_.size();
        (void)rebuild_prefixes();
    }
    return removed;
}

std::size_t blocklist::size() const
{
    std::lock_guard lock(write_);
    return static_cast<std::size_t>(rte_hash_count(h4_)) + static_cast<std::size_t>(rte_hash_count(h6_)) +
           prefix_entries_.size();
}

// Called with write_ held.
result<bool> blocklist::rebuild_prefixes()
{
    auto p = std::make_unique<prefixes>();
    std::size_t n4 = 0, n6 = 0;
    for (const auto& e : prefix_entries_)
        (e.net.net.fam == family::ipv4 ? n4 : n6)++;
    ++generation_;
    if (n4) {
        rte_lpm_config c{};
        c.max_rules = static_cast<std::uint32_t>(n4);
        c.number_tbl8s = static_cast<std::uint32_t>(std::min<std::size_t>(n4, 1u << 16)) + 1;
        std::string n = fmt::format("{}_p4_{}", name_, generation_);
        p->v4 = rte_lpm_create(n.c_str(), SOCKET_ID_ANY, &c);
        if (!p->v4)
            return fail(fmt::format("blocklist '{}': rte_lpm_create: {}", name_, rte_strerror(rte_errno)));
    }
    if (n6) {
        rte_lpm6_config c{};
        c.max_rules = static_cast<std::uint32_t>(n6);
        c.number_tbl8s = static_cast<std::uint32_t>(std::min<std::size_t>(n6 * 16, 1u << 16));
        std::string n = fmt::format("{}_p6_{}", name_, generation_);
        p->v6 = rte_lpm6_create(n.c_str(), SOCKET_ID_ANY, &c);
        if (!p->v6)
            return fail(fmt::format("blocklist '{}': rte_lpm6_create: {}", name_, rte_strerror(rte_errno)));
    }
    for (const auto& e : prefix_entries_) {
        auto hop = static_cast<std::uint32_t>(p->expiry.size());
        p->expiry.push_back(e.expiry);
        int rc = e.net.net.fam == family::ipv4 ? rte_lpm_add(p->v4, v4_host_order(e.net.net.bytes.data()), e.net.prefix, hop)
                                               : rte_lpm6_add(p->v6, e.net.net.bytes.data(), e.net.prefix, hop);
        if (rc != 0)
            return fail(fmt::format("blocklist '{}': cannot add {}: {}", name_, e.net.str(), rte_strerror(-rc)));
    }
    prefixes* empty = p->v4 || p->v6 ? p.release() : nullptr;
    prefixes* old = prefixes_.exchange(empty, std::memory_order_acq_rel);
    if (old) {
        if (qs_)
            rte_rcu_qsbr_synchronize(qs_, RTE_QSBR_THRID_INVALID);
        delete old;
    }
    return true;
}

void blocklist::lookup(const parsed_frame* const* frames, unsigned n, std::uint64_t now, bool* blocked) const noexcept
{
    constexpr unsigned max = 64;
    n = std::min(n, max);
    const void* k4[max];
    const void* k6[max];
    std::uint8_t i4[max], i6[max];
    unsigned n4 = 0, n6 = 0;
    for (unsigned i = 0; i < n; ++i) {
        blocked[i] = false;
        const parsed_frame& f = *frames[i];
        if (f.l3 == l3_kind::ipv4) {
            k4[n4] = f.src.data();
            i4[n4++] = static_cast<std::uint8_t>(i);
        } else if (f.l3 == l3_kind::ipv6) {
            k6[n6] = f.src.data();
            i6[n6++] = static_cast<std::uint8_t>(i);
        }
    }
    void* data[max];
    std::uint64_t hits = 0;
    if (n4 && rte_hash_lookup_bulk_data(h4_, k4, n4, &hits, data) > 0)
        for (unsigned j = 0; j < n4; ++j)
            if ((hits >> j & 1) && live(data_expiry(data[j]), now))
                blocked[i4[j]] = true;
    hits = 0;
    if (n6 && rte_hash_lookup_bulk_data(h6_, k6, n6, &hits, data) > 0)
        for (unsigned j = 0; j < n6; ++j)
            if ((hits >> j & 1) && live(data_expiry(data[j]), now))
                blocked[i6[j]] = true;
    const prefixes* p = prefixes_.load(std::memory_order_acquire);
    if (!p)
        return;
    for (unsigned i = 0; i < n; ++i) {
        if (blocked[i])
            continue;
        const parsed_frame& f = *frames[i];
        if (f.l3 == l3_kind::ipv4 && p->v4) {
            std::uint32_t hop;
            if (rte_lpm_lookup(p->v4, v4_host_order(f.src.data()), &hop) == 0 && live(p->expiry[hop], now))
                blocked[i] = true;
        } else if (f.l3 == l3_kind::ipv6 && p->v6) {
            std::uint32_t hop;
            if (rte_lpm6_lookup(p->v6, f.src.data(), &hop) == 0 && live(p->expiry[hop], now))
                blocked[i] = true;
        }
    }
}

bool blocklist::blocked(const controlplane::ip_addr& src) const
{
    parsed_frame f;
    f.l3 = src.fam == family::ipv4 ? l3_kind::ipv4 : l3_kind::ipv6;
    f.src = src.bytes;
    const parsed_frame* fp = &f;
    bool b = false;
    lookup(&fp, 1, rte_rdtsc(), &b);
    return b;
}

} // namespace bulwark::dataplane
