// SPDX-License-Identifier: Apache-2.0
// The HTTP session's phases (see http_session.hpp). It reads a request
// (headers, and the body up to tune.bufsize with http-buffer-request) under
// 'timeout http-request', contacts the server only then, streams the rest
// of the body and the response through fixed chunks, and loops for
// keep-alive.
#include "proxy/http_session.hpp"

#include "proxy/http_policy.hpp"
#include "proxy/relay.hpp"
#include "proxy/session.hpp"
#include "proxy/tunnel.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <limits>
#include <tuple>

namespace bulwark::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

template <class Stream>
http_session<Stream>::http_session(server::impl& im, worker& w, const frontend_rt& fe, const peer_info& peer,
                                   Stream& client, std::unique_ptr<rule_state>& rules)
    : im_(im), w_(w), fe_(fe), peer_(peer), client_(client), rules_(rules)
{
    // Every read of either side goes through these two buffers, so no
    // read holds more than tune.bufsize: a chunk-size line, extension or
    // trailer section longer than that is Beast's buffer_overflow (400
    // from the client, 502 from the server), as it is HAProxy's 400/502.
    cbuf_.max_size(im_.rt.bufsize);
    sbuf_.max_size(im_.rt.bufsize);
}

namespace {

// A parse error of Beast's (not an end of stream or an I/O error): the
// peer sent bytes that are not HTTP.
bool parse_error(const error_code& ec)
{
    return ec.category() == make_error_code(http::error::bad_chunk).category() && ec != http::error::end_of_stream &&
           ec != http::error::partial_message;
}

// HAProxy 2.6's HTTP errors (stream_inc_http_err_ctr in src/http_ana.c
// and http_act.c): a request a rule refuses (deny, tarpit, reject, with
// whatever status), a request head or body that is invalid, cut or late
// (400, 408), and any 4xx the server answers, 401 and 407 included; not
// an 'http-request return' (LR--), whatever its status.
bool http_error(const request_log& lg)
{
    if (lg.denied == 'q')
        return true;
    return lg.status >= 400 && lg.status < 500 && lg.term[0] != 'L';
}

} // namespace

template <class Stream>
void http_session<Stream>::finish(const txn& t)
{
    deadline_stream& d = deadline_of(client_);
    if (rules_ && rules_->trk.tracking()) {
        track_state& trk = rules_->trk;
        trk.now = stick_now();
        const bool err = http_error(t.lg);
        if (err && !t.counted)
            trk.count_request(); // an invalid or late request counts as one too (HAProxy)
        trk.end_request(d.bytes_read() - in_mark_, d.bytes_written() - out_mark_, err);
        trk.untrack_requests(trk.now); // an http-request track-sc lasts one request, as in HAProxy
    }
    in_mark_ = d.bytes_read();
    out_mark_ = d.bytes_written();
    im_.finish(w_, fe_, peer_, t.lg);
}

template <class Stream>
task<void> http_session<Stream>::run()
{
    for (bool first = true;; first = false) {
        txn t;
        // One phase after the other, each its own statement: GCC 12 can
        // evaluate a co_await on the right of || when the left is true.
        if (!co_await read_head(t, first))
            co_return;
        if (!co_await route(t))
            co_return;
        if (!co_await exchange(t))
            co_return;
        if (!co_await respond(t))
            co_return;
    }
}

