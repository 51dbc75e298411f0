// SPDX-License-Identifier: Apache-2.0
#include "proxy/registry.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>

using namespace bulwark::proxy;

TEST_CASE("registry names are unique per table", "[registry]")
{
    std::set<std::string_view> f, c, m;
    for (const auto& k : fetch_keywords())
        CHECK(f.insert(k.name).second);
    for (const auto& k : converter_keywords())
        CHECK(c.insert(k.name).second);
    for (const auto& k : matcher_keywords())
        CHECK(m.insert(k.name).second);
    std::set<std::string> a;
    for (const auto& k : action_keywords())
        CHECK(a.insert(std::string(k.family) + " " + std::string(k.name)).second);
}

TEST_CASE("the fetches DESIGN.md names are registered", "[registry]")
{
    for (auto name : {"src", "path", "url_sub", "hdr", "req.hdr", "res.hdr", "cook_cnt", "method", "ssl_fc",
                      "ssl_fc_protocol", "req.ssl_ver", "req.ssl_ec_ext", "req.ssl_sni"})
        CHECK(find_fetch(name).has_value());
}

TEST_CASE("ACL derivatives resolve to a fetch and a matcher", "[registry]")
{
    auto d = find_fetch("url_sub");
    REQUIRE(d);
    CHECK(d->fetch->name == "url");
    CHECK(d->implied_matcher == "sub");
    CHECK(find_fetch("hdr_beg")->implied_matcher == "beg");
    CHECK(find_fetch("path_end")->fetch->name == "path");
    CHECK_FALSE(find_fetch("cook_cnt_sub")); // cook_cnt is an integer: no derivatives
    CHECK_FALSE(find_fetch("nosuch"));
    CHECK(find_fetch("cook_cnt")->implied_matcher.empty());
}

TEST_CASE("actions are found by family, set-var takes a name", "[registry]")
{
    CHECK(find_action("http-request", "deny"));
    CHECK(find_action("http-response", "deny"));
    CHECK_FALSE(find_action("http-response", "tarpit"));
    CHECK(find_action("http-request", "set-var(txn.x)"));
    CHECK_FALSE(find_action("http-request", "set-var("));
    CHECK(find_action("tcp-request content", "reject"));
}

TEST_CASE("each action's argument check refuses bad input", "[registry]")
{
    using v = std::vector<std::string>;
    auto check = [](std::string_view fam, std::string_view name, v args) {
        return find_action(fam, name)->check(args);
    };
    CHECK(check("http-request", "deny", {"deny_status", "429"}).empty());
    CHECK(check("http-request", "deny", {"deny_status", "99"}) ==
          "invalid deny_status '99', expected an HTTP status 200 to 599");
    CHECK(check("http-request", "deny", {"deny_status"}) == "'deny_status' expects 1 argument");
    CHECK(check("http-request", "redirect", {"scheme", "https", "code", "301"}).empty());
    CHECK(check("http-request", "redirect", {"scheme", "https", "code", "200"}) ==
          "invalid redirect code '200', expected 301, 302, 303, 307 or 308");
    CHECK(check("http-request", "redirect", {"place", "x"}) ==
          "unknown redirect type 'place', expected one of 'location', 'prefix', 'scheme'");
    CHECK(check("http-response", "replace-header", {"Set-Cookie", "(.*)", "\\1; Secure"}).empty());
    CHECK(check("http-response", "replace-header", {"Set-Cookie", "(.*)", "\\2"}) ==
          "replacement '\\2' refers to \\2 but regex '(.*)' has 1 group");
    CHECK(check("http-request", "capture", {"req.hdr(host)", "len", "64"}).empty());
    CHECK(check("http-request", "capture", {"req.hdr(host)", "len", "0"}) ==
          "invalid len '0': 0 is out of range, expected 1 to 65535");
    CHECK(check("http-request", "use-service", {"prometheus-exporter"}).empty());
    CHECK(check("http-request", "use-service", {"lua.x"}) ==
          "unknown service 'lua.x', expected 'prometheus-exporter'");
}
