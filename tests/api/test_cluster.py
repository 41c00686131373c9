"""A cluster on one PostgreSQL and one Redis (REDIS_URL): node 1 is a full `apextrade serve` (it
runs the strategies, and no backtests: BACKTEST_WORKERS=0), node 2 is `serve --no-workers`, and
backtests run on `apextrade worker` processes. What one node does, the other sees: a WebSocket
client on node 1 follows a backtest submitted to node 2; a token logged out on node 1 is refused on
node 2 within a second (and its socket there closes); failed logins count once across both.
100 backtests submitted through nginx (deploy/nginx/apextrade.conf, run here on plain HTTP) run
exactly once on the workers; a worker killed mid-backtest leaves it to another; a Redis restart
loses nothing and, while Redis is away, the nodes keep answering.

The nodes share the database and the signing keys, as a deployment behind nginx does. Each test
starts its own redis-server (Debian's) on a free port, so that it can stop and restart it. Runs in
the PostgreSQL suite (two servers cannot share a SQLite data directory)."""
import asyncio
import json
import os
import re
import socket
import subprocess
import time

import httpx
import pytest
import websockets

from conftest import BIN, ROOT, Server, assert_problem
from test_paper import ORCL, db_env, example, import_candles
from test_ws import PASSWORD, account, ack, connect, recv, run

pytestmark = pytest.mark.skipif(not os.environ.get("APEX_TEST_PG_URL"),
                                reason="two nodes need a shared database: runs in the PostgreSQL suite")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """redis-server on 127.0.0.1:port with its files in a directory of the test's."""

    def __init__(self, tmp):
        self.dir, self.port = str(tmp), free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
                                      "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() != b"PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def wait_subscribers(self, n, timeout=10):
        """Until n processes listen on each of our channels (after a restart they come back with back-off)."""
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["redis-cli", "-p", str(self.port), "pubsub", "numsub", "apex:events", "apex:deny"],
                                 capture_output=True, text=True).stdout.split()
            if out[1::2] == [str(n), str(n)]:
                return
            assert time.monotonic() < deadline, f"subscribers: {out}"
            time.sleep(0.05)


class Worker:
    """`apextrade worker` with the cluster's settings; its log in its data directory."""

    def __init__(self, data_dir, env, concurrency=1):
        self.log_path = os.path.join(str(data_dir), "worker.log")
        self.log = open(self.log_path, "w")
        full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        full.update(APEX_DATA_DIR=str(data_dir), APP_ENV="development", **env)
        self.proc = subprocess.Popen([BIN, "worker", "--queues", "backtest", "--concurrency", str(concurrency)],
                                     env=full, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while "worker taking backtest jobs" not in self.text():
            assert self.proc.poll() is None, f"the worker exited: {self.text()}"
            assert time.monotonic() < deadline, f"the worker did not start: {self.text()}"
            time.sleep(0.05)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            assert self.proc.wait(timeout=15) == 0, self.text()
        self.log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Shared by the tests that leave it as they found it (one cluster start is ~3 s)."""
    yield from make_cluster(tmp_path_factory, workers=2, BACKTEST_MAX_PER_USER="200")


@pytest.fixture
def own_cluster(tmp_path_factory):
    # a short lease: the sweep that queues what Redis never got runs every 2 s
    yield from make_cluster(tmp_path_factory, BACKTEST_LEASE_SECONDS="4")


class Nginx:
    """Debian's nginx with deploy/nginx/apextrade.conf, made to run here: plain HTTP on a free port
    of 127.0.0.1 (no certificate), the upstream servers the nodes' ports, everything else as shipped."""

    def __init__(self, tmp, ports):
        conf = open(os.path.join(ROOT, "deploy", "nginx", "apextrade.conf")).read()
        conf = re.sub(r"\nserver \{\n    listen 80;.*?\n\}\n", "\n", conf, flags=re.S)  # the redirect to HTTPS
        conf = re.sub(r"listen 443 ssl http2;[^\n]*", f"listen 127.0.0.1:{free_port()};", conf)
        conf = re.sub(r"\n\s*(ssl_|add_header Strict)[^\n]*", "", conf)
        conf = conf.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
        self.port = int(re.search(r"listen 127\.0\.0\.1:(\d+);", conf).group(1))
        self.dir = str(tmp)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(f"daemon off;\npid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log;\nevents {{}}\n"
                    f"http {{\naccess_log off;\nclient_body_temp_path {self.dir};\nproxy_temp_path {self.dir};\n"
                    f"{conf}\n}}\n")
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf")],
                                     stderr=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)
        self.client = httpx.Client(base_url=self.base, timeout=10)

    def stop(self):
        self.client.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)


