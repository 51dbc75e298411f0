// SPDX-License-Identifier: Apache-2.0
// http-request / http-response rules and the legacy req* / rsp* filters of
// a frontend, compiled from config text and run on Beast headers: what
// they answer and how they leave the message.
#include "controlplane/parser.hpp"
#include "proxy/http_rules.hpp"
#include "tests/controlplane/diag_helpers.hpp"
#include "tests/proxy/support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace bulwark;
using namespace bulwark::proxy;
using namespace std::chrono_literals;
using bulwark::controlplane::testing::alerts;
using bulwark::controlplane::testing::no_env;
namespace http = boost::beast::http;

namespace {

using fields_list = std::vector<std::pair<std::string, std::string>>;

std::string frame(const std::string& lines)
{
    return "defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
           "frontend f\n bind :80\n" +
           lines + " default_backend b\nbackend b\n server s1 127.0.0.1:8080\n";
}

template <class Header>
fields_list fields_of(const Header& h)
{
    fields_list out;
    for (const auto& f : h)
        out.emplace_back(std::string(f.name_string()), std::string(f.value()));
    return out;
}

// The value of the "location: " line of a redirect.
std::string location_of(const std::string& response)
{
    auto at = response.find("\r\nlocation: ");
    if (at == std::string::npos)
        return "<none>";
    at += 12;
    return response.substr(at, response.find("\r\n", at) - at);
}

// A frontend's rules, compiled, and one session's state to run them.
struct rig : bulwark::proxy::testing::compiled_frontend {
    rule_state st;
    request_header req;
    response_header res;
    std::string body;

    explicit rig(const std::string& lines) : compiled_frontend(frame(lines)) { st.ctx.scratch = &scratch; }

    // A new request.
    rig& request(const std::string& method, const std::string& target, const fields_list& headers = {},
                 unsigned version = 11)
    {
        req = request_header();
        req.method_string(method);
        req.target(target);
        req.version(version);
        for (const auto& [n, v] : headers)
            req.insert(n, v);
        body.clear();
        return *this;
    }
    rig& from(std::string_view ip, std::uint16_t port = 40000)
    {
        st.view.src = *bulwark::parse_ip(ip);
        st.view.src_port = port;
        return *this;
    }

    rule_result run(std::size_t from = 0)
    {
        view_request(st, req, body);
        return run_request_rules(*compiled, st, req, from);
    }

    // A response to the request.
    rule_result respond(unsigned status, const fields_list& headers = {})
    {
        res = response_header();
        res.result(status);
        res.version(11);
        for (const auto& [n, v] : headers)
            res.insert(n, v);
        view_request(st, req, body);
        view_response(st, res);
        return run_response_rules(*compiled, st, res);
    }

    std::string target() const { return std::string(req.target()); }
};

} // namespace

TEST_CASE("deny: 403 by default, deny_status, a reply of its own", "[http_rules]")
{
    rig r(" http-request deny if { path /deny }\n"
          " http-request deny deny_status 429 if { path /slow }\n"
          " http-request deny status 403 content-type text/plain string nope hdr X-Why blocked if { path /own }\n");
    auto d = r.request("GET", "/deny").run();
    CHECK(d.what == rule_outcome::reply);
    CHECK(d.status == 403);
    CHECK(d.response.empty()); // the proxy's error page
    CHECK_FALSE(d.legacy);
    CHECK_FALSE(d.local);

    auto s = r.request("GET", "/slow").run();
    CHECK(s.what == rule_outcome::reply);
    CHECK(s.status == 429);
    CHECK(s.response.empty());

    auto o = r.request("GET", "/own").run();
    CHECK(o.what == rule_outcome::reply);
    CHECK(o.status == 403);
    CHECK(o.response == "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nX-Why: blocked\r\ncontent-length: 4\r\n"
                        "cache-control: no-cache\r\nconnection: close\r\n\r\nnope");

    auto pass = r.request("GET", "/other").run();
    CHECK(pass.what == rule_outcome::go_on);
    CHECK(pass.status == 0);
    CHECK(pass.response.empty());
}

