// SPDX-License-Identifier: Apache-2.0
#include "controlplane/parser.hpp"
#include "controlplane/parse_ctx.hpp"
#include "tests/controlplane/diag_helpers.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace bulwark;
using namespace bulwark::controlplane;
using namespace bulwark::controlplane::testing;

namespace {

// A minimal valid frame that broken lines are dropped into.
const std::string head = "defaults\n"
                         " mode http\n"
                         " timeout client 5s\n"
                         " timeout connect 5s\n"
                         " timeout server 5s\n";

} // namespace

TEST_CASE("broken configs fail with the exact file:line message", "[parser]")
{
    struct row {
        const char* what;
        std::string text;
        std::vector<std::string> expect; // every alert, in order
    };
    const std::vector<row> rows{
        {"misspelt timeout",
         head + "frontend f\n bind :80\n timeout http-requst 10s\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'timeout': unknown timeout 'http-requst', expected one of 'client', 'client-fin', "
          "'http-request', 'http-keep-alive', 'server', 'server-fin', 'connect', 'queue', 'tunnel', 'check', "
          "'tarpit' (did you mean 'http-request'?)"}},
        {"bad time unit",
         head + "frontend f\n bind :80\n timeout client 10sec\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'timeout': invalid time unit 'sec' in '10sec', expected us|ms|s|m|h|d"}},
        {"missing time",
         head + "frontend f\n bind :80\n timeout client\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'timeout': missing time, expected 'timeout client TIME'"}},
        {"unknown keyword with a suggestion",
         head + "frontend f\n bnd :80\n default_backend b\nbackend b\n",
         {"t.cfg:7: 'bnd': unknown keyword in a 'frontend' section (did you mean 'bind'?)"}},
        {"keyword in the wrong section",
         head + "frontend f\n bind :80\n server s1 10.0.0.1:80\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'server': not allowed in a 'frontend' section (allowed in 'backend', 'listen')"}},
        {"line outside any section", "mode http\n",
         {"t.cfg:1: 'mode': outside of any section: expected 'global', 'defaults', 'frontend', 'backend', "
          "'listen' or 'shield' first"}},
        {"use_backend naming no backend",
         head + "frontend f\n bind :80\n use_backend bk_api if { path_beg /api }\n default_backend bk_wwww\n"
                "backend bk_www\n",
         {"t.cfg:8: 'use_backend': no backend named 'bk_api'",
          "t.cfg:9: 'default_backend': no backend named 'bk_wwww' (did you mean 'bk_www'?)"}},
        {"option forwardfor with a misspelt argument",
         head + "backend b\n option forwardfor excpet 10.0.0.0/8\n",
         {"t.cfg:7: 'option': 'forwardfor': unknown argument 'excpet', expected 'except', 'header' or 'if-none' "
          "(did you mean 'except'?)"}},
        {"option forwardfor with a bad network and a missing header name",
         head + "backend b\n option forwardfor except 10.0.0.300/8\nbackend c\n option forwardfor header\n",
         {"t.cfg:7: 'option': 'forwardfor': except: invalid network '10.0.0.300/8', expected ADDR or ADDR/LEN",
          "t.cfg:9: 'option': 'forwardfor': 'header' needs a value"}},
        {"option httpchk with too many words",
         head + "backend b\n option httpchk GET / HTTP/1.1 extra\n",
         {"t.cfg:7: 'option': 'httpchk' takes at most METHOD URI VERSION, found 'extra'"}},
        {"duplicate backend",
         head + "backend b\nbackend b\n",
         {"t.cfg:7: 'backend': 'b' has the same name as the backend declared at t.cfg:6"}},
        {"listen clashing with a frontend",
         head + "frontend x\n bind :80\n default_backend x\nlisten x\n bind :81\n",
         {"t.cfg:9: 'listen': 'x' has the same name as the frontend declared at t.cfg:6"}},
        {"bad bind address",
         head + "frontend f\n bind 10.0.0.300:80\n default_backend b\nbackend b\n",
         {"t.cfg:7: 'bind': invalid address '10.0.0.300:80': '10.0.0.300' is neither an IP address nor a host name"}},
        {"bind without port",
         head + "frontend f\n bind 10.0.0.3\n default_backend b\nbackend b\n",
         {"t.cfg:7: 'bind': invalid address '10.0.0.3': missing port, expected ADDR:PORT"}},
        {"ssl without a certificate",
         head + "frontend f\n bind :443 ssl\n default_backend b\nbackend b\n",
         {"t.cfg:7: 'bind': 'ssl' needs a certificate: add 'crt FILE' or 'crt-list FILE'"}},
        {"missing certificate file",
         head + "frontend f\n bind :443 ssl crt /nonexistent/cert.pem\n default_backend b\nbackend b\n",
         {"t.cfg:7: 'bind': unable to stat SSL certificate from file '/nonexistent/cert.pem': no such file or "
          "directory"}},
        {"unknown bind option",
         head + "frontend f\n bind :443 no-sslv4\n default_backend b\nbackend b\n",
         {"t.cfg:7: 'bind': unknown option 'no-sslv4' (did you mean 'no-sslv3'?)"}},
        {"server missing its address (the seed's 'server backend_1 check')",
         head + "backend b\n server backend_1 check\n",
         {"t.cfg:7: 'server': missing address for server 'backend_1': 'check' is an option, expected 'server "
          "backend_1 ADDRESS check'"}},
        {"server option out of range",
         head + "backend b\n server s 10.0.0.1:80 weight 300\n",
         {"t.cfg:7: 'server': 'weight': 300 is out of range, expected 0 to 256"}},
        {"duplicate server",
         head + "backend b\n server s 10.0.0.1:80\n server s 10.0.0.2:80\n",
         {"t.cfg:8: 'server': duplicate server name 's' (first at line 7)"}},
        {"unknown mode", head + "backend b\n mode https\n",
         {"t.cfg:7: 'mode': unknown mode 'https', expected one of 'http', 'tcp' (did you mean 'http'?)"}},
        {"unknown option", head + "backend b\n option http-buffer-requests\n",
         {"t.cfg:7: 'option': unknown option 'http-buffer-requests' (did you mean 'http-buffer-request'?)"}},
        {"option with an unexpected argument", head + "backend b\n option abortonclose yes\n",
         {"t.cfg:7: 'option': 'abortonclose' takes no argument, found 'yes'"}},
        {"ACL with an unknown fetch",
         head + "frontend f\n bind :80\n acl a url_sb GET_BACK\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'acl': unknown fetch 'url_sb' (did you mean 'url_sub'?)"}},
        {"ACL with an unknown converter",
         head + "frontend f\n bind :80\n acl a res.hdr(Set-Cookie),lowr -m sub secure\n default_backend b\n"
                "backend b\n",
         {"t.cfg:8: 'acl': unknown converter 'lowr', expected one of 'lower', 'upper', 'hex', 'url_dec', "
          "'base64', 'b64dec', 'length', 'field', 'word', 'regsub', 'bytes', 'ipmask', 'json', 'crc32', 'djb2' "
          "(did you mean 'lower'?)"}},
        {"ACL with a bad regex",
         head + "frontend f\n bind :80\n acl a path -m reg ^/(admin\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'acl': invalid regex '^/(admin': missing closing parenthesis at offset 8"}},
        {"ACL with an unknown match method",
         head + "frontend f\n bind :80\n acl a path -m regex ^/admin\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'acl': unknown match method 'regex', expected one of 'found', 'bool', 'int', 'ip', 'bin', "
          "'len', 'str', 'sub', 'reg', 'beg', 'end', 'dir', 'dom' (did you mean 'reg'?)"}},
        {"derivative and -m together",
         head + "frontend f\n bind :80\n acl a url_sub -m beg x\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'acl': 'url_sub' already sets the match method 'sub': remove '-m beg' or use 'url'"}},
        {"integer ACL with a word",
         head + "frontend f\n bind :80\n acl a cook_cnt(SECID) ge one\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'acl': 'ge' expects a number after it"}},
        {"fetch with too many arguments",
         head + "frontend f\n bind :80\n acl a cook_cnt(a,b) ge 1\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'acl': fetch 'cook_cnt' takes 0 to 1 arguments, found 2"}},
        {"condition naming no ACL",
         head + "frontend f\n bind :80\n acl sslv3 ssl_fc_protocol SSLv3\n http-request allow if sslv2\n"
                " default_backend b\nbackend b\n",
         {"t.cfg:9: 'http-request': no such ACL 'sslv2' (did you mean 'sslv3'?)"}},
        {"ACL used before it is declared",
         head + "frontend f\n bind :80\n http-request deny if bad\n acl bad path /x\n default_backend b\n"
                "backend b\n",
         {"t.cfg:8: 'http-request': no such ACL 'bad' (ACLs must be declared before they are used)"}},
        {"anonymous ACL without closing brace",
         head + "frontend f\n bind :80\n http-request deny if { url_sub 4745\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'http-request': missing '}' closing the anonymous ACL (braces need spaces around them)"}},
        {"brace glued to a word",
         head + "frontend f\n bind :80\n http-request deny if {url_sub 4745 }\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'http-request': '{url_sub': braces of an anonymous ACL must stand alone, with spaces around "
          "them"}},
        {"missing condition", head + "frontend f\n bind :80\n http-request deny if\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'http-request': missing condition after 'if'"}},
        {"unknown http-request action",
         head + "frontend f\n bind :80\n http-request dney\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'http-request': unknown action 'dney', expected one of 'allow', 'deny', 'tarpit', 'return', "
          "'redirect', 'auth', 'set-header', 'add-header', 'del-header', 'replace-header', 'replace-value', "
          "'replace-path', 'replace-uri', 'set-path', 'set-query', 'set-uri', 'set-method', 'capture', "
          "'silent-drop', 'reject', 'shield-block', 'use-service', 'set-var(', 'unset-var(', 'track-sc0', 'track-sc1', "
          "'track-sc2', 'set-log-level', 'wait-for-body' (did you mean 'deny'?)"}},
        {"action with a missing argument",
         head + "frontend f\n bind :80\n http-request set-header X-Foo\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'http-request': 'set-header' expects 2 arguments, found 1"}},
        {"deny with a bad status",
         head + "frontend f\n bind :80\n http-request deny deny_status 600\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'http-request': 'deny': invalid deny_status '600', expected an HTTP status 200 to 599"}},
        {"tcp-request with an unknown type",
         head + "frontend f\n bind :80\n tcp-request contnet reject\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'tcp-request': unknown rule type 'contnet', expected one of 'inspect-delay', 'content', "
          "'connection', 'session' (did you mean 'content'?)"}},
        {"legacy directive with a bad regex", head + "frontend f\n bind :80\n reqdeny ^(x\n default_backend b\n"
                                                     "backend b\n",
         {"t.cfg:8: 'reqdeny': invalid regex '^(x': missing closing parenthesis at offset 3"}},
        {"legacy rewrite naming a missing group",
         head + "frontend f\n bind :80\n rspirep ^set-cookie:.* \\1;\\ Secure\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'rspirep': replacement '\\1; Secure' refers to \\1 but the regex has 0 groups"}},
        {"capture with a wrong length keyword",
         head + "frontend f\n bind :80\n capture request header Cookie size 128\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'capture': unexpected 'size', expected 'len'"}},
        {"errorfile with an unsupported status",
         head + "backend b\n errorfile 418 /dev/null\n",
         {"t.cfg:7: 'errorfile': unsupported status '418', expected one of 200, 400, 401, 403, 404, 405, 407, "
          "408, 410, 413, 425, 429, 500, 501, 502, 503, 504"}},
        {"errorfile missing", head + "backend b\n errorfile 503 /nonexistent/503.http\n",
         {"t.cfg:7: 'errorfile': unable to read error file '/nonexistent/503.http': no such file or no "
          "permission"}},
        {"global keyword unknown", "global\n nbthreads 2\n",
         {"t.cfg:2: 'nbthreads': unknown keyword in a 'global' section (did you mean 'nbthread'?)"}},
        {"nbthread out of range", "global\n nbthread 0\n",
         {"t.cfg:2: 'nbthread': 0 is out of range, expected 1 to 64"}},
        {"tune.bufsize with a bad size", "global\n tune.bufsize 16q\n",
         {"t.cfg:2: 'tune.bufsize': invalid size suffix 'q' in '16q', expected k|m|g"}},
        {"nbproc, removed", "global\n nbproc 2\n",
         {"t.cfg:2: 'nbproc': removed from HAProxy in 2.5 and not supported: use 'nbthread' (one process, "
          "several threads)"}},
        {"log facility misspelt", "global\n log 127.0.0.1:514 locl0\n",
         {"t.cfg:2: 'log': unknown facility 'locl0', expected one of 'kern', 'user', 'mail', 'daemon', 'auth', "
          "'syslog', 'lpr', 'news', 'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2', 'local0', "
          "'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7' (did you mean 'local0'?)"}},
        {"frontend without a name", "frontend\n", {"t.cfg:1: 'frontend': missing name, expected 'frontend NAME'"}},
        {"invalid section name", head + "backend b/1\n",
         {"t.cfg:6: 'backend': invalid name 'b/1': use letters, digits, '-', '_', '.' and ':'"}},
        {"unsupported HAProxy section", "userlist admins\n user bob password x\n",
         {"t.cfg:1: 'userlist': 'userlist' sections are not supported by bulwark; the section is skipped"}},
        {"unterminated quote", head + "backend b\n server s \"10.0.0.1:80\n",
         {"t.cfg:7: unmatched double quote opened at column 11"}},
        {"several errors in one file are all reported",
         head + "frontend f\n bind :99999\n timeout clinet 5s\n default_backend nope\n",
         {"t.cfg:7: 'bind': invalid address ':99999': invalid port '99999', expected 1 to 65535",
          "t.cfg:8: 'timeout': unknown timeout 'clinet', expected one of 'client', 'client-fin', "
          "'http-request', 'http-keep-alive', 'server', 'server-fin', 'connect', 'queue', 'tunnel', 'check', "
          "'tarpit' (did you mean 'client'?)",
          "t.cfg:9: 'default_backend': no backend named 'nope'"}},
        // shield
        {"shield without eal and ports", "shield edge\n mode stateless\n",
         {"t.cfg:1: 'shield': 'edge' has no 'eal' line", "t.cfg:1: 'shield': 'edge' needs both 'port outside' "
                                                       "and 'port inside'"}},
        {"a syn guard on a stateless shield",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n mode stateless\n syn-guard always\n",
         {"t.cfg:1: 'shield': 'e' has a 'syn-guard' but is 'mode stateless': the SYN guard keeps the flows it opens, "
          "it needs 'mode stateful'"}},
        {"shield filter with a bad protocol",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n deny tpc dport 22\n",
         {"t.cfg:5: 'deny': unknown protocol 'tpc', expected one of 'ip', 'any', 'tcp', 'udp', 'icmp', 'icmpv6', "
          "'gre', 'esp', 'sctp' (did you mean 'tcp'?) or a number 0 to 255"}},
        {"shield ports on icmp",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n deny icmp dport 22\n",
         {"t.cfg:5: 'deny': 'dport' needs tcp, udp or sctp, not 'icmp'"}},
        {"shield bad CIDR",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n block src 203.0.113.0/40\n",
         {"t.cfg:5: 'block': invalid prefix length '40' in '203.0.113.0/40', expected 0 to 32"}},
        {"shield bad port list",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n deny udp sport 19,123,,1900\n",
         {"t.cfg:5: 'deny': invalid port '' in '19,123,,1900', expected 1 to 65535"}},
        {"shield same port both sides", "shield e\n eal --no-pci\n port outside p0\n port inside p0\n",
         {"t.cfg:4: 'port': 'p0' cannot be both the outside and the inside port"}},
        {"shield syn-guard auto without threshold",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n syn-guard auto\n",
         {"t.cfg:5: 'syn-guard': 'auto' expects a threshold in SYN per second: 'syn-guard auto 20000'"}},
        {"shield punt without host port",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n punt tcp dst 10.0.0.1 dport 80\n",
         {"t.cfg:1: 'shield': 'e' has 'punt' rules but no 'host-port' to hand them to"}},
        {"shield stateful host port with two workers",
         "shield e\n eal -l 0-2 --no-pci\n port outside p0\n port inside p1\n host-port bw0 address 10.0.0.1/24\n",
         {"t.cfg:5: 'host-port': 'e' is in mode stateful with 2 worker lcores: a host port is served by one lcore, "
          "which tracks the flows of what the kernel sends, so a punted flow's client side must reach the same one: "
          "give one worker lcore (e.g. 'eal -l 0-1 ...') or mode stateless"}},
        {"shield mixed families",
         "shield e\n eal --no-pci\n port outside p0\n port inside p1\n allow tcp src 10.0.0.0/8 dst ::1\n",
         {"t.cfg:5: 'allow': 'src' and 'dst' are of different address families"}},
        {"two shields",
         "shield a\n eal --no-pci\n port outside p0\n port inside p1\nshield b\n eal --no-pci\n port outside p0\n"
         " port inside p1\n",
         {"t.cfg:5: 'shield': only one shield section is supported (one dataplane per process)"}},
    };
    for (const auto& r : rows) {
        INFO(r.what << "\n" << r.text);
        auto got = load_text(r.text, "t.cfg", no_env());
        CHECK(got.diag.failed());
        CHECK(alerts(got) == r.expect);
    }
}

