// SPDX-License-Identifier: Apache-2.0
#pragma once

// http-request / http-response rules, the legacy req* / rsp* filters,
// conditional use_backend and header captures of one proxy section,
// compiled at load. Running them is a function of (message, compiled
// rules): it edits the message's header in place and answers what the
// session must do next; the session does the I/O.

#include "proxy/config_types.hpp"
#include "common/result.hpp"
#include "proxy/acl.hpp"
#include "proxy/block_sink.hpp"
#include "proxy/reader.hpp"
#include "proxy/sample.hpp"
#include "proxy/stick_table.hpp"

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::proxy {

using request_header = boost::beast::http::header<true, fields_type>;
using response_header = boost::beast::http::header<false, fields_type>;

// A log-format value: literal text and %[sample] expressions.
struct log_format {
    struct part {
        std::string text;                 // literal, when expr is empty
        std::optional<compiled_expr> expr;
    };
    std::vector<part> parts;
    bool dynamic() const { return parts.size() != 1 || parts[0].expr.has_value(); }
};

// What the session must do once the rules ran.
enum class rule_outcome : std::uint8_t {
    go_on,        // every rule ran (or an allow stopped them): the message goes on
    reply,        // answer with `response` (deny, return, redirect); status set
    tarpit,       // hold the client for `wait`, then answer `response` (500)
    silent_drop,  // close without a word (and no RST we can send: a plain close)
    reject,       // close the connection
    wait_body,    // buffer the body (up to at_least or bufsize) for `wait`, then resume at `next`
};

// An action's row (http_actions.hpp): how it compiles and what it does.
namespace actions {
struct row;
}

struct http_rule {
    const actions::row* act = nullptr;  // http-request/response and legacy rules: what it does
    rule_outcome tcp = rule_outcome::go_on; // tcp-request rules: go_on (accept), reject or silent_drop
    std::string at;                     // file:line, for notes
    std::string what;                   // "http-request deny", "reqideny", ...: for the counters
    // Times it applied (its condition held; a legacy filter: its regex
    // matched too) when the rule_state has no per-thread counters (hits
    // null): relaxed adds, by any thread.
    std::unique_ptr<std::atomic<std::uint64_t>> hits = std::make_unique<std::atomic<std::uint64_t>>(0);
    // Its index among its section's tcp, then req, then res rules, set by
    // compile_rules: where a thread counts its hits (rule_state::hits).
    std::uint32_t id = 0;
    // Times a regex gave up (PCRE2's match or depth limit) while this rule
    // decided, and the second it was last told on stderr: relaxed, by any
    // thread (rare: no per-thread counters).
    struct regex_error_count {
        std::atomic<std::uint64_t> n{0};
        std::atomic<std::int64_t> told_at{-1};
    };
    std::unique_ptr<regex_error_count> regex_errors = std::make_unique<regex_error_count>();
    // A refusal (deny, tarpit, silent-drop, reject; the legacy deny and
    // tarpit; tcp-request reject): when a regex it decides on gives up,
    // the rule applies (fails closed). Any other rule then does not apply.
    bool fail_closed = false;
    std::optional<compiled_cond> cond;
    std::string name;                   // a header name
    log_format value;                   // set/add-header value, set-path..., redirect target
    std::optional<rules::regex> re;     // replace-*, legacy filters
    std::string repl;                   // the replacement (log-format not supported in it)
    match_kind del_mode = match_kind::str;
    int status = 0;
    std::string response;               // a prebuilt reply (deny with a body, return); empty: the error page
    std::string reason;                 // set-status
    std::size_t slot = 0;               // capture: its slot in the request captures
    std::chrono::milliseconds wait{0};
    std::uint64_t at_least = 0;
    // redirect
    enum class redir : std::uint8_t { location, prefix, scheme } rtype = redir::location;
    int code = 302;
    bool drop_query = false, append_slash = false;
    std::string cookie_header;          // "set-cookie: ..." line for set-cookie / clear-cookie
    int track = -1;                     // track-scN: N (its key in value, its table's name in name)
    bool shield_block = false;          // shield-block: the source is posted to the packet layer...
    std::chrono::seconds block_ttl{0};  // ...for this long
};

struct proxy_rules {
    std::string name;                           // the section's
    acl_set acls;
    std::vector<http_rule> req;                 // http-request rules, then legacy req* filters
    std::vector<http_rule> res;                 // http-response rules, then legacy rsp* filters
    std::vector<http_rule> tcp;                 // tcp-request connection/session/content (slot: the phase)
    // A rule whose condition is "if a", "if a || b ...", every ACL in one
    // pattern set, can only fire when that set matched something: after one
    // scan that found nothing, the whole run of such rules on that set is
    // skipped (a thousand regex rules over one header cost one scan).
    struct rule_gate {
        std::int32_t set = -1;                  // -1: no gate, the condition is evaluated
        std::uint32_t skip_to = 0;              // the first rule after the run gated on this set
    };
    std::vector<rule_gate> req_gates, res_gates; // one per rule of req, res
    struct switch_rule {
        std::string backend;
        std::optional<compiled_cond> cond;
    };
    std::vector<switch_rule> use_backends;      // conditional and not, in file order
    struct capture {
        std::string header;                     // empty: a slot filled by 'http-request capture SAMPLE'
        unsigned len;
    };
    std::vector<capture> req_captures, res_captures;
    std::map<int, std::string> errorfiles;
    std::chrono::milliseconds tarpit{0};        // timeout tarpit (else timeout connect)

    proxy_rules();
    proxy_rules(proxy_rules&&) noexcept;
    ~proxy_rules();
    bool empty() const { return req.empty() && res.empty() && tcp.empty() && use_backends.empty(); }
};

// Compiles px's rules. notes collects what loads but is not honoured (an
// action not built yet, a pattern left to PCRE2). Errors name file:line.
result<std::shared_ptr<const proxy_rules>> compile_rules(const proxy_section& px,
                                                         std::chrono::milliseconds tarpit_fallback,
                                                         std::vector<std::string>* notes);


struct rule_result {
    rule_outcome what = rule_outcome::go_on;
    int status = 0;
    std::string response;                 // a full HTTP response
    std::chrono::milliseconds wait{0};
    std::uint64_t at_least = 0;
    std::size_t next = 0;                 // the rule to resume at after wait_body
    bool legacy = false;                  // from a req*/rsp* filter
    bool local = false;                   // return, redirect: answered by design, not refused (log flag L)
};

// The per-session state the rules need: the transaction view and the
// evaluation memory, reused by every request of the session.
struct rule_state {
    txn_view view;
    std::vector<header_ref> req_refs, res_refs;
    eval_ctx ctx;
    std::string scratch;
    std::vector<std::string> captured;  // per request capture slot: what 'http-request capture' took
    // The calling thread's hit counters for the section whose rules run,
    // indexed by http_rule::id, written by that thread only (relaxed load
    // and store); null: the rules count in their shared http_rule::hits.
    std::atomic<std::uint64_t>* hits = nullptr;
    track_state trk;                    // sc0..sc2: untracked when the connection's state goes
    shield_link* shield = nullptr;      // where shield-block rules post (null: counted nowhere, as in tests)
};

// The frontend's stick-tables for st's track-sc rules and sc_*/src_* fetches.
void attach_tables(rule_state& st, stick_table* own, const stick_registry* all);

// A new request on st's connection: counted in the entries it tracks.
void count_tracked_request(rule_state& st);

// track-scN KEY [table T] (rule.track = N): tracks the key's entry unless
// scN tracks one already. Nothing when the key has no value or the table
// is full of tracked entries (HAProxy's behaviour).
void apply_track(const http_rule& rule, rule_state& st, bool http_request);

// Fills st.view's request part from h (again after a rewrite).
void view_request(rule_state& st, const request_header& h, std::string_view body);
void view_response(rule_state& st, const response_header& h);

// Runs r.req from rule `from` on h. st.view must describe h.
rule_result run_request_rules(const proxy_rules& r, rule_state& st, request_header& h, std::size_t from = 0);
rule_result run_response_rules(const proxy_rules& r, rule_state& st, response_header& h, std::size_t from = 0);

// A shield-block rule applied: its source posted to st.shield for the
// rule's time (nothing without a link).
void post_shield_block(const http_rule& rule, rule_state& st) noexcept;

// The section's tcp-request connection, session and content rules, on
// the connection's addresses (st.view's src and dst): go_on, reject or
// silent_drop. Request contents are not inspected (no inspect-delay yet):
// an ACL on them does not match.
rule_outcome run_connection_rules(const proxy_rules& r, rule_state& st);

// The first of the section's use_backend rules whose condition holds (its
// index in r.use_backends), or -1.
int choose_backend(const proxy_rules& r, rule_state& st);

// "{v1|v2}" for the section's request (or response) captures, "" when it
// has none: HAProxy's httplog fields.
// Slots filled by 'http-request capture' are read from st (empty without).
std::string captures_text(const proxy_rules& r, const fields_type& f, bool request, const rule_state* st = nullptr);
// The same in two steps, for a session that captures headers before its
// rules run: the header values into out (one per slot, the rules' slots
// left as they are), then the "{...}" text of the values.
void capture_headers(const proxy_rules& r, const fields_type& f, bool request, std::vector<std::string>& out);
std::string format_captures(std::span<const std::string> values);

} // namespace bulwark::proxy
