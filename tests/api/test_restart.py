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
    env = dict(os.environ, APEX_DATA_DIR=str(tmp_path))
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
