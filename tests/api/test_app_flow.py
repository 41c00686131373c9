"""The API as a user meets it: accounts, strategies, backtests and market data against a real
`apextrade serve` on a free port, with the ORCL sample imported into a fresh data directory.
Expected numbers come from backtrader's run of the same strategy (../shared/reference)."""
import json
import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("APEX_BIN", os.path.join(ROOT, "build", "apextrade"))
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    env = dict(os.environ, APEX_DATA_DIR=str(data))
    if os.environ.get("APEX_TEST_PG_URL"):
        env["DATABASE_URL"] = os.environ["APEX_TEST_PG_URL"]
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([BIN, "data", "import", os.path.join(ROOT, "data", "orcl-1995-2014.csv"),
                    "--symbol", "ORCL", "--timeframe", "1d"], env=env, check=True, capture_output=True)
    port = free_port()
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (data / "server.log").read_text())
    with httpx.Client(base_url=base, timeout=10) as client:
        client.log_path = data / "server.log"
        yield client
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    log.close()


def register(api, email):
    r = api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def auth(tokens):
    return {"Authorization": "Bearer " + tokens["access_token"]}


def problem(r, status, code=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    if code is not None:
        assert body["code"] == code, body
    return body


def example(name):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return json.load(f)


def wait_done(api, h, bid):
    for _ in range(300):
        b = api.get(f"/api/v1/backtests/{bid}", headers=h).json()
        if b["status"] not in ("pending", "running"):
            return b
        time.sleep(0.05)
    pytest.fail("backtest did not finish")


def test_register_login_me_and_profile(api):
    t = register(api, "alice@example.com")
    assert t["token_type"] == "bearer" and t["expires_in"] == 900 and t["refresh_token"]
    me = api.get("/api/v1/auth/me", headers=auth(t))
    assert me.status_code == 200 and me.json()["email"] == "alice@example.com"
    r = api.patch("/api/v1/auth/me", headers=auth(t), json={"timezone": "America/New_York", "preferred_currency": "USD"})
    assert r.status_code == 200 and r.json()["preferred_currency"] == "USD"
    problem(api.patch("/api/v1/auth/me", headers=auth(t), json={"preferred_currency": "dollars"}), 422)
    problem(api.post("/api/v1/auth/register", json={"email": "alice@example.com", "password": PASSWORD}), 409)
    body = problem(api.post("/api/v1/auth/register", json={"email": "nope", "password": "short"}), 422)
    assert {e["field"] for e in body["errors"]} == {"email", "password"}
    problem(api.post("/api/v1/auth/register", json={"email": "b@example.com", "password": "b@example.com"}), 422)
    problem(api.post("/api/v1/auth/login", json={"email": "alice@example.com", "password": "wrong password"}), 401, 1001)
    problem(api.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}), 401, 1001)


def test_tokens_are_checked(api):
    problem(api.get("/api/v1/strategies"), 401, 1003)
    problem(api.get("/api/v1/strategies", headers={"Authorization": "Bearer not.a.token"}), 401, 1003)
    t = register(api, "tokens@example.com")
    # a refresh token is not an access token
    problem(api.get("/api/v1/strategies", headers={"Authorization": "Bearer " + t["refresh_token"]}), 401, 1003)
    head, payload, sig = t["access_token"].split(".")
    forged = head + "." + payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + sig
    problem(api.get("/api/v1/strategies", headers={"Authorization": "Bearer " + forged}), 401, 1003)


def test_refresh_rotation_and_reuse_detection(api):
    t = register(api, "rotate@example.com")
    r1 = api.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]})
    assert r1.status_code == 200, r1.text
    new = r1.json()
    assert new["refresh_token"] != t["refresh_token"]
    assert "HttpOnly" in r1.headers["set-cookie"] and "SameSite=Strict" in r1.headers["set-cookie"]
    assert api.get("/api/v1/auth/me", headers=auth(new)).status_code == 200
    # the old token again: reuse, so the whole family ends, the new token included
    problem(api.post("/api/v1/auth/refresh", json={"refresh_token": t["refresh_token"]}), 401, 1004)
    problem(api.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}), 401, 1004)
    # logout revokes
    t2 = api.post("/api/v1/auth/login", json={"email": "rotate@example.com", "password": PASSWORD}).json()
    assert api.post("/api/v1/auth/logout", json={"refresh_token": t2["refresh_token"]}).status_code == 204
    problem(api.post("/api/v1/auth/refresh", json={"refresh_token": t2["refresh_token"]}), 401, 1004)


