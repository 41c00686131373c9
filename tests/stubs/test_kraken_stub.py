"""Self-test of tests/stubs/kraken_stub.py (the local Kraken spot REST stub): README 2.6's signature
vector, key/signature/nonce checks (also across a restart), wire shapes, market and limit orders with
fees and balances, cancels, the dead man's switch firing, every scripted fault, restarts on the same
state file.

    cd /work/main && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/stubs/test_kraken_stub.py
"""
import base64
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
STUB = os.path.join(HERE, "kraken_stub.py")
PYTHON = "/usr/bin/python3"
KEY = "test-key-0123456789"
SECRET = base64.b64encode(b"test-secret-abcdefghijklmnopqrstuvwxyz-0123456789").decode()

# README 2.6 test vector
V_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
V_NONCE = 1616492376594
V_BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
V_PATH = "/0/private/AddOrder"
V_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TXID_RE = r"^O[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7]{6}$"


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Stub:
    """One stub process plus a tiny raw HTTP client (http.client, so bodies go out exactly as written)."""

    def __init__(self, state, key=KEY, secret=SECRET):
        self.state, self.key, self.secret = str(state), key, secret
        self.nonce = int(time.time() * 1000)
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [PYTHON, STUB, "--port", "0", "--state", self.state, "--api-key", self.key,
             "--api-secret", self.secret],
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

    def sign(self, path, nonce, body, secret=None):
        digest = hashlib.sha256((str(nonce) + body).encode()).digest()
        mac = hmac.new(base64.b64decode(secret or self.secret), path.encode() + digest, hashlib.sha512)
        return base64.b64encode(mac.digest()).decode()

    def private(self, method, params=None, nonce=None, key=None, timeout=5):
        if nonce is None:
            self.nonce += 1
            nonce = self.nonce
        body = urlencode({"nonce": str(nonce), **(params or {})})
        path = "/0/private/" + method
        hdr = {**FORM, "API-Key": self.key if key is None else key, "API-Sign": self.sign(path, nonce, body)}
        return self.raw("POST", path, body.encode(), hdr, timeout)

    def ok(self, method, params=None):
        r = self.private(method, params)
        assert r.status == 200, r.body
        j = r.json()
        assert j["error"] == [], j
        return j["result"]

    def balances(self):
        return self.ok("Balance")


def kerr(r):
    assert r.status == 200, (r.status, r.body)
    j = r.json()
    assert j["result"] == {}, j
    return j["error"]


@pytest.fixture
def stub(tmp_path):
    s = Stub(tmp_path / "state.json")
    yield s
    s.kill()


# ----------------------------------------------------------------------------------------------------


def test_signature_vector_and_auth_errors(tmp_path):
    """README 2.6: the documented secret, nonce, payload and path give the documented API-Sign, which
    the stub accepts on a fresh state; then key, signature and nonce errors."""
    s = Stub(tmp_path / "state.json", key="doc-key", secret=V_SECRET)
    try:
        assert s.sign(V_PATH, V_NONCE, V_BODY) == V_SIGN
        s.ctl("POST", "balances", {"ZUSD": "100000"})
        hdr = {**FORM, "API-Key": "doc-key", "API-Sign": V_SIGN}
        r = s.raw("POST", V_PATH, V_BODY.encode(), hdr)
        assert r.status == 200, r.body
        res = r.json()
        assert res["error"] == [] and len(res["result"]["txid"]) == 1
        assert res["result"]["descr"] == {"order": "buy 1.25000000 XBTUSD @ limit 37500.0"}
        # the same request again: its nonce is no longer above the last one
        assert kerr(s.raw("POST", V_PATH, V_BODY.encode(), hdr)) == ["EAPI:Invalid nonce"]
        # /_stub/config last_nonce lowers the bar, so the documented nonce passes once more
        assert s.ctl("POST", "config", {"last_nonce": V_NONCE - 1})["last_nonce"] == V_NONCE - 1
        r = s.raw("POST", V_PATH, V_BODY.encode(), hdr)
        assert r.json()["error"] == [], r.body
        assert s.ctl("GET", "state")["last_nonces"] == {"doc-key": V_NONCE}
        # one character changed, the signature of another path, none at all, garbage
        bad = V_SIGN[:10] + ("A" if V_SIGN[10] != "A" else "B") + V_SIGN[11:]
        for sig in (bad, s.sign("/0/private/Balance", V_NONCE + 5, V_BODY.replace(str(V_NONCE), str(V_NONCE + 5))),
                    "", "!!not base64!!"):
            body = V_BODY.replace(str(V_NONCE), str(V_NONCE + 5))
            assert kerr(s.raw("POST", V_PATH, body.encode(), {**FORM, "API-Key": "doc-key", "API-Sign": sig})) == \
                ["EAPI:Invalid signature"]
        # the body changed after signing
        assert kerr(s.raw("POST", V_PATH, V_BODY.replace("1.25", "1.26").encode(), hdr)) == ["EAPI:Invalid signature"]
        # wrong or missing key
        assert kerr(s.raw("POST", V_PATH, V_BODY.encode(), {**hdr, "API-Key": "other"})) == ["EAPI:Invalid key"]
        assert kerr(s.raw("POST", V_PATH, V_BODY.encode(), {**FORM, "API-Sign": V_SIGN})) == ["EAPI:Invalid key"]
        # no nonce, a nonce that is not a number: signed correctly, refused for the nonce
        for body in ("ordertype=market&pair=XBTUSD&type=buy&volume=0.01",
                     "nonce=abc&ordertype=market&pair=XBTUSD&type=buy&volume=0.01"):
            nonce = "abc" if "abc" in body else ""
            digest = hashlib.sha256((nonce + body).encode()).digest()
            sig = base64.b64encode(hmac.new(base64.b64decode(V_SECRET), V_PATH.encode() + digest,
                                            hashlib.sha512).digest()).decode()
            assert kerr(s.raw("POST", V_PATH, body.encode(), {**FORM, "API-Key": "doc-key", "API-Sign": sig})) == \
                ["EAPI:Invalid nonce"]
        # only the two accepted orders exist
        assert len(s.ctl("GET", "orders")) == 2
        assert "API-Sign" not in json.dumps(s.ctl("GET", "requests"))
    finally:
        s.kill()


