// SPDX-License-Identifier: Apache-2.0
#include "controlplane/parser.hpp"

#include "controlplane/parse_ctx.hpp"
#include "proxy/registry.hpp"

#include <algorithm>
#include <deque>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <dirent.h>
#include <sys/stat.h>

namespace bulwark::controlplane {

void parse_ctx::pending(std::string_view kw, std::string_view by)
{
    if (by.empty())
        return;
    diag.warn(file, line, kw, fmt::format("parsed, but not built yet (waits for {}): it has no effect at run time", by));
}

bool parse_ctx::args(std::size_t min, long max, std::string_view usage)
{
    std::size_t n = words.size() - 1;
    if (n >= min && (max < 0 || n <= static_cast<std::size_t>(max)))
        return true;
    alert(fmt::format("{}, expected '{}'",
                      n < min ? (min - n > 1 ? "missing arguments" : "missing argument") : "too many arguments", usage));
    return false;
}

bool parse_ctx::int_arg(std::int64_t lo, std::int64_t hi, int* out)
{
    if (!args(1, 1, fmt::format("{} NUMBER", words[0])))
        return false;
    auto n = parse_int(words[1], lo, hi);
    if (!n) {
        alert(n.message());
        return false;
    }
    if (out)
        *out = static_cast<int>(*n);
    return true;
}

std::string parse_ctx::resolve(std::string_view path) const
{
    if (path.empty() || path.front() == '/')
        return std::string(path);
    std::string base;
    if (st.default_path == "config")
        base = st.file_dir;
    else if (st.default_path == "parent")
        base = st.file_dir + "/..";
    else if (st.default_path == "origin")
        base = st.default_path_origin;
    if (base.empty())
        return std::string(path);
    return base + "/" + std::string(path);
}

std::vector<std::string_view> keyword_names(std::span<const section_kw> table, unsigned sec)
{
    std::vector<std::string_view> names;
    for (const auto& k : table)
        if (k.sections & sec)
            names.push_back(k.name);
    return names;
}

namespace {

// Sections HAProxy has that bulwark does not: their lines are skipped with
// one alert, rather than one per line.
constexpr std::string_view foreign_sections[] = {"userlist", "peers", "resolvers", "cache", "program",
                                                 "http-errors", "ring", "mailers", "fcgi-app", "namespace_list"};

bool valid_proxy_name(std::string_view n)
{
    return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_' || c == '.' || c == ':';
    });
}

// True when the condition reads the request's first bytes (a TLS
// ClientHello) and nothing else could make it true before they arrive.
bool reads_hello(const proxy_section& p, const condition& cond, std::string& fetch)
{
    auto acl_hello = [&](const acl_def& a) {
        auto f = bulwark::proxy::find_fetch(a.expr.fetch);
        if (f && (f->fetch->where & bulwark::proxy::at_hello) && !(f->fetch->where & bulwark::proxy::at_conn)) {
            fetch = a.expr.fetch;
            return true;
        }
        return false;
    };
    for (const auto& all : cond.any_of)
        for (const auto& t : all) {
            if (t.anon >= 0 && acl_hello(p.acls[static_cast<std::size_t>(t.anon)]))
                return true;
            for (const auto& a : p.acls)
                if (!t.acl.empty() && a.name == t.acl && acl_hello(a))
                    return true;
        }
    return false;
}

std::string dir_of(std::string_view path);

class loader {
public:
    loader(load_result& out, const env_lookup& env) : out_(out)
    {
        st_.env = [this, env](std::string_view name) -> std::optional<std::string> {
            if (auto it = st_.setenv.find(std::string(name)); it != st_.setenv.end())
                return it->second;
            return env ? env(name) : std::nullopt;
        };
    }

    void read_text(std::string_view text, std::string_view file, std::string_view dir)
    {
        st_.file_dir = std::string(dir);
        sec_ = 0;
        px_index_ = -1;
        sh_index_ = -1;
        skipping_ = false;
        read_lines(text, file);
    }

    void finish();

private:
    static constexpr std::size_t max_line = 65536;

    void handle(std::string_view file, int line, std::vector<std::string> words);
    bool open_section(parse_ctx& c);
    void include_pack(parse_ctx& c);
    void read_lines(std::string_view text, std::string_view file);

