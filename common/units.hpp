// SPDX-License-Identifier: Apache-2.0
#pragma once

// The shared vocabulary (with common/result.hpp and common/config_base.hpp):
// values every folder may include. It includes nothing of the project's.

#include "common/result.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

// Splits s at every sep: "a,,b" gives "a", "", "b"; "" gives one empty part.
std::vector<std::string_view> split(std::string_view s, char sep);

// HAProxy time: a number with an optional unit us|ms|s|m|h|d; a bare number
// is in milliseconds. At most 2^31-1 ms (HAProxy's timer range).
result<std::chrono::milliseconds> parse_time(std::string_view word);

// HAProxy size: a number with an optional k|m|g suffix (powers of 1024).
result<std::uint64_t> parse_size(std::string_view word);

// A decimal integer in [lo, hi].
result<std::int64_t> parse_int(std::string_view word, std::int64_t lo, std::int64_t hi);

enum class family : std::uint8_t { ipv4, ipv6 };

struct ip_addr {
    family fam = family::ipv4;
    std::array<std::uint8_t, 16> bytes{}; // ipv4 uses the first 4
    bool operator==(const ip_addr&) const = default;
    std::string str() const;
};

result<ip_addr> parse_ip(std::string_view word);

struct cidr {
    ip_addr net;        // host bits cleared
    std::uint8_t prefix = 0;
    bool operator==(const cidr&) const = default;
    std::string str() const;
};

// "a.b.c.d", "a.b.c.d/len", "a.b.c.d/255.255.255.0", "v6", "v6/len".
result<cidr> parse_cidr(std::string_view word);

struct port_range {
    std::uint16_t lo = 0, hi = 0;
    bool operator==(const port_range&) const = default;
};

// "80", "1024-65535", "19,123,1900" (ranges and lists mixed); ports 1..65535.
result<std::vector<port_range>> parse_port_list(std::string_view word);

// Where a listener binds or a server is reached.
struct address {
    enum class kind : std::uint8_t { ip, host, unix_path, abns } k = kind::ip;
    ip_addr ip;              // kind::ip; "*" and "" mean any (0.0.0.0)
    bool any = false;        // the address part was "", "*" or "0.0.0.0"/"::"
    std::string host;        // kind::host (resolved at start), or the unix/abns path
    port_range ports;        // 0-0: no port given
    std::string str() const;
};

enum class port_need : std::uint8_t { required, optional, range_ok };

// "ip:port", ":port", "*:port", "[v6]:port", "v6:port", "host:port",
// "ipv4@..", "ipv6@..", "unix@/path", "/path", "abns@name", port ranges
// "ip:8000-8010" when range_ok (binds).
result<address> parse_address(std::string_view word, port_need need);

} // namespace bulwark