TEST_CASE("return answers with its status and body", "[http_rules]")
{
    rig r(" http-request return status 200 content-type \"text/plain\" string \"hello world\" if { path /hello }\n"
          " http-request return if { path /empty }\n"
          " http-request return status 503 content-type text/html string <p>later</p> hdr Retry-After 30\n");
    auto h = r.request("GET", "/hello").run();
    CHECK(h.what == rule_outcome::reply);
    CHECK(h.status == 200);
    CHECK(h.local);
    CHECK(h.response == "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n"
                        "cache-control: no-cache\r\nconnection: close\r\n\r\nhello world");
    auto e = r.request("GET", "/empty").run();
    CHECK(e.status == 200);
    CHECK(e.response == "HTTP/1.1 200 OK\r\ncontent-length: 0\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n");
    auto l = r.request("GET", "/x").run();
    CHECK(l.status == 503);
    CHECK(l.response == "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/html\r\nRetry-After: 30\r\n"
                        "content-length: 12\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n<p>later</p>");
}

TEST_CASE("redirect location, prefix and scheme", "[http_rules]")
{
    rig r(" http-request redirect location /new code 301 if { path /old }\n"
          " http-request redirect prefix https://b.example if { path_beg /p/ }\n"
          " http-request redirect prefix https://b.example drop-query if { path_beg /d/ }\n"
          " http-request redirect prefix / drop-query if { path_beg /slash/ }\n"
          " http-request redirect scheme https code 301 if { path_beg /s/ }\n"
          " http-request redirect scheme https drop-query if { path_beg /sd/ }\n"
          " http-request redirect location https://%[hdr(host),lower]/moved if { path /dyn }\n"
          " redirect location /r2 code 308 if { path /r }\n");
    auto old = r.request("GET", "/old?x=1").run();
    CHECK(old.what == rule_outcome::reply);
    CHECK(old.status == 301);
    CHECK(old.local);
    CHECK(old.response == "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n"
                          "cache-control: no-cache\r\nconnection: close\r\n\r\n");

    struct row {
        const char* target;
        int status;
        const char* location;
    };
    const std::vector<row> rows{
        {"/p/a?q=1", 302, "https://b.example/p/a?q=1"},
        {"/d/a?q=1", 302, "https://b.example/d/a"},
        {"/slash/a?q=1", 302, "/slash/a"},
        {"/s/a?q=1", 301, "https://A.example/s/a?q=1"}, // the Host as sent
        {"/sd/a?q=1", 302, "https://A.example/sd/a"},
        {"/dyn", 302, "https://a.example/moved"},
        {"/r", 308, "/r2"},
    };
    for (const auto& w : rows) {
        CAPTURE(w.target);
        auto res = r.request("GET", w.target, {{"Host", "A.example"}}).run();
        CHECK(res.what == rule_outcome::reply);
        CHECK(res.status == w.status);
        CHECK(res.local);
        CHECK(location_of(res.response) == w.location);
    }
}

TEST_CASE("set-header, add-header, del-header", "[http_rules]")
{
    rig r(" http-request add-header X-A one\n"
          " http-request add-header X-A two\n"
          " http-request set-header X-B \"b value\"\n"
          " http-request set-header X-Replaced new\n"
          " http-request del-header X-Gone\n"
          " http-request del-header X-Debug- -m beg\n"
          " http-request del-header -id -m end\n"
          " http-request del-header ^x-tmp[0-9]+$ -m reg\n"
          " http-request del-header secret -m sub\n");
    r.request("GET", "/",
              {{"Host", "h"},
               {"X-Replaced", "old1"},
               {"X-Gone", "1"},
               {"x-gone", "2"},
               {"X-Debug-A", "1"},
               {"x-debug-b", "2"},
               {"X-Debugger", "3"},
               {"X-Request-ID", "4"},
               {"X-Tmp12", "5"},
               {"X-Tmp12x", "6"},
               {"X-My-Secret-Token", "7"},
               {"X-Replaced", "old2"},
               {"X-Keep", "k"}});
    auto res = r.run();
    CHECK(res.what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"Host", "h"},
                                          {"X-Debugger", "3"},
                                          {"X-Tmp12x", "6"},
                                          {"X-Keep", "k"},
                                          {"X-A", "one"},
                                          {"X-A", "two"},
                                          {"X-B", "b value"},
                                          {"X-Replaced", "new"}});
}