def make_cluster(tmp_path_factory, workers=1, **extra):
    redis = Redis(tmp_path_factory.mktemp("redis"))
    d1, d2 = tmp_path_factory.mktemp("node1"), tmp_path_factory.mktemp("node2")
    import_candles(d1, ORCL, "ORCL", "1d")
    env = {"REDIS_URL": redis.url, **db_env(d1), **extra}
    n1 = Server(d1, env={**env, "BACKTEST_WORKERS": "0"})
    # the others: the same database and the same signing keys (node 1 made them in its data directory)
    env.update(JWT_PRIVATE_KEY_FILE=str(d1 / "jwt_private.pem"), JWT_PUBLIC_KEY_FILE=str(d1 / "jwt_public.pem"))
    n2 = Server(d2, env=env, args=("--no-workers",))
    ws = [Worker(tmp_path_factory.mktemp("worker"), env) for _ in range(workers)]
    redis.wait_subscribers(2 + len(ws))
    yield n1, n2, redis, ws, env
    for w in ws:
        w.stop()
    n1.stop()
    n2.stop()
    redis.stop()


def submit_backtest(node, user):
    sid = node.client.post("/api/v1/strategies", headers=user.h, json=example("rsi_mean_reversion.json")).json()["id"]
    r = node.client.post("/api/v1/backtests", headers=user.h,
                         json={"strategy_id": sid, "initial_capital": 10000, "commission_pct": 0.1})
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def progress_until_completed(ws, bid, timeout=30):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await recv(ws, max(0.1, deadline - time.monotonic()))
        if msg["channel"] == "backtest_progress" and msg["data"]["backtest_id"] == bid:
            seen.append(msg["data"])
            if msg["data"]["status"] == "completed":
                return seen
    pytest.fail(f"backtest {bid} never completed on the other node: {seen[-3:]}")


def test_a_websocket_on_one_node_follows_a_backtest_submitted_to_the_other(cluster):
    n1, n2, *_ = cluster
    user = account(n1.client, "cluster")

    async def body():
        ws = await connect(n1, user.token)
        await ack(ws, {"action": "subscribe", "channel": "backtest_progress"})
        bid = await asyncio.to_thread(submit_backtest, n2, user)
        seen = await progress_until_completed(ws, bid)
        await ws.close()
        return bid, seen

    bid, seen = run(body())
    pcts = [e["progress_pct"] for e in seen]
    assert pcts == sorted(pcts) and pcts[-1] == 100, pcts
    assert len([e for e in seen if e["status"] == "completed"]) == 1, "an event delivered twice"
    done = n1.client.get(f"/api/v1/backtests/{bid}", headers=user.h).json()
    assert done["status"] == "completed" and seen[-1]["result"]["total_trades"] == done["total_trades"]


def test_a_token_logged_out_on_one_node_is_refused_on_the_other_within_a_second(cluster):
    n1, n2, *_ = cluster
    user = account(n1.client, "logout")
    assert n2.client.get("/api/v1/auth/me", headers=user.h).status_code == 200  # node 2 has it cached now

    async def body():
        ws = await connect(n2, user.token)
        await ack(ws, {"action": "subscribe", "channel": "trade"})
        r = await asyncio.to_thread(n1.client.post, "/api/v1/auth/logout", headers=user.h,
                                    json={"refresh_token": user.refresh})
        assert r.status_code in (200, 204), r.text
        t0 = time.monotonic()
        while n2.client.get("/api/v1/auth/me", headers=user.h).status_code != 401:
            assert time.monotonic() - t0 < 1.0, "node 2 still accepts the token a second after the logout"
            await asyncio.sleep(0.02)
        with pytest.raises(Exception):  # node 2's socket opened with it is closed too
            while True:
                await asyncio.wait_for(ws.recv(), 3)
        assert ws.close_code == 1008, (ws.close_code, ws.close_reason)

    run(body())
    assert_problem(n2.client.get("/api/v1/auth/me", headers=user.h), 401, 1003)
    fresh = n2.client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert fresh.status_code == 200, "logging in again works anywhere"


