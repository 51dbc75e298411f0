// SPDX-License-Identifier: Apache-2.0
#include "dataplane/flow_table.hpp"

#include "dataplane/source_table.hpp"

#include <algorithm>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include <fmt/format.h>

namespace bulwark::dataplane {

namespace {

constexpr unsigned evict_scan = 64; // slots an insert into a full table looks at

} // namespace

std::size_t dpdk_heap_used() noexcept
{
    std::size_t used = 0;
    for (int s = 0; s < RTE_MAX_NUMA_NODES; ++s) {
        rte_malloc_socket_stats st{};
        if (rte_malloc_get_socket_stats(s, &st) == 0)
            used += st.heap_allocsz_bytes;
    }
    return used;
}

result<std::unique_ptr<flow_table>> flow_table::create(const std::string& name, std::uint32_t capacity)
{
    if (capacity < 8)
        return fail(fmt::format("flow table '{}': a capacity of {} is too small", name, capacity));
    std::unique_ptr<flow_table> t{new flow_table};
    const std::size_t before = dpdk_heap_used();
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = capacity;
    p.key_len = sizeof(flow_key);
    p.hash_func = rte_hash_crc;
    p.socket_id = SOCKET_ID_ANY;
    // every slot usable whatever the keys (buckets that overflow chain);
    // one writer, no concurrent reader: no RW flags
    p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    t->hash_ = rte_hash_create(&p);
    if (!t->hash_)
        return fail(fmt::format("flow table '{}': cannot create it for {} flows: {}", name, capacity,
                                rte_strerror(rte_errno)));
    t->capacity_ = capacity;
    // positions are key ids less one: 0 .. max_key_id - 1
    t->entries_.resize(static_cast<std::size_t>(rte_hash_max_key_id(t->hash_)));
    t->bytes_ = dpdk_heap_used() - before + t->entries_.size() * sizeof(flow_entry);
    return t;
}

flow_table::~flow_table()
{
    if (hash_)
        rte_hash_free(hash_);
}

void flow_table::lookup(const flow_key* const* keys, unsigned n, std::int32_t* pos) const noexcept
{
    rte_hash_lookup_bulk(hash_, reinterpret_cast<const void**>(const_cast<const flow_key**>(keys)), n, pos);
    for (unsigned i = 0; i < n; ++i)
        if (pos[i] < 0)
            pos[i] = -1;
        else
            rte_prefetch0(&entries_[static_cast<std::size_t>(pos[i])]);
}

std::int32_t flow_table::find(const flow_key& k) const noexcept
{
    std::int32_t p = rte_hash_lookup(hash_, &k);
    return p < 0 ? -1 : p;
}

std::int32_t flow_table::insert(const flow_key& k, std::uint32_t now) noexcept
{
    std::int32_t p = rte_hash_add_key(hash_, &k);
    if (p == -ENOSPC && evict_one(now))
        p = rte_hash_add_key(hash_, &k);
    if (p < 0) {
        ++stats_.refused_full;
        return -1;
    }
    flow_entry& e = entries_[static_cast<std::size_t>(p)];
    if (!e.in_use) {
        ++size_;
        ++stats_.inserted;
    }
    e = flow_entry{};
    e.in_use = true;
    e.last_seen = now;
    return p;
}

void flow_table::clear() noexcept
{
    rte_hash_reset(hash_);
    std::fill(entries_.begin(), entries_.end(), flow_entry{});
    size_ = 0;
    sweep_at_ = evict_at_ = 0;
    stats_ = {};
}

const flow_key* flow_table::key_at(std::int32_t pos) const noexcept
{
    void* key = nullptr;
    if (pos < 0 || !entries_[static_cast<std::size_t>(pos)].in_use ||
        rte_hash_get_key_with_position(hash_, pos, &key) != 0)
        return nullptr;
    return static_cast<const flow_key*>(key);
}

void flow_table::remove(std::int32_t pos) noexcept
{
    flow_entry& e = entries_[static_cast<std::size_t>(pos)];
    if (!e.in_use)
        return;
    const void* key = nullptr;
    if (rte_hash_get_key_with_position(hash_, pos, const_cast<void**>(&key)) == 0) {
        if (e.limited && sources_) {
            const auto* k = static_cast<const flow_key*>(key);
            sources_->flow_closed(make_source_key(e.original_is_a ? k->a : k->b, k->v6 != 0));
        }
        rte_hash_del_key(hash_, key);
    }
    e.in_use = false;
    e.limited = false;
    --size_;
    ++stats_.removed;
}

// The oldest embryonic entry among the next evict_scan slots goes.
bool flow_table::evict_one(std::uint32_t now) noexcept
{
    std::int64_t best = -1;
    std::uint32_t best_age = 0;
    for (unsigned i = 0; i < evict_scan; ++i) {
        evict_at_ = (evict_at_ + 1) % entries_.size();
        const flow_entry& e = entries_[evict_at_];
        if (e.in_use && e.embryonic && (best < 0 || now - e.last_seen > best_age)) {
            best = static_cast<std::int64_t>(evict_at_);
            best_age = now - e.last_seen;
        }
    }
    if (best < 0)
        return false;
    remove(static_cast<std::int32_t>(best));
    ++stats_.evicted;
    return true;
}

unsigned flow_table::sweep(std::uint32_t now, unsigned budget) noexcept
{
    unsigned removed = 0;
    for (unsigned i = 0; i < budget; ++i) {
        sweep_at_ = (sweep_at_ + 1) % entries_.size();
        const flow_entry& e = entries_[sweep_at_];
        if (e.in_use && now - e.last_seen >= e.timeout) {
            remove(static_cast<std::int32_t>(sweep_at_));
            ++removed;
        }
    }
    stats_.expired += removed;
    return removed;
}

} // namespace bulwark::dataplane
