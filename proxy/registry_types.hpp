// SPDX-License-Identifier: Apache-2.0
#pragma once

// Rows of the proxy's keyword registries: sample fetches, converters, ACL
// matchers and rule actions. Plain data so the config parser can validate a
// file without pulling in Asio, Beast or Hyperscan. The issue that builds a
// keyword's behaviour fills in its row (and clears `pending`); until then the
// parser warns that the keyword has no effect.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bulwark::proxy {

enum class smp_type : std::uint8_t { boolean, integer, decimal, str, ip, bin };

// Where a fetch can read from: a rule or ACL used elsewhere is a config error.
enum fetch_where : unsigned {
    at_conn = 1u << 0,      // layer 4: addresses, ports
    at_hello = 1u << 1,     // request contents before HTTP (TLS ClientHello)
    at_req = 1u << 2,       // HTTP request
    at_res = 1u << 3,       // HTTP response
    at_tls = 1u << 4,       // the frontend's TLS session
    at_any = at_conn | at_hello | at_req | at_res | at_tls,
};

struct fetch_kw {
    std::string_view name;
    std::uint8_t min_args, max_args;
    smp_type out;
    unsigned where;
    bool derivable;            // ACL derivatives name_beg, name_sub, ... exist
    std::string_view pending;  // empty: built; else what builds it
};

struct conv_kw {
    std::string_view name;
    std::uint8_t min_args, max_args;
    std::string_view pending;
};

struct matcher_kw {
    std::string_view name;
    bool takes_patterns;
    std::string_view pending;
};

// Validates an action's arguments (the words between the action and
// if/unless). Returns an empty string when fine, else what is wrong.
using action_check = std::string (*)(std::span<const std::string> args);

struct action_kw {
    std::string_view family;   // "http-request", "http-response", "tcp-request content", ...
    std::string_view name;     // a name ending in '(' takes "name(arg)" forms: set-var(txn.x)
    std::uint8_t min_args;
    std::int8_t max_args;      // -1: no limit
    action_check check;        // may be null
    bool http_only;
    std::string_view pending;
};

inline constexpr std::string_view pending_proxy = "the L7 proxy (issue #3)";
inline constexpr std::string_view pending_tls = "TLS termination (a later issue)";
inline constexpr std::string_view pending_later = "a later issue";

} // namespace bulwark::proxy
