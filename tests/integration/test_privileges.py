"""bulwarkd drops root once its listeners are bound: global user, group and chroot (HAProxy's order)."""

import os
import pwd
import grp

import pytest

from conftest import run
from test_proxy import Backend, Bulwarkd, backend, curl, free_port  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs bulwarkd started as root")

NOBODY = pwd.getpwnam("nobody").pw_uid
NOGROUP = grp.getgrnam("nogroup").gr_gid


def ids(pid):
    """Every thread's (real, effective, saved, fs) uids and gids and its supplementary groups."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            fields = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
        out[tid] = (fields["Uid"].split(), fields["Gid"].split(), fields["Groups"].split())
    return out


def proxy_config(port, be_port, global_lines):
    return f"""
global
    nbthread 2
{global_lines}
defaults
    mode http
    timeout client 5s
    timeout connect 2s
    timeout server 3s
frontend www
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 127.0.0.1:{be_port}
"""


def test_user_group_and_chroot_apply_to_every_thread_before_serving(bulwarkd, tmp_path, backend):
    root = tmp_path / "jail"
    root.mkdir()
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, proxy_config(port, backend.port,
                                                  f"    user nobody\n    group nogroup\n    chroot {root}"))
    try:
        banner = [l for l in b.out if l.startswith("bulwarkd: privileges dropped")]
        assert banner == [f"bulwarkd: privileges dropped: uid {NOBODY} (nobody), gid {NOGROUP} (nogroup), "
                          f"chrooted to {root}\n"], b.out
        r = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/")
        assert r.stdout == "200", r.stderr
        threads = ids(b.proc.pid)
        assert len(threads) >= 3  # main and two proxy threads
        for tid, (uids, gids, groups) in threads.items():
            assert uids == [str(NOBODY)] * 4, (tid, uids)
            assert gids == [str(NOGROUP)] * 4, (tid, gids)
            assert groups == [str(NOGROUP)], (tid, groups)
        assert os.readlink(f"/proc/{b.proc.pid}/root") == str(root)
    finally:
        assert b.stop() == 0, b.errors[-20:]


def test_user_alone_takes_the_users_group(bulwarkd, tmp_path, backend):
    port = free_port()
    b = Bulwarkd(bulwarkd, tmp_path, proxy_config(port, backend.port, "    user nobody"))
    try:
        r = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/")
        assert r.stdout == "200", r.stderr
        gid = str(pwd.getpwnam("nobody").pw_gid)
        for tid, (uids, gids, groups) in ids(b.proc.pid).items():
            assert uids == [str(NOBODY)] * 4 and gids == [gid] * 4 and groups == [gid], tid
    finally:
        assert b.stop() == 0, b.errors[-20:]


def test_a_bind_under_1024_still_works_as_nobody(bulwarkd, tmp_path, backend):
    """The listener is bound as root, before the drop: a low port needs no capability afterwards."""
    port = 1000 + (os.getpid() % 20)  # 1000..1019, unlikely to be taken on loopback
    if run(["ss", "-Hltn", f"sport = :{port}"]).stdout.strip():
        pytest.skip(f"port {port} is taken")
    b = Bulwarkd(bulwarkd, tmp_path, proxy_config(port, backend.port, "    user nobody"))
    try:
        r = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/")
        assert r.stdout == "200", r.stderr
    finally:
        assert b.stop() == 0, b.errors[-20:]


def test_chroot_to_a_missing_directory_is_refused_at_load(bulwarkd, tmp_path):
    cfg = tmp_path / "c.cfg"
    cfg.write_text(proxy_config(free_port(), 9, f"    chroot {tmp_path}/missing"))
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 1
    assert f"{cfg}:4: 'chroot': chroot '{tmp_path}/missing' is not a directory" in r.stderr


def test_an_eal_plugin_is_refused_with_its_line(bulwarkd, tmp_path):
    cfg = tmp_path / "s.cfg"
    cfg.write_text("shield edge\n    eal -l 0 --no-pci -d /tmp/evil.so\n    port outside p0\n    port inside p1\n")
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 1
    assert f"{cfg}:2: 'eal': EAL option '-d' is not allowed" in r.stderr
