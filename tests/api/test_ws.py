"""Live events over WebSocket (`GET /api/v1/ws`), held to docs/websocket.md (the spec's 5.7):
authentication at the handshake or by a first message, expiry and revocation closing the socket,
every request answered with an ack or an error, each channel's events in their documented shapes
from their real sources (a backtest job, a paper session on the replayed BTC feed), one user's
events never shown to another, a client that stops reading closed with 1013 while a fast one on the
same channel misses nothing, malformed frames and JSON, the Origin check and shutdown.

Clients are `websockets` 10.4 (asyncio, each test under asyncio.run) and, where a client library
would not misbehave on request (unmasked frames, bad UTF-8, never reading), a raw socket that
speaks RFC 6455 itself. The synthetic floods come from the test-only publisher
(`POST /api/v1/_test/publish`, with APEX_TEST_ROUTES=1). Every wait has a deadline."""
import asyncio
import base64
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import time
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from conftest import ALLOWED_ORIGIN, OTHER_ORIGIN, PROBLEM_TYPE_BASE, Server
from test_paper import BTC, ORCL, db_env, example, import_candles, replay_env, wait_run
from test_token_attacks import rs256, segment

PASSWORD = "websocket-Events-2026!"
WS_PATH = "/api/v1/ws"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# The page: "Times are ISO 8601 UTC, with milliseconds when they are not 0".
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
MISSING_ID = "00000000-0000-4000-8000-000000000000"


# --- accounts and tokens ---------------------------------------------------------------------

class Account:
    def __init__(self, api, email):
        api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        r = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        body = r.json()
        self.email = email
        self.token = body["access_token"]
        self.refresh = body["refresh_token"]
        self.h = {"Authorization": "Bearer " + self.token}
        me = api.get("/api/v1/auth/me", headers=self.h)
        assert me.status_code == 200, me.text
        self.id = me.json()["id"]

    def claims(self):
        return json.loads(base64.urlsafe_b64decode(self.token.split(".")[1] + "=="))


_accounts = iter(range(1, 1 << 30))


def account(api, name="user"):
    return Account(api, f"ws-{name}-{next(_accounts)}-{uuid.uuid4().hex[:6]}@example.com")


def signed_token(srv, user, iat, exp):
    """An access token for user signed with the server's own key (its data directory), as the
    server would issue it but with the lifetime given: expired ones, ones that expire in seconds."""
    c = dict(user.claims(), iat=iat, exp=exp, jti=base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode())
    return rs256(os.path.join(srv.data_dir, "jwt_private.pem"), {"alg": "RS256", "typ": "JWT"}, c)


def expired_token(srv, user):
    now = int(time.time())
    return signed_token(srv, user, now - 3600, now - 60)


def other_key_token(user, tmp_path):
    key = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
                   check=True, capture_output=True)
    return rs256(key, {"alg": "RS256", "typ": "JWT"}, dict(user.claims()))


def to_ms(text):
    from datetime import datetime
    text = text.replace("Z", "+00:00")
    if len(text) == 10:
        text += "T00:00:00+00:00"
    return int(round(datetime.fromisoformat(text).timestamp() * 1000))


def is_decimal_string(v):
    return isinstance(v, str) and bool(DECIMAL.match(v))


def market_value(v):
    """A price or volume of the market channels as an exact Decimal. The REST market routes give
    them as JSON numbers and the account's money as strings; the page's "exact decimal strings,
    as in the REST API" is read as allowing either here (a string must be a plain decimal)."""
    if isinstance(v, str):
        assert DECIMAL.match(v), v
        return Decimal(v)
    assert isinstance(v, (int, float)) and not isinstance(v, bool), v
    return Decimal(repr(v))


# --- servers -------------------------------------------------------------------------------------

def start(tmp_path_factory, env, candles=()):
    data = tmp_path_factory.mktemp("apexdata")
    for path, symbol, tf in candles:
        import_candles(data, path, symbol, tf)
    return Server(data, env={**env, **db_env(data)})


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """The shared server: the ORCL sample for backtests, the test-only publisher, CORS for
    ALLOWED_ORIGIN, no market feed."""
    s = start(tmp_path_factory, {"APEX_TEST_ROUTES": "1", "CORS_ORIGINS": ALLOWED_ORIGIN},
              candles=[(ORCL, "ORCL", "1d")])
    yield s
    s.stop()


@pytest.fixture
def api(srv):
    return srv.client


def hostport(srv):
    u = urlsplit(srv.base)
    return u.hostname, u.port


def ws_url(srv, token=None):
    host, port = hostport(srv)
    return f"ws://{host}:{port}{WS_PATH}" + (f"?token={token}" if token else "")


def publish(srv, body, timeout=15):
    """Starts the test publisher (202); waits while a previous run holds it (409)."""
    deadline = time.monotonic() + timeout
    while True:
        r = srv.client.post("/api/v1/_test/publish", json=body)
        if r.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.status_code == 202, r.text
    return r


# --- websockets (asyncio) helpers -----------------------------------------------------------------

