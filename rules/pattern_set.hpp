// SPDX-License-Identifier: Apache-2.0
#pragma once

// Many patterns matched against one text in one pass: the regexes and
// substrings of every ACL over the same fetch are compiled, at config load,
// into one Hyperscan database. Hyperscan refuses a few constructs (back
// references, lookaround, \C, ...): those patterns go to PCRE2 (with JIT),
// run one by one after the Hyperscan pass, and the loader says which.
//
// A pattern_set is immutable once built and shared by every proxy thread;
// each thread scans with its own pattern_scratch.

#include "common/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;
struct hs_scratch;
struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

namespace bulwark::rules {

struct pattern {
    std::string text;
    bool icase = false;
    bool literal = false;   // a substring (-m sub), not a regex
    unsigned id = 0;        // reported on a match; several patterns may share one
    std::string where;      // "file:line" of its rule, for notes and errors
};

// What a regex search found. `error`: PCRE2 gave up (its match or depth
// limit, or the JIT stack, ran out) and does not know: a caller deciding a
// refusal must read it as a match (fail closed), one deciding an allow as
// no match, and count it.
enum class match_rc : std::uint8_t { no, yes, error };

// PCRE2's limits on one search (pcre2_set_match_limit, _depth_limit): the
// config's tune.pcre2.match-limit and tune.pcre2.depth-limit. A backtracking
// pattern then costs at most this much per search and returns
// match_rc::error instead of spinning. Call before any proxy thread starts.
struct pcre2_limits {
    std::uint32_t match = 100000;  // calls of PCRE2's internal match(); its own default is 10,000,000
    std::uint32_t depth = 10000;   // backtracking depth (ignored by the JIT, whose stack is 32 kB)
};
void set_pcre2_limits(const pcre2_limits& l);
pcre2_limits current_pcre2_limits();

// A compiled regex: a Hyperscan database when Hyperscan takes the pattern
// (it then decides every match, in linear time, without backtracking), and
// PCRE2 (JIT when the machine has it) for the groups of a replacement and
// for the patterns Hyperscan refuses. Movable, not copyable.
class regex {
public:
    static result<regex> compile(std::string_view pattern, bool icase);
    regex() = default;
    regex(regex&&) noexcept;
    regex& operator=(regex&&) noexcept;
    ~regex();

    // Whether the regex matches somewhere in text. Thread-safe; the first
    // search on a thread allocates its Hyperscan scratch.
    match_rc match(std::string_view text) const;
    // Searches text; on a match, replaces out with the replacement, where
    // \0..\9 stand for the groups (HAProxy's syntax; "\\" is a backslash),
    // and returns yes. With `global`, every match in text is replaced and
    // the text between them kept (regsub's "g"); without, out is the
    // replacement alone (replace-header: the whole value gives way to it).
    // On error, out is left as the text was (substitute) or untouched.
    match_rc replace(std::string_view text, std::string_view replacement, std::string& out) const;
    match_rc substitute(std::string_view text, std::string_view replacement, bool global, std::string& out) const;
    int groups() const { return groups_; }
    // True when Hyperscan decides its matches; else PCRE2 alone runs, and
    // hs_refusal() says why Hyperscan refused it.
    bool in_hyperscan() const { return hs_ != nullptr; }
    const std::string& hs_refusal() const { return hs_why_; }
    explicit operator bool() const { return code_ != nullptr; }

private:
    pcre2_real_code_8* code_ = nullptr;
    hs_database* hs_ = nullptr;
    std::string hs_why_;
    int groups_ = 0;
};

class pattern_scratch;

class pattern_set {
public:
    // Compiles the patterns. A regex neither engine accepts is an error
    // naming it; a regex only PCRE2 accepts adds a note to `notes`.
    static result<pattern_set> compile(const std::vector<pattern>& patterns, std::vector<std::string>* notes);

    pattern_set() = default;
    pattern_set(pattern_set&&) noexcept;
    pattern_set& operator=(pattern_set&&) noexcept;
    ~pattern_set();

    // Calls on_match(id) for each pattern found in text (once per pattern
    // at most; in no particular order), and on_error(id) for each PCRE2
    // pattern that gave up (match_rc::error): its caller decides what that
    // means. scratch must have been prepared for this set. No allocation.
    template <class F>
    void scan(std::string_view text, pattern_scratch& scratch, F&& on_match) const;
    template <class F, class E>
    void scan(std::string_view text, pattern_scratch& scratch, F&& on_match, E&& on_error) const;

    std::size_t size() const { return count_; }
    std::size_t in_hyperscan() const { return count_ - fallback_.size(); }

private:
    friend class pattern_scratch;
    using cb = void (*)(void* ctx, unsigned id);
    void scan_raw(std::string_view text, pattern_scratch& scratch, cb f, void* ctx, cb err, void* err_ctx) const;

    hs_database* db_ = nullptr;
    std::vector<unsigned> hs_ids_;             // Hyperscan expression index -> pattern id
    struct fallback {
        regex re;
        unsigned id;
    };
    std::vector<fallback> fallback_;
    std::size_t count_ = 0;
};

// One thread's Hyperscan scratch space, grown to fit every set it scans.
class pattern_scratch {
public:
    pattern_scratch() = default;
    pattern_scratch(const pattern_scratch&) = delete;
    pattern_scratch& operator=(const pattern_scratch&) = delete;
    ~pattern_scratch();

    // Makes this scratch fit `set`. Allocates: call at thread start.
    void prepare(const pattern_set& set);

private:
    friend class pattern_set;
    hs_scratch* s_ = nullptr;
};

template <class F>
void pattern_set::scan(std::string_view text, pattern_scratch& scratch, F&& on_match) const
{
    scan_raw(
        text, scratch, [](void* ctx, unsigned id) { (*static_cast<F*>(ctx))(id); }, &on_match, nullptr, nullptr);
}

template <class F, class E>
void pattern_set::scan(std::string_view text, pattern_scratch& scratch, F&& on_match, E&& on_error) const
{
    scan_raw(
        text, scratch, [](void* ctx, unsigned id) { (*static_cast<F*>(ctx))(id); }, &on_match,
        [](void* ctx, unsigned id) { (*static_cast<E*>(ctx))(id); }, &on_error);
}

// Escapes a literal for a regex (every byte but [A-Za-z0-9_] as \xHH).
std::string escape_literal(std::string_view s);

} // namespace bulwark::rules