    load_result& out_;
    loader_state st_;
    unsigned sec_ = 0;
    int px_index_ = -1, sh_index_ = -1;
    bool skipping_ = false;           // inside a section bulwark does not support
    std::optional<proxy_section> defaults_;   // the last defaults section, copied into new proxies
    bool in_defaults_ = false;
    int include_depth_ = 0;           // > 0 while reading a rule pack ('include')
    std::deque<std::string> include_names_; // the packs' paths: lines read keep views of them
};

// The lines of one file (or rule pack), each handled in turn.
void loader::read_lines(std::string_view text, std::string_view file)
{
    int line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line_no;
        if (line.size() > max_line) {
            out_.diag.alert(file, line_no, "", fmt::format("line too long ({} bytes, at most {})", line.size(),
                                                           max_line));
            continue;
        }
        auto words = split_words(line, st_.env);
        if (!words) {
            out_.diag.alert(file, line_no, "", words.message());
            continue;
        }
        if (words->empty())
            continue;
        handle(file, line_no, std::move(*words));
    }
}

// include FILE, inside a proxy section: the file's lines read as if they
// were written here (a rule pack). Its path is relative to the including
// file's directory, else found as other paths are (default-path). A pack
// opens no section; packs may include packs, 8 deep at most.
void loader::include_pack(parse_ctx& c)
{
    if (!c.args(1, 1, "include FILE"))
        return;
    if (include_depth_ >= 8)
        return c.alert("includes nested more than 8 deep (does a pack include itself?)");
    std::string path = c.words[1];
    struct stat sb{};
    if (path.front() != '/' && stat((st_.file_dir + "/" + path).c_str(), &sb) == 0)
        path = st_.file_dir + "/" + path;
    else
        path = c.resolve(path);
    std::ifstream in(path, std::ios::binary);
    if (!in || stat(path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode))
        return c.alert(fmt::format("cannot read the rule pack '{}'", path));
    std::stringstream ss;
    ss << in.rdbuf();
    include_names_.push_back(path);
    std::string saved_dir = st_.file_dir;
    st_.file_dir = dir_of(path);
    ++include_depth_;
    read_lines(ss.str(), include_names_.back());
    --include_depth_;
    st_.file_dir = saved_dir;
}

bool loader::open_section(parse_ctx& c)
{
    const std::string& kw = c.words[0];
    unsigned sec = kw == "global" ? sec_global
                   : kw == "defaults" ? sec_defaults
                   : kw == "frontend" ? sec_frontend
                   : kw == "backend" ? sec_backend
                   : kw == "listen" ? sec_listen
                   : kw == "shield" ? sec_shield
                                    : 0u;
    if (sec == 0) {
        if (std::find(std::begin(foreign_sections), std::end(foreign_sections), kw) != std::end(foreign_sections)) {
            c.alert(fmt::format("'{}' sections are not supported by bulwark; the section is skipped", kw));
            sec_ = 0;
            skipping_ = true;
            return true;
        }
        return false;
    }
    skipping_ = false;
    sec_ = sec;
    in_defaults_ = false;
    px_index_ = -1;
    sh_index_ = -1;
    if (sec == sec_global) {
        if (c.words.size() > 1)
            c.alert(fmt::format("unexpected '{}': 'global' takes no name", c.words[1]));
        return true;
    }
    if (sec == sec_defaults) {
        if (c.words.size() > 2)
            c.alert(fmt::format("unexpected '{}', expected 'defaults [NAME]'", c.words[2]));
        defaults_.emplace();
        defaults_->kind = sec_defaults;
        defaults_->at = c.here();
        if (c.words.size() > 1)
            defaults_->name = c.words[1];
        in_defaults_ = true;
        return true;
    }
    if (c.words.size() < 2) {
        c.alert(fmt::format("missing name, expected '{} NAME'", kw));
        skipping_ = true; // its lines would only add noise
        return true;
    }
    if (c.words.size() > 2)
        c.alert(fmt::format("unexpected '{}' after the name, expected '{} NAME'", c.words[2], kw));
    const std::string& name = c.words[1];
    if (!valid_proxy_name(name))
        c.alert(fmt::format("invalid name '{}': use letters, digits, '-', '_', '.' and ':'", name));
    if (sec == sec_shield) {
        out_.cfg.shields.emplace_back();
        out_.cfg.shields.back().at = c.here();
        out_.cfg.shields.back().name = name;
        sh_index_ = static_cast<int>(out_.cfg.shields.size()) - 1;
        return true;
    }
    proxy_section p;
    if (defaults_)
        p = *defaults_;
    p.kind = sec;
    p.name = name;
    p.at = c.here();
    out_.cfg.proxies.push_back(std::move(p));
    px_index_ = static_cast<int>(out_.cfg.proxies.size()) - 1;
    return true;
}

