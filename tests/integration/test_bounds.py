# SPDX-License-Identifier: Apache-2.0
"""The memory bound per connection (issue #12), on loopback against a real
bulwarkd: each attack gets HAProxy's status and the connection closed,
while bulwarkd's resident memory (VmRSS in /proc/PID/status, sampled all
along the attack) stays under the bound the README states:

    per connection  8 x tune.bufsize + 2 x 16 KiB + 4 KiB + 2 x (tune.http.maxhdr + 1) x 128 B + 8 KiB

above what the process holds idle, plus ALLOC_SLACK for the allocator's
granularity (glibc takes heap in 128 KiB steps and keeps freed pages).
Before the bound, one chunk-extension stream made it grow by 264 MB.

Every flood is bounded in bytes (FLOOD_BYTES) and time (the socket
timeouts), and ends as soon as bulwarkd closes.
"""
import socket
import threading
import time

import pytest

from test_proxy import Bulwarkd, SocketServer, free_port, read_all  # noqa: F401

BUFSIZE = 16384
MAXHDR = 101
FLOOD_BYTES = 64 << 20  # what one attacker sends at most
ALLOC_SLACK = 2 << 20
MAX_INTERIM = 10  # proxy/http_session.hpp max_interim_responses


def conn_bound(bufsize=BUFSIZE, maxhdr=MAXHDR):
    """The README's bound on what one connection holds, in bytes."""
    return 8 * bufsize + 2 * 16384 + 4096 + 2 * (maxhdr + 1) * 128 + 8192


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class RssSampler:
    """The largest VmRSS seen while it runs (every 5 ms)."""

    def __init__(self, pid):
        self.pid, self.stop_ = pid, threading.Event()
        self.base = self.peak = rss(pid)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_.is_set():
            self.peak = max(self.peak, rss(self.pid))
            self.stop_.wait(0.005)

    def stop(self):
        self.stop_.set()
        self.thread.join(timeout=5)
        self.peak = max(self.peak, rss(self.pid))
        # shown with pytest -s
        print(f"rss before {self.base} peak {self.peak} (+{self.peak - self.base}) per-connection bound {conn_bound()}")
        return self.peak


