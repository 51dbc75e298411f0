# SPDX-License-Identifier: Apache-2.0
"""Upgraded connections (101 Switching Protocols) become tunnels, bounded by
'timeout tunnel', as in HAProxy; and mode tcp, which relays a connection the
same way from its start."""
import re
import socket
import time

import pytest

from test_proxy import Bulwarkd, SocketServer, free_port


class EchoUpgradeServer(SocketServer):
    """Answers any request with 101 (or with `answer`), then echoes the
    bytes it gets back upper-cased, and closes when its peer does."""

    def __init__(self, answer=b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n",
                 linger=False, half_close=False):
        self.answer = answer
        self.linger = linger          # at its peer's end, stay open and silent
        self.half_close = half_close  # close its own half right after the 101, keep reading
        super().__init__()

    def handle(self, conn):
        with conn:
            got = self.read_head(conn)
            if got is None:
                return
            head, rest = got
            self.requests.append(head.decode())
            conn.sendall(self.answer + b"welcome\n")  # first bytes of the new protocol, with the 101
            if self.half_close:
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(4096):
                    pass
                return
            if rest:
                conn.sendall(rest.upper())
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    if self.linger:
                        time.sleep(30)  # bounded: the test ends long before
                    return
                conn.sendall(chunk.upper())


@pytest.fixture
def tunnel_proxy(bulwarkd, tmp_path):
    made = []

    def start(tunnel_timeout=None, answer=None, extra="", fe_extra="", **server):
        srv = EchoUpgradeServer(answer, **server) if answer else EchoUpgradeServer(**server)
        port = free_port()
        extra += f"    timeout tunnel {tunnel_timeout}\n" if tunnel_timeout else ""
        d = Bulwarkd(bulwarkd, tmp_path, f"""
defaults
    mode http
    option httplog
    option http-server-close
    timeout client 5s
    timeout connect 2s
    timeout server 5s
frontend www
    bind 127.0.0.1:{port}
{fe_extra}    default_backend app
backend app
{extra}    server s1 127.0.0.1:{srv.port}
""")
        d.port = port
        made.append((d, srv))
        return d, srv

    yield start
    for d, srv in made:
        assert d.stop() == 0, d.errors[-30:]
        srv.close()


UPGRADE = b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\n"


def recv_until(s, marker):
    data = b""
    while marker not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_upgrade_becomes_a_tunnel_both_ways_until_both_close(tunnel_proxy):
    d, srv = tunnel_proxy()
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(UPGRADE + b"early\n")  # bytes right behind the request go through too
        got = recv_until(s, b"EARLY\n")
        assert got.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        assert b"\r\nConnection: Upgrade\r\n" in got and b"\r\nUpgrade: shout\r\n" in got
        assert got.endswith(b"\r\n\r\nwelcome\nEARLY\n")
        s.sendall(b"hello\n")
        assert recv_until(s, b"HELLO\n") == b"HELLO\n"
        s.shutdown(socket.SHUT_WR)  # the server sees the end, closes, and so do we
        assert s.recv(4096) == b""
    # the upgrade request reached the server as sent: http-server-close did not add 'close'
    assert "Connection: Upgrade" in srv.requests[0] and "close" not in srv.requests[0].lower()
    (fe, be, sv, _tr, _tc, _tres, _ta, status, size, term, line), = d.log(1)
    assert (be, sv, status, term, line) == ("app", "s1", "101", "----", "GET /chat HTTP/1.1")


def test_timeout_tunnel_ends_an_idle_tunnel(tunnel_proxy):
    d, _srv = tunnel_proxy(tunnel_timeout="300ms")
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(UPGRADE)
        assert recv_until(s, b"welcome\n").endswith(b"welcome\n")
        start = time.time()
        s.sendall(b"ping\n")  # traffic pushes the deadline back
        assert recv_until(s, b"PING\n") == b"PING\n"
        assert recv_until(s, b"never") == b""  # then, idle: closed
        idle = time.time() - start
    assert 0.3 <= idle < 1.5  # timeout tunnel 300ms, not timeout client 5s
    (_fe, _be, _sv, *_t, status, _size, term, _line), = d.log(1)
    assert (status, term) == ("101", "cD--")


def test_101_to_a_request_that_did_not_ask_is_a_502(tunnel_proxy):
    d, _srv = tunnel_proxy()
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert recv_until(s, b"</html>\n").startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    (_fe, _be, _sv, *_t, status, _size, term, _line), = d.log(1)
    assert (status, term) == ("502", "SH--")


def test_client_fin_bounds_a_tunnel_the_client_half_closed(tunnel_proxy):
    d, _srv = tunnel_proxy(tunnel_timeout="10s", fe_extra="    timeout client-fin 300ms\n", linger=True)
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(UPGRADE)
        assert recv_until(s, b"welcome\n").endswith(b"welcome\n")
        s.sendall(b"bye\n")
        assert recv_until(s, b"BYE\n") == b"BYE\n"
        start = time.time()
        s.shutdown(socket.SHUT_WR)  # our half closes; the server stays, silent
        assert s.recv(4096) == b""
        waited = time.time() - start
    assert 0.3 <= waited < 2  # client-fin, not the 10 s tunnel timeout
    (_fe, _be, _sv, *_t, status, _size, term, _line), = d.log(1)
    assert (status, term) == ("101", "cD--")