// The head: 'timeout http-request' from the connection's start for the
// first request; between two requests 'timeout http-keep-alive' until a
// byte of the next one, then 'timeout http-request' from it.
template <class Stream>
task<bool> http_session<Stream>::read_head(txn& t, bool first)
{
    auto& lg = t.lg;
    lg.accept_date = std::chrono::system_clock::now();
    lg.start = clock::now();
    lg.backend = fe_.name; // until a backend is chosen, as HAProxy logs it
    auto& rd = t.rd.emplace(reader_limits{im_.rt.bufsize, im_.rt.maxhdr}, &fields_mem_);
    deadline_stream& d = deadline_of(client_);
    d.expires_at(lg.start + (first ? fe_.http_request : fe_.http_keep_alive));
    bool timing = first;
    head_state st;
    while ((st = rd.feed(cbuf_)) == head_state::need_more) {
        if (rd.started() && !timing) {
            timing = true;
            lg.accept_date = std::chrono::system_clock::now();
            lg.start = clock::now();
            d.expires_at(lg.start + fe_.http_request);
        }
        // The reader refuses a head once tune.bufsize is held, so there
        // is always room for a byte more. The buffer grows with the head
        // (from first_head_read), not to tune.bufsize at once: a slow
        // client's connection then holds only about what it sent.
        const std::size_t room = cbuf_.capacity() - cbuf_.size();
        const std::size_t want = std::min(im_.rt.bufsize - cbuf_.size(), std::max(room, first_head_read));
        error_code ec;
        std::size_t n = co_await client_.async_read_some(cbuf_.prepare(want), with_ec(ec));
        d.classify(ec);
        if (ec) {
            if (!rd.started()) {
                // HAProxy answers 408 here too, unless told these are a
                // browser's pre-connections (http-ignore-probes).
                if (ec == beast::error::timeout && first && !fe_.ignore_probes) {
                    co_await send_error(nullptr, 408, lg, "cR--");
                    lg.null_connection = true;
                    finish(t);
                }
                co_return false; // an idle keep-alive connection just closes
            }
            if (ec == beast::error::timeout) {
                co_await send_error(nullptr, 408, lg, "cR--");
            } else { // HAProxy logs an aborted head as 400, though nothing is sent
                lg.ended("CR--");
                lg.status = 400;
            }
            finish(t);
            co_return false;
        }
        cbuf_.commit(n);
    }
    if (st == head_state::error) {
        co_await send_error(nullptr, rd.status(), lg, "PR--");
        finish(t);
        co_return false;
    }
    if (!timing) // the whole head was already here (pipelined)
        d.expires_at(lg.start + fe_.http_request);
    auto& p = rd.parser();
    auto& req = p.get();
    auto sv = [](beast::string_view v) { return std::string_view(v.data(), v.size()); };
    if (im_.log && fe_.httplog) // only a log line needs it
        lg.line = fmt::format("{} {} HTTP/{}.{}", sv(req.method_string()), sv(req.target()), req.version() / 10,
                              req.version() % 10);
    t.client_keep_alive = p.keep_alive();
    co_return true;
}

template <class Stream>
int http_session<Stream>::switch_backend(txn& t)
{
    if (!fe_.rules || fe_.rules->use_backends.empty())
        return fe_.default_backend;
    rule_state& st = rules();
    view_request(st, t.rd->parser().get(), t.pending);
    int k = choose_backend(*fe_.rules, st);
    return k >= 0 ? fe_.use_backend[static_cast<std::size_t>(k)] : fe_.default_backend;
}

// The backend: option http-buffer-request first (the body too, up to
// tune.bufsize, still under 'timeout http-request', before the server hears
// of it), then the frontend's captures and http-request rules, its
// use_backend rules, then the chosen backend's http-request rules
// (HAProxy's order).
template <class Stream>
task<bool> http_session<Stream>::route(txn& t)
{
    auto& lg = t.lg;
    auto& p = t.rd->parser();
    if (fe_.buffer_request) {
        error_code ec = co_await buffer_body(client_, cbuf_, p, t.pending, im_.rt.bufsize);
        if (ec) {
            if (ec == beast::error::timeout) {
                co_await send_error(nullptr, 408, lg, "cD--");
            } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
                       ec != asio::error::eof && ec != asio::error::connection_reset) {
                co_await send_error(nullptr, 400, lg, "PD--");
            } else {
                // As HAProxy (reg-test http_request_buffer, c4): the
                // request goes on to its backend, which finds the
                // client gone before choosing a server.
                lg.ended("CR--");
                lg.t_request = elapsed_ms(lg.start);
                if (int b = switch_backend(t); b >= 0)
                    lg.backend = im_.rt.backends[static_cast<std::size_t>(b)].name;
            }
            finish(t);
            co_return false;
        }
    }
    lg.t_request = elapsed_ms(lg.start);

    // What earlier rules of the connection track (the frontend's, or a
    // backend's when the frontend has no rules) counts this request.
    if (rules_)
        count_tracked_request(*rules_);
    t.counted = true;
    int chosen = fe_.default_backend;
    if (fe_.rules) {
        rule_state& st = rules();
        // Header captures are taken as the request came (HAProxy captures
        // before any rule rewrites), 'http-request capture' slots by the rules.
        const bool captures = !fe_.rules->req_captures.empty();
        if (captures) {
            for (auto& c : st.captured)
                c.clear();
            capture_headers(*fe_.rules, p.get(), true, st.captured);
        }
        if (!fe_.rules->res_captures.empty())
            lg.cap_res = captures_text(*fe_.rules, {}, false);
        const bool go_on = fe_.rules->req.empty() || co_await request_rules(t, nullptr, *fe_.rules);
        if (captures)
            lg.cap_req = format_captures(st.captured);
        if (!go_on) {
            finish(t);
            co_return false;
        }
        chosen = switch_backend(t);
    }
    if (chosen < 0) {
        co_await send_error(nullptr, 503, lg, "SC--");
        finish(t);
        co_return false;
    }
    t.bi = static_cast<std::size_t>(chosen);
    t.be = &im_.rt.backends[t.bi];
    lg.backend = t.be->name;
    lg.backend_index = chosen;
    if (t.be->rules && t.be->rules != fe_.rules && !t.be->rules->req.empty() &&
        !co_await request_rules(t, t.be, *t.be->rules)) {
        finish(t);
        co_return false;
    }
    co_return true;
}

