# SPDX-License-Identifier: Apache-2.0
"""tools/lab builds DESIGN.md's topology and removes it; bulwarkd runs in it."""
import re
import signal
import subprocess
import sys
import textwrap

from conftest import LAB, TOP, Lab, lab_namespaces, new_prefix, run


def test_lab_topology(lab):
    assert lab_namespaces(lab.prefix) == sorted([lab.bw, lab.client, lab.server])
    addr = lab.ns_exec(lab.client, "ip", "-4", "-o", "addr", "show", "dev", lab.prefix + "c0").stdout
    assert "10.10.0.1/24" in addr
    addr = lab.ns_exec(lab.server, "ip", "-4", "-o", "addr", "show", "dev", lab.prefix + "s0").stdout
    assert "10.10.0.2/24" in addr
    links = lab.ns_exec(lab.bw, "ip", "-o", "link", "show").stdout
    assert lab.outside_if + "@" in links and lab.inside_if + "@" in links
    assert lab.cmd("status").returncode == 0


def test_offloads_are_off_on_every_end(lab):
    for ns, ifc in ((lab.client, lab.prefix + "c0"), (lab.server, lab.prefix + "s0"),
                    (lab.bw, lab.outside_if), (lab.bw, lab.inside_if)):
        feats = dict(l.split(": ", 1) for l in lab.ns_exec(ns, "ethtool", "-k", ifc).stdout.splitlines()[1:]
                     if ": " in l)
        for f in ("rx-checksumming", "tx-checksumming", "tcp-segmentation-offload",
                  "generic-segmentation-offload", "generic-receive-offload"):
            assert feats[f.strip()].startswith("off"), (ns, ifc, f, feats[f])


def test_client_and_server_are_not_wired_without_bulwark(lab):
    # the two sides meet only through bulwark's ports: nothing bridges them yet
    r = lab.ns_exec(lab.client, "ping", "-c", "1", "-W", "1", "10.10.0.2")
    assert r.returncode != 0


def test_up_twice_is_refused(lab):
    r = lab.cmd("up")
    assert r.returncode == 1
    assert f"a lab with prefix '{lab.prefix}' exists already" in r.stderr


def test_down_removes_a_partial_lab():
    l = Lab(new_prefix())
    run(["ip", "netns", "add", l.client], check=True)
    run(["ip", "link", "add", l.prefix + "c0", "type", "veth", "peer", "name", l.outside_if], check=True)
    assert l.cmd("status").returncode == 1
    assert l.cmd("down").returncode == 0
    assert lab_namespaces(l.prefix) == []
    assert run(["ip", "link", "show", l.outside_if]).returncode != 0


def test_bad_prefix_is_refused():
    r = run([str(LAB), "--prefix", "much-too-long", "up"])
    assert r.returncode == 2
    assert "must be 1-7 letters" in r.stderr


