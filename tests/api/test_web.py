"""The web UI's files (APEX_WEB_DIR): a GET outside /api/ that no route takes is a file of the
built UI, or its index.html for a page of the single-page app; index.html is never cached,
hashed assets are cached for good, and every answer carries the spec's security headers. The API
keeps answering JSON problems for what it does not have."""
import pytest

from conftest import assert_problem

INDEX = b'<!doctype html><title>ApexTrade</title><script type="module" src="/assets/app-1a2b3c.js"></script>'


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("webdist")
    (root / "index.html").write_bytes(INDEX)
    (root / "assets").mkdir()
    (root / "assets" / "app-1a2b3c.js").write_text("console.log('app')")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / ".env").write_text("SECRET=1")
    return root


@pytest.fixture
def srv(start_server, web):
    return start_server(env={"APEX_WEB_DIR": str(web)})


def test_the_root_and_client_routes_get_index_html_never_cached(srv):
    for path in ("/", "/login", "/backtests/3f1c/trades", "/market?symbol=BTC/USDT"):
        r = srv.client.get(path)
        assert r.status_code == 200, path
        assert r.content == INDEX
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-security-policy"] == "default-src 'self'"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"


def test_hashed_assets_are_cached_for_good_other_files_revalidated(srv):
    r = srv.client.get("/assets/app-1a2b3c.js")
    assert r.status_code == 200 and r.text == "console.log('app')"
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    r = srv.client.get("/favicon.svg")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    assert r.headers["content-type"] == "image/svg+xml"
    h = srv.client.head("/")
    assert h.status_code == 200 and h.headers["cache-control"] == "no-store"


def test_missing_files_hidden_files_and_traversal_are_404_problems(srv):
    for path in ("/assets/missing-9z.js", "/.env", "/assets/%2e%2e/%2e%2e/etc/passwd", "/..%2findex.html"):
        r = srv.client.get(path)
        assert_problem(r, 404)


def test_the_api_and_other_methods_are_not_the_ui(srv):
    assert_problem(srv.client.get("/api/v1/no-such-endpoint"), 404)
    assert_problem(srv.client.get("/api"), 404)
    assert_problem(srv.client.get("/api/v2/strategies"), 404)
    assert_problem(srv.client.post("/login", json={}), 404)
    r = srv.client.get("/healthz")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")


def test_without_a_built_ui_the_root_is_a_404_problem(start_server, tmp_path):
    srv = start_server(env={"APEX_WEB_DIR": str(tmp_path)})
    assert_problem(srv.client.get("/"), 404)
    assert_problem(srv.client.get("/login"), 404)
