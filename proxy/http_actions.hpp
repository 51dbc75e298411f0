// SPDX-License-Identifier: Apache-2.0
#pragma once

// The http-request / http-response actions and the 1.x req*/rsp* filters,
// one row each (http_actions.cpp): how a rule's arguments compile into it,
// and what it does to a request or a response. Internal to the rule engine:
// http_rules.cpp compiles and runs rules through these rows.
//
// Adding an action: its registry row (registry.cpp: family, argument count,
// doc), then here its compile function (action_args.cpp: the one reader of
// its arguments; the config checker runs it too), run functions and row.

#include "proxy/http_rules.hpp"

#include <boost/beast/http/message.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::proxy::actions {

// What compiling an action needs besides its arguments.
struct compile_env {
    bool response;                      // an http-response rule
    std::vector<std::string>* notes;
};

// Parses and validates an action's arguments into the rule (the registry
// row has checked only their count). An error's message is the config
// checker's. false: the rule is passed over, a note says why.
using compile_fn = result<bool> (*)(http_rule& r, const std::vector<std::string>& a, const compile_env& env);

// The compile functions of the rows (action_args.cpp). `r.at` is set.
result<bool> compile_nothing(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_deny(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_tarpit(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_return(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_redirect(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_header_value(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_del_header(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_replace_header(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_replace_target(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_value(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_set_status(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_wait(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_capture(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
template <int N>
result<bool> compile_track(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
// shield-block [TIME]: TIME (default 60s, 1s to 24h) into r.block_ttl
// (tcp-request rules too); an http-request rule answers 403 as deny does.
result<bool> compile_shield_block(http_rule& r, const std::vector<std::string>& a, const compile_env& env);
result<bool> compile_shield_block_args(http_rule& r, const std::vector<std::string>& a);
inline constexpr std::chrono::seconds shield_block_default{60}, shield_block_max{24 * 3600};
// track-scN's arguments, KEY [table T], into r (tcp-request rules too).
result<bool> compile_track_args(http_rule& r, const std::vector<std::string>& a, int n);

// What an action tells the rule loop once it ran.
struct step {
    bool stop = false;      // the loop ends, answering `res`
    bool changed = false;   // the message was edited: its view is refreshed
    rule_result res;
};

// What an action may read besides its rule and the message.
struct run_env {
    const proxy_rules& r;
    rule_state& st;
    std::size_t i;          // the rule's index (wait-for-body resumes after it)
};

template <bool isRequest>
using header_of = boost::beast::http::header<isRequest, fields_type>;

// One action: its name, how its arguments compile into a rule, and what it
// does to a request and to a response (null: not in that family).
struct row {
    std::string_view name;
    compile_fn compile;
    step (*on_request)(const http_rule&, run_env&, request_header&);
    step (*on_response)(const http_rule&, run_env&, response_header&);
    bool legacy;            // a req*/rsp* filter: counted when its regex matched, not when its condition held

    bool runs_in(bool response) const { return response ? on_response != nullptr : on_request != nullptr; }
};

// An http-request/http-response action by name; null when not built.
const row* find(std::string_view name);
// A 1.x filter by its action word (reqideny: "deny"); null when unknown.
const row* find_legacy(std::string_view name);

// One more hit for rule, in the running thread's counters (st.hits) or,
// without them, in the rule's shared counter.
void count(const http_rule& rule, rule_state& st);

// A regex rule gave up on a message (match_rc::error): counts it in
// rule.regex_errors and says so on stderr with the rule's file:line, at
// most once a second per rule. `applied`: whether the rule
// applied (failed closed) or not. Any proxy thread.
void note_regex_error(const http_rule& rule, bool applied);

// ---- shared with http_rules.cpp (defined there) ----

// An HTTP field name: a token (RFC 9110 5.1), so never empty.
bool field_name_ok(std::string_view s);
// What a rule may put into a message: no CR, LF or NUL (request or
// response splitting); such a value is not used and the message is left
// as it was.
bool value_ok(std::string_view v);
// A request target: no blank, no control byte (it goes between two spaces).
bool target_ok(std::string_view v);
std::string_view reason_of(int status);
// "name(a,b),conv(c)" as a sample expression (the text of a %[...]).
result<sample_expr> parse_sample_text(std::string_view s);
// A log-format value: literal text and %[expr]; notes get what is not built.
result<log_format> parse_log_format(std::string_view s, std::vector<std::string>* notes, const std::string& at);
void render(const log_format& lf, eval_ctx& ctx, std::string& out);

} // namespace bulwark::proxy::actions
