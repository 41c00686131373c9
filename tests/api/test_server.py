"""The HTTP framework as a client sees it: health, metrics, problem bodies, limits, headers,
request ids, CORS and graceful shutdown."""
import re
import threading
import time

import httpx

from conftest import ALLOWED_ORIGIN, OTHER_ORIGIN, PROBLEM_TYPE_BASE, SECURITY_HEADERS, assert_problem


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_readyz(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] in ("ready", "ok")


def test_head_is_get_without_a_body(client):
    r = client.head("/healthz")
    assert r.status_code == 200
    assert r.content == b""


def test_metrics_count_requests_by_route_and_status(client):
    for _ in range(3):
        client.get("/healthz")
    client.get("/api/v1/no/such/thing")  # outside /api/ a GET is the web UI's when one is built
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "# TYPE apex_http_requests_total counter" in text
    m = re.search(r'^apex_http_requests_total\{route="healthz",method="GET",status="200"\} (\d+)$', text, re.M)
    assert m and int(m.group(1)) >= 3, text
    assert re.search(r'^apex_http_requests_total\{route="unmatched",method="GET",status="404"\} \d+$', text, re.M)
    assert "# TYPE apex_http_request_duration_seconds histogram" in text
    assert re.search(r'^apex_http_request_duration_seconds_bucket\{route="healthz",le="\+Inf"\} \d+$', text, re.M)
    assert re.search(r'^apex_http_request_duration_seconds_count\{route="healthz"\} \d+$', text, re.M)
    # Every sample line is "name{labels} value" or "name value".
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+', line), line


def test_unknown_path_is_a_404_problem(client):
    body = assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert body["type"] == PROBLEM_TYPE_BASE + "not-found"
    assert body["title"] == "Not Found"
    assert body["detail"]


def test_wrong_method_is_a_405_problem_with_allow(client):
    r = client.delete("/healthz")
    body = assert_problem(r, 405)
    assert body["type"] == PROBLEM_TYPE_BASE + "method-not-allowed"
    allow = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "HEAD"} <= allow and "DELETE" not in allow


def test_path_params_and_query_are_decoded(client):
    r = client.get("/api/v1/_test/items/a%20b", params={"q": "x y&z"})
    assert r.status_code == 200
    assert r.json() == {"id": "a b", "q": "x y&z"}
    assert client.get("/api/v1/_test/items/7/").json()["id"] == "7"  # one trailing slash is fine
    assert_problem(client.get("/api/v1/_test/items/7/extra"), 404)


def test_json_body_round_trip(client):
    r = client.post("/api/v1/_test/echo", json={"a": [1, 2, {"b": "c"}]})
    assert r.status_code == 200
    assert r.json() == {"a": [1, 2, {"b": "c"}]}


def test_malformed_json_is_a_400_problem(client):
    r = client.post("/api/v1/_test/echo", content=b'{"a": ', headers={"content-type": "application/json"})
    body = assert_problem(r, 400)
    assert "line" in body["detail"]


# The echo route takes document-sized bodies (512 KiB); tests/hostile/test_body_limits.py has the
# other route kinds.
def test_body_over_the_limit_is_a_413_problem(client):
    r = client.post("/api/v1/_test/echo", content=b"[" + b"1," * (512 * 1024) + b"1]",
                    headers={"content-type": "application/json"})
    assert_problem(r, 413)
    # The connection stays usable for the next request.
    assert client.get("/healthz").status_code == 200