def test_server_fin_bounds_a_tunnel_the_server_half_closed(tunnel_proxy):
    d, _srv = tunnel_proxy(tunnel_timeout="10s", extra="    timeout server-fin 300ms\n", half_close=True)
    with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
        s.sendall(UPGRADE)
        got = recv_until(s, b"never")  # the 101, welcome, then the server's end passed on
        start = time.time()
        assert got.endswith(b"welcome\n")
        # we stay open and silent: the tunnel ends on server-fin, and logs
        (_fe, _be, _sv, *_t, status, _size, term, _line), = d.log(1)
        waited = time.time() - start
    assert (status, term) == ("101", "sD--")
    assert waited < 2  # server-fin 300 ms, not the 10 s tunnel timeout


class CloseDelimitedServer(SocketServer):
    """Answers with HTTP/1.0, no Content-Length: the body ends when it closes."""

    def handle(self, conn):
        with conn:
            got = self.read_head(conn)
            if got is None:
                return
            self.requests.append(got[0])
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"z" * 50000)


def test_a_body_ended_by_the_server_closing_arrives_whole(bulwarkd, tmp_path):
    srv = CloseDelimitedServer()
    port = free_port()
    d = Bulwarkd(bulwarkd, tmp_path, f"""
defaults
    mode http
    option httplog
    timeout client 5s
    timeout connect 2s
    timeout server 5s
frontend www
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 127.0.0.1:{srv.port}
""")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")  # the client asks for keep-alive
            got = recv_until(s, b"never")  # the proxy must close: nothing else delimits the body
        head, body = got.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nConnection: close" in head
        assert body == b"z" * 50000
        (_fe, _be, _sv, *_t, status, size, term, _line), = d.log(1)
        assert (status, term) == ("200", "----")
        assert int(size) == len(got)  # header and body, as HAProxy counts
    finally:
        assert d.stop() == 0, d.errors[-30:]
        srv.close()


class ShoutServer(SocketServer):
    """Echoes what it gets upper-cased; closes when its peer does."""

    def handle(self, conn):
        with conn:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                conn.sendall(chunk.upper())


TCPLOG = re.compile(r"^127\.0\.0\.1:\d+ \[[^\]]+\] (\S+) (\S+)/(\S+) (-?\d+)/(-?\d+)/(\d+) (\d+) (\S\S) "
                    r"\d+/\d+/0/0/\+?\d+ 0/0$")


def tcp_site(port, server_port, extra=""):
    return f"""
defaults
    mode tcp
    option tcplog
    timeout client 5s
    timeout connect 2s
    timeout server 5s
frontend relay
    bind 127.0.0.1:{port}
{extra}    default_backend app
backend app
    server s1 127.0.0.1:{server_port}
"""


def test_mode_tcp_relays_bytes_both_ways_and_logs_tcplog(bulwarkd, tmp_path):
    srv = ShoutServer()
    port = free_port()
    d = Bulwarkd(bulwarkd, tmp_path, tcp_site(port, srv.port))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"not http at all\n")
            assert recv_until(s, b"ALL\n") == b"NOT HTTP AT ALL\n"
            s.sendall(b"again\n")
            assert recv_until(s, b"AGAIN\n") == b"AGAIN\n"
            s.shutdown(socket.SHUT_WR)
            assert s.recv(4096) == b""
        (fe, be, sv, tw, tc, _tt, size, term), = d.log(1, pattern=TCPLOG)
        assert (fe, be, sv, tw, term, size) == ("relay", "app", "s1", "0", "--", "22")
        assert int(tc) >= 0
    finally:
        assert d.stop() == 0, d.errors[-30:]
        srv.close()


def test_mode_tcp_idle_client_times_out(bulwarkd, tmp_path):
    srv = ShoutServer()
    port = free_port()
    d = Bulwarkd(bulwarkd, tmp_path, tcp_site(port, srv.port).replace("timeout client 5s", "timeout client 300ms")
                 .replace("timeout server 5s", "timeout server 10s"))
    try:
        start = time.monotonic()  # before connecting: the proxy's clock starts at its accept, after this
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert s.recv(4096) == b""  # nothing sent, nothing received: closed at timeout client
            assert 0.3 <= time.monotonic() - start < 2
        (*_x, term), = d.log(1, pattern=TCPLOG)
        assert term == "cD"
    finally:
        assert d.stop() == 0, d.errors[-30:]
        srv.close()


def test_mode_tcp_with_no_server_listening_closes_with_SC(bulwarkd, tmp_path):
    port = free_port()
    d = Bulwarkd(bulwarkd, tmp_path, tcp_site(port, free_port()))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert s.recv(4096) == b""
        (_fe, _be, sv, _tw, tc, _tt, size, term), = d.log(1, pattern=TCPLOG)
        assert (sv, tc, size, term) == ("s1", "-1", "0", "SC")
    finally:
        assert d.stop() == 0, d.errors[-30:]
