"""Fields validated at the door: a timezone of "../../etc/passwd" and a currency "XYZ" were stored,
and a commission of 100 % was accepted and only failed later, in the job."""
import copy
import json
import os

import pytest

from conftest import assert_problem, signed_in

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def refused(r, field):
    """422 problem+json naming field: a strategy document answers 2002 (invalid strategy), a plain
    request body 422."""
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["code"] in (422, 2002) and field in r.text, r.text


def example():
    with open(os.path.join(ROOT, "examples", "rsi_mean_reversion.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("tz", ["../../etc/passwd", "/etc/localtime", "Mars/Olympus_Mons", "Europe/Paris ",
                                "europe/paris", "", "UTC\n", "Europe/../../etc/passwd"])
def test_timezone_must_be_an_iana_name(server, tz):
    c = server.client
    h = signed_in(c, f"tz-{abs(hash(tz))}@example.com")
    body = assert_problem(c.patch("/api/v1/auth/me", json={"timezone": tz}, headers=h), 422)
    assert "/timezone" in json.dumps(body)
    assert c.get("/api/v1/auth/me", headers=h).json()["timezone"] == "Europe/Paris"  # unchanged


@pytest.mark.parametrize("tz", ["Europe/Paris", "UTC", "America/New_York", "Asia/Kolkata", "Etc/GMT+5",
                                "America/Argentina/Buenos_Aires", "Australia/Sydney"])
def test_real_time_zones_are_accepted(server, tz):
    c = server.client
    h = signed_in(c, f"tzok-{abs(hash(tz))}@example.com")
    r = c.patch("/api/v1/auth/me", json={"timezone": tz}, headers=h)
    assert r.status_code == 200, r.text
    assert c.get("/api/v1/auth/me", headers=h).json()["timezone"] == tz


@pytest.mark.parametrize("cur, ok", [("EUR", True), ("USD", True), ("XYZ", False), ("eur", False), ("GBPX", False)])
def test_currency_from_the_supported_list(server, cur, ok):
    c = server.client
    h = signed_in(c, f"cur-{cur}-{ok}-{len(cur)}-{cur.isupper()}@example.com")
    r = c.patch("/api/v1/auth/me", json={"preferred_currency": cur}, headers=h)
    if ok:
        assert r.status_code == 200 and r.json()["preferred_currency"] == cur, r.text
    else:
        assert "/preferred_currency" in json.dumps(assert_problem(r, 422))


@pytest.mark.parametrize("field, value, ok", [("commission_pct", 100, False), ("commission_pct", 10.01, False),
                                              ("commission_pct", 10, True), ("slippage_pct", 50, False),
                                              ("slippage_pct", -0.1, False), ("slippage_pct", 0, True)])
def test_costs_within_documented_ranges(server, field, value, ok):
    c = server.client
    h = signed_in(c, f"cost-{field}-{value}@example.com")
    doc = copy.deepcopy(example())
    doc["backtest"][field] = value
    r = c.post("/api/v1/strategies", json=doc, headers=h)
    if ok:
        assert r.status_code == 201, r.text
    else:
        refused(r, f"/backtest/{field}")
    # The same bound on a backtest request's own costs.
    sid = c.post("/api/v1/strategies", json=example(), headers=h).json()["id"]
    r = c.post("/api/v1/backtests", json={"strategy_id": sid, field: value}, headers=h)
    if ok:
        assert r.status_code != 422 or f"/{field}" not in r.text, r.text
    else:
        refused(r, field)
