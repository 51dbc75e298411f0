# SPDX-License-Identifier: Apache-2.0
"""HAProxy's own regression tests for request buffering and wait-for-body, ported.

reg-tests/http-messaging/http_request_buffer.vtc in HAProxy's repository
states what 'option http-buffer-request' does: the cases below send what
its clients send, through the same frontends, and check the statuses and
log lines its syslog server expects. What differs is the harness: a
recording Python backend stands in for vtest's one-shot server (so "the
server never saw it" is a count, not a test that would hang), and the log
is bulwarkd's stdout.
"""
import re
import socket
import threading
import time

import pytest

from test_proxy import Backend, Bulwarkd, SocketServer, free_port, read_all

# TR/Tw/Tc/Tr/Ta status bytes ... termination-state ... "request line"
LOG = re.compile(r'^\S+ \[[^\]]+\] (\S+) (\S+)/(\S+) (-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(\d+) (-?\d+) (\d+) - - '
                 r'(\S{4}) \S+ \S+ "(.*)"$')

LONG_URL = "/this-is-a-long-url" + "-this-is-a-long-url" * 6


@pytest.fixture
def regtest(bulwarkd, tmp_path):
    be = Backend()
    fe1, fe2 = free_port(), free_port()
    # The reg-test's configuration, with its bind lines made ports.
    d = Bulwarkd(bulwarkd, tmp_path, f"""
defaults
    mode http
    timeout client  100
    timeout server  5s
    timeout connect 5s

backend be1
    server srv1 127.0.0.1:{be.port}

frontend fe1
    option httplog
    option http-buffer-request
    bind 127.0.0.1:{fe1}
    use_backend be1

frontend fe2
    timeout client 10s
    option httplog
    option http-buffer-request
    bind 127.0.0.1:{fe2}
    use_backend be1
""")
    d.fe1, d.fe2 = fe1, fe2
    yield d, be
    assert d.stop() == 0, d.errors[-30:]
    be.close()


def log_lines(d, count):
    return d.log(count, pattern=LOG)


