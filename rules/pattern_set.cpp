// SPDX-License-Identifier: Apache-2.0
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/pattern_set.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <fmt/format.h>
#include <hs/hs.h>
#include <pcre2.h>

namespace bulwark::rules {

namespace {

// Enough pairs for \0..\9 and then some; PCRE2 still reports a match when
// the pattern has more groups than pairs.
constexpr std::uint32_t ovector_pairs = 32;

// One match block per thread, made on first use: a search allocates nothing.
pcre2_match_data* thread_match_data()
{
    struct holder {
        pcre2_match_data* md = pcre2_match_data_create(ovector_pairs, nullptr);
        ~holder() { pcre2_match_data_free(md); }
    };
    thread_local holder h;
    if (!h.md)
        std::abort(); // out of memory at thread start
    return h.md;
}

std::string pcre2_message(int code)
{
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    return reinterpret_cast<const char*>(buf);
}

// Appends the expansion of replacement: \N is group N of the match in
// `subject` (empty when the group did not take part), "\\" a backslash.
void expand(std::string_view subject, std::string_view replacement, const PCRE2_SIZE* ov, int pairs, std::string& out)
{
    for (std::size_t i = 0; i < replacement.size(); ++i) {
        char ch = replacement[i];
        if (ch == '\\' && i + 1 < replacement.size()) {
            char next = replacement[i + 1];
            if (next >= '0' && next <= '9') {
                int g = next - '0';
                if (g < pairs && ov[2 * g] != PCRE2_UNSET)
                    out.append(subject.substr(ov[2 * g], ov[2 * g + 1] - ov[2 * g]));
                ++i;
                continue;
            }
            if (next == '\\') {
                out += '\\';
                ++i;
                continue;
            }
        }
        out += ch;
    }
}


// The match context every search uses: the limits, set once before the
// threads start, read by all.
pcre2_match_context* limits_context()
{
    static pcre2_match_context* ctx = [] {
        pcre2_match_context* c = pcre2_match_context_create(nullptr);
        if (!c)
            std::abort(); // out of memory at start
        pcre2_limits d;
        pcre2_set_match_limit(c, d.match);
        pcre2_set_depth_limit(c, d.depth);
        return c;
    }();
    return ctx;
}

pcre2_limits& limits_now()
{
    static pcre2_limits l;
    return l;
}

// PCRE2's answer: > 0 matched (the number of pairs set), 0 matched with
// more groups than pairs, PCRE2_ERROR_NOMATCH, or another negative code:
// it gave up (a limit, the JIT stack, ...).
int run_pcre2(const pcre2_code* re, std::string_view text, std::size_t from, pcre2_match_data* md)
{
    return pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from, 0, md, limits_context());
}

match_rc rc_of(int rc)
{
    return rc >= 0 ? match_rc::yes : rc == PCRE2_ERROR_NOMATCH ? match_rc::no : match_rc::error;
}

// The Hyperscan scratch of the single-pattern databases: a prototype that
// every compile grows to fit its database (control thread, at load), and
// per thread a clone, made again when the prototype grew since. A search
// then costs an atomic load, not an hs_alloc_scratch (~650 ns a call).
struct scratch_proto {
    std::mutex mu;
    hs_scratch_t* proto = nullptr;
    std::atomic<std::uint64_t> gen{0};
};

scratch_proto& proto()
{
    static scratch_proto p;
    return p;
}

bool fit_proto(const hs_database_t* db)
{
    auto& p = proto();
    std::lock_guard lock(p.mu);
    if (hs_alloc_scratch(db, &p.proto) != HS_SUCCESS)
        return false;
    p.gen.fetch_add(1, std::memory_order_release);
    return true;
}

hs_scratch_t* thread_hs_scratch()
{
    struct holder {
        hs_scratch_t* s = nullptr;
        std::uint64_t gen = 0;
        ~holder() { hs_free_scratch(s); }
    };
    thread_local holder h;
    auto& p = proto();
    std::uint64_t g = p.gen.load(std::memory_order_acquire);
    if (h.gen != g) {
        std::lock_guard lock(p.mu);
        hs_free_scratch(h.s);
        h.s = nullptr;
        if (hs_clone_scratch(p.proto, &h.s) != HS_SUCCESS)
            return nullptr;
        h.gen = p.gen.load(std::memory_order_relaxed);
    }
    return h.s;
}

} // namespace

void set_pcre2_limits(const pcre2_limits& l)
{
    limits_now() = l;
    pcre2_set_match_limit(limits_context(), l.match);
    pcre2_set_depth_limit(limits_context(), l.depth);
}

pcre2_limits current_pcre2_limits() { return limits_now(); }