def test_stale_nonce_also_after_restart(stub):
    assert stub.private("Balance", nonce=5000).json()["error"] == []
    assert kerr(stub.private("Balance", nonce=5000)) == ["EAPI:Invalid nonce"]
    assert kerr(stub.private("Balance", nonce=4999)) == ["EAPI:Invalid nonce"]
    assert stub.private("Balance", nonce=5001).json()["error"] == []
    stub.kill()
    stub.start()
    assert kerr(stub.private("Balance", nonce=5001)) == ["EAPI:Invalid nonce"]
    assert stub.private("Balance", nonce=5002).json()["error"] == []


def test_public_endpoints(stub):
    t = stub.raw("GET", "/0/public/Time").json()
    assert t["error"] == [] and abs(t["result"]["unixtime"] - time.time()) < 5
    assert t["result"]["rfc1123"].endswith(" +0000")
    pairs = stub.raw("GET", "/0/public/AssetPairs?pair=XBTUSD").json()
    assert pairs["error"] == [] and list(pairs["result"]) == ["XXBTZUSD"]
    x = pairs["result"]["XXBTZUSD"]
    # README 2.2's documented entry
    assert {k: x[k] for k in ("altname", "wsname", "base", "quote", "pair_decimals", "lot_decimals",
                              "cost_decimals", "ordermin", "costmin", "tick_size", "status")} == \
        {"altname": "XBTUSD", "wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD", "pair_decimals": 1,
         "lot_decimals": 8, "cost_decimals": 5, "ordermin": "0.0001", "costmin": "0.5", "tick_size": "0.1",
         "status": "online"}
    assert list(stub.raw("GET", "/0/public/AssetPairs?pair=XXBTZUSD,ETHUSDT").json()["result"]) == \
        ["XXBTZUSD", "ETHUSDT"]
    assert len(stub.raw("GET", "/0/public/AssetPairs").json()["result"]) == 4
    assert kerr(stub.raw("GET", "/0/public/AssetPairs?pair=NOPE")) == ["EQuery:Unknown asset pair"]
    r = stub.raw("GET", "/0/public/Nope")
    assert r.status == 404 and r.json()["error"] == ["EGeneral:Unknown method"]
    assert stub.raw("GET", "/0/private/Balance").status == 405