// A server slot, then the request to the server and the response's head
// back: on an idle connection when there is one (once more on a new
// connection when it turns out closed under us), else on a new one.
template <class Stream>
task<bool> http_session<Stream>::exchange(txn& t)
{
    auto& lg = t.lg;
    const backend_rt& be = *t.be;
    t.si = co_await acquire_server(*im_.pool, w_.balance[t.bi], t.bi, be, peer_, client_.get_executor(), lg,
                                   &deadline_of(client_).socket());
    if (t.si == client_gone) { // option abortonclose: nothing to answer
        lg.ended("CQ--");
        finish(t);
        co_return false;
    }
    if (t.si >= be.servers.size()) { // none up, the queue full, or none free within 'timeout queue'
        co_await send_error(&be, 503, lg, t.si == be.servers.size() ? "SC--" : t.si == queue_full ? "SQ--" : "sQ--");
        finish(t);
        co_return false;
    }
    const server_rt& srv_rt = be.servers[t.si];
    lg.server = srv_rt.name;
    lg.server_index = static_cast<int>(srv_rt.health);
    t.hold.emplace(*im_.pool, t.bi, t.si, be);

    auto& p = t.rd->parser();
    auto& req = p.get();
    t.retryable = p.is_done();
    t.server_close = closes_server_side(fe_, be);
    t.upgrade = p.upgrade(); // left as it is
    if (!t.upgrade)
        req.keep_alive(!t.server_close);
    if (const auto& xff = forwardfor_of(fe_, be); adds_forwardfor(xff, peer_, req))
        req.insert(xff.header, peer_.addr);
    for (int n = 0;; ++n) {
        bool reused = false;
        attempt a = co_await open_server(t, n, reused);
        if (a == attempt::ok)
            a = co_await send_request(t, n, reused);
        if (a == attempt::ok)
            a = co_await read_response_head(t, n, reused);
        if (a == attempt::ended)
            co_return false;
        if (a == attempt::ok)
            break;
    }
    lg.t_response = elapsed_ms(t.response_start);
    co_return true;
}

// The newest idle connection to the server still open, else a new one.
template <class Stream>
task<typename http_session<Stream>::attempt> http_session<Stream>::open_server(txn& t, int n, bool& reused)
{
    auto& pool = w_.idle[t.bi][t.si];
    t.srv.reset();
    while (!pool.empty() && n == 0) {
        std::unique_ptr<deadline_stream> idle = std::move(pool.back());
        pool.pop_back();
        // A request that can be sent again skips the peek (a syscall per
        // request): a connection closed under us fails the write or reads
        // EOF with nothing, and the retry takes a new one.
        if (t.retryable || still_open(idle->socket())) {
            t.srv = std::move(idle);
            reused = true;
            break;
        }
    }
    if (t.srv) {
        t.lg.t_connect = 0;
        co_return attempt::ok;
    }
    t.srv = std::make_unique<deadline_stream>(client_.get_executor());
    error_code ec = co_await connect_retrying(*t.srv, *im_.pool, w_.balance[t.bi], *t.be, peer_, t.hold, t.lg,
                                              &deadline_of(client_).socket());
    t.si = t.hold->si; // a redispatch moved it
    if (ec == asio::error::operation_aborted) { // option abortonclose: the client left
        t.lg.ended("CC--");
        finish(t);
        co_return attempt::ended;
    }
    if (ec) {
        co_await send_error(t.be, 503, t.lg, ec == beast::error::timeout ? "sC--" : "SC--");
        finish(t);
        co_return attempt::ended;
    }
    co_return attempt::ok;
}

