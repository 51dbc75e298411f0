// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 sessions on Asio coroutines and Beast's parser. One coroutine per
// client connection: it reads a request (headers, and the body up to
// tune.bufsize with http-buffer-request) under 'timeout http-request',
// contacts the server only then, streams the rest of the body and the
// response through fixed chunks, and loops for keep-alive.
#include <utility> // Boost 1.74's asio/awaitable.hpp uses std::exchange without it

#include "proxy/server.hpp"

#include "proxy/http_errors.hpp"
#include "proxy/deadline_stream.hpp"
#include "proxy/reader.hpp"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <deque>
#include <mutex>
#include <limits>
#include <memory>
#include <span>
#include <fmt/format.h>
#include <cstring>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <thread>
#include <tuple>

namespace bulwark::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using stream = stream_protocol;
// Coroutines run on their worker's io_context under its concrete executor
// type (see deadline_stream.hpp: executor, socket_type, steady_timer).
template <class T = void>
using task = asio::awaitable<T, executor>;
using stream_acceptor = asio::basic_socket_acceptor<stream, executor>;
using error_code = boost::system::error_code;
using clock = std::chrono::steady_clock;

namespace {

inline auto with_ec(error_code& ec) { return asio::redirect_error(asio::use_awaitable_t<executor>{}, ec); }
constexpr std::size_t chunk_size = 16384;
constexpr std::size_t max_idle_per_server = 64; // per thread
// pick_server's answer when every server up is at its maxconn.
constexpr std::size_t queued = SIZE_MAX - 1;

// An idle connection the server has closed reads as EOF at once; one still
// open has nothing to read. A peek tells them apart without consuming.
bool still_open(socket_type& s)
{
    char c;
    ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

using client_stream = deadline_stream;

void classify(const deadline_stream& s, error_code& ec) { s.classify(ec); }

// Who a client is, as logs, X-Forwarded-For and balance source need it.
struct peer_info {
    std::string addr = "unix"; // as HAProxy logs a unix socket client: "unix:1"
    unsigned port = 1;
    bool ip = false;
    std::array<unsigned char, 16> bytes{};
    std::size_t len = 0; // address bytes (4 or 16); 0 for unix
};

peer_info describe(const stream::endpoint& ep)
{
    peer_info p;
    int family = ep.data()->sa_family;
    if (family != AF_INET && family != AF_INET6)
        return p;
    tcp::endpoint te;
    std::memcpy(te.data(), ep.data(), std::min(ep.size(), sizeof(sockaddr_in6)));
    te.resize(ep.size());
    auto a = te.address();
    p.addr = a.to_string();
    p.port = te.port();
    p.ip = true;
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), p.bytes.begin());
        p.len = b.size();
    } else {
        auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), p.bytes.begin());
        p.len = b.size();
    }
    return p;
}

bool in_network(const peer_info& p, const cidr& n)
{
    const std::size_t len = n.net.fam == family::ipv4 ? 4 : 16;
    if (p.len != len)
        return false;
    for (std::size_t bit = 0; bit < n.prefix; ++bit) {
        const unsigned mask = 0x80u >> (bit % 8);
        if ((p.bytes[bit / 8] & mask) != (n.net.bytes[bit / 8] & mask))
            return false;
    }
    return true;
}

// A counter written by one thread and read by any: relaxed, so that an
// increment is a plain add (no lock prefix), yet reading it is no race.
struct counter {
    std::atomic<std::uint64_t> v{0};
    void add(std::uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    std::uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct traffic_counters {
    counter requests, bytes_out;
    counter status[6];
};
struct fe_counters {
    counter connections, request_errors, denied_connections, denied_requests, denied_responses;
    traffic_counters t;
};
struct srv_counters {
    counter connect_errors, response_errors;
    traffic_counters t;
};
struct be_counters {
    counter connect_errors, response_errors, queue_timeouts, no_server;
    traffic_counters t;
};

// Per thread: its io_context, listeners and round-robin positions.
struct worker {
    asio::io_context io{1};
    std::vector<std::pair<stream_acceptor, const frontend_rt*>> listeners;
    std::vector<std::size_t> rr;             // per backend: where leastconn's scan starts
    std::vector<std::vector<int>> rr_weight; // per backend and server: smooth weighted round robin
    // Idle keep-alive server connections, per backend and server.
    // On the heap: a stream's timer handler holds its address.
    std::vector<std::vector<std::vector<std::unique_ptr<deadline_stream>>>> idle;
    std::thread thread;
    // Its counters, per frontend, backend and server (health index).
    std::unique_ptr<fe_counters[]> fe_count;
    std::unique_ptr<be_counters[]> be_count;
    std::unique_ptr<srv_counters[]> srv_count;
    // Hyperscan scratch space for every rule set's pattern sets.
    rules::pattern_scratch scratch;
};

// What one request's log line says (HAProxy's httplog fields).
struct request_log {
    std::chrono::system_clock::time_point accept_date;
    clock::time_point start;
    long t_request = -1, t_queue = -1, t_connect = -1, t_response = -1; // ms, -1: did not happen
    int status = -1; // -1: nothing answered
    std::uint64_t bytes = 0;
    std::string backend, server = "<NOSRV>";
    int backend_index = -1, server_index = -1; // for the counters: rt.backends, server health index
    char term[5] = "----";
    std::string line = "<BADREQ>";
    bool null_connection = false; // nothing came from the client (option dontlognull)
    std::string cap_req, cap_res; // "{...}": HAProxy's %hr %hs, when the frontend captures headers
    char denied = 0;              // 'q': a rule refused the request, 's': the response
};

long elapsed_ms(clock::time_point since)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - since).count();
}

std::string log_date(std::chrono::system_clock::time_point t)
{
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S", &tm);
    return fmt::format("{}.{:03}", buf, ms);
}

// A request waiting in its backend's queue for a server slot.
struct waiter {
    steady_timer timer;         // 'timeout queue'; cancelled when a slot is handed over
    std::size_t server = SIZE_MAX;    // the server whose slot it got (set under the queue's lock)
    explicit waiter(executor ex) : timer(std::move(ex)) {}
};

// The only lock in the proxy, taken when a server is full: a request
// joining the queue, or a slot freed while some wait.
struct backend_queue {
    std::mutex m;
    std::deque<std::shared_ptr<waiter>> waiting;
    std::atomic<int> length{0}; // read without the lock by whoever frees a slot
};

} // namespace

struct server::impl {
    runtime rt;
    std::FILE* log = nullptr;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<int> actconn{0};
    std::atomic<bool> stopped{false}; // read by the threads (release_slot) as they stop
    // The threads' io_contexts go first: destroying them destroys the
    // sessions still suspended there, whose guards give back connection
    // counts and server slots held in the members below.
    ~impl()
    {
        stopped = true;
        workers.clear();
    }
    // One flag per server, written by the health checker (thread 0) and
    // read by every session: a server starts UP, as in HAProxy.
    std::unique_ptr<std::atomic<bool>[]> up;
    // Requests in progress per server (same index): its slots, against
    // its maxconn, and leastconn's measure.
    std::unique_ptr<std::atomic<int>[]> active;
    // Per backend: the requests waiting for a slot (HAProxy's backend queue).
    std::unique_ptr<backend_queue[]> queues;
    // Client connections per frontend (same index as rt.frontends).
    std::unique_ptr<std::atomic<int>[]> feconn;

    bool is_up(const server_rt& s) const { return up[s.health].load(std::memory_order_relaxed); }
    task<void> health_check(worker& w, const backend_rt& be, const server_rt& s);
    // The server slot a request (or tcp connection) holds, until it ends.
    struct slot_hold {
        impl& im;
        std::size_t bi, si;
        const backend_rt& be;
        ~slot_hold() { im.release_slot(bi, be, si); }
    };
    task<std::size_t> acquire_server(worker& w, std::size_t bi, const backend_rt& be, const peer_info& peer,
                                     executor ex, request_log& lg);
    task<void> tcp_session(worker& w, const frontend_rt& fe, const peer_info& peer, client_stream& client);
    bool take_slot(const server_rt& s);
    void release_slot(std::size_t bi, const backend_rt& be, std::size_t si);
    std::size_t pick_server(worker& w, std::size_t bi, const backend_rt& be, const peer_info& peer);
    bool full(const frontend_rt& fe) const;
    bool reserve_connection(const frontend_rt& fe);

