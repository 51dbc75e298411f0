// SPDX-License-Identifier: Apache-2.0
#include "proxy/upstream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>
#include <sys/socket.h>

namespace bulwark::proxy {

namespace {

// With option abortonclose: cancels the waiter `wt` when the client
// closes. The client's socket has no other operation pending; data rather
// than EOF (a pipelined request) ends the watch.
void watch_client(socket_type& client, const std::shared_ptr<waiter>& wt, const std::shared_ptr<bool>& gone)
{
    client.async_wait(socket_type::wait_read, [&client, wt, gone](error_code ec) {
        if (!ec && client_closed(client)) {
            *gone = true;
            wt->timer.cancel();
        }
    });
}

} // namespace

bool client_closed(socket_type& s)
{
    char c;
    ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

task<std::size_t> acquire_server(backend_pool& pool, balance_state& b, std::size_t bi, const backend_rt& be,
                                 const peer_info& peer, executor ex, request_log& lg, socket_type* client)
{
    constexpr std::size_t queued = backend_pool::queued;
    std::size_t srv_index = pool.pick_server(b, be, peer);
    if (srv_index != queued) {
        lg.t_queue = srv_index < be.servers.size() ? 0 : -1;
        co_return srv_index;
    }
    // Every server up is full: wait in line, when the line has room.
    auto queue_start = clock::now();
    auto wt = std::make_shared<waiter>(ex);
    auto& q = pool.queue(bi);
    {
        std::lock_guard lock(q.m);
        if (be.maxqueue > 0 && q.length.load() >= be.maxqueue) {
            lg.t_queue = 0;
            co_return queue_full;
        }
        // In line before looking again, so that a slot freed meanwhile is
        // either seen here or handed to us by release_slot.
        q.length.fetch_add(1);
        srv_index = pool.pick_server(b, be, peer);
        if (srv_index == queued)
            q.waiting.push_back(wt);
        else
            q.length.fetch_sub(1);
    }
    if (srv_index == queued) {
        auto gone = std::make_shared<bool>(false);
        const bool watching = client && be.abortonclose;
        if (watching)
            watch_client(*client, wt, gone);
        error_code ec;
        wt->timer.expires_after(be.queue);
        co_await wt->timer.async_wait(with_ec(ec));
        if (watching && !*gone) {
            error_code ignored;
            client->cancel(ignored);
        }
        {
            std::lock_guard lock(q.m);
            if (wt->server == SIZE_MAX) { // not served in time: leave the line
                std::erase(q.waiting, wt);
                q.length.fetch_sub(1);
            }
        }
        srv_index = wt->server == SIZE_MAX ? queued : wt->server;
        if (*gone) {
            if (srv_index < be.servers.size()) // handed a slot as the client left: give it back
                pool.release_slot(bi, be, srv_index);
            srv_index = client_gone;
        }
    }
    lg.t_queue = elapsed_ms(queue_start);
    co_return srv_index;
}

task<error_code> connect_retrying(deadline_stream& s, backend_pool& pool, balance_state& b, const backend_rt& be,
                                  const peer_info& peer, std::optional<slot_hold>& hold, request_log& lg,
                                  socket_type* client)
{
    for (int retry = 1;; ++retry) {
        error_code ec = co_await connect_server(s, be, be.servers[hold->si], lg);
        if (!ec)
            co_return ec;
        error_code ignored;
        s.socket().close(ignored);
        std::size_t up = 0;
        for (const auto& sv : be.servers)
            up += !sv.backup && !sv.disabled && pool.is_up(sv);
        // HAProxy redispatches at once, redispatch on, when the server went
        // DOWN or when several active servers can take it without a hash.
        const bool spread = (up > 1 && be.algo != balance_algo::source) || !pool.is_up(be.servers[hold->si]);
        auto v = retry_decision(retry, be.retries, be.redispatch, spread);
        if (v == retry_verdict::give_up)
            co_return ec;
        if (client && be.abortonclose && client_closed(*client))
            co_return boost::asio::error::operation_aborted;
        lg.retries = retry;
        if (v == retry_verdict::redispatch) {
            std::size_t si = pool.pick_server(b, be, peer, hold->si);
            if (si < be.servers.size()) {
                const std::size_t bi = hold->bi; // emplace ends the old hold (its slot freed) first
                hold.emplace(pool, bi, si, be);
                lg.server = be.servers[si].name;
                lg.server_index = static_cast<int>(be.servers[si].health);
                lg.redispatched = true;
                continue;
            }
            // no other server has room: once more on the same one
        }
        if (ec != boost::beast::error::timeout) { // a refused connection: give the server a moment
            steady_timer pause(s.get_executor());
            pause.expires_after(std::min<ms>(be.connect, ms(1000)));
            co_await pause.async_wait(with_ec(ignored));
        }
    }
}

task<error_code> connect_server(deadline_stream& s, const backend_rt& be, const server_rt& srv, request_log& lg)
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
    s.socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    co_return ec;
}

bool still_open(socket_type& s)
{
    char c;
    ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

} // namespace bulwark::proxy