def run(coro, timeout=60):
    """A test body under asyncio.run, bounded as a whole."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def connect(srv, token=None, **kw):
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 2)
    kw.setdefault("ping_interval", None)
    kw.setdefault("compression", None)
    kw.setdefault("max_size", 1 << 22)
    kw.setdefault("max_queue", None)
    return await websockets.connect(ws_url(srv, token), **kw)


async def recv(ws, timeout=5):
    try:
        text = await asyncio.wait_for(ws.recv(), timeout)
    except asyncio.TimeoutError:
        pytest.fail(f"no message within {timeout} s")
    assert isinstance(text, str), f"a binary frame from the server: {text!r}"
    msg = json.loads(text)
    assert isinstance(msg, dict) and set(msg) == {"channel", "data"}, msg
    return msg


async def answer(ws, timeout=5):
    """The next ack or error, skipping events."""
    deadline = time.monotonic() + timeout
    while True:
        msg = await recv(ws, max(0.01, deadline - time.monotonic()))
        if msg["channel"] in ("ack", "error"):
            return msg


async def request(ws, req, timeout=5):
    await ws.send(json.dumps(req))
    return await answer(ws, timeout)


async def ack(ws, req, timeout=5):
    msg = await request(ws, req, timeout)
    assert msg["channel"] == "ack", (req, msg)
    return msg["data"]


async def error(ws, req, code, timeout=5):
    msg = await request(ws, req, timeout)
    assert msg["channel"] == "error", (req, msg)
    data = msg["data"]
    assert data["code"] == code, (req, data)
    assert isinstance(data.get("detail"), str) and data["detail"], data
    return data


async def authed(srv, user, **kw):
    """A socket authenticated at the handshake (?token=), its auth ack read and checked."""
    ws = await connect(srv, user.token, **kw)
    msg = await recv(ws)
    assert msg["channel"] == "ack" and msg["data"]["action"] == "auth", msg
    assert msg["data"]["user_id"] == user.id, msg
    ws.auth_ack = msg
    return ws


async def closed(ws, timeout=5):
    """Waits for the server to close ws; (code, reason, the messages that came before)."""
    seen = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"not closed within {timeout} s; got {seen[-5:]}")
            try:
                text = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                continue
            seen.append(json.loads(text) if isinstance(text, str) else text)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    return ws.close_code, ws.close_reason, seen


async def quiet(ws, seconds):
    """Everything ws receives within seconds (it must stay open)."""
    got = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        try:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except asyncio.TimeoutError:
            return got


class Collector:
    """Reads ws in the background into .msgs (events and answers alike) until it closes."""

    def __init__(self, ws):
        self.ws = ws
        self.msgs = []
        self.task = asyncio.ensure_future(self._run())

    async def _run(self):
        try:
            async for text in self.ws:
                self.msgs.append(json.loads(text))
        except ConnectionClosed:
            pass

    def events(self, channel):
        return [m["data"] for m in self.msgs if m["channel"] == channel]

    async def wait(self, pred, timeout, what="an event"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self):
                return
            if self.task.done():
                pytest.fail(f"the socket closed ({self.ws.close_code} {self.ws.close_reason}) before {what}")
            await asyncio.sleep(0.02)
        pytest.fail(f"{what} did not come within {timeout} s; last: {self.msgs[-3:]}")

    async def stop(self):
        await self.ws.close()
        try:
            await asyncio.wait_for(self.task, 5)
        except asyncio.TimeoutError:
            self.task.cancel()


# --- a raw RFC 6455 client ------------------------------------------------------------------------

class Refused:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def problem(self, status, code):
        assert self.status == status, (self.status, self.body)
        assert self.headers.get("content-type", "").startswith("application/problem+json"), self.headers
        body = json.loads(self.body)
        assert body["status"] == status and body["code"] == code, body
        assert body["type"].startswith(PROBLEM_TYPE_BASE) and body["title"], body
        assert body["instance"] == WS_PATH, body
        return body


class Closed(Exception):
    pass


class RawWS:
    """A socket after a 101: frames sent as given (masked or not), frames read as they come."""

    def __init__(self, sock, buf):
        self.sock, self.buf = sock, buf

    def send_frame(self, opcode, payload=b"", fin=True, mask=True):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        m = 0x80 if mask else 0
        if n < 126:
            head += bytes([m | n])
        elif n < 65536:
            head += bytes([m | 126]) + struct.pack("!H", n)
        else:
            head += bytes([m | 127]) + struct.pack("!Q", n)
        if mask:
            key = os.urandom(4)
            head += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + payload)

    def send_json(self, obj):
        self.send_frame(1, json.dumps(obj))

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                raise TimeoutError
            except ConnectionResetError:
                raise Closed("reset")
            if not chunk:
                raise Closed("eof")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=5):
        deadline = time.monotonic() + timeout
        b0, b1 = self._need(2, deadline)
        assert not b1 & 0x80, "the server masked a frame"
        assert not b0 & 0x70, "RSV bits set by the server without an extension"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._need(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._need(8, deadline))[0]
        return bool(b0 & 0x80), b0 & 0x0F, self._need(n, deadline)

    def recv(self, timeout=5):
        """('text', obj) | ('close', code, reason) | ('binary', bytes) | ('pong', payload)."""
        while True:
            fin, op, payload = self.recv_frame(timeout)
            assert fin, "the server fragmented a frame (allowed, but not expected for small JSON)"
            if op == 1:
                return "text", json.loads(payload.decode("utf-8"))
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return "close", code, payload[2:].decode("utf-8")
            if op == 9:
                self.send_frame(10, payload)
                continue
            if op == 10:
                return "pong", payload
            return "binary", payload

    def answer(self, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            got = self.recv(max(0.01, deadline - time.monotonic()))
            if got[0] != "text" or got[1]["channel"] in ("ack", "error"):
                return got

    def expect_close(self, timeout=5):
        """Reads until the server's close frame; (code, reason, the messages before it)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                got = self.recv(max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                pytest.fail(f"no close frame within {timeout} s; got {seen[-5:]}")
            except Closed as e:
                pytest.fail(f"the connection ended ({e}) without a close frame; got {seen[-5:]}")
            if got[0] == "close":
                return got[1], got[2], seen
            seen.append(got)

    def close(self):
        self.sock.close()


def handshake(srv, query="", headers=None, rcvbuf=None, key=None):
    """A raw upgrade request. A 101 (its accept key checked) gives a RawWS; anything else Refused."""
    host, port = hostport(srv)
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((host, port))
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {WS_PATH}{'?' + query if query else ''} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, f"the server closed during the handshake: {buf!r}"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status_line, *hlines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    hdrs = {}
    for line in hlines:
        k, v = line.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    if status != 101:
        n = int(hdrs.get("content-length", "0"))
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        s.close()
        return Refused(status, hdrs, rest[:n].decode("utf-8", "replace"))
    want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    assert hdrs.get("sec-websocket-accept") == want, hdrs
    assert hdrs.get("upgrade", "").lower() == "websocket" and "upgrade" in hdrs.get("connection", "").lower(), hdrs
    return RawWS(s, rest)


def raw_authed(srv, user, rcvbuf=None):
    ws = handshake(srv, "token=" + user.token, rcvbuf=rcvbuf)
    assert isinstance(ws, RawWS), (ws.status, ws.body)
    kind, msg = ws.recv()
    assert kind == "text" and msg["channel"] == "ack" and msg["data"]["user_id"] == user.id, msg
    return ws


# === Authentication =================================================================================

def test_token_in_the_query_is_acknowledged_with_the_user_and_expiry(srv, api):
    user = account(api, "query")

    async def body():
        ws = await connect(srv, user.token)
        msg = await recv(ws)
        assert msg["channel"] == "ack" and set(msg["data"]) == {"action", "user_id", "expires_at"}, msg
        assert (msg["data"]["action"], msg["data"]["user_id"]) == ("auth", user.id), msg
        assert ISO.match(msg["data"]["expires_at"]), msg
        assert to_ms(msg["data"]["expires_at"]) == user.claims()["exp"] * 1000, msg
        # authenticated: a request is answered at once
        assert (await ack(ws, {"action": "subscribe", "channel": "trade"}))["channel"] == "trade"
        await ws.close()
        assert ws.close_code == 1000

    run(body())
    # The raw handshake: 101 with the RFC's accept key, then the same ack.
    raw = raw_authed(srv, user)
    raw.close()


def test_without_a_token_the_first_message_must_be_auth(srv, api, tmp_path):
    """Auth by message is acked; anything else first is a 401 error and close 1008; an expired or
    invalid token in the message is 1002 / 1003 and close 1008; and a socket that says nothing is
    closed with 1008 after 10 s (waited for in parallel with the rest)."""
    user = account(api, "bymsg")
    expired = expired_token(srv, user)
    forged = other_key_token(user, tmp_path)

    async def refused_auth(token, code):
        ws = await connect(srv)
        data = await error(ws, {"action": "auth", "token": token, "id": "a1"}, code)
        assert data.get("id") == "a1", data
        c, reason, _ = await closed(ws)
        assert c == 1008, (c, reason)

    async def body():
        t0 = time.monotonic()
        silent = await connect(srv)
        silent_closed = asyncio.ensure_future(closed(silent, timeout=15))

        ws = await connect(srv)
        msg = await request(ws, {"action": "auth", "token": user.token, "id": 1})
        assert msg["channel"] == "ack", msg
        assert msg["data"]["action"] == "auth" and msg["data"]["user_id"] == user.id, msg
        assert to_ms(msg["data"]["expires_at"]) == user.claims()["exp"] * 1000, msg
        assert (await ack(ws, {"action": "subscribe", "channel": "trade", "id": 2}))["id"] == 2
        await ws.close()

        ws = await connect(srv)
        await error(ws, {"action": "subscribe", "channel": "trade"}, 401)
        c, reason, _ = await closed(ws)
        assert c == 1008, (c, reason)

        # not even JSON, first: an error (401, or 400 for "not JSON") and close 1008
        ws = await connect(srv)
        await ws.send("hello")
        msg = await answer(ws)
        assert msg["channel"] == "error" and msg["data"]["code"] in (400, 401), msg
        c, reason, _ = await closed(ws)
        assert c == 1008, (c, reason)

        await refused_auth(expired, 1002)
        await refused_auth("garbage", 1003)
        await refused_auth(forged, 1003)
        await refused_auth(user.refresh, 1003)  # a refresh token is not an access token

        c, reason, seen = await silent_closed
        took = time.monotonic() - t0
        assert c == 1008 and "authentication required" in reason, (c, reason, seen)
        assert 9 <= took <= 13, f"closed after {took:.1f} s, not 10"

    run(body(), timeout=40)


