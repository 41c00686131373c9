#!/usr/bin/python3
"""A local stub of Coinbase Advanced Trade's private REST API (orders, accounts), for tests of the C
live-trading adapter. Standard library plus python3-cryptography (Debian's), for the ES256 JWTs.

    /usr/bin/python3 tests/stubs/coinbase_stub.py --port 0 --state DIR/state.json \
        --key-name organizations/ORG/apiKeys/KEY --public-key-pem FILE [--verbose]

It binds 127.0.0.1 only and prints exactly one line, "listening <port>", once it accepts connections.
Wire formats follow /work/shared/reference/venues/README.md section 3 (3.2 endpoints, 3.3 auth, 3.4
the order object) and 7 (Coinbase's error names).

Auth (ref 3.3): every API request needs "Authorization: Bearer <JWT>", an ES256 JWS whose header has
alg ES256, kid == --key-name and a nonce, and whose claims have sub == --key-name, iss "cdp",
nbf <= now, exp > now, exp - nbf <= 120 and uri == "<METHOD> api.coinbase.com<path>" (the path
without its query string). The uri names Coinbase's real host whatever address this stub listens on:
a client signs exactly what it would sign for the venue. A nonce seen before is refused (replay).
Anything else is 401 {"error": "unauthorized", "message": "..."}.

Idempotency: a client_order_id used before creates nothing and answers the existing order's success
response (Coinbase's API reference: "If the ID provided is not unique, the order will not be created
and the order with this ID will be returned instead").

Everything the venue would remember (orders, balances, prices, faults, used nonces) is written
atomically (temp file + os.replace) to --state after every change and read back at start.

API:     GET /api/v3/brokerage/accounts, POST /api/v3/brokerage/orders,
         GET /api/v3/brokerage/orders/historical/{order_id},
         GET /api/v3/brokerage/orders/historical/batch[?order_status=OPEN&product_id=...],
         POST /api/v3/brokerage/orders/batch_cancel
Control (no auth, JSON bodies), under /_stub/:
         POST price {product_id, price}; POST balances {"USD": "10000", ...} (sets them);
         POST faults {faults: [{kind, count?, method?, path?, seconds?, fraction?}], clear?} with kind in
         KINDS; GET faults; GET orders; GET order?client_order_id=...; GET requests; DELETE requests;
         GET state; POST reset.
"""
import argparse
import base64
import json
import os
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

HOST = "api.coinbase.com"
PREFIX = "/api/v3/brokerage"
FEE_RATE = Decimal("0.006")
Q8 = Decimal("0.00000001")
MAX_BODY = 1 << 20
DEFAULT_PRICE = "100"
DEFAULT_BALANCES = {"USD": "10000", "BTC": "0"}
KINDS = ("timeout_after_accept", "drop_after_accept", "http_500", "http_503", "rate_limit", "reject",
         "partial", "hang", "rest")
OPEN = ("OPEN", "PENDING", "QUEUED", "CANCEL_QUEUED")


class ApiError(Exception):
    def __init__(self, status, error, message, headers=None):
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers or {}


class ControlError(Exception):
    pass


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def dec(x, name):
    if not isinstance(x, str):
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} must be a decimal string")
    try:
        d = Decimal(x)
    except InvalidOperation:
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} is not a decimal") from None
    if not d.is_finite() or d < 0:
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} is not a decimal >= 0")
    return d


