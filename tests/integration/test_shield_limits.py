# SPDX-License-Identifier: Apache-2.0
"""Per-source limits in the lab (issue #13): bulwarkd on af_packet ports in mode stateful with 'limit src pps';
hping3 floods from a spoofed client address over the limit while a curl loop from the client's own address runs.
Exactly the flooding source is cut (limit_pps, then blocklisted once the control thread has applied its block),
every request of the curl loop succeeds, an allow-listed source flooding as hard passes whole, and the blocklist
entry appears and expires after 'limit src block'. Counters are deltas of SIGUSR1 blocks, as in test_shield.py,
whose helpers this module reuses (its own lab, bulwarkd and capture).

Run with Debian's python: /usr/bin/python3 -m pytest tests/integration/test_shield_limits.py
"""
import subprocess
import threading
import time

import pytest

from conftest import raised_lab, run
from test_shield import (PORTS, WAIT, Capture, Shield, Wire, barrier, delta, drops, marker, ns_run,
                         wait_until)

FLOOD = 3000      # frames per hping3 flood (at most 0.3 s at its interval of 100 us; bounded by -c)
CURLS = 20        # requests of the curl loop
BLOCK = 6         # seconds a source over its limit stays blocklisted (from about 0.03 s into its flood)
SPOOFED = "10.10.0.50"   # the flooding source: an address of the client's subnet nobody has
ALLOWED = "10.10.0.60"   # an allow-listed source, flooding as hard

# The curl loop sends at most ~600 frames a second (a process per request, ~6 frames each): under the rate.
# hping3 at 10 000 a second is far over it, and over its burst within 0.05 s.
LIMITS = """global
    nbthread 1
shield edge
{ports}    mode stateful
    flows 64k
    pickup 0s
    allow udp src {allowed}
    default allow
    limit src pps 1000 burst 300
    limit src block {block}s
    limit src table 4k
"""


@pytest.fixture(scope="module")
def lab():
    with raised_lab() as l:
        yield l


@pytest.fixture(scope="module")
def wire(lab):
    w = Wire(lab)
    yield w
    w.close()


@pytest.fixture(scope="module")
def capture(lab, tmp_path_factory):
    c = Capture(lab, tmp_path_factory.mktemp("capture") / "server.pcap")
    yield c
    c.stop()


@pytest.fixture(scope="module")
def shield(lab, bulwarkd, tmp_path_factory, capture, wire):
    ports = PORTS["af_packet"].format(out=lab.outside_if, inside=lab.inside_if)
    s = Shield(lab, bulwarkd, tmp_path_factory.mktemp("limits") / "limits.cfg",
               LIMITS.format(ports=ports, allowed=ALLOWED, block=BLOCK))
    yield s
    rc = s.stop()
    assert rc == 0, f"bulwarkd exited {rc}: {s.lines[-20:]} {s.errors[-20:]}"