result<regex> regex::compile(std::string_view pattern, bool icase)
{
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   icase ? PCRE2_CASELESS : 0, &code, &offset, nullptr);
    if (!re)
        return fail(fmt::format("invalid regex '{}': {} at offset {}", pattern, pcre2_message(code),
                                static_cast<std::size_t>(offset)));
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); // without JIT support, the interpreter runs
    regex r;
    r.code_ = re;
    std::uint32_t n = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
    r.groups_ = static_cast<int>(n);
    // Hyperscan decides the match whenever it takes the pattern.
    std::string text(pattern); // NUL-terminated for hs_compile
    hs_compile_error_t* err = nullptr;
    unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (icase ? HS_FLAG_CASELESS : 0u);
    if (hs_compile(text.c_str(), flags, HS_MODE_BLOCK, nullptr, &r.hs_, &err) != HS_SUCCESS) {
        r.hs_ = nullptr;
        r.hs_why_ = err && err->message ? err->message : "unknown error";
    } else if (!fit_proto(r.hs_)) {
        std::abort(); // out of memory at load
    }
    hs_free_compile_error(err);
    return r;
}

regex::regex(regex&& o) noexcept
    : code_(std::exchange(o.code_, nullptr)), hs_(std::exchange(o.hs_, nullptr)), hs_why_(std::move(o.hs_why_)),
      groups_(o.groups_)
{
}
regex& regex::operator=(regex&& o) noexcept
{
    if (this != &o) {
        pcre2_code_free(code_);
        hs_free_database(hs_);
        code_ = std::exchange(o.code_, nullptr);
        hs_ = std::exchange(o.hs_, nullptr);
        hs_why_ = std::move(o.hs_why_);
        groups_ = o.groups_;
    }
    return *this;
}
regex::~regex()
{
    pcre2_code_free(code_);
    hs_free_database(hs_);
}

match_rc regex::match(std::string_view text) const
{
    if (!code_)
        return match_rc::no;
    if (hs_) {
        hs_scratch_t* s = thread_hs_scratch();
        if (!s)
            return match_rc::error;
        bool hit = false;
        auto on = [](unsigned, unsigned long long, unsigned long long, unsigned, void* c) -> int {
            *static_cast<bool*>(c) = true;
            return 1; // one match is the answer: stop
        };
        static const char empty = 0;
        hs_error_t rc = hs_scan(hs_, text.empty() ? &empty : text.data(), static_cast<unsigned>(text.size()), 0, s,
                                on, &hit);
        if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
            return match_rc::error;
        return hit ? match_rc::yes : match_rc::no;
    }
    return rc_of(run_pcre2(code_, text, 0, thread_match_data()));
}

match_rc regex::replace(std::string_view text, std::string_view replacement, std::string& out) const
{
    if (!code_)
        return match_rc::no;
    if (hs_ && match(text) == match_rc::no)
        return match_rc::no; // Hyperscan's no is final: PCRE2 runs only to fill the groups of a match
    pcre2_match_data* md = thread_match_data();
    int rc = run_pcre2(code_, text, 0, md);
    if (rc < 0)
        return rc_of(rc);
    out.clear();
    expand(text, replacement, pcre2_get_ovector_pointer(md), rc == 0 ? static_cast<int>(ovector_pairs) : rc, out);
    return match_rc::yes;
}

match_rc regex::substitute(std::string_view text, std::string_view replacement, bool global, std::string& out) const
{
    out.clear();
    if (!code_ || (hs_ && match(text) == match_rc::no)) {
        out.assign(text);
        return match_rc::no;
    }
    pcre2_match_data* md = thread_match_data();
    std::size_t at = 0;
    match_rc found = match_rc::no;
    while (at <= text.size()) {
        int rc = run_pcre2(code_, text, at, md);
        if (rc < 0) {
            if (rc != PCRE2_ERROR_NOMATCH) { // gave up: the text stays as it was
                out.assign(text);
                return match_rc::error;
            }
            break;
        }
        found = match_rc::yes;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        out.append(text.substr(at, ov[0] - at));
        expand(text, replacement, ov, rc == 0 ? static_cast<int>(ovector_pairs) : rc, out);
        std::size_t next = ov[1];
        if (ov[1] == ov[0]) { // an empty match: keep one character and go on
            if (ov[0] < text.size())
                out += text[ov[0]];
            next = ov[0] + 1;
        }
        at = next;
        if (!global)
            break;
    }
    if (at < text.size())
        out.append(text.substr(at));
    return found;
}

std::string escape_literal(std::string_view s)
{
    std::string out;
    out.reserve(s.size() * 2);
    for (unsigned char ch : s) {
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')
            out += static_cast<char>(ch);
        else
            out += fmt::format("\\x{:02x}", ch);
    }
    return out;
}

