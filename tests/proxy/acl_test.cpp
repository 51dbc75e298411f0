// SPDX-License-Identifier: Apache-2.0
// ACLs as a config declares them: matchers, derivatives, conditions,
// HAProxy's predefined ACLs, and the one-pass Hyperscan sets behind -m reg
// and -m sub (with their PCRE2 fallback).
#include "controlplane/parser.hpp"
#include "proxy/acl.hpp"
#include "rules/pattern_set.hpp"
#include "tests/controlplane/diag_helpers.hpp"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace bulwark;
using namespace bulwark::proxy;
using bulwark::controlplane::testing::alerts;
using bulwark::controlplane::testing::no_env;

namespace {

// A config around the lines of one frontend.
std::string frame(const std::string& lines)
{
    return "defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
           "frontend f\n bind :80\n" +
           lines + " default_backend b\nbackend b\n server s1 127.0.0.1:8080\n";
}

struct request {
    std::string method = "GET", target = "/";
    int version = 11;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string src = "192.0.2.10";
    std::string body;

    request& h(std::string n, std::string v)
    {
        headers.emplace_back(std::move(n), std::move(v));
        return *this;
    }
    request& from(std::string ip)
    {
        src = std::move(ip);
        return *this;
    }
};

request get(std::string target)
{
    request r;
    r.target = std::move(target);
    return r;
}
request hdr(std::string n, std::string v) { return request().h(std::move(n), std::move(v)); }

// The frontend's ACLs, built, and a transaction to evaluate them on.
struct acl_rig {
    controlplane::load_result loaded;
    const proxy::proxy_section* px = nullptr;
    acl_set acls;
    std::vector<std::string> notes;
    rules::pattern_scratch scratch;
    request req;
    std::vector<header_ref> refs;
    txn_view v;
    eval_ctx ctx;

    explicit acl_rig(const std::string& lines) : loaded(controlplane::load_text(frame(lines), "t.cfg", no_env()))
    {
        INFO(lines);
        REQUIRE(alerts(loaded) == std::vector<std::string>{});
        px = loaded.cfg.find_frontend("f");
        REQUIRE(px);
        auto built = acl_set::build(*px, &notes);
        REQUIRE(built);
        acls = std::move(*built);
        acls.prepare_scratch(scratch);
        ctx.scratch = &scratch;
    }

    // Starts a transaction on r.
    acl_rig& use(request r)
    {
        req = std::move(r);
        refs.clear();
        for (const auto& [n, val] : req.headers)
            refs.push_back({n, val});
        v = txn_view{};
        v.has_request = true;
        v.method = req.method;
        v.target = req.target;
        v.version = req.version;
        v.req_headers = refs;
        v.req_body = req.body;
        if (!req.src.empty())
            v.src = *bulwark::parse_ip(req.src);
        ctx.txn = &v;
        acls.begin(ctx);
        return *this;
    }

    // Whether the named ACL (declared or predefined) holds.
    bool acl(const std::string& name)
    {
        proxy::condition c;
        c.any_of = {{proxy::condition::term{false, name, -1}}};
        auto cc = acls.compile(c);
        REQUIRE(cc);
        return acls.eval(ctx, *cc);
    }

    // Whether the condition of the frontend's rule i holds.
    bool cond(std::size_t i)
    {
        REQUIRE(i < px->rules.size());
        REQUIRE(px->rules[i].cond);
        auto cc = acls.compile(*px->rules[i].cond);
        REQUIRE(cc);
        return acls.eval(ctx, *cc);
    }
};

struct match_row {
    const char* acl; // what follows "acl t "
    request req;
    bool expect;
};

void check_matches(const std::vector<match_row>& rows)
{
    for (const auto& r : rows) {
        std::string headers;
        for (const auto& [n, v] : r.req.headers)
            headers += n + ": " + v + "\n";
        CAPTURE(r.acl, r.req.target, headers, r.req.src);
        acl_rig rig(std::string(" acl t ") + r.acl + "\n");
        CHECK(rig.use(r.req).acl("t") == r.expect);
    }
}

} // namespace