def test_a_refused_token_at_the_handshake_is_the_rest_problem(srv, api, tmp_path):
    user = account(api, "handshake")
    expired = expired_token(srv, user)

    async def status_of(token):
        with pytest.raises(InvalidStatusCode) as e:
            ws = await connect(srv, token)
            await ws.close()
        return e.value.status_code

    async def body():
        assert await status_of(expired) == 401
        assert await status_of("garbage") == 401

    run(body())
    handshake(srv, "token=" + expired).problem(401, 1002)
    handshake(srv, "token=garbage").problem(401, 1003)
    handshake(srv, "token=" + other_key_token(user, tmp_path)).problem(401, 1003)
    handshake(srv, "token=" + user.refresh).problem(401, 1003)
    h, p, s = user.token.split(".")
    edited = h + "." + segment(dict(user.claims(), sub=MISSING_ID)) + "." + s
    handshake(srv, "token=" + edited).problem(401, 1003)


def test_logging_out_closes_the_tokens_sockets_as_revoked(srv, api):
    user = account(api, "logout")
    other = account(api, "bystander")

    async def body():
        by_query = await authed(srv, user)
        by_msg = await connect(srv)
        assert (await request(by_msg, {"action": "auth", "token": user.token}))["channel"] == "ack"
        theirs = await authed(srv, other)
        t0 = time.monotonic()
        r = await asyncio.to_thread(api.post, "/api/v1/auth/logout", headers=user.h,
                                    json={"refresh_token": user.refresh})
        assert r.status_code == 204, r.text
        for ws in (by_query, by_msg):
            c, reason, seen = await closed(ws, timeout=5)
            assert c == 1008 and "revoked" in reason, (c, reason, seen)
            errors = [m["data"] for m in seen if isinstance(m, dict) and m.get("channel") == "error"]
            assert errors and errors[-1]["code"] == 1003, seen
        assert time.monotonic() - t0 < 5
        # another user's socket is untouched
        assert (await ack(theirs, {"action": "subscribe", "channel": "trade"}))["channel"] == "trade"
        await theirs.close()
        with pytest.raises(InvalidStatusCode) as e:
            await connect(srv, user.token)
        assert e.value.status_code == 401

    run(body())
    handshake(srv, "token=" + user.token).problem(401, 1003)


def test_a_password_reset_closes_the_users_sockets(srv, api):
    user = account(api, "reset")

    async def body():
        ws = await authed(srv, user)
        r = await asyncio.to_thread(api.post, "/api/v1/auth/forgot", json={"email": user.email})
        assert r.status_code == 202
        token = None
        for _ in range(100):  # without SMTP_URL the mail goes to the server log
            found = re.findall(r"Reset token \(valid 30 minutes, once\): ([A-Za-z0-9_-]{43})", srv.log_text())
            if found:
                token = found[-1]
                break
            await asyncio.sleep(0.05)
        assert token, "no reset mail in the log"
        # A reset ends the tokens issued before its second (iat has whole seconds): this one's
        # second must be over, or it would rightly stand.
        while int(time.time()) <= user.claims()["iat"]:
            await asyncio.sleep(0.05)
        r = await asyncio.to_thread(api.post, "/api/v1/auth/reset", json={"token": token, "password": PASSWORD + "x"})
        assert r.status_code == 204, r.text
        c, reason, seen = await closed(ws, timeout=5)
        assert c == 1008 and "revoked" in reason, (c, reason, seen)
        errors = [m["data"] for m in seen if m.get("channel") == "error"]
        assert errors and errors[-1]["code"] == 1003, seen

    run(body())
    handshake(srv, "token=" + user.token).problem(401, 1003)


def test_the_token_expiring_closes_the_socket(srv, api):
    """A token (signed with the server's key) that expires 3 s from now: the ack says when; at
    expiry an error 1002, then close 1008 "token expired"."""
    user = account(api, "expiry")
    now = int(time.time())
    short = signed_token(srv, user, now - 10, now + 3)

    async def body():
        ws = await connect(srv, short)
        msg = await recv(ws)
        assert msg["channel"] == "ack" and to_ms(msg["data"]["expires_at"]) == (now + 3) * 1000, msg
        await ack(ws, {"action": "subscribe", "channel": "trade"})
        c, reason, seen = await closed(ws, timeout=10)
        assert time.time() >= now + 3 - 0.5, "closed before the token expired"
        assert time.time() <= now + 3 + 4, "closed too long after the token expired"
        assert c == 1008 and reason == "token expired", (c, reason, seen)
        errors = [m["data"] for m in seen if m.get("channel") == "error"]
        assert errors and errors[-1]["code"] == 1002, seen

    run(body())


# === Requests ===========================================================================================

def test_every_request_is_answered_with_an_ack_or_an_error(srv, api):
    user = account(api, "requests")

    async def body():
        ws = await authed(srv, user)
        # acks: the parameters as understood, the id echoed (string or integer)
        a = await ack(ws, {"action": "subscribe", "channel": "ticker", "symbols": ["BTC/USDT", "ETH/USDT"], "id": 7})
        assert a == {"action": "subscribe", "channel": "ticker", "symbols": ["BTC/USDT", "ETH/USDT"], "id": 7}, a
        a = await ack(ws, {"action": "subscribe", "channel": "candles", "symbol": "BTC/USDT", "timeframe": "5m",
                           "id": "c-1"})
        assert (a["action"], a["channel"], a["symbol"], a["timeframe"], a["id"]) == \
            ("subscribe", "candles", "BTC/USDT", "5m", "c-1"), a
        a = await ack(ws, {"action": "subscribe", "channel": "trade"})
        assert a["action"] == "subscribe" and a["channel"] == "trade" and "id" not in a, a
        a = await ack(ws, {"action": "subscribe", "channel": "backtest_progress", "id": 0})
        assert a["channel"] == "backtest_progress" and a["id"] == 0, a
        a = await ack(ws, {"action": "subscribe", "channel": "strategy"})
        assert a["channel"] == "strategy", a
        # again: acknowledged, nothing changes; unsubscribing what is not subscribed: acknowledged too
        await ack(ws, {"action": "subscribe", "channel": "ticker", "symbols": ["BTC/USDT"]})
        a = await ack(ws, {"action": "unsubscribe", "channel": "ticker", "symbols": ["XRP/USDT"], "id": 8})
        assert a["action"] == "unsubscribe" and a["id"] == 8, a
        await ack(ws, {"action": "unsubscribe", "channel": "ticker", "symbols": ["BTC/USDT", "ETH/USDT"]})
        await ack(ws, {"action": "unsubscribe", "channel": "portfolio", "portfolio_id": MISSING_ID})

        # 400: unknown or missing action, unknown channel, a missing parameter
        d = await error(ws, {"action": "dance", "channel": "trade", "id": 11}, 400)
        assert d["id"] == 11, d
        d = await error(ws, {"channel": "trade", "id": "no-action"}, 400)
        assert d["id"] == "no-action", d
        d = await error(ws, {"action": "subscribe", "channel": "gossip", "id": 12}, 400)
        assert d["id"] == 12 and d.get("action") == "subscribe", d
        d = await error(ws, {"action": "subscribe", "id": 13}, 400)
        assert d["id"] == 13, d
        d = await error(ws, {"action": "subscribe", "channel": "ticker", "id": 14}, 400)
        assert d["id"] == 14 and d.get("channel") == "ticker", d
        await error(ws, {"action": "subscribe", "channel": "candles", "symbol": "BTC/USDT"}, 400)
        await error(ws, {"action": "subscribe", "channel": "candles", "timeframe": "1h"}, 400)
        await error(ws, {"action": "subscribe", "channel": "portfolio"}, 400)
        # 422: malformed symbol, timeframe or id, with the field at fault
        d = await error(ws, {"action": "subscribe", "channel": "ticker", "symbols": ["BTC-USDT"], "id": 15}, 422)
        assert d["id"] == 15 and "symbol" in d.get("field", ""), d
        d = await error(ws, {"action": "subscribe", "channel": "ticker", "symbols": ["BTC/USDT", "no such/pair!"]}, 422)
        assert "symbol" in d.get("field", ""), d
        d = await error(ws, {"action": "subscribe", "channel": "candles", "symbol": "BTC/USDT", "timeframe": "7x"}, 422)
        assert d.get("field") == "timeframe", d
        d = await error(ws, {"action": "subscribe", "channel": "candles", "symbol": "BTC USDT", "timeframe": "1h"}, 422)
        assert "symbol" in d.get("field", ""), d
        d = await error(ws, {"action": "subscribe", "channel": "portfolio", "portfolio_id": "not-a-uuid"}, 422)
        assert d.get("field") == "portfolio_id", d
        d = await error(ws, {"action": "subscribe", "channel": "backtest_progress", "backtest_id": "42"}, 422)
        assert d.get("field") == "backtest_id", d
        d = await error(ws, {"action": "subscribe", "channel": "strategy", "strategy_id": "x" * 36}, 422)
        assert d.get("field") == "strategy_id", d
        # more than 20 pairs in one request is not a valid request
        many = [f"{a}{b}{c}/USDT" for a, b, c in zip("ABCDEFGHIJKLMNOPQRSTU", "ABCDEFGHIJKLMNOPQRSTU", "XYZXYZXYZXYZXYZXYZXYZ")]
        assert len(many) == 21
        msg = await request(ws, {"action": "subscribe", "channel": "ticker", "symbols": many})
        assert msg["channel"] == "error" and msg["data"]["code"] in (400, 422), msg
        # still open and answering after all of them
        assert (await ack(ws, {"action": "subscribe", "channel": "trade", "id": "last"}))["id"] == "last"
        await ws.close()

    run(body())


