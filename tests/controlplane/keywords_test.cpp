// SPDX-License-Identifier: Apache-2.0
// Every section keyword in the registries has a good line that loads and a
// bad line that fails with its exact file:line message (STYLE.md section 8).
// A keyword added to a registry without rows here fails the last test case.
#include "controlplane/parser.hpp"
#include "controlplane/parse_ctx.hpp"
#include "tests/controlplane/diag_helpers.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <set>

using namespace bulwark;
using namespace bulwark::controlplane;
using namespace bulwark::controlplane::testing;

namespace {

struct row {
    const char* keyword;
    unsigned sec;
    const char* good; // nullptr: the frame itself uses the keyword
    const char* bad;
    const char* message;
};

const std::vector<row> rows{
        {"daemon", sec_global, " daemon", " daemon now",
         "t.cfg:2: 'daemon': too many arguments, expected 'daemon'"},
        {"master-worker", sec_global, " master-worker", " master-worker yes",
         "t.cfg:2: 'master-worker': too many arguments, expected 'master-worker'"},
        {"quiet", sec_global, " quiet", " quiet please",
         "t.cfg:2: 'quiet': too many arguments, expected 'quiet'"},
        {"nbthread", sec_global, " nbthread 2", " nbthread two",
         "t.cfg:2: 'nbthread': invalid number 'two', expected an integer"},
        {"maxconn", sec_global, " maxconn 100000", " maxconn 0",
         "t.cfg:2: 'maxconn': 0 is out of range, expected 1 to 10000000"},
        {"log", sec_global, " log 127.0.0.1:514 local0 info", " log 127.0.0.1:514 local0 loud",
         "t.cfg:2: 'log': unknown level 'loud', expected one of 'emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'"},
        {"log", sec_global, " log stdout format raw len 2048 daemon", " log stdout format json daemon",
         "t.cfg:2: 'log': unsupported log format 'json', expected one of 'raw', 'rfc3164', 'rfc5424'"},
        {"log", sec_global, " log /dev/log format rfc5424 local7 notice", " log logs.example:514 local0",
         "t.cfg:2: 'log': unsupported log target 'logs.example:514', expected stdout, stderr, a unix socket path "
         "(/dev/log) or an IP address with an optional port (udp@ADDR:PORT)"},
        {"stats", sec_global, " stats socket unix@/run/bulwark.sock", " stats sock /run/x",
         "t.cfg:2: 'stats': expected 'stats socket ADDRESS [options]' or 'stats timeout TIME'"},
        {"user", sec_global, " user nobody", " user no-such-user-bw",
         "t.cfg:2: 'user': unknown user 'no-such-user-bw'"},
        {"group", sec_global, " group nogroup", " group no-such-group-bw",
         "t.cfg:2: 'group': unknown group 'no-such-group-bw'"},
        {"chroot", sec_global, " chroot /tmp", " chroot",
         "t.cfg:2: 'chroot': missing argument, expected 'chroot DIR'"},
        {"pidfile", sec_global, " pidfile /run/bulwarkd.pid", " pidfile a b",
         "t.cfg:2: 'pidfile': too many arguments, expected 'pidfile PATH'"},
        {"default-path", sec_global, " default-path origin /etc/bulwark", " default-path home",
         "t.cfg:2: 'default-path': unknown mode 'home', expected one of 'current', 'config', 'parent', 'origin'"},
        {"crt-base", sec_global, " crt-base /etc/ssl", " crt-base",
         "t.cfg:2: 'crt-base': missing argument, expected 'crt-base DIR'"},
        {"ca-base", sec_global, " ca-base /etc/ssl/certs", " ca-base",
         "t.cfg:2: 'ca-base': missing argument, expected 'ca-base PATH'"},
        {"setenv", sec_global, " setenv X 1", " setenv X",
         "t.cfg:2: 'setenv': missing argument, expected 'setenv NAME VALUE'"},
        {"presetenv", sec_global, " presetenv X 1", " presetenv",
         "t.cfg:2: 'presetenv': missing arguments, expected 'presetenv NAME VALUE'"},
        {"unsetenv", sec_global, " unsetenv X Y", " unsetenv",
         "t.cfg:2: 'unsetenv': missing argument, expected 'unsetenv NAME...'"},
        {"tune.bufsize", sec_global, " tune.bufsize 32k", " tune.bufsize 100",
         "t.cfg:2: 'tune.bufsize': 100 is out of range, expected 1k to 256m"},
        {"tune.http.maxhdr", sec_global, " tune.http.maxhdr 200", " tune.http.maxhdr 40000",
         "t.cfg:2: 'tune.http.maxhdr': 40000 is out of range, expected 1 to 32767"},
        {"tune.pcre2.match-limit", sec_global, " tune.pcre2.match-limit 50000", " tune.pcre2.match-limit 10",
         "t.cfg:2: 'tune.pcre2.match-limit': 10 is out of range, expected 100 to 100000000"},
        {"tune.pcre2.depth-limit", sec_global, " tune.pcre2.depth-limit 5000", " tune.pcre2.depth-limit x",
         "t.cfg:2: 'tune.pcre2.depth-limit': invalid number 'x', expected an integer"},
        {"tune.ssl.default-dh-param", sec_global, " tune.ssl.default-dh-param 2048", " tune.ssl.default-dh-param big",
         "t.cfg:2: 'tune.ssl.default-dh-param': invalid number 'big', expected an integer"},
        {"ssl-default-bind-options", sec_global, " ssl-default-bind-options no-sslv3 ssl-min-ver TLSv1.2", " ssl-default-bind-options no-sslv2",
         "t.cfg:2: 'ssl-default-bind-options': unknown option 'no-sslv2', expected one of 'no-sslv3', 'no-tlsv10', 'no-tlsv11', 'no-tlsv12', 'no-tlsv13', 'no-tls-tickets', 'force-sslv3', 'force-tlsv10', 'force-tlsv11', 'force-tlsv12', 'ssl-min-ver', 'ssl-max-ver' (did you mean 'no-sslv3'?)"},
        {"ssl-default-server-options", sec_global, " ssl-default-server-options no-tlsv10", " ssl-default-server-options ssl-min-ver",
         "t.cfg:2: 'ssl-default-server-options': 'ssl-min-ver' expects SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3"},
        {"ssl-default-bind-ciphers", sec_global, " ssl-default-bind-ciphers ECDHE+AESGCM", " ssl-default-bind-ciphers",
         "t.cfg:2: 'ssl-default-bind-ciphers': missing argument, expected 'ssl-default-bind-ciphers ...'"},
        {"ssl-default-bind-ciphersuites", sec_global, " ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256", " ssl-default-bind-ciphersuites",
         "t.cfg:2: 'ssl-default-bind-ciphersuites': missing argument, expected 'ssl-default-bind-ciphersuites ...'"},
        {"ssl-default-server-ciphers", sec_global, " ssl-default-server-ciphers ECDHE+AESGCM", " ssl-default-server-ciphers",
         "t.cfg:2: 'ssl-default-server-ciphers': missing argument, expected 'ssl-default-server-ciphers ...'"},
        {"ssl-server-verify", sec_global, " ssl-server-verify required", " ssl-server-verify",
         "t.cfg:2: 'ssl-server-verify': missing argument, expected 'ssl-server-verify ...'"},
        {"hard-stop-after", sec_global, " hard-stop-after 30s", " hard-stop-after soon",
         "t.cfg:2: 'hard-stop-after': invalid time 'soon', expected a number with an optional unit us|ms|s|m|h|d"},
        {"spread-checks", sec_global, " spread-checks 5", " spread-checks -1",
         "t.cfg:2: 'spread-checks': -1 is out of range, expected 0 to 2147483647"},
        {"description", sec_global, " description edge appliance", " description",
         "t.cfg:2: 'description': missing argument, expected 'description ...'"},
        {"node", sec_global, " node edge-1", " node",
         "t.cfg:2: 'node': missing argument, expected 'node ...'"},
        {"cpu-map", sec_global, " cpu-map 1 0", " cpu-map",
         "t.cfg:2: 'cpu-map': missing argument, expected 'cpu-map ...'"},
        {"nbproc", sec_global, nullptr, " nbproc 2",
         "t.cfg:2: 'nbproc': removed from HAProxy in 2.5 and not supported: use 'nbthread' (one process, several threads)"},
        {"mode", sec_backend, " mode tcp", " mode udp",
         "t.cfg:7: 'mode': unknown mode 'udp', expected one of 'http', 'tcp'"},
        {"bind", sec_frontend, " bind 127.0.0.1:8080,[::1]:8080 name www tfo", " bind 127.0.0.1:8080 backlog lots",
         "t.cfg:8: 'bind': 'backlog': invalid number 'lots', expected an integer"},
        {"server", sec_backend, " server s1 10.0.0.1:80 check inter 2s fall 3 rise 2", " server s1 10.0.0.1:80 inter fast",
         "t.cfg:7: 'server': 'inter': invalid time 'fast', expected a number with an optional unit us|ms|s|m|h|d"},
        {"default-server", sec_backend, " default-server inter 3s fall 2", " default-server fall none",
         "t.cfg:7: 'default-server': 'fall': invalid number 'none', expected an integer"},
        {"balance", sec_backend, " balance source", " balance fastest",
         "t.cfg:7: 'balance': unknown algorithm 'fastest', expected one of 'roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'url_param', 'hdr', 'random', 'rdp-cookie'"},
        {"timeout", sec_defaults, " timeout http-keep-alive 2s", " timeout http-keep-alive forever",
         "t.cfg:2: 'timeout': invalid time 'forever', expected a number with an optional unit us|ms|s|m|h|d"},
        {"clitimeout", sec_defaults, " clitimeout 30s", " clitimeout",
         "t.cfg:2: 'clitimeout': missing argument, expected 'timeout client TIME'"},
        {"srvtimeout", sec_defaults, " srvtimeout 30s", " srvtimeout 30x",
         "t.cfg:2: 'srvtimeout': invalid time unit 'x' in '30x', expected us|ms|s|m|h|d"},
        {"contimeout", sec_defaults, " contimeout 5s", " contimeout 5s 6s",
         "t.cfg:2: 'contimeout': too many arguments, expected 'timeout connect TIME'"},
        {"option", sec_backend, " option redispatch", " option",
         "t.cfg:7: 'option': missing option name"},
        {"no", sec_backend, " no option abortonclose", " no abortonclose",
         "t.cfg:7: 'no': expected 'no option NAME'"},
        {"maxconn", sec_frontend, " maxconn 5000", " maxconn -5",
         "t.cfg:8: 'maxconn': -5 is out of range, expected 0 to 10000000"},
        {"fullconn", sec_backend, " fullconn 1000", " fullconn lots",
         "t.cfg:7: 'fullconn': invalid number 'lots', expected an integer"},
        {"retries", sec_backend, " retries 3", " retries",
         "t.cfg:7: 'retries': missing argument, expected 'retries NUMBER'"},
        {"log", sec_frontend, " log global", " log global extra",
         "t.cfg:8: 'log': 'log global' takes no more arguments"},
        {"log", sec_frontend, " log udp@127.0.0.1:5514 len 512 local0", " log stderr len 10 local0",
         "t.cfg:8: 'log': 10 is out of range, expected 80 to 65535"},
        {"log-format", sec_frontend, " log-format \"%ci:%cp [%tr] %ft %b/%s %ST %B\"", " log-format",
         "t.cfg:8: 'log-format': missing argument, expected 'log-format ...'"},
        {"acl", sec_frontend, " acl api path_beg /api", " acl api",
         "t.cfg:8: 'acl': missing argument, expected 'acl NAME FETCH [flags] [--] [PATTERN...]'"},
        {"use_backend", sec_frontend, " use_backend b if { path_beg /b }", " use_backend b when x",
         "t.cfg:8: 'use_backend': unexpected 'when', expected 'if' or 'unless'"},
        {"default_backend", sec_frontend, " default_backend b", " default_backend b c",
         "t.cfg:8: 'default_backend': too many arguments, expected 'default_backend NAME'"},
        {"http-request", sec_frontend, " http-request return status 200 content-type text/plain string ok if { path /ping }", " http-request return status 999",
         "t.cfg:8: 'http-request': 'return': invalid status '999', expected an HTTP status 200 to 599"},
        {"http-response", sec_frontend, " http-response set-header X-Frame-Options DENY", " http-response set-status 99",
         "t.cfg:8: 'http-response': 'set-status': invalid status '99', expected an HTTP status 200 to 599"},
        {"tcp-request", sec_frontend, " tcp-request connection reject if { src 192.0.2.0/24 }", " tcp-request connection drop",
         "t.cfg:8: 'tcp-request connection': unknown action 'drop', expected one of 'accept', 'reject', 'expect-proxy', 'silent-drop', 'track-sc0', 'track-sc1', 'track-sc2', 'shield-block'"},
        {"tcp-response", sec_backend, " tcp-response inspect-delay 1s", " tcp-response inspect-delay",
         "t.cfg:7: 'tcp-response': missing argument, expected 'tcp-response inspect-delay TIME'"},
        {"redirect", sec_frontend, " redirect scheme https code 301 if !{ ssl_fc }", " redirect scheme https code 300",
         "t.cfg:8: 'redirect': 'redirect': invalid redirect code '300', expected 301, 302, 303, 307 or 308"},
        {"capture", sec_frontend, " capture request header Host len 64", " capture request header Host len 0",
         "t.cfg:8: 'capture': invalid length: 0 is out of range, expected 1 to 65535"},
        {"errorfile", sec_backend, " errorfile 503 ERRFILE", " errorfile 503",
         "t.cfg:7: 'errorfile': missing argument, expected 'errorfile STATUS FILE'"},
        {"description", sec_frontend, " description the public site", " description",
         "t.cfg:8: 'description': missing argument, expected 'description ...'"},
        {"disabled", sec_backend, " disabled", " disabled now",
         "t.cfg:7: 'disabled': too many arguments, expected 'disabled'"},
        {"enabled", sec_backend, " enabled", " enabled yes",
         "t.cfg:7: 'enabled': too many arguments, expected 'enabled'"},
        {"id", sec_frontend, " id 10", " id ten",
         "t.cfg:8: 'id': invalid number 'ten', expected an integer"},
        {"cookie", sec_backend, " cookie SRV insert indirect nocache", " cookie",
         "t.cfg:7: 'cookie': missing argument, expected 'cookie ...'"},
        {"stats", sec_frontend, " stats enable", " stats",
         "t.cfg:8: 'stats': missing argument, expected 'stats ...'"},
        {"monitor-uri", sec_frontend, " monitor-uri /health", " monitor-uri",
         "t.cfg:8: 'monitor-uri': missing argument, expected 'monitor-uri ...'"},
        {"unique-id-format", sec_frontend, " unique-id-format %{+X}o\\ %ci:%cp", " unique-id-format",
         "t.cfg:8: 'unique-id-format': missing argument, expected 'unique-id-format ...'"},
        {"unique-id-header", sec_frontend, " unique-id-header X-Unique-ID", " unique-id-header",
         "t.cfg:8: 'unique-id-header': missing argument, expected 'unique-id-header ...'"},
        {"http-check", sec_backend, " http-check expect ! rstatus ^5", " http-check expect status 2xx",
         "t.cfg:7: 'http-check': 'expect status': '2xx' is not a status, a range or a list of them ('200', '200-399', '200,302')"},
        {"stick-table", sec_frontend, " stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur",
         " stick-table type ip size 0", "t.cfg:8: 'stick-table': invalid 'size' '0'"},
        {"hash-type", sec_backend, " hash-type consistent", " hash-type",
         "t.cfg:7: 'hash-type': missing argument, expected 'hash-type ...'"},
        {"http-reuse", sec_backend, " http-reuse safe", " http-reuse",
         "t.cfg:7: 'http-reuse': missing argument, expected 'http-reuse ...'"},
        {"compression", sec_frontend, " compression algo gzip", " compression",
         "t.cfg:8: 'compression': missing argument, expected 'compression ...'"},
        {"rate-limit", sec_frontend, " rate-limit sessions 100", " rate-limit",
         "t.cfg:8: 'rate-limit': missing argument, expected 'rate-limit ...'"},
        {"block", sec_frontend, nullptr, " block if { src 192.0.2.1 }",
         "t.cfg:8: 'block': removed from HAProxy in 2.0: use 'http-request deny if { src 192.0.2.1 }'"},
        {"reqadd", sec_frontend, " reqadd X-Proto:\\ SSL if { ssl_fc }", " reqadd",
         "t.cfg:8: 'reqadd': missing argument, expected 'reqadd HEADER [if|unless CONDITION]'"},
        {"rspadd", sec_frontend, " rspadd Strict-Transport-Security:\\ max-age=31536000", " rspadd X: if",
         "t.cfg:8: 'rspadd': missing condition after 'if'"},
        {"reqdeny", sec_frontend, " reqdeny ^User-Agent:\\ .*sqlmap", " reqdeny ^(User-Agent",
         "t.cfg:8: 'reqdeny': invalid regex '^(User-Agent': missing closing parenthesis at offset 12"},
        {"reqideny", sec_frontend, " reqideny ^user-agent:\\ .*sqlmap", " reqideny",
         "t.cfg:8: 'reqideny': missing argument, expected 'reqideny REGEX [if|unless CONDITION]'"},
        {"reqallow", sec_frontend, " reqallow ^Host:\\ www", " reqallow ^Host: www extra if",
         "t.cfg:8: 'reqallow': missing condition after 'if'"},
        {"reqiallow", sec_frontend, " reqiallow ^host:\\ www", " reqiallow ^x( ",
         "t.cfg:8: 'reqiallow': invalid regex '^x(': missing closing parenthesis at offset 3"},
        {"reqpass", sec_frontend, " reqpass ^X-Pass:", " reqpass ^x[ ",
         "t.cfg:8: 'reqpass': invalid regex '^x[': missing terminating ] for character class at offset 3"},
        {"reqipass", sec_frontend, " reqipass ^x-pass:", " reqipass ^x) ",
         "t.cfg:8: 'reqipass': invalid regex '^x)': unmatched closing parenthesis at offset 2"},
        {"reqtarpit", sec_frontend, " reqtarpit ^User-Agent:\\ .*nikto", " reqtarpit ^(x",
         "t.cfg:8: 'reqtarpit': invalid regex '^(x': missing closing parenthesis at offset 3"},
        {"reqitarpit", sec_frontend, " reqitarpit ^user-agent:\\ .*nikto", " reqitarpit ^(x",
         "t.cfg:8: 'reqitarpit': invalid regex '^(x': missing closing parenthesis at offset 3"},
        {"reqdel", sec_frontend, " reqdel ^X-Forwarded-For:.*", " reqdel ^(x",
         "t.cfg:8: 'reqdel': invalid regex '^(x': missing closing parenthesis at offset 3"},
        {"reqidel", sec_frontend, " reqidel ^x-forwarded-for:.*", " reqidel ^(x",
         "t.cfg:8: 'reqidel': invalid regex '^(x': missing closing parenthesis at offset 3"},
        {"reqrep", sec_frontend, " reqrep ^Host:\\ (.*) Host:\\ www.\\1", " reqrep ^Host:\\ (.*) Host:\\ \\2",
         "t.cfg:8: 'reqrep': replacement 'Host: \\2' refers to \\2 but the regex has 1 group"},
        {"reqirep", sec_frontend, " reqirep ^host:\\ (.*) Host:\\ www.\\1", " reqirep ^host:",
         "t.cfg:8: 'reqirep': missing argument, expected 'reqirep REGEX REPLACEMENT [if|unless CONDITION]'"},
        {"rspdeny", sec_frontend, " rspdeny ^Server:\\ .*", " rspdeny ^(Server",
         "t.cfg:8: 'rspdeny': invalid regex '^(Server': missing closing parenthesis at offset 8"},
        {"rspideny", sec_frontend, " rspideny ^server:\\ .*", " rspideny ^(server",
         "t.cfg:8: 'rspideny': invalid regex '^(server': missing closing parenthesis at offset 8"},
        {"rspdel", sec_frontend, " rspdel ^Server:.*", " rspdel ^(x",
         "t.cfg:8: 'rspdel': invalid regex '^(x': missing closing parenthesis at offset 3"},
        {"rspidel", sec_frontend, " rspidel ^server:.*", " rspidel ^(x",
         "t.cfg:8: 'rspidel': invalid regex '^(x': missing closing parenthesis at offset 3"},
        {"rsprep", sec_frontend, " rsprep ^Location:\\ http://(.*) Location:\\ https://\\1", " rsprep ^Location:\\ http://(.*)",
         "t.cfg:8: 'rsprep': missing argument, expected 'rsprep REGEX REPLACEMENT [if|unless CONDITION]'"},
        {"rspirep", sec_frontend, " rspirep ^(set-cookie:.*) \\1;\\ Secure", " rspirep ^(set-cookie:.*) \\1;\\ Secure if unknown_acl",
         "t.cfg:8: 'rspirep': no such ACL 'unknown_acl' (ACLs must be declared before they are used)"},
        {"eal", sec_shield, nullptr, " eal",
         "t.cfg:6: 'eal': missing argument, expected 'eal EAL-ARGUMENTS...'"},
        {"port", sec_shield, nullptr, " port middle p2",
         "t.cfg:6: 'port': unknown side 'middle', expected one of 'outside', 'inside'"},
        {"host-port", sec_shield, " host-port bw0 address 10.10.0.100/24", " host-port bw0 address 10.10.0.100",
         "t.cfg:6: 'host-port': '10.10.0.100' needs a prefix length, expected ADDR/LEN"},
        {"host-port", sec_shield, " host-port bw0 address 10.10.0.100/24 2001:db8::100/64",
         " host-port bw0,mac=x address 10.10.0.100/24",
         "t.cfg:6: 'host-port': 'bw0,mac=x' is not an interface name: 1 to 15 letters, digits, '_', '-' or '.'"},
        {"host-port", sec_shield, nullptr, " host-port bw0 address 10.10.0.100/24 10.10.0.100/16",
         "t.cfg:6: 'host-port': '10.10.0.100/16' is given twice"},
        {"punt-ring", sec_shield, " punt-ring 4k", " punt-ring 8",
         "t.cfg:6: 'punt-ring': 8 is out of range, expected 32 to 1m frames"},
        {"mac-table", sec_shield, " mac-table 16k", " mac-table 1000",
         "t.cfg:6: 'mac-table': 1000 is not a power of two (its buckets are found by a mask)"},
        {"mode", sec_shield, " mode stateless", " mode stateful-ish",
         "t.cfg:6: 'mode': unknown mode 'stateful-ish', expected one of 'stateful', 'stateless'"},
        {"flows", sec_shield, " flows 4m", " flows 100",
         "t.cfg:6: 'flows': 100 is out of range, expected 1k to 64m flows"},
        {"fragments", sec_shield, " fragments 128k", " fragments 100",
         "t.cfg:6: 'fragments': 100 is out of range, expected 1k to 16m fragment trains"},
        {"pickup", sec_shield, " pickup 10s", " pickup soon",
         "t.cfg:6: 'pickup': invalid time 'soon', expected a number with an optional unit us|ms|s|m|h|d"},
        {"syn-guard", sec_shield, " syn-guard always", " syn-guard sometimes",
         "t.cfg:6: 'syn-guard': unknown mode 'sometimes', expected one of 'auto', 'always', 'off'"},
        {"limit", sec_shield, " limit src new-flows 200/s", " limit src new-flows 200",
         "t.cfg:6: 'limit': expected 'limit src new-flows N/s'"},
        {"block", sec_shield, " block src 203.0.113.0/24", " block dst 203.0.113.0/24",
         "t.cfg:6: 'block': unexpected 'dst', expected 'block src CIDR'"},
        {"allow", sec_shield, " allow tcp src 192.0.2.0/24 dport 22", " allow tcp src 192.0.2.0/24 dport 0",
         "t.cfg:6: 'allow': invalid port '0' in '0', expected 1 to 65535"},
        {"deny", sec_shield, " deny udp sport 19,123,1900,11211", " deny udp port 19",
         "t.cfg:6: 'deny': unexpected 'port', expected one of 'src', 'dst', 'sport', 'dport' (did you mean 'sport'?)"},
        {"punt", sec_shield, " punt tcp dst 10.10.0.100 dport 80,443", " punt tcp dst 10.10.0.100 dport 80 dport",
         "t.cfg:6: 'punt': 'dport' expects a value"},
        {"default", sec_shield, " default deny", " default drop",
         "t.cfg:6: 'default': unknown verdict 'drop', expected one of 'allow', 'deny'"},
        {"drop-capture", sec_shield, " drop-capture /tmp/drops.pcapng per-second 5", " drop-capture /tmp/d.pcapng per-second 0",
         "t.cfg:6: 'drop-capture': 0 is out of range, expected 1 to 100000"},
        {"event-ring", sec_shield, " event-ring 1", " event-ring 2m",
         "t.cfg:6: 'event-ring': 2m is out of range, expected 1 to 1m events"},
        {"drop-capture", sec_shield, " drop-capture /tmp/drops.pcapng max-size 10m per-second 5",
         " drop-capture /tmp/d.pcapng max-size 1k", "t.cfg:6: 'drop-capture': max-size '1k' is under 4096 bytes: no frame would fit"},
};

const std::string head = "defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n";

// The smallest valid file around one line of the given section.
std::string frame(unsigned sec, std::string line)
{
    const std::string errfile = std::string(BULWARK_SOURCE_DIR) + "/tests/configs/seeds/pages/sslv3.http";
    if (auto at = line.find("ERRFILE"); at != std::string::npos)
        line.replace(at, 7, errfile);
    switch (sec) {
    case sec_global: return "global\n" + line + "\n";
    case sec_defaults: return "defaults\n" + line + "\n";
    case sec_frontend: return head + "frontend f\n bind :80\n" + line + "\n default_backend b\nbackend b\n";
    case sec_backend: return head + "backend b\n" + line + "\n";
    case sec_shield:
        return "shield e\n eal --no-pci\n port outside p0\n port inside p1\n host-port bw0 address 10.10.0.100/24\n" +
               line + "\n";
    }
    return line;
}

} // namespace

