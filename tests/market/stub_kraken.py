#!/usr/bin/python3
"""stub_kraken.py - a local stand-in for Kraken's public spot REST API (venues README section 2)
for tests/unit/test_market_kraken_transport.c. Standard library only; listens on 127.0.0.1, port
0, and prints the port on its first line of stdout.

Serves the recorded replies of tests/market/kraken/ (AssetPairs, Ticker, Depth cut to `count`)
for the pair XBTUSD (or its id XXBTZUSD) and OHLC computed from a candle file (CSV: open time ms,
open, high, low, close, volume; 1m candles) as Kraken does: rows opened after `since` (seconds),
the 720 most recent of them, the file's last row standing for the interval still open (always
sent), `last` the newest committed row's time. --synth N serves N generated 1m candles instead.
Errors come as Kraken sends them, HTTP 200 with {"error": [...]}: another pair is
"EQuery:Unknown asset pair".

--faults is a comma list consumed one per API request, then every request is answered normally:
  ok           answer normally
  500          HTTP 500 with an empty body
  timeout      say nothing for --stall seconds, then close
  429          HTTP 429, Retry-After: 1, "EGeneral:Too many requests"
  ban          HTTP 429, Retry-After: 120, "EGeneral:Too many requests"
  busy         HTTP 200, "EService:Busy"
  unavailable  HTTP 200, "EService:Unavailable"
  ratelimit    HTTP 200, "EAPI:Rate limit exceeded"
GET /_stub/hits answers the number of API requests seen (faults included); GET /_stub/last the
path and query of the latest one."""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAIRS = ("XBTUSD", "XXBTZUSD")
MAX_ROWS = 720
T0_S = 1699999980  # --synth's first candle, as stub_candles_1m.csv's


def load_candles(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                t, o, h, lo, c, v = line.split(",")
                rows.append((int(t) // 1000, o, h, lo, c, v))
    return rows


def synth_candles(n):
    rows = []
    for i in range(n):
        o = 100 + (i % 50) * 0.5
        rows.append((T0_S + 60 * i, "%.2f" % o, "%.2f" % (o + 0.5), "%.2f" % (o - 0.25), "%.2f" % (o + 0.25),
                     "%d.5" % (i + 1)))
    return rows


class State:
    def __init__(self, args):
        self.dir = args.dir
        self.candles = synth_candles(args.synth) if args.synth else load_candles(args.candles) if args.candles else []
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test's output is what matters
        pass

    def reply(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def recorded(self, name):
        with open(os.path.join(S.dir, name), "rb") as f:
            return f.read()

    def venue_error(self, text, status=200, headers=()):
        self.reply(status, json.dumps({"error": [text]}), headers)

    def ohlc(self, q):
        if q.get("interval", "1") != "1":
            return self.venue_error("EGeneral:Invalid arguments")
        try:
            since = int(q.get("since", "0"))
        except ValueError:
            return self.venue_error("EGeneral:Invalid arguments")
        rows = [r for r in S.candles if r[0] > since][-MAX_ROWS:]
        if S.candles and (not rows or rows[-1] != S.candles[-1]):
            rows = (rows + [S.candles[-1]])[-MAX_ROWS:]  # the open interval is always sent
        out = [[t, o, h, lo, c, c, v, 1] for (t, o, h, lo, c, v) in rows]
        last = rows[-2][0] if len(rows) > 1 else since
        self.reply(200, json.dumps({"error": [], "result": {"XXBTZUSD": out, "last": last}}))

    def depth(self, q):
        book = json.loads(self.recorded("depth.json"))
        count = int(q.get("count", "100"))
        for side in book["result"]["XXBTZUSD"].values():
            del side[count:]
        self.reply(200, json.dumps(book))

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
            return self.venue_error("EGeneral:Too many requests", 429, [("Retry-After", after)])
        if fault == "busy":
            return self.venue_error("EService:Busy")
        if fault == "unavailable":
            return self.venue_error("EService:Unavailable")
        if fault == "ratelimit":
            return self.venue_error("EAPI:Rate limit exceeded")
        if url.path == "/0/public/AssetPairs":
            return self.reply(200, self.recorded("asset_pairs.json"))
        if url.path in ("/0/public/Ticker", "/0/public/Depth", "/0/public/OHLC"):
            if q.get("pair") not in PAIRS:
                return self.venue_error("EQuery:Unknown asset pair")
            if url.path == "/0/public/Ticker":
                return self.reply(200, self.recorded("ticker.json"))
            return self.depth(q) if url.path == "/0/public/Depth" else self.ohlc(q)
        self.venue_error("EGeneral:Unknown method", 404)


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "kraken"))
    ap.add_argument("--candles")
    ap.add_argument("--synth", type=int, default=0)
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
