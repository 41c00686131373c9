"""`apextrade db backup` and `db restore` (SQLite's online backup): a copy taken while the server
writes is one consistent snapshot, and restoring it into a fresh data directory brings back
everything it holds; a restore is refused while a server runs on the directory."""
import os
import sqlite3
import subprocess
import threading

import httpx
import pytest

from conftest import BIN, PASSWORD, Server

pytestmark = pytest.mark.skipif(bool(os.environ.get("APEX_TEST_PG_URL")), reason="SQLite's online backup")


def run(args, data_dir):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["APEX_DATA_DIR"] = str(data_dir)
    return subprocess.run([BIN, "db", *args], env=env, capture_output=True, text=True, timeout=60)


def test_backup_under_write_load_restores_into_a_fresh_directory(tmp_path):
    src, dst, copy = tmp_path / "src", tmp_path / "dst", tmp_path / "copy.db"
    src.mkdir(), dst.mkdir()
    srv = Server(src)
    registered, stop = [], threading.Event()

    def writer():
        with httpx.Client(base_url=srv.base, timeout=10) as c:
            i = 0
            while not stop.is_set():
                email = f"w{i}@example.com"
                if c.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201:
                    registered.append(email)
                i += 1

    threads = [threading.Thread(target=writer) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        while len(registered) < 20:
            threading.Event().wait(0.05)
        before = list(registered)  # committed before the backup began
        p = run(["backup", str(copy)], src)
        assert p.returncode == 0, p.stderr
    finally:
        stop.set()
        for t in threads:
            t.join()
        srv.stop()
    # One consistent file: whole, and every account committed before the backup is in it.
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    emails = {r[0] for r in con.execute("SELECT email FROM users")}
    con.close()
    assert set(before) <= emails
    assert not os.path.exists(str(copy) + "-wal")  # a single file to carry away
    # A second backup never overwrites a file.
    p = run(["backup", str(copy)], src)
    assert p.returncode == 2 and "exists" in p.stderr, p.stderr

    p = run(["restore", str(copy)], dst)
    assert p.returncode == 0, p.stderr
    srv = Server(dst)
    try:
        for email in sorted(emails)[:5] + before[-3:]:
            r = srv.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert r.status_code == 200, (email, r.text)
        # A restore while a server runs on the directory is refused, and changes nothing.
        p = run(["restore", str(copy)], dst)
        assert p.returncode != 0 and "server is running" in p.stderr, p.stderr
    finally:
        srv.stop()


def test_restore_refuses_what_is_not_a_whole_apextrade_database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(8192))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    (tmp_path / "d").mkdir()
    for f in (junk, other, tmp_path / "missing.db"):
        p = run(["restore", str(f)], tmp_path / "d")
        assert p.returncode != 0 and str(f) in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not os.path.exists(tmp_path / "d" / "apextrade.db") or os.path.getsize(tmp_path / "d" / "apextrade.db") == 0
