# SPDX-License-Identifier: Apache-2.0
"""The L7 rule engine on loopback: the seed articles' mitigations as written,
the shipped rule packs, and the actions, with curl and raw sockets against a
recording backend. Every test stops what it started, whatever the outcome.
"""
import re
import socket
import time

import pytest

from conftest import TOP, run
from test_proxy import Backend, Bulwarkd, curl, free_port, parse_stats, raw, read_all

# HAProxy's httplog with the capture blocks ({...} {...}) when the frontend has some.
LOG = re.compile(r'^\S+ \[[^\]]+\] (\S+) (\S+)/(\S+) (-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(\d+) (-1|\d{3}) (\d+) - - '
                 r'(\S{4}) \S+ \S+ ((?:\{[^}]*\} )*)"(.*)"$')

SHELLSHOCK = "() { :; }; /bin/cat /etc/passwd"
SEEDS = TOP / "tests" / "configs" / "seeds"
PACKS = TOP / "rules"


def seed_config(name, port, be_port):
    """A seed file as written, its bind and server pointed at our ports."""
    text = (SEEDS / name).read_text()
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{port}").replace("127.0.0.1:8081", f"127.0.0.1:{be_port}")
    # the seeds have no timeouts (bulwarkd warns, as HAProxy does); the tests want bounded waits
    return text.replace("defaults\n    mode http\n", "defaults\n    mode http\n    option httplog\n"
                        "    timeout client 5s\n    timeout server 5s\n    timeout connect 2s\n", 1)


@pytest.fixture
def start(bulwarkd, tmp_path):
    started = []

    def go(text):
        d = Bulwarkd(bulwarkd, tmp_path, text)
        started.append(d)
        return d

    yield go
    for d in started:
        assert d.stop() == 0, d.errors[-30:]


@pytest.fixture
def backend():
    b = Backend()
    yield b
    b.close()


def status(port, path="/", headers=()):
    args = ["-o", "/dev/null", "-w", "%{http_code}"]
    for h in headers:
        args += ["-H", h]
    return curl(*args, f"http://127.0.0.1:{port}{path}").stdout


def entries(d, count):
    return d.log(count, pattern=LOG)


def counters(d):
    d.proc.send_signal(__import__("signal").SIGUSR1)
    deadline = time.time() + 5
    while time.time() < deadline and not any(l.startswith("bulwarkd: stats: server") for l in d.lines):
        time.sleep(0.02)
    return parse_stats(d.lines)


RULE_RE = re.compile(r"^bulwarkd: stats: rule (\S+) (\S+):(\d+) '(.*)': hits (\d+)(?:, regex errors (\d+))?$")


def rule_hits(d):
    """{(section, file name, line, what): hits} from the last counters bulwarkd printed."""
    out = {}
    for l in d.lines:
        m = RULE_RE.match(l)
        if m:
            out[(m.group(1), m.group(2).rsplit("/", 1)[-1], int(m.group(3)), m.group(4))] = int(m.group(5))
    return out


def line_of(text, needle):
    """The 1-based line number of the line containing needle in a config text."""
    return next(i for i, l in enumerate(text.split("\n"), 1) if needle in l)


def pack_config(port, be_port, packs, extra=""):
    includes = "\n".join(f"    include {PACKS / p}" for p in packs)
    return f"""
defaults
    mode http
    option httplog
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend www
    bind 127.0.0.1:{port}
{includes}
{extra}
    default_backend app
backend app
    server s1 127.0.0.1:{be_port}
"""


# ---- shellshock ---------------------------------------------------------------------

@pytest.mark.parametrize("header", ["User-Agent", "Referer", "Cookie", "X-Anything"])
def test_shellshock_pack_denies_the_payload_in_any_header(start, backend, header):
    port = free_port()
    d = start(pack_config(port, backend.port, ["shellshock.cfg"]))
    assert status(port, "/cgi-bin/status", [f"{header}: {SHELLSHOCK}"]) == "403"
    assert status(port, "/cgi-bin/status", [f"{header}: Mozilla/5.0 (X11; Linux x86_64) {{ok}}"]) == "200"
    assert [p for _m, p, _h, _b in backend.requests] == ["/cgi-bin/status"]  # the clean one only
    (e1, e2) = entries(d, 2)
    assert (e1[1], e1[2], e1[8], e1[10]) == ("www", "<NOSRV>", "403", "PR--")
    assert (e2[1], e2[2], e2[8], e2[10]) == ("app", "s1", "200", "----")
    fe = counters(d)[("frontend", "www")]
    assert (fe["denied requests"], fe["request errors"], fe["4xx"], fe["2xx"]) == (1, 0, 1, 1)


