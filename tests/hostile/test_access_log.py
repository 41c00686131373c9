"""The access log wrote 2 GB in 4 minutes of load. Now ACCESS_LOG chooses off, errors, sampled
(the default: every error, 1 in ACCESS_LOG_SAMPLE of the rest) or all, and LOG_FILE is rotated by
size so the logs never take more than (LOG_FILES + 1) x LOG_FILE_MAX_KB of disk."""
import glob
import json
import os
import subprocess

import httpx

from conftest import BIN


def access_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{") and '"msg":"request"' in l]


def hammer(srv, ok, not_found):
    """ok answers of 200 and not_found of 404, each with a request id "t-..." to tell them apart."""
    with httpx.Client(base_url=srv.base) as c:
        for i in range(ok):
            assert c.get("/healthz", headers={"X-Request-ID": f"t-ok-{i}"}).status_code == 200
        for i in range(not_found):
            assert c.get(f"/api/v1/nothing-{i}", headers={"X-Request-ID": f"t-nf-{i}"}).status_code == 404


def ours(lines):
    return [l for l in lines if l["request_id"].startswith("t-")]


def test_default_logs_every_error_and_a_sample_of_the_rest(start_server):
    srv = start_server(env={"ACCESS_LOG": None})  # unset: the default
    hammer(srv, 2000, 30)
    srv.stop()
    lines = ours(access_lines(srv.log_text()))
    errors = [l for l in lines if l["status"] >= 400]
    oks = [l for l in lines if l["status"] < 400]
    assert len(errors) == 30  # every one
    # 1 in 100 of the 2000 (the harness's own polls take turns in the count too): about 20
    assert 10 <= len(oks) <= 40, len(oks)


def test_modes(start_server):
    want = {"off": (0, 0), "errors": (0, 5), "all": (200, 5), "false": (0, 0), "true": (200, 5)}
    for mode, (n_ok, n_err) in want.items():
        srv = start_server(env={"ACCESS_LOG": mode})
        hammer(srv, 200, 5)
        srv.stop()
        # Only this test's requests: the harness's start-up /healthz polls are logged too, and a
        # request's line is written after its answer, so a byte offset would race.
        lines = ours(access_lines(srv.log_text()))
        got = (sum(l["status"] < 400 for l in lines), sum(l["status"] >= 400 for l in lines))
        assert got == (n_ok, n_err), (mode, got)


def test_unknown_mode_is_a_usage_error(tmp_path):
    p = subprocess.run([BIN, "serve", "--access-log", "verbose"], capture_output=True, text=True, timeout=10,
                       env={"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path)})
    assert p.returncode == 2 and "ACCESS_LOG" in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr


def test_log_file_is_rotated_and_bounded(start_server, tmp_path):
    path = str(tmp_path / "apextrade.log")
    srv = start_server(env={"ACCESS_LOG": "all", "LOG_FILE": path, "LOG_FILE_MAX_KB": "16", "LOG_FILES": "3"})
    hammer(srv, 1500, 0)  # about 400 KB of lines: many rotations
    srv.stop()
    files = sorted(glob.glob(path + "*"))
    assert files == [path, path + ".1", path + ".2", path + ".3"], files  # never more than LOG_FILES old ones
    for f in files:
        size = os.path.getsize(f)
        assert size <= 16 * 1024 + 4096, (f, size)  # the limit, plus the line that crossed it
        assert oct(os.stat(f).st_mode & 0o777) == "0o600", f
        with open(f) as fh:
            for line in fh:
                json.loads(line)  # whole lines only, each valid JSON
    # The newest lines are in the live file: the last request is there.
    with open(path) as fh:
        assert '"msg":"request"' in fh.read()
    # Nothing of the structured log went to stderr.
    assert not access_lines(srv.log_text())


def test_unwritable_log_file_is_refused_at_start(tmp_path):
    p = subprocess.run([BIN, "serve"], capture_output=True, text=True, timeout=10,
                       env={"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path),
                            "LOG_FILE": str(tmp_path / "no-such-dir" / "x.log")})
    assert p.returncode == 2 and "LOG_FILE" in p.stderr, p.stderr