def test_market_buy_and_sell_with_fees(stub):
    assert stub.balances() == {"ZUSD": "10000.0000", "USDT": "10000.00000000", "XXBT": "0.0000000000",
                               "XETH": "0.0000000000"}
    res = stub.ok("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.5",
                               "cl_ord_id": "apex-buy-1"})
    assert res["descr"] == {"order": "buy 0.50000000 XBTUSD @ market"}
    [txid] = res["txid"]
    assert __import__("re").match(TXID_RE, txid)
    # cost 0.5 x 100 = 50, fee 0.26 % of it = 0.13, in USD
    assert stub.balances()["ZUSD"] == "9949.8700" and stub.balances()["XXBT"] == "0.5000000000"
    q = stub.ok("QueryOrders", {"txid": txid, "trades": "true"})
    o = q[txid]
    assert list(o) == ["refid", "userref", "cl_ord_id", "status", "reason", "opentm", "closetm", "starttm",
                       "expiretm", "descr", "vol", "vol_exec", "cost", "fee", "price", "stopprice", "limitprice",
                       "misc", "oflags", "trades"]
    assert (o["status"], o["vol"], o["vol_exec"], o["cost"], o["fee"], o["price"], o["oflags"], o["cl_ord_id"]) == \
        ("closed", "0.50000000", "0.50000000", "50.0000", "0.1300", "100.00", "fciq", "apex-buy-1")
    assert list(o["descr"]) == ["pair", "type", "ordertype", "price", "price2", "leverage", "order", "close"]
    assert (o["descr"]["pair"], o["descr"]["type"], o["descr"]["ordertype"]) == ("XBTUSD", "buy", "market")
    assert isinstance(o["opentm"], float) and o["closetm"] >= o["opentm"] and len(o["trades"]) == 1
    assert "trades" not in stub.ok("QueryOrders", {"txid": txid})[txid]
    # by cl_ord_id, as the adapter asks after a timeout
    assert list(stub.ok("QueryOrders", {"cl_ord_id": "apex-buy-1"})) == [txid]
    # sell it all at 120: cost 60, fee 0.156
    stub.ctl("POST", "price", {"pair": "XBTUSD", "price": "120"})
    sell = stub.ok("AddOrder", {"pair": "XXBTZUSD", "type": "sell", "ordertype": "market", "volume": "0.5"})
    b = stub.balances()
    assert b["ZUSD"] == "10009.7140" and b["XXBT"] == "0.0000000000"
    o = stub.ok("QueryOrders", {"txid": sell["txid"][0]})[sell["txid"][0]]
    assert (o["cost"], o["fee"], o["descr"]["type"]) == ("60.0000", "0.1560", "sell")
    assert "cl_ord_id" not in o
    # a USDT pair, fee in the base asset (fcib): 0.02 ETH bought, 0.26 % of it kept back in ETH
    stub.ok("AddOrder", {"pair": "ETHUSDT", "type": "buy", "ordertype": "market", "volume": "0.02",
                         "oflags": "fcib"})
    b = stub.balances()
    assert b["USDT"] == "9998.00000000" and b["XETH"] == "0.0199480000"
    # no funds
    assert kerr(stub.private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "market",
                                          "volume": "1000"})) == ["EOrder:Insufficient funds"]
    assert kerr(stub.private("AddOrder", {"pair": "XBTUSD", "type": "sell", "ordertype": "market",
                                          "volume": "0.1"})) == ["EOrder:Insufficient funds"]
    ex = stub.ok("BalanceEx")
    assert ex["ZUSD"] == {"balance": "10009.7140", "hold_trade": "0.0000"}


def test_order_checks(stub):
    base = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01", "price": "90"}
    cases = [
        ({"pair": "NOPE"}, "EQuery:Unknown asset pair"),
        ({"volume": "0.00001"}, "EOrder:Order minimum not met"),
        ({"volume": "0.0001", "price": "1"}, "EOrder:Cost minimum not met"),
        ({"price": "90.05"}, "EOrder:Tick size check failed"),
        ({"volume": "0.000000001"}, "EGeneral:Invalid arguments:volume"),
        ({"volume": "abc"}, "EGeneral:Invalid arguments:volume"),
        ({"type": "short"}, "EGeneral:Invalid arguments:type"),
        ({"ordertype": "stop-loss"}, "EGeneral:Invalid arguments:ordertype"),
        ({"ordertype": "market"}, "EGeneral:Invalid arguments:price"),
        ({"oflags": "fcib,fciq"}, "EGeneral:Invalid arguments:oflags"),
        ({"cl_ord_id": "x" * 19}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"cl_ord_id": "ok-1", "userref": "7"}, "EGeneral:Invalid arguments:cl_ord_id"),
        ({"deadline": "2020-01-01T00:00:00Z"}, "EService:Deadline elapsed"),
        ({"leverage": "2"}, "EGeneral:Invalid arguments:leverage"),
    ]
    for extra, want in cases:
        assert kerr(stub.private("AddOrder", {**base, **extra})) == [want], extra
    assert stub.ctl("GET", "orders") == []
    # validate=true checks and places nothing
    res = stub.ok("AddOrder", {**base, "validate": "true"})
    assert res == {"descr": {"order": "buy 0.01000000 XBTUSD @ limit 90.0"}}
    assert stub.ctl("GET", "orders") == []
    # every accepted form of cl_ord_id
    for cid in ("6d1b345e-2821-40e2-ad83-4ecb18a06876", "6d1b345e282140e2ad834ecb18a06876", "eighteen-chars-ok!"):
        assert len(stub.ok("AddOrder", {**base, "cl_ord_id": cid})["txid"]) == 1


