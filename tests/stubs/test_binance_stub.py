"""Self-test of tests/stubs/binance_stub.py (the local Binance Spot REST stub): wire formats, signing
and timing rules, order life cycles, scripted faults and restarts on the same state file.

    cd /work/main && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/stubs/test_binance_stub.py
"""
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from urllib.parse import urlencode

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "binance_stub.py")
PYTHON = "/usr/bin/python3"
KEY = "test-key-0123456789"
SECRET = "test-secret-abcdefghijklmnop"

# README 1.10 test vectors
V_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
V_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
V1_PAYLOAD = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
              "&recvWindow=5000&timestamp=1499827319559")
V1_SIG = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
V2_PAYLOAD = ("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
              "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559")
V2_SIG = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
V3_QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
V3_BODY = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
V3_SIG = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Stub:
    """One stub process plus a tiny raw HTTP client (http.client, so query and body are sent exactly
    as written)."""

    def __init__(self, state, key=KEY, secret=SECRET, args=()):
        self.state, self.key, self.secret, self.args = str(state), key, secret, list(args)
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [PYTHON, STUB, "--port", "0", "--state", self.state, "--api-key", self.key,
             "--api-secret", self.secret, *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            pytest.fail(f"stub did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.split()[1])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def raw(self, method, target, body=None, headers=None, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, target, body=body, headers=headers or {})
            r = c.getresponse()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()

    def ctl(self, method, path, obj=None):
        r = self.raw(method, "/_stub/" + path, json.dumps(obj).encode() if obj is not None else None)
        assert r.status == 200, (path, r.status, r.body)
        return r.json()

    def sign(self, text):
        return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    def signed(self, method, path, params, in_body=False, ts=None, timeout=5, key=None):
        params = dict(params)
        params["timestamp"] = str(ts if ts is not None else int(time.time() * 1000))
        text = urlencode(params)
        text += "&signature=" + self.sign(text)
        hdr = {"X-MBX-APIKEY": self.key if key is None else key}
        if in_body:
            return self.raw(method, path, text.encode(), {**hdr, **FORM}, timeout)
        return self.raw(method, path + "?" + text, None, hdr, timeout)

    def order(self, **params):
        return self.signed("POST", "/api/v3/order", params, in_body=True)

    def account(self):
        r = self.signed("GET", "/api/v3/account", {})
        assert r.status == 200, r.body
        return {b["asset"]: (b["free"], b["locked"]) for b in r.json()["balances"]}


@pytest.fixture
def stub(tmp_path):
    s = Stub(tmp_path / "state.json")
    yield s
    s.kill()


def err(r):
    return r.status, r.json()["code"], r.json()["msg"]


# ----------------------------------------------------------------------------------------------------


def test_public_endpoints(stub):
    r = stub.raw("GET", "/api/v3/ping")
    assert (r.status, r.json()) == (200, {})
    assert int(r.headers["x-mbx-used-weight-1m"]) >= 1
    t = stub.raw("GET", "/api/v3/time").json()["serverTime"]
    assert isinstance(t, int) and abs(t - time.time() * 1000) < 5000
    info = stub.raw("GET", "/api/v3/exchangeInfo").json()
    assert info["timezone"] == "UTC" and isinstance(info["serverTime"], int)
    assert {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000} in info["rateLimits"]
    syms = {s["symbol"]: s for s in info["symbols"]}
    assert set(syms) == {"BTCUSDT", "ETHUSDT"}
    btc = syms["BTCUSDT"]
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"]) == ("TRADING", "BTC", "USDT")
    assert "MARKET" in btc["orderTypes"] and "LIMIT" in btc["orderTypes"]
    f = {x["filterType"]: x for x in btc["filters"]}
    assert f["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert (f["LOT_SIZE"]["minQty"], f["LOT_SIZE"]["stepSize"]) == ("0.00001000", "0.00001000")
    assert f["NOTIONAL"]["minNotional"] == "5.00000000"
    one = stub.raw("GET", "/api/v3/exchangeInfo?symbol=ETHUSDT").json()
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    many = stub.raw("GET", '/api/v3/exchangeInfo?symbols=["BTCUSDT","ETHUSDT"]'.replace('"', "%22")).json()
    assert len(many["symbols"]) == 2
    assert err(stub.raw("GET", "/api/v3/exchangeInfo?symbol=NOPE")) == (400, -1121, "Invalid symbol.")
    weight_before = int(r.headers["x-mbx-used-weight-1m"])
    r = stub.raw("GET", "/api/v3/exchangeInfo")
    assert int(r.headers["x-mbx-used-weight-1m"]) >= weight_before + 20 + 1


def test_signature_vectors(tmp_path):
    """README 1.10: the documented key/secret/payloads verify, with serverTime frozen 1 s after the
    vectors' timestamp."""
    s = Stub(tmp_path / "state.json", V_KEY, V_SECRET,
             ["--symbols", "LTCBTC,BTCUSDT", "--frozen-time-ms", str(1499827319559 + 1000)])
    try:
        s.ctl("POST", "balances", {"BTC": "1"})
        hdr = {"X-MBX-APIKEY": V_KEY}
        # (1) all in the query string
        r = s.raw("POST", f"/api/v3/order?{V1_PAYLOAD}&signature={V1_SIG}", None, hdr)
        assert r.status == 200, r.body
        o = r.json()
        assert (o["symbol"], o["status"], o["price"], o["origQty"], o["type"], o["side"]) == \
            ("LTCBTC", "NEW", "0.10000000", "1.00000000", "LIMIT", "BUY")
        assert o["transactTime"] == 1499827320559 and o["fills"] == []
        # (1) as the body, signature upper-case (HMAC signatures are case-insensitive)
        r = s.raw("POST", "/api/v3/order", f"{V1_PAYLOAD}&signature={V1_SIG.upper()}".encode(), {**hdr, **FORM})
        assert r.status == 200, r.body
        # (3) mixed: query then body, no separator in the signed text
        r = s.raw("POST", f"/api/v3/order?{V3_QUERY}", f"{V3_BODY}&signature={V3_SIG}".encode(), {**hdr, **FORM})
        assert r.status == 200, r.body
        # (2) percent-encoded non-ASCII symbol: the signature verifies, the symbol does not exist
        r = s.raw("POST", f"/api/v3/order?{V2_PAYLOAD}&signature={V2_SIG}", None, hdr)
        assert err(r) == (400, -1121, "Invalid symbol.")
        # one character changed -> -1022
        bad = V1_SIG[:-1] + ("0" if V1_SIG[-1] != "0" else "1")
        r = s.raw("POST", f"/api/v3/order?{V1_PAYLOAD}&signature={bad}", None, hdr)
        assert err(r) == (400, -1022, "Signature for this request is not valid.")
        # the mixed vector's signature does not verify the all-in-query text
        r = s.raw("POST", f"/api/v3/order?{V1_PAYLOAD}&signature={V3_SIG}", None, hdr)
        assert err(r)[1] == -1022
        assert s.ctl("GET", "state")["balances"]["BTC"] == {"free": "0.70000000", "locked": "0.30000000"}
        assert [o["clientOrderId"] != "" for o in s.ctl("GET", "orders")] == [True] * 3
    finally:
        s.kill()


def test_auth_and_timing_errors(stub):
    now = int(time.time() * 1000)
    r = stub.signed("GET", "/api/v3/account", {}, key="other")
    assert err(r) == (401, -2015, "Invalid API-key, IP, or permissions for action.")
    r = stub.raw("GET", f"/api/v3/account?timestamp={now}&signature={'0' * 64}", None, {"X-MBX-APIKEY": KEY})
    assert err(r) == (400, -1022, "Signature for this request is not valid.")
    r = stub.raw("GET", f"/api/v3/account?timestamp={now}", None, {"X-MBX-APIKEY": KEY})
    assert err(r)[:2] == (400, -1102)
    r = stub.signed("GET", "/api/v3/account", {}, ts=now - 6000)
    assert err(r) == (400, -1021, "Timestamp for this request is outside of the recvWindow.")
    r = stub.signed("GET", "/api/v3/account", {"recvWindow": "10000"}, ts=now - 6000)
    assert r.status == 200
    r = stub.signed("GET", "/api/v3/account", {}, ts=now + 5000)
    assert err(r)[:2] == (400, -1021)
    r = stub.signed("GET", "/api/v3/account", {"recvWindow": "60001"})
    assert err(r) == (400, -1131, "recvWindow must be less than 60000")
    # the stub's clock runs 10 s behind: the local clock is now "ahead"; serverTime is the cure
    stub.ctl("POST", "config", {"time_offset_ms": -10000})
    assert err(stub.signed("GET", "/api/v3/account", {}))[1] == -1021
    st = stub.raw("GET", "/api/v3/time").json()["serverTime"]
    assert stub.signed("GET", "/api/v3/account", {}, ts=st).status == 200
    # missing mandatory parameter
    r = stub.signed("GET", "/api/v3/order", {"orderId": "1"}, ts=st)
    assert err(r) == (400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")


def test_market_buy_full_and_sell(stub):
    stub.ctl("POST", "balances", {"BTC": "0", "USDT": "10000"})
    r = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1", newClientOrderId="mkt-1")
    assert r.status == 200, r.body
    assert "x-mbx-order-count-10s" in r.headers and "x-mbx-used-weight-1m" in r.headers
    o = r.json()
    assert list(o) == ["symbol", "orderId", "orderListId", "clientOrderId", "transactTime", "price", "origQty",
                       "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status", "timeInForce",
                       "type", "side", "workingTime", "selfTradePreventionMode", "fills"]
    assert isinstance(o["orderId"], int) and isinstance(o["transactTime"], int) and o["orderListId"] == -1
    assert (o["clientOrderId"], o["price"], o["origQty"], o["executedQty"], o["cummulativeQuoteQty"],
            o["origQuoteOrderQty"], o["status"], o["selfTradePreventionMode"]) == \
        ("mkt-1", "0.00000000", "0.10000000", "0.10000000", "10.00000000", "0.00000000", "FILLED", "EXPIRE_MAKER")
    [fill] = o["fills"]
    assert isinstance(fill["tradeId"], int)
    assert (fill["price"], fill["qty"], fill["commission"], fill["commissionAsset"]) == \
        ("100.00000000", "0.10000000", "0.00010000", "BTC")
    bal = stub.account()
    assert bal["BTC"] == ("0.09990000", "0.00000000") and bal["USDT"] == ("9990.00000000", "0.00000000")
    # sell at a new price: commission in the quote asset; two fills when split_fills is on
    stub.ctl("POST", "price", {"symbol": "BTCUSDT", "price": "101.5"})
    stub.ctl("POST", "config", {"split_fills": True})
    r = stub.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.0999", newOrderRespType="FULL")
    o = r.json()
    assert o["status"] == "FILLED" and len(o["fills"]) == 2
    assert {f["commissionAsset"] for f in o["fills"]} == {"USDT"}
    assert sum(float(f["qty"]) for f in o["fills"]) == pytest.approx(0.0999)
    assert o["cummulativeQuoteQty"] == "10.13985000"
    bal = stub.account()
    assert bal["BTC"][0] == "0.00000000"
    # 9990 + 10.13985 - 2 x 0.00506993 (each fill's commission 0.005069925 rounded to 8 decimals)
    assert bal["USDT"][0] == "10000.12971014"
    trades = stub.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}).json()
    assert len(trades) == 3
    t = trades[0]
    assert list(t) == ["symbol", "id", "orderId", "orderListId", "price", "qty", "quoteQty", "commission",
                       "commissionAsset", "time", "isBuyer", "isMaker", "isBestMatch"]
    assert (t["isBuyer"], t["isMaker"], t["quoteQty"], t["orderListId"]) == (True, False, "10.00000000", -1)
    by_order = stub.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": o["orderId"]}).json()
    assert [x["id"] for x in by_order] == [f["tradeId"] for f in o["fills"]]
    # ACK / RESULT shapes
    a = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1", newOrderRespType="ACK").json()
    assert list(a) == ["symbol", "orderId", "orderListId", "clientOrderId", "transactTime"]
    rr = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1", newOrderRespType="RESULT").json()
    assert "fills" not in rr and rr["status"] == "FILLED"
    acct = stub.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"}).json()
    assert acct["accountType"] == "SPOT" and acct["permissions"] == ["SPOT"] and acct["canTrade"] is True
    assert {b["asset"] for b in acct["balances"]} == {"BTC", "USDT"}


def test_duplicate_open_client_id(stub):
    r = stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1",
                   price="90", newClientOrderId="dup-1")
    assert r.status == 200 and r.json()["status"] == "NEW"
    first = r.json()["orderId"]
    r = stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1",
                   price="91", newClientOrderId="dup-1")
    assert err(r) == (400, -2010, "Duplicate order sent.")
    r = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1", newClientOrderId="bad id!")
    assert err(r) == (400, -1100, "Illegal characters found in parameter 'newClientOrderId'; "
                                  "legal range is '^[a-zA-Z0-9-_]{1,36}$'.")
    c = stub.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dup-1"})
    assert c.status == 200 and c.json()["status"] == "CANCELED"
    # a cancelled order's id may be reused; lookup by client id then finds the latest
    r = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1", newClientOrderId="dup-1")
    assert r.status == 200, r.body
    q = stub.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dup-1"}).json()
    assert q["orderId"] == r.json()["orderId"] != first and q["status"] == "FILLED"
    assert len(stub.ctl("GET", "orders")) == 2


