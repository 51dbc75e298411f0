# SPDX-License-Identifier: Apache-2.0
"""Request smuggling and framing (issue #12): one table of raw requests on
loopback, each with the exact status the client gets and whether the
backend (a raw socket that records every byte) heard anything.

RFC 9112 §6.1/§6.3 and HAProxy's behaviour are the reference. Where the
RFC lets a server reject or repair, bulwark rejects: Content-Length with
Transfer-Encoding is a 400 (RFC 9112 §6.3 ¶3 allows it; HAProxy instead
drops the Content-Length and closes after, which only helps a client that
smuggles), as are differing Content-Lengths, a Transfer-Encoding whose last
coding is not chunked, whitespace before a colon, NUL/CR in a value, bad
chunk sizes, and an absolute-form target whose authority differs from Host
(as HAProxy). The frontend buffers the body (option http-buffer-request),
so a bad body is refused before a server is contacted.
"""
import socket
import threading
import time

import pytest

from test_proxy import Bulwarkd, SocketServer, free_port, read_all  # noqa: F401

BUFSIZE = 1024


class RecordingBackend(SocketServer):
    """Records every byte each connection sends; answers each request head
    (and its body, framed by Content-Length or chunked, as bulwark forwards
    it) with 200 and closes."""

    def __init__(self):
        self.received = []  # bytes per connection, appended as they come
        self.lock = threading.Lock()
        super().__init__()

    def handle(self, conn):
        with conn:
            conn.settimeout(5)
            got = bytearray()
            with self.lock:
                self.received.append(got)
            try:
                while b"\r\n\r\n" not in got:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    got += chunk
                head, rest = bytes(got).split(b"\r\n\r\n", 1)
                lower = head.lower()
                if b"transfer-encoding: chunked" in lower:
                    while not rest.endswith(b"0\r\n\r\n"):
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        got += chunk
                        rest += chunk
                elif b"content-length:" in lower:
                    n = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
                    while len(rest) < n:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        got += chunk
                        rest += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            except OSError:
                pass

    def bytes_seen(self):
        with self.lock:
            return b"".join(bytes(r) for r in self.received)


@pytest.fixture
def smuggling_proxy(bulwarkd, tmp_path):
    be = RecordingBackend()
    port = free_port()
    p = Bulwarkd(bulwarkd, tmp_path, f"""
global
    tune.bufsize {BUFSIZE}
    tune.http.maxhdr 20
defaults
    mode http
    option httplog
    timeout client 5s
    timeout connect 2s
    timeout server 3s
frontend www
    bind 127.0.0.1:{port}
    timeout http-request 2s
    option http-buffer-request
    default_backend app
backend app
    server s1 127.0.0.1:{be.port}
""")
    p.port = port
    yield p, be
    assert p.stop() == 0, p.errors[-30:]
    be.close()


def req(head, body=b""):
    return head.replace(b"\n", b"\r\n") + b"\r\n" + body