@pytest.fixture(scope="module")
def web(lab, tmp_path_factory):
    """A web server in the server's namespace."""
    root = tmp_path_factory.mktemp("www")
    (root / "index.html").write_text("hello\n")
    srv = subprocess.Popen(["ip", "netns", "exec", lab.server, "/usr/bin/python3", "-m", "http.server", "8080",
                            "--bind", "10.10.0.2", "--directory", str(root)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: "10.10.0.2:8080" in ns_run(lab.server, "ss", "-Htln").stdout,
                   what="the web server to listen")
        yield "http://10.10.0.2:8080/index.html"
    finally:
        srv.terminate()
        srv.wait(timeout=WAIT)


def flood(lab, source, sign, count=FLOOD):
    """hping3: `count` UDP datagrams from `source` (spoofed), each carrying `sign`."""
    r = ns_run(lab.client, "hping3", "-q", "--udp", "-a", source, "-s", "41000", "-k", "-p", "5000",
               "-c", str(count), "-i", "u100", "-d", str(len(sign)), "-e", sign.decode(), "10.10.0.2", timeout=60)
    assert f"{count} packets tra" in r.stdout + r.stderr, r.stdout + r.stderr


def test_check_states_the_limits(bulwarkd, tmp_path):
    """-c says which limits a shield runs, and a stateless shield's flow limits are reported as ignored."""
    cfg = tmp_path / "c.cfg"
    head = "shield edge\n    eal -l 0-1 --no-pci\n    port outside o\n    port inside i\n"
    cfg.write_text(head + "    limit src pps 1000 burst 300\n    limit src concurrent-flows 8\n    limit src block 0s\n")
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("Configuration file is valid (0 frontends, 0 backends, shield 'edge' (mode stateful by default, "
                        "syn-guard off, limit src pps 1000 burst 300, limit src concurrent-flows 8 (drop only), 0 filter "
                        "rules); 0 warnings).\n")
    cfg.write_text(head + "    mode stateless\n    limit src new-flows 20/s\n")
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 0, r.stderr
    assert "shield 'edge' (mode stateless, 0 filter rules); 1 warning)" in r.stdout, r.stdout
    assert f"[WARNING] {cfg}:1: 'limit': 'edge' is in mode stateless" in r.stderr, r.stderr


def test_limits_banner(shield):
    started = "\n".join(shield.lines)
    assert f"limits per source from outside, pps 1000 burst 300; over a limit: blocklisted {BLOCK}s; 4096 sources " \
           "per lcore, " in started, started


def test_a_source_over_its_rate_is_cut_and_blocklisted_while_others_pass(shield, lab, wire, capture, web):
    ns_run(lab.client, "ping", "-c", "1", "-W", "2", "10.10.0.2")  # the server's MAC known: no frame waits for ARP
    before = shield.counters()
    assert before["blocklist entries"] == 0
    codes = []

    def curl_loop():
        for _ in range(CURLS):
            r = ns_run(lab.client, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", web)
            codes.append(r.stdout if r.returncode == 0 else f"curl {r.returncode}: {r.stderr}")

    loop = threading.Thread(target=curl_loop)
    loop.start()
    sign, allowed_sign = marker("limit"), marker("allowed")
    since = capture.mark()
    try:
        flood(lab, SPOOFED, sign)
        # right after its flood the source is on the blocklist (applied within 100 ms of its first frame over)
        wait_until(lambda: shield.counters()["blocklist entries"] == 1, what="the block to be applied")
        flood(lab, ALLOWED, allowed_sign)
    finally:
        loop.join(timeout=120)
    assert codes == ["200"] * CURLS  # the client's own address was never limited
    barrier(wire, capture)
    # every frame of the allow-listed flood reached the server; of the spoofed one, what was not dropped
    assert capture.wait(allowed_sign, FLOOD, since, wire.client_mac) == FLOOD

    def counted():
        d = delta(before, shield.counters())
        cut = d.get("drop outside limit_pps", 0) + d.get("drop outside blocklisted", 0)
        return d if cut + capture.count(sign, since, wire.client_mac) == FLOOD else None
    d = wait_until(counted, what="every frame of the spoofed flood to be passed or dropped")
    # only the two reasons of the source over its limit, both raised
    assert set(drops(d)) == {"drop outside limit_pps", "drop outside blocklisted"}, d
    assert d["drop outside limit_pps"] >= 1 and d["drop outside blocklisted"] >= 1, d
    assert capture.count(sign, since, wire.client_mac) >= 300  # its burst passed
    # asked once, applied once: one blocklist entry, for as long as 'limit src block'
    assert d["blocks asked"] == 1 and d["blocks applied"] == 1, d
    assert d.get("block ring full", 0) == 0 and d.get("blocks failed", 0) == 0, d
    assert shield.counters()["limits untracked"] == 0
    # the entry expires (the control thread expires TTLs every second), and the source may send again
    wait_until(lambda: shield.counters()["blocklist entries"] == 0, timeout=BLOCK + WAIT,
               what="the block to expire")
    again = marker("again")
    since = capture.mark()
    before = shield.counters()
    flood(lab, SPOOFED, again, count=10)
    assert capture.wait(again, 10, since, wire.client_mac) == 10
    assert drops(delta(before, shield.counters())) == {}
