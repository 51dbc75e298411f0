// SPDX-License-Identifier: Apache-2.0
#include "common/units.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace bulwark {

namespace {

// Leading decimal digits of w as an unsigned value; sets rest to what follows.
bool leading_number(std::string_view w, std::uint64_t& v, std::string_view& rest)
{
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    if (ec != std::errc() || p == w.data())
        return false;
    rest = w.substr(static_cast<std::size_t>(p - w.data()));
    return true;
}

} // namespace

std::vector<std::string_view> split(std::string_view s, char sep)
{
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        auto at = s.find(sep, start);
        parts.push_back(s.substr(start, at == std::string_view::npos ? s.npos : at - start));
        if (at == std::string_view::npos)
            return parts;
        start = at + 1;
    }
}

result<std::chrono::milliseconds> parse_time(std::string_view word)
{
    std::uint64_t v;
    std::string_view unit;
    if (word.empty() || !leading_number(word, v, unit))
        return fail(fmt::format("invalid time '{}', expected a number with an optional unit us|ms|s|m|h|d", word));
    std::uint64_t ms;
    constexpr std::uint64_t max_ms = 0x7fffffff;
    auto mul = [&](std::uint64_t f) { return v > max_ms / f ? max_ms + 1 : v * f; };
    if (unit.empty() || unit == "ms")
        ms = v;
    else if (unit == "us")
        ms = (v + 999) / 1000;
    else if (unit == "s")
        ms = mul(1000);
    else if (unit == "m")
        ms = mul(60'000);
    else if (unit == "h")
        ms = mul(3'600'000);
    else if (unit == "d")
        ms = mul(86'400'000);
    else
        return fail(fmt::format("invalid time unit '{}' in '{}', expected us|ms|s|m|h|d", unit, word));
    if (ms > max_ms)
        return fail(fmt::format("time '{}' is too large (at most 2147483647ms, about 24.8 days)", word));
    return std::chrono::milliseconds(ms);
}

result<std::uint64_t> parse_size(std::string_view word)
{
    std::uint64_t v;
    std::string_view unit;
    if (word.empty() || !leading_number(word, v, unit))
        return fail(fmt::format("invalid size '{}', expected a number with an optional suffix k|m|g", word));
    unsigned shift = 0;
    if (unit == "k" || unit == "K")
        shift = 10;
    else if (unit == "m" || unit == "M")
        shift = 20;
    else if (unit == "g" || unit == "G")
        shift = 30;
    else if (!unit.empty())
        return fail(fmt::format("invalid size suffix '{}' in '{}', expected k|m|g", unit, word));
    if (shift && v > (UINT64_MAX >> shift))
        return fail(fmt::format("size '{}' is too large", word));
    return v << shift;
}

result<std::int64_t> parse_int(std::string_view word, std::int64_t lo, std::int64_t hi)
{
    std::int64_t v;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
    if (word.empty() || ec != std::errc() || p != word.data() + word.size())
        return fail(fmt::format("invalid number '{}', expected an integer", word));
    if (v < lo || v > hi)
        return fail(fmt::format("{} is out of range, expected {} to {}", v, lo, hi));
    return v;
}

std::string ip_addr::str() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(fam == family::ipv4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

result<ip_addr> parse_ip(std::string_view word)
{
    ip_addr a;
    if (word.size() >= INET6_ADDRSTRLEN)
        return fail(fmt::format("invalid IP address '{}'", word));
    std::string s(word);
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
        a.fam = family::ipv4;
        return a;
    }
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
        a.fam = family::ipv6;
        return a;
    }
    return fail(fmt::format("invalid IP address '{}'", word));
}

std::string cidr::str() const { return fmt::format("{}/{}", net.str(), prefix); }

result<cidr> parse_cidr(std::string_view word)
{
    auto slash = word.find('/');
    auto ip = parse_ip(word.substr(0, slash));
    if (!ip)
        return fail(fmt::format("invalid network '{}', expected ADDR or ADDR/LEN", word));
    cidr c{*ip, 0};
    unsigned max = ip->fam == family::ipv4 ? 32 : 128;
    if (slash == std::string_view::npos) {
        c.prefix = static_cast<std::uint8_t>(max);
    } else {
        std::string_view len = word.substr(slash + 1);
        auto mask = ip->fam == family::ipv4 && len.find('.') != std::string_view::npos ? parse_ip(len)
                                                                                      : result<ip_addr>(fail(""));
        if (mask) { // dotted netmask: must be contiguous ones
            std::uint32_t m = (std::uint32_t(mask->bytes[0]) << 24) | (mask->bytes[1] << 16) |
                              (mask->bytes[2] << 8) | mask->bytes[3];
            unsigned ones = 0;
            while (ones < 32 && (m & (0x80000000u >> ones)))
                ++ones;
            if (ones < 32 && (m << ones) != 0)
                return fail(fmt::format("invalid netmask '{}' in '{}': not contiguous", len, word));
            c.prefix = static_cast<std::uint8_t>(ones);
        } else {
            auto p = parse_int(len, 0, max);
            if (!p)
                return fail(fmt::format("invalid prefix length '{}' in '{}', expected 0 to {}", len, word, max));
            c.prefix = static_cast<std::uint8_t>(*p);
        }
    }
    for (unsigned bit = c.prefix; bit < max; ++bit)
        c.net.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
    return c;
}