def test_a_failing_test_still_removes_its_lab(tmp_path):
    """Runs a pytest session whose test fails inside the lab fixture."""
    test = tmp_path / "test_fails.py"
    test.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TOP / 'tests' / 'integration')!r})
        from conftest import lab  # noqa: F401  the fixture under test
        def test_fails(lab):
            open({str(tmp_path / 'prefix')!r}, 'w').write(lab.prefix)
            assert False, "deliberate failure"
    """))
    r = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], timeout=120,
            cwd=str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "deliberate failure" in r.stdout
    prefix = (tmp_path / "prefix").read_text()
    assert lab_namespaces(prefix) == []


def test_bulwarkd_runs_the_default_in_the_lab_and_stops_on_sigterm(lab, bulwarkd):
    env = lab.env()
    assert env["BULWARK_OUTSIDE_IF"] == lab.outside_if
    p = subprocess.Popen([str(LAB), "--prefix", lab.prefix, "exec", "--", bulwarkd],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [p.stdout.readline() for _ in range(13)]  # bounded by the finally below
        assert lines[0].startswith("bulwarkd 0."), lines
        assert "loaded the embedded default configuration: 1 frontend, 1 backend, shield 'edge' (mode stateful, " \
               "syn-guard auto 500, host port bw0 10.10.0.100/24, 2 filter rules)" in lines[0]
        # the shield bridges the lab's two veth ends (net_pcap) on lcore 1
        assert lines[1].startswith(f"bulwarkd: shield edge: port outside net_pcap0 (DPDK port 0, driver net_pcap, "), lines
        assert lines[2].startswith(f"bulwarkd: shield edge: port inside net_pcap1 (DPDK port 1, driver net_pcap, "), lines
        # the host port: the TAP that carries the VIP to the proxy
        assert re.fullmatch(r"bulwarkd: shield edge: host port bw0 \(DPDK port 2, net_tap, MAC [0-9A-F:]{17}\), "
                            r"address 10\.10\.0\.100/24; punt ring of 1024 frames, MAC table of 4096 stations\n",
                            lines[3]), lines
        lines.pop(3)
        assert lines[3] == ("bulwarkd: shield edge: 2 filter rules (9 ACL rules), default allow, "
                            "0 blocklist entries\n")
        # the default tracks TCP (the demo's SYN flood meets the guard)
        assert lines[4] == ("bulwarkd: shield edge: flow table: 1048576 flows per lcore, 177 bytes per flow "
                            "(177 MiB in all), pickup window 30s\n")
        assert lines[5] == "bulwarkd: shield edge: syn guard: auto, on above 500 SYN/s of no flow per lcore\n"
        assert lines[6] == ("bulwarkd: shield edge: fragment table: 65536 trains per lcore, 72 bytes per train "
                            "(4608 KiB in all), a train lives 5s\n")
        assert lines[7] == ("bulwarkd: shield edge: event ring from the proxy: 4096 shield-block events between two "
                            "drains (100 ms)\n")
        assert lines[8] == ("bulwarkd: shield edge: 1 worker lcore (1), bursts of 32, mode stateful "
                            "(TCP, UDP and ICMP tracked)\n")
        assert lines[9] == "bulwarkd: proxy: frontend 'www' on 10.10.0.100:80 (1 thread)\n"
        assert re.fullmatch(r"bulwarkd: proxy: maxconn \d+\n", lines[10])
        assert lines[11] == "bulwarkd: running; SIGINT or SIGTERM stops it, SIGUSR1 prints the counters.\n"
        # the proxy really listens on the VIP inside the lab's namespace
        ss = lab.ns_exec(lab.bw, "ss", "-Htln", "src", "10.10.0.100:80").stdout
        assert "10.10.0.100:80" in ss
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        assert p.returncode == 0
        # then the counters: nothing came, nothing counted
        assert out.startswith("bulwarkd: Terminated received, exiting.\nbulwarkd: stats: frontend www: connections 0, "
                              "requests 0 ")
        assert "bulwarkd: stats: server servers/web1: requests 0 (1xx 0, 2xx 0, 3xx 0, 4xx 0, 5xx 0, " \
               "none 0), bytes out 0, connect errors 0, response errors 0\n" in out
        # and the shield's: no drop (the namespaces' own IPv6 chatter is valid), the ports counted
        # (the namespaces' IPv6 chatter is multicast: the host port gets it too, so a few frames may be punted)
        assert re.search(r"bulwarkd: stats: shield edge port outside: rx \d+, tx \d+, dropped 0, punted \d+\n", out), out
        assert re.search(r"bulwarkd: stats: shield edge port host: rx \d+, tx \d+, dropped 0, punted 0\n", out), out
        assert " drop " not in out
        assert out.endswith("bulwarkd: stats: shield edge blocklist: 0 entries\n")
        # its own interface names reached bulwarkd through the environment
        assert f"iface={lab.outside_if}" not in err  # no warning mentions them: the config loaded clean
        assert "[ALERT]" not in err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


def test_bulwarkd_does_not_read_stdin(lab, bulwarkd):
    # with stdin closed at once, bulwarkd must go on until signalled
    p = subprocess.Popen([str(LAB), "--prefix", lab.prefix, "exec", "--", bulwarkd, "-q"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:  # ends if bulwarkd exits
            if line.startswith("bulwarkd: running"):
                break
        assert p.poll() is None
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=10)
        assert p.returncode == 0
        assert out.startswith("bulwarkd: Interrupt received, exiting.\n")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
