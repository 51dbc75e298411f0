# SPDX-License-Identifier: Apache-2.0
"""bulwarkd's command line: --help, -v, -vv, usage errors."""
import re

from conftest import TOP, run


def project_version():
    text = (TOP / "meson.build").read_text()
    return re.search(r"version: '([^']+)'", text).group(1)


def test_help_lists_every_option(bulwarkd):
    r = run([bulwarkd, "--help"])
    assert r.returncode == 0
    for opt in ("-f FILE|DIR", "-c ", "-q ", "-v ", "--dump-default", "--keywords", "--keyword NAME", "-h, --help"):
        assert opt in r.stdout, opt
    assert r.stdout.startswith("Usage: bulwarkd")
    assert run([bulwarkd, "-h"]).stdout == r.stdout


def test_version_matches_the_project(bulwarkd):
    r = run([bulwarkd, "-v"])
    assert r.returncode == 0
    assert r.stdout == f"bulwarkd {project_version()}\n"


def test_vv_names_the_libraries(bulwarkd):
    r = run([bulwarkd, "-vv"])
    assert r.returncode == 0
    assert "DPDK 22.11" in r.stdout
    assert "Hyperscan 5.4" in r.stdout
    assert "OpenSSL 3." in r.stdout


def test_unknown_option_is_a_usage_error(bulwarkd):
    r = run([bulwarkd, "--frobnicate"])
    assert r.returncode == 2
    assert r.stderr == "bulwarkd: unknown option '--frobnicate'\nTry 'bulwarkd --help'.\n"


def test_f_without_file_is_a_usage_error(bulwarkd):
    r = run([bulwarkd, "-c", "-f"])
    assert r.returncode == 2
    assert "'-f' expects a file name" in r.stderr


def test_dump_default_round_trips(bulwarkd, tmp_path):
    r = run([bulwarkd, "--dump-default"])
    assert r.returncode == 0
    assert r.stdout == (TOP / "controlplane" / "default.cfg").read_text()
    cfg = tmp_path / "default.cfg"
    cfg.write_text(r.stdout)
    c = run([bulwarkd, "-c", "-f", str(cfg)])
    assert c.returncode == 0, c.stderr
    d = run([bulwarkd, "-c"])
    assert d.returncode == 0, d.stderr
    # the same diagnostics, only the file name differs
    assert c.stderr.replace(str(cfg), "<default>") == d.stderr


