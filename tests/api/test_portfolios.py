"""Portfolios and broker API keys through a real `apextrade serve`: CRUD, paging, validation, the
sub-resources (positions, trades, performance, equity), cross-user 404s, and API key secrets that
never come back in any response or log line."""
import os
import sqlite3
import uuid

import pytest

from test_app_flow import api, auth, problem, register  # noqa: F401  (the running server fixture)

SECRET = "S3cr3t-" + uuid.uuid4().hex + "-never-shown"
KEY = "AK" + uuid.uuid4().hex.upper()
PASSPHRASE = "pp-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def users(api):  # noqa: F811
    a = auth(register(api, f"pf-a-{uuid.uuid4().hex[:8]}@example.com"))
    b = auth(register(api, f"pf-b-{uuid.uuid4().hex[:8]}@example.com"))
    return a, b


def create(api, h, **fields):  # noqa: F811
    body = {"name": "Paper EUR", "initial_balance": "10000"}
    body.update(fields)
    r = api.post("/api/v1/portfolios", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_get_list_update_delete(api, users):  # noqa: F811
    a, _ = users
    p = create(api, a, description="first", broker="binance")
    assert p["name"] == "Paper EUR" and p["description"] == "first" and p["broker"] == "binance"
    assert p["base_currency"] == "EUR" and p["is_paper"] is True and p["is_active"] is True
    assert p["initial_balance"] == "10000" and p["cash_balance"] == "10000"  # decimal strings
    assert p["created_at"].endswith("Z")
    usd = create(api, a, name="Paper USD", base_currency="USD", initial_balance=2500.5)
    assert usd["base_currency"] == "USD" and usd["initial_balance"] == "2500.5"

    r = api.get(f"/api/v1/portfolios/{p['id']}", headers=a)
    assert r.status_code == 200 and r.json() == p

    r = api.put(f"/api/v1/portfolios/{p['id']}", headers=a,
                json={"name": "Renamed", "description": None, "is_active": False, "base_currency": "USD"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["name"] == "Renamed" and u["description"] is None and u["is_active"] is False
    assert u["base_currency"] == "USD" and u["broker"] == "binance" and u["initial_balance"] == "10000"
    assert api.get(f"/api/v1/portfolios/{p['id']}", headers=a).json()["name"] == "Renamed"

    assert api.delete(f"/api/v1/portfolios/{p['id']}", headers=a).status_code == 204
    problem(api.get(f"/api/v1/portfolios/{p['id']}", headers=a), 404)
    problem(api.delete(f"/api/v1/portfolios/{p['id']}", headers=a), 404)
    assert api.delete(f"/api/v1/portfolios/{usd['id']}", headers=a).status_code == 204


def test_list_pagination_and_total(api):  # noqa: F811
    h = auth(register(api, f"pf-page-{uuid.uuid4().hex[:8]}@example.com"))
    ids = [create(api, h, name=f"p{i}")["id"] for i in range(5)]
    r = api.get("/api/v1/portfolios", params={"limit": 2}, headers=h)
    body = r.json()
    assert r.status_code == 200 and body["total"] == 5 and body["page"] == 1 and body["limit"] == 2
    assert [x["id"] for x in body["items"]] == ids[::-1][:2]  # newest first
    last = api.get("/api/v1/portfolios", params={"limit": 2, "page": 3}, headers=h).json()
    assert [x["id"] for x in last["items"]] == [ids[0]] and last["total"] == 5
    oldest = api.get("/api/v1/portfolios", params={"sort": "created_at", "limit": 100}, headers=h).json()
    assert [x["id"] for x in oldest["items"]] == ids
    assert api.get("/api/v1/portfolios", params={"page": 9}, headers=h).json()["items"] == []
    problem(api.get("/api/v1/portfolios", params={"limit": 0}, headers=h), 422)


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "initial_balance": "100", "base_currency": "GBP"}, "base_currency"),
    ({"name": "x", "initial_balance": "-5"}, "initial_balance"),
    ({"name": "x", "initial_balance": 0}, "initial_balance"),
    ({"name": "x", "initial_balance": "abc"}, "initial_balance"),
    ({"name": "x", "initial_balance": "10.001"}, "initial_balance"),
    ({"name": "", "initial_balance": "100"}, "name"),
    ({"name": "   ", "initial_balance": "100"}, "name"),
    ({"name": "x" * 101, "initial_balance": "100"}, "name"),
    ({"initial_balance": "100"}, "name"),
    ({"name": "x"}, "initial_balance"),
    ({"name": "x", "initial_balance": "100", "is_paper": False}, "is_paper"),
    ({"name": "x", "initial_balance": "100", "cash_balance": "5"}, "cash_balance"),
    ({"name": "x", "initial_balance": "100", "colour": "red"}, "colour"),
])
def test_create_validation(api, users, body, field):  # noqa: F811
    a, _ = users
    p = problem(api.post("/api/v1/portfolios", json=body, headers=a), 422)
    assert field in [e["field"] for e in p["errors"]], p


