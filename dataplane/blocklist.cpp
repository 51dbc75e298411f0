// SPDX-License-Identifier: Apache-2.0
#include "dataplane/blocklist.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace bulwark::dataplane {

using controlplane::cidr;
using controlplane::family;

namespace {

bool live(std::uint64_t expiry, std::uint64_t now) { return expiry == 0 || now < expiry; }

std::uint64_t data_expiry(void* d) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(d)); }

// The key of `addr` (4 or 16 bytes) under a /len.
blocklist::key make_key(bool v6, unsigned len, const std::uint8_t* addr)
{
    blocklist::key k{};
    k.len = static_cast<std::uint8_t>(len);
    k.v6 = v6;
    unsigned bytes = v6 ? 16 : 4;
    unsigned full = len / 8;
    std::memcpy(k.addr.data(), addr, std::min(full, bytes));
    if (full < bytes && len % 8)
        k.addr[full] = static_cast<std::uint8_t>(addr[full] & (0xff00u >> (len % 8)));
    return k;
}

blocklist::key key_of(const cidr& c)
{
    return make_key(c.net.fam == family::ipv6, c.prefix, c.net.bytes.data());
}

unsigned length_slot(bool v6, unsigned len) { return v6 ? 33 + len : len; }

} // namespace

result<std::unique_ptr<blocklist>> blocklist::create(const std::string& name, std::size_t entries, rte_rcu_qsbr* qs)
{
    std::unique_ptr<blocklist> b{new blocklist};
    b->name_ = name;
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = static_cast<std::uint32_t>(std::max<std::size_t>(entries, 1024));
    p.key_len = sizeof(key);
    p.hash_func = rte_jhash;
    p.socket_id = SOCKET_ID_ANY;
    // lock-free readers; extendable buckets so a full bucket never refuses
    // an entry before the table is full
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    b->h_ = rte_hash_create(&p);
    if (!b->h_)
        return fail(fmt::format("blocklist '{}': cannot make a table of {} entries: {}", name, p.entries,
                                rte_strerror(rte_errno)));
    if (qs) {
        rte_hash_rcu_config rc{};
        rc.v = qs;
        rc.mode = RTE_HASH_QSBR_MODE_DQ; // deleted slots wait in a queue for the workers' grace period
        if (int e = rte_hash_rcu_qsbr_add(b->h_, &rc); e != 0)
            return fail(fmt::format("blocklist '{}': rte_hash_rcu_qsbr_add: {}", name, rte_strerror(-e)));
    }
    return b;
}

blocklist::~blocklist() { rte_hash_free(h_); }

std::uint64_t blocklist::expiry_of(seconds ttl) const
{
    return ttl.count() <= 0 ? 0 : rte_rdtsc() + static_cast<std::uint64_t>(ttl.count()) * rte_get_tsc_hz();
}

void blocklist::count_length(bool v6, unsigned len, int delta)
{
    auto& n = length_count_[length_slot(v6, len)];
    n = static_cast<std::uint32_t>(static_cast<int>(n) + delta);
    unsigned bit = v6 ? len : len; // IPv4 bits 0..32 in word 0; IPv6 0..128 in words 1..3
    auto& word = v6 ? lengths_[1 + bit / 64] : lengths_[0];
    std::uint64_t mask = std::uint64_t{1} << (bit % 64);
    if (n)
        word.fetch_or(mask, std::memory_order_release);
    else
        word.fetch_and(~mask, std::memory_order_release);
}

result<bool> blocklist::add(std::span<const cidr> nets, seconds ttl)
{
    std::lock_guard lock(write_);
    void* data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(expiry_of(ttl)));
    for (const cidr& c : nets) {
        key k = key_of(c);
        bool existed = rte_hash_lookup(h_, &k) >= 0;
        int rc = rte_hash_add_key_data(h_, &k, data);
        if (rc != 0)
            return fail(fmt::format("blocklist '{}': cannot add {}: {}", name_, c.str(),
                                    rc == -ENOSPC ? "the table is full" : rte_strerror(-rc)));
        if (!existed)
            count_length(k.v6, k.len, +1);
    }
    return true;
}

bool blocklist::remove(const cidr& c)
{
    std::lock_guard lock(write_);
    key k = key_of(c);
    if (rte_hash_del_key(h_, &k) < 0)
        return false;
    count_length(k.v6, k.len, -1);
    return true;
}

std::size_t blocklist::expire(std::uint64_t now)
{
    std::lock_guard lock(write_);
    if (!now)
        now = rte_rdtsc();
    std::vector<key> dead;
    const void* k;
    void* data;
    std::uint32_t next = 0;
    while (rte_hash_iterate(h_, &k, &data, &next) >= 0)
        if (!live(data_expiry(data), now))
            dead.push_back(*static_cast<const key*>(k));
    std::size_t removed = 0;
    for (const key& d : dead)
        if (rte_hash_del_key(h_, &d) >= 0) {
            count_length(d.v6, d.len, -1);
            ++removed;
        }
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

void blocklist::lookup(const parsed_frame* const* frames, unsigned n, std::uint64_t now, bool* blocked) const noexcept
{
    constexpr unsigned max = 64;
    n = std::min(n, max);
    key keys[max];
    const void* kp[max];
    void* data[max];
    std::uint8_t index[max];
    for (unsigned i = 0; i < n; ++i)
        blocked[i] = false;
    for (unsigned fam = 0; fam < 2; ++fam) {
        const bool v6 = fam == 1;
        const l3_kind want = v6 ? l3_kind::ipv6 : l3_kind::ipv4;
        for (unsigned w = v6 ? 1 : 0; w < (v6 ? 4u : 1u); ++w) {
            std::uint64_t bits = lengths_[w].load(std::memory_order_acquire);
            while (bits) {
                unsigned len = static_cast<unsigned>(__builtin_ctzll(bits)) + (v6 ? (w - 1) * 64 : 0);
                bits &= bits - 1;
                unsigned m = 0;
                for (unsigned i = 0; i < n; ++i)
                    if (frames[i]->l3 == want && !blocked[i]) {
                        keys[m] = make_key(v6, len, frames[i]->src.data());
                        kp[m] = &keys[m];
                        index[m++] = static_cast<std::uint8_t>(i);
                    }
                if (!m)
                    break;
                std::uint64_t hits = 0;
                if (rte_hash_lookup_bulk_data(h_, kp, m, &hits, data) <= 0)
                    continue;
                for (unsigned j = 0; j < m; ++j)
                    if ((hits >> j & 1) && live(data_expiry(data[j]), now))
                        blocked[index[j]] = true;
            }
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
