// SPDX-License-Identifier: Apache-2.0
// shield-block (issue #14): its arguments and their errors with file:line,
// the -c warning without a shield, and what the rules do when one fires:
// the sink gets the connection's source and the rule's time, the request
// is refused as deny refuses it (tcp-request: rejected), and every event
// is counted once (posted, refused by a full ring, no shield, no source).
#include "controlplane/parser.hpp"
#include "proxy/block_sink.hpp"
#include "proxy/http_rules.hpp"
#include "proxy/registry.hpp"
#include "tests/controlplane/diag_helpers.hpp"
#include "tests/proxy/support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::proxy;
using bulwark::controlplane::testing::alerts;
using bulwark::controlplane::testing::no_env;
using bulwark::controlplane::testing::warnings;

namespace {

std::string frame(const std::string& lines, const std::string& after = "")
{
    return "defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
           "frontend f\n bind :80\n" +
           lines + " default_backend b\nbackend b\n server s1 127.0.0.1:8080\n" + after;
}

const std::string shield_section =
    "shield e\n eal --no-pci\n port outside p0\n port inside p1\n";

// A sink that records what it was asked, and refuses once `room` is spent.
struct recording_sink final : block_sink {
    struct event {
        ip_addr src;
        std::chrono::seconds ttl;
    };
    std::vector<event> got;
    std::size_t room = 100;
    bool post(const ip_addr& src, std::chrono::seconds ttl) noexcept override
    {
        if (got.size() >= room)
            return false;
        got.push_back({src, ttl});
        return true;
    }
};

struct rig : bulwark::proxy::testing::compiled_frontend {
    shield_link link;
    recording_sink sink;
    rule_state st;
    request_header req;

    explicit rig(const std::string& lines) : compiled_frontend(frame(lines))
    {
        st.ctx.scratch = &scratch;
        st.ctx.txn = &st.view; // what make_rule_state sets
        st.shield = &link;
        link.sink = &sink;
    }
    rule_result get(const std::string& path, const std::string& ua, const char* src = "10.10.0.1")
    {
        st.view.src = *parse_ip(src);
        req = request_header();
        req.method_string("GET");
        req.target(path);
        req.version(11);
        req.insert("User-Agent", ua);
        view_request(st, req, {});
        return run_request_rules(*compiled, st, req);
    }
};

const std::string shellshock = "() { :; }; /bin/eject";

} // namespace

TEST_CASE("shield-block: TIME is optional, 1s to 24h, HAProxy's units; bad input is refused", "[shield_block]")
{
    using v = std::vector<std::string>;
    for (std::string fam : {"http-request", "tcp-request connection", "tcp-request content"}) {
        INFO(fam);
        const action_kw* a = find_action(fam, "shield-block");
        REQUIRE(a);
        CHECK(a->pending.empty());
        CHECK(check_action(*a, v{}).empty());
        CHECK(check_action(*a, v{"2s"}).empty());
        CHECK(check_action(*a, v{"24h"}).empty());
        CHECK(check_action(*a, v{"1000"}).empty()); // 1000 ms
        CHECK(check_action(*a, v{"25h"}) ==
              "time '25h' is out of range, expected 1s to 24h (a number without a unit is in milliseconds)");
        CHECK(check_action(*a, v{"60"}) ==
              "time '60' is out of range, expected 1s to 24h (a number without a unit is in milliseconds)");
        CHECK(check_action(*a, v{"0s"}).starts_with("time '0s' is out of range"));
        CHECK(check_action(*a, v{"soon"}).starts_with("invalid time 'soon': "));
    }
    CHECK_FALSE(find_action("http-response", "shield-block")); // the request's source: request rules only
    CHECK_FALSE(find_action("tcp-request session", "shield-block"));
}

TEST_CASE("shield-block: a bad line fails with file:line; conditions load", "[shield_block]")
{
    auto bad = controlplane::load_text(frame(" http-request shield-block 5 if TRUE\n", shield_section), "t.cfg",
                                       no_env());
    CHECK(alerts(bad) == std::vector<std::string>{
                             "t.cfg:8: 'http-request': 'shield-block': time '5' is out of range, expected 1s to 24h "
                             "(a number without a unit is in milliseconds)"});
    auto extra = controlplane::load_text(frame(" tcp-request connection shield-block 5s 6s\n", shield_section),
                                         "t.cfg", no_env());
    CHECK(alerts(extra) == std::vector<std::string>{
                               "t.cfg:8: 'tcp-request connection': 'shield-block' expects 0 to 1 argument, found 2"});
    auto good = controlplane::load_text(
        frame(" http-request shield-block 2s if { hdr(user-agent) -m beg \"() {\" }\n"
              " tcp-request connection shield-block unless { src 192.0.2.0/24 }\n"
              " tcp-request content shield-block 1m if { src 198.51.100.7 }\n",
              shield_section),
        "t.cfg", no_env());
    CHECK(alerts(good).empty());
    CHECK(warnings(good).empty());
}

