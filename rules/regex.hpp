// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace bulwark::rules {

// Compiles pattern with PCRE2 to validate it at config load. Returns an
// empty string when it compiles, else PCRE2's message with the offset.
// (The one-pass Hyperscan database is built by the rule engine, issue #5.)
std::string check_regex(std::string_view pattern, bool icase);

// The highest back-reference \N used in a replacement string, or -1.
int max_backref(std::string_view replacement);

// The number of capture groups in a valid pattern.
int capture_count(std::string_view pattern);

// True when a regex looks like it was printed with its backslashes lost,
// as the seed shellshock rules were ("s*" for "\s*", "(s*)" for "\(\s*\)").
bool looks_unescaped(std::string_view pattern);

} // namespace bulwark::rules
