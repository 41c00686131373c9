"""Hostile-client suite: the same black-box harness as tests/api (a real `apextrade serve` on
127.0.0.1), used as an attacker or a careless operator would use the server."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "apex_api_conftest", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api", "conftest.py"))
_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_api)

BIN = _api.BIN
Server = _api.Server
assert_problem = _api.assert_problem
PROBLEM_TYPE_BASE = _api.PROBLEM_TYPE_BASE
start_server = _api.start_server
server = _api.server
client = _api.client

PASSWORD = "correct horse battery"


def signed_in(client, email):
    """Registers and logs in; returns the Authorization header."""
    r = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}
