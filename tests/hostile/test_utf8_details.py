"""A detail or problem message quotes the client's text cut to fit a buffer: a cut through a
multi-byte UTF-8 character left half a character, the JSON writer refused the problem and the
client got a 500 with no detail (found by test_api_fuzz.py: POST /backtests with a long
strategy_id of "é"). Every answer quoting long non-ASCII text is the 4xx it should be."""
import pytest

from conftest import assert_problem, signed_in


@pytest.mark.parametrize("ch", ["\u00e9", "\u4e2d", "\U0001F600"])
@pytest.mark.parametrize("n", [100, 333, 4097])
def test_long_non_ascii_text_in_a_refusal(server, ch, n):
    c = server.client
    h = signed_in(c, f"utf8-{ord(ch)}-{n}@example.com")
    text = ch * n
    body = assert_problem(c.post("/api/v1/backtests", json={"strategy_id": text}, headers=h), 404, 2001)
    assert body["detail"].startswith("no strategy " + ch)
    rule = {"name": "r", "signal": "BUY", "conditions": [{"price": text, "operator": "less_than", "value": 1},
                                                         {"indicator": text, "operator": "less_than", "value": 1}]}
    r = c.post("/api/v1/rules/validate", json=rule, headers=h)
    assert r.status_code == 200 and r.json()["valid"] is False, r.text
    assert all(e["message"] for e in r.json()["errors"])
    assert_problem(c.post("/api/v1/rules", json=rule, headers=h), 422, 2002)
