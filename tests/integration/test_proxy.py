# SPDX-License-Identifier: Apache-2.0
"""The L7 proxy on loopback with real clients: curl and raw sockets.

Each test starts bulwarkd on free ports in front of a recording backend and
stops both, whatever the outcome.
"""
import http.server
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import run

LOG_RE = re.compile(r'^127\.0\.0\.1:\d+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] (\S+) (\S+)/(\S+) '
                    r'(-?\d+)/-?\d+/(-?\d+)/(-?\d+)/(\d+) (-1|\d{3}) (\d+) - - (\S{4}) \d+/\d+/0/0/\+?\d+ 0/0 "(.*)"$')


STATS_RE = re.compile(r"^bulwarkd: stats: (frontend|backend|server) (\S+): (.*)$")


def parse_stats(lines):
    """The last counters bulwarkd printed: {("frontend", "www"): {"connections": 3, "2xx": 2, ...}}."""
    out = {}
    for l in lines:
        m = STATS_RE.match(l)
        if m:
            fields = re.findall(r"([a-z0-9 ]+?) (\d+)", m.group(3).replace("(", ", ").replace(")", ""))
            out[(m.group(1), m.group(2))] = {k.strip(", "): int(v) for k, v in fields}
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SocketServer:
    """A listening socket served by a thread per connection: subclasses say
    what `handle(conn)` does. `address` is ("127.0.0.1", 0) or a unix path."""

    def __init__(self, address=("127.0.0.1", 0)):
        self.requests = []
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(8)
        if family == socket.AF_INET:
            self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        raise NotImplementedError

    @staticmethod
    def read_head(conn, data=b""):
        """Reads up to a request head's end: (head, bytes after it), or None at EOF before it."""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        return head, rest

    def close(self):
        self.sock.close()


