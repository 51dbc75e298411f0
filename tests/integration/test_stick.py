# SPDX-License-Identifier: Apache-2.0
"""Stick-tables on loopback: HAProxy's "use stick tables for DDoS" config as
written (a request-rate limit per source address) and a concurrent-connection
limit, with sources 127.0.0.1 and 127.0.0.2. Every test stops what it started.
"""
import http.client
import pathlib
import socket
import time

import pytest

from conftest import run
from test_proxy import Backend, Bulwarkd, free_port

RATE = """
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 20 }}
    default_backend be
backend be
    server s1 127.0.0.1:{be}
"""

CONN = """
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:{port}
    stick-table type ip size 1k expire 30s store conn_cur
    tcp-request connection track-sc0 src
    tcp-request connection reject if {{ sc_conn_cur(0) gt 3 }}
    default_backend be
backend be
    server s1 127.0.0.1:{be}
"""


@pytest.fixture
def served(bulwarkd, tmp_path):
    started = []

    def go(text=None, blog=None):
        """bulwarkd on `text` (a template of {port} and {be}) or on the config `blog` of
        tests/configs/stick; d.backend is its server."""
        be = Backend()
        port = free_port()
        d = Bulwarkd(bulwarkd, tmp_path, blog_config(blog, port, be.port) if blog else
                     text.format(port=port, be=be.port))
        d.port = port
        d.backend = be
        started.append((d, be))
        return d

    yield go
    for d, be in started:
        assert d.stop() == 0, d.errors[-30:]
        be.close()


def get(port, source):
    """One GET on a new connection from `source`: its status."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def test_stick_table_rate_limit_answers_20_then_429_per_source(served):
    d = served(RATE)
    start = time.monotonic()
    statuses = [get(d.port, "127.0.0.1") for _ in range(30)]
    # all within the first 10 s period of the entry: the rate is the count itself (no previous
    # period to weigh), so requests 1..20 see 1..20 (not > 20) and 21..30 see 21..30
    assert time.monotonic() - start < 10
    assert statuses == [200] * 20 + [429] * 10
    # another source has its own entry
    assert get(d.port, "127.0.0.2") == 200
    assert get(d.port, "127.0.0.1") == 429


def test_track_sc0_over_keep_alive_counts_each_request(served):
    d = served(RATE)
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=5, source_address=("127.0.0.3", 0))
    try:
        got = []
        for _ in range(21):
            c.request("GET", "/")
            r = c.getresponse()
            r.read()
            got.append(r.status)
            if r.status != 200:
                break
        assert got == [200] * 20 + [429]
    finally:
        c.close()


def closed_by_peer(s, timeout=5):
    """True when the peer closes s (FIN or RST) within timeout, without a byte."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_sc_conn_cur_refuses_the_fourth_concurrent_connection(served):
    d = served(CONN)
    held = []

    def ask(c):
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        return r.status

    try:
        # three kept-alive connections, each answered (so each is tracked) before the next opens
        for _ in range(3):
            c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=5, source_address=("127.0.0.4", 0))
            held.append(c)
            assert ask(c) == 200
        fourth = socket.create_connection(("127.0.0.1", d.port), timeout=5, source_address=("127.0.0.4", 0))
        assert closed_by_peer(fourth)
        fourth.close()
        # another source is not limited; the three held still serve
        assert get(d.port, "127.0.0.5") == 200
        assert [ask(c) for c in held] == [200, 200, 200]
    finally:
        for c in held:
            c.close()
    # the held connections gone, conn_cur falls back: a new connection is served (polled)
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline:
        try:
            status = get(d.port, "127.0.0.4")
        except (ConnectionError, http.client.HTTPException):
            status = None
        if status == 200:
            break
        time.sleep(0.05)
    assert status == 200