def test_validation_lists_every_problem_and_live_is_explained(api, users):  # noqa: F811
    a, _ = users
    p = problem(api.post("/api/v1/portfolios", json={"name": "", "base_currency": "JPY", "initial_balance": -1,
                                                     "is_paper": False}, headers=a), 422)
    fields = {e["field"]: e["message"] for e in p["errors"]}
    assert set(fields) == {"name", "base_currency", "initial_balance", "is_paper"}
    assert "live" in fields["is_paper"]
    problem(api.post("/api/v1/portfolios", content=b"{bad", headers={**a, "Content-Type": "application/json"}), 400)
    pf = create(api, a)
    p = problem(api.put(f"/api/v1/portfolios/{pf['id']}", json={"initial_balance": "1", "base_currency": "CHF"},
                        headers=a), 422)
    assert {e["field"] for e in p["errors"]} == {"initial_balance", "base_currency"}
    assert api.get(f"/api/v1/portfolios/{pf['id']}", headers=a).json()["initial_balance"] == "10000"


def test_sub_resources_of_a_new_portfolio(api, users):  # noqa: F811
    a, _ = users
    pf = create(api, a, initial_balance="5000.25")
    for sub in ("positions", "trades", "equity"):
        r = api.get(f"/api/v1/portfolios/{pf['id']}/{sub}", headers=a)
        assert r.status_code == 200, r.text
        assert r.json() == {"items": [], "total": 0, "page": 1, "limit": 100}
        r = api.get(f"/api/v1/portfolios/{pf['id']}/{sub}", params={"page": 2, "limit": 10}, headers=a)
        assert r.json() == {"items": [], "total": 0, "page": 2, "limit": 10}
        problem(api.get(f"/api/v1/portfolios/{pf['id']}/{sub}", params={"limit": 1000}, headers=a), 422)
    r = api.get(f"/api/v1/portfolios/{pf['id']}/performance", headers=a)
    assert r.status_code == 200, r.text
    perf = r.json()
    assert perf["initial_balance"] == "5000.25" and perf["current_equity"] == "5000.25"
    assert perf["total_return_pct"] == 0 and perf["sharpe_ratio"] == 0 and perf["max_drawdown_pct"] == 0
    assert perf["total_trades"] == 0 and perf["win_rate_pct"] == 0 and perf["equity_points"] == 0
    assert perf["start"] is None and perf["end"] is None and perf["monthly_returns"] == []


def sqlite_db(api):  # noqa: F811
    return os.path.join(os.path.dirname(str(api.log_path)), "apextrade.db")