    task<void> accept_loop(worker& w, stream_acceptor& acc, const frontend_rt& fe);
    task<bool> request_rules(const frontend_rt& fe, const backend_rt* be, const proxy_rules& r, client_stream& client,
                             beast::flat_buffer& cbuf, request_reader::parser_type& p, std::string& pending,
                             rule_state& st, request_log& lg);
    task<bool> response_rules(const frontend_rt& fe, const backend_rt& be, const proxy_rules& r,
                              client_stream& client, deadline_stream& srv, beast::flat_buffer& sbuf,
                              http::response_parser<http::buffer_body, arena_allocator<char>>& rp,
                              std::string& pending, rule_state& st, request_log& lg);
    task<void> session(worker& w, const frontend_rt& fe, socket_type sock);
    task<void> send_error(client_stream& client, const frontend_rt& fe, const backend_rt* be,
                                     int status, request_log& lg, const char* term);
    task<void> send_reply(client_stream& client, const frontend_rt& fe, std::string text, int status,
                          request_log& lg, const char* term);
    void finish(worker& w, const frontend_rt& fe, const peer_info& peer, const request_log& lg);
};

void count_traffic(traffic_counters& c, const request_log& lg)
{
    c.requests.add();
    c.status[lg.status >= 100 && lg.status < 600 ? lg.status / 100 - 1 : 5].add();
    c.bytes_out.add(lg.bytes);
}

// Every request ends here: its counters, then its log line.
void server::impl::finish(worker& w, const frontend_rt& fe, const peer_info& peer, const request_log& lg)
{
    auto& f = w.fe_count[static_cast<std::size_t>(&fe - rt.frontends.data())];
    count_traffic(f.t, lg);
    const char who = lg.term[0], phase = lg.term[1];
    if (lg.denied)
        (lg.denied == 'q' ? f.denied_requests : f.denied_responses).add();
    else if (who == 'C' || who == 'c' || who == 'P')
        f.request_errors.add();
    bool server_side = who == 'S' || who == 's';
    if (lg.backend_index >= 0) {
        auto& b = w.be_count[static_cast<std::size_t>(lg.backend_index)];
        count_traffic(b.t, lg);
        b.connect_errors.add(server_side && phase == 'C' && lg.server_index >= 0);
        b.no_server.add(server_side && phase == 'C' && lg.server_index < 0);
        b.response_errors.add(server_side && (phase == 'H' || phase == 'D'));
        b.queue_timeouts.add(server_side && phase == 'Q');
    }
    if (lg.server_index >= 0) {
        auto& sc = w.srv_count[static_cast<std::size_t>(lg.server_index)];
        count_traffic(sc.t, lg);
        sc.connect_errors.add(server_side && phase == 'C');
        sc.response_errors.add(server_side && (phase == 'H' || phase == 'D'));
    }
    if (!log || (fe.dontlognull && lg.null_connection))
        return;
    if (fe.tcp) { // HAProxy's tcplog: %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
        if (!fe.tcplog)
            return;
        int conns = actconn.load(std::memory_order_relaxed);
        std::string line = fmt::format("{}:{} [{}] {} {}/{} {}/{}/{} {} {:.2} {}/{}/0/0/0 0/0\n", peer.addr, peer.port,
                                       log_date(lg.accept_date), fe.name, lg.backend, lg.server, lg.t_queue,
                                       lg.t_connect, elapsed_ms(lg.start), lg.bytes, std::string_view(lg.term, 2),
                                       conns, conns);
        std::fputs(line.c_str(), log);
        std::fflush(log);
        return;
    }
    if (!fe.httplog)
        return;
    long ta = elapsed_ms(lg.start);
    int conns = actconn.load(std::memory_order_relaxed);
    // One fprintf per line: stdio locks the FILE, so lines never interleave.
    std::string line = fmt::format(
        "{}:{} [{}] {} {}/{} {}/{}/{}/{}/{} {} {} - - {} {}/{}/0/0/0 0/0 {}\"{}\"\n", peer.addr,
        peer.port, log_date(lg.accept_date), fe.name, lg.backend, lg.server, lg.t_request, lg.t_queue, lg.t_connect,
        lg.t_response, ta, lg.status, lg.bytes, lg.term, conns, conns,
        (lg.cap_req.empty() ? std::string() : lg.cap_req + " ") + (lg.cap_res.empty() ? "" : lg.cap_res + " "), lg.line);
    std::fputs(line.c_str(), log);
    std::fflush(log);
}

task<void> server::impl::send_error(client_stream& client, const frontend_rt& fe, const backend_rt* be,
                                               int status, request_log& lg, const char* term)
{
    std::string text;
    if (be && be->errorfiles.count(status))
        text = be->errorfiles.at(status);
    else if (fe.errorfiles.count(status))
        text = fe.errorfiles.at(status);
    else
        text = error_response(status);
    co_await send_reply(client, fe, std::move(text), status, lg, term);
}

// A reply bulwark makes itself (an error page, a rule's deny, return or
// redirect), then the end of the connection.
task<void> server::impl::send_reply(client_stream& client, const frontend_rt& fe, std::string text, int status,
                                    request_log& lg, const char* term)
{
    lg.status = status;
    lg.bytes += text.size();
    std::copy_n(term, 4, lg.term);
    error_code ec;
    client.expires_after(fe.client);
    co_await asio::async_write(client, asio::buffer(text), with_ec(ec));
    client.socket().shutdown(asio::socket_base::shutdown_send, ec);
}

// Moves body bytes already in `b` into the parser's buffer_body, without
// reading: what a read would parse first, minus the syscall.
template <bool isRequest>
std::size_t take_buffered(http::parser<isRequest, http::buffer_body, arena_allocator<char>>& p, beast::flat_buffer& b, error_code& ec)
{
    auto& body = p.get().body();
    const std::size_t room = body.size;
    while (b.size() > 0 && body.size > 0 && !p.is_done()) {
        std::size_t n = p.put(b.data(), ec);
        b.consume(n);
        if (ec == http::error::need_more || ec == http::error::need_buffer) {
            ec = {};
            break;
        }
        if (ec || n == 0)
            break;
    }
    return room - body.size;
}

// A header's bytes exactly as Beast's serializer writes them: the start
// line, the fields in their order ("name: value\r\n" each), an empty line.
void append_start_line(const http::header<true, fields_type>& h, std::string& out)
{
    const auto method = h.method_string();
    const auto target = h.target();
    out.append(method.data(), method.size());
    out += ' ';
    out.append(target.data(), target.size());
    const char version[] = {' ', 'H', 'T', 'T', 'P', '/', static_cast<char>('0' + h.version() / 10), '.',
                            static_cast<char>('0' + h.version() % 10), '\r', '\n'};
    out.append(version, sizeof version);
}
void append_start_line(const http::header<false, fields_type>& h, std::string& out)
{
    const unsigned code = h.result_int();
    const char line[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + h.version() / 10), '.',
                         static_cast<char>('0' + h.version() % 10), ' ', static_cast<char>('0' + code / 100),
                         static_cast<char>('0' + (code / 10) % 10), static_cast<char>('0' + code % 10), ' '};
    out.append(line, sizeof line);
    const auto reason = h.reason().empty() ? http::obsolete_reason(static_cast<http::status>(code)) : h.reason();
    out.append(reason.data(), reason.size());
    out += "\r\n";
}
template <bool isRequest>
void format_header(const http::header<isRequest, fields_type>& h, std::string& out)
{
    out.clear();
    append_start_line(h, out);
    for (const auto& f : h) {
        const auto name = f.name_string();
        const auto value = f.value();
        out.append(name.data(), name.size());
        out += ": ";
        out.append(value.data(), value.size());
        out += "\r\n";
    }
    out += "\r\n";
}

// Reads the body of p into `pending` (after what it holds), grown by what
// comes so a slow body holds only the bytes it sent, until the body is
// complete or `limit` bytes are held. The caller sets the stream's
// deadline. Returns the read's error (need_buffer is none).
template <bool isRequest>
task<error_code> buffer_body(deadline_stream& in, beast::flat_buffer& buf,
                             http::parser<isRequest, http::buffer_body, arena_allocator<char>>& p,
                             std::string& pending, std::size_t limit)
{
    error_code ec;
    auto& body = p.get().body();
    while (!p.is_done() && pending.size() < limit) {
        const std::size_t have = pending.size();
        const std::size_t asked = std::min(std::max<std::size_t>(buf.size(), 1024), limit - have);
        pending.resize(have + asked);
        body.data = pending.data() + have;
        body.size = asked;
        // read_some, not read: a read would wait for the body buffer to
        // fill, past `limit` (wait-for-body at-least) when the body is longer.
        co_await http::async_read_some(in, buf, p, with_ec(ec));
        in.classify(ec);
        if (ec == http::error::need_buffer)
            ec = {};
        pending.resize(have + asked - body.size);
        if (ec)
            break;
    }
    co_return ec;
}

