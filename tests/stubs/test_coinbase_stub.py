"""Self-test of tests/stubs/coinbase_stub.py (the local Coinbase Advanced Trade stub): JWT auth as
README 3.3 says, orders, idempotent client ids, balances, faults and restarts on one state file. The
JWTs are signed here with python3-cryptography.

    cd /work/main && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/stubs/test_coinbase_stub.py
"""
import base64
import http.client
import json
import os
import secrets
import subprocess
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "coinbase_stub.py")
PYTHON = "/usr/bin/python3"
KEY_NAME = "organizations/org-1/apiKeys/key-1"
P = "/api/v3/brokerage"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(key, method, path, kid=KEY_NAME, nbf=None, exp=None, iss="cdp", nonce=None, host="api.coinbase.com"):
    now = int(time.time())
    nbf = now if nbf is None else nbf
    exp = nbf + 120 if exp is None else exp
    h = {"alg": "ES256", "kid": kid, "nonce": nonce or secrets.token_hex(), "typ": "JWT"}
    c = {"sub": kid, "iss": iss, "nbf": nbf, "exp": exp, "uri": f"{method} {host}{path}"}
    si = b64url(json.dumps(h).encode()) + "." + b64url(json.dumps(c).encode())
    r, s = decode_dss_signature(key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
    return si + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


class Stub:
    def __init__(self, tmp):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.pem = tmp / "pub.pem"
        self.pem.write_bytes(self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
        self.state = tmp / "state.json"
        self.start()

    def start(self):
        self.proc = subprocess.Popen([PYTHON, STUB, "--port", "0", "--state", str(self.state), "--key-name", KEY_NAME,
                                      "--public-key-pem", str(self.pem)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening "), line
        self.port = int(line.split()[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)

    def raw(self, method, path, body=None, token=None, sign_path=None, timeout=5):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Content-Type": "application/json"}
        if token is not False:
            h["Authorization"] = "Bearer " + (token or jwt(self.key, method, sign_path or path.split("?")[0]))
        c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None, r

    def ctl(self, method, path, body=None):
        return self.raw(method, "/_stub/" + path, body, token=False)[1]


@pytest.fixture
def stub(tmp_path):
    s = Stub(tmp_path)
    yield s
    s.stop()


def market(cid, side="BUY", size="0.01", product="BTC-USD"):
    return {"client_order_id": cid, "product_id": product, "side": side,
            "order_configuration": {"market_market_ioc": {"base_size": size}}}


def test_auth_rules(stub):
    path = P + "/accounts"
    assert stub.raw("GET", path)[0] == 200
    assert stub.raw("GET", path + "?limit=250", sign_path=path)[0] == 200  # no query in uri
    bad = [
        "a.b.c",
        jwt(stub.key, "GET", path, kid="organizations/x/apiKeys/y"),
        jwt(stub.key, "GET", path, iss="coinbase-cloud"),
        jwt(stub.key, "GET", path, nbf=int(time.time()) - 300),  # expired
        jwt(stub.key, "GET", path, nbf=int(time.time()) + 60),  # not yet
        jwt(stub.key, "GET", path, exp=int(time.time()) + 500),  # too long
        jwt(stub.key, "POST", path),
        jwt(stub.key, "GET", path, host="127.0.0.1"),
        jwt(ec.generate_private_key(ec.SECP256R1()), "GET", path),
    ]
    for t in bad:
        st, body, _ = stub.raw("GET", path, token=t)
        assert st == 401 and body["error"] == "unauthorized", (t, body)
    assert stub.raw("GET", path, token=False)[0] == 401
    t = jwt(stub.key, "GET", path)
    assert stub.raw("GET", path, token=t)[0] == 200
    assert stub.raw("GET", path, token=t)[0] == 401  # replayed nonce


def test_market_order_fills_with_fee_and_is_idempotent(stub):
    stub.ctl("POST", "price", {"product_id": "BTC-USD", "price": "50000"})
    stub.ctl("POST", "balances", {"USD": "10000", "BTC": "0"})
    st, r, _ = stub.raw("POST", P + "/orders", market("c1", size="0.1"))
    assert st == 200 and r["success"] and r["success_response"]["client_order_id"] == "c1"
    oid = r["success_response"]["order_id"]
    st, o, _ = stub.raw("GET", P + "/orders/historical/" + oid)
    o = o["order"]
    assert o["status"] == "FILLED" and o["filled_size"] == "0.1" and o["filled_value"] == "5000"
    assert Decimal(o["total_fees"]) == Decimal("30")  # 0.6 % of 5000
    acc = {a["currency"]: a for a in stub.raw("GET", P + "/accounts")[1]["accounts"]}
    assert Decimal(acc["USD"]["available_balance"]["value"]) == Decimal("4970")
    assert Decimal(acc["BTC"]["available_balance"]["value"]) == Decimal("0.1")
    st, r2, _ = stub.raw("POST", P + "/orders", market("c1", size="0.1"))  # same client id: same order
    assert r2["success"] and r2["success_response"]["order_id"] == oid
    assert len(stub.ctl("GET", "orders")) == 1
    assert stub.ctl("GET", "order?client_order_id=c1")["order_id"] == oid


def test_insufficient_funds_and_errors(stub):
    stub.ctl("POST", "price", {"product_id": "BTC-USD", "price": "50000"})
    st, r, _ = stub.raw("POST", P + "/orders", market("c2", size="1"))
    assert st == 200 and not r["success"] and r["error_response"]["error"] == "INSUFFICIENT_FUND"
    st, r, _ = stub.raw("GET", P + "/orders/historical/nope")
    assert st == 404 and r["error"] == "NOT_FOUND" and "order with this orderID was not found" in r["message"]
    st, r, _ = stub.raw("GET", P + "/nothing")
    assert st == 404 and "order" not in r["message"]


def test_limit_order_open_list_and_cancel(stub):
    st, r, _ = stub.raw("POST", P + "/orders", {"client_order_id": "l1", "product_id": "BTC-USD", "side": "BUY",
                                                "order_configuration": {"limit_limit_gtc": {"base_size": "1",
                                                                                            "limit_price": "90"}}})
    oid = r["success_response"]["order_id"]
    acc = {a["currency"]: a for a in stub.raw("GET", P + "/accounts")[1]["accounts"]}
    assert Decimal(acc["USD"]["hold"]["value"]) == Decimal("90.54")
    lst = stub.raw("GET", P + "/orders/historical/batch?order_status=OPEN&product_id=BTC-USD",
                   sign_path=P + "/orders/historical/batch")[1]
    assert [o["order_id"] for o in lst["orders"]] == [oid] and lst["has_next"] is False
    st, r, _ = stub.raw("POST", P + "/orders/batch_cancel", {"order_ids": [oid, "zzz"]})
    assert r["results"][0]["success"] and not r["results"][1]["success"]
    assert stub.raw("GET", P + "/orders/historical/" + oid)[1]["order"]["status"] == "CANCELLED"
    acc = {a["currency"]: a for a in stub.raw("GET", P + "/accounts")[1]["accounts"]}
    assert Decimal(acc["USD"]["available_balance"]["value"]) == Decimal("10000")


def test_faults_and_restart(stub):
    stub.ctl("POST", "faults", {"faults": [{"kind": "http_503"}, {"kind": "rate_limit", "seconds": 3},
                                           {"kind": "reject"}, {"kind": "partial", "fraction": "0.25"},
                                           {"kind": "timeout_after_accept", "seconds": 1.5}]})
    assert stub.raw("POST", P + "/orders", market("f1"))[0] == 503
    st, r, resp = stub.raw("POST", P + "/orders", market("f1"))
    assert st == 429 and r["error"] == "rate_limit_exceeded" and resp.getheader("Retry-After") == "3"
    assert stub.raw("POST", P + "/orders", market("f1"))[1]["error_response"]["error"] == "INSUFFICIENT_FUND"
    r = stub.raw("POST", P + "/orders", market("f1", size="0.04"))[1]
    o = stub.ctl("GET", "order?client_order_id=f1")
    assert r["success"] and o["filled_size"] == "0.01" and o["status"] == "CANCELLED"
    with pytest.raises(OSError):
        stub.raw("POST", P + "/orders", market("f2"), timeout=0.5)
    assert stub.ctl("GET", "order?client_order_id=f2")["status"] == "FILLED"  # accepted all the same
    stub.stop()
    stub.start()
    assert len(stub.ctl("GET", "orders")) == 2 and stub.ctl("GET", "faults") == []
    stub.ctl("POST", "reset")
    assert stub.ctl("GET", "orders") == []
