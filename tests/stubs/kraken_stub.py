#!/usr/bin/python3
"""A local stub of Kraken's spot REST API (the private order/account endpoints plus the two public
ones a trading client needs), for tests of the C live-trading adapter. Standard library only.

    /usr/bin/python3 tests/stubs/kraken_stub.py --port 0 --state DIR/state.json \
        --api-key KEY --api-secret BASE64SECRET [--verbose]

It binds 127.0.0.1 only and prints exactly one line, "listening <port>", once it accepts connections.
Wire formats follow /work/shared/reference/venues/README.md section 2 (2.1 transport and envelope,
2.2 pairs, 2.5 private endpoints, 2.6 signing, 2.7 errors) and section 7 (ccxt's Kraken mapping).

Everything the venue would remember (orders, balances, prices, configuration, scripted faults, the last
nonce of each key, the dead man's switch) is written atomically (temp file + os.replace) to --state
after every change and read back at start, so a test can kill the stub and restart it on the same
file. The request log is appended to "<state>.requests.jsonl" as each request arrives and read back too.

Public:  GET /0/public/Time, /0/public/AssetPairs[?pair=XBTUSD,...]
Private: POST /0/private/Balance, BalanceEx, AddOrder, CancelOrder, QueryOrders, OpenOrders,
         ClosedOrders, CancelAllOrdersAfter (form-encoded bodies, API-Key + API-Sign headers, README 2.6)
Control (no auth, JSON bodies), under /_stub/:
  GET  state                    balances (Kraken codes) and what open orders hold, prices, config,
                                last nonces, the dead man's switch (armed, trigger, firings), counts
  GET  orders                   every order, internal view (QueryOrders shape plus hold, pair id)
  GET  requests[?method=&path=] the request log (API-Sign left out); DELETE clears it
  GET  faults                   the scripted faults still pending
  POST price      {"pair": "XBTUSD", "price": "101.5"} or {"prices": {"XBTUSD": "101.5", ...}}
  POST balances   {"ZUSD": "1000", "XXBT": "0.5"} or {"balances": {...}}: totals, Kraken codes
  POST config     {"fee_rate": "0.0026", "last_nonce": 0}: last_nonce sets (also lowers) the last
                  nonce seen for --api-key, e.g. to accept README 2.6's documented nonce again
  POST faults     {"faults": [{"kind": K, "method": "POST", "path": "/0/private/AddOrder",
                  "count": 1, "seconds": S, "fraction": F}], "clear": false}
  POST fill       {"txid": T, "volume": V, "price": P}: fills an open order (default: all, at its limit)
  POST expire     {"txid": T, "status": "expired"|"canceled"}: ends an open order
  POST reset      {}: back to the defaults (and an empty request log)

Fault kinds (one request each, in order, matching method/path when given):
  timeout_after_accept   executes, then holds the reply back `seconds` (default 30)
  drop_after_accept      executes, then closes the connection without a reply
  http_500               HTTP 500, empty body, not executed
  http_503               HTTP 503 {"error":["EService:Unavailable"]}, not executed
  unknown_500_after_accept  executes, then HTTP 500 {"error":["EGeneral:Internal error"]}
  rate_limit             {"error":["EAPI:Rate limit exceeded"]} (HTTP 200, as Kraken), not executed
  reject                 {"error":["EOrder:Insufficient funds"]}, not executed
  partial                AddOrder fills `fraction` (default 0.5, cut to the lot) and closes the order:
                         status "closed" with vol_exec < vol (an IOC remainder)
  hang                   sleeps `seconds` (default 30), then answers normally
  rest                   a market AddOrder is accepted and left open, unfilled (funds held)

Choices where the reference says nothing (each says so where it is made):
  - Errors come with HTTP 200 and {"error": [...], "result": {}}.
  - A cl_ord_id already used by an open order: "EOrder:Duplicate order" (wording not in README 2.7 or
    ccxt's list; the adapter's codec reads any unlisted EOrder error as a rejection).
  - QueryOrders by txid with an unknown txid: "EOrder:Invalid order"; by cl_ord_id with no match:
    an empty result {}. CancelOrder of an unknown or no longer open order: "EOrder:Unknown order".
  - Fees: fee_rate (default 0.0026) x cost, in the quote currency (oflags "fciq", reported in the
    order's oflags when the client sent neither), in the base currency with "fcib"; cost and fee
    rounded half up to the quote asset's balance decimals.
  - Balance reports totals (what open orders hold included), as Kraken does; BalanceEx adds
    hold_trade. Amounts carry Kraken's decimals: 4 for Z* fiat, 8 for USDT/USDC, 10 for XXBT/XETH.
"""
import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import socketserver
import sys
import threading
import time
import traceback
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ZERO = Decimal(0)
MAX_BODY = 1 << 20
DEFAULT_PRICE = "100"
DEFAULT_BALANCES = {"ZUSD": "10000", "USDT": "10000", "XXBT": "0", "XETH": "0"}
DEFAULT_CONFIG = {"fee_rate": "0.0026"}
ASSET_DECIMALS = {"ZUSD": 4, "ZEUR": 4, "ZGBP": 4, "USDT": 8, "USDC": 8, "XXBT": 10, "XETH": 10}
# README 2.2's documented XXBTZUSD entry, and three more in its shape. Replies key pairs by id.
PAIRS = {
    "XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD",
                 "pair_decimals": 1, "lot_decimals": 8, "cost_decimals": 5, "ordermin": "0.0001",
                 "costmin": "0.5", "tick_size": "0.1", "status": "online"},
    "XETHZUSD": {"altname": "ETHUSD", "wsname": "ETH/USD", "base": "XETH", "quote": "ZUSD",
                 "pair_decimals": 2, "lot_decimals": 8, "cost_decimals": 5, "ordermin": "0.002",
                 "costmin": "0.5", "tick_size": "0.01", "status": "online"},
    "XBTUSDT": {"altname": "XBTUSDT", "wsname": "XBT/USDT", "base": "XXBT", "quote": "USDT",
                "pair_decimals": 1, "lot_decimals": 8, "cost_decimals": 5, "ordermin": "0.0001",
                "costmin": "0.5", "tick_size": "0.1", "status": "online"},
    "ETHUSDT": {"altname": "ETHUSDT", "wsname": "ETH/USDT", "base": "XETH", "quote": "USDT",
                "pair_decimals": 2, "lot_decimals": 8, "cost_decimals": 5, "ordermin": "0.002",
                "costmin": "0.5", "tick_size": "0.01", "status": "online"},
}
ALTNAMES = {p["altname"]: pid for pid, p in PAIRS.items()}
ORDER_TYPES = ("market", "limit", "iceberg", "stop-loss", "take-profit", "stop-loss-limit",
               "take-profit-limit", "trailing-stop", "trailing-stop-limit", "settle-position")