def test_another_users_portfolio_looks_exactly_like_a_missing_one(srv, api):
    owner, intruder = account(api, "pfowner"), account(api, "pfintruder")
    pid = api.post("/api/v1/portfolios", headers=owner.h,
                   json={"name": "mine", "base_currency": "USD", "initial_balance": "1000"}).json()["id"]

    async def body():
        ws = await authed(srv, owner)
        a = await ack(ws, {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid, "id": 1})
        assert a == {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid, "id": 1}, a
        await ws.close()
        ws = await authed(srv, intruder)
        theirs = await error(ws, {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid, "id": 1}, 404)
        missing = await error(ws, {"action": "subscribe", "channel": "portfolio", "portfolio_id": MISSING_ID,
                                   "id": 1}, 404)
        swapped = json.loads(json.dumps(theirs).replace(pid, MISSING_ID))
        assert swapped == missing, (theirs, missing)
        await ws.close()

    run(body())


def test_at_most_100_subscriptions_per_connection(srv, api):
    user = account(api, "hundred")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pairs = [f"{a}{b}X/USDT" for a in letters for b in letters][:101]

    async def body():
        ws = await authed(srv, user)
        for i in range(0, 100, 20):
            await ack(ws, {"action": "subscribe", "channel": "ticker", "symbols": pairs[i:i + 20]})
        # the same keys again: acknowledged, nothing added
        await ack(ws, {"action": "subscribe", "channel": "ticker", "symbols": pairs[:20]})
        d = await error(ws, {"action": "subscribe", "channel": "ticker", "symbols": [pairs[100]], "id": "101st"}, 429)
        assert d["id"] == "101st", d
        # another channel's key counts too
        await error(ws, {"action": "subscribe", "channel": "candles", "symbol": "BTC/USDT", "timeframe": "1h"}, 429)
        await error(ws, {"action": "subscribe", "channel": "trade"}, 429)
        # room made by unsubscribing is room
        await ack(ws, {"action": "unsubscribe", "channel": "ticker", "symbols": pairs[:1]})
        await ack(ws, {"action": "subscribe", "channel": "trade"})
        await error(ws, {"action": "subscribe", "channel": "ticker", "symbols": [pairs[0]]}, 429)
        await ws.close()

    run(body())


# === Channels from their real sources ================================================================

def test_backtest_progress_from_0_to_100_then_completed(srv, api):
    owner, other = account(api, "btowner"), account(api, "btother")
    sid = api.post("/api/v1/strategies", headers=owner.h, json=example("rsi_mean_reversion.json")).json()["id"]
    sid_other = api.post("/api/v1/strategies", headers=other.h, json=example("rsi_mean_reversion.json")).json()["id"]

    def submit(user, strategy):
        r = api.post("/api/v1/backtests", headers=user.h, json={"strategy_id": strategy, "initial_capital": 10000,
                                                                "commission_pct": 0.1, "slippage_pct": 0})
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def done(bt):
        return lambda c: any(e["backtest_id"] == bt and e["status"] == "completed"
                             for e in c.events("backtest_progress"))

    async def body():
        mine = Collector(await authed(srv, owner))
        theirs = Collector(await authed(srv, other))
        await mine.ws.send(json.dumps({"action": "subscribe", "channel": "backtest_progress"}))
        await theirs.ws.send(json.dumps({"action": "subscribe", "channel": "backtest_progress"}))
        await mine.wait(lambda c: c.msgs[-1:] and c.msgs[-1]["channel"] == "ack", 5, "the ack")
        await theirs.wait(lambda c: c.msgs[-1:] and c.msgs[-1]["channel"] == "ack", 5, "the ack")
        bid = await asyncio.to_thread(submit, owner, sid)
        # the other user, asking for this backtest by id, gets an error or an ack, never its events
        await theirs.ws.send(json.dumps({"action": "subscribe", "channel": "backtest_progress", "backtest_id": bid}))
        await mine.wait(done(bid), 30, "completed")
        # a subscription to one backtest sees that one only
        only = Collector(await authed(srv, owner))
        await only.ws.send(json.dumps({"action": "subscribe", "channel": "backtest_progress", "backtest_id": bid}))
        await only.wait(lambda c: c.msgs[-1:] and c.msgs[-1]["channel"] == "ack", 5, "the ack")
        bid2 = await asyncio.to_thread(submit, owner, sid)
        bid3 = await asyncio.to_thread(submit, other, sid_other)  # the other user's own: theirs only
        await mine.wait(done(bid2), 30, "the second completed")
        await theirs.wait(done(bid3), 30, "the other user's completed")
        await asyncio.sleep(0.5)  # nothing after completed
        for c in (mine, theirs, only):
            await c.stop()
        return mine, theirs, only, bid, bid2, bid3

    mine, theirs, only, bid, bid2, bid3 = run(body())
    events = [e for e in mine.events("backtest_progress") if e["backtest_id"] == bid]
    assert events[0]["progress_pct"] == 0 and events[0]["status"] == "running", events[:2]
    running = [e for e in events if e["status"] == "running"]
    pcts = [e["progress_pct"] for e in running]
    assert pcts == sorted(pcts) and len(set(pcts)) == len(pcts), pcts
    assert all(isinstance(p, int) and 0 <= p < 100 for p in pcts), pcts
    assert len(pcts) > 10, f"progress in steps, not only at the start: {pcts}"
    assert events[-1]["status"] == "completed" and events[-1]["progress_pct"] == 100, events[-1]
    assert [e["status"] for e in events].count("completed") == 1
    for e in events:
        assert set(e) >= {"backtest_id", "progress_pct", "current_date", "status"}, e
        cd = e["current_date"]
        assert cd is None or re.match(r"^\d{4}-\d\d-\d\d", cd), e
    dates = [e["current_date"] for e in events if e["current_date"]]
    assert dates == sorted(dates) and dates, dates
    result = events[-1]["result"]
    assert set(result) == {"total_return_pct", "sharpe_ratio", "max_drawdown_pct", "win_rate_pct", "profit_factor",
                           "total_trades"}, result
    rest = api.get(f"/api/v1/backtests/{bid}", headers=owner.h).json()
    assert result["total_trades"] == rest["total_trades"] == 14, (result, rest["total_trades"])
    assert abs(result["total_return_pct"] - float(rest["total_return_pct"])) < 1e-6, (result, rest)
    assert "error" not in events[-1]
    # the owner's all-backtests subscription saw both of theirs, and nothing of the other user's
    seen = {e["backtest_id"] for e in mine.events("backtest_progress")}
    assert seen == {bid, bid2}, seen
    # the one-backtest subscription: nothing of the second
    assert all(e["backtest_id"] == bid for e in only.events("backtest_progress")), only.events("backtest_progress")
    # the other user: only their own backtest; the by-id request for the owner's was an error or an ack
    assert {e["backtest_id"] for e in theirs.events("backtest_progress")} == {bid3}
    answers = [m for m in theirs.msgs if m["channel"] in ("ack", "error")]
    assert len(answers) == 2, answers
    assert answers[1]["channel"] == "ack" or answers[1]["data"]["code"] in (404, 422), answers[1]


