// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to the config parser: what a keyword's parse function sees, and
// the registry row types. Each section's keywords are a table of rows
// (kw_global.cpp, kw_proxy.cpp, kw_shield.cpp; the proxy sections' parse
// functions are spread over kw_proxy.cpp, kw_lines.cpp and kw_rules.cpp,
// see kw_proxy.hpp); listing.cpp lists them.

#include "controlplane/config_types.hpp"
#include "controlplane/diag.hpp"
#include "controlplane/lexer.hpp"

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::controlplane {

struct loader_state {
    env_lookup env;                                // process environment
    std::map<std::string, std::string> setenv;     // global setenv/presetenv overlay
    std::string default_path = "current";          // global default-path
    std::string default_path_origin;
    std::string file_dir;                          // directory of the file being read
    std::string crt_base;                          // global crt-base
};

struct parse_ctx {
    config& cfg;
    diagnostics& diag;
    loader_state& st;
    std::string_view file;
    int line = 0;
    std::vector<std::string> words;    // words[0] is the keyword
    unsigned sec = 0;                  // the section being read
    proxy_section* px = nullptr;               // proxy sections (defaults included)
    shield_section* sh = nullptr;

    void alert(std::string msg) { diag.alert(file, line, words[0], std::move(msg)); }
    void warn(std::string msg) { diag.warn(file, line, words[0], std::move(msg)); }
    void alert_kw(std::string_view kw, std::string msg) { diag.alert(file, line, kw, std::move(msg)); }
    void warn_kw(std::string_view kw, std::string msg) { diag.warn(file, line, kw, std::move(msg)); }

    // The warning for a keyword that parses but whose behaviour waits for a
    // later piece of work: never ignored silently.
    void pending(std::string_view kw, std::string_view by);

    // Checks the argument count (words after the keyword). Alerts with usage
    // and returns false when out of [min, max] (max < 0: no limit).
    bool args(std::size_t min, long max, std::string_view usage);

    // "KEYWORD NUMBER" with NUMBER in [lo, hi]: stores it in out (when given)
    // and returns true, or alerts and returns false.
    bool int_arg(std::int64_t lo, std::int64_t hi, int* out = nullptr);

    // A path as HAProxy's default-path says (current dir, config dir, ...).
    std::string resolve(std::string_view path) const;

    source_loc here() const { return {std::string(file), line}; }
};

using kw_fn = void (*)(parse_ctx&);

// The pending value of a keyword whose status depends on its argument
// ('timeout client', 'http-request deny', ...): the parse function reports
// it for the sub-keyword it reads.
inline constexpr std::string_view pending_varies = "its sub-keyword (each reported by bulwarkd -c)";

// A section keyword: "bind", "timeout", "eal", ...
struct section_kw {
    std::string_view name;
    unsigned sections;        // where it may appear (section bits)
    kw_fn fn;
    std::string_view pending; // empty: its behaviour is built
    // The handler itself warns about what is not built (the parser adds no
    // generic "not built" warning): for a keyword that partly works.
    bool reports_itself = false;
};

std::span<const section_kw> global_keywords();
std::span<const section_kw> proxy_keywords();
std::span<const section_kw> shield_keywords();

// The sub-keywords of the proxy sections (timeout NAME, option NAME, bind
// and server options), for the keyword listing: f(kind, name, pending).
void list_proxy_subkeywords(
    const std::function<void(std::string_view, std::string_view, std::string_view)>& f);

// Names of every keyword of a table, for "expected one of" and tests.
std::vector<std::string_view> keyword_names(std::span<const section_kw> table, unsigned sec);

// ACLs and conditions (acl.cpp).
std::size_t find_condition(std::span<const std::string> words, std::size_t from);
// words: "FETCH [flags] [--] patterns..." ; fills def (name left alone).
bool parse_acl_body(parse_ctx& c, std::span<const std::string> words, acl_def& def);
// words start at "if" or "unless". Anonymous ACLs are appended to px->acls.
bool parse_condition(parse_ctx& c, std::span<const std::string> words, condition& out);

// A `log TARGET [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]`
// line (kw_global.cpp), global or in a proxy section; nullopt once alerted.
std::optional<proxy::log_target> parse_log_line(parse_ctx& c);

// Legacy req*/rsp* directives (legacy.cpp).
void parse_legacy(parse_ctx& c);

} // namespace bulwark::controlplane