// Sends the header of a parsed message and streams its body from `in` to
// `out` through one chunk, as Beast's relay example does. The header goes
// out with the first body bytes in one write when they are at hand (already
// read, or `pending`: body read by request buffering), alone before
// waiting for any. Returns the first error, tagged with the side it came
// from. A chunked body goes through Beast's serializer `sr`, which frames
// the chunks again; any other is the header's bytes (formatted into `head`,
// the session's buffer) then the body's as they come, which is all the
// serializer would write, without the cost of its buffer sequences.
template <bool isRequest, class In, class Out>
task<std::pair<error_code, bool /*from input*/>> relay_message(
    In& in, beast::flat_buffer& inbuf, http::parser<isRequest, http::buffer_body, arena_allocator<char>>& p, Out& out,
    http::serializer<isRequest, http::buffer_body, fields_type>& sr, proxy::ms in_timeout, proxy::ms out_timeout,
    std::string& pending, std::uint64_t& bytes, std::span<char> chunk, std::string& head)
{
    error_code ec;
    auto& body = p.get().body();
    bool pending_first = !pending.empty();
    bool header_sent = false;
    const bool plain = !p.get().chunked();
    // The header's bytes count in the log's bytes, as in HAProxy. (Chunked
    // messages are formatted only for that: Beast's serializer sends them.)
    format_header(p.get().base(), head);
    bytes += head.size();
    do {
        if (pending_first) { // body already read: it goes out before any new read
            pending_first = false;
            body.data = pending.data();
            body.size = pending.size();
            body.more = !p.is_done();
            bytes += pending.size();
        } else if (!p.is_done()) {
            body.data = chunk.data();
            body.size = chunk.size();
            if (!header_sent) {
                error_code bad;
                std::size_t got = take_buffered(p, inbuf, bad);
                if (bad || (got == 0 && !p.is_done())) { // nothing at hand: the header alone first
                    header_sent = true;
                    out.expires_after(out_timeout);
                    if (plain)
                        co_await asio::async_write(out, asio::buffer(head), with_ec(ec));
                    else
                        co_await http::async_write_header(out, sr, with_ec(ec));
                    classify(out, ec);
                    if (ec)
                        co_return std::pair{ec, false};
                    if (bad)
                        co_return std::pair{bad, true};
                    continue;
                }
                body.size = got;
            } else {
                in.expires_after(in_timeout);
                co_await http::async_read(in, inbuf, p, with_ec(ec));
                classify(in, ec);
                if (ec == http::error::need_buffer)
                    ec = {};
                if (ec)
                    co_return std::pair{ec, true};
                body.size = chunk.size() - body.size;
            }
            body.data = chunk.data();
            body.more = !p.is_done();
            bytes += body.size;
        } else { // no body left: the header alone, if it has not gone yet
            body.data = nullptr;
            body.size = 0;
            body.more = false;
        }
        if (plain) {
            const std::array<asio::const_buffer, 2> out_bufs{
                asio::buffer(head.data(), header_sent ? 0 : head.size()), asio::buffer(body.data, body.size)};
            header_sent = true;
            if (out_bufs[0].size() + out_bufs[1].size() > 0) {
                out.expires_after(out_timeout);
                co_await asio::async_write(out, out_bufs, with_ec(ec));
                classify(out, ec);
                if (ec)
                    co_return std::pair{ec, false};
            }
            continue;
        }
        header_sent = true;
        out.expires_after(out_timeout);
        co_await http::async_write(out, sr, with_ec(ec));
        classify(out, ec);
        if (ec == http::error::need_buffer)
            ec = {};
        if (ec)
            co_return std::pair{ec, false};
    } while (!p.is_done() && (plain || !sr.is_done()));
    co_return std::pair{error_code{}, false};
}

// One direction of a tunnel: bytes from `in` (first those already read
// into `early`) to `out`, until `in` ends (then `out` is half-closed, so
// its peer sees the end too) or an error. Returns the error (eof is none)
// and whether it came from `in`.
static task<std::pair<error_code, bool>> pump(deadline_stream& in, beast::flat_buffer& early,
                                                         deadline_stream& out, const proxy::ms& in_timeout,
                                                         const proxy::ms& out_timeout, std::span<char> buf,
                                                         std::uint64_t& bytes)
{
    error_code ec;
    if (early.size() > 0) {
        out.expires_after(out_timeout);
        std::size_t n = co_await asio::async_write(out, early.data(), with_ec(ec));
        out.classify(ec);
        early.consume(n);
        bytes += n;
        if (ec)
            co_return std::pair{ec, false};
    }
    for (;;) {
        in.expires_after(in_timeout);
        std::size_t n = co_await in.async_read_some(asio::buffer(buf.data(), buf.size()), with_ec(ec));
        in.classify(ec);
        if (ec == asio::error::eof) {
            out.socket().shutdown(asio::socket_base::shutdown_send, ec);
            co_return std::pair{error_code{}, true};
        }
        if (ec)
            co_return std::pair{ec, true};
        out.expires_after(out_timeout);
        co_await asio::async_write(out, asio::buffer(buf.data(), n), with_ec(ec));
        out.classify(ec);
        if (ec)
            co_return std::pair{ec, false};
        bytes += n;
    }
}

// A tunnel (after 101 Switching Protocols): both directions at once, each
// stream's deadline pushed back by traffic either way ('timeout tunnel',
// else the client and server timeouts). Once a side has closed its half,
// the other way is bounded by that side's 'timeout client-fin' or
// 'timeout server-fin'. It ends when both sides have closed, or at the
// first error or timeout, which stops the other way too. The termination
// flags name the side that ended it and how.
struct tunnel_timeouts {
    proxy::ms client, server;                 // each stream's inactivity limit
    std::optional<proxy::ms> client_fin, server_fin;
};

// 'timeout tunnel' supersedes the client and server timeouts in a tunnel.
static tunnel_timeouts tunnel_limits(const frontend_rt& fe, const backend_rt& be)
{
    return {be.tunnel.value_or(fe.client), be.tunnel.value_or(be.server), fe.client_fin, be.server_fin};
}

// Connects `s` to a server under 'timeout connect'; on success the connect
// time goes in the log and Nagle is off (headers and bodies are separate
// writes: with Nagle, the server's delayed ACK stalls each ~40 ms).
static task<error_code> connect_server(deadline_stream& s, const backend_rt& be, const server_rt& srv,
                                       request_log& lg)
{
    error_code ec;
    auto start = clock::now();
    s.expires_after(be.connect);
    co_await s.async_connect(srv.ep, with_ec(ec));
    s.classify(ec);
    if (ec)
        co_return ec;
    lg.t_connect = elapsed_ms(start);
    error_code ignored;
    s.socket().set_option(tcp::no_delay(true), ignored);
    co_return ec;
}

static task<void> tunnel(deadline_stream& client, beast::flat_buffer& cbuf, deadline_stream& srv,
                                    beast::flat_buffer& sbuf, tunnel_timeouts t, std::span<char> up_buf,
                                    std::span<char> down_buf, request_log& lg)
{
    std::uint64_t up_bytes = 0;
    std::pair<error_code, bool> down{};
    bool down_done = false;
    steady_timer down_finished(client.get_executor(), clock::time_point::max());
    asio::co_spawn(client.get_executor(), pump(srv, sbuf, client, t.server, t.client, down_buf, lg.bytes),
                   [&](std::exception_ptr, std::pair<error_code, bool> r) {
                       down = r;
                       down_done = true;
                       down_finished.cancel();
                       if (!r.first && t.server_fin) { // the server closed its half
                           t.client = std::min(t.client, *t.server_fin);
                           client.expires_after(t.client);
                       }
                   });
    auto up = co_await pump(client, cbuf, srv, t.client, t.server, up_buf, up_bytes);
    error_code ignored;
    if (up.first) { // stop the other way: its pending operations end at once
        client.socket().cancel(ignored);
        srv.socket().cancel(ignored);
    } else if (!down_done && t.client_fin) { // the client closed its half
        t.server = std::min(t.server, *t.client_fin);
        srv.expires_after(t.server);
    }
    if (!down_done)
        co_await down_finished.async_wait(with_ec(ignored));
    // The first failure names the side: up reads the client and writes the
    // server, down the reverse. A cancellation is the echo of the other's.
    // A way that timed out after the other side had closed its half ended
    // on that side's fin timeout, and is that side's.
    bool client_side;
    error_code ec;
    if (up.first && up.first != asio::error::operation_aborted) {
        ec = up.first;
        client_side = down_done && !down.first && t.server_fin && ec == beast::error::timeout ? false : up.second;
    } else if (down.first && down.first != asio::error::operation_aborted) {
        ec = down.first;
        client_side = !up.first && t.client_fin && ec == beast::error::timeout ? true : !down.second;
    } else {
        co_return;
    }
    if (ec == beast::error::timeout)
        std::copy_n(client_side ? "cD--" : "sD--", 4, lg.term);
    else
        std::copy_n(client_side ? "CD--" : "SD--", 4, lg.term);
}