// The request's head and body to the server.
template <class Stream>
task<typename http_session<Stream>::attempt> http_session<Stream>::send_request(txn& t, int n, bool reused)
{
    auto& lg = t.lg;
    auto& p = t.rd->parser();
    http::serializer<true, http::buffer_body, fields_type> req_sr{p.get()};
    std::uint64_t req_bytes = 0;
    auto [ec, from_client] = co_await relay_message(client_, cbuf_, p, *t.srv, req_sr, fe_.client, t.be->server,
                                                    t.pending, req_bytes, chunk(), head_);
    if (ec && from_client && parse_error(ec)) { // a bad chunk, an over-long chunk line or trailer
        co_await send_error(t.be, 400, lg, "PD--");
        finish(t);
        co_return attempt::ended;
    }
    if (ec && from_client) {
        lg.ended(ec == beast::error::timeout ? "cD--" : "CD--");
        if (ec == beast::error::timeout)
            co_await send_error(t.be, 408, lg, "cD--");
        finish(t);
        co_return attempt::ended;
    }
    if (ec && reused && t.retryable && n == 0)
        co_return attempt::retry; // the idle connection was gone: once more on a new one
    if (ec) {
        co_await send_error(t.be, 502, lg, "SH--");
        finish(t);
        co_return attempt::ended;
    }
    co_return attempt::ok;
}

// The response's head, after any 1xx interim responses (relayed as they come).
template <class Stream>
task<typename http_session<Stream>::attempt> http_session<Stream>::read_response_head(txn& t, int n, bool reused)
{
    auto& lg = t.lg;
    deadline_stream& srv = *t.srv;
    const bool head_request = t.rd->parser().get().method() == http::verb::head;
    sbuf_.clear();
    t.response_start = clock::now();
    t.res_trailers = {&sbuf_, im_.rt.maxhdr};
    for (int relayed = 0;; ++relayed) {
        auto& rp = t.rp.emplace(std::piecewise_construct, std::make_tuple(),
                                std::make_tuple(arena_allocator<char>(&fields_mem_)));
        rp.header_limit(static_cast<std::uint32_t>(im_.rt.bufsize));
        rp.body_limit(std::numeric_limits<std::uint64_t>::max());
        rp.on_chunk_header(t.res_trailers);
        if (head_request)
            rp.skip(true);
        error_code ec;
        srv.expires_after(t.be->server);
        co_await http::async_read_header(srv, sbuf_, rp, with_ec(ec));
        srv.classify(ec);
        if (ec) {
            bool nothing_came = sbuf_.size() == 0 && ec != beast::error::timeout;
            if (nothing_came && reused && t.retryable && n == 0)
                co_return attempt::retry;
            co_await send_error(t.be, ec == beast::error::timeout ? 504 : 502, lg,
                                ec == beast::error::timeout ? "sH--" : "SH--");
            finish(t);
            co_return attempt::ended;
        }
        unsigned code = rp.get().result_int();
        if (code < 100 || code >= 200 || code == 101)
            co_return attempt::ok;
        if (relayed == max_interim_responses) { // a server looping on 1xx
            co_await send_error(t.be, 502, lg, "SH--");
            finish(t);
            co_return attempt::ended;
        }
        http::serializer<false, http::buffer_body, fields_type> interim{rp.get()};
        rp.get().body().data = nullptr;
        rp.get().body().more = false;
        deadline_of(client_).expires_after(fe_.client);
        co_await http::async_write(client_, interim, with_ec(ec));
        if (ec && ec != http::error::need_buffer)
            co_return attempt::ended; // the client is gone: no log line, as before
    }
}

