"""Live trading on the other venues, each against its local stub that checks the venue's own
authentication (tests/stubs/): Alpaca (US stocks, key headers, market hours: orders made while the
market is closed are held for the open or refused, as the activation says) and Kraken (API-Sign,
nonces that only go up, across a restart of the server and of the venue, the dead-man's switch
armed while a strategy trades). The order lifecycle itself is the one test_live.py checks on
Binance; here each venue's records must match its stub's, order for order."""
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest

from conftest import ROOT, Server, assert_problem, signal_order
from test_paper import BTC, ORCL, db_env, example, import_candles, login, pages, replay_env

STUBS = os.path.join(ROOT, "tests", "stubs")
# The venues' adapters do not touch the database but for Kraken's nonces (test_store_pg covers
# them): this file runs once, in the SQLite suite.
pytestmark = pytest.mark.skipif(bool(os.environ.get("APEX_TEST_PG_URL")),
                                reason="database-independent; runs in the SQLite suite")


class Stub:
    """tests/stubs/<name>_stub.py on a port of its own; args: its credentials and options."""

    def __init__(self, name, state_dir, args):
        self.name, self.args = name, list(args)
        self.state = os.path.join(str(state_dir), f"{name}-state.json")
        self.start(0)

    def start(self, port):
        self.proc = subprocess.Popen([sys.executable, os.path.join(STUBS, f"{self.name}_stub.py"), "--port", str(port),
                                      "--state", self.state, *self.args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening "), line + self.proc.stderr.read()
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.ctl = httpx.Client(base_url=self.url, timeout=10)

    def restart(self):
        self.stop(signal.SIGKILL)
        self.start(self.port)

    def post(self, path, body):
        r = self.ctl.post(path, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def get(self, path):
        r = self.ctl.get(path)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self, sig=signal.SIGTERM):
        self.ctl.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)


def live(api, h, exchange, key, secret, doc, **extra):
    r = api.post("/api/v1/api-keys", headers=h, json={"exchange": exchange, "label": "stub", "api_key": key,
                                                       "api_secret": secret, "is_paper": True})
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    sid = api.post("/api/v1/strategies", headers=h, json=doc).json()["id"]
    r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h,
                 json={"mode": "live", "api_key_id": key_id, "confirm_live": True, "capital": "50000", **extra})
    assert r.status_code == 200, r.text
    return sid, api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()["portfolio_id"]