// What the rules of a connection read before any request: its addresses.
std::unique_ptr<rule_state> make_rule_state(worker& w, const peer_info& peer, client_stream& client)
{
    auto st = std::make_unique<rule_state>();
    st->ctx.scratch = &w.scratch;
    if (peer.ip)
        if (auto ip = parse_ip(peer.addr)) {
            st->view.src = *ip;
            st->view.src_port = static_cast<std::uint16_t>(peer.port);
        }
    error_code ec;
    auto local = describe(client.socket().local_endpoint(ec));
    if (!ec && local.ip)
        if (auto ip = parse_ip(local.addr)) {
            st->view.dst = *ip;
            st->view.dst_port = static_cast<std::uint16_t>(local.port);
        }
    st->ctx.txn = &st->view;
    return st;
}

task<void> server::impl::session(worker& w, const frontend_rt& fe, socket_type sock)
{
    error_code ec;
    const peer_info peer = describe(sock.remote_endpoint(ec));
    // Headers and body go out in separate writes: without TCP_NODELAY,
    // Nagle meets the peer's delayed ACK and each response waits ~40 ms.
    sock.set_option(tcp::no_delay(true), ec);
    client_stream client(std::move(sock));
    beast::flat_buffer cbuf;
    // One relay chunk and one server-side buffer per session, reused by every
    // request: a 16 KiB chunk in each relay coroutine frame made the thread's malloc
    // arena grow and trim (madvise) all the time, ~1 page fault per request.
    // Taken at the first relay, so a connection still sending its request
    // (slowloris, slow POST: thousands at once) holds none.
    std::unique_ptr<char[]> chunk_mem;
    auto chunk = [&chunk_mem] {
        if (!chunk_mem)
            chunk_mem = std::make_unique_for_overwrite<char[]>(chunk_size);
        return std::span<char>(chunk_mem.get(), chunk_size);
    };
    beast::flat_buffer sbuf;
    // The header fields of the request in hand and of its response.
    field_arena fields_mem;
    std::string head; // a header as it goes out (relay_message)
    // What the rules need, made at the first request that meets a rule.
    std::unique_ptr<rule_state> rules_mem;
    auto rules_of = [&]() -> rule_state& {
        if (!rules_mem)
            rules_mem = make_rule_state(w, peer, client);
        return *rules_mem;
    };
    struct guard { // the connection counts taken by accept_loop
        std::atomic<int>& all;
        std::atomic<int>& here;
        ~guard()
        {
            all.fetch_sub(1, std::memory_order_relaxed);
            here.fetch_sub(1, std::memory_order_relaxed);
        }
    } g{actconn, feconn[static_cast<std::size_t>(&fe - rt.frontends.data())]};
    auto& fec = w.fe_count[static_cast<std::size_t>(&fe - rt.frontends.data())];
    fec.connections.add();
    // tcp-request connection/session/content rules: a rejected connection
    // is closed at once, counted, and not logged (as HAProxy).
    if (fe.rules && !fe.rules->tcp.empty() && run_connection_rules(*fe.rules, rules_of()) != rule_outcome::go_on) {
        fec.denied_connections.add();
        client.socket().shutdown(asio::socket_base::shutdown_both, ec);
        co_return;
    }
    if (fe.tcp) {
        co_await tcp_session(w, fe, peer, client);
        co_return;
    }

    for (bool first = true;; first = false) {
        request_log lg;
        lg.accept_date = std::chrono::system_clock::now();
        lg.start = clock::now();
        lg.backend = fe.name; // until a backend is chosen, as HAProxy logs it

        // The head: 'timeout http-request' from the connection's start for
        // the first request; between two requests 'timeout http-keep-alive'
        // until a byte of the next one, then 'timeout http-request' from it.
        request_reader rd({rt.bufsize, rt.maxhdr}, &fields_mem);
        auto& p = rd.parser();
        client.expires_at(lg.start + (first ? fe.http_request : fe.http_keep_alive));
        bool timing = first;
        head_state st;
        while ((st = rd.feed(cbuf)) == head_state::need_more) {
            if (rd.started() && !timing) {
                timing = true;
                lg.accept_date = std::chrono::system_clock::now();
                lg.start = clock::now();
                client.expires_at(lg.start + fe.http_request);
            }
            // The reader refuses a head once tune.bufsize is held, so there
            // is always room for a byte more.
            std::size_t n =
                co_await client.async_read_some(cbuf.prepare(rt.bufsize - cbuf.size()), with_ec(ec));
            client.classify(ec);
            if (ec) {
                if (!rd.started()) {
                    // HAProxy answers 408 here too, unless told these are a
                    // browser's pre-connections (http-ignore-probes).
                    if (ec == beast::error::timeout && first && !fe.ignore_probes) {
                        co_await send_error(client, fe, nullptr, 408, lg, "cR--");
                        lg.null_connection = true;
                        finish(w, fe, peer, lg);
                    }
                    co_return; // an idle keep-alive connection just closes
                }
                if (ec == beast::error::timeout) {
                    co_await send_error(client, fe, nullptr, 408, lg, "cR--");
                } else { // HAProxy logs an aborted head as 400, though nothing is sent
                    std::copy_n("CR--", 4, lg.term);
                    lg.status = 400;
                }
                finish(w, fe, peer, lg);
                co_return;
            }
            cbuf.commit(n);
        }
        if (st == head_state::error) {
            co_await send_error(client, fe, nullptr, rd.status(), lg, "PR--");
            finish(w, fe, peer, lg);
            co_return;
        }
        const auto start = lg.start;
        if (!timing) // the whole head was already here (pipelined)
            client.expires_at(start + fe.http_request);
        auto& req = p.get();
        auto sv = [](beast::string_view v) { return std::string_view(v.data(), v.size()); };
        if (log && fe.httplog) // only a log line needs it
            lg.line = fmt::format("{} {} HTTP/{}.{}", sv(req.method_string()), sv(req.target()),
                                  req.version() / 10, req.version() % 10);
        bool client_keep_alive = p.keep_alive();

        // option http-buffer-request: the body too, up to tune.bufsize, still
        // under 'timeout http-request', before the server hears of it.
        std::string pending;
        // The backend: the frontend's first use_backend whose condition
        // holds, else its default_backend (-1: none).
        auto switch_backend = [&]() -> int {
            if (!fe.rules || fe.rules->use_backends.empty())
                return fe.default_backend;
            rule_state& st = rules_of();
            view_request(st, req, pending);
            int k = choose_backend(*fe.rules, st);
            return k >= 0 ? fe.use_backend[static_cast<std::size_t>(k)] : fe.default_backend;
        };
        if (fe.buffer_request) {
            ec = co_await buffer_body(client, cbuf, p, pending, rt.bufsize);
            if (ec) {
                if (ec == beast::error::timeout) {
                    co_await send_error(client, fe, nullptr, 408, lg, "cD--");
                } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
                           ec != asio::error::eof && ec != asio::error::connection_reset) {
                    co_await send_error(client, fe, nullptr, 400, lg, "PD--");
                } else {
                    // As HAProxy (reg-test http_request_buffer, c4): the
                    // request goes on to its backend, which finds the
                    // client gone before choosing a server.
                    std::copy_n("CR--", 4, lg.term);
                    lg.t_request = elapsed_ms(start);
                    if (int b = switch_backend(); b >= 0)
                        lg.backend = rt.backends[static_cast<std::size_t>(b)].name;
                }
                finish(w, fe, peer, lg);
                co_return;
            }
        }
        lg.t_request = elapsed_ms(start);

        // The frontend's captures and http-request rules, its use_backend
        // rules, then the chosen backend's http-request rules (HAProxy's order).
        int chosen = fe.default_backend;
        if (fe.rules) {
            rule_state& st = rules_of();
            // Header captures are taken as the request came (HAProxy captures
            // before any rule rewrites), 'http-request capture' slots by the rules.
            const bool captures = !fe.rules->req_captures.empty();
            if (captures) {
                for (auto& c : st.captured)
                    c.clear();
                capture_headers(*fe.rules, req, true, st.captured);
            }
            if (!fe.rules->res_captures.empty())
                lg.cap_res = captures_text(*fe.rules, {}, false);
            const bool go_on = fe.rules->req.empty() ||
                               co_await request_rules(fe, nullptr, *fe.rules, client, cbuf, p, pending, st, lg);
            if (captures)
                lg.cap_req = format_captures(st.captured);
            if (!go_on) {
                finish(w, fe, peer, lg);
                co_return;
            }
            chosen = switch_backend();
        }
        if (chosen < 0) {
            co_await send_error(client, fe, nullptr, 503, lg, "SC--");
            finish(w, fe, peer, lg);
            co_return;
        }
        const backend_rt& be = rt.backends[static_cast<std::size_t>(chosen)];
        lg.backend = be.name;
        lg.backend_index = chosen;
        if (be.rules && be.rules != fe.rules && !be.rules->req.empty() &&
            !co_await request_rules(fe, &be, *be.rules, client, cbuf, p, pending, rules_of(), lg)) {
            finish(w, fe, peer, lg);
            co_return;
        }
        const auto bi = static_cast<std::size_t>(chosen);
        const std::size_t srv_index = co_await acquire_server(w, bi, be, peer, client.get_executor(), lg);
        if (srv_index >= be.servers.size()) { // none up, or none free within 'timeout queue'
            co_await send_error(client, fe, &be, 503, lg, srv_index == be.servers.size() ? "SC--" : "sQ--");
            finish(w, fe, peer, lg);
            co_return;
        }
        const server_rt& srv_rt = be.servers[srv_index];
        lg.server = srv_rt.name;
        lg.server_index = static_cast<int>(srv_rt.health);
        slot_hold hold{*this, bi, srv_index, be};

        // A request with no body left to stream can be sent again when an idle
        // server connection turns out to have been closed under us.
        const bool retryable = p.is_done();
        const bool server_close = fe.server_close || be.server_close;
        const bool upgrade = p.upgrade(); // "Connection: upgrade" with an Upgrade header: left as it is
        if (!upgrade)
            req.keep_alive(!server_close);
        // The backend's option forwardfor, else the frontend's. As HAProxy: a
        // unix socket client has no address to tell.
        if (const auto& xff = be.forwardfor.on ? be.forwardfor : fe.forwardfor;
            xff.on && peer.ip && !(xff.except && in_network(peer, *xff.except)) &&
            !(xff.if_none && req.count(xff.header)))
            req.insert(xff.header, peer.addr);
        auto& pool = w.idle[bi][srv_index];
        std::unique_ptr<deadline_stream> srv_slot;
        std::optional<http::response_parser<http::buffer_body, arena_allocator<char>>> rp;
        clock::time_point response_start;
        for (int attempt = 0;; ++attempt) {
            bool reused = false;
            srv_slot.reset();
            while (!pool.empty() && attempt == 0) { // the newest idle connection still open
                std::unique_ptr<deadline_stream> idle = std::move(pool.back());
                pool.pop_back();
                // A request that can be sent again skips the peek (a syscall per
                // request): a connection closed under us fails the write or reads
                // EOF with nothing, and the retry below takes a new one.
                if (retryable || still_open(idle->socket())) {
                    srv_slot = std::move(idle);
                    reused = true;
                    break;
                }
            }
            if (!srv_slot) {
                srv_slot = std::make_unique<deadline_stream>(client.get_executor());
                ec = co_await connect_server(*srv_slot, be, srv_rt, lg);
                if (ec) {
                    co_await send_error(client, fe, &be, 503, lg, ec == beast::error::timeout ? "sC--" : "SC--");
                    finish(w, fe, peer, lg);
                    co_return;
                }
            } else {
                lg.t_connect = 0;
            }
            deadline_stream& srv = *srv_slot;

            http::serializer<true, http::buffer_body, fields_type> req_sr{req};
            std::uint64_t req_bytes = 0;
            {
                auto [rec, from_client] = co_await relay_message(client, cbuf, p, srv, req_sr, fe.client, be.server,
                                                                 pending, req_bytes, chunk(), head);
                if (rec && from_client) {
                    std::copy_n(rec == beast::error::timeout ? "cD--" : "CD--", 4, lg.term);
                    if (rec == beast::error::timeout)
                        co_await send_error(client, fe, &be, 408, lg, "cD--");
                    finish(w, fe, peer, lg);
                    co_return;
                }
                ec = rec;
            }
            if (ec && reused && retryable && attempt == 0)
                continue; // the idle connection was gone: once more on a new one
            if (ec) {
                co_await send_error(client, fe, &be, 502, lg, "SH--");
                finish(w, fe, peer, lg);
                co_return;
            }

            // The response, after any 1xx interim responses.
            sbuf.clear();
            response_start = clock::now();
            bool retry = false;
            for (;;) {
                rp.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator<char>(&fields_mem)));
                rp->header_limit(static_cast<std::uint32_t>(rt.bufsize));
                rp->body_limit(std::numeric_limits<std::uint64_t>::max());
                if (req.method() == http::verb::head)
                    rp->skip(true);
                srv.expires_after(be.server);
                co_await http::async_read_header(srv, sbuf, *rp, with_ec(ec));
                srv.classify(ec);
                if (ec) {
                    bool nothing_came = sbuf.size() == 0 && ec != beast::error::timeout;
                    if (nothing_came && reused && retryable && attempt == 0) {
                        retry = true;
                        break;
                    }
                    co_await send_error(client, fe, &be, ec == beast::error::timeout ? 504 : 502, lg,
                                        ec == beast::error::timeout ? "sH--" : "SH--");
                    finish(w, fe, peer, lg);
                    co_return;
                }
                unsigned code = rp->get().result_int();
                if (code < 100 || code >= 200 || code == 101)
                    break;
                http::serializer<false, http::buffer_body, fields_type> interim{rp->get()};
                rp->get().body().data = nullptr;
                rp->get().body().more = false;
                client.expires_after(fe.client);
                co_await http::async_write(client, interim, with_ec(ec));
                if (ec && ec != http::error::need_buffer)
                    co_return;
            }
            if (!retry)
                break;
        }
        deadline_stream& srv = *srv_slot;
        lg.t_response = elapsed_ms(response_start);
        auto& res = rp->get();
        lg.status = static_cast<int>(res.result_int());
        // The frontend's captures; the backend's http-response rules, then
        // the frontend's (HAProxy's order).
        std::string res_pending; // response body read by wait-for-body
        if (lg.status != 101) {
            if (fe.rules && !fe.rules->res_captures.empty())
                lg.cap_res = captures_text(*fe.rules, res, false);
            bool go_on = true;
            for (const proxy_rules* r : {be.rules.get(), fe.rules != be.rules ? fe.rules.get() : nullptr})
                if (go_on && r && !r->res.empty())
                    go_on = co_await response_rules(fe, be, *r, client, srv, sbuf, *rp, res_pending, rules_of(), lg);
            if (!go_on) {
                srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
                finish(w, fe, peer, lg);
                co_return;
            }
        }
        if (lg.status == 101) { // protocol switched: the connection becomes a tunnel
            if (!upgrade) {
                co_await send_error(client, fe, &be, 502, lg, "SH--");
                finish(w, fe, peer, lg);
                co_return;
            }
            res.version(11);
            http::serializer<false, http::buffer_body, fields_type> sr{res};
            res.body().data = nullptr;
            res.body().more = false;
            client.expires_after(fe.client);
            co_await http::async_write(client, sr, with_ec(ec));
            client.classify(ec);
            if (ec == http::error::need_buffer)
                ec = {};
            if (ec) {
                std::copy_n(ec == beast::error::timeout ? "cD--" : "CD--", 4, lg.term);
            } else {
                auto other = std::make_unique_for_overwrite<char[]>(chunk_size);
                co_await tunnel(client, cbuf, srv, sbuf,
                                tunnel_limits(fe, be),
                                chunk(), {other.get(), chunk_size}, lg);
            }
            srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
            client.socket().shutdown(asio::socket_base::shutdown_both, ec);
            finish(w, fe, peer, lg);
            co_return;
        }
        // A body delimited by the server closing cannot be kept alive.
        bool delimited = rp->chunked() || rp->content_length() || req.method() == http::verb::head ||
                         lg.status == 204 || lg.status == 304;
        bool keep = client_keep_alive && delimited && !fe.httpclose && !be.httpclose;
        res.version(11); // as HAProxy: the client hears HTTP/1.1 whatever the server spoke
        res.keep_alive(keep);
        http::serializer<false, http::buffer_body, fields_type> res_sr{res};
        {
            auto [rec, from_server] = co_await relay_message(srv, sbuf, *rp, client, res_sr, be.server, fe.client,
                                                             res_pending, lg.bytes, chunk(), head);
            if (rec) {
                std::copy_n(from_server ? (rec == beast::error::timeout ? "sD--" : "SD--")
                                        : (rec == beast::error::timeout ? "cD--" : "CD--"),
                            4, lg.term);
                keep = false;
            }
        }
        // The server connection goes back to this thread's pool when the
        // exchange ended cleanly and the server keeps it open.
        bool server_keeps = !server_close && rp->keep_alive() && rp->is_done() && lg.term[0] == '-';
        if (server_keeps && pool.size() < max_idle_per_server)
            pool.push_back(std::move(srv_slot));
        else
            srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
        finish(w, fe, peer, lg);
        if (!keep) {
            client.socket().shutdown(asio::socket_base::shutdown_send, ec);
            co_return;
        }
    }
}