TEST_CASE("valid snippets load without alerts", "[parser]")
{
    struct row {
        const char* what;
        std::string text;
        std::vector<std::string> expect_warnings;
    };
    const std::vector<row> rows{
        {"frontend, backend, ACLs and rules",
         head + "frontend f\n bind :80,:81\n bind [::]:8080 v6only\n acl api path_beg /api\n"
                " acl local src 127.0.0.0/8 ::1\n http-request deny deny_status 429 if api !local\n"
                " http-request redirect scheme https code 301 unless { ssl_fc }\n"
                " http-request set-header X-Forwarded-Proto https if { ssl_fc } || local\n"
                " http-response del-header Server\n use_backend b if api\n default_backend b\n"
                "backend b\n balance leastconn\n server s1 10.0.0.1:80 check inter 2s rise 2 fall 3 weight 10\n"
                " server s2 [::1]:8080 maxconn 100 send-proxy-v2\n server s3 unix@/run/s3.sock\n",
         {}},
        {"no option",
         head + "backend b\n no option http-buffer-request\n option httpchk GET /health\n", {}},
        {"option forwardfor with every argument: built, no warning",
         head + "backend b\n option forwardfor except 127.0.0.0/8 header X-Client-IP if-none\n", {}},
        {"timeout in the wrong section warns as HAProxy does",
         head + "frontend f\n bind :80\n timeout server 5s\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'timeout': 'timeout server' ignored: a frontend has no backend capability"}},
        {"http rules in a tcp proxy warn",
         head + "frontend f\n mode tcp\n bind :80\n http-request deny\n default_backend b\nbackend b\n",
         {"t.cfg:9: 'http-request': ignored: 'f' is in tcp mode and this rule requires 'mode http'"}},
        {"legacy timeouts load with the modern line",
         "defaults\n clitimeout 5s\n srvtimeout 5s\n contimeout 5s\nbackend b\n",
         {"t.cfg:2: 'clitimeout': removed from HAProxy in 2.1; loaded as: timeout client 5s",
          "t.cfg:3: 'srvtimeout': removed from HAProxy in 2.1; loaded as: timeout server 5s",
          "t.cfg:4: 'contimeout': removed from HAProxy in 2.1; loaded as: timeout connect 5s"}},
        {"reqadd loads as add-header",
         head + "frontend f\n bind :80\n reqadd X-Proto:\\ SSL\n default_backend b\nbackend b\n",
         {"t.cfg:8: 'reqadd': removed from HAProxy in 2.1; loaded as: http-request add-header X-Proto \"SSL\""}},
        {"frontend without bind and backend warns",
         head + "frontend f\n",
         {"t.cfg:6: 'frontend': 'f' has no 'bind' line: it accepts no connection (declare it as a backend if that "
          "was meant)",
          "t.cfg:6: 'frontend': 'f' has no 'default_backend' nor 'use_backend': its requests get 503"}},
        {"setenv feeds later expansion",
         "global\n setenv PORT 8080\n" + head + "frontend f\n bind \":${PORT}\"\n default_backend b\nbackend b\n",
         {}},
        {"shield section",
         "shield edge\n eal -l 0-1 --no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=out0\n"
         " port outside net_af_packet0\n port inside net_af_packet1\n host-port bw0 address 10.10.0.100/24\n"
         " mode stateful\n flows 4m\n syn-guard auto 20000\n limit src pps 5000 burst 10000\n"
         " limit src new-flows 200/s\n limit src concurrent-flows 512\n block src 203.0.113.0/24 2001:db8::/32\n"
         " deny udp sport 19,123,1900,11211\n allow tcp src 192.0.2.0/24 dport 22\n"
         " punt tcp dst 10.10.0.100 dport 80,443\n default allow\n",
         {}},
    };
    for (const auto& r : rows) {
        INFO(r.what << "\n" << r.text);
        auto got = load_text(r.text, "t.cfg", no_env());
        CHECK(alerts(got).empty());
        CHECK(warnings(got) == r.expect_warnings);
    }
}