OFLAGS = ("post", "fcib", "fciq", "nompp", "viqc")
OPEN_STATUSES = ("pending", "open")
DECIMAL_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")
NONCE_RE = re.compile(r"^[0-9]{1,20}$")
INT_RE = re.compile(r"^-?[0-9]{1,10}$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HEX32_RE = re.compile(r"^[0-9a-fA-F]{32}$")
TEXT18_RE = re.compile(r"^[\x20-\x7e]{1,18}$")
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

E_INVALID_KEY = "EAPI:Invalid key"
E_INVALID_SIGNATURE = "EAPI:Invalid signature"
E_INVALID_NONCE = "EAPI:Invalid nonce"
E_RATE_LIMIT = "EAPI:Rate limit exceeded"
E_FUNDS = "EOrder:Insufficient funds"
E_UNKNOWN_PAIR = "EQuery:Unknown asset pair"
E_UNKNOWN_ORDER = "EOrder:Unknown order"
E_INVALID_ORDER = "EOrder:Invalid order"
E_DUPLICATE = "EOrder:Duplicate order"
E_ORDER_MIN = "EOrder:Order minimum not met"
E_COST_MIN = "EOrder:Cost minimum not met"
E_TICK = "EOrder:Tick size check failed"
E_UNAVAILABLE = "EService:Unavailable"
E_INTERNAL = "EGeneral:Internal error"
E_DEADLINE = "EService:Deadline elapsed"
E_UNKNOWN_METHOD = "EGeneral:Unknown method"


def invalid(name=None):
    return ApiError("EGeneral:Invalid arguments" + (f":{name}" if name else ""))


class ApiError(Exception):
    def __init__(self, text, status=200):
        super().__init__(text)
        self.text, self.status = text, status


class ControlError(Exception):
    pass


def D(x):
    return Decimal(str(x))


def places(asset):
    return ASSET_DECIMALS.get(asset, 10)


def fmt(x, n):
    d = D(x).quantize(Decimal(1).scaleb(-n), ROUND_HALF_UP) if n > 0 else D(x).quantize(Decimal(1), ROUND_HALF_UP)
    if d == 0:
        d = abs(d)
    return format(d, "f")


def decimals_of(text):
    return len(text.split(".", 1)[1]) if "." in text else 0


def new_id(prefix):
    c = [secrets.choice(ID_ALPHABET) for _ in range(16)]
    return f"{prefix}{''.join(c[:5])}-{''.join(c[5:10])}-{''.join(c[10:16])}"


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


# ----------------------------------------------------------------------------------------------------
# State


class Stub:
    def __init__(self, state_path, api_key, api_secret_b64, verbose=False):
        self.state_path = os.path.abspath(state_path)
        self.log_path = self.state_path + ".requests.jsonl"
        self.api_key = api_key
        self.api_secret = base64.b64decode(api_secret_b64, validate=True)
        self.verbose = verbose
        self.lock = threading.RLock()
        self.requests = []
        self.s = self.defaults()
        self.load()
        self.save()

    @staticmethod
    def defaults():
        return {"version": 1,
                "balances": {a: fmt(v, places(a)) for a, v in DEFAULT_BALANCES.items()},
                "prices": {pid: DEFAULT_PRICE for pid in PAIRS},
                "config": dict(DEFAULT_CONFIG),
                "orders": [], "trades": [], "faults": [], "nonces": {},
                "dead_man": {"trigger_ms": 0, "timeout": 0, "armed_at_ms": 0, "fired": []}}

    def load(self):
        if os.path.exists(self.state_path):
            with open(self.state_path, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError(f"{self.state_path}: not a JSON object")
            base = self.defaults()
            for k, v in data.items():
                if k == "config" and isinstance(v, dict):
                    base["config"].update(v)
                else:
                    base[k] = v
            self.s = base
        if os.path.exists(self.log_path):
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        self.requests.append(json.loads(line))
                    except ValueError:
                        pass  # a line cut short by a kill

    def save(self):
        tmp = f"{self.state_path}.tmp.{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.s, f, separators=(",", ":"))
            f.flush()
        os.replace(tmp, self.state_path)

    def reset(self):
        self.s = self.defaults()
        self.requests = []
        with open(self.log_path, "w"):
            pass
        self.save()

    def log_request(self, entry):
        entry["seq"] = len(self.requests) + 1
        self.requests.append(entry)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, separators=(",", ":")) + "\n")

    # -- balances --------------------------------------------------------------------------------------

    def total(self, asset):
        return D(self.s["balances"].get(asset, "0"))

    def held(self, asset):
        return sum((D(o["hold"]) for o in self.s["orders"]
                    if o["status"] in OPEN_STATUSES and o.get("hold_asset") == asset), ZERO)

    def available(self, asset):
        return self.total(asset) - self.held(asset)

    def move(self, asset, delta):
        self.s["balances"][asset] = fmt(self.total(asset) + delta, places(asset))

    # -- pairs, prices ---------------------------------------------------------------------------------

    @staticmethod
    def pair_id(name):
        if name in PAIRS:
            return name
        return ALTNAMES.get(name)

    def price(self, pid):
        return D(self.s["prices"].get(pid, DEFAULT_PRICE))

    def fee_rate(self):
        return D(self.s["config"]["fee_rate"])

    def pair_info(self, pid):
        p = PAIRS[pid]
        pct = float(self.fee_rate() * 100)
        r = {"altname": p["altname"], "wsname": p["wsname"], "aclass_base": "currency", "base": p["base"],
             "aclass_quote": "currency", "quote": p["quote"], "lot": "unit",
             "cost_decimals": p["cost_decimals"], "pair_decimals": p["pair_decimals"],
             "lot_decimals": p["lot_decimals"], "lot_multiplier": 1, "leverage_buy": [], "leverage_sell": [],
             "fees": [[0, pct]], "fees_maker": [[0, pct]], "fee_volume_currency": "ZUSD",
             "margin_call": 80, "margin_stop": 40, "ordermin": p["ordermin"], "costmin": p["costmin"],
             "tick_size": p["tick_size"], "status": p["status"]}
        return r

    # -- order views ------------------------------------------------------------------------------------

    @staticmethod
    def descr_order(o):
        p = PAIRS[o["pair"]]
        vol = fmt(o["vol"], 8)
        if o["ordertype"] == "market":
            return f"{o['type']} {vol} {p['altname']} @ market"
        return f"{o['type']} {vol} {p['altname']} @ limit {fmt(o['price'], p['pair_decimals'])}"

    def view(self, o, trades=False):
        p = PAIRS[o["pair"]]
        qd = places(p["quote"])
        v = {"refid": None, "userref": o["userref"]}
        if o.get("cl_ord_id") is not None:
            v["cl_ord_id"] = o["cl_ord_id"]
        v.update({"status": o["status"], "reason": o.get("reason"), "opentm": o["opentm"]})
        if o.get("closetm") is not None:
            v["closetm"] = o["closetm"]
        v.update({"starttm": 0, "expiretm": 0,
                  "descr": {"pair": p["altname"], "type": o["type"], "ordertype": o["ordertype"],
                            "price": fmt(o["price"] or 0, p["pair_decimals"]), "price2": "0",
                            "leverage": "none", "order": self.descr_order(o), "close": ""},
                  "vol": fmt(o["vol"], 8), "vol_exec": fmt(o["vol_exec"], 8),
                  "cost": fmt(o["cost"], qd), "fee": fmt(o["fee"], 8 if o.get("fee_in_base") else qd),
                  "price": fmt(o["avg_price"], p["pair_decimals"] + 1),
                  "stopprice": fmt(0, 5), "limitprice": fmt(0, 5), "misc": "", "oflags": o["oflags"]})
        if trades:
            v["trades"] = list(o["trades"])
        return v

    # -- parameters --------------------------------------------------------------------------------------

    @staticmethod
    def p_decimal(p, name, required=False):
        v = p.get(name)
        if v is None or v == "":
            if required:
                raise invalid(name)
            return None
        if not DECIMAL_RE.match(v):
            raise invalid(name)
        return Decimal(v)

    @staticmethod
    def p_bool(p, name):
        v = p.get(name)
        if v is None:
            return False
        if v.lower() in ("true", "1"):
            return True
        if v.lower() in ("false", "0", ""):
            return False
        raise invalid(name)

    @staticmethod
    def p_userref(p):
        v = p.get("userref")
        if v is None or v == "":
            return None
        if not INT_RE.match(v) or not -2**31 <= int(v) < 2**31:
            raise invalid("userref")
        return int(v)

    @staticmethod
    def p_cl_ord_id(p):
        v = p.get("cl_ord_id")
        if v is None:
            return None
        # README 2.5: a long UUID, a short 32-hex UUID, or free text of up to 18 ASCII characters
        if not (UUID_RE.match(v) or HEX32_RE.match(v) or TEXT18_RE.match(v)):
            raise invalid("cl_ord_id")
        return v

    def find_txid(self, txid):
        for o in self.s["orders"]:
            if o["txid"] == txid:
                return o
        return None

    # -- execution -----------------------------------------------------------------------------------

    def fill(self, o, qty, px):
        """Fills qty of o at px: moves the totals, releases the matching part of the hold."""
        if qty <= 0:
            return
        p = PAIRS[o["pair"]]
        base, quote = p["base"], p["quote"]
        qd = places(quote)
        rate = self.fee_rate()
        cost = (qty * px).quantize(Decimal(1).scaleb(-qd), ROUND_HALF_UP)
        if o.get("fee_in_base"):
            fee = (qty * rate).quantize(Decimal(1).scaleb(-p["lot_decimals"]), ROUND_HALF_UP)
            if o["type"] == "buy":
                self.move(quote, -cost)
                self.move(base, qty - fee)
            else:
                self.move(base, -(qty + fee))
                self.move(quote, cost)
        else:
            fee = (cost * rate).quantize(Decimal(1).scaleb(-qd), ROUND_HALF_UP)
            if o["type"] == "buy":
                self.move(quote, -(cost + fee))
                self.move(base, qty)
            else:
                self.move(base, -qty)
                self.move(quote, cost - fee)
        vol, before = D(o["vol"]), D(o["vol_exec"])
        executed = before + qty
        if o.get("hold_asset"):
            hold = D(o["hold"])
            release = hold if executed == vol else (hold * qty / (vol - before)).quantize(
                Decimal(1).scaleb(-places(o["hold_asset"])), ROUND_DOWN)
            o["hold"] = str(hold - release)
        o["vol_exec"] = str(executed)
        o["cost"] = str(D(o["cost"]) + cost)
        o["fee"] = str(D(o["fee"]) + fee)
        o["avg_price"] = str(D(o["cost"]) / executed)
        tid = new_id("T")
        o["trades"].append(tid)
        now = time.time()
        self.s["trades"].append({"id": tid, "ordertxid": o["txid"], "pair": o["pair"], "time": round(now, 4),
                                 "type": o["type"], "price": str(px), "vol": str(qty), "cost": str(cost),
                                 "fee": str(fee)})
        if executed == vol:
            self.close(o, "closed")

    def close(self, o, status, reason=None):
        o["status"] = status
        o["reason"] = reason
        o["closetm"] = round(time.time(), 4)
        o["hold"] = "0"

    def needs(self, pid, side, vol, px, fee_in_base):
        """(asset, amount) an order of vol at px needs available: its cost plus fee, or its volume."""
        p = PAIRS[pid]
        qd = places(p["quote"])
        rate = self.fee_rate()
        cost = (vol * px).quantize(Decimal(1).scaleb(-qd), ROUND_HALF_UP)
        if side == "buy":
            fee = ZERO if fee_in_base else (cost * rate).quantize(Decimal(1).scaleb(-qd), ROUND_HALF_UP)
            return p["quote"], cost + fee
        fee = (vol * rate).quantize(Decimal(1).scaleb(-p["lot_decimals"]), ROUND_HALF_UP) if fee_in_base else ZERO
        return p["base"], vol + fee

    # -- endpoints ---------------------------------------------------------------------------------------

    def ep_balance(self, p):
        return {a: fmt(v, places(a)) for a, v in self.s["balances"].items()}

    def ep_balance_ex(self, p):
        return {a: {"balance": fmt(v, places(a)), "hold_trade": fmt(self.held(a), places(a))}
                for a, v in self.s["balances"].items()}

    def ep_add_order(self, p, fault):
        userref = self.p_userref(p)
        cid = self.p_cl_ord_id(p)
        if userref is not None and cid is not None:
            raise invalid("cl_ord_id")  # README 2.5: userref xor cl_ord_id
        name = p.get("pair")
        if not name:
            raise invalid("pair")
        pid = self.pair_id(name)
        if pid is None:
            raise ApiError(E_UNKNOWN_PAIR)
        pinfo = PAIRS[pid]
        side = p.get("type")
        if side not in ("buy", "sell"):
            raise invalid("type")
        otype = p.get("ordertype")
        if otype not in ORDER_TYPES:
            raise invalid("ordertype")
        if otype not in ("market", "limit"):
            raise invalid("ordertype")  # the other order types are not in this stub
        vol = self.p_decimal(p, "volume", required=True)
        if vol <= 0 or decimals_of(p["volume"].rstrip("0")) > pinfo["lot_decimals"]:
            raise invalid("volume")
        price = self.p_decimal(p, "price")
        if otype == "limit":
            if price is None or price <= 0:
                raise invalid("price")
            tick = D(pinfo["tick_size"])
            if decimals_of(p["price"].rstrip("0")) > pinfo["pair_decimals"] or price % tick != 0:
                raise ApiError(E_TICK)
        elif price is not None:
            raise invalid("price")  # a market order has no price
        flags = [f for f in (p.get("oflags") or "").split(",") if f]
        for f in flags:
            if f not in OFLAGS:
                raise invalid("oflags")
        if "viqc" in flags:
            raise invalid("oflags")  # volume in quote currency: not in this stub
        if "fcib" in flags and "fciq" in flags:
            raise invalid("oflags")
        if "post" in flags and otype != "limit":
            raise invalid("oflags")
        if "fcib" not in flags and "fciq" not in flags:
            flags.insert(0, "fciq")  # what the venue applies and reports
        fee_in_base = "fcib" in flags
        tif = p.get("timeinforce") or "GTC"
        if tif not in ("GTC", "IOC"):
            raise invalid("timeinforce")  # GTD: not in this stub
        if tif == "IOC" and otype != "limit":
            raise invalid("timeinforce")
        validate = self.p_bool(p, "validate")
        deadline = p.get("deadline")
        if deadline is not None:
            try:
                t = datetime.fromisoformat(deadline)
            except ValueError:
                raise invalid("deadline") from None
            if t.tzinfo is None:
                raise invalid("deadline")
            if t.timestamp() < time.time():
                raise ApiError(E_DEADLINE)  # refused before it reached the book: surely not placed
        for k in p:
            if k not in ("nonce", "pair", "type", "ordertype", "volume", "price", "userref", "cl_ord_id",
                         "oflags", "timeinforce", "validate", "deadline", "otp"):  # others: not in this stub
                raise invalid(k)

        cur = self.price(pid)
        if vol < D(pinfo["ordermin"]):
            raise ApiError(E_ORDER_MIN)
        if vol * (price if otype == "limit" else cur) < D(pinfo["costmin"]):
            raise ApiError(E_COST_MIN)
        if cid is not None and any(o.get("cl_ord_id") == cid and o["status"] in OPEN_STATUSES
                                   for o in self.s["orders"]):
            raise ApiError(E_DUPLICATE)
        marketable = otype == "market" or (side == "buy" and price >= cur) or (side == "sell" and price <= cur)
        # a limit order needs its funds at its limit price, a market order at the current one
        asset, need = self.needs(pid, side, vol, price if otype == "limit" else cur, fee_in_base)
        if self.available(asset) < need:
            raise ApiError(E_FUNDS)
        order_text = {"order": self.descr_order({"pair": pid, "vol": vol, "type": side, "ordertype": otype,
                                                 "price": price})}
        if validate:
            return {"descr": order_text}

        o = {"txid": new_id("O"), "userref": userref if userref is not None else 0, "cl_ord_id": cid,
             "status": "open", "reason": None, "opentm": round(time.time(), 4), "closetm": None,
             "pair": pid, "type": side, "ordertype": otype, "price": str(price) if price is not None else None,
             "vol": str(vol), "vol_exec": "0", "cost": "0", "fee": "0", "avg_price": "0",
             "oflags": ",".join(flags), "timeinforce": tif, "fee_in_base": fee_in_base, "trades": [],
             "hold_asset": None, "hold": "0"}
        self.s["orders"].append(o)
        kind = fault.get("kind") if fault else None
        if otype == "market" and kind == "rest":
            o["hold_asset"], o["hold"] = asset, str(need)  # accepted, left working: what a kill switch cancels
        elif marketable and "post" in flags:
            self.close(o, "canceled", "Post only order")
        elif marketable:
            qty = vol
            if kind == "partial":
                frac = D(fault.get("fraction", "0.5"))
                qty = min(vol, (vol * frac).quantize(Decimal(1).scaleb(-pinfo["lot_decimals"]), ROUND_DOWN))
            self.fill(o, qty, cur)
            if o["status"] in OPEN_STATUSES:
                self.close(o, "closed")  # the remainder of a partial fill: IOC-like
        elif tif == "IOC":
            self.close(o, "canceled", "Immediate or cancel")
        else:
            o["hold_asset"], o["hold"] = asset, str(need)
        self.save()
        return {"descr": order_text, "txid": [o["txid"]]}

    def ep_cancel_order(self, p):
        txid = p.get("txid")
        cid = p.get("cl_ord_id")
        if (txid is None) == (cid is None) or txid == "" or cid == "":
            raise invalid("txid")
        if cid is not None:
            found = [o for o in self.s["orders"] if o.get("cl_ord_id") == cid and o["status"] in OPEN_STATUSES]
        elif INT_RE.match(txid):  # a userref: every open order carrying it
            found = [o for o in self.s["orders"] if o["userref"] == int(txid) and o["status"] in OPEN_STATUSES]
        else:
            o = self.find_txid(txid)
            found = [o] if o is not None and o["status"] in OPEN_STATUSES else []
        if not found:
            raise ApiError(E_UNKNOWN_ORDER)
        for o in found:
            self.close(o, "canceled", "User requested")
        self.save()
        return {"count": len(found), "pending": False}

    def ep_query_orders(self, p):
        trades = self.p_bool(p, "trades")
        userref = self.p_userref(p)
        txids, cid = p.get("txid"), p.get("cl_ord_id")
        if cid is not None:
            found = [o for o in self.s["orders"] if o.get("cl_ord_id") == cid]
            if txids:
                raise invalid("txid")
        else:
            if not txids:
                raise invalid("txid")
            ids = txids.split(",")
            if len(ids) > 50:
                raise invalid("txid")
            found = []
            for t in ids:
                o = self.find_txid(t.strip())
                if o is None:
                    raise ApiError(E_INVALID_ORDER)
                found.append(o)
        return {o["txid"]: self.view(o, trades) for o in found if userref is None or o["userref"] == userref}

    def ep_open_orders(self, p):
        trades = self.p_bool(p, "trades")
        userref = self.p_userref(p)
        cid = p.get("cl_ord_id")
        return {"open": {o["txid"]: self.view(o, trades) for o in self.s["orders"]
                         if o["status"] in OPEN_STATUSES and (userref is None or o["userref"] == userref)
                         and (cid is None or o.get("cl_ord_id") == cid)}}

    def ep_closed_orders(self, p):
        """Kraken's ClosedOrders (not in README 2.5; the shape of Kraken's docs): the orders no longer
        open, newest first, 50 from offset ofs, and the count of all that match."""
        trades = self.p_bool(p, "trades")
        userref = self.p_userref(p)
        cid = p.get("cl_ord_id")
        ofs = p.get("ofs") or "0"
        if not re.match(r"^[0-9]{1,9}$", ofs):
            raise invalid("ofs")
        found = [o for o in reversed(self.s["orders"])
                 if o["status"] not in OPEN_STATUSES and (userref is None or o["userref"] == userref)
                 and (cid is None or o.get("cl_ord_id") == cid)]
        page = found[int(ofs):int(ofs) + 50]
        return {"closed": {o["txid"]: self.view(o, trades) for o in page}, "count": len(found)}

    def ep_cancel_all_after(self, p):
        v = p.get("timeout")
        if v is None or not re.match(r"^[0-9]{1,10}$", v):
            raise invalid("timeout")
        timeout = int(v)
        if timeout >= 86400:
            raise invalid("timeout")  # README 2.5: "should be less than 86400"
        now_ms = int(time.time() * 1000)
        dm = self.s["dead_man"]
        dm["timeout"] = timeout
        dm["trigger_ms"] = now_ms + timeout * 1000 if timeout else 0
        dm["armed_at_ms"] = now_ms if timeout else 0
        self.save()
        return {"currentTime": rfc3339(now_ms), "triggerTime": rfc3339(dm["trigger_ms"]) if timeout else "0"}

    def dead_man_tick(self):
        """Fires the switch once its trigger has passed: every open order cancelled, the switch off."""
        dm = self.s["dead_man"]
        now_ms = int(time.time() * 1000)
        if not dm["trigger_ms"] or now_ms < dm["trigger_ms"]:
            return
        cancelled = []
        for o in self.s["orders"]:
            if o["status"] in OPEN_STATUSES:
                self.close(o, "canceled", "Dead man's switch")
                cancelled.append(o["txid"])
        dm["fired"].append({"trigger_ms": dm["trigger_ms"], "fired_ms": now_ms, "cancelled": cancelled})
        dm["trigger_ms"], dm["timeout"], dm["armed_at_ms"] = 0, 0, 0
        self.save()

    # -- control ---------------------------------------------------------------------------------------

    @staticmethod
    def c_decimal(v, name):
        if isinstance(v, bool) or v is None:
            raise ControlError(f"{name}: a decimal string or number is needed")
        try:
            d = Decimal(str(v))
        except InvalidOperation:
            raise ControlError(f"{name}: not a decimal: {v!r}") from None
        if not d.is_finite():
            raise ControlError(f"{name}: not finite")
        return d

    def ctl_price(self, body):
        prices = body.get("prices") if isinstance(body.get("prices"), dict) else {body.get("pair"): body.get("price")}
        for name, px in prices.items():
            pid = self.pair_id(name) if isinstance(name, str) else None
            if pid is None:
                raise ControlError(f"unknown pair {name!r}")
            v = self.c_decimal(px, "price")
            if v <= 0:
                raise ControlError("price must be > 0")
            self.s["prices"][pid] = str(v)
        self.save()
        return {"prices": self.s["prices"]}

    def ctl_balances(self, body):
        bal = body.get("balances") if isinstance(body.get("balances"), dict) else body
        new = {}
        for asset, v in bal.items():
            if not isinstance(asset, str) or not re.match(r"^[A-Z0-9.]{1,20}$", asset):
                raise ControlError(f"bad asset {asset!r}")
            d = self.c_decimal(v, asset)
            if d < 0:
                raise ControlError(f"{asset}: negative balance")
            new[asset] = d
        for asset, d in new.items():
            self.s["balances"][asset] = fmt(d, places(asset))
        self.save()
        return {"balances": self.s["balances"]}

    def ctl_config(self, body):
        for k, v in body.items():
            if k == "fee_rate":
                d = self.c_decimal(v, k)
                if d < 0 or d >= 1:
                    raise ControlError("fee_rate must be in [0, 1)")
                self.s["config"]["fee_rate"] = str(d)
            elif k == "last_nonce":
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ControlError("last_nonce must be an integer >= 0")
                self.s["nonces"][self.api_key] = v
            else:
                raise ControlError(f"unknown config key {k!r}")
        self.save()
        return {"config": self.s["config"], "last_nonce": self.s["nonces"].get(self.api_key, 0)}

    def ctl_fill(self, body):
        o = self.find_txid(body.get("txid")) if isinstance(body.get("txid"), str) else None
        if o is None or o["status"] not in OPEN_STATUSES:
            raise ControlError("txid of an open order is needed")
        remaining = D(o["vol"]) - D(o["vol_exec"])
        qty = remaining if body.get("volume") is None else self.c_decimal(body["volume"], "volume")
        if qty <= 0 or qty > remaining:
            raise ControlError(f"volume must be in (0, {remaining}]")
        limit = D(o["price"]) if o["price"] is not None else None
        px = (limit if limit is not None else self.price(o["pair"])) if body.get("price") is None \
            else self.c_decimal(body["price"], "price")
        if px <= 0 or (limit is not None and ((o["type"] == "buy" and px > limit) or (o["type"] == "sell" and px < limit))):
            raise ControlError(f"price {px} is worse than the limit {o['price']}")
        self.fill(o, qty, px)
        self.save()
        return self.ctl_order_view(o)

    def ctl_expire(self, body):
        o = self.find_txid(body.get("txid")) if isinstance(body.get("txid"), str) else None
        if o is None or o["status"] not in OPEN_STATUSES:
            raise ControlError("txid of an open order is needed")
        status = body.get("status", "expired")
        if status not in ("expired", "canceled"):
            raise ControlError("status must be expired or canceled")
        self.close(o, status)
        self.save()
        return self.ctl_order_view(o)

    KINDS = ("timeout_after_accept", "drop_after_accept", "http_500", "http_503",
             "unknown_500_after_accept", "rate_limit", "reject", "partial", "hang", "rest")

    def ctl_faults(self, body):
        if body.get("clear"):
            self.s["faults"] = []
        faults = body.get("faults", [])
        if not isinstance(faults, list):
            raise ControlError("faults must be a list")
        checked = []
        for f in faults:
            if not isinstance(f, dict) or f.get("kind") not in self.KINDS:
                raise ControlError(f"fault needs kind in {self.KINDS}: {f!r}")
            count = f.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ControlError("count must be a positive integer")
            g = {"kind": f["kind"], "count": count,
                 "method": (f.get("method") or "").upper() or None, "path": f.get("path") or None}
            if "seconds" in f:
                s = self.c_decimal(f["seconds"], "seconds")
                if s < 0 or s > 3600:
                    raise ControlError("seconds must be in [0, 3600]")
                g["seconds"] = str(s)
            if "fraction" in f:
                fr = self.c_decimal(f["fraction"], "fraction")
                if fr < 0 or fr > 1:
                    raise ControlError("fraction must be in [0, 1]")
                g["fraction"] = str(fr)
            checked.append(g)
        self.s["faults"].extend(checked)
        self.save()
        return {"faults": self.s["faults"]}

    def take_fault(self, method, path):
        for i, f in enumerate(self.s["faults"]):
            if (f.get("method") in (None, method)) and (f.get("path") in (None, path)):
                f = dict(f)
                if self.s["faults"][i]["count"] <= 1:
                    del self.s["faults"][i]
                else:
                    self.s["faults"][i]["count"] -= 1
                self.save()
                return f
        return None

    def ctl_order_view(self, o):
        r = self.view(o, trades=True)
        r.update({"txid": o["txid"], "pair_id": o["pair"], "hold_asset": o.get("hold_asset"), "hold": o["hold"],
                  "timeinforce": o["timeinforce"]})
        return r

    def ctl_state(self):
        dm = dict(self.s["dead_man"])
        dm["armed"] = bool(dm["trigger_ms"])
        dm["trigger_time"] = rfc3339(dm["trigger_ms"]) if dm["trigger_ms"] else "0"
        return {"time_ms": int(time.time() * 1000),
                "balances": self.ep_balance({}),
                "held": {a: fmt(self.held(a), places(a)) for a in self.s["balances"]},
                "prices": {PAIRS[pid]["altname"]: v for pid, v in self.s["prices"].items()},
                "config": self.s["config"], "last_nonces": self.s["nonces"], "dead_man": dm,
                "orders": len(self.s["orders"]),
                "open_orders": [o["txid"] for o in self.s["orders"] if o["status"] in OPEN_STATUSES],
                "faults": self.s["faults"], "requests": len(self.requests), "state_path": self.state_path}