void loader::handle(std::string_view file, int line, std::vector<std::string> words)
{
    parse_ctx c{out_.cfg, out_.diag, st_, file, line, std::move(words)};
    if (include_depth_ > 0) {
        const std::string& kw = c.words[0];
        for (std::string_view sec : {"global", "defaults", "frontend", "backend", "listen", "shield"})
            if (kw == sec)
                return c.alert(fmt::format("a rule pack cannot open a section ('{}'): it is read inside the "
                                           "section that includes it",
                                           kw));
    }
    if (open_section(c))
        return;
    if (skipping_)
        return;
    if (sec_ == 0) {
        c.alert("outside of any section: expected 'global', 'defaults', 'frontend', 'backend', 'listen' or "
                "'shield' first");
        return;
    }
    c.sec = sec_;
    c.px = in_defaults_ ? &*defaults_ : px_index_ >= 0 ? &out_.cfg.proxies[static_cast<std::size_t>(px_index_)]
                                                       : nullptr;
    c.sh = sh_index_ >= 0 ? &out_.cfg.shields[static_cast<std::size_t>(sh_index_)] : nullptr;

    auto table = sec_ == sec_global ? global_keywords() : sec_ == sec_shield ? shield_keywords() : proxy_keywords();
    const std::string& kw = c.words[0];
    if (kw == "include" && c.px && !in_defaults_)
        return include_pack(c);
    for (const auto& row : table) {
        if (row.name != kw)
            continue;
        if (!(row.sections & sec_)) {
            std::string where;
            for (unsigned s : {sec_global, sec_defaults, sec_frontend, sec_backend, sec_listen, sec_shield})
                if (row.sections & s)
                    where += fmt::format("{}'{}'", where.empty() ? "" : ", ", section_name(s));
            c.alert(fmt::format("not allowed in a '{}' section (allowed in {})", section_name(sec_), where));
            return;
        }
        std::size_t before = out_.diag.alerts();
        row.fn(c);
        if (out_.diag.alerts() == before && row.pending != pending_varies && !row.reports_itself)
            c.pending(kw, row.pending);
        return;
    }
    auto names = keyword_names(table, sec_);
    auto best = closest(kw, names);
    c.alert(fmt::format("unknown keyword in a '{}' section{}", section_name(sec_),
                        best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best)));
}

// ---- checks that need the whole configuration ------------------------------

using proxy_names = std::map<std::string, const proxy_section*>;

// Frontends and backends each have their own names: alerts on a second one
// of a name and returns the backends by name.
proxy_names check_proxy_names(const config& cfg, diagnostics& d)
{
    proxy_names fe_names, be_names;
    for (const auto& p : cfg.proxies) {
        for (auto [cap, names] : {std::pair{p.has_fe(), &fe_names}, std::pair{p.has_be(), &be_names}}) {
            if (!cap)
                continue;
            auto [it, fresh] = names->emplace(p.name, &p);
            if (!fresh)
                d.alert(p.at.file, p.at.line, section_name(p.kind),
                        fmt::format("'{}' has the same name as the {} declared at {}:{}", p.name,
                                    section_name(it->second->kind), it->second->at.file, it->second->at.line));
        }
    }
    return be_names;
}

// use_backend and default_backend name a backend that exists.
void check_backend_refs(const proxy_section& p, const proxy_names& be_names, diagnostics& d)
{
    std::vector<std::string_view> backends;
    for (const auto& [n, b] : be_names)
        backends.push_back(n);
    auto check_ref = [&](const proxy_section::switching& s, std::string_view kw) {
        if (s.backend.find("%[") != std::string::npos)
            return; // a dynamic name, resolved per request
        if (be_names.count(s.backend))
            return;
        auto best = closest(s.backend, backends);
        d.alert(s.at.file, s.at.line, kw,
                fmt::format("no backend named '{}'{}", s.backend,
                            best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best)));
    };
    for (const auto& u : p.use_backends)
        check_ref(u, "use_backend");
    if (p.default_backend && p.has_fe())
        check_ref(*p.default_backend, "default_backend");
}