def test_strategy_lifecycle(api):
    h = auth(register(api, "strat@example.com"))
    doc = example("rsi_mean_reversion.json")
    r = api.post("/api/v1/strategies", headers=h, json=doc)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["name"] == doc["name"] and s["asset_symbol"] == "ORCL" and s["timeframe"] == "1d"
    assert s["status"] == "draft" and s["version"] == 1 and s["max_position_size_pct"] == 95
    assert r.headers["location"] == "/api/v1/strategies/" + s["id"]
    sid = s["id"]
    assert api.get(f"/api/v1/strategies/{sid}", headers=h).json()["definition"] == doc
    doc2 = dict(doc, name="RSI 25/75")
    r = api.put(f"/api/v1/strategies/{sid}", headers=h, json=doc2)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["name"] == "RSI 25/75"
    v = api.get(f"/api/v1/strategies/{sid}/versions", headers=h).json()
    assert [x["version"] for x in v["items"]] == [2, 1]
    c = api.post(f"/api/v1/strategies/{sid}/clone", headers=h)
    assert c.status_code == 201 and c.json()["id"] != sid and c.json()["version"] == 1
    pf = api.post("/api/v1/portfolios", headers=h, json={"name": "paper", "base_currency": "USD",
                                                          "initial_balance": "10000"}).json()["id"]
    problem(api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": 5}), 422)
    # Without portfolio_id: the user's only paper portfolio.
    a = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper"})
    assert a.status_code == 200 and a.json()["status"] == "active" and a.json()["trading_mode"] == "paper"
    assert api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()["portfolio_id"] == pf
    problem(api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": pf}),
            409, 2003)
    problem(api.post(f"/api/v1/strategies/{c.json()['id']}/activate", headers=h, json={"mode": "live"}), 403)
    assert api.post(f"/api/v1/strategies/{sid}/deactivate", headers=h).json()["status"] == "paused"
    lst = api.get("/api/v1/strategies", headers=h, params={"limit": 1}).json()
    assert lst["total"] == 2 and len(lst["items"]) == 1 and lst["page"] == 1
    assert api.get("/api/v1/strategies", headers=h, params={"status": "paused"}).json()["total"] == 1
    assert api.get("/api/v1/strategies", headers=h, params={"symbol": "BTC/USDT"}).json()["total"] == 0
    problem(api.get("/api/v1/strategies", headers=h, params={"limit": 0}), 422)
    assert api.delete(f"/api/v1/strategies/{c.json()['id']}", headers=h).status_code == 204
    problem(api.get(f"/api/v1/strategies/{c.json()['id']}", headers=h), 404, 2001)


def test_invalid_strategy_lists_every_problem(api):
    h = auth(register(api, "invalid@example.com"))
    doc = example("rsi_mean_reversion.json")
    doc["rules"][0]["conditions"][0]["params"]["period"] = 0
    doc["rules"][1]["conditions"][0]["operator"] = "bigger"
    body = problem(api.post("/api/v1/strategies", headers=h, json=doc), 422, 2002)
    pointers = {e["pointer"] for e in body["errors"]}
    assert "/rules/0/conditions/0/params/period" in pointers
    assert any(p.startswith("/rules/1/conditions/0") for p in pointers)
    problem(api.post("/api/v1/strategies", headers={**h, "Content-Type": "application/json"}, content=b'{"name": '), 400)


def test_backtest_reproduces_backtrader(api):
    h = auth(register(api, "bt@example.com"))
    sid = api.post("/api/v1/strategies", headers=h, json=example("rsi_mean_reversion.json")).json()["id"]
    r = api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid, "initial_capital": 10000,
                                                      "commission_pct": 0.1, "slippage_pct": 0})
    assert r.status_code == 202, r.text
    bid = r.json()["id"]
    assert r.json()["status"] in ("pending", "running", "completed")
    b = wait_done(api, h, bid)
    assert b["status"] == "completed", b
    assert b["progress_pct"] == 100 and b["total_trades"] == 14
    assert abs(float(b["final_capital"]) / 39395.39527213418 - 1) < 1e-6
    assert b["equity_curve"] and b["monthly_returns"] and "sharpe_ratio" in b
    t = api.get(f"/api/v1/backtests/{bid}/trades", headers=h, params={"limit": 10}).json()
    assert t["total"] == 14 and len(t["items"]) == 10
    assert t["items"][0]["entry_time"].startswith("1996-04-10") and t["items"][0]["exit_reason"] == "signal"
    t2 = api.get(f"/api/v1/backtests/{bid}/trades", headers=h, params={"limit": 10, "page": 2}).json()
    assert len(t2["items"]) == 4
    e = api.get(f"/api/v1/backtests/{bid}/equity", headers=h, params={"limit": 100}).json()
    assert e["total"] == 5036 and len(e["items"]) == 100
    assert api.get("/api/v1/backtests", headers=h).json()["total"] == 1
    problem(api.get(f"/api/v1/backtests/{bid}/report", headers=h), 404)
    problem(api.delete(f"/api/v1/backtests/{bid}", headers=h), 409)