class Backend(SocketServer):
    """Answers each request with 200 once its body (Content-Length, or
    chunked to its last chunk) has been read and counted; with `flood`
    (head, filler), answers head then filler over and over, until
    bulwarkd closes or FLOOD_BYTES are sent."""

    def __init__(self, flood=None):
        self.flood = flood
        self.body_bytes = []  # per request
        super().__init__()

    def handle(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                got = self.read_head(conn)
                if got is None:
                    return
                head, rest = got
                if self.flood:
                    head, filler = self.flood
                    conn.sendall(head)
                    block = filler * max(1, 65536 // len(filler))
                    for _ in range(FLOOD_BYTES // len(block)):
                        conn.sendall(block)
                    return
                n = 0
                lower = head.lower()
                if b"content-length:" in lower:
                    n = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
                    left = n - len(rest)  # counted, not kept
                    while left > 0:
                        chunk = conn.recv(min(left, 1 << 20))
                        if not chunk:
                            return
                        left -= len(chunk)
                elif b"chunked" in lower:
                    while not rest.endswith(b"0\r\n\r\n"):
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        rest += chunk
                    n = len(rest)
                self.body_bytes.append(n)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            except OSError:
                pass


def config(port, be_port):
    return f"""
global
    nbthread 1
    tune.bufsize {BUFSIZE}
    tune.http.maxhdr {MAXHDR}
defaults
    mode http
    option httplog
    timeout client 10s
    timeout connect 2s
    timeout server 10s
frontend www
    bind 127.0.0.1:{port}
    timeout http-request 10s
    option http-buffer-request
    default_backend app
backend app
    server s1 127.0.0.1:{be_port}
"""


@pytest.fixture
def bounded(bulwarkd, tmp_path, request):
    be = Backend(flood=getattr(request, "param", None))
    port = free_port()
    p = Bulwarkd(bulwarkd, tmp_path, config(port, be.port))
    p.port = port
    yield p, be
    assert p.stop() == 0, p.errors[-30:]
    be.close()


def flood(port, head, filler, tail=b""):
    """Sends head, then filler repeated up to FLOOD_BYTES (or until bulwarkd
    closes), then tail, while reading what comes back. Returns (answer,
    bytes sent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    answer = []
    reader = threading.Thread(target=lambda: answer.append(read_all_lenient(s)), daemon=True)
    reader.start()
    sent = 0
    try:
        s.sendall(head)
        block = filler * max(1, 65536 // len(filler))
        while sent < FLOOD_BYTES:
            s.sendall(block)
            sent += len(block)
        s.sendall(tail)
    except OSError:  # bulwarkd closed: the point
        pass
    reader.join(timeout=20)
    s.close()
    return (answer[0] if answer else b""), sent


def read_all_lenient(s):
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    except OSError:  # a reset after the answer (bulwarkd closed with our bytes unread)
        return out


CHUNKED = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
ATTACKS = {
    # name: (head, filler, tail, expected status line, the log's termination state)
    "chunk_extension": (CHUNKED + b"1;", b"x", b"", b"HTTP/1.1 400 Bad request", "PD--"),
    "trailer_flood": (CHUNKED + b"1\r\na\r\n0\r\n", b"x-t: y\r\n", b"\r\n", b"HTTP/1.1 400 Bad request", "PD--"),
    "header_line_flood": (b"GET / HTTP/1.1\r\nHost: a\r\n", b"a: b\r\n", b"\r\n", b"HTTP/1.1 400 Bad request",
                          "PR--"),
    "endless_header": (b"GET / HTTP/1.1\r\nHost: a\r\nX: ", b"y", b"\r\n\r\n",
                       b"HTTP/1.1 431 Request Header Fields Too Large", "PR--"),
}


def attack(port, name):
    """The status line an attacker got."""
    head, filler, tail, _status, _term = ATTACKS[name]
    answer, _ = flood(port, head, filler, tail)
    return answer.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_and_closed_within_the_bound(bounded, name):
    p, be = bounded
    head, filler, tail, status, term = ATTACKS[name]
    base = rss(p.proc.pid)
    sampler = RssSampler(p.proc.pid)
    answer, sent = flood(p.port, head, filler, tail)
    peak = sampler.stop()
    assert answer.split(b"\r\n", 1)[0] == status
    assert answer.count(b"HTTP/1.1 ") == 1  # then closed (read_all saw EOF)
    assert sent < FLOOD_BYTES  # refused long before the flood's end
    assert be.body_bytes == []  # the server never heard of it
    assert peak - base <= conn_bound() + ALLOC_SLACK, (base, peak)
    entries = p.log(1)
    assert (entries[0][7], entries[0][9]) == (status.split()[1].decode(), term)


def test_body_larger_than_the_buffer_streams_within_the_bound(bounded):
    """As HAProxy: http-buffer-request holds tune.bufsize of the body, then
    the request goes on and the rest streams; memory stays bounded."""
    p, be = bounded
    size = FLOOD_BYTES
    base = rss(p.proc.pid)
    sampler = RssSampler(p.proc.pid)
    with socket.create_connection(("127.0.0.1", p.port), timeout=20) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % size)
        block = b"z" * 65536
        for _ in range(size // len(block)):
            s.sendall(block)
        answer = read_all(s)
    peak = sampler.stop()
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 200 OK"
    assert be.body_bytes == [size]
    assert peak - base <= conn_bound() + ALLOC_SLACK, (base, peak)


INTERIM_FLOOD = (b"", b"HTTP/1.1 100 Continue\r\n\r\n")
HEADER_FLOOD = (b"HTTP/1.1 200 OK\r\n", b"x-h: y\r\n")


@pytest.mark.parametrize("bounded", [HEADER_FLOOD], indirect=True, ids=["header_flood"])
def test_response_header_flood_gets_502(bounded):
    p, _be = bounded
    sampler = RssSampler(p.proc.pid)
    with socket.create_connection(("127.0.0.1", p.port), timeout=20) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        answer = read_all(s)
    peak = sampler.stop()
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 502 Bad Gateway"
    assert peak - sampler.base <= conn_bound() + ALLOC_SLACK, (sampler.base, peak)
    entries = p.log(1)
    assert (entries[0][7], entries[0][9]) == ("502", "SH--")


@pytest.mark.parametrize("bounded", [INTERIM_FLOOD], indirect=True, ids=["interim_flood"])
def test_1xx_flood_from_the_server_gets_502(bounded):
    p, _be = bounded
    base = rss(p.proc.pid)
    sampler = RssSampler(p.proc.pid)
    with socket.create_connection(("127.0.0.1", p.port), timeout=20) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        answer = read_all(s)
    peak = sampler.stop()
    assert answer.count(b"HTTP/1.1 100 Continue\r\n") == MAX_INTERIM
    assert answer.split(b"\r\n\r\n")[MAX_INTERIM].split(b"\r\n", 1)[0] == b"HTTP/1.1 502 Bad Gateway"
    assert peak - base <= conn_bound() + ALLOC_SLACK, (base, peak)
    entries = p.log(1)
    assert (entries[0][7], entries[0][9]) == ("502", "SH--")


def test_ten_attackers_do_not_change_a_legit_clients_result(bounded):
    p, be = bounded
    names = list(ATTACKS) * 3
    names = names[:10]
    base = rss(p.proc.pid)
    sampler = RssSampler(p.proc.pid)
    results = [None] * len(names)
    threads = [threading.Thread(target=lambda i=i, n=n: results.__setitem__(i, attack(p.port, n)))
               for i, n in enumerate(names)]
    for t in threads:
        t.start()
    legit = []
    while any(t.is_alive() for t in threads) or len(legit) < 5:
        with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
            s.sendall(b"POST /legit HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello")
            legit.append(read_all(s).split(b"\r\n", 1)[0])
        if len(legit) >= 200:
            break
    for t in threads:
        t.join(timeout=30)
    peak = sampler.stop()
    assert results == [ATTACKS[n][3] for n in names]
    assert set(legit) == {b"HTTP/1.1 200 OK"}
    assert be.body_bytes == [5] * len(legit)
    assert peak - base <= (len(names) + 1) * conn_bound() + ALLOC_SLACK, (base, peak)
    st_lines = len(legit) + len(names)
    assert len(p.log(st_lines, timeout=10)) == st_lines