def test_limit_order_open_cancel_duplicate(stub):
    res = stub.ok("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "1",
                               "price": "90", "cl_ord_id": "lim-1"})
    [txid] = res["txid"]
    # held: 90 + 0.234 fee; Balance still reports the total
    assert stub.ok("BalanceEx")["ZUSD"] == {"balance": "10000.0000", "hold_trade": "90.2340"}
    assert stub.balances()["ZUSD"] == "10000.0000"
    oo = stub.ok("OpenOrders")
    assert list(oo) == ["open"] and list(oo["open"]) == [txid]
    assert oo["open"][txid]["status"] == "open" and "closetm" not in oo["open"][txid]
    assert stub.ok("OpenOrders", {"cl_ord_id": "lim-1"})["open"].keys() == {txid}
    assert stub.ok("OpenOrders", {"cl_ord_id": "other"}) == {"open": {}}
    assert kerr(stub.private("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "1",
                                          "price": "80", "cl_ord_id": "lim-1"})) == ["EOrder:Duplicate order"]
    # a part fills (control), then the order is cancelled by cl_ord_id
    f = stub.ctl("POST", "fill", {"txid": txid, "volume": "0.4"})
    assert (f["status"], f["vol_exec"], f["cost"], f["fee"]) == ("open", "0.40000000", "36.0000", "0.0936")
    assert stub.ok("CancelOrder", {"cl_ord_id": "lim-1"}) == {"count": 1, "pending": False}
    assert kerr(stub.private("CancelOrder", {"cl_ord_id": "lim-1"})) == ["EOrder:Unknown order"]
    assert kerr(stub.private("CancelOrder", {"txid": txid})) == ["EOrder:Unknown order"]
    o = stub.ok("QueryOrders", {"cl_ord_id": "lim-1"})[txid]
    assert (o["status"], o["vol_exec"], o["reason"]) == ("canceled", "0.40000000", "User requested")
    assert stub.ok("BalanceEx")["ZUSD"] == {"balance": "9963.9064", "hold_trade": "0.0000"}
    closed = stub.ok("ClosedOrders", {"cl_ord_id": "lim-1"})
    assert closed["count"] == 1 and list(closed["closed"]) == [txid]
    assert stub.ok("ClosedOrders", {"cl_ord_id": "never-used"}) == {"closed": {}, "count": 0}
    assert stub.balances()["XXBT"] == "0.4000000000"
    # the id is free again once the order is no longer open
    again = stub.ok("AddOrder", {"pair": "XBTUSD", "type": "sell", "ordertype": "limit", "volume": "0.4",
                                 "price": "150", "cl_ord_id": "lim-1"})["txid"][0]
    assert stub.ok("BalanceEx")["XXBT"]["hold_trade"] == "0.4000000000"
    assert stub.ok("CancelOrder", {"txid": again}) == {"count": 1, "pending": False}
    # unknowns
    assert kerr(stub.private("QueryOrders", {"txid": "OAAAAA-BBBBB-CCCCCC"})) == ["EOrder:Invalid order"]
    assert stub.ok("QueryOrders", {"cl_ord_id": "never-used"}) == {}
    q = stub.ok("QueryOrders", {"txid": f"{again},{txid}"})
    assert list(q) == [again, txid]
    # a marketable limit fills at the current price; a marketable post-only limit is cancelled
    m = stub.ok("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.1",
                             "price": "105"})["txid"][0]
    assert stub.ok("QueryOrders", {"txid": m})[m]["cost"] == "10.0000"
    p = stub.ok("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.1",
                             "price": "105", "oflags": "post"})["txid"][0]
    po = stub.ok("QueryOrders", {"txid": p})[p]
    assert (po["status"], po["reason"], po["oflags"]) == ("canceled", "Post only order", "fciq,post")