def test_stick_table_errors_name_file_and_line(bulwarkd, tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text("defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\n"
                   "frontend fe\n bind 127.0.0.1:8080\n"
                   " stick-table type ip size 1k store http_req_rate\n"
                   " stick-table type mac size 1k\n"
                   " http-request track-sc1 src tabel x\n"
                   " tcp-request connection track-sc2 src table\n"
                   " default_backend be\nbackend be\n server s1 127.0.0.1:8081\n")
    r = run([bulwarkd, "-c", "-f", str(bad)])
    assert r.returncode == 1
    alerts = [l for l in r.stderr.splitlines() if l.startswith("[ALERT]") and "Fatal errors" not in l]
    assert alerts == [
        f"[ALERT] {bad}:8: 'stick-table': data type 'http_req_rate' expects a period in parentheses, "
        "e.g. 'http_req_rate(10s)'",
        f"[ALERT] {bad}:9: 'stick-table': unknown type 'mac', expected ip, ipv6, integer or string",
        f"[ALERT] {bad}:10: 'http-request': 'track-sc1': expected 'track-sc1 KEY [table TABLE]'",
        f"[ALERT] {bad}:11: 'tcp-request connection': 'track-sc2': expected 'track-sc2 KEY [table TABLE]'",
    ]


def test_the_ddos_config_checks_clean(bulwarkd, tmp_path):
    cfg = tmp_path / "ok.cfg"
    cfg.write_text(RATE.format(port=8080, be=8081))
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 0, r.stderr
    assert "track-sc0" not in r.stderr  # built: no "not built" warning


def test_track_without_a_table_refuses_to_start(bulwarkd, tmp_path):
    cfg = tmp_path / "notable.cfg"
    cfg.write_text(RATE.format(port=free_port(), be=free_port()).replace(
        "    stick-table type ip size 100k expire 30s store http_req_rate(10s),conn_cur\n", ""))
    r = run([bulwarkd, "-f", str(cfg)], timeout=10)
    assert r.returncode == 1
    assert f"[ALERT] {cfg}:9: 'http-request track-sc0': no stick-table in 'fe' and no 'table' argument" \
        in r.stderr.splitlines()


# ---- HAProxy's DDoS configs (tests/configs/stick), -c and behaviour ---------------------------

STICK_CONFIGS = pathlib.Path(__file__).resolve().parents[1] / "configs" / "stick"


def blog_config(name, port, be):
    """A config of tests/configs/stick with its frontend on `port`, its server on `be`."""
    text = (STICK_CONFIGS / name).read_text()
    assert "127.0.0.1:8080" in text and "127.0.0.1:8081" in text
    return text.replace("127.0.0.1:8080", f"127.0.0.1:{port}").replace("127.0.0.1:8081", f"127.0.0.1:{be}")


@pytest.mark.parametrize("name", ["rate-limit-429.cfg", "first-row-defense.cfg", "app-layer-ddos.cfg"])
def test_haproxy_ddos_configs_check_clean(bulwarkd, name):
    r = run([bulwarkd, "-c", "-f", str(STICK_CONFIGS / name)])
    assert r.returncode == 0, r.stderr
    # no alert, no "unknown", no "not built" warning: every keyword of the blog config is built
    assert [l for l in r.stderr.splitlines() if l.startswith(("[ALERT]", "[WARNING]"))] == []


def ask_all(port, source, paths, method="GET", body=None):
    """The paths asked in turn on one kept-alive connection from `source` (with `body`: every one
    but the last uploads it): their statuses, up to the first refusal (403, 413, 429)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    got = []
    try:
        for i, p in enumerate(paths):
            upload = body is not None and i < len(paths) - 1  # the last one is a GET
            c.request(method if upload else "GET", p, body=body if upload else None)
            r = c.getresponse()
            r.read()
            got.append(r.status)
            if r.status in (403, 413, 429):
                break
    finally:
        c.close()
    return got


def test_rate_limit_blog_config_answers_429_on_an_ipv6_table(served):
    d = served(blog="rate-limit-429.cfg")
    start = time.monotonic()
    statuses = [get(d.port, "127.0.0.8") for _ in range(21)]
    assert time.monotonic() - start < 10  # one period of the rate
    assert statuses == [200] * 20 + [429]  # an IPv4 source keyed v4-mapped in the ipv6 table


def test_first_row_defense_flags_an_abuser_in_the_frontend_table(served):
    d = served(blog="first-row-defense.cfg")
    # one connection: requests 1..9 pass; the 10th reaches src_http_req_rate(ft_web) ge 10 in the
    # backend, which denies it and flags the source with src_inc_gpc0(ft_web)
    assert ask_all(d.port, "127.0.0.9", ["/"] * 12) == [200] * 9 + [403]
    # flagged: its next connection is refused at once by 'src_get_gpc0 gt 0'
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5, source_address=("127.0.0.9", 0))
    try:
        assert closed_by_peer(s)
    finally:
        s.close()
    # another source is neither flagged nor counted
    assert get(d.port, "127.0.0.10") == 200


def test_error_rate_counts_the_servers_4xx_401_included(served):
    d = served(blog="app-layer-ddos.cfg")
    paths = [f"/missing/{i}" for i in range(25)]
    for i, p in enumerate(paths):
        d.backend.status_for[p] = 401 if i < 3 else 404
    # errors 1..21 are answered; the 22nd request sees sc_http_err_rate(0) = 21 > 20: denied.
    # One kept-alive connection: an http-request track-sc lasts one request (HAProxy's streams),
    # so sc1 follows each request's path and the per-path rate stays 1.
    assert ask_all(d.port, "127.0.0.11", paths) == [401] * 3 + [404] * 18 + [403]
    # every path once: the per-path rate (sc_http_req_rate(1) gt 10) never fires; another source is clean
    assert get(d.port, "127.0.0.12") == 200


def test_bytes_in_rate_counts_the_request_bodies(served):
    d = served(blog="app-layer-ddos.cfg")
    body = b"x" * 600_000
    # 600 kB after the first upload, 1.2 MB after the second: the third request is refused
    assert ask_all(d.port, "127.0.0.13", ["/up/1", "/up/2", "/after"], method="POST", body=body) == \
        [200, 200, 413]
    assert get(d.port, "127.0.0.14") == 200


def test_check_names_the_missing_stick_tables(bulwarkd, tmp_path):
    bad = tmp_path / "tables.cfg"
    bad.write_text("defaults\n mode http\n timeout client 5s\n timeout server 5s\n timeout connect 5s\n"
                   "backend per_ip\n stick-table type ip size 1k store http_req_rate(10s),gpc0\n"
                   "frontend fe\n bind 127.0.0.1:8080\n"
                   " http-request track-sc0 src table per_ipp\n"
                   " acl hot sc_http_req_rate(0,nosuch) gt 10\n"
                   " http-request deny if { src_get_gpc0(per_ip) gt 0 } || { sc1_get_gpc0(bogus) gt 0 }\n"
                   " tcp-request connection track-sc1 src\n"
                   " http-request deny if hot\n"
                   " default_backend be\nbackend be\n server s1 127.0.0.1:8081\n")
    r = run([bulwarkd, "-c", "-f", str(bad)])
    assert r.returncode == 1
    alerts = [l for l in r.stderr.splitlines() if l.startswith("[ALERT]") and "Fatal errors" not in l]
    assert alerts == [
        f"[ALERT] {bad}:10: 'http-request track-sc0': no stick-table named 'per_ipp' (did you mean 'per_ip'?)",
        f"[ALERT] {bad}:11: 'sc_http_req_rate': no stick-table named 'nosuch'",
        f"[ALERT] {bad}:12: 'sc1_get_gpc0': no stick-table named 'bogus'",
        f"[ALERT] {bad}:13: 'tcp-request connection track-sc1': no stick-table in 'fe' and no 'table' argument",
    ]


BACKEND_TABLE = """
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    stick-table type ip size 1k expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 3 }}
    server s1 127.0.0.1:{be}
"""


def test_track_sc_in_a_backend_counts_in_the_backends_table(served):
    d = served(BACKEND_TABLE)
    assert ask_all(d.port, "127.0.0.15", ["/"] * 5) == [200, 200, 200, 429]
