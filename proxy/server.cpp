// SPDX-License-Identifier: Apache-2.0
// The proxy's face to the control plane: start, stop, stats. Where each
// part of it lives: listener.cpp (binds, accept, maxconn, threads),
// http_session.cpp and tcp_session.cpp (a connection's life),
// backend_pool.cpp and upstream.cpp (servers, slots, queues),
// health_check.cpp, relay.hpp and tunnel.hpp (moving bytes),
// access_log.cpp and counters.cpp (what a request leaves behind).
#include "proxy/server.hpp"

#include "proxy/listener.hpp"
#include "proxy/server_impl.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace bulwark::proxy {

void server::impl::finish(worker& w, const frontend_rt& fe, const peer_info& peer, const request_log& lg)
{
    be_counters* b = lg.backend_index >= 0 ? &w.be_count[static_cast<std::size_t>(lg.backend_index)] : nullptr;
    srv_counters* sc = lg.server_index >= 0 ? &w.srv_count[static_cast<std::size_t>(lg.server_index)] : nullptr;
    count_request(w.fe_count[index_of(fe)], b, sc, lg);
    if (!log || (fe.dontlognull && lg.null_connection))
        return;
    if (fe.tcp ? !fe.tcplog : !fe.httplog)
        return;
    const int conns = actconn.load(std::memory_order_relaxed);
    const long total = elapsed_ms(lg.start);
    const std::string line =
        fe.tcp ? format_tcplog(peer, fe.name, lg, total, conns) : format_httplog(peer, fe.name, lg, total, conns);
    // Never waits: a sink that is full drops the line and counts it.
    const auto now = std::chrono::system_clock::now();
    for (std::size_t i : fe.logs)
        sinks[i]->send(line, now);
}

result<bool> server::impl::open_logs()
{
    if (!log)
        return true;
    for (const auto& t : rt.log_targets) {
        bool ours = t.k == log_target::kind::fd && t.fd == 1; // stdout: the FILE the server was given
        auto s = log_sink::open(t, ours ? fileno(log) : -1);
        if (!s)
            return fail(s.message());
        sinks.push_back(std::move(*s));
    }
    return true;
}

void server::impl::number_rules()
{
    auto base_of = [&](const std::shared_ptr<const proxy_rules>& r) -> std::size_t {
        if (!r)
            return 0;
        for (const auto& s : rule_sections)
            if (s.rules == r.get())
                return s.base;
        rule_sections.push_back({r.get(), rule_count});
        rule_count += r->tcp.size() + r->req.size() + r->res.size();
        return rule_sections.back().base;
    };
    for (const auto& fe : rt.frontends)
        fe_rule_base.push_back(base_of(fe.rules));
    for (const auto& be : rt.backends)
        be_rule_base.push_back(base_of(be.rules));
}

server::server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

server::~server() { stop(); }

result<std::unique_ptr<server>> server::start(runtime rt, std::FILE* log)
{
    auto s = open(std::move(rt), log);
    if (s)
        (*s)->run();
    return s;
}

void server::run()
{
    if (!impl_->running) {
        impl_->running = true;
        start_threads(*impl_);
    }
}

result<std::unique_ptr<server>> server::open(runtime rt, std::FILE* log)
{
    auto im = std::make_unique<impl>();
    im->rt = std::move(rt);
    im->log = log;
    if (auto r = im->open_logs(); !r)
        return fail(r.message());
    apply_fd_limit(im->rt);
    im->pool = std::make_unique<backend_pool>(im->rt.servers, im->rt.backends.size());
    im->feconn = std::make_unique<std::atomic<int>[]>(im->rt.frontends.size());
    for (std::size_t i = 0; i < im->rt.frontends.size(); ++i)
        im->feconn[i].store(0);
    im->number_rules();
    for (int t = 0; t < im->rt.threads; ++t) {
        auto w = std::make_unique<worker>();
        w->shield = im->rt.shield.get();
        w->rule_hits = std::make_unique<std::atomic<std::uint64_t>[]>(im->rule_count);
        w->fe_count = std::make_unique<fe_counters[]>(im->rt.frontends.size());
        w->be_count = std::make_unique<be_counters[]>(im->rt.backends.size());
        w->srv_count = std::make_unique<srv_counters[]>(im->rt.servers);
        for (const auto& be : im->rt.backends) {
            w->idle.emplace_back(be.servers.size());
            // threads start apart in leastconn's scan
            w->balance.push_back({static_cast<std::size_t>(t), std::vector<int>(be.servers.size(), 0)});
        }
        if (auto opened = open_listeners(*w, im->rt, t); !opened)
            return fail(opened.message());
        for (const auto& fe : im->rt.frontends)
            if (fe.rules)
                fe.rules->acls.prepare_scratch(w->scratch);
        for (const auto& be : im->rt.backends)
            if (be.rules)
                be.rules->acls.prepare_scratch(w->scratch);
        im->workers.push_back(std::move(w));
    }
    return std::unique_ptr<server>(new server(std::move(im)));
}

void server::stop()
{
    if (!impl_ || impl_->pool->stopped)
        return;
    impl_->pool->stopped = true;
    for (auto& w : impl_->workers)
        w->io.stop();
    for (auto& w : impl_->workers)
        if (w->thread.joinable())
            w->thread.join();
}

int server::maxconn() const { return impl_->rt.maxconn; }

int server::threads() const { return impl_->rt.threads; }


namespace {

void sum_traffic(server::traffic& into, const traffic_counters& c)
{
    into.requests += c.requests.get();
    into.bytes_out += c.bytes_out.get();
    for (std::size_t i = 0; i < std::size(into.status); ++i)
        into.status[i] += c.status[i].get();
}

} // namespace

void server::set_block_sink(block_sink* sink) { impl_->rt.shield->sink.store(sink, std::memory_order_release); }

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
    // Every section once (a listen's frontend and backend share one set),
    // each rule's hits summed over the threads.
    for (const auto& [r, base] : impl_->rule_sections)
        for (const auto* list : {&r->tcp, &r->req, &r->res})
            for (const auto& rule : *list) {
                std::uint64_t hits = rule.hits->load(std::memory_order_relaxed); // counted without a thread's
                for (const auto& w : impl_->workers)
                    hits += w->rule_hits[base + rule.id].load(std::memory_order_relaxed);
                out.rules.push_back(
                    {r->name, rule.at, rule.what, hits, rule.regex_errors->n.load(std::memory_order_relaxed)});
            }
    for (const auto& s : impl_->sinks)
        out.logs.push_back({s->target().where, s->sent(), s->dropped()});
    const shield_link& sl = *rt.shield;
    out.blocks_posted = sl.posted.load(std::memory_order_relaxed);
    out.blocks_refused = sl.refused.load(std::memory_order_relaxed);
    out.blocks_no_shield = sl.no_shield.load(std::memory_order_relaxed);
    out.blocks_no_source = sl.no_source.load(std::memory_order_relaxed);
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