def test_dead_man_switch_fires(stub):
    txids = [stub.ok("AddOrder", {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.1",
                                  "price": str(p)})["txid"][0] for p in (80, 85)]
    r = stub.ok("CancelAllOrdersAfter", {"timeout": "60"})
    assert set(r) == {"currentTime", "triggerTime"}
    assert __import__("re").match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", r["triggerTime"])
    st = stub.ctl("GET", "state")["dead_man"]
    assert st["armed"] and st["timeout"] == 60 and st["trigger_time"] == r["triggerTime"]
    # disarmed
    assert stub.ok("CancelAllOrdersAfter", {"timeout": "0"})["triggerTime"] == "0"
    assert stub.ctl("GET", "state")["dead_man"]["armed"] is False
    assert kerr(stub.private("CancelAllOrdersAfter", {"timeout": "86400"})) == ["EGeneral:Invalid arguments:timeout"]
    # armed for 1 s and not pushed back: every open order cancelled, then the switch is off
    t0 = time.time()
    stub.ok("CancelAllOrdersAfter", {"timeout": "1"})
    while stub.ctl("GET", "state")["dead_man"]["armed"] and time.time() - t0 < 3:
        time.sleep(0.05)
    assert 0.9 <= time.time() - t0 < 3
    st = stub.ctl("GET", "state")
    assert st["open_orders"] == [] and st["dead_man"]["fired"][0]["cancelled"] == txids
    q = stub.ok("QueryOrders", {"txid": ",".join(txids)})
    assert {o["status"] for o in q.values()} == {"canceled"}
    assert stub.ok("BalanceEx")["ZUSD"]["hold_trade"] == "0.0000"


