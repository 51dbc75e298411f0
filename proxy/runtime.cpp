// SPDX-License-Identifier: Apache-2.0
#include "proxy/runtime.hpp"

#include "rules/pattern_set.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <fmt/format.h>

namespace bulwark::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A unix@ path, or an abns@ name (Linux's abstract namespace: a name
// behind a NUL byte, with no file).
result<stream_protocol::endpoint> unix_endpoint(const address& a)
{
    std::string name = a.k == address::kind::abns ? std::string(1, '\0') + a.host : a.host;
    if (name.size() >= sizeof(sockaddr_un::sun_path))
        return fail(fmt::format("'{}' is longer than a unix socket path can be ({} bytes)", a.host,
                                sizeof(sockaddr_un::sun_path) - 1));
    return stream_protocol::endpoint(asio::local::stream_protocol::endpoint(name));
}

tcp::endpoint to_endpoint(const ip_addr& ip, std::uint16_t port)
{
    if (ip.fam == family::ipv4) {
        asio::ip::address_v4::bytes_type b;
        std::copy_n(ip.bytes.begin(), 4, b.begin());
        return {asio::ip::address_v4(b), port};
    }
    asio::ip::address_v6::bytes_type b;
    std::copy_n(ip.bytes.begin(), 16, b.begin());
    return {asio::ip::address_v6(b), port};
}

// Already checked by the config loader (kw_proxy.cpp).
forwardfor_rt forwardfor_of(const proxy_section& p)
{
    forwardfor_rt f;
    auto it = p.options.find("forwardfor");
    if (it == p.options.end() || !it->second)
        return f;
    f.on = true;
    const auto& a = p.option_args.at("forwardfor");
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == "if-none") {
            f.if_none = true;
        } else if (i + 1 < a.size()) {
            if (a[i] == "except") {
                if (auto n = parse_cidr(a[i + 1]))
                    f.except = *n;
            } else {
                f.header = a[i + 1];
            }
            ++i;
        }
    }
    return f;
}

// The section's rules, or null when it has none (the session then skips
// all rule work).
result<std::shared_ptr<const proxy_rules>> rules_of(const proxy_section& p,
                                                    std::vector<std::string>& notes)
{
    const bool none = p.rules.empty() && p.use_backends.empty() && p.captures.empty();
    if (none)
        return std::shared_ptr<const proxy_rules>();
    ms tarpit = p.timeout.tarpit ? *p.timeout.tarpit : p.timeout.connect ? *p.timeout.connect : no_timeout;
    return compile_rules(p, tarpit, &notes);
}

bool option_on(const proxy_section& p, const char* name)
{
    return p.options.count(name) && p.options.at(name);
}

// option httpchk [METHOD] [URI] [VERSION], HAProxy's defaults: OPTIONS / HTTP/1.0
std::string httpchk_of(const proxy_section& p)
{
    const auto& a = p.option_args.at("httpchk");
    std::string method = a.size() >= 2 ? a[0] : "OPTIONS";
    std::string uri = a.size() == 1 ? a[0] : a.size() >= 2 ? a[1] : "/";
    std::string version = a.size() >= 3 ? a[2] : "HTTP/1.0";
    return method + " " + uri + " " + version + "\r\n\r\n";
}

// option redispatch [N]: HAProxy's default interval is -1, the last retry.
int redispatch_of(const proxy_section& p)
{
    if (!option_on(p, "redispatch"))
        return 0;
    const auto& a = p.option_args.at("redispatch");
    return a.empty() ? -1 : std::stoi(a[0]);
}

// HAProxy bounds a queue per server (maxqueue); here a request waits in its
// backend's queue for any server, so the bound is their sum, when every
// server that may take traffic has one (0: unlimited).
int maxqueue_of(const proxy_section& p)
{
    long sum = 0;
    for (const auto& s : p.servers) {
        if (s.disabled)
            continue;
        if (s.maxqueue == 0)
            return 0;
        sum += s.maxqueue;
    }
    return static_cast<int>(std::min<long>(sum, INT32_MAX));
}

balance_algo balance_of(const proxy_section& p, std::vector<std::string>& notes)
{
    if (p.balance == "leastconn")
        return balance_algo::leastconn;
    if (p.balance == "source")
        return balance_algo::source;
    if (p.balance != "roundrobin")
        notes.push_back(fmt::format("{}:{}: backend '{}': 'balance {}' is not built yet (issue #3): round "
                                    "robin is used",
                                    p.at.file, p.at.line, p.name, p.balance));
    return balance_algo::roundrobin;
}

