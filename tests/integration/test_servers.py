# SPDX-License-Identifier: Apache-2.0
"""HAProxy's server-side basics on loopback (issue #12): retries and option
redispatch, backup servers and option allbackups, disabled servers and
frontends, maxqueue, http-check expect, timeout check, option abortonclose.

Each test starts bulwarkd on free ports in front of recording backends and
stops everything, whatever the outcome.
"""
import re
import socket
import subprocess
import threading
import time

import pytest

from test_proxy import Backend, Bulwarkd, curl, free_port, read_all, wait_for  # noqa: F401

# The httplog line with %rc (retries, "+" after a redispatch) and %Ta kept:
# frontend, backend, server, Ta, status, termination, retries.
RC_RE = re.compile(r'^127\.0\.0\.1:\d+ \[[^\]]+\] (\S+) (\S+)/(\S+) -?\d+/-?\d+/-?\d+/-?\d+/(\d+) (-1|\d{3}) \d+ - - '
                   r'(\S{4}) \d+/\d+/0/0/(\+?\d+) 0/0 ".*"$')


def cfg(port, servers, backend_lines="", frontend_lines="", connect="2s", threads=1):
    """One frontend on `port` in front of backend app; one thread: one
    round-robin position, so the counts below are exact."""
    return f"""
global
    nbthread {threads}
defaults
    mode http
    option httplog
    timeout client 5s
    timeout connect {connect}
    timeout server 5s
frontend www
    bind 127.0.0.1:{port}
{frontend_lines}
    default_backend app
backend app
{backend_lines}
{servers}
"""


def get(port, path="/"):
    return curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}{path}").stdout


@pytest.fixture
def started(bulwarkd, tmp_path):
    """start(config text) -> a running Bulwarkd; all stopped (exit 0) at the end."""
    procs = []

    def start(text):
        b = Bulwarkd(bulwarkd, tmp_path, text)
        procs.append(b)
        return b

    yield start
    for b in procs:
        assert b.stop() == 0, b.errors[-30:]


@pytest.fixture
def backends():
    made = []

    def make(**kw):
        b = Backend(**kw)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


# ---- retries and option redispatch ---------------------------------------

def test_a_refused_connection_is_retried_after_the_turn_around(started, backends):
    """retries 3: the first connection is refused (nothing listens yet), the
    retry one turn-around later (min(timeout connect, 1 s)) finds the
    server: the client sees 200 and %rc says 1."""
    port = free_port()
    late = socket.socket()
    late.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    late.bind(("127.0.0.1", 0))  # the port is ours, but refuses until listen()
    b = started(cfg(port, f"    server s1 127.0.0.1:{late.getsockname()[1]}", "    retries 3"))
    answers = []
    start = time.time()
    client = threading.Thread(target=lambda: answers.append(raw_get(port)))
    client.start()
    try:
        # The attempt right away is refused; the retry comes 1 s later. The
        # listening socket opens halfway: there is no event to poll for a
        # refused SYN, so the margin is half the turn-around on each side.
        time.sleep(0.5)
        late.listen(8)
        conn, _ = late.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        client.join(timeout=10)
    finally:
        late.close()
    took = time.time() - start
    assert answers and answers[0].startswith(b"HTTP/1.1 200 OK"), answers
    assert took >= 0.9  # the turn-around was waited
    (entry,) = b.log(1, pattern=RC_RE)
    assert (entry[2], entry[4], entry[5], entry[6]) == ("s1", "200", "----", "1")


