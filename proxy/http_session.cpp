// SPDX-License-Identifier: Apache-2.0
// HTTP/1.1 sessions on Asio coroutines and Beast's parser. One coroutine per
// client connection: it reads a request (headers, and the body up to
// tune.bufsize with http-buffer-request) under 'timeout http-request',
// contacts the server only then, streams the rest of the body and the
// response through fixed chunks, and loops for keep-alive.
#include "proxy/http_session.hpp"

#include "proxy/http_errors.hpp"
#include "proxy/session.hpp"
#include "proxy/tunnel.hpp"
#include "proxy/upstream.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <limits>
#include <optional>
#include <tuple>

namespace bulwark::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

task<void> send_reply(server::impl& im, deadline_stream& client, const frontend_rt& fe, std::string text, int status,
                      request_log& lg, const char* term);

task<void> send_error(server::impl& im, deadline_stream& client, const frontend_rt& fe, const backend_rt* be,
                                               int status, request_log& lg, const char* term)
{
    std::string text;
    if (be && be->errorfiles.count(status))
        text = be->errorfiles.at(status);
    else if (fe.errorfiles.count(status))
        text = fe.errorfiles.at(status);
    else
        text = error_response(status);
    co_await send_reply(im, client, fe, std::move(text), status, lg, term);
}

// A reply bulwark makes itself (an error page, a rule's deny, return or
// redirect), then the end of the connection.
task<void> send_reply(server::impl&, deadline_stream& client, const frontend_rt& fe, std::string text, int status,
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

task<bool> request_rules(server::impl& im, const frontend_rt& fe, const backend_rt* be, const proxy_rules& r,
                         deadline_stream& client, beast::flat_buffer& cbuf, request_reader::parser_type& p,
                         std::string& pending, rule_state& st, request_log& lg);
task<bool> response_rules(server::impl& im, const frontend_rt& fe, const backend_rt& be, const proxy_rules& r,
                          deadline_stream& client, deadline_stream& srv, beast::flat_buffer& sbuf,
                          response_relay_parser& rp, std::string& pending, rule_state& st, request_log& lg);

} // namespace