// A frontend that cannot accept, cannot route, or decides on bytes it
// never waits for.
void check_frontend(const proxy_section& p, diagnostics& d)
{
    if (p.has_fe() && p.binds.empty())
        d.warn(p.at.file, p.at.line, section_name(p.kind),
               fmt::format("'{}' has no 'bind' line: it accepts no connection (declare it as a backend if "
                           "that was meant)",
                           p.name));
    if (p.kind == sec_frontend && !p.default_backend && p.use_backends.empty())
        d.warn(p.at.file, p.at.line, "frontend",
               fmt::format("'{}' has no 'default_backend' nor 'use_backend': its requests get 503", p.name));
    if (p.has_fe() && !p.inspect_delay) {
        std::string fetch;
        for (const auto& u : p.use_backends)
            if (u.cond && reads_hello(p, *u.cond, fetch))
                d.warn(u.at.file, u.at.line, "use_backend",
                       fmt::format("'{}' reads the first bytes of the request but '{}' has no 'tcp-request "
                                   "inspect-delay': it is evaluated on what has arrived, usually nothing",
                                   fetch, p.name));
        for (const auto& r : p.rules)
            if (r.family == "tcp-request content" && r.cond && reads_hello(p, *r.cond, fetch))
                d.warn(r.at.file, r.at.line, r.family,
                       fmt::format("'{}' reads the first bytes of the request but '{}' has no 'tcp-request "
                                   "inspect-delay': it is evaluated on what has arrived, usually nothing",
                                   fetch, p.name));
    }
}

// As HAProxy: a proxy without these timeouts can hold connections forever.
void check_timeouts(const proxy_section& p, diagnostics& d)
{
    std::vector<std::string_view> missing;
    if (p.has_fe() && !p.timeout.client)
        missing.push_back("client");
    if (p.has_be() && !p.timeout.connect)
        missing.push_back("connect");
    if (p.has_be() && !p.timeout.server)
        missing.push_back("server");
    if (!missing.empty()) {
        std::string list;
        for (auto m : missing)
            list += fmt::format("{}'timeout {}'", list.empty() ? "" : ", ", m);
        d.warn(p.at.file, p.at.line, section_name(p.kind),
               fmt::format("'{}' is missing {} (here or in 'defaults'): idle connections would be kept forever",
                           p.name, list));
    }
}

// What a proxy in tcp mode ignores: HTTP rules, captures, HTTP options.
void check_tcp_mode(const proxy_section& p, diagnostics& d)
{
    if (p.mode == proxy_mode::http)
        return;
    for (const auto& r : p.rules)
        if (r.family.starts_with("http-") || r.family.starts_with("req") || r.family.starts_with("rsp"))
            d.warn(r.at.file, r.at.line, r.family,
                   fmt::format("ignored: '{}' is in tcp mode and this rule requires 'mode http'", p.name));
    for (const auto& cap : p.captures)
        d.warn(cap.at.file, cap.at.line, "capture",
               fmt::format("ignored: '{}' is in tcp mode and captures require 'mode http'", p.name));
    for (const char* opt : {"http-buffer-request", "httplog", "forwardfor", "httpclose", "http-server-close",
                            "http-keep-alive", "httpchk"})
        if (p.options.count(opt) && p.options.at(opt))
            d.warn(p.at.file, p.at.line, fmt::format("option {}", opt),
                   fmt::format("ignored: '{}' is in tcp mode and this option requires 'mode http'", p.name));
}

// The table a stick-counter fetch names, if any: sc_*(N,T) and
// scN_*(T), src_*(T) (HAProxy's optional table argument).
std::optional<std::string_view> fetch_table_arg(const bulwark::proxy::sample_expr& e)
{
    const auto& f = e.fetch;
    std::size_t at = 0;
    if (f.starts_with("sc_"))
        at = 1;
    else if (!(f.starts_with("src_") || (f.size() > 3 && f.starts_with("sc") && f[3] == '_')))
        return std::nullopt;
    if (e.args.size() <= at)
        return std::nullopt;
    return e.args[at];
}

