"""Backtests as a careless or greedy user submits them: 300 indicators on 2 M candles took 4.95 GB
(no bound), one user's 200 submissions starved everyone else's, and the submit request itself
loaded every candle on the HTTP thread."""
import copy
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, PASSWORD, Server, signed_in

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def server_with_candles(tmp_path, env=None):
    data_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    data_env.update(APEX_DATA_DIR=str(tmp_path))
    if os.environ.get("APEX_TEST_PG_URL"):
        data_env["DATABASE_URL"] = os.environ["APEX_TEST_PG_URL"]
    subprocess.run([BIN, "data", "import", os.path.join(ROOT, "data", "orcl-1995-2014.csv"), "--symbol", "ORCL",
                    "--timeframe", "1d"], env=data_env, check=True, capture_output=True)
    return Server(tmp_path, env=env)


def example():
    with open(os.path.join(ROOT, "examples", "rsi_mean_reversion.json")) as f:
        return json.load(f)


def test_a_backtest_above_the_memory_cap_is_refused_with_the_estimate(tmp_path):
    srv = server_with_candles(tmp_path, env={"BACKTEST_MAX_MEMORY_MB": "8"})
    try:
        c = srv.client
        h = signed_in(c, "greedy@example.com")
        doc = copy.deepcopy(example())
        # One indicator column on ~5,000 stored candles: under 1 MiB...
        small = c.post("/api/v1/strategies", json=doc, headers=h).json()["id"]
        assert c.post("/api/v1/backtests", json={"strategy_id": small}, headers=h).status_code == 202
        # ...and 250 SMA periods in one rule: 250 columns, about 10 MiB.
        doc["rules"][0]["conditions"] = [
            {"indicator": "SMA", "params": {"period": p}, "operator": "greater_than", "value": 0}
            for p in range(2, 252)]
        r = c.post("/api/v1/strategies", json=doc, headers=h)
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/backtests", json={"strategy_id": r.json()["id"]}, headers=h)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        detail = r.json()["detail"]
        assert "MiB" in detail and "8 MiB" in detail and "BACKTEST_MAX_MEMORY_MB" in detail, detail
        # A document with more indicator outputs than any backtest may hold is refused at the door.
        doc["rules"][0]["conditions"] = [
            {"indicator": "SMA", "params": {"period": p}, "operator": "greater_than", "value": 0}
            for p in range(2, 302)]
        r = c.post("/api/v1/strategies", json=doc, headers=h)
        assert r.status_code == 422 and "at most 256" in r.text and "/rules" in r.text, r.text
    finally:
        srv.stop()

# The per-user cap and the turns users take in the queue are proven deterministically in
# tests/unit/test_backtest_events.c and tests/unit/test_jobs.c (a held worker): over HTTP the
# backtests here finish faster than a client can queue them.


@pytest.mark.skipif(bool(os.environ.get("APEX_TEST_PG_URL")), reason="edits the SQLite file directly")
def test_the_per_user_cap_counts_backtests_a_killed_server_left_running(tmp_path):
    """The cap counted the process's own queue: after a kill -9 and a restart, the backtests the dead
    server was running (their leases not yet expired) counted for nothing and the user could start
    as many again. The store counts them now."""
    env = {"BACKTEST_MAX_PER_USER": "3", "BACKTEST_LEASE_SECONDS": "2"}
    srv = server_with_candles(tmp_path, env=env)
    try:
        c = srv.client
        h = signed_in(c, "greedy@example.com")
        sid = c.post("/api/v1/strategies", json=example(), headers=h).json()["id"]
        ids = []
        for _ in range(3):
            r = c.post("/api/v1/backtests", json={"strategy_id": sid}, headers=h)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
    finally:
        srv.proc.send_signal(signal.SIGKILL)  # a crash: no chance to put anything back
        srv.proc.wait()
        srv.client.close()
        srv.log.close()
    # Over HTTP the runs finish before the kill lands: make it look as if it came in the middle of
    # all three, each still under the dead process's lease for a few seconds more.
    db = sqlite3.connect(tmp_path / "apextrade.db")
    db.execute("UPDATE backtests SET status = 'running', progress_pct = 40, lease_owner = 'dead:1/0', "
               "lease_until = ? WHERE id IN (?, ?, ?)", (int(time.time() * 1000) + 8000, *ids))
    db.commit()
    db.close()

    srv = Server(tmp_path, env=env)
    try:
        c = srv.client
        r = c.post("/api/v1/backtests", json={"strategy_id": sid}, headers=h)
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json", r.text
        assert int(r.headers["retry-after"]) > 0
        other = signed_in(c, "patient@example.com")
        osid = c.post("/api/v1/strategies", json=example(), headers=other).json()["id"]
        r = c.post("/api/v1/backtests", json={"strategy_id": osid}, headers=other)
        assert r.status_code == 202, r.text  # the cap is per user
        # Once the dead leases expire the three run again here, and finishing frees the cap.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(c.get(f"/api/v1/backtests/{i}", headers=h).json()["status"] == "completed" for i in ids):
                break
            time.sleep(0.2)
        r = c.post("/api/v1/backtests", json={"strategy_id": sid}, headers=h)
        assert r.status_code == 202, r.text
    finally:
        srv.stop()