// A section's http-request rules on the request in hand, with the body
// waits they ask for. True when the request goes on; false when a rule
// answered it or closed the connection (lg says how; the caller finishes).
task<bool> server::impl::request_rules(const frontend_rt& fe, const backend_rt* be, const proxy_rules& r,
                                       client_stream& client, beast::flat_buffer& cbuf,
                                       request_reader::parser_type& p, std::string& pending, rule_state& st,
                                       request_log& lg)
{
    auto& req = p.get();
    view_request(st, req, pending);
    rule_result out = run_request_rules(r, st, req);
    while (out.what == rule_outcome::wait_body) {
        // wait-for-body: the body (or its first at-least bytes, within
        // tune.bufsize) within the time given, else 408.
        const std::size_t want = out.at_least ? std::min<std::size_t>(out.at_least, rt.bufsize) : rt.bufsize;
        client.expires_after(out.wait);
        error_code ec = co_await buffer_body(client, cbuf, p, pending, want);
        if (ec == beast::error::timeout) {
            co_await send_error(client, fe, be, 408, lg, "cR--");
            co_return false;
        }
        if (ec) {
            std::copy_n("CR--", 4, lg.term);
            lg.status = 400;
            co_return false;
        }
        client.expires_after(fe.client);
        view_request(st, req, pending);
        out = run_request_rules(r, st, req, out.next);
    }
    switch (out.what) {
    case rule_outcome::go_on:
        co_return true;
    case rule_outcome::tarpit: {
        // Held for 'timeout tarpit', then the error: an attacker's
        // connection stays busy doing nothing.
        steady_timer t(client.get_executor());
        t.expires_after(out.wait);
        error_code ec;
        co_await t.async_wait(with_ec(ec));
        lg.denied = 'q';
        if (out.response.empty())
            co_await send_error(client, fe, be, out.status, lg, "PT--");
        else
            co_await send_reply(client, fe, std::move(out.response), out.status, lg, "PT--");
        co_return false;
    }
    case rule_outcome::reply:
        if (!out.local)
            lg.denied = 'q';
        if (out.response.empty())
            co_await send_error(client, fe, be, out.status, lg, out.local ? "LR--" : "PR--");
        else
            co_await send_reply(client, fe, std::move(out.response), out.status, lg, out.local ? "LR--" : "PR--");
        co_return false;
    default: { // silent-drop, reject: closed without a word
        std::copy_n("PR--", 4, lg.term);
        lg.denied = 'q';
        error_code ec;
        client.socket().shutdown(asio::socket_base::shutdown_both, ec);
        co_return false;
    }
    }
}