def test_insufficient_funds_and_filters(stub):
    stub.ctl("POST", "balances", {"USDT": "50", "BTC": "0.01"})
    r = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1")
    assert err(r) == (400, -2010, "Account has insufficient balance for requested action.")
    r = stub.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.1", price="100")
    assert err(r)[1:] == (-2010, "Account has insufficient balance for requested action.")
    assert stub.ctl("GET", "orders") == []
    cases = [
        ({"quantity": "0.000001"}, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.100005"}, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.01"}, "Filter failure: NOTIONAL"),
    ]
    for extra, msg in cases:
        r = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", **extra)
        assert err(r) == (400, -1013, msg), extra
    r = stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.1", price="100.005")
    assert err(r)[1] in (-1013, -1111)
    r = stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.1", price="100.001")
    assert err(r) == (400, -1013, "Filter failure: PRICE_FILTER")
    r = stub.order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="1")
    assert err(r) == (400, -1121, "Invalid symbol.")
    r = stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", quantity="0.1", price="100")
    assert err(r) == (400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")
    r = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="abc")
    assert err(r)[:2] == (400, -1100)
    # quoteOrderQty: spend 20 USDT at 100 -> 0.2 BTC
    o = stub.order(symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="20").json()
    assert (o["executedQty"], o["cummulativeQuoteQty"], o["origQuoteOrderQty"]) == \
        ("0.20000000", "20.00000000", "20.00000000")


