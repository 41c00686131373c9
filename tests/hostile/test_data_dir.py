"""The data directory as a careless operator treats it: database files were created 0644 (readable
by every local user, with password hashes and encrypted broker keys inside), and a second server on
the same directory started and ran the first one's backtests again."""
import os
import signal
import stat
import subprocess

from conftest import BIN, Server, signed_in

HARNESS_FILES = {"server.log"}  # written by this test harness, not by the server


def modes(data_dir):
    out = {}
    for root, dirs, files in os.walk(data_dir):
        for name in files + dirs:
            if name in HARNESS_FILES:
                continue
            p = os.path.join(root, name)
            out[os.path.relpath(p, data_dir)] = stat.S_IMODE(os.lstat(p).st_mode)
    return out


def test_everything_the_server_creates_is_private(tmp_path):
    srv = Server(tmp_path)
    signed_in(srv.client, "private@example.com")  # the database is written
    found = modes(srv.data_dir)
    srv.stop()
    assert any(k.startswith("apextrade.db") for k in found), found
    leaky = {k: oct(m) for k, m in found.items() if m & 0o077}
    assert not leaky, leaky
    assert stat.S_IMODE(os.stat(srv.data_dir).st_mode) & 0o077 == 0


def test_database_files_left_readable_are_made_private(tmp_path):
    srv = Server(tmp_path)
    signed_in(srv.client, "legacy@example.com")
    srv.stop()
    db = os.path.join(srv.data_dir, "apextrade.db")
    os.chmod(db, 0o644)  # as an older version left it
    srv = Server(srv.data_dir)
    try:
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
        assert srv.client.post("/api/v1/auth/login", json={"email": "legacy@example.com",
                                                          "password": "correct horse battery"}).status_code == 200
    finally:
        srv.stop()


def second_server(data_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(APEX_DATA_DIR=str(data_dir), APP_ENV="development")
    if os.environ.get("APEX_TEST_PG_URL"):
        env["DATABASE_URL"] = os.environ["APEX_TEST_PG_URL"]
    return subprocess.run([BIN, "serve", "--host", "127.0.0.1", "--port", "0"], env=env, capture_output=True,
                          text=True, timeout=20)


def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path):
    first = Server(tmp_path)
    try:
        p = second_server(first.data_dir)
        assert p.returncode != 0, p.stderr
        assert f"pid {first.proc.pid}" in p.stderr and "data directory" in p.stderr, p.stderr
        assert first.client.get("/healthz").status_code == 200  # the first one is untouched
    finally:
        first.stop()


def test_the_lock_dies_with_its_server_even_on_kill_9(tmp_path):
    first = Server(tmp_path)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    first.client.close()
    again = Server(first.data_dir)  # starts: the kernel dropped the lock with the process
    try:
        assert again.client.get("/healthz").status_code == 200
    finally:
        again.stop()
