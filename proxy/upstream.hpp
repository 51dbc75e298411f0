// SPDX-License-Identifier: Apache-2.0
#pragma once

// Getting a server for a request or tcp connection, on coroutines: a slot
// (at once, or after waiting in the backend's queue), then a connection.

#include "proxy/access_log.hpp"
#include "proxy/backend_pool.hpp"
#include "proxy/task.hpp"

#include <optional>

namespace bulwark::proxy {

// Idle keep-alive server connections kept per server and thread.
inline constexpr std::size_t max_idle_per_server = 64;

// The server slot a request (or tcp connection) holds, until it ends.
struct slot_hold {
    slot_hold(backend_pool& p, std::size_t b, std::size_t s, const backend_rt& e) : pool(p), bi(b), si(s), be(e) {}
    slot_hold(const slot_hold&) = delete;
    slot_hold& operator=(const slot_hold&) = delete;
    backend_pool& pool;
    std::size_t bi, si;
    const backend_rt& be;
    ~slot_hold() { pool.release_slot(bi, be, si); }
};

// acquire_server's answers besides a server index.
inline constexpr std::size_t queue_full = SIZE_MAX - 2;   // the queue holds maxqueue already (503 SQ)
inline constexpr std::size_t client_gone = SIZE_MAX - 3;  // option abortonclose: the client closed (CQ)

// A server of backend bi with a slot taken for this request: at once, or
// after waiting in the backend's queue up to 'timeout queue' (lg.t_queue
// says how long). Returns be.servers.size() when none is up,
// backend_pool::queued when the wait ran out, queue_full when the queue
// is at the backend's maxqueue, client_gone when, with option
// abortonclose, `client` closed while waiting. `b`: the calling thread's
// balancing state for the backend; `ex` the caller's executor; `client`:
// the client's socket, no read pending on it (null: not watched).
task<std::size_t> acquire_server(backend_pool& pool, balance_state& b, std::size_t bi, const backend_rt& be,
                                 const peer_info& peer, executor ex, request_log& lg, socket_type* client = nullptr);

// Connects `s` to the server `hold` holds, retrying as retry_decision
// says: a retry on the same server waits HAProxy's turn-around of
// min('timeout connect', 1 s) after a refused connection; a redispatch
// moves `hold` (and lg.server) to another server when one has a free
// slot. lg.retries and lg.redispatched say what happened. With option
// abortonclose, a `client` that closed meanwhile ends it (returns
// operation_aborted). Returns the last attempt's error.
task<error_code> connect_retrying(deadline_stream& s, backend_pool& pool, balance_state& b, const backend_rt& be,
                                  const peer_info& peer, std::optional<slot_hold>& hold, request_log& lg,
                                  socket_type* client = nullptr);

// Whether a client with nothing more to send has closed (EOF, or an error).
bool client_closed(socket_type& s);


// Connects `s` to a server under 'timeout connect'; on success the connect
// time goes in the log and Nagle is off (headers and bodies are separate
// writes: with Nagle, the server's delayed ACK stalls each ~40 ms).
task<error_code> connect_server(deadline_stream& s, const backend_rt& be, const server_rt& srv, request_log& lg);

// Whether an idle server connection is still open. An idle connection the
// server has closed reads as EOF at once; one still open has nothing to
// read. A peek tells them apart without consuming.
bool still_open(socket_type& s);

} // namespace bulwark::proxy