# --- a paper session on the replayed feed, recorded once, read by the tests below ---------------------

REPLAY_FROM = "2017-11-14"
REPLAY_LAST = "2017-11-14T22:59:00Z"


class Session:
    pass


async def record_session(srv, a, b, pid, pid_a2, sid, pid_b):
    s = Session()
    s.a_private = Collector(await authed(srv, a))   # trade, portfolio, strategy (all)
    s.a_by_id = Collector(await authed(srv, a))     # strategy by id, and another portfolio of A's
    s.a_market = Collector(await authed(srv, a))    # ticker, candles 1m, candles 5m
    s.a_both = Collector(await authed(srv, a))      # overlapping subscriptions: each event once
    s.b = Collector(await authed(srv, b))           # everything B may ask for
    s.b_market = Collector(await authed(srv, b))    # a ticker of a pair not fed
    subs = {
        s.a_private: [{"action": "subscribe", "channel": "trade"},
                      {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid},
                      {"action": "subscribe", "channel": "strategy"}],
        s.a_by_id: [{"action": "subscribe", "channel": "strategy", "strategy_id": sid},
                    {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid_a2}],
        s.a_market: [{"action": "subscribe", "channel": "ticker", "symbols": ["BTC/USDT"]},
                     {"action": "subscribe", "channel": "candles", "symbol": "BTC/USDT", "timeframe": "1m"},
                     {"action": "subscribe", "channel": "candles", "symbol": "BTC/USDT", "timeframe": "5m"}],
        s.a_both: [{"action": "subscribe", "channel": "strategy"},
                   {"action": "subscribe", "channel": "strategy", "strategy_id": sid},
                   {"action": "subscribe", "channel": "trade"},
                   {"action": "subscribe", "channel": "trade"}],
        s.b: [{"action": "subscribe", "channel": "trade"},
              {"action": "subscribe", "channel": "strategy"},
              {"action": "subscribe", "channel": "backtest_progress"},
              {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid_b},
              {"action": "subscribe", "channel": "strategy", "strategy_id": sid},
              {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid}],
        s.b_market: [{"action": "subscribe", "channel": "ticker", "symbols": ["ETH/USDT"]}],
    }
    for c, reqs in subs.items():
        for i, req in enumerate(reqs):
            await c.ws.send(json.dumps(dict(req, id=i)))
        await c.wait(lambda c, n=len(reqs): len([m for m in c.msgs if m["channel"] in ("ack", "error")]) == n, 5,
                     "the answers")
    s.answers = {id(c): [m for m in c.msgs if m["channel"] in ("ack", "error")] for c in subs}
    r = await asyncio.to_thread(srv.client.post, f"/api/v1/strategies/{sid}/activate", headers=a.h,
                                json={"mode": "paper", "portfolio_id": pid})
    assert r.status_code == 200, r.text
    s.run = await asyncio.to_thread(wait_run, srv.client, a.h, sid, REPLAY_LAST, 90)
    await asyncio.sleep(1.5)  # the last events on their way
    for c in subs:
        assert not c.task.done(), f"a socket closed during the session: {c.ws.close_code} {c.ws.close_reason}"
        await c.stop()
    return s


def rest_pages(api, h, path):
    out, page = [], 1
    while True:
        body = api.get(path, headers=h, params={"page": page, "limit": 100}).json()
        out += body["items"]
        if page * 100 >= body["total"]:
            return out
        page += 1


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """User A's paper strategy (the spec's mean reversion on 1m, one entry a day so later signals
    are refused) over 2017-11-14 of the BTC sample, replayed at 5 ms a candle; A's and B's sockets
    subscribed before activation record everything."""
    srv = start(tmp_path_factory, replay_env(BTC, "BTC/USDT", "1m", REPLAY_FROM, speed="12000"),
                candles=[(BTC, "BTC/USDT", "1m")])
    try:
        api = srv.client
        a, b = account(api, "paper-a"), account(api, "paper-b")

        def portfolio(user, name):
            r = api.post("/api/v1/portfolios", headers=user.h,
                         json={"name": name, "base_currency": "USD", "initial_balance": "10000"})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        pid, pid_a2, pid_b = portfolio(a, "paper"), portfolio(a, "other"), portfolio(b, "paper")
        doc = example("mean_reversion_btc.json", timeframe="1m")
        doc["risk_management"]["max_trades_per_day"] = 1
        r = api.post("/api/v1/strategies", headers=a.h, json=doc)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

        s = run(record_session(srv, a, b, pid, pid_a2, sid, pid_b), timeout=150)
        s.srv, s.a, s.b_user, s.pid, s.pid_a2, s.pid_b, s.sid = srv, a, b, pid, pid_a2, pid_b, sid
        s.orders = rest_pages(api, a.h, f"/api/v1/portfolios/{pid}/trades")
        s.equity = rest_pages(api, a.h, f"/api/v1/portfolios/{pid}/equity")
        s.refusals = rest_pages(api, a.h, f"/api/v1/strategies/{sid}/refusals")
        with open(BTC) as f:
            s.candles = [row for row in json.load(f) if row[0] >= to_ms(REPLAY_FROM)]
        yield s
    finally:
        srv.stop()


def test_paper_trades_arrive_as_placed_filled_and_cancelled(session):
    s = session
    trades = s.a_private.events("trade")
    assert any(t["status"] == "filled" for t in trades), trades
    assert s.orders, "the session must trade"
    keys = {"trade_id", "portfolio_id", "strategy_id", "symbol", "side", "order_type", "quantity", "price", "status",
            "commission", "timestamp"}
    for t in trades:
        assert set(t) == keys, t
        assert t["portfolio_id"] == s.pid and t["strategy_id"] == s.sid and t["symbol"] == "BTC/USDT", t
        assert t["side"] in ("BUY", "SELL") and t["status"] in ("open", "filled", "cancelled"), t
        assert is_decimal_string(t["quantity"]) and is_decimal_string(t["commission"]), t
        assert is_decimal_string(t["price"]) or (t["price"] is None and t["order_type"] == "MARKET"
                                                 and t["status"] != "filled"), t
        assert ISO.match(t["timestamp"]), t
    by_id = {}
    for t in trades:
        by_id.setdefault(t["trade_id"], []).append(t)
    assert set(by_id) == {o["id"] for o in s.orders}, "every stored order, and only those, had its events"
    for o in s.orders:
        evs = by_id[o["id"]]
        last = evs[-1]
        assert last["status"] == o["status"], (o, evs)
        assert (last["side"], last["order_type"]) == (o["side"], o["order_type"]), (o, last)
        statuses = [e["status"] for e in evs]
        assert statuses.count("filled") <= 1 and statuses.count("cancelled") <= 1, statuses
        assert all(st == "open" for st in statuses[:-1]), ("an event after the order ended", statuses)
        if o["status"] == "filled":
            assert Decimal(last["price"]) == Decimal(o["filled_price"]), (o, last)
            assert Decimal(last["quantity"]) == Decimal(o["filled_quantity"]), (o, last)
            assert Decimal(last["commission"]) == Decimal(o["commission"]), (o, last)
            assert to_ms(last["timestamp"]) == to_ms(o["filled_at"]), (o, last)
        if o["order_type"] in ("STOP_LOSS", "TAKE_PROFIT"):
            assert statuses[0] == "open", (o, statuses)  # a protective order is placed before it fills
            assert Decimal(evs[0]["price"]) == Decimal(o["price"]), (o, evs[0])


