#!/usr/bin/python3
"""A local stub of Alpaca's trading API (paper and live have the same shape: orders, account,
positions, clock), for tests of the C live-trading adapter for US stocks. Standard library only.

    /usr/bin/python3 tests/stubs/alpaca_stub.py --port 0 --state DIR/state.json \
        --api-key KEY --api-secret SECRET [--symbols AAPL,MSFT,SPY] [--frozen-time-ms MS] [--verbose]

It binds 127.0.0.1 only and prints exactly one line, "listening <port>", once it accepts connections.
Wire formats follow /work/shared/reference/venues/README.md section 4 (Alpaca: 4.2 key headers, 4.3
order fields and statuses, 4.4 account and position fields, 4.6 error shape and codes). Messages the
reference does not quote are the stub's own wording in Alpaca's {"code", "message"} shape.

Everything the venue would remember (orders, cash, positions, prices, clock, configuration, scripted
faults) is written atomically (temp file + os.replace) to --state after every change and read back
at start, so a test can kill the stub and restart it on the same file. The request log is appended
to "<state>.requests.jsonl" as each request arrives and read back too.

API (every request needs APCA-API-KEY-ID and APCA-API-SECRET-KEY, else 401 40110000):
  GET /v2/account, GET /v2/positions, GET /v2/clock,
  POST /v2/orders, GET /v2/orders?status=open|closed|all&limit=&direction=&symbols=,
  GET /v2/orders/{id}, GET /v2/orders:by_client_order_id?client_order_id=,
  DELETE /v2/orders/{id} (204), DELETE /v2/orders (207, one entry per open order).
Market model: a cash account (multiplier 1), long only, no commission. With the stub's clock open a
market order fills at once at the symbol's price (default 100); with it closed the order is queued
("accepted") and fills when /_stub/clock opens the market. A limit order fills at once at the
current price when marketable, else rests ("new"; "accepted" while closed unless extended_hours).
Control (no auth, JSON bodies; 400 {"error": ...} when refused), under /_stub/:
  POST price {"symbol": "AAPL", "price": "101.5"} | {"prices": {...}}   (a new ticker becomes tradable)
  POST cash {"cash": "5000"}
  POST positions {"AAPL": "10"} | {"positions": {"AAPL": {"qty": "10", "avg_entry_price": "90"}}}
  POST config {"account_status", "trading_blocked", "account_blocked", "frozen_time_ms",
               "requests_per_minute", "reply_before_fill"}
  GET|POST clock {"is_open": bool, "next_open": RFC 3339 | null, "next_close": ...}: opening fills the
       queued orders at the current prices; closing expires the day orders that worked in the session
  POST fill {"id", "qty"?, "price"?}    POST expire {"id", "status"?: expired|canceled|done_for_day|...}
  GET|POST faults {"faults": [{"kind", "method"?, "path"? ("/v2/orders/*" matches a prefix), "count"?,
       "seconds"?, "fraction"?, "retry_after"?}], "clear"?}; kinds: timeout_after_accept,
       drop_after_accept, http_500, http_503, unknown_500_after_accept, rate_limit, reject, partial,
       hang, rest
  GET orders (with the stub's own fields), GET|DELETE requests?method=&path=, GET state, POST reset
"""
import argparse
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

try:
    from zoneinfo import ZoneInfo
    NEW_YORK = ZoneInfo("America/New_York")
except Exception:  # no tz database: the clock speaks UTC
    NEW_YORK = timezone.utc

ZERO = Decimal(0)
Q8 = Decimal("0.00000001")
Q9 = Decimal("0.000000001")
DEFAULT_SYMBOLS = ("AAPL", "MSFT", "SPY")
DEFAULT_PRICE = "100"
DEFAULT_CASH = "100000"
DEFAULT_CONFIG = {
    "account_status": "ACTIVE",   # anything else: the account cannot trade (403 on orders)
    "trading_blocked": False,
    "account_blocked": False,
    "frozen_time_ms": None,       # if set, every timestamp is this instant
    "requests_per_minute": None,  # Alpaca's documented 200/min when set; None: no limit
    "reply_before_fill": False,   # POST /v2/orders answers "pending_new" as the real venue does for
                                  # a market order, though the stub has filled it already
}
MAX_BODY = 1 << 20
OPEN_STATUSES = ("new", "accepted", "pending_new", "partially_filled", "pending_cancel")
TICKER_RE = re.compile(r"^[A-Z0-9.\-]{1,15}$")
DECIMAL_RE = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,20})?$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

MSG_UNAUTHORIZED = "request is not authorized"
MSG_NOT_FOUND = "order not found"
MSG_BUYING_POWER = "insufficient buying power"
MSG_DUPLICATE = "client_order_id must be unique"
MSG_RATE = "rate limit exceeded"
MSG_INTERNAL = "internal server error occurred"
MSG_UNAVAILABLE = "service unavailable"
MSG_BODY = "request body format is invalid"


class ApiError(Exception):
    def __init__(self, status, code, msg, extra=None, headers=None):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg
        self.extra, self.headers = extra or {}, headers or {}

    def body(self):
        b = dict(self.extra)
        b.update({"code": self.code, "message": self.msg})
        return dict(sorted(b.items()))  # README 4.6 shows the members sorted


class ControlError(Exception):
    pass