// ---- pattern_set -------------------------------------------------------------

result<pattern_set> pattern_set::compile(const std::vector<pattern>& patterns, std::vector<std::string>* notes)
{
    pattern_set set;
    set.count_ = patterns.size();
    std::vector<std::string> exprs;
    std::vector<unsigned> flags, ids;
    std::vector<const pattern*> src;
    for (const pattern& p : patterns) {
        if (!p.literal) {
            // PCRE2 is the reference: a pattern it refuses is a config error
            // even if Hyperscan would take it.
            auto re = regex::compile(p.text, p.icase);
            if (!re)
                return fail(p.where.empty() ? re.message() : p.where + ": " + re.message());
        }
        exprs.push_back(p.literal ? escape_literal(p.text) : p.text);
        flags.push_back(HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY | (p.icase ? HS_FLAG_CASELESS : 0u));
        ids.push_back(static_cast<unsigned>(src.size()));
        src.push_back(&p);
    }
    // Compile; when Hyperscan refuses one expression, move it to PCRE2 and
    // try again with the rest.
    while (!exprs.empty()) {
        std::vector<const char*> ptrs;
        for (const auto& e : exprs)
            ptrs.push_back(e.c_str());
        hs_database_t* db = nullptr;
        hs_compile_error_t* err = nullptr;
        hs_error_t rc = hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                                         HS_MODE_BLOCK, nullptr, &db, &err);
        if (rc == HS_SUCCESS) {
            set.db_ = db;
            // Hyperscan reports the id we gave: the index into src. Map it.
            std::vector<unsigned> by_index(src.size());
            for (std::size_t i = 0; i < src.size(); ++i)
                by_index[i] = src[i]->id;
            set.hs_ids_ = std::move(by_index);
            break;
        }
        int bad = err ? err->expression : -1;
        std::string why = err && err->message ? err->message : "unknown error";
        hs_free_compile_error(err);
        if (bad < 0 || static_cast<std::size_t>(bad) >= exprs.size())
            return fail(fmt::format("Hyperscan could not compile the pattern set: {}", why));
        const pattern& p = *src[ids[static_cast<std::size_t>(bad)]];
        auto re = regex::compile(p.literal ? escape_literal(p.text) : p.text, p.icase);
        if (!re)
            return fail(re.message());
        if (notes)
            notes->push_back(fmt::format("{}{}regex '{}' runs on PCRE2, not in the one-pass Hyperscan set: {}",
                                         p.where, p.where.empty() ? "" : ": ", p.text, why));
        set.fallback_.push_back({std::move(*re), p.id});
        exprs.erase(exprs.begin() + bad);
        flags.erase(flags.begin() + bad);
        ids.erase(ids.begin() + bad);
    }
    return set;
}

pattern_set::pattern_set(pattern_set&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), hs_ids_(std::move(o.hs_ids_)), fallback_(std::move(o.fallback_)),
      count_(o.count_)
{
}

pattern_set& pattern_set::operator=(pattern_set&& o) noexcept
{
    if (this != &o) {
        hs_free_database(db_);
        db_ = std::exchange(o.db_, nullptr);
        hs_ids_ = std::move(o.hs_ids_);
        fallback_ = std::move(o.fallback_);
        count_ = o.count_;
    }
    return *this;
}

pattern_set::~pattern_set() { hs_free_database(db_); }

void pattern_set::scan_raw(std::string_view text, pattern_scratch& scratch, cb f, void* ctx, cb err,
                           void* err_ctx) const
{
    if (db_) {
        struct state {
            const pattern_set* set;
            cb f;
            void* ctx;
        } st{this, f, ctx};
        auto on_hs = [](unsigned id, unsigned long long, unsigned long long, unsigned, void* c) -> int {
            auto* s = static_cast<state*>(c);
            s->f(s->ctx, s->set->hs_ids_[id]);
            return 0;
        };
        // An empty text still runs: patterns that match empty ("^$", "x*") report.
        static const char empty = 0;
        hs_scan(db_, text.empty() ? &empty : text.data(), static_cast<unsigned>(text.size()), 0, scratch.s_, on_hs,
                &st);
    }
    for (const auto& fb : fallback_) {
        match_rc rc = fb.re.match(text);
        if (rc == match_rc::yes)
            f(ctx, fb.id);
        else if (rc == match_rc::error && err)
            err(err_ctx, fb.id);
    }
}

pattern_scratch::~pattern_scratch() { hs_free_scratch(s_); }

void pattern_scratch::prepare(const pattern_set& set)
{
    if (set.db_ && hs_alloc_scratch(set.db_, &s_) != HS_SUCCESS)
        std::abort(); // out of memory at thread start
}

} // namespace bulwark::rules
