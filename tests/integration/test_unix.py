# SPDX-License-Identifier: Apache-2.0
"""unix@ and abns@ binds and servers."""
import os
import re
import socket

import pytest

from conftest import run
from test_proxy import LOG_RE, Backend, Bulwarkd, SocketServer, free_port, wait_for

UNIX_LOG_RE = re.compile(LOG_RE.pattern.replace(r"^127\.0\.0\.1:\d+ ", r"^unix:1 "))


class UnixHTTPServer(SocketServer):
    """A keep-alive HTTP/1.1 server on a unix socket answering 'ok PATH'."""

    def handle(self, conn):
        data = b""
        with conn:
            while True:
                got = self.read_head(conn, data)
                if got is None:
                    return
                head, data = got
                self.requests.append(head.decode())
                body = ("ok " + head.split(b" ")[1].decode() + "\n").encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def site(bind, server, log=False):
    """A frontend on `bind` in front of one server at `server`."""
    opts = "    option httplog\n    option forwardfor\n" if log else ""
    return f"""
defaults
    mode http
{opts}    timeout client 5s
    timeout connect 2s
    timeout server 5s
frontend www
    bind {bind}
    default_backend app
backend app
    server s1 {server}
"""


def curl_unix(how, where, url):
    return run(["curl", "-sS", "--max-time", "10", how, where, url], timeout=20)


def test_unix_bind_and_unix_server(bulwarkd, tmp_path):
    fe_sock, be_sock = str(tmp_path / "fe.sock"), str(tmp_path / "be.sock")
    srv = UnixHTTPServer(be_sock)
    d = Bulwarkd(bulwarkd, tmp_path, site(f"unix@{fe_sock}", f"unix@{be_sock}", log=True))
    try:
        assert any(f"frontend 'www' on unix@{fe_sock}" in l for l in d.out)
        for path in ("/a", "/b"):
            r = curl_unix("--unix-socket", fe_sock, f"http://x{path}")
            assert r.stdout == f"ok {path}\n", r.stderr
        assert [h.split("\r\n")[0] for h in srv.requests] == ["GET /a HTTP/1.1", "GET /b HTTP/1.1"]
        assert all("X-Forwarded-For" not in h for h in srv.requests)  # a unix client has no address
        assert wait_for(lambda: len(d.log_lines()) == 2)
        lines = d.log_lines()
        parsed = [UNIX_LOG_RE.match(l) for l in lines]
        assert len(parsed) == 2 and all(parsed), lines
        assert [(m.group(2), m.group(3), m.group(8)) for m in parsed] == [("app", "s1", "200")] * 2
    finally:
        assert d.stop() == 0, d.errors[-30:]
        srv.close()


def test_a_stale_socket_file_is_replaced_but_no_other_file(bulwarkd, tmp_path):
    backend = Backend()
    path = tmp_path / "fe.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # a socket file nobody listens on: what a killed run leaves
    stale.close()
    cfg = site(f"unix@{path}", f"127.0.0.1:{backend.port}")
    d = Bulwarkd(bulwarkd, tmp_path, cfg)
    try:
        assert curl_unix("--unix-socket", str(path), "http://x/").stdout == "ok GET / 0\n"
    finally:
        assert d.stop() == 0, d.errors[-30:]
        backend.close()
    path.unlink()
    path.write_text("not a socket\n")
    (tmp_path / "again.cfg").write_text(cfg)
    r = run([bulwarkd, "-q", "-f", str(tmp_path / "again.cfg")], timeout=10)
    assert r.returncode == 1
    assert f"cannot bind unix@{path}: '{path}' exists and is not a socket: refusing to replace it" in r.stderr
    assert path.read_text() == "not a socket\n"


def test_a_live_socket_of_another_process_is_not_stolen(bulwarkd, tmp_path):
    path = tmp_path / "taken.sock"
    other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    other.bind(str(path))
    other.listen(1)
    try:
        (tmp_path / "c.cfg").write_text(site(f"unix@{path}", "127.0.0.1:9"))
        r = run([bulwarkd, "-q", "-f", str(tmp_path / "c.cfg")], timeout=10)
        assert r.returncode == 1
        assert (f"cannot bind unix@{path}: '{path}' is a live socket (another process listens there): "
                "refusing to replace it") in r.stderr
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(str(path))  # still the other process's socket
        c.close()
    finally:
        other.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_unix_bind_mode_user_and_group(bulwarkd, tmp_path):
    import grp
    import pwd
    import stat
    backend = Backend()
    a, b = tmp_path / "a.sock", tmp_path / "b.sock"
    cfg = site(f"unix@{a} mode 600 user nobody group nogroup", f"127.0.0.1:{backend.port}")
    cfg = cfg.replace("    default_backend app", f"    bind unix@{b} mode 0640 uid 12345 gid 23456\n"
                                                  "    default_backend app")
    d = Bulwarkd(bulwarkd, tmp_path, cfg)
    try:
        st = os.lstat(a)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        assert (st.st_uid, st.st_gid) == (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
        st = os.lstat(b)
        assert stat.S_IMODE(st.st_mode) == 0o640 and (st.st_uid, st.st_gid) == (12345, 23456)
        assert curl_unix("--unix-socket", str(a), "http://x/").stdout == "ok GET / 0\n"
    finally:
        assert d.stop() == 0, d.errors[-30:]
        backend.close()


def test_unix_bind_bad_mode_is_refused_with_its_line(bulwarkd, tmp_path):
    (tmp_path / "c.cfg").write_text(site(f"unix@{tmp_path}/x.sock mode 0999", "127.0.0.1:9"))
    r = run([bulwarkd, "-c", "-f", str(tmp_path / "c.cfg")], timeout=10)
    assert r.returncode == 1
    assert f"c.cfg:8: 'bind': invalid mode '0999', expected octal permission bits such as 660" in r.stderr


def test_abns_bind(bulwarkd, tmp_path):
    backend = Backend()
    name = f"bulwark-test-{os.getpid()}"
    d = Bulwarkd(bulwarkd, tmp_path, site(f"abns@{name}", f"127.0.0.1:{backend.port}"))
    try:
        assert curl_unix("--abstract-unix-socket", name, "http://x/abns").stdout == "ok GET /abns 0\n"
    finally:
        assert d.stop() == 0, d.errors[-30:]
        backend.close()


def test_ipv6_bind_and_source_in_logs_and_forwardfor(bulwarkd, tmp_path):
    backend = Backend()
    with socket.socket(socket.AF_INET6) as probe:
        probe.bind(("::1", 0))
        port = probe.getsockname()[1]
    d = Bulwarkd(bulwarkd, tmp_path, site(f"[::1]:{port}", f"127.0.0.1:{backend.port}", log=True))
    try:
        r = run(["curl", "-sS", "--max-time", "10", "-g", f"http://[::1]:{port}/six"], timeout=20)
        assert r.stdout == "ok GET /six 0\n", r.stderr
        assert backend.requests[0][2]["X-Forwarded-For"] == "::1"
        assert wait_for(lambda: len(d.log_lines()) == 1)  # written just after the response
        line, = d.log_lines()
        assert line.startswith("::1:") and ' 200 ' in line and '"GET /six HTTP/1.1"' in line
    finally:
        assert d.stop() == 0, d.errors[-30:]
        backend.close()