class Backend:
    """An HTTP/1.1 server that records what reaches it."""

    def __init__(self, delay=0.0, drop_after_response=False, slow_paths=()):
        self.requests = []      # (method, path, headers dict, body)
        self.header_lines = []  # per request: [(name, value)] in order
        self.connections = 0
        self.in_progress = 0    # requests being answered now, and the most ever at once
        self.most_at_once = 0
        self.lock = threading.Lock()
        self.delay = delay
        self.drop_after_response = drop_after_response  # close without saying so
        self.slow_paths = set(slow_paths)  # paths answered after 1 s
        self.status_for = {}                # path -> status to answer (default 200)
        self.headers_for = {}               # path -> [(name, value)] added to the response
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                backend.connections += 1
                super().setup()

            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        body += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    body = self.rfile.read(length) if length else b""
                backend.requests.append((self.command, self.path, dict(self.headers), body))
                backend.header_lines.append(list(self.headers.items()))  # repeated names kept
                with backend.lock:
                    backend.in_progress += 1
                    backend.most_at_once = max(backend.most_at_once, backend.in_progress)
                if backend.delay:
                    time.sleep(backend.delay)
                if self.path in backend.slow_paths:
                    time.sleep(1.0)
                with backend.lock:
                    backend.in_progress -= 1
                out = f"ok {self.command} {self.path} {len(body)}\n".encode()
                self.send_response(backend.status_for.get(self.path, 200))
                self.send_header("Content-Length", str(len(out)))
                self.send_header("Set-Cookie", "sid=1")
                for name, value in backend.headers_for.get(self.path, ()):
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)
                if backend.drop_after_response:
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = handle_any

        self.port = free_port()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Bulwarkd:
    def __init__(self, binary, tmp_path, text):
        self.cfg = tmp_path / "proxy.cfg"
        self.cfg.write_text(text)
        self.proc = subprocess.Popen([binary, "-q", "-f", str(self.cfg)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = []
        # bounded: the stop() in the fixture kills it whatever happens here
        deadline = time.time() + 10
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.out.append(line)
            if line.startswith("bulwarkd: running"):
                break
        assert self.out and self.out[-1].startswith("bulwarkd: running"), (self.out, self.proc.stderr.read())
        self.lines = []   # stdout: the log
        self.errors = []  # stderr: warnings, health changes
        self.readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                        for stream, into in ((self.proc.stdout, self.lines), (self.proc.stderr, self.errors))]
        for r in self.readers:
            r.start()

    @staticmethod
    def _read(stream, into):
        for line in stream:
            into.append(line.rstrip("\n"))

    def log_lines(self):
        """stdout without bulwarkd's own lines (counters, exit): the request log."""
        return [l for l in self.lines if not l.startswith("bulwarkd: ")]

    def log(self, count, timeout=5, pattern=None):
        """Polls until `count` log lines arrived; returns them parsed (LOG_RE's groups, or `pattern`'s)."""
        deadline = time.time() + timeout
        while len(self.log_lines()) < count and time.time() < deadline:
            time.sleep(0.02)
        parsed = [(pattern or LOG_RE).match(l) for l in self.log_lines()]
        assert all(parsed), self.lines
        return [m.groups() for m in parsed]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for r in self.readers:  # they end at EOF: every line bulwarkd wrote is in self.lines
            r.join(timeout=10)
        return self.proc.returncode


@pytest.fixture
def backend():
    b = Backend()
    yield b
    b.close()


def config(fe_port, be_port, extra_fe="", extra_be="", timeouts="timeout http-request 1s", server_opts=""):
    return f"""
global
    nbthread 2
defaults
    mode http
    option httplog
    timeout client 5s
    timeout connect 2s
    timeout server 3s
frontend www
    bind 127.0.0.1:{fe_port}
    {timeouts}
{extra_fe}
    default_backend app
backend app
{extra_be}
    server s1 127.0.0.1:{be_port} {server_opts}
"""


@pytest.fixture
def proxy(bulwarkd, tmp_path, backend):
    started = []

    def start(**kw):
        port = free_port()
        b = Bulwarkd(bulwarkd, tmp_path, config(port, backend.port, **kw))
        b.port = port
        b.url = f"http://127.0.0.1:{port}"
        started.append(b)
        return b

    yield start
    for b in started:
        assert b.stop() == 0, b.errors[-30:]


def curl(*args):
    r = run(["curl", "-sS", "--max-time", "10", *args], timeout=20)
    return r


def read_all(s):
    """Everything a socket reads until its peer closes."""
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return out
        out += chunk


def raw(port, data, timeout=10):
    """Sends bytes, returns everything read until the proxy closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_all(s)


def test_get_is_proxied_and_logged(proxy, backend):
    p = proxy()
    r = curl("-i", p.url + "/hello?x=1")
    assert r.returncode == 0
    head, body = r.stdout.split("\n\n", 1)  # run() reads text: CRLF arrives as LF
    assert head.startswith("HTTP/1.1 200 OK")
    assert body == "ok GET /hello?x=1 0\n"
    assert [(m, path) for m, path, _, _ in backend.requests] == [("GET", "/hello?x=1")]
    (fe, be, srv, tr, tc, tres, ta, status, size, term, line), = p.log(1)
    assert (fe, be, srv, status, term, line) == ("www", "app", "s1", "200", "----", "GET /hello?x=1 HTTP/1.1")
    # header and body, as HAProxy counts them (each LF was a CRLF, and the head ends in CRLF CRLF)
    assert int(size) == len(head) + head.count("\n") + 4 + len(body)


def test_keep_alive_reuses_the_client_connection(proxy, backend):
    p = proxy()
    r = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects} %{http_code}\n", p.url + "/a", p.url + "/b")
    assert r.stdout.splitlines() == ["1 200", "0 200"]
    assert [path for _, path, _, _ in backend.requests] == ["/a", "/b"]


def test_post_body_arrives_whole(proxy, backend, tmp_path):
    p = proxy()
    data = tmp_path / "body"
    data.write_bytes(bytes(range(256)) * 1000)  # 256000 bytes, binary
    r = curl("--data-binary", f"@{data}", p.url + "/upload")
    assert r.stdout == "ok POST /upload 256000\n"
    assert backend.requests[0][3] == data.read_bytes()


def test_chunked_upload(proxy, backend, tmp_path):
    p = proxy()
    data = tmp_path / "body"
    data.write_bytes(b"x" * 100000)
    r = curl("-H", "Transfer-Encoding: chunked", "--data-binary", f"@{data}", p.url + "/chunked")
    assert r.stdout == "ok POST /chunked 100000\n"
    assert backend.requests[0][3] == b"x" * 100000


def test_pipelined_requests_are_answered_in_order(proxy, backend):
    p = proxy()
    reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3))
    out = raw(p.port, reqs + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    bodies = re.findall(rb"ok GET (/\w+) 0\n", out)
    assert bodies == [b"/0", b"/1", b"/2", b"/last"]
    assert out.count(b"HTTP/1.1 200 OK") == 4


def test_head(proxy, backend):
    p = proxy()
    r = curl("-I", p.url + "/h")
    assert r.stdout.startswith("HTTP/1.1 200 OK")
    assert backend.requests[0][0] == "HEAD"


def test_forwardfor(proxy, backend):
    p = proxy(extra_fe="    option forwardfor")
    curl("-o", "/dev/null", p.url + "/")
    assert backend.requests[0][2]["X-Forwarded-For"] == "127.0.0.1"


@pytest.mark.parametrize("args,sent,expect", [
    ("header X-Client-IP", [], [("X-Client-IP", "127.0.0.1")]),
    ("except 127.0.0.0/8", [], []),
    ("except 10.0.0.0/8", [], [("X-Forwarded-For", "127.0.0.1")]),
    ("if-none", [("X-Forwarded-For", "192.0.2.7")], [("X-Forwarded-For", "192.0.2.7")]),
    # as HAProxy: a line of its own after the client's
    ("", [("X-Forwarded-For", "192.0.2.7")], [("X-Forwarded-For", "192.0.2.7"), ("X-Forwarded-For", "127.0.0.1")]),
], ids=["header", "except-match", "except-other", "if-none", "appended"])
def test_forwardfor_arguments(proxy, backend, args, sent, expect):
    p = proxy(extra_be=f"    option forwardfor {args}")
    curl("-o", "/dev/null", *[a for k, v in sent for a in ("-H", f"{k}: {v}")], p.url + "/")
    got = [(k, v) for k, v in backend.header_lines[0] if k in ("X-Forwarded-For", "X-Client-IP")]
    assert got == expect


def test_httpclose_closes_the_client_connection_after_each_response(proxy, backend):
    p = proxy(extra_fe="    option httpclose")
    r = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n", p.url + "/a", p.url + "/b")
    assert r.stdout.splitlines() == ["1", "1"]  # a new connection for the second request
    assert backend.connections == 2


@pytest.mark.parametrize("option,answered,logged", [
    ("", True, True), ("option dontlognull", True, False), ("option http-ignore-probes", False, False)])
def test_a_connection_that_sends_nothing(proxy, backend, option, answered, logged):
    p = proxy(extra_fe=f"    {option}", timeouts="timeout http-request 300ms")
    out = raw(p.port, b"")
    assert out.startswith(b"HTTP/1.1 408 ") == answered and (out == b"") != answered
    assert curl("-o", "/dev/null", "-w", "%{http_code}", p.url + "/after").stdout == "200"
    lines = p.log(2 if logged else 1)
    assert [(e[7], e[10]) for e in lines] == ([("408", "<BADREQ>")] if logged else []) + [("200", "GET /after HTTP/1.1")]


def test_slow_post_gets_408_and_the_server_hears_nothing(proxy, backend):
    p = proxy(extra_fe="    option http-buffer-request")
    start = time.time()
    out = raw(p.port, b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
    elapsed = time.time() - start
    assert out.startswith(b"HTTP/1.1 408 Request Time-out\r\n")
    assert out.endswith(b"<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request "
                        b"in time.\n</body></html>\n")
    assert 0.9 <= elapsed < 2.5  # timeout http-request 1s, with scheduling slack
    assert backend.connections == 0
    (fe, be, srv, *_, status, size, term, line), = p.log(1)
    assert (be, srv, status, term, line) == ("www", "<NOSRV>", "408", "cD--", "POST /slow HTTP/1.1")


def test_slowloris_headers_get_408(proxy, backend):
    p = proxy()
    with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
        start = time.time()
        s.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.3)
        s.sendall(b"X-a: b\r\n")  # still within the 1s, but the deadline counts from the first byte
        out = s.recv(4096)
        elapsed = time.time() - start
    assert out.startswith(b"HTTP/1.1 408 ")
    assert 0.9 <= elapsed < 2.5
    assert backend.connections == 0
    assert p.log(1)[0][9] == "cR--"


def test_without_buffering_the_server_is_contacted_at_once(proxy, backend):
    # no 'option http-buffer-request': the headers go on, the body streams
    p = proxy()
    with socket.create_connection(("127.0.0.1", p.port), timeout=10) as s:
        s.sendall(b"POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
        deadline = time.time() + 5
        while backend.connections == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert backend.connections == 1
        s.sendall(b"def")
        out = b""
        while b"ok POST /stream 6\n" not in out:  # the header and the body may come apart
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert out.endswith(b"ok POST /stream 6\n")


def test_bad_request_gets_400(proxy, backend):
    p = proxy()
    out = raw(p.port, b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 Bad request\r\n")
    assert backend.connections == 0


def test_huge_headers_get_431(proxy, backend):
    p = proxy()
    out = raw(p.port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431 ")
    assert backend.connections == 0


def test_request_line_longer_than_bufsize_gets_414(proxy, backend):
    p = proxy()
    out = raw(p.port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert backend.connections == 0
    (_fe, _be, _srv, *_t, status, _size, term, line), = p.log(1)
    assert (status, term, line) == ("414", "PR--", "<BADREQ>")


def test_more_header_lines_than_maxhdr_get_400(bulwarkd, tmp_path, backend):
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, config(port, backend.port).replace("    nbthread 2", "    nbthread 2\n"
                                                                         "    tune.http.maxhdr 5"))
    try:
        head = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(5))
        assert raw(port, head + b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 400 ")  # 6 lines
        assert backend.connections == 0
        ok = raw(port, b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(4)) +
                 b"Connection: close\r\n\r\n")  # exactly 5 lines
        assert ok.startswith(b"HTTP/1.1 200 ")
    finally:
        assert b.stop() == 0, b.errors[-30:]


def test_no_server_listening_gets_503(bulwarkd, tmp_path):
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, config(port, free_port()))
    try:
        r = curl("-i", f"http://127.0.0.1:{port}/")
        assert r.stdout.startswith("HTTP/1.1 503 Service Unavailable")
        assert b.log(1)[0][9] == "SC--"
    finally:
        assert b.stop() == 0, b.errors[-30:]


def test_slow_server_gets_504(bulwarkd, tmp_path):
    slow = Backend(delay=4)  # timeout server is 3s
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, config(port, slow.port))
    try:
        r = curl("-i", f"http://127.0.0.1:{port}/")
        assert r.stdout.startswith("HTTP/1.1 504 Gateway Time-out")
        assert b.log(1)[0][9] == "sH--"
    finally:
        assert b.stop() == 0, b.errors[-30:]
        slow.close()


def test_errorfile_replaces_the_503(bulwarkd, tmp_path):
    page = tmp_path / "503.http"
    page.write_text("HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nback soon\n")
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, config(port, free_port(), extra_be=f"    errorfile 503 {page}"))
    try:
        r = curl("-i", f"http://127.0.0.1:{port}/")
        assert r.stdout == "HTTP/1.0 503 Service Unavailable\nContent-Type: text/plain\n\nback soon\n"
    finally:
        assert b.stop() == 0, b.errors[-30:]


def test_bind_failure_is_reported(bulwarkd, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = tmp_path / "c.cfg"
        cfg.write_text(config(port, free_port()))
        r = run([bulwarkd, "-q", "-f", str(cfg)], timeout=10)
    assert r.returncode == 1
    assert f"[ALERT] frontend 'www': cannot bind 127.0.0.1:{port}: Address already in use" in r.stderr


def test_server_connections_are_kept_alive_and_reused(proxy, backend):
    p = proxy()
    r = curl("-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}\n",
             p.url + "/1", p.url + "/2", p.url + "/3")
    assert r.stdout.splitlines() == ["200", "200", "200"]
    assert backend.connections == 1
    assert [e[7] for e in p.log(3)] == ["200", "200", "200"]


def test_http_server_close_opens_one_server_connection_per_request(proxy, backend):
    p = proxy(extra_fe="    option http-server-close")
    curl("-o", "/dev/null", "-o", "/dev/null", p.url + "/1", p.url + "/2")
    assert backend.connections == 2


def test_an_idle_server_connection_closed_under_us_is_replaced(bulwarkd, tmp_path):
    dropping = Backend(drop_after_response=True)
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, config(port, dropping.port))
    try:
        url = f"http://127.0.0.1:{port}"
        r = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}\n", url + "/1", url + "/2")
        assert r.stdout.splitlines() == ["200", "200"]
        assert dropping.connections == 2
        assert [e[7] for e in b.log(2)] == ["200", "200"]
    finally:
        assert b.stop() == 0, b.errors[-30:]
        dropping.close()


def two_server_config(port, live, dead, check, balance="roundrobin"):
    # one thread: one round-robin position, so the counts below are exact
    return f"""
global
    nbthread 1
defaults
    mode http
    option httplog
    timeout client 5s
    timeout connect 1s
    timeout server 3s
frontend www
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance {balance}
    server s1 127.0.0.1:{dead}{check}
    server s2 127.0.0.1:{live}{check}
"""


def wait_for(predicate, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_without_checks_a_dead_server_costs_503s(bulwarkd, tmp_path, backend):
    port = free_port()
    # retries 0: each 503 at once, not after HAProxy's 3 retries a second apart
    cfg = two_server_config(port, backend.port, free_port(), "").replace("    balance", "    retries 0\n    balance")
    b = Bulwarkd(bulwarkd, tmp_path, cfg)
    try:
        codes = [curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/").stdout
                 for _ in range(8)]
        assert codes == ["503", "200"] * 4  # round robin from s1
    finally:
        assert b.stop() == 0, b.errors[-30:]


def test_health_check_takes_a_dead_server_out_and_back(bulwarkd, tmp_path, backend):
    port, dead = free_port(), free_port()
    b = Bulwarkd(bulwarkd, tmp_path, two_server_config(port, backend.port, dead, " check inter 100ms rise 2 fall 2"))
    revived = None
    try:
        # fall 2 x inter 100 ms: s1 is DOWN after ~200 ms, and says so
        assert wait_for(lambda: any("Server app/s1 is DOWN" in e for e in b.errors))
        assert b.errors[-1].startswith('[WARNING] Server app/s1 is DOWN, reason: Layer4 connection problem, '
                                       'info: "Connection refused", check duration: ')
        assert b.errors[-1].endswith("ms. 1 active servers left.")
        before = len(b.lines)
        codes = [curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/").stdout
                 for _ in range(10)]
        assert codes == ["200"] * 10
        assert {e[2] for e in b.log(before + 10)[before:]} == {"s2"}
        # s1 comes back: after rise 2 successful checks it is UP and in rotation again
        revived = Backend()
        revived.httpd.server_close()
        revived.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", dead), revived.httpd.RequestHandlerClass)
        threading.Thread(target=revived.httpd.serve_forever, daemon=True).start()
        assert wait_for(lambda: any("Server app/s1 is UP" in e for e in b.errors))
        for _ in range(4):
            curl("-o", "/dev/null", f"http://127.0.0.1:{port}/")
        assert len(revived.requests) == 2  # round robin again: every other request
    finally:
        assert b.stop() == 0, b.errors[-30:]
        if revived:
            revived.close()


def test_httpchk_takes_a_failing_server_out_and_back(bulwarkd, tmp_path):
    sick, well = Backend(), Backend()
    sick.status_for["/health"] = 500
    port = free_port()
    cfg = two_server_config(port, well.port, sick.port, " check inter 100ms rise 2 fall 2").replace(
        "    balance roundrobin", "    balance roundrobin\n    option httpchk GET /health")
    b = Bulwarkd(bulwarkd, tmp_path, cfg)
    try:
        assert wait_for(lambda: any("Server app/s1 is DOWN" in e for e in b.errors))
        assert b.errors[-1].startswith('[WARNING] Server app/s1 is DOWN, reason: Layer7 wrong status, code: 500, '
                                       'info: "Internal Server Error", check duration: ')
        assert all("app/s2" not in e for e in b.errors)
        # the check request is the one asked for, HTTP/1.0 as in HAProxy
        assert ("GET", "/health") in [(m, p) for m, p, _h, _b in well.requests]
        codes = [curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/app").stdout
                 for _ in range(4)]
        assert codes == ["200"] * 4
        assert [p for _m, p, _h, _b in sick.requests if p != "/health"] == []
        sick.status_for["/health"] = 200
        assert wait_for(lambda: any("Server app/s1 is UP, reason: Layer7 check passed" in e for e in b.errors))
    finally:
        assert b.stop() == 0, b.errors[-30:]
        sick.close()
        well.close()


def test_all_servers_down_gives_503_without_trying(bulwarkd, tmp_path):
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, two_server_config(port, free_port(), free_port(), " check inter 100ms fall 1"))
    try:
        assert wait_for(lambda: sum("is DOWN" in e for e in b.errors) == 2)
        assert b.errors[-1].endswith(" 0 active servers left.")
        r = curl("-i", f"http://127.0.0.1:{port}/")
        assert r.stdout.startswith("HTTP/1.1 503 Service Unavailable")
        entry = b.log(1)[-1]
        assert (entry[1], entry[2], entry[7], entry[9]) == ("app", "<NOSRV>", "503", "SC--")
    finally:
        assert b.stop() == 0, b.errors[-30:]


@pytest.mark.parametrize("balance,expect", [("roundrobin", {"s1": 2, "s2": 2}), ("leastconn", {"s2": 4})])
def test_leastconn_avoids_the_busy_server(bulwarkd, tmp_path, balance, expect):
    a, b_ = Backend(slow_paths={"/slow"}), Backend()
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, two_server_config(port, b_.port, a.port, "", balance))
    try:
        slow = subprocess.Popen(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", f"http://127.0.0.1:{port}/slow"])
        assert wait_for(lambda: len(a.requests) == 1)  # the slow request is at s1 (first in rotation)
        for _ in range(4):
            curl("-o", "/dev/null", f"http://127.0.0.1:{port}/quick")
        slow.wait(timeout=10)
        quick = [e[2] for e in b.log(5) if "/quick" in e[10]]
        assert {name: quick.count(name) for name in set(quick)} == expect
    finally:
        assert b.stop() == 0, b.errors[-30:]
        a.close()
        b_.close()


def test_source_sends_a_client_to_one_server(bulwarkd, tmp_path):
    a, b_ = Backend(), Backend()
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, two_server_config(port, b_.port, a.port, "", "source"))
    try:
        for _ in range(6):
            assert curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/").stdout == "200"
        assert len({e[2] for e in b.log(6)}) == 1
        assert sorted([len(a.requests), len(b_.requests)]) == [0, 6]
    finally:
        assert b.stop() == 0, b.errors[-30:]
        a.close()
        b_.close()