TEST_CASE("the model holds what the file says", "[parser]")
{
    auto got = load_text("shield edge\n eal --no-pci\n port outside o\n port inside i\n host-port bw0 address "
                         "10.10.0.100/24\n flows 4m\n limit src pps 5000 burst 10000\n"
                         " deny udp sport 19,123\n punt tcp dst 10.10.0.100 dport 80,443\n default deny\n" +
                             head + "frontend f\n bind 127.0.0.1:8080\n timeout http-request 10s\n"
                                    " option http-buffer-request\n default_backend b\n"
                                    "backend b\n server s1 10.0.0.2:80 check inter 3s\n",
                         "t.cfg", no_env());
    REQUIRE_FALSE(got.diag.failed());
    const auto& s = got.cfg.shields.at(0);
    CHECK(s.port_outside == "o");
    REQUIRE(s.host_addresses.size() == 1);
    CHECK(s.host_addresses[0].net.str() == "10.10.0.100"); // the host's own address is kept
    CHECK(s.host_addresses[0].prefix == 24);
    CHECK(s.flows == 4u << 20);
    CHECK(s.limit_pps == 5000);
    CHECK(s.limit_burst == 10000);
    REQUIRE(s.rules.size() == 2);
    CHECK(s.rules[0].v == verdict::deny);
    CHECK(s.rules[0].sport.size() == 2);
    CHECK(s.rules[1].v == verdict::punt);
    CHECK(s.rules[1].dst->str() == "10.10.0.100/32");
    CHECK(s.default_verdict == verdict::deny);

    const auto* f = got.cfg.find_frontend("f");
    REQUIRE(f);
    CHECK(f->mode == proxy_mode::http);              // from defaults
    CHECK(f->timeout.client->count() == 5000);      // from defaults
    CHECK(f->timeout.http_request->count() == 10000);
    CHECK(f->options.at("http-buffer-request"));
    CHECK(f->binds.at(0).addr.str() == "127.0.0.1:8080");
    CHECK(f->default_backend->backend == "b");
    const auto* b = got.cfg.find_backend("b");
    REQUIRE(b);
    CHECK(b->servers.at(0).check);
    CHECK(b->servers.at(0).inter.count() == 3000);
}

TEST_CASE("every registered keyword is listed once per section", "[parser]")
{
    for (auto table : {global_keywords(), proxy_keywords(), shield_keywords()}) {
        std::set<std::string_view> seen;
        for (const auto& k : table)
            CHECK(seen.insert(k.name).second);
    }
    CHECK(keyword_names(proxy_keywords(), sec_backend).size() > 40);
}

TEST_CASE("files: a missing file is an alert naming it", "[parser]")
{
    std::vector<std::string> files{"/nonexistent/bulwark.cfg"};
    auto got = load_files(files, no_env());
    REQUIRE(alerts(got) ==
            std::vector<std::string>{"/nonexistent/bulwark.cfg: cannot open the file: no such file or no permission"});
}

TEST_CASE("the embedded default config is valid", "[parser]")
{
    auto got = load_text(embedded_default_config(), "<default>", no_env());
    CHECK(alerts(got).empty());
    CHECK(warnings(got).empty());
    REQUIRE(got.cfg.shields.size() == 1);
    CHECK(got.cfg.shields[0].eal_args.back() == "--vdev=net_pcap1,iface=bwlab-in");
}
