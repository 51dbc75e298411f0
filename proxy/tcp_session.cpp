// SPDX-License-Identifier: Apache-2.0
#include "proxy/tcp_session.hpp"

#include "proxy/session.hpp"
#include "proxy/tunnel.hpp"
#include "proxy/upstream.hpp"

namespace bulwark::proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;

task<void> tcp_session(server::impl& im, worker& w, const frontend_rt& fe, const peer_info& peer,
                       deadline_stream& client)
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
        attach_tables(*st, fe.table, fe.sticks);
        if (int k = choose_backend(*fe.rules, *st); k >= 0)
            chosen = fe.use_backend[static_cast<std::size_t>(k)];
    }
    if (chosen < 0) {
        lg.ended("SC--");
        im.finish(w, fe, peer, lg);
        co_return;
    }
    const auto bi = static_cast<std::size_t>(chosen);
    const backend_rt& be = im.rt.backends[bi];
    lg.backend = be.name;
    lg.backend_index = chosen;
    const std::size_t si =
        co_await acquire_server(*im.pool, w.balance[bi], bi, be, peer, client.get_executor(), lg, &client.socket());
    if (si >= be.servers.size()) {
        lg.ended(si == be.servers.size() ? "SC--" : si == queue_full ? "SQ--" : si == client_gone ? "CQ--" : "sQ--");
        im.finish(w, fe, peer, lg);
        co_return;
    }
    const server_rt& srv_rt = be.servers[si];
    lg.server = srv_rt.name;
    lg.server_index = static_cast<int>(srv_rt.health);
    std::optional<slot_hold> hold;
    hold.emplace(*im.pool, bi, si, be);

    deadline_stream srv(client.get_executor());
    ec = co_await connect_retrying(srv, *im.pool, w.balance[bi], be, peer, hold, lg, &client.socket());
    if (ec) {
        lg.ended(ec == asio::error::operation_aborted ? "CC--" : ec == beast::error::timeout ? "sC--" : "SC--");
        im.finish(w, fe, peer, lg);
        co_return;
    }
    beast::flat_buffer none_in, none_back;
    auto up = std::make_unique_for_overwrite<char[]>(chunk_size);
    auto down = std::make_unique_for_overwrite<char[]>(chunk_size);
    co_await tunnel(client, none_in, srv, none_back, tunnel_limits(fe, be), {up.get(), chunk_size},
                    {down.get(), chunk_size}, lg);
    srv.socket().shutdown(asio::socket_base::shutdown_both, ec);
    client.socket().shutdown(asio::socket_base::shutdown_both, ec);
    im.finish(w, fe, peer, lg);
}

} // namespace bulwark::proxy
