# SPDX-License-Identifier: Apache-2.0
"""HAProxy's own regression tests for request buffering, ported.

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
import time

import pytest

from test_proxy import Backend, Bulwarkd, free_port, read_all

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
