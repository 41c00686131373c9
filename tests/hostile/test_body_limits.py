"""Body limits per route kind: every route took 1 MiB (a login as much as a strategy document),
and a body was buffered whole before it was refused. Each kind now has its own limit, read from
`apextrade serve --routes` (small bodies 32 KiB, backtest submissions 64 KiB, strategy and rule
documents 512 KiB), and every body over it gets one 413 problem+json: at once when the client
waits for our word (Expect: 100-continue) or declares more than the 16 MiB we are willing to read
and drop; else when the body has arrived, since libmicrohttpd 0.9.75 cannot answer in the middle of
one (a client still sending would see a reset instead)."""
import json
import os
import socket
import subprocess
import time

import pytest

from conftest import BIN, assert_problem, signed_in

KIB = 1024
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def limits():
    out = subprocess.run([BIN, "serve", "--routes"], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        method, pattern, _, body_max = line.split()
        table[(method, pattern)] = int(body_max)
    return table


def test_each_route_kind_has_its_limit():
    t = limits()
    assert t[("POST", "/api/v1/auth/login")] == 32 * KIB
    assert t[("PATCH", "/api/v1/auth/me")] == 32 * KIB
    assert t[("POST", "/api/v1/portfolios")] == 32 * KIB
    assert t[("POST", "/api/v1/backtests")] == 64 * KIB
    for route in [("POST", "/api/v1/strategies"), ("PUT", "/api/v1/strategies/{id}"), ("POST", "/api/v1/rules"),
                  ("PUT", "/api/v1/rules/{id}"), ("POST", "/api/v1/rules/validate")]:
        assert t[route] == 512 * KIB, route
    assert t[("GET", "/api/v1/strategies")] == 32 * KIB  # routes without a body take the small limit


def padded(doc, size):
    """doc with a "padding" string making its JSON text exactly size bytes."""
    doc = dict(doc, padding="")
    doc["padding"] = "x" * (size - len(json.dumps(doc)))
    text = json.dumps(doc).encode()
    assert len(text) == size
    return text


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("path, limit", [("/api/v1/auth/login", 32 * KIB), ("/api/v1/auth/register", 32 * KIB)])
def test_small_bodies_over_their_limit_get_413(server, path, limit):
    c = server.client
    body = padded({"email": "big@example.com", "password": "correct horse battery"}, limit + 1)
    doc = assert_problem(c.post(path, content=body, headers=JSON), 413)
    assert str(limit) in doc["detail"], doc
    # At the limit the request goes through to the handler (which refuses the unknown field or
    # the credentials, but not for size).
    r = c.post(path, content=padded({"email": "big@example.com", "password": "x"}, limit), headers=JSON)
    assert r.status_code != 413, r.text


def test_documents_and_submissions_have_their_own_limits(server):
    c = server.client
    h = dict(signed_in(c, "limits@example.com"), **JSON)
    with open(os.path.join(ROOT, "examples", "rsi_mean_reversion.json")) as f:
        strategy = dict(json.load(f), description="")
    # A document of 512 KiB + 1 byte is refused; one of exactly 512 KiB is stored.
    for size, status in ((512 * KIB + 1, 413), (512 * KIB, 201)):
        doc = dict(strategy, description="d" * (size - len(json.dumps(strategy))))
        r = c.post("/api/v1/strategies", content=json.dumps(doc), headers=h)
        assert r.status_code == status, (size, r.text[:300])
    r = c.post("/api/v1/rules/validate", content=padded({"name": "r"}, 512 * KIB + 1), headers=h)
    assert_problem(r, 413)
    # A backtest submission is a strategy id and settings: 64 KiB.
    assert_problem(c.post("/api/v1/backtests", content=padded({"strategy_id": "x"}, 64 * KIB + 1), headers=h), 413)
    r = c.post("/api/v1/backtests", content=padded({"strategy_id": "x"}, 64 * KIB), headers=h)
    assert r.status_code != 413, r.text


def connect(server, timeout=5.0):
    host, port = server.base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_reply(s, deadline_s=5.0):
    out = b""
    deadline = time.monotonic() + deadline_s
    try:
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    return out


def problem_of(reply, status):
    assert reply.count(b"HTTP/1.1 ") == 1, reply
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), reply
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in head.decode("latin-1").split("\r\n")[1:])}
    assert headers["content-type"] == "application/problem+json", reply
    doc = json.loads(body[: int(headers["content-length"])])
    assert doc["status"] == status and doc["code"] == status, doc
    return doc


LOGIN = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def test_declared_length_over_the_limit_is_answered_before_the_body_when_the_client_waits(server):
    # curl sends Expect: 100-continue for large bodies and waits: it gets the 413 instead of a 100,
    # and never sends the body.
    s = connect(server)
    try:
        s.sendall(LOGIN + b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (40 * KIB))
        reply = read_reply(s)
    finally:
        s.close()
    assert b"100 Continue" not in reply, reply
    doc = problem_of(reply, 413)
    assert str(32 * KIB) in doc["detail"]


def test_declared_length_within_the_limit_still_gets_its_100_continue(server):
    s = connect(server)
    try:
        s.sendall(LOGIN + b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue"), "no 100 Continue"
        s.sendall(b"{}")
        reply = read_reply(s, 2)
    finally:
        s.close()
    assert reply.startswith(b"HTTP/1.1 422 "), reply  # login without credentials


def test_body_over_the_limit_is_dropped_and_answered_when_it_ends(server):
    # Without Expect the client sends its body at once: it is read and dropped, then answered, and
    # the connection serves the next request.
    s = connect(server)
    try:
        body = b"x" * (100 * KIB)
        s.sendall(LOGIN + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        reply = head
        while len(reply.partition(b"\r\n\r\n")[2]) < length:
            reply += s.recv(4096)
        problem_of(reply, 413)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_reply(s).startswith(b"HTTP/1.1 200 "), "the connection did not serve the next request"
    finally:
        s.close()


def test_chunked_body_over_a_small_limit_gets_413(server):
    chunk = b"%x\r\n%s\r\n" % (8 * KIB, b"x" * (8 * KIB))
    s = connect(server)
    try:
        s.sendall(LOGIN + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunk * 5 + b"0\r\n\r\n")
        reply = read_reply(s)
    finally:
        s.close()
    doc = problem_of(reply, 413)
    assert str(32 * KIB) in doc["detail"]


def test_chunked_body_past_the_drain_limit_is_cut_and_logged_as_413(server):
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
    s = connect(server, timeout=10)
    sent = 0
    try:
        s.sendall(LOGIN + b"Transfer-Encoding: chunked\r\nX-Request-ID: cut-past-drain\r\n\r\n")
        for _ in range(48):
            s.sendall(chunk)
            sent += 1
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()
    assert sent < 48, "the server read 48 MiB of a body it refuses"
    deadline = time.monotonic() + 5
    line = None
    while time.monotonic() < deadline and line is None:
        line = next((json.loads(x) for x in server.log_text().splitlines()
                     if x.startswith("{") and "cut-past-drain" in x and '"request"' in x), None)
        time.sleep(0.1)
    assert line and line["status"] == 413, server.log_text()[-2000:]
    assert server.client.get("/healthz").status_code == 200