def test_limit_rest_partial_fill_cancel(stub):
    stub.ctl("POST", "balances", {"BTC": "0", "USDT": "1000"})
    o = stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="90").json()
    assert (o["status"], o["executedQty"], o["fills"]) == ("NEW", "0.00000000", [])
    assert stub.account()["USDT"] == ("910.00000000", "90.00000000")
    oo = stub.signed("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert oo.status == 200 and [x["orderId"] for x in oo.json()] == [o["orderId"]]
    f = stub.ctl("POST", "fill", {"orderId": o["orderId"], "qty": "0.4"})
    assert (f["status"], f["executedQty"], f["cummulativeQuoteQty"]) == ("PARTIALLY_FILLED", "0.40000000", "36.00000000")
    bal = stub.account()
    assert bal["USDT"] == ("910.00000000", "54.00000000") and bal["BTC"] == ("0.39960000", "0.00000000")
    q = stub.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]}).json()
    assert list(q) == ["symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty", "executedQty",
                       "cummulativeQuoteQty", "status", "timeInForce", "type", "side", "stopPrice",
                       "icebergQty", "time", "updateTime", "isWorking", "workingTime", "origQuoteOrderQty",
                       "selfTradePreventionMode"]
    assert q["status"] == "PARTIALLY_FILLED" and isinstance(q["updateTime"], int) and q["isWorking"] is True
    c = stub.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]})
    assert c.status == 200, c.body
    cj = c.json()
    assert cj["status"] == "CANCELED" and cj["origClientOrderId"] == o["clientOrderId"]
    assert cj["clientOrderId"] != o["clientOrderId"] and cj["executedQty"] == "0.40000000"
    assert stub.account()["USDT"] == ("964.00000000", "0.00000000")
    assert err(stub.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": o["orderId"]})) == \
        (400, -2011, "Unknown order sent.")
    assert err(stub.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": "999"})) == \
        (400, -2013, "Order does not exist.")
    assert err(stub.signed("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"}))[1] == -2011
    # cancel-all of two resting orders (one sell locks base)
    stub.order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.1", price="80")
    stub.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.3", price="120")
    assert stub.account()["BTC"] == ("0.09960000", "0.30000000")
    r = stub.signed("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert r.status == 200 and [x["status"] for x in r.json()] == ["CANCELED", "CANCELED"]
    assert stub.account()["BTC"] == ("0.39960000", "0.00000000")
    assert stub.signed("GET", "/api/v3/openOrders", {}).json() == []


def test_timeout_after_accept_leaves_one_filled_order(stub):
    stub.ctl("POST", "faults", {"faults": [{"method": "POST", "path": "/api/v3/order",
                                            "kind": "timeout_after_accept", "seconds": 3}]})
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        stub.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                              "quantity": "0.1", "newClientOrderId": "to-1"},
                    in_body=True, timeout=0.4)
    assert time.monotonic() - t0 < 2
    orders = stub.ctl("GET", "orders")
    assert [(o["clientOrderId"], o["status"]) for o in orders] == [("to-1", "FILLED")]
    q = stub.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "to-1"}).json()
    assert q["status"] == "FILLED"
    posts = stub.ctl("GET", "requests?method=POST&path=/api/v3/order")
    assert len(posts) == 1 and posts[0]["params"]["newClientOrderId"] == "to-1"
    assert posts[0]["api_key"] == KEY and "signature" not in posts[0]["params"]
    assert SECRET not in json.dumps(stub.ctl("GET", "requests"))
    assert stub.ctl("GET", "faults") == []
    # killed while the reply is still held back: the restarted stub has the order and the logged request
    stub.kill()
    stub.start()
    assert [(o["clientOrderId"], o["status"]) for o in stub.ctl("GET", "orders")] == [("to-1", "FILLED")]
    posts = stub.ctl("GET", "requests?method=POST&path=/api/v3/order")
    assert len(posts) == 1 and posts[0]["params"]["quantity"] == "0.1"


