# SPDX-License-Identifier: Apache-2.0
"""The joined appliance in the lab (issue #14): client -> shield -> host port (TAP) -> proxy -> bridge -> server.

bulwarkd runs in the lab's bw namespace with a shield on net_pcap ports (mode stateful), a host port `bw0` carrying
the VIP 10.10.0.100/24 and a `punt tcp dst 10.10.0.100 dport 80` rule, and a proxy frontend bound on the VIP whose
backend is the lab's server (10.10.0.2:8080) reached back through the bridge. The client namespace resolves the VIP
by ARP through the bridge, as it would on a real segment.

Shown here: the proxy's health check goes DOWN while nothing listens and UP once the server does (its probes cross
the bridge); a 3 MB download through the VIP arrives byte for byte; traffic to another address is still forwarded
inline; a frame to the VIP that no punt rule names never reaches the kernel (host_not_punted); a shellshock request
gets 403 and its source's next SYN is dropped at the packet layer (exactly one l7_block) while another source is
served; a source over its request rate gets 429s, then a shield-block that ends its flood at the packet layer.

Run with Debian's python: /usr/bin/python3 -m pytest tests/integration/test_host_port.py
"""
import os
import re
import subprocess

import pytest
from scapy.layers.inet import ICMP, TCP
from scapy.packet import Raw

from conftest import raised_lab
from test_shield import PORTS, WAIT, Shield, delta, drops, marker, ns_run, settled, wait_until
# the lab's wire, as the limits' tests set it up on this module's `lab`
from test_shield_limits import wire  # noqa: F401 (a pytest fixture)

VIP = "10.10.0.100"
VIP6, CLIENT6 = "2001:db8:10::100", "2001:db8:10::1"
SHELLSHOCK_SRC = "10.10.0.1"  # the client's own address
OTHER = "10.10.0.3"           # a second address of the client namespace: a source nobody blocked
FLOODER = "10.10.0.4"         # a third: the request flood's
RATE, BLOCK_AT = 20, 30       # 429 past RATE requests in 10 s; shield-block past BLOCK_AT
BLOB = 3 * 1024 * 1024

CONFIG = """global
    nbthread 1
defaults
    mode http
    timeout connect 3s
    timeout client 10s
    timeout server 10s
shield edge
{ports}    mode stateful
    flows 64k
    pickup 0s
    host-port bw0 address {vip}/24 {vip6}/64
    punt tcp dst {vip} dport 80
    punt tcp dst {vip6} dport 80
    default allow
frontend www
    bind {vip}:80
    bind [{vip6}]:80
    stick-table type ip size 1k expire 30s store http_req_rate(10s)
    http-request track-sc0 src
    http-request shield-block 60s if {{ req.hdrs -m reg '(?m)^[^:\\r\\n]+:[ \\t]*\\(\\s*\\)\\s*\\{{' }}
    http-request shield-block 60s if {{ sc_http_req_rate(0) gt {block_at} }}
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt {rate} }}
    default_backend servers
backend servers
    option httpchk GET /index.html
    server web1 10.10.0.2:8080 check inter 300ms fall 2 rise 2
"""


@pytest.fixture(scope="module")
def lab():
    with raised_lab() as l:
        for addr in (OTHER + "/24", CLIENT6 + "/64"):
            r = ns_run(l.client, "ip", "addr", "add", addr, "dev", l.prefix + "c0", "nodad")
            assert r.returncode == 0, r.stderr
        r = ns_run(l.client, "ip", "addr", "add", FLOODER + "/24", "dev", l.prefix + "c0")
        assert r.returncode == 0, r.stderr
        yield l


@pytest.fixture(scope="module")
def shield(lab, bulwarkd, tmp_path_factory):
    ports = PORTS["pcap"].format(out=lab.outside_if, inside=lab.inside_if)
    s = Shield(lab, bulwarkd, tmp_path_factory.mktemp("hostport") / "hostport.cfg",
               CONFIG.format(ports=ports, vip=VIP, vip6=VIP6, rate=RATE, block_at=BLOCK_AT))
    yield s
    rc = s.stop()
    assert rc == 0, f"bulwarkd exited {rc}: {s.lines[-20:]} {s.errors[-20:]}"


def check_lines(shield):
    return [l for l in shield.errors if "Server servers/web1 is" in l]