// track-sc rules and stick-counter fetches name a section that has a
// stick-table; a track-sc without 'table' counts in its own section's
// (HAProxy refuses both at start).
void check_stick_refs(const proxy_section& p, const config& cfg, diagnostics& d)
{
    std::vector<std::string_view> tables;
    for (const auto& q : cfg.proxies)
        if (q.stick_table)
            tables.push_back(q.name);
    auto missing = [&](std::string_view name) -> std::optional<std::string> {
        if (std::find(tables.begin(), tables.end(), name) != tables.end())
            return std::nullopt;
        auto best = closest(name, tables);
        return fmt::format("no stick-table named '{}'{}", name,
                           best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best));
    };
    for (const auto& r : p.rules) {
        if (!r.action.starts_with("track-sc"))
            continue;
        const auto kw = fmt::format("{} {}", r.family, r.action);
        if (r.args.size() == 3 && r.args[1] == "table") {
            if (auto m = missing(r.args[2]))
                d.alert(r.at.file, r.at.line, kw, *m);
        } else if (r.args.size() == 1 && !p.stick_table) {
            d.alert(r.at.file, r.at.line, kw,
                    fmt::format("no stick-table in '{}' and no 'table' argument", p.name));
        }
    }
    for (const auto& a : p.acls)
        if (auto t = fetch_table_arg(a.expr))
            if (auto m = missing(*t))
                d.alert(a.at.file, a.at.line, a.expr.fetch, *m);
}

// A shield section needs its EAL line and both ports; one per process.
// The lcores an eal line's '-l LIST' names ("0-1", "0,2-3"), or nullopt
// when it gives them another way (--lcores, -c MASK) or in a form not read
// here: EAL then decides, and start-up reports what it found.
std::optional<unsigned> eal_lcore_count(const std::vector<std::string>& args)
{
    std::string list;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "-l" && i + 1 < args.size())
            list = args[i + 1];
        else if (args[i].rfind("-l", 0) == 0 && args[i].size() > 2 && args[i][2] != '-')
            list = args[i].substr(2);
        else if (args[i] == "--lcores" || args[i].rfind("--lcores=", 0) == 0 || args[i] == "-c")
            return std::nullopt;
    }
    if (list.empty())
        return std::nullopt;
    std::set<unsigned> cores;
    std::size_t at = 0;
    while (at <= list.size()) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        const std::string item = list.substr(at, comma - at);
        const std::size_t dash = item.find('-');
        unsigned lo = 0, hi = 0;
        const auto num = [](const std::string& w, unsigned& v) {
            if (w.empty() || w.size() > 4 || w.find_first_not_of("0123456789") != std::string::npos)
                return false;
            v = static_cast<unsigned>(std::stoul(w));
            return true;
        };
        if (!num(item.substr(0, dash), lo) || !num(dash == std::string::npos ? item : item.substr(dash + 1), hi) ||
            hi < lo)
            return std::nullopt;
        for (unsigned c = lo; c <= hi; ++c)
            cores.insert(c);
        at = comma + 1;
    }
    return static_cast<unsigned>(cores.size());
}

void check_shields(const config& cfg, diagnostics& d)
{
    std::set<std::string> shield_names;
    for (const auto& s : cfg.shields) {
        if (!shield_names.insert(s.name).second)
            d.alert(s.at.file, s.at.line, "shield", fmt::format("duplicate shield section '{}'", s.name));
        if (s.eal_args.empty())
            d.alert(s.at.file, s.at.line, "shield", fmt::format("'{}' has no 'eal' line", s.name));
        if (s.port_outside.empty() || s.port_inside.empty())
            d.alert(s.at.file, s.at.line, "shield",
                    fmt::format("'{}' needs both 'port outside' and 'port inside'", s.name));
        if (!s.stateful && s.syn_guard != shield_section::syn_guard_mode::off)
            d.alert(s.at.file, s.at.line, "shield",
                    fmt::format("'{}' has a 'syn-guard' but is 'mode stateless': the SYN guard keeps the flows it "
                                "opens, it needs 'mode stateful'",
                                s.name));
        bool punts = std::any_of(s.rules.begin(), s.rules.end(), [](auto& r) { return r.v == verdict::punt; });
        if (punts && s.host_port.empty())
            d.alert(s.at.file, s.at.line, "shield",
                    fmt::format("'{}' has 'punt' rules but no 'host-port' to hand them to", s.name));
        // what start-up refuses (shield.cpp setup_host), said by -c: the
        // kernel's frames are tracked on the one lcore serving the host port
        if (const auto lcores = eal_lcore_count(s.eal_args);
            !s.host_port.empty() && s.stateful && lcores && *lcores > 2)
            d.alert(s.host_port_at.file, s.host_port_at.line, "host-port",
                    fmt::format("'{}' is in mode stateful with {} worker lcores: a host port is served by one lcore, "
                                "which tracks the flows of what the kernel sends, so a punted flow's client side "
                                "must reach the same one: give one worker lcore (e.g. 'eal -l 0-1 ...') or mode "
                                "stateless",
                                s.name, *lcores - 1));
        if (!s.stateful && (s.limit_new_flows || s.limit_concurrent))
            d.warn(s.at.file, s.at.line, "limit",
                   fmt::format("'{}' is in mode stateless: 'limit src new-flows' and 'limit src concurrent-flows' "
                               "count flows, which only mode stateful tracks; they are ignored",
                               s.name));
    }
    if (cfg.shields.size() > 1)
        d.alert(cfg.shields[1].at.file, cfg.shields[1].at.line, "shield",
                "only one shield section is supported (one dataplane per process)");
}