TEST_CASE("shield-block: without a shield section, -c warns the packet half is inactive", "[shield_block]")
{
    auto alone = controlplane::load_text(frame(" http-request shield-block if { path /x }\n"), "t.cfg", no_env());
    CHECK(alerts(alone).empty());
    CHECK(warnings(alone) ==
          std::vector<std::string>{"t.cfg:8: 'http-request shield-block': no 'shield' section: the rule refuses as "
                                   "deny/reject does, but its packet-layer block is inactive (events counted as "
                                   "'not posted: no shield')"});
}

TEST_CASE("http-request shield-block: the source and TIME to the sink, then 403 as deny", "[shield_block]")
{
    rig r(" http-request shield-block 2s if { hdr(user-agent) -m beg \"() {\" }\n"
          " http-request shield-block if { path /default }\n");
    auto ok = r.get("/", "curl/8");
    CHECK(ok.what == rule_outcome::go_on);
    CHECK(r.sink.got.empty());

    auto d = r.get("/", shellshock, "10.10.0.1");
    CHECK(d.what == rule_outcome::reply);
    CHECK(d.status == 403);
    CHECK(d.response.empty()); // the proxy's 403 page, as deny
    CHECK_FALSE(d.local);
    REQUIRE(r.sink.got.size() == 1);
    CHECK(r.sink.got[0].src == *parse_ip("10.10.0.1"));
    CHECK(r.sink.got[0].ttl == std::chrono::seconds(2));

    auto v6 = r.get("/default", "curl/8", "2001:db8::7");
    CHECK(v6.status == 403);
    REQUIRE(r.sink.got.size() == 2);
    CHECK(r.sink.got[1].src == *parse_ip("2001:db8::7"));
    CHECK(r.sink.got[1].ttl == std::chrono::seconds(60)); // the default
    CHECK(r.link.posted == 2);
    CHECK(r.link.refused == 0);
    CHECK(r.link.no_shield == 0);
}

TEST_CASE("shield-block: a full ring, no shield, no source: each event counted once, the request still refused",
          "[shield_block]")
{
    rig r(" http-request shield-block 2s if { path /x }\n");
    r.sink.room = 1;
    CHECK(r.get("/x", "a").status == 403);
    CHECK(r.get("/x", "a").status == 403); // the sink refuses: the rule still denies
    CHECK(r.link.posted == 1);
    CHECK(r.link.refused == 1);

    r.link.sink = nullptr; // the proxy alone
    CHECK(r.get("/x", "a").status == 403);
    CHECK(r.link.no_shield == 1);

    r.link.sink = &r.sink;
    r.st.view.src.reset(); // a unix socket client
    view_request(r.st, r.req, {});
    CHECK(run_request_rules(*r.compiled, r.st, r.req).status == 403);
    CHECK(r.link.no_source == 1);
    CHECK(r.link.posted == 1);
    CHECK(r.sink.got.size() == 1);
}

TEST_CASE("tcp-request connection|content shield-block: posted, then rejected; a miss goes on", "[shield_block]")
{
    rig r(" tcp-request connection shield-block 5s if { src 192.0.2.0/24 }\n"
          " tcp-request content shield-block if { src 198.51.100.7 }\n");
    r.st.view.src = *parse_ip("203.0.113.1");
    CHECK(run_connection_rules(*r.compiled, r.st) == rule_outcome::go_on);
    CHECK(r.sink.got.empty());

    r.st.view.src = *parse_ip("192.0.2.9");
    CHECK(run_connection_rules(*r.compiled, r.st) == rule_outcome::reject);
    REQUIRE(r.sink.got.size() == 1);
    CHECK(r.sink.got[0].src == *parse_ip("192.0.2.9"));
    CHECK(r.sink.got[0].ttl == std::chrono::seconds(5));

    r.st.view.src = *parse_ip("198.51.100.7");
    CHECK(run_connection_rules(*r.compiled, r.st) == rule_outcome::reject);
    REQUIRE(r.sink.got.size() == 2);
    CHECK(r.sink.got[1].ttl == std::chrono::seconds(60));
    CHECK(r.link.posted == 2);
}