def test_body_of_exactly_the_limit_is_accepted(client):
    body = b'["' + b"x" * (512 * 1024 - 4) + b'"]'
    r = client.post("/api/v1/_test/echo", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert len(r.content) == 512 * 1024


def test_non_json_body_is_a_415_problem(client):
    r = client.post("/api/v1/_test/echo", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415)
    r = client.post("/api/v1/_test/echo", content=b"{}", headers={"content-type": "text/plain"})
    assert_problem(r, 415)
    r = client.post("/api/v1/_test/echo", content=b"{}", headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200


def test_security_headers_on_every_response(client):
    responses = [
        client.get("/healthz"),
        client.get("/metrics"),
        client.get("/nope"),
        client.put("/healthz"),
        client.post("/api/v1/_test/echo", content=b"x", headers={"content-type": "text/plain"}),
        client.options("/healthz"),
    ]
    for r in responses:
        for name, value in SECURITY_HEADERS.items():
            assert r.headers.get(name) == value, (r.request.method, r.request.url, name, r.headers)
        assert r.headers.get("x-request-id")


def test_request_id_is_echoed_when_sane(client):
    assert client.get("/healthz", headers={"x-request-id": "abc-123.X_y:z"}).headers["x-request-id"] == "abc-123.X_y:z"


def test_request_id_is_generated_otherwise(client):
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    for rid in ids:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rid), rid
    for bad in ["a b", "x" * 65, "<script>", ""]:
        rid = client.get("/healthz", headers={"x-request-id": bad}).headers["x-request-id"]
        assert rid != bad and re.fullmatch(r"[0-9a-f-]{36}", rid)


def test_access_log_has_request_fields_and_no_secrets(server, client):
    rid = "log-check-42"
    client.post("/api/v1/_test/echo", json={"password": "hunter2-body"},
                headers={"x-request-id": rid, "authorization": "Bearer sekrit-token", "cookie": "refresh=sekrit-cookie"})
    time.sleep(0.2)
    log = server.log_text()
    line = next(l for l in log.splitlines() if rid in l)
    for field in ('"msg":"request"', '"method":"POST"', '"route":"test.echo"', '"status":200',
                  '"duration_ms":', '"client_ip":"127.0.0.1"', '"time":'):
        assert field in line, line
    for secret in ("hunter2-body", "sekrit-token", "sekrit-cookie"):
        assert secret not in log


def test_cors_allowed_origin(client):
    r = client.get("/healthz", headers={"origin": ALLOWED_ORIGIN})
    assert r.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "Origin" in r.headers.get("vary", "")
    r = client.options("/api/v1/_test/echo", headers={
        "origin": ALLOWED_ORIGIN, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, authorization"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "authorization" in r.headers["access-control-allow-headers"].lower()


def test_cors_other_origin_gets_nothing(client):
    r = client.get("/healthz", headers={"origin": OTHER_ORIGIN})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    r = client.options("/api/v1/_test/echo", headers={
        "origin": OTHER_ORIGIN, "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-methods" not in r.headers


def test_no_cors_without_configured_origins(start_server):
    srv = start_server()
    r = srv.client.get("/healthz", headers={"origin": ALLOWED_ORIGIN})
    assert "access-control-allow-origin" not in r.headers


def test_test_routes_are_off_by_default(start_server):
    srv = start_server()
    assert_problem(srv.client.post("/api/v1/_test/echo", json={}), 404)


def test_bad_configuration_is_refused_with_one_line(tmp_path):
    import subprocess
    from conftest import BIN
    for args, env, needle in [
        (["--port", "70000"], {}, "--port"),
        (["--bogus"], {}, "unknown option"),
        ([], {"APP_ENV": "production", "SECRET_KEY": "short"}, "SECRET_KEY"),
        ([], {"BACKTEST_WORKERS": "many"}, "BACKTEST_WORKERS"),
    ]:
        p = subprocess.run([BIN, "serve", *args], env={"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path), **env},
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (args, env, p.stderr)
        assert needle in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_serve_help_lists_the_settings():
    import subprocess
    from conftest import BIN
    p = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    for name in ("--host", "--port", "APEX_DATA_DIR", "DATABASE_URL", "CORS_ORIGINS", "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
                 "FEATURE_LIVE_TRADING", "BACKTEST_WORKERS", "SMTP_URL", "PROMETHEUS_ENABLED"):
        assert name in p.stdout, name


def test_sigterm_finishes_in_flight_requests_then_exits_0(start_server):
    srv = start_server(env={"APEX_TEST_ROUTES": "1"})
    result = {}

    def slow():
        with httpx.Client(base_url=srv.base, timeout=10) as c:
            result["r"] = c.get("/api/v1/_test/sleep", params={"ms": 1500})

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)  # the request is in the handler now
    t0 = time.monotonic()
    srv.stop()  # SIGTERM, asserts exit status 0 within 10 s
    t.join(5)
    assert result["r"].status_code == 200 and result["r"].json() == {"slept": True}
    assert time.monotonic() - t0 < 10
    # No longer listening.
    try:
        httpx.get(srv.base + "/healthz", timeout=1)
        raise AssertionError("still accepting after shutdown")
    except httpx.ConnectError:
        pass


def test_sigint_also_stops_cleanly(start_server):
    import signal
    srv = start_server()
    srv.stop(signal.SIGINT)


def test_settings_that_do_nothing_yet_say_so(start_server, tmp_path):
    import json
    import subprocess
    from conftest import BIN
    p = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=10)
    help_lines = p.stdout.splitlines()
    for name in ("BINANCE_API_KEY", "ALPACA_API_SECRET", "SENTRY_DSN"):
        flag = help_lines[[i for i, l in enumerate(help_lines) if l.strip() == "env " + name][0] - 1]
        assert "does nothing yet" in flag, (name, flag)
    for name in ("DATABASE_URL", "SMTP_URL", "FEATURE_LIVE_TRADING", "REDIS_URL"):
        flag = help_lines[[i for i, l in enumerate(help_lines) if l.strip() == "env " + name][0] - 1]
        assert "does nothing yet" not in flag, (name, flag)

    srv = start_server(env={"BINANCE_API_KEY": "key-do-not-log", "ALPACA_PAPER": "false"})
    assert srv.client.get("/healthz").status_code == 200
    log = srv.log_text()
    warnings = [json.loads(l) for l in log.splitlines() if l.startswith("{") and "do nothing yet" in l]
    assert len(warnings) == 1 and warnings[0]["level"] == "warn", log
    assert set(warnings[0]["variables"].split(",")) == {"BINANCE_API_KEY", "ALPACA_PAPER"}
    assert "key-do-not-log" not in log
    # A full node with REDIS_URL takes the trading lock at start: no Redis, a clear refusal that
    # never shows the password.
    secret = "redis://:hunter2-do-not-log@127.0.0.1:6399/0"
    p = subprocess.run([BIN, "serve", "--port", "0"], env={"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path),
                                                           "REDIS_URL": secret}, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "trading lock" in p.stderr and "127.0.0.1:6399" in p.stderr, p.stderr
    assert "hunter2" not in p.stderr + p.stdout

    quiet = start_server()
    assert "do nothing yet" not in quiet.log_text()


def test_database_url_schemes(tmp_path):
    import subprocess
    from conftest import BIN
    for url in ("mysql://u@127.0.0.1/db", "redis://127.0.0.1", "foo:bar"):
        p = subprocess.run([BIN, "serve"], env={"PATH": "/usr/bin:/bin", "APEX_DATA_DIR": str(tmp_path),
                                                "DATABASE_URL": url}, capture_output=True, text=True, timeout=10)
        assert p.returncode == 2 and "DATABASE_URL" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert url not in p.stderr  # the URL may hold a password