def test_backtest_needs_stored_candles(api):
    h = auth(register(api, "nodata@example.com"))
    sid = api.post("/api/v1/strategies", headers=h, json=example("sma_crossover.json")).json()["id"]
    problem(api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid}), 422, 3001)
    sid2 = api.post("/api/v1/strategies", headers=h, json=example("rsi_mean_reversion.json")).json()["id"]
    problem(api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid2, "start_date": "2030-01-01"}), 422, 3001)
    problem(api.post("/api/v1/backtests", headers=h, json={"strategy_id": "00000000-0000-4000-8000-000000000000"}), 404, 2001)
    body = problem(api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid2, "initial_capital": -5}), 422)
    assert body["errors"][0]["pointer"] == "/initial_capital"


MISSING_ID = "00000000-0000-4000-8000-000000000000"


def assert_hidden(api, method, path, real_id, headers, **kw):
    """The other user's answer is a 404 indistinguishable from the answer for an id that does not
    exist (same status, code, title and detail once the id is swapped): nothing tells them the
    resource is there."""
    r = api.request(method, path, headers=headers, **kw)
    body = problem(r, 404)
    missing = api.request(method, path.replace(real_id, MISSING_ID), headers=headers, **kw)
    want = problem(missing, 404)
    for field in ("code", "title", "detail", "type"):
        got = body.get(field)
        if isinstance(got, str):
            got = got.replace(real_id, MISSING_ID)
        assert got == want.get(field), (method, path, field, body, want)


def test_other_users_see_nothing(api):
    ha = auth(register(api, "owner@example.com"))
    hb = auth(register(api, "intruder@example.com"))
    doc = example("rsi_mean_reversion.json")
    sid = api.post("/api/v1/strategies", headers=ha, json=doc).json()["id"]
    bid = api.post("/api/v1/backtests", headers=ha, json={"strategy_id": sid}).json()["id"]
    assert wait_done(api, ha, bid)["status"] == "completed"
    pf = api.post("/api/v1/portfolios", headers=ha, json={"name": "paper", "base_currency": "USD",
                                                           "initial_balance": "10000"}).json()["id"]
    # Each route first answers its owner (so it works and the resource exists), then hides the
    # resource from the other user. Activate/deactivate alternate so each call would succeed.
    for method, path, kw, owner_status in [
            ("GET", f"/api/v1/strategies/{sid}", {}, 200),
            ("PUT", f"/api/v1/strategies/{sid}", {"json": doc}, 200),
            ("POST", f"/api/v1/strategies/{sid}/activate", {"json": {"mode": "paper", "portfolio_id": pf}}, 200),
            ("GET", f"/api/v1/strategies/{sid}/run", {}, 200),
            ("GET", f"/api/v1/strategies/{sid}/refusals", {}, 200),
            ("POST", f"/api/v1/strategies/{sid}/deactivate", {}, 200),
            ("POST", f"/api/v1/strategies/{sid}/clone", {}, 201),
            ("GET", f"/api/v1/strategies/{sid}/versions", {}, 200),
            ("GET", f"/api/v1/backtests/{bid}", {}, 200),
            ("GET", f"/api/v1/backtests/{bid}/trades", {}, 200),
            ("GET", f"/api/v1/backtests/{bid}/equity", {}, 200)]:
        r = api.request(method, path, headers=ha, **kw)
        assert r.status_code == owner_status, (method, path, r.status_code, r.text)
        assert_hidden(api, method, path, sid if sid in path else bid, hb, **kw)
    # The intruder's PUT made no version; the strategy is as its owner left it (paused).
    assert api.get(f"/api/v1/strategies/{sid}/versions", headers=ha).json()["total"] == 2
    assert api.get(f"/api/v1/strategies/{sid}", headers=ha).json()["status"] == "paused"
    problem(api.post("/api/v1/backtests", headers=hb, json={"strategy_id": sid}), 404, 2001)
    # The report is not implemented yet: its owner gets a 404 that says so, which is not the
    # not-found answer the other user gets (so this still shows the backtest is looked up per user).
    mine = problem(api.get(f"/api/v1/backtests/{bid}/report", headers=ha), 404)
    absent = problem(api.get(f"/api/v1/backtests/{MISSING_ID}/report", headers=ha), 404)
    assert "report" in (mine.get("detail") or "").lower() and mine.get("detail") != absent.get("detail"), mine
    assert_hidden(api, "GET", f"/api/v1/backtests/{bid}/report", bid, hb)
    # Deletes: the other user first (404, and nothing deleted), then the owner. A finished backtest
    # cannot be cancelled: its owner gets 409, not 404, so the backtest was found for them.
    assert_hidden(api, "DELETE", f"/api/v1/backtests/{bid}", bid, hb)
    problem(api.delete(f"/api/v1/backtests/{bid}", headers=ha), 409)
    assert_hidden(api, "DELETE", f"/api/v1/strategies/{sid}", sid, hb)
    assert api.delete(f"/api/v1/strategies/{sid}", headers=ha).status_code == 204
    assert api.get("/api/v1/strategies", headers=hb).json()["total"] == 0
    assert api.get("/api/v1/backtests", headers=hb).json()["total"] == 0


