// SPDX-License-Identifier: Apache-2.0
// Rules fail closed (issue #12): a regex that gives up (PCRE2's match or
// depth limit, the JIT stack) while deciding a refusal applies it; while
// deciding an allow or an edit, it does not. Either way it is counted on
// the rule, and a pattern Hyperscan takes never gets there.
#include "controlplane/parser.hpp"
#include "proxy/http_rules.hpp"
#include "tests/controlplane/diag_helpers.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace bulwark;
using namespace bulwark::proxy;
using namespace std::chrono_literals;
using bulwark::controlplane::testing::alerts;
using bulwark::controlplane::testing::no_env;

namespace {

// Lookahead: Hyperscan refuses it, so PCRE2 runs it; on "aaa...a!" it
// backtracks exponentially and gives up.
constexpr const char* slow_re = R"((?=a)(a|aa)+$)";

std::string near_miss(std::size_t n) { return std::string(n, 'a') + "!"; }

std::string frame(const std::string& lines)
{
    return "defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
           "frontend f\n bind :80\n" +
           lines + " default_backend b\nbackend b\n server s1 127.0.0.1:8080\n";
}

// A frontend's rules (from line 8 of t.cfg on) and a session to run them.
struct rig {
    controlplane::load_result loaded;
    std::shared_ptr<const proxy_rules> compiled;
    std::vector<std::string> notes;
    rules::pattern_scratch scratch;
    rule_state st;
    request_header req;

    explicit rig(const std::string& lines) : loaded(controlplane::load_text(frame(lines), "t.cfg", no_env()))
    {
        INFO(lines);
        REQUIRE(alerts(loaded) == std::vector<std::string>{});
        auto r = compile_rules(*loaded.cfg.find_frontend("f"), 1000ms, &notes);
        REQUIRE(r);
        compiled = *r;
        compiled->acls.prepare_scratch(scratch);
        st.ctx.scratch = &scratch;
    }

    rule_result run(const std::string& x_a)
    {
        req = request_header();
        req.method_string("GET");
        req.target("/");
        req.version(11);
        req.insert("X-A", x_a);
        view_request(st, req, {});
        return run_request_rules(*compiled, st, req);
    }
    std::uint64_t errors(std::size_t i) const { return compiled->req[i].regex_errors->n.load(); }
    std::uint64_t hits(std::size_t i) const { return compiled->req[i].hits->load(); }
    std::string x_a() const { return std::string(req["X-A"]); }
};

} // namespace

TEST_CASE("a legacy reqdeny whose PCRE2 search gives up denies, and counts it", "[failclosed]")
{
    rig r(std::string(" reqdeny ^X-A:\\ ") + slow_re + "\n");
    CHECK(r.run("aaa").what == rule_outcome::reply); // a plain match
    CHECK(r.errors(0) == 0);
    CHECK(r.run("bbb").what == rule_outcome::go_on); // a plain miss
    CHECK(r.run(near_miss(10)).what == rule_outcome::go_on); // a miss PCRE2 proves within its limits
    CHECK(r.errors(0) == 0);
    auto res = r.run(near_miss(40)); // PCRE2 gives up: the deny applies
    CHECK(res.what == rule_outcome::reply);
    CHECK(res.status == 403);
    CHECK(res.legacy);
    CHECK(r.errors(0) == 1);
    CHECK(r.hits(0) == 2);
    // -c and the start say which pattern runs on PCRE2, with its file:line
    REQUIRE(r.notes.size() == 1);
    CHECK(r.notes[0] == "t.cfg:8: 'reqdeny': regex runs on PCRE2, not Hyperscan (Zero-width assertions are not "
                        "supported.): tune.pcre2.match-limit bounds it, and a search that gives up applies the rule "
                        "(fails closed)");
}

TEST_CASE("a legacy filter Hyperscan takes decides at any length, with no error", "[failclosed]")
{
    rig r(" reqdeny ^X-A:\\ (a|b)+$\n");
    CHECK(r.notes.empty());
    for (std::size_t n : {1000u, 5000u, 50000u}) {
        INFO(n);
        CHECK(r.run(std::string(n, 'a')).status == 403);
        CHECK(r.run(near_miss(n)).what == rule_outcome::go_on);
    }
    CHECK(r.errors(0) == 0);
    CHECK(r.hits(0) == 3);
}