# ----------------------------------------------------------------------------------------------------
# HTTP

PRIVATE = {
    "/0/private/Balance": "balance",
    "/0/private/BalanceEx": "balance_ex",
    "/0/private/AddOrder": "add_order",
    "/0/private/CancelOrder": "cancel_order",
    "/0/private/QueryOrders": "query_orders",
    "/0/private/OpenOrders": "open_orders",
    "/0/private/ClosedOrders": "closed_orders",
    "/0/private/CancelAllOrdersAfter": "cancel_all_after",
}
PUBLIC = {"/0/public/Time": "time", "/0/public/AssetPairs": "asset_pairs"}


def parse_form(text):
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), encoding="utf-8",
                          errors="strict", max_num_fields=100)
    except (ValueError, UnicodeDecodeError):
        raise invalid() from None
    out = {}
    for k, v in pairs:
        if k in out:
            raise invalid(k)
        out[k] = v
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kraken-stub/1"
    sys_version = ""

    def log_message(self, fmt_, *args):
        if self.server.stub.verbose:
            sys.stderr.write("stub: %s - %s\n" % (self.address_string(), fmt_ % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    # -- responses -------------------------------------------------------------------------------------

    def send_raw(self, status, body, ctype="application/json; charset=utf-8"):
        self.send_response(status)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj):
        self.send_raw(status, json.dumps(obj, separators=(",", ":"), default=str).encode())

    def send_result(self, result):
        self.send_json(200, {"error": [], "result": result})

    def send_error_list(self, text, status=200):
        self.send_json(status, {"error": [text], "result": {}})

    # -- dispatch --------------------------------------------------------------------------------------

    def dispatch(self, method):
        try:
            self._dispatch(method)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True
        except Exception:  # never let a request take the stub down
            if self.server.stub.verbose:
                traceback.print_exc()
            self.close_connection = True
            try:
                self.send_error_list(E_INTERNAL, 500)
            except OSError:
                pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise invalid()  # chunked: unsupported
        cl = self.headers.get("Content-Length")
        if cl is None or cl.strip() == "":
            return b""
        if not cl.strip().isdigit():
            self.close_connection = True
            raise invalid()
        n = int(cl)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError("EGeneral:Invalid arguments", 413)
        return self.rfile.read(n)

    def _dispatch(self, method):
        try:
            parts = urlsplit(self.path)
            path, raw_query = parts.path, parts.query
        except ValueError:
            path, raw_query = self.path, ""
        try:
            body = self.read_body()
        except ApiError as e:
            self.send_error_list(e.text, e.status)
            return
        if path.startswith("/_stub/"):
            self.control(method, path, raw_query, body)
        else:
            self.api(method, path, raw_query, body)

    # -- the API ---------------------------------------------------------------------------------------

    def api(self, method, path, raw_query, body):
        stub = self.server.stub
        body_text = body.decode("utf-8", "replace")
        with stub.lock:
            stub.log_request({"time": int(time.time() * 1000), "method": method, "path": path,
                              "query": raw_query, "body": body_text, "api_key": self.headers.get("API-Key"),
                              "signed": self.headers.get("API-Sign") is not None,
                              "headers": {k: v for k, v in self.headers.items() if k.lower() != "api-sign"}})
        name = PRIVATE.get(path) or PUBLIC.get(path)
        if name is None:
            self.send_error_list(E_UNKNOWN_METHOD, 404)
            return
        if (path in PRIVATE and method != "POST") or (path in PUBLIC and method not in ("GET", "POST")):
            self.send_error_list(E_UNKNOWN_METHOD, 405)
            return
        try:
            if path in PRIVATE:
                params = self.verify(stub, path, body)
            else:
                params = parse_form(raw_query)
            with stub.lock:
                fault = stub.take_fault(method, path)
            kind = fault["kind"] if fault else None
            seconds = float(fault.get("seconds", 30 if kind in ("timeout_after_accept", "hang") else 1)) if fault else 0
            if kind == "hang":
                time.sleep(seconds)
            if kind == "http_500":
                self.send_raw(500, b"")
                return
            if kind == "http_503":
                self.send_error_list(E_UNAVAILABLE, 503)
                return
            if kind == "rate_limit":
                raise ApiError(E_RATE_LIMIT)
            if kind == "reject":
                raise ApiError(E_FUNDS)
            result, err = None, None
            try:
                with stub.lock:
                    if name == "time":
                        now = time.time()
                        result = {"unixtime": int(now),
                                  "rfc1123": time.strftime("%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}
                    elif name == "asset_pairs":
                        result = self.asset_pairs(stub, params)
                    elif name == "add_order":
                        result = stub.ep_add_order(params, fault)
                    else:
                        result = getattr(stub, "ep_" + name)(params)
            except ApiError as e:
                err = e
            if kind == "timeout_after_accept":
                time.sleep(seconds)  # the client gives up; what was done stays done
            elif kind == "drop_after_accept":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            elif kind == "unknown_500_after_accept":
                self.send_error_list(E_INTERNAL, 500)
                return
            if err is not None:
                raise err
            self.send_result(result)
        except ApiError as e:
            self.send_error_list(e.text, e.status)

    @staticmethod
    def asset_pairs(stub, params):
        wanted = params.get("pair")
        if wanted is None or wanted == "":
            ids = list(PAIRS)
        else:
            ids = []
            for name in wanted.split(","):
                pid = stub.pair_id(name.strip())
                if pid is None:
                    raise ApiError(E_UNKNOWN_PAIR)
                ids.append(pid)
        return {pid: stub.pair_info(pid) for pid in ids}

    def verify(self, stub, path, body):
        """README 2.6: API-Key, then API-Sign = base64(HMAC-SHA512(base64decode(secret), path +
        SHA256(nonce + POST data))) over the body exactly as sent, then a nonce above the last one."""
        ctype = (self.headers.get("Content-Type") or "application/x-www-form-urlencoded").split(";")[0].strip()
        key = self.headers.get("API-Key")
        if key is None or not hmac.compare_digest(key.encode("utf-8", "replace"), stub.api_key.encode()):
            raise ApiError(E_INVALID_KEY)
        if ctype.lower() != "application/x-www-form-urlencoded":
            raise invalid()
        try:
            params = parse_form(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise invalid() from None
        nonce = params.get("nonce")
        sig = self.headers.get("API-Sign") or ""
        digest = hashlib.sha256(((nonce or "") + body.decode("utf-8")).encode()).digest()
        expected = base64.b64encode(hmac.new(stub.api_secret, path.encode() + digest, hashlib.sha512).digest())
        try:
            given = base64.b64decode(sig, validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(base64.b64decode(expected), given):
            raise ApiError(E_INVALID_SIGNATURE)
        if nonce is None or not NONCE_RE.match(nonce) or int(nonce) >= 2**64:
            raise ApiError(E_INVALID_NONCE)
        with stub.lock:
            if int(nonce) <= int(stub.s["nonces"].get(stub.api_key, 0)):
                raise ApiError(E_INVALID_NONCE)
            stub.s["nonces"][stub.api_key] = int(nonce)
            stub.save()
        return params

    # -- control ---------------------------------------------------------------------------------------

    def control(self, method, path, raw_query, body):
        stub = self.server.stub
        try:
            data = {}
            if method == "POST":
                try:
                    data = json.loads(body.decode("utf-8") or "{}", parse_float=Decimal) if body.strip() else {}
                except (ValueError, UnicodeDecodeError) as e:
                    raise ControlError(f"body is not JSON: {e}") from None
                if not isinstance(data, dict):
                    raise ControlError("body must be a JSON object")
            with stub.lock:
                if method == "GET" and path == "/_stub/orders":
                    result = [stub.ctl_order_view(o) for o in stub.s["orders"]]
                elif method == "GET" and path == "/_stub/requests":
                    q = dict(parse_qsl(raw_query))
                    result = [r for r in stub.requests
                              if (not q.get("method") or r["method"] == q["method"].upper())
                              and (not q.get("path") or r["path"] == q["path"])]
                elif method == "DELETE" and path == "/_stub/requests":
                    stub.requests = []
                    with open(stub.log_path, "w"):
                        pass
                    result = {}
                elif method == "GET" and path == "/_stub/state":
                    result = stub.ctl_state()
                elif method == "GET" and path == "/_stub/faults":
                    result = stub.s["faults"]
                elif method == "POST" and path == "/_stub/price":
                    result = stub.ctl_price(data)
                elif method == "POST" and path == "/_stub/balances":
                    result = stub.ctl_balances(data)
                elif method == "POST" and path == "/_stub/config":
                    result = stub.ctl_config(data)
                elif method == "POST" and path == "/_stub/faults":
                    result = stub.ctl_faults(data)
                elif method == "POST" and path == "/_stub/fill":
                    result = stub.ctl_fill(data)
                elif method == "POST" and path == "/_stub/expire":
                    result = stub.ctl_expire(data)
                elif method == "POST" and path == "/_stub/reset":
                    stub.reset()
                    result = {}
                else:
                    self.send_json(404, {"error": f"no control endpoint {method} {path}"})
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


def dead_man_timer(stub, stop):
    """The dead man's switch's countdown: checks the trigger every 50 ms (also one armed before a
    restart, which fires at once if its time has passed)."""
    while not stop.wait(0.05):
        try:
            with stub.lock:
                stub.dead_man_tick()
        except Exception:  # keep counting down whatever happens
            if stub.verbose:
                traceback.print_exc()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local stub of Kraken's spot REST API for tests.")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--state", required=True, help="JSON state file (created if missing)")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--api-secret", required=True, help="the private key, standard base64 (README 2.6)")
    ap.add_argument("--verbose", action="store_true", help="log requests and tracebacks to stderr")
    args = ap.parse_args(argv)
    try:
        stub = Stub(args.state, args.api_key, args.api_secret, args.verbose)
    except (binascii.Error, ValueError, OSError) as e:
        sys.stderr.write(f"kraken_stub: {e}\n")
        return 2
    server = Server(("127.0.0.1", args.port), Handler)
    server.stub = stub
    stop = threading.Event()
    threading.Thread(target=dead_man_timer, args=(stub, stop), daemon=True).start()
    sys.stdout.write(f"listening {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