@pytest.fixture(scope="module")
def web(lab, shield, tmp_path_factory):
    """The lab's web server, started once the proxy's check has seen it absent; its document root."""
    wait_until(lambda: any("is DOWN" in l for l in check_lines(shield)), what="the check to see no server")
    root = tmp_path_factory.mktemp("www")
    (root / "index.html").write_text("hello\n")
    (root / "blob").write_bytes(os.urandom(BLOB))
    srv = subprocess.Popen(["ip", "netns", "exec", lab.server, "/usr/bin/python3", "-m", "http.server", "8080",
                            "--bind", "10.10.0.2", "--directory", str(root)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: any("is UP" in l for l in check_lines(shield)), what="the check to see the server")
        yield root
    finally:
        srv.terminate()
        srv.wait(timeout=WAIT)


def curl(lab, url, source=None, out="/dev/null", agent=None, timeout=10):
    """A request from the client namespace: 'CODE' or 'curl N' on failure."""
    args = ["curl", "-sS", "--max-time", str(timeout), "-o", str(out), "-w", "%{http_code}"]
    if source:
        args += ["--interface", source]
    if agent:
        args += ["-A", agent]
    r = ns_run(lab.client, *args, url, timeout=timeout + 10)
    return r.stdout if r.returncode == 0 else f"curl {r.returncode}"


def closed(lab, source):
    """No connection from `source` to the VIP is still open on the client's side (TIME-WAIT aside)."""
    out = ns_run(lab.client, "ss", "-Htna", "src", source, "dst", VIP).stdout
    return all(l.split()[0] == "TIME-WAIT" for l in out.splitlines() if l.strip())


def syn(wire, src, sign):
    return bytes(wire.net.ip(src=src, dst=VIP) / TCP(sport=42000, dport=80, flags="S", seq=7) / Raw(sign))


def test_banner_names_the_host_port(shield, lab):
    started = "\n".join(shield.lines)
    assert re.search(r"bulwarkd: shield edge: host port bw0 \(DPDK port \d+, net_tap, MAC [0-9A-F:]{17}\), addresses "
                     rf"{VIP}/24, {VIP6}/64; punt ring of 1024 frames, MAC table of 4096 stations", started), started
    addr = ns_run(lab.bw, "ip", "-br", "addr", "show", "bw0").stdout
    link = ns_run(lab.bw, "ip", "-o", "link", "show", "bw0").stdout
    assert f" {VIP}/24 " in addr and f" {VIP6}/64 " in addr, addr
    assert re.search(r"<[A-Z_,]*\bUP\b[A-Z_,]*>", link), link  # a TAP's operstate reads UNKNOWN: its flags say UP


def test_health_check_crosses_the_bridge(shield, web):
    lines = check_lines(shield)
    down = next(i for i, l in enumerate(lines) if "is DOWN" in l)
    up = next(i for i, l in enumerate(lines) if "is UP" in l)
    assert down < up, lines
    assert "reason: Layer7 check passed" in lines[up], lines


def test_a_download_through_the_vip_arrives_byte_for_byte(shield, lab, web, tmp_path):
    before = shield.counters()
    got = tmp_path / "blob"
    assert curl(lab, f"http://{VIP}/blob", out=got, timeout=60) == "200"
    assert got.read_bytes() == (web / "blob").read_bytes()
    d = settled(shield, before, {})
    assert drops(d) == {}, d
    # the client's segments went to the host port, the kernel's answers back out, the proxy's through inside
    assert d["port outside punted"] > 50, d                  # the client's ACKs (delayed and stretched: a few hundred)
    assert d["port host rx"] > BLOB // 1500, d               # the download, twice through the TAP (from the server,
    assert d["port host tx"] > BLOB // 1500, d               # then to the client)
    assert d["port inside punted"] > BLOB // 1500, d         # the server's segments to the proxy
    assert d["flows created"] >= 2, d                         # the client's and the proxy's to the server


def ip_counter(lab, name):
    """A counter of the bw namespace's kernel, from its /proc/net/snmp 'Ip:' lines."""
    rows = [l.split() for l in ns_run(lab.bw, "cat", "/proc/net/snmp").stdout.splitlines() if l.startswith("Ip:")]
    return int(rows[1][rows[0].index(name)])


def test_an_ipv6_vip_is_reached_through_neighbour_discovery(shield, lab, web):
    # the kernel runs duplicate address detection on the VIP (its solicitation crosses the bridge, unanswered)
    wait_until(lambda: "tentative" not in ns_run(lab.bw, "ip", "-6", "addr", "show", "dev", "bw0").stdout,
               what="the IPv6 VIP's duplicate address detection")
    before = shield.counters()
    assert curl(lab, f"http://[{VIP6}]/index.html") == "200"
    d = settled(shield, before, {})
    assert drops(d) == {}, d
    assert d["port outside punted"] >= 3, d  # the SYN, the request, the close at the least (ND maybe before)
    neigh = ns_run(lab.client, "ip", "-6", "neigh", "show", VIP6).stdout
    assert "lladdr" in neigh, neigh  # resolved through the bridge


def test_traffic_to_another_address_is_forwarded_inline(shield, lab, web):
    ns_run(lab.client, "ip", "neigh", "flush", "dev", lab.prefix + "c0")  # the client ARPs for the server again
    before = shield.counters()
    misrouted = ip_counter(lab, "InAddrErrors")
    assert curl(lab, "http://10.10.0.2:8080/index.html") == "200"
    d = settled(shield, before, {})
    assert drops(d) == {}, d
    assert d["port inside tx"] >= 5 and d["port outside tx"] >= 5, d  # the handshake, request, answer, close
    # the host got the broadcast ARP request for the server (any bridge port does), nothing of the connection:
    # a segment for 10.10.0.2 reaching its kernel would count as an address error there
    assert 1 <= d.get("port outside punted", 0) <= 2, d
    assert ip_counter(lab, "InAddrErrors") == misrouted


def test_a_frame_to_the_vip_no_punt_rule_names_never_reaches_the_kernel(shield, lab, wire, web):
    ns_run(lab.client, "ping", "-c", "1", "-W", "2", VIP)  # the VIP's MAC, learned by the client through ARP
    vip_mac = next(l.split()[4] for l in ns_run(lab.client, "ip", "neigh", "show", VIP).stdout.splitlines()
                   if "lladdr" in l)
    before = shield.counters()
    sign = marker("ping")
    frame = wire.net.ip(dst=VIP) / ICMP(type=8, id=77, seq=1) / Raw(sign)
    frame.dst = vip_mac
    wire.send(bytes(frame), 5)
    d = settled(shield, before, {"drop outside host_not_punted": 5})
    assert drops(d) == {"drop outside host_not_punted": 5}, d


def test_shellshock_blocks_its_source_at_the_packet_layer(shield, lab, wire, web):
    assert curl(lab, f"http://{VIP}/index.html", source=SHELLSHOCK_SRC) == "200"
    before = shield.counters()
    assert curl(lab, f"http://{VIP}/index.html", source=SHELLSHOCK_SRC, agent="() { :; }; /bin/eject") == "403"
    wait_until(lambda: closed(lab, SHELLSHOCK_SRC), what="the refused connection to close")
    d = wait_until(lambda: (lambda d: d if d.get("events applied") == 1 else None)(delta(before, shield.counters())),
                   what="the shield-block event to reach the blocklist")
    assert d.get("blocklist entries") == 1 and d.get("events posted") == 1, d
    # the next SYN from that source ends at the packet layer, exactly once; another source is served
    before = shield.counters()
    wire.send(syn(wire, SHELLSHOCK_SRC, marker("l7")))
    assert curl(lab, f"http://{VIP}/index.html", source=OTHER) == "200"
    d = settled(shield, before, {"drop outside l7_block": 1})
    assert drops(d) == {"drop outside l7_block": 1}, d


def test_a_request_flood_gets_429_then_ends_at_the_packet_layer(shield, lab, wire, web):
    start = shield.counters()
    codes = [curl(lab, f"http://{VIP}/index.html", source=FLOODER, timeout=2) for _ in range(BLOCK_AT + 1)]
    # RATE served, then 429 up to BLOCK_AT, then the shield-block's 403
    assert codes == ["200"] * RATE + ["429"] * (BLOCK_AT - RATE) + ["403"], codes
    # the control thread applies the event within 100 ms; from then on the source gets no answer at all
    wait_until(lambda: delta(start, shield.counters()).get("events applied") == 1, what="the flood's block")
    codes = [curl(lab, f"http://{VIP}/index.html", source=FLOODER, timeout=2) for _ in range(2)]
    assert codes == ["curl 28"] * 2, codes
    before = shield.counters()
    assert before["blocklist entries"] == 2, before  # the shellshock source's and the flooder's
    wire.send(syn(wire, FLOODER, marker("flood")))
    d = settled(shield, before, {"drop outside l7_block": 1})
    assert drops(d) == {"drop outside l7_block": 1}, d
    assert curl(lab, f"http://{VIP}/index.html", source=OTHER) == "200"
