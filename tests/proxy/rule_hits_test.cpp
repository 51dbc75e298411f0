// SPDX-License-Identifier: Apache-2.0
// Rule hits per thread: compile_rules numbers a section's rules (tcp, req,
// then res), and a rule_state given a thread's counters counts there, its
// rules' shared counters untouched; given none, in the shared ones.
#include "controlplane/parser.hpp"
#include "proxy/http_rules.hpp"
#include "tests/controlplane/diag_helpers.hpp"
#include "tests/proxy/support.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::proxy;
using namespace std::chrono_literals;
using bulwark::controlplane::testing::alerts;
using bulwark::controlplane::testing::no_env;

namespace {

struct rules_rig : bulwark::proxy::testing::compiled_frontend {
    rules_rig()
        : compiled_frontend("defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
              "frontend f\n bind :80\n"
              " tcp-request connection reject if { src 192.0.2.0/24 }\n"
              " http-request deny if { path /deny }\n"
              " http-request set-header X-Seen 1\n"
              " http-response set-header X-Out 1\n"
              " default_backend b\nbackend b\n server s1 127.0.0.1:8080\n")
    {
    }
    std::unique_ptr<rule_state> state(const char* src) const
    {
        auto st = std::make_unique<rule_state>();
        st->ctx.scratch = const_cast<rules::pattern_scratch*>(&scratch);
        st->view.src = *bulwark::parse_ip(src);
        st->ctx.txn = &st->view;
        return st;
    }
    void request(rule_state& st, const char* path) const
    {
        request_header req;
        req.method_string("GET");
        req.target(path);
        req.version(11);
        view_request(st, req, {});
        run_request_rules(*compiled, st, req);
    }
    void response(rule_state& st) const
    {
        response_header res;
        res.result(200);
        res.version(11);
        view_response(st, res);
        run_response_rules(*compiled, st, res);
    }
};

} // namespace

TEST_CASE("a section's rules are numbered tcp, req, then res", "[http_rules][hits]")
{
    rules_rig s;
    REQUIRE(s.compiled->tcp.size() == 1);
    REQUIRE(s.compiled->req.size() == 2);
    REQUIRE(s.compiled->res.size() == 1);
    CHECK(s.compiled->tcp[0].id == 0);
    CHECK(s.compiled->req[0].id == 1);
    CHECK(s.compiled->req[1].id == 2);
    CHECK(s.compiled->res[0].id == 3);
}

TEST_CASE("a thread's rule_state counts hits in its own counters", "[http_rules][hits]")
{
    rules_rig s;
    std::atomic<std::uint64_t> mine[4] = {}, other[4] = {};
    auto a = s.state("192.0.2.1");
    auto b = s.state("198.51.100.1");
    a->hits = mine;
    b->hits = other;
    CHECK(run_connection_rules(*s.compiled, *a) == rule_outcome::reject);
    CHECK(run_connection_rules(*s.compiled, *b) == rule_outcome::go_on);
    s.request(*a, "/deny");
    s.request(*b, "/ok");
    s.request(*b, "/ok");
    s.response(*b);
    CHECK(mine[0] == 1);
    CHECK(mine[1] == 1);
    CHECK(mine[2] == 0); // deny stopped the rules
    CHECK(other[0] == 0);
    CHECK(other[1] == 0);
    CHECK(other[2] == 2);
    CHECK(other[3] == 1);
    for (const auto* list : {&s.compiled->tcp, &s.compiled->req, &s.compiled->res})
        for (const auto& rule : *list)
            CHECK(rule.hits->load() == 0);
}

TEST_CASE("without per-thread counters, hits go to the rule's shared counter", "[http_rules][hits]")
{
    rules_rig s;
    auto st = s.state("198.51.100.1");
    s.request(*st, "/ok");
    s.response(*st);
    CHECK(s.compiled->req[0].hits->load() == 0);
    CHECK(s.compiled->req[1].hits->load() == 1);
    CHECK(s.compiled->res[0].hits->load() == 1);
}
