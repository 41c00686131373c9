"""A backtest that was running when the server died runs again after the restart, and SIGTERM
leaves the server's state consistent (exit 0, nothing lost)."""
import os
import signal
import sqlite3
import subprocess
import time

import httpx
import pytest

from test_app_flow import BIN, ROOT, PASSWORD, example, free_port


def start(env):
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                return proc, httpx.Client(base_url=base, timeout=10)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("server did not start")


@pytest.mark.skipif(bool(os.environ.get("APEX_TEST_PG_URL")), reason="edits the SQLite file directly")
def test_unfinished_backtest_runs_again_after_restart(tmp_path):
    # A short lease: the crashed run's claim expires within seconds, then the backtest runs again.
    env = dict(os.environ, APEX_DATA_DIR=str(tmp_path), BACKTEST_LEASE_SECONDS="2")
    subprocess.run([BIN, "data", "import", os.path.join(ROOT, "data", "orcl-1995-2014.csv"), "--symbol", "ORCL",
                    "--timeframe", "1d"], env=env, check=True, capture_output=True)
    proc, api = start(env)
    api.post("/api/v1/auth/register", json={"email": "crash@example.com", "password": PASSWORD})
    tok = api.post("/api/v1/auth/login", json={"email": "crash@example.com", "password": PASSWORD}).json()
    h = {"Authorization": "Bearer " + tok["access_token"]}
    sid = api.post("/api/v1/strategies", headers=h, json=example("rsi_mean_reversion.json")).json()["id"]
    bid = api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid}).json()["id"]
    for _ in range(200):
        if api.get(f"/api/v1/backtests/{bid}", headers=h).json()["status"] == "completed":
            break
        time.sleep(0.05)
    proc.kill()  # a crash: no chance to clean up
    proc.wait()
    # Make it look as if the crash came in the middle of the run.
    db = sqlite3.connect(tmp_path / "apextrade.db")
    db.execute("UPDATE backtests SET status = 'running', progress_pct = 40 WHERE id = ?", (bid,))
    db.commit()
    db.close()
    proc, api = start(env)
    try:
        for _ in range(200):
            b = api.get(f"/api/v1/backtests/{bid}", headers=h).json()
            if b["status"] == "completed":
                break
            time.sleep(0.05)
        assert b["status"] == "completed" and b["total_trades"] == 14
        assert api.get(f"/api/v1/backtests/{bid}/trades", headers=h).json()["total"] == 14  # not doubled
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_production_refuses_missing_or_weak_secrets(tmp_path):
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "API_KEY_ENCRYPTION_KEY", "DATABASE_URL")}
    base.update(APEX_DATA_DIR=str(tmp_path), APP_ENV="production")
    cases = [({}, "SECRET_KEY"),
             ({"SECRET_KEY": "your-secret-key-min-32-chars"}, "SECRET_KEY"),
             ({"SECRET_KEY": "q8Zr2LmX9vTw4NpK7sYb3HcF6gJd1Ae5"}, "API_KEY_ENCRYPTION_KEY"),
             ({"SECRET_KEY": "q8Zr2LmX9vTw4NpK7sYb3HcF6gJd1Ae5", "API_KEY_ENCRYPTION_KEY": "short"}, "API_KEY_ENCRYPTION_KEY")]
    for extra, named in cases:
        r = subprocess.run([BIN, "serve", "--port", "0"], env={**base, **extra}, capture_output=True, text=True, timeout=30)
        assert r.returncode != 0, (extra, r.stderr)
        assert named in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        for secret in extra.values():
            assert len(secret) < 8 or secret not in r.stderr  # never echo a secret
    assert not os.path.exists(tmp_path / "jwt_private.pem")  # nothing generated in production
