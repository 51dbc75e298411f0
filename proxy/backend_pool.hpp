// SPDX-License-Identifier: Apache-2.0
#pragma once

// The servers of every backend as the threads share them: up or down (the
// health checks write it), requests in progress against each server's
// maxconn (its slots), the backends' queues of requests waiting for a
// slot; and the choice of a server (balance roundrobin, leastconn,
// source). No coroutines: waiting in a queue is backend_queue.hpp.

#include "proxy/deadline_stream.hpp"
#include "proxy/peer.hpp"
#include "proxy/runtime.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace bulwark::proxy {

// A request waiting in its backend's queue for a server slot.
struct waiter {
    steady_timer timer;            // 'timeout queue'; cancelled when a slot is handed over
    std::size_t server = SIZE_MAX; // the server whose slot it got (set under the queue's lock)
    explicit waiter(executor ex) : timer(std::move(ex)) {}
};

// The only lock in the proxy, taken when a server is full: a request
// joining the queue, or a slot freed while some wait.
struct backend_queue {
    std::mutex m;
    std::deque<std::shared_ptr<waiter>> waiting;
    std::atomic<int> length{0}; // read without the lock by whoever frees a slot
};

// One thread's balancing state for one backend (the worker holds one per
// backend): where leastconn's scan starts, smooth weighted round robin's
// current weights (one per server).
struct balance_state {
    std::size_t next = 0;
    std::vector<int> weights;
};

// What follows a failed connection attempt, HAProxy's way (src/stream.c,
// back_handle_st_cer): give up once `retries` retries are spent, else
// retry on the same server or, with option redispatch, on another one:
// every Nth retry (redispatch N > 0), or when the retry number is a
// multiple of retries + 1 + N (N < 0: -1 is the last retry), or at every
// retry when `spread` (more than one active server up and a balance that
// does not hash, or the server gone DOWN). `retry`: this retry's number,
// from 1.
enum class retry_verdict : std::uint8_t { give_up, same_server, redispatch };
retry_verdict retry_decision(int retry, int retries, int redispatch, bool spread);

class backend_pool {
public:
    // pick_server's answer when every server up is at its maxconn.
    static constexpr std::size_t queued = SIZE_MAX - 1;

    // `servers`: the size of the health table (runtime::servers); every
    // server starts UP with no request in progress, as in HAProxy.
    backend_pool(std::size_t servers, std::size_t backends);

    bool is_up(const server_rt& s) const { return up_[s.health].load(std::memory_order_relaxed); }
    // The health checker's verdict. Any thread.
    void set_up(const server_rt& s, bool up) { up_[s.health].store(up, std::memory_order_relaxed); }
    // Requests in progress on s (its slots taken).
    int active(const server_rt& s) const { return active_[s.health].load(std::memory_order_relaxed); }

    // Takes a slot of s if it has one free (always, without maxconn).
    bool take_slot(const server_rt& s);

    // The server for a request, among those up with a free slot, its slot
    // taken: smooth weighted round robin (per thread, as nginx does it),
    // leastconn (fewest requests in progress, ties in round-robin order) or
    // source (a hash of the client address over the servers up). As in
    // HAProxy, only the active servers up are candidates; when none is up,
    // the first backup server up (every backup up with 'option
    // allbackups'); disabled servers never are. `avoid`: a server to pass
    // over when another one can take the request (a redispatch). Returns
    // be.servers.size() when none is up (or the backend is disabled),
    // `queued` when every candidate is full. `b` is the calling thread's
    // state for this backend.
    std::size_t pick_server(balance_state& b, const backend_rt& be, const peer_info& peer,
                            std::size_t avoid = SIZE_MAX);

    // Frees the slot of server si of backend bi; if requests wait, the first
    // in line takes it over (the slot never goes back to the pool in
    // between) and is woken on its own thread. Any thread.
    void release_slot(std::size_t bi, const backend_rt& be, std::size_t si);

    backend_queue& queue(std::size_t bi) { return queues_[bi]; }

    // Set as the proxy stops: a slot freed then is handed to no one (the
    // waiters' threads are gone).
    std::atomic<bool> stopped{false};

private:
    static constexpr std::size_t active_set = SIZE_MAX - 1, all_backups = SIZE_MAX - 2;
    // Which servers may take traffic now: active_set, all_backups, the
    // index of the one backup that does, or be.servers.size() for none.
    std::size_t eligible_set(const backend_rt& be) const;
    template <class InSet>
    std::size_t pick_in(balance_state& b, const backend_rt& be, const peer_info& peer, InSet in_set);

    // One flag per server, written by the health checker (thread 0) and
    // read by every session.
    std::unique_ptr<std::atomic<bool>[]> up_;
    // Requests in progress per server (same index): its slots, against
    // its maxconn, and leastconn's measure.
    std::unique_ptr<std::atomic<int>[]> active_;
    // Per backend: the requests waiting for a slot (HAProxy's backend queue).
    std::unique_ptr<backend_queue[]> queues_;
};

} // namespace bulwark::proxy