def test_market_data_from_the_store(api):
    h = auth(register(api, "market@example.com"))
    syms = api.get("/api/v1/market/symbols", headers=h).json()["items"]
    assert {"symbol": "ORCL", "timeframe": "1d"}.items() <= syms[0].items() and syms[0]["candles"] == 5036
    tick = api.get("/api/v1/market/ticker/ORCL", headers=h).json()
    assert tick["price"] == 44.970001 and tick["timestamp"].startswith("2014-12-31")
    w = api.get("/api/v1/market/ohlcv/ORCL", headers=h, params={"timeframe": "1w", "limit": 3}).json()["items"]
    assert len(w) == 3 and w[-1]["time"].startswith("2014-12-29")  # weeks start on Monday
    d = api.get("/api/v1/market/ohlcv/ORCL", headers=h,
                params={"timeframe": "1d", "start": "2014-12-29", "end": "2015-01-01"}).json()["items"]
    assert [c["time"][:10] for c in d] == ["2014-12-29", "2014-12-30", "2014-12-31"]
    problem(api.get("/api/v1/market/ticker/NOPE", headers=h), 404, 5001)
    problem(api.get("/api/v1/market/ohlcv/ORCL", headers=h, params={"timeframe": "1m"}), 422)
    problem(api.get("/api/v1/market/orderbook/ORCL", headers=h), 422)  # not a pair Binance could have
    problem(api.get("/api/v1/market/orderbook/BTC%2FUSDT", headers=h), 503)  # the venue (the discard port) refuses


def test_forgot_and_reset_password(api):
    import re
    register(api, "forgot@example.com")
    r = api.post("/api/v1/auth/forgot", json={"email": "forgot@example.com"})
    assert r.status_code == 202
    assert api.post("/api/v1/auth/forgot", json={"email": "unknown@example.com"}).status_code == 202
    problem(api.post("/api/v1/auth/reset", json={"token": "x" * 43, "password": "another good one"}), 401, 1004)
    # Without SMTP_URL the mail goes to the server log, where an operator can read it.
    time.sleep(0.2)
    tokens = re.findall(r"Reset token \(valid 30 minutes, once\): ([A-Za-z0-9_-]{43})", api.log_path.read_text())
    assert tokens, "reset mail not in the server log"
    assert api.post("/api/v1/auth/reset", json={"token": tokens[-1], "password": "another good one"}).status_code == 204
    problem(api.post("/api/v1/auth/reset", json={"token": tokens[-1], "password": "yet another one"}), 401, 1004)
    problem(api.post("/api/v1/auth/login", json={"email": "forgot@example.com", "password": PASSWORD}), 401, 1001)
    assert api.post("/api/v1/auth/login", json={"email": "forgot@example.com", "password": "another good one"}).status_code == 200


