// SPDX-License-Identifier: Apache-2.0
#include "proxy/listener.hpp"

#include "proxy/health_check.hpp"
#include "proxy/http_session.hpp"
#include "proxy/tcp_session.hpp"
#include "proxy/session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <sys/un.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Whether a new connection to fe must wait: the global maxconn or fe's is reached.
bool full(const server::impl& im, const frontend_rt& fe)
{
    const auto& here = im.feconn[im.index_of(fe)];
    return (im.rt.maxconn > 0 && im.actconn.load(std::memory_order_relaxed) >= im.rt.maxconn) ||
           (fe.maxconn > 0 && here.load(std::memory_order_relaxed) >= fe.maxconn);
}

// Takes a place for a connection to fe under both limits, or none.
bool reserve_connection(server::impl& im, const frontend_rt& fe)
{
    auto& here = im.feconn[im.index_of(fe)];
    int all = im.actconn.fetch_add(1) + 1;
    int mine = here.fetch_add(1) + 1;
    if ((im.rt.maxconn > 0 && all > im.rt.maxconn) || (fe.maxconn > 0 && mine > fe.maxconn)) {
        im.actconn.fetch_sub(1);
        here.fetch_sub(1);
        return false;
    }
    return true;
}

// A connection accepted, its place taken: counted, through the frontend's
// tcp-request rules, then served in its mode.
task<void> serve_connection(server::impl& im, worker& w, const frontend_rt& fe, socket_type sock)
{
    error_code ec;
    const peer_info peer = describe(sock.remote_endpoint(ec));
    // Headers and body go out in separate writes: without TCP_NODELAY,
    // Nagle meets the peer's delayed ACK and each response waits ~40 ms.
    sock.set_option(tcp::no_delay(true), ec);
    deadline_stream client(std::move(sock));
    // What the rules need, made at the first request that meets a rule.
    std::unique_ptr<rule_state> rules;
    struct guard { // the connection counts taken by accept_loop
        std::atomic<int>& all;
        std::atomic<int>& here;
        ~guard()
        {
            all.fetch_sub(1, std::memory_order_relaxed);
            here.fetch_sub(1, std::memory_order_relaxed);
        }
    } g{im.actconn, im.feconn[im.index_of(fe)]};
    auto& fec = w.fe_count[im.index_of(fe)];
    fec.connections.add();
    // tcp-request connection/session/content rules: a rejected connection
    // is closed at once, counted, and not logged (as HAProxy).
    if (fe.rules && !fe.rules->tcp.empty()) {
        rules = make_rule_state(w, peer, client);
        attach_tables(*rules, fe.table, fe.sticks);
        rules->hits = im.rule_hits(w, fe, nullptr, *fe.rules);
        if (run_connection_rules(*fe.rules, *rules) != rule_outcome::go_on) {
            fec.denied_connections.add();
            client.socket().shutdown(asio::socket_base::shutdown_both, ec);
            co_return;
        }
    }
    if (fe.tcp) {
        co_await tcp_session(im, w, fe, peer, client);
        if (rules && rules->trk.tracking()) { // what the connection moved: bytes_in/out_rate
            rules->trk.now = stick_now();
            rules->trk.end_request(client.bytes_read(), client.bytes_written(), false);
        }
        co_return;
    }
    http_session<deadline_stream> session(im, w, fe, peer, client, rules);
    co_await session.run();
}

// Waits `d`; false when the wait was cancelled (the proxy stops).
task<bool> pause_for(steady_timer& t, std::chrono::milliseconds d)
{
    error_code ec;
    t.expires_after(d);
    co_await t.async_wait(with_ec(ec));
    co_return !ec;
}

task<void> accept_loop(server::impl& im, worker& w, stream_acceptor& acc, const frontend_rt& fe)
{
    steady_timer pause(w.io.get_executor());
    for (;;) {
        error_code ec;
        // At maxconn (global or this frontend's) new connections wait, as in
        // HAProxy, until one here closes: in the kernel's backlog, and at
        // most one per listener accepted but not served. The place is taken
        // before the session runs, so two threads cannot both take the last.
        // (No co_await inside && here: GCC 12 evaluates it even when the
        // left side is false.)
        while (full(im, fe))
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
        while (!reserve_connection(im, fe))
            if (!co_await pause_for(pause, std::chrono::milliseconds(5)))
                co_return;
        asio::co_spawn(w.io, serve_connection(im, w, fe, std::move(s)), asio::detached);
    }
}

} // namespace

