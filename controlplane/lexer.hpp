// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "common/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::controlplane {

// Looks up an environment variable for "${NAME}" expansion; nullopt if unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

// The process environment (getenv).
env_lookup process_env();

// Splits one config line into words the way HAProxy's parse_line() does:
//  * blanks separate words; '#' outside quotes starts a comment;
//  * '...' quotes strongly (nothing inside is special);
//  * "..." quotes weakly: backslash escapes and $NAME / ${NAME} / ${NAME-default}
//    environment expansion apply inside;
//  * outside single quotes, '\' before space, '\', '#', quote or '$' yields
//    that character; \r \n \t yield CR, LF, TAB; \xHH yields the byte HH;
//    before any other character the backslash is kept (so regex escapes such
//    as "\1" or "\s" pass through untouched);
//  * quoted parts glue to the word around them; "" is an empty word.
// Input is untrusted: every byte is bounds-checked.
result<std::vector<std::string>> split_words(std::string_view line, const env_lookup& env);

} // namespace bulwark::controlplane
