# SPDX-License-Identifier: Apache-2.0
"""The live attack show of `bash ci/demo.sh` (issue #14).

Starts a web server in the lab's server namespace and bulwarkd (its embedded
default config) in the bw namespace, keeps a legit client browsing from
10.10.0.1 throughout, and runs bounded attacks one after another: a spoofed SYN
flood, malformed frames, a UDP reflection burst (fragments included), a slow
POST attack, an HTTP flood from one source, shellshock and cdorked requests.
Each act's drops are the deltas of bulwarkd's counters (SIGUSR1) around it.
Ends with a summary table; exits 1 if a legit request failed.

Usage (as root, the lab up): /usr/bin/python3 tools/show.py --bulwarkd PATH
    [--prefix P] [--quick] [--hold SECONDS (-1: until Ctrl-C)]
"""
import argparse
import contextlib
import ctypes
import http.client
import os
import pathlib
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

TOP = pathlib.Path(__file__).resolve().parents[1]
LAB = TOP / "tools" / "lab"
VIP, SERVER, CLIENT = "10.10.0.100", "10.10.0.2", "10.10.0.1"
FLOODER, SHELLER = "10.10.0.66", "10.10.0.67"  # attack sources beside the legit client
WAIT = 10  # seconds any awaited event may take

_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    """Moves the calling thread (only it) into network namespace `name` for good."""
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(fd, 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def in_netns(name, fn, *args):
    """Runs fn(*args) on a thread of its own inside `name`; returns its result."""
    out = {}

    def body():
        try:
            enter_netns(name)
            out["v"] = fn(*args)
        except BaseException as e:  # handed to the caller
            out["e"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["v"]


def sh(*cmd, timeout=30):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def get(target, path="/", src=None, headers=None, timeout=2.0):
    """One GET on a new connection (from `src`); returns the status, or None if no answer."""
    c = http.client.HTTPConnection(target, 80, timeout=timeout, source_address=(src, 0) if src else None)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        r.read()
        return r.status
    except OSError:
        return None
    finally:
        c.close()


# --------------------------------------------------------------------------
# bulwarkd and its counters

class Daemon:
    STAT = re.compile(r"bulwarkd: stats: (.*)$")

    def __init__(self, bulwarkd, prefix):
        self.proc = subprocess.Popen([str(LAB), "--prefix", prefix, "exec", "--", bulwarkd],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines, self.running = [], threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.running.wait(WAIT * 3):
            self.stop()
            raise SystemExit("show: bulwarkd did not start:\n" + "".join(self.lines[-20:]))

    def _read(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line)
            if line.startswith("bulwarkd: running"):
                self.running.set()

    def counters(self):
        """SIGUSR1, then the stats block it printed, as {name: number}."""
        with self.lock:
            start = len(self.lines)
        self.proc.send_signal(signal.SIGUSR1)
        deadline, last, seen = time.monotonic() + WAIT, -1, 0
        while time.monotonic() < deadline:  # until the block stops growing
            time.sleep(0.1)
            with self.lock:
                block = [l for l in self.lines[start:] if l.startswith("bulwarkd: stats:")]
            if block and len(block) == last:
                seen += 1
                if seen >= 2:
                    break
            else:
                last, seen = len(block), 0
        return parse_counters(block)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=WAIT)


def parse_counters(block):
    c = {}
    for line in block:
        if m := re.search(r"shield \S+ drop outside (\S+): (\d+)$", line):
            c["drop " + m[1]] = int(m[2])
        elif m := re.search(r"syn guard: .*cookies sent (\d+), valid (\d+)", line):
            c["syn cookies sent"], c["syn cookies valid"] = int(m[1]), int(m[2])
        elif m := re.search(r"port outside driver: missed (\d+)", line):
            c["outside missed"] = int(m[1])
        elif m := re.search(r"frontend \S+: .*4xx (\d+).*denied requests (\d+)", line):
            c["proxy 4xx"], c["proxy denied"] = int(m[1]), int(m[2])
    return c


def delta(before, after):
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}


# --------------------------------------------------------------------------
# the legit client

class Legit:
    def __init__(self, ns, target, rate):
        self.ns, self.target, self.period = ns, target, 1.0 / rate
        self.act, self.results, self.stop = "warm-up", [], threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        enter_netns(self.ns)
        while not self.stop.is_set():
            t0 = time.monotonic()
            status = get(self.target, src=CLIENT)
            self.results.append((self.act, status == 200, time.monotonic() - t0))
            self.stop.wait(max(0.0, self.period - (time.monotonic() - t0)))

    def of(self, act=None):
        return [r for r in self.results if act is None or r[0] == act]


def pct(xs, p):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


# --------------------------------------------------------------------------
# the acts: each returns (what was sent, a note)

def packet_socket(ns, ifname):
    def make():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((ifname, 0))
        return s
    return in_netns(ns, make)


def spoof():
    return "198.51.%d.%d" % (random.randrange(100, 200), random.randrange(1, 254))


def act_syn_flood(show):
    n = show.scale(3000)
    r = sh("ip", "netns", "exec", show.client_ns, "timeout", "20", "hping3", "-q", "--rand-source", "-S",
           "-p", "80", "-c", str(n), "-i", "u300", SERVER, timeout=30)
    return n, "hping3 --rand-source -S" + ("" if r.returncode in (0, 1) else f" (exit {r.returncode})")


def act_malformed(show):
    base = Ether(dst=show.server_mac, src=show.client_mac)
    frames = [
        base / IP(src=spoof(), dst=SERVER, ihl=4) / TCP(dport=80),                     # bad IHL
        base / IP(src=spoof(), dst=SERVER, len=1400) / TCP(dport=80),                  # bad total length
        base / IP(src=SERVER, dst=SERVER) / TCP(sport=80, dport=80, flags="S"),        # land
        base / IP(src=spoof(), dst=SERVER) / TCP(dport=80, flags="FSRPAU"),            # xmas
        base / IP(src=spoof(), dst=SERVER) / TCP(dport=80, flags="SF"),                # SYN+FIN
        base / IP(src=spoof(), dst=SERVER) / TCP(dport=80, dataofs=2),                 # bad data offset
        base / IP(src=spoof(), dst=SERVER) / UDP(dport=53, len=200) / Raw(b"x" * 8),   # bad UDP length
        base / IP(src="127.0.0.9", dst=SERVER) / TCP(dport=80),                        # martian source
    ]
    raw = [bytes(f) for f in frames]
    s = packet_socket(show.client_ns, show.client_if)
    reps = show.scale(100)
    for _ in range(reps):
        for b in raw:
            s.send(b)
        time.sleep(0.005)
    s.close()
    return reps * len(raw), f"{len(raw)} kinds x {reps}"


def act_reflection(show):
    s = packet_socket(show.client_ns, show.client_if)
    base = Ether(dst=show.server_mac, src=show.client_mac)
    reps, sent = show.scale(100), 0
    for i in range(reps):
        for sport in (19, 123, 1900, 11211):
            s.send(bytes(base / IP(src=spoof(), dst=SERVER) / UDP(sport=sport, dport=40000 + i) / Raw(b"r" * 64)))
            sent += 1
        # a memcached answer too big for one frame: its fragments
        for f in fragment(IP(src=spoof(), dst=SERVER, id=1000 + i) / UDP(sport=11211, dport=41000)
                          / Raw(b"VALUE " + b"m" * 2400), fragsize=1000):
            s.send(bytes(base / f))
            sent += 1
        time.sleep(0.005)
    s.close()
    return sent, "sport 19/123/1900/11211 + memcached fragments"


def act_slow_post(show):
    conns, secs = show.scale(40), 6 if show.quick else 10
    r = sh("ip", "netns", "exec", show.client_ns, "timeout", str(secs + 10), "slowhttptest", "-B", "-c", str(conns),
           "-r", str(conns), "-i", "2", "-s", "8192", "-l", str(secs), "-x", "10", "-p", "3",
           "-u", f"http://{show.target}/", timeout=secs + 20)
    closed = re.findall(r"closed:\s+(\d+)", r.stdout)
    return conns, f"slowhttptest -B {secs}s" + (f", {closed[-1]} closed by the server side" if closed else "")


def act_http_flood(show):
    # not scaled down by --quick: the default config answers 429 past 100
    # requests in 10 s and blocks the source past 200; it stops once blocked
    n = 300

    def flood():
        st = {}
        fails = 0
        t_end = time.monotonic() + 15
        for _ in range(n):
            s = get(show.target, src=FLOODER, timeout=0.5)
            st[s] = st.get(s, 0) + 1
            fails = fails + 1 if s is None else 0
            if fails >= 5 or time.monotonic() > t_end:  # blocked at the packet layer: stop knocking
                break
        return st
    st = in_netns(show.client_ns, flood)
    return sum(st.values()), ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(st.items(), key=str))


