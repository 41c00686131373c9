"""The OpenAPI document and the server's route table describe the same API: every route is
documented and every documented operation is routed, with the same authentication."""
import os
import subprocess

import httpx
import pytest

from test_app_flow import api, BIN  # noqa: F401  (the running server fixture)


def route_lines():
    out = subprocess.run([BIN, "serve", "--routes"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        method, pattern, auth, body_max = line.split()
        yield method.lower(), pattern.replace("*}", "}"), auth == "auth", int(body_max)


def routes():
    return {(method, pattern, auth) for method, pattern, auth, _ in route_lines()}


def test_every_route_is_documented_and_back(api):  # noqa: F811
    doc = api.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    documented = set()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            documented.add((method, path, bool(op.get("security"))))
    table = routes()
    assert table - documented == set(), "routed but not documented (or auth differs)"
    assert documented - table == set(), "documented but not routed (or auth differs)"


def test_every_problem_response_is_documented_as_problem_json(api):  # noqa: F811
    doc = api.get("/api/v1/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for status, resp in op["responses"].items():
                if int(status) >= 400:
                    assert "application/problem+json" in resp["content"], (method, path, status)


def test_documented_body_limits_are_the_servers(api):  # noqa: F811
    doc = api.get("/api/v1/openapi.json").json()
    for method, pattern, _, body_max in route_lines():
        o = doc["paths"][pattern][method]
        if "requestBody" in o:
            assert o["requestBody"]["x-max-body-bytes"] == body_max, (method, pattern)
            assert o["responses"]["413"]["description"] == f"Body over {body_max // 1024} KiB", (method, pattern)
