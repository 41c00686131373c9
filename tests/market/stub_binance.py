#!/usr/bin/python3
"""stub_binance.py - a local stand-in for Binance's spot REST API (venues README section 1) for
tests/unit/test_market_binance_transport.c. Standard library only; listens on 127.0.0.1, port 0,
and prints the port on its first line of stdout.

Serves the recorded replies of tests/market/binance/ (exchangeInfo, ticker/24hr, depth) and klines
computed from a candle file (CSV: open time ms, open, high, low, close, volume), at most `limit`
rows from `startTime`, as Binance pages them. An unknown symbol is HTTP 400 with code -1121.

--faults is a comma list consumed one per API request, then every request is answered normally:
  ok       answer normally
  500      HTTP 500 with an empty body
  timeout  say nothing for --stall seconds, then close
  429      HTTP 429, Retry-After: 1, code -1003
  418      HTTP 418, Retry-After: 120, code -1003
GET /_stub/hits answers the number of API requests seen (faults included)."""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UNITS = {"s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}


def load_candles(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                t, o, h, lo, c, v = line.split(",")
                rows.append((int(t), o, h, lo, c, v))
    return rows


class State:
    def __init__(self, args):
        self.dir = args.dir
        self.candles = load_candles(args.candles) if args.candles else []
        self.faults = [f for f in args.faults.split(",") if f] if args.faults else []
        self.stall = args.stall
        self.hits = 0
        self.lock = threading.Lock()

    def next_fault(self):
        with self.lock:
            self.hits += 1
            return self.faults.pop(0) if self.faults else "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test's output is what matters
        pass

    def reply(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def recorded(self, name):
        with open(os.path.join(S.dir, name), "rb") as f:
            return f.read()

    def bad_symbol(self):
        self.reply(400, json.dumps({"code": -1121, "msg": "Invalid symbol."}))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_stub/hits":
            return self.reply(200, str(S.hits))
        fault = S.next_fault()
        if fault == "500":
            return self.reply(500, "")
        if fault == "timeout":
            time.sleep(S.stall)
            self.close_connection = True
            return
        if fault in ("429", "418"):
            after = "1" if fault == "429" else "120"
            body = {"code": -1003, "msg": "Too many requests; current limit is 6000 request weight per 1 MINUTE."}
            return self.reply(int(fault), json.dumps(body), [("Retry-After", after)])
        if url.path == "/api/v3/exchangeInfo":
            return self.reply(200, self.recorded("exchange_info.json"))
        if url.path == "/api/v3/ticker/24hr":
            return self.reply(200, self.recorded("ticker_24hr.json")) if q.get("symbol") == "BNBBTC" else self.bad_symbol()
        if url.path == "/api/v3/depth":
            return self.reply(200, self.recorded("depth.json")) if q.get("symbol") == "BNBBTC" else self.bad_symbol()
        if url.path == "/api/v3/klines":
            if q.get("symbol") != "BTCUSDT":
                return self.bad_symbol()
            iv = q.get("interval", "")
            try:
                step = int(iv[:-1]) * UNITS[iv[-1]]
                start = int(q.get("startTime", "0"))
                limit = min(int(q.get("limit", "500")), 1000)
            except (KeyError, ValueError):
                return self.reply(400, json.dumps({"code": -1100, "msg": "Illegal characters found in a parameter."}))
            rows = [r for r in S.candles if r[0] >= start][:limit]
            out = [[t, o, h, lo, c, v, t + step - 1, "0", 1, "0", "0", "0"] for (t, o, h, lo, c, v) in rows]
            return self.reply(200, json.dumps(out))
        self.reply(404, "")


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "binance"))
    ap.add_argument("--candles")
    ap.add_argument("--faults", default="")
    ap.add_argument("--stall", type=float, default=2.0)
    S = State(ap.parse_args())
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