def raw_get(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return read_all(s)


def test_retries_spent_give_503_with_the_count(started):
    port = free_port()
    b = started(cfg(port, f"    server s1 127.0.0.1:{free_port()}", "    retries 2", connect="100ms"))
    start = time.time()
    assert get(port) == "503"
    assert time.time() - start >= 0.2  # two turn-arounds of 100 ms
    (entry,) = b.log(1, pattern=RC_RE)
    assert (entry[2], entry[4], entry[5], entry[6]) == ("s1", "503", "SC--", "2")


@pytest.mark.parametrize("redispatch,expect", [
    ("    option redispatch", ("s2", "200", "----", "+1")),
    ("", ("s1", "503", "SC--", "1")),
])
def test_redispatch_moves_a_failed_request_to_another_server(started, backends, redispatch, expect):
    """Two active servers, round robin from the dead s1: with option
    redispatch the retry goes to s2 (HAProxy redispatches at once when
    several active servers can take it); without, s1 is retried and 503."""
    live = backends()
    port = free_port()
    servers = f"    server s1 127.0.0.1:{free_port()}\n    server s2 127.0.0.1:{live.port}"
    b = started(cfg(port, servers, "    retries 1\n" + redispatch, connect="100ms"))
    assert get(port) == expect[1]
    (entry,) = b.log(1, pattern=RC_RE)
    assert (entry[2], entry[4], entry[5], entry[6]) == expect
    assert len(live.requests) == (1 if redispatch else 0)


def test_tcp_mode_retries_and_redispatches_too(started, backends):
    live = backends()
    port = free_port()
    text = cfg(port, f"    server s1 127.0.0.1:{free_port()}\n    server s2 127.0.0.1:{live.port}",
               "    retries 1\n    option redispatch", connect="100ms")
    text = text.replace("mode http", "mode tcp").replace("option httplog", "option tcplog")
    b = started(text)
    assert get(port) == "200"
    tcplog = re.compile(r"^127\.0\.0\.1:\d+ \[[^\]]+\] www app/(\S+) \d+/\d+/\d+ \d+ (\S\S) \d+/\d+/0/0/(\+?\d+) 0/0$")
    assert b.log(1, pattern=tcplog) == [("s2", "--", "+1")]


# ---- backup servers -------------------------------------------------------

@pytest.mark.parametrize("allbackups", [False, True])
def test_backups_serve_only_when_the_active_server_is_down(started, backends, allbackups):
    active, bk1, bk2 = backends(), backends(), backends()
    port = free_port()
    check = " check inter 100ms rise 1 fall 1"
    servers = (f"    server s1 127.0.0.1:{active.port}{check}\n"
               f"    server bk1 127.0.0.1:{bk1.port} backup{check}\n"
               f"    server bk2 127.0.0.1:{bk2.port} backup")
    b = started(cfg(port, servers, "    option allbackups" if allbackups else ""))
    assert [get(port, "/a") for _ in range(4)] == ["200"] * 4
    assert (len(active.requests), bk1.requests, bk2.requests) == (4, [], [])
    active.close()
    assert wait_for(lambda: any("Server app/s1 is DOWN" in e for e in b.errors))
    assert [get(port, "/b") for _ in range(4)] == ["200"] * 4
    # the first backup alone, or every backup with option allbackups
    assert (len(bk1.requests), len(bk2.requests)) == ((2, 2) if allbackups else (4, 0))
    assert b.errors[-1].endswith(" 0 active servers left.")
    # the first backup down: the next one takes over, and HAProxy names it a backup
    before = len(bk2.requests)
    bk1.close()
    assert wait_for(lambda: any("Backup Server app/bk1 is DOWN" in e for e in b.errors))
    assert [get(port, "/c") for _ in range(2)] == ["200"] * 2
    assert len(bk2.requests) == before + 2


# ---- disabled -------------------------------------------------------------

def test_a_disabled_server_sees_no_request(started, backends):
    off, on = backends(), backends()
    port = free_port()
    servers = (f"    server s1 127.0.0.1:{off.port} disabled check inter 100ms\n"
               f"    server s2 127.0.0.1:{on.port} enabled")
    b = started(cfg(port, servers))
    assert [get(port) for _ in range(6)] == ["200"] * 6
    assert off.requests == [] and len(on.requests) == 6
    assert {e[2] for e in b.log(6, pattern=RC_RE)} == {"s2"}


def test_a_disabled_backend_answers_503(started, backends):
    srv = backends()
    port = free_port()
    b = started(cfg(port, f"    server s1 127.0.0.1:{srv.port}", "    disabled"))
    assert get(port) == "503"
    assert srv.requests == []
    (entry,) = b.log(1, pattern=RC_RE)
    assert (entry[2], entry[4], entry[5]) == ("<NOSRV>", "503", "SC--")


def test_a_disabled_frontend_does_not_listen(started, backends):
    srv = backends()
    port, off_port = free_port(), free_port()
    text = cfg(port, f"    server s1 127.0.0.1:{srv.port}") + f"""
frontend off
    disabled
    bind 127.0.0.1:{off_port}
    default_backend app
"""
    b = started(text)
    assert get(port) == "200"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", off_port), timeout=5).close()
    assert wait_for(lambda: any(e.startswith("[WARNING] ") and e.endswith(": 'off' is disabled: it does not listen")
                                for e in b.errors))


# ---- maxqueue ---------------------------------------------------------------

def test_a_full_server_queue_answers_503_at_once(started, backends):
    """maxconn 1 maxqueue 1: one request served, one waiting, the third
    finds the queue full: 503 with SQ-- at once, not after timeout queue."""
    srv = backends(slow_paths={"/slow"})
    port = free_port()
    b = started(cfg(port, f"    server s1 127.0.0.1:{srv.port} maxconn 1 maxqueue 1", "    timeout queue 10s"))
    out = {}
    first = threading.Thread(target=lambda: out.__setitem__(0, get(port, "/slow")))
    first.start()
    assert wait_for(lambda: srv.in_progress == 1)
    start = time.time()
    others = [threading.Thread(target=lambda i=i: out.__setitem__(i, get(port, "/slow"))) for i in (1, 2)]
    for t in others:
        t.start()
    for t in [first] + others:
        t.join(timeout=20)
    assert sorted(out.values()) == ["200", "200", "503"]
    entries = b.log(3, pattern=RC_RE)
    full = [e for e in entries if e[4] == "503"]
    assert [(e[2], e[5]) for e in full] == [("<NOSRV>", "SQ--")]
    assert int(full[0][3]) < 900  # at once, not after the 1 s request ahead
    assert time.time() - start < 5
    assert len(srv.requests) == 2


# ---- http-check expect, timeout check ------------------------------------

@pytest.mark.parametrize("expect,status,down_reason", [
    ("status 200", 500, 'Layer7 wrong status, code: 500, info: "Internal Server Error"'),
    ("string alive", 200, 'Layer7 invalid response, info: "HTTP content check did not match"'),
    ("! rstring ^ok", 200, 'Layer7 invalid response, info: "HTTP check matched unwanted content"'),
])
def test_http_check_expect_marks_a_wrong_answer_down(started, backends, expect, status, down_reason):
    sick, well = backends(), backends()
    sick.status_for["/health"] = status  # its body is "ok GET /health 0"
    port = free_port()
    check = " check inter 100ms rise 1 fall 1"
    servers = f"    server s1 127.0.0.1:{sick.port}{check}\n    server s2 127.0.0.1:{well.port}"
    b = started(cfg(port, servers, f"    option httpchk GET /health\n    http-check expect {expect}"))
    assert wait_for(lambda: any("Server app/s1 is DOWN" in e for e in b.errors))
    assert f"Server app/s1 is DOWN, reason: {down_reason}, check duration: " in b.errors[-1]
    assert [get(port, "/app") for _ in range(4)] == ["200"] * 4
    assert [p for _m, p, _h, _b in sick.requests if p != "/health"] == []


def test_http_check_expect_status_500_keeps_a_500_server_up(started, backends):
    """With 'http-check expect', the expectation alone decides: a server
    answering the 500 it is expected to stays UP and gets traffic."""
    srv = backends()
    srv.status_for["/health"] = 500
    port = free_port()
    b = started(cfg(port, f"    server s1 127.0.0.1:{srv.port} check inter 100ms rise 1 fall 1",
                    "    option httpchk GET /health\n    http-check expect status 500-503"))
    assert wait_for(lambda: sum(p == "/health" for _m, p, _h, _b in srv.requests) >= 3)
    assert not any("is DOWN" in e for e in b.errors)
    assert get(port, "/app") == "200"


def test_timeout_check_bounds_the_wait_for_the_check_response(started, backends):
    """inter 3s would wait for the slow answer (1 s); timeout check 200ms does not."""
    srv = backends(slow_paths={"/health"})
    port = free_port()
    b = started(cfg(port, f"    server s1 127.0.0.1:{srv.port} check inter 3s fall 1",
                    "    option httpchk GET /health\n    timeout check 200ms"))
    assert wait_for(lambda: any("Server app/s1 is DOWN" in e for e in b.errors))
    line = b.errors[-1]
    assert 'reason: Layer7 timeout, info: "no response in time"' in line
    took = int(re.search(r"check duration: (\d+)ms", line).group(1))
    assert 200 <= took < 900


# ---- option abortonclose ---------------------------------------------------

@pytest.mark.parametrize("abortonclose", [True, False])
def test_abortonclose_drops_a_queued_request_whose_client_left(started, backends, abortonclose):
    """maxconn 1 and a slow request ahead: a client that half-closes while
    queued is dropped (CQ--, nothing reaches the server) with option
    abortonclose; without it, HAProxy's default, it is served in turn."""
    srv = backends(slow_paths={"/slow"})
    port = free_port()
    b = started(cfg(port, f"    server s1 127.0.0.1:{srv.port} maxconn 1",
                    "    timeout queue 10s" + ("\n    option abortonclose" if abortonclose else "")))
    first = threading.Thread(target=lambda: get(port, "/slow"))
    first.start()
    assert wait_for(lambda: srv.in_progress == 1)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /queued HTTP/1.1\r\nHost: x\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        answer = read_all(s)
    first.join(timeout=10)
    entries = b.log(2, pattern=RC_RE)
    queued = [e for e in entries if e[4] != "200" or e[5] != "----"]
    if abortonclose:
        assert answer == b""
        assert [(e[2], e[4], e[5]) for e in queued] == [("<NOSRV>", "-1", "CQ--")]
        assert [p for _m, p, _h, _b in srv.requests] == ["/slow"]
    else:
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert queued == []
        assert [p for _m, p, _h, _b in srv.requests] == ["/slow", "/queued"]


# ---- the configuration ------------------------------------------------------

def test_the_keywords_load_without_a_not_built_warning(bulwarkd, tmp_path):
    text = cfg(free_port(), "    server s1 127.0.0.1:1 maxqueue 5 backup disabled\n    server s2 127.0.0.1:2 enabled",
               "    retries 2\n    option redispatch 2\n    option allbackups\n    option abortonclose\n"
               "    option httpchk\n    http-check expect ! rstatus ^5\n    timeout check 1s\n    enabled")
    path = tmp_path / "c.cfg"
    path.write_text(text)
    r = subprocess.run([bulwarkd, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "not built" not in r.stdout + r.stderr and "issue #12" not in r.stdout + r.stderr
    path.write_text(text.replace("option redispatch 2", "option redispatch often"))
    r = subprocess.run([bulwarkd, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert f"{path}:16: 'option': 'redispatch': invalid number 'often', expected an integer" in r.stdout + r.stderr
