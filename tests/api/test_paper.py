"""Paper trading through the API on a replayed feed: a strategy activated on a portfolio trades
candle by candle, and its orders, positions, cash and equity equal what `apextrade backtest`
gives for the same candles (parity, exact decimals), on the BTC and ORCL samples; a `kill -9` in
the middle of a session, then a restart, ends with the same trades, none doubled; refusals and
bad activations answer clearly."""
import csv
import json
import os
import signal
import subprocess
import time
import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import BIN, ROOT, Server, assert_problem

PASSWORD = "paper-Trading-2026!"
BTC = os.path.join(ROOT, "data", "btc-usdt-1m.json")
ORCL = os.path.join(ROOT, "data", "orcl-1995-2014.csv")


def example(name, **changes):
    with open(os.path.join(ROOT, "examples", name)) as f:
        doc = json.load(f)
    doc.update(changes)
    return doc


def db_env(data_dir):
    """On PostgreSQL each data directory gets a database of its own, made here: runs left running by
    one test would otherwise hold the replay of the next (SQLite's file is in the directory)."""
    base = os.environ.get("APEX_TEST_PG_URL")
    if not base:
        return {}
    marker = os.path.join(str(data_dir), ".pg_database")
    if not os.path.exists(marker):
        name = "paper_" + uuid.uuid4().hex[:16]
        subprocess.run(["psql", base, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
        with open(marker, "w") as f:
            f.write(name)
    with open(marker) as f:
        name = f.read()
    return {"DATABASE_URL": base.rsplit("/", 1)[0] + "/" + name}


def serve(data_dir, env):
    return Server(data_dir, env={**env, **db_env(data_dir)})


def import_candles(data_dir, path, symbol, timeframe):
    env = dict(os.environ, APEX_DATA_DIR=str(data_dir))
    env.pop("DATABASE_URL", None)
    env.update(db_env(data_dir))
    subprocess.run([BIN, "data", "import", path, "--symbol", symbol, "--timeframe", timeframe], env=env, check=True,
                   capture_output=True)


def replay_env(path, symbol, timeframe, start, speed="0"):
    return {"MARKET_FEED": "replay", "MARKET_REPLAY_FILE": path, "MARKET_REPLAY_SYMBOL": symbol,
            "MARKET_REPLAY_TIMEFRAME": timeframe, "MARKET_REPLAY_SPEED": speed, "MARKET_REPLAY_FROM": start}


def login(api, email):
    api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    r = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def activate(api, h, doc, currency="USD", balance="10000"):
    pid = api.post("/api/v1/portfolios", headers=h,
                   json={"name": "paper", "base_currency": currency, "initial_balance": balance}).json()["id"]
    r = api.post("/api/v1/strategies", headers=h, json=doc)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": pid})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    return sid, pid


def wait_run(api, h, sid, last_time, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()
        if run.get("last_candle_time") == last_time:
            return run
        assert run["status"] == "running", run
        time.sleep(0.1)
    pytest.fail(f"the run did not reach {last_time}: {run}")


def pages(api, h, path):
    out, page = [], 1
    while True:
        r = api.get(path, headers=h, params={"page": page, "limit": 100})
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["items"]
        if page * 100 >= body["total"]:
            return out
        page += 1


def backtest(strategy, data, start, tmp_path):
    path = tmp_path / "strategy.json"
    path.write_text(json.dumps(strategy))
    eq = tmp_path / "equity.csv"
    out = subprocess.run([BIN, "backtest", "--strategy", str(path), "--data", data, "--start", start, "--json", "-",
                          "--equity", str(eq)], check=True, capture_output=True, text=True).stdout
    with open(eq) as f:
        equity = {to_ms(row["time"]): Decimal(row["equity"]) for row in csv.DictReader(f)}
    return json.loads(out), equity


def to_ms(text):
    """ms since the epoch of a time as the files and the API write it: ms, a date, ISO 8601 UTC."""
    if text.isdigit():
        return int(text)
    text = text.replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00+00:00"
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def check_protective(api, h, sid, orders, trades):
    """Each position's stop-loss and take-profit are stored as resting orders at the entry price
    -/+ the strategy's percentages (rounded half up to 8 places, as the engine does): filled by the
    exit they made, cancelled by any other exit, still open while the position is."""
    st = api.get(f"/api/v1/strategies/{sid}", headers=h).json()
    pcts = {"STOP_LOSS": st["stop_loss_pct"], "TAKE_PROFIT": st["take_profit_pct"]}
    prot = [o for o in orders if o["order_type"] in pcts]
    q = Decimal("1e-8")
    seen = 0
    for t in trades:
        at = t["entry_time"].replace("Z", "") + "Z"
        entry = Decimal(t["entry_price"])
        for kind, pct in pcts.items():
            rows = [o for o in prot if o["order_type"] == kind and o["created_at"] == at]
            if pct is None:
                assert rows == []
                continue
            assert len(rows) == 1, (kind, t, rows)
            off = (entry * Decimal(str(pct)) / 100).quantize(q, ROUND_HALF_UP)
            assert Decimal(rows[0]["price"]) == (entry - off if kind == "STOP_LOSS" else entry + off), (t, rows)
            reason = {"STOP_LOSS": "stop_loss", "TAKE_PROFIT": "take_profit"}[kind]
            want = "open" if t["exit_reason"] == "end_of_data" else "filled" if t["exit_reason"] == reason else "cancelled"
            assert rows[0]["status"] == want, (t, rows)
            seen += 1
    assert seen == len(prot), "a protective order that belongs to no position"


def check_parity(api, h, sid, pid, result, equity):
    """The stored orders are the backtest's trades, fill for fill; cash and equity follow."""
    orders = pages(api, h, f"/api/v1/portfolios/{pid}/trades")
    assert len({o["id"] for o in orders}) == len(orders), "an order was stored twice"
    filled = sorted((o for o in orders if o["status"] == "filled"), key=lambda o: (o["filled_at"], o["side"] == "SELL"))
    trades = result["trades"]
    closed = [t for t in trades if t["exit_reason"] != "end_of_data"]
    assert closed, "the sample must trade"
    buys = [o for o in filled if o["side"] == "BUY"]
    sells = [o for o in filled if o["side"] == "SELL"]
    assert len(sells) == len(closed)
    assert len(buys) == len(trades), "every entry, the open one too"
    for t, b in zip(trades, buys):
        assert (b["filled_at"], Decimal(b["filled_quantity"]), Decimal(b["filled_price"])) == \
            (t["entry_time"].replace("Z", "") + "Z", Decimal(t["quantity"]), Decimal(t["entry_price"])), (t, b)
    for t, s in zip(closed, sells):
        assert s["filled_at"] == t["exit_time"] and Decimal(s["filled_price"]) == Decimal(t["exit_price"]), (t, s)
        assert Decimal(s["realized_pnl"]) == Decimal(t["net_pnl"]), (t, s)
        assert s["order_type"] == {"stop_loss": "STOP_LOSS", "take_profit": "TAKE_PROFIT"}.get(t["exit_reason"],
                                                                                              "MARKET")
        fees = Decimal(s["commission"]) + Decimal(buys[closed.index(t)]["commission"])
        assert fees == Decimal(t["commission"]), (t, s)
    check_protective(api, h, sid, orders, trades)
    pf = api.get(f"/api/v1/portfolios/{pid}", headers=h).json()
    want_cash = Decimal(result["initial_capital"]) + sum(Decimal(t["net_pnl"]) for t in closed)
    open_trade = trades[-1] if trades[-1]["exit_reason"] == "end_of_data" else None
    if open_trade:  # still held by the paper run: its cost and entry fee are out of the cash
        buy = buys[-1]
        want_cash -= Decimal(buy["filled_quantity"]) * Decimal(buy["filled_price"]) + Decimal(buy["commission"])
        pos = api.get(f"/api/v1/portfolios/{pid}/positions", headers=h).json()["items"]
        assert len(pos) == 1 and Decimal(pos[0]["average_entry_price"]) == Decimal(open_trade["entry_price"])
        assert Decimal(pos[0]["quantity"]) == Decimal(open_trade["quantity"])
    assert Decimal(pf["cash_balance"]) == want_cash.quantize(Decimal("1e-8"))
    points = pages(api, h, f"/api/v1/portfolios/{pid}/equity")
    assert len(points) == len(equity), "an equity point per traded candle"
    last = len(points) - 1
    for i, p in enumerate(points):
        want = equity[to_ms(p["time"])]
        if i == last and open_trade:  # the backtest sold at the last close, paying commission
            continue
        assert abs(Decimal(p["equity_value"]) - want) <= Decimal("1e-6"), (p, want)
    return orders


@pytest.mark.parametrize("sample", ["btc", "btc_1h_on_1m", "orcl"])
def test_a_paper_session_equals_the_backtest_on_the_same_candles(sample, tmp_path_factory, tmp_path):
    if sample == "btc":
        path, symbol, tf, start, last = BTC, "BTC/USDT", "1m", "2017-11-07", "2017-11-14T22:59:00Z"
        doc = example("mean_reversion_btc.json", timeframe="1m")
    elif sample == "btc_1h_on_1m":  # the example's 1h candles built from the 1m feed, as the backtest resamples
        path, symbol, tf, start, last = BTC, "BTC/USDT", "1m", "2017-11-06", "2017-11-14T22:00:00Z"
        doc = example("mean_reversion_btc.json")
        doc["rules"][0]["conditions"][0]["value"] = 45  # RSI(14) below 45 / above 55: trades on 9 days of hours
        doc["rules"][1]["conditions"][0]["value"] = 55
    else:
        path, symbol, tf, start, last = ORCL, "ORCL", "1d", "2006-01-01", "2014-12-31T00:00:00Z"
        doc = example("rsi_mean_reversion.json")
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, path, symbol, tf)
    srv = serve(data, replay_env(path, symbol, tf, start))
    try:
        h = login(srv.client, f"parity-{sample}@example.com")
        sid, pid = activate(srv.client, h, doc)
        run = wait_run(srv.client, h, sid, last)
        assert run["start_time"][:10] >= start and run["warm_from"] < run["start_time"]
        result, equity = backtest(doc, path, start, tmp_path)
        check_parity(srv.client, h, sid, pid, result, equity)
        perf = srv.client.get(f"/api/v1/portfolios/{pid}/performance", headers=h).json()
        assert perf["total_trades"] == len([t for t in result["trades"] if t["exit_reason"] != "end_of_data"])
    finally:
        srv.stop()


def test_kill_9_mid_session_then_restart_ends_with_the_same_trades(tmp_path_factory, tmp_path):
    path, symbol, tf, start, last = BTC, "BTC/USDT", "1m", "2017-11-13", "2017-11-14T22:59:00Z"
    doc = example("mean_reversion_btc.json", timeframe="1m")
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, path, symbol, tf)
    env = replay_env(path, symbol, tf, start, speed="20000")  # 3 ms a candle: ~9 s for the 2,800
    srv = serve(data, env)
    h = login(srv.client, "restart@example.com")
    sid, pid = activate(srv.client, h, doc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once it has traded and is still going
        run = srv.client.get(f"/api/v1/strategies/{sid}/run", headers=h).json()
        n = srv.client.get(f"/api/v1/portfolios/{pid}/trades", headers=h).json()["total"]
        if n >= 6:
            break
        time.sleep(0.05)
    assert run["last_candle_time"] != last, "the session ended before the kill: slow the replay down"
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv.log.close()
    srv = serve(data, env)  # the same data directory: the run goes on from its last candle
    try:
        api = srv.client
        wait_run(api, h, sid, last)
        result, equity = backtest(doc, path, start, tmp_path)
        check_parity(api, h, sid, pid, result, equity)
    finally:
        srv.stop()


def test_activation_needs_a_portfolio_of_ones_own(tmp_path_factory):
    srv = serve(tmp_path_factory.mktemp("apexdata"), {})
    try:
        api = srv.client
        h = login(api, "owner@example.com")
        other = login(api, "other@example.com")
        sid = api.post("/api/v1/strategies", headers=h, json=example("mean_reversion_btc.json")).json()["id"]
        # Without a portfolio: a user with none gets one, "Paper trading" of 10,000 USD, and trades it.
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper"})
        assert r.status_code == 200, r.text
        run = api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()
        made = api.get("/api/v1/portfolios", headers=h).json()["items"]
        assert [(p["name"], p["base_currency"], Decimal(p["cash_balance"]), p["is_paper"]) for p in made] == \
            [("Paper trading", "USD", 10000, True)]
        assert run["portfolio_id"] == made[0]["id"] and Decimal(run["capital"]) == 10000
        assert api.post(f"/api/v1/strategies/{sid}/deactivate", headers=h).status_code == 200
        # Again without one: the only paper portfolio is the one traded, no second is made.
        assert api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper"}).status_code == 200
        assert api.get("/api/v1/portfolios", headers=h).json()["total"] == 1
        assert api.post(f"/api/v1/strategies/{sid}/deactivate", headers=h).status_code == 200
        theirs = api.post("/api/v1/portfolios", headers=other, json={"name": "x", "initial_balance": "100"}).json()["id"]
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": theirs})
        assert_problem(r, 404)
        mine = api.post("/api/v1/portfolios", headers=h, json={"name": "x", "base_currency": "USD",
                                                                "initial_balance": "100"}).json()["id"]
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h,
                     json={"mode": "paper", "portfolio_id": mine, "capital": "1000"})
        assert_problem(r, 422, 4001)
        # Two paper portfolios: which one is the caller's to say.
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper"})
        assert_problem(r, 422)
        assert "/portfolio_id" in r.text
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": mine})
        assert r.status_code == 200, r.text
        run = api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()
        assert run["status"] == "running" and run["capital"] == "100" and run["quote_currency"] == "USDT"
        assert api.get(f"/api/v1/strategies/{sid}/run", headers=other).status_code == 404
        assert api.get(f"/api/v1/strategies/{sid}/refusals", headers=other).status_code == 404
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h, json={"mode": "paper", "portfolio_id": mine})
        assert_problem(r, 409, 2003)
        assert api.post(f"/api/v1/strategies/{sid}/deactivate", headers=h).status_code == 200
        assert api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()["status"] == "stopped"
    finally:
        srv.stop()


