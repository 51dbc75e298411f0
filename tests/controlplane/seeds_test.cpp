// SPDX-License-Identifier: Apache-2.0
// The seed articles' snippets (tests/configs/seeds/*.cfg) are test inputs:
// each loads with no error and exactly these warnings, besides the "not
// built yet" ones that shrink as the proxy and the dataplane land.
#include "controlplane/parser.hpp"

#include <catch2/catch.hpp>

using namespace bulwark;
using namespace bulwark::controlplane;

namespace {

std::string seed(const std::string& name) { return std::string(BULWARK_SOURCE_DIR) + "/tests/configs/seeds/" + name; }

} // namespace

TEST_CASE("every seed snippet loads with the right warnings", "[seeds]")
{
    struct row {
        std::string file;
        std::vector<std::string> warnings; // file names shown without their directory
    };
    const std::vector<row> rows{
        {"cdorked.cfg",
         {"cdorked.cfg:6: 'frontend': 'ft_www' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "cdorked.cfg:9: 'capture': 'Len' is not HAProxy's spelling (HAProxy 2.6 rejects it); read as 'len': capture request header Cookie len 128",
          "cdorked.cfg:11: 'capture': 'Len' is not HAProxy's spelling (HAProxy 2.6 rejects it); read as 'len': capture response header Location len 128",
          "cdorked.cfg:19: 'rspdeny': the regex is followed by 'http://(www|static).domain.tld.*' where 'if' or 'unless' was expected: read as one regex '^Location: http://(www|static).domain.tld.*' with its blank (write it '^Location:\\ http://(www|static).domain.tld.*': in HAProxy 1.x a blank inside a regex had to be escaped)",
          "cdorked.cfg:19: 'rspdeny': removed from HAProxy in 2.1; loaded with its 1.x meaning (a response whose status line or any header line matches the regex gets 502); modern equivalent: http-response deny if { res.hdr(Location) -m reg ^http://(www|static).domain.tld.* }",
          "cdorked.cfg:22: 'backend': 'bk_www' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"poodle-forward.cfg",
         {"poodle-forward.cfg:4: 'frontend': 'ft_ssl' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "poodle-forward.cfg:12: 'backend': 'bk_ssl' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"poodle-offload.cfg",
         {"poodle-offload.cfg:10: 'frontend': 'ft_www' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "poodle-offload.cfg:14: 'backend': 'bk_www' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"poodle-page.cfg",
         {"poodle-page.cfg:10: 'frontend': 'ft_www' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "poodle-page.cfg:20: 'backend': 'bk_sslv3' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever",
          "poodle-page.cfg:24: 'backend': 'bk_www' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"secure-cookie.cfg",
         {"secure-cookie.cfg:10: 'frontend': 'ft_www' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "secure-cookie.cfg:15: 'rspirep': removed from HAProxy in 2.1; loaded with its 1.x meaning (the regex rewrites the status line and each response header line it matches); modern equivalent: http-response replace-header set-cookie (.*) '\\1; Secure' if https !secured_cookie",
          "secure-cookie.cfg:18: 'backend': 'bk_www' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"shellshock.cfg",
         {"shellshock.cfg:7: 'frontend': 'ft_www' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "shellshock.cfg:9: 'reqdeny': removed from HAProxy in 2.1; loaded with its 1.x meaning (a request whose request line or any header line matches the regex gets 403); modern equivalent: http-request deny if { req.hdrs -m reg '(?m)^[^:]+:s*(s*)s+{' }   (matched over all header lines at once: HAProxy 2.x has no per-line fetch)",
          "shellshock.cfg:9: 'reqdeny': regex '^[^:]+:s*(s*)s+{' looks like its backslashes were lost ('s*' for '\\s*', '(s*)' for '\\(\\s*\\)'?); it is loaded as written",
          "shellshock.cfg:10: 'reqdeny': removed from HAProxy in 2.1; loaded with its 1.x meaning (a request whose request line or any header line matches the regex gets 403); modern equivalent: http-request deny if { req.hdrs -m reg '(?m)^[^:]+:s+.*?(<<[^<;]+){5,}' }   (matched over all header lines at once: HAProxy 2.x has no per-line fetch)",
          "shellshock.cfg:10: 'reqdeny': regex '^[^:]+:s+.*?(<<[^<;]+){5,}' looks like its backslashes were lost ('s*' for '\\s*', '(s*)' for '\\(\\s*\\)'?); it is loaded as written",
          "shellshock.cfg:13: 'backend': 'bk_www' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"slow-post.cfg",
         {"slow-post.cfg:8: 'frontend': 'ft_myapp' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "slow-post.cfg:14: 'backend': 'bk_app' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
        {"ssl-relay.cfg",
         {"ssl-relay.cfg:8: 'frontend': 'ssl-relay' is missing 'timeout client' (here or in 'defaults'): idle connections would be kept forever",
          "ssl-relay.cfg:11: 'use_backend': 'bool' matching ignores patterns: '1' has no effect (HAProxy behaves the same)",
          "ssl-relay.cfg:11: 'use_backend': 'req.ssl_ec_ext' reads the first bytes of the request but 'ssl-relay' has no 'tcp-request inspect-delay': it is evaluated on what has arrived, usually nothing",
          "ssl-relay.cfg:14: 'backend': 'ssl-ecc' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever",
          "ssl-relay.cfg:18: 'backend': 'ssl-rsa' is missing 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever",
          "ssl-relay.cfg:22: 'listen': 'all-ssl' is missing 'timeout client', 'timeout connect', 'timeout server' (here or in 'defaults'): idle connections would be kept forever"}},
    };
    for (const auto& r : rows) {
        INFO(r.file);
        std::vector<std::string> files{seed(r.file)};
        auto got = load_files(files, process_env());
        std::vector<std::string> alerts, warnings;
        std::size_t pending = 0;
        for (const auto& d : got.diag.all()) {
            auto short_d = d;
            short_d.file = r.file;
            if (d.sev == severity::alert)
                alerts.push_back(short_d.text());
            else if (d.message.find("not built yet") != std::string::npos)
                ++pending;
            else
                warnings.push_back(short_d.text());
        }
        CHECK(alerts.empty());
        CHECK(warnings == r.warnings);
        // The slow POST, shellshock and cdorked seeds are served whole; the
        // others still name something not built (TLS, tcp-request rules):
        // update as issues land.
        bool whole = r.file == "slow-post.cfg" || r.file == "shellshock.cfg" || r.file == "cdorked.cfg";
        CHECK((pending == 0) == whole);
    }
}

TEST_CASE("the seeds' legacy directives keep their 1.x meaning in the model", "[seeds]")
{
    std::vector<std::string> files{seed("secure-cookie.cfg")};
    auto got = load_files(files, process_env());
    REQUIRE_FALSE(got.diag.failed());
    const auto* f = got.cfg.find_frontend("ft_www");
    REQUIRE(f);
    REQUIRE(f->rules.size() == 1);
    const auto& r = f->rules[0];
    CHECK(r.family == "rspirep");
    CHECK(r.action == "rep");
    CHECK(r.args == std::vector<std::string>{"^(set-cookie:.*)", "\\1; Secure"});
    REQUIRE(r.cond);
    CHECK(r.cond->any_of.size() == 1);
    CHECK(r.cond->any_of[0].size() == 2);
    CHECK(r.cond->any_of[0][1].negate);
    CHECK(r.cond->any_of[0][1].acl == "secured_cookie");

    files = {seed("cdorked.cfg")};
    got = load_files(files, process_env());
    f = got.cfg.find_frontend("ft_www");
    REQUIRE(f);
    REQUIRE(f->captures.size() == 2);
    CHECK(f->captures[0].header == "Cookie");
    CHECK(f->captures[0].len == 128);
    CHECK_FALSE(f->captures[1].request);
    REQUIRE(f->rules.size() == 3);
    CHECK(f->rules[2].args == std::vector<std::string>{"^Location: http://(www|static).domain.tld.*"});

    files = {seed("poodle-page.cfg")};
    got = load_files(files, process_env());
    const auto* b = got.cfg.find_backend("bk_sslv3");
    REQUIRE(b);
    CHECK(b->errorfiles.at(503).starts_with("HTTP/1.0 200 OK\n"));
}
