// SPDX-License-Identifier: Apache-2.0
#pragma once

// ACLs and if/unless conditions, compiled from a proxy section. Every
// -m reg / -m sub pattern of the ACLs over one sample expression sits in
// one pattern set (Hyperscan), scanned once per transaction the first time
// one of those ACLs is asked; the other ACLs over it read the result.

#include "proxy/config_types.hpp"
#include "common/result.hpp"
#include "proxy/sample.hpp"
#include "rules/pattern_set.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark::proxy {

enum class match_kind : std::uint8_t { found, boolean, integer, ip, bin, len, str, sub, reg, beg, end, dir, dom };

struct compiled_acl {
    std::string name;                 // as declared; "" for an anonymous one
    std::size_t expr = 0;             // into acl_set's expressions
    match_kind m = match_kind::str;
    bool icase = false;
    std::vector<std::string> strs;    // str, beg, end, dir, dom; bin decoded
    struct range {
        std::int64_t lo, hi;
    };
    std::vector<range> ranges;        // int, len
    std::vector<cidr> nets;
    int set = -1;                     // reg, sub: its pattern set
};

// OR of ANDs of (negated) ACLs; a named ACL declared on several lines is
// the OR of its lines.
struct compiled_cond {
    bool unless = false;
    struct term {
        bool negate = false;
        std::vector<std::size_t> acls;
    };
    std::vector<std::vector<term>> any_of;
};

class acl_set {
public:
    // Compiles every ACL of px (named and anonymous, in px.acls order) and
    // HAProxy's predefined ACLs. notes: patterns left to PCRE2.
    static result<acl_set> build(const proxy_section& px, std::vector<std::string>* notes);

    // A condition of px's rules; its ACL references were checked at load.
    result<compiled_cond> compile(const condition& c) const;

    // Makes a thread's scratch fit this set's pattern sets. Allocates:
    // call when the thread starts.
    void prepare_scratch(rules::pattern_scratch& scratch) const;
    // Before running rules of this set: sizes ctx's per-transaction state
    // (it grows only: no allocation once a session has seen the largest
    // set) and forgets earlier scans.
    void begin(eval_ctx& ctx) const;
    // Forgets what this transaction's scans found: after a rule rewrote
    // what a fetch reads.
    void invalidate(eval_ctx& ctx) const;

    bool eval(eval_ctx& ctx, const compiled_cond& c) const;
    // The same in three values: `unknown` when the answer hangs on an ACL
    // whose regex gave up (Kleene's logic: "unknown && false" is false,
    // "unknown || true" true). eval() reads unknown as false.
    enum class tri : std::uint8_t { no, yes, unknown };
    tri eval3(eval_ctx& ctx, const compiled_cond& c) const;
    bool eval_acl(eval_ctx& ctx, std::size_t acl) const;
    // Scans pattern set `set` for this transaction unless done already;
    // returns how many of its ACLs matched (ctx.hits says which).
    std::uint32_t scan(eval_ctx& ctx, std::size_t set) const;
    // The pattern set an ACL's patterns are in, or -1.
    int set_of(std::size_t acl) const { return acls_[acl].set; }

    std::size_t size() const { return acls_.size(); }
    std::size_t sets() const { return sets_.size(); }
    const std::vector<compiled_acl>& acls() const { return acls_; }

private:
    struct build_state; // acl.cpp: what build() keeps across ACL lines
    // build()'s steps: an expression shared by its ACLs, one ACL line,
    // then the pattern sets once every line is in.
    std::size_t intern(compiled_expr e, build_state& b);
    result<bool> add(const acl_def& d, build_state& b, std::vector<std::string>* notes);
    result<bool> compile_sets(build_state& b, std::vector<std::string>* notes);

    std::vector<compiled_expr> exprs_;
    std::vector<compiled_acl> acls_;
    std::vector<rules::pattern_set> sets_;
    std::vector<std::size_t> set_expr_;     // the expression each set scans
    std::size_t predefined_at_ = 0;         // acls_[predefined_at_...] are HAProxy's predefined ACLs
};

// One ACL line's matching on one value (exposed for the unit tests).
bool match_value(const compiled_acl& a, eval_ctx& ctx, const sample& v);

} // namespace bulwark::proxy