def test_refusals_are_stored_with_their_reason(tmp_path_factory):
    """One entry a day (max_trades_per_day 1) on a 1m strategy that signals far more often: every
    further signal that day is refused and listed, and no order exists for it."""
    path, symbol, tf, start, last = BTC, "BTC/USDT", "1m", "2017-11-13", "2017-11-14T22:59:00Z"
    doc = example("mean_reversion_btc.json", timeframe="1m")
    doc["risk_management"]["max_trades_per_day"] = 1
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, path, symbol, tf)
    srv = serve(data, replay_env(path, symbol, tf, start))
    try:
        api = srv.client
        h = login(api, "refusals@example.com")
        sid, pid = activate(api, h, doc)
        wait_run(api, h, sid, last)
        refusals = pages(api, h, f"/api/v1/strategies/{sid}/refusals")
        assert refusals and all(r["kind"] == "order_rate" for r in refusals)
        assert all("max_trades_per_day" in r["detail"] and Decimal(r["quantity"]) > 0 for r in refusals)
        buys = [o for o in pages(api, h, f"/api/v1/portfolios/{pid}/trades") if o["side"] == "BUY"]
        days = [b["created_at"][:10] for b in buys]
        assert len(days) == len(set(days)) <= 2, days
    finally:
        srv.stop()