def test_other_faults(stub):
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.2"}
    stub.ctl("POST", "faults", {"faults": [
        {"path": "/api/v3/order", "kind": "http_503"},
        {"path": "/api/v3/order", "kind": "http_500"},
        {"path": "/api/v3/order", "kind": "rate_limit", "seconds": 7},
        {"path": "/api/v3/order", "kind": "reject"},
        {"path": "/api/v3/order", "kind": "unknown_500_after_accept"},
        {"path": "/api/v3/order", "kind": "drop_after_accept"},
        {"path": "/api/v3/order", "kind": "partial"},
        {"path": "/api/v3/order", "kind": "hang", "seconds": 0.2},
    ]})
    r = stub.order(**order)
    assert err(r) == (503, -1001, "Internal error; unable to process your request. Please try again.")
    r = stub.order(**order)
    assert (r.status, r.body) == (500, b"")
    r = stub.order(**order)
    assert err(r)[:2] == (429, -1003) and r.headers["retry-after"] == "7"
    assert err(stub.order(**order))[1:] == (-2010, "Account has insufficient balance for requested action.")
    assert stub.ctl("GET", "orders") == []
    r = stub.order(**order)
    assert err(r) == (500, -1007, "Timeout waiting for response from backend server. "
                                  "Send status unknown; execution status unknown.")
    assert len(stub.ctl("GET", "orders")) == 1
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        stub.order(**order)
    assert len(stub.ctl("GET", "orders")) == 2
    o = stub.order(**order).json()
    assert (o["status"], o["executedQty"], o["origQty"]) == ("EXPIRED", "0.10000000", "0.20000000")
    t0 = time.monotonic()
    assert stub.order(**order).json()["status"] == "FILLED"
    assert time.monotonic() - t0 >= 0.2
    assert [o["status"] for o in stub.ctl("GET", "orders")] == ["FILLED", "FILLED", "EXPIRED", "FILLED"]
    assert stub.account()["BTC"][0] == "0.69930000"  # 0.7 bought, 0.1 % commission