def test_paper_portfolio_updates_follow_the_equity_curve(session):
    s = session
    ups = s.a_private.events("portfolio")
    assert ups, "no portfolio update"
    points = {to_ms(p["time"]): p for p in s.equity}
    for u in ups:
        assert set(u) == {"portfolio_id", "currency", "cash_balance", "positions_value", "equity_value",
                          "timestamp"}, u
        assert u["portfolio_id"] == s.pid and u["currency"] == "USD", u
        for k in ("cash_balance", "positions_value", "equity_value"):
            assert is_decimal_string(u[k]), u
        assert Decimal(u["cash_balance"]) + Decimal(u["positions_value"]) == Decimal(u["equity_value"]), u
        assert ISO.match(u["timestamp"]), u
        p = points.get(to_ms(u["timestamp"]))
        assert p is not None, f"no equity point at {u['timestamp']}"
        assert (Decimal(u["cash_balance"]), Decimal(u["equity_value"])) == \
            (Decimal(p["cash_balance"]), Decimal(p["equity_value"])), (u, p)
    times = [to_ms(u["timestamp"]) for u in ups]
    assert times == sorted(times), "portfolio updates out of order"
    # an update after each change: every cash balance the equity curve went through was reported
    changed = {Decimal(p["cash_balance"]) for p in s.equity} - {Decimal("10000")}
    assert changed and changed <= {Decimal(u["cash_balance"]) for u in ups}
    last = s.equity[-1]
    assert Decimal(ups[-1]["equity_value"]) == Decimal(last["equity_value"]), (ups[-1], last)
    # the other portfolio of A's had no change, so its subscription saw nothing
    assert s.a_by_id.events("portfolio") == []


def test_paper_strategy_events_are_the_signals_and_refusals(session):
    s = session
    evs = s.a_private.events("strategy")
    assert evs, "no strategy event"
    for e in evs:
        assert e["strategy_id"] == s.sid and e["symbol"] == "BTC/USDT" and e["event"] in ("signal", "refused"), e
        assert ISO.match(e["timestamp"]), e
        assert isinstance(e.get("detail"), str), e
        if e["event"] == "signal":
            assert e["side"] in ("BUY", "SELL"), e
        else:
            assert isinstance(e.get("reason"), str) and e["reason"], e
    refused = [e for e in evs if e["event"] == "refused"]
    signals = [e for e in evs if e["event"] == "signal"]
    # each refusal stored for the run, with its rule (the stored kind) and detail, and only those
    assert len(refused) == len(s.refusals) > 0, (len(refused), len(s.refusals))
    assert sorted((to_ms(e["timestamp"]), e["reason"], e["detail"]) for e in refused) == \
        sorted((to_ms(r["time"]), r["kind"], r["detail"]) for r in s.refusals), (refused[:2], s.refusals[:2])
    assert all("max_trades_per_day" in e["reason"] + e["detail"] for e in refused), refused[:3]
    # each market order the strategy placed came from a signal of its side at that candle
    placed = [o for o in s.orders if o["order_type"] == "MARKET"]
    assert placed
    sig = {(to_ms(e["timestamp"]), e["side"]) for e in signals}
    assert all((to_ms(o["created_at"]), o["side"]) in sig for o in placed), (signals, placed)
    # the by-id subscription saw the same events; a socket subscribed to all of A's strategies and
    # to this one by id (and to trade twice) got each event once
    assert s.a_by_id.events("strategy") == evs
    assert s.a_both.events("strategy") == evs
    assert s.a_both.events("trade") == s.a_private.events("trade")


def test_ticker_from_the_replayed_feed(session):
    s = session
    closes = {row[0] + 60000: row[4] for row in s.candles}  # a ticker's time: its candle's end
    ticks = s.a_market.events("ticker")
    assert ticks, "no ticker event"
    for t in ticks:
        assert set(t) == {"symbol", "price", "change_24h_pct", "timestamp"}, t
        assert t["symbol"] == "BTC/USDT" and ISO.match(t["timestamp"]), t
        ms = to_ms(t["timestamp"])
        assert ms in closes, t
        assert market_value(t["price"]) == Decimal(repr(closes[ms])), (t, closes[ms])
        assert t["change_24h_pct"] is None or isinstance(t["change_24h_pct"], (int, float)), t
    times = [to_ms(t["timestamp"]) for t in ticks]
    assert times == sorted(times) and len(set(times)) == len(times), "ticks out of order or repeated"
    assert times[-1] == s.candles[-1][0] + 60000, "the last tick is the last close"
    assert len(ticks) >= len(s.candles) // 10, "ticks coalesce only while a client is behind"
    # a pair that is not fed: nothing
    assert s.b_market.events("ticker") == []


def test_candles_from_the_replayed_feed_closed_and_forming(session):
    s = session
    want = {row[0]: row for row in s.candles}
    ones = [c for c in s.a_market.events("candles") if c["timeframe"] == "1m"]
    fives = [c for c in s.a_market.events("candles") if c["timeframe"] == "5m"]

    def check(c, row):
        assert set(c) == {"symbol", "timeframe", "time", "open", "high", "low", "close", "volume", "closed"}, c
        assert c["symbol"] == "BTC/USDT" and ISO.match(c["time"]), c
        got = [market_value(c[k]) for k in ("open", "high", "low", "close")]
        assert got == [Decimal(repr(x)) for x in row[1:5]], (c, row)
        vol = Decimal(repr(row[5]))
        assert abs(market_value(c["volume"]) - vol) <= Decimal("1e-8") * max(1, vol), (c, row)

    # The feed's own timeframe: every candle, closed, once, in order.
    assert [to_ms(c["time"]) for c in ones] == [row[0] for row in s.candles], "each 1m candle once, in order"
    for c in ones:
        assert c["closed"] is True, c
        check(c, want[to_ms(c["time"])])
    # 5m: forming (closed false) while the feed closes its minutes, then closed once.
    assert any(not c["closed"] for c in fives), "no forming 5m candle"
    buckets = {}
    for row in s.candles:
        buckets.setdefault(row[0] - row[0] % 300000, []).append(row)
    closed_times = [to_ms(c["time"]) for c in fives if c["closed"]]
    assert closed_times == sorted(buckets), "each 5m candle closed once, in order"
    done = set()
    for c in fives:
        t = to_ms(c["time"])
        assert t in buckets and t not in done, ("an update after the close", c)
        rows = buckets[t]
        if c["closed"]:
            done.add(t)
            part = rows
        else:
            # the forming candle: the bucket's first k minutes (all of them when the feed has a gap
            # at the bucket's end: its close is known only when the next bucket's minute comes)
            part = next((rows[:k] for k in range(1, len(rows) + 1)
                         if market_value(c["close"]) == Decimal(repr(rows[k - 1][4]))
                         and market_value(c["high"]) == max(Decimal(repr(r[2])) for r in rows[:k])
                         and market_value(c["low"]) == min(Decimal(repr(r[3])) for r in rows[:k])
                         and abs(market_value(c["volume"]) - sum(Decimal(repr(r[5])) for r in rows[:k]))
                         <= Decimal("1e-6")), None)
            assert part is not None, ("a forming candle that is no prefix of its minutes", c, rows)
        agg = [t, part[0][1], max(r[2] for r in part), min(r[3] for r in part), part[-1][4], sum(r[5] for r in part)]
        check(c, agg)


def test_paper_events_never_reach_another_user(session):
    s = session
    answers = s.answers[id(s.b)]
    assert [m["channel"] for m in answers[:4]] == ["ack"] * 4, answers
    # B asking for A's strategy by id: an error or an ack; for A's portfolio: 404 as if missing
    assert answers[4]["channel"] == "ack" or answers[4]["data"]["code"] in (404, 422), answers[4]
    assert answers[5]["channel"] == "error" and answers[5]["data"]["code"] == 404, answers[5]
    events = [m for m in s.b.msgs if m["channel"] not in ("ack", "error")]
    assert events == [], events[:5]
    # while A's arrived at A
    assert s.a_private.events("trade") and s.a_private.events("portfolio") and s.a_private.events("strategy")