def test_twenty_backtests_at_once(api):
    import concurrent.futures
    h = auth(register(api, "many@example.com"))
    sid = api.post("/api/v1/strategies", headers=h, json=example("rsi_mean_reversion.json")).json()["id"]

    def submit(i):
        return api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid, "initial_capital": 1000 + i})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(submit, range(20)))
    assert all(r.status_code == 202 for r in answers), [r.text for r in answers if r.status_code != 202]
    done = [wait_done(api, h, r.json()["id"]) for r in answers]
    assert all(b["status"] == "completed" and b["total_trades"] == 14 for b in done)
    # the same strategy scaled: final capital scales with the initial capital
    for r, b in zip(answers, done):
        cap = float(b["initial_capital"])
        assert abs(float(b["final_capital"]) / cap - 3.9395395) < 1e-3
    assert api.get("/api/v1/backtests", headers=h, params={"limit": 100}).json()["total"] == 20


def test_login_is_rate_limited_per_email(api):
    register(api, "limited@example.com")
    codes = [api.post("/api/v1/auth/login", json={"email": "limited@example.com", "password": "wrong password"}).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]  # five wrong passwords a minute, then the account is shielded
    r = api.post("/api/v1/auth/login", json={"email": "limited@example.com", "password": PASSWORD})
    body = problem(r, 429)
    assert 1 <= int(r.headers["retry-after"]) <= 60 and body["detail"]


def test_the_specifications_example_strategy(api):
    """The spec's strategy (BTC/USDT 1h) over 1-minute candles in the store: resampled by the job."""
    h = auth(register(api, "spec@example.com"))
    subprocess.run([BIN, "data", "import", os.path.join(ROOT, "data", "btc-usdt-1m.json"), "--symbol", "BTC/USDT",
                    "--timeframe", "1m"], env=dict(os.environ, APEX_DATA_DIR=str(api.log_path.parent),
                                                   **({"DATABASE_URL": os.environ["APEX_TEST_PG_URL"]}
                                                      if os.environ.get("APEX_TEST_PG_URL") else {})),
                   check=True, capture_output=True)
    s = api.post("/api/v1/strategies", headers=h, json=example("mean_reversion_btc.json"))
    assert s.status_code == 201, s.text
    assert s.json()["stop_loss_pct"] == 2 and s.json()["max_position_size_pct"] == 10
    r = api.post("/api/v1/backtests", headers=h, json={"strategy_id": s.json()["id"]})
    assert r.status_code == 202, r.text
    b = wait_done(api, h, r.json()["id"])
    assert b["status"] == "completed" and b["stats"]["bars"] == 240  # 240 hours from 13,681 minutes
    assert b["final_capital"] == "10000"


def test_cancel_a_queued_backtest(api):
    """DELETE on a backtest that has not finished: 200 with the spec's 3003, and it stays cancelled."""
    h = auth(register(api, "cancel@example.com"))
    sid = api.post("/api/v1/strategies", headers=h, json=example("rsi_mean_reversion.json")).json()["id"]
    import concurrent.futures
    # Many at once, so the 4 workers leave a queue behind; then cancel them all at once.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: api.post("/api/v1/backtests", headers=h,
                                               json={"strategy_id": sid}).json()["id"], range(40)))
        answers = list(pool.map(lambda bid: (bid, api.delete(f"/api/v1/backtests/{bid}", headers=h)),
                                reversed(ids)))
    cancelled = []
    for bid, r in answers:
        if r.status_code == 200:
            assert r.json()["code"] == 3003 and r.json()["status"] == "cancelled"
            cancelled.append(bid)
        else:
            problem(r, 409)  # finished first: nothing to cancel
    assert cancelled, "every one of 40 backtests had finished before its cancel"
    for bid in ids:
        wait_done(api, h, bid)
    time.sleep(0.3)
    for bid in cancelled:
        b = api.get(f"/api/v1/backtests/{bid}", headers=h).json()
        assert b["status"] == "cancelled" and b["error_code"] == 3003, b
        assert api.get(f"/api/v1/backtests/{bid}/trades", headers=h).json()["total"] == 0
