"""One error table (src/app/errors.def): every problem's status and title come from its code,
and every errors[] item carries its own code. Expected pairs are the spec's Appendix B."""
import uuid

from conftest import assert_problem

PASSWORD = "correct horse battery"


def login(client):
    email = f"err-{uuid.uuid4().hex[:8]}@example.com"
    assert client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def test_spec_codes_have_the_spec_status_and_title(client):
    h = login(client)
    # 2001 STRATEGY_NOT_FOUND → 404
    body = assert_problem(client.get(f"/api/v1/strategies/{uuid.uuid4()}", headers=h), 404, 2001)
    assert body["title"] == "Strategy Not Found" and body["type"].endswith("/strategy-not-found")
    # 1001 AUTH_INVALID_CREDENTIALS → 401
    r = client.post("/api/v1/auth/login", json={"email": "nobody@example.com", "password": "wrong wrong wrong"})
    assert assert_problem(r, 401, 1001)["title"] == "Invalid Credentials"
    # 1003 AUTH_TOKEN_INVALID → 401
    assert_problem(client.get("/api/v1/strategies", headers={"Authorization": "Bearer x.y.z"}), 401, 1003)


def test_invalid_rules_items_each_carry_a_code_and_pointer(client):
    h = login(client)
    doc = {"name": "bad", "asset": "BTC/USDT", "timeframe": "1h",
           "entry_rules": [{"indicator": "RSI", "params": {"period": 0}, "operator": "less_than", "value": 30}],
           "exit_rules": []}
    body = assert_problem(client.post("/api/v1/strategies", json=doc, headers=h), 422, 2002)
    assert body["title"] == "Invalid Strategy Rules"
    assert body["errors"]
    for item in body["errors"]:
        assert item["code"] == 2002
        assert item["pointer"].startswith("/") and item["field"] == item["pointer"][1:]


def test_query_validation_item_code_is_422(client):
    h = login(client)
    body = assert_problem(client.get("/api/v1/strategies?limit=0", headers=h), 422)
    assert body["title"] == "Validation Error"
    assert body["errors"] == [{"field": "limit", "pointer": "/limit", "code": 422,
                               "message": "limit must be an integer from 1 to 100"}]


def test_framework_errors_use_the_table(client):
    assert assert_problem(client.get("/api/v1/nothing-here"), 404)["title"] == "Not Found"
    assert assert_problem(client.post("/api/v1/auth/login", content=b"x",
                                      headers={"Content-Type": "text/plain"}), 415)["title"] == "Unsupported Media Type"
    assert assert_problem(client.post("/api/v1/auth/login", content=b"{", headers={"Content-Type": "application/json"}),
                          400)["title"] == "Bad Request"


def test_websocket_handshake_errors_are_problems(client):
    """GET /api/v1/ws refuses a request that is no RFC 6455 handshake before any upgrade."""
    hs = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    assert_problem(client.get("/api/v1/ws"), 400)
    r = client.get("/api/v1/ws", headers={**hs, "Sec-WebSocket-Version": "8"})
    assert_problem(r, 426)
    assert r.headers["Sec-WebSocket-Version"] == "13"
    assert_problem(client.get("/api/v1/ws", headers={**hs, "Sec-WebSocket-Key": "short"}), 400)
    assert_problem(client.get("/api/v1/ws", params={"token": "forged.token.here"}, headers=hs), 401, 1003)
    assert_problem(client.get("/api/v1/ws", headers={**hs, "Origin": "http://evil.example"}), 403)
    assert_problem(client.post("/api/v1/ws", json={}), 405)


def test_market_query_errors_name_their_field(client):
    h = login(client)
    body = assert_problem(client.get("/api/v1/market/ohlcv/BTC/USDT", params={"limit": 0}, headers=h), 422)
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/limit", 422)]
    body = assert_problem(client.get("/api/v1/market/ohlcv/BTC/USDT", params={"end": "soon"}, headers=h), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/end"]