TEST_CASE("each keyword: the good line loads, the bad line fails exactly", "[keywords]")
{
    for (const auto& r : rows) {
        if (r.good) {
            INFO(section_name(r.sec) << " good: " << r.good);
            CHECK(alerts(load_text(frame(r.sec, r.good), "t.cfg", no_env())).empty());
        }
        INFO(section_name(r.sec) << " bad: " << r.bad);
        CHECK(alerts(load_text(frame(r.sec, r.bad), "t.cfg", no_env())) == std::vector<std::string>{r.message});
    }
}

TEST_CASE("eal: the options an appliance needs pass, in every spelling; the others are refused",
          "[keywords][eal]")
{
    auto shield = [](const std::string& eal) {
        // the frame's own eal line is replaced by this one
        std::string text = frame(sec_shield, "");
        text.replace(text.find(" eal --no-pci\n"), 14, " " + eal + "\n");
        std::vector<std::string> out; // a refused line also leaves the shield with no eal line
        for (auto& a : alerts(load_text(text, "t.cfg", no_env())))
            if (a.find("has no 'eal' line") == std::string::npos)
                out.push_back(a);
        return out;
    };
    CHECK(shield("eal -l 0-1 --no-huge -m 512 --no-pci --no-shconf --vdev=net_ring0 --vdev net_ring1").empty());
    CHECK(shield("eal -l0 -m512 --file-prefix=bw --log-level=lib.eal:debug --huge-unlink=always -a 0000:01:00.0")
              .empty());
    CHECK(shield("eal --lcores 0@0 --socket-mem 512 --in-memory --iova-mode va --allow 0000:01:00.1").empty());
    CHECK(shield("eal -l 0 --vdev") == std::vector<std::string>{"t.cfg:2: 'eal': EAL option '--vdev' expects a value"});
    CHECK(shield("eal -l 0 -d /tmp/plugin.so") ==
          std::vector<std::string>{
              "t.cfg:2: 'eal': EAL option '-d' is not allowed: 'eal' takes only lcores, memory, vdevs, the PCI "
              "allow-list, the file prefix and the log level (-l, --lcores, -c, --main-lcore, -m, --socket-mem, "
              "--socket-limit, -n, --no-huge, --in-memory, --huge-dir, --huge-unlink, --no-shconf, --legacy-mem, "
              "--single-file-segments, --iova-mode, --vdev, -a, --allow, --no-pci, --file-prefix, --log-level)"});
    for (const char* bad : {"--trace=.*", "--base-virtaddr=0x100000000", "--vfio-vf-token=x", "-b", "--proc-type",
                            "--vdevx=y", "lib.so"}) {
        INFO(bad);
        auto a = shield(fmt::format("eal -l 0 {}", bad));
        REQUIRE(a.size() == 1);
        CHECK(a[0].starts_with(fmt::format("t.cfg:2: 'eal': EAL option '{}' is not allowed", bad)));
    }
}