// The response: the frontend's captures, the backend's http-response
// rules then the frontend's (HAProxy's order), then its body relayed to
// the client; the server connection back to the thread's idle pool when
// it can be. True when the client connection stays open.
template <class Stream>
task<bool> http_session<Stream>::respond(txn& t)
{
    auto& lg = t.lg;
    const backend_rt& be = *t.be;
    deadline_stream& srv = *t.srv;
    auto& rp = *t.rp;
    auto& res = rp.get();
    lg.status = static_cast<int>(res.result_int());
    error_code ec;
    if (lg.status == 101) {
        co_await switch_protocols(t);
        co_return false;
    }
    if (fe_.rules && !fe_.rules->res_captures.empty())
        lg.cap_res = captures_text(*fe_.rules, res, false);
    bool go_on = true;
    for (const proxy_rules* r : {be.rules.get(), fe_.rules != be.rules ? fe_.rules.get() : nullptr})
        if (go_on && r && !r->res.empty())
            go_on = co_await response_rules(t, *r);
    if (!go_on) {
        srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
        finish(t);
        co_return false;
    }
    const bool head_request = t.rd->parser().get().method() == http::verb::head;
    bool keep = keep_client_alive(
        t.client_keep_alive, {lg.status, rp.chunked(), rp.content_length().has_value(), head_request}, fe_, be);
    res.version(11); // as HAProxy: the client hears HTTP/1.1 whatever the server spoke
    res.keep_alive(keep);
    http::serializer<false, http::buffer_body, fields_type> res_sr{res};
    {
        auto [rec, from_server] = co_await relay_message(srv, sbuf_, rp, client_, res_sr, be.server, fe_.client,
                                                         t.res_pending, lg.bytes, chunk(), head_);
        if (rec) {
            lg.ended(from_server ? (rec == beast::error::timeout ? "sD--" : "SD--")
                                 : (rec == beast::error::timeout ? "cD--" : "CD--"));
            keep = false;
        }
    }
    // The server connection goes back to this thread's pool when the
    // exchange ended cleanly and the server keeps it open.
    auto& pool = w_.idle[t.bi][t.si];
    if (keep_server_alive(t.server_close, rp.keep_alive(), rp.is_done(), lg.term[0]) &&
        pool.size() < max_idle_per_server)
        pool.push_back(std::move(t.srv));
    else
        srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
    finish(t);
    if (!keep) {
        deadline_of(client_).socket().shutdown(asio::socket_base::shutdown_send, ec);
        co_return false;
    }
    co_return true;
}

// Protocol switched: the 101 to the client, then the connection becomes
// a tunnel until either side ends it. A 101 to a request that asked no
// upgrade is the server's error.
template <class Stream>
task<void> http_session<Stream>::switch_protocols(txn& t)
{
    auto& lg = t.lg;
    const backend_rt& be = *t.be;
    deadline_stream& srv = *t.srv;
    if (!t.upgrade) {
        co_await send_error(&be, 502, lg, "SH--");
        finish(t);
        co_return;
    }
    auto& res = t.rp->get();
    res.version(11);
    http::serializer<false, http::buffer_body, fields_type> sr{res};
    res.body().data = nullptr;
    res.body().more = false;
    error_code ec;
    deadline_of(client_).expires_after(fe_.client);
    co_await http::async_write(client_, sr, with_ec(ec));
    deadline_of(client_).classify(ec);
    if (ec == http::error::need_buffer)
        ec = {};
    if (ec) {
        lg.ended(ec == beast::error::timeout ? "cD--" : "CD--");
    } else {
        auto other = std::make_unique_for_overwrite<char[]>(chunk_size);
        co_await tunnel(client_, cbuf_, srv, sbuf_, tunnel_limits(fe_, be), chunk(), {other.get(), chunk_size}, lg);
    }
    srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
    deadline_of(client_).socket().shutdown(asio::socket_base::shutdown_both, ec);
    finish(t);
}

