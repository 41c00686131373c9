"""Logout left the access token valid until it expired (15 minutes), and a password reset left every
open access token valid: a stolen token outlived both. Now a denylist checked with the signature
ends them at once."""
import re
import time

from conftest import PASSWORD, signed_in

TOKEN_RE = re.compile(r"Reset token \(valid 30 minutes, once\): ([A-Za-z0-9_-]{43})")


def login(c, email, password=PASSWORD):
    r = c.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def me(c, tokens):
    return c.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + tokens["access_token"]})


def test_logout_ends_that_access_token_and_no_other(server):
    c = server.client
    signed_in(c, "leaving@example.com")
    a, b = login(c, "leaving@example.com"), login(c, "leaving@example.com")
    assert me(c, a).status_code == 200  # in the verified-token cache now: the denylist must beat it
    r = c.post("/api/v1/auth/logout", json={"refresh_token": a["refresh_token"]},
               headers={"Authorization": "Bearer " + a["access_token"]})
    assert r.status_code == 204, r.text
    for _ in range(3):
        r = me(c, a)
        assert r.status_code == 401 and r.json()["code"] == 1003, r.text
    assert me(c, b).status_code == 200  # the other device's session goes on
    # And the refresh token of the ended session is gone too.
    r = c.post("/api/v1/auth/refresh", json={"refresh_token": a["refresh_token"]})
    assert r.status_code == 401, r.text


def test_a_reset_ends_every_open_access_token(server):
    c = server.client
    signed_in(c, "stolen@example.com")
    thief = login(c, "stolen@example.com")
    assert me(c, thief).status_code == 200
    time.sleep(1.1)  # tokens issued in the very second of the reset stay valid (second resolution)
    assert c.post("/api/v1/auth/forgot", json={"email": "stolen@example.com"}).status_code == 202
    deadline = time.monotonic() + 5
    while not (tokens := TOKEN_RE.findall(server.log_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.post("/api/v1/auth/reset", json={"token": tokens[-1], "password": "a brand new passphrase"}).status_code == 204
    r = me(c, thief)
    assert r.status_code == 401 and r.json()["code"] == 1003, r.text
    time.sleep(1.1)
    owner = login(c, "stolen@example.com", "a brand new passphrase")
    assert me(c, owner).status_code == 200  # the new password's sessions work