// A section's http-response rules on the response header in hand, with
// the body waits they ask for. True when the response goes on.
task<bool> server::impl::response_rules(const frontend_rt& fe, const backend_rt& be, const proxy_rules& r,
                                        client_stream& client, deadline_stream& srv, beast::flat_buffer& sbuf,
                                        http::response_parser<http::buffer_body, arena_allocator<char>>& rp,
                                        std::string& pending, rule_state& st, request_log& lg)
{
    auto& res = rp.get();
    view_response(st, res);
    rule_result out = run_response_rules(r, st, res);
    while (out.what == rule_outcome::wait_body) {
        const std::size_t want = out.at_least ? std::min<std::size_t>(out.at_least, rt.bufsize) : rt.bufsize;
        srv.expires_after(out.wait);
        error_code ec = co_await buffer_body(srv, sbuf, rp, pending, want);
        if (ec) {
            bool timeout = ec == beast::error::timeout;
            co_await send_error(client, fe, &be, timeout ? 504 : 502, lg, timeout ? "sH--" : "SH--");
            co_return false;
        }
        view_response(st, res);
        out = run_response_rules(r, st, res, out.next);
    }
    switch (out.what) {
    case rule_outcome::go_on:
        co_return true;
    case rule_outcome::reply:
        if (!out.local)
            lg.denied = 's';
        if (out.response.empty())
            co_await send_error(client, fe, &be, out.status, lg, out.local ? "LH--" : "PH--");
        else
            co_await send_reply(client, fe, std::move(out.response), out.status, lg, out.local ? "LH--" : "PH--");
        co_return false;
    default: {
        std::copy_n("PH--", 4, lg.term);
        lg.denied = 's';
        error_code ec;
        client.socket().shutdown(asio::socket_base::shutdown_both, ec);
        co_return false;
    }
    }
}

// mode tcp: the connection relayed as it is to a server of the frontend's
// backend (its slots and queue as in HTTP), under 'timeout client' and
// 'timeout server' (or 'timeout tunnel'), one log line when it ends.
task<void> server::impl::tcp_session(worker& w, const frontend_rt& fe, const peer_info& peer, client_stream& client)
{
    request_log lg;
    lg.accept_date = std::chrono::system_clock::now();
    lg.start = clock::now();
    lg.backend = fe.name;
    error_code ec;
    // use_backend conditions on what a connection has: its addresses
    // (request-content fetches wait for tcp-request inspect-delay, not built).
    int chosen = fe.default_backend;
    if (fe.rules && !fe.rules->use_backends.empty()) {
        auto st = make_rule_state(w, peer, client);
        if (int k = choose_backend(*fe.rules, *st); k >= 0)
            chosen = fe.use_backend[static_cast<std::size_t>(k)];
    }
    if (chosen < 0) {
        std::copy_n("SC--", 4, lg.term);
        finish(w, fe, peer, lg);
        co_return;
    }
    const auto bi = static_cast<std::size_t>(chosen);
    const backend_rt& be = rt.backends[bi];
    lg.backend = be.name;
    lg.backend_index = chosen;
    const std::size_t si = co_await acquire_server(w, bi, be, peer, client.get_executor(), lg);
    if (si >= be.servers.size()) {
        std::copy_n(si == be.servers.size() ? "SC--" : "sQ--", 4, lg.term);
        finish(w, fe, peer, lg);
        co_return;
    }
    const server_rt& srv_rt = be.servers[si];
    lg.server = srv_rt.name;
    lg.server_index = static_cast<int>(srv_rt.health);
    slot_hold hold{*this, bi, si, be};

    deadline_stream srv(client.get_executor());
    ec = co_await connect_server(srv, be, srv_rt, lg);
    if (ec) {
        std::copy_n(ec == beast::error::timeout ? "sC--" : "SC--", 4, lg.term);
        finish(w, fe, peer, lg);
        co_return;
    }
    beast::flat_buffer none_in, none_back;
    auto up = std::make_unique_for_overwrite<char[]>(chunk_size);
    auto down = std::make_unique_for_overwrite<char[]>(chunk_size);
    co_await tunnel(client, none_in, srv, none_back,
                    tunnel_limits(fe, be),
                    {up.get(), chunk_size}, {down.get(), chunk_size}, lg);
    srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
    client.socket().shutdown(asio::socket_base::shutdown_both, ec);
    finish(w, fe, peer, lg);
}

// Waits `d`; false when the wait was cancelled (the proxy stops).
static task<bool> pause_for(steady_timer& t, std::chrono::milliseconds d)
{
    error_code ec;
    t.expires_after(d);
    co_await t.async_wait(with_ec(ec));
    co_return !ec;
}

task<void> server::impl::accept_loop(worker& w, stream_acceptor& acc, const frontend_rt& fe)
{
    steady_timer pause(w.io);
    for (;;) {
        error_code ec;
        // At maxconn (global or this frontend's) new connections wait, as in
        // HAProxy, until one here closes: in the kernel's backlog, and at
        // most one per listener accepted but not served. The place is taken
        // before the session runs, so two threads cannot both take the last.
        // (No co_await inside && here: GCC 12 evaluates it even when the
        // left side is false.)
        while (full(fe))
            if (!co_await pause_for(pause, std::chrono::milliseconds(5)))
                co_return;
        socket_type s = co_await acc.async_accept(with_ec(ec));
        if (ec == asio::error::operation_aborted)
            co_return;
        if (ec) { // out of file descriptors, say: back off instead of spinning
            pause.expires_after(std::chrono::milliseconds(100));
            co_await pause.async_wait(with_ec(ec));
            continue;
        }
        while (!reserve_connection(fe))
            if (!co_await pause_for(pause, std::chrono::milliseconds(5)))
                co_return;
        asio::co_spawn(w.io, session(w, fe, std::move(s)), asio::detached);
    }
}

