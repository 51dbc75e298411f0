// SPDX-License-Identifier: Apache-2.0
#pragma once

// Rows of the proxy's keyword registries: sample fetches, converters, ACL
// matchers and rule actions. Plain data so the config parser can validate a
// file without pulling in Asio, Beast or Hyperscan. The issue that builds a
// keyword's behaviour fills in its row (and clears `pending`); until then the
// parser warns that the keyword has no effect.

#include <array>
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

struct eval_ctx;
struct compiled_expr;
struct compiled_conv;
struct sample;

// A fetch pushes its values into ctx.vals: in an ACL every occurrence
// (`all`), elsewhere the one HAProxy takes (the last occurrence of a header).
using fetch_fn = void (*)(eval_ctx& ctx, const compiled_expr& e, bool all);
// A converter turns one sample into another, or drops it (false). Its
// arguments were parsed at load into cv (see conv_arg).
using conv_fn = bool (*)(eval_ctx& ctx, const compiled_conv& cv, sample& s);
// Load-time work a converter needs beyond parsing its arguments (regsub
// compiles its regex). Returns an empty string when fine, else the whole
// error message.
using conv_prepare = std::string (*)(compiled_conv& cv);

// One fetch: the row is the whole of it (name, arguments, output type, where
// it may be used, its function). fn is null while it is not built; pending
// then names what builds it.
struct fetch_kw {
    std::string_view name;
    std::uint8_t min_args, max_args;
    smp_type out;
    unsigned where;
    bool derivable;            // ACL derivatives name_beg, name_sub, ... exist
    fetch_fn fn;               // null: not built
    std::string_view pending;  // empty: built; else what builds it
    std::string_view doc;      // one line for --keyword NAME: usage and what it reads
};

// How a converter argument is parsed at load.
enum class conv_arg : std::uint8_t {
    none,
    str,        // kept as text
    integer,    // a decimal integer (HAProxy's sint), stored in num[]
};

struct conv_kw {
    std::string_view name;
    std::uint8_t min_args, max_args;
    std::array<conv_arg, 3> args; // each argument's type
    smp_type in, out;          // in: what it reads (str: any sample as text)
    conv_fn fn;                // null: not built
    conv_prepare prepare;      // may be null
    std::string_view pending;
    std::string_view doc;      // one line: usage and what it does
};

struct matcher_kw {
    std::string_view name;
    bool takes_patterns;
    std::string_view pending;
    std::string_view doc;
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
    std::string_view doc;      // one line: usage and what it does
};

// What builds a keyword that is parsed but has no effect yet: the open
// issue that names it, or none. `bulwarkd --keywords` and the warnings of
// `bulwarkd -c` print these.
inline constexpr std::string_view pending_hardening = "issue #12 (hardening)";
inline constexpr std::string_view pending_dataplane = "issue #13 (the stateful dataplane)";
inline constexpr std::string_view pending_appliance = "issue #14 (host port, stick-tables)";
inline constexpr std::string_view pending_tls = "issue #15 (TLS and TCP content inspection)";
inline constexpr std::string_view pending_ops = "issue #16 (operations)";
inline constexpr std::string_view pending_later = "no issue yet";

} // namespace bulwark::proxy
