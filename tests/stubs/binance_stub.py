#!/usr/bin/python3
"""A local stub of Binance's Spot REST API (private order/account endpoints plus the few public ones
a trading client needs), for tests of the C live-trading adapter. Standard library only.

    /usr/bin/python3 tests/stubs/binance_stub.py --port 0 --state DIR/state.json \
        --api-key KEY --api-secret SECRET [--symbols BTCUSDT,ETHUSDT] [--frozen-time-ms MS] [--verbose]

It binds 127.0.0.1 only and prints exactly one line, "listening <port>", once it accepts connections.
Wire formats, error codes and messages follow /work/shared/reference/venues/README.md section 1
(Binance: 1.2 request rules, 1.3 weights/headers, 1.7 exchangeInfo, 1.8 new order, 1.9 cancel/query/
account, 1.10 HMAC signing and timing, 1.11 errors).

Everything the venue would remember (orders, trades, balances, prices, configuration, scripted faults,
the order-id and trade-id counters) is written atomically (temp file + os.replace) to --state after
every change and read back at start, so a test can kill the stub and restart it on the same file. The
request log is appended to "<state>.requests.jsonl" as each request arrives and read back too.

Public:  GET /api/v3/ping, /api/v3/time, /api/v3/exchangeInfo, /api/v3/ticker/price
Signed:  POST/GET/DELETE /api/v3/order, GET/DELETE /api/v3/openOrders, GET /api/v3/allOrders,
         GET /api/v3/account, GET /api/v3/myTrades
Control (no auth, JSON bodies), under /_stub/: see the CONTROL section below and the module's report.
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import socketserver
import string
import sys
import threading
import time
import traceback
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

Q8 = Decimal("0.00000001")
ZERO = Decimal(0)
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT")
QUOTE_SUFFIXES = ("USDT", "USDC", "BTC", "EUR", "USD")  # longest first where they overlap
DEFAULT_PRICE = "100.00000000"
DEFAULT_BALANCES = {"USDT": "10000.00000000"}
DEFAULT_CONFIG = {
    "commission": "0.001",      # rate on the received asset (maker = taker, no BNB discount)
    "split_fills": False,       # MARKET orders fill in two trades instead of one
    "time_offset_ms": 0,        # serverTime = real time + offset
    "frozen_time_ms": None,     # if set, serverTime is this constant
    "weight_limit": 6000,       # REQUEST_WEIGHT per minute; beyond it -> 429 -1003
    "filters": {},              # per-symbol overrides: {"BTCUSDT": {"minNotional": "10", ...}}
}
MAX_BODY = 1 << 20
ORDER_TYPES_LISTED = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                      "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"]
OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
CLIENT_ID_RE = re.compile(r"^[a-zA-Z0-9\-_]{1,36}$")
DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
LONG_RE = re.compile(r"^[0-9]{1,20}$")
RECV_WINDOW_RE = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,3})?$")
SYMBOLS_RE = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'
ALNUM = string.ascii_letters + string.digits

MSG_BAD_KEY = "Invalid API-key, IP, or permissions for action."
MSG_BAD_SIG = "Signature for this request is not valid."
MSG_RECV_WINDOW = "Timestamp for this request is outside of the recvWindow."
MSG_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_INSUFFICIENT = "Account has insufficient balance for requested action."
MSG_DUPLICATE = "Duplicate order sent."
MSG_UNKNOWN_ORDER = "Unknown order sent."
MSG_NO_ORDER = "Order does not exist."
MSG_BAD_SYMBOL = "Invalid symbol."
MSG_WEIGHT = ("Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
              "Please use the websocket for live updates to avoid polling the API.")
MSG_INTERNAL = "Internal error; unable to process your request. Please try again."
MSG_BACKEND_TIMEOUT = ("Timeout waiting for response from backend server. "
                       "Send status unknown; execution status unknown.")
MSG_UNSUPPORTED = "Unsupported order combination."


class ApiError(Exception):
    def __init__(self, status, code, msg, headers=None):
        super().__init__(msg)
        self.status, self.code, self.msg, self.headers = status, code, msg, headers or {}


class ControlError(Exception):
    pass


def mandatory(name):
    return ApiError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name, legal):
    return ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def not_required(name):
    return ApiError(400, -1106, f"Parameter '{name}' sent when not required.")


def filter_failure(name):
    return ApiError(400, -1013, f"Filter failure: {name}")


def D(x):
    return Decimal(str(x))


def f8(x):
    d = D(x).quantize(Q8, ROUND_HALF_UP)
    if d == 0:
        d = Decimal("0").quantize(Q8)
    return format(d, "f")


def split_symbol(sym):
    for q in QUOTE_SUFFIXES:
        if sym.endswith(q) and len(sym) > len(q):
            return sym[: -len(q)], q
    raise ValueError(f"symbol {sym!r}: no known quote asset suffix {QUOTE_SUFFIXES}")


def default_filters(quote):
    if quote == "BTC":  # a BTC-quoted pair: prices and notional in BTC
        return {"minPrice": "0.00000100", "maxPrice": "1000.00000000", "tickSize": "0.00000100",
                "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000",
                "minNotional": "0.00010000", "maxNotional": "9000000.00000000"}
    return {"minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000",
            "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000",
            "minNotional": "5.00000000", "maxNotional": "9000000.00000000"}


def gen_client_id():
    return "".join(secrets.choice(ALNUM) for _ in range(22))


def multiple_of(value, base, step):
    if step == 0:
        return True
    return (value - base) % step == 0


def floor_step(value, base, step):
    if step == 0:
        return value.quantize(Q8, ROUND_DOWN)
    n = ((value - base) / step).to_integral_value(ROUND_DOWN)
    return base + n * step if n >= 0 else ZERO


# ----------------------------------------------------------------------------------------------------
# State


class Stub:
    def __init__(self, state_path, api_key, api_secret, symbols, frozen_time_ms=None, verbose=False):
        self.state_path = os.path.abspath(state_path)
        self.log_path = self.state_path + ".requests.jsonl"
        self.api_key = api_key
        self.api_secret = api_secret.encode()
        self.symbols = list(symbols)
        self.assets = {}
        for s in self.symbols:
            self.assets[s] = split_symbol(s)
        self.cli_frozen = frozen_time_ms
        self.verbose = verbose
        self.lock = threading.RLock()
        self.requests = []
        self.weight_minute = None
        self.weight_used = 0
        self.order_count = {}  # (interval, bucket) -> count
        self.s = self.defaults()
        self.load()
        if frozen_time_ms is not None:
            self.s["config"]["frozen_time_ms"] = int(frozen_time_ms)
        for sym in self.symbols:
            self.s["prices"].setdefault(sym, DEFAULT_PRICE)
        for base, quote in self.assets.values():
            for a in (base, quote):
                self.s["balances"].setdefault(a, {"free": f8(0), "locked": f8(0)})
        self.save()

    def defaults(self):
        cfg = json.loads(json.dumps(DEFAULT_CONFIG))
        cfg["frozen_time_ms"] = self.cli_frozen
        bal = {a: {"free": f8(v), "locked": f8(0)} for a, v in DEFAULT_BALANCES.items()}
        for base, quote in self.assets.values():
            for a in (base, quote):
                bal.setdefault(a, {"free": f8(0), "locked": f8(0)})
        return {"version": 1, "balances": bal,
                "prices": {s: DEFAULT_PRICE for s in self.symbols},
                "config": cfg, "next_order_id": 1, "next_trade_id": 1,
                "orders": [], "trades": [], "faults": [], "account_update_time": 0}

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

    # -- time, weights ---------------------------------------------------------------------------------

    def server_time(self):
        frozen = self.s["config"].get("frozen_time_ms")
        if frozen is not None:
            return int(frozen)
        return int(time.time() * 1000) + int(self.s["config"].get("time_offset_ms") or 0)

    def add_weight(self, w):
        minute = int(time.time() // 60)
        if minute != self.weight_minute:
            self.weight_minute, self.weight_used = minute, 0
        self.weight_used += w
        return self.weight_used

    def count_order(self):
        now = time.time()
        for name, span in (("10S", 10), ("1D", 86400)):
            key = (name, int(now // span))
            self.order_count = {k: v for k, v in self.order_count.items() if k[0] != name or k == key}
            self.order_count[key] = self.order_count.get(key, 0) + 1

    def order_count_headers(self):
        now = time.time()
        return {f"X-MBX-ORDER-COUNT-{name}": str(self.order_count.get((name, int(now // span)), 0))
                for name, span in (("10S", 10), ("1D", 86400))}

    # -- request log -----------------------------------------------------------------------------------

    def log_request(self, entry):
        entry["seq"] = len(self.requests) + 1
        self.requests.append(entry)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, separators=(",", ":")) + "\n")

    # -- balances ---------------------------------------------------------------------------------------

    def bal(self, asset):
        b = self.s["balances"].setdefault(asset, {"free": f8(0), "locked": f8(0)})
        return D(b["free"]), D(b["locked"])

    def set_bal(self, asset, free, locked):
        self.s["balances"][asset] = {"free": f8(free), "locked": f8(locked)}
        self.s["account_update_time"] = self.server_time()

    def move(self, asset, dfree=ZERO, dlocked=ZERO):
        free, locked = self.bal(asset)
        self.set_bal(asset, free + dfree, locked + dlocked)

    # -- symbols and filters ---------------------------------------------------------------------------

    def filters(self, sym):
        f = default_filters(self.assets[sym][1])
        over = (self.s["config"].get("filters") or {}).get(sym) or {}
        for k, v in over.items():
            if k in f:
                f[k] = f8(v)
        return {k: D(v) for k, v in f.items()}

    def symbol_info(self, sym):
        base, quote = self.assets[sym]
        f = {k: f8(v) for k, v in self.filters(sym).items()}
        return {
            "symbol": sym, "status": "TRADING",
            "baseAsset": base, "baseAssetPrecision": 8,
            "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES_LISTED),
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True,
            "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
            "amendAllowed": True, "pegInstructionsAllowed": True,
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": f["minPrice"], "maxPrice": f["maxPrice"],
                 "tickSize": f["tickSize"]},
                {"filterType": "LOT_SIZE", "minQty": f["minQty"], "maxQty": f["maxQty"],
                 "stepSize": f["stepSize"]},
                {"filterType": "ICEBERG_PARTS", "limit": 10},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": f["maxQty"],
                 "stepSize": "0.00000000"},
                {"filterType": "NOTIONAL", "minNotional": f["minNotional"], "applyMinToMarket": True,
                 "maxNotional": f["maxNotional"], "applyMaxToMarket": False, "avgPriceMins": 5},
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": list(STP_MODES),
        }

    def price(self, sym):
        return D(self.s["prices"].get(sym, DEFAULT_PRICE))

    # -- order views ---------------------------------------------------------------------------------

    @staticmethod
    def view_ack(o):
        return {"symbol": o["symbol"], "orderId": o["orderId"], "orderListId": -1,
                "clientOrderId": o["clientOrderId"], "transactTime": o["time"]}

    @classmethod
    def view_result(cls, o):
        r = cls.view_ack(o)
        r.update({"price": o["price"], "origQty": o["origQty"], "executedQty": o["executedQty"],
                  "origQuoteOrderQty": o["origQuoteOrderQty"],
                  "cummulativeQuoteQty": o["cummulativeQuoteQty"], "status": o["status"],
                  "timeInForce": o["timeInForce"], "type": o["type"], "side": o["side"],
                  "workingTime": o["workingTime"], "selfTradePreventionMode": o["selfTradePreventionMode"]})
        return r

    @classmethod
    def view_full(cls, o):
        r = cls.view_result(o)
        r["fills"] = [dict(x) for x in o["fills"]]
        return r

    @staticmethod
    def view_query(o):
        return {"symbol": o["symbol"], "orderId": o["orderId"], "orderListId": -1,
                "clientOrderId": o["clientOrderId"], "price": o["price"], "origQty": o["origQty"],
                "executedQty": o["executedQty"], "cummulativeQuoteQty": o["cummulativeQuoteQty"],
                "status": o["status"], "timeInForce": o["timeInForce"], "type": o["type"],
                "side": o["side"], "stopPrice": "0.00000000", "icebergQty": "0.00000000",
                "time": o["time"], "updateTime": o["updateTime"], "isWorking": o["isWorking"],
                "workingTime": o["workingTime"], "origQuoteOrderQty": o["origQuoteOrderQty"],
                "selfTradePreventionMode": o["selfTradePreventionMode"]}

    @staticmethod
    def view_cancel(o, cancel_id, t):
        return {"symbol": o["symbol"], "origClientOrderId": o["clientOrderId"], "orderId": o["orderId"],
                "orderListId": -1, "clientOrderId": cancel_id, "transactTime": t, "price": o["price"],
                "origQty": o["origQty"], "executedQty": o["executedQty"],
                "origQuoteOrderQty": o["origQuoteOrderQty"],
                "cummulativeQuoteQty": o["cummulativeQuoteQty"], "status": o["status"],
                "timeInForce": o["timeInForce"], "type": o["type"], "side": o["side"],
                "selfTradePreventionMode": o["selfTradePreventionMode"]}

    # -- parameter helpers ---------------------------------------------------------------------------

    def p_symbol(self, p, name="symbol"):
        v = p.get(name)
        if not v:
            raise mandatory(name)
        if v not in self.assets:
            raise ApiError(400, -1121, MSG_BAD_SYMBOL)
        return v

    @staticmethod
    def p_decimal(p, name, required=False):
        v = p.get(name)
        if v is None or v == "":
            if required:
                raise mandatory(name)
            return None
        if not DECIMAL_RE.match(v):
            raise illegal(name, r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
        if "." in v and len(v.split(".", 1)[1].rstrip("0")) > 8:
            raise ApiError(400, -1111, f"Parameter '{name}' has too much precision.")
        return Decimal(v)

    @staticmethod
    def p_long(p, name, required=False):
        v = p.get(name)
        if v is None or v == "":
            if required:
                raise mandatory(name)
            return None
        if not LONG_RE.match(v):
            raise illegal(name, "^[0-9]{1,20}$")
        return int(v)

    @staticmethod
    def p_client_id(p, name):
        v = p.get(name)
        if v is None:
            return None
        if not CLIENT_ID_RE.match(v):
            raise illegal(name, "^[a-zA-Z0-9-_]{1,36}$")
        return v

    # -- lookups -------------------------------------------------------------------------------------

    def find_order(self, sym, order_id, client_id, prefer_open=False):
        """orderId first (then its client id must match); else the latest order with that client id
        (for a cancel, the open one if there is one)."""
        if order_id is not None:
            for o in self.s["orders"]:
                if o["orderId"] == order_id and o["symbol"] == sym:
                    if client_id is not None and o["clientOrderId"] != client_id:
                        raise ApiError(400, -2039, "Client order ID is not correct for this order ID.")
                    return o
            return None
        found = [o for o in self.s["orders"] if o["symbol"] == sym and o["clientOrderId"] == client_id]
        if prefer_open:
            open_ = [o for o in found if o["status"] in OPEN_STATUSES]
            if open_:
                return open_[-1]
        return found[-1] if found else None

    def order_by_id(self, order_id):
        for o in self.s["orders"]:
            if o["orderId"] == order_id:
                return o
        return None

    # -- execution -----------------------------------------------------------------------------------

    def apply_fill(self, o, qty, px, maker):
        base, quote = self.assets[o["symbol"]]
        rate = D(self.s["config"]["commission"])
        quote_amt = (qty * px).quantize(Q8, ROUND_HALF_UP)
        executed = D(o["executedQty"]) + qty
        final = executed == D(o["origQty"])
        locked_rem = D(o.get("lockedRemaining") or 0)
        if o["side"] == "BUY":
            comm = (qty * rate).quantize(Q8, ROUND_HALF_UP)
            comm_asset = base
            if o.get("lockedAsset"):
                release = locked_rem if final else min(locked_rem, (qty * D(o["price"])).quantize(Q8, ROUND_UP))
                self.move(quote, dfree=release - quote_amt, dlocked=-release)
                o["lockedRemaining"] = f8(locked_rem - release)
            else:
                self.move(quote, dfree=-quote_amt)
            self.move(base, dfree=qty - comm)
        else:
            comm = (quote_amt * rate).quantize(Q8, ROUND_HALF_UP)
            comm_asset = quote
            if o.get("lockedAsset"):
                release = locked_rem if final else min(locked_rem, qty)
                self.move(base, dfree=release - qty, dlocked=-release)
                o["lockedRemaining"] = f8(locked_rem - release)
            else:
                self.move(base, dfree=-qty)
            self.move(quote, dfree=quote_amt - comm)
        tid = self.s["next_trade_id"]
        self.s["next_trade_id"] = tid + 1
        now = self.server_time()
        o["executedQty"] = f8(executed)
        o["cummulativeQuoteQty"] = f8(D(o["cummulativeQuoteQty"]) + quote_amt)
        o["updateTime"] = now
        o["fills"].append({"price": f8(px), "qty": f8(qty), "commission": f8(comm),
                           "commissionAsset": comm_asset, "tradeId": tid})
        self.s["trades"].append({"symbol": o["symbol"], "id": tid, "orderId": o["orderId"],
                                 "orderListId": -1, "price": f8(px), "qty": f8(qty),
                                 "quoteQty": f8(quote_amt), "commission": f8(comm),
                                 "commissionAsset": comm_asset, "time": now,
                                 "isBuyer": o["side"] == "BUY", "isMaker": bool(maker),
                                 "isBestMatch": True})
        if final:
            o["status"] = "FILLED"
        elif o["status"] == "NEW":
            o["status"] = "PARTIALLY_FILLED"

    def release_lock(self, o):
        if o.get("lockedAsset"):
            rem = D(o.get("lockedRemaining") or 0)
            if rem:
                self.move(o["lockedAsset"], dfree=rem, dlocked=-rem)
            o["lockedRemaining"] = f8(0)

    # -- endpoints -----------------------------------------------------------------------------------

    def ep_exchange_info(self, p):
        if p.get("symbol") is not None and p.get("symbols") is not None:
            raise ApiError(400, -1128, "Combination of optional parameters invalid.")
        syms = list(self.symbols)
        if p.get("symbol") is not None:
            syms = [self.p_symbol(p)]
        elif p.get("symbols") is not None:
            raw = p["symbols"].replace(" ", "")
            if not re.match(SYMBOLS_RE, raw):
                raise illegal("symbols", SYMBOLS_RE)
            syms = json.loads(raw)
            for s in syms:
                if s not in self.assets:
                    raise ApiError(400, -1121, MSG_BAD_SYMBOL)
        return {"timezone": "UTC", "serverTime": self.server_time(),
                "rateLimits": [
                    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                     "limit": int(self.s["config"].get("weight_limit") or 6000)},
                    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5,
                     "limit": 61000}],
                "exchangeFilters": [],
                "symbols": [self.symbol_info(s) for s in syms]}

    def ep_ticker_price(self, p):
        if p.get("symbol") is not None:
            s = self.p_symbol(p)
            return {"symbol": s, "price": f8(self.price(s))}
        return [{"symbol": s, "price": f8(self.price(s))} for s in self.symbols]

    def ep_new_order(self, p, fault):
        sym = self.p_symbol(p)
        side = p.get("side")
        if not side:
            raise mandatory("side")
        typ = p.get("type")
        if not typ:
            raise mandatory("type")
        if side not in ("BUY", "SELL"):
            raise ApiError(400, -1117, "Invalid side.")
        if typ not in ORDER_TYPES_LISTED:
            raise ApiError(400, -1116, "Invalid orderType.")
        if typ not in ("MARKET", "LIMIT", "LIMIT_MAKER"):
            raise ApiError(400, -1014, MSG_UNSUPPORTED)  # stop/take-profit orders: not in this stub
        for name in ("stopPrice", "trailingDelta"):
            if p.get(name) not in (None, ""):
                raise not_required(name)
        for name in ("icebergQty", "pegPriceType", "pegOffsetValue", "pegOffsetType"):
            if p.get(name) not in (None, ""):
                raise ApiError(400, -1014, MSG_UNSUPPORTED)
        tif = p.get("timeInForce")
        qty = self.p_decimal(p, "quantity")
        qoq = self.p_decimal(p, "quoteOrderQty")
        price = self.p_decimal(p, "price")
        if typ == "MARKET":
            if qty is None and qoq is None:
                raise ApiError(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            if qty is not None and qoq is not None:
                raise not_required("quoteOrderQty")
            if price is not None:
                raise not_required("price")
            if tif not in (None, ""):
                raise not_required("timeInForce")
            tif = "GTC"
        elif typ == "LIMIT":
            if not tif:
                raise mandatory("timeInForce")
            if qty is None:
                raise mandatory("quantity")
            if price is None:
                raise mandatory("price")
            if tif not in ("GTC", "IOC", "FOK"):
                raise ApiError(400, -1115, "Invalid timeInForce.")
            if qoq is not None:
                raise not_required("quoteOrderQty")
        else:  # LIMIT_MAKER
            if qty is None:
                raise mandatory("quantity")
            if price is None:
                raise mandatory("price")
            if tif not in (None, ""):
                raise not_required("timeInForce")
            if qoq is not None:
                raise not_required("quoteOrderQty")
            tif = "GTC"
        resp_type = p.get("newOrderRespType") or ("FULL" if typ in ("MARKET", "LIMIT") else "ACK")
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise illegal("newOrderRespType", "ACK, RESULT, FULL")
        stp = p.get("selfTradePreventionMode") or "EXPIRE_MAKER"
        if stp not in STP_MODES:
            raise illegal("selfTradePreventionMode", ", ".join(STP_MODES))
        cid = self.p_client_id(p, "newClientOrderId")
        for name in ("strategyId", "strategyType"):
            self.p_long(p, name)

        base, quote = self.assets[sym]
        f = self.filters(sym)
        cur = self.price(sym)
        if typ == "MARKET" and qoq is not None:
            qty = floor_step(qoq / cur, f["minQty"], f["stepSize"]) if cur > 0 else ZERO
        if price is not None:
            if (price < f["minPrice"] or (f["maxPrice"] and price > f["maxPrice"])
                    or not multiple_of(price, f["minPrice"], f["tickSize"])):
                raise filter_failure("PRICE_FILTER")
        if (qty < f["minQty"] or (f["maxQty"] and qty > f["maxQty"])
                or not multiple_of(qty, f["minQty"], f["stepSize"])):
            raise filter_failure("LOT_SIZE")
        notional = (price if price is not None else cur) * qty
        if notional < f["minNotional"] or (typ != "MARKET" and f["maxNotional"] and notional > f["maxNotional"]):
            raise filter_failure("NOTIONAL")
        open_orders = [o for o in self.s["orders"] if o["symbol"] == sym and o["status"] in OPEN_STATUSES]
        if typ != "MARKET" and len(open_orders) >= 200:
            raise filter_failure("MAX_NUM_ORDERS")
        if cid is not None and any(o["clientOrderId"] == cid for o in open_orders):
            raise ApiError(400, -2010, MSG_DUPLICATE)
        marketable = price is not None and ((side == "BUY" and price >= cur) or (side == "SELL" and price <= cur))
        if typ == "LIMIT_MAKER" and marketable:
            raise ApiError(400, -2010, "Order would immediately match and take.")

        # funds
        if typ == "MARKET":
            need_asset, need = (quote, (qty * cur).quantize(Q8, ROUND_UP)) if side == "BUY" else (base, qty)
        else:
            need_asset, need = (quote, (qty * price).quantize(Q8, ROUND_UP)) if side == "BUY" else (base, qty)
        if self.bal(need_asset)[0] < need:
            raise ApiError(400, -2010, MSG_INSUFFICIENT)

        now = self.server_time()
        oid = self.s["next_order_id"]
        self.s["next_order_id"] = oid + 1
        o = {"symbol": sym, "orderId": oid, "orderListId": -1, "clientOrderId": cid or gen_client_id(),
             "price": f8(price if price is not None else 0), "origQty": f8(qty), "executedQty": f8(0),
             "cummulativeQuoteQty": f8(0), "status": "NEW", "timeInForce": tif, "type": typ, "side": side,
             "time": now, "updateTime": now, "isWorking": True, "workingTime": now,
             "origQuoteOrderQty": f8(qoq if qoq is not None else 0), "selfTradePreventionMode": stp,
             "fills": [], "lockedAsset": None, "lockedRemaining": f8(0), "respType": resp_type}
        self.s["orders"].append(o)
        self.count_order()
        kind = fault.get("kind") if fault else None
        if typ == "MARKET" and kind == "rest":
            # Accepted and left working (a thin book): what a kill switch must cancel. Funds locked.
            need_asset, need = (quote, (qty * cur).quantize(Q8, ROUND_UP)) if side == "BUY" else (base, qty)
            o["lockedAsset"] = need_asset
            o["lockedRemaining"] = f8(need)
            self.move(need_asset, dfree=-need, dlocked=need)
        elif typ == "MARKET":
            fill_qty = qty
            if kind == "partial":
                frac = D(fault.get("fraction", "0.5"))
                fill_qty = min(qty, floor_step(qty * frac, ZERO, f["stepSize"]))
            self.fill_now(o, fill_qty, cur, f["stepSize"])
            if o["status"] != "FILLED":
                o["status"] = "EXPIRED"
        else:
            o["lockedAsset"] = need_asset
            o["lockedRemaining"] = f8(need)
            self.move(need_asset, dfree=-need, dlocked=need)
            if tif in ("IOC", "FOK"):
                if marketable:
                    fill_qty = qty
                    if kind == "partial" and tif == "IOC":
                        frac = D(fault.get("fraction", "0.5"))
                        fill_qty = min(qty, floor_step(qty * frac, ZERO, f["stepSize"]))
                    self.fill_now(o, fill_qty, cur, f["stepSize"])
                if o["status"] != "FILLED":
                    o["status"] = "EXPIRED"
                    self.release_lock(o)
        self.save()
        if resp_type == "ACK":
            return self.view_ack(o)
        if resp_type == "RESULT":
            return self.view_result(o)
        return self.view_full(o)

    def fill_now(self, o, qty, px, step):
        if qty <= 0:
            return
        parts = [qty]
        if self.s["config"].get("split_fills") and step > 0 and qty >= 2 * step:
            first = floor_step(qty / 2, ZERO, step)
            parts = [first, qty - first]
        for q in parts:
            self.apply_fill(o, q, px, maker=False)

    def lookup_params(self, p):
        sym = self.p_symbol(p)
        oid = self.p_long(p, "orderId")
        cid = p.get("origClientOrderId")
        if cid == "":
            raise ApiError(400, -1119, "Original client order ID was empty.")
        if oid is None and cid is None:
            raise ApiError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        return sym, oid, cid

    def ep_query_order(self, p):
        sym, oid, cid = self.lookup_params(p)
        o = self.find_order(sym, oid, cid)
        if o is None:
            raise ApiError(400, -2013, MSG_NO_ORDER)
        return self.view_query(o)

    def cancel(self, o, cancel_id):
        self.release_lock(o)
        now = self.server_time()
        o["status"] = "CANCELED"
        o["updateTime"] = now
        return self.view_cancel(o, cancel_id, now)

    def ep_cancel_order(self, p):
        sym, oid, cid = self.lookup_params(p)
        new_cid = self.p_client_id(p, "newClientOrderId")
        restr = p.get("cancelRestrictions")
        if restr not in (None, "ONLY_NEW", "ONLY_PARTIALLY_FILLED"):
            raise illegal("cancelRestrictions", "ONLY_NEW, ONLY_PARTIALLY_FILLED")
        o = self.find_order(sym, oid, cid, prefer_open=True)
        if o is None or o["status"] not in OPEN_STATUSES:
            raise ApiError(400, -2011, MSG_UNKNOWN_ORDER)
        if (restr == "ONLY_NEW" and o["status"] != "NEW") or (
                restr == "ONLY_PARTIALLY_FILLED" and o["status"] != "PARTIALLY_FILLED"):
            raise ApiError(400, -2011, "Order was not canceled due to cancel restrictions.")
        r = self.cancel(o, new_cid or gen_client_id())
        self.save()
        return r

    def ep_open_orders(self, p):
        sym = self.p_symbol(p) if p.get("symbol") is not None else None
        return [self.view_query(o) for o in self.s["orders"]
                if o["status"] in OPEN_STATUSES and (sym is None or o["symbol"] == sym)]

    def ep_cancel_all(self, p):
        sym = self.p_symbol(p)
        open_ = [o for o in self.s["orders"] if o["symbol"] == sym and o["status"] in OPEN_STATUSES]
        if not open_:
            raise ApiError(400, -2011, MSG_UNKNOWN_ORDER)
        r = [self.cancel(o, gen_client_id()) for o in open_]
        self.save()
        return r

    def time_filtered(self, items, p, key):
        start = self.p_long(p, "startTime")
        end = self.p_long(p, "endTime")
        limit = self.p_long(p, "limit")
        limit = 500 if limit is None else limit
        if limit < 1 or limit > 1000:
            raise ApiError(400, -1100, "Illegal characters found in parameter 'limit'; legal range is '1-1000'.")
        out = [x for x in items if (start is None or x[key] >= start) and (end is None or x[key] <= end)]
        return out, limit

    def ep_all_orders(self, p):
        sym = self.p_symbol(p)
        oid = self.p_long(p, "orderId")
        items = [o for o in self.s["orders"] if o["symbol"] == sym and (oid is None or o["orderId"] >= oid)]
        items, limit = self.time_filtered(items, p, "time")
        items = items[:limit] if oid is not None else items[-limit:]
        return [self.view_query(o) for o in items]

    def ep_account(self, p):
        omit = p.get("omitZeroBalances")
        if omit not in (None, "true", "false"):
            raise illegal("omitZeroBalances", "true, false")
        bps = int((D(self.s["config"]["commission"]) * 10000).to_integral_value(ROUND_HALF_UP))
        rate = f8(self.s["config"]["commission"])
        balances = []
        for asset in sorted(self.s["balances"]):
            free, locked = self.bal(asset)
            if omit == "true" and free == 0 and locked == 0:
                continue
            balances.append({"asset": asset, "free": f8(free), "locked": f8(locked)})
        return {"makerCommission": bps, "takerCommission": bps, "buyerCommission": 0, "sellerCommission": 0,
                "commissionRates": {"maker": rate, "taker": rate, "buyer": "0.00000000",
                                    "seller": "0.00000000"},
                "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
                "requireSelfTradePrevention": False, "preventSor": False,
                "updateTime": int(self.s.get("account_update_time") or 0), "accountType": "SPOT",
                "balances": balances, "permissions": ["SPOT"], "uid": 354937868}

    def ep_my_trades(self, p):
        sym = self.p_symbol(p)
        oid = self.p_long(p, "orderId")
        from_id = self.p_long(p, "fromId")
        items = [t for t in self.s["trades"] if t["symbol"] == sym
                 and (oid is None or t["orderId"] == oid) and (from_id is None or t["id"] >= from_id)]
        items, limit = self.time_filtered(items, p, "time")
        items = items[:limit] if from_id is not None else items[-limit:]
        return [dict(t) for t in items]

    # -- control ---------------------------------------------------------------------------------------

    def ctl_price(self, body):
        prices = body.get("prices") if isinstance(body.get("prices"), dict) else {body.get("symbol"): body.get("price")}
        for sym, px in prices.items():
            if sym not in self.assets:
                raise ControlError(f"unknown symbol {sym!r}")
            v = self.c_decimal(px, "price")
            if v <= 0:
                raise ControlError("price must be > 0")
            self.s["prices"][sym] = f8(v)
        self.save()
        return {"prices": self.s["prices"]}

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

    def ctl_balances(self, body):
        bal = body.get("balances") if isinstance(body.get("balances"), dict) else body
        new = {}
        for asset, v in bal.items():
            if not isinstance(asset, str) or not re.match(r"^[A-Z0-9]{1,20}$", asset):
                raise ControlError(f"bad asset {asset!r}")
            d = self.c_decimal(v, asset)
            if d < 0:
                raise ControlError(f"{asset}: negative balance")
            new[asset] = d
        for asset, d in new.items():
            # locked stays what open orders hold (0 when none), so cancels keep balances consistent
            locked = sum((D(o["lockedRemaining"]) for o in self.s["orders"]
                          if o["status"] in OPEN_STATUSES and o.get("lockedAsset") == asset), ZERO)
            self.set_bal(asset, d, locked)
        self.save()
        return {"balances": self.s["balances"]}

    def ctl_config(self, body):
        cfg = self.s["config"]
        new = dict(cfg)
        for k, v in body.items():
            if k == "commission":
                d = self.c_decimal(v, k)
                if d < 0 or d >= 1:
                    raise ControlError("commission must be in [0, 1)")
                new[k] = str(d)
            elif k == "split_fills":
                if not isinstance(v, bool):
                    raise ControlError("split_fills must be true or false")
                new[k] = v
            elif k in ("time_offset_ms", "weight_limit"):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ControlError(f"{k} must be an integer")
                new[k] = v
            elif k == "frozen_time_ms":
                if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                    raise ControlError("frozen_time_ms must be an integer or null")
                new[k] = v
            elif k in ("next_order_id", "next_trade_id"):
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    raise ControlError(f"{k} must be a positive integer")
                used = max([o["orderId"] for o in self.s["orders"]] if k == "next_order_id"
                           else [t["id"] for t in self.s["trades"]], default=0)
                if v <= used:
                    raise ControlError(f"{k} must be above {used}")
            elif k == "filters":
                if not isinstance(v, dict):
                    raise ControlError("filters must be an object {symbol: {key: value}}")
                out = {}
                for sym, fs in v.items():
                    if sym not in self.assets or not isinstance(fs, dict):
                        raise ControlError(f"filters: unknown symbol {sym!r}")
                    out[sym] = {}
                    for fk, fv in fs.items():
                        if fk not in default_filters("USDT"):
                            raise ControlError(f"filters: unknown key {fk!r}")
                        d = self.c_decimal(fv, fk)
                        if d < 0:
                            raise ControlError(f"filters: {fk} negative")
                        out[sym][fk] = f8(d)
                new[k] = out
            else:
                raise ControlError(f"unknown config key {k!r}")
        for k in ("next_order_id", "next_trade_id"):
            if k in body:
                self.s[k] = body[k]
        self.s["config"] = {k: v for k, v in new.items()}
        self.save()
        return {"config": self.s["config"], "next_order_id": self.s["next_order_id"],
                "next_trade_id": self.s["next_trade_id"]}

    def ctl_fill(self, body):
        oid = body.get("orderId")
        if isinstance(oid, bool) or not isinstance(oid, int):
            raise ControlError("orderId (integer) is needed")
        o = self.order_by_id(oid)
        if o is None:
            raise ControlError(f"no order {oid}")
        if o["status"] not in OPEN_STATUSES:
            raise ControlError(f"order {oid} is {o['status']}, not open")
        remaining = D(o["origQty"]) - D(o["executedQty"])
        qty = remaining if body.get("qty") is None else self.c_decimal(body["qty"], "qty")
        if qty <= 0 or qty > remaining:
            raise ControlError(f"qty must be in (0, {f8(remaining)}]")
        limit = D(o["price"])
        px = limit if body.get("price") is None else self.c_decimal(body["price"], "price")
        if px <= 0 or (o["side"] == "BUY" and px > limit) or (o["side"] == "SELL" and px < limit):
            raise ControlError(f"price {px} is worse than the limit {o['price']}")
        self.apply_fill(o, qty.quantize(Q8, ROUND_DOWN), px, maker=True)
        self.save()
        return self.ctl_order_view(o)

    def ctl_expire(self, body):
        oid = body.get("orderId")
        o = self.order_by_id(oid) if isinstance(oid, int) and not isinstance(oid, bool) else None
        if o is None or o["status"] not in OPEN_STATUSES:
            raise ControlError("orderId of an open order is needed")
        status = body.get("status", "EXPIRED")
        if status not in ("EXPIRED", "CANCELED", "EXPIRED_IN_MATCH"):
            raise ControlError("status must be EXPIRED, CANCELED or EXPIRED_IN_MATCH")
        self.release_lock(o)
        o["status"] = status
        o["updateTime"] = self.server_time()
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

    @classmethod
    def ctl_order_view(cls, o):
        r = cls.view_query(o)
        r["fills"] = [dict(x) for x in o["fills"]]
        r["lockedAsset"] = o.get("lockedAsset")
        r["lockedRemaining"] = o.get("lockedRemaining")
        return r

    def ctl_state(self):
        return {"serverTime": self.server_time(), "symbols": self.symbols, "balances": self.s["balances"],
                "prices": self.s["prices"], "config": self.s["config"],
                "next_order_id": self.s["next_order_id"], "next_trade_id": self.s["next_trade_id"],
                "orders": len(self.s["orders"]),
                "open_orders": [o["orderId"] for o in self.s["orders"] if o["status"] in OPEN_STATUSES],
                "trades": self.s["trades"], "faults": self.s["faults"], "requests": len(self.requests),
                "weight_used_1m": self.weight_used, "state_path": self.state_path}


# ----------------------------------------------------------------------------------------------------
# HTTP

# (method, path) -> (endpoint method name, signed, weight(params))
ROUTES = {
    ("GET", "/api/v3/ping"): ("ping", False, lambda p: 1),
    ("GET", "/api/v3/time"): ("time", False, lambda p: 1),
    ("GET", "/api/v3/exchangeInfo"): ("exchange_info", False, lambda p: 20),
    ("GET", "/api/v3/ticker/price"): ("ticker_price", False, lambda p: 2 if p.get("symbol") else 4),
    ("POST", "/api/v3/order"): ("new_order", True, lambda p: 1),
    ("GET", "/api/v3/order"): ("query_order", True, lambda p: 4),
    ("DELETE", "/api/v3/order"): ("cancel_order", True, lambda p: 1),
    ("GET", "/api/v3/openOrders"): ("open_orders", True, lambda p: 6 if p.get("symbol") else 80),
    ("DELETE", "/api/v3/openOrders"): ("cancel_all", True, lambda p: 1),
    ("GET", "/api/v3/allOrders"): ("all_orders", True, lambda p: 20),
    ("GET", "/api/v3/account"): ("account", True, lambda p: 20),
    ("GET", "/api/v3/myTrades"): ("my_trades", True, lambda p: 5 if p.get("orderId") else 20),
}
API_PATHS = {path for _, path in ROUTES}


def parse_params(text):
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace",
                          max_num_fields=100)
    except ValueError:
        raise ApiError(400, -1101, "Too many parameters sent for this endpoint.") from None
    out = {}
    for k, v in pairs:
        if k in out:
            raise ApiError(400, -1101, "Duplicate values for a parameter detected.")
        out[k] = v
    return out


def strip_signature(raw):
    """Split a raw (still percent-encoded) parameter string into its text without the signature
    parameter and the signature value (None if absent)."""
    if not raw:
        return raw, None
    keep, sig = [], None
    for part in raw.split("&"):
        name = part.split("=", 1)[0]
        if unquote(name) == "signature" and sig is None:
            sig = unquote(part.split("=", 1)[1]) if "=" in part else ""
        else:
            keep.append(part)
    return "&".join(keep), sig


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "binance-stub/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.stub.verbose:
            sys.stderr.write("stub: %s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    # -- responses -------------------------------------------------------------------------------------

    def send_raw(self, status, body, headers=None, ctype="application/json;charset=UTF-8"):
        self.send_response(status)
        if body:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj, headers=None):
        self.send_raw(status, json.dumps(obj, separators=(",", ":"), default=str).encode(), headers)

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
                self.send_json(500, {"code": -1000,
                                     "msg": "An unknown error occurred while processing the request."})
            except OSError:
                pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(400, -1100, "Illegal characters found in a parameter.")  # chunked: unsupported
        cl = self.headers.get("Content-Length")
        if cl is None or cl.strip() == "":
            return b""
        if not cl.strip().isdigit():
            self.close_connection = True
            raise ApiError(400, -1100, "Illegal characters found in a parameter.")
        n = int(cl)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, -1100, "Illegal characters found in a parameter.")
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
            self.send_json(e.status, {"code": e.code, "msg": e.msg})
            return
        if path.startswith("/_stub/"):
            self.control(method, path, raw_query, body)
        else:
            self.api(method, path, raw_query, body)

    # -- the API ---------------------------------------------------------------------------------------

    def api(self, method, path, raw_query, body):
        stub = self.server.stub
        body_text = body.decode("latin-1")
        q_unsigned, q_sig = strip_signature(raw_query)
        b_unsigned, b_sig = strip_signature(body_text)
        route = ROUTES.get((method, path))
        headers = {}
        parse_error = None
        try:
            params = parse_params(b_unsigned.encode("latin-1").decode("utf-8", "replace"))
            params.update(parse_params(q_unsigned))  # the query string wins
        except ApiError as e:
            params, parse_error = {}, e
        with stub.lock:
            stub.log_request({"time": int(time.time() * 1000), "serverTime": stub.server_time(),
                              "method": method, "path": path, "query": q_unsigned,
                              "body": b_unsigned.encode("latin-1").decode("utf-8", "replace"),
                              "api_key": self.headers.get("X-MBX-APIKEY"),
                              "headers": {k: v for k, v in self.headers.items()},
                              "signed": q_sig is not None or b_sig is not None, "params": params})
            used = stub.add_weight(route[2](params) if route else 1)
            headers["X-MBX-USED-WEIGHT-1M"] = str(used)
        try:
            if parse_error is not None:
                raise parse_error
            if route is None:
                if path in API_PATHS:
                    self.send_json(405, {"code": -1000, "msg": "Method not allowed."}, headers)
                else:
                    self.send_json(404, {"code": -1000, "msg": "Not found."}, headers)
                return
            name, signed, _ = route
            if used > int(stub.s["config"].get("weight_limit") or 6000):
                raise ApiError(429, -1003, MSG_WEIGHT, {"Retry-After": "60"})
            if signed:
                self.verify(stub, raw_query, body_text, q_unsigned, q_sig, b_unsigned, b_sig, params)
            with stub.lock:
                fault = stub.take_fault(method, path)
            kind = fault["kind"] if fault else None
            seconds = float(fault.get("seconds", 30 if kind in ("timeout_after_accept", "hang") else 1)) if fault else 0
            if kind == "hang":
                time.sleep(seconds)
            if kind == "http_500":
                self.send_raw(500, b"", headers)
                return
            if kind == "http_503":
                self.send_json(503, {"code": -1001, "msg": MSG_INTERNAL}, headers)
                return
            if kind == "rate_limit":
                rl = dict(headers)
                rl["Retry-After"] = str(max(0, int(round(seconds))))
                self.send_json(429, {"code": -1003, "msg": MSG_WEIGHT}, rl)
                return
            if kind == "reject":
                raise ApiError(400, -2010, MSG_INSUFFICIENT)
            status, result = 200, None
            err = None
            try:
                with stub.lock:
                    if name == "ping":
                        result = {}
                    elif name == "time":
                        result = {"serverTime": stub.server_time()}
                    elif name == "new_order":
                        try:
                            result = stub.ep_new_order(params, fault)
                        finally:
                            headers.update(stub.order_count_headers())
                    else:
                        result = getattr(stub, "ep_" + name)(params)
            except ApiError as e:
                err = e
            if kind == "timeout_after_accept":
                time.sleep(seconds)  # the client gives up; the order exists
            elif kind == "drop_after_accept":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            elif kind == "unknown_500_after_accept":
                self.send_json(500, {"code": -1007, "msg": MSG_BACKEND_TIMEOUT}, headers)
                return
            if err is not None:
                raise err
            self.send_json(status, result, headers)
        except ApiError as e:
            h = dict(headers)
            h.update(e.headers)
            self.send_json(e.status, {"code": e.code, "msg": e.msg}, h)

    def verify(self, stub, raw_query, body_text, q_unsigned, q_sig, b_unsigned, b_sig, params):
        key = self.headers.get("X-MBX-APIKEY")
        if key is None or key != stub.api_key:
            raise ApiError(401, -2015, MSG_BAD_KEY)
        sig = q_sig if q_sig is not None else b_sig
        if not sig:
            raise mandatory("signature")
        # signed text: the query string (minus its signature parameter) then, with no separator, the
        # body (minus its signature parameter), both exactly as sent
        if q_sig is not None:
            signed_text = q_unsigned + (b_unsigned if b_sig is not None else body_text)
        else:
            signed_text = raw_query + b_unsigned
        expected = hmac.new(stub.api_secret, signed_text.encode("latin-1"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig.lower().encode("ascii", "replace").decode()):
            raise ApiError(400, -1022, MSG_BAD_SIG)
        ts = params.get("timestamp")
        if not ts:
            raise mandatory("timestamp")
        if not LONG_RE.match(ts):
            raise illegal("timestamp", "^[0-9]{1,20}$")
        ts_ms = Decimal(ts)
        if len(ts) >= 16:  # microseconds
            ts_ms = ts_ms / 1000
        rw = params.get("recvWindow")
        if rw is None or rw == "":
            rw_ms = Decimal(5000)
        else:
            if not RECV_WINDOW_RE.match(rw):
                raise illegal("recvWindow", r"^[0-9]{1,20}(\.[0-9]{1,3})?$")
            rw_ms = Decimal(rw)
            if rw_ms > 60000:
                raise ApiError(400, -1131, "recvWindow must be less than 60000")
        with stub.lock:
            now = stub.server_time()
        if not ts_ms < now + 1000:
            raise ApiError(400, -1021, MSG_AHEAD)
        if now - ts_ms > rw_ms:
            raise ApiError(400, -1021, MSG_RECV_WINDOW)

    # -- control ---------------------------------------------------------------------------------------

    def control(self, method, path, raw_query, body):
        stub = self.server.stub
        try:
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
                elif method == "GET" and path == "/_stub/trades":
                    result = stub.s["trades"]
                elif method == "GET" and path == "/_stub/faults":
                    result = stub.s["faults"]
                elif method == "POST" and path == "/_stub/price":
                    result = stub.ctl_price(data)
                elif method == "POST" and path == "/_stub/balances":
                    result = stub.ctl_balances(data)
                elif method == "POST" and path == "/_stub/config":
                    result = stub.ctl_config(data)
                elif method == "POST" and path == "/_stub/fill":
                    result = stub.ctl_fill(data)
                elif method == "POST" and path == "/_stub/expire":
                    result = stub.ctl_expire(data)
                elif method == "POST" and path == "/_stub/faults":
                    result = stub.ctl_faults(data)
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


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local stub of Binance's Spot REST API for tests.")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--state", required=True, help="JSON state file (created if missing)")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--api-secret", required=True)
    ap.add_argument("--symbols", default=",".join(DEFAULT_SYMBOLS),
                    help="comma-separated; quote asset taken from the suffix " + "/".join(QUOTE_SUFFIXES))
    ap.add_argument("--frozen-time-ms", type=int, default=None,
                    help="serverTime is this constant (stored in the state's config)")
    ap.add_argument("--verbose", action="store_true", help="log requests and tracebacks to stderr")
    args = ap.parse_args(argv)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    try:
        if not symbols:
            raise ValueError("--symbols: empty")
        for s in symbols:
            if not re.match(r"^[A-Z0-9]{2,20}$", s):
                raise ValueError(f"--symbols: bad symbol {s!r}")
            split_symbol(s)
        stub = Stub(args.state, args.api_key, args.api_secret, symbols, args.frozen_time_ms, args.verbose)
    except (ValueError, OSError) as e:
        sys.stderr.write(f"binance_stub: {e}\n")
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
