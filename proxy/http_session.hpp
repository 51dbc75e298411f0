// SPDX-License-Identifier: Apache-2.0
#pragma once

// mode http: HTTP/1.1 requests on a client connection, on Asio coroutines
// and Beast's parser. The session does the I/O; what to do it asks of pure
// functions (http_policy.hpp, http_rules.hpp, backend_pool.hpp), as in
// Beast's advanced server.
//
// A request goes through four phases, each a coroutine: read its head
// (read_head), choose its backend (route: body buffering, captures,
// http-request rules, use_backend), exchange it with a server (exchange:
// a slot, a connection, the request out, the response head in), relay the
// response (respond: http-response rules, a tunnel after 101, the body).
// Each returns false when the request ended the connection; then the
// session ends.
//
// Generic over the client's stream: a deadline_stream (plain TCP or unix
// socket) or a stream layered on one (boost::asio::ssl::stream<
// deadline_stream>), reached through deadline_of() for its deadline and
// socket. http_session.cpp instantiates it for deadline_stream only; an
// instantiation for boost::asio::ssl::stream<deadline_stream> compiles.
// TODO: a TLS session must send close_notify (async_shutdown) where this
// one shuts the socket's sending side; that waits for TLS binds (DESIGN §5).

#include "proxy/http_framing.hpp"
#include "proxy/server_impl.hpp"
#include "proxy/task.hpp"
#include "proxy/upstream.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace bulwark::proxy {

// The 1xx interim responses relayed before a final one; one more is the
// server's error (502): a server looping on 100 Continue would hold the
// connection forever, each 1xx restarting 'timeout server'. HAProxy has no
// such count; no real server sends more than a few (100, 102, 103).
inline constexpr int max_interim_responses = 10;

// The first read of a connection's request head, in bytes: most heads
// fit; a longer one grows the buffer (doubling, up to tune.bufsize).
inline constexpr std::size_t first_head_read = 2048;

template <class Stream>
class http_session {
public:
    // `rules`: the connection's rule state, made at the first rule met
    // (null until then). Every reference must outlive run().
    http_session(server::impl& im, worker& w, const frontend_rt& fe, const peer_info& peer, Stream& client,
                 std::unique_ptr<rule_state>& rules);

    // Serves the connection's requests until it closes, each logged and
    // counted. w's thread.
    task<void> run();

private:
    // One request, from its first byte to its log line. Members in the
    // order they are made: destroyed in reverse (the response parser, then
    // the server connection, then the server slot).
    struct txn {
        request_log lg;
        std::optional<request_reader> rd;
        std::string pending;           // request body read ahead (http-buffer-request, wait-for-body)
        bool client_keep_alive = false;
        std::size_t bi = 0;            // the backend chosen (index in rt.backends)
        const backend_rt* be = nullptr;
        std::size_t si = 0;            // its server
        std::optional<slot_hold> hold;
        bool retryable = false;        // no body left to stream: can be sent again
        bool server_close = false;
        bool upgrade = false;          // "Connection: upgrade" with an Upgrade header
        std::unique_ptr<deadline_stream> srv;
        trailer_guard res_trailers;    // before rp: the parser holds a reference
        std::optional<response_relay_parser> rp;
        clock::time_point response_start;
        std::string res_pending;       // response body read by wait-for-body
        bool counted = false;          // counted as a request in the tracked entries (http_req_*)
    };
    enum class attempt { ok, retry, ended };

    task<bool> read_head(txn& t, bool first);
    task<bool> route(txn& t);
    task<bool> exchange(txn& t);
    task<bool> respond(txn& t);

    // exchange's steps, one server connection attempt each.
    task<attempt> open_server(txn& t, int n, bool& reused);
    task<attempt> send_request(txn& t, int n, bool reused);
    task<attempt> read_response_head(txn& t, int n, bool reused);
    // respond's end after a 101: the connection becomes a tunnel.
    task<void> switch_protocols(txn& t);

    // The frontend's first use_backend whose condition holds, else its
    // default_backend (-1: none).
    int switch_backend(txn& t);
    // A section's rules, with the body waits they ask for. True when the
    // message goes on; false when a rule answered or closed (lg says how;
    // the caller finishes).
    task<bool> request_rules(txn& t, const backend_rt* be, const proxy_rules& r);
    task<bool> response_rules(txn& t, const proxy_rules& r);
    // An error page (the sections' errorfiles first), or a reply bulwark
    // makes itself; then the end of the connection.
    task<void> send_error(const backend_rt* be, int status, request_log& lg, const char* term);
    task<void> send_reply(std::string text, int status, request_log& lg, const char* term);

    rule_state& rules();
    std::span<char> chunk();
    // The request's end: its bytes and whether it is an HTTP error counted
    // in the tracked entries, then its log line and counters.
    void finish(const txn& t);

    server::impl& im_;
    worker& w_;
    const frontend_rt& fe_;
    const peer_info& peer_;
    Stream& client_;
    std::unique_ptr<rule_state>& rules_;
    boost::beast::flat_buffer cbuf_, sbuf_;
    // One relay chunk per session, reused by every request: a 16 KiB chunk
    // in each relay coroutine frame made the thread's malloc arena grow and
    // trim (madvise) all the time, ~1 page fault per request. Taken at the
    // first relay, so a connection still sending its request (slowloris,
    // slow POST: thousands at once) holds none.
    std::unique_ptr<char[]> chunk_mem_;
    field_arena fields_mem_; // the header fields of the request in hand and of its response
    std::string head_;       // a header as it goes out (relay_message)
    // The client stream's byte counts at the end of the previous request:
    // what this request moved is the difference (bytes_in/out_rate).
    std::uint64_t in_mark_ = 0, out_mark_ = 0;
};

extern template class http_session<deadline_stream>;

} // namespace bulwark::proxy