def test_event_times_are_iso_utc_with_milliseconds_only_when_not_0(session):
    """The page: "Times are ISO 8601 UTC, with milliseconds when they are not 0": every event's
    time and the auth ack's expires_at (whole minutes and seconds here: no ".000")."""
    s = session
    bad = []
    for c in (s.a_private, s.a_market):
        for m in [c.ws.auth_ack] + c.msgs:
            for k in ("timestamp", "time", "expires_at"):
                v = m["data"].get(k)
                if k in m["data"] and not (isinstance(v, str) and ISO.match(v) and not v.endswith(".000Z")):
                    bad.append((m["channel"], k, v))
    assert not bad, f"{len(bad)} times not as documented, e.g. {bad[:3]}"


# === Floods from the test publisher ====================================================================

def test_a_client_that_stops_reading_is_closed_1013_and_the_others_miss_nothing(srv, api):
    """Trade events for one user at 2,000 a second for 3 s: that user's socket that never reads
    (a raw socket with a small receive buffer) is closed with 1013, while their socket that reads
    gets every event in order; another user's trade subscription gets none."""
    user, other = account(api, "flood"), account(api, "flood-other")
    slow = raw_authed(srv, user, rcvbuf=4096)
    slow.send_json({"action": "subscribe", "channel": "trade"})
    kind, msg = slow.recv()
    assert kind == "text" and msg["channel"] == "ack", msg
    rate, seconds = 2000, 6

    async def body():
        fast = Collector(await authed(srv, user))
        await fast.ws.send(json.dumps({"action": "subscribe", "channel": "trade"}))
        bystander = Collector(await authed(srv, other))
        await bystander.ws.send(json.dumps({"action": "subscribe", "channel": "trade"}))
        for c in (fast, bystander):
            await c.wait(lambda c: any(m["channel"] == "ack" for m in c.msgs), 5, "the ack")
        await asyncio.to_thread(publish, srv, {"trades": [{"user_id": user.id}], "trade_rate_hz": rate,
                                               "seconds": seconds})
        await asyncio.sleep(seconds)
        # then until nothing more comes for a second
        n = -1
        while n != len(fast.msgs):
            n = len(fast.msgs)
            await asyncio.sleep(1.0)
        assert not fast.task.done(), f"the fast socket was closed: {fast.ws.close_code} {fast.ws.close_reason}"
        await fast.stop()
        await bystander.stop()
        return fast, bystander

    fast, bystander = run(body())
    trades = fast.events("trade")
    assert len(trades) >= rate * seconds * 0.5, f"only {len(trades)} trade events"
    # the publisher numbers its events: none missing, none out of order
    seq = [int(Decimal(t["quantity"])) for t in trades]
    assert seq == list(range(seq[0], seq[0] + len(seq))), "a trade event missing or out of order"
    assert seq[0] == 1, seq[:3]
    assert len({t["trade_id"] for t in trades}) == len(trades)
    assert bystander.events("trade") == []
    # The one that never read: closed with 1013 "too slow: ..." (its close frame after the events
    # it did get), or, if even the close frame could not be written, the connection ended.
    deadline = time.monotonic() + 15
    code = None
    while time.monotonic() < deadline:
        try:
            got = slow.recv(timeout=max(0.01, deadline - time.monotonic()))
        except Closed:
            break
        except TimeoutError:
            pytest.fail("the slow socket is still open 15 s after the flood")
        if got[0] == "close":
            code, reason = got[1], got[2]
            assert code == 1013 and reason.startswith("too slow"), (code, reason)
            break
    else:
        pytest.fail("the slow socket is still open 15 s after the flood")
    slow.close()
    assert code in (1013, None)


def test_published_ticker_and_portfolio_events_go_to_their_subscribers_only(srv, api):
    user, other = account(api, "pub"), account(api, "pub-other")
    pid = api.post("/api/v1/portfolios", headers=user.h,
                   json={"name": "one", "base_currency": "USD", "initial_balance": "1000"}).json()["id"]
    pid2 = api.post("/api/v1/portfolios", headers=user.h,
                    json={"name": "two", "base_currency": "USD", "initial_balance": "1000"}).json()["id"]
    pid_other = api.post("/api/v1/portfolios", headers=other.h,
                         json={"name": "x", "base_currency": "USD", "initial_balance": "1000"}).json()["id"]

    async def body():
        one = Collector(await authed(srv, user))
        two = Collector(await authed(srv, user))
        theirs = Collector(await authed(srv, other))
        subs = [(one, {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid}),
                (one, {"action": "subscribe", "channel": "ticker", "symbols": ["ETH/USDT"]}),
                (two, {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid2}),
                (two, {"action": "subscribe", "channel": "ticker", "symbols": ["XRP/USDT"]}),
                (theirs, {"action": "subscribe", "channel": "portfolio", "portfolio_id": pid_other}),
                (theirs, {"action": "subscribe", "channel": "trade"})]
        for c, req in subs:
            await c.ws.send(json.dumps(req))
        for c, n in ((one, 2), (two, 2), (theirs, 2)):
            await c.wait(lambda c, n=n: len([m for m in c.msgs if m["channel"] == "ack"]) == n, 5, "the acks")
        await asyncio.to_thread(publish, srv, {"symbols": ["ETH/USDT", "BTC/USDT"], "rate_hz": 10, "seconds": 2,
                                               "portfolios": [{"portfolio_id": pid, "user_id": user.id}],
                                               "portfolio_rate_hz": 5})
        await one.wait(lambda c: len(c.events("ticker")) >= 5 and len(c.events("portfolio")) >= 3, 5,
                       "ticker and portfolio events")
        # unsubscribed: no more of them
        await one.ws.send(json.dumps({"action": "unsubscribe", "channel": "ticker", "symbols": ["ETH/USDT"]}))
        await one.wait(lambda c: len([m for m in c.msgs if m["channel"] == "ack"]) == 3, 5, "the ack")
        n = len(one.events("ticker"))
        await asyncio.sleep(2.5)
        assert len(one.events("ticker")) == n, "ticker events after unsubscribing"
        for c in (one, two, theirs):
            await c.stop()
        return one, two, theirs

    one, two, theirs = run(body())
    for t in one.events("ticker"):
        assert t["symbol"] == "ETH/USDT" and market_value(t["price"]) > 0 and ISO.match(t["timestamp"]), t
    for p in one.events("portfolio"):
        assert p["portfolio_id"] == pid and ISO.match(p["timestamp"]), p
        for k in ("cash_balance", "positions_value", "equity_value"):
            assert is_decimal_string(p[k]), p
    assert [m for m in two.msgs if m["channel"] != "ack"] == []
    assert [m for m in theirs.msgs if m["channel"] != "ack"] == []


# === Frames and JSON ===================================================================================

def test_malformed_json_is_an_error_and_the_socket_stays_open(srv, api):
    user = account(api, "badjson")
    ws = raw_authed(srv, user)
    for text in ("not json", "{\"action\": ", "[1, 2]", "\"subscribe\"", "42", "null", ""):
        ws.send_frame(1, text)
        got = ws.answer()
        assert got[0] == "text" and got[1]["channel"] == "error" and got[1]["data"]["code"] == 400, (text, got)
    # a fragmented message is one message
    ws.send_frame(1, '{"action": "subscribe", ', fin=False)
    ws.send_frame(0, '"channel": "trade", "id": "frag"}')
    got = ws.answer()
    assert got[0] == "text" and got[1] == {"channel": "ack", "data": {"action": "subscribe", "channel": "trade",
                                                                       "id": "frag"}}, got
    # a ping is answered with its payload
    ws.send_frame(9, b"are you there")
    assert ws.recv() == ("pong", b"are you there")
    # a message of exactly 4 KiB is still a message (JSON whitespace makes the size)
    body = json.dumps({"action": "subscribe", "channel": "trade", "id": 4096})
    ws.send_frame(1, body[:-1] + " " * (4096 - len(body)) + "}")
    got = ws.answer()
    assert got[0] == "text" and got[1]["channel"] == "ack" and got[1]["data"]["id"] == 4096, got
    # the client's close is echoed
    ws.send_frame(8, struct.pack("!H", 1000) + b"bye")
    got = ws.recv()
    assert got[0] == "close" and got[1] == 1000, got
    ws.close()


