// SPDX-License-Identifier: Apache-2.0
#pragma once

// Sample fetches and converters: what an ACL or a rule reads from a
// transaction. They read a plain view of the request and response (no
// Beast, no sockets), so unit tests and the fuzzer build one directly.

#include "proxy/config_types.hpp"
#include "common/result.hpp"
#include "proxy/registry_types.hpp"
#include "rules/pattern_set.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::proxy {

struct track_state; // stick_table.hpp
class stick_table;

struct header_ref {
    std::string_view name, value;
};

// What the fetches of one transaction read. The proxy fills it from the
// parsed messages (and fills it again after a rule rewrote a header).
struct txn_view {
    std::optional<ip_addr> src, dst; // none for a unix socket
    std::uint16_t src_port = 0, dst_port = 0;
    bool has_request = false;
    std::string_view method, target;
    int version = 11;                              // 10, 11
    std::span<const header_ref> req_headers;
    std::string_view req_body;                     // what was buffered (wait-for-body, http-buffer-request)
    bool has_response = false;
    int status = 0;
    std::span<const header_ref> res_headers;
    bool tls = false;                              // ssl_fc
    track_state* trk = nullptr;                    // the connection's stick counters (sc_*, src_*)
};

struct sample {
    smp_type type = smp_type::str;
    std::int64_t num = 0;        // boolean, integer
    std::string_view str;        // str, bin
    ip_addr ip;    // ip
};

// A converter with its arguments parsed at load by its row's spec: nothing
// is parsed per sample.
struct compiled_conv {
    conv_fn fn = nullptr;
    const conv_kw* row = nullptr;
    std::uint8_t argc = 0;               // arguments given
    std::array<std::string, 3> str;      // each argument as written
    std::array<std::int64_t, 3> num{};   // conv_arg::integer arguments (and what a prepare reads)
    std::optional<rules::regex> re;      // regsub's regex, compiled once
    bool global = false;                 // regsub's "g" flag
};

// FETCH(args),conv1,conv2... resolved at load.
struct compiled_expr {
    fetch_fn fn = nullptr;
    smp_type out = smp_type::str;
    std::vector<std::string> args;
    std::int64_t num = 0;         // int(N): N, read at load
    int occ = 0;                  // hdr(name,occ): 0 = every one (ACL) / the last (sample)
    std::vector<compiled_conv> convs;
    std::string key;              // canonical text: expressions with one key share a pattern set
};

// Working memory of one evaluation, reused from request to request by a
// session (its vectors keep their capacity: nothing allocated once warm).
struct eval_ctx {
    const txn_view* txn = nullptr;
    std::vector<sample> vals;
    rules::pattern_scratch* scratch = nullptr;
    // per pattern-set state of the transaction (see acl.hpp): per set, 0 if
    // not scanned yet, else 1 + the number of its ACLs that matched; per
    // ACL, whether its patterns matched
    std::vector<std::uint32_t> scanned;
    std::vector<std::uint8_t> hits;   // bit 0: matched; bit 1: a PCRE2 pattern gave up (match_rc::error)
    // Regex searches that gave up (PCRE2 limits) since the caller last
    // zeroed it: a rule deciding on a condition reads it (fail closed).
    std::uint32_t regex_errors = 0;

    // A string for a converter's output, valid until reset().
    std::string& tmp()
    {
        if (used_ == strings_.size())
            strings_.emplace_back();
        std::string& s = strings_[used_++];
        s.clear();
        return s;
    }
    void reset() { used_ = 0; vals.clear(); }

private:
    std::deque<std::string> strings_; // a deque: strings do not move as it grows
    std::size_t used_ = 0;
};

// True when the row `name` has its function (is built).
bool fetch_built(std::string_view name);
bool converter_built(std::string_view name);

// Resolves one converter: its row, its arguments parsed by type.
result<compiled_conv> compile_conv(const sample_expr::conv& cv);

// Resolves a parsed expression. Fails only on what the config checker let
// through but cannot run (a fetch or converter not built yet).
result<compiled_expr> compile_expr(const sample_expr& e);

// Evaluates e into ctx.vals (cleared first). Returns the number of values.
std::size_t eval_expr(eval_ctx& ctx, const compiled_expr& e, bool all);

// The first value of e as text ("" and false when there is none):
// what a rule's %[expr] puts in a header.
bool eval_string(eval_ctx& ctx, const compiled_expr& e, std::string& out);

// The leading decimal integer of s (blanks around it skipped, what follows
// ignored: HAProxy's strl2ic); nullopt when s has none.
std::optional<std::int64_t> leading_int(std::string_view s);

// The first value of e as table t keys it (an address in an ip/ipv6 table,
// text otherwise; an integer table keys the decimal text), in buf or in
// ctx's scratch; nullopt when e has no value fit for t.
std::optional<std::string_view> stick_key(eval_ctx& ctx, const compiled_expr& e, const stick_table& t,
                                          std::array<std::uint8_t, 16>& buf);

// Text of a sample, as a string converter or a log sees it.
void sample_to_string(const sample& s, std::string& out);
// The same as a view: the sample's own bytes when it is text, else its
// text in ctx's scratch (valid until ctx.reset()).
std::string_view sample_text(eval_ctx& ctx, const sample& s);

} // namespace bulwark::proxy
