# SPDX-License-Identifier: Apache-2.0
"""slowhttptest against the seed's slow POST frontend (issue #3).

The backend serves one request at a time, so a single slow POST that
reaches it shuts everyone out; through bulwark, every slow connection ends
in 408 at 'timeout http-request' (10 s, as the seed says) without a byte
reaching the backend, and a legitimate client posting every 100 ms gets 200
every time. Each attack is bounded: slowhttptest -l, a fixed connection
count, and kill on teardown.
"""
import http.server
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import SEEDS
from test_proxy import LOG_RE, Bulwarkd, free_port, parse_stats

SLOW_CONNECTIONS = 200
TIMEOUT_MS = 10_000  # the seed's 'timeout http-request 10s'


class SingleWorkerBackend:
    """One request at a time, like a server whose worker pool is exhausted."""

    def __init__(self):
        self.paths = []
        self.connections = 0
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                backend.connections += 1
                super().setup()

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                backend.paths.append(self.path)
                out = b"ok %d\n" % len(body)
                self.send_response(200)
                self.send_header("Content-Length", str(len(out)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(out)

        self.port = free_port()
        self.httpd = http.server.HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def seed_config(fe_port, be_port):
    """The seed file as stored, on this test's ports, with a log line per request."""
    text = (SEEDS / "slow-post.cfg").read_text()
    text = text.replace("127.0.0.1:8080", f"127.0.0.1:{fe_port}").replace("127.0.0.1:8081", f"127.0.0.1:{be_port}")
    return text.replace("defaults\n    mode http\n", "defaults\n    mode http\n    option httplog\n")


def legit_post(port, timeout=2.0):
    """One POST on a fresh connection; returns the status, or None on failure."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"POST /legit HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None


class LegitClient(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.results = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.results.append(legit_post(self.port))
            self.stop.wait(0.1)


@pytest.fixture
def backend():
    b = SingleWorkerBackend()
    yield b
    b.close()


def test_backend_alone_is_exhausted_by_one_slow_post(backend):
    with socket.create_connection(("127.0.0.1", backend.port), timeout=5) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        assert legit_post(backend.port, timeout=1.0) is None  # the control: direct access starves


@pytest.mark.parametrize("mode,term", [("-B", "cD--"), ("-H", "cR--")], ids=["slow-post", "slowloris"])
def test_slowhttptest_through_the_seed_frontend(bulwarkd, tmp_path, backend, mode, term):
    port = free_port()
    proxy = Bulwarkd(bulwarkd, tmp_path, seed_config(port, backend.port))
    legit = LegitClient(port)
    attack = None
    try:
        legit.start()
        attack = subprocess.Popen(
            ["slowhttptest", mode, "-c", str(SLOW_CONNECTIONS), "-r", str(SLOW_CONNECTIONS), "-i", "2", "-s", "8192",
             "-l", "13", "-p", "2", "-u", f"http://127.0.0.1:{port}/"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        report, _ = attack.communicate(timeout=60)
        # every slow connection has ended by now (10 s after its first byte)
        deadline = time.time() + 5
        while time.time() < deadline:
            slow = [l for l in proxy.lines if '"/legit' not in l and " 408 " in l]
            if len(slow) >= SLOW_CONNECTIONS:
                break
            time.sleep(0.05)
        legit.stop.set()
        legit.join(timeout=5)
    finally:
        if attack and attack.poll() is None:
            attack.kill()
            attack.wait()
        legit.stop.set()
        assert proxy.stop() == 0

    assert "bulwarkd: Terminated received, exiting." in proxy.lines
    entries = [LOG_RE.match(l).groups() for l in proxy.log_lines()]
    slow = [e for e in entries if e[7] == "408"]
    legit_entries = [e for e in entries if e[10].startswith("POST /legit")]
    # slowhttptest's own availability probes: complete "GET /" requests, served
    probes = [e for e in entries if e[10] == "GET / HTTP/1.1" and e[7] != "408"]
    assert len(slow) + len(legit_entries) + len(probes) == len(entries)
    # every slow connection ended in 408 with the client-timeout flag, at 10 s (+0.6 s slack)
    assert len(slow) == SLOW_CONNECTIONS, report
    assert {e[9] for e in slow} == {term}
    assert all(TIMEOUT_MS <= int(e[6]) <= TIMEOUT_MS + 600 for e in slow), sorted(int(e[6]) for e in slow)[-5:]
    # the backend saw only the complete requests: not one slow connection
    assert set(backend.paths) <= {"/legit", "/"}
    assert backend.connections == len(legit_entries) + len(probes)
    assert backend.paths.count("/legit") == len(legit_entries)
    # the legitimate client got 200 every time, about every 100 ms for the whole attack
    assert len(legit.results) >= 60
    assert set(legit.results) == {200}
    assert {e[7] for e in legit_entries} == {"200"}
    # the counters printed at exit say the same
    (fe, fe_counts), = [(k, v) for k, v in parse_stats(proxy.lines).items() if k[0] == "frontend"]
    assert (fe_counts["requests"], fe_counts["4xx"], fe_counts["2xx"]) == (
        len(entries), SLOW_CONNECTIONS, sum(e[7] == "200" for e in entries))
    assert fe_counts["request errors"] == sum(e[9][0] in "CcP" for e in entries)