template <class Stream>
task<bool> http_session<Stream>::request_rules(txn& t, const backend_rt* be, const proxy_rules& r)
{
    auto& lg = t.lg;
    auto& p = t.rd->parser();
    auto& req = p.get();
    rule_state& st = rules();
    st.hits = im_.rule_hits(w_, fe_, be, r);
    view_request(st, req, t.pending);
    rule_result out = run_request_rules(r, st, req);
    while (out.what == rule_outcome::wait_body) {
        // wait-for-body: the body (or its first at-least bytes, within
        // tune.bufsize) within the time given, else 408.
        const std::size_t want = out.at_least ? std::min<std::size_t>(out.at_least, im_.rt.bufsize) : im_.rt.bufsize;
        deadline_of(client_).expires_after(out.wait);
        error_code ec = co_await buffer_body(client_, cbuf_, p, t.pending, want);
        if (ec == beast::error::timeout) {
            co_await send_error(be, 408, lg, "cR--");
            co_return false;
        }
        if (ec && parse_error(ec)) {
            co_await send_error(be, 400, lg, "PD--");
            co_return false;
        }
        if (ec) {
            lg.ended("CR--");
            lg.status = 400;
            co_return false;
        }
        deadline_of(client_).expires_after(fe_.client);
        view_request(st, req, t.pending);
        out = run_request_rules(r, st, req, out.next);
    }
    switch (out.what) {
    case rule_outcome::go_on:
        co_return true;
    case rule_outcome::tarpit: {
        // Held for 'timeout tarpit', then the error: an attacker's
        // connection stays busy doing nothing.
        steady_timer pause(client_.get_executor());
        pause.expires_after(out.wait);
        error_code ec;
        co_await pause.async_wait(with_ec(ec));
        lg.denied = 'q';
        if (out.response.empty())
            co_await send_error(be, out.status, lg, "PT--");
        else
            co_await send_reply(std::move(out.response), out.status, lg, "PT--");
        co_return false;
    }
    case rule_outcome::reply:
        if (!out.local)
            lg.denied = 'q';
        if (out.response.empty())
            co_await send_error(be, out.status, lg, out.local ? "LR--" : "PR--");
        else
            co_await send_reply(std::move(out.response), out.status, lg, out.local ? "LR--" : "PR--");
        co_return false;
    default: { // silent-drop, reject: closed without a word
        lg.ended("PR--");
        lg.denied = 'q';
        error_code ec;
        deadline_of(client_).socket().shutdown(asio::socket_base::shutdown_both, ec);
        co_return false;
    }
    }
}

template <class Stream>
task<bool> http_session<Stream>::response_rules(txn& t, const proxy_rules& r)
{
    auto& lg = t.lg;
    auto& rp = *t.rp;
    auto& res = rp.get();
    rule_state& st = rules();
    st.hits = im_.rule_hits(w_, fe_, t.be, r);
    view_response(st, res);
    rule_result out = run_response_rules(r, st, res);
    while (out.what == rule_outcome::wait_body) {
        const std::size_t want = out.at_least ? std::min<std::size_t>(out.at_least, im_.rt.bufsize) : im_.rt.bufsize;
        t.srv->expires_after(out.wait);
        error_code ec = co_await buffer_body(*t.srv, sbuf_, rp, t.res_pending, want);
        if (ec) {
            bool timeout = ec == beast::error::timeout;
            co_await send_error(t.be, timeout ? 504 : 502, lg, timeout ? "sH--" : "SH--");
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
            co_await send_error(t.be, out.status, lg, out.local ? "LH--" : "PH--");
        else
            co_await send_reply(std::move(out.response), out.status, lg, out.local ? "LH--" : "PH--");
        co_return false;
    default: {
        lg.ended("PH--");
        lg.denied = 's';
        error_code ec;
        deadline_of(client_).socket().shutdown(asio::socket_base::shutdown_both, ec);
        co_return false;
    }
    }
}

template <class Stream>
task<void> http_session<Stream>::send_error(const backend_rt* be, int status, request_log& lg, const char* term)
{
    co_await send_reply(error_page(fe_, be, status), status, lg, term);
}

template <class Stream>
task<void> http_session<Stream>::send_reply(std::string text, int status, request_log& lg, const char* term)
{
    lg.status = status;
    lg.bytes += text.size();
    lg.ended(term);
    error_code ec;
    deadline_of(client_).expires_after(fe_.client);
    co_await asio::async_write(client_, asio::buffer(text), with_ec(ec));
    deadline_of(client_).socket().shutdown(asio::socket_base::shutdown_send, ec);
}

template <class Stream>
rule_state& http_session<Stream>::rules()
{
    if (!rules_) {
        rules_ = make_rule_state(w_, peer_, client_);
        attach_tables(*rules_, fe_.table, fe_.sticks);
    }
    return *rules_;
}

template <class Stream>
std::span<char> http_session<Stream>::chunk()
{
    if (!chunk_mem_)
        chunk_mem_ = std::make_unique_for_overwrite<char[]>(chunk_size);
    return {chunk_mem_.get(), chunk_size};
}

template class http_session<deadline_stream>;

} // namespace bulwark::proxy