TEST_CASE("user, group and chroot are kept for the drop; chroot must be a directory", "[keywords]")
{
    auto r = load_text("global\n user nobody\n group nogroup\n chroot /tmp\n", "t.cfg", no_env());
    REQUIRE(alerts(r).empty());
    CHECK(r.cfg.process.user == "nobody");
    CHECK(r.cfg.process.group == "nogroup");
    CHECK(r.cfg.process.chroot == "/tmp");
    CHECK(r.cfg.process.at.line == 2);
    CHECK(alerts(load_text("global\n chroot /etc/passwd\n", "t.cfg", no_env())) ==
          std::vector<std::string>{"t.cfg:2: 'chroot': chroot '/etc/passwd' is not a directory"});
    CHECK(alerts(load_text("global\n chroot tmp\n", "t.cfg", no_env())) ==
          std::vector<std::string>{"t.cfg:2: 'chroot': chroot 'tmp' must be an absolute path"});
}

TEST_CASE("every registered section keyword has its rows", "[keywords]")
{
    auto covered = [](std::string_view kw, unsigned secs) {
        for (const auto& r : rows)
            if (r.keyword == kw && (r.sec & secs))
                return true;
        return false;
    };
    for (const auto& k : global_keywords()) {
        INFO("global keyword " << k.name);
        CHECK(covered(k.name, sec_global));
    }
    for (const auto& k : proxy_keywords()) {
        INFO("proxy keyword " << k.name);
        CHECK(covered(k.name, sec_proxies));
    }
    for (const auto& k : shield_keywords()) {
        INFO("shield keyword " << k.name);
        CHECK(covered(k.name, sec_shield));
    }
}
