// SPDX-License-Identifier: Apache-2.0
#include "rules/regex.hpp"
#include "rules/pattern_set.hpp"

#include <string>

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

// ---- PCRE2 limits and Hyperscan first (issue #12) ----

namespace {

std::string x_a(std::size_t n, char tail = 'a') { return "X-A: " + std::string(n - 1, 'a') + tail; }

} // namespace

TEST_CASE("a regex Hyperscan takes never backtracks, whatever the length", "[regex][failclosed]")
{
    auto re = bulwark::rules::regex::compile(R"(^X-A:\ (a|b)+$)", false);
    REQUIRE(re);
    CHECK(re->in_hyperscan());
    for (std::size_t n : {1000u, 5000u, 50000u}) {
        INFO(n);
        CHECK(re->match(x_a(n)) == bulwark::rules::match_rc::yes);
        CHECK(re->match(x_a(n, '!')) == bulwark::rules::match_rc::no);
    }
}

TEST_CASE("a PCRE2 search past its limits reports an error, not a miss", "[regex][failclosed]")
{
    using bulwark::rules::match_rc;
    // lookahead: Hyperscan refuses it, PCRE2 runs it
    auto re = bulwark::rules::regex::compile(R"(^X-A:\ (?=a)(a|aa)+$)", false);
    REQUIRE(re);
    CHECK_FALSE(re->in_hyperscan());
    INFO(re->hs_refusal());
    CHECK(re->hs_refusal() == "Zero-width assertions are not supported.");
    CHECK(re->match(x_a(10)) == match_rc::yes);
    CHECK(re->match(x_a(10, '!')) == match_rc::no);
    // exponential backtracking on a near miss: the limit stops it
    CHECK(re->match(x_a(40, '!')) == match_rc::error);
    // a deep search on a long value: the limit (or the JIT stack) stops it
    CHECK(re->match(x_a(50000)) == match_rc::error);
    std::string out = "untouched";
    CHECK(re->replace(x_a(40, '!'), "x", out) == match_rc::error);
    CHECK(out == "untouched");
    CHECK(re->substitute(x_a(40, '!'), "x", true, out) == match_rc::error);
    CHECK(out == x_a(40, '!'));
}

TEST_CASE("tune.pcre2.match-limit bounds every PCRE2 search", "[regex][failclosed]")
{
    using bulwark::rules::match_rc;
    auto saved = bulwark::rules::current_pcre2_limits();
    auto re = bulwark::rules::regex::compile(R"((?=x)x(y|yy)+z)", false);
    REQUIRE(re);
    REQUIRE_FALSE(re->in_hyperscan());
    std::string near_miss = "x" + std::string(18, 'y') + "!z"; // z present: PCRE2 must backtrack
    CHECK(re->match(near_miss) == match_rc::no); // within the default limit
    bulwark::rules::set_pcre2_limits({100, 100});
    CHECK(bulwark::rules::current_pcre2_limits().match == 100);
    CHECK(re->match(near_miss) == match_rc::error);
    CHECK(re->match("xyyz") == match_rc::yes);
    bulwark::rules::set_pcre2_limits(saved);
    CHECK(re->match(near_miss) == match_rc::no);
}