// A server line's address (resolved now, once) and check settings;
// health: its slot in the health table.
result<server_rt> server_of(const server_line& s, tcp::resolver& resolver, std::size_t health)
{
    std::uint16_t port = s.addr.ports.lo ? s.addr.ports.lo : 80;
    auto checked = [&](server_rt r) {
        r.check = s.check;
        r.inter = s.inter;
        r.rise = s.rise;
        r.fall = s.fall;
        r.maxconn = s.maxconn;
        r.weight = s.weight;
        r.backup = s.backup;
        r.disabled = s.disabled;
        r.health = health;
        return r;
    };
    if (s.addr.k == address::kind::ip) {
        auto ep = to_endpoint(s.addr.ip, port);
        return checked({s.name, ep, s.addr.str()});
    }
    if (s.addr.k == address::kind::host) {
        boost::system::error_code ec;
        auto res = resolver.resolve(s.addr.host, std::to_string(port), ec);
        if (ec || res.empty())
            return fail(fmt::format("{}:{}: server '{}': cannot resolve '{}': {}", s.at.file, s.at.line, s.name,
                                    s.addr.host, ec ? ec.message() : "no address"));
        return checked({s.name, res.begin()->endpoint(), s.addr.str()});
    }
    auto ep = unix_endpoint(s.addr);
    if (!ep)
        return fail(fmt::format("{}:{}: server '{}': {}", s.at.file, s.at.line, s.name, ep.message()));
    return checked({s.name, *ep, s.addr.str()});
}

// A backend or listen section's backend side; counts its servers into
// rt.servers and its notes into rt.notes.
result<backend_rt> backend_of(const proxy_section& p, tcp::resolver& resolver, runtime& rt)
{
    backend_rt b;
    b.name = p.name;
    b.errorfiles = p.errorfiles;
    if (p.timeout.connect)
        b.connect = *p.timeout.connect;
    if (p.timeout.server)
        b.server = *p.timeout.server;
    b.queue = p.timeout.queue ? *p.timeout.queue : b.connect; // HAProxy's fallback
    b.tunnel = p.timeout.tunnel;
    b.server_fin = p.timeout.server_fin;
    b.forwardfor = forwardfor_of(p);
    b.check = p.timeout.check;
    if (option_on(p, "httpchk"))
        b.httpchk = httpchk_of(p);
    b.algo = balance_of(p, rt.notes);
    if (p.check_expect) {
        auto e = compile_expect(*p.check_expect);
        if (!e)
            return fail(fmt::format("{}:{}: http-check expect: {}", p.check_expect->at.file, p.check_expect->at.line,
                                    e.message()));
        b.expect = std::move(*e);
        if (b.httpchk.empty())
            rt.notes.push_back(fmt::format("{}:{}: backend '{}': 'http-check expect' without 'option httpchk' has "
                                           "no effect (the checks are TCP)",
                                           p.check_expect->at.file, p.check_expect->at.line, p.name));
    }
    b.retries = p.retries;
    b.redispatch = redispatch_of(p);
    b.allbackups = option_on(p, "allbackups");
    b.abortonclose = option_on(p, "abortonclose");
    b.disabled = p.disabled;
    b.maxqueue = maxqueue_of(p);
    b.server_close = option_on(p, "http-server-close") || option_on(p, "httpclose");
    b.httpclose = option_on(p, "httpclose");
    for (const auto& s : p.servers) {
        auto r = server_of(s, resolver, rt.servers++);
        if (!r)
            return fail(r.message());
        b.servers.push_back(std::move(*r));
    }
    auto r = rules_of(p, rt.notes);
    if (!r)
        return fail(r.message());
    b.rules = std::move(*r);
    return b;
}

// A frontend's bind lines; TLS and host-name binds are skipped with a note.
result<std::vector<frontend_rt::listen_on>> binds_of(const proxy_section& p, std::vector<std::string>& notes)
{
    std::vector<frontend_rt::listen_on> out;
    for (const auto& b : p.binds) {
        if (b.ssl) {
            notes.push_back(fmt::format("{}:{}: bind '{}': TLS is not built yet: skipped", b.at.file, b.at.line,
                                        b.addr.str()));
            continue;
        }
        if (b.addr.k == address::kind::unix_path || b.addr.k == address::kind::abns) {
            auto ep = unix_endpoint(b.addr);
            if (!ep)
                return fail(fmt::format("{}:{}: bind: {}", b.at.file, b.at.line, ep.message()));
            out.push_back({*ep, b.addr.str(), b.addr.k == address::kind::unix_path ? b.addr.host : "", b.mode, b.uid,
                           b.gid});
            continue;
        }
        if (b.addr.k != address::kind::ip) {
            notes.push_back(fmt::format("{}:{}: bind '{}': a bind needs an address, not a host name: skipped",
                                        b.at.file, b.at.line, b.addr.str()));
            continue;
        }
        for (unsigned port = b.addr.ports.lo; port <= b.addr.ports.hi; ++port) {
            auto ep = to_endpoint(b.addr.ip, static_cast<std::uint16_t>(port));
            out.push_back({ep, fmt::format("{}:{}", ep.address().to_string(), port), "", std::nullopt, -1, -1});
        }
    }
    return out;
}

// HAProxy's fallbacks: http-request defaults to client; keep-alive to http-request.
void set_client_timeouts(frontend_rt& f, const proxy_section& p)
{
    if (p.timeout.client)
        f.client = *p.timeout.client;
    f.client_fin = p.timeout.client_fin;
    f.http_request = p.timeout.http_request ? *p.timeout.http_request : f.client;
    f.http_keep_alive = p.timeout.http_keep_alive ? *p.timeout.http_keep_alive : f.http_request;
}