task<void> http_session(server::impl& im, worker& w, const frontend_rt& fe, const peer_info& peer,
                        deadline_stream& client, std::unique_ptr<rule_state>& rules_mem)
{
    error_code ec;
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
    auto rules_of = [&]() -> rule_state& {
        if (!rules_mem)
            rules_mem = make_rule_state(w, peer, client);
        return *rules_mem;
    };

    for (bool first = true;; first = false) {
        request_log lg;
        lg.accept_date = std::chrono::system_clock::now();
        lg.start = clock::now();
        lg.backend = fe.name; // until a backend is chosen, as HAProxy logs it

        // The head: 'timeout http-request' from the connection's start for
        // the first request; between two requests 'timeout http-keep-alive'
        // until a byte of the next one, then 'timeout http-request' from it.
        request_reader rd({im.rt.bufsize, im.rt.maxhdr}, &fields_mem);
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
                co_await client.async_read_some(cbuf.prepare(im.rt.bufsize - cbuf.size()), with_ec(ec));
            client.classify(ec);
            if (ec) {
                if (!rd.started()) {
                    // HAProxy answers 408 here too, unless told these are a
                    // browser's pre-connections (http-ignore-probes).
                    if (ec == beast::error::timeout && first && !fe.ignore_probes) {
                        co_await send_error(im, client, fe, nullptr, 408, lg, "cR--");
                        lg.null_connection = true;
                        im.finish(w, fe, peer, lg);
                    }
                    co_return; // an idle keep-alive connection just closes
                }
                if (ec == beast::error::timeout) {
                    co_await send_error(im, client, fe, nullptr, 408, lg, "cR--");
                } else { // HAProxy logs an aborted head as 400, though nothing is sent
                    std::copy_n("CR--", 4, lg.term);
                    lg.status = 400;
                }
                im.finish(w, fe, peer, lg);
                co_return;
            }
            cbuf.commit(n);
        }
        if (st == head_state::error) {
            co_await send_error(im, client, fe, nullptr, rd.status(), lg, "PR--");
            im.finish(w, fe, peer, lg);
            co_return;
        }
        const auto start = lg.start;
        if (!timing) // the whole head was already here (pipelined)
            client.expires_at(start + fe.http_request);
        auto& req = p.get();
        auto sv = [](beast::string_view v) { return std::string_view(v.data(), v.size()); };
        if (im.log && fe.httplog) // only a log line needs it
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
            ec = co_await buffer_body(client, cbuf, p, pending, im.rt.bufsize);
            if (ec) {
                if (ec == beast::error::timeout) {
                    co_await send_error(im, client, fe, nullptr, 408, lg, "cD--");
                } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
                           ec != asio::error::eof && ec != asio::error::connection_reset) {
                    co_await send_error(im, client, fe, nullptr, 400, lg, "PD--");
                } else {
                    // As HAProxy (reg-test http_request_buffer, c4): the
                    // request goes on to its backend, which finds the
                    // client gone before choosing a server.
                    std::copy_n("CR--", 4, lg.term);
                    lg.t_request = elapsed_ms(start);
                    if (int b = switch_backend(); b >= 0)
                        lg.backend = im.rt.backends[static_cast<std::size_t>(b)].name;
                }
                im.finish(w, fe, peer, lg);
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
                               co_await request_rules(im, fe, nullptr, *fe.rules, client, cbuf, p, pending, st, lg);
            if (captures)
                lg.cap_req = format_captures(st.captured);
            if (!go_on) {
                im.finish(w, fe, peer, lg);
                co_return;
            }
            chosen = switch_backend();
        }
        if (chosen < 0) {
            co_await send_error(im, client, fe, nullptr, 503, lg, "SC--");
            im.finish(w, fe, peer, lg);
            co_return;
        }
        const backend_rt& be = im.rt.backends[static_cast<std::size_t>(chosen)];
        lg.backend = be.name;
        lg.backend_index = chosen;
        if (be.rules && be.rules != fe.rules && !be.rules->req.empty() &&
            !co_await request_rules(im, fe, &be, *be.rules, client, cbuf, p, pending, rules_of(), lg)) {
            im.finish(w, fe, peer, lg);
            co_return;
        }
        const auto bi = static_cast<std::size_t>(chosen);
        const std::size_t srv_index = co_await acquire_server(*im.pool, w.balance[bi], bi, be, peer, client.get_executor(), lg);
        if (srv_index >= be.servers.size()) { // none up, or none free within 'timeout queue'
            co_await send_error(im, client, fe, &be, 503, lg, srv_index == be.servers.size() ? "SC--" : "sQ--");
            im.finish(w, fe, peer, lg);
            co_return;
        }
        const server_rt& srv_rt = be.servers[srv_index];
        lg.server = srv_rt.name;
        lg.server_index = static_cast<int>(srv_rt.health);
        slot_hold hold{*im.pool, bi, srv_index, be};

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
                    co_await send_error(im, client, fe, &be, 503, lg, ec == beast::error::timeout ? "sC--" : "SC--");
                    im.finish(w, fe, peer, lg);
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
                        co_await send_error(im, client, fe, &be, 408, lg, "cD--");
                    im.finish(w, fe, peer, lg);
                    co_return;
                }
                ec = rec;
            }
            if (ec && reused && retryable && attempt == 0)
                continue; // the idle connection was gone: once more on a new one
            if (ec) {
                co_await send_error(im, client, fe, &be, 502, lg, "SH--");
                im.finish(w, fe, peer, lg);
                co_return;
            }

            // The response, after any 1xx interim responses.
            sbuf.clear();
            response_start = clock::now();
            bool retry = false;
            for (;;) {
                rp.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(arena_allocator<char>(&fields_mem)));
                rp->header_limit(static_cast<std::uint32_t>(im.rt.bufsize));
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
                    co_await send_error(im, client, fe, &be, ec == beast::error::timeout ? 504 : 502, lg,
                                        ec == beast::error::timeout ? "sH--" : "SH--");
                    im.finish(w, fe, peer, lg);
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
                    go_on = co_await response_rules(im, fe, be, *r, client, srv, sbuf, *rp, res_pending, rules_of(), lg);
            if (!go_on) {
                srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
                im.finish(w, fe, peer, lg);
                co_return;
            }
        }
        if (lg.status == 101) { // protocol switched: the connection becomes a tunnel
            if (!upgrade) {
                co_await send_error(im, client, fe, &be, 502, lg, "SH--");
                im.finish(w, fe, peer, lg);
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
            im.finish(w, fe, peer, lg);
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
        im.finish(w, fe, peer, lg);
        if (!keep) {
            client.socket().shutdown(asio::socket_base::shutdown_send, ec);
            co_return;
        }
    }
}