@pytest.mark.skipif(bool(os.environ.get("APEX_TEST_PG_URL")), reason="writes rows straight into the SQLite file")
def test_performance_trades_and_equity_from_stored_history(api, users):  # noqa: F811
    """Paper trading will write these rows; until then they go straight into the SQLite file."""
    a, _ = users
    pf = create(api, a, initial_balance="10000")
    me = api.get("/api/v1/auth/me", headers=a).json()["id"]
    u = 10 ** 8  # SQLite keeps money as integer units of 1e-8
    day = 86_400_000
    t0 = 1_700_006_400_000  # 2023-11-15T00:00:00Z
    db = sqlite3.connect(sqlite_db(api), timeout=10)
    with db:
        for i, eq in enumerate([10000, 10200, 9900, 10500]):
            db.execute("INSERT INTO equity_history (time, portfolio_id, equity_value, cash_balance, positions_value)"
                       " VALUES (?, ?, ?, ?, ?)", (t0 + i * day, pf["id"], eq * u, eq * u, 0))
        for i, (side, pnl) in enumerate([("BUY", None), ("SELL", 500), ("BUY", None), ("SELL", -100)]):
            db.execute("INSERT INTO trades (id, user_id, portfolio_id, symbol, side, order_type, quantity, "
                       "filled_quantity, filled_price, status, realized_pnl, is_paper, created_at, filled_at) "
                       "VALUES (?, ?, ?, 'BTC/USDT', ?, 'MARKET', ?, ?, ?, 'filled', ?, 1, ?, ?)",
                       (str(uuid.uuid4()), me, pf["id"], side, u // 10, u // 10, 40000 * u,
                        None if pnl is None else pnl * u, t0 + i * day, t0 + i * day))
        db.execute("INSERT INTO positions (id, portfolio_id, symbol, quantity, average_entry_price, is_open, "
                   "opened_at, updated_at) VALUES (?, ?, 'ETH/USDT', ?, ?, 1, ?, ?)",
                   (str(uuid.uuid4()), pf["id"], 2 * u, 2000 * u + 12345678, t0, t0))
    db.close()

    eq = api.get(f"/api/v1/portfolios/{pf['id']}/equity", params={"limit": 3}, headers=a).json()
    assert eq["total"] == 4 and len(eq["items"]) == 3
    assert eq["items"][0] == {"time": "2023-11-15T00:00:00Z", "equity_value": "10000", "cash_balance": "10000",
                              "positions_value": "0", "daily_pnl": None, "daily_pnl_pct": None}
    trades = api.get(f"/api/v1/portfolios/{pf['id']}/trades", headers=a).json()
    assert trades["total"] == 4 and trades["items"][0]["realized_pnl"] == "-100"  # newest first
    assert trades["items"][0]["filled_price"] == "40000" and trades["items"][0]["quantity"] == "0.1"
    pos = api.get(f"/api/v1/portfolios/{pf['id']}/positions", headers=a).json()
    assert pos["total"] == 1 and pos["items"][0]["average_entry_price"] == "2000.12345678"

    perf = api.get(f"/api/v1/portfolios/{pf['id']}/performance", headers=a).json()
    assert perf["current_equity"] == "10500" and perf["equity_points"] == 4
    assert perf["total_return_pct"] == pytest.approx(5.0)
    assert perf["max_drawdown_pct"] == pytest.approx((10200 - 9900) / 10200 * 100)
    assert perf["total_trades"] == 2 and perf["winning_trades"] == 1 and perf["losing_trades"] == 1
    assert perf["win_rate_pct"] == pytest.approx(50.0) and perf["profit_factor"] == pytest.approx(5.0)
    assert perf["sharpe_ratio"] != 0 and perf["periods_per_year"] == 365
    assert perf["start"] == "2023-11-15T00:00:00Z" and perf["end"] == "2023-11-18T00:00:00Z"
    assert [m["month"] for m in perf["monthly_returns"]] == ["2023-11"]


def test_other_users_portfolio_is_404_everywhere(api, users):  # noqa: F811
    a, b = users
    pf = create(api, a)
    base = f"/api/v1/portfolios/{pf['id']}"
    for path in (base, base + "/positions", base + "/trades", base + "/performance", base + "/equity"):
        problem(api.get(path, headers=b), 404)
    problem(api.put(base, json={"name": "mine now"}, headers=b), 404)
    problem(api.delete(base, headers=b), 404)
    assert pf["id"] not in api.get("/api/v1/portfolios", params={"limit": 100}, headers=b).text
    assert api.get(base, headers=a).json()["name"] == "Paper EUR"  # untouched
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        problem(api.get(f"/api/v1/portfolios/{bad}", headers=a), 404)
        problem(api.get(f"/api/v1/portfolios/{bad}/equity", headers=a), 404)


def test_401_without_a_token(api):  # noqa: F811
    pid = str(uuid.uuid4())
    for method, path in [("GET", "/api/v1/portfolios"), ("POST", "/api/v1/portfolios"),
                         ("GET", f"/api/v1/portfolios/{pid}"), ("PUT", f"/api/v1/portfolios/{pid}"),
                         ("DELETE", f"/api/v1/portfolios/{pid}"), ("GET", f"/api/v1/portfolios/{pid}/positions"),
                         ("GET", f"/api/v1/portfolios/{pid}/trades"), ("GET", f"/api/v1/portfolios/{pid}/performance"),
                         ("GET", f"/api/v1/portfolios/{pid}/equity"), ("GET", "/api/v1/api-keys"),
                         ("POST", "/api/v1/api-keys"), ("DELETE", f"/api/v1/api-keys/{pid}")]:
        problem(api.request(method, path, json={}), 401)