// shield-block rules with no shield to post to: the proxy alone still
// refuses, but the packet half of the rule does nothing.
void check_shield_blocks(const config& cfg, diagnostics& d)
{
    if (!cfg.shields.empty())
        return;
    for (const auto& p : cfg.proxies)
        for (const auto& r : p.rules)
            if (r.action == "shield-block")
                d.warn(r.at.file, r.at.line, r.family + " shield-block",
                       "no 'shield' section: the rule refuses as deny/reject does, but its packet-layer block is "
                       "inactive (events counted as 'not posted: no shield')");
}

// Checks that need the whole file: references, duplicates, modes. Each
// proxy's checks run in turn (diagnostics of one place keep their order).
void loader::finish()
{
    auto& cfg = out_.cfg;
    auto& d = out_.diag;
    proxy_names be_names = check_proxy_names(cfg, d);
    for (const auto& p : cfg.proxies) {
        check_backend_refs(p, be_names, d);
        check_frontend(p, d);
        check_timeouts(p, d);
        check_tcp_mode(p, d);
        check_stick_refs(p, cfg, d);
    }
    check_shields(cfg, d);
    check_shield_blocks(cfg, d);
}

std::string dir_of(std::string_view path)
{
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos)
        return ".";
    return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

} // namespace

load_result load_text(std::string_view text, std::string_view name, const env_lookup& env, std::string_view base_dir)
{
    load_result out;
    loader l(out, env);
    l.read_text(text, name, base_dir);
    l.finish();
    out.diag.sort_by_place();
    return out;
}

load_result load_files(std::span<const std::string> paths, const env_lookup& env)
{
    load_result out;
    loader l(out, env);
    constexpr std::uintmax_t max_file = 64u << 20;
    // A directory stands for its *.cfg files in lexical order, as in HAProxy.
    std::vector<std::string> files;
    for (const auto& path : paths) {
        struct stat sb{};
        if (stat(path.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            files.push_back(path);
            continue;
        }
        std::vector<std::string> in_dir;
        if (DIR* d = opendir(path.c_str())) {
            while (auto* e = readdir(d)) {
                std::string n = e->d_name;
                if (n.size() > 4 && n.ends_with(".cfg") && !n.starts_with("."))
                    in_dir.push_back(path + (path.ends_with("/") ? "" : "/") + n);
            }
            closedir(d);
        }
        if (in_dir.empty())
            out.diag.warn(path, 0, "", "directory holds no *.cfg file");
        std::sort(in_dir.begin(), in_dir.end());
        files.insert(files.end(), in_dir.begin(), in_dir.end());
    }
    for (const auto& path : files) {
        struct stat sb{};
        if (stat(path.c_str(), &sb) != 0) {
            out.diag.alert(path, 0, "", "cannot open the file: no such file or no permission");
            continue;
        }
        if (!S_ISREG(sb.st_mode)) {
            out.diag.alert(path, 0, "", "not a regular file");
            continue;
        }
        if (static_cast<std::uintmax_t>(sb.st_size) > max_file) {
            out.diag.alert(path, 0, "", fmt::format("file too large ({} bytes, at most {})", sb.st_size, max_file));
            continue;
        }
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        if (!in && !in.eof()) {
            out.diag.alert(path, 0, "", "read error");
            continue;
        }
        l.read_text(ss.str(), path, dir_of(path));
    }
    l.finish();
    out.diag.sort_by_place();
    return out;
}

} // namespace bulwark::controlplane
