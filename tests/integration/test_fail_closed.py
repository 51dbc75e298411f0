# SPDX-License-Identifier: Apache-2.0
"""Rules fail closed (issue #12): the catastrophic-backtracking reqdeny of
the issue denies at 1 kB, 5 kB and 50 kB values. Hyperscan decides the
patterns it takes (no error at any length); the ones it refuses run on
PCRE2 under tune.pcre2.match-limit, and a search that gives up applies a
deny (counted as "regex errors" next to the rule's hits, told on stderr
with file:line) but never an allow."""
import re
import signal
import time

from conftest import run
from test_proxy import curl, free_port
from test_rules import RULE_RE, backend, line_of, start  # noqa: F401 (fixtures)

SIZES = (1000, 5000, 50000)


def config(port, be_port):
    return f"""
global
    tune.bufsize 131072
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend www
    bind 127.0.0.1:{port}
    reqdeny ^X-A:\\ (a|b)+$
    reqdeny ^X-B:\\ (?=a)(a|b)+$
    reqallow ^X-D:\\ (?=a)(a|aa)+$
    http-request deny if {{ req.hdr(x-c) -m reg ^(?=a)(a|aa)+$ }}
    reqdeny ^X-D:
    default_backend app
backend app
    server s1 127.0.0.1:{be_port}
"""


def status(port, header):
    return curl("-o", "/dev/null", "-w", "%{http_code}", "-H", header, f"http://127.0.0.1:{port}/").stdout


def rule_counters(d):
    """{(line, what): (hits, regex errors)} once SIGUSR1's counters are out (polled)."""
    d.proc.send_signal(signal.SIGUSR1)
    out = {}
    deadline = time.time() + 5
    while time.time() < deadline and len(out) < 4:
        out = {}
        for l in list(d.lines):
            m = RULE_RE.match(l)
            if m:
                out[(int(m.group(3)), m.group(4))] = (int(m.group(5)), int(m.group(6) or 0))
        time.sleep(0.02)
    return out


def test_catastrophic_backtracking_deny_fails_closed(start, backend):
    port = free_port()
    text = config(port, backend.port)
    d = start(text)
    a_line, b_line = line_of(text, "X-A:"), line_of(text, "X-B:")
    c_line, d_line = line_of(text, "x-c"), line_of(text, "reqallow")
    for n in SIZES:
        assert status(port, "X-A: " + "a" * n) == "403", n  # Hyperscan: a match at any length
        assert status(port, "X-B: " + "a" * n) == "403", n  # PCRE2: a match, or a search that gave up
        assert status(port, "X-C: " + "a" * 40 + "!") == "403", n  # ACL -m reg: exponential near miss
    assert status(port, "X-A: " + "a" * 49999 + "!") == "200"  # Hyperscan's no at 50 kB is final
    assert status(port, "X-C: b") == "200"
    assert status(port, "X-D: aaa") == "200"  # reqallow matched: the reqdeny after it does not run
    assert status(port, "X-D: " + "a" * 40 + "!") == "403"  # reqallow gave up: not allowed
    assert len(backend.requests) == 3
    got = rule_counters(d)
    assert got[(a_line, "reqdeny")] == (3, 0)
    assert got[(b_line, "reqdeny")] == (3, 2)  # the 5 kB and 50 kB values: PCRE2 gave up, the deny applied
    assert got[(c_line, "http-request deny")] == (3, 3)
    assert got[(d_line, "reqallow")] == (1, 1)
    # told on stderr with the rule's file:line (at most a line a second per rule: at least one each)
    told = [re.search(r"proxy\.cfg:(\d+): '([^']+)': a regex gave up .* the rule (applies|does not apply)", l)
            for l in d.errors]
    assert {(int(m.group(1)), m.group(2), m.group(3)) for m in told if m} == {
        (b_line, "reqdeny", "applies"), (c_line, "http-request deny", "applies"),
        (d_line, "reqallow", "does not apply")}, d.errors[-10:]


def test_check_names_each_pattern_left_to_pcre2(bulwarkd, tmp_path):
    cfg = tmp_path / "proxy.cfg"
    text = config(free_port(), free_port())
    cfg.write_text(text)
    r = run([bulwarkd, "-c", "-f", str(cfg)])
    assert r.returncode == 0, r.stderr
    notices = [l for l in r.stderr.splitlines() if l.startswith("[NOTICE]")]
    assert [re.sub(r"^\[NOTICE\] \S*proxy\.cfg:(\d+): .*", r"\1", l) for l in notices] == [
        str(line_of(text, "x-c")), str(line_of(text, "X-B:")), str(line_of(text, "reqallow"))], notices
    assert f"proxy.cfg:{line_of(text, 'X-B:')}: 'reqdeny': regex runs on PCRE2, not Hyperscan" in notices[1]
    assert notices[1].endswith("applies the rule (fails closed)")
    assert notices[2].endswith("leaves the message as it is")
    r = run([bulwarkd, "-q", "-c", "-f", str(cfg)])
    assert "[NOTICE]" not in r.stderr