def test_failed_logins_count_once_across_nodes(cluster):
    n1, n2, *_ = cluster
    email = "cluster-limited@example.com"
    n1.client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    codes = [(n1 if i % 2 else n2).client.post("/api/v1/auth/login", json={"email": email, "password": "wrong password"})
             .status_code for i in range(6)]
    assert codes == [401] * 5 + [429], codes  # five a minute for the account, wherever they land
    r = n1.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert_problem(r, 429)


def test_a_redis_restart_loses_nothing_and_the_nodes_keep_answering_meanwhile(own_cluster):
    n1, n2, redis, *_ = own_cluster
    user = account(n1.client, "outage")
    other = account(n2.client, "outage2")
    redis.stop()
    # What needs no Redis still answers on both nodes.
    for node in (n1, n2):
        assert node.client.get("/healthz").status_code == 200
        assert node.client.get("/api/v1/strategies", headers=user.h).status_code == 200
    # A logout that cannot be shared fails closed: the user is told to try again.
    r = n1.client.post("/api/v1/auth/logout", headers=other.h, json={"refresh_token": other.refresh})
    assert_problem(r, 503)
    # A backtest is accepted (stored, pending) and runs once Redis is back.
    during = submit_backtest(n2, user)
    redis.start()
    redis.wait_subscribers(3)
    # Back: a logout on node 1 reaches node 2 again, and events flow between them.
    deadline = time.monotonic() + 10
    while True:
        r = n1.client.post("/api/v1/auth/logout", headers=other.h, json={"refresh_token": other.refresh})
        if r.status_code in (200, 204):
            break
        assert time.monotonic() < deadline, f"logout still failing after Redis came back: {r.text}"
        time.sleep(0.2)
    t0 = time.monotonic()
    while n2.client.get("/api/v1/auth/me", headers=other.h).status_code != 401:
        keys = subprocess.run(["redis-cli", "-p", str(redis.port), "keys", "*"], capture_output=True, text=True).stdout
        assert time.monotonic() - t0 < 1.0, f"node 2 still accepts it; Redis holds: {keys}"
        time.sleep(0.02)

    async def body():
        ws = await connect(n1, user.token)
        await ack(ws, {"action": "subscribe", "channel": "backtest_progress"})
        bid = await asyncio.to_thread(submit_backtest, n2, user)
        await progress_until_completed(ws, bid)
        await ws.close()

    run(body())
    assert wait_completed(n2, user, [during])[0]["status"] == "completed"