TEST_CASE("replace-header replaces the whole value, replace-value each value", "[http_rules]")
{
    // HAProxy's examples (configuration manual, replace-header and replace-value)
    rig r(R"( http-request replace-header Cookie foo=([^;]*);(.*) foo=\1;ip=10.0.0.1;\2)" "\n"
          R"( http-request replace-value X-Forwarded-For ^192\.168\.(.*)$ 172.16.\1)" "\n"
          " http-request replace-header X-Part b Z\n"
          " http-request replace-value X-List ^a(.*) A\\1\n");
    r.request("GET", "/",
              {{"Cookie", "foo=foobar; expires=Tue, 14-Jun-2016 01:40:45 GMT;"},
               {"X-Forwarded-For", "192.168.10.1, 192.168.13.24, 10.0.0.37"},
               {"X-Part", "abc"},
               {"x-part", "xyz"},
               {"X-List", "ab, ba,ac"}});
    r.run();
    CHECK(fields_of(r.req) == fields_list{{"Cookie", "foo=foobar;ip=10.0.0.1; expires=Tue, 14-Jun-2016 01:40:45 GMT;"},
                                          {"X-Forwarded-For", "172.16.10.1, 172.16.13.24, 10.0.0.37"},
                                          {"X-Part", "Z"},
                                          {"x-part", "xyz"},
                                          {"X-List", "Ab, ba,Ac"}});
}

TEST_CASE("set-path, set-query, set-uri, set-method, replace-path, replace-uri", "[http_rules]")
{
    struct row {
        const char* rule;
        const char* target;
        const char* expect;
    };
    const std::vector<row> rows{
        {"set-path /new", "/old?x=1", "/new?x=1"},
        {"set-path /new", "/old", "/new"},
        {"set-path %[path,lower]", "/A/B?Q=1", "/a/b?Q=1"},
        {"set-query a=b", "/p?q=1", "/p?a=b"},
        {"set-query a=b", "/p", "/p?a=b"},
        {"set-query %[query,upper]", "/p?q=1", "/p?Q=1"},
        {"set-uri /x?y=1", "/old?z", "/x?y=1"},
        {"replace-path /foo/(.*) /\\1", "/foo/bar?q=1", "/bar?q=1"}, // HAProxy's example
        {"replace-path /foo/(.*) /\\1", "/other?q=/foo/x", "/other?q=/foo/x"},
        {"replace-path (.*) /prefix\\1", "/a?b", "/prefix/a?b"},
        {"replace-uri ^/api/(.*) /v2/\\1", "/api/x?y", "/v2/x?y"},
    };
    for (const auto& w : rows) {
        CAPTURE(w.rule, w.target);
        rig r(std::string(" http-request ") + w.rule + "\n");
        CHECK(r.request("GET", w.target).run().what == rule_outcome::go_on);
        CHECK(r.target() == w.expect);
    }

    rig m(" http-request set-method POST if { method GET }\n http-request deny if METH_POST { path /x }\n");
    CHECK(m.request("GET", "/y").run().what == rule_outcome::go_on);
    CHECK(m.req.method() == http::verb::post);
    CHECK(m.req.method_string() == "POST");
    // later rules see the rewritten request
    CHECK(m.request("GET", "/x").run().status == 403);
    rig p(" http-request set-path /admin\n http-request deny if { path /admin }\n");
    CHECK(p.request("GET", "/public").run().status == 403);
}

