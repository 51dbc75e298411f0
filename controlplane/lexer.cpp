// SPDX-License-Identifier: Apache-2.0
#include "controlplane/lexer.hpp"

#include <cstdlib>
#include <fmt/format.h>

namespace bulwark::controlplane {

env_lookup process_env()
{
    return [](std::string_view name) -> std::optional<std::string> {
        std::string n(name);
        if (const char* v = std::getenv(n.c_str()))
            return std::string(v);
        return std::nullopt;
    };
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_var_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The backslash escape at line[i]: appends what it stands for to cur and
// moves i to its last character. Empty, or the error.
std::string take_escape(std::string_view line, std::size_t& i, std::string& cur)
{
    const std::size_t n = line.size();
    char c = line[i];
    if (i + 1 >= n) { // a trailing backslash stands for itself
        cur += c;
        return {};
    }
    char e = line[i + 1];
    switch (e) {
    case ' ': case '\\': case '#': case '\'': case '"': case '$':
        cur += e; ++i; break;
    case 'r': cur += '\r'; ++i; break;
    case 'n': cur += '\n'; ++i; break;
    case 't': cur += '\t'; ++i; break;
    case 'x': {
        int hi = i + 2 < n ? hex_value(line[i + 2]) : -1;
        int lo = i + 3 < n ? hex_value(line[i + 3]) : -1;
        if (hi < 0 || lo < 0)
            return fmt::format("truncated or invalid hexadecimal sequence '\\x' at column {}", i + 1);
        cur += static_cast<char>(hi * 16 + lo);
        i += 3;
        break;
    }
    default:
        cur += c; // keep it: regex escapes, back-references
        break;
    }
    return {};
}

// "$NAME" or "${NAME[-DEFAULT]}" at line[i], inside double quotes: appends
// the variable's value (else DEFAULT, else nothing) to cur and moves i to
// its last character; a lone '$' is literal. Empty, or the error.
std::string take_variable(std::string_view line, std::size_t& i, std::string& cur, const env_lookup& env)
{
    const std::size_t n = line.size();
    std::size_t j = i + 1;
    std::string name, fallback;
    bool has_fallback = false;
    if (j < n && line[j] == '{') {
        std::size_t close = line.find('}', j + 1);
        if (close == std::string_view::npos)
            return fmt::format("missing '}}' after '${{' at column {}", i + 1);
        std::string_view inner = line.substr(j + 1, close - j - 1);
        std::size_t k = 0;
        while (k < inner.size() && is_var_char(inner[k]))
            ++k;
        name = std::string(inner.substr(0, k));
        if (k < inner.size()) {
            if (inner[k] != '-')
                return fmt::format("invalid character '{}' in variable name at column {}", inner[k], j + 2 + k);
            has_fallback = true;
            fallback = std::string(inner.substr(k + 1));
        }
        i = close;
    } else {
        while (j < n && is_var_char(line[j]))
            ++j;
        name = std::string(line.substr(i + 1, j - i - 1));
        if (name.empty()) { // a lone '$' is literal
            cur += '$';
            return {};
        }
        i = j - 1;
    }
    if (name.empty())
        return fmt::format("empty variable name at column {}", i + 1);
    auto v = env ? env(name) : std::nullopt;
    cur += v ? *v : has_fallback ? fallback : std::string();
    return {};
}

} // namespace

result<std::vector<std::string>> split_words(std::string_view line, const env_lookup& env)
{
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;   // something (maybe an empty quote) started a word
    enum { none, single, dbl } quote = none;
    std::size_t quote_at = 0;
    const std::size_t n = line.size();

    for (std::size_t i = 0; i < n; ++i) {
        char c = line[i];
        if (c == '\0')
            return fail(fmt::format("NUL character at column {}", i + 1));
        if (quote == single) {
            if (c == '\'')
                quote = none;
            else
                cur += c;
            continue;
        }
        if (quote == none) {
            if (is_blank(c)) {
                if (in_word) {
                    words.push_back(std::move(cur));
                    cur.clear();
                    in_word = false;
                }
                continue;
            }
            if (c == '#')
                break;
            if (c == '\'' || c == '"') {
                quote = c == '\'' ? single : dbl;
                quote_at = i;
                in_word = true;
                continue;
            }
        } else if (c == '"') { // closing a double quote
            quote = none;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (auto e = take_escape(line, i, cur); !e.empty())
                return fail(std::move(e));
            continue;
        }
        if (c == '$' && quote == dbl) {
            if (auto e = take_variable(line, i, cur, env); !e.empty())
                return fail(std::move(e));
            continue;
        }
        cur += c;
    }
    if (quote != none)
        return fail(fmt::format("unmatched {} quote opened at column {}", quote == single ? "single" : "double",
                                quote_at + 1));
    if (in_word)
        words.push_back(std::move(cur));
    return words;
}

} // namespace bulwark::controlplane
