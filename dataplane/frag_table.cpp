// SPDX-License-Identifier: Apache-2.0
#include "dataplane/frag_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace bulwark::dataplane {

namespace {

std::uint64_t mix(std::uint64_t x) noexcept
{
    // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

bool live_slot(std::uint32_t sig, std::uint32_t expires, std::uint32_t now) noexcept
{
    return sig != 0 && expires > now;
}

constexpr pkt_verdict drop_as(drop_reason r) noexcept { return {pkt_action::drop, r}; }

} // namespace

frag_key frag_key_of(const parsed_frame& f) noexcept
{
    frag_key k;
    const bool v6 = f.l3 == l3_kind::ipv6;
    const std::size_t len = v6 ? 16 : 4;
    std::memcpy(k.src.data(), f.src.data(), len);
    std::memcpy(k.dst.data(), f.dst.data(), len);
    k.id = f.frag_id;
    k.v6 = v6 ? 1 : 0;
    // RFC 8200 §4.5 identifies an IPv6 datagram by addresses and id; the
    // first fragment's upper-layer protocol may follow other headers
    k.proto = v6 ? 0 : f.proto;
    return k;
}

frag_table::frag_table(std::uint32_t capacity, std::uint64_t seed) : seed_(mix(seed ^ 0x6a09e667f3bcc909ull))
{
    const std::uint32_t nb = std::bit_ceil(std::max<std::uint32_t>(2, (capacity + bucket_slots - 1) / bucket_slots));
    buckets_.resize(nb);
    trains_.resize(std::size_t(nb) * bucket_slots);
    mask_ = nb - 1;
}

frag_table::where frag_table::locate(const frag_key& k) const noexcept
{
    std::uint64_t w[5];
    std::memcpy(w, &k, sizeof w);
    std::uint64_t h = seed_;
    for (std::uint64_t x : w)
        h = mix(h ^ x);
    const auto b1 = static_cast<std::uint32_t>(h) & mask_;
    auto b2 = static_cast<std::uint32_t>(h >> 20) & mask_;
    if (b2 == b1)
        b2 = (b1 + 1) & mask_;
    return {h, b1, b2, static_cast<std::uint32_t>(h >> 32) | 1u};
}

std::int64_t frag_table::lookup(const frag_key& k, const where& w, std::uint32_t now) const noexcept
{
    for (std::uint32_t b : {w.b1, w.b2}) {
        const bucket& bk = buckets_[b];
        for (unsigned s = 0; s < bucket_slots; ++s) {
            const std::size_t slot = std::size_t(b) * bucket_slots + s;
            if (bk.sig[s] == w.sig && bk.expires[s] > now && trains_[slot].key == k)
                return static_cast<std::int64_t>(slot);
        }
    }
    return -1;
}

std::int64_t frag_table::claim(const where& w, std::uint32_t now, bool may_evict) noexcept
{
    std::int64_t best = -1, dropped = -1;
    unsigned best_free = 0;
    for (std::uint32_t b : {w.b1, w.b2}) {
        const bucket& bk = buckets_[b];
        unsigned nfree = 0;
        std::int64_t first = -1;
        for (unsigned s = 0; s < bucket_slots; ++s) {
            const std::size_t slot = std::size_t(b) * bucket_slots + s;
            if (!live_slot(bk.sig[s], bk.expires[s], now)) {
                ++nfree;
                if (first < 0)
                    first = static_cast<std::int64_t>(slot);
            } else if (dropped < 0 && trains_[slot].verdict.action == pkt_action::drop) {
                dropped = static_cast<std::int64_t>(slot);
            }
        }
        if (nfree > best_free) {
            best_free = nfree;
            best = first;
        }
    }
    if (best < 0 && may_evict)
        best = dropped;
    return best;
}

void frag_table::free_slot(std::size_t slot) noexcept
{
    buckets_[slot / bucket_slots].sig[slot % bucket_slots] = 0;
}

const frag_train* frag_table::find(const frag_key& k, std::uint32_t now) const noexcept
{
    const std::int64_t slot = lookup(k, locate(k), now);
    return slot < 0 ? nullptr : &trains_[static_cast<std::size_t>(slot)];
}

std::uint32_t frag_table::live(std::uint32_t now) const noexcept
{
    std::uint32_t n = 0;
    for (const bucket& bk : buckets_)
        for (unsigned s = 0; s < bucket_slots; ++s)
            n += live_slot(bk.sig[s], bk.expires[s], now);
    return n;
}

pkt_verdict frag_table::first_fragment(const parsed_frame& f, pkt_verdict v, std::uint32_t now) noexcept
{
    const frag_key k = frag_key_of(f);
    const where w = locate(k);
    if (const std::int64_t slot = lookup(k, w, now); slot >= 0) {
        // a second offset-0 fragment. With the first one's length and
        // verdict it is a duplicate (the host keeps one copy, RFC 5722
        // errata 3089; Linux's IPFRAG_DUP): it gets that verdict. Else it
        // overlaps the first one's bytes, perhaps rewriting its L4 header
        // (RFC 1858 §4): the train is dropped.
        frag_train& t = trains_[static_cast<std::size_t>(slot)];
        if (t.verdict.action == v.action && t.verdict.why == v.why && t.first_length == f.frag_length)
            return v;
        t.verdict = drop_as(drop_reason::frag_overlap_train);
        return v.action == pkt_action::drop ? v : t.verdict;
    }
    const bool forwarded = v.action != pkt_action::drop;
    const std::int64_t slot = claim(w, now, forwarded);
    if (slot < 0) {
        if (!forwarded)
            return v; // its later fragments are dropped as frag_no_first: dropped all the same
        ++stats_.refused;
        return drop_as(drop_reason::frag_table_full); // fail closed: its train could not follow
    }
    const auto s = static_cast<std::size_t>(slot);
    buckets_[s / bucket_slots].sig[s % bucket_slots] = w.sig;
    buckets_[s / bucket_slots].expires[s % bucket_slots] = now + frag_life;
    frag_train& t = trains_[s];
    t.key = k;
    t.verdict = v;
    t.nranges = 1;
    t.ranges[0] = {0, f.frag_length};
    t.first_length = f.frag_length;
    t.total = 0;
    ++stats_.trains;
    return v;
}

pkt_verdict frag_table::later_fragment(const parsed_frame& f, pkt_verdict v, std::uint32_t now) noexcept
{
    if (v.action == pkt_action::drop)
        return v; // an earlier stage's reason stands
    const frag_key k = frag_key_of(f);
    const std::int64_t slot = lookup(k, locate(k), now);
    if (slot < 0)
        return drop_as(drop_reason::frag_no_first);
    frag_train& t = trains_[static_cast<std::size_t>(slot)];
    ++stats_.later;
    if (t.verdict.action == pkt_action::drop)
        return t.verdict;
    const std::uint32_t lo = f.frag_offset, hi = lo + f.frag_length;
    // bytes already carried, a second last fragment, bytes past the last
    // one's end, or a fifth hole: the train is dropped (RFC 5722 for IPv6;
    // RFC 1858 §4 and RFC 3128 for IPv4, whose hosts differ on which copy wins)
    bool bad = hi > 65535 || (t.total && (hi > t.total || !f.frag_more)) || (!f.frag_more && hi < t.ranges[t.nranges - 1].hi);
    for (unsigned r = 0; r < t.nranges && !bad; ++r)
        bad = lo < t.ranges[r].hi && t.ranges[r].lo < hi;
    if (!bad) {
        // insert [lo, hi) in order, merged with its neighbours
        unsigned at = 0;
        while (at < t.nranges && t.ranges[at].lo < lo)
            ++at;
        const bool join_prev = at > 0 && t.ranges[at - 1].hi == lo;
        const bool join_next = at < t.nranges && t.ranges[at].lo == hi;
        if (join_prev && join_next) {
            t.ranges[at - 1].hi = t.ranges[at].hi;
            std::copy(t.ranges.begin() + at + 1, t.ranges.begin() + t.nranges, t.ranges.begin() + at);
            --t.nranges;
        } else if (join_prev) {
            t.ranges[at - 1].hi = static_cast<std::uint16_t>(hi);
        } else if (join_next) {
            t.ranges[at].lo = static_cast<std::uint16_t>(lo);
        } else if (t.nranges == frag_train::max_ranges) {
            bad = true;
        } else {
            std::copy_backward(t.ranges.begin() + at, t.ranges.begin() + t.nranges, t.ranges.begin() + t.nranges + 1);
            t.ranges[at] = {static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi)};
            ++t.nranges;
        }
    }
    if (bad) {
        t.verdict = drop_as(drop_reason::frag_overlap_train);
        return t.verdict;
    }
    if (!f.frag_more)
        t.total = static_cast<std::uint16_t>(hi);
    const pkt_verdict out = t.verdict;
    if (t.total && t.nranges == 1 && t.ranges[0].hi == t.total) {
        free_slot(static_cast<std::size_t>(slot)); // every byte seen: the train is done
        ++stats_.completed;
    }
    return out;
}

void frag_table::apply(const parsed_frame* frames, pkt_verdict* v, unsigned n, std::uint32_t now) noexcept
{
    for (unsigned i = 0; i < n; ++i) {
        const parsed_frame& f = frames[i];
        if (!f.fragment)
            continue;
        v[i] = f.later_fragment ? later_fragment(f, v[i], now) : first_fragment(f, v[i], now);
    }
}

} // namespace bulwark::dataplane