def test_one_node_runs_the_strategies_and_api_nodes_need_redis(cluster, tmp_path):
    n1, n2, redis, _, env = cluster
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full.update(APEX_DATA_DIR=str(tmp_path / "third"), **env)
    p = subprocess.run([BIN, "serve", "--port", "0"], env=full, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "another node" in p.stderr and "--no-workers" in p.stderr, p.stderr
    alone = {k: v for k, v in full.items() if k != "REDIS_URL"}
    p = subprocess.run([BIN, "serve", "--no-workers", "--port", "0"], env=alone, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "REDIS_URL" in p.stderr, p.stderr
    p = subprocess.run([BIN, "worker"], env=alone, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "REDIS_URL" in p.stderr, p.stderr
    p = subprocess.run([BIN, "worker", "--queues", "nope"], env=full, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "unknown queue" in p.stderr, p.stderr


def wait_completed(node, user, ids, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        rows = [node.client.get(f"/api/v1/backtests/{b}", headers=user.h).json() for b in ids]
        if all(r["status"] in ("completed", "failed", "cancelled") for r in rows):
            return rows
        assert time.monotonic() < deadline, [(r["id"], r["status"]) for r in rows if r["status"] != "completed"]
        time.sleep(0.2)


def trades_of(node, user, bid):
    return node.client.get(f"/api/v1/backtests/{bid}/trades?limit=100", headers=user.h).json()


def test_100_backtests_through_nginx_run_exactly_once_on_the_workers(cluster, tmp_path):
    n1, n2, redis, ws, _ = cluster
    proxy = Nginx(tmp_path, [int(n.base.rsplit(":", 1)[1]) for n in (n1, n2)])
    try:
        user = account(proxy.client, "many")
        ids = [submit_backtest(proxy, user) for _ in range(100)]

        async def follow():  # a WebSocket through nginx (the upgrade) sees them complete
            w = await websockets.connect(f"ws://127.0.0.1:{proxy.port}/api/v1/ws?token={user.token}", open_timeout=5)
            await ack(w, {"action": "subscribe", "channel": "backtest_progress"})
            bid = await asyncio.to_thread(submit_backtest, proxy, user)
            await progress_until_completed(w, bid)
            await w.close()
            return bid

        ids.append(run(follow()))
        rows = wait_completed(proxy, user, ids)
    finally:
        proxy.stop()
    assert all(r["status"] == "completed" for r in rows), [r["status"] for r in rows]
    # the same strategy on the same candles: one result, whoever ran it, and no trade twice
    first = trades_of(n2, user, ids[0])
    assert first["total"] == rows[0]["total_trades"] > 0
    for r in rows:
        t = trades_of(n1, user, r["id"])
        assert t["total"] == first["total"] and r["total_trades"] == first["total"], r
        assert [x["entry_time"] for x in t["items"]] == [x["entry_time"] for x in first["items"]]
    queue = subprocess.run(["redis-cli", "-p", str(redis.port), "xinfo", "groups", "apex:q:backtest"],
                           capture_output=True, text=True).stdout.split()
    assert queue[queue.index("pending") + 1] == "0" and queue[queue.index("lag") + 1] == "0", queue


@pytest.fixture
def slow(tmp_path_factory):
    # each backtest waits 2 s after its claim; a lease of 4 s, so a dead worker's job is free soon
    yield from make_cluster(tmp_path_factory, workers=2, APEX_TEST_JOB_DELAY_MS="2000",
                            BACKTEST_LEASE_SECONDS="4", BACKTEST_TIMEOUT_SECONDS="20")


def owner_pid(env, bid):
    out = subprocess.run(["psql", env["DATABASE_URL"], "-Atc", f"SELECT lease_owner FROM backtests WHERE id = '{bid}'"],
                         capture_output=True, text=True).stdout.strip()
    return int(out.split(":")[1].split("/")[0]) if out.count(":") else None


def test_a_worker_killed_mid_backtest_leaves_it_to_another_with_one_result(slow):
    n1, n2, redis, ws, env = slow
    user = account(n2.client, "kill9")
    reference = submit_backtest(n2, user)
    ref = wait_completed(n2, user, [reference])[0]
    bid = submit_backtest(n2, user)
    deadline = time.monotonic() + 10
    while (pid := owner_pid(env, bid)) is None:
        assert time.monotonic() < deadline, "no worker claimed it"
        time.sleep(0.05)
    victim = [w for w in ws if w.proc.pid == pid]
    assert victim, f"claimed by {pid}, not a worker"
    victim[0].proc.kill()  # kill -9, mid-run (it waits 2 s after its claim)
    victim[0].proc.wait()
    done = wait_completed(n2, user, [bid], timeout=60)[0]
    assert done["status"] == "completed", done
    assert owner_pid(env, bid) != pid or done["status"] == "completed"
    t = trades_of(n2, user, bid)
    assert t["total"] == ref["total_trades"] == done["total_trades"], "doubled or lost trades"
    metrics = n2.client.get("/metrics").text  # the cluster's queue, from an API node
    assert re.search(r'^apex_queue_retries\{queue="backtest"\} [1-9]', metrics, re.M), metrics
    assert re.search(r'^apex_queue_jobs\{queue="backtest",state="queued"\} 0', metrics, re.M), metrics
    ws.remove(victim[0])
    victim[0].log.close()


def test_redis_restarted_during_backtests_loses_none(slow):
    n1, n2, redis, ws, env = slow
    user = account(n2.client, "restart")
    ids = [submit_backtest(n2, user) for _ in range(4)]
    time.sleep(0.5)  # some claimed and waiting, some queued
    redis.stop()
    redis.start()  # empty: no persistence, the stream is gone
    redis.wait_subscribers(2 + len(ws))
    rows = wait_completed(n2, user, ids, timeout=90)
    assert all(r["status"] == "completed" for r in rows), [(r["id"], r["status"], r.get("error")) for r in rows]
