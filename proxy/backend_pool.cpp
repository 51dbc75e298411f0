// SPDX-License-Identifier: Apache-2.0
#include "proxy/backend_pool.hpp"

#include <boost/asio/post.hpp>

namespace bulwark::proxy {

backend_pool::backend_pool(std::size_t servers, std::size_t backends)
    : up_(std::make_unique<std::atomic<bool>[]>(servers)), active_(std::make_unique<std::atomic<int>[]>(servers)),
      queues_(std::make_unique<backend_queue[]>(backends))
{
    for (std::size_t i = 0; i < servers; ++i) {
        up_[i].store(true);
        active_[i].store(0);
    }
}

bool backend_pool::take_slot(const server_rt& s)
{
    auto& n = active_[s.health];
    if (s.maxconn == 0) {
        n.fetch_add(1);
        return true;
    }
    int cur = n.load();
    while (cur < s.maxconn)
        if (n.compare_exchange_weak(cur, cur + 1))
            return true;
    return false;
}

void backend_pool::release_slot(std::size_t bi, const backend_rt& be, std::size_t si)
{
    active_[be.servers[si].health].fetch_sub(1);
    auto& q = queues_[bi];
    if (q.length.load() == 0 || stopped) // stopped: the waiters' threads are gone
        return;
    std::lock_guard lock(q.m);
    if (q.waiting.empty() || !is_up(be.servers[si]) || be.servers[si].disabled || !take_slot(be.servers[si]))
        return;
    auto wt = std::move(q.waiting.front());
    q.waiting.pop_front();
    q.length.fetch_sub(1);
    wt->server = si;
    boost::asio::post(wt->timer.get_executor(), [wt] { wt->timer.cancel(); });
}

retry_verdict retry_decision(int retry, int retries, int redispatch, bool spread)
{
    if (retry > retries)
        return retry_verdict::give_up;
    if (redispatch == 0)
        return retry_verdict::same_server;
    const int period = redispatch > 0 ? redispatch : retries + 1 + redispatch;
    if (spread || (period > 0 && retry % period == 0))
        return retry_verdict::redispatch;
    return retry_verdict::same_server;
}

std::size_t backend_pool::eligible_set(const backend_rt& be) const
{
    const std::size_t n = be.servers.size();
    std::size_t first_backup = n;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& s = be.servers[i];
        if (s.disabled || !is_up(s))
            continue;
        if (!s.backup)
            return active_set;
        if (first_backup == n)
            first_backup = i;
    }
    if (first_backup == n)
        return n;
    return be.allbackups ? all_backups : first_backup;
}

std::size_t backend_pool::pick_server(balance_state& b, const backend_rt& be, const peer_info& peer,
                                      std::size_t avoid)
{
    const std::size_t n = be.servers.size();
    if (be.disabled)
        return n;
    const std::size_t set = eligible_set(be);
    if (set == n)
        return n;
    // In the set HAProxy serves: the active servers up; when none is, the
    // first backup up (every backup up with option allbackups).
    auto in_set = [&](std::size_t i) {
        const auto& s = be.servers[i];
        if (s.disabled || !is_up(s) || i == avoid)
            return false;
        return set == active_set ? !s.backup : set == all_backups ? s.backup : i == set;
    };
    std::size_t got = pick_in(b, be, peer, in_set);
    if (got == n && avoid < n) // nothing else to redispatch to: the same server again
        return pick_server(b, be, peer, n);
    return got;
}

template <class InSet>
std::size_t backend_pool::pick_in(balance_state& b, const backend_rt& be, const peer_info& peer, InSet in_set)
{
    const std::size_t n = be.servers.size();
    auto has_room = [&](const server_rt& s) { return s.maxconn == 0 || active(s) < s.maxconn; };
    if (be.algo == balance_algo::source) {
        // The hash picks the k-th server of the set: two passes over the
        // servers, no list of them, no bound on their number.
        std::size_t count = 0;
        for (std::size_t i = 0; i < n; ++i)
            count += in_set(i);
        if (count == 0)
            return n;
        std::uint64_t h = 1469598103934665603ull; // FNV-1a over the address bytes
        for (std::size_t k = 0; k < peer.len; ++k)
            h = (h ^ peer.bytes[k]) * 1099511628211ull;
        std::size_t left = h % count, i = 0;
        for (; i < n; ++i)
            if (in_set(i) && left-- == 0)
                break;
        if (i == n) // a server went down between the passes (the checker runs on thread 0)
            return queued;
        return take_slot(be.servers[i]) ? i : queued; // the client's server, or its turn
    }
    bool any_up = false;
    for (int attempt = 0; attempt < 4; ++attempt) { // another thread may take the slot first
        std::size_t best = n;
        if (be.algo == balance_algo::roundrobin) {
            auto& cur = b.weights;
            int total = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const auto& s = be.servers[i];
                if (s.weight == 0 || !in_set(i))
                    continue;
                any_up = true;
                if (!has_room(s))
                    continue;
                cur[i] += s.weight;
                total += s.weight;
                if (best == n || cur[i] > cur[best])
                    best = i;
            }
            if (best != n)
                cur[best] -= total;
        } else {
            std::size_t start = b.next++;
            for (std::size_t k = 0; k < n; ++k) {
                std::size_t i = (start + k) % n;
                const auto& s = be.servers[i];
                if (!in_set(i))
                    continue;
                any_up = true;
                if (has_room(s) && (best == n || active(s) < active(be.servers[best])))
                    best = i;
            }
        }
        if (best == n)
            return any_up ? queued : n;
        if (take_slot(be.servers[best]))
            return best;
    }
    return queued;
}

} // namespace bulwark::proxy
