// SPDX-License-Identifier: Apache-2.0
#include "proxy/upstream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <cerrno>
#include <sys/socket.h>

namespace bulwark::proxy {

task<std::size_t> acquire_server(backend_pool& pool, balance_state& b, std::size_t bi, const backend_rt& be,
                                 const peer_info& peer, executor ex, request_log& lg)
{
    constexpr std::size_t queued = backend_pool::queued;
    std::size_t srv_index = pool.pick_server(b, be, peer);
    if (srv_index != queued) {
        lg.t_queue = srv_index < be.servers.size() ? 0 : -1;
        co_return srv_index;
    }
    // Every server up is full: wait in line.
    auto queue_start = clock::now();
    auto wt = std::make_shared<waiter>(ex);
    auto& q = pool.queue(bi);
    {
        std::lock_guard lock(q.m);
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