void apply_fd_limit(runtime& rt)
{
    // Each proxied connection needs two descriptors (client, server) and the
    // idle pools keep some: take the hard limit, and derive maxconn from it
    // when the config gives none, as HAProxy does.
    rlimit nofile{};
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    const long reserve = 100 + static_cast<long>(rt.threads * rt.servers * 4);
    const long fit = std::max(1L, (static_cast<long>(std::min<rlim_t>(nofile.rlim_cur, 1'000'000)) - reserve) / 2);
    if (rt.maxconn == 0)
        rt.maxconn = static_cast<int>(fit);
    else if (rt.maxconn > fit)
        std::fprintf(stderr,
                     "[WARNING] maxconn %d needs more file descriptors than the limit (%lu) allows: connections "
                     "beyond about %ld will fail to open\n",
                     rt.maxconn, static_cast<unsigned long>(nofile.rlim_cur), fit);
}

namespace {

// A unix bind's path, made free: a socket file no one listens on (left by
// an earlier run) is removed; a live socket (another process serves it) or
// any other kind of file is left alone and the bind refused.
result<bool> free_unix_path(const std::string& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return errno == ENOENT ? result<bool>(true) : fail(std::strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return fail(fmt::format("'{}' exists and is not a socket: refusing to replace it", path));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.data(), std::min(path.size(), sizeof(sa.sun_path) - 1));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) == 0;
    if (fd >= 0)
        ::close(fd);
    if (live)
        return fail(fmt::format("'{}' is a live socket (another process listens there): refusing to replace it",
                                path));
    ::unlink(path.c_str());
    return true;
}

} // namespace

result<std::size_t> open_listeners(worker& w, const runtime& rt, int thread)
{
    for (const auto& fe : rt.frontends)
        for (const auto& b : fe.binds) {
            const int family = b.ep.protocol().family();
            const bool ip = family == AF_INET || family == AF_INET6;
            if (!ip && thread > 0) // a unix socket has one listener, on thread 0
                continue;
            stream_acceptor acc(w.io);
            error_code ec;
            if (!b.path.empty())
                if (auto freed = free_unix_path(b.path); !freed)
                    return fail(fmt::format("frontend '{}': cannot bind {}: {}", fe.name, b.where, freed.message()));
            acc.open(b.ep.protocol(), ec);
            if (!ec && ip)
                acc.set_option(asio::socket_base::reuse_address(true), ec);
            if (!ec && ip)
                acc.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
            if (!ec && family == AF_INET6)
                acc.set_option(asio::detail::socket_option::boolean<IPPROTO_IPV6, IPV6_V6ONLY>(false), ec);
            if (!ec)
                acc.bind(b.ep, ec);
            // a socket file's mode and owner before listen(): no one connects before they hold
            if (!ec && !b.path.empty() && b.mode && ::chmod(b.path.c_str(), *b.mode) != 0)
                ec = error_code(errno, boost::system::system_category());
            if (!ec && !b.path.empty() && (b.uid >= 0 || b.gid >= 0) &&
                ::lchown(b.path.c_str(), static_cast<uid_t>(b.uid), static_cast<gid_t>(b.gid)) != 0)
                ec = error_code(errno, boost::system::system_category());
            if (!ec)
                acc.listen(asio::socket_base::max_listen_connections, ec);
            if (ec)
                return fail(fmt::format("frontend '{}': cannot bind {}: {}", fe.name, b.where, ec.message()));
            w.listeners.emplace_back(std::move(acc), &fe);
        }
    return w.listeners.size();
}

void start_threads(server::impl& im)
{
    for (const auto& be : im.rt.backends) // the checks run on thread 0
        for (const auto& sv : be.servers)
            if (sv.check && !sv.disabled && !be.disabled) // HAProxy checks no server in maintenance
                asio::co_spawn(im.workers[0]->io, health_check(*im.pool, im.workers[0]->io, be, sv, im.rt.bufsize),
                               asio::detached);
    for (auto& w : im.workers) {
        for (auto& [acc, fe] : w->listeners)
            asio::co_spawn(w->io, accept_loop(im, *w, acc, *fe), asio::detached);
        worker* wp = w.get();
        w->thread = std::thread([wp] { wp->io.run(); });
    }
}

} // namespace bulwark::proxy
