"""`apextrade data download` black-box: the real binary against tests/market/stub_binance.py on
127.0.0.1, into a SQLite database in a temporary --data-dir, read back with Python's sqlite3.
The stub serves klines from a candle file this test writes (2500 one-minute candles: three pages of
at most 1000), counts the API requests it sees (GET /_stub/hits) and plays scripted faults.
--venue kraken and --venue yahoo run the same way against tests/market/stub_kraken.py (BTC/USD, at
most the 720 newest rows a reply, the file's last candle still open) and tests/market/stub_yahoo.py
(AAPL/USD, 1m only, 7-day requests at most, the file's last candle still forming, a null row).
Nothing here reaches outside 127.0.0.1: proxies are switched off for the binary and for urllib."""
import calendar
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(os.environ.get("APEX_BIN", os.path.join(ROOT, "build", "apextrade")))
STUB = os.path.join(ROOT, "tests", "market", "stub_binance.py")
STUB_KRAKEN = os.path.join(ROOT, "tests", "market", "stub_kraken.py")
STUB_YAHOO = os.path.join(ROOT, "tests", "market", "stub_yahoo.py")
T0 = 1704067200000  # 2024-01-01T00:00:00Z, the first candle
MIN = 60000
N = 2500
SINCE = "2024-01-01"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: arguments are refused before any request

# curl honours these; the tests must never go through a proxy.
PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def candle_file(directory, times):
    """A stub's candle file with one candle at each of times (ms) and its rows as (time, open, high,
    low, close, volume) floats."""
    rows = []
    for i, t in enumerate(times):
        o = 100 + (i % 97) * 0.25
        c = o + (0.5 if i % 2 else -0.25)
        rows.append((t, o, max(o, c) + 0.75, min(o, c) - 0.5, c, 10 + (i % 13) * 0.125))
    path = directory / "candles_1m.csv"
    with open(path, "w") as f:
        f.write("# open time ms,open,high,low,close,volume\n")
        for r in rows:
            f.write("%d,%s,%s,%s,%s,%s\n" % (r[0], *("%.2f" % v if k < 4 else "%.3f" % v for k, v in enumerate(r[1:]))))
    return str(path), rows


@pytest.fixture(scope="module")
def candles(tmp_path_factory):
    """The Binance stub's candle file and its rows."""
    return candle_file(tmp_path_factory.mktemp("stub"), [T0 + i * MIN for i in range(N)])


class Stub:
    """One stub (stub_binance.py unless script says otherwise) on 127.0.0.1 with the given faults;
    url and hits()."""

    def __init__(self, candle_file, faults="", stall=2, script=STUB, extra=()):
        self.proc = subprocess.Popen([sys.executable, script, "--candles", candle_file, "--faults", faults,
                                      "--stall", str(stall), *extra], stdout=subprocess.PIPE, text=True)
        port = self.proc.stdout.readline().strip()
        assert port.isdigit(), f"the stub printed no port: {port!r}"
        self.url = f"http://127.0.0.1:{port}"

    def hits(self):
        with LOCAL.open(self.url + "/_stub/hits", timeout=5) as r:
            return int(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def stub(candles):
    made = []

    def start(faults="", stall=2):
        s = Stub(candles[0], faults, stall)
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()


def env():
    e = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and k not in ("DATABASE_URL", "APEX_DATA_DIR")}
    e["NO_PROXY"] = e["no_proxy"] = "*"
    return e


def download(data_dir, *args, base_url=None, symbol="BTC/USDT", timeframe="1m", since=SINCE, venue="binance", **kw):
    argv = [BIN, "data", "download", "--venue", venue, "--data-dir", str(data_dir)]
    for flag, v in (("--symbol", symbol), ("--timeframe", timeframe), ("--since", since), ("--base-url", base_url)):
        if v is not None:
            argv += [flag, v]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=120, env=env(), **kw)


