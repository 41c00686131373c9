"""Black-box harness for `apextrade serve`: builds nothing, runs the binary from APEX_BIN (default
build/apextrade) on 127.0.0.1 with a fresh APEX_DATA_DIR, and stops it with SIGTERM, which must
end it with status 0 within 10 s. DATABASE_URL is passed through from APEX_TEST_PG_URL."""
import os
import re
import signal
import subprocess
import time

import httpx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The suites make many accounts and backtests from 127.0.0.1; servers they start inherit these (the
# limits themselves are tested in tests/hostile/test_accounts.py and tests/unit/test_backtest_events.c).
os.environ.setdefault("ACCOUNT_REQUESTS_PER_MINUTE", "100000")
os.environ.setdefault("BACKTEST_MAX_PER_USER", "1000")  # test_app_flow queues twenty at once
# Tests never leave the machine: the default venue (Binance, for order books) is the discard port, refused at once.
os.environ.setdefault("BINANCE_BASE_URL", "http://127.0.0.1:9")
BIN = os.path.abspath(os.environ.get("APEX_BIN", os.path.join(ROOT, "build", "apextrade")))
# A browser origin is only compared, never contacted: a loopback one keeps every name in the tests local.
ALLOWED_ORIGIN = "http://127.0.0.2:8080"
OTHER_ORIGIN = "http://127.0.0.3:8080"


def _problem_type_base():
    """The prefix of problem "type" URIs, as the spec's error format writes it (its
    validation-error example): an identifier the server prints and nothing fetches."""
    spec = os.path.join(ROOT, "..", "shared", "spec", "apextrade-technical-spec.md")
    with open(spec, encoding="utf-8") as f:
        m = re.search(r'"type":\s*"([^"]+/errors/)validation-error"', f.read())
    assert m, f"{spec}: no problem type example"
    return m.group(1)


PROBLEM_TYPE_BASE = _problem_type_base()
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "x-xss-protection": "1; mode=block",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'self'",
}


class Server:
    """One running server: base URL, an httpx client, its log, and a checked stop()."""

    def __init__(self, data_dir, env=None, args=()):
        self.data_dir = str(data_dir)
        self.log_path = os.path.join(self.data_dir, "server.log")
        full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        # Every request's line: tests read them (the default, sampled, has its own test).
        full_env.update(APEX_DATA_DIR=self.data_dir, APP_ENV="development", ACCESS_LOG="all")
        if os.environ.get("APEX_TEST_PG_URL"):
            full_env["DATABASE_URL"] = os.environ["APEX_TEST_PG_URL"]
        full_env.update(env or {})
        full_env = {k: v for k, v in full_env.items() if v is not None}  # None: leave the variable unset
        self.log = open(self.log_path, "w")
        # Port 0: the server binds a free port itself and prints it, so no race with other tests.
        self.proc = subprocess.Popen([BIN, "serve", "--host", "127.0.0.1", "--port", "0", *args],
                                     env=full_env, stdout=self.log, stderr=self.log, cwd=self.data_dir)
        self.base = self._wait_listening()
        self.client = httpx.Client(base_url=self.base, timeout=10)
        self._wait_healthy()

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def _wait_listening(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", self.log_text())
            if m:
                return m.group(1)
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}: {self.log_text()}")
            time.sleep(0.05)
        self.proc.kill()
        pytest.fail("server did not start: " + self.log_text())

    def _wait_healthy(self):
        for _ in range(200):
            try:
                if self.client.get("/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.proc.kill()
        pytest.fail("server never answered /healthz: " + self.log_text())

    def stop(self, sig=signal.SIGTERM):
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("server did not stop within 10 s of SIGTERM")
        finally:
            self.log.close()
        assert code == 0, f"server exited with {code}: {self.log_text()}"


@pytest.fixture
def start_server(tmp_path_factory):
    """Factory: start_server(env={...}, args=[...]) → Server, stopped (and checked) at teardown."""
    started = []

    def start(env=None, args=()):
        srv = Server(tmp_path_factory.mktemp("apexdata"), env=env, args=args)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if srv.proc.returncode is None:
            srv.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A shared server with CORS for ALLOWED_ORIGIN and the test-only routes."""
    srv = Server(tmp_path_factory.mktemp("apexdata"),
                 env={"CORS_ORIGINS": ALLOWED_ORIGIN, "APEX_TEST_ROUTES": "1"})
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    return server.client


def assert_problem(r, status, code=None):
    """An RFC 7807 body with the fields every problem of ours carries."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status
    assert body["code"] == (code if code is not None else status)
    assert body["type"].startswith(PROBLEM_TYPE_BASE)
    assert body["title"]
    assert body["instance"] == r.request.url.path
    return body


def signal_order(o):
    """The order the engine decided orders in: by candle, a sale before a purchase at one close."""
    return (o["created_at"], o["side"] != "SELL")