def test_restart_keeps_state(tmp_path):
    s = Stub(tmp_path / "state.json")
    try:
        s.ctl("POST", "balances", {"USDT": "5000", "BTC": "2"})
        s.ctl("POST", "price", {"symbol": "ETHUSDT", "price": "2000"})
        s.ctl("POST", "config", {"commission": "0.002"})
        m = s.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1", newClientOrderId="keep-1").json()
        lim = s.order(symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.5",
                      price="150", newClientOrderId="keep-2").json()
        bal_before = s.account()
        s.kill()
        s.start()  # same state file
        q = s.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "keep-1"}).json()
        assert (q["orderId"], q["status"]) == (m["orderId"], "FILLED")
        oo = s.signed("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}).json()
        assert [x["orderId"] for x in oo] == [lim["orderId"]]
        assert s.account() == bal_before
        state = s.ctl("GET", "state")
        assert state["prices"]["ETHUSDT"] == "2000.00000000" and state["config"]["commission"] == "0.002"
        assert state["requests"] > 0  # the request log survives too
        n = s.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1").json()
        assert n["orderId"] > lim["orderId"]
        assert n["fills"][0]["tradeId"] > m["fills"][0]["tradeId"]
        assert n["fills"][0]["commission"] == "0.00020000"
        f = s.ctl("POST", "fill", {"orderId": lim["orderId"]})
        assert f["status"] == "FILLED"
        trades = s.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": lim["orderId"]}).json()
        assert trades[0]["isMaker"] is True and trades[0]["commissionAsset"] == "USDT"
        s.ctl("POST", "reset", {})
        assert s.ctl("GET", "orders") == [] and s.ctl("GET", "state")["next_order_id"] == 1
    finally:
        s.kill()


def test_malformed_input_never_crashes(stub):
    hdr = {"X-MBX-APIKEY": KEY}
    for target, body, h in [
        ("/api/v3/order?%zz=%%&&=&symbol", b"", hdr),
        ("/api/v3/order", b"\xff\xfe\x00garbage=%%%&&&", {**hdr, **FORM}),
        ("/api/v3/order?symbol=BTCUSDT&symbol=ETHUSDT", b"", hdr),
        ("/api/v3/order?" + "a=1&" * 500, b"", hdr),
        ("/api/v3/nope", b"", {}),
        ("/_stub/price", b"{not json", {}),
        ("/_stub/fill", b'{"orderId": "x"}', {}),
        ("/_stub/faults", b'{"faults": [{"kind": "explode"}]}', {}),
        ("/_stub/balances", b'{"BTC": "-1"}', {}),
        ("/_stub/config", b'{"commission": "NaN"}', {}),
    ]:
        r = stub.raw("POST", target, body, h)
        assert 400 <= r.status < 500, (target, r.status, r.body)
        json.loads(r.body)
    r = stub.raw("POST", "/api/v3/order", b"x", {**hdr, "Content-Length": "abc"})
    assert r.status == 400
    ts = int(time.time() * 1000)
    r = stub.raw("GET", f"/api/v3/account?timestamp=abc&signature={stub.sign('timestamp=abc')}", None, hdr)
    assert err(r)[:2] == (400, -1100)
    assert stub.raw("GET", "/api/v3/ping").status == 200
    assert stub.signed("GET", "/api/v3/account", {}, ts=ts).status == 200
