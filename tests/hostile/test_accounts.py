"""Accounts as an attacker uses them: register hashed the password (Argon2, tens of ms) before
checking the email, with no limit per address; forgot and reset had no limit either; a reset left
the user's other reset links working; production without SMTP_URL put reset tokens in the log."""
import re
import statistics
import subprocess
import time

import httpx

from conftest import BIN, PASSWORD, signed_in

TOKEN_RE = re.compile(r"Reset token \(valid 30 minutes, once\): ([A-Za-z0-9_-]{43})")


def client_from(srv, source):
    return httpx.Client(base_url=srv.base, timeout=10, transport=httpx.HTTPTransport(local_address=source))


def test_register_is_limited_per_address(start_server):
    srv = start_server(env={"ACCOUNT_REQUESTS_PER_MINUTE": "3"})
    with client_from(srv, "127.0.0.2") as c:
        for i in range(3):
            assert c.post("/api/v1/auth/register", json={"email": f"flood{i}@example.com",
                                                         "password": PASSWORD}).status_code == 201
        r = c.post("/api/v1/auth/register", json={"email": "flood3@example.com", "password": PASSWORD})
        assert r.status_code == 429 and r.json()["code"] == 429 and int(r.headers["retry-after"]) >= 1, r.text
    with client_from(srv, "127.0.0.3") as c:  # another address is not held back
        assert c.post("/api/v1/auth/register", json={"email": "other@example.com",
                                                     "password": PASSWORD}).status_code == 201


def test_a_taken_email_is_refused_before_the_password_is_hashed(server):
    c = server.client
    fresh, taken = [], []
    for i in range(6):
        t0 = time.perf_counter()
        assert c.post("/api/v1/auth/register", json={"email": f"t{i}@example.com", "password": PASSWORD}).status_code == 201
        fresh.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        r = c.post("/api/v1/auth/register", json={"email": f"T{i}@example.com", "password": PASSWORD})
        taken.append(time.perf_counter() - t0)
        assert r.status_code == 409, r.text
    # An Argon2id hash (64 MiB, 2 passes) is tens of milliseconds; a lookup is not.
    assert statistics.median(taken) < statistics.median(fresh) / 3, (fresh, taken)


def test_forgot_and_reset_are_limited_per_address(start_server):
    srv = start_server(env={"ACCOUNT_REQUESTS_PER_MINUTE": "3"})
    with client_from(srv, "127.0.0.4") as c:
        for _ in range(3):
            assert c.post("/api/v1/auth/forgot", json={"email": "nobody@example.com"}).status_code == 202
        assert c.post("/api/v1/auth/forgot", json={"email": "nobody@example.com"}).status_code == 429
        for _ in range(3):
            r = c.post("/api/v1/auth/reset", json={"token": "x" * 43, "password": "a brand new passphrase"})
            assert r.status_code == 401, r.text
        # Guessing reset tokens stops here.
        assert c.post("/api/v1/auth/reset", json={"token": "y" * 43,
                                                  "password": "a brand new passphrase"}).status_code == 429


def test_a_reset_revokes_every_other_reset_link_and_every_session(server):
    c = server.client
    signed_in(c, "victim@example.com")
    session = c.post("/api/v1/auth/login", json={"email": "victim@example.com", "password": PASSWORD}).json()
    for _ in range(2):
        assert c.post("/api/v1/auth/forgot", json={"email": "victim@example.com"}).status_code == 202
    deadline = time.monotonic() + 5
    while len(tokens := TOKEN_RE.findall(server.log_text())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    first, second = tokens[-2], tokens[-1]
    assert c.post("/api/v1/auth/reset", json={"token": second, "password": "a brand new passphrase"}).status_code == 204
    # The older link (say, in a forwarded mail) no longer works...
    r = c.post("/api/v1/auth/reset", json={"token": first, "password": "the attacker's choice"})
    assert r.status_code == 401 and r.json()["code"] == 1004, r.text
    # ...and the session opened with the old password is over.
    r = c.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code == 401 and r.json()["code"] == 1004, r.text
    assert c.post("/api/v1/auth/login", json={"email": "victim@example.com",
                                              "password": "a brand new passphrase"}).status_code == 200


def test_production_needs_a_mailer(tmp_path):
    import base64
    import os
    env = {"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path), "APP_ENV": "production",
           "SECRET_KEY": base64.b64encode(os.urandom(32)).decode(), "API_KEY_ENCRYPTION_KEY": os.urandom(32).hex()}
    p = subprocess.run([BIN, "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "SMTP_URL" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