POST_TE = b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n"
ROWS = [
    # id, raw request, status, did the backend hear a byte
    ("control_get", req(b"GET / HTTP/1.1\nHost: a\nConnection: close\n"), 200, True),
    ("control_chunked", req(POST_TE + b"Connection: close\n", b"4\r\nbody\r\n0\r\n\r\n"), 200, True),
    ("cl_then_te", req(b"POST / HTTP/1.1\nHost: a\nContent-Length: 4\nTransfer-Encoding: chunked\n",
                       b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"), 400, False),
    ("te_then_cl", req(b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 4\n",
                       b"0\r\n\r\n"), 400, False),
    ("two_differing_cl", req(b"POST / HTTP/1.1\nHost: a\nContent-Length: 4\nContent-Length: 5\n", b"body!"),
     400, False),
    ("differing_cl_list", req(b"POST / HTTP/1.1\nHost: a\nContent-Length: 4, 5\n", b"body!"), 400, False),
    ("identical_cl_list", req(b"POST / HTTP/1.1\nHost: a\nConnection: close\nContent-Length: 4, 4\n", b"body"), 200, True),
    ("cl_plus_sign", req(b"POST / HTTP/1.1\nHost: a\nContent-Length: +4\n", b"body"), 400, False),
    ("cl_overflow", req(b"POST / HTTP/1.1\nHost: a\nContent-Length: 18446744073709551616\n"), 400, False),
    ("te_gzip_only", req(b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: gzip\n", b"body"), 400, False),
    ("te_chunked_then_identity", req(b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked, identity\n",
                                     b"0\r\n\r\n"), 400, False),
    ("te_xchunked", req(b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: xchunked\n", b"0\r\n\r\n"), 400, False),
    ("te_twice", req(b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n",
                     b"0\r\n\r\n"), 400, False),
    ("space_before_colon", req(b"POST / HTTP/1.1\nHost: a\nTransfer-Encoding : chunked\n", b"0\r\n\r\n"),
     400, False),
    ("tab_before_colon", req(b"GET / HTTP/1.1\nHost\t: a\n"), 400, False),
    ("nul_in_value", req(b"GET / HTTP/1.1\nHost: a\nX: a\0b\n"), 400, False),
    ("cr_in_value", req(b"GET / HTTP/1.1\nHost: a\nX: a\rb\n"), 400, False),
    ("bare_lf_head", b"GET / HTTP/1.1\nHost: a\n\n", 400, False),
    ("chunk_size_plus", req(POST_TE, b"+4\r\nbody\r\n0\r\n\r\n"), 400, False),
    ("chunk_size_minus", req(POST_TE, b"-4\r\nbody\r\n0\r\n\r\n"), 400, False),
    ("chunk_size_0x", req(POST_TE, b"0x4\r\nbody\r\n0\r\n\r\n"), 400, False),
    ("chunk_size_leading_space", req(POST_TE, b" 4\r\nbody\r\n0\r\n\r\n"), 400, False),
    ("chunk_size_hex_overflow", req(POST_TE, b"10000000000000004\r\nbody\r\n0\r\n\r\n"), 400, False),
    ("chunk_data_longer_than_size", req(POST_TE, b"2\r\nbody\r\n0\r\n\r\n"), 400, False),
    ("chunk_ext_longer_than_bufsize", req(POST_TE, b"4;" + b"x" * (2 * BUFSIZE) + b"\r\nbody\r\n0\r\n\r\n"),
     400, False),
    ("absolute_form_other_host", req(b"GET http://b.example/ HTTP/1.1\nHost: a.example\n"), 400, False),
    ("absolute_form_same_host", req(b"GET http://a.example/ HTTP/1.1\nHost: a.example\nConnection: close\n"), 200, True),
    ("te_in_http10", req(b"POST / HTTP/1.0\nHost: a\nTransfer-Encoding: chunked\n", b"0\r\n\r\n"), 400, False),
    ("two_hosts", req(b"GET / HTTP/1.1\nHost: a\nHost: b\n"), 400, False),
    # RFC 9112 §5.2: a proxy unfolds obs-fold into spaces, as HAProxy does
    ("obs_fold", req(b"GET / HTTP/1.1\nHost: a\nConnection: close\nX-F: a\n  b\n"), 200, True),
]
# What the backend must have received, for the rows it hears.
FORWARDED = {
    "obs_fold": b"\r\nX-F: a b\r\n",
    "identical_cl_list": b"\r\nContent-Length: 4\r\n\r\nbody",
    "absolute_form_same_host": b"GET http://a.example/ HTTP/1.1\r\n",
}


@pytest.mark.parametrize("name,raw_request,status,backend_heard", ROWS, ids=[r[0] for r in ROWS])
def test_smuggling_table(smuggling_proxy, name, raw_request, status, backend_heard):
    p, be = smuggling_proxy
    with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
        s.sendall(raw_request)
        answer = read_all(s)  # bulwarkd closes: a refused request ends its connection
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 %d %s" % (status, {200: b"OK", 400: b"Bad request"}[status])
    seen = be.bytes_seen()
    assert bool(seen) == backend_heard, seen
    if backend_heard:
        assert seen.count(b" HTTP/1.1\r\n") == 1  # one request, nothing smuggled behind it
        assert b"/smuggled" not in seen
        assert FORWARDED.get(name, b"") in seen
    entries = p.log(1)
    assert entries[0][7] == str(status)
    if status == 400:  # bulwark's own refusal: a request error (PR-- head, PD-- body)
        assert entries[0][9] in ("PR--", "PD--")