def test_a_eur_portfolio_trading_a_usdt_pair_converts_at_the_ecb_rate(tmp_path_factory):
    """The shipped ECB sample (2024-06-28: 1 EUR = 1.0705 USD; USDT taken as USD): 10,000 EUR
    are 10,705 USDT of capital; every fill moves the EUR cash by its USDT amount x 1/1.0705 =
    0.93414292 (rounded half to even), each product rounded half away from zero to 8 places."""
    from decimal import ROUND_HALF_UP
    q = Decimal("1e-8")
    path, symbol, tf, start, last = BTC, "BTC/USDT", "1m", "2017-11-14", "2017-11-14T22:59:00Z"
    doc = example("mean_reversion_btc.json", timeframe="1m")
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, path, symbol, tf)
    env = replay_env(path, symbol, tf, start)
    env["FX_RATES_FILE"] = os.path.join(ROOT, "data", "fx", "eurofxref-hist-sample.xml")
    srv = serve(data, env)
    try:
        api = srv.client
        h = login(api, "euro@example.com")
        sid, pid = activate(api, h, doc, currency="EUR")
        run = wait_run(api, h, sid, last)
        assert (run["capital"], run["fx_rate"], run["quote_currency"], run["base_currency"]) == \
            ("10705", "1.0705", "USDT", "EUR")
        assert "USDT" in run["fx_note"] and "USD" in run["fx_note"]
        rate = Decimal("0.93414292")
        cash = Decimal("10000")
        filled = [o for o in pages(api, h, f"/api/v1/portfolios/{pid}/trades") if o["status"] == "filled"]
        assert filled, "the sample must trade"
        for o in filled:
            notional = (Decimal(o["filled_quantity"]) * Decimal(o["filled_price"])).quantize(q, ROUND_HALF_UP)
            fee = Decimal(o["commission"])
            delta = -(notional + fee) if o["side"] == "BUY" else notional - fee
            cash += (delta * rate).quantize(q, ROUND_HALF_UP)
        pf = api.get(f"/api/v1/portfolios/{pid}", headers=h).json()
        assert Decimal(pf["cash_balance"]) == cash
        # The last equity point: EUR cash plus the open position (if any) at the last close in EUR.
        point = api.get(f"/api/v1/portfolios/{pid}/equity", headers=h, params={"page": 1, "limit": 1}).json()
        total = point["total"]
        point = api.get(f"/api/v1/portfolios/{pid}/equity", headers=h, params={"page": total, "limit": 1}).json()
        p = point["items"][0]
        assert Decimal(p["cash_balance"]) == cash
        pos = api.get(f"/api/v1/portfolios/{pid}/positions", headers=h).json()["items"]
        want = Decimal(0)
        for x in pos:
            value = (Decimal(x["quantity"]) * Decimal(x["current_price"])).quantize(q, ROUND_HALF_UP)
            want += (value * rate).quantize(q, ROUND_HALF_UP)
            # unrealized P&L in the pair's currency: (price - entry) x quantity
            assert Decimal(x["unrealized_pnl"]) == ((Decimal(x["current_price"]) - Decimal(x["average_entry_price"]))
                                                    * Decimal(x["quantity"])).quantize(q, ROUND_HALF_UP)
        assert Decimal(p["positions_value"]) == want and Decimal(p["equity_value"]) == cash + want
    finally:
        srv.stop()