TEST_CASE("reqallow and reqtarpit: an allow that gives up does not allow, a tarpit holds", "[failclosed]")
{
    rig a(std::string(" reqallow ^X-A:\\ ") + slow_re + "\n reqdeny ^X-A:\n");
    CHECK(a.run("aaa").what == rule_outcome::go_on); // allowed
    auto res = a.run(near_miss(40));                  // the allow does not apply: the deny does
    CHECK(res.what == rule_outcome::reply);
    CHECK(res.status == 403);
    CHECK(a.errors(0) == 1);
    CHECK(a.hits(0) == 1);
    CHECK(a.errors(1) == 0);
    CHECK(a.notes.size() == 1);
    CHECK(a.notes[0].ends_with("leaves the message as it is"));

    rig t(std::string(" reqtarpit ^X-A:\\ ") + slow_re + "\n");
    CHECK(t.run(near_miss(40)).what == rule_outcome::tarpit);
    CHECK(t.errors(0) == 1);
}

TEST_CASE("an ACL -m reg that gives up: deny applies, allow and edits do not", "[failclosed]")
{
    const std::string acl = std::string("{ req.hdr(x-a) -m reg ") + slow_re + " }";
    SECTION("deny if")
    {
        rig r(" http-request deny if " + acl + "\n");
        CHECK(r.run("b").what == rule_outcome::go_on);
        CHECK(r.run(near_miss(40)).status == 403);
        CHECK(r.errors(0) == 1);
        CHECK(r.hits(0) == 1);
        CHECK(r.notes.size() == 1); // the ACL's pattern, in its set's note
        CHECK(r.notes[0].starts_with("t.cfg:8: regex '(?=a)(a|aa)+$' runs on PCRE2"));
    }
    SECTION("deny unless: the condition is unknown, the deny applies")
    {
        rig r(" http-request deny unless " + acl + "\n");
        CHECK(r.run("aaa").what == rule_outcome::go_on);
        CHECK(r.run(near_miss(40)).status == 403);
        CHECK(r.errors(0) == 1);
    }
    SECTION("silent-drop and reject")
    {
        rig r(" http-request silent-drop if " + acl + " { path /drop }\n http-request reject if " + acl + "\n");
        CHECK(r.run(near_miss(40)).what == rule_outcome::reject); // not /drop: the AND is false before the regex
        CHECK(r.errors(0) == 0);
        CHECK(r.errors(1) == 1);
    }
    SECTION("allow if: not allowed")
    {
        rig r(" http-request allow if " + acl + "\n http-request deny\n");
        CHECK(r.run("aaa").what == rule_outcome::go_on);
        CHECK(r.run(near_miss(40)).status == 403);
        CHECK(r.errors(0) == 1);
        CHECK(r.hits(0) == 1);
    }
    SECTION("set-header if: not set")
    {
        rig r(" http-request set-header X-Seen 1 if " + acl + "\n");
        r.run(near_miss(40));
        CHECK(r.req.count("X-Seen") == 0);
        CHECK(r.errors(0) == 1);
    }
    SECTION("the rules after a gated run still see the error (one scan, each rule counts)")
    {
        rig r(" http-request set-header X-Seen 1 if " + acl + "\n http-request deny if " + acl + "\n");
        CHECK(r.run(near_miss(40)).status == 403);
        CHECK(r.errors(0) == 1);
        CHECK(r.errors(1) == 1);
    }
}

TEST_CASE("replace-header whose regex gives up leaves the value, and counts it", "[failclosed]")
{
    rig r(std::string(" http-request replace-header X-A ") + slow_re + " z\n");
    r.run("aa");
    CHECK(r.x_a() == "z");
    r.run(near_miss(40));
    CHECK(r.x_a() == near_miss(40));
    CHECK(r.errors(0) == 1);
}

TEST_CASE("regsub in a condition: a search that gives up makes it unknown, a deny applies", "[failclosed]")
{
    // \K: Hyperscan refuses it; a*a*a*\K!c backtracks in O(n^3) on a's
    // followed by "!xc" (a 'c' present after them, or PCRE2 sees at once
    // that none is there)
    rig r(" http-request deny if { req.hdr(x-a),'regsub(a*a*a*\\K!c,Z)' -m end Z }\n");
    for (const auto& n : r.notes)
        UNSCOPED_INFO(n);
    REQUIRE(r.notes.size() == 1);
    CHECK(r.notes[0] == "t.cfg:8: regsub regex of acl '(anonymous)' runs on PCRE2, not Hyperscan (\\K at index 6 "
                        "not supported.): a search that gives up leaves the value as it is and the rule's condition "
                        "unknown (a refusal applies)");
    CHECK(r.run("b").what == rule_outcome::go_on);
    CHECK(r.run("aa!c").status == 403); // replaced: "aaZ"
    CHECK(r.run(std::string(100, 'a') + "!xc").what == rule_outcome::go_on); // a miss PCRE2 proves
    CHECK(r.errors(0) == 0);
    CHECK(r.run(std::string(5000, 'a') + "!xc").status == 403); // PCRE2 gives up: unknown, the deny applies
    CHECK(r.errors(0) == 1);
}
