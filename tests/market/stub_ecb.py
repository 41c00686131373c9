#!/usr/bin/python3
"""stub_ecb.py - a local stand-in for the ECB's reference-rate files (venues README section 6) for
tests/unit/test_market_ecb_transport.c. Standard library only; listens on 127.0.0.1, port 0, and
prints the port on its first line of stdout.

Serves the recorded replies of tests/market/ecb/: /stats/eurofxref/eurofxref-daily.xml is
daily.xml, eurofxref-hist-90d.xml and eurofxref-hist.xml are hist_3d.xml; anything else is 404.

--faults is a comma list consumed one per request, then every request is answered normally:
  ok       answer normally
  500      HTTP 500 with an empty body
  garbage  HTTP 200 with a body that is not XML
  404      HTTP 404 with an HTML body
GET /_stub/hits answers the number of requests seen (faults included)."""
import argparse
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FILES = {
    "/stats/eurofxref/eurofxref-daily.xml": "daily.xml",
    "/stats/eurofxref/eurofxref-hist-90d.xml": "hist_3d.xml",
    "/stats/eurofxref/eurofxref-hist.xml": "hist_3d.xml",
}


class State:
    def __init__(self, args):
        self.dir = args.dir
        self.faults = [f for f in args.faults.split(",") if f] if args.faults else []
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

    def reply(self, status, body, ctype="text/xml"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_stub/hits":
            return self.reply(200, str(S.hits), "text/plain")
        fault = S.next_fault()
        if fault == "500":
            return self.reply(500, "")
        if fault == "garbage":
            return self.reply(200, "\x00\x01not xml at all {\"rates\": []}", "application/octet-stream")
        if fault == "404" or path not in FILES:
            return self.reply(404, "<html><body>Not Found</body></html>", "text/html")
        with open(os.path.join(S.dir, FILES[path]), "rb") as f:
            return self.reply(200, f.read())


def main():
    global S
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "ecb"))
    ap.add_argument("--faults", default="")
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