def test_the_order_book_comes_from_the_venue_and_the_ticker_from_the_feed(tmp_path_factory):
    stub = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "market", "stub_binance.py")],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(stub.stdout.readline())
        path, symbol, tf, start, last = BTC, "BTC/USDT", "1m", "2017-11-14", "2017-11-14T22:59:00Z"
        data = tmp_path_factory.mktemp("apexdata")
        import_candles(data, path, symbol, tf)
        env = replay_env(path, symbol, tf, start)
        env["BINANCE_BASE_URL"] = f"http://127.0.0.1:{port}"
        srv = serve(data, env)
        try:
            api = srv.client
            h = login(api, "book@example.com")
            r = api.get("/api/v1/market/orderbook/BNB%2FBTC", headers=h, params={"depth": 5})
            assert r.status_code == 200, r.text
            book = r.json()  # tests/market/binance/depth.json, Binance's documented example
            assert book["source"] == "binance" and book["bids"][0] == ["4", "431"] and book["asks"][0] == ["4.000002", "12"]
            assert_problem(api.get("/api/v1/market/orderbook/NOPE%2FUSDT", headers=h), 404, 5001)
            assert_problem(api.get("/api/v1/market/orderbook/BNB%2FBTC", headers=h, params={"depth": 0}), 422)
            # Before any strategy runs, the ticker is the newest stored close; once a run subscribes,
            # the feed's; change_24h_pct against the stored close 24 h earlier.
            t = api.get("/api/v1/market/ticker/BTC%2FUSDT", headers=h).json()
            assert t["source"] == "store" and t["timestamp"].startswith("2017-11-14T22:59")
            sid, pid = activate(api, h, example("mean_reversion_btc.json", timeframe="1m"))
            wait_run(api, h, sid, last)
            t = api.get("/api/v1/market/ticker/BTC%2FUSDT", headers=h).json()
            assert t["source"] == "feed" and t["timestamp"].startswith("2017-11-14T23:00")  # the last close
            with open(path) as f:
                candles = {row[0]: row[4] for row in json.load(f)}
            now = 1510700340000
            before = max(k for k in candles if k <= now + 60000 - 86400000)
            want = (candles[now] / candles[before] - 1) * 100
            assert t["price"] == candles[now] and abs(t["change_24h_pct"] - want) < 1e-9
        finally:
            srv.stop()
    finally:
        stub.kill()
        stub.wait()


