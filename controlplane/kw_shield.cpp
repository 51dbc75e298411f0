// SPDX-License-Identifier: Apache-2.0
// The 'shield' section: the packet filter (DESIGN.md section 4).
#include "controlplane/parse_ctx.hpp"
#include "proxy/registry_types.hpp"

#include <array>
#include <fmt/format.h>
#include <utility>
#include <optional>
#include <netinet/in.h>

namespace bulwark::controlplane {

namespace {

// The EAL options an appliance needs: lcores, memory, vdevs and the PCI
// allow-list, the file prefix, the log level. Anything else (a driver
// plugin with -d, a trace file, a base address) is refused: the line runs
// as root.
struct eal_option {
    std::string_view name;
    bool takes_value;
};
constexpr std::array<eal_option, 22> eal_options{{
    {"-l", true}, {"--lcores", true}, {"-c", true}, {"--main-lcore", true},
    {"-m", true}, {"--socket-mem", true}, {"--socket-limit", true}, {"-n", true},
    {"--no-huge", false}, {"--in-memory", false}, {"--huge-dir", true}, {"--huge-unlink", false},
    {"--no-shconf", false}, {"--legacy-mem", false}, {"--single-file-segments", false}, {"--iova-mode", true},
    {"--vdev", true}, {"-a", true}, {"--allow", true}, {"--no-pci", false},
    {"--file-prefix", true}, {"--log-level", true},
}};

// The option of one eal word ("--vdev=x" and "-l0" carry their value),
// and whether the next word is its value.
std::optional<std::pair<eal_option, bool>> eal_option_of(std::string_view w)
{
    for (const auto& o : eal_options) {
        if (w == o.name)
            return std::pair{o, o.takes_value};
        if (o.name.starts_with("--") && w.starts_with(o.name) && w.size() > o.name.size() &&
            w[o.name.size()] == '=')
            return std::pair{o, false}; // --huge-unlink=always included
        if (!o.name.starts_with("--") && o.takes_value && w.starts_with(o.name) && w.size() > o.name.size())
            return std::pair{o, false};
    }
    return std::nullopt;
}

void kw_eal(parse_ctx& c)
{
    if (!c.args(1, -1, "eal EAL-ARGUMENTS..."))
        return;
    if (!c.sh->eal_args.empty())
        return c.alert("'eal' given twice");
    for (std::size_t i = 1; i < c.words.size(); ++i) {
        const std::string& w = c.words[i];
        auto o = eal_option_of(w);
        if (!o) {
            std::string names;
            for (const auto& e : eal_options)
                names += fmt::format("{}{}", names.empty() ? "" : ", ", e.name);
            return c.alert(fmt::format("EAL option '{}' is not allowed: 'eal' takes only lcores, memory, vdevs, "
                                       "the PCI allow-list, the file prefix and the log level ({})",
                                       w, names));
        }
        if (o->second && ++i >= c.words.size())
            return c.alert(fmt::format("EAL option '{}' expects a value", w));
    }
    c.sh->eal_args.assign(c.words.begin() + 1, c.words.end());
}

void kw_port(parse_ctx& c)
{
    if (!c.args(2, 2, "port outside|inside DEVICE"))
        return;
    const std::string& side = c.words[1];
    if (side != "outside" && side != "inside")
        return c.alert(fmt::format("unknown side '{}', {}", side, expected_one_of(side, {"outside", "inside"})));
    std::string& slot = side == "outside" ? c.sh->port_outside : c.sh->port_inside;
    if (!slot.empty())
        return c.alert(fmt::format("'port {}' given twice", side));
    slot = c.words[2];
    if (c.sh->port_outside == c.sh->port_inside)
        c.alert(fmt::format("'{}' cannot be both the outside and the inside port", slot));
}

void kw_host_port(parse_ctx& c)
{
    constexpr std::string_view usage = "host-port NAME address ADDR/LEN [ADDR/LEN...]";
    if (!c.args(3, 18, usage))
        return;
    if (c.words[2] != "address")
        return c.alert(fmt::format("unexpected '{}', expected '{}'", c.words[2], usage));
    // a Linux interface name, and a word of the --vdev it goes into
    const std::string_view name = c.words[1];
    if (name.empty() || name.size() > 15 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
            std::string_view::npos)
        return c.alert(fmt::format("'{}' is not an interface name: 1 to 15 letters, digits, '_', '-' or '.'", name));
    std::vector<cidr> addrs;
    for (std::size_t k = 3; k < c.words.size(); ++k) {
        std::string_view w = c.words[k];
        auto slash = w.find('/');
        if (slash == std::string_view::npos)
            return c.alert(fmt::format("'{}' needs a prefix length, expected ADDR/LEN", w));
        auto ip = parse_ip(w.substr(0, slash));
        auto net = parse_cidr(w);
        if (!ip || !net)
            return c.alert(net ? ip.message() : net.message());
        const cidr a{*ip, net->prefix}; // the host's own address, not the network
        for (const cidr& o : addrs)
            if (o.net == a.net)
                return c.alert(fmt::format("'{}' is given twice", w));
        addrs.push_back(a);
    }
    c.sh->host_port = c.words[1];
    c.sh->host_port_at = c.here();
    c.sh->host_addresses = std::move(addrs);
}

void kw_punt_ring(parse_ctx& c)
{
    if (!c.args(1, 1, "punt-ring SIZE"))
        return;
    auto n = parse_size(c.words[1]);
    if (!n)
        return c.alert(n.message());
    if (*n < 32 || *n > (1u << 20))
        return c.alert(fmt::format("{} is out of range, expected 32 to 1m frames", c.words[1]));
    c.sh->punt_ring = static_cast<std::uint32_t>(*n);
}

void kw_mac_table(parse_ctx& c)
{
    if (!c.args(1, 1, "mac-table SIZE"))
        return;
    auto n = parse_size(c.words[1]);
    if (!n)
        return c.alert(n.message());
    if (*n < 4 || *n > (1u << 20))
        return c.alert(fmt::format("{} is out of range, expected 4 to 1m stations", c.words[1]));
    if (*n & (*n - 1))
        return c.alert(fmt::format("{} is not a power of two (its buckets are found by a mask)", c.words[1]));
    c.sh->mac_table = static_cast<std::uint32_t>(*n);
}

void kw_mode(parse_ctx& c)
{
    if (!c.args(1, 1, "mode stateful|stateless"))
        return;
    const std::string& m = c.words[1];
    if (m != "stateful" && m != "stateless")
        return c.alert(fmt::format("unknown mode '{}', {}", m, expected_one_of(m, {"stateful", "stateless"})));
    c.sh->stateful = m == "stateful";
    c.sh->mode_given = true;
}

// pickup TIME: after start, flows may begin mid-stream (sessions that were
// open before a restart keep going)
void kw_pickup(parse_ctx& c)
{
    if (!c.args(1, 1, "pickup TIME"))
        return;
    auto t = parse_time(c.words[1]);
    if (!t)
        return c.alert(t.message());
    c.sh->pickup = std::chrono::duration_cast<std::chrono::seconds>(*t);
}

void kw_flows(parse_ctx& c)
{
    if (!c.args(1, 1, "flows SIZE"))
        return;
    auto n = parse_size(c.words[1]);
    if (!n)
        return c.alert(n.message());
    if (*n < 1024 || *n > (64u << 20))
        return c.alert(fmt::format("{} is out of range, expected 1k to 64m flows", c.words[1]));
    c.sh->flows = *n;
}

// fragments SIZE: fragment trains remembered (both modes), shared by the
// worker lcores like 'flows'
void kw_fragments(parse_ctx& c)
{
    if (!c.args(1, 1, "fragments SIZE"))
        return;
    auto n = parse_size(c.words[1]);
    if (!n)
        return c.alert(n.message());
    if (*n < 1024 || *n > (16u << 20))
        return c.alert(fmt::format("{} is out of range, expected 1k to 16m fragment trains", c.words[1]));
    c.sh->fragments = *n;
}

// event-ring N: shield-block events from the proxy the ring holds between
// two drains of the control thread (100 ms); past it they are counted
void kw_event_ring(parse_ctx& c)
{
    if (!c.args(1, 1, "event-ring SIZE"))
        return;
    auto n = parse_size(c.words[1]);
    if (!n)
        return c.alert(n.message());
    if (*n < 1 || *n > (1u << 20))
        return c.alert(fmt::format("{} is out of range, expected 1 to 1m events", c.words[1]));
    c.sh->event_ring = static_cast<std::uint32_t>(*n);
}

void kw_syn_guard(parse_ctx& c)
{
    if (!c.args(1, 2, "syn-guard auto SYN-PER-SECOND | always | off"))
        return;
    const std::string& m = c.words[1];
    using g = shield_section::syn_guard_mode;
    if (m == "auto") {
        if (c.words.size() != 3)
            return c.alert("'auto' expects a threshold in SYN per second: 'syn-guard auto 20000'");
        auto n = parse_int(c.words[2], 1, 1'000'000'000);
        if (!n)
            return c.alert(n.message());
        c.sh->syn_guard = g::automatic;
        c.sh->syn_guard_threshold = static_cast<std::uint64_t>(*n);
        return;
    }
    if (m != "always" && m != "off")
        return c.alert(fmt::format("unknown mode '{}', {}", m, expected_one_of(m, {"auto", "always", "off"})));
    if (c.words.size() == 3)
        return c.alert(fmt::format("'{}' takes no threshold", m));
    c.sh->syn_guard = m == "always" ? g::always : g::off;
}

// limit src pps N burst N | limit src new-flows N/s | limit src concurrent-flows N
// | limit src block TIME | limit src table SIZE: per-source limits on the
// sources of the outside port (dataplane/limits.hpp); an 'allow ... src
// CIDR' rule exempts its sources.
void kw_limit(parse_ctx& c)
{
    constexpr std::string_view usage = "limit src pps N burst N | limit src new-flows N/s | limit src "
                                       "concurrent-flows N | limit src block TIME | limit src table SIZE";
    if (c.words.size() < 4 || c.words[1] != "src")
        return c.alert(fmt::format("expected '{}'", usage));
    const std::string& what = c.words[2];
    auto number = [&](std::string_view w, std::uint64_t& out) {
        auto n = parse_int(w, 1, 1'000'000'000);
        if (!n)
            c.alert(fmt::format("'{}': {}", what, n.message()));
        else
            out = static_cast<std::uint64_t>(*n);
        return bool(n);
    };
    if (what == "pps") {
        if (c.words.size() != 6 || c.words[4] != "burst")
            return c.alert("expected 'limit src pps N burst N'");
        // (a burst below the rate is no mistake: the bucket refills
        // continuously, so a source sending evenly at the rate is never cut)
        if (number(c.words[3], c.sh->limit_pps))
            number(c.words[5], c.sh->limit_burst);
    } else if (what == "new-flows") {
        std::string_view w = c.words[3];
        if (c.words.size() != 4 || !w.ends_with("/s"))
            return c.alert("expected 'limit src new-flows N/s'");
        number(w.substr(0, w.size() - 2), c.sh->limit_new_flows);
    } else if (what == "concurrent-flows") {
        if (c.words.size() != 4)
            return c.alert("expected 'limit src concurrent-flows N'");
        number(c.words[3], c.sh->limit_concurrent);
    } else if (what == "block") {
        if (c.words.size() != 4)
            return c.alert("expected 'limit src block TIME' (0s: drop only, never blocklist)");
        auto t = parse_time(c.words[3]);
        if (!t)
            return c.alert(t.message());
        c.sh->limit_block = std::chrono::duration_cast<std::chrono::seconds>(*t);
    } else if (what == "table") {
        if (c.words.size() != 4)
            return c.alert("expected 'limit src table SIZE'");
        auto n = parse_size(c.words[3]);
        if (!n)
            return c.alert(n.message());
        if (*n < 1024 || *n > (64u << 20))
            return c.alert(fmt::format("{} is out of range, expected 1k to 64m sources", c.words[3]));
        c.sh->limit_sources = *n;
    } else {
        return c.alert(fmt::format("unknown limit '{}', {}", what,
                                   expected_one_of(what, {"pps", "new-flows", "concurrent-flows", "block", "table"})));
    }
}

void kw_block(parse_ctx& c)
{
    if (!c.args(2, -1, "block src CIDR [CIDR...]"))
        return;
    if (c.words[1] != "src")
        return c.alert(fmt::format("unexpected '{}', expected 'block src CIDR'", c.words[1]));
    for (std::size_t i = 2; i < c.words.size(); ++i) {
        auto n = parse_cidr(c.words[i]);
        if (!n)
            return c.alert(n.message());
        c.sh->blocks.push_back(*n);
    }
}

struct proto_name {
    std::string_view name;
    std::uint8_t number;
};
constexpr std::array protos{proto_name{"ip", 0}, proto_name{"any", 0}, proto_name{"tcp", IPPROTO_TCP},
                            proto_name{"udp", IPPROTO_UDP}, proto_name{"icmp", IPPROTO_ICMP},
                            proto_name{"icmpv6", IPPROTO_ICMPV6}, proto_name{"gre", IPPROTO_GRE},
                            proto_name{"esp", IPPROTO_ESP}, proto_name{"sctp", IPPROTO_SCTP}};

// allow|deny|punt PROTO [src CIDR] [dst CIDR] [sport LIST] [dport LIST]
void kw_filter(parse_ctx& c)
{
    const std::string& kw = c.words[0];
    if (!c.args(1, 9, fmt::format("{} PROTO [src CIDR] [dst CIDR] [sport PORTS] [dport PORTS]", kw)))
        return;
    shield_rule r;
    r.at = c.here();
    for (const auto& w : c.words)
        r.text += (r.text.empty() ? "" : " ") + w;
    r.v = kw == "allow" ? verdict::allow : kw == "deny" ? verdict::deny : verdict::punt;
    const std::string& p = c.words[1];
    bool known = false;
    for (auto pr : protos)
        if (pr.name == p) {
            r.proto = pr.number;
            known = true;
        }
    if (!known) {
        auto n = parse_int(p, 0, 255);
        if (!n) {
            std::vector<std::string_view> names;
            for (auto pr : protos)
                names.push_back(pr.name);
            return c.alert(fmt::format("unknown protocol '{}', {} or a number 0 to 255", p, expected_one_of(p, names)));
        }
        r.proto = static_cast<std::uint8_t>(*n);
    }
    bool ports_ok = r.proto == IPPROTO_TCP || r.proto == IPPROTO_UDP || r.proto == IPPROTO_SCTP;
    for (std::size_t i = 2; i < c.words.size(); i += 2) {
        const std::string& key = c.words[i];
        if (i + 1 >= c.words.size())
            return c.alert(fmt::format("'{}' expects a value", key));
        const std::string& v = c.words[i + 1];
        if (key == "src" || key == "dst") {
            auto n = parse_cidr(v);
            if (!n)
                return c.alert(n.message());
            std::optional<cidr>& slot = key == "src" ? r.src : r.dst;
            if (slot)
                return c.alert(fmt::format("'{}' given twice", key));
            slot = *n;
        } else if (key == "sport" || key == "dport") {
            if (!ports_ok)
                return c.alert(fmt::format("'{}' needs tcp, udp or sctp, not '{}'", key, p));
            auto l = parse_port_list(v);
            if (!l)
                return c.alert(l.message());
            (key == "sport" ? r.sport : r.dport) = *l;
        } else {
            return c.alert(fmt::format("unexpected '{}', {}", key, expected_one_of(key, {"src", "dst", "sport", "dport"})));
        }
    }
    if (r.src && r.dst && r.src->net.fam != r.dst->net.fam)
        return c.alert("'src' and 'dst' are of different address families");
    if (r.proto == IPPROTO_ICMPV6 && ((r.src && r.src->net.fam == family::ipv4) || (r.dst && r.dst->net.fam == family::ipv4)))
        return c.alert("'icmpv6' with an IPv4 address never matches");
    if (r.proto == IPPROTO_ICMP && ((r.src && r.src->net.fam == family::ipv6) || (r.dst && r.dst->net.fam == family::ipv6)))
        return c.alert("'icmp' with an IPv6 address never matches (use 'icmpv6')");
    c.sh->rules.push_back(std::move(r));
}

void kw_default(parse_ctx& c)
{
    if (!c.args(1, 1, "default allow|deny"))
        return;
    const std::string& v = c.words[1];
    if (v != "allow" && v != "deny")
        return c.alert(fmt::format("unknown verdict '{}', {}", v, expected_one_of(v, {"allow", "deny"})));
    c.sh->default_verdict = v == "allow" ? verdict::allow : verdict::deny;
}

// drop-capture FILE [per-second N] [max-size SIZE]
void kw_drop_capture(parse_ctx& c)
{
    constexpr std::string_view usage = "drop-capture FILE [per-second N] [max-size SIZE]";
    if (!c.args(1, 5, usage))
        return;
    if (c.words.size() % 2 != 0)
        return c.alert(fmt::format("expected '{}'", usage));
    c.sh->drop_capture = c.words[1];
    for (std::size_t i = 2; i + 1 < c.words.size(); i += 2) {
        const std::string& key = c.words[i];
        const std::string& v = c.words[i + 1];
        if (key == "per-second") {
            auto n = parse_int(v, 1, 100000);
            if (!n)
                return c.alert(n.message());
            c.sh->drop_capture_rate = static_cast<unsigned>(*n);
        } else if (key == "max-size") {
            auto n = parse_size(v);
            if (!n)
                return c.alert(n.message());
            if (*n < 4096)
                return c.alert(fmt::format("max-size '{}' is under 4096 bytes: no frame would fit", v));
            c.sh->drop_capture_max = *n;
        } else {
            return c.alert(fmt::format("unexpected '{}', {}", key, expected_one_of(key, {"per-second", "max-size"})));
        }
    }
}

constexpr unsigned S = sec_shield;

constexpr std::array table{
    section_kw{"eal", S, kw_eal, {}},
    section_kw{"port", S, kw_port, {}},
    section_kw{"host-port", S, kw_host_port, {}},
    section_kw{"mode", S, kw_mode, {}},
    section_kw{"flows", S, kw_flows, {}},
    section_kw{"pickup", S, kw_pickup, {}},
    section_kw{"fragments", S, kw_fragments, {}},
    section_kw{"syn-guard", S, kw_syn_guard, {}},
    section_kw{"limit", S, kw_limit, {}},
    section_kw{"block", S, kw_block, {}},
    section_kw{"allow", S, kw_filter, {}},
    section_kw{"deny", S, kw_filter, {}},
    section_kw{"punt", S, kw_filter, {}, true},
    section_kw{"default", S, kw_default, {}},
    section_kw{"drop-capture", S, kw_drop_capture, {}},
    section_kw{"event-ring", S, kw_event_ring, {}},
    section_kw{"punt-ring", S, kw_punt_ring, {}},
    section_kw{"mac-table", S, kw_mac_table, {}},
};

} // namespace

std::span<const section_kw> shield_keywords() { return table; }

} // namespace bulwark::controlplane