TEST_CASE("string matchers: str, beg, end, sub, reg, dir, dom, len", "[acl]")
{
    check_matches({
        // -m str (the default for a string fetch), -i, several patterns
        {"hdr(x) -m str hello", hdr("X", "hello"), true},
        {"hdr(x) -m str hello", hdr("X", "Hello"), false},
        {"hdr(x) -m str hello", hdr("X", "hello!"), false},
        {"hdr(x) -m str -i hello", hdr("X", "HeLLo"), true},
        {"hdr(x) hello world", hdr("X", "world"), true},
        {"hdr(x) hello world", hdr("X", "word"), false},
        // -m beg / -m end
        {"path -m beg /api", get("/api/v1"), true},
        {"path -m beg /api", get("/ap"), false},
        {"path -m beg /api", get("/API/v1"), false},
        {"path -m beg -i /api", get("/API/v1"), true},
        {"path -m end .php", get("/x.php?a=1"), true},
        {"path -m end .php", get("/x.php5"), false},
        {"path -m end -i .php", get("/X.PHP"), true},
        // -m sub: literal, regex metacharacters included
        {"hdr(x) -m sub a.b", hdr("X", "xa.by"), true},
        {"hdr(x) -m sub a.b", hdr("X", "axb"), false},
        {"hdr(x) -m sub (a|b)*", hdr("X", "a"), false},
        {"hdr(x) -m sub (a|b)*", hdr("X", "x(a|b)*y"), true},
        {"hdr(x) -m sub -i ADMIN", hdr("X", "/Admin/"), true},
        {"hdr(x) -m sub ADMIN", hdr("X", "/Admin/"), false},
        {"hdr(x) -m sub foo bar", hdr("X", "xbarx"), true},
        // -m reg, on each value alone
        {R"(path -m reg ^/api/v[0-9]+/)", get("/api/v12/x"), true},
        {R"(path -m reg ^/api/v[0-9]+/)", get("/api/vx/"), false},
        {"path -m reg -i ^/API/", get("/api/"), true},
        {"path -m reg ^/API/", get("/api/"), false},
        {"path -m reg ^/a$", get("/ab"), false},
        {"hdr(x) -m reg ^b$", hdr("X", "a").h("X", "b, c"), true},
        {"hdr(x) -m reg a.*c", hdr("X", "a").h("X", "b, c"), false},
        {"hdr(x) -m reg ^$", hdr("X", ""), true},
        {"hdr(x) -m reg ^$", hdr("X", "x"), false},
        // -m dir: between slashes (or '?'); -m dom: between dots or slashes
        {"path -m dir api", get("/v1/api/x"), true},
        {"path -m dir api", get("/api"), true},
        {"path -m dir api", get("/apix/y"), false},
        {"path -m dir /v1/api/", get("/v1/api/x"), true},
        {"url -m dir api", get("/x?api"), true},
        {"hdr(host) -m dom example.com", hdr("Host", "www.example.com"), true},
        {"hdr(host) -m dom example.com", hdr("Host", "example.com"), true},
        {"hdr(host) -m dom example.com", hdr("Host", "myexample.com"), false},
        {"hdr(host) -m dom example.com", hdr("Host", "example.community"), false},
        {"hdr(host) -m dom -i example.com", hdr("Host", "WWW.EXAMPLE.COM"), true},
        {"hdr(host) -m dom example.com", hdr("Host", "WWW.EXAMPLE.COM"), false},
        // -m len
        {"hdr(x) -m len 3", hdr("X", "abc"), true},
        {"hdr(x) -m len 3", hdr("X", "abcd"), false},
        {"hdr(x) -m len ge 4", hdr("X", "abcd"), true},
        {"hdr(x) -m len 0", hdr("X", ""), true},
        {"hdr(x) -m len 1:2", hdr("X", "abc"), false},
    });
}