TEST_CASE("allow stops the rules; conditions pick the rules that run", "[http_rules]")
{
    rig r(" acl internal src 10.0.0.0/8\n"
          " http-request allow if { path /ok }\n"
          " http-request set-header X-Internal yes if internal\n"
          " http-request set-header X-Internal no unless internal\n"
          " http-request deny if { path_beg /admin } !internal\n");
    r.from("192.0.2.1");
    CHECK(r.request("GET", "/ok").run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req).empty()); // allow: nothing after it ran
    CHECK(r.request("GET", "/x").run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-Internal", "no"}});
    CHECK(r.request("GET", "/admin/x").run().status == 403);
    r.from("10.1.1.1");
    CHECK(r.request("GET", "/admin/x").run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-Internal", "yes"}});
}

TEST_CASE("tarpit, silent-drop, reject", "[http_rules]")
{
    rig r(" http-request tarpit if { path /t }\n"
          " http-request tarpit deny_status 429 if { path /t429 }\n"
          " http-request silent-drop if { path /drop }\n"
          " http-request reject if { path /reject }\n");
    auto t = r.request("GET", "/t").run();
    CHECK(t.what == rule_outcome::tarpit);
    CHECK(t.status == 500);
    CHECK(t.wait == 1000ms); // no 'timeout tarpit': the fallback given
    CHECK(r.request("GET", "/t429").run().status == 429);
    CHECK(r.request("GET", "/drop").run().what == rule_outcome::silent_drop);
    CHECK(r.request("GET", "/reject").run().what == rule_outcome::reject);

    rig timed(" timeout tarpit 3s\n http-request tarpit\n");
    CHECK(timed.request("GET", "/").run().wait == 3000ms);
}

TEST_CASE("wait-for-body stops, and the run resumes after it", "[http_rules]")
{
    rig r(" http-request add-header X-Before 1\n"
          " http-request wait-for-body time 2s at-least 1k\n"
          " http-request deny if { req.body -m sub evil }\n"
          " http-request add-header X-After 1\n");
    r.request("POST", "/form");
    auto w = r.run();
    CHECK(w.what == rule_outcome::wait_body);
    CHECK(w.wait == 2000ms);
    CHECK(w.at_least == 1024);
    CHECK(w.next == 2);
    CHECK(fields_of(r.req) == fields_list{{"X-Before", "1"}});

    r.body = "a=1&b=evil";
    auto d = r.run(w.next);
    CHECK(d.what == rule_outcome::reply);
    CHECK(d.status == 403);

    r.request("POST", "/form");
    CHECK(r.run().what == rule_outcome::wait_body);
    r.body = "a=1&b=good";
    CHECK(r.run(w.next).what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-Before", "1"}, {"X-After", "1"}});
}

TEST_CASE("a rewritten header is scanned again by later rules", "[http_rules][hyperscan]")
{
    rig r(" http-request set-header X-Seen good if { hdr(x-a) -m sub good }\n"
          " http-request set-header X-A evil if { hdr(x-a) -m sub good }\n"
          " http-request deny if { hdr(x-a) -m sub evil }\n");
    CHECK(r.compiled->acls.sets() == 2); // hdr(x-a), and url for HTTP_URL_ABS
    auto d = r.request("GET", "/", {{"X-A", "good"}}).run();
    CHECK(d.status == 403);
    CHECK(fields_of(r.req) == fields_list{{"X-Seen", "good"}, {"X-A", "evil"}});
    CHECK(r.request("GET", "/", {{"X-A", "fine"}}).run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-A", "fine"}});
    CHECK(r.request("GET", "/", {{"X-A", "evil"}}).run().status == 403);
}

TEST_CASE("%[expr] in header values", "[http_rules]")
{
    rig r(" http-request set-header X-Src %[src]\n"
          " http-request set-header X-Port %[src_port]\n"
          " http-request set-header X-Host %[hdr(host),lower]\n"
          " http-request set-header X-Mix a-%[hdr(x-none)]-b%%\n"
          " http-request add-header X-Path \"%[path] %[url_param(q)]\"\n");
    r.from("192.0.2.7", 4242);
    r.request("GET", "/p?q=search", {{"Host", "WWW.Example.COM"}}).run();
    CHECK(fields_of(r.req) == fields_list{{"Host", "WWW.Example.COM"},
                                          {"X-Src", "192.0.2.7"},
                                          {"X-Port", "4242"},
                                          {"X-Host", "www.example.com"},
                                          {"X-Mix", "a--b%"},
                                          {"X-Path", "/p search"}});
}

TEST_CASE("http-response rules", "[http_rules]")
{
    rig r(" http-response deny if { status 500 }\n"
          " http-response set-status 503 reason \"Try Later\" if { status 502 }\n"
          " http-response set-status 404 if { status 410 }\n"
          " http-response del-header Server\n"
          " http-response set-header X-Res %[status]\n"
          " http-response replace-value Cache-Control ^no-store$ private\n");
    r.request("GET", "/");
    auto d = r.respond(500);
    CHECK(d.what == rule_outcome::reply);
    CHECK(d.status == 502);
    CHECK(d.response.empty());

    CHECK(r.respond(502, {{"Server", "x"}}).what == rule_outcome::go_on);
    CHECK(r.res.result_int() == 503);
    CHECK(r.res.reason() == "Try Later");
    CHECK(fields_of(r.res) == fields_list{{"X-Res", "503"}});

    r.respond(410);
    CHECK(r.res.result_int() == 404);
    CHECK(r.res.reason() == "Not Found");

    r.respond(200, {{"Server", "nginx"}, {"server", "again"}, {"Cache-Control", "no-store, max-age=0"}});
    CHECK(fields_of(r.res) == fields_list{{"Cache-Control", "private, max-age=0"}, {"X-Res", "200"}});

    rig a(" http-response allow if { status 200 }\n http-response deny\n");
    a.request("GET", "/");
    CHECK(a.respond(200).what == rule_outcome::go_on);
    CHECK(a.respond(404).status == 502);
}

TEST_CASE("legacy reqdeny: header lines and the request line", "[http_rules][legacy]")
{
    rig r(R"( reqdeny ^X-Bad:)" "\n"
          R"( reqdeny ^GET\ /admin)" "\n"
          R"( reqideny ^x-evil:\ yes)" "\n");
    auto h = r.request("GET", "/x", {{"Host", "h"}, {"X-Bad", "1"}}).run();
    CHECK(h.what == rule_outcome::reply);
    CHECK(h.status == 403);
    CHECK(h.legacy);
    CHECK(h.response.empty());
    auto line = r.request("GET", "/admin/x").run();
    CHECK(line.status == 403);
    CHECK(line.legacy);
    CHECK(r.request("POST", "/admin").run().what == rule_outcome::go_on);
    CHECK(r.request("GET", "/x", {{"x-bad", "1"}}).run().what == rule_outcome::go_on); // reqdeny: case counts
    CHECK(r.request("GET", "/x", {{"X-Evil", "YES"}}).run().status == 403);               // reqideny: it does not
    CHECK(r.request("GET", "/x", {{"X-Evil", "no"}}).run().what == rule_outcome::go_on);
}

TEST_CASE("legacy reqirep rewrites the request line and header lines; reqdel", "[http_rules][legacy]")
{
    rig r(R"( reqirep ^GET\ /old(.*) GET\ /new\1)" "\n"
          R"( reqirep ^Host:\ old\.example(.*) Host:\ new.example\1)" "\n"
          R"( reqdel ^X-Remove:)" "\n");
    r.request("GET", "/old/x?y=1",
              {{"Host", "old.example:8080"}, {"X-Remove", "1"}, {"x-remove", "2"}, {"X-Keep", "3"}});
    auto res = r.run();
    CHECK(res.what == rule_outcome::go_on);
    CHECK(r.target() == "/new/x?y=1");
    CHECK(r.req.method_string() == "GET");
    CHECK(r.req.version() == 11);
    CHECK(fields_of(r.req) == fields_list{{"Host", "new.example:8080"}, {"x-remove", "2"}, {"X-Keep", "3"}});

    r.request("POST", "/old/x", {{"Host", "other"}});
    r.run();
    CHECK(r.target() == "/old/x");
    CHECK(fields_of(r.req) == fields_list{{"Host", "other"}});

    // HTTP/1.0 stays 1.0 through a request line rewrite
    r.request("GET", "/old", {}, 10);
    r.run();
    CHECK(r.target() == "/new");
    CHECK(r.req.version() == 10);
}

TEST_CASE("legacy filters run after the http-request rules, and take conditions", "[http_rules][legacy]")
{
    rig r(" acl internal src 10.0.0.0/8\n"
          R"( reqdeny ^X-Secret:)" "\n"
          " http-request del-header X-Secret if { path /clean }\n"
          R"( reqdeny ^X-Admin: unless internal)" "\n"
          R"( reqirep ^X-Tag:\ (.*) X-Tag:\ internal-\1 if internal)" "\n");
    r.from("192.0.2.1");
    CHECK(r.request("GET", "/clean", {{"X-Secret", "1"}}).run().what == rule_outcome::go_on);
    CHECK(r.request("GET", "/dirty", {{"X-Secret", "1"}}).run().status == 403);
    CHECK(r.request("GET", "/", {{"X-Admin", "1"}}).run().status == 403);
    CHECK(r.request("GET", "/", {{"X-Tag", "a"}}).run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-Tag", "a"}});
    r.from("10.0.0.1");
    CHECK(r.request("GET", "/", {{"X-Admin", "1"}}).run().what == rule_outcome::go_on);
    r.request("GET", "/", {{"X-Tag", "a"}}).run();
    CHECK(fields_of(r.req) == fields_list{{"X-Tag", "internal-a"}});
}

TEST_CASE("the seed's Secure-cookie rule: rspirep appends '; Secure'", "[http_rules][legacy]")
{
    // tests/configs/seeds/secure-cookie.cfg
    rig r(" acl https          ssl_fc\n"
          " acl secured_cookie res.hdr(Set-Cookie),lower -m sub secure\n"
          R"( rspirep ^(set-cookie:.*) \1;\ Secure if https !secured_cookie)" "\n");
    r.st.view.tls = true;
    r.request("GET", "/");
    CHECK(r.respond(200, {{"Set-Cookie", "SID=1; path=/"}, {"Content-Type", "text/html"}}).what ==
          rule_outcome::go_on);
    CHECK(fields_of(r.res) == fields_list{{"Set-Cookie", "SID=1; path=/; Secure"}, {"Content-Type", "text/html"}});
    // already secure: left alone
    r.respond(200, {{"Set-Cookie", "SID=1; path=/; SECURE"}});
    CHECK(fields_of(r.res) == fields_list{{"Set-Cookie", "SID=1; path=/; SECURE"}});
    // every Set-Cookie line is rewritten (none of them was secure)
    r.respond(200, {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}});
    CHECK(fields_of(r.res) == fields_list{{"Set-Cookie", "a=1; Secure"}, {"set-cookie", "b=2; Secure"}});
    // one secure cookie is enough for the ACL: the seed then rewrites none
    r.respond(200, {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2; Secure"}});
    CHECK(fields_of(r.res) == fields_list{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2; Secure"}});
    // plain HTTP: nothing to do
    r.st.view.tls = false;
    r.respond(200, {{"Set-Cookie", "SID=1; path=/"}});
    CHECK(fields_of(r.res) == fields_list{{"Set-Cookie", "SID=1; path=/"}});
}

TEST_CASE("legacy rspdeny gives 502, rspdel drops lines", "[http_rules][legacy]")
{
    rig r(R"( rspdeny ^Server:\ Apache)" "\n"
          R"( rspidel ^x-powered-by:)" "\n"
          R"( rspdeny ^HTTP/1\.1\ 418)" "\n");
    r.request("GET", "/");
    auto d = r.respond(200, {{"Server", "Apache/2.4"}});
    CHECK(d.what == rule_outcome::reply);
    CHECK(d.status == 502);
    CHECK(d.legacy);
    CHECK(r.respond(418).status == 502); // the status line is matched too
    CHECK(r.respond(200, {{"Server", "nginx"}, {"X-Powered-By", "PHP"}, {"X-Other", "1"}}).what ==
          rule_outcome::go_on);
    CHECK(fields_of(r.res) == fields_list{{"Server", "nginx"}, {"X-Other", "1"}});
}

TEST_CASE("use_backend picks the first rule whose condition holds", "[http_rules]")
{
    controlplane::load_result loaded = controlplane::load_text(
        "defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
        "frontend f\n bind :80\n use_backend api if { path_beg /api }\n use_backend static if { path_end .css }\n"
        " use_backend api if { hdr(host) api.example }\n default_backend b\n"
        "backend b\n server s1 127.0.0.1:8080\nbackend api\n server s1 127.0.0.1:8081\n"
        "backend static\n server s1 127.0.0.1:8082\n",
        "t.cfg", no_env());
    REQUIRE(alerts(loaded) == std::vector<std::string>{});
    auto r = compile_rules(*loaded.cfg.find_frontend("f"), 1000ms, nullptr);
    REQUIRE(r);
    const proxy_rules& pr = **r;
    REQUIRE(pr.use_backends.size() == 3);
    CHECK(pr.use_backends[0].backend == "api");
    rules::pattern_scratch scratch;
    pr.acls.prepare_scratch(scratch);
    rule_state st;
    st.ctx.scratch = &scratch;
    auto pick = [&](const std::string& target, const std::string& host) {
        request_header h;
        h.method_string("GET");
        h.target(target);
        h.insert(http::field::host, host);
        view_request(st, h, {});
        return choose_backend(pr, st);
    };
    CHECK(pick("/api/x", "www") == 0);
    CHECK(pick("/a.css", "www") == 1);
    CHECK(pick("/api/a.css", "www") == 0);
    CHECK(pick("/x", "api.example") == 2);
    CHECK(pick("/x", "www") == -1);
}

TEST_CASE("captures_text: last value, truncated, HAProxy's encoding", "[http_rules]")
{
    rig r(" capture request header Host len 5\n"
          " capture request header X-Missing len 10\n"
          " capture request header User-Agent len 64\n"
          " capture response header Server len 3\n");
    const char ua[] = "a\"b#c{d|e}f\x01g\x7f\xc3\th j";
    r.request("GET", "/",
              {{"Host", "first.example"}, {"Host", "example.com"}, {"User-Agent", std::string(ua, sizeof ua - 1)}});
    CHECK(captures_text(*r.compiled, r.req, true) == "{examp||a#22b#23c#7Bd#7Ce#7Df#01g#7F#C3#09h j}");
    r.respond(200, {{"Server", "nginx"}});
    CHECK(captures_text(*r.compiled, r.res, false) == "{ngi}");
    r.respond(200);
    CHECK(captures_text(*r.compiled, r.res, false) == "{}");

    rig none("");
    none.request("GET", "/", {{"Host", "h"}});
    CHECK(captures_text(*none.compiled, none.req, true).empty());
}

TEST_CASE("compile_rules notes what it passes over", "[http_rules]")
{
    rig r(" http-request set-var(txn.x) str(1)\n"
          " http-request deny if { path /x }\n");
    CHECK(r.compiled->req.size() == 1);
    CHECK(r.notes == std::vector<std::string>{"t.cfg:8: 'http-request set-var(txn.x)' is not built yet: the rule is "
                                              "passed over"});
    CHECK(r.request("GET", "/x").run().status == 403);
}

TEST_CASE("legacy filters: the start line first, the header lines only when it did not match", "[http_rules][legacy]")
{
    // 1.x's apply_filters_to_request: a filter matching the request line is not tried on headers
    rig r(R"( reqrep ^(.*)old(.*) \1new\2)" "\n");
    r.request("GET", "/old", {{"X-Old", "old"}});
    r.run();
    CHECK(r.target() == "/new");
    CHECK(fields_of(r.req) == fields_list{{"X-Old", "old"}});
    r.request("GET", "/x", {{"X-Old", "old"}});
    r.run();
    CHECK(r.target() == "/x");
    CHECK(fields_of(r.req) == fields_list{{"X-Old", "new"}}); // greedy: the last "old" of the line

    // rsprep rewrites the status line, and then leaves the header lines alone
    rig s(R"( rspirep ^HTTP/1\.1\ 200\ OK HTTP/1.1\ 203\ Rewritten)" "\n"
          R"( rspirep ^(X-Tag:.*)a \1b)" "\n");
    s.request("GET", "/");
    CHECK(s.respond(200, {{"X-Tag", "a"}}).what == rule_outcome::go_on);
    CHECK(s.res.result_int() == 203);
    CHECK(s.res.reason() == "Rewritten");
    CHECK(fields_of(s.res) == fields_list{{"X-Tag", "b"}}); // the second filter did not match the status line
    // a rewrite that is no longer a status line is refused: the response is unchanged
    rig t(R"( rspirep ^HTTP/1\.1\ 200 nonsense)" "\n");
    t.request("GET", "/");
    t.respond(200, {{"X-Tag", "a"}});
    CHECK(t.res.result_int() == 200);
    CHECK(fields_of(t.res) == fields_list{{"X-Tag", "a"}});
}

TEST_CASE("legacy reqtarpit holds only requests its regex matches", "[http_rules][legacy]")
{
    rig r(R"( reqitarpit ^User-Agent:\ .*sqlmap)" "\n");
    r.request("GET", "/", {{"User-Agent", "curl/8"}});
    CHECK(r.run().what == rule_outcome::go_on);
    r.request("GET", "/", {{"User-Agent", "SQLMap/1.7"}});
    auto res = r.run();
    CHECK(res.what == rule_outcome::tarpit);
    CHECK(res.status == 500);
    CHECK(res.wait == 1000ms); // compile_rules' fallback in the rig: no 'timeout tarpit'
    CHECK(r.compiled->req[0].hits->load() == 1);
}

TEST_CASE("a value built from the request cannot split the message", "[http_rules]")
{
    rig r(" http-request set-header X-A %[url_param(a),url_dec]\n"
          " http-request set-path %[url_param(p),url_dec]\n"
          " http-request set-method %[url_param(m),url_dec]\n"
          " http-request redirect location %[url_param(l),url_dec] if { url_param(l) -m found }\n");
    r.request("GET", "/x?a=ok%20fine&p=/y&m=PUT");
    CHECK(r.run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-A", "ok fine"}});
    CHECK(r.target() == "/y?a=ok%20fine&p=/y&m=PUT");
    CHECK(r.req.method_string() == "PUT");
    // CR LF, a blank in a path, a method that is no token: the message is left as it was
    r.request("GET", "/x?a=1%0d%0aX-Evil:%201&p=/a%20b&m=P%20T", {{"X-A", "old"}});
    CHECK(r.run().what == rule_outcome::go_on);
    CHECK(fields_of(r.req) == fields_list{{"X-A", "old"}});
    CHECK(r.target() == "/x?a=1%0d%0aX-Evil:%201&p=/a%20b&m=P%20T");
    CHECK(r.req.method_string() == "GET");
    // a tab (or any control byte) in a path: some servers split the request line on it
    r.request("GET", "/x?p=/a%09b");
    r.run();
    CHECK(r.target() == "/x?p=/a%09b");
    // a Location with a line break: no redirect; a clean one redirects
    r.request("GET", "/?l=/a%0d%0aSet-Cookie:%20x=1");
    CHECK(r.run().what == rule_outcome::go_on);
    r.request("GET", "/?l=/a");
    auto res = r.run();
    CHECK(res.what == rule_outcome::reply);
    CHECK(location_of(res.response) == "/a");
}
