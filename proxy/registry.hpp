// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "proxy/registry_types.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace bulwark::proxy {

// The one explicit list of every fetch, converter, matcher and action the
// proxy knows, in a fixed order (no static-init registration). The fetch
// and converter rows live beside their code in proxy/sample.cpp.
std::span<const fetch_kw> fetch_keywords();
// The stick-counter fetches (sample_stick.cpp), part of fetch_keywords().
std::span<const fetch_kw> stick_fetch_keywords();
std::span<const conv_kw> converter_keywords();
std::span<const matcher_kw> matcher_keywords();
std::span<const action_kw> action_keywords();

// The names of HAProxy's predefined ACLs (TRUE, METH_GET, HTTP_1.1, ...).
std::span<const std::string_view> predefined_acls();

// A fetch by name, or an ACL derivative such as url_sub / hdr_beg: the
// fetch and the matcher the suffix implies ("sub"); nullopt if unknown.
struct fetch_lookup {
    const fetch_kw* fetch;
    std::string_view implied_matcher; // empty for a plain fetch name
};
std::optional<fetch_lookup> find_fetch(std::string_view name);
const conv_kw* find_converter(std::string_view name);
const matcher_kw* find_matcher(std::string_view name);
const action_kw* find_action(std::string_view family, std::string_view name);
// An action's arguments, checked by the same function that compiles them
// into a rule (so its message is the one a start would give); empty when
// they are right. Defined with the compile functions (action_args.cpp, the
// rules library).
std::string check_action(const action_kw& a, std::span<const std::string> args);

// The matcher an ACL uses when none is given: bool for booleans, int for
// integers, ip for addresses, str for strings.
std::string_view default_matcher(smp_type t);

} // namespace bulwark::proxy