def test_a_long_string_id_is_echoed_or_refused_never_dropped(srv, api):
    """The page: an optional "id" (string or integer) is echoed in the answer. It sets no length;
    a server may refuse a long one (422, field id) but must not answer as if none was given."""
    user = account(api, "longid")
    ws = raw_authed(srv, user)
    for n in (79, 80, 100, 1000):
        ws.send_json({"action": "subscribe", "channel": "trade", "id": "i" * n})
        got = ws.answer()
        assert got[0] == "text", got
        data = got[1]["data"]
        if got[1]["channel"] == "ack":
            assert data.get("id") == "i" * n, f"an id of {n} characters was not echoed: {data}"
        else:
            assert data["code"] == 422 and data.get("field") == "id", data
    ws.close()


def test_a_binary_frame_is_refused(srv, api):
    user = account(api, "binary")
    ws = raw_authed(srv, user)
    ws.send_frame(2, json.dumps({"action": "subscribe", "channel": "trade"}).encode())
    got = ws.answer()
    if got[0] == "close":
        assert got[1] == 1003, got
    else:
        assert got[0] == "text" and got[1]["channel"] == "error" and got[1]["data"]["code"] == 400, got
        ws.send_json({"action": "subscribe", "channel": "trade", "id": 1})
        assert ws.answer()[1]["channel"] == "ack", "the socket must stay open after the error"
    ws.close()


def test_invalid_utf8_closes_1007(srv, api):
    user = account(api, "utf8")
    ws = raw_authed(srv, user)
    ws.send_frame(1, b'{"action": "subscribe", "channel": "\xff\xfe"}')
    code, reason, _ = ws.expect_close()
    assert code == 1007, (code, reason)
    ws.close()


def test_a_message_over_4_kib_closes_1009(srv, api):
    user = account(api, "big")
    ws = raw_authed(srv, user)
    req = {"action": "subscribe", "channel": "trade", "id": "x" * 5000}
    ws.send_json(req)
    code, reason, _ = ws.expect_close()
    assert code == 1009, (code, reason)
    ws.close()
    # the same size in fragments
    ws = raw_authed(srv, user)
    text = json.dumps(req)
    ws.send_frame(1, text[:3000], fin=False)
    ws.send_frame(0, text[3000:])
    code, reason, _ = ws.expect_close()
    assert code == 1009, (code, reason)
    ws.close()


def test_an_unmasked_client_frame_closes_1002(srv, api):
    user = account(api, "unmasked")
    ws = raw_authed(srv, user)
    ws.send_frame(1, json.dumps({"action": "subscribe", "channel": "trade"}), mask=False)
    code, reason, seen = ws.expect_close()
    assert code == 1002, (code, reason)
    assert not any(m[0] == "text" and m[1]["channel"] == "ack" for m in seen), "the unmasked frame was obeyed"
    ws.close()


def test_a_client_offering_compression_still_gets_events(srv, api):
    """A default client offers permessage-deflate: whatever the server answers must work."""
    user = account(api, "deflate")

    async def body():
        ws = await websockets.connect(ws_url(srv, user.token), open_timeout=5, close_timeout=2)
        msg = await recv(ws)
        assert msg["channel"] == "ack" and msg["data"]["user_id"] == user.id
        await ack(ws, {"action": "subscribe", "channel": "trade"})
        await ws.close()

    run(body())


# === Origin ===============================================================================================

def upgraded(srv, origin=None):
    """The handshake's status with that Origin (None: no Origin header)."""
    ws = handshake(srv, headers={"Origin": origin} if origin else None)
    if isinstance(ws, RawWS):
        ws.close()
        return 101
    return ws.status


def test_origin_is_checked_against_cors_origins(srv, api, tmp_path_factory):
    host, port = hostport(srv)
    assert upgraded(srv, ALLOWED_ORIGIN) == 101
    assert upgraded(srv, OTHER_ORIGIN) == 403
    assert upgraded(srv, "http://evil.example") == 403
    assert upgraded(srv, f"http://{host}:{port}") == 101  # its own origin
    assert upgraded(srv) == 101  # no Origin: not a browser, not checked
    user = account(api, "origin")

    async def body():
        with pytest.raises(InvalidStatusCode) as e:
            await connect(srv, user.token, origin="http://evil.example")
        assert e.value.status_code == 403
        ws = await connect(srv, user.token, origin=ALLOWED_ORIGIN)
        assert (await recv(ws))["data"]["user_id"] == user.id
        await ws.close()

    run(body())
    # No CORS_ORIGINS: only the server's own origin (and clients without one).
    bare = start(tmp_path_factory, {"CORS_ORIGINS": ""})
    try:
        host, port = hostport(bare)
        assert upgraded(bare, "http://evil.example") == 403
        assert upgraded(bare, ALLOWED_ORIGIN) == 403
        assert upgraded(bare, f"http://{host}:{port}") == 101
        assert upgraded(bare) == 101
    finally:
        bare.stop()
    anyone = start(tmp_path_factory, {"CORS_ORIGINS": "*"})
    try:
        assert upgraded(anyone, "http://evil.example") == 101
    finally:
        anyone.stop()


# === Capacity =============================================================================================

def test_sockets_beyond_http_max_connections_get_503_and_rest_keeps_answering(tmp_path_factory):
    """An open socket is the hub's alone (libmicrohttpd lets go of its connection at the upgrade):
    16 sockets under HTTP_MAX_CONNECTIONS=16 leave the REST API answering, where libmicrohttpd
    itself refuses new connections past 95 % of it; the 17th upgrade is refused with 503."""
    s = start(tmp_path_factory, {"HTTP_MAX_CONNECTIONS": "16"})
    try:
        user = account(s.client, "capacity")

        async def body():
            held = [await authed(s, user) for _ in range(16)]
            for _ in range(20):  # fresh connections, each one more than libmicrohttpd would take
                r = await asyncio.to_thread(lambda: httpx.get(s.base + "/healthz", timeout=5))
                assert r.status_code == 200
            with pytest.raises(InvalidStatusCode) as e:
                await connect(s, user.token)
            assert e.value.status_code == 503
            r = await asyncio.to_thread(lambda: httpx.get(
                s.base + WS_PATH, timeout=5, headers={
                    "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(), **user.h}))
            assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
            assert r.json()["code"] == 503 and "HTTP_MAX_CONNECTIONS" in r.json()["detail"]
            assert r.headers["retry-after"] == "5"
            await held[0].close()
            for _ in range(50):  # its place is free once the hub has let the socket go
                try:
                    ws = await connect(s, user.token)
                    break
                except InvalidStatusCode as e:
                    assert e.status_code == 503
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("a closed socket's place never came free")
            assert (await recv(ws))["data"]["user_id"] == user.id
            for w in held[1:] + [ws]:
                await w.close()

        run(body())
    finally:
        s.stop()


# === Shutdown =============================================================================================

def test_shutdown_closes_every_socket_with_1001(tmp_path_factory):
    s = start(tmp_path_factory, {})
    try:
        user = account(s.client, "shutdown")
        run(shutdown_body(s, user), timeout=30)
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


async def shutdown_body(s, user):
    a = await authed(s, user)
    b = await connect(s)  # not yet authenticated
    await ack(a, {"action": "subscribe", "channel": "trade"})
    stopping = asyncio.ensure_future(asyncio.to_thread(s.stop))
    for ws in (a, b):
        c, reason, _ = await closed(ws, timeout=10)
        assert c == 1001 and reason == "server shutting down", (c, reason)
    await stopping  # exit status 0 within 10 s, checked by stop()