def test_faults(stub):
    order = {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.2"}
    path = "/0/private/AddOrder"
    stub.ctl("POST", "faults", {"faults": [
        {"path": path, "kind": "http_503"},
        {"path": path, "kind": "http_500"},
        {"path": path, "kind": "rate_limit"},
        {"path": path, "kind": "reject"},
        {"path": path, "kind": "unknown_500_after_accept"},
        {"path": path, "kind": "drop_after_accept"},
        {"path": path, "kind": "partial", "fraction": "0.5"},
        {"path": path, "kind": "rest"},
        {"path": path, "kind": "hang", "seconds": 0.2},
    ]})
    r = stub.private("AddOrder", order)
    assert (r.status, r.json()["error"]) == (503, ["EService:Unavailable"])
    r = stub.private("AddOrder", order)
    assert (r.status, r.body) == (500, b"")
    assert kerr(stub.private("AddOrder", order)) == ["EAPI:Rate limit exceeded"]
    assert kerr(stub.private("AddOrder", order)) == ["EOrder:Insufficient funds"]
    assert stub.ctl("GET", "orders") == []
    r = stub.private("AddOrder", order)
    assert (r.status, r.json()["error"]) == (500, ["EGeneral:Internal error"])
    assert [o["status"] for o in stub.ctl("GET", "orders")] == ["closed"]  # executed all the same
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        stub.private("AddOrder", order)
    assert len(stub.ctl("GET", "orders")) == 2
    o = stub.ok("QueryOrders", {"txid": stub.ok("AddOrder", order)["txid"][0]})
    [o] = o.values()
    assert (o["status"], o["vol_exec"], o["vol"]) == ("closed", "0.10000000", "0.20000000")
    rest = stub.ok("AddOrder", order)["txid"][0]
    ro = stub.ok("OpenOrders")["open"][rest]
    assert (ro["status"], ro["vol_exec"], ro["descr"]["ordertype"]) == ("open", "0.00000000", "market")
    t0 = time.monotonic()
    assert len(stub.ok("AddOrder", order)["txid"]) == 1
    assert time.monotonic() - t0 >= 0.2
    assert stub.ctl("GET", "faults") == []
    # 0.2 + 0.2 + 0.1 + 0.2 bought (the resting one holds its funds but has bought nothing)
    assert stub.balances()["XXBT"] == "0.7000000000"
    f = stub.ctl("POST", "fill", {"txid": rest})
    assert f["status"] == "closed" and f["cost"] == "20.0000"
    # timeout_after_accept: the client gives up, the order exists; kill the stub meanwhile
    stub.ctl("POST", "faults", {"faults": [{"path": path, "kind": "timeout_after_accept", "seconds": 3}]})
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        stub.private("AddOrder", {**order, "cl_ord_id": "to-1"}, timeout=0.4)
    assert time.monotonic() - t0 < 2
    assert list(stub.ok("QueryOrders", {"cl_ord_id": "to-1"}).values())[0]["status"] == "closed"
    stub.kill()
    stub.start()
    assert list(stub.ok("QueryOrders", {"cl_ord_id": "to-1"}).values())[0]["status"] == "closed"
    posts = stub.ctl("GET", "requests?method=POST&path=/0/private/AddOrder")
    assert len(posts) == 10 and "cl_ord_id=to-1" in posts[-1]["body"]


def test_restart_keeps_state(tmp_path):
    s = Stub(tmp_path / "state.json")
    try:
        s.ctl("POST", "balances", {"ZUSD": "5000", "XXBT": "2"})
        s.ctl("POST", "price", {"prices": {"ETHUSD": "2000", "XBTUSD": "150"}})
        s.ctl("POST", "config", {"fee_rate": "0.004"})
        m = s.ok("AddOrder", {"pair": "XBTUSD", "type": "sell", "ordertype": "market", "volume": "1",
                              "cl_ord_id": "keep-1"})["txid"][0]
        lim = s.ok("AddOrder", {"pair": "XBTUSD", "type": "sell", "ordertype": "limit", "volume": "0.5",
                                "price": "200", "cl_ord_id": "keep-2"})["txid"][0]
        s.ok("CancelAllOrdersAfter", {"timeout": "2"})
        bal = s.balances()
        assert bal == {"ZUSD": "5149.4000", "USDT": "10000.00000000", "XXBT": "1.0000000000",
                       "XETH": "0.0000000000"}
        s.kill()
        s.start()  # same state file
        assert s.balances() == bal
        assert s.ok("QueryOrders", {"cl_ord_id": "keep-1"})[m]["status"] == "closed"
        assert list(s.ok("OpenOrders")["open"]) == [lim]
        state = s.ctl("GET", "state")
        assert state["prices"]["ETHUSD"] == "2000" and state["config"]["fee_rate"] == "0.004"
        assert state["requests"] > 0 and state["last_nonces"][KEY] == s.nonce
        assert state["dead_man"]["armed"]
        # the switch armed before the restart still fires
        t0 = time.time()
        while s.ctl("GET", "state")["dead_man"]["armed"] and time.time() - t0 < 3:
            time.sleep(0.05)
        assert s.ctl("GET", "state")["open_orders"] == []
        assert s.ok("QueryOrders", {"txid": lim})[lim]["reason"] == "Dead man's switch"
        s.ctl("POST", "reset", {})
        st = s.ctl("GET", "state")
        assert st["orders"] == 0 and st["last_nonces"] == {} and st["balances"]["ZUSD"] == "10000.0000"
    finally:
        s.kill()


def test_malformed_input_never_crashes(stub):
    path = "/0/private/Balance"
    nonce = int(time.time() * 1000) + 10_000
    for body, hdr in [
        (b"\xff\xfe\x00garbage=%%%&&&", FORM),
        (f"nonce={nonce}&nonce={nonce + 1}".encode(), FORM),
        (("a=1&" * 200 + f"nonce={nonce}").encode(), FORM),
        (json.dumps({"nonce": nonce}).encode(), {"Content-Type": "application/json"}),
    ]:
        h = {**hdr, "API-Key": KEY, "API-Sign": stub.sign(path, nonce, body.decode("latin-1"))}
        r = stub.raw("POST", path, body, h)
        assert r.status == 200 and r.json()["error"] and r.json()["error"][0].startswith("EGeneral:Invalid arguments"), \
            r.body
    for target, body in [("/_stub/price", b"{not json"), ("/_stub/fill", b'{"txid": 5}'),
                         ("/_stub/faults", b'{"faults": [{"kind": "explode"}]}'),
                         ("/_stub/balances", b'{"ZUSD": "-1"}'), ("/_stub/config", b'{"fee_rate": "NaN"}'),
                         ("/_stub/config", b'{"last_nonce": -1}')]:
        r = stub.raw("POST", target, body)
        assert r.status == 400, (target, r.body)
        json.loads(r.body)
    r = stub.raw("POST", path, b"x", {**FORM, "Content-Length": "abc"})
    assert r.status == 200 and r.json()["error"] == ["EGeneral:Invalid arguments"]
    assert stub.raw("GET", "/0/public/Time").status == 200
    assert stub.private("Balance").json()["error"] == []