def iso(ms):
    return datetime.utcfromtimestamp(ms / 1000).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_after_a_restart_on_a_live_feed_the_missed_candles_are_stepped_without_new_orders(tmp_path_factory, tmp_path):
    """The server trades a replay up to T, stops, and starts again on the Binance feed (the local
    stub) hours later: the candles it missed are fetched from the venue and stepped, stale, so the
    run's state goes on through them (candles, equity points) but no order is placed on them,
    although the backtest over the same minutes enters."""
    with open(BTC) as f:
        rows = json.load(f)
    first = next(i for i, r in enumerate(rows) if r[0] >= to_ms("2017-11-13"))
    cut, end = first + 900, first + 1500
    doc = example("mean_reversion_btc.json", timeframe="1m")
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(rows[:end]))
    result, _ = backtest(doc, str(whole), "2017-11-13", tmp_path)
    missed = [t for t in result["trades"] if to_ms(t["entry_time"]) > rows[cut - 1][0]]
    assert missed, "the backtest must enter during the minutes the server misses"

    part1 = tmp_path / "part1.json"
    part1.write_text(json.dumps(rows[:cut]))
    stub_csv = tmp_path / "part2.csv"
    stub_csv.write_text("".join(",".join(str(x) for x in r) + "\n" for r in rows[cut:end]))
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, str(part1), "BTC/USDT", "1m")
    srv = serve(data, replay_env(str(part1), "BTC/USDT", "1m", "2017-11-13"))
    try:
        h = login(srv.client, "catchup@example.com")
        sid, pid = activate(srv.client, h, doc)
        before = wait_run(srv.client, h, sid, iso(rows[cut - 1][0]))
        orders_before = {o["id"]: o for o in pages(srv.client, h, f"/api/v1/portfolios/{pid}/trades")}
        equity_before = srv.client.get(f"/api/v1/portfolios/{pid}/equity", headers=h).json()["total"]
    finally:
        srv.stop()

    stub = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "market", "stub_binance.py"),
                             "--candles", str(stub_csv)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(stub.stdout.readline())
        srv = serve(data, {"MARKET_FEED": "binance", "BINANCE_BASE_URL": f"http://127.0.0.1:{port}"})
        try:
            api = srv.client
            after = wait_run(api, h, sid, iso(rows[end - 1][0]), timeout=60)
            assert after["candles"] == before["candles"] + (end - cut)
            assert api.get(f"/api/v1/portfolios/{pid}/equity", headers=h).json()["total"] == equity_before + (end - cut)
            orders = {o["id"]: o for o in pages(api, h, f"/api/v1/portfolios/{pid}/trades")}
            new = [o for i, o in orders.items() if i not in orders_before]
            # Only exits of a position held at T (a stop or target hit, or the exit signalled at T)
            # may fill on the missed candles; nothing is bought on them.
            assert all(o["side"] == "SELL" for o in new), new
            stale = [x for x in pages(api, h, f"/api/v1/strategies/{sid}/refusals") if x["kind"] == "stale_candle"]
            assert stale, "the entries the backtest made on those minutes are refused as stale"
            assert all(to_ms(x["time"]) > rows[cut - 1][0] for x in stale)
        finally:
            srv.stop()
    finally:
        stub.kill()
        stub.wait()