TEST_CASE("int, ip, found, bool and bin matchers", "[acl]")
{
    auto n = [](const char* v) { return hdr("X-N", v); };
    check_matches({
        // -m int (the default for an integer fetch): values and ranges
        {"hdr_val(x-n) 10:20", n("15"), true},
        {"hdr_val(x-n) 10:20", n("10"), true},
        {"hdr_val(x-n) 10:20", n("20"), true},
        {"hdr_val(x-n) 10:20", n("9"), false},
        {"hdr_val(x-n) 10:20", n("21"), false},
        {"hdr_val(x-n) ge 5", n("5"), true},
        {"hdr_val(x-n) ge 5", n("4"), false},
        {"hdr_val(x-n) lt 3", n("2"), true},
        {"hdr_val(x-n) lt 3", n("3"), false},
        {"hdr_val(x-n) :4", n("4"), true},
        {"hdr_val(x-n) :4", n("-100"), true},
        {"hdr_val(x-n) :4", n("5"), false},
        {"hdr_val(x-n) 10:", n("1000000"), true},
        {"hdr_val(x-n) 10:", n("9"), false},
        {"hdr_val(x-n) -- -5:-1", n("-3"), true}, // '--' ends the flags, as in HAProxy
        {"hdr_val(x-n) -- -5:-1", n("0"), false},
        {"hdr_val(x-n) eq 7 gt 100", n("7"), true},
        {"hdr_val(x-n) eq 7 gt 100", n("101"), true},
        {"hdr_val(x-n) eq 7 gt 100", n("100"), false},
        {"hdr_val(x-n) le 7", n("7"), true},
        {"hdr_val(x-n) le 7", n("8"), false},
        {"hdr_cnt(x) 2", hdr("X", "a").h("X", "b"), true},
        {"hdr_cnt(x) 2", hdr("X", "a"), false},
        {"hdr(x-n) -m int 10:20", n("15"), true},
        {"hdr(x-n) -m int 10:20", n("25"), false},
        // -m ip against an address and against a header's text
        {"src 10.0.0.0/8", get("/").from("10.1.2.3"), true},
        {"src 10.0.0.0/8", get("/").from("192.0.2.1"), false},
        {"src 10.0.0.0/8", get("/").from("2001:db8::1"), false},
        {"src 192.0.2.1", get("/").from("192.0.2.1"), true},
        {"src 192.0.2.1", get("/").from("192.0.2.2"), false},
        {"src 2001:db8::/32", get("/").from("2001:db8::5"), true},
        {"src 2001:db8::/32", get("/").from("2001:db9::5"), false},
        {"src 10.0.0.0/8", get("/").from(""), false}, // a unix socket has no address
        // HAProxy matches an IPv4 pattern on a v4-mapped IPv6 address and back
        {"src 10.0.0.0/8", get("/").from("::ffff:10.1.2.3"), true},
        {"src ::ffff:10.0.0.0/104", get("/").from("10.1.2.3"), true},
        {"src ::ffff:10.0.0.0/104", get("/").from("11.1.2.3"), false},
        {"hdr(x-forwarded-for) -m ip 10.0.0.0/8", hdr("X-Forwarded-For", "10.9.9.9"), true},
        {"hdr(x-forwarded-for) -m ip 10.0.0.0/8", hdr("X-Forwarded-For", "bogus"), false},
        {"hdr(x-forwarded-for) -m ip 10.0.0.0/8", hdr("X-Forwarded-For", "192.0.2.1, 10.0.0.5"), true},
        {"hdr(x-forwarded-for) -m ip 10.0.0.0/8", hdr("X-Forwarded-For", "192.0.2.1"), false},
        {"hdr_ip(x-forwarded-for) 10.0.0.0/8", hdr("X-Forwarded-For", "10.0.0.7"), true},
        // -m found: present, even empty
        {"hdr(x) -m found", hdr("X", ""), true},
        {"hdr(x) -m found", hdr("Y", "1"), false},
        {"cook(sid) -m found", hdr("Cookie", "a=1; sid="), true},
        {"cook(sid) -m found", hdr("Cookie", "a=1"), false},
        // -m bool: a non-zero integer or a true boolean
        {"hdr_cnt(x) -m bool", hdr("X", "1"), true},
        {"hdr_cnt(x) -m bool", hdr("Y", "1"), false},
        {"always_true", get("/"), true},
        {"always_false", get("/"), false},
        {"ssl_fc", get("/"), false},
        // -m bin: hex patterns against the bytes
        {"hdr(x) -m bin 616263", hdr("X", "abc"), true},
        {"hdr(x) -m bin 616263", hdr("X", "abd"), false},
        {"hdr(x) -m bin 616263", hdr("X", "ABC"), false},
        {"hdr(x) -m bin 00 616263", hdr("X", "abc"), true},
    });
}

