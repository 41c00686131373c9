"""Two API nodes on one PostgreSQL and one Redis (REDIS_URL): what one node does, the other sees.
A WebSocket client on node 1 follows a backtest submitted to node 2; a token logged out on node 1
is refused on node 2 within a second (and its socket there closes); failed logins count once across
both; a Redis restart loses nothing and, while Redis is away, the nodes keep answering.

The nodes share the database and the signing keys, as a deployment behind nginx does. Each test
starts its own redis-server (Debian's) on a free port, so that it can stop and restart it. Runs in
the PostgreSQL suite (two servers cannot share a SQLite data directory)."""
import asyncio
import json
import os
import socket
import subprocess
import time

import httpx
import pytest

from conftest import Server, assert_problem
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


@pytest.fixture
def cluster(tmp_path_factory):
    redis = Redis(tmp_path_factory.mktemp("redis"))
    d1, d2 = tmp_path_factory.mktemp("node1"), tmp_path_factory.mktemp("node2")
    import_candles(d1, ORCL, "ORCL", "1d")
    env = {"REDIS_URL": redis.url, **db_env(d1)}
    n1 = Server(d1, env=env)
    # node 2: the same database and the same signing keys (node 1 made them in its data directory)
    n2 = Server(d2, env={**env, "JWT_PRIVATE_KEY_FILE": str(d1 / "jwt_private.pem"),
                         "JWT_PUBLIC_KEY_FILE": str(d1 / "jwt_public.pem")})
    redis.wait_subscribers(2)
    yield n1, n2, redis
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
    n1, n2, _ = cluster
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
    n1, n2, _ = cluster
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
    n1, n2, _ = cluster
    email = "cluster-limited@example.com"
    n1.client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    codes = [(n1 if i % 2 else n2).client.post("/api/v1/auth/login", json={"email": email, "password": "wrong password"})
             .status_code for i in range(6)]
    assert codes == [401] * 5 + [429], codes  # five a minute for the account, wherever they land
    r = n1.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert_problem(r, 429)


def test_a_redis_restart_loses_nothing_and_the_nodes_keep_answering_meanwhile(cluster):
    n1, n2, redis = cluster
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
    redis.start()
    redis.wait_subscribers(2)
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
