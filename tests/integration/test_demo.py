# SPDX-License-Identifier: Apache-2.0
"""The show of ci/demo.sh (tools/show.py, issue #14) in its short mode: it runs
against bulwarkd on the embedded default config in a lab of its own, every
act is named in the summary, every packet-layer attack is dropped by the
shield, no legit request fails, and the exit status says so."""
import re
import sys

from conftest import TOP, run

ACTS = ["SYN flood (spoofed)", "malformed packets", "UDP reflection", "slow POST", "HTTP flood (1 source)",
        "shellshock/cdorked"]


def summary_rows(out):
    """{act: (sent, legit ok, legit failed, what was dropped)} from the summary table."""
    rows = {}
    for line in out[out.index("\nact "):].splitlines():
        m = re.match(r"(.{22}) +(\d+) +(\d+)/(\d+) +[\d.]+ +[\d.]+  (.*)$", line)
        if m:
            rows[m[1].strip()] = (int(m[2]), int(m[3]), int(m[4]), m[5])
    return rows


def test_quick_show_drops_every_attack_and_serves_the_legit_client(lab, bulwarkd):
    r = run([sys.executable, str(TOP / "tools" / "show.py"), "--bulwarkd", bulwarkd, "--prefix", lab.prefix,
             "--quick"], timeout=170)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = summary_rows(r.stdout)
    assert list(rows) == ACTS, r.stdout
    for act, (sent, ok, failed, _) in rows.items():
        assert sent > 0, act
        assert failed == 0, act
    assert sum(ok for _, ok, _, _ in rows.values()) >= 20, r.stdout  # a few per second throughout

    def drops(act):
        return {k: int(v) for k, v in re.findall(r"drop (\w+) (\d+)", rows[act][3])}
    assert rows["SYN flood (spoofed)"][0] == 600  # --quick: hping3 -c 600
    # a random source is a martian now and then; the others get SYN cookies, never the server
    assert int(re.search(r"syn cookies sent (\d+)", rows["SYN flood (spoofed)"][3])[1]) > 0
    m = drops("malformed packets")
    for reason in ("ipv4_bad_ihl", "ipv4_bad_total_length", "ipv4_land", "tcp_bad_flags", "tcp_bad_offset",
                   "udp_bad_length", "ipv4_martian_src"):
        assert m.get(reason, 0) > 0, (reason, rows["malformed packets"])
    sent = rows["UDP reflection"][0]
    assert drops("UDP reflection") == {"acl_deny": sent}  # every datagram and fragment, none reached the server
    legit = re.search(r"legit overall +(\d+)/(\d+)", r.stdout)
    # overall also counts the calm second before the first act and the one after the last
    assert int(legit[2]) == 0 and int(legit[1]) >= sum(ok for _, ok, _, _ in rows.values())
    if "no punt path" in r.stdout:
        # today the VIP does not reach the proxy: the HTTP acts hit the server and the summary says so
        assert "note: HTTP acts ran against the server directly: no punt path" in r.stdout
    else:
        # each act's source is refused by the proxy, then blocklisted by its shield-block rule: its next
        # packets end at the packet layer
        for act in ("shellshock/cdorked", "HTTP flood (1 source)"):
            assert "proxy denied" in rows[act][3], rows[act]
            assert drops(act).get("l7_block", 0) > 0, rows[act]
    assert r.stdout.rstrip().endswith("legit requests failed: 0")