// A server of backend bi with a slot taken for this request: at once, or
// after waiting in the backend's queue up to 'timeout queue' (lg.t_queue
// says how long). Returns be.servers.size() when none is up, `queued` when
// the wait ran out.
task<std::size_t> server::impl::acquire_server(worker& w, std::size_t bi, const backend_rt& be,
                                               const peer_info& peer, executor ex, request_log& lg)
{
    std::size_t srv_index = pick_server(w, bi, be, peer);
    if (srv_index != queued) {
        lg.t_queue = srv_index < be.servers.size() ? 0 : -1;
        co_return srv_index;
    }
    // Every server up is full: wait in line.
    auto queue_start = clock::now();
    auto wt = std::make_shared<waiter>(ex);
    auto& q = queues[bi];
    {
        std::lock_guard lock(q.m);
        // In line before looking again, so that a slot freed meanwhile is
        // either seen here or handed to us by release_slot.
        q.length.fetch_add(1);
        srv_index = pick_server(w, bi, be, peer);
        if (srv_index == queued)
            q.waiting.push_back(wt);
        else
            q.length.fetch_sub(1);
    }
    if (srv_index == queued) {
        error_code ec;
        wt->timer.expires_after(be.queue);
        co_await wt->timer.async_wait(with_ec(ec));
        {
            std::lock_guard lock(q.m);
            if (wt->server == SIZE_MAX) { // not served in time: leave the line
                std::erase(q.waiting, wt);
                q.length.fetch_sub(1);
            }
        }
        srv_index = wt->server == SIZE_MAX ? queued : wt->server;
    }
    lg.t_queue = elapsed_ms(queue_start);
    co_return srv_index;
}

