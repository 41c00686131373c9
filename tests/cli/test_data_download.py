"""`apextrade data download` black-box: the real binary against tests/market/stub_binance.py on
127.0.0.1, into a SQLite database in a temporary --data-dir, read back with Python's sqlite3.
The stub serves klines from a candle file this test writes (2500 one-minute candles: three pages of
at most 1000), counts the API requests it sees (GET /_stub/hits) and plays scripted faults.
Nothing here reaches outside 127.0.0.1: proxies are switched off for the binary and for urllib."""
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


@pytest.fixture(scope="module")
def candles(tmp_path_factory):
    """The stub's candle file and its rows as (time, open, high, low, close, volume) floats."""
    rows = []
    for i in range(N):
        o = 100 + (i % 97) * 0.25
        c = o + (0.5 if i % 2 else -0.25)
        rows.append((T0 + i * MIN, o, max(o, c) + 0.75, min(o, c) - 0.5, c, 10 + (i % 13) * 0.125))
    path = tmp_path_factory.mktemp("stub") / "candles_1m.csv"
    with open(path, "w") as f:
        f.write("# open time ms,open,high,low,close,volume\n")
        for r in rows:
            f.write("%d,%s,%s,%s,%s,%s\n" % (r[0], *("%.2f" % v if k < 4 else "%.3f" % v for k, v in enumerate(r[1:]))))
    return str(path), rows


class Stub:
    """One stub_binance.py on 127.0.0.1 with the given faults; url and hits()."""

    def __init__(self, candle_file, faults="", stall=2):
        self.proc = subprocess.Popen([sys.executable, STUB, "--candles", candle_file, "--faults", faults,
                                      "--stall", str(stall)], stdout=subprocess.PIPE, text=True)
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


def download(data_dir, *args, base_url=None, symbol="BTC/USDT", timeframe="1m", since=SINCE, **kw):
    argv = [BIN, "data", "download", "--venue", "binance", "--data-dir", str(data_dir)]
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
    (["--since", "yesterday"], None, "--since: not a date like 2024-01-31: 'yesterday'"),
    (["--until", "2023-12-31"], None, "--since must be before --until"),
    (["--until"], None, "--until needs a value"),
    (["--venue", "nasdaq"], None, "--venue: unknown venue 'nasdaq' (accepted: binance"),
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
    assert "--venue NAME      where the candles come from: binance\n" in r.stdout
    assert "--base-url URL" in r.stdout
