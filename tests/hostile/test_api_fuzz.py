"""Property-based fuzzing of the whole API (issue 9): every operation of the OpenAPI document, with
paths, query strings and bodies drawn from its schemas and then broken (wrong enum values and
types, nulls, missing and extra fields, huge numbers and strings, deep nesting, raw garbage), other
users' ids, ids that do not exist, no token, a garbage token and another user's token. Whatever
the request, the server answers without crashing, without a sanitizer report in its log, without
a 5xx (501 only where the document says so), every 4xx is a problem+json, every 2xx is a status the
document lists for the operation, and another user's resources are never shown or changed.

APEX_FUZZ_EXAMPLES (default 20) is the number of examples per operation; `make fuzz` runs many
more against the ASan build. Hypothesis is derandomized and keeps no database, so a run is
reproducible and writes nothing to the tree."""
import copy
import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps a character table cache in .hypothesis/ under the working directory (the
# checkout): kept in the temporary directory instead, so a run writes nothing to the tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "apex-hypothesis"))

from conftest import BIN, PASSWORD, PROBLEM_TYPE_BASE, Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = int(os.environ.get("APEX_FUZZ_EXAMPLES", "20"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer", "ERROR: UndefinedBehaviorSanitizer")
MISSING_ID = "00000000-0000-4000-8000-000000000000"
METHODS = ("get", "post", "put", "patch", "delete")

with open(os.path.join(ROOT, "src", "api", "openapi.json")) as _f:
    DOC = json.load(_f)
OPS = [(m.upper(), p, op) for p, ops in DOC["paths"].items() for m, op in ops.items() if m in METHODS]


def op_id(o):
    return f"{o[0]} {o[1]}"


def secured(op):
    return bool(op.get("security", DOC.get("security")))


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        node = DOC
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def example(name="rsi_mean_reversion.json"):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return json.load(f)


INDICATORS = ["open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4", "sma", "ema", "wma", "dema", "tema", "rsi",
              "macd", "bbands", "atr", "natr", "stoch", "stochrsi", "adx", "plus_di", "minus_di", "cci", "mfi", "obv", "roc",
              "willr", "sar", "vwap"]
PARAMS = ["period", "fast", "slow", "signal", "k", "d", "k_smooth", "stddev", "acceleration", "maximum", "anchor"]
OUTPUTS = ["macd", "signal", "hist", "upper", "middle", "lower", "fastk", "fastd", "slowk", "slowd", "rsi", "sma", "value"]
OPERATORS = ["less_than", "greater_than", "less_equal", "greater_equal", "equals", "crosses_above", "crosses_below", "between"]
EDGE_NUMBERS = st.sampled_from([0, 1, 2, -1, 3, 99_999, 100_000, 100_001, 525_600, 2**31 - 1, 2**31, 1e9, 0.5, 1.5, 1e-9,
                                -0.0, 1e308, 14, 26, 9, 0.02, 0.2])
DATES = st.sampled_from(["2014-02-30", "0000-01-01", "9999-12-31T23:59:59Z", "2014-01-01T25:61:61Z", "1970-01-01",
                         "-0001-01-01", "2014-1-1", "+275760-09-13", "2013-06-01", "2014-12-31", "1995-01-03", "2030-01-01",
                         "2014-06-01T12:00:00+14:00", "2014-06-01T12:00:00.123456789Z", "1e10", "18446744073709551616"])
TIMEFRAMES = st.sampled_from(["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M", "0m", "-1h", "999999999d", "1d1", "d",
                              "60s", "2d", "1D", "1y", "3w", "100000m"])


@st.composite
def operand(draw):
    o = {}
    if draw(st.integers(0, 4)) == 0:
        o["price"] = draw(st.sampled_from(["open", "high", "low", "close", "volume", "vwap", ""]))
    else:
        o["indicator"] = draw(st.sampled_from(INDICATORS).map(lambda n: n.upper() if draw(st.booleans()) else n))
        if draw(st.booleans()):
            o["params"] = draw(st.dictionaries(st.sampled_from(PARAMS), st.one_of(EDGE_NUMBERS, hostile_value()), max_size=3))
        if draw(st.integers(0, 2)) == 0:
            o["output"] = draw(st.sampled_from(OUTPUTS))
    if draw(st.integers(0, 2)) == 0:
        o["offset"] = draw(st.one_of(EDGE_NUMBERS, st.integers(-5, 1000)))
    return o


@st.composite
def condition(draw):
    c = draw(operand())
    c["operator"] = draw(st.sampled_from(OPERATORS))
    c["value"] = draw(st.one_of(EDGE_NUMBERS, st.lists(EDGE_NUMBERS, min_size=0, max_size=3), operand(), hostile_value()))
    if draw(st.integers(0, 3)) == 0:
        c["tolerance"] = draw(EDGE_NUMBERS)
    return c


@st.composite
def rule_doc(draw):
    return {"id": draw(st.sampled_from(["r1", "rsi_oversold", "", "x" * 300])), "name": draw(TEXT),
            "signal": draw(st.sampled_from(["BUY", "SELL", "HOLD", "buy", ""])),
            "logic": draw(st.sampled_from(["AND", "OR", "NOT", "XOR"])),
            "conditions": draw(st.lists(condition(), max_size=4))}


RULE = {"name": "RSI oversold", "description": "buy the dip", "signal": "BUY", "logic": "AND",
        "conditions": [{"indicator": "RSI", "params": {"period": 14}, "operator": "less_than", "value": 30}]}


# --- values: valid ones from a schema, hostile ones, and mutations of a valid document ---

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
HUGE_INTS = st.sampled_from([2**31, -2**31 - 1, 2**53 + 1, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64, 10**40, -10**40])
HUGE_FLOATS = st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1.7976931348623157e308, 1e-310, 0.1 + 0.2])


def _repeat(c, n):
    return c * n


def huge_string():
    return st.builds(_repeat, st.sampled_from(["a", "\u00e9", "\u4e2d", "\U0001F600", "\\", '"', "\u0000", "%"]),
                     st.sampled_from([256, 4097, 70_000, 1_100_000]))


def _nest(n, arrays):
    v = 1
    for _ in range(n):
        v = [v] if arrays else {"a": v}
    return v


def hostile_value():
    """Anything JSON can carry, of the wrong kind for most fields."""
    return st.one_of(
        st.none(), st.booleans(), st.integers(), HUGE_INTS, st.floats(allow_nan=False, allow_infinity=False), HUGE_FLOATS,
        TEXT, st.sampled_from(["", " ", "null", "true", "0", "-1", "1e999", "NaN", "../../etc/passwd", "%s%n%x", "\u0000",
                               "'; DROP TABLE users; --", "BUY", "EUR", "paper", "live", MISSING_ID, "2014-13-45", "\ud7ff"]),
        huge_string(), DATES, TIMEFRAMES, EDGE_NUMBERS, st.lists(st.integers(), max_size=5), st.dictionaries(TEXT, st.integers(), max_size=3),
        st.booleans().flatmap(lambda arrays: st.sampled_from([64, 600]).map(lambda n: _nest(n, arrays))),
    )


def from_schema(schema, depth=0):
    """A value the schema allows (as far as a schema says: the Rule object is free-form)."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or not schema:
        return hostile_value() if depth < 3 else st.none()
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "oneOf" in schema or "anyOf" in schema:
        return st.one_of([from_schema(s, depth + 1) for s in schema.get("oneOf", schema.get("anyOf"))])
    t = schema.get("type")
    if isinstance(t, list):
        return st.one_of([from_schema(dict(schema, type=x), depth + 1) for x in t])
    if t == "null":
        return st.none()
    if t == "boolean":
        return st.booleans()
    if t == "integer":
        return st.integers(schema.get("minimum", -1000), schema.get("maximum", 10**6))
    if t == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False)
    if t == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) < 30)
        if schema.get("format") == "email":
            return st.builds(lambda u: f"fz-{u}@example.com", st.uuids().map(lambda u: u.hex[:12]))
        if schema.get("format") == "uuid":
            return st.uuids().map(str)
        return st.text(st.characters(blacklist_categories=("Cs",)), min_size=schema.get("minLength", 0),
                       max_size=schema.get("maxLength", 30))
    if t == "array":
        return st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=3)
    if t == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if not props:
            return rule_doc() if depth < 3 else st.dictionaries(TEXT, st.integers(), max_size=2)
        if "conditions" in props:
            return rule_doc()
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: from_schema(v, depth + 1) for k, v in props.items() if k in required},
                                     optional={k: from_schema(v, depth + 1) for k, v in props.items() if k not in required})
    return hostile_value()


@st.composite
def mutated(draw, seed):
    """A valid document with a few of its fields broken: replaced, set to null, removed, or joined
    by an unknown one; the walk goes into nested objects and arrays."""
    doc = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 3))):
        node, path = doc, []
        while isinstance(node, (dict, list)) and node and draw(st.integers(0, 2)) > 0:
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            if not isinstance(node[key], (dict, list)):
                break
            node = node[key]
        if isinstance(node, dict):
            keys = sorted(node)
            how = draw(st.sampled_from(["replace", "null", "drop", "extra"] if keys else ["extra"]))
            if how == "extra":
                node[draw(st.sampled_from(["extra", "id", "user_id", "owner", "__proto__", "is_admin", ""]))] = draw(hostile_value())
            else:
                key = draw(st.sampled_from(keys))
                if how == "drop":
                    del node[key]
                elif how == "null":
                    node[key] = None
                else:
                    node[key] = draw(hostile_value())
        elif isinstance(node, list):
            value = draw(st.one_of(hostile_value(), condition(), rule_doc()))
            if node and draw(st.booleans()):
                node[draw(st.integers(0, len(node) - 1))] = value
            else:
                node.append(value)
    return doc


@st.composite
def raw_body(draw, op_schema, seed):
    """(content, content-type) of a request body."""
    kind = draw(st.sampled_from(["schema", "schema", "seed", "seed", "mutated", "mutated", "mutated", "mutated",
                                 "top", "raw", "type", "nan", "nest", "empty"]))
    ctype = "application/json"
    if kind == "schema" or (kind in ("seed", "mutated") and seed is None):
        doc = draw(from_schema(op_schema))
    elif kind == "seed":
        doc = seed
    elif kind == "mutated":
        doc = draw(mutated(seed))
    elif kind == "top":
        doc = draw(hostile_value())
    elif kind == "nest":
        n, arrays = draw(st.sampled_from([600, 5000, 100_000])), draw(st.booleans())
        return (("[" * n + "]" * n) if arrays else ('{"a":' * n + "1" + "}" * n)).encode(), ctype
    elif kind == "empty":
        return b"", ctype
    elif kind == "nan":
        return json.dumps({"name": float("nan"), "initial_balance": float("inf"), "email": -float("inf")}), ctype
    elif kind == "type":
        ctype = draw(st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
                                      "multipart/form-data; boundary=x", "", "application/jsonx"]))
        doc = seed if seed is not None else {}
    else:
        return draw(st.sampled_from([b"{", b"{\"a\":", b"[1,2", b"{\"a\" 1}", b"\x00\x01\x02", b"{\"a\":1}garbage",
                                     b"{\"a\":1,\"a\":2}", b"\xef\xbb\xbf{}", b"{'a': 1}", b"tru", b"1e99999",
                                     b"{\"a\":\"\\ud800\"}", b"{\"a\":\"\\u0000\"}", b"  ", b"{}" * 1000])), ctype
    return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode(), ctype


# --- the world the fuzzer walks in: real users and their real resources ---

class World:
    def __init__(self, srv):
        self.srv = srv
        self.c = srv.client
        self.log_pos = 0
        self.undocumented = {}   # (op, status) -> count: a 4xx the document does not list
        self.seen = {}           # op -> set of statuses

    def login(self, email):
        r = self.c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return r.json()

    def user(self, email):
        r = self.c.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        return self.login(email)

    def make(self, kind, h):
        """One resource of kind for the user of headers h; its id."""
        c = self.c
        if kind == "strategies":
            r = c.post("/api/v1/strategies", json=example(), headers=h)
        elif kind == "rules":
            r = c.post("/api/v1/rules", json=RULE, headers=h)
        elif kind == "portfolios":
            r = c.post("/api/v1/portfolios", json={"name": "fuzz", "initial_balance": "10000.00", "base_currency": "EUR"},
                       headers=h)
        elif kind == "api-keys":
            r = c.post("/api/v1/api-keys", json={"exchange": "binance", "label": "fuzz", "api_key": "k" * 32,
                                                 "api_secret": "s" * 40}, headers=h)
        elif kind == "market/sync":  # a market-data job against the local Binance, waited for
            r = c.post("/api/v1/market/sync", json={"symbol": "BTC/USDT", "timeframe": "1d", "days": 1}, headers=h)
            deadline = time.monotonic() + 30
            while r.status_code == 202 and c.get(f"/api/v1/market/sync/{r.json()['id']}", headers=h).json()["status"] \
                    in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            sid = self.make("strategies", h)
            r = c.post("/api/v1/backtests", json={"strategy_id": sid, "start_date": "2013-01-01", "end_date": "2014-12-31"},
                       headers=h)
        assert r.status_code in (201, 202), (kind, r.status_code, r.text)
        return r.json()["id"]

    def wait_backtest(self, h, bid):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            b = self.c.get(f"/api/v1/backtests/{bid}", headers=h).json()
            if b["status"] not in ("pending", "running"):
                return b
            time.sleep(0.1)
        pytest.fail("backtest never finished")

    def new_log(self):
        with open(self.srv.log_path, errors="replace") as f:
            f.seek(self.log_pos)
            text = f.read()
            self.log_pos = f.tell()
        return text


def b_key(w):
    """B's first API key as B's list shows it (keys have no GET of their own; B may add more)."""
    for page in range(1, 1000):
        items = w.c.get("/api/v1/api-keys", headers=w.hb, params={"page": page, "limit": 100}).json()["items"]
        for item in items:
            if item["id"] == w.ids["B"]["api-keys"]:
                return item
        if not items:
            return None


KINDS = ("strategies", "rules", "backtests", "portfolios", "api-keys", "market/sync")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data = tmp_path_factory.mktemp("apexfuzz")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["APEX_DATA_DIR"] = str(data)
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([BIN, "data", "import", os.path.join(ROOT, "data", "orcl-1995-2014.csv"), "--symbol", "ORCL",
                    "--timeframe", "1d"], env=env, check=True, capture_output=True)
    # The order book comes from a venue: Binance's local stand-in (tests/market/stub_binance.py), so
    # the fuzzed routes meet real answers (an unreachable venue is a 503, tested in tests/api).
    stub = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "market", "stub_binance.py")],
                            stdout=subprocess.PIPE, text=True)
    venue = f"http://127.0.0.1:{int(stub.stdout.readline())}"
    try:
        srv = Server(data, env={"ACCOUNT_REQUESTS_PER_MINUTE": "100000", "HTTP_MAX_CONNECTIONS_PER_CLIENT": "100000",
                                "RATE_LIMIT_PER_MINUTE": "1000000", "BINANCE_BASE_URL": venue})
    except BaseException:
        stub.kill()
        raise
    try:
        w = World(srv)
        w.a, w.b = w.user("fuzz-a@example.com"), w.user("fuzz-b@example.com")
        w.user("fuzz-c@example.com")  # the account login, refresh and logout are fuzzed with
        w.ha = {"Authorization": "Bearer " + w.a["access_token"]}
        w.hb = {"Authorization": "Bearer " + w.b["access_token"]}
        w.ids = {"A": {k: w.make(k, w.ha) for k in KINDS}, "B": {k: w.make(k, w.hb) for k in KINDS}}
        for who, h in (("A", w.ha), ("B", w.hb)):
            assert w.wait_backtest(h, w.ids[who]["backtests"])["status"] == "completed"
        w.c_refresh = w.login("fuzz-c@example.com")["refresh_token"]
        # What B owns, as B sees it: compared after the run (A must have changed nothing of it).
        w.b_before = {k: w.c.get(f"/api/v1/{k}/{i}", headers=w.hb).json() for k, i in w.ids["B"].items() if k != "api-keys"}
        w.b_before["api-keys"] = b_key(w)
        w.new_log()
        yield w
    finally:
        if srv.proc.returncode is None and srv.proc.poll() is None:
            srv.stop()
        stub.kill()
        stub.wait()


def kind_of(path):
    return next((k for k in KINDS if path == f"/api/v1/{k}" or path.startswith(f"/api/v1/{k}/")), None)


def seed_body(w, method, path):
    kind = kind_of(path)
    if path == "/api/v1/auth/register":
        return {"email": f"fz-{uuid.uuid4().hex[:10]}@example.com", "password": PASSWORD, "first_name": "F", "last_name": "Z"}
    if path == "/api/v1/auth/login":
        return {"email": "fuzz-c@example.com", "password": PASSWORD}
    if path in ("/api/v1/auth/refresh", "/api/v1/auth/logout"):
        return {"refresh_token": w.c_refresh}
    if path == "/api/v1/auth/forgot":
        return {"email": "fuzz-c@example.com"}
    if path == "/api/v1/auth/reset":
        return {"token": "A" * 43, "password": "a brand new passphrase"}
    if path == "/api/v1/auth/me":
        return {"first_name": "Ada", "last_name": "L", "timezone": "Europe/Paris", "preferred_currency": "USD"}
    if path.endswith("/activate"):
        return {"mode": "paper"}
    if kind == "strategies":
        return example()
    if kind == "rules":
        return copy.deepcopy(RULE)
    if kind == "backtests":
        return {"strategy_id": w.ids["A"]["strategies"], "start_date": "2013-01-01", "end_date": "2014-12-31",
                "initial_capital": 10000, "commission_pct": 0.1, "slippage_pct": 0}
    if kind == "portfolios":
        return ({"name": "P", "description": None, "base_currency": "USD", "broker": None, "is_active": True} if method == "PUT"
                else {"name": "P", "initial_balance": "2500.50", "base_currency": "USD", "is_paper": True})
    if kind == "market/sync":
        return {"symbol": "BTC/USDT", "timeframe": "1d", "days": 1}
    if kind == "api-keys":
        return {"exchange": "kraken", "label": "L", "api_key": "key-1234567890", "api_secret": "secret-1234567890",
                "passphrase": None, "is_paper": True}
    return None


GARBAGE_IDS = ["x", "0", "-1", "null", "..", "%00", "%2e%2e", "' OR '1'='1", "a" * 5000, MISSING_ID.upper(),
               MISSING_ID + "0", MISSING_ID[:-1], "{id}", "00000000-0000-0000-0000-000000000000", "\u00e9\u4e2d"]


def path_value(w, draw, method, path, name, who_token):
    """(segment, owner): owner "A" when the id is A's own resource (2xx possible), else None."""
    if name == "symbol":
        return draw(st.sampled_from(["ORCL", "BTC/USDT", "orcl", "NOPE", "ORCL/", "/", "..", "a" * 3000, "%2F", "ORCL%00",
                                     "%E2%82%AC", "BTC%2FUSDT", "ORCL?x=1", "ORCL#x"])), None
    kind = kind_of(path)
    choice = draw(st.sampled_from(["own", "own", "own", "own", "other", "random", "missing", "garbage", "wrongkind"]))
    if who_token == "B" and choice in ("own", "other"):
        return w.ids["A"][kind], "A"  # B only ever aims at A's resources: B's own must stay as they were
    if choice == "own":
        if method == "DELETE" and who_token == "A":
            return w.make(kind, w.ha), "A"  # a victim of its own: the rest of the run keeps A's resources
        return w.ids["A"][kind], "A"
    if choice == "other":
        return w.ids["B"][kind], "B"
    if choice == "random":
        return str(draw(st.uuids())), None
    if choice == "missing":
        return MISSING_ID, None
    if choice == "wrongkind":
        return w.ids["A"][draw(st.sampled_from([k for k in KINDS if k != kind]))], None
    g = draw(st.one_of(st.sampled_from(GARBAGE_IDS), TEXT.filter(bool)))
    return urllib.parse.quote(g, safe="") if draw(st.booleans()) else urllib.parse.quote(g, safe="/"), None


def query_value(draw, name, schema):
    schema = resolve(schema)
    if name in ("start", "end"):
        return draw(st.one_of(DATES, TEXT))
    if name == "timeframe":
        return draw(st.one_of(TIMEFRAMES, TEXT))
    return draw(st.one_of(from_schema(schema).map(lambda v: v if isinstance(v, str) else json.dumps(v)),
                          st.sampled_from(["", "0", "-1", "1.5", "abc", "99999999999999999999", "1e3", " 1", "1 ",
                                           "2014-01-01", "2014-13-45", "1d", "7x", "-created_at", "created_at,name",
                                           "\u0000", "a" * 5000, "%00", "null", "[]"]),
                          TEXT))


def reached(path, r):
    """Whether the request went to the operation at all: a path segment such as ".." or "a/b" sends
    it elsewhere (httpx normalizes the path), where only the answers' common properties hold."""
    pattern = re.escape(path).replace(r"\{id\}", "[^/]+").replace(r"\{symbol\}", ".+")
    return re.fullmatch(pattern, urllib.parse.unquote(r.request.url.raw_path.decode().split("?")[0])) is not None


def check_answer(w, method, path, op, r, token, owner):
    """The properties every answer has; returns the answer."""
    documented = {int(s) for s in op["responses"] if s.isdigit()}
    st_ = r.status_code
    on_route = reached(path, r)
    if not on_route:
        documented, op, token, owner = {501}, {"responses": {}}, None, None
    w.seen.setdefault(f"{method} {path}", set()).add(st_)
    log = w.new_log()
    for mark in SANITIZER_MARKS:
        assert mark not in log, f"{method} {r.request.url} -> sanitizer report:\n{log[-6000:]}"
    if st_ >= 500:
        assert st_ == 501 and 501 in documented, f"{method} {r.request.url} -> {st_}: {r.text[:2000]}"
    if st_ >= 400:
        ctype = r.headers.get("content-type", "")
        assert ctype.startswith("application/problem+json"), (method, str(r.request.url), st_, ctype, r.text[:500])
        body = r.json()
        for field in ("type", "title", "status", "detail", "instance", "code"):
            assert field in body, (field, method, str(r.request.url), body)
        assert body["status"] == st_ and isinstance(body["code"], int), body
        assert body["type"].startswith(PROBLEM_TYPE_BASE) and body["title"], body
        assert isinstance(body["detail"], str) and isinstance(body["instance"], str), body
        if st_ not in documented and on_route:
            key = (f"{method} {path}", st_, body["code"])
            w.undocumented[key] = w.undocumented.get(key, 0) + 1
    elif 200 <= st_ < 300:
        assert st_ in documented, f"{method} {r.request.url} -> {st_} not in {sorted(documented)}: {r.text[:500]}"
        content = op["responses"][str(st_)].get("content", {})
        if "application/json" in content:
            assert r.headers.get("content-type", "").startswith("application/json"), r.headers
            r.json()
    if secured(op) and token in BAD_TOKENS:
        # 413 and 415 come first: a body over the limit or not JSON is refused before anything else.
        assert st_ in (401, 413, 415, 429), f"{method} {r.request.url} without a valid token -> {st_}: {r.text[:300]}"
        if st_ == 401:
            assert r.json()["code"] in (401, 1002, 1003), r.text
    if owner == "B" and token == "A" or owner == "A" and token == "B":
        assert not 200 <= st_ < 300, f"{method} {r.request.url}: another user's resource answered {st_}: {r.text[:300]}"
    return r


TOKENS = {"none": None, "garbage": "Bearer garbage.garbage.garbage", "empty": "Bearer", "basic": "Basic YTpi",
          "long": "Bearer " + "A" * 20000, "dots": "Bearer " + "." * 300, "alg-none": (
              "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDAiLCJ"
              "leHAiOjk5OTk5OTk5OTl9."),
          "expired": ("Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMD"
                      "AwMDAiLCJleHAiOjF9.c2lnbmF0dXJl")}


BAD_TOKENS = sorted(TOKENS) + ["tampered"]


def auth_headers(w, token):
    if token in ("A", "B"):
        return dict(w.ha if token == "A" else w.hb)
    if token == "tampered":  # A's token with another signature: same header and claims
        t = w.a["access_token"]
        return {"Authorization": "Bearer " + t[:-6] + ("AAAAAA" if not t.endswith("AAAAAA") else "BBBBBB")}
    return {"Authorization": TOKENS[token]} if TOKENS[token] else {}


def send(w, method, url, headers, content=None):
    try:
        return w.c.request(method, url, headers=headers, content=content, timeout=30)
    except httpx.HTTPError as e:
        time.sleep(0.5)
        pytest.fail(f"{method} {url}: {e!r} (server alive: {w.srv.proc.poll() is None})\n{w.new_log()[-6000:]}")


def fuzz_once(w, data, method, path, op):
    draw = data.draw
    token = "A"
    if secured(op):
        token = draw(st.sampled_from(["A"] * 14 + ["B"] * 3 + BAD_TOKENS))
    elif path != "/api/v1/auth/logout":  # a logout with A's bearer token would end it for the rest of the run
        token = draw(st.sampled_from(["none", "none", "none", "A", "garbage"]))
    else:
        token = draw(st.sampled_from(["none", "garbage"]))
    headers = auth_headers(w, token)
    owner, url = None, path
    for p in op.get("parameters", []):
        if p["in"] == "path":
            seg, who = path_value(w, draw, method, path, p["name"], token)
            owner = owner or who
            url = url.replace("{" + p["name"] + "}", seg)
    query = []
    for p in op.get("parameters", []):
        if p["in"] == "query" and draw(st.booleans()):
            query.append((p["name"], query_value(draw, p["name"], p.get("schema", {}))))
    if draw(st.integers(0, 9)) == 0:
        query.append((draw(st.sampled_from(["page", "limit", "x", "", "sort[]"])), draw(TEXT)))
    if query:
        url += "?" + urllib.parse.urlencode(query)
    content = None
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        content, ctype = draw(raw_body(schema, seed_body(w, method, path)))
        if ctype:
            headers["Content-Type"] = ctype
    elif method in ("POST", "PUT", "PATCH", "DELETE") and draw(st.integers(0, 4)) == 0:
        content = draw(st.sampled_from([b"{}", b"garbage", b"[" * 1000]))
        headers["Content-Type"] = "application/json"
    r = send(w, method, url, headers, content)
    check_answer(w, method, path, op, r, token, owner)


@pytest.mark.parametrize("method, path, op", OPS, ids=[op_id(o) for o in OPS])
def test_every_operation_survives_hostile_requests(world, method, path, op):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        fuzz_once(world, data, method, path, op)

    run()


def test_served_document_is_the_one_fuzzed(world):
    r = world.c.get("/api/v1/openapi.json")
    assert r.status_code == 200
    served = {(m.upper(), p) for p, ops in r.json()["paths"].items() for m in ops if m in METHODS}
    assert served == {(m, p) for m, p, _ in OPS}


@pytest.mark.parametrize("method, path, op", [o for o in OPS if "{id}" in o[1]], ids=[op_id(o) for o in OPS if "{id}" in o[1]])
def test_another_users_resource_is_not_found(world, method, path, op):
    """A's token on B's id, with a body that would succeed on A's own: 404, never anything else."""
    w = world
    headers = dict(w.ha)
    body = seed_body(w, method, path)
    content = None
    if body is not None and "requestBody" in op:
        content = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    r = send(w, method, path.replace("{id}", w.ids["B"][kind_of(path)]), headers, content)
    check_answer(w, method, path, op, r, "A", "B")
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("method, path, op", [o for o in OPS if secured(o[2])], ids=[op_id(o) for o in OPS if secured(o[2])])
@pytest.mark.parametrize("token", ["none", "garbage", "expired", "alg-none", "tampered"])
def test_every_secured_operation_wants_a_token(world, method, path, op, token):
    w = world
    headers = auth_headers(w, token)
    url = path.replace("{id}", w.ids["A"].get(kind_of(path) or "", MISSING_ID)).replace("{symbol}", "ORCL")
    content = None
    if "requestBody" in op:
        content = json.dumps(seed_body(w, method, path)).encode()
        headers["Content-Type"] = "application/json"
    r = send(w, method, url, headers, content)
    check_answer(w, method, path, op, r, token, None)
    assert r.status_code == 401, r.text


def test_zz_nothing_of_b_changed_and_the_server_stops_clean(world):
    """Runs last (file order): B's resources are as they were, A still works, and the server exits 0
    with no sanitizer report (LeakSanitizer reports at exit)."""
    w = world
    for k, i in w.ids["B"].items():
        if k != "api-keys":
            r = w.c.get(f"/api/v1/{k}/{i}", headers=w.hb)
            assert r.status_code == 200 and r.json() == w.b_before[k], (k, r.text)
    assert b_key(w) == w.b_before["api-keys"]
    assert w.c.get("/api/v1/auth/me", headers=w.ha).status_code == 200
    w.srv.stop()
    log = w.srv.log_text()
    for mark in SANITIZER_MARKS:
        assert mark not in log, log[-6000:]
    print("\nstatuses seen per operation:")
    for key, seen in sorted(w.seen.items()):
        print(f"  {key}: {sorted(seen)}")
    if w.undocumented:
        print("\n4xx answers the OpenAPI document does not list (operation, status, code): count")
        for key, n in sorted(w.undocumented.items()):
            print(f"  {key}: {n}")
