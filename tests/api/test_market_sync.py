"""Market-data jobs (spec 3.3.4) through the API, against tests/market/stub_binance.py on
127.0.0.1: POST /market/sync downloads a pair's candles into the store in the background and GET
/market/sync/{id} tells how it went; bad requests, another user's job, a venue that is down or
does not list the pair; and an activation on the live feed fetching the run's warm-up history."""
import json
import os
import subprocess
import time

import pytest

from conftest import ROOT, assert_problem
from test_paper import login, serve

STUB = os.path.join(ROOT, "tests", "market", "stub_binance.py")
CANDLES = os.path.join(ROOT, "tests", "market", "stub_candles_1m.csv")


def stub_candles():
    with open(CANDLES) as f:
        return [line.split(",") for line in f if line.strip() and not line.startswith("#")]


@pytest.fixture
def venue():
    stub = subprocess.Popen(["/usr/bin/python3", STUB, "--candles", CANDLES], stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(stub.stdout.readline())}"
    finally:
        stub.kill()
        stub.wait()


def wait_job(api, h, job_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/api/v1/market/sync/{job_id}", headers=h)
        assert r.status_code == 200, r.text
        if r.json()["status"] not in ("queued", "running"):
            return r.json()
        time.sleep(0.05)
    pytest.fail(f"job {job_id} did not end: {r.json()}")


def test_a_sync_job_stores_the_venues_candles_and_says_how_it_ended(tmp_path_factory, venue):
    srv = serve(tmp_path_factory.mktemp("apexdata"), {"BINANCE_BASE_URL": venue})
    try:
        api = srv.client
        h = login(api, "sync@example.com")
        r = api.post("/api/v1/market/sync", headers=h, json={"symbol": "BTC/USDT", "timeframe": "1m", "days": 3650})
        assert r.status_code == 202, r.text
        job = r.json()
        assert r.headers["location"] == f"/api/v1/market/sync/{job['id']}"
        assert (job["symbol"], job["timeframe"], job["venue"]) == ("BTC/USDT", "1m", "binance")
        assert job["status"] in ("queued", "running", "completed")
        done = wait_job(api, h, job["id"])
        rows = stub_candles()
        assert done["status"] == "completed" and done["error"] is None, done
        assert done["candles_stored"] == len(rows) and done["finished_at"] >= done["started_at"]
        got = api.get("/api/v1/market/ohlcv/BTC/USDT", headers=h, params={"timeframe": "1m", "limit": 100}).json()
        assert [c["close"] for c in got["items"]] == [float(r[4]) for r in rows]
        # Again: everything is stored already, so nothing more is.
        again = wait_job(api, h, api.post("/api/v1/market/sync", headers=h,
                                          json={"symbol": "BTC/USDT", "timeframe": "1m", "days": 3650}).json()["id"])
        assert again["status"] == "completed" and again["candles_stored"] == 0
        # A pair the venue does not list: the job fails with the API's code for it.
        bad = wait_job(api, h, api.post("/api/v1/market/sync", headers=h,
                                        json={"symbol": "NOPE/USDT", "timeframe": "1h"}).json()["id"])
        assert bad["status"] == "failed" and bad["error_code"] == 5001 and bad["candles_stored"] == 0, bad
        # Only its owner sees a job.
        other = login(api, "sync-other@example.com")
        assert_problem(api.get(f"/api/v1/market/sync/{job['id']}", headers=other), 404)
        assert_problem(api.get("/api/v1/market/sync/not-an-id", headers=h), 404)
        assert api.get(f"/api/v1/market/sync/{job['id']}").status_code == 401
    finally:
        srv.stop()


@pytest.mark.parametrize("body, field", [
    ({"timeframe": "1m"}, "/symbol"),
    ({"symbol": "BTC/USDT"}, "/timeframe"),
    ({"symbol": "ORCL", "timeframe": "1d"}, "/symbol"),
    ({"symbol": "BTC/USDT", "timeframe": "7m"}, "/timeframe"),
    ({"symbol": "BTC/USDT", "timeframe": "1m", "days": 0}, "/days"),
    ({"symbol": "BTC/USDT", "timeframe": "1m", "days": 1.5}, "/days"),
    ({"symbol": "BTC/USDT", "timeframe": "1m", "days": 100000}, "/days"),
    ({"symbol": 5, "timeframe": "1m"}, "/symbol"),
    ({"symbol": "BTC/USDT", "timeframe": "1m", "since": "2024"}, "/since"),
    ({"days": 0}, "/symbol"),  # every problem is listed, a missing field beside a bad one
    ({"symbol": "BTC/USDT", "days": 0}, "/timeframe"),
])
def test_a_bad_sync_request_names_its_field(start_server, body, field):
    api = start_server().client
    h = login(api, "sync-bad@example.com")
    r = api.post("/api/v1/market/sync", headers=h, json=body)
    assert_problem(r, 422)
    assert any(p["pointer"] == field for p in r.json()["errors"]), r.text


def test_a_venue_that_does_not_answer_fails_the_job_not_the_request(tmp_path_factory):
    srv = serve(tmp_path_factory.mktemp("apexdata"), {"BINANCE_BASE_URL": "http://127.0.0.1:9"})
    try:
        api = srv.client
        h = login(api, "sync-down@example.com")
        r = api.post("/api/v1/market/sync", headers=h, json={"symbol": "BTC/USDT", "timeframe": "1d"})
        assert r.status_code == 202, r.text
        done = wait_job(api, h, r.json()["id"])
        assert done["status"] == "failed" and done["error_code"] == 503 and "binance" in done["error"], done
    finally:
        srv.stop()


def test_activating_on_the_live_feed_fetches_the_runs_warm_up_history(tmp_path_factory, tmp_path):
    # Thirty minutes that closed within the run's warm-up (5,000 minutes), the last 10 minutes ago.
    first = (int(time.time()) // 60 - 40) * 60000
    recent = tmp_path / "recent.csv"
    recent.write_text("".join(f"{first + i * 60000},{100 + i},{101 + i},{99 + i},{100.5 + i},1\n" for i in range(30)))
    stub = subprocess.Popen(["/usr/bin/python3", STUB, "--candles", str(recent)], stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(stub.stdout.readline())}"
        srv = serve(tmp_path_factory.mktemp("apexdata"), {"MARKET_FEED": "binance", "BINANCE_BASE_URL": url})
        try:
            api = srv.client
            h = login(api, "sync-warm@example.com")
            with open(os.path.join(ROOT, "examples", "mean_reversion_btc.json")) as f:
                doc = json.load(f)
            doc["timeframe"] = "1m"
            sid = api.post("/api/v1/strategies", headers=h, json=doc).json()["id"]
            assert api.get("/api/v1/market/symbols", headers=h).json()["items"] == []
            assert api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper"}).status_code == 200
            deadline, syms = time.monotonic() + 20, []
            while time.monotonic() < deadline and not syms:
                syms = api.get("/api/v1/market/symbols", headers=h).json()["items"]
                time.sleep(0.1)
            assert [(x["symbol"], x["timeframe"], x["candles"]) for x in syms] == [("BTC/USDT", "1m", 30)], syms
        finally:
            srv.stop()
    finally:
        stub.kill()
        stub.wait()


def test_on_the_live_feed_the_ecb_rates_are_fetched_so_a_eur_portfolio_can_trade_a_usdt_pair(tmp_path_factory,
                                                                                          venue):
    """No FX_RATES_FILE: the rates come from the ECB (its local stand-in, tests/market/stub_ecb.py,
    whose newest USD rate is 1.0705 on 2024-06-28), fetched when the server starts on the live feed."""
    ecb = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "market", "stub_ecb.py")],
                           stdout=subprocess.PIPE, text=True)
    try:
        ecb_url = f"http://127.0.0.1:{int(ecb.stdout.readline())}"
        srv = serve(tmp_path_factory.mktemp("apexdata"), {"MARKET_FEED": "binance", "BINANCE_BASE_URL": venue,
                                                          "ECB_BASE_URL": ecb_url, "FX_RATES_FILE": None})
        try:
            api = srv.client
            h = login(api, "sync-fx@example.com")
            with open(os.path.join(ROOT, "examples", "mean_reversion_btc.json")) as f:
                doc = json.load(f)
            sid = api.post("/api/v1/strategies", headers=h, json=doc).json()["id"]
            pid = api.post("/api/v1/portfolios", headers=h, json={"name": "eur", "base_currency": "EUR",
                                                                  "initial_balance": "1000"}).json()["id"]
            deadline = time.monotonic() + 20
            while True:  # until the start-up fetch has stored the rates
                r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": pid})
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                assert_problem(r, 404, 5001)  # no rate yet
                time.sleep(0.1)
            assert r.status_code == 200, r.text
            run = api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()
            # 1,000 EUR in USDT (taken as USD) at 1.0705
            assert run["fx_rate"] == "1.0705" and run["capital"] == "1070.5", run
            assert "ECB reference rates of the last 90 days stored" in srv.log_text()
        finally:
            srv.stop()
    finally:
        ecb.kill()
        ecb.wait()