TEST_CASE("ACL derivatives imply their matcher", "[acl]")
{
    check_matches({
        {"url_sub admin", get("/x/admin?y"), true},
        {"url_sub admin", get("/x/Admin?y"), false},
        {"url_sub -i admin", get("/x/Admin?y"), true},
        {"url_sub a.b", get("/axb"), false},
        {"hdr_beg(host) www.", hdr("Host", "www.example.com"), true},
        {"hdr_beg(host) www.", hdr("Host", "api.example.com"), false},
        {"hdr_end(host) .example.com", hdr("Host", "api.example.com"), true},
        {"path_end .jpg .png", get("/a.png"), true},
        {"path_end .jpg .png", get("/a.png?x=1"), true},
        {"path_end .jpg .png", get("/a.gif"), false},
        {"path_beg /static/ /img/", get("/img/x"), true},
        {"path_reg ^/[a-z]+$", get("/abc"), true},
        {"path_reg ^/[a-z]+$", get("/abc/"), false},
        {"path_len 3", get("/ab?long-query"), true},
        {"path_dir admin", get("/a/admin/b"), true},
        {"hdr_dom(host) example.com", hdr("Host", "a.example.com"), true},
        {"hdr_sub(user-agent) -i curl", hdr("User-Agent", "CURL/8.0"), true},
        {"url_param_sub(q) evil", get("/s?q=very-evil&x=1"), true},
        {"url_param_sub(q) evil", get("/s?q=good&x=evil"), false},
        {"cook_sub(sid) admin", hdr("Cookie", "sid=xadminx"), true},
        {"base_beg www.example.com/api", get("/api/x").h("Host", "www.example.com"), true},
    });
}

