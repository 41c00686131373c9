"""Requests whose framing or encoding is ambiguous, on raw sockets (httpx would refuse to send
them). RFC 9112 section 6.3: a server that guesses a body's length differently from a proxy in front
of it lets one request hide inside another, so every ambiguous framing is refused with exactly one
400 and the connection closed. Bytes that are not UTF-8 in the path must not turn into a 500 or
an invalid JSON log line."""
import json
import socket
import time

import pytest


def raw(server, data, timeout=3.0, body_chunks=()):
    """Sends data (then each of body_chunks), reads until the server closes; returns the bytes."""
    host, port = server.base.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        for chunk in body_chunks:
            s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the client finished: what we want
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def one_problem(reply, status):
    """Exactly one HTTP response, with status, a problem+json body, and Connection: close."""
    assert reply.count(b"HTTP/1.1 ") == 1, reply
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith(f"HTTP/1.1 {status} "), reply
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    assert headers.get("content-type") == "application/problem+json", reply
    assert headers.get("connection", "").lower() == "close", reply
    doc = json.loads(body[: int(headers["content-length"])])
    assert doc["status"] == status and doc["code"] == status and doc["detail"], doc
    return doc


def log_is_json(server):
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            json.loads(line)  # raises on an invalid line


LOGIN = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
BODY = b'{"email":"a@example.com","password":"x"}'


@pytest.mark.parametrize("headers, body", [
    # two lengths that disagree: the server took the first, a proxy may take the last
    (b"Content-Length: 2\r\nContent-Length: %d\r\n" % len(BODY), BODY),
    # two equal lengths are still two (RFC 9112 allows merging; refusing is the safe reading)
    (b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(BODY), len(BODY)), BODY),
    # a length and chunked together: the classic CL.TE smuggling shape
    (b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)),
    # a coding this server does not implement
    (b"Transfer-Encoding: gzip\r\n", BODY),
    (b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n"),
])
def test_ambiguous_framing_gets_one_400_and_close(server, headers, body):
    reply = raw(server, LOGIN + headers + b"\r\n" + body)
    one_problem(reply, 400)
    assert server.proc.poll() is None
    assert server.client.get("/healthz").status_code == 200
    log_is_json(server)


@pytest.mark.xfail(strict=True, reason="libmicrohttpd 0.9.75 (Debian 12) answers an invalid Content-Length "
                   "itself and writes its 400 header block twice; our handler is never called (see the "
                   "docstring). Behind nginx the request never reaches us.")
def test_negative_content_length_gets_one_reply(server):
    """Both status lines are libmicrohttpd's, and no callback of ours runs in between, so nothing
    outside the library can stop the second one (checked on the 0.9.75 source, connection.c):

    1. MHD_connection_handle_idle(), state MHD_CONNECTION_HEADERS_RECEIVED (line 4538), calls
       parse_connection_headers(). MHD_str_to_uint64_n_() reads no digit of "-5", so it calls
       transmit_error_response_static(400, REQUEST_CONTENTLENGTH_MALFORMED) (line 3636).
    2. transmit_error_response_len() queues the 400, sets keepalive to MUST_CLOSE, runs
       build_header_response() (status line and headers into the write buffer) and sets the state
       to MHD_CONNECTION_HEADERS_SENDING (lines 2343-2388).
    3. Back at line 4542 the state is only checked for MHD_CONNECTION_CLOSED, then overwritten with
       MHD_CONNECTION_HEADERS_PROCESSED.
    4. call_connection_handler() returns at once because a response is queued (line 3066): our
       access handler (server.c on_request) is never invoked, so there is no call in which it could
       return MHD_NO or refrain from queueing; the request leaves no access log line either.
    5. With a response queued and nothing left to upload the state goes to FULL_REQ_RECEIVED, then
       START_REPLY (line 4681), whose build_header_response() appends the same header block again;
       the 138-byte HTML body follows once and the connection is closed.

    The callbacks that do run earlier (accept policy, connection notification, URI log) see no
    headers. The client gets 400 twice and a close: no request is smuggled, it is only untidy.
    nginx in front refuses such a request itself; a libmicrohttpd that fixes step 3 turns this
    test into an XPASS, which fails the suite so the mark comes off."""
    reply = raw(server, LOGIN + b"Content-Length: -5\r\n\r\n{}")
    assert reply.count(b"HTTP/1.1 ") == 1, reply


@pytest.mark.parametrize("path", [b"/api/v1/\xff\xfe", b"/api/v1/strategies/\xc0\xaf", b"/%ff%fe",
                                  b"/api/v1/strategies/%ed%a0%80"])
def test_path_that_is_not_utf8_is_a_400_problem(server, path):
    reply = raw(server, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    doc = one_problem(reply, 400)
    assert "UTF-8" in doc["detail"]
    assert server.client.get("/healthz").status_code == 200
    log_is_json(server)  # the access log line for the request is still valid JSON


def test_query_that_is_not_utf8_is_a_400_problem(server):
    r = server.client.get("/api/v1/market/symbols?exchange=%ff%fe")
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    assert "UTF-8" in r.json()["detail"]
    log_is_json(server)


def test_chunked_body_past_the_limit_gets_413(server):
    # Login takes 32 KiB: a chunked body has no length to refuse up front; from the byte past the
    # limit it is dropped (up to 16 MiB read in all) and answered at its end.
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
    reply = raw(server, LOGIN + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", timeout=10,
                body_chunks=[chunk] * 3 + [b"0\r\n\r\n"])
    doc = one_problem(reply, 413)
    assert "larger than" in doc["detail"]
    assert server.client.get("/healthz").status_code == 200


def test_declared_length_past_the_limit_gets_413(server):
    reply = raw(server, LOGIN + b"Content-Length: %d\r\n\r\n" % (64 << 20))
    one_problem(reply, 413)