def send_pieces(port, pieces, delay=0.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    for i, piece in enumerate(pieces):
        s.sendall(piece)
        if delay and i == 0:
            time.sleep(delay)
    return s


def status_of(response):
    return int(response.split(b" ", 2)[1]) if response else None


def test_c1_body_one_byte_short_times_out_with_408_cD(regtest):
    """c1: the request line in pieces, Content-Length 209, 208 bytes sent."""
    d, be = regtest
    pieces = [b"GET", b" ", LONG_URL.encode(), b" HTT", b"P/1.1", b"\r", b"\n", b"Content-Length: 209\r\n\r\n"]
    pieces += [b"abcdefghijklmnopqrstuvwxyz"] * 8
    start = time.time()
    with send_pieces(d.fe1, pieces) as s:
        out = read_all(s)
    assert status_of(out) == 408
    assert time.time() - start < 2  # timeout client 100 (ms) stands for http-request
    (fe, bk, srv, *_t, status, _bytes, term, line), = log_lines(d, 1)
    assert (fe, bk, srv, status, term, line) == ("fe1", "fe1", "<NOSRV>", "408", "cD--",
                                                 f"GET {LONG_URL} HTTP/1.1")
    assert be.connections == 0 and be.requests == []


def test_c2_whole_body_goes_to_the_server(regtest):
    """c2: txreq -bodylen 257 → the server gets all 257 bytes, the client 200."""
    d, be = regtest
    body = b"x" * 257
    with send_pieces(d.fe1, [b"GET / HTTP/1.1\r\nContent-Length: 257\r\nConnection: close\r\n\r\n" + body]) as s:
        out = read_all(s)
    assert status_of(out) == 200
    assert [(m, p, b) for m, p, _h, b in be.requests] == [("GET", "/", body)]
    (fe, bk, srv, tr, tw, tc, tres, ta, status, _bytes, term, line), = log_lines(d, 1)
    assert (fe, bk, srv, status, term, line) == ("fe1", "be1", "srv1", "200", "----", "GET / HTTP/1.1")
    assert min(int(tr), int(tw), int(tc), int(tres), int(ta)) >= 0


def test_c3_chunked_body_split_on_a_chunk_size_arrives_whole(regtest):
    """c3: 'POST /1  HTTP/1.1' (two blanks), chunked, the rest 10 ms later → 200."""
    d, be = regtest
    pieces = [b"POST /1  HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n1\r\n1",
              b"\r\n1\r\n0\r\n\r\n"]
    with send_pieces(d.fe2, pieces, delay=0.01) as s:
        s.shutdown(socket.SHUT_WR)  # vtest's client closes after rxresp; we say so up front
        out = read_all(s)
    assert status_of(out) == 200
    assert [(m, p, b) for m, p, _h, b in be.requests] == [("POST", "/1", b"11")]
    (fe, bk, srv, *_t, status, _bytes, term, line), = log_lines(d, 1)
    assert (fe, bk, srv, status, term, line) == ("fe2", "be1", "srv1", "200", "----", "POST /1 HTTP/1.1")


def test_c4_client_gone_before_the_last_crlf_is_CR_with_no_response(regtest):
    """c4: as c3 but the final CRLF never comes and the client leaves."""
    d, be = regtest
    pieces = [b"POST /2  HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n1\r\n1", b"\r\n1\r\n0\r\n"]
    with send_pieces(d.fe2, pieces, delay=0.01) as s:
        s.shutdown(socket.SHUT_WR)
        out = read_all(s)
    assert out == b""
    (fe, bk, srv, tr, tw, tc, tres, _ta, status, _bytes, term, line), = log_lines(d, 1)
    assert (fe, bk, srv, tw, tc, tres, status, term, line) == ("fe2", "be1", "<NOSRV>", "-1", "-1", "-1", "-1",
                                                               "CR--", "POST /2 HTTP/1.1")
    assert int(tr) >= 0
    assert be.connections == 0


# ---- reg-tests/http-messaging/http_wait_for_body.vtc -------------------------------------------

BODY_LINE = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=====================================\n"
BODY_1000 = BODY_LINE * 10  # 1000 bytes: one short of the 1001 announced


class ScriptedServer(SocketServer):
    """The reg-test's s2: its first connection answers 200 with 1000 of 1001 body bytes and
    waits for the proxy to give up; its second answers 200 (whole after 10 ms), then 201 (the
    last byte 100 ms late)."""

    def __init__(self):
        self.connections = 0
        self.closed_by_proxy = threading.Event()
        super().__init__()

    def handle(self, conn):
        self.connections += 1
        n = self.connections
        with conn:
            got = self.read_head(conn)
            if got is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n")
            time.sleep(0.01)
            conn.sendall(BODY_1000)
            if n == 1:
                conn.settimeout(10)
                try:
                    if conn.recv(1) == b"":
                        self.closed_by_proxy.set()
                except OSError:
                    self.closed_by_proxy.set()
                return
            time.sleep(0.01)
            conn.sendall(b"1")
            if self.read_head(conn, got[1]) is None:
                return
            conn.sendall(b"HTTP/1.1 201 OK\r\nContent-Length: 1001\r\n\r\n")
            time.sleep(0.01)
            conn.sendall(BODY_1000)
            time.sleep(0.1)
            conn.sendall(b"1")
            conn.recv(1)


@pytest.fixture
def wait_for_body(bulwarkd, tmp_path):
    s1, s2 = Backend(), ScriptedServer()
    fe1, fe2 = free_port(), free_port()
    d = Bulwarkd(bulwarkd, tmp_path, f"""
defaults
    mode http
    option httplog
    timeout client  5s
    timeout server  5s
    timeout connect 5s

frontend fe1
    bind 127.0.0.1:{fe1}
    http-request wait-for-body time 100ms if {{ path /a }}
    http-request wait-for-body time 100ms at-least 1000 if {{ path /b }}
    use_backend be1

backend be1
    server srv1 127.0.0.1:{s1.port}

frontend fe2
    bind 127.0.0.1:{fe2}
    use_backend be2

backend be2
    http-response wait-for-body time 100ms if {{ status eq 200 }}
    http-response wait-for-body time 100ms at-least 1000 if {{ status eq 201 }}
    server srv1 127.0.0.1:{s2.port}
""")
    d.fe1, d.fe2 = fe1, fe2
    yield d, s1, s2
    assert d.stop() == 0, d.errors[-30:]
    s1.close()
    s2.close()


def read_response(s):
    """One response with a Content-Length body: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", head).group(1))
    while len(body) < length:
        chunk = s.recv(65536)
        assert chunk, (head, body)
        body += chunk
    return status_of(head), body


def test_wfb_c1_request_body_short_of_its_length_gets_408(wait_for_body):
    d, s1, _s2 = wait_for_body
    start = time.time()
    with send_pieces(d.fe1, [b"GET /a HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", BODY_1000], delay=0.01) as s:
        out = read_all(s)
    assert status_of(out) == 408
    assert 0.1 <= time.time() - start < 2   # wait-for-body time 100ms
    assert s1.requests == [] and s1.connections == 0


def test_wfb_c2_whole_body_and_at_least_go_to_the_server(wait_for_body):
    d, s1, _s2 = wait_for_body
    with socket.create_connection(("127.0.0.1", d.fe1), timeout=10) as s:
        s.sendall(b"GET /a HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
        time.sleep(0.01)
        s.sendall(BODY_1000)
        time.sleep(0.01)
        s.sendall(b"1")
        assert read_response(s)[0] == 200
        s.sendall(b"GET /b HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
        time.sleep(0.01)
        s.sendall(BODY_1000)
        time.sleep(0.1)
        s.sendall(b"1")
        assert read_response(s)[0] == 200
    assert [(p, len(b)) for _m, p, _h, b in s1.requests] == [("/a", 1001), ("/b", 1001)]


def test_wfb_c3_response_body_short_of_its_length_gets_504(wait_for_body):
    d, _s1, s2 = wait_for_body
    with socket.create_connection(("127.0.0.1", d.fe2), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(read_all(s)) == 504
    assert s2.closed_by_proxy.wait(5)  # the server's side was closed, as vtest's expect_close wants


def test_wfb_c4_response_bodies_waited_for_arrive_whole(wait_for_body):
    d, _s1, s2 = wait_for_body
    # the scripted server's first connection is c3's: take it first
    with socket.create_connection(("127.0.0.1", d.fe2), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(read_all(s)) == 504
    with socket.create_connection(("127.0.0.1", d.fe2), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st, body = read_response(s)
        assert (st, len(body)) == (200, 1001)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        st, body = read_response(s)
        assert (st, len(body)) == (201, 1001)
