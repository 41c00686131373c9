#!/usr/bin/python3
"""cluster.py - backtests through the Redis queue, end to end through the API: an API node
(`serve --no-workers`) on PostgreSQL, a redis-server of its own, and 1 then 2 `apextrade worker`
processes (one job at a time each). Prints small ORCL backtests per second with each worker count
and the queue's overhead per job (the backtest's created_at -> started_at, i.e. stored and queued
-> claimed by a worker, p50/p99 of jobs submitted one at a time). It measures; it does not pass or
fail.

    sh scripts/with-pg.sh build/benchpg 55449 /usr/bin/python3 bench/cluster.py [build/apextrade]

Environment: JOBS (200 per round), SAMPLES (200 for the overhead)."""
import concurrent.futures
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "apextrade"))
JOBS = int(os.environ.get("JOBS", "200"))
SAMPLES = int(os.environ.get("SAMPLES", "200"))
PG = os.environ.get("APEX_TEST_PG_URL") or sys.exit("cluster.py: run it under scripts/with-pg.sh (APEX_TEST_PG_URL)")
ORCL = os.path.join(ROOT, "data", "orcl-1995-2014.csv")
STRATEGY = os.path.join(ROOT, "examples", "rsi_mean_reversion.json")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    tmp = tempfile.mkdtemp(prefix="apex-cluster-bench-")
    procs = []
    db = "bench_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", PG, "-qc", f'CREATE DATABASE "{db}"'], check=True, capture_output=True)
    url = PG.rsplit("/", 1)[0] + "/" + db
    rport = free_port()
    procs.append(subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(rport), "--save", "",
                                   "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=url, REDIS_URL=f"redis://127.0.0.1:{rport}/0", APP_ENV="development",
               BACKTEST_MAX_PER_USER="100000", ACCESS_LOG="off", LOG_LEVEL="warn")
    try:
        time.sleep(0.3)
        subprocess.run([BIN, "data", "import", ORCL, "--symbol", "ORCL", "--timeframe", "1d"],
                       env={**env, "APEX_DATA_DIR": os.path.join(tmp, "api")}, check=True, capture_output=True)
        log = open(os.path.join(tmp, "api.log"), "w")
        api = subprocess.Popen([BIN, "serve", "--no-workers", "--host", "127.0.0.1", "--port", "0"],
                               env={**env, "APEX_DATA_DIR": os.path.join(tmp, "api")}, stdout=log, stderr=log)
        procs.append(api)
        base = None
        for _ in range(400):
            m = re.search(r"listening on (http://\S+)", open(log.name).read())
            if m:
                base = m.group(1)
                break
            time.sleep(0.05)
        assert base, open(log.name).read()
        c = httpx.Client(base_url=base, timeout=30)
        c.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": "bench-Cluster-2026!"})
        tok = c.post("/api/v1/auth/login", json={"email": "bench@example.com", "password": "bench-Cluster-2026!"}).json()
        h = {"Authorization": "Bearer " + tok["access_token"]}
        r = c.post("/api/v1/strategies", headers=h, json=json.load(open(STRATEGY)))
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

        def submit():
            r = c.post("/api/v1/backtests", headers=h, json={"strategy_id": sid, "initial_capital": 10000})
            assert r.status_code == 202, r.text
            return r.json()["id"]

        def done(ids):
            q = ",".join(f"'{i}'" for i in ids)
            out = subprocess.run(["psql", url, "-Atc", f"SELECT count(*) FROM backtests WHERE id IN ({q}) "
                                                    "AND status IN ('completed', 'failed')"],
                                 capture_output=True, text=True, check=True).stdout
            return int(out.strip())

        def workers(n):
            ws = []
            for i in range(n):
                wl = open(os.path.join(tmp, f"worker{n}-{i}.log"), "w")
                ws.append(subprocess.Popen([BIN, "worker", "--queues", "backtest", "--concurrency", "1"],
                                           env={**env, "APEX_DATA_DIR": os.path.join(tmp, f"w{n}-{i}")},
                                           stdout=wl, stderr=wl))
            time.sleep(1.0)
            return ws

        def stop(ws):
            for w in ws:
                w.terminate()
            for w in ws:
                w.wait(timeout=30)

        print(f"cluster: PostgreSQL, Redis, 1 API node, ORCL daily RSI backtests ({JOBS} per round)")
        rates = {}
        for n in (1, 2):
            ws = workers(n)
            submit()  # warm: the candles in PostgreSQL's cache
            time.sleep(1)
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                ids = list(ex.map(lambda _: submit(), range(JOBS)))
            while done(ids) < len(ids):
                time.sleep(0.2)
            dt = time.monotonic() - t0
            rates[n] = len(ids) / dt
            print(f"  {n} worker process{'es' if n > 1 else ''}: {rates[n]:7.1f} backtests/s end to end "
                  f"({len(ids)} in {dt:.2f} s)")
            stop(ws)
        print(f"  speed-up with 2: {rates[2] / rates[1]:.2f}x")
        ws = workers(1)
        ids = []
        for _ in range(SAMPLES):  # one at a time: the worker is idle, waiting on the stream
            ids.append(submit())
            while c.get(f"/api/v1/backtests/{ids[-1]}", headers=h).json()["status"] not in ("completed", "failed"):
                time.sleep(0.005)
        q = ",".join(f"'{i}'" for i in ids)
        out = subprocess.run(["psql", url, "-Atc", "SELECT extract(epoch FROM started_at - created_at) * 1000 "
                                                f"FROM backtests WHERE id IN ({q})"],
                             capture_output=True, text=True, check=True).stdout.split()
        ms = sorted(float(x) for x in out)
        p = lambda f: ms[min(len(ms) - 1, int(f * len(ms)))]
        print(f"  queue overhead (stored -> claimed by a worker), {len(ms)} jobs: p50 {p(0.5):.2f} ms, "
              f"p99 {p(0.99):.2f} ms, max {ms[-1]:.2f} ms")
        stop(ws)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["psql", PG, "-qc", f'DROP DATABASE IF EXISTS "{db}"'], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