namespace {

// A section's http-request rules on the request in hand, with the body
// waits they ask for. True when the request goes on; false when a rule
// answered it or closed the connection (lg says how; the caller finishes).
task<bool> request_rules(server::impl& im, const frontend_rt& fe, const backend_rt* be, const proxy_rules& r,
                                       deadline_stream& client, beast::flat_buffer& cbuf,
                                       request_reader::parser_type& p, std::string& pending, rule_state& st,
                                       request_log& lg)
{
    auto& req = p.get();
    view_request(st, req, pending);
    rule_result out = run_request_rules(r, st, req);
    while (out.what == rule_outcome::wait_body) {
        // wait-for-body: the body (or its first at-least bytes, within
        // tune.bufsize) within the time given, else 408.
        const std::size_t want = out.at_least ? std::min<std::size_t>(out.at_least, im.rt.bufsize) : im.rt.bufsize;
        client.expires_after(out.wait);
        error_code ec = co_await buffer_body(client, cbuf, p, pending, want);
        if (ec == beast::error::timeout) {
            co_await send_error(im, client, fe, be, 408, lg, "cR--");
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
            co_await send_error(im, client, fe, be, out.status, lg, "PT--");
        else
            co_await send_reply(im, client, fe, std::move(out.response), out.status, lg, "PT--");
        co_return false;
    }
    case rule_outcome::reply:
        if (!out.local)
            lg.denied = 'q';
        if (out.response.empty())
            co_await send_error(im, client, fe, be, out.status, lg, out.local ? "LR--" : "PR--");
        else
            co_await send_reply(im, client, fe, std::move(out.response), out.status, lg, out.local ? "LR--" : "PR--");
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
task<bool> response_rules(server::impl& im, const frontend_rt& fe, const backend_rt& be, const proxy_rules& r,
                                        deadline_stream& client, deadline_stream& srv, beast::flat_buffer& sbuf,
                                        http::response_parser<http::buffer_body, arena_allocator<char>>& rp,
                                        std::string& pending, rule_state& st, request_log& lg)
{
    auto& res = rp.get();
    view_response(st, res);
    rule_result out = run_response_rules(r, st, res);
    while (out.what == rule_outcome::wait_body) {
        const std::size_t want = out.at_least ? std::min<std::size_t>(out.at_least, im.rt.bufsize) : im.rt.bufsize;
        srv.expires_after(out.wait);
        error_code ec = co_await buffer_body(srv, sbuf, rp, pending, want);
        if (ec) {
            bool timeout = ec == beast::error::timeout;
            co_await send_error(im, client, fe, &be, timeout ? 504 : 502, lg, timeout ? "sH--" : "SH--");
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
            co_await send_error(im, client, fe, &be, out.status, lg, out.local ? "LH--" : "PH--");
        else
            co_await send_reply(im, client, fe, std::move(out.response), out.status, lg, out.local ? "LH--" : "PH--");
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

} // namespace

} // namespace bulwark::proxy