def act_exploits(show):
    def send():
        st = {}
        probes = [("/?4745545f4241434b3b", {}),                 # cdorked: "GET_BACK;" hex-encoded
                  ("/", {"Cookie": "SECID=616c6c6f77"})]        # cdorked's cookie
        shellshock = [("/", {"User-Agent": "() { :; }; /bin/bash -c 'cat /etc/passwd'"}),
                      ("/", {"Referer": "() { _; } >_[$($())] { id; }"})]
        # cdorked's probes are refused (403) one by one; the first shellshock
        # request is refused and blocks its source (shield-block 60s), whose
        # next attempts get no answer at all: two of them are enough to see it
        unanswered = 0
        for path, h in probes * show.scale(5) + shellshock * show.scale(5):
            s = get(show.target, path, src=SHELLER, headers=h, timeout=1.0)
            st[s] = st.get(s, 0) + 1
            unanswered = unanswered + 1 if s is None else 0
            if unanswered >= 2:
                break
        return st
    st = in_netns(show.client_ns, send)
    return sum(st.values()), ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(st.items(), key=str))


ACTS = [("SYN flood (spoofed)", act_syn_flood), ("malformed packets", act_malformed),
        ("UDP reflection", act_reflection), ("slow POST", act_slow_post),
        ("HTTP flood (1 source)", act_http_flood), ("shellshock/cdorked", act_exploits)]