def wait_for(pred, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def settled(api, h, pid):
    def check():
        orders = pages(api, h, f"/api/v1/portfolios/{pid}/trades")
        return orders if orders and all(o["status"] in ("filled", "cancelled", "failed") for o in orders) else None
    return wait_for(check, what="orders to settle")


def run_done(api, h, sid, last):
    return wait_for(lambda: api.get(f"/api/v1/strategies/{sid}/run", headers=h).json().get("last_candle_time") == last,
                    timeout=120, what=f"the run to reach {last}")


# --- Alpaca ---
AL_KEY, AL_SECRET = "PKTEST0123456789ABCD", "test-secret-abcdefghijklmnopqrstuvwxyz0123"
ORCL_START, ORCL_LAST = "2011-01-01", "2014-12-31T00:00:00Z"
ORCL_PRICE = Decimal("40")


@pytest.fixture
def alpaca(tmp_path):
    s = Stub("alpaca", tmp_path, ["--api-key", AL_KEY, "--api-secret", AL_SECRET, "--symbols", "ORCL"])
    s.post("/_stub/price", {"symbol": "ORCL", "price": str(ORCL_PRICE)})
    s.post("/_stub/cash", {"cash": "100000"})
    s.post("/_stub/clock", {"is_open": True})
    yield s
    s.stop()


def alpaca_server(data, stub, **extra):
    import_candles(data, ORCL, "ORCL", "1d")
    env = {**replay_env(ORCL, "ORCL", "1d", ORCL_START), "FEATURE_LIVE_TRADING": "true",
           "ALPACA_TRADE_URL": stub.url, "LIVE_RECONCILE_SECONDS": "2", **db_env(data), **extra}
    return Server(data, env=env)


def check_alpaca(orders, stub):
    venue = {o["client_order_id"]: o for o in stub.get("/_stub/orders")}
    sent = [o for o in orders if o["broker_order_id"]]
    assert len(venue) == len(sent), "an order at the venue we do not know, or one of ours it does not have"
    for o in sent:
        v = venue[o["id"]]
        assert v["id"] == o["broker_order_id"] and Decimal(v["filled_qty"]) == Decimal(o["filled_quantity"])
        if Decimal(o["filled_quantity"]):
            assert Decimal(o["filled_price"]) == ORCL_PRICE and Decimal(o["commission"]) == 0
            assert Decimal(o["filled_quantity"]) == Decimal(o["filled_quantity"]).to_integral_value(), \
                "stock orders are whole shares"


def test_a_stock_strategy_trades_live_on_alpaca(alpaca, tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    srv = alpaca_server(data, alpaca)
    try:
        api = srv.client
        h = login(api, "alpaca@example.com")
        sid, pid = live(api, h, "alpaca", AL_KEY, AL_SECRET, example("rsi_mean_reversion.json"))
        run_done(api, h, sid, ORCL_LAST)
        orders = settled(api, h, pid)
        filled = [o for o in orders if o["status"] == "filled"]
        assert {"BUY", "SELL"} <= {o["side"] for o in filled} and all(o["symbol"] == "ORCL" for o in orders)
        check_alpaca(orders, alpaca)
        held = sum(Decimal(o["filled_quantity"]) * (1 if o["side"] == "BUY" else -1) for o in filled)
        pos = api.get(f"/api/v1/portfolios/{pid}/positions", headers=h).json()["items"]
        assert sum(Decimal(p["quantity"]) for p in pos) == held
        positions = alpaca.get("/_stub/state")["positions"]  # the venue's shares
        assert Decimal(str(positions.get("ORCL", {}).get("qty", "0") if isinstance(positions.get("ORCL"), dict)
                           else positions.get("ORCL", "0"))) == held
        assert all(AL_SECRET not in json.dumps(r) for r in alpaca.get("/_stub/requests"))
        assert AL_SECRET not in srv.log_text()
    finally:
        srv.stop()


def test_orders_made_while_the_market_is_closed_wait_for_the_open(alpaca, tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    alpaca.post("/_stub/clock", {"is_open": False, "next_open": "2030-01-02T09:30:00-05:00",
                                 "next_close": "2030-01-02T16:00:00-05:00"})
    srv = alpaca_server(data, alpaca)
    try:
        api = srv.client
        h = login(api, "hours@example.com")
        sid, pid = live(api, h, "alpaca", AL_KEY, AL_SECRET, example("rsi_mean_reversion.json"))
        run_done(api, h, sid, ORCL_LAST)
        orders = pages(api, h, f"/api/v1/portfolios/{pid}/trades")
        assert orders and all(o["status"] == "pending" for o in orders), [o["status"] for o in orders]
        assert not any(r["method"] == "POST" and r["path"] == "/v2/orders" for r in alpaca.get("/_stub/requests")), \
            "an order was sent while the market was closed"
        alpaca.post("/_stub/clock", {"is_open": True})  # the open: they go out, oldest first
        orders = settled(api, h, pid)
        assert all(o["status"] == "filled" for o in orders), [(o["side"], o["status"]) for o in orders]
        check_alpaca(orders, alpaca)
    finally:
        srv.stop()


def test_a_strategy_that_refuses_orders_outside_market_hours_fails_them(alpaca, tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    alpaca.post("/_stub/clock", {"is_open": False, "next_open": "2030-01-02T09:30:00-05:00",
                                 "next_close": "2030-01-02T16:00:00-05:00"})
    srv = alpaca_server(data, alpaca)
    try:
        api = srv.client
        h = login(api, "refuse@example.com")
        sid, pid = live(api, h, "alpaca", AL_KEY, AL_SECRET, example("rsi_mean_reversion.json"),
                        outside_hours="refuse")
        assert api.get(f"/api/v1/strategies/{sid}/run", headers=h).json()["outside_hours"] == "refuse"
        run_done(api, h, sid, ORCL_LAST)
        orders = settled(api, h, pid)
        assert orders and all(o["status"] == "failed" for o in orders)
        assert alpaca.get("/_stub/orders") == []
        bad = api.post(f"/api/v1/strategies/{sid}/activate", headers=h,
                       json={"mode": "live", "api_key_id": pid, "confirm_live": True, "outside_hours": "sometimes"})
        assert_problem(bad, 422)
    finally:
        srv.stop()


# --- Kraken ---
KR_KEY = "krakenTestKey0123456789"
KR_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
KR_PRICE = Decimal("0.0025")  # the BTC sample's prices are 0.0016-0.0027
BTC_START, BTC_LAST = "2017-11-13", "2017-11-14T22:59:00Z"


@pytest.fixture
def kraken(tmp_path):
    s = Stub("kraken", tmp_path, ["--api-key", KR_KEY, "--api-secret", KR_SECRET])
    s.post("/_stub/price", {"pair": "XBTUSD", "price": str(KR_PRICE)})
    s.post("/_stub/balances", {"ZUSD": "10000", "XXBT": "0"})
    yield s
    s.stop()


def kraken_server(data, stub):
    env = {**replay_env(BTC, "BTC/USD", "1m", BTC_START), "FEATURE_LIVE_TRADING": "true",
           "KRAKEN_TRADE_URL": stub.url, "LIVE_RECONCILE_SECONDS": "2", **db_env(data)}
    return Server(data, env=env)


def nonces(stub):
    from urllib.parse import parse_qs
    return [int(parse_qs(r["body"])["nonce"][0]) for r in stub.get("/_stub/requests")
            if r["path"].startswith("/0/private/") and "nonce=" in r["body"]]


def test_a_strategy_trades_live_on_kraken_with_signed_requests_and_rising_nonces(kraken, tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, BTC, "BTC/USD", "1m")
    srv = kraken_server(data, kraken)
    try:
        api = srv.client
        h = login(api, "kraken@example.com")
        doc = example("mean_reversion_btc.json", timeframe="1m", asset="BTC/USD")
        sid, pid = live(api, h, "kraken", KR_KEY, KR_SECRET, doc, capital="9000")
        run_done(api, h, sid, BTC_LAST)
        orders = settled(api, h, pid)
        filled = [o for o in orders if o["status"] == "filled"]
        assert {"BUY", "SELL"} <= {o["side"] for o in filled}
        venue = {o["cl_ord_id"]: o for o in kraken.get("/_stub/orders")}
        sent = [o for o in orders if o["broker_order_id"]]
        assert len(venue) == len(sent) and len(sent) == len(filled)
        for o in sent:
            v = venue[o["id"]]  # our client order id is the trade's id
            assert v["txid"] == o["broker_order_id"]
            assert Decimal(v["vol_exec"]) == Decimal(o["filled_quantity"]) and Decimal(v["fee"]) == Decimal(o["commission"])
            assert Decimal(o["filled_price"]) == KR_PRICE
        # Kraken charges its fee in USD: what a buy got is what the sell sells.
        buys = sorted((o for o in filled if o["side"] == "BUY"), key=signal_order)
        sells = sorted((o for o in filled if o["side"] == "SELL"), key=signal_order)
        for b, s in zip(buys, sells):
            assert Decimal(s["filled_quantity"]) == Decimal(b["filled_quantity"])
        seen = nonces(kraken)
        assert seen and all(a < b for a, b in zip(seen, seen[1:])), "a nonce that did not go up"
        # Armed at the first heartbeat that gets through (a refused one is tried again next pass).
        wait_for(lambda: kraken.get("/_stub/state")["dead_man"]["armed"], timeout=20,
                 what="the dead-man's switch to be armed while the strategy trades")
        assert api.post(f"/api/v1/strategies/{sid}/deactivate", headers=h).status_code == 200
        wait_for(lambda: not kraken.get("/_stub/state")["dead_man"]["armed"], timeout=20,
                 what="the dead-man's switch to be disarmed once no live strategy runs")
        assert KR_SECRET not in srv.log_text()
    finally:
        srv.stop()
    # A restart of the server and of the venue: the nonces go on rising.
    before = max(nonces(kraken))
    kraken.restart()
    srv = kraken_server(data, kraken)
    try:
        r = srv.client.post("/api/v1/auth/login", json={"email": "kraken@example.com", "password": "paper-Trading-2026!"})
        h = {"Authorization": "Bearer " + r.json()["access_token"]}
        assert srv.client.post(f"/api/v1/strategies/{sid}/activate", headers=h,
                               json={"mode": "live", "api_key_id": srv.client.get("/api/v1/api-keys", headers=h)
                                     .json()["items"][0]["id"], "confirm_live": True, "capital": "100"}).status_code == 200
        wait_for(lambda: any(n > before for n in nonces(kraken)), what="a request after the restart")
        after = nonces(kraken)
        assert all(n > before for n in after[after.index(next(n for n in after if n > before)):]), (before, after[-6:])
    finally:
        srv.stop()


def test_a_kraken_key_stored_as_a_test_key_cannot_trade_the_live_venue(tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    srv = Server(data, env={"FEATURE_LIVE_TRADING": "true", **db_env(data)})  # no KRAKEN_TRADE_URL: the real venue
    try:
        api = srv.client
        h = login(api, "kraken-paper@example.com")
        key = api.post("/api/v1/api-keys", headers=h, json={"exchange": "kraken", "label": "x", "api_key": KR_KEY,
                                                             "api_secret": KR_SECRET, "is_paper": True}).json()["id"]
        sid = api.post("/api/v1/strategies", headers=h,
                       json=example("mean_reversion_btc.json", asset="BTC/USD")).json()["id"]
        r = api.post(f"/api/v1/strategies/{sid}/activate", headers=h,
                     json={"mode": "live", "api_key_id": key, "confirm_live": True})
        assert "testnet" in assert_problem(r, 422)["detail"]
    finally:
        srv.stop()


# --- Coinbase ---
CB_KEY_NAME = "organizations/0f1e2d3c-org/apiKeys/4b5a6978-key"
CB_PRICE = Decimal("0.0025")


@pytest.fixture
def coinbase(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    pub = tmp_path / "coinbase-public.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    s = Stub("coinbase", tmp_path, ["--key-name", CB_KEY_NAME, "--public-key-pem", str(pub)])
    s.pem = pem
    s.post("/_stub/price", {"product_id": "BTC-USD", "price": str(CB_PRICE)})
    s.post("/_stub/balances", {"USD": "10000", "BTC": "0"})
    yield s
    s.stop()


def test_a_strategy_trades_live_on_coinbase_with_es256_jwts(coinbase, tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    import_candles(data, BTC, "BTC/USD", "1m")
    env = {**replay_env(BTC, "BTC/USD", "1m", BTC_START), "FEATURE_LIVE_TRADING": "true",
           "COINBASE_TRADE_URL": coinbase.url, "LIVE_RECONCILE_SECONDS": "2", **db_env(data)}
    srv = Server(data, env=env)
    try:
        api = srv.client
        h = login(api, "coinbase@example.com")
        doc = example("mean_reversion_btc.json", timeframe="1m", asset="BTC/USD")
        sid, pid = live(api, h, "coinbase", CB_KEY_NAME, coinbase.pem, doc, capital="9000")
        run_done(api, h, sid, BTC_LAST)
        orders = settled(api, h, pid)
        filled = [o for o in orders if o["status"] == "filled"]
        assert {"BUY", "SELL"} <= {o["side"] for o in filled}
        venue = {o["client_order_id"]: o for o in coinbase.get("/_stub/orders")}
        sent = [o for o in orders if o["broker_order_id"]]
        assert len(venue) == len(sent) == len(filled)
        for o in sent:
            v = venue[o["id"]]
            assert v["order_id"] == o["broker_order_id"]
            assert Decimal(v["filled_size"]) == Decimal(o["filled_quantity"])
            assert Decimal(v["total_fees"]) == Decimal(o["commission"])
            assert Decimal(o["filled_price"]) == CB_PRICE
        assert "BEGIN EC PRIVATE KEY" not in srv.log_text()
        assert "PRIVATE KEY" not in api.get("/api/v1/api-keys", headers=h).text
    finally:
        srv.stop()
