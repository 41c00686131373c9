"""Self-test of tests/stubs/alpaca_stub.py (the local Alpaca trading API stub): key headers, wire
shapes, order life cycles with the market open and closed, scripted faults and restarts on the same
state file.

    cd /work/main && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/stubs/test_alpaca_stub.py
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "alpaca_stub.py")
PYTHON = "/usr/bin/python3"
KEY = "PKTEST0123456789ABCD"
SECRET = "test-secret-abcdefghijklmnopqrstuvwxyz0123"
ORDER_KEYS = ["id", "client_order_id", "created_at", "updated_at", "submitted_at", "filled_at", "expired_at",
              "canceled_at", "failed_at", "replaced_at", "replaced_by", "replaces", "asset_id", "symbol",
              "asset_class", "notional", "qty", "filled_qty", "filled_avg_price", "order_class", "order_type",
              "type", "side", "time_in_force", "limit_price", "stop_price", "status", "extended_hours", "legs",
              "trail_percent", "trail_price", "hwm"]
UTC_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
NY_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?-0[45]:00$")


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Stub:
    """One stub process plus a tiny raw HTTP client (http.client, so bodies go as written)."""

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

    def api(self, method, target, obj=None, timeout=5, key=None, secret=None):
        hdr = {"APCA-API-KEY-ID": self.key if key is None else key,
               "APCA-API-SECRET-KEY": self.secret if secret is None else secret}
        body = None
        if obj is not None:
            body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
            hdr["Content-Type"] = "application/json"
        return self.raw(method, target, body, hdr, timeout)

    def ctl(self, method, path, obj=None):
        r = self.raw(method, "/_stub/" + path, json.dumps(obj).encode() if obj is not None else None)
        assert r.status == 200, (path, r.status, r.body)
        return r.json()

    def order(self, timeout=5, **body):
        body.setdefault("type", "market")
        body.setdefault("time_in_force", "day")
        return self.api("POST", "/v2/orders", body, timeout=timeout)

    def account(self):
        r = self.api("GET", "/v2/account")
        assert r.status == 200, r.body
        return r.json()

    def positions(self):
        r = self.api("GET", "/v2/positions")
        assert r.status == 200, r.body
        return {p["symbol"]: p for p in r.json()}

    def get(self, oid):
        r = self.api("GET", f"/v2/orders/{oid}")
        assert r.status == 200, r.body
        return r.json()


@pytest.fixture
def stub(tmp_path):
    s = Stub(tmp_path / "state.json")
    yield s
    s.kill()


def err(r):
    return r.status, r.json()["code"], r.json()["message"]


# ----------------------------------------------------------------------------------------------------


def test_auth_refused(stub):
    for hdr in ({}, {"APCA-API-KEY-ID": KEY}, {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": "wrong"},
                {"APCA-API-KEY-ID": "other", "APCA-API-SECRET-KEY": SECRET}):
        r = stub.raw("GET", "/v2/account", None, hdr)
        assert err(r) == (401, 40110000, "request is not authorized"), hdr
    r = stub.api("POST", "/v2/orders", {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market",
                                        "time_in_force": "day"}, key="other")
    assert r.status == 401 and stub.ctl("GET", "orders") == []
    assert stub.api("GET", "/v2/account").status == 200
    # Alpaca's router answers unknown paths in plain text, not in its error shape
    r = stub.api("GET", "/v2/nope")
    assert (r.status, r.body) == (404, b"404 page not found")
    assert stub.api("PATCH", "/v2/orders/x").status == 405
    log = stub.ctl("GET", "requests")
    assert [x["auth_ok"] for x in log[:4]] == [False] * 4 and log[-3]["auth_ok"] is True
    assert SECRET not in json.dumps(log)


def test_buy_sell_and_balances(stub):
    r = stub.order(symbol="AAPL", qty="10", side="buy", client_order_id="buy-1")
    assert r.status == 200, r.body
    o = r.json()
    assert list(o) == ORDER_KEYS
    assert (o["client_order_id"], o["symbol"], o["asset_class"], o["qty"], o["filled_qty"], o["filled_avg_price"],
            o["status"], o["order_class"], o["order_type"], o["type"], o["side"], o["time_in_force"],
            o["notional"], o["limit_price"], o["legs"], o["extended_hours"]) == \
        ("buy-1", "AAPL", "us_equity", "10", "10", "100", "filled", "simple", "market", "market", "buy", "day",
         None, None, None, False)
    assert re.match(r"^[0-9a-f-]{36}$", o["id"]) and UTC_RE.match(o["created_at"]) and UTC_RE.match(o["filled_at"])
    a = stub.account()
    assert (a["currency"], a["status"], a["cash"], a["buying_power"], a["multiplier"]) == \
        ("USD", "ACTIVE", "99000", "99000", "1")
    assert (a["trading_blocked"], a["account_blocked"], a["equity"], a["long_market_value"]) == \
        (False, False, "100000", "1000")
    for k in ("id", "account_number", "last_equity", "portfolio_value", "short_market_value", "initial_margin",
              "maintenance_margin", "daytrade_count", "pattern_day_trader", "transfers_blocked",
              "shorting_enabled", "regt_buying_power", "daytrading_buying_power", "non_marginable_buying_power",
              "sma", "accrued_fees", "created_at"):
        assert k in a, k
    p = stub.positions()["AAPL"]
    assert (p["qty"], p["qty_available"], p["side"], p["avg_entry_price"], p["asset_class"], p["market_value"]) == \
        ("10", "10", "long", "100", "us_equity", "1000")
    # sell part at a new price: cash moves by qty x price, no commission
    stub.ctl("POST", "price", {"symbol": "AAPL", "price": "110.25"})
    s = stub.order(symbol="AAPL", qty=4, side="sell").json()  # qty as a JSON number is accepted too
    assert (s["status"], s["filled_qty"], s["filled_avg_price"], s["qty"]) == ("filled", "4", "110.25", "4")
    assert stub.account()["cash"] == "99441"
    assert stub.positions()["AAPL"]["qty"] == "6"
    # selling more than held: README 4.6's shape
    r = stub.order(symbol="AAPL", qty="7", side="sell")
    assert r.status == 403
    assert r.json() == {"available": "6", "code": 40310000, "existing_qty": "6", "held_for_orders": "0",
                        "message": "insufficient qty available for order (requested: 7, available: 6)",
                        "symbol": "AAPL"}
    assert list(r.json()) == sorted(r.json())
    assert err(stub.order(symbol="MSFT", qty="1000", side="buy")) == (403, 40310000, "insufficient buying power")
    assert err(stub.order(symbol="MSFT", qty="1", side="sell"))[:2] == (403, 40310000)
    # fractional shares: day orders only
    f = stub.order(symbol="SPY", qty="0.5", side="buy").json()
    assert (f["status"], f["filled_qty"]) == ("filled", "0.5")
    assert err(stub.order(symbol="SPY", qty="0.5", side="buy", time_in_force="gtc")) == \
        (422, 42210000, "fractional orders must be DAY orders")
    # by notional: qty null, shares from the price
    n = stub.order(symbol="SPY", notional="25", side="buy").json()
    assert (n["qty"], n["notional"], n["status"], n["filled_qty"]) == (None, "25", "filled", "0.25")
    assert stub.positions()["SPY"]["qty"] == "0.75"
    assert stub.account()["cash"] == str(99441 - 50 - 25)
    # a resting limit buy holds buying power; the cash itself stays
    lim = stub.order(symbol="AAPL", qty="2", side="buy", type="limit", limit_price="100.5",
                     time_in_force="gtc").json()
    assert (lim["status"], lim["limit_price"], lim["filled_qty"], lim["filled_avg_price"]) == ("new", "100.5", "0", None)
    a = stub.account()
    assert (a["cash"], a["buying_power"]) == ("99366", "99165")
    assert err(stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="100.123")) == \
        (422, 42210000, "invalid limit_price 100.123. sub-penny increment does not fulfill minimum pricing criteria")
    assert stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="0.1234",
                      time_in_force="gtc").status == 200
    # a marketable limit fills at the (better) current price
    m = stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="120").json()
    assert (m["status"], m["filled_avg_price"]) == ("filled", "110.25")
    # a resting sell holds its shares: qty_available drops
    stub.order(symbol="AAPL", qty="3", side="sell", type="limit", limit_price="200", time_in_force="gtc")
    p = stub.positions()["AAPL"]
    assert (p["qty"], p["qty_available"]) == ("7", "4")
    assert err(stub.order(symbol="NOPE", qty="1", side="buy")) == (422, 40010001, 'asset "NOPE" not found')
    assert err(stub.order(symbol="AAPL", side="buy"))[:2] == (422, 40010001)
    assert err(stub.api("POST", "/v2/orders", b"{not json")) == (400, 40010000, "request body format is invalid")


def test_unique_client_id_and_lookups(stub):
    a = stub.order(symbol="AAPL", qty="1", side="buy", client_order_id="apex-1").json()
    r = stub.order(symbol="AAPL", qty="1", side="buy", client_order_id="apex-1")
    assert err(r) == (422, 40010001, "client_order_id must be unique")
    assert len(stub.ctl("GET", "orders")) == 1
    assert err(stub.order(symbol="AAPL", qty="1", side="buy", client_order_id="x" * 129))[:2] == (422, 40010001)
    assert stub.order(symbol="AAPL", qty="1", side="buy", client_order_id="y" * 128).status == 200
    b = stub.order(symbol="AAPL", qty="1", side="buy").json()
    assert re.match(r"^[0-9a-f-]{36}$", b["client_order_id"])  # made up when not given
    q = stub.api("GET", "/v2/orders:by_client_order_id?client_order_id=apex-1")
    assert q.status == 200 and q.json()["id"] == a["id"] and list(q.json()) == ORDER_KEYS
    assert err(stub.api("GET", "/v2/orders:by_client_order_id?client_order_id=nope")) == \
        (404, 40410000, "order not found")
    assert stub.api("GET", "/v2/orders:by_client_order_id").status == 422
    assert stub.get(a["id"])["client_order_id"] == "apex-1"
    assert err(stub.api("GET", "/v2/orders/6a0f5e52-0000-4000-8000-000000000000")) == \
        (404, 40410000, "order not found")
    lim = stub.order(symbol="MSFT", qty="1", side="buy", type="limit", limit_price="50", time_in_force="gtc").json()
    open_ = stub.api("GET", "/v2/orders").json()  # status=open is the default
    assert [o["id"] for o in open_] == [lim["id"]]
    closed = stub.api("GET", "/v2/orders?status=closed").json()
    assert [o["id"] for o in closed][-1] == a["id"] and len(closed) == 3  # newest first
    assert len(stub.api("GET", "/v2/orders?status=all&limit=2&direction=asc").json()) == 2
    assert stub.api("GET", "/v2/orders?status=all&direction=asc").json()[0]["id"] == a["id"]
    assert stub.api("GET", "/v2/orders?status=all&symbols=MSFT").json()[0]["id"] == lim["id"]
    assert err(stub.api("GET", "/v2/orders?status=pending"))[:2] == (422, 40010001)


def test_cancel(stub):
    lim = stub.order(symbol="AAPL", qty="5", side="buy", type="limit", limit_price="90", time_in_force="gtc").json()
    assert stub.account()["buying_power"] == "99550"
    r = stub.api("DELETE", f"/v2/orders/{lim['id']}")
    assert (r.status, r.body) == (204, b"")
    o = stub.get(lim["id"])
    assert o["status"] == "canceled" and UTC_RE.match(o["canceled_at"])
    assert stub.account()["buying_power"] == "100000"
    assert err(stub.api("DELETE", f"/v2/orders/{lim['id']}")) == \
        (422, 42210000, 'order is already in "canceled" state')
    filled = stub.order(symbol="AAPL", qty="1", side="buy").json()
    assert err(stub.api("DELETE", f"/v2/orders/{filled['id']}")) == \
        (422, 42210000, 'order is already in "filled" state')
    assert err(stub.api("DELETE", "/v2/orders/6a0f5e52-0000-4000-8000-000000000000")) == \
        (404, 40410000, "order not found")
    a = stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="80", time_in_force="gtc").json()
    b = stub.order(symbol="AAPL", qty="1", side="sell", type="limit", limit_price="200", time_in_force="gtc").json()
    r = stub.api("DELETE", "/v2/orders")
    assert r.status == 207
    assert [(x["id"], x["status"], x["body"]["status"]) for x in r.json()] == \
        [(a["id"], 200, "canceled"), (b["id"], 200, "canceled")]
    assert stub.api("DELETE", "/v2/orders").json() == []
    assert stub.account()["buying_power"] == "99900"
    assert stub.positions()["AAPL"]["qty_available"] == "1"


def test_market_closed_queued_then_filled_on_open(stub):
    c = stub.api("GET", "/v2/clock").json()
    assert list(c) == ["timestamp", "is_open", "next_open", "next_close"] and c["is_open"] is True
    assert NY_RE.match(c["timestamp"]) and NY_RE.match(c["next_open"]) and NY_RE.match(c["next_close"])
    stub.ctl("POST", "clock", {"is_open": False, "next_open": "2024-01-02T09:30:00-05:00",
                               "next_close": "2024-01-02T16:00:00-05:00"})
    c = stub.api("GET", "/v2/clock").json()
    assert (c["is_open"], c["next_open"], c["next_close"]) == \
        (False, "2024-01-02T09:30:00-05:00", "2024-01-02T16:00:00-05:00")
    q = stub.order(symbol="AAPL", qty="10", side="buy", client_order_id="queued-1").json()
    assert (q["status"], q["filled_qty"], q["filled_at"]) == ("accepted", "0", None)
    a = stub.account()
    assert (a["cash"], a["buying_power"]) == ("100000", "99000")  # held at the price when placed
    lim = stub.order(symbol="MSFT", qty="1", side="buy", type="limit", limit_price="99", time_in_force="gtc").json()
    assert lim["status"] == "accepted"
    # an extended-hours day limit order trades while the regular market is closed
    ext = stub.order(symbol="SPY", qty="1", side="buy", type="limit", limit_price="101", extended_hours=True).json()
    assert (ext["status"], ext["filled_avg_price"]) == ("filled", "100")
    assert err(stub.order(symbol="SPY", qty="1", side="buy", extended_hours=True)) == \
        (422, 42210000, "extended hours order must be DAY limit orders")
    stub.ctl("POST", "price", {"prices": {"AAPL": "99.5", "MSFT": "98"}})
    assert stub.get(q["id"])["status"] == "accepted"
    opened = stub.ctl("POST", "clock", {"is_open": True})
    assert set(opened["filled"]) == {q["id"], lim["id"]}
    o = stub.get(q["id"])
    assert (o["status"], o["filled_qty"], o["filled_avg_price"]) == ("filled", "10", "99.5")
    assert stub.get(lim["id"])["filled_avg_price"] == "98"
    assert stub.account()["cash"] == str(100000 - 100 - 995 - 98)
    # the close ends the session's day orders; gtc ones stay
    day = stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="50").json()
    gtc = stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="50", time_in_force="gtc").json()
    closed = stub.ctl("POST", "clock", {"is_open": False})
    assert closed["expired"] == [day["id"]]
    assert stub.get(day["id"])["status"] == "expired" and stub.get(gtc["id"])["status"] == "new"


def test_reply_before_fill(stub):
    stub.ctl("POST", "config", {"reply_before_fill": True})
    o = stub.order(symbol="AAPL", qty="1", side="buy").json()
    assert (o["status"], o["filled_qty"], o["filled_at"]) == ("pending_new", "0", None)
    assert stub.get(o["id"])["status"] == "filled"  # the client learns the fill by asking


def test_faults(stub):
    buy = {"symbol": "AAPL", "qty": "2", "side": "buy"}
    stub.ctl("POST", "faults", {"faults": [
        {"path": "/v2/orders", "method": "POST", "kind": "http_503"},
        {"path": "/v2/orders", "method": "POST", "kind": "http_500"},
        {"path": "/v2/orders", "method": "POST", "kind": "rate_limit"},
        {"path": "/v2/orders", "method": "POST", "kind": "rate_limit", "retry_after": 7},
        {"path": "/v2/orders", "method": "POST", "kind": "reject"},
        {"path": "/v2/orders", "method": "POST", "kind": "unknown_500_after_accept"},
        {"path": "/v2/orders", "method": "POST", "kind": "drop_after_accept"},
        {"path": "/v2/orders", "method": "POST", "kind": "partial"},
        {"path": "/v2/orders", "method": "POST", "kind": "hang", "seconds": 0.2},
        {"path": "/v2/orders", "method": "POST", "kind": "rest"},
    ]})
    assert stub.api("GET", "/v2/account").status == 200  # faults wait for their path
    assert err(stub.order(**buy)) == (503, 50310000, "service unavailable")
    r = stub.order(**buy)
    assert (r.status, r.body) == (500, b"")
    r = stub.order(**buy)
    assert err(r) == (429, 42910000, "rate limit exceeded")
    assert "retry-after" not in r.headers and r.headers["x-ratelimit-remaining"] == "0"
    assert "x-ratelimit-reset" in r.headers and "x-ratelimit-limit" in r.headers
    r = stub.order(**buy)
    assert r.status == 429 and r.headers["retry-after"] == "7"
    assert err(stub.order(**buy)) == (403, 40310000, "insufficient buying power")
    assert stub.ctl("GET", "orders") == []  # none of those executed
    assert err(stub.order(**buy)) == (500, 50010000, "internal server error occurred")
    assert [o["status"] for o in stub.ctl("GET", "orders")] == ["filled"]
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        stub.order(**buy)
    assert len(stub.ctl("GET", "orders")) == 2
    p = stub.order(**buy).json()
    assert (p["status"], p["filled_qty"], p["qty"]) == ("partially_filled", "1", "2")
    t0 = time.monotonic()
    assert stub.order(**buy).json()["status"] == "filled"
    assert time.monotonic() - t0 >= 0.2
    rest = stub.order(**buy).json()
    assert (rest["status"], rest["filled_qty"]) == ("new", "0")
    assert set(stub.ctl("GET", "state")["open_orders"]) == {p["id"], rest["id"]}
    # the partial's rest and the resting order are still working: fill one, cancel the other
    f = stub.ctl("POST", "fill", {"id": p["id"]})
    assert (f["status"], f["filled_qty"]) == ("filled", "2")
    assert stub.api("DELETE", f"/v2/orders/{rest['id']}").status == 204
    assert stub.positions()["AAPL"]["qty"] == "8"  # 2 + 2 + 2 + 2
    assert stub.account()["cash"] == "99200"
    assert stub.ctl("GET", "faults") == []
    # a state an order may be put in, for the transport's mapping of Alpaca's rarer statuses
    o = stub.order(symbol="AAPL", qty="1", side="buy", type="limit", limit_price="50", time_in_force="gtc").json()
    assert stub.ctl("POST", "expire", {"id": o["id"], "status": "done_for_day"})["status"] == "done_for_day"
    assert stub.get(o["id"])["status"] == "done_for_day"


def test_timeout_after_accept_leaves_one_filled_order(stub):
    stub.ctl("POST", "faults", {"faults": [{"method": "POST", "path": "/v2/orders",
                                            "kind": "timeout_after_accept", "seconds": 3}]})
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        stub.order(symbol="AAPL", qty="1", side="buy", client_order_id="to-1", timeout=0.4)
    assert time.monotonic() - t0 < 2
    q = stub.api("GET", "/v2/orders:by_client_order_id?client_order_id=to-1").json()
    assert q["status"] == "filled"
    posts = stub.ctl("GET", "requests?method=POST&path=/v2/orders")
    assert len(posts) == 1 and posts[0]["body"]["client_order_id"] == "to-1" and posts[0]["api_key"] == KEY
    # killed while the reply is still held back: the restarted stub has the order and the request
    stub.kill()
    stub.start()
    assert [(o["client_order_id"], o["status"]) for o in stub.ctl("GET", "orders")] == [("to-1", "filled")]
    assert len(stub.ctl("GET", "requests?method=POST&path=/v2/orders")) == 1


def test_restart_keeps_state(tmp_path):
    s = Stub(tmp_path / "state.json", args=["--symbols", "AAPL,BRK.B"])
    try:
        s.ctl("POST", "cash", {"cash": "5000"})
        s.ctl("POST", "positions", {"positions": {"BRK.B": {"qty": "3", "avg_entry_price": "350"}}})
        s.ctl("POST", "price", {"symbol": "BRK.B", "price": "360"})
        s.ctl("POST", "config", {"trading_blocked": True})
        s.ctl("POST", "clock", {"is_open": False, "next_open": "2024-01-03T09:30:00-05:00"})
        assert err(s.order(symbol="AAPL", qty="1", side="buy"))[:2] == (403, 40310000)
        s.ctl("POST", "config", {"trading_blocked": False})
        q = s.order(symbol="AAPL", qty="2", side="buy", client_order_id="keep-1").json()
        acct, pos = s.account(), s.positions()
        s.kill()
        s.start()  # same state file
        assert s.api("GET", "/v2/orders:by_client_order_id?client_order_id=keep-1").json()["status"] == "accepted"
        assert s.account()["cash"] == acct["cash"] == "5000" and s.account()["buying_power"] == "4800"
        assert s.positions() == pos and pos["BRK.B"]["market_value"] == "1080"
        c = s.api("GET", "/v2/clock").json()
        assert (c["is_open"], c["next_open"]) == (False, "2024-01-03T09:30:00-05:00")
        assert s.ctl("GET", "state")["requests"] > 0  # the request log survives too
        assert err(s.order(symbol="AAPL", qty="1", side="buy", client_order_id="keep-1"))[1] == 40010001
        s.ctl("POST", "clock", {"is_open": True})
        assert s.get(q["id"])["status"] == "filled" and s.account()["cash"] == "4800"
        s.ctl("POST", "reset", {})
        assert s.ctl("GET", "orders") == [] and s.account()["cash"] == "100000"
    finally:
        s.kill()


def test_frozen_time(tmp_path):
    s = Stub(tmp_path / "state.json", args=["--frozen-time-ms", "1704205800123"])
    try:
        o = s.order(symbol="AAPL", qty="1", side="buy").json()
        assert o["created_at"] == o["filled_at"] == "2024-01-02T14:30:00.123Z"
        c = s.api("GET", "/v2/clock").json()
        assert c["timestamp"] == "2024-01-02T09:30:00.123-05:00"
        assert (c["next_open"], c["next_close"]) == ("2024-01-03T09:30:00-05:00", "2024-01-02T16:00:00-05:00")
    finally:
        s.kill()


def test_malformed_input_never_crashes(stub):
    for target, body in [
        ("/v2/orders", b"\xff\xfe\x00garbage"),
        ("/v2/orders", b"[1, 2]"),
        ("/v2/orders", b'{"symbol": "AAPL", "qty": "1e3", "side": "buy", "type": "market", "time_in_force": "day"}'),
        ("/v2/orders", b'{"symbol": "AAPL", "qty": "-1", "side": "buy", "type": "market", "time_in_force": "day"}'),
        ("/v2/orders", b'{"symbol": "AAPL", "qty": true, "side": "buy", "type": "market", "time_in_force": "day"}'),
        ("/v2/orders", b'{"symbol": ["AAPL"], "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"}'),
        ("/v2/orders", b'{"symbol": "AAPL", "qty": "1", "side": "buy", "type": "stop", "time_in_force": "day"}'),
        ("/v2/orders", b'{"symbol": "AAPL", "qty": "1", "notional": "5", "side": "buy", "type": "market", '
                       b'"time_in_force": "day"}'),
        ("/v2/orders", b'{"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day", '
                       b'"client_order_id": 5}'),
    ]:
        r = stub.api("POST", target, body)
        assert 400 <= r.status < 500, (body, r.status, r.body)
        assert set(r.json()) >= {"code", "message"}
    for target, body in [("/_stub/price", b"{not json"), ("/_stub/fill", b'{"id": "x"}'),
                         ("/_stub/faults", b'{"faults": [{"kind": "explode"}]}'), ("/_stub/cash", b'{"cash": "-1"}'),
                         ("/_stub/config", b'{"nope": 1}'), ("/_stub/clock", b'{"next_open": "tomorrow"}'),
                         ("/_stub/positions", b'{"AAPL": "-1"}')]:
        r = stub.raw("POST", target, body)
        assert r.status == 400, (target, r.status, r.body)
        json.loads(r.body)
    r = stub.raw("POST", "/v2/orders", b"x", {"APCA-API-KEY-ID": KEY, "APCA-API-SECRET-KEY": SECRET,
                                               "Content-Length": "abc"})
    assert r.status == 400
    assert stub.ctl("GET", "orders") == []
    assert stub.api("GET", "/v2/account").status == 200