def stored(data_dir, symbol="BTC/USDT"):
    """The stored candles as the candle file's tuples (SQLite keeps candle prices as REAL), and their sources."""
    path = os.path.join(str(data_dir), "apextrade.db")
    if not os.path.exists(path):
        return [], set()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT time, open, high, low, close, volume, source FROM ohlcv "
                          "WHERE symbol = ? AND timeframe = '1m' ORDER BY time", (symbol,)).fetchall()
    return [tuple(r[:6]) for r in rows], {r[6] for r in rows}


def distinct_times(data_dir, symbol):
    """(rows, distinct open times) of symbol's stored 1m candles: equal when nothing is duplicated."""
    with sqlite3.connect(os.path.join(str(data_dir), "apextrade.db")) as db:
        return db.execute("SELECT count(*), count(DISTINCT time) FROM ohlcv WHERE symbol = ? AND timeframe = '1m'",
                          (symbol,)).fetchone()


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"wanted one line on stderr, got: {text!r}"
    return lines[0]


def test_download_stores_every_candle_of_the_range(stub, candles, tmp_path):
    s = stub()
    r = download(tmp_path, base_url=s.url)
    assert r.returncode == 0, r.stderr
    rows, sources = stored(tmp_path)
    assert rows == candles[1]
    assert sources == {"binance"}
    assert s.hits() == 4  # pages of 1000, 1000 and 500, then an empty one
    assert r.stdout == (f"stored {N} candles of BTC/USDT 1m from binance, {iso(T0)} to {iso(T0 + (N - 1) * MIN)}, "
                        f"into sqlite {tmp_path}/apextrade.db\n")
    assert r.stderr == ""  # not a terminal: no progress bar


