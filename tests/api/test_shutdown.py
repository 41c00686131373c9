"""Shutdown under load: SIGINT or SIGTERM while client threads hammer /healthz and an authenticated
route must end `apextrade serve` with status 0 every time, with no libmicrohttpd "Fatal error" (an
abort, exit -6) in its log. Once, a fresh-clone `make test` aborted there: libmicrohttpd's
MHD_quiesce_daemon() races its own epoll worker threads over removing the listen socket from their
epoll sets and panics when it loses ("Failed to remove listen FD from epoll set"), which it only
does when a worker is awake, that is under load: about one stop in a hundred with 8 HTTP workers
and wrk here, so most rounds widen that window with a preloaded, delayed epoll_ctl (see SLOW_DEL),
which made the old server abort within the first five rounds in each of three runs. 127.0.0.1
only; bounded in rounds, requests and time (APEX_SHUTDOWN_ROUNDS overrides the number of rounds)."""
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import Server

ROUNDS = int(os.environ.get("APEX_SHUTDOWN_ROUNDS", "30"))
THREADS = 6
PER_THREAD_MAX = 3000  # requests per thread and round, a bound the signal normally cuts short
PASSWORD = "correct horse battery"
# wrk (installed for bench/api.sh) adds what Python threads cannot: hundreds of new connections a
# second, each waking every worker's epoll on the listen socket. Used when present.
WRK = shutil.which("wrk")
# tests/api/slow_epoll_del.c (ctest passes its path): in two rounds of three the server runs with
# every EPOLL_CTL_DEL delayed, which turns the old one-in-a-hundred abort into one in two.
SLOW_DEL = os.environ.get("APEX_TEST_SLOW_EPOLL_DEL")


def _request(conn, path, headers):
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status


def _hammer(port, token, stop, stats, fresh_connections):
    """GETs until told to stop, the server goes away or the bound is hit. Before the signal every
    answer must be 200: the load is real; after it, refused or cut connections are expected."""
    auth = {"Authorization": "Bearer " + token}
    conn = None
    for i in range(PER_THREAD_MAX):
        if stop.is_set():
            break
        path, headers = ("/healthz", {}) if i % 2 else ("/api/v1/strategies?limit=5", auth)
        signalled = stats["signalled"].is_set()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            status = _request(conn, path, headers)
            if fresh_connections:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
                conn = None
            if stats["signalled"].is_set():
                time.sleep(0.005)  # shutting down: expected; keep knocking until the process is gone
                continue
            with stats["lock"]:
                stats["errors_before_signal"] += 1
            break
        with stats["lock"]:
            if signalled:
                stats["ok_after_signal"] += status == 200
            else:
                stats["ok_before_signal"] += status == 200
                stats["not_ok_before_signal"] += status != 200
    if conn is not None:
        conn.close()


def _token(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = {"email": "load@example.com", "password": PASSWORD}
    conn.request("POST", "/api/v1/auth/register", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    assert r.status == 201, r.status
    conn.request("POST", "/api/v1/auth/login", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, data
    conn.close()
    return json.loads(data)["access_token"]


def _one_round(data_dir, sig, rnd, token):
    # Most rounds with more HTTP workers than cores (8: the old abort came about once in a hundred
    # stops there, never with 2 or 32 in as many tries), one in four with the default (cores).
    # One address opens more connections here than a client may (HTTP_MAX_CONNECTIONS_PER_CLIENT).
    env = {"HTTP_THREADS": "0" if rnd % 4 == 3 else "8", "HTTP_MAX_CONNECTIONS_PER_CLIENT": "1000"}
    if SLOW_DEL and rnd % 3 != 2:
        env.update(LD_PRELOAD=SLOW_DEL, ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
    srv = Server(data_dir, env=env)
    port = int(srv.base.rsplit(":", 1)[1])
    srv.client.close()
    token = token or _token(port)  # the data directory keeps the keys: one login serves every round
    stop = threading.Event()
    stats = {"lock": threading.Lock(), "signalled": threading.Event(), "ok_before_signal": 0,
             "not_ok_before_signal": 0, "ok_after_signal": 0, "errors_before_signal": 0}
    threads = [threading.Thread(target=_hammer, args=(port, token, stop, stats, k % 3 == 0), daemon=True)
               for k in range(THREADS)]
    for t in threads:
        t.start()
    wrk = None
    if WRK:  # new connections every request in even rounds, kept-alive ones in odd rounds
        header = "Connection: close" if rnd % 2 == 0 else "Connection: keep-alive"
        wrk = subprocess.Popen([WRK, "-t2", "-c64", "-d3s", "-H", header, srv.base + "/healthz"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0.1, 0.3))  # the signal lands at a different point of the load each round
    stats["signalled"].set()
    srv.proc.send_signal(sig)
    try:
        code = srv.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()
        code = "no exit within 10 s"
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        if wrk:
            wrk.kill()
            wrk.wait()
        srv.log.close()
    log = srv.log_text()
    name = signal.Signals(sig).name
    assert code == 0, f"round {rnd} ({name}): exit {code}\n{log[-3000:]}"
    assert "Fatal error" not in log, f"round {rnd} ({name}): {log[-3000:]}"
    assert stats["errors_before_signal"] == 0 and stats["not_ok_before_signal"] == 0, (rnd, stats)
    assert stats["ok_before_signal"] > 0, f"round {rnd}: no load reached the server before the signal"
    return stats, token


def test_stop_under_load_exits_0_every_time(tmp_path):
    t0 = time.monotonic()
    random.seed(8)
    ok_before = ok_after = 0
    token = None
    for rnd in range(ROUNDS):
        sig = signal.SIGINT if rnd % 2 else signal.SIGTERM
        stats, token = _one_round(tmp_path, sig, rnd, token)
        ok_before += stats["ok_before_signal"]
        ok_after += stats["ok_after_signal"]
    # The load and the rounds, for the record (pytest -s shows it).
    print(f"{ROUNDS} rounds in {time.monotonic() - t0:.1f} s: {ok_before} answers before the signals, "
          f"{ok_after} after")
    if ROUNDS >= 10 and ok_after == 0:
        pytest.fail("no request was ever in flight at a signal: the test did not exercise shutdown under load")
