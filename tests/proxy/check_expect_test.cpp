// SPDX-License-Identifier: Apache-2.0
// 'http-check expect': status lists, and the verdict on a check response
// with and without an expectation, in HAProxy's words.
#include "proxy/check_expect.hpp"

#include <catch2/catch.hpp>

using namespace bulwark::proxy;

namespace {

check_expect compiled(bool negate, const char* match, const char* pattern)
{
    http_expect e;
    e.negate = negate;
    e.match = match;
    e.pattern = pattern;
    auto c = compile_expect(e);
    REQUIRE(c.ok());
    return std::move(*c);
}

} // namespace

TEST_CASE("status lists: codes, ranges, commas", "[check_expect]")
{
    auto l = parse_status_list("200,302-304");
    REQUIRE(l);
    REQUIRE(l->size() == 2);
    CHECK(((*l)[0].lo == 200 && (*l)[0].hi == 200 && (*l)[1].lo == 302 && (*l)[1].hi == 304));
    for (const char* bad : {"", "20", "2000", "abc", "304-302", "200,", "099", "600", "200-"})
        CHECK_FALSE(parse_status_list(bad));
}

TEST_CASE("without expect a 2xx or 3xx passes", "[check_expect]")
{
    CHECK(check_verdict(nullptr, 200, "OK", "") == "");
    CHECK(check_verdict(nullptr, 302, "Found", "") == "");
    CHECK(check_verdict(nullptr, 500, "Internal Server Error", "") ==
          "Layer7 wrong status, code: 500, info: \"Internal Server Error\"");
}

TEST_CASE("expect status and rstatus decide alone, negated with !", "[check_expect]")
{
    auto st = compiled(false, "status", "500");
    CHECK(check_verdict(&st, 500, "Internal Server Error", "") == "");
    CHECK(check_verdict(&st, 200, "OK", "") == "Layer7 wrong status, code: 200, info: \"OK\"");
    auto not5 = compiled(true, "rstatus", "^5");
    CHECK(check_verdict(&not5, 404, "Not Found", "") == "");
    CHECK(check_verdict(&not5, 503, "Service Unavailable", "") ==
          "Layer7 wrong status, code: 503, info: \"Service Unavailable\"");
}

TEST_CASE("expect string and rstring look at the body", "[check_expect]")
{
    auto s = compiled(false, "string", "alive");
    CHECK(s.needs_body());
    CHECK(check_verdict(&s, 200, "OK", "I am alive\n") == "");
    CHECK(check_verdict(&s, 500, "Oops", "alive but failing") == ""); // the status is not looked at
    CHECK(check_verdict(&s, 200, "OK", "dead") ==
          "Layer7 invalid response, info: \"HTTP content check did not match\"");
    auto r = compiled(true, "rstring", "maint(enance)?");
    CHECK(check_verdict(&r, 200, "OK", "all good") == "");
    CHECK(check_verdict(&r, 200, "OK", "in maintenance") ==
          "Layer7 invalid response, info: \"HTTP check matched unwanted content\"");
}