def test_until_and_resume(stub, candles, tmp_path):
    s = stub()
    half = T0 + 1500 * MIN
    r = download(tmp_path, "--until", iso(half), base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert stored(tmp_path)[0] == candles[1][:1500]
    assert s.hits() == 2  # the second page runs past --until: no third request
    assert f"stored 1500 candles of BTC/USDT 1m from binance, {iso(T0)} to {iso(half - MIN)}," in r.stdout

    r = download(tmp_path, base_url=s.url)  # the same range start: resumes after the stored candles
    assert r.returncode == 0, r.stderr
    assert s.hits() == 4  # 1000 rows from the last stored candle on, then an empty page
    assert f"stored 1000 candles of BTC/USDT 1m from binance, {iso(half)} to {iso(T0 + (N - 1) * MIN)}," in r.stdout
    assert r.stdout.endswith(" (resumed after the candles already stored)\n")
    assert stored(tmp_path)[0] == candles[1]

    r = download(tmp_path, base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 5  # one empty page: nothing new
    assert r.stdout.startswith(f"stored 0 candles of BTC/USDT 1m from binance: none new from {iso(T0 + N * MIN)}")
    assert stored(tmp_path)[0] == candles[1]


def test_a_500_is_retried(stub, candles, tmp_path):
    s = stub(faults="500")
    r = download(tmp_path, base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 5  # the failed request and its retry, then the four of a clean download
    assert stored(tmp_path)[0] == candles[1]


def test_unknown_symbol(stub, tmp_path):
    s = stub()
    r = download(tmp_path, symbol="ETH/USDT", base_url=s.url)
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert line.startswith("apextrade data download: unknown symbol 'ETH/USDT' at binance"), line
    assert "Invalid symbol" in line
    assert stored(tmp_path, "ETH/USDT")[0] == []


def test_venue_unreachable(tmp_path):
    r = download(tmp_path, base_url=CLOSED_PORT)
    assert r.returncode == 1
    assert one_line(r.stderr).startswith("apextrade data download: binance is unavailable: ")


def test_ctrl_c_keeps_the_pages_stored(stub, candles, tmp_path):
    # The second request stalls 3 s and is then retried: Ctrl-C arrives while it is under way.
    s = stub(faults="ok,timeout", stall=3)
    argv = [BIN, "data", "download", "--venue", "binance", "--symbol", "BTC/USDT", "--timeframe", "1m",
            "--since", SINCE, "--base-url", s.url, "--data-dir", str(tmp_path)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    deadline = time.monotonic() + 30
    while s.hits() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted: 2000 candles stored" in one_line(err)
    assert stored(tmp_path)[0] == candles[1][:2000]  # the page under way when Ctrl-C came is kept too

    r = download(tmp_path, base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert "stored 500 candles" in r.stdout
    assert stored(tmp_path)[0] == candles[1]


def test_progress_bar_on_a_terminal(stub, tmp_path):
    s = stub()
    master, slave = pty.openpty()
    argv = [BIN, "data", "download", "--venue", "binance", "--symbol", "BTC/USDT", "--timeframe", "1m",
            "--since", SINCE, "--base-url", s.url, "--data-dir", str(tmp_path)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, env=env())
    os.close(slave)
    bar = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        bar += chunk
    out, _ = p.communicate(timeout=30)
    os.close(master)
    assert p.returncode == 0
    assert b"\r[" in bar and b"100.0 %" in bar and b"2500 candles" in bar, bar
    assert out.startswith(b"stored 2500 candles")


@pytest.mark.parametrize("args, drop, message", [
    ([], "--symbol", "--symbol SYM is required"),
    ([], "--since", "--since DATE is required"),
    (["--timeframe", "7q"], None, "--timeframe: timeframe '7q'"),
    (["--timeframe", "10m"], None, "no '10m' candles at Binance"),
    (["--venue", "kraken", "--timeframe", "3m"], None, "no '3m' candles at Kraken"),
    (["--venue", "yahoo", "--timeframe", "4h"], None, "no '4h' candles at Yahoo"),
    (["--since", "yesterday"], None, "--since: not a date like 2024-01-31: 'yesterday'"),
    (["--until", "2023-12-31"], None, "--since must be before --until"),
    (["--until"], None, "--until needs a value"),
    (["--venue", "nasdaq"], None, "--venue: unknown venue 'nasdaq' (accepted: binance, kraken, yahoo)"),
    (["--frob"], None, "unknown option '--frob'"),
    (["extra"], None, "unexpected argument 'extra'"),
])
def test_bad_arguments(tmp_path, args, drop, message):
    base = {"--symbol": "BTC/USDT", "--timeframe": "1m", "--since": SINCE}
    for k in args[0::2]:
        base.pop(k, None)
    if drop:
        base.pop(drop)
    argv = [BIN, "data", "download", "--venue", "binance", "--base-url", CLOSED_PORT, "--data-dir", str(tmp_path)]
    for k, v in base.items():
        argv += [k, v]
    r = subprocess.run(argv + args, capture_output=True, text=True, timeout=60, env=env())
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert line.startswith("apextrade data download: ") and message in line, line


def test_help_lists_the_venue_table():
    r = subprocess.run([BIN, "data", "download", "--help"], capture_output=True, text=True, timeout=30, env=env())
    assert r.returncode == 0
    assert r.stdout.startswith("usage: apextrade data download --venue NAME --symbol SYM --timeframe TF --since DATE")
    assert "--venue NAME      where the candles come from: binance, kraken, yahoo\n" in r.stdout
    assert "--base-url URL" in r.stdout


# --- Kraken (tests/market/stub_kraken.py): BTC/USD, the 720 newest rows a reply, the last one open ---
KN = 600  # fits one Kraken reply: the venue serves no older rows than its 720 newest


@pytest.fixture(scope="module")
def kraken_candles(tmp_path_factory):
    return candle_file(tmp_path_factory.mktemp("kraken"), [T0 + i * MIN for i in range(KN)])


@pytest.fixture
def kraken_stub(kraken_candles):
    made = []

    def start(faults=""):
        s = Stub(kraken_candles[0], faults, script=STUB_KRAKEN)
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()


def test_kraken_download_until_and_resume(kraken_stub, kraken_candles, tmp_path):
    rows = kraken_candles[1]
    closed = rows[:-1]  # the file's last candle is the interval Kraken still has open
    s = kraken_stub()
    half = T0 + 300 * MIN
    r = download(tmp_path, "--until", iso(half), venue="kraken", symbol="BTC/USD", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 1  # one reply holds every row; it runs past --until
    assert stored(tmp_path, "BTC/USD") == (closed[:300], {"kraken"})
    assert r.stdout.startswith(f"stored 300 candles of BTC/USD 1m from kraken, {iso(T0)} to {iso(half - MIN)}, "
                               f"into sqlite {tmp_path}/apextrade.db")

    r = download(tmp_path, venue="kraken", symbol="BTC/USD", base_url=s.url)  # resumes after the stored ones
    assert r.returncode == 0, r.stderr
    assert s.hits() == 3  # the rows from --until on, then a reply with nothing but the open interval
    assert r.stdout.startswith(f"stored {KN - 301} candles of BTC/USD 1m from kraken, {iso(half)} to "
                               f"{iso(T0 + (KN - 2) * MIN)},")
    assert r.stdout.endswith(" (resumed after the candles already stored)\n")
    assert r.stderr == ""
    assert stored(tmp_path, "BTC/USD") == (closed, {"kraken"})  # the open interval is not stored

    r = download(tmp_path, venue="kraken", symbol="BTC/USD", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 4  # one request: only the open interval, nothing new
    assert r.stdout.startswith(f"stored 0 candles of BTC/USD 1m from kraken: none new from {iso(T0 + (KN - 1) * MIN)}")
    assert stored(tmp_path, "BTC/USD")[0] == closed
    assert distinct_times(tmp_path, "BTC/USD") == (KN - 1, KN - 1)


def test_kraken_download_in_one_run(kraken_stub, kraken_candles, tmp_path):
    s = kraken_stub(faults="busy")  # Kraken's "EService:Busy" (HTTP 200) is retried
    r = download(tmp_path, venue="kraken", symbol="BTC/USD", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 3  # the busy reply and its retry, then the open interval alone
    assert stored(tmp_path, "BTC/USD") == (kraken_candles[1][:-1], {"kraken"})
    assert r.stdout.startswith(f"stored {KN - 1} candles of BTC/USD 1m from kraken, {iso(T0)} to "
                               f"{iso(T0 + (KN - 2) * MIN)},")


# --- Yahoo (tests/market/stub_yahoo.py): AAPL/USD 1m, requests of at most 7 days, the last candle forming ---
Y_DAYS = ("2024-01-08", "2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12",  # a weekend between
          "2024-01-15", "2024-01-16", "2024-01-17")
Y_SESSION = 60  # one-minute candles a day, from 14:30Z (short sessions keep the test quick)
Y_NULL = 100    # a minute without trades: Yahoo sends its prices and volume as null


def day_ms(day):
    return calendar.timegm(time.strptime(day, "%Y-%m-%d")) * 1000


@pytest.fixture(scope="module")
def yahoo_candles(tmp_path_factory):
    times = [day_ms(d) + (14 * 60 + 30) * MIN + i * MIN for d in Y_DAYS for i in range(Y_SESSION)]
    return candle_file(tmp_path_factory.mktemp("yahoo"), times)


@pytest.fixture
def yahoo_stub(yahoo_candles):
    made = []

    def start(faults=""):
        s = Stub(yahoo_candles[0], faults, script=STUB_YAHOO, extra=("--null-row", str(Y_NULL)))
        made.append(s)
        return s

    yield start
    for s in made:
        s.stop()


def test_yahoo_download_until_and_resume(yahoo_stub, yahoo_candles, tmp_path):
    rows = yahoo_candles[1]
    closed = [r for i, r in enumerate(rows[:-1]) if i != Y_NULL]  # not the null row, not the forming candle
    s = yahoo_stub()
    until = day_ms("2024-01-16")
    r = download(tmp_path, "--until", iso(until), venue="yahoo", symbol="AAPL/USD", since="2024-01-08",
                 base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 2  # the first week (7 days a request), then a request running past --until
    want = [x for x in closed if x[0] < until]
    assert stored(tmp_path, "AAPL/USD") == (want, {"yahoo"})
    assert len(want) == 6 * Y_SESSION - 1
    assert r.stdout.startswith(f"stored {len(want)} candles of AAPL/USD 1m from yahoo, {iso(rows[0][0])} to "
                               f"{iso(rows[6 * Y_SESSION - 1][0])},")

    r = download(tmp_path, venue="yahoo", symbol="AAPL/USD", since="2024-01-08", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 4  # the rest, then a request holding only the forming candle
    assert r.stdout.startswith(f"stored {2 * Y_SESSION - 1} candles of AAPL/USD 1m from yahoo, "
                               f"{iso(rows[6 * Y_SESSION][0])} to {iso(rows[-2][0])},")
    assert r.stdout.endswith(" (resumed after the candles already stored)\n")
    assert r.stderr == ""
    assert stored(tmp_path, "AAPL/USD") == (closed, {"yahoo"})

    r = download(tmp_path, venue="yahoo", symbol="AAPL/USD", since="2024-01-08", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 5  # one request: the forming candle alone, nothing new
    assert r.stdout.startswith(f"stored 0 candles of AAPL/USD 1m from yahoo: none new from {iso(rows[-1][0])}")
    assert stored(tmp_path, "AAPL/USD")[0] == closed
    assert distinct_times(tmp_path, "AAPL/USD") == (len(closed), len(closed))


def test_yahoo_download_in_one_run(yahoo_stub, yahoo_candles, tmp_path):
    rows = yahoo_candles[1]
    s = yahoo_stub()
    r = download(tmp_path, venue="yahoo", symbol="AAPL/USD", since="2024-01-08", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 3  # 2024-01-08 to 01-15, then from Friday's last candle on, then the forming candle alone
    closed = [r for i, r in enumerate(rows[:-1]) if i != Y_NULL]
    assert stored(tmp_path, "AAPL/USD") == (closed, {"yahoo"})
    assert r.stdout.startswith(f"stored {len(closed)} candles of AAPL/USD 1m from yahoo, {iso(rows[0][0])} to "
                               f"{iso(rows[-2][0])},")


def test_yahoo_a_week_without_candles_is_not_the_end(yahoo_stub, yahoo_candles, tmp_path):
    # From 2024-01-01 the first 7-day request holds no candle (the data starts on the 8th), but
    # Yahoo's figures are from after it: the next week is asked, not "nothing new" reported.
    rows = yahoo_candles[1]
    s = yahoo_stub()
    r = download(tmp_path, venue="yahoo", symbol="AAPL/USD", since="2024-01-01", base_url=s.url)
    assert r.returncode == 0, r.stderr
    assert s.hits() == 4  # the empty week, then as from the 8th
    closed = [r for i, r in enumerate(rows[:-1]) if i != Y_NULL]
    assert stored(tmp_path, "AAPL/USD") == (closed, {"yahoo"})
    assert r.stdout.startswith(f"stored {len(closed)} candles of AAPL/USD 1m from yahoo, {iso(rows[0][0])} to ")


@pytest.mark.parametrize("venue, symbol, says", [
    ("kraken", "ETH/EUR", "EQuery:Unknown asset pair"),
    ("yahoo", "MSFT/USD", "No data found"),
])
def test_unknown_pair_at_kraken_and_yahoo(kraken_stub, yahoo_stub, venue, symbol, says, tmp_path):
    s = kraken_stub() if venue == "kraken" else yahoo_stub()
    r = download(tmp_path, venue=venue, symbol=symbol, base_url=s.url)
    assert r.returncode == 1, r.stderr
    line = one_line(r.stderr)
    assert line.startswith(f"apextrade data download: unknown symbol '{symbol}' at {venue}"), line
    assert says in line, line
    assert r.stdout == ""
    assert stored(tmp_path, symbol)[0] == []
