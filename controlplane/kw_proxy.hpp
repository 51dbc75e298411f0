// SPDX-License-Identifier: Apache-2.0
#pragma once

// Internal to the keywords of the proxy sections (defaults, frontend,
// backend, listen), split by what they parse:
//   kw_proxy.cpp  the section table (proxy_keywords), mode, balance,
//                 timeouts, options, errorfile and the small keywords;
//   kw_lines.cpp  bind and server lines, their option tables and the
//                 certificate checks;
//   kw_rules.cpp  acl, use_backend/default_backend, http-/tcp- rules,
//                 redirect, capture and the removed block/reqadd/rspadd.
// The section table in kw_proxy.cpp is the only list of these keywords.

#include "controlplane/parse_ctx.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bulwark::controlplane::proxy_kw {

// ---- shared helpers (kw_proxy.cpp) -----------------------------------------

// w[from...] joined with single spaces.
std::string join(std::span<const std::string> w, std::size_t from = 0);

// At most limit + 1 bytes of the file at path (one more than allowed, so the
// caller sees it is too large); ok says whether it could be opened.
std::string read_small(const std::string& path, std::size_t limit, bool& ok);

// ---- bind and server lines (kw_lines.cpp) -----------------------------------

enum class argk : std::uint8_t { none, word, time, integer, path, choice };

// An option of a bind or server line: "ssl", "crt FILE", "inter 2s", ...
struct line_option {
    std::string_view name;
    argk a;
    std::string_view choices;  // argk::choice: "a|b|c"
    std::string_view pending;
};

// The option rows of bind and server lines, for the keyword listing.
std::span<const line_option> bind_option_rows();
std::span<const line_option> server_option_rows();

void kw_bind(parse_ctx& c);
void kw_server(parse_ctx& c);
void kw_default_server(parse_ctx& c);

// ---- acl, switching and rule lines (kw_rules.cpp) ---------------------------

void kw_acl(parse_ctx& c);
void kw_use_backend(parse_ctx& c);
void kw_default_backend(parse_ctx& c);
void kw_http_rule(parse_ctx& c);
void kw_tcp_rule(parse_ctx& c);
void kw_redirect(parse_ctx& c);
void kw_capture(parse_ctx& c);
void kw_block(parse_ctx& c);
void kw_add_header_legacy(parse_ctx& c);

} // namespace bulwark::controlplane::proxy_kw
