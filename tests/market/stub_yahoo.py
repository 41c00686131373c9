#!/usr/bin/python3
"""stub_yahoo.py - a local stand-in for Yahoo Finance's chart API as yfinance uses it (venues
README section 5) for tests/unit/test_market_yahoo_transport.c. Standard library only; listens on
127.0.0.1, port 0, and prints the port on its first line of stdout.

GET /v8/finance/chart/AAPL?period1=..&period2=..&interval=1m answers the rows of a candle file
(CSV: open time ms, open, high, low, close, volume; 1m candles) opened in [period1, period2)
seconds, in the shape of tests/market/yahoo/chart_aapl.json. The file's last candle is still
forming: Yahoo's time (meta.regularMarketTime) is halfway through it, or period2 if earlier.
With range=.. instead of period1/period2 the reply holds the last candle (any interval), its
close as regularMarketPrice and the candle before's as chartPreviousClose. Another ticker is
HTTP 404 with Yahoo's "Not Found" error; another interval HTTP 400 "Bad Request".
--null-row I sends row I's prices and volume as null, as Yahoo does for a minute without trades.

--faults is a comma list consumed one per API request, then every request is answered normally:
  ok       answer normally
  500      HTTP 500 with an empty body
  timeout  say nothing for --stall seconds, then close
  429      HTTP 429, Retry-After: 1, "Too Many Requests" (text, as Yahoo sends it)
  ban      HTTP 429, Retry-After: 120
GET /_stub/hits answers the number of API requests seen (faults included); GET /_stub/last the
path and query of the latest one."""
import argparse
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TICKER = "AAPL"
STEP_S = 60


def load_candles(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                t, o, h, lo, c, v = line.split(",")
                rows.append([int(t) // 1000, float(o), float(h), float(lo), float(c), float(v)])
    return rows


class State:
    def __init__(self, args):
        self.candles = load_candles(args.candles) if args.candles else []
        if args.null_row is not None:
            self.candles[args.null_row][1:] = [None] * 5
        self.faults = [f for f in args.faults.split(",") if f] if args.faults else []
        self.stall = args.stall
        self.hits = 0
        self.last = ""
        self.lock = threading.Lock()

    def next_fault(self, path):
        with self.lock:
            self.hits += 1
            self.last = path
            return self.faults.pop(0) if self.faults else "ok"


def chart(rows, market_time, price, prev_close, granularity):
    meta = {"currency": "USD", "symbol": TICKER, "exchangeName": "NMS", "instrumentType": "EQUITY",
            "regularMarketTime": market_time, "regularMarketPrice": price, "chartPreviousClose": prev_close,
            "priceHint": 2, "dataGranularity": granularity, "range": ""}
    quote = {k: [r[i] for r in rows] for i, k in enumerate(("open", "high", "low", "close", "volume"), 1)}
    result = {"meta": meta, "indicators": {"quote": [quote]}}
    if rows:
        result["timestamp"] = [r[0] for r in rows]
    return {"chart": {"result": [result], "error": None}}


def chart_error(code, description):
    return json.dumps({"chart": {"result": None, "error": {"code": code, "description": description}}})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test's output is what matters
        pass

    def reply(self, status, body, headers=(), ctype="application/json;charset=utf-8"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def chart(self, q):
        c = S.candles
        forming_mid = c[-1][0] + STEP_S // 2 if c else 0
        priced = [r for r in c if r[4] is not None]
        if "range" in q:
            prev = priced[-2][4] if len(priced) > 1 else priced[-1][1]
            return self.reply(200, json.dumps(chart(c[-1:], forming_mid, priced[-1][4], prev, q.get("interval", "1d"))))
        if q.get("interval") != "1m":
            return self.reply(400, chart_error("Bad Request", "Invalid input - interval=%s is not supported" %
                                               q.get("interval")))
        try:
            p1, p2 = int(q["period1"]), int(q["period2"])
        except (KeyError, ValueError):
            return self.reply(400, chart_error("Bad Request", "Invalid input - period1 and period2 are needed"))
        rows = [r for r in c if p1 <= r[0] < p2]
        before = [r for r in priced if r[0] < p1]
        prev = before[-1][4] if before else priced[0][1]
        last = [r for r in priced if r[0] < p2]
        price = last[-1][4] if last else prev
        body = chart(rows, min(p2, forming_mid), price, prev, "1m")
        self.reply(200, json.dumps(body))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_stub/hits":
            return self.reply(200, str(S.hits))
        if url.path == "/_stub/last":
            return self.reply(200, S.last)
        fault = S.next_fault(self.path)
        if fault == "500":
            return self.reply(500, "")
        if fault == "timeout":
            time.sleep(S.stall)
            self.close_connection = True
            return
        if fault in ("429", "ban"):
            after = "1" if fault == "429" else "120"
            return self.reply(429, "Too Many Requests\n", [("Retry-After", after)], "text/plain")
        prefix = "/v8/finance/chart/"
        if url.path.startswith(prefix):
            if url.path[len(prefix):] != TICKER:
                return self.reply(404, chart_error("Not Found", "No data found, symbol may be delisted"))
            return self.chart(q)
        self.reply(404, "")


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--candles", required=True)
    ap.add_argument("--null-row", type=int)
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
