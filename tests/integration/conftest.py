# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the lab tests: the bulwarkd binary and a lab of its own per test.

Run with Debian's python: /usr/bin/python3 -m pytest tests/integration
"""
import contextlib
import os
import pathlib
import subprocess

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
LAB = TOP / "tools" / "lab"
SEEDS = TOP / "tests" / "configs" / "seeds"


def run(cmd, timeout=30, check=False, **kw):
    """Runs a command with a bound on its time; returns CompletedProcess (text)."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check,
                          stdin=subprocess.DEVNULL, **kw)


@pytest.fixture(scope="session")
def bulwarkd():
    path = pathlib.Path(os.environ.get("BULWARKD", TOP / "build" / "release" / "controlplane" / "bulwarkd"))
    if not path.is_file():
        pytest.fail(f"no bulwarkd at {path}: build it first (ci/build.sh)")
    return str(path)


def lab_namespaces(prefix):
    out = run(["ip", "netns", "list"]).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.split() and line.split()[0].startswith(prefix))


class Lab:
    def __init__(self, prefix):
        self.prefix = prefix
        self.client = prefix + "client"
        self.server = prefix + "server"
        self.bw = prefix + "bw"
        self.outside_if = prefix + "out"
        self.inside_if = prefix + "in"

    def cmd(self, *args, timeout=60):
        return run([str(LAB), "--prefix", self.prefix, *args], timeout=timeout)

    def env(self):
        out = self.cmd("env").stdout
        return dict(line.split("=", 1) for line in out.splitlines())

    def ns_exec(self, ns, *args, timeout=30):
        return run(["ip", "netns", "exec", ns, *args], timeout=timeout)


_lab_counter = 0


def new_prefix():
    """A prefix no other run on this machine uses: b + 5 digits + '-'."""
    global _lab_counter
    _lab_counter += 1
    return "b%05d-" % ((os.getpid() * 7 + _lab_counter) % 100000)


@pytest.fixture
def lab():
    """A lab of its own, removed after the test whatever the outcome."""
    prefix = new_prefix()
    l = Lab(prefix)
    l.cmd("down")  # a leftover of a killed run with the same prefix
    up = l.cmd("up")
    try:
        assert up.returncode == 0, up.stderr
        yield l
    finally:
        l.cmd("down")
        assert lab_namespaces(prefix) == [], "the lab left namespaces behind"


@contextlib.contextmanager
def raised_lab():
    """A lab of its own (tools/lab up), removed whatever the outcome: for a module's `lab` fixture to yield from."""
    l = Lab(new_prefix())
    l.cmd("down")  # a leftover of a killed run with the same prefix
    try:
        up = l.cmd("up")
        assert up.returncode == 0, up.stderr
        yield l
    finally:
        l.cmd("down")
        assert lab_namespaces(l.prefix) == [], "the lab left namespaces behind"
