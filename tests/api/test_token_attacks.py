"""The authentication matrix against the running server: a genuinely signed but expired token
(1002), `alg: none`, HS256 signed with the server's public key as the HMAC secret, a token from
another key, a payload edited after signing (all 1003). Tokens are forged here with the server's
own key files from its data directory and the openssl command, the way an attacker with a leaked
public key would try."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

from test_app_flow import api, register, problem  # noqa: F401


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj):
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def claims(user, **kw):
    now = int(time.time())
    c = {"sub": user["id"], "email": user["email"], "iat": now, "exp": now + 600, "type": "access"}
    c.update(kw)
    return c


def rs256(key_path, header, payload):
    signing_input = (segment(header) + "." + segment(payload)).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key_path)], input=signing_input,
                         check=True, capture_output=True).stdout
    return signing_input.decode() + "." + b64(sig)


def me(api, token):  # noqa: F811
    return api.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + token})


def test_forged_and_expired_tokens(api, tmp_path):  # noqa: F811
    tokens = register(api, "matrix@example.com")
    user = me(api, tokens["access_token"]).json()
    data_dir = api.log_path.parent
    priv, pub = data_dir / "jwt_private.pem", data_dir / "jwt_public.pem"
    assert priv.exists() and pub.exists()
    header = {"alg": "RS256", "typ": "JWT"}

    # our own signature, our own format: accepted (proves the forging code is right)
    assert me(api, rs256(priv, header, claims(user))).status_code == 200
    # the same, expired
    expired = claims(user, iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    problem(me(api, rs256(priv, header, expired)), 401, 1002)
    # alg none, with and without a signature part
    none = segment({"alg": "none", "typ": "JWT"}) + "." + segment(claims(user))
    problem(me(api, none + "."), 401, 1003)
    problem(me(api, none + ".c2ln"), 401, 1003)
    # HS256 keyed with the public key PEM: the classic algorithm confusion
    signing_input = segment({"alg": "HS256", "typ": "JWT"}) + "." + segment(claims(user))
    mac = hmac.new(pub.read_bytes(), signing_input.encode(), hashlib.sha256).digest()
    problem(me(api, signing_input + "." + b64(mac)), 401, 1003)
    # another key pair
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(other)],
                   check=True, capture_output=True)
    problem(me(api, rs256(other, header, claims(user))), 401, 1003)
    # a refresh-type token signed by us is still not an access token
    problem(me(api, rs256(priv, header, claims(user, type="refresh"))), 401, 1003)
    # a payload changed after signing
    good = rs256(priv, header, claims(user))
    h, _, s = good.split(".")
    problem(me(api, h + "." + segment(claims(user, sub="00000000-0000-4000-8000-000000000000")) + "." + s), 401, 1003)


def test_metrics_show_jobs_and_database_pool(api):  # noqa: F811
    text = api.get("/metrics").text
    assert 'apex_jobs{state="running"}' in text and 'apex_jobs{state="queued"}' in text
    assert 'apex_db_pool_connections{state="size"}' in text
    assert "apex_http_requests_total{" in text and "apex_http_request_duration_seconds_bucket{" in text
