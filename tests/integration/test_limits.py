# SPDX-License-Identifier: Apache-2.0
"""Connection limits on loopback: server maxconn with the backend queue and
'timeout queue', weights, and the frontend's maxconn."""
import socket
import threading
import time

import pytest

from test_proxy import Backend, Bulwarkd, backend, curl, free_port, proxy, wait_for  # noqa: F401 (fixtures)


def parallel(fn, count):
    """Runs fn(i) in `count` threads at once; returns their results in order."""
    out = [None] * count
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, fn(i))) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def test_server_maxconn_queues_requests_and_serves_them_all_in_turn(proxy, backend):
    backend.slow_paths = {"/slow"}  # 1 s each
    p = proxy(server_opts="maxconn 1", extra_be="    timeout queue 10s")
    results = parallel(lambda i: curl("-o", "/dev/null", "-w", "%{http_code}", p.url + "/slow").stdout, 3)
    assert results == ["200"] * 3
    assert backend.most_at_once == 1  # never more than maxconn at the server
    entries = p.log(3)
    assert sorted(e[7] for e in entries) == ["200"] * 3
    # Tw (queue time) is not logged as a group by LOG_RE: read it from the raw lines
    waits = sorted(int(l.split()[4].split("/")[1]) for l in p.log_lines())
    assert waits[0] < 500 and 800 <= waits[1] and 1800 <= waits[2]  # 0, ~1 s, ~2 s in line


def test_timeout_queue_answers_503_sQ(proxy, backend):
    backend.slow_paths = {"/slow"}
    p = proxy(server_opts="maxconn 1", extra_be="    timeout queue 300ms")
    first = threading.Thread(target=lambda: curl("-o", "/dev/null", p.url + "/slow"))
    first.start()
    assert wait_for(lambda: backend.in_progress == 1)
    start = time.time()
    r = curl("-o", "/dev/null", "-w", "%{http_code}", p.url + "/other")
    waited = time.time() - start
    first.join(timeout=10)
    assert r.stdout == "503"
    assert 0.3 <= waited < 0.9
    assert [path for _m, path, _h, _b in backend.requests] == ["/slow"]  # the queued one never reached it
    entries = p.log(2)
    refused = [l for l in p.log_lines() if " 503 " in l]
    assert len(refused) == 1
    assert " app/<NOSRV> " in refused[0] and " sQ-- " in refused[0]
    assert int(refused[0].split()[4].split("/")[1]) >= 300  # Tw: the time in line
    assert sorted(e[7] for e in entries) == ["200", "503"]


def test_weights_share_round_robin(bulwarkd, tmp_path):
    heavy, light, never = Backend(), Backend(), Backend()
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, f"""
global
    nbthread 1
defaults
    mode http
    timeout client 5s
    timeout connect 1s
    timeout server 3s
frontend www
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server heavy 127.0.0.1:{heavy.port} weight 3
    server light 127.0.0.1:{light.port} weight 1
    server never 127.0.0.1:{never.port} weight 0
""")
    try:
        for _ in range(8):
            assert curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/").stdout == "200"
        assert (len(heavy.requests), len(light.requests), len(never.requests)) == (6, 2, 0)
    finally:
        assert b.stop() == 0, b.errors[-30:]
        for s in (heavy, light, never):
            s.close()


def test_frontend_maxconn_holds_new_connections_until_one_closes(proxy, backend):
    p = proxy(extra_fe="    maxconn 1")
    request = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
    with socket.create_connection(("127.0.0.1", p.port), timeout=5) as first:
        first.sendall(request)
        assert first.recv(65536).startswith(b"HTTP/1.1 200")  # kept alive: it holds the one slot
        with socket.create_connection(("127.0.0.1", p.port), timeout=5) as second:  # the kernel's backlog takes it
            second.sendall(request)
            second.settimeout(0.5)
            with pytest.raises(socket.timeout):
                second.recv(65536)  # not accepted while the first is open
            first.close()
            second.settimeout(5)
            assert second.recv(65536).startswith(b"HTTP/1.1 200")
    assert [path for _m, path, _h, _b in backend.requests] == ["/x", "/x"]


def test_banner_says_the_maxconn_in_force(proxy):
    p = proxy()
    assert any(l.startswith("bulwarkd: proxy: maxconn ") and int(l.split()[-1]) > 100 for l in p.out)


def test_counters_on_sigusr1_and_at_exit_add_up(proxy, backend):
    import signal
    from test_proxy import parse_stats, raw
    p = proxy(server_opts="maxconn 1", extra_be="    timeout queue 300ms")
    assert curl("-o", "/dev/null", p.url + "/a").returncode == 0             # 200
    assert raw(p.port, b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n").startswith(b"HTTP/1.1 400")
    backend.slow_paths = {"/slow"}
    first = threading.Thread(target=lambda: curl("-o", "/dev/null", p.url + "/slow"))
    first.start()
    assert wait_for(lambda: backend.in_progress == 1)
    assert curl("-o", "/dev/null", "-w", "%{http_code}", p.url + "/q").stdout == "503"  # queue timeout
    first.join(timeout=10)
    p.log(4)
    p.proc.send_signal(signal.SIGUSR1)
    assert wait_for(lambda: any(l.startswith("bulwarkd: stats: server") for l in p.lines))
    st = parse_stats(p.lines)
    assert st[("frontend", "www")] == {"connections": 4, "requests": 4, "1xx": 0, "2xx": 2, "3xx": 0, "4xx": 1,
                                       "5xx": 1, "none": 0, "bytes out": st[("frontend", "www")]["bytes out"],
                                       "request errors": 1, "denied connections": 0, "denied requests": 0, "denied responses": 0}
    assert {k: v for k, v in st[("backend", "app")].items() if k != "bytes out"} == {
        "requests": 3, "1xx": 0, "2xx": 2, "3xx": 0, "4xx": 0, "5xx": 1, "none": 0, "connect errors": 0,
        "response errors": 0, "queue timeouts": 1, "no server": 0}
    assert (st[("server", "app/s1")]["requests"], st[("server", "app/s1")]["2xx"]) == (2, 2)
    # the bytes the frontend sent are those the log lines count
    assert st[("frontend", "www")]["bytes out"] == sum(int(e[8]) for e in p.log(4))
    assert p.stop() == 0, p.errors[-30:]
    assert parse_stats(p.lines) == st  # at exit: nothing moved since
