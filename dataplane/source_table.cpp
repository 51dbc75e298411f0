// SPDX-License-Identifier: Apache-2.0
#include "dataplane/source_table.hpp"

#include "dataplane/flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <cstring>
#include <fmt/format.h>

namespace bulwark::dataplane {

namespace {

constexpr unsigned reclaim_scan = 64; // slots an add to a full table looks at

} // namespace

source_key make_source_key(const std::array<std::uint8_t, 16>& bytes, bool v6) noexcept
{
    source_key k;
    if (v6) {
        k.addr = bytes;
    } else {
        k.addr[10] = k.addr[11] = 0xff;
        std::memcpy(&k.addr[12], bytes.data(), 4);
    }
    return k;
}

result<std::unique_ptr<source_table>> source_table::create(const std::string& name, std::uint32_t capacity,
                                                           const limit_params& limits)
{
    if (capacity < 8)
        return fail(fmt::format("source table '{}': a capacity of {} is too small", name, capacity));
    std::unique_ptr<source_table> t{new source_table};
    const std::size_t before = dpdk_heap_used();
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = capacity;
    p.key_len = sizeof(source_key);
    p.hash_func = rte_hash_crc;
    p.socket_id = SOCKET_ID_ANY;
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE; // one writer, no concurrent reader
    t->hash_ = rte_hash_create(&p);
    if (!t->hash_)
        return fail(fmt::format("source table '{}': cannot create it for {} sources: {}", name, capacity,
                                rte_strerror(rte_errno)));
    t->capacity_ = capacity;
    t->limits_ = limits;
    t->entries_.resize(static_cast<std::size_t>(rte_hash_max_key_id(t->hash_)));
    t->bytes_ = dpdk_heap_used() - before + t->entries_.size() * sizeof(source_entry);
    return t;
}

source_table::~source_table()
{
    if (hash_)
        rte_hash_free(hash_);
}

bool source_table::idle(const source_entry& e, std::uint64_t now) const noexcept
{
    return e.flows == 0 && e.pps.full(limits_.pps, now) && e.new_flows.full(limits_.new_flows, now);
}

void source_table::find_or_add(const source_key* const* keys, unsigned n, std::uint64_t now,
                               std::int32_t* pos) noexcept
{
    rte_hash_lookup_bulk(hash_, reinterpret_cast<const void**>(const_cast<const source_key**>(keys)), n, pos);
    for (unsigned i = 0; i < n; ++i) {
        if (pos[i] >= 0)
            rte_prefetch0(&entries_[static_cast<std::size_t>(pos[i])]);
        else
            pos[i] = find_or_add(*keys[i], now); // a source met earlier in this burst is found again
    }
}

std::int32_t source_table::find(const source_key& k) const noexcept
{
    const std::int32_t p = rte_hash_lookup(hash_, &k);
    return p < 0 ? -1 : p;
}

std::int32_t source_table::find_or_add(const source_key& k, std::uint64_t now) noexcept
{
    const std::int32_t p = find(k);
    return p >= 0 ? p : add(k, now);
}

std::int32_t source_table::add(const source_key& k, std::uint64_t now) noexcept
{
    std::int32_t p = size_ < capacity_ ? rte_hash_add_key(hash_, &k) : -ENOSPC;
    if (p == -ENOSPC && reclaim_one(now))
        p = rte_hash_add_key(hash_, &k);
    if (p < 0) {
        ++stats_.untracked;
        return -1;
    }
    source_entry& e = entries_[static_cast<std::size_t>(p)];
    e = source_entry{};
    e.in_use = true;
    e.pps.reset(limits_.pps, now);
    e.new_flows.reset(limits_.new_flows, now);
    ++size_;
    ++stats_.inserted;
    return p;
}

void source_table::remove(std::size_t pos) noexcept
{
    source_entry& e = entries_[pos];
    const void* key = nullptr;
    if (rte_hash_get_key_with_position(hash_, static_cast<std::int32_t>(pos), const_cast<void**>(&key)) == 0)
        rte_hash_del_key(hash_, key);
    e.in_use = false;
    --size_;
}

void source_table::flow_closed(const source_key& k) noexcept
{
    const std::int32_t p = find(k);
    if (p >= 0 && entries_[static_cast<std::size_t>(p)].flows)
        --entries_[static_cast<std::size_t>(p)].flows;
}

bool source_table::reclaim_one(std::uint64_t now) noexcept
{
    for (unsigned i = 0; i < reclaim_scan; ++i) {
        reclaim_at_ = (reclaim_at_ + 1) % entries_.size();
        if (entries_[reclaim_at_].in_use && idle(entries_[reclaim_at_], now)) {
            remove(reclaim_at_);
            ++stats_.reclaimed;
            return true;
        }
    }
    return false;
}

unsigned source_table::sweep(std::uint64_t now, unsigned budget) noexcept
{
    unsigned removed = 0;
    for (unsigned i = 0; i < budget; ++i) {
        sweep_at_ = (sweep_at_ + 1) % entries_.size();
        if (entries_[sweep_at_].in_use && idle(entries_[sweep_at_], now)) {
            remove(sweep_at_);
            ++removed;
        }
    }
    stats_.reclaimed += removed;
    return removed;
}

} // namespace bulwark::dataplane
