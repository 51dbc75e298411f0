// SPDX-License-Identifier: Apache-2.0
#include "rules/regex.hpp"

#include <catch2/catch.hpp>

using namespace bulwark::rules;

TEST_CASE("check_regex validates with PCRE2", "[regex]")
{
    CHECK(check_regex("^[^:]+:\\s*\\(\\s*\\)\\s+\\{", false).empty());
    CHECK(check_regex("^[^:]+:s*(s*)s+{", false).empty()); // the seed as printed compiles
    CHECK(check_regex("(unclosed", false) == "invalid regex '(unclosed': missing closing parenthesis at offset 9");
    CHECK(capture_count("^(set-cookie:.*)") == 1);
    CHECK(capture_count("(a)(b(c))") == 3);
}

TEST_CASE("max_backref finds \\N in replacements", "[regex]")
{
    CHECK(max_backref("\\1; Secure") == 1);
    CHECK(max_backref("\\2-\\1") == 2);
    CHECK(max_backref("plain") == -1);
    CHECK(max_backref("\\\\1") == -1); // an escaped backslash, then '1'
}

TEST_CASE("looks_unescaped spots regexes that lost their backslashes", "[regex]")
{
    CHECK(looks_unescaped("^[^:]+:s*(s*)s+{"));
    CHECK(looks_unescaped("^[^:]+:s+.*?(<<[^<;]+){5,}"));
    CHECK_FALSE(looks_unescaped("^[^:]+:\\s*\\(\\s*\\)\\s+\\{"));
    CHECK_FALSE(looks_unescaped("^Location: http://(www|static).domain.tld.*"));
}
