"""The database going away under a running server: a deleted file still took writes with 2xx while
/readyz said ready and nothing was logged; corrupt pages gave 500s behind a ready /readyz; a full
disk went unnoticed. Readiness now checks the database for real and says why, in the log too."""
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest

from conftest import BIN, PASSWORD, Server, signed_in

pytestmark = pytest.mark.skipif(bool(os.environ.get("APEX_TEST_PG_URL")), reason="SQLite's file")


def ready(srv):
    return srv.client.get("/readyz")


def test_a_deleted_database_file_makes_the_server_unready(tmp_path):
    srv = Server(tmp_path)
    try:
        signed_in(srv.client, "before@example.com")
        assert ready(srv).status_code == 200
        for name in ("apextrade.db", "apextrade.db-wal", "apextrade.db-shm"):
            if os.path.exists(tmp_path / name):
                os.unlink(tmp_path / name)
        r = ready(srv)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", r.text
        time.sleep(0.2)
        assert "deleted or replaced" in srv.log_text()  # the operator learns why
        # A write would land in a file no one will open again: refused, not answered 201.
        r = srv.client.post("/api/v1/auth/register", json={"email": "after@example.com", "password": PASSWORD})
        assert r.status_code >= 500 and r.headers["content-type"] == "application/problem+json", r.text
    finally:
        srv.stop()


def test_a_corrupt_database_is_refused_at_start(tmp_path):
    srv = Server(tmp_path)
    signed_in(srv.client, "someone@example.com")
    srv.stop()
    db = tmp_path / "apextrade.db"
    size = os.path.getsize(db)
    assert size > 8 * 4096
    with open(db, "r+b") as f:  # pages 3 to 6 become garbage; the header stays
        f.seek(2 * 4096)
        f.write(os.urandom(4 * 4096))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(APEX_DATA_DIR=str(tmp_path))
    p = subprocess.run([BIN, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0, p.stderr
    assert "apextrade.db" in p.stderr and ("corrupt" in p.stderr or "malformed" in p.stderr), p.stderr


def test_a_full_disk_makes_the_server_unready_until_it_has_room(tmp_path):
    # The file size limit stands in for a full disk: writes past it fail with EFBIG ("disk full").
    srv = Server(tmp_path)
    signed_in(srv.client, "first@example.com")
    srv.stop()
    limit = sum(os.path.getsize(tmp_path / n) for n in os.listdir(tmp_path) if n.startswith("apextrade.db"))
    limit = max(limit, os.path.getsize(tmp_path / "apextrade.db")) + 64 * 1024

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(APEX_DATA_DIR=str(tmp_path), ACCESS_LOG="errors")
    log = open(tmp_path / "full.log", "w")
    proc = subprocess.Popen([BIN, "serve", "--port", "0"], env=env, stdout=log, stderr=log, preexec_fn=cap)
    try:
        base = None
        for _ in range(200):
            text = (tmp_path / "full.log").read_text()
            if "listening on " in text:
                base = text.split("listening on ")[1].split()[0]
                break
            time.sleep(0.05)
        assert base, (tmp_path / "full.log").read_text()
        c = httpx.Client(base_url=base, timeout=10)
        statuses = set()
        big = "x" * 90
        for i in range(400):  # accounts until the file cannot grow
            r = c.post("/api/v1/auth/register", json={"email": f"u{i}@example.com", "password": PASSWORD,
                                                      "first_name": big, "last_name": big})
            statuses.add(r.status_code)
            if r.status_code >= 500:
                break
        assert max(statuses) >= 500, statuses  # the disk is full now
        r = c.get("/readyz")
        assert r.status_code == 503, r.text
        assert "left to write" in (tmp_path / "full.log").read_text()
        # Room again: the next readiness probe writes, and the server is ready.
        subprocess.run(["prlimit", f"--pid={proc.pid}", "--fsize=unlimited"], check=True)
        r = c.get("/readyz")
        assert r.status_code == 200, r.text
        assert c.post("/api/v1/auth/register", json={"email": "after@example.com", "password": PASSWORD}).status_code == 201
        c.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        log.close()


def test_a_page_corrupted_while_the_server_runs_is_found_without_any_request(tmp_path):
    # The first start writes the schema, the stop checkpoints it into the file: every page of the
    # empty equity_history table is then in apextrade.db itself, not in the WAL.
    Server(tmp_path).stop()
    db = tmp_path / "apextrade.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'equity_history'").fetchone()[0]
    con.close()
    srv = Server(tmp_path, env={"DB_CHECK_INTERVAL_SECONDS": "1"})
    try:
        assert ready(srv).status_code == 200
        # Nothing the server does touches equity_history (no portfolio exists), and from here the
        # only requests are readiness probes: only the periodic check can find the damage.
        with open(db, "r+b") as f:
            f.seek((root - 1) * page_size)
            f.write(os.urandom(page_size))
        deadline = time.monotonic() + 6  # a few intervals
        r = ready(srv)
        while r.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            r = ready(srv)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", r.text
        log = srv.log_text()
        assert "database check failed" in log and "apextrade.db is corrupt" in log, log[-3000:]
        assert "equity_history" not in log  # no query met the table: the check found it
    finally:
        srv.stop()

