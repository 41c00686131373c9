"""The rule library (/api/v1/rules, spec 3.2.1) and strategies that name its rules by id (spec
3.2.2), against a real `apextrade serve` with the ORCL sample imported. Expected values are
hand-derived: TA-Lib's lookbacks (RSI(n): n, SMA(n): n-1), the rule engine's warm-up rule (max
lookback + offset, plus one for a cross), and the example strategy's own inline run."""
import copy
import json
import os
import signal
import socket
import subprocess
import time
import uuid

import httpx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("APEX_BIN", os.path.join(ROOT, "build", "apextrade"))
PASSWORD = "correct horse battery"
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    data = tmp_path_factory.mktemp("apexdata")
    env = dict(os.environ, APEX_DATA_DIR=str(data))
    if os.environ.get("APEX_TEST_PG_URL"):
        env["DATABASE_URL"] = os.environ["APEX_TEST_PG_URL"]
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([BIN, "data", "import", os.path.join(ROOT, "data", "orcl-1995-2014.csv"),
                    "--symbol", "ORCL", "--timeframe", "1d"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("server did not start: " + (data / "server.log").read_text())
    with httpx.Client(base_url=base, timeout=10) as client:
        yield client
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    log.close()


def user(api):
    email = f"rules-{uuid.uuid4().hex[:10]}@example.com"
    assert api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code == 201
    tok = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    return {"Authorization": "Bearer " + tok}


def problem(r, status, code=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == (code if code is not None else status)
    return body


def example():
    with open(os.path.join(ROOT, "examples", "rsi_mean_reversion.json")) as f:
        return json.load(f)


def library_rule(inline):
    """An inline rule of the example as a library rule body (the library assigns ids)."""
    r = {k: v for k, v in inline.items() if k != "id"}
    r["description"] = "from the example"
    return r


def test_crud(api):
    h = user(api)
    buy, sell = (library_rule(r) for r in example()["rules"])
    r = api.post("/api/v1/rules", headers=h, json=buy)
    assert r.status_code == 201, r.text
    a = r.json()
    assert r.headers["location"] == "/api/v1/rules/" + a["id"]
    uuid.UUID(a["id"])
    assert a["version"] == 1 and a["name"] == "RSI oversold" and a["description"] == "from the example"
    assert a["signal"] == "BUY" and a["conditions"] == buy["conditions"]
    b = api.post("/api/v1/rules", headers=h, json=sell).json()
    assert api.get(f"/api/v1/rules/{a['id']}", headers=h).json() == a
    page = api.get("/api/v1/rules", headers=h, params={"limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["id"] == b["id"]  # newest first
    changed = dict(buy, conditions=[dict(buy["conditions"][0], value=25)])
    u = api.put(f"/api/v1/rules/{a['id']}", headers=h, json=changed)
    assert u.status_code == 200, u.text
    assert u.json()["version"] == 2 and u.json()["conditions"][0]["value"] == 25
    assert api.delete(f"/api/v1/rules/{a['id']}", headers=h).status_code == 204
    problem(api.get(f"/api/v1/rules/{a['id']}", headers=h), 404)
    assert api.get("/api/v1/rules", headers=h).json()["total"] == 1


def test_invalid_rules_every_problem_with_a_pointer(api):
    h = user(api)
    bad = {"name": "", "signal": "MAYBE",
           "conditions": [{"indicator": "RSI", "params": {"period": 0}, "operator": "less_than", "value": 30},
                          {"indicator": "NOPE", "operator": "bigger", "value": 1}]}
    body = problem(api.post("/api/v1/rules", headers=h, json=bad), 422, 2002)
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/name", "/signal", "/conditions/0/params/period"} <= pointers
    assert any(p.startswith("/conditions/1") for p in pointers)
    assert all(e["code"] == 2002 for e in body["errors"])
    v = api.post("/api/v1/rules/validate", headers=h, json=bad)
    assert v.status_code == 200, v.text
    assert v.json()["valid"] is False and {e["pointer"] for e in v.json()["errors"]} == pointers
    assert v.json()["error_count"] == len(body["errors"])
    ok = api.post("/api/v1/rules/validate", headers=h, json=library_rule(example()["rules"][0])).json()
    assert ok == {"valid": True, "error_count": 0, "errors": []}
    assert api.get("/api/v1/rules", headers=h).json()["total"] == 0  # validate stores nothing


def test_dependencies(api):
    h = user(api)
    rsi = api.post("/api/v1/rules", headers=h, json=library_rule(example()["rules"][0])).json()
    d = api.get(f"/api/v1/rules/{rsi['id']}/dependencies", headers=h).json()
    assert d["rule_id"] == rsi["id"] and d["warmup_bars"] == 14
    assert [(x["indicator"], x["params"], x["lookback"]) for x in d["dependencies"]] == [("rsi", {"period": 14}, 14)]
    cross = {"name": "close over SMA 50", "signal": "BUY",
             "conditions": [{"price": "close", "operator": "crosses_above",
                             "value": {"indicator": "SMA", "params": {"period": 50}}}]}
    c = api.post("/api/v1/rules", headers=h, json=cross)
    assert c.status_code == 201, c.text
    d = api.get(f"/api/v1/rules/{c.json()['id']}/dependencies", headers=h).json()
    sma = [x for x in d["dependencies"] if x["indicator"] == "sma"]
    assert sma and sma[0]["params"] == {"period": 50} and sma[0]["lookback"] == 49
    assert d["warmup_bars"] == 50  # 49 + 1 for the cross


def test_other_users_rules_are_404_everywhere(api):
    ha, hb = user(api), user(api)
    rid = api.post("/api/v1/rules", headers=ha, json=library_rule(example()["rules"][0])).json()["id"]
    body = library_rule(example()["rules"][1])
    for method, path, kw in [("GET", f"/api/v1/rules/{rid}", {}), ("PUT", f"/api/v1/rules/{rid}", {"json": body}),
                             ("DELETE", f"/api/v1/rules/{rid}", {}), ("GET", f"/api/v1/rules/{rid}/dependencies", {})]:
        # the owner reaches it (DELETE last, so it is still there for the others)
        if method != "DELETE":
            assert api.request(method, path, headers=ha, **kw).status_code == 200, (method, path)
        got = problem(api.request(method, path, headers=hb, **kw), 404)
        want = problem(api.request(method, path.replace(rid, MISSING_ID), headers=hb, **kw), 404)
        assert got["detail"].replace(rid, MISSING_ID) == want["detail"] and got["title"] == want["title"]
    assert api.get("/api/v1/rules", headers=hb).json()["total"] == 0
    assert api.get(f"/api/v1/rules/{rid}", headers=ha).status_code == 200  # B's DELETE did nothing
    # B naming A's rule in a strategy: 422 at the field, worded as for an id that does not exist
    doc = example()
    del doc["rules"]
    doc["entry_rules"], doc["exit_rules"] = [rid], [MISSING_ID]
    err = problem(api.post("/api/v1/strategies", headers=hb, json=doc), 422, 2002)
    items = {e["pointer"]: e for e in err["errors"]}
    assert set(items) == {"/entry_rules/0", "/exit_rules/0"}
    assert items["/entry_rules/0"]["message"].replace(rid, MISSING_ID) == items["/exit_rules/0"]["message"]
    assert all(e["code"] == 2002 for e in err["errors"])


def wait_done(api, h, bid):
    for _ in range(600):
        b = api.get(f"/api/v1/backtests/{bid}", headers=h).json()
        if b["status"] in ("completed", "failed", "cancelled"):
            return b
        time.sleep(0.05)
    pytest.fail(f"backtest {bid} did not finish")


def run(api, h, sid):
    r = api.post("/api/v1/backtests", headers=h, json={"strategy_id": sid})
    assert r.status_code == 202, r.text
    b = wait_done(api, h, r.json()["id"])
    assert b["status"] == "completed", b
    trades = api.get(f"/api/v1/backtests/{b['id']}/trades", headers=h, params={"limit": 100}).json()["items"]
    return b, trades


def test_strategy_by_rule_ids_backtests_like_inline(api):
    h = user(api)
    inline = example()
    ids = [api.post("/api/v1/rules", headers=h, json=library_rule(r)).json()["id"] for r in inline["rules"]]
    by_id = copy.deepcopy(inline)
    del by_id["rules"]
    by_id["entry_rules"], by_id["exit_rules"] = [ids[0]], [ids[1]]
    s1 = api.post("/api/v1/strategies", headers=h, json=inline)
    s2 = api.post("/api/v1/strategies", headers=h, json=by_id)
    assert s1.status_code == 201 and s2.status_code == 201, s2.text
    b1, t1 = run(api, h, s1.json()["id"])
    b2, t2 = run(api, h, s2.json()["id"])
    assert len(t1) == 14  # the example's run (test_app_flow checks it against backtrader)
    assert t2 == t1
    assert b2["final_capital"] == b1["final_capital"] and b2["total_return_pct"] == b1["total_return_pct"]


def test_a_version_freezes_its_rules(api):
    h = user(api)
    inline = example()
    rule = library_rule(inline["rules"][0])
    rid = api.post("/api/v1/rules", headers=h, json=rule).json()["id"]
    doc = copy.deepcopy(inline)
    doc["rules"] = [inline["rules"][1]]
    doc["entry_rules"] = [rid]
    s = api.post("/api/v1/strategies", headers=h, json=doc)
    assert s.status_code == 201, s.text
    sid = s.json()["id"]
    period = lambda d, i: next(r for r in d["rules"] if r["id"] == i)["conditions"][0]["params"]["period"]
    assert period(s.json()["definition"], rid) == 14
    rule["conditions"][0]["params"]["period"] = 10
    assert api.put(f"/api/v1/rules/{rid}", headers=h, json=rule).json()["version"] == 2
    # the saved version keeps the rule as it was
    assert period(api.get(f"/api/v1/strategies/{sid}", headers=h).json()["definition"], rid) == 14
    # a new version picks up the new text
    u = api.put(f"/api/v1/strategies/{sid}", headers=h, json=doc)
    assert u.status_code == 200 and u.json()["version"] == 2
    versions = {n: api.get(f"/api/v1/strategies/{sid}/versions/{n}", headers=h).json()["definition"] for n in (1, 2)}
    assert period(versions[2], rid) == 10 and period(versions[1], rid) == 14


def test_spec_request_aliases(api):
    h = user(api)
    doc = example()
    doc["asset_symbol"] = doc.pop("asset")
    doc["stop_loss_pct"], doc["take_profit_pct"] = 2.0, 5.0
    r = api.post("/api/v1/strategies", headers=h, json=doc)
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["asset_symbol"] == "ORCL" and s["stop_loss_pct"] == 2.0 and s["take_profit_pct"] == 5.0
    assert s["definition"]["risk_management"] == {"max_position_size": 0.95, "stop_loss_pct": 2.0, "take_profit_pct": 5.0}
    both = dict(doc, asset="ORCL")
    body = problem(api.post("/api/v1/strategies", headers=h, json=both), 422, 2002)
    assert [e["pointer"] for e in body["errors"]] == ["/asset_symbol"]
    twice = dict(doc, risk_management={"stop_loss_pct": 3})
    body = problem(api.post("/api/v1/strategies", headers=h, json=twice), 422, 2002)
    assert [e["pointer"] for e in body["errors"]] == ["/stop_loss_pct"]


def test_the_indicator_registry_is_what_rules_accept(api):
    """GET /api/v1/indicators lists what the builder may offer. Held to the validator: every
    indicator with its defaults validates, with each output named; a parameter just outside its
    range is refused at its pointer; a fractional value for an integer parameter too."""
    h = user(api)
    assert api.get("/api/v1/indicators").status_code == 401
    r = api.get("/api/v1/indicators", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    items = {i["name"]: i for i in body["items"]}
    assert body["total"] == len(items) >= 25
    assert items["rsi"]["title"] == "Relative Strength Index"
    assert items["rsi"]["params"] == [{"name": "period", "default": 14, "min": 2, "max": 100000, "integer": True}]
    assert items["macd"]["outputs"] == ["macd", "signal", "hist"]
    assert items["bbands"]["params"][1]["integer"] is False
    assert set(items["vwap"]["inputs"]) >= {"high", "low", "close", "volume"}
    for name, ind in items.items():
        params = {p["name"]: p["default"] for p in ind["params"]}
        for out in ind["outputs"]:
            rule = {"name": "t", "signal": "BUY", "conditions": [
                {"indicator": name, "params": params, "output": out, "operator": "greater_than", "value": 0}]}
            v = api.post("/api/v1/rules/validate", headers=h, json=rule)
            assert v.status_code == 200 and v.json()["valid"], (name, out, v.text)
        for p in ind["params"]:
            bad = dict(params, **{p["name"]: p["min"] - 1})
            rule = {"name": "t", "signal": "BUY", "conditions": [
                {"indicator": name, "params": bad, "operator": "greater_than", "value": 0}]}
            v = api.post("/api/v1/rules/validate", headers=h, json=rule)
            assert not v.json()["valid"], (name, p)
            assert f"/conditions/0/params/{p['name']}" in [e["pointer"] for e in v.json()["errors"]], v.text
            if p["integer"]:
                frac = dict(params, **{p["name"]: p["default"] + 0.5})
                rule["conditions"][0]["params"] = frac
                v = api.post("/api/v1/rules/validate", headers=h, json=rule)
                assert not v.json()["valid"], (name, p, "fraction")