bool server::impl::take_slot(const server_rt& s)
{
    auto& n = active[s.health];
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

// Frees the slot of server si; if requests wait, the first in line takes it
// over (the slot never goes back to the pool in between) and is woken on
// its own thread.
void server::impl::release_slot(std::size_t bi, const backend_rt& be, std::size_t si)
{
    active[be.servers[si].health].fetch_sub(1);
    auto& q = queues[bi];
    if (q.length.load() == 0 || stopped) // stopped: the waiters' threads are gone
        return;
    std::lock_guard lock(q.m);
    if (q.waiting.empty() || !is_up(be.servers[si]) || !take_slot(be.servers[si]))
        return;
    auto wt = std::move(q.waiting.front());
    q.waiting.pop_front();
    q.length.fetch_sub(1);
    wt->server = si;
    asio::post(wt->timer.get_executor(), [wt] { wt->timer.cancel(); });
}

// The server for a request, among those up with a free slot, its slot
// taken: smooth weighted round robin (per thread, as nginx does it),
// leastconn (fewest requests in progress, ties in round-robin order) or
// source (a hash of the client address over the servers up). Returns
// be.servers.size() when none is up, `queued` when every server up is full.
std::size_t server::impl::pick_server(worker& w, std::size_t bi, const backend_rt& be, const peer_info& peer)
{
    const std::size_t n = be.servers.size();
    auto has_room = [&](const server_rt& s) {
        return s.maxconn == 0 || active[s.health].load(std::memory_order_relaxed) < s.maxconn;
    };
    if (be.algo == balance_algo::source) {
        // The hash picks the k-th server up: two passes over the servers,
        // no list of them, no bound on their number.
        std::size_t count = 0;
        for (const auto& sv : be.servers)
            count += is_up(sv);
        if (count == 0)
            return n;
        std::uint64_t h = 1469598103934665603ull; // FNV-1a over the address bytes
        for (std::size_t k = 0; k < peer.len; ++k)
            h = (h ^ peer.bytes[k]) * 1099511628211ull;
        std::size_t left = h % count, i = 0;
        for (; i < n; ++i)
            if (is_up(be.servers[i]) && left-- == 0)
                break;
        if (i == n) // a server went down between the passes (the checker runs on thread 0)
            return queued;
        return take_slot(be.servers[i]) ? i : queued; // the client's server, or its turn
    }
    bool any_up = false;
    for (int attempt = 0; attempt < 4; ++attempt) { // another thread may take the slot first
        std::size_t best = n;
        if (be.algo == balance_algo::roundrobin) {
            auto& cur = w.rr_weight[bi];
            int total = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const auto& s = be.servers[i];
                if (s.weight == 0 || !is_up(s))
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
            std::size_t start = w.rr[bi]++;
            for (std::size_t k = 0; k < n; ++k) {
                std::size_t i = (start + k) % n;
                const auto& s = be.servers[i];
                if (!is_up(s))
                    continue;
                any_up = true;
                if (has_room(s) && (best == n || active[s.health].load(std::memory_order_relaxed) <
                                                     active[be.servers[best].health].load(std::memory_order_relaxed)))
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

bool server::impl::full(const frontend_rt& fe) const
{
    const auto& here = feconn[static_cast<std::size_t>(&fe - rt.frontends.data())];
    return (rt.maxconn > 0 && actconn.load(std::memory_order_relaxed) >= rt.maxconn) ||
           (fe.maxconn > 0 && here.load(std::memory_order_relaxed) >= fe.maxconn);
}

bool server::impl::reserve_connection(const frontend_rt& fe)
{
    auto& here = feconn[static_cast<std::size_t>(&fe - rt.frontends.data())];
    int all = actconn.fetch_add(1) + 1;
    int mine = here.fetch_add(1) + 1;
    if ((rt.maxconn > 0 && all > rt.maxconn) || (fe.maxconn > 0 && mine > fe.maxconn)) {
        actconn.fetch_sub(1);
        here.fetch_sub(1);
        return false;
    }
    return true;
}

// An HTTP check on a connected probe: sends the request, reads the status
// line. A 2xx or 3xx passes (returns ""); anything else says why, in
// HAProxy's words.
static task<std::string> http_check(deadline_stream& probe, const std::string& request)
{
    error_code ec;
    co_await asio::async_write(probe, asio::buffer(request), with_ec(ec));
    std::string got;
    std::size_t line_end = 0;
    probe.classify(ec);
    if (!ec) {
        line_end = co_await asio::async_read_until(probe, asio::dynamic_buffer(got, 1024), "\n", with_ec(ec));
        probe.classify(ec);
    }
    if (ec == beast::error::timeout)
        co_return "Layer7 timeout, info: \"no response in time\"";
    if (ec)
        co_return fmt::format("Layer7 invalid response, info: \"{}\"", ec.message());
    auto st = parse_status_line(std::string_view(got).substr(0, line_end - 1));
    if (!st)
        co_return "Layer7 invalid response, info: \"not an HTTP status line\"";
    if (st->code < 200 || st->code >= 400)
        co_return fmt::format("Layer7 wrong status, code: {}, info: \"{}\"", st->code, st->reason);
    co_return "";
}

// A health check: a connection attempt every `inter` (then, with option
// httpchk, a request whose status must be 2xx or 3xx); `fall` failures
// in a row mark the server DOWN, `rise` successes UP again, said on stderr
// as HAProxy does.
task<void> server::impl::health_check(worker& w, const backend_rt& be, const server_rt& s)
{
    int successes = 0, failures = 0;
    proxy::ms limit = be.check ? *be.check : std::min(be.connect, s.inter);
    steady_timer pause(w.io);
    for (;;) {
        error_code ec;
        auto started = clock::now();
        std::string why; // HAProxy's "reason: ..., info: ..." of a failed check
        {
            deadline_stream probe(w.io.get_executor());
            probe.expires_after(limit);
            co_await probe.async_connect(s.ep, with_ec(ec));
            probe.classify(ec);
            if (ec)
                why = fmt::format("Layer4 {}, info: \"{}\"",
                                  ec == beast::error::timeout ? "timeout" : "connection problem", ec.message());
            else if (!be.httpchk.empty())
                why = co_await http_check(probe, be.httpchk);
        } // the probe connection closes here
        long took = elapsed_ms(started);
        bool ok = why.empty();
        if (ok) {
            ++successes;
            failures = 0;
        } else {
            ++failures;
            successes = 0;
        }
        bool was_up = is_up(s);
        if (was_up && failures >= s.fall) {
            up[s.health].store(false, std::memory_order_relaxed);
            std::size_t left = 0;
            for (const auto& o : be.servers)
                left += is_up(o);
            std::fprintf(stderr,
                         "[WARNING] Server %s/%s is DOWN, reason: %s, check duration: %ldms. "
                         "%zu active servers left.\n",
                         be.name.c_str(), s.name.c_str(), why.c_str(), took, left);
        } else if (!was_up && successes >= s.rise) {
            up[s.health].store(true, std::memory_order_relaxed);
            std::fprintf(stderr, "[WARNING] Server %s/%s is UP, reason: %s check passed, check duration: %ldms.\n",
                         be.name.c_str(), s.name.c_str(), be.httpchk.empty() ? "Layer4" : "Layer7", took);
        }
        pause.expires_at(started + s.inter);
        co_await pause.async_wait(with_ec(ec));
        if (ec)
            co_return;
    }
}

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() { stop(); }

result<std::unique_ptr<server>> server::start(runtime rt, std::FILE* log)
{
    auto im = std::make_unique<impl>();
    im->rt = std::move(rt);
    im->log = log;
    // Each proxied connection needs two descriptors (client, server) and the
    // idle pools keep some: take the hard limit, and derive maxconn from it
    // when the config gives none, as HAProxy does.
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    const long reserve = 100 + static_cast<long>(im->rt.threads * im->rt.servers * 4);
    const long fit = std::max(1L, (static_cast<long>(std::min<rlim_t>(nofile.rlim_cur, 1'000'000)) - reserve) / 2);
    if (im->rt.maxconn == 0)
        im->rt.maxconn = static_cast<int>(fit);
    else if (im->rt.maxconn > fit)
        std::fprintf(stderr,
                     "[WARNING] maxconn %d needs more file descriptors than the limit (%lu) allows: connections "
                     "beyond about %ld will fail to open\n",
                     im->rt.maxconn, static_cast<unsigned long>(nofile.rlim_cur), fit);
    for (int t = 0; t < im->rt.threads; ++t) {
        auto w = std::make_unique<worker>();
        w->rr.assign(im->rt.backends.size(), static_cast<std::size_t>(t)); // threads start apart
        w->fe_count = std::make_unique<fe_counters[]>(im->rt.frontends.size());
        w->be_count = std::make_unique<be_counters[]>(im->rt.backends.size());
        w->srv_count = std::make_unique<srv_counters[]>(im->rt.servers);
        for (const auto& be : im->rt.backends) {
            w->idle.emplace_back(be.servers.size());
            w->rr_weight.emplace_back(be.servers.size(), 0);
        }
        for (const auto& fe : im->rt.frontends)
            for (const auto& b : fe.binds) {
                const int family = b.ep.protocol().family();
                const bool ip = family == AF_INET || family == AF_INET6;
                if (!ip && t > 0) // a unix socket has one listener, on thread 0
                    continue;
                stream_acceptor acc(w->io);
                error_code ec;
                if (!b.path.empty()) { // a socket file left by an earlier run is replaced; any other file is not
                    struct stat st {};
                    if (::lstat(b.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
                        ::unlink(b.path.c_str());
                }
                acc.open(b.ep.protocol(), ec);
                if (!ec && ip)
                    acc.set_option(asio::socket_base::reuse_address(true), ec);
                if (!ec && ip)
                    acc.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
                if (!ec && family == AF_INET6)
                    acc.set_option(asio::detail::socket_option::boolean<IPPROTO_IPV6, IPV6_V6ONLY>(false), ec);
                if (!ec)
                    acc.bind(b.ep, ec);
                if (!ec)
                    acc.listen(asio::socket_base::max_listen_connections, ec);
                if (ec)
                    return fail(fmt::format("frontend '{}': cannot bind {}: {}", fe.name, b.where, ec.message()));
                w->listeners.emplace_back(std::move(acc), &fe);
            }
        for (const auto& fe : im->rt.frontends)
            if (fe.rules)
                fe.rules->acls.prepare_scratch(w->scratch);
        for (const auto& be : im->rt.backends)
            if (be.rules)
                be.rules->acls.prepare_scratch(w->scratch);
        im->workers.push_back(std::move(w));
    }
    im->up = std::make_unique<std::atomic<bool>[]>(im->rt.servers);
    im->active = std::make_unique<std::atomic<int>[]>(im->rt.servers);
    for (std::size_t i = 0; i < im->rt.servers; ++i) {
        im->up[i].store(true);
        im->active[i].store(0);
    }
    im->queues = std::make_unique<backend_queue[]>(im->rt.backends.size());
    im->feconn = std::make_unique<std::atomic<int>[]>(im->rt.frontends.size());
    for (std::size_t i = 0; i < im->rt.frontends.size(); ++i)
        im->feconn[i].store(0);
    for (const auto& be : im->rt.backends) // the checks run on thread 0
        for (const auto& sv : be.servers)
            if (sv.check)
                asio::co_spawn(im->workers[0]->io, im->health_check(*im->workers[0], be, sv), asio::detached);
    for (auto& w : im->workers) {
        for (auto& [acc, fe] : w->listeners)
            asio::co_spawn(w->io, im->accept_loop(*w, acc, *fe), asio::detached);
        worker* wp = w.get();
        w->thread = std::thread([wp] { wp->io.run(); });
    }
    return std::unique_ptr<server>(new server(std::move(im)));
}

void server::stop()
{
    if (!impl_ || impl_->stopped)
        return;
    impl_->stopped = true;
    for (auto& w : impl_->workers)
        w->io.stop();
    for (auto& w : impl_->workers)
        if (w->thread.joinable())
            w->thread.join();
}

int server::maxconn() const { return impl_->rt.maxconn; }

namespace {

void sum_traffic(server::traffic& into, const traffic_counters& c)
{
    into.requests += c.requests.get();
    into.bytes_out += c.bytes_out.get();
    for (std::size_t i = 0; i < std::size(into.status); ++i)
        into.status[i] += c.status[i].get();
}

} // namespace

server::stats server::read_stats() const
{
    const auto& rt = impl_->rt;
    stats out;
    for (std::size_t i = 0; i < rt.frontends.size(); ++i) {
        frontend_stats f;
        f.name = rt.frontends[i].name;
        for (const auto& w : impl_->workers) {
            f.connections += w->fe_count[i].connections.get();
            f.request_errors += w->fe_count[i].request_errors.get();
            f.denied_connections += w->fe_count[i].denied_connections.get();
            f.denied_requests += w->fe_count[i].denied_requests.get();
            f.denied_responses += w->fe_count[i].denied_responses.get();
            sum_traffic(f.t, w->fe_count[i].t);
        }
        out.frontends.push_back(std::move(f));
    }
    for (std::size_t i = 0; i < rt.backends.size(); ++i) {
        const auto& be = rt.backends[i];
        backend_stats b;
        b.name = be.name;
        for (const auto& w : impl_->workers) {
            const auto& c = w->be_count[i];
            b.connect_errors += c.connect_errors.get();
            b.response_errors += c.response_errors.get();
            b.queue_timeouts += c.queue_timeouts.get();
            b.no_server += c.no_server.get();
            sum_traffic(b.t, c.t);
        }
        for (const auto& sv : be.servers) {
            server_stats ss;
            ss.name = be.name + "/" + sv.name;
            for (const auto& w : impl_->workers) {
                const auto& c = w->srv_count[sv.health];
                ss.connect_errors += c.connect_errors.get();
                ss.response_errors += c.response_errors.get();
                sum_traffic(ss.t, c.t);
            }
            b.servers.push_back(std::move(ss));
        }
        out.backends.push_back(std::move(b));
    }
    std::vector<const proxy_rules*> seen; // a listen's frontend and backend share one set
    auto add_rules = [&](const std::shared_ptr<const proxy_rules>& r) {
        if (!r || std::find(seen.begin(), seen.end(), r.get()) != seen.end())
            return;
        seen.push_back(r.get());
        for (const auto* list : {&r->tcp, &r->req, &r->res})
            for (const auto& rule : *list)
                out.rules.push_back({r->name, rule.at, rule.what, rule.hits->load(std::memory_order_relaxed)});
    };
    for (const auto& fe : rt.frontends)
        add_rules(fe.rules);
    for (const auto& be : rt.backends)
        add_rules(be.rules);
    return out;
}

std::vector<std::string> server::listening() const
{
    std::vector<std::string> out;
    for (const auto& fe : impl_->rt.frontends)
        for (const auto& b : fe.binds)
            out.push_back(fmt::format("frontend '{}' on {}", fe.name, b.where));
    return out;
}

} // namespace bulwark::proxy
