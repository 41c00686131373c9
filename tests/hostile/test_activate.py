"""POST /strategies/{id}/activate with a mode the server does not know killed it (SIGSEGV): the
handler cleared a row the use case never initialised. Every bad mode must answer a problem and
leave the server serving."""
import json
import os

import pytest

from conftest import assert_problem, signed_in

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def strategy(client, headers):
    with open(os.path.join(ROOT, "examples", "rsi_mean_reversion.json")) as f:
        doc = json.load(f)
    r = client.post("/api/v1/strategies", json=doc, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("mode", ["bogus", "", 5, None, ["paper"], {"x": 1}, "PAPER"])
def test_unknown_mode_is_a_validation_error_and_the_server_lives(server, mode):
    c = server.client
    h = signed_in(c, f"activate-{abs(hash(repr(mode)))}@example.com")
    sid = strategy(c, h)
    for _ in range(3):  # the crash was on freeing uninitialised memory: repeat to be sure
        body = assert_problem(c.post(f"/api/v1/strategies/{sid}/activate", json={"mode": mode}, headers=h), 422)
        assert any(err.get("field") == "/mode" or "/mode" in json.dumps(err) for err in body.get("errors", [body]))
    assert server.proc.poll() is None
    assert c.get("/healthz").status_code == 200
    # The strategy was not changed by the refused calls.
    assert c.get(f"/api/v1/strategies/{sid}", headers=h).json()["status"] == "draft"


def test_live_refused_while_live_trading_is_off(server):
    c = server.client
    h = signed_in(c, "activate-live@example.com")
    sid = strategy(c, h)
    for _ in range(3):
        assert_problem(c.post(f"/api/v1/strategies/{sid}/activate", json={"mode": "live"}, headers=h), 403)
    assert server.proc.poll() is None
    r = c.post(f"/api/v1/strategies/{sid}/activate", json={"mode": "paper"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "active" and r.json()["trading_mode"] == "paper"