def fmt(d):
    d = Decimal(d)
    s = format(d.normalize(), "f") if d != 0 else "0"
    return s


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Stub:
    def __init__(self, path, key_name, public_key, verbose):
        self.path, self.key_name, self.public_key, self.verbose = path, key_name, public_key, verbose
        self.lock = threading.RLock()
        self.requests = []
        self.s = self.defaults()
        if os.path.exists(path):
            with open(path) as f:
                self.s.update(json.load(f))
        self.save()

    @staticmethod
    def defaults():
        return {"prices": {}, "balances": dict(DEFAULT_BALANCES), "holds": {}, "orders": [], "faults": [],
                "nonces": []}

    def save(self):
        tmp = f"{self.path}.tmp.{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "w") as f:
            json.dump(self.s, f)
        os.replace(tmp, self.path)

    # --- auth (ref 3.3) ---

    def verify(self, method, path, auth):
        if not auth or not auth.startswith("Bearer "):
            raise ApiError(401, "unauthorized", "missing Bearer token")
        parts = auth[len("Bearer "):].strip().split(".")
        if len(parts) != 3:
            raise ApiError(401, "unauthorized", "the token is not a JWS")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, TypeError):
            raise ApiError(401, "unauthorized", "the token does not decode") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ApiError(401, "unauthorized", "the token does not decode")
        if header.get("alg") != "ES256" or header.get("kid") != self.key_name:
            raise ApiError(401, "unauthorized", "alg must be ES256 and kid the key name")
        nonce = header.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise ApiError(401, "unauthorized", "the header has no nonce")
        if len(sig) != 64:
            raise ApiError(401, "unauthorized", "the signature is not 64 bytes of R||S")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            self.public_key.verify(der, (parts[0] + "." + parts[1]).encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ApiError(401, "unauthorized", "invalid signature") from None
        t = time.time()
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if claims.get("sub") != self.key_name or claims.get("iss") != "cdp":
            raise ApiError(401, "unauthorized", "sub must be the key name and iss cdp")
        if not isinstance(nbf, int) or not isinstance(exp, int) or isinstance(nbf, bool) or isinstance(exp, bool):
            raise ApiError(401, "unauthorized", "nbf and exp must be integers")
        if nbf > t + 1 or exp <= t or exp - nbf > 120:
            raise ApiError(401, "unauthorized", "the token is not valid now (nbf/exp)")
        if claims.get("uri") != f"{method} {HOST}{path}":
            raise ApiError(401, "unauthorized", f"uri must be {method} {HOST}{path}")
        with self.lock:
            if nonce in self.s["nonces"]:
                raise ApiError(401, "unauthorized", "the token was used before")
            self.s["nonces"].append(nonce)
            self.save()

    # --- state helpers ---

    def price(self, product):
        return Decimal(self.s["prices"].get(product, DEFAULT_PRICE))

    def bal(self, asset):
        return Decimal(self.s["balances"].get(asset, "0"))

    def add(self, asset, d, key="balances"):
        self.s[key][asset] = fmt(Decimal(self.s[key].get(asset, "0")) + d)

    def find(self, order_id=None, client_order_id=None):
        for o in self.s["orders"]:
            if (order_id and o["order_id"] == order_id) or (client_order_id and o["client_order_id"] == client_order_id):
                return o
        return None

    @staticmethod
    def success(o):
        return {"success": True, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": o["order_id"],
                "success_response": {"order_id": o["order_id"], "product_id": o["product_id"], "side": o["side"],
                                     "client_order_id": o["client_order_id"]},
                "order_configuration": o["order_configuration"]}

    # --- endpoints ---

    def ep_accounts(self, q, body):
        accts = []
        for a in sorted(set(self.s["balances"]) | set(self.s["holds"])):
            accts.append({"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, a)), "name": f"{a} Wallet", "currency": a,
                          "available_balance": {"value": fmt(self.bal(a)), "currency": a},
                          "default": False, "active": True, "type": "ACCOUNT_TYPE_CRYPTO", "ready": True,
                          "hold": {"value": fmt(Decimal(self.s["holds"].get(a, "0"))), "currency": a}})
        return {"accounts": accts, "has_next": False, "cursor": "", "size": len(accts)}

    def ep_create(self, q, body, fault):
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_ARGUMENT", "the body must be a JSON object")
        cid, product, side, cfg = (body.get(k) for k in ("client_order_id", "product_id", "side", "order_configuration"))
        if not isinstance(cid, str) or not cid:
            raise ApiError(400, "INVALID_ARGUMENT", "client_order_id is required")
        old = self.find(client_order_id=cid)
        if old:
            return self.success(old)  # idempotent: the existing order, nothing new
        if not isinstance(product, str) or product.count("-") != 1:
            raise ApiError(400, "INVALID_ARGUMENT", "product_id must be BASE-QUOTE")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, "INVALID_ARGUMENT", "side must be BUY or SELL")
        if not isinstance(cfg, dict) or len(cfg) != 1:
            return self.failure("UNSUPPORTED_ORDER_CONFIGURATION", "one order configuration is needed")
        kind, spec = next(iter(cfg.items()))
        if kind not in ("market_market_ioc", "limit_limit_gtc") or not isinstance(spec, dict):
            return self.failure("UNSUPPORTED_ORDER_CONFIGURATION", f"{kind} is not supported by the stub")
        if fault and fault["kind"] == "reject":
            return self.failure("INSUFFICIENT_FUND", "Insufficient balance in source account")
        size = dec(spec.get("base_size"), "base_size")
        if size <= 0:
            return self.failure("INVALID_SIZE_PRECISION", "base_size must be above 0",
                                "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL")
        base, quote = product.split("-")
        limit = dec(spec.get("limit_price"), "limit_price") if kind == "limit_limit_gtc" else None
        px = limit if limit is not None else self.price(product)
        notional = size * px
        fee_rate = FEE_RATE
        need_quote = notional * (1 + fee_rate)
        if side == "BUY" and self.bal(quote) < need_quote:
            return self.failure("INSUFFICIENT_FUND", "Insufficient balance in source account",
                                "PREVIEW_INSUFFICIENT_FUND")
        if side == "SELL" and self.bal(base) < size:
            return self.failure("INSUFFICIENT_FUND", "Insufficient balance in source account",
                                "PREVIEW_INSUFFICIENT_FUND")
        o = {"order_id": str(uuid.uuid4()), "product_id": product, "side": side, "client_order_id": cid,
             "order_configuration": {kind: {k: v for k, v in spec.items()}}, "status": "OPEN",
             "time_in_force": "IMMEDIATE_OR_CANCEL" if kind == "market_market_ioc" else "GOOD_UNTIL_CANCELLED",
             "created_time": now_rfc3339(), "filled_size": "0", "average_filled_price": "0", "filled_value": "0",
             "total_fees": "0", "order_type": "MARKET" if kind == "market_market_ioc" else "LIMIT",
             "last_fill_time": None}
        # a resting limit order holds what it may spend
        if kind == "limit_limit_gtc" and not (fault and fault["kind"] == "partial"):
            if side == "BUY":
                self.add(quote, -need_quote)
                self.add(quote, need_quote, "holds")
            else:
                self.add(base, -size)
                self.add(base, size, "holds")
        else:
            frac = Decimal(fault.get("fraction", "0.5")) if fault and fault["kind"] == "partial" else Decimal(1)
            self.fill(o, (size * frac).quantize(Q8, ROUND_HALF_EVEN), px)
            o["status"] = "FILLED" if frac == 1 else ("CANCELLED" if kind == "market_market_ioc" else "OPEN")
            if o["status"] == "OPEN":  # the rest of a partial limit order rests
                rest = size - Decimal(o["filled_size"])
                if side == "BUY":
                    h = rest * px * (1 + fee_rate)
                    self.add(quote, -h)
                    self.add(quote, h, "holds")
                else:
                    self.add(base, -rest)
                    self.add(base, rest, "holds")
        self.s["orders"].append(o)
        return self.success(o)

    def fill(self, o, qty, px):
        if qty <= 0:
            return
        base, quote = o["product_id"].split("-")
        value = (qty * px).quantize(Q8, ROUND_HALF_EVEN)
        fee = (value * FEE_RATE).quantize(Q8, ROUND_HALF_EVEN)
        if o["side"] == "BUY":
            self.add(base, qty)
            self.add(quote, -(value + fee))
        else:
            self.add(base, -qty)
            self.add(quote, value - fee)
        filled = Decimal(o["filled_size"]) + qty
        fvalue = Decimal(o["filled_value"]) + value
        o["filled_size"], o["filled_value"] = fmt(filled), fmt(fvalue)
        o["average_filled_price"] = fmt((fvalue / filled).quantize(Q8, ROUND_HALF_EVEN))
        o["total_fees"] = fmt(Decimal(o["total_fees"]) + fee)
        o["last_fill_time"] = now_rfc3339()

    @staticmethod
    def failure(error, message, preview=None):
        er = {"error": error, "message": message, "error_details": message}
        if preview:
            er["preview_failure_reason"] = preview
        return {"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "", "error_response": er}

    def ep_order(self, q, body, order_id):
        o = self.find(order_id=order_id)
        if not o:
            raise ApiError(404, "NOT_FOUND", "order with this orderID was not found")
        return {"order": o}

    def ep_batch(self, q, body):
        st = q.get("order_status", [])
        prods = q.get("product_id", [])
        out = [o for o in self.s["orders"] if (not st or o["status"] in st or ("OPEN" in st and o["status"] in OPEN))
               and (not prods or o["product_id"] in prods)]
        out.reverse()  # newest first
        limit = q.get("limit")
        if limit:
            try:
                out = out[:max(1, int(limit[0]))]
            except ValueError:
                raise ApiError(400, "INVALID_ARGUMENT", "limit must be an integer") from None
        return {"orders": out, "sequence": "0", "has_next": False, "cursor": ""}

    def ep_cancel(self, q, body):
        ids = body.get("order_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "INVALID_ARGUMENT", "order_ids must be a list of strings")
        res = []
        for i in ids:
            o = self.find(order_id=i)
            if not o:
                res.append({"success": False, "failure_reason": "UNKNOWN_CANCEL_ORDER", "order_id": i})
                continue
            if o["status"] not in OPEN:
                res.append({"success": False, "failure_reason": "INVALID_CANCEL_REQUEST", "order_id": i})
                continue
            self.release(o)
            o["status"] = "CANCELLED"
            res.append({"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": i})
        return {"results": res}

    def release(self, o):
        base, quote = o["product_id"].split("-")
        kind, spec = next(iter(o["order_configuration"].items()))
        if kind != "limit_limit_gtc":
            return
        rest = Decimal(spec["base_size"]) - Decimal(o["filled_size"])
        if o["side"] == "BUY":
            h = rest * Decimal(spec["limit_price"]) * (1 + FEE_RATE)
            self.add(quote, -h, "holds")
            self.add(quote, h)
        else:
            self.add(base, -rest, "holds")
            self.add(base, rest)

    # --- control ---

    def ctl_faults(self, body):
        if body.get("clear"):
            self.s["faults"] = []
        faults = body.get("faults", [])
        if not isinstance(faults, list):
            raise ControlError("faults must be a list")
        for f in faults:
            if not isinstance(f, dict) or f.get("kind") not in KINDS:
                raise ControlError(f"fault needs kind in {KINDS}: {f!r}")
            count = f.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ControlError("count must be a positive integer")
            g = {"kind": f["kind"], "count": count, "method": (f.get("method") or "").upper() or None,
                 "path": f.get("path") or None}
            for k in ("seconds", "fraction"):
                if k in f:
                    try:
                        g[k] = str(Decimal(str(f[k])))
                    except InvalidOperation:
                        raise ControlError(f"{k} must be a number") from None
            self.s["faults"].append(g)
        self.save()
        return {"faults": self.s["faults"]}

    def take_fault(self, method, path):
        for i, f in enumerate(self.s["faults"]):
            if f.get("method") in (None, method) and f.get("path") in (None, path):
                f = dict(f)
                if self.s["faults"][i]["count"] <= 1:
                    del self.s["faults"][i]
                else:
                    self.s["faults"][i]["count"] -= 1
                self.save()
                return f
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "coinbase-stub"

    def log_message(self, fmt_, *args):
        if self.server.stub.verbose:
            sys.stderr.write("coinbase_stub: " + (fmt_ % args) + "\n")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        stub = self.server.stub
        u = urlsplit(self.path)
        path, q = u.path, parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.send_json(413, {"error": "INVALID_ARGUMENT", "message": "body too large"})
            return
        raw = self.rfile.read(n) if n else b""
        with stub.lock:
            stub.requests.append({"method": method, "path": path, "query": u.query, "body": raw.decode("utf-8", "replace"),
                                  "authorization": bool(self.headers.get("Authorization")), "time": time.time()})
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        if path.startswith("/_stub/"):
            self.control(method, path, q, body)
            return
        try:
            self.api(stub, method, path, q, body)
        except ApiError as e:
            self.send_json(e.status, {"error": e.error, "message": e.message, "error_details": e.message}, e.headers)
        except Exception:  # noqa: BLE001 - a stub bug must still answer
            if stub.verbose:
                traceback.print_exc()
            self.send_json(500, {"error": "INTERNAL", "message": "stub error"})

    def api(self, stub, method, path, q, body):
        route = None
        if method == "GET" and path == PREFIX + "/accounts":
            route = ("accounts", None)
        elif method == "POST" and path == PREFIX + "/orders":
            route = ("create", None)
        elif method == "GET" and path == PREFIX + "/orders/historical/batch":
            route = ("batch", None)
        elif method == "POST" and path == PREFIX + "/orders/batch_cancel":
            route = ("cancel", None)
        elif method == "GET" and path.startswith(PREFIX + "/orders/historical/") and path.count("/") == 6:
            route = ("order", path.rsplit("/", 1)[1])
        if route is None:
            self.send_json(404, {"error": "NOT_FOUND", "message": "route not found"})  # no "order" in it
            return
        stub.verify(method, path, self.headers.get("Authorization"))
        if body is ValueError or (method == "POST" and body is None):
            raise ApiError(400, "INVALID_ARGUMENT", "the body is not JSON")
        with stub.lock:
            fault = stub.take_fault(method, path)
        kind = fault["kind"] if fault else None
        seconds = float(fault.get("seconds", 30 if kind in ("timeout_after_accept", "hang") else 1)) if fault else 0
        if kind == "hang":
            time.sleep(seconds)
        if kind == "http_500":
            self.send_json(500, {"error": "INTERNAL", "message": "internal error"})
            return
        if kind == "http_503":
            self.send_json(503, {"error": "UNAVAILABLE", "message": "service unavailable"})
            return
        if kind == "rate_limit":
            self.send_json(429, {"error": "rate_limit_exceeded", "message": "Too many requests"},
                           {"Retry-After": str(max(0, int(round(seconds))))})
            return
        with stub.lock:
            name, arg = route
            if name == "create":
                result = stub.ep_create(q, body, fault)
            elif name == "order":
                result = stub.ep_order(q, body, arg)
            else:
                result = getattr(stub, "ep_" + name)(q, body)
            stub.save()
        if kind == "timeout_after_accept":
            time.sleep(seconds)  # the client gives up; the order exists
        elif kind == "drop_after_accept":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_json(200, result)

    def control(self, method, path, q, body):
        stub = self.server.stub
        data = body if isinstance(body, dict) else {}
        try:
            with stub.lock:
                if method == "GET" and path == "/_stub/orders":
                    result = stub.s["orders"]
                elif method == "GET" and path == "/_stub/order":
                    o = stub.find(client_order_id=(q.get("client_order_id") or [""])[0])
                    if not o:
                        self.send_json(404, {"error": "no order by that client_order_id"})
                        return
                    result = o
                elif method == "GET" and path == "/_stub/requests":
                    result = stub.requests
                elif method == "DELETE" and path == "/_stub/requests":
                    stub.requests = []
                    result = {}
                elif method == "GET" and path == "/_stub/state":
                    result = stub.s
                elif method == "GET" and path == "/_stub/faults":
                    result = stub.s["faults"]
                elif method == "POST" and path == "/_stub/faults":
                    result = stub.ctl_faults(data)
                elif method == "POST" and path == "/_stub/price":
                    p, px = data.get("product_id"), data.get("price")
                    if not isinstance(p, str) or p.count("-") != 1:
                        raise ControlError("product_id must be BASE-QUOTE")
                    try:
                        d = Decimal(str(px))
                    except InvalidOperation:
                        raise ControlError("price must be a decimal") from None
                    if not d.is_finite() or d <= 0:
                        raise ControlError("price must be above 0")
                    stub.s["prices"][p] = fmt(d)
                    stub.save()
                    result = stub.s["prices"]
                elif method == "POST" and path == "/_stub/balances":
                    for a, v in data.items():
                        try:
                            d = Decimal(str(v))
                        except InvalidOperation:
                            raise ControlError(f"{a}: not a decimal") from None
                        if not d.is_finite() or d < 0:
                            raise ControlError(f"{a}: must be >= 0")
                        stub.s["balances"][a] = fmt(d)
                    stub.save()
                    result = stub.s["balances"]
                elif method == "POST" and path == "/_stub/reset":
                    stub.s = stub.defaults()
                    stub.requests = []
                    stub.save()
                    result = {}
                else:
                    self.send_json(404, {"error": "unknown control route"})
                    return
            self.send_json(200, result)
        except ControlError as e:
            self.send_json(400, {"error": str(e)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up (getfqdn), which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local stub of Coinbase Advanced Trade's REST API for tests.")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--state", required=True, help="JSON state file (created if missing)")
    ap.add_argument("--key-name", required=True, help="organizations/ORG/apiKeys/KEY (the JWT's kid and sub)")
    ap.add_argument("--public-key-pem", required=True, help="the key's P-256 public key (PEM file)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        with open(args.public_key_pem, "rb") as f:
            pub = serialization.load_pem_public_key(f.read())
        if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
            raise ValueError("--public-key-pem: not a P-256 public key")
        stub = Stub(args.state, args.key_name, pub, args.verbose)
    except (ValueError, OSError) as e:
        sys.stderr.write(f"coinbase_stub: {e}\n")
        return 2
    server = Server(("127.0.0.1", args.port), Handler)
    server.stub = stub
    sys.stdout.write(f"listening {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