TEST_CASE("patterns from a file with -f, and inline ones", "[acl]")
{
    auto dir = std::filesystem::temp_directory_path() / "bulwark-acl-test";
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "bad-agents.lst");
        f << "# one pattern a line\n  sqlmap  \n\nnikto\r\n#masscan\n";
    }
    acl_rig rig(" acl bad hdr_sub(user-agent) -i -f " + (dir / "bad-agents.lst").string() + " zgrab\n");
    CHECK(rig.use(hdr("User-Agent", "SQLMap/1.5")).acl("bad"));
    CHECK(rig.use(hdr("User-Agent", "Nikto")).acl("bad"));
    CHECK(rig.use(hdr("User-Agent", "zgrab/0.x")).acl("bad"));
    CHECK_FALSE(rig.use(hdr("User-Agent", "masscan")).acl("bad")); // commented out
    CHECK_FALSE(rig.use(hdr("User-Agent", "curl/8")).acl("bad"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("conditions: AND, OR, negation, unless, a name on two lines", "[acl]")
{
    acl_rig rig(" acl is_api path_beg /api\n"
                " acl is_admin path_beg /admin\n"
                " acl internal src 10.0.0.0/8\n"
                " acl two path /one\n"
                " acl two path /two\n"
                " http-request deny if is_api !internal\n"                  // 0
                " http-request deny if is_admin || { hdr(x-debug) 1 }\n"    // 1
                " http-request deny unless internal\n"                      // 2
                " http-request deny if two\n"                               // 3
                " http-request deny if !is_api !is_admin\n"                 // 4
                " http-request deny if is_api internal || is_admin internal\n" // 5
                " http-request deny unless is_api || is_admin\n"            // 6
                " http-request deny if ! two\n"                             // 7
                " http-request deny if is_api or two\n");                   // 8
    struct row {
        request req;
        std::vector<bool> expect; // rule 0..8
    };
    const std::vector<row> rows{
        {get("/api/x"), {true, false, true, false, false, false, false, true, true}},
        {get("/api/x").from("10.0.0.1"), {false, false, false, false, false, true, false, true, true}},
        {get("/admin"), {false, true, true, false, false, false, false, true, false}},
        {get("/admin").from("10.0.0.1"), {false, true, false, false, false, true, false, true, false}},
        {get("/x").h("X-Debug", "1"), {false, true, true, false, true, false, true, true, false}},
        {get("/x").h("X-Debug", "0"), {false, false, true, false, true, false, true, true, false}},
        {get("/one"), {false, false, true, true, true, false, true, false, true}},
        {get("/two"), {false, false, true, true, true, false, true, false, true}},
        {get("/three"), {false, false, true, false, true, false, true, true, false}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.req.target, r.req.src);
        rig.use(r.req);
        std::vector<bool> got;
        for (std::size_t i = 0; i < r.expect.size(); ++i)
            got.push_back(rig.cond(i));
        CHECK(got == r.expect);
    }
}

TEST_CASE("HAProxy's predefined ACLs", "[acl]")
{
    acl_rig rig("");
    struct row {
        const char* acl;
        request req;
        bool expect;
    };
    request post = get("/");
    post.method = "POST";
    request head = get("/");
    head.method = "HEAD";
    request http10 = get("/");
    http10.version = 10;
    request with_body = get("/");
    with_body.body = "x=1";
    request connect = get("h:443");
    connect.method = "CONNECT";
    const std::vector<row> rows{
        {"TRUE", get("/"), true},
        {"FALSE", get("/"), false},
        {"METH_GET", get("/"), true},
        {"METH_GET", head, true},
        {"METH_GET", post, false},
        {"METH_HEAD", head, true},
        {"METH_HEAD", get("/"), false},
        {"METH_POST", post, true},
        {"METH_CONNECT", connect, true},
        {"CONNECT", connect, true},
        {"HTTP", get("/"), true},
        {"HTTP_1.1", get("/"), true},
        {"HTTP_1.1", http10, false},
        {"HTTP_1.0", http10, true},
        {"HTTP_1.0", get("/"), false},
        {"LOCALHOST", get("/").from("127.0.0.1"), true},
        {"LOCALHOST", get("/").from("127.255.0.9"), true},
        {"LOCALHOST", get("/").from("::1"), true},
        {"LOCALHOST", get("/").from("::ffff:127.0.0.1"), true},
        {"LOCALHOST", get("/").from("128.0.0.1"), false},
        {"LOCALHOST", get("/").from("::2"), false},
        {"HTTP_URL_ABS", get("http://h/p"), true},
        {"HTTP_URL_ABS", get("/p"), false},
        {"HTTP_URL_SLASH", get("/p"), true},
        {"HTTP_URL_SLASH", get("http://h/p"), false},
        {"HTTP_URL_STAR", get("*"), true},
        {"HTTP_URL_STAR", get("/"), false},
        {"HTTP_CONTENT", get("/").h("Content-Length", "3"), true},
        {"HTTP_CONTENT", get("/").h("Content-Length", "0"), false},
        {"HTTP_CONTENT", get("/"), false},
        {"REQ_CONTENT", with_body, true},
        {"REQ_CONTENT", get("/"), false},
        {"RDP_COOKIE", get("/"), false},
        {"WAIT_END", get("/"), true},
    };
    for (const auto& r : rows) {
        CAPTURE(r.acl, r.req.method, r.req.target, r.req.src);
        CHECK(rig.use(r.req).acl(r.acl) == r.expect);
    }
    CHECK(rig.acls.size() == 23); // the predefined ones alone
}

TEST_CASE("the -m reg and -m sub ACLs over one fetch share one Hyperscan pass", "[acl][hyperscan]")
{
    // url is also what the predefined HTTP_URL_ABS scans: one set in all.
    acl_rig rig(" acl r_api url -m reg ^/api/\n"
                R"( acl r_php url -m reg \.php(\?|$))" "\n"
                " acl s_admin url -m sub admin\n"
                " acl s_dot url -m sub a.b\n"
                " acl r_sel url -m reg -i select\n"
                " acl s_two url -m sub zz yy\n");
    CHECK(rig.acls.sets() == 1);
    CHECK(rig.acls.size() == 6 + 23);
    CHECK(rig.notes.empty());
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(rig.acls.acls()[i].set == 0);

    const std::vector<std::string> names{"r_api", "r_php", "s_admin", "s_dot", "r_sel", "s_two"};
    struct row {
        const char* target;
        std::set<std::string> hits;
    };
    const std::vector<row> rows{
        {"/api/admin/x.php?a.b=SeLeCt&q=yy", {"r_api", "r_php", "s_admin", "s_dot", "r_sel", "s_two"}},
        {"/api/x", {"r_api"}},
        {"/x.php", {"r_php"}},
        {"/x.phpx", {}},
        {"/static/img.png", {}},
        {"/axb", {}},
        {"/a.b/zz", {"s_dot", "s_two"}},
        {"/api/a.b", {"r_api", "s_dot"}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.target);
        rig.use(get(r.target));
        std::set<std::string> got;
        for (const auto& n : names)
            if (rig.acl(n))
                got.insert(n);
        CHECK(got == r.hits);
        CHECK_FALSE(rig.acl("HTTP_URL_ABS"));
    }
    CHECK(rig.use(get("http://h/api/")).acl("HTTP_URL_ABS"));
    CHECK_FALSE(rig.acl("r_api")); // the url is "http://h/api/"

    // one set per expression: path and hdr(host) add two
    acl_rig two(" acl a path -m reg ^/x\n acl b path -m sub y\n acl c hdr(host) -m sub z\n acl d path -m beg /w\n");
    CHECK(two.acls.sets() == 3);
    CHECK(two.acls.acls()[0].set == two.acls.acls()[1].set);
    CHECK(two.acls.acls()[2].set != two.acls.acls()[0].set);
    CHECK(two.acls.acls()[3].set == -1); // -m beg needs no pattern set
    two.use(get("/xy").h("Host", "z"));
    CHECK(two.acl("a"));
    CHECK(two.acl("b"));
    CHECK(two.acl("c"));
    CHECK_FALSE(two.acl("d"));
}

TEST_CASE("a regex Hyperscan refuses runs on PCRE2, with a note", "[acl][hyperscan]")
{
    acl_rig rig(R"( acl backref path -m reg (a)\1)" "\n"
                " acl lookbehind path -m reg (?<=x)y\n"
                " acl plain path -m reg ^/p\n"
                " acl lit path -m sub q\n");
    CHECK(rig.acls.sets() == 2); // path, and url for HTTP_URL_ABS
    REQUIRE(rig.notes.size() == 2);
    std::vector<std::string> notes = rig.notes;
    std::sort(notes.begin(), notes.end());
    // the note names the ACL's line
    CHECK(notes[0].starts_with(R"(t.cfg:8: regex '(a)\1' runs on PCRE2, not in the one-pass Hyperscan set: )"));
    CHECK(notes[1].starts_with("t.cfg:9: regex '(?<=x)y' runs on PCRE2, not in the one-pass Hyperscan set: "));

    struct row {
        const char* target;
        std::set<std::string> hits;
    };
    const std::vector<row> rows{
        {"/aa", {"backref"}},
        {"/ab", {}},
        {"/xy", {"lookbehind"}},
        {"/zy", {}},
        {"/paa/xy/q", {"backref", "lookbehind", "plain", "lit"}},
        {"/p", {"plain"}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.target);
        rig.use(get(r.target));
        std::set<std::string> got;
        for (const auto* n : {"backref", "lookbehind", "plain", "lit"})
            if (rig.acl(n))
                got.insert(n);
        CHECK(got == r.hits);
    }
}

TEST_CASE("a scan holds for the transaction until invalidate", "[acl][hyperscan]")
{
    acl_rig rig(" acl bad hdr(x-a) -m sub evil\n acl also hdr(x-a) -m reg ^go\n");
    rig.use(hdr("X-A", "good"));
    CHECK_FALSE(rig.acl("bad"));
    CHECK(rig.acl("also"));
    // a rule rewrote the header: the view shows it, the scan does not yet
    std::string rewritten = "evil";
    rig.refs[0].value = rewritten;
    CHECK_FALSE(rig.acl("bad"));
    rig.acls.invalidate(rig.ctx);
    CHECK(rig.acl("bad"));
    CHECK_FALSE(rig.acl("also"));
    // a new transaction starts afresh
    rig.use(hdr("X-A", "gone"));
    CHECK_FALSE(rig.acl("bad"));
    CHECK(rig.acl("also"));
}

TEST_CASE("match_value on one value", "[acl]")
{
    eval_ctx ctx;
    compiled_acl a;
    a.m = match_kind::str;
    a.strs = {"abc"};
    sample s;
    s.str = "abc";
    CHECK(match_value(a, ctx, s));
    s.str = "ABC";
    CHECK_FALSE(match_value(a, ctx, s));
    a.icase = true;
    CHECK(match_value(a, ctx, s));

    compiled_acl num;
    num.m = match_kind::integer;
    num.ranges = {{1, 5}};
    sample i;
    i.type = smp_type::integer;
    i.num = 5;
    CHECK(match_value(num, ctx, i));
    i.num = 6;
    CHECK_FALSE(match_value(num, ctx, i));

    compiled_acl len;
    len.m = match_kind::len;
    len.ranges = {{2, 2}};
    i.num = 42; // an integer's length is that of its text
    CHECK(match_value(len, ctx, i));
}

TEST_CASE("pattern_set: one pass over many patterns", "[hyperscan]")
{
    auto pat = [](std::string text, bool icase, bool literal, unsigned id) {
        rules::pattern p;
        p.text = std::move(text);
        p.icase = icase;
        p.literal = literal;
        p.id = id;
        return p;
    };
    std::vector<std::string> notes;
    auto set = rules::pattern_set::compile({pat("foo", false, true, 0),
                                            pat("^b[a-z]r$", false, false, 1),
                                            pat("BAZ", true, true, 2),
                                            pat("(x)\\1", false, false, 3),
                                            pat("a.c", false, true, 4),
                                            pat("q", false, true, 4)},
                                           &notes);
    REQUIRE(set);
    CHECK(set->size() == 6);
    CHECK(set->in_hyperscan() == 5);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].starts_with(R"(regex '(x)\1' runs on PCRE2)"));
    rules::pattern_scratch scratch;
    scratch.prepare(*set);
    auto ids = [&](std::string_view text) {
        std::set<unsigned> got;
        set->scan(text, scratch, [&](unsigned id) { got.insert(id); });
        return got;
    };
    CHECK(ids("a foo and a baz") == std::set<unsigned>{0, 2});
    CHECK(ids("bar") == std::set<unsigned>{1});
    CHECK(ids("xbar") == std::set<unsigned>{});
    CHECK(ids("xx") == std::set<unsigned>{3});
    CHECK(ids("abc") == std::set<unsigned>{});
    CHECK(ids("a.c") == std::set<unsigned>{4});
    CHECK(ids("q q q") == std::set<unsigned>{4}); // once per pattern
    CHECK(ids("") == std::set<unsigned>{});

    auto bad = rules::pattern_set::compile({pat("(unclosed", false, false, 0)}, &notes);
    REQUIRE_FALSE(bad);
    CHECK(bad.message() == "invalid regex '(unclosed': missing closing parenthesis at offset 9");

    auto empty = rules::pattern_set::compile({pat("^$", false, false, 7)}, nullptr);
    REQUIRE(empty);
    rules::pattern_scratch s2;
    s2.prepare(*empty);
    std::set<unsigned> got;
    empty->scan("", s2, [&](unsigned id) { got.insert(id); });
    CHECK(got == std::set<unsigned>{7});
    CHECK(rules::escape_literal("a.b_1") == "a\\x2eb_1");
}
