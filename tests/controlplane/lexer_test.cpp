// SPDX-License-Identifier: Apache-2.0
#include "controlplane/lexer.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace bulwark;
using namespace bulwark::controlplane;

namespace {

env_lookup fake_env()
{
    return [](std::string_view n) -> std::optional<std::string> {
        static const std::map<std::string, std::string, std::less<>> vars{{"VIP", "10.0.0.1"}, {"EMPTY", ""}};
        if (auto it = vars.find(n); it != vars.end())
            return it->second;
        return std::nullopt;
    };
}

using words = std::vector<std::string>;

} // namespace

TEST_CASE("split_words follows HAProxy's parse_line", "[lexer]")
{
    struct row {
        const char* what;
        std::string line;
        words expect;
    };
    const std::vector<row> rows{
        {"blanks separate words", "  bind\t:80   ssl ", {"bind", ":80", "ssl"}},
        {"an empty line has no word", "   \t ", {}},
        {"comment at line start", "# bind :80", {}},
        {"comment after words", "bind :80 # the web", {"bind", ":80"}},
        {"comment glued to a word", "bind :80#web", {"bind", ":80"}},
        {"escaped hash is literal", "acl h path \\#x", {"acl", "h", "path", "#x"}},
        {"escaped blank joins words", "rspirep ^(set-cookie:.*) \\1;\\ Secure", {"rspirep", "^(set-cookie:.*)", "\\1; Secure"}},
        {"regex escapes are kept", "reqdeny ^[^:]+:\\s*\\(\\s*\\)", {"reqdeny", "^[^:]+:\\s*\\(\\s*\\)"}},
        {"escaped backslash", "a \\\\b", {"a", "\\b"}},
        {"escaped quotes", "a \\\"b\\'", {"a", "\"b'"}},
        {"control escapes", "a x\\ty\\nz\\r", {"a", "x\ty\nz\r"}},
        {"hex escape", "a \\x41\\x7a", {"a", "Az"}},
        {"single quotes keep everything", "a 'b c \\x41 $VIP #'", {"a", "b c \\x41 $VIP #"}},
        {"double quotes keep blanks and hashes", "a \"b c # d\"", {"a", "b c # d"}},
        {"double quotes expand ${NAME}", "bind \"${VIP}:80\"", {"bind", "10.0.0.1:80"}},
        {"double quotes expand $NAME", "bind \"$VIP:80\"", {"bind", "10.0.0.1:80"}},
        {"unset variable is empty", "a \"x${NOPE}y\"", {"a", "xy"}},
        {"default of an unset variable", "a \"${NOPE-1.2.3.4}\"", {"a", "1.2.3.4"}},
        {"set but empty variable keeps empty", "a \"${EMPTY-zz}\"", {"a", ""}},
        {"variables are literal outside quotes", "a $VIP", {"a", "$VIP"}},
        {"lone dollar is literal", "a \"5$\"", {"a", "5$"}},
        {"quotes glue to the word", "a pre\"mid dle\"post", {"a", "premid dlepost"}},
        {"empty quotes make an empty word", "a \"\" b", {"a", "", "b"}},
        {"trailing backslash stays", "a b\\", {"a", "b\\"}},
        {"braces are plain words", "http-request deny if { url_sub 47 } ", {"http-request", "deny", "if", "{", "url_sub", "47", "}"}},
        {"CR of a CRLF file is a blank", "mode http\r", {"mode", "http"}},
    };
    for (const auto& r : rows) {
        INFO(r.what << ": " << r.line);
        auto got = split_words(r.line, fake_env());
        REQUIRE(got.ok());
        CHECK(*got == r.expect);
    }
}

TEST_CASE("split_words refuses broken lines with the column", "[lexer]")
{
    struct row {
        std::string line;
        std::string message;
    };
    const std::vector<row> rows{
        {"a 'open", "unmatched single quote opened at column 3"},
        {"a \"open", "unmatched double quote opened at column 3"},
        {"a \\x4", "truncated or invalid hexadecimal sequence '\\x' at column 3"},
        {"a \\xZZ", "truncated or invalid hexadecimal sequence '\\x' at column 3"},
        {"a \"${VIP\"", "missing '}' after '${' at column 4"},
        {"a \"${V@R}\"", "invalid character '@' in variable name at column 7"},
        {"a \"${}\"", "empty variable name at column 6"},
        {std::string("a b\0c", 5), "NUL character at column 4"},
    };
    for (const auto& r : rows) {
        INFO(r.line);
        auto got = split_words(r.line, fake_env());
        REQUIRE_FALSE(got.ok());
        CHECK(got.message() == r.message);
    }
}