def invalid(msg):
    return ApiError(422, 40010001, msg)


def unprocessable(msg):
    return ApiError(422, 42210000, msg)


def D(x):
    return Decimal(str(x))


def dstr(d):
    """Alpaca's amounts: the shortest text, no exponent ("185.6425", "1", "0")."""
    d = D(d)
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    return s


def utc_text(ns):
    """RFC 3339 in UTC as Alpaca's order times: "2021-03-16T18:38:01.942282Z" (fraction trimmed)."""
    secs, rem = divmod(int(ns), 10**9)
    frac = f"{rem:09d}"[:6].rstrip("0")
    return (datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
            + ("." + frac if frac else "") + "Z")


def ny_text(ns):
    """RFC 3339 with New York's offset, as /v2/clock writes it: "2022-05-16T16:32:24.14373588-04:00"."""
    secs, rem = divmod(int(ns), 10**9)
    dt = datetime.fromtimestamp(secs, NEW_YORK)
    off = dt.strftime("%z") or "+0000"
    frac = f"{rem:09d}".rstrip("0")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ("." + frac if frac else "") + off[:3] + ":" + off[3:]


def parse_time(text):
    try:
        if not isinstance(text, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$", text):
            raise ValueError
        base = re.sub(r"\.\d+", "", text).replace("Z", "+00:00")
        return datetime.fromisoformat(base)
    except ValueError:
        raise ControlError(f"not an RFC 3339 time: {text!r}") from None


def next_session(now_ns, hh, mm):
    """The next weekday hh:mm in New York strictly after now (holidays ignored)."""
    now = datetime.fromtimestamp(now_ns / 1e9, NEW_YORK)
    day = now.date()
    for _ in range(10):
        t = datetime(day.year, day.month, day.day, hh, mm, tzinfo=NEW_YORK)
        if t > now and t.weekday() < 5:
            return int(t.timestamp()) * 10**9
        day += timedelta(days=1)
    raise AssertionError("no weekday in ten days")


# ----------------------------------------------------------------------------------------------------
# State


class Stub:
    def __init__(self, state_path, api_key, api_secret, symbols, frozen_time_ms=None, verbose=False):
        self.state_path = os.path.abspath(state_path)
        self.log_path = self.state_path + ".requests.jsonl"
        self.api_key = api_key
        self.api_secret = api_secret
        self.symbols = list(symbols)
        self.cli_frozen = frozen_time_ms
        self.verbose = verbose
        self.lock = threading.RLock()
        self.requests = []
        self.rate_minute = None
        self.rate_used = 0
        self.s = self.defaults()
        self.load()
        if frozen_time_ms is not None:
            self.s["config"]["frozen_time_ms"] = int(frozen_time_ms)
        for sym in self.symbols:
            self.s["prices"].setdefault(sym, DEFAULT_PRICE)
        self.save()

    def defaults(self):
        cfg = json.loads(json.dumps(DEFAULT_CONFIG))
        cfg["frozen_time_ms"] = self.cli_frozen
        return {"version": 1, "cash": DEFAULT_CASH, "positions": {},
                "prices": {s: DEFAULT_PRICE for s in self.symbols},
                "clock": {"is_open": True, "next_open": None, "next_close": None},
                "config": cfg, "orders": [], "faults": [],
                "account_id": str(uuid.uuid4()), "created_at": utc_text(self.now_ns_raw(cfg))}

    def load(self):
        if os.path.exists(self.state_path):
            with open(self.state_path, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict):
                raise ValueError(f"{self.state_path}: not a JSON object")
            base = self.defaults()
            for k, v in data.items():
                if k in ("config", "clock") and isinstance(v, dict):
                    base[k].update(v)
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

    # -- time, rate ------------------------------------------------------------------------------------

    @staticmethod
    def now_ns_raw(cfg):
        frozen = cfg.get("frozen_time_ms")
        return int(frozen) * 10**6 if frozen is not None else time.time_ns()

    def now_ns(self):
        return self.now_ns_raw(self.s["config"])

    def count_request(self):
        minute = int(time.time() // 60)
        if minute != self.rate_minute:
            self.rate_minute, self.rate_used = minute, 0
        self.rate_used += 1
        return self.rate_used

    def rate_headers(self, used=None):
        limit = self.s["config"].get("requests_per_minute") or 200
        used = self.rate_used if used is None else used
        return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - used)),
                "X-RateLimit-Reset": str((int(time.time() // 60) + 1) * 60)}

    # -- request log -----------------------------------------------------------------------------------

    def log_request(self, entry):
        entry["seq"] = len(self.requests) + 1
        self.requests.append(entry)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, separators=(",", ":"), default=str) + "\n")

    # -- money and holdings ----------------------------------------------------------------------------

    def price(self, sym):
        return D(self.s["prices"][sym])

    def cash(self):
        return D(self.s["cash"])

    def position_qty(self, sym):
        p = self.s["positions"].get(sym)
        return D(p["qty"]) if p else ZERO

    def open_orders(self):
        return [o for o in self.s["orders"] if o["status"] in OPEN_STATUSES]

    @staticmethod
    def remaining(o):
        if o["qty"] is None:
            return None
        return D(o["qty"]) - D(o["filled_qty"])

    def reserved_cash(self, exclude=None):
        """Cash held by open buy orders: the remaining quantity at the limit price, or at the price
        when a market order was placed; a notional order holds its notional less what it spent."""
        total = ZERO
        for o in self.open_orders():
            if o is exclude or o["side"] != "buy":
                continue
            if o["qty"] is None:
                total += max(ZERO, D(o["notional"]) - D(o["_filled_value"]))
            else:
                total += self.remaining(o) * D(o["_ref_price"])
        return total

    def held_qty(self, sym, exclude=None):
        total = ZERO
        for o in self.open_orders():
            if o is exclude or o["side"] != "sell" or o["symbol"] != sym:
                continue
            if o["qty"] is None:
                total += D(o["_held_qty"])
            else:
                total += self.remaining(o)
        return total

    def buying_power(self):
        return self.cash() - self.reserved_cash()

    # -- order views -----------------------------------------------------------------------------------

    VIEW_KEYS = ("id", "client_order_id", "created_at", "updated_at", "submitted_at", "filled_at", "expired_at",
                 "canceled_at", "failed_at", "replaced_at", "replaced_by", "replaces", "asset_id", "symbol",
                 "asset_class", "notional", "qty", "filled_qty", "filled_avg_price", "order_class", "order_type",
                 "type", "side", "time_in_force", "limit_price", "stop_price", "status", "extended_hours", "legs",
                 "trail_percent", "trail_price", "hwm")

    @classmethod
    def view(cls, o):
        return {k: o[k] for k in cls.VIEW_KEYS}

    @staticmethod
    def ctl_order_view(o):
        return dict(o)

    def find(self, oid):
        for o in self.s["orders"]:
            if o["id"] == oid:
                return o
        return None

    # -- execution -------------------------------------------------------------------------------------

    def touch(self, o):
        o["updated_at"] = utc_text(self.now_ns())

    def apply_fill(self, o, qty, px):
        """One execution of qty at px: cash and the position move at once, exactly; no commission."""
        sym = o["symbol"]
        value = qty * px
        if o["side"] == "buy":
            self.s["cash"] = dstr(self.cash() - value)
            pos = self.s["positions"].get(sym)
            old_q = D(pos["qty"]) if pos else ZERO
            old_avg = D(pos["avg_entry_price"]) if pos else ZERO
            new_q = old_q + qty
            avg = ((old_q * old_avg + value) / new_q).quantize(Q8, ROUND_HALF_EVEN)
            self.s["positions"][sym] = {"qty": dstr(new_q), "avg_entry_price": dstr(avg)}
        else:
            self.s["cash"] = dstr(self.cash() + value)
            pos = self.s["positions"][sym]
            left = D(pos["qty"]) - qty
            if left == 0:
                del self.s["positions"][sym]
            else:
                pos["qty"] = dstr(left)
        filled = D(o["filled_qty"]) + qty
        o["filled_qty"] = dstr(filled)
        o["_filled_value"] = dstr(D(o["_filled_value"]) + value)
        o["filled_avg_price"] = dstr((D(o["_filled_value"]) / filled).quantize(Q8, ROUND_HALF_EVEN))
        now = utc_text(self.now_ns())
        o["updated_at"] = now
        o["_fills"].append({"qty": dstr(qty), "price": dstr(px), "time": now})
        if o["qty"] is not None and filled == D(o["qty"]):
            o["status"] = "filled"
            o["filled_at"] = now
        else:
            o["status"] = "partially_filled"

    def notional_qty(self, o, px):
        """A notional order's shares at px: its dollars (less what it spent) / price, to 9 places."""
        left = D(o["notional"]) - D(o["_filled_value"])
        q = (left / px).quantize(Q9, ROUND_DOWN) if px > 0 else ZERO
        if o["side"] == "sell":
            q = min(q, self.position_qty(o["symbol"]) - self.held_qty(o["symbol"], exclude=o))
        return max(q, ZERO)

    def execute(self, o, fraction=None):
        """Fills what of o can fill now (the market open, or a marketable limit), at the symbol's
        price; fraction (the partial fault) fills only that share and leaves the rest working."""
        px = self.price(o["symbol"])
        if o["type"] == "limit":
            lim = D(o["limit_price"])
            if (o["side"] == "buy" and px > lim) or (o["side"] == "sell" and px < lim):
                return False
        if o["qty"] is None:
            qty = self.notional_qty(o, px)
            if fraction is not None:
                qty = (qty * fraction).quantize(Q9, ROUND_DOWN)
        else:
            qty = self.remaining(o)
            if fraction is not None:
                step = Decimal(1) if qty == qty.to_integral_value() else Q9
                qty = (qty * fraction / step).to_integral_value(ROUND_DOWN) * step
        if qty <= 0:
            return False
        if not self.covered(o, qty, px):
            # the price (or the holding) moved since the order was accepted: it cannot be paid for
            o["status"] = "rejected"
            o["failed_at"] = o["updated_at"] = utc_text(self.now_ns())
            return False
        self.apply_fill(o, qty, px)
        if o["qty"] is None and fraction is None:
            o["status"], o["filled_at"] = "filled", o["updated_at"]
        return True

    def covered(self, o, qty, px):
        """Whether the account can pay for (buy) or deliver (sell) qty of o at px now."""
        if o["side"] == "buy":
            return qty * px <= self.cash() - self.reserved_cash(exclude=o)
        return qty <= self.position_qty(o["symbol"]) - self.held_qty(o["symbol"], exclude=o)

    def market_live(self, o):
        return self.s["clock"]["is_open"] or (o["extended_hours"] and o["type"] == "limit")

    # -- endpoints -------------------------------------------------------------------------------------

    @staticmethod
    def amount(body, name, required=False, places=9):
        v = body.get(name)
        if v is None:
            if required:
                raise invalid(f"{name} is required")
            return None
        if isinstance(v, bool) or not isinstance(v, (str, int, Decimal)):
            raise invalid(f"{name}: expected a decimal string")
        text = str(v)
        if not DECIMAL_RE.match(text):
            raise invalid(f"invalid {name} {text}")
        d = Decimal(text)
        if d.as_tuple().exponent < -places and d != d.quantize(Decimal(1).scaleb(-places)):
            raise invalid(f"{name} must have at most {places} decimal places")
        return d

    def ep_new_order(self, body, fault):
        if not isinstance(body, dict):
            raise ApiError(400, 40010000, MSG_BODY)
        sym = body.get("symbol")
        if not sym:
            raise invalid("symbol is required")
        if not isinstance(sym, str) or sym not in self.s["prices"]:
            raise invalid(f"asset \"{sym}\" not found")
        side = body.get("side")
        if side not in ("buy", "sell"):
            raise invalid("invalid side" if side is not None else "side is required")
        typ = body.get("type")
        if typ is None:
            raise invalid("type is required")
        if typ in ("stop", "stop_limit", "trailing_stop"):
            raise unprocessable(f"order type {typ} is not supported by the stub")
        if typ not in ("market", "limit"):
            raise invalid("invalid order type")
        tif = body.get("time_in_force")
        if tif is None:
            raise invalid("time_in_force is required")
        if tif in ("opg", "cls", "fok"):
            raise unprocessable(f"time_in_force {tif} is not supported by the stub")
        if tif not in ("day", "gtc", "ioc"):
            raise invalid("invalid time_in_force")
        qty = self.amount(body, "qty")
        notional = self.amount(body, "notional", places=2)
        if qty is None and notional is None:
            raise invalid("qty or notional is required")
        if qty is not None and notional is not None:
            raise invalid("only one of qty or notional can be given")
        if (qty if qty is not None else notional) <= 0:
            raise invalid("qty must be > 0" if qty is not None else "notional must be > 0")
        fractional = notional is not None or qty != qty.to_integral_value()
        if fractional and tif != "day":
            raise unprocessable("fractional orders must be DAY orders")
        if notional is not None and typ != "market":
            raise unprocessable("notional orders must be market orders")
        limit = self.amount(body, "limit_price", places=20)
        if typ == "limit":
            if limit is None:
                raise invalid("limit_price is required for limit orders")
            if limit <= 0:
                raise invalid("limit_price must be > 0")
            places = 2 if limit >= 1 else 4
            if limit != limit.quantize(Decimal(1).scaleb(-places)):
                raise unprocessable(f"invalid limit_price {text_of(body['limit_price'])}. sub-penny increment "
                                    "does not fulfill minimum pricing criteria")
        elif limit is not None:
            raise unprocessable("limit_price is only for limit orders")
        if body.get("stop_price") is not None:
            raise unprocessable("stop_price is only for stop orders")
        ext = body.get("extended_hours", False)
        if not isinstance(ext, bool):
            raise invalid("extended_hours: expected a boolean")
        if ext and not (typ == "limit" and tif == "day"):
            raise unprocessable("extended hours order must be DAY limit orders")
        cid = body.get("client_order_id")
        if cid is not None:
            if not isinstance(cid, str) or cid == "":
                raise invalid("invalid client_order_id")
            if len(cid) > 128:
                raise invalid("client_order_id must be no more than 128 characters")
            if any(o["client_order_id"] == cid for o in self.s["orders"]):
                raise invalid(MSG_DUPLICATE)
        cfg = self.s["config"]
        if cfg.get("trading_blocked") or cfg.get("account_blocked") or cfg.get("account_status") != "ACTIVE":
            raise ApiError(403, 40310000, "account is not allowed to trade")

        px = self.price(sym)
        ref = limit if typ == "limit" else px
        if side == "buy":
            need = notional if notional is not None else qty * ref
            if need > self.buying_power():
                raise ApiError(403, 40310000, MSG_BUYING_POWER)
        else:
            have = self.position_qty(sym)
            held = self.held_qty(sym)
            want = qty if qty is not None else (notional / px).quantize(Q9, ROUND_DOWN)
            if want > have - held:
                raise ApiError(403, 40310000,
                               f"insufficient qty available for order (requested: {dstr(want)}, "
                               f"available: {dstr(have - held)})",
                               {"available": dstr(have - held), "existing_qty": dstr(have),
                                "held_for_orders": dstr(held), "symbol": sym})

        now = utc_text(self.now_ns())
        o = {"id": str(uuid.uuid4()), "client_order_id": cid if cid is not None else str(uuid.uuid4()),
             "created_at": now, "updated_at": now, "submitted_at": now, "filled_at": None,
             "expired_at": None, "canceled_at": None, "failed_at": None, "replaced_at": None,
             "replaced_by": None, "replaces": None,
             "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "alpaca-stub:" + sym)), "symbol": sym,
             "asset_class": "us_equity", "notional": dstr(notional) if notional is not None else None,
             "qty": dstr(qty) if qty is not None else None, "filled_qty": "0", "filled_avg_price": None,
             "order_class": "simple", "order_type": typ, "type": typ, "side": side, "time_in_force": tif,
             "limit_price": dstr(limit) if limit is not None else None, "stop_price": None,
             "status": "accepted", "extended_hours": ext, "legs": None, "trail_percent": None,
             "trail_price": None, "hwm": None,
             "_ref_price": dstr(ref), "_filled_value": "0", "_fills": [],
             "_held_qty": dstr(want) if side == "sell" and qty is None else "0"}
        self.s["orders"].append(o)
        kind = fault.get("kind") if fault else None
        ack = None
        if self.market_live(o) and self.s["config"].get("reply_before_fill"):
            ack = dict(self.view(o), status="pending_new")
        if self.market_live(o):
            o["status"] = "new"
            if kind == "rest":
                pass  # accepted and left working (a thin book): what a kill switch must cancel
            elif kind == "partial" and typ == "market":
                self.execute(o, fraction=D(fault.get("fraction", "0.5")))
            else:
                self.execute(o)
            if tif == "ioc" and o["status"] in ("new", "partially_filled"):
                self.cancel(o)  # immediate or cancel: the rest does not rest
        self.save()
        return ack or self.view(o)

    def ep_get_orders(self, q):
        status = q.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise invalid("invalid status")
        try:
            limit = int(q.get("limit", "50"))
        except ValueError:
            raise invalid("invalid limit") from None
        if limit < 1 or limit > 500:
            raise invalid("limit must be between 1 and 500")
        direction = q.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise invalid("invalid direction")
        syms = [s for s in q.get("symbols", "").split(",") if s]
        items = [o for o in self.s["orders"]
                 if (status == "all" or (o["status"] in OPEN_STATUSES) == (status == "open"))
                 and (not syms or o["symbol"] in syms)]
        if direction == "desc":
            items = items[::-1]
        return [self.view(o) for o in items[:limit]]

    def ep_get_order(self, oid):
        o = self.find(oid)
        if o is None:
            raise ApiError(404, 40410000, MSG_NOT_FOUND)
        return self.view(o)

    def ep_by_client_id(self, q):
        cid = q.get("client_order_id")
        if not cid:
            raise invalid("client_order_id is required")
        for o in self.s["orders"]:
            if o["client_order_id"] == cid:
                return self.view(o)
        raise ApiError(404, 40410000, MSG_NOT_FOUND)

    def cancel(self, o):
        now = utc_text(self.now_ns())
        o["status"], o["canceled_at"], o["updated_at"] = "canceled", now, now

    def ep_cancel_order(self, oid):
        o = self.find(oid)
        if o is None:
            raise ApiError(404, 40410000, MSG_NOT_FOUND)
        if o["status"] not in OPEN_STATUSES:
            raise unprocessable(f"order is already in \"{o['status']}\" state")
        self.cancel(o)
        self.save()
        return None

    def ep_cancel_all(self):
        out = []
        for o in self.open_orders():
            self.cancel(o)
            out.append({"id": o["id"], "status": 200, "body": self.view(o)})
        self.save()
        return out

    def ep_account(self):
        cfg = self.s["config"]
        cash = self.cash()
        bp = self.buying_power()
        lmv = sum((D(p["qty"]) * self.price(s) for s, p in self.s["positions"].items()), ZERO)
        equity = cash + lmv
        return {"id": self.s["account_id"], "account_number": "PA" + self.s["account_id"][:10].upper().replace("-", "0"),
                "status": cfg.get("account_status") or "ACTIVE", "crypto_status": "INACTIVE", "currency": "USD",
                "buying_power": dstr(bp), "regt_buying_power": dstr(bp), "daytrading_buying_power": "0",
                "effective_buying_power": dstr(bp), "non_marginable_buying_power": dstr(bp),
                "cash": dstr(cash), "accrued_fees": "0", "portfolio_value": dstr(equity),
                "pattern_day_trader": False, "trading_blocked": bool(cfg.get("trading_blocked")),
                "transfers_blocked": False, "account_blocked": bool(cfg.get("account_blocked")),
                "created_at": self.s["created_at"], "trade_suspended_by_user": False, "multiplier": "1",
                "shorting_enabled": False, "equity": dstr(equity), "last_equity": dstr(equity),
                "long_market_value": dstr(lmv), "short_market_value": "0", "position_market_value": dstr(lmv),
                "initial_margin": "0", "maintenance_margin": "0", "last_maintenance_margin": "0", "sma": "0",
                "daytrade_count": 0}

    def ep_positions(self):
        out = []
        for sym in sorted(self.s["positions"]):
            p = self.s["positions"][sym]
            qty, avg, px = D(p["qty"]), D(p["avg_entry_price"]), self.price(sym)
            cost, mv = qty * avg, qty * px
            pl = mv - cost
            plpc = (pl / cost).quantize(Decimal("1e-10"), ROUND_HALF_EVEN) if cost else ZERO
            out.append({"asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "alpaca-stub:" + sym)), "symbol": sym,
                        "exchange": "NASDAQ", "asset_class": "us_equity", "asset_marginable": True,
                        "qty": dstr(qty), "avg_entry_price": dstr(avg), "side": "long",
                        "market_value": dstr(mv), "cost_basis": dstr(cost), "unrealized_pl": dstr(pl),
                        "unrealized_plpc": dstr(plpc), "unrealized_intraday_pl": dstr(pl),
                        "unrealized_intraday_plpc": dstr(plpc), "current_price": dstr(px),
                        "lastday_price": dstr(px), "change_today": "0",
                        "qty_available": dstr(qty - self.held_qty(sym))})
        return out

    def ep_clock(self):
        c = self.s["clock"]
        now = self.now_ns()
        nxt_open = c.get("next_open") or ny_text(next_session(now, 9, 30))
        nxt_close = c.get("next_close") or ny_text(next_session(now, 16, 0))
        return {"timestamp": ny_text(now), "is_open": bool(c["is_open"]), "next_open": nxt_open,
                "next_close": nxt_close}

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
        prices = body.get("prices") if isinstance(body.get("prices"), dict) else {body.get("symbol"): body.get("price")}
        new = {}
        for sym, px in prices.items():
            if not isinstance(sym, str) or not TICKER_RE.match(sym):
                raise ControlError(f"not a ticker: {sym!r}")
            v = self.c_decimal(px, "price")
            if v <= 0:
                raise ControlError("price must be > 0")
            new[sym] = dstr(v)
        self.s["prices"].update(new)  # a new ticker becomes tradable
        self.save()
        return {"prices": self.s["prices"]}

    def ctl_cash(self, body):
        v = self.c_decimal(body.get("cash"), "cash")
        if v < 0:
            raise ControlError("cash must be >= 0")
        self.s["cash"] = dstr(v)
        self.save()
        return {"cash": self.s["cash"], "buying_power": dstr(self.buying_power())}

    def ctl_positions(self, body):
        pos = body.get("positions") if isinstance(body.get("positions"), dict) else body
        new = {}
        for sym, v in pos.items():
            if not isinstance(sym, str) or not TICKER_RE.match(sym):
                raise ControlError(f"not a ticker: {sym!r}")
            if isinstance(v, dict):
                qty = self.c_decimal(v.get("qty"), f"{sym} qty")
                avg = self.c_decimal(v.get("avg_entry_price", self.s["prices"].get(sym, DEFAULT_PRICE)), f"{sym} avg")
            else:
                qty, avg = self.c_decimal(v, sym), D(self.s["prices"].get(sym, DEFAULT_PRICE))
            if qty < 0 or avg <= 0:
                raise ControlError(f"{sym}: qty must be >= 0 and avg_entry_price > 0 (long only)")
            new[sym] = (qty, avg)
        for sym, (qty, avg) in new.items():
            self.s["prices"].setdefault(sym, DEFAULT_PRICE)
            if qty == 0:
                self.s["positions"].pop(sym, None)
            else:
                self.s["positions"][sym] = {"qty": dstr(qty), "avg_entry_price": dstr(avg)}
        self.save()
        return {"positions": self.s["positions"]}

    def ctl_config(self, body):
        cfg = dict(self.s["config"])
        for k, v in body.items():
            if k in ("trading_blocked", "account_blocked", "reply_before_fill"):
                if not isinstance(v, bool):
                    raise ControlError(f"{k} must be true or false")
            elif k == "account_status":
                if not isinstance(v, str) or not v:
                    raise ControlError("account_status must be a string")
            elif k in ("frozen_time_ms", "requests_per_minute"):
                if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                    raise ControlError(f"{k} must be an integer >= 0 or null")
            else:
                raise ControlError(f"unknown config key {k!r}")
            cfg[k] = v
        self.s["config"] = cfg
        self.save()
        return {"config": cfg}

    def ctl_clock(self, body):
        c = dict(self.s["clock"])
        for k, v in body.items():
            if k == "is_open":
                if not isinstance(v, bool):
                    raise ControlError("is_open must be true or false")
            elif k in ("next_open", "next_close"):
                if v is not None:
                    parse_time(v)
            else:
                raise ControlError(f"unknown clock key {k!r}")
            c[k] = v
        was_open = self.s["clock"]["is_open"]
        self.s["clock"] = c
        filled, expired = [], []
        if c["is_open"] and not was_open:
            # the open: queued orders go to the market in the order they came
            for o in [o for o in self.s["orders"] if o["status"] == "accepted"]:
                o["status"] = "new"
                if self.execute(o):
                    filled.append(o["id"])
                if o["time_in_force"] == "ioc" and o["status"] in ("new", "partially_filled"):
                    self.cancel(o)
        elif was_open and not c["is_open"]:
            # the close: day orders that worked in the session end; orders queued for the next open
            # ("accepted") and gtc orders stay
            now = utc_text(self.now_ns())
            for o in self.open_orders():
                if o["time_in_force"] == "day" and o["status"] in ("new", "partially_filled"):
                    o["status"], o["expired_at"], o["updated_at"] = "expired", now, now
                    expired.append(o["id"])
        self.save()
        return {"clock": self.ep_clock(), "filled": filled, "expired": expired}

    def ctl_fill(self, body):
        o = self.find(body.get("id"))
        if o is None or o["status"] not in OPEN_STATUSES:
            raise ControlError("id of an open order is needed")
        if o["qty"] is None:
            raise ControlError("a notional order fills at the open or at once, not by /_stub/fill")
        rem = self.remaining(o)
        qty = rem if body.get("qty") is None else self.c_decimal(body["qty"], "qty")
        if qty <= 0 or qty > rem:
            raise ControlError(f"qty must be in (0, {dstr(rem)}]")
        px = D(o["limit_price"] or self.price(o["symbol"])) if body.get("price") is None \
            else self.c_decimal(body["price"], "price")
        if px <= 0 or (o["type"] == "limit" and ((o["side"] == "buy" and px > D(o["limit_price"]))
                                                  or (o["side"] == "sell" and px < D(o["limit_price"])))):
            raise ControlError(f"price {px} is worse than the limit {o['limit_price']}")
        if not self.covered(o, qty, px):
            raise ControlError("the account cannot pay for (or deliver) that fill")
        self.apply_fill(o, qty, px)
        self.save()
        return self.ctl_order_view(o)

    def ctl_expire(self, body):
        o = self.find(body.get("id"))
        if o is None or o["status"] not in OPEN_STATUSES:
            raise ControlError("id of an open order is needed")
        status = body.get("status", "expired")
        if status not in ("expired", "canceled", "done_for_day", "rejected", "suspended", "calculated", "stopped",
                          "pending_cancel", "replaced"):
            raise ControlError("status must be one of Alpaca's (README 4.3) that ends or holds an order")
        now = utc_text(self.now_ns())
        o["status"], o["updated_at"] = status, now
        stamp = {"expired": "expired_at", "canceled": "canceled_at", "rejected": "failed_at",
                 "replaced": "replaced_at"}.get(status)
        if stamp:
            o[stamp] = now
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
            for name, lo, hi in (("seconds", 0, 3600), ("fraction", 0, 1), ("retry_after", 0, 86400)):
                if name in f:
                    v = self.c_decimal(f[name], name)
                    if v < lo or v > hi:
                        raise ControlError(f"{name} must be in [{lo}, {hi}]")
                    g[name] = str(v)
            checked.append(g)
        self.s["faults"].extend(checked)
        self.save()
        return {"faults": self.s["faults"]}

    def take_fault(self, method, path):
        for i, f in enumerate(self.s["faults"]):
            p = f.get("path")
            if f.get("method") in (None, method) and (
                    p is None or p == path or (p.endswith("*") and path.startswith(p[:-1]))):
                f = dict(f)
                if self.s["faults"][i]["count"] <= 1:
                    del self.s["faults"][i]
                else:
                    self.s["faults"][i]["count"] -= 1
                self.save()
                return f
        return None

    def ctl_state(self):
        return {"now": utc_text(self.now_ns()), "symbols": self.symbols, "cash": self.s["cash"],
                "buying_power": dstr(self.buying_power()), "positions": self.s["positions"],
                "prices": self.s["prices"], "clock": self.s["clock"], "config": self.s["config"],
                "orders": len(self.s["orders"]), "open_orders": [o["id"] for o in self.open_orders()],
                "faults": self.s["faults"], "requests": len(self.requests), "state_path": self.state_path}


def text_of(v):
    return v if isinstance(v, str) else str(v)


# ----------------------------------------------------------------------------------------------------
# HTTP

# (method, path regex) -> endpoint name; {id} is any path segment (Alpaca's ids are UUIDs)
ROUTES = [
    ("GET", re.compile(r"^/v2/account$"), "account"),
    ("GET", re.compile(r"^/v2/positions$"), "positions"),
    ("GET", re.compile(r"^/v2/clock$"), "clock"),
    ("POST", re.compile(r"^/v2/orders$"), "new_order"),
    ("GET", re.compile(r"^/v2/orders$"), "get_orders"),
    ("DELETE", re.compile(r"^/v2/orders$"), "cancel_all"),
    ("GET", re.compile(r"^/v2/orders:by_client_order_id$"), "by_client_id"),
    ("GET", re.compile(r"^/v2/orders/([^/]+)$"), "get_order"),
    ("DELETE", re.compile(r"^/v2/orders/([^/]+)$"), "cancel_order"),
]


def route_of(method, path):
    known = False
    for m, rx, name in ROUTES:
        g = rx.match(path)
        if g:
            known = True
            if m == method:
                return name, (g.group(1) if g.groups() else None), True
    return None, None, known


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "alpaca-stub/1"
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

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_PUT(self):
        self.dispatch("PUT")

    # -- responses -------------------------------------------------------------------------------------

    def send_raw(self, status, body, headers=None, ctype="application/json; charset=UTF-8"):
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

    def send_error_json(self, e, headers=None):
        h = dict(headers or {})
        h.update(e.headers)
        self.send_json(e.status, e.body(), h)

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
                self.send_json(500, {"code": 50010000, "message": MSG_INTERNAL})
            except OSError:
                pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(400, 40010000, MSG_BODY)  # chunked: unsupported
        cl = self.headers.get("Content-Length")
        if cl is None or cl.strip() == "":
            return b""
        if not cl.strip().isdigit():
            self.close_connection = True
            raise ApiError(400, 40010000, MSG_BODY)
        n = int(cl)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, 40010000, MSG_BODY)
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
            self.send_error_json(e)
            return
        if path.startswith("/_stub/"):
            self.control(method, path, raw_query, body)
        else:
            self.api(method, path, raw_query, body)

    # -- the API ---------------------------------------------------------------------------------------

    def api(self, method, path, raw_query, body):
        stub = self.server.stub
        text = body.decode("utf-8", "replace")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        name, arg, known = route_of(method, path)
        key = self.headers.get("APCA-API-KEY-ID")
        secret = self.headers.get("APCA-API-SECRET-KEY")
        auth_ok = key == stub.api_key and secret == stub.api_secret
        try:
            parsed = json.loads(text, parse_float=Decimal) if text.strip() else None
        except ValueError:
            parsed = ValueError
        with stub.lock:
            # the secret is never logged, only whether it matched
            stub.log_request({"time": int(time.time() * 1000), "method": method, "path": path,
                              "query": query, "body": parsed if parsed is not ValueError else text,
                              "api_key": key, "auth_ok": auth_ok,
                              "headers": {k: v for k, v in self.headers.items()
                                          if k.lower() != "apca-api-secret-key"}})
            used = stub.count_request()
            headers = stub.rate_headers(used)
        try:
            if name is None:
                # Alpaca's router: plain text, not its JSON error shape
                if known:
                    self.send_raw(405, b"405 method not allowed", headers, "text/plain; charset=utf-8")
                else:
                    self.send_raw(404, b"404 page not found", headers, "text/plain; charset=utf-8")
                return
            if not auth_ok:
                raise ApiError(401, 40110000, MSG_UNAUTHORIZED)
            rpm = stub.s["config"].get("requests_per_minute")
            if rpm and used > rpm:
                raise ApiError(429, 42910000, MSG_RATE)
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
                self.send_json(503, {"code": 50310000, "message": MSG_UNAVAILABLE}, headers)
                return
            if kind == "rate_limit":
                # Alpaca documents no Retry-After: only the X-RateLimit-* headers, unless the fault
                # asks for one ("retry_after")
                rl = dict(headers)
                rl["X-RateLimit-Remaining"] = "0"
                if "retry_after" in fault:
                    rl["Retry-After"] = str(int(D(fault["retry_after"])))
                self.send_json(429, {"code": 42910000, "message": MSG_RATE}, rl)
                return
            if kind == "reject":
                raise ApiError(403, 40310000, MSG_BUYING_POWER)
            err, status, result = None, 200, None
            try:
                with stub.lock:
                    if name == "new_order":
                        if parsed is ValueError:
                            raise ApiError(400, 40010000, MSG_BODY)
                        result = stub.ep_new_order(parsed, fault)
                    elif name == "get_orders":
                        result = stub.ep_get_orders(query)
                    elif name == "get_order":
                        result = stub.ep_get_order(arg)
                    elif name == "by_client_id":
                        result = stub.ep_by_client_id(query)
                    elif name == "cancel_order":
                        stub.ep_cancel_order(arg)
                        status = 204
                    elif name == "cancel_all":
                        result, status = stub.ep_cancel_all(), 207
                    elif name == "account":
                        result = stub.ep_account()
                    elif name == "positions":
                        result = stub.ep_positions()
                    elif name == "clock":
                        result = stub.ep_clock()
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
                self.send_json(500, {"code": 50010000, "message": MSG_INTERNAL}, headers)
                return
            if err is not None:
                raise err
            if status == 204:
                self.send_raw(204, b"", headers)
            else:
                self.send_json(status, result, headers)
        except ApiError as e:
            self.send_error_json(e, headers)

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
                elif method == "GET" and path == "/_stub/faults":
                    result = stub.s["faults"]
                elif method == "GET" and path == "/_stub/clock":
                    result = stub.ep_clock()
                elif method == "POST" and path == "/_stub/price":
                    result = stub.ctl_price(data)
                elif method == "POST" and path == "/_stub/cash":
                    result = stub.ctl_cash(data)
                elif method == "POST" and path == "/_stub/positions":
                    result = stub.ctl_positions(data)
                elif method == "POST" and path == "/_stub/config":
                    result = stub.ctl_config(data)
                elif method == "POST" and path == "/_stub/clock":
                    result = stub.ctl_clock(data)
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
    ap = argparse.ArgumentParser(description="Local stub of Alpaca's trading API for tests.")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--state", required=True, help="JSON state file (created if missing)")
    ap.add_argument("--api-key", required=True, help="the APCA-API-KEY-ID every request must carry")
    ap.add_argument("--api-secret", required=True, help="the APCA-API-SECRET-KEY every request must carry")
    ap.add_argument("--symbols", default=",".join(DEFAULT_SYMBOLS), help="comma-separated tickers")
    ap.add_argument("--frozen-time-ms", type=int, default=None,
                    help="every timestamp is this instant (stored in the state's config)")
    ap.add_argument("--verbose", action="store_true", help="log requests and tracebacks to stderr")
    args = ap.parse_args(argv)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    try:
        if not symbols:
            raise ValueError("--symbols: empty")
        for s in symbols:
            if not TICKER_RE.match(s):
                raise ValueError(f"--symbols: bad ticker {s!r}")
        stub = Stub(args.state, args.api_key, args.api_secret, symbols, args.frozen_time_ms, args.verbose)
    except (ValueError, OSError) as e:
        sys.stderr.write(f"alpaca_stub: {e}\n")
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