result<std::vector<port_range>> parse_port_list(std::string_view word)
{
    std::vector<port_range> out;
    if (word.empty())
        return fail("empty port list");
    for (std::string_view item : split(word, ',')) {
        auto dash = item.find('-');
        auto lo = parse_int(item.substr(0, dash), 1, 65535);
        if (!lo)
            return fail(fmt::format("invalid port '{}' in '{}', expected 1 to 65535", item.substr(0, dash), word));
        auto hi = lo;
        if (dash != std::string_view::npos) {
            hi = parse_int(item.substr(dash + 1), 1, 65535);
            if (!hi)
                return fail(fmt::format("invalid port '{}' in '{}', expected 1 to 65535", item.substr(dash + 1), word));
            if (*hi < *lo)
                return fail(fmt::format("invalid port range '{}': {} is above {}", item, *lo, *hi));
        }
        out.push_back({static_cast<std::uint16_t>(*lo), static_cast<std::uint16_t>(*hi)});
    }
    return out;
}

std::string address::str() const
{
    std::string port = ports.lo == 0 ? "" : ports.lo == ports.hi ? fmt::format(":{}", ports.lo)
                                                                 : fmt::format(":{}-{}", ports.lo, ports.hi);
    switch (k) {
    case kind::unix_path: return "unix@" + host;
    case kind::abns: return "abns@" + host;
    case kind::host: return host + port;
    case kind::ip: break;
    }
    if (ip.fam == family::ipv6)
        return fmt::format("[{}]{}", ip.str(), port);
    return ip.str() + port;
}

namespace {

bool valid_hostname(std::string_view h)
{
    if (h.empty() || h.size() > 253)
        return false;
    for (char c : h)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_'))
            return false;
    // a name of digits and dots only is a mistyped IPv4 address
    if (h.find_first_not_of("0123456789.") == std::string_view::npos)
        return false;
    return h.front() != '-' && h.front() != '.';
}

} // namespace

result<address> parse_address(std::string_view word, port_need need)
{
    address a;
    std::string_view w = word;
    int force = 0; // 4 or 6 from ipv4@ / ipv6@
    if (w.starts_with("unix@") || w.starts_with("/")) {
        a.k = address::kind::unix_path;
        a.host = std::string(w.starts_with("/") ? w : w.substr(5));
        if (a.host.empty())
            return fail(fmt::format("invalid address '{}': empty socket path", word));
        if (a.host.size() > 107)
            return fail(fmt::format("invalid address '{}': socket path longer than 107 bytes", word));
        return a;
    }
    if (w.starts_with("abns@")) {
        a.k = address::kind::abns;
        a.host = std::string(w.substr(5));
        if (a.host.empty() || a.host.size() > 106)
            return fail(fmt::format("invalid address '{}': abstract socket name must have 1 to 106 bytes", word));
        return a;
    }
    if (w.starts_with("ipv4@")) {
        force = 4;
        w.remove_prefix(5);
    } else if (w.starts_with("ipv6@")) {
        force = 6;
        w.remove_prefix(5);
    } else if (auto at = w.find('@'); at != std::string_view::npos) {
        return fail(fmt::format("invalid address '{}': unknown address family '{}@', expected one of "
                                "'ipv4@', 'ipv6@', 'unix@', 'abns@'",
                                word, w.substr(0, at)));
    }

    std::string_view host, port;
    bool has_port = false;
    if (w.starts_with("[")) {
        auto close = w.find(']');
        if (close == std::string_view::npos)
            return fail(fmt::format("invalid address '{}': missing ']'", word));
        host = w.substr(1, close - 1);
        std::string_view rest = w.substr(close + 1);
        if (!rest.empty()) {
            if (rest[0] != ':')
                return fail(fmt::format("invalid address '{}': expected ':' after ']'", word));
            port = rest.substr(1);
            has_port = true;
        }
        if (!parse_ip(host) || parse_ip(host)->fam != family::ipv6)
            return fail(fmt::format("invalid address '{}': '{}' is not an IPv6 address", word, host));
    } else {
        auto colon = w.rfind(':');
        auto colons = std::count(w.begin(), w.end(), ':');
        if (colons >= 2 && parse_ip(w)) { // a bare IPv6 address, no port
            host = w;
        } else if (colon != std::string_view::npos) {
            host = w.substr(0, colon);
            port = w.substr(colon + 1);
            has_port = true;
        } else {
            host = w;
        }
    }

    if (host.empty() || host == "*") {
        a.any = true;
        a.ip.fam = force == 6 ? family::ipv6 : family::ipv4;
    } else if (auto ip = parse_ip(host)) {
        a.ip = *ip;
        a.any = std::all_of(ip->bytes.begin(), ip->bytes.end(), [](auto b) { return b == 0; });
    } else if (valid_hostname(host) && force == 0) {
        a.k = address::kind::host;
        a.host = std::string(host);
    } else {
        return fail(fmt::format("invalid address '{}': '{}' is neither an IP address nor a host name", word, host));
    }
    if (a.k == address::kind::ip && force && a.ip.fam != (force == 4 ? family::ipv4 : family::ipv6))
        return fail(fmt::format("invalid address '{}': not an IPv{} address", word, force));

    if (has_port) {
        auto list = parse_port_list(port);
        if (!list || list->size() != 1)
            return fail(fmt::format("invalid address '{}': invalid port '{}', expected 1 to 65535", word, port));
        a.ports = list->front();
        if (a.ports.lo != a.ports.hi && need != port_need::range_ok)
            return fail(fmt::format("invalid address '{}': a port range is not allowed here", word));
    } else if (need != port_need::optional) {
        return fail(fmt::format("invalid address '{}': missing port, expected ADDR:PORT", word));
    }
    return a;
}

} // namespace bulwark