HTTP_ACTS = ("slow POST", "HTTP flood (1 source)", "shellshock/cdorked")


# --------------------------------------------------------------------------
# the show

class Show:
    def __init__(self, args):
        p = args.prefix
        self.quick, self.prefix = args.quick, p
        self.client_ns, self.server_ns, self.bw_ns = p + "client", p + "server", p + "bw"
        self.client_if = p + "c0"
        self.client_mac = mac_of(self.client_ns, self.client_if)
        self.server_mac = mac_of(self.server_ns, p + "s0")
        self.target = SERVER
        self.notes = []

    def scale(self, n):
        return max(1, n // 5) if self.quick else n


def mac_of(ns, ifname):
    out = sh("ip", "-n", ns, "-o", "link", "show", "dev", ifname).stdout
    return re.search(r"link/ether (\S+)", out)[1]


def start_web(show, docroot):
    (docroot / "index.html").write_text("<h1>the protected server</h1>\n" * 20)
    web = subprocess.Popen(["ip", "netns", "exec", show.server_ns, sys.executable, "-m", "http.server", "80",
                            "--bind", SERVER, "--directory", str(docroot)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + WAIT
    while f"{SERVER}:80" not in sh("ss", "-N", show.server_ns, "-Htln").stdout:
        if time.monotonic() > deadline or web.poll() is not None:
            raise SystemExit("show: the lab's web server did not start")
        time.sleep(0.1)
    return web


def choose_target(show):
    """The VIP when the punt path brings it to the proxy, else the server itself."""
    def probe():
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if get(VIP, "/", CLIENT, None, 1.0) is not None:
                return True
            time.sleep(0.2)
        return False
    if in_netns(show.client_ns, probe):
        return VIP
    show.notes.append("HTTP acts ran against the server directly: no punt path (the VIP did not answer)")
    return SERVER


def progress(show, legit, act, t0):
    tty = sys.stdout.isatty()
    done = threading.Event()

    def run():
        while not done.wait(0.5 if tty else 2):
            rs = legit.of()
            ok = sum(1 for r in rs if r[1])
            line = (f"[{time.monotonic() - t0:5.1f}s] {act:<22} legit ok {ok} failed {len(rs) - ok} "
                    f"p50 {pct([r[2] for r in rs], 50) * 1000:.1f} ms")
            print(("\r" + line + " " * 4) if tty else line, end="" if tty else "\n", flush=True)
        if tty:
            print("\r" + " " * 90 + "\r", end="", flush=True)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return done, t


def summary(show, rows, legit):
    out = ["", f"{'act':<22} {'sent':>6}  {'legit ok/failed':>15} {'p50 ms':>7} {'p99 ms':>7}  dropped or refused where"]
    for act, sent, note, d in rows:
        rs = legit.of(act)
        ok = sum(1 for r in rs if r[1])
        lat = [r[2] * 1000 for r in rs]
        where = ", ".join(f"{k} {v}" for k, v in sorted(d.items())) or "nothing"
        out.append(f"{act:<22} {sent:>6}  {f'{ok}/{len(rs) - ok}':>15} {pct(lat, 50):>7.1f} {pct(lat, 99):>7.1f}  "
                   f"{where}")
        out.append(f"{'':<22} {'':>6}  ({note})")
    rs = legit.of()
    ok = sum(1 for r in rs if r[1])
    lat = [r[2] * 1000 for r in rs]
    out.append(f"{'legit overall':<22} {'':>6}  {f'{ok}/{len(rs) - ok}':>15} {pct(lat, 50):>7.1f} "
               f"{pct(lat, 99):>7.1f}")
    out += ["note: " + n for n in show.notes]
    return "\n".join(out), len(rs) - ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bulwarkd", required=True)
    ap.add_argument("--prefix", default=os.environ.get("BULWARK_LAB_PREFIX", "bwlab-"))
    ap.add_argument("--quick", action="store_true", help="smaller counts (the integration test)")
    ap.add_argument("--hold", type=float, default=0, help="keep bulwarkd running this long after (-1: until Ctrl-C)")
    args = ap.parse_args()

    def stop(signum, _frame):  # Ctrl-C or kill: unwind, so bulwarkd and the web server stop
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGINT, stop)  # also when the shell that started us ignores SIGINT
    signal.signal(signal.SIGTERM, stop)
    show = Show(args)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        web = start_web(show, pathlib.Path(tmp))
        stack.callback(lambda: (web.terminate(), web.wait(timeout=WAIT)))
        for a in (FLOODER, SHELLER):
            sh("ip", "-n", show.client_ns, "addr", "add", a + "/24", "dev", show.client_if)
        daemon = Daemon(args.bulwarkd, args.prefix)
        stack.callback(daemon.stop)
        show.target = choose_target(show)
        print(f"== the show: legit client {CLIENT} -> {show.target}:80; attacks one after another", flush=True)
        legit = Legit(show.client_ns, show.target, rate=4)
        stack.callback(legit.stop.set)
        time.sleep(1.0)  # a first second of calm: the legit client's baseline
        rows = []
        for act, fn in ACTS:
            legit.act = act
            before = daemon.counters()
            done, pt = progress(show, legit, act, t0)
            try:
                sent, note = fn(show)
            finally:
                done.set()
                pt.join()
            time.sleep(0.5)  # the last frames through the shield
            d = delta(before, daemon.counters())
            d.pop("proxy 4xx", None) if show.target == SERVER else None
            rows.append((act, sent, note, d))
            print(f"== {act}: sent {sent}; {', '.join(f'{k} {v}' for k, v in sorted(d.items())) or 'nothing dropped'}",
                  flush=True)
        legit.act = "after"
        time.sleep(1.0)
        legit.stop.set()
        legit.t.join(timeout=WAIT)
        if not re.search(r"^action\s+shield-block\s.*\bbuilt\s*$", sh(args.bulwarkd, "--keywords").stdout, re.M):
            show.notes.append("shield-block is not built yet (bulwarkd --keywords): the HTTP flood cannot end at "
                              "the packet layer")
        if sum(d.get("syn cookies valid", 0) for *_, d in rows):
            show.notes.append("legit p50 near 200 ms while the SYN guard is on: a client's first data segment, "
                              "sent before the server's side opens, is resent (as behind netfilter's SYNPROXY)")
        text, failed = summary(show, rows, legit)
        print(text)
        print(f"== the show took {time.monotonic() - t0:.0f}s; legit requests failed: {failed}", flush=True)
        if args.hold:
            print("== bulwarkd keeps running" + ("" if args.hold < 0 else f" for {args.hold:.0f}s") +
                  f": try it from the client (tools/lab exec is the bw namespace; "
                  f"ip netns exec {show.client_ns} curl http://{show.target}/); Ctrl-C stops it", flush=True)
            with contextlib.suppress(SystemExit):
                end = time.monotonic() + (args.hold if args.hold > 0 else 1e9)
                while time.monotonic() < end and daemon.proc.poll() is None:
                    time.sleep(0.5)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