# --- API keys ---

def new_key(api, h, **fields):  # noqa: F811
    body = {"exchange": "binance", "label": "main", "api_key": KEY, "api_secret": SECRET}
    body.update(fields)
    return api.post("/api/v1/api-keys", json=body, headers=h)


def assert_no_secret(r):
    text = r.text + "".join(f"{k}: {v}\n" for k, v in r.headers.items())
    for s in (SECRET, KEY, PASSPHRASE):
        assert s not in text, r


def test_api_key_create_list_delete_never_shows_the_secret(api, users):  # noqa: F811
    a, _ = users
    r = new_key(api, a, passphrase=PASSPHRASE, exchange="kraken")
    assert r.status_code == 201, r.text
    assert_no_secret(r)
    k = r.json()
    assert set(k) == {"id", "exchange", "label", "key_hint", "is_paper", "created_at", "last_used_at"}
    assert k["exchange"] == "kraken" and k["label"] == "main" and k["is_paper"] is True
    assert k["key_hint"] == KEY[:4] + "\u2026" + KEY[-4:]  # 34 characters: first and last 4 only
    assert r.headers["location"] == f"/api/v1/api-keys/{k['id']}"

    r2 = new_key(api, a, exchange="alpaca", label="paper account")
    assert r2.status_code == 201
    lst = api.get("/api/v1/api-keys", headers=a)
    assert lst.status_code == 200
    assert_no_secret(lst)
    body = lst.json()
    assert body["total"] == 2 and [x["id"] for x in body["items"]] == [r2.json()["id"], k["id"]]
    assert body["items"][1] == k
    page = api.get("/api/v1/api-keys", params={"limit": 1, "page": 2}, headers=a).json()
    assert page["total"] == 2 and [x["id"] for x in page["items"]] == [k["id"]]

    assert api.delete(f"/api/v1/api-keys/{k['id']}", headers=a).status_code == 204
    problem(api.delete(f"/api/v1/api-keys/{k['id']}", headers=a), 404)
    assert [x["id"] for x in api.get("/api/v1/api-keys", headers=a).json()["items"]] == [r2.json()["id"]]


def test_api_key_validation_quotes_no_value(api, users):  # noqa: F811
    a, _ = users
    p = problem(new_key(api, a, exchange="ftx"), 422)
    assert [e["field"] for e in p["errors"]] == ["exchange"]
    for field in ("api_key", "api_secret", "label", "exchange"):
        body = {"exchange": "binance", "label": "x", "api_key": KEY, "api_secret": SECRET}
        del body[field]
        p = problem(api.post("/api/v1/api-keys", json=body, headers=a), 422)
        assert field in [e["field"] for e in p["errors"]]
    r = new_key(api, a, api_secret=SECRET + " with spaces", surprise=SECRET)
    p = problem(r, 422)
    assert {e["field"] for e in p["errors"]} == {"api_secret", "surprise"}
    assert_no_secret(r)
    # Malformed JSON right at the secret: the problem gives a position, not the text around it.
    r = api.post("/api/v1/api-keys", content=('{"exchange": "binance", "api_secret": ' + SECRET + '}').encode(),
                 headers={**a, "Content-Type": "application/json"})
    problem(r, 400)
    assert SECRET not in r.text and "S3cr3t" not in r.text


def test_api_keys_of_another_user_and_the_log(api, users):  # noqa: F811
    a, b = users
    k = new_key(api, a).json()
    problem(api.delete(f"/api/v1/api-keys/{k['id']}", headers=b), 404)
    assert k["id"] not in api.get("/api/v1/api-keys", headers=b).text
    assert api.get("/api/v1/api-keys", headers=b).json()["total"] == 0
    problem(api.delete("/api/v1/api-keys/not-a-uuid", headers=a), 404)
    assert k["id"] in api.get("/api/v1/api-keys", headers=a).text  # still there
    log = open(api.log_path).read()
    for s in (SECRET, KEY, PASSPHRASE):
        assert s not in log
