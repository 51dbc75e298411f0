# SPDX-License-Identifier: Apache-2.0
"""bulwarkd -c on the seed snippets and on broken files."""
import pytest

from conftest import SEEDS, run

SEED_FILES = sorted(p.name for p in SEEDS.glob("*.cfg"))


def test_all_seed_snippets_are_stored():
    assert SEED_FILES == ["cdorked.cfg", "poodle-forward.cfg", "poodle-offload.cfg", "poodle-page.cfg",
                          "secure-cookie.cfg", "shellshock.cfg", "slow-post.cfg", "ssl-relay.cfg"]


@pytest.mark.parametrize("name", SEED_FILES)
def test_seed_passes_check(bulwarkd, name):
    r = run([bulwarkd, "-c", "-f", str(SEEDS / name)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Configuration file is valid (")
    assert "[ALERT]" not in r.stderr
    # every diagnostic line has the file:line: 'keyword': form
    for line in r.stderr.splitlines():
        assert line.startswith(f"[WARNING] {SEEDS / name}:"), line


# The warnings an HAProxy user must see for the lines HAProxy 2.6 rejects.
EXPECTED = {
    "shellshock.cfg": [
        ":9: 'reqdeny': removed from HAProxy in 2.1; loaded with its 1.x meaning (a request whose request line "
        "or any header line matches the regex gets 403); modern equivalent: http-request deny if "
        "{ req.hdrs -m reg '(?m)^[^:]+:s*(s*)s+{' }",
        ":9: 'reqdeny': regex '^[^:]+:s*(s*)s+{' looks like its backslashes were lost",
        ":10: 'reqdeny': removed from HAProxy in 2.1;",
    ],
    "secure-cookie.cfg": [
        ":15: 'rspirep': removed from HAProxy in 2.1; loaded with its 1.x meaning (the regex rewrites the status "
        "line and each response header line it matches); modern equivalent: http-response replace-header "
        "set-cookie (.*) '\\1; Secure' if https !secured_cookie",
    ],
    "cdorked.cfg": [
        ":9: 'capture': 'Len' is not HAProxy's spelling (HAProxy 2.6 rejects it); read as 'len': capture request "
        "header Cookie len 128",
        ":11: 'capture': 'Len' is not HAProxy's spelling (HAProxy 2.6 rejects it); read as 'len': capture "
        "response header Location len 128",
        ":19: 'rspdeny': removed from HAProxy in 2.1; loaded with its 1.x meaning (a response whose status line "
        "or any header line matches the regex gets 502); modern equivalent: http-response deny if "
        "{ res.hdr(Location) -m reg ^http://(www|static).domain.tld.* }",
    ],
    "ssl-relay.cfg": [
        ":11: 'use_backend': 'req.ssl_ec_ext' reads the first bytes of the request but 'ssl-relay' has no "
        "'tcp-request inspect-delay'",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_warnings_give_the_modern_line(bulwarkd, name):
    r = run([bulwarkd, "-c", "-f", str(SEEDS / name)])
    assert r.returncode == 0
    for want in EXPECTED[name]:
        assert f"[WARNING] {SEEDS / name}{want}" in r.stderr, want


def test_quiet_drops_warnings_only(bulwarkd, tmp_path):
    r = run([bulwarkd, "-c", "-q", "-f", str(SEEDS / "cdorked.cfg")])
    assert r.returncode == 0
    assert r.stderr == ""
    bad = tmp_path / "bad.cfg"
    bad.write_text("frontend f\n bnd :80\n")
    r = run([bulwarkd, "-c", "-q", "-f", str(bad)])
    assert r.returncode == 1
    assert f"[ALERT] {bad}:2: 'bnd': unknown keyword in a 'frontend' section (did you mean 'bind'?)" in r.stderr


def test_broken_file_reports_every_error_and_exits_1(bulwarkd, tmp_path):
    bad = tmp_path / "broken.cfg"
    bad.write_text("defaults\n mode http\n timeout client 5s\n"
                   "frontend www\n bind :80\n timeout http-requst 10s\n use_backend api if { path_beg /api }\n"
                   " default_backend app\n"
                   "backend ap\n server s1 10.0.0.1:80 wieght 3\n")
    r = run([bulwarkd, "-c", "-f", str(bad)])
    assert r.returncode == 1
    assert r.stdout == ""
    alerts = [l for l in r.stderr.splitlines() if l.startswith("[ALERT]") and "Fatal errors" not in l]
    assert alerts == [
        f"[ALERT] {bad}:6: 'timeout': unknown timeout 'http-requst', expected one of 'client', 'client-fin', "
        "'http-request', 'http-keep-alive', 'server', 'server-fin', 'connect', 'queue', 'tunnel', 'check', "
        "'tarpit' (did you mean 'http-request'?)",
        f"[ALERT] {bad}:7: 'use_backend': no backend named 'api' (did you mean 'ap'?)",
        f"[ALERT] {bad}:8: 'default_backend': no backend named 'app' (did you mean 'ap'?)",
        f"[ALERT] {bad}:10: 'server': unknown option 'wieght' (did you mean 'weight'?)",
    ]
    # the warning count includes "not built yet" ones, which shrink as features land
    assert r.stderr.splitlines()[-1].startswith("[ALERT] Fatal errors found in configuration: 4 errors, ")


def test_several_files_load_in_order(bulwarkd, tmp_path):
    a = tmp_path / "a.cfg"
    b = tmp_path / "b.cfg"
    a.write_text("defaults\n mode http\n timeout client 5s\n timeout connect 5s\n timeout server 5s\n"
                 "backend app\n server s1 10.0.0.1:80\n")
    b.write_text("frontend www\n bind :80\n default_backend app\n")
    r = run([bulwarkd, "-c", "-q", "-f", str(a), "-f", str(b)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Configuration file is valid (1 frontend, 1 backend; ")
    r = run([bulwarkd, "-c", "-q", "-f", str(b)])
    assert r.returncode == 1
    assert f"[ALERT] {b}:3: 'default_backend': no backend named 'app'" in r.stderr


def test_a_directory_loads_its_cfg_files_in_order(bulwarkd, tmp_path):
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "10-defaults.cfg").write_text("defaults\n mode http\n timeout client 5s\n timeout connect 5s\n"
                                       " timeout server 5s\nbackend app\n server s1 10.0.0.1:80\n")
    (d / "20-www.cfg").write_text("frontend www\n bind :80\n default_backend app\n")
    (d / "README").write_text("not a config\n")
    r = run([bulwarkd, "-c", "-q", "-f", str(d)])
    assert r.returncode == 0, r.stderr
    (d / "05-broken.cfg").write_text("frontend x\n bnd :81\n")
    r = run([bulwarkd, "-c", "-q", "-f", str(d)])
    assert r.returncode == 1
    assert f"[ALERT] {d}/05-broken.cfg:2: 'bnd':" in r.stderr


def test_missing_file(bulwarkd, tmp_path):
    r = run([bulwarkd, "-c", "-f", str(tmp_path / "none.cfg")])
    assert r.returncode == 1
    assert f"[ALERT] {tmp_path / 'none.cfg'}: cannot open the file: no such file or no permission" in r.stderr


def test_binary_garbage_is_refused_cleanly(bulwarkd, tmp_path):
    junk = tmp_path / "junk.cfg"
    junk.write_bytes(bytes(range(256)) * 64)
    r = run([bulwarkd, "-c", "-f", str(junk)])
    assert r.returncode == 1
    assert "NUL character at column 1" in r.stderr


def test_environment_expansion(bulwarkd, tmp_path):
    cfg = tmp_path / "env.cfg"
    cfg.write_text('frontend www\n bind "${BW_TEST_ADDR}:80"\n timeout client 5s\n'
                   ' http-request deny if { src "${BW_TEST_BAD-192.0.2.1}" }\n')
    ok = run([bulwarkd, "-c", "-q", "-f", str(cfg)], env={"BW_TEST_ADDR": "127.0.0.1"})
    assert ok.returncode == 0, ok.stderr
    bad = run([bulwarkd, "-c", "-q", "-f", str(cfg)], env={"BW_TEST_ADDR": "127.0.0.999"})
    assert bad.returncode == 1
    assert "invalid address '127.0.0.999:80'" in bad.stderr