// rt.backends' index of the backend named so, or -1.
int backend_index(const runtime& rt, const std::string& name)
{
    for (std::size_t i = 0; i < rt.backends.size(); ++i)
        if (rt.backends[i].name == name)
            return static_cast<int>(i);
    return -1;
}

// Where a frontend's lines go (rt.log_targets starts with the global
// section's `globals` targets): its own `log` lines, the global ones with
// `log global` or without any line of its own, else bulwark's stdout.
std::vector<std::size_t> logs_of(const proxy_section& p, std::size_t globals, runtime& rt)
{
    std::vector<std::size_t> out;
    for (const auto& t : p.logs) {
        out.push_back(rt.log_targets.size());
        rt.log_targets.push_back(t);
    }
    if (p.log_global || p.logs.empty())
        for (std::size_t i = 0; i < globals; ++i)
            out.push_back(i);
    if (!out.empty())
        return out;
    for (std::size_t i = globals; i < rt.log_targets.size(); ++i)
        if (rt.log_targets[i].where == "stdout" && rt.log_targets[i].fmt == log_target::format::raw)
            return {i}; // the default, shared
    log_target def;
    def.where = "stdout";
    def.fmt = log_target::format::raw;
    def.len = 65535; // cut to PIPE_BUF on a pipe
    rt.log_targets.push_back(def);
    return {rt.log_targets.size() - 1};
}

// A frontend or listen section's frontend side; rt.backends are built.
result<frontend_rt> frontend_of(const proxy_section& p, runtime& rt, std::size_t globals)
{
    frontend_rt f;
    f.name = p.name;
    f.errorfiles = p.errorfiles;
    auto binds = binds_of(p, rt.notes);
    if (!binds)
        return fail(binds.message());
    f.binds = std::move(*binds);
    set_client_timeouts(f, p);
    f.buffer_request = option_on(p, "http-buffer-request");
    f.forwardfor = forwardfor_of(p);
    f.server_close = option_on(p, "http-server-close") || option_on(p, "httpclose");
    f.httplog = option_on(p, "httplog");
    f.tcp = p.mode != proxy_mode::http;
    f.tcplog = option_on(p, "tcplog");
    f.httpclose = option_on(p, "httpclose");
    f.dontlognull = option_on(p, "dontlognull");
    f.ignore_probes = option_on(p, "http-ignore-probes");
    f.maxconn = p.maxconn;
    if (p.has_be())
        f.default_backend = backend_index(rt, p.name);
    if (p.default_backend)
        f.default_backend = backend_index(rt, p.default_backend->backend);
    // A listen section is its own backend: one rule set for both sides.
    if (p.has_be())
        f.rules = rt.backends[static_cast<std::size_t>(backend_index(rt, p.name))].rules;
    else if (auto r = rules_of(p, rt.notes); !r)
        return fail(r.message());
    else
        f.rules = std::move(*r);
    for (const auto& u : p.use_backends) // the config checker made sure each exists
        f.use_backend.push_back(backend_index(rt, u.backend));
    f.logs = logs_of(p, globals, rt);
    f.sticks = rt.sticks.get();
    if (p.stick_table)
        f.table = rt.sticks->find(p.name);
    return f;
}

} // namespace

result<runtime> build_runtime(const proxies_config& cfg, unsigned cores)
{
    runtime rt;
    rt.threads = cfg.global.nbthread > 0 ? cfg.global.nbthread : static_cast<int>(std::max(1u, cores));
    rt.bufsize = cfg.global.tune_bufsize;
    rt.maxhdr = cfg.global.tune_http_maxhdr;
    rt.maxconn = cfg.global.maxconn;
    // before any proxy thread runs a regex
    rules::set_pcre2_limits({static_cast<std::uint32_t>(cfg.global.tune_pcre2_match_limit),
                             static_cast<std::uint32_t>(cfg.global.tune_pcre2_depth_limit)});
    rt.log_targets = cfg.global.log_targets;
    const std::size_t globals = rt.log_targets.size();
    asio::io_context resolver_ctx;
    tcp::resolver resolver(resolver_ctx);
    for (const auto& p : cfg.proxies)
        if (p.stick_table)
            rt.sticks->add(*p.stick_table);
    for (const auto& p : cfg.proxies) {
        if (!p.has_be())
            continue;
        auto b = backend_of(p, resolver, rt);
        if (!b)
            return fail(b.message());
        rt.backends.push_back(std::move(*b));
    }
    for (const auto& p : cfg.proxies) {
        if (!p.has_fe())
            continue;
        auto f = frontend_of(p, rt, globals);
        if (!f)
            return fail(f.message());
        if (p.disabled) { // HAProxy: a disabled frontend does not listen
            rt.notes.push_back(fmt::format("{}:{}: '{}' is disabled: it does not listen", p.at.file, p.at.line,
                                           p.name));
            continue;
        }
        if (!f->binds.empty())
            rt.frontends.push_back(std::move(*f));
    }
    return rt;
}

} // namespace bulwark::proxy
