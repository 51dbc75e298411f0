# SPDX-License-Identifier: Apache-2.0
"""Logs never block (issue #12): a log sink nobody reads (stdout's pipe, a
unix datagram socket) drops lines and counts them, and the requests go on
at the rate they have with a drained sink; a UDP syslog server receives
HAProxy's RFC 3164 line. Bounded loops, loopback only."""
import http.client
import re
import signal
import socket
import subprocess
import threading
import time

from conftest import run  # noqa: F401 (the bulwarkd fixture's module)
from test_proxy import Bulwarkd, free_port

REQUESTS = 3000  # per measured run: bounded in count (and each by the client's timeout)
STAT_LOG = re.compile(r"^bulwarkd: stats: log (\S+): sent (\d+), dropped (\d+)$")


def config(port, log_line=""):
    """A frontend answering by itself (no backend), so the log is most of what varies."""
    return f"""
global
    nbthread 1
{log_line}
defaults
    mode http
    option httplog
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend www
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
"""


def rate(port, n=REQUESTS):
    """Requests a second over one keep-alive connection; every answer must be a 200."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    start = time.perf_counter()
    for _ in range(n):
        c.request("GET", "/")
        r = c.getresponse()
        assert r.status == 200
        r.read()
    elapsed = time.perf_counter() - start
    c.close()
    return n / elapsed


def log_counters(lines, where):
    for l in reversed(lines):
        m = STAT_LOG.match(l)
        if m and m.group(1) == where:
            return int(m.group(2)), int(m.group(3))
    return None


def wait_counters(d, where):
    d.proc.send_signal(signal.SIGUSR1)
    deadline = time.time() + 5
    while time.time() < deadline and log_counters(d.lines, where) is None:
        time.sleep(0.02)
    return log_counters(d.lines, where)


def dgram_sink(path, drained):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    stop = threading.Event()
    if drained:
        s.settimeout(0.1)

        def drain():
            while not stop.is_set():
                try:
                    s.recv(65536)
                except OSError:
                    pass
        threading.Thread(target=drain, daemon=True).start()
    return s, stop


def test_a_unix_dgram_sink_nobody_reads_drops_lines_and_never_slows_requests(bulwarkd, tmp_path):
    rates, counts = {}, {}
    for drained in (True, False):
        sock = tmp_path / f"log-{drained}.sock"
        s, stop = dgram_sink(sock, drained)
        port = free_port()
        d = Bulwarkd(bulwarkd, tmp_path, config(port, f"    log {sock} local0"))
        try:
            rate(port, 200)  # warm up
            rates[drained] = rate(port)
            counts[drained] = wait_counters(d, str(sock))
        finally:
            assert d.stop() == 0, d.errors[-20:]
            stop.set()
            s.close()
    ratio = rates[False] / rates[True]
    print(f"unix dgram sink: drained {rates[True]:.0f} req/s, never read {rates[False]:.0f} req/s, ratio {ratio:.2f}")
    sent, dropped = counts[False]
    assert sent + dropped == REQUESTS + 200
    assert dropped > 0  # the socket's queue (net.unix.max_dgram_qlen) took a few, then it was full
    assert counts[True][0] > 0
    assert ratio >= 0.5


def test_a_stdout_pipe_nobody_reads_drops_lines_and_never_slows_requests(bulwarkd, tmp_path):
    port = free_port()
    drained_d = Bulwarkd(bulwarkd, tmp_path, config(port))
    try:
        rate(port, 200)
        drained = rate(port)
    finally:
        assert drained_d.stop() == 0
    # stdout a pipe read up to "running", then never again while we measure
    port = free_port()
    cfg = tmp_path / "stuck.cfg"
    cfg.write_text(config(port))
    p = subprocess.Popen([bulwarkd, "-q", "-f", str(cfg)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    out = []
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not (out and out[-1].startswith("bulwarkd: running")):
            out.append(p.stdout.readline())
        rate(port, 200)
        stuck = rate(port)  # 3000 lines of ~100 bytes: far more than the pipe's 64 kB
        reader = threading.Thread(target=lambda: out.extend(p.stdout), daemon=True)
        reader.start()  # now drain it, and ask for the counters
        p.send_signal(signal.SIGUSR1)
        deadline = time.time() + 5
        while time.time() < deadline and log_counters(list(out), "stdout") is None:
            time.sleep(0.02)
        counts = log_counters(list(out), "stdout")
    finally:
        p.terminate()
        p.wait(timeout=10)
    ratio = stuck / drained
    print(f"stdout pipe: drained {drained:.0f} req/s, never read {stuck:.0f} req/s, ratio {ratio:.2f}, {counts}")
    assert counts is not None
    sent, dropped = counts
    assert sent + dropped == REQUESTS + 200
    assert dropped > 0
    assert ratio >= 0.5


def test_a_udp_syslog_server_receives_an_rfc3164_line(bulwarkd, tmp_path):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(5)
    port = free_port()
    d = Bulwarkd(bulwarkd, tmp_path, config(port, f"    log 127.0.0.1:{rx.getsockname()[1]} local0 info"))
    try:
        assert rate(port, 1) > 0
        msg = rx.recv(65536).decode()
    finally:
        assert d.stop() == 0
        rx.close()
    # <local0.info>Mmm dd hh:mm:ss bulwarkd[pid]: HAProxy's httplog line (no newline in a datagram)
    assert re.match(r'^<134>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d bulwarkd\[\d+\]: 127\.0\.0\.1:\d+ '
                    r'\[[^\]]+\] www www/<NOSRV> \S+ 200 \d+ - - \S{4} .*"GET / HTTP/1\.1"$', msg), msg