def test_the_backtest_list_embeds_no_curves(tmp_path):
    import time
    srv = server_with_candles(tmp_path)
    try:
        c = srv.client
        h = signed_in(c, "lister@example.com")
        sid = c.post("/api/v1/strategies", json=example(), headers=h).json()["id"]
        ids = [c.post("/api/v1/backtests", json={"strategy_id": sid}, headers=h).json()["id"] for _ in range(3)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(c.get(f"/api/v1/backtests/{i}", headers=h).json()["status"] == "completed" for i in ids):
                break
            time.sleep(0.2)
        one = c.get(f"/api/v1/backtests/{ids[0]}", headers=h).json()
        assert len(one["equity_curve"]) > 100  # the resource itself has its curve...
        page = c.get("/api/v1/backtests", headers=h, params={"limit": 100}).json()
        assert page["total"] == 3 and len(page["items"]) == 3
        for item in page["items"]:
            assert item["status"] == "completed" and "sharpe_ratio" in item  # ...the list its metrics
            assert not [k for k, v in item.items() if isinstance(v, list)], item.keys()  # and no arrays
        r = c.get("/api/v1/backtests", headers=h, params={"limit": 101})
        assert r.status_code == 422, r.text  # pages are bounded
    finally:
        srv.stop()


def test_version_history_is_paged_without_documents(server):
    c = server.client
    h = signed_in(c, "editor@example.com")
    doc = example()
    doc["description"] = "x" * 200000  # a large document, saved 12 times
    sid = c.post("/api/v1/strategies", json=doc, headers=h).json()["id"]
    for i in range(11):
        r = c.put(f"/api/v1/strategies/{sid}", json=dict(doc, name=f"v{i + 2}"), headers=h)
        assert r.status_code == 200, r.text
    r = c.get(f"/api/v1/strategies/{sid}/versions", headers=h, params={"limit": 5})
    page = r.json()
    assert page["total"] == 12 and [v["version"] for v in page["items"]] == [12, 11, 10, 9, 8]
    assert len(r.content) < 4096 and all("definition" not in v for v in page["items"])  # was 69 MB for many
    page3 = c.get(f"/api/v1/strategies/{sid}/versions", headers=h, params={"limit": 5, "page": 3}).json()
    assert [v["version"] for v in page3["items"]] == [2, 1]
    one = c.get(f"/api/v1/strategies/{sid}/versions/1", headers=h).json()
    assert one["version"] == 1 and one["definition"]["description"] == doc["description"]
    for bad in ("13", "0", "-1", "x", "99999999999"):
        r = c.get(f"/api/v1/strategies/{sid}/versions/{bad}", headers=h)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", (bad, r.text)
    other = signed_in(c, "peeker@example.com")
    assert c.get(f"/api/v1/strategies/{sid}/versions/1", headers=other).status_code == 404
    assert c.get(f"/api/v1/strategies/{sid}/versions", headers=other).status_code == 404
    assert c.get(f"/api/v1/strategies/{sid}/versions", headers=h, params={"limit": 101}).status_code == 422