def test_shellshock_pack_variants(start, backend):
    port = free_port()
    start(pack_config(port, backend.port, ["shellshock.cfg"]))
    denied = ["() {:;}; echo vulnerable", "()  {  _; } >_[$($())] { echo hi; }", "() { :;};",
              "x <<a <<b <<c <<d <<e"]
    passed = ["(none)", "a () { b", "text with <<one <<two", "() x", "function() { return 1; }"]
    for v in denied:
        assert status(port, "/", [f"User-Agent: {v}"]) == "403", v
    for v in passed:
        assert status(port, "/", [f"User-Agent: {v}"]) == "200", v
    assert len(backend.requests) == len(passed)


def test_shellshock_seed_as_written_loads_with_a_warning_and_does_what_haproxy_would(bulwarkd, start, backend,
                                                                                  tmp_path):
    port = free_port()
    text = seed_config("shellshock.cfg", port, backend.port)
    cfg = tmp_path / "seed.cfg"
    cfg.write_text(text)
    check = run([bulwarkd, "-c", "-f", str(cfg)])
    assert check.returncode == 0, check.stderr
    assert check.stderr.count("looks like its backslashes were lost") == 2  # both lines lost theirs
    d = start(text)
    # As printed, the first regex wants an 's' right after the colon: a real payload, sent
    # as "Name: value", does not match it, in HAProxy 1.x as here.
    assert status(port, "/", [f"User-Agent: {SHELLSHOCK}"]) == "200"
    # It does match a request line (reqdeny tried the request line too): "GET /x:ss{ ..."
    out = raw(port, b"GET /x:ss{ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    # and the second one, 5 here-documents after "s" following a colon
    out = raw(port, b"GET /a:s<<a<<b<<c<<d<<e HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert [p for _m, p, _h, _b in backend.requests] == ["/"]
    assert [e[8] for e in entries(d, 3)] == ["200", "403", "403"]


# ---- cdorked ------------------------------------------------------------------------

def test_cdorked_seed_as_written(start, backend):
    port = free_port()
    d = start(seed_config("cdorked.cfg", port, backend.port))
    backend.headers_for = {"/own": [("Location", "http://www.domain.tld/x")],
                           "/foreign": [("Location", "http://evil.example/x")]}
    assert status(port, "/index.php?4745545f4241434b3b") == "403"          # GET_BACK; in hex
    assert status(port, "/", ["Cookie: SECID=deadbeef; lang=en"]) == "403"
    assert status(port, "/", ["Cookie: lang=en"]) == "200"
    # rspdeny as printed denies the site's OWN redirections (the opposite of its comment)
    assert status(port, "/own") == "502"
    assert status(port, "/foreign") == "200"
    assert [p for _m, p, _h, _b in backend.requests] == ["/", "/own", "/foreign"]
    got = [(e[8], e[10], e[11]) for e in entries(d, 5)]
    assert got == [("403", "PR--", "{} {} "),
                   ("403", "PR--", "{SECID=deadbeef; lang=en} {} "),
                   ("200", "----", "{lang=en} {} "),
                   ("502", "PH--", "{} {http://www.domain.tld/x} "),
                   ("200", "----", "{} {http://evil.example/x} ")]
    fe = counters(d)[("frontend", "ft_www")]
    assert (fe["denied requests"], fe["denied responses"]) == (2, 1)


def test_cdorked_pack_denies_foreign_redirections_only(start, backend):
    port = free_port()
    d = start(pack_config(port, backend.port, ["cdorked.cfg"]))
    backend.headers_for = {"/own": [("Location", "http://www.domain.tld/x")],
                           "/static": [("Location", "https://static.domain.tld:8443/img")],
                           "/relative": [("Location", "/login")],
                           "/foreign": [("Location", "http://evil.example/x")],
                           "/lookalike": [("Location", "http://www.domain.tld.evil.example/")]}
    for path, want in [("/own", "200"), ("/static", "200"), ("/relative", "200"), ("/none", "200"),
                       ("/foreign", "502"), ("/lookalike", "502")]:
        assert status(port, path) == want, path
    assert status(port, "/?q=4745545f4241434b3b") == "403"
    assert status(port, "/", ["Cookie: a=1", "Cookie: SECID=1"]) == "403"
    assert len(entries(d, 8)) == 8


# ---- Secure cookie --------------------------------------------------------------------

SECURE_COOKIE = """
defaults
    mode http
    option httplog
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend ft_www
    bind 127.0.0.1:{port}
    acl https          ssl_fc
    acl secured_cookie res.hdr(Set-Cookie),lower -m sub secure
    rspirep ^(set-cookie:.*) \\1;\\ Secure if {cond}
    default_backend app
backend app
    server s1 127.0.0.1:{be}
"""


def test_secure_cookie_seed_over_plain_http_leaves_set_cookie_alone(start, backend):
    port = free_port()
    start(SECURE_COOKIE.format(port=port, be=backend.port, cond="https !secured_cookie"))
    r = curl("-si", f"http://127.0.0.1:{port}/")
    assert "\nSet-Cookie: sid=1\n" in r.stdout.replace("\r", "")


def test_secure_cookie_rewrite_when_its_condition_holds(start, backend):
    """The same rule with the condition made true over plain HTTP: the rewrite itself works, and
    a cookie already secure is left alone."""
    port = free_port()
    start(SECURE_COOKIE.format(port=port, be=backend.port, cond="!https !secured_cookie"))
    backend.headers_for = {"/both": [("Set-Cookie", "b=2; Secure")]}
    r = curl("-si", f"http://127.0.0.1:{port}/")
    assert "\nSet-Cookie: sid=1; Secure\n" in r.stdout.replace("\r", "")
    r = curl("-si", f"http://127.0.0.1:{port}/both")
    # one of the two cookies is secure already: the condition (over every Set-Cookie) is false
    assert "\nSet-Cookie: sid=1\nSet-Cookie: b=2; Secure\n" in r.stdout.replace("\r", "")


# ---- actions --------------------------------------------------------------------------

ACTIONS = """
defaults
    mode http
    option httplog
    timeout client 5s
    timeout server 5s
    timeout connect 2s
    timeout tarpit 300ms
frontend www
    bind 127.0.0.1:{port}
    acl api path_beg /api/
    acl admin path_beg -i /admin
    acl trusted src 127.0.0.0/8
    http-request deny deny_status 429 if {{ hdr_cnt(x-flood) gt 2 }}
    http-request tarpit if {{ path /tarpit }}
    http-request return status 200 content-type text/plain string pong if {{ path /ping }}
    http-request redirect prefix https://secure.example code 301 drop-query if {{ path_beg /old/ }}
    http-request set-header X-Client %[src]
    http-request add-header X-Via bulwark
    http-request del-header X-Secret
    http-request replace-header X-Path ^/v1/(.*) /v2/\\1
    http-request set-path /v2%[path] if {{ path_beg /v1/ }}
    http-request deny if admin !{{ hdr(x-token) -m str letmein }}
    http-response set-header X-Served-By bulwark
    http-response del-header Server
    use_backend api if api
    default_backend app
backend api
    http-request set-header X-Backend api
    http-response replace-value X-Api ^(.*)$ api-\\1
    server s1 127.0.0.1:{api}
backend app
    server s1 127.0.0.1:{app}
"""


@pytest.fixture
def actions(start):
    api, app = Backend(), Backend()
    port = free_port()
    d = start(ACTIONS.format(port=port, api=api.port, app=app.port))
    d.port = port
    yield d, api, app
    api.close()
    app.close()


def test_header_rewrites_reach_the_server(actions):
    d, api, app = actions
    r = curl("-si", "-H", "X-Secret: s", "-H", "X-Path: /v1/a", f"http://127.0.0.1:{d.port}/v1/x?q=1")
    assert r.stdout.startswith("HTTP/1.1 200")
    (_m, path, headers, _b), = app.requests
    assert path == "/v2/v1/x?q=1"
    assert headers["X-Client"] == "127.0.0.1"
    assert headers["X-Via"] == "bulwark"
    assert headers["X-Path"] == "/v2/a"
    assert "X-Secret" not in headers
    text = r.stdout.replace("\r", "")
    assert "\nX-Served-By: bulwark\n" in text and "\nServer:" not in text


def test_use_backend_with_a_condition_and_backend_rules(actions):
    d, api, app = actions
    api.headers_for = {"/api/x": [("X-Api", "one, two")]}
    r = curl("-si", f"http://127.0.0.1:{d.port}/api/x")
    assert r.stdout.startswith("HTTP/1.1 200")
    # each comma-separated value rewritten, the blanks between them kept (HAProxy's own example)
    assert "\nX-Api: api-one, api-two\n" in r.stdout.replace("\r", "")
    assert [(p, h["X-Backend"]) for _m, p, h, _b in api.requests] == [("/api/x", "api")]
    assert status(d.port, "/other") == "200"
    assert [p for _m, p, _h, _b in app.requests] == ["/other"]
    assert [(e[1], e[2]) for e in entries(d, 2)] == [("api", "s1"), ("app", "s1")]


def test_deny_return_redirect_and_tarpit(actions):
    d, api, app = actions
    assert status(d.port, "/", ["X-Flood: 1, 2, 3"]) == "429"   # hdr_cnt counts comma-separated values
    assert status(d.port, "/", ["X-Flood: 1, 2"]) == "200"
    r = curl("-si", f"http://127.0.0.1:{d.port}/ping")
    head, body = r.stdout.replace("\r", "").split("\n\n", 1)
    assert head.startswith("HTTP/1.1 200 OK") and "content-type: text/plain" in head and body == "pong"
    r = curl("-si", f"http://127.0.0.1:{d.port}/old/page?x=1")
    assert r.stdout.startswith("HTTP/1.1 301")
    assert "\nlocation: https://secure.example/old/page\n" in r.stdout.replace("\r", "")
    assert status(d.port, "/Admin/panel") == "403"
    assert status(d.port, "/admin/panel", ["X-Token: letmein"]) == "200"
    t0 = time.time()
    assert status(d.port, "/tarpit") == "500"
    assert time.time() - t0 >= 0.3   # held for timeout tarpit first
    assert [p for _m, p, _h, _b in app.requests] == ["/", "/admin/panel"]
    got = [(e[8], e[10]) for e in entries(d, 7)]
    assert got == [("429", "PR--"), ("200", "----"), ("200", "LR--"), ("301", "LR--"), ("403", "PR--"),
                   ("200", "----"), ("500", "PT--")]
    fe = counters(d)[("frontend", "www")]
    assert (fe["denied requests"], fe["request errors"]) == (3, 0)
    # which rule did what: every rule that applied, with its line
    text = d.cfg.read_text()
    hits = rule_hits(d)
    want = {("www", line_of(text, "deny_status 429"), "http-request deny"): 1,
            ("www", line_of(text, "http-request tarpit"), "http-request tarpit"): 1,
            ("www", line_of(text, "http-request return"), "http-request return"): 1,
            ("www", line_of(text, "http-request redirect"), "http-request redirect"): 1,
            ("www", line_of(text, "deny if admin"), "http-request deny"): 1,
            ("www", line_of(text, "set-header X-Client"), "http-request set-header"): 3,  # before the admin deny
            ("www", line_of(text, "http-response set-header"), "http-response set-header"): 2}
    assert {(sec, line, what): n for (sec, _f, line, what), n in hits.items()
            if (sec, line, what) in want} == want


def test_a_bad_rule_is_refused_with_its_file_and_line(bulwarkd, tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("defaults\n    mode http\nfrontend www\n    bind 127.0.0.1:1\n"
                   "    http-request deny if { hdr(host) -m reg ab(c }\n    default_backend app\n"
                   "backend app\n    server s1 127.0.0.1:2\n")
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 1
    assert f"{cfg}:5:" in r.stderr and "invalid regex 'ab(c'" in r.stderr


def test_a_rule_pack_cannot_open_a_section(bulwarkd, tmp_path):
    pack = tmp_path / "pack.cfg"
    pack.write_text("http-request deny if { path /x }\nbackend sneaky\n")
    cfg = tmp_path / "main.cfg"
    cfg.write_text(f"defaults\n    mode http\nfrontend www\n    bind 127.0.0.1:1\n    include pack.cfg\n"
                   f"    default_backend app\nbackend app\n    server s1 127.0.0.1:2\n")
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 1
    assert f"{pack}:2: 'backend': a rule pack cannot open a section" in r.stderr


def test_a_regex_hyperscan_refuses_runs_on_pcre2_with_a_note(start, backend):
    port = free_port()
    d = start(f"""
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend www
    bind 127.0.0.1:{port}
    http-request deny if {{ hdr(x-word) -m reg ^(ab)\\1$ }}
    http-request deny if {{ hdr(x-word) -m sub attack }}
    default_backend app
backend app
    server s1 127.0.0.1:{backend.port}
""")
    deadline = time.time() + 5
    while time.time() < deadline and not any("runs on PCRE2" in l for l in d.errors):
        time.sleep(0.02)
    assert any(l.endswith("proxy.cfg:9: regex '^(ab)\\1$' runs on PCRE2, not in the one-pass Hyperscan set: "
                          "Back-references are unsupported.") for l in d.errors), d.errors
    assert status(port, "/", ["X-Word: abab"]) == "403"       # the back-reference, on PCRE2
    assert status(port, "/", ["X-Word: abba"]) == "200"
    assert status(port, "/", ["X-Word: an attack"]) == "403"  # the substring, in Hyperscan
    assert len(backend.requests) == 1


def test_captures_headers_and_samples_in_the_log_line(start, backend):
    port = free_port()
    d = start(f"""
defaults
    mode http
    option httplog
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend www
    bind 127.0.0.1:{port}
    capture request header Host len 20
    capture response header Set-Cookie len 30
    http-request capture req.hdr(user-agent),lower len 5
    http-request del-header Host
    http-request deny if {{ path /no }}
    default_backend app
backend app
    server s1 127.0.0.1:{backend.port}
""")
    assert status(port, "/", ["Host: a.example", "User-Agent: Mozilla/5.0"]) == "200"
    assert status(port, "/no", ["Host: b|c", "User-Agent: X"]) == "403"
    got = [(e[8], e[11]) for e in entries(d, 2)]
    # the Host as it came, though a rule deleted it; '|' encoded as HAProxy does
    assert got == [("200", "{a.example|mozil} {sid=1} "), ("403", "{b#7Cc|x} {} ")]
    assert "Host" not in backend.requests[0][2]


@pytest.mark.parametrize("mode", ["http", "tcp"])
def test_tcp_request_rules_close_refused_connections_at_once(start, backend, mode):
    port, port2 = free_port(), free_port()
    d = start(f"""
defaults
    mode {mode}
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend refused
    bind 127.0.0.1:{port}
    tcp-request connection accept if {{ src 10.0.0.0/8 }}
    tcp-request connection reject if {{ src 127.0.0.0/8 }}
    default_backend app
frontend allowed
    bind 127.0.0.1:{port2}
    tcp-request connection accept if {{ src 127.0.0.0/8 }}
    tcp-request connection reject
    tcp-request content reject if {{ dst_port {port} }}
    default_backend app
backend app
    server s1 127.0.0.1:{backend.port}
""")
    for _ in range(3):
        assert raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") == b""
    out = raw(port2, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert [p for _m, p, _h, _b in backend.requests] == ["/"]
    st = counters(d)
    assert (st[("frontend", "refused")]["denied connections"], st[("frontend", "refused")]["connections"]) == (3, 3)
    assert st[("frontend", "allowed")]["denied connections"] == 0