def test_keywords_lists_every_registry_row(bulwarkd):
    r = run([bulwarkd, "--keywords"])
    assert r.returncode == 0
    rows = [l.split() for l in r.stdout.splitlines() if not l.startswith("#")]
    names = {(row[0], row[1]) for row in rows}
    for want in (("keyword", "reqdeny"), ("keyword", "syn-guard"), ("keyword", "timeout"), ("fetch", "req.ssl_ec_ext"),
                 ("converter", "lower"), ("matcher", "-m"), ("action", "deny")):
        assert want in names, want
    # built: what the proxy and the shield serve today (the rule engine's fetches, converters, matchers and
    # actions included), the keywords that act at load time only, and the two HAProxy removed
    # that are refused outright (block, nbproc)
    built = sorted(f"{row[0]}:{row[1]}" for row in rows if row[-1] == "built")
    assert built == [
        "action:accept", "action:accept", "action:accept", "action:add-header", "action:add-header",
        "action:allow", "action:allow", "action:capture", "action:del-header", "action:del-header",
        "action:deny", "action:deny", "action:redirect", "action:redirect", "action:reject",
        "action:reject", "action:reject", "action:reject", "action:replace-header",
        "action:replace-header", "action:replace-path", "action:replace-uri", "action:replace-value",
        "action:replace-value", "action:return", "action:return", "action:set-header",
        "action:set-header", "action:set-method", "action:set-path", "action:set-query",
        "action:set-status", "action:set-uri", "action:shield-block", "action:shield-block",
        "action:shield-block", "action:silent-drop", "action:silent-drop", "action:silent-drop",
        "action:silent-drop", "action:tarpit", "action:track-sc0", "action:track-sc0",
        "action:track-sc0", "action:track-sc1", "action:track-sc1", "action:track-sc1",
        "action:track-sc2", "action:track-sc2", "action:track-sc2", "action:wait-for-body",
        "action:wait-for-body", "bind-opt:gid", "bind-opt:group", "bind-opt:id", "bind-opt:mode",
        "bind-opt:name", "bind-opt:uid", "bind-opt:user", "converter:b64dec", "converter:base64",
        "converter:bytes", "converter:crc32", "converter:djb2", "converter:field", "converter:hex",
        "converter:length", "converter:lower", "converter:regsub", "converter:upper",
        "converter:url_dec", "converter:word", "fetch:always_false", "fetch:always_true", "fetch:base",
        "fetch:cook", "fetch:cook_cnt", "fetch:cook_val", "fetch:dst", "fetch:dst_port", "fetch:env",
        "fetch:hdr", "fetch:hdr_cnt", "fetch:hdr_val", "fetch:int", "fetch:method", "fetch:path",
        "fetch:query", "fetch:req.body", "fetch:req.body_len", "fetch:req.cook", "fetch:req.cook_cnt",
        "fetch:req.fhdr", "fetch:req.hdr", "fetch:req.hdr_cnt", "fetch:req.hdrs", "fetch:req.len",
        "fetch:req.proto_http", "fetch:req.ver", "fetch:req_len", "fetch:res.cook",
        "fetch:res.cook_cnt", "fetch:res.fhdr", "fetch:res.hdr", "fetch:res.hdr_cnt",
        "fetch:sc0_bytes_in_rate", "fetch:sc0_bytes_out_rate", "fetch:sc0_clr_gpc0",
        "fetch:sc0_clr_gpc1", "fetch:sc0_conn_cnt", "fetch:sc0_conn_cur", "fetch:sc0_conn_rate",
        "fetch:sc0_get_gpc0", "fetch:sc0_get_gpc1", "fetch:sc0_gpc0_rate", "fetch:sc0_gpc1_rate",
        "fetch:sc0_http_err_cnt", "fetch:sc0_http_err_rate", "fetch:sc0_http_req_cnt",
        "fetch:sc0_http_req_rate", "fetch:sc0_inc_gpc0", "fetch:sc0_inc_gpc1", "fetch:sc0_tracked",
        "fetch:sc1_bytes_in_rate", "fetch:sc1_bytes_out_rate", "fetch:sc1_clr_gpc0",
        "fetch:sc1_clr_gpc1", "fetch:sc1_conn_cnt", "fetch:sc1_conn_cur", "fetch:sc1_conn_rate",
        "fetch:sc1_get_gpc0", "fetch:sc1_get_gpc1", "fetch:sc1_gpc0_rate", "fetch:sc1_gpc1_rate",
        "fetch:sc1_http_err_cnt", "fetch:sc1_http_err_rate", "fetch:sc1_http_req_cnt",
        "fetch:sc1_http_req_rate", "fetch:sc1_inc_gpc0", "fetch:sc1_inc_gpc1", "fetch:sc1_tracked",
        "fetch:sc2_bytes_in_rate", "fetch:sc2_bytes_out_rate", "fetch:sc2_clr_gpc0",
        "fetch:sc2_clr_gpc1", "fetch:sc2_conn_cnt", "fetch:sc2_conn_cur", "fetch:sc2_conn_rate",
        "fetch:sc2_get_gpc0", "fetch:sc2_get_gpc1", "fetch:sc2_gpc0_rate", "fetch:sc2_gpc1_rate",
        "fetch:sc2_http_err_cnt", "fetch:sc2_http_err_rate", "fetch:sc2_http_req_cnt",
        "fetch:sc2_http_req_rate", "fetch:sc2_inc_gpc0", "fetch:sc2_inc_gpc1", "fetch:sc2_tracked",
        "fetch:sc_bytes_in_rate", "fetch:sc_bytes_out_rate", "fetch:sc_clr_gpc0", "fetch:sc_clr_gpc1",
        "fetch:sc_conn_cnt", "fetch:sc_conn_cur", "fetch:sc_conn_rate", "fetch:sc_get_gpc0",
        "fetch:sc_get_gpc1", "fetch:sc_gpc0_rate", "fetch:sc_gpc1_rate", "fetch:sc_http_err_cnt",
        "fetch:sc_http_err_rate", "fetch:sc_http_req_cnt", "fetch:sc_http_req_rate",
        "fetch:sc_inc_gpc0", "fetch:sc_inc_gpc1", "fetch:sc_tracked", "fetch:shdr", "fetch:src",
        "fetch:src_bytes_in_rate", "fetch:src_bytes_out_rate", "fetch:src_clr_gpc0",
        "fetch:src_clr_gpc1", "fetch:src_conn_cnt", "fetch:src_conn_cur", "fetch:src_conn_rate",
        "fetch:src_get_gpc0", "fetch:src_get_gpc1", "fetch:src_gpc0_rate", "fetch:src_gpc1_rate",
        "fetch:src_http_err_cnt", "fetch:src_http_err_rate", "fetch:src_http_req_cnt",
        "fetch:src_http_req_rate", "fetch:src_inc_gpc0", "fetch:src_inc_gpc1", "fetch:src_port",
        "fetch:ssl_fc", "fetch:status", "fetch:str", "fetch:url", "fetch:url_param", "fetch:urlp",
        "keyword:acl", "keyword:allow", "keyword:bind", "keyword:block", "keyword:block",
        "keyword:ca-base", "keyword:chroot", "keyword:crt-base", "keyword:default",
        "keyword:default-path", "keyword:default_backend", "keyword:deny", "keyword:description",
        "keyword:description", "keyword:disabled", "keyword:drop-capture", "keyword:eal",
        "keyword:enabled", "keyword:errorfile", "keyword:event-ring", "keyword:flows",
        "keyword:fragments", "keyword:group", "keyword:host-port", "keyword:id", "keyword:limit", "keyword:log",
        "keyword:log", "keyword:mac-table", "keyword:maxconn", "keyword:maxconn", "keyword:mode", "keyword:mode",
        "keyword:nbproc", "keyword:nbthread", "keyword:node", "keyword:pickup", "keyword:port",
        "keyword:presetenv", "keyword:punt", "keyword:punt-ring", "keyword:quiet", "keyword:retries", "keyword:server", "keyword:setenv",
        "keyword:stick-table", "keyword:syn-guard", "keyword:tune.bufsize", "keyword:tune.http.maxhdr",
        "keyword:tune.pcre2.depth-limit", "keyword:tune.pcre2.match-limit", "keyword:unsetenv",
        "keyword:user", "matcher:-m", "matcher:-m", "matcher:-m", "matcher:-m", "matcher:-m",
        "matcher:-m", "matcher:-m", "matcher:-m", "matcher:-m", "matcher:-m", "matcher:-m",
        "matcher:-m", "matcher:-m", "option:abortonclose", "option:allbackups", "option:dontlognull",
        "option:forwardfor", "option:http-buffer-request", "option:http-ignore-probes",
        "option:http-server-close", "option:httpchk", "option:httpclose", "option:httplog",
        "option:redispatch", "option:tcplog", "server-opt:backup", "server-opt:check",
        "server-opt:disabled", "server-opt:enabled", "server-opt:fall", "server-opt:id",
        "server-opt:inter", "server-opt:maxconn", "server-opt:maxqueue", "server-opt:rise",
        "server-opt:weight", "timeout:check", "timeout:client", "timeout:client-fin", "timeout:connect",
        "timeout:http-keep-alive", "timeout:http-request", "timeout:queue", "timeout:server",
        "timeout:server-fin", "timeout:tarpit", "timeout:tunnel"
    ]
    assert all("waits for" in l or l.endswith("built") for l in r.stdout.splitlines()[1:])


def test_keyword_describes_one_row(bulwarkd):
    r = run([bulwarkd, "--keyword", "req.fhdr"])
    assert r.returncode == 0
    assert r.stdout == ("fetch req.fhdr: req.fhdr(NAME[,OCC]): full request header values, not split\n"
                        "  where: request, response\n  status: built\n")
    # one name, several rows: the action in each family that has it
    r = run([bulwarkd, "--keyword", "track-sc0"])
    assert r.returncode == 0
    assert r.stdout.count("action track-sc0:") == 3
    assert r.stdout.count("status: built") == 3
    r = run([bulwarkd, "--keyword", "nosuch"])
    assert r.returncode == 1
    assert r.stderr == "bulwarkd: no fetch, converter, matcher or action is named 'nosuch'\n"
    r = run([bulwarkd, "--keyword"])
    assert r.returncode == 2
