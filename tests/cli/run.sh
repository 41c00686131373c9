#!/usr/bin/env bash
# Black-box tests of the apextrade CLI as a user runs it: real binary, real files, exit codes,
# the one-line errors on stderr. Usage: run.sh APEXTRADE SHARED_DIR
set -u
APEX=$1
SHARED=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION -- CMD...: runs CMD, checks the exit code; stdout/stderr in $TMP/out, $TMP/err.
expect() {
  local code=$1 what=$2
  shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" -eq "$code" ]; then ok; else bad "$what: exit $got, wanted $code; stderr: $(head -c 300 "$TMP/err")"; fi
}
# has FILE PATTERN DESCRIPTION
has() { if grep -qE -- "$2" "$1"; then ok; else bad "$3: '$2' not in $(basename "$1"): $(head -c 300 "$1")"; fi; }
lines() { local n; n=$(wc -l <"$1"); if [ "$n" -eq "$2" ]; then ok; else bad "$3: $n lines, wanted $2"; fi; }

ORCL=data/orcl-1995-2014.csv

# --- indicator ---
expect 0 "--list" -- "$APEX" indicator --list
has "$TMP/out" '^rsi +14 +rsi +close +period=14 \[2\.\.100000\]' "registry lists rsi with its default and range"
has "$TMP/out" '^macd .*macd,signal,hist' "registry lists macd outputs"
expect 0 "--help" -- "$APEX" indicator --help
has "$TMP/out" 'usage: apextrade indicator NAME --data FILE' "indicator help"

expect 0 "rsi on the shipped ORCL sample" -- "$APEX" indicator RSI --data "$ORCL" --param period=14
lines "$TMP/out" 5037 "one row per candle plus the header"
has "$TMP/out" '^time,rsi$' "header"
has "$TMP/out" '^1995-01-03,$' "time as in the input file, empty during warm-up"
# Row 14 (0-based) against TA-Lib, and every row to 1e-9 relative.
paste -d, <(tail -n +2 "$TMP/out") <(tail -n +2 "$SHARED/reference/talib/orcl/rsi_14.csv") |
  awk -F, '{ if ($1 != $3) { bad++; next } if ($2 == "" && $4 == "") next;
             d = $2 - $4; if (d < 0) d = -d; m = ($4 < 0 ? -$4 : $4); if (d > 1e-9 * m && d > 1e-9) bad++ }
           END { exit bad > 0 }' && ok || bad "CLI rsi values differ from TA-Lib"

expect 0 "macd three outputs" -- "$APEX" indicator macd --data "$ORCL"
has "$TMP/out" '^time,macd,signal,hist$' "macd header"
sed -n '35p' "$TMP/out" | grep -qE '^1995-02-17,-?[0-9.e-]+,-?[0-9.e-]+,-?[0-9.e-]+$' && ok || bad "macd first value at row 33: $(sed -n '35p' "$TMP/out")"
sed -n '34p' "$TMP/out" | grep -qE '^[0-9-]+,,,$' && ok || bad "macd warm-up row 32 empty"

expect 0 "json input keeps epoch ms times" -- "$APEX" indicator sma --data data/btc-usdt-1m.json --param period=3
has "$TMP/out" '^1509836520000,$' "epoch ms time written back as epoch ms"

expect 2 "unknown indicator" -- "$APEX" indicator nosuch --data "$ORCL"
has "$TMP/err" "unknown indicator 'nosuch'" "unknown indicator message"
expect 2 "bad parameter value" -- "$APEX" indicator rsi --data "$ORCL" --param period=0
has "$TMP/err" 'period: must be an integer from 2 to 100000, got 0' "parameter range in the message"
expect 2 "unknown parameter" -- "$APEX" indicator rsi --data "$ORCL" --param length=3
has "$TMP/err" 'length: unknown parameter' "unknown parameter named"
expect 2 "missing file" -- "$APEX" indicator rsi --data "$TMP/nope.csv"
has "$TMP/err" 'nope.csv' "missing file named"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok || bad "one line on stderr"
expect 2 "no --data" -- "$APEX" indicator rsi
expect 2 "unknown option" -- "$APEX" indicator rsi --dta x

# --- candle validation through the CLI ---
printf 'date,open,high,low,close,volume\n2020-01-01,10,11,9,10.5,100\n2020-01-02,10,10.2,9,10.5,100\n2020-01-03,10,11,9,10,100\n' >"$TMP/badhigh.csv"
expect 2 "high below close" -- "$APEX" indicator sma --data "$TMP/badhigh.csv" --param period=2
has "$TMP/err" 'badhigh.csv:3: high' "error names file, line and field"
expect 0 "lenient drops the bad row" -- "$APEX" indicator sma --data "$TMP/badhigh.csv" --param period=2 --lenient
lines "$TMP/out" 3 "lenient output has the two good rows"
has "$TMP/err" 'dropped 1' "lenient reports the count"
printf 'date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,100\n2020-01-01,10,11,9,10.5,100\n' >"$TMP/order.csv"
expect 2 "time going backwards" -- "$APEX" indicator sma --data "$TMP/order.csv"
has "$TMP/err" 'order.csv:3: ' "non-increasing time names the line"
printf 'date,open,high,low,close,volume\n2020-01-01,10,11,9,abc,100\n' >"$TMP/nan.csv"
expect 2 "unparsable number" -- "$APEX" indicator sma --data "$TMP/nan.csv"
has "$TMP/err" 'nan.csv:2: close' "unparsable close named"

# --- data inspect ---
for f in "$SHARED"/data/backtrader/*.txt "$SHARED"/data/backtrader/ticksample.csv "$SHARED"/data/freqtrade/*.json*; do
  expect 0 "inspect $(basename "$f")" -- "$APEX" data inspect "$f"
done
expect 0 "inspect ORCL" -- "$APEX" data inspect "$ORCL"
has "$TMP/out" 'rows: +5036' "row count"
has "$TMP/out" '1995-01-03' "first time"
has "$TMP/out" '2014-12-31' "last time"
has "$TMP/out" 'timeframe: +1d' "daily timeframe detected"
expect 0 "inspect 1m json" -- "$APEX" data inspect data/btc-usdt-1m.json
has "$TMP/out" 'timeframe: +1m' "1m detected"
expect 2 "quote file is not candles" -- "$APEX" data inspect "$SHARED/data/backtrader/bidask.csv"
has "$TMP/err" "bidask.csv" "quote file error names the file"


# --- backtest ---
expect 0 "backtest help" -- "$APEX" backtest --help
has "$TMP/out" 'usage: apextrade backtest --strategy FILE.json --data CANDLES' "backtest help"
expect 0 "backtest the RSI example" -- "$APEX" backtest --strategy examples/rsi_mean_reversion.json --data "$ORCL" \
  --trades "$TMP/trades.csv" --equity "$TMP/equity.csv"
has "$TMP/out" '^Trades +14 ' "14 trades, as backtrader"
has "$TMP/out" '-> 39395\.395272' "final value as backtrader's 39395.39527213418"
lines "$TMP/trades.csv" 15 "trade log: header and 14 trades"
lines "$TMP/equity.csv" 5037 "equity at every candle"
has "$TMP/trades.csv" '^1,1996-04-10,3\.12963,3090\.36152025,1996-06-24,4\.208333,' "first trade as backtrader's"
# Weekends and holidays are normal for a stock; the market's 6-day closure after 2001-09-11 is not.
has "$TMP/err" 'warning: .*the largest 6\.0 days from 2001-09-11' "a real gap is warned about"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok || bad "one warning line: $(cat "$TMP/err")"

expect 0 "backtest --json -" -- "$APEX" backtest --strategy examples/rsi_mean_reversion.json --data "$ORCL" --json -
/usr/bin/python3 - "$TMP/out" <<'PY' && ok || bad "JSON result fields"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ["total_return_pct", "sharpe_ratio", "max_drawdown_pct", "win_rate_pct", "total_trades", "profit_factor",
          "equity_curve", "trades", "sortino_ratio", "cagr_pct", "monthly_returns", "final_capital", "stats"]:
    assert k in r, k
assert r["total_trades"] == 14 and len(r["trades"]) == 14
assert abs(float(r["final_capital"]) / 39395.39527213418 - 1) < 1e-6
assert r["stats"]["bars"] == 5036 and r["stats"]["engine_seconds"] >= 0 and r["stats"]["load_seconds"] >= 0
assert r["trades"][0]["entry_time"].startswith("1996-04-10") and r["trades"][0]["exit_reason"] == "signal"
assert r["equity_curve"][-1]["time"].startswith("2014-12-31") and len(r["equity_curve"]) <= 2000
assert r["monthly_returns"][0]["month"] == "1995-01"
PY

expect 0 "date range and overrides" -- "$APEX" backtest --strategy examples/rsi_mean_reversion.json --data "$ORCL" \
  --start 2000-01-01 --end 2005-01-01 --capital 5000 --commission 0 --slippage 0.1 --json "$TMP/r.json"
/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['start_date'].startswith('2000-01-03'), r['start_date']; assert r['end_date'].startswith('2004-12-31'); assert r['initial_capital']==5000 and r['slippage_pct']==0.1" "$TMP/r.json" && ok || bad "date range applied"

for f in examples/*.json; do
  expect 0 "example $(basename "$f") runs on the 1m sample" -- "$APEX" backtest --strategy "$f" --data data/btc-usdt-1m.json
done

cat >"$TMP/bad.json" <<'JSON'
{"name": "bad", "asset": "ORCL", "timeframe": "1d",
 "entry_rules": [{"signal": "BUY", "conditions": [
   {"indicator": "RSI", "params": {"period": 0}, "operator": "less_than", "value": 30},
   {"indicator": "NOPE", "operator": "less_than", "value": 30}]}],
 "exit_rules": [], "risk_management": {"max_position_size": 2}}
JSON
expect 2 "invalid strategy" -- "$APEX" backtest --strategy "$TMP/bad.json" --data "$ORCL"
has "$TMP/err" 'bad.json: /entry_rules/0/conditions/0/params/period: must be an integer from 2 to 100000, got 0' "param problem with its pointer"
has "$TMP/err" 'bad.json: /entry_rules/0/conditions/1/indicator: ' "unknown indicator with its pointer"
has "$TMP/err" 'bad.json: /risk_management/max_position_size: ' "risk problem with its pointer"
[ "$(wc -l <"$TMP/err")" -ge 3 ] && ok || bad "every problem listed"
printf '{"name": ' >"$TMP/trunc.json"
expect 2 "strategy that is not JSON" -- "$APEX" backtest --strategy "$TMP/trunc.json" --data "$ORCL"
has "$TMP/err" 'trunc.json: line 1' "JSON syntax error with its position"
expect 2 "missing data" -- "$APEX" backtest --strategy examples/rsi_mean_reversion.json --data "$TMP/none.csv"
expect 2 "bad commission" -- "$APEX" backtest --strategy examples/rsi_mean_reversion.json --data "$ORCL" --commission abc
has "$TMP/err" '--commission: must be a number' "bad option named"
expect 2 "no candles in range" -- "$APEX" backtest --strategy examples/rsi_mean_reversion.json --data "$ORCL" --start 2030-01-01
expect 2 "cannot resample 1d to 1m" -- "$APEX" backtest --strategy examples/sma_crossover.json --data "$ORCL"
has "$TMP/err" 'cannot build 1m candles' "timeframe mismatch explained"

# --- paper (a session on a replayed file; with --speed max it ends where the backtest does) ---
expect 0 "paper help" -- "$APEX" paper --help
has "$TMP/out" 'usage: apextrade paper --strategy FILE.json --replay CANDLES' "paper help"
# The result JSON equals the backtest's byte for byte but for the two timings in stats.
timeless() { sed -E 's/"(load|engine)_seconds": [0-9.e+-]+/"\1_seconds": T/' "$1"; }
same_as_backtest() { # STRATEGY CANDLES DESCRIPTION [OPTIONS...]
  local st=$1 data=$2 what=$3
  shift 3
  expect 0 "backtest $what" -- "$APEX" backtest --strategy "$st" --data "$data" --json - "$@"
  timeless "$TMP/out" >"$TMP/bt.json"
  cp "$TMP/err" "$TMP/bt.err"
  expect 0 "paper $what" -- "$APEX" paper --strategy "$st" --replay "$data" --speed max --json - "$@"
  timeless "$TMP/out" >"$TMP/paper.json"
  if cmp -s "$TMP/bt.json" "$TMP/paper.json"; then ok; else bad "paper $what: JSON differs from backtest's: $(diff "$TMP/bt.json" "$TMP/paper.json" | head -5)"; fi
  if [ "$(sed 's/^apextrade [a-z]*: //' "$TMP/bt.err")" = "$(sed 's/^apextrade [a-z]*: //' "$TMP/err")" ]; then ok; else bad "paper $what: other warnings"; fi
}
same_as_backtest examples/rsi_mean_reversion.json "$ORCL" "RSI example on ORCL"
has "$TMP/paper.json" '"total_trades": 14,' "paper on ORCL makes the backtest's 14 trades"
same_as_backtest examples/rsi_mean_reversion.json "$ORCL" "ORCL with capital and costs" --capital 5000 --commission 0 --slippage 0.1
same_as_backtest examples/sma_crossover.json data/btc-usdt-1m.json "SMA crossover on the 1m BTC sample"
has "$TMP/paper.json" '"total_trades": [1-9][0-9]+,' "the BTC comparison trades"
same_as_backtest examples/bollinger_breakout.json data/btc-usdt-1m.json "Bollinger breakout on the 1m BTC sample"
expect 0 "paper prints a summary without --json" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json --replay "$ORCL" --speed max
has "$TMP/out" '^Trades +14 ' "paper summary"
# At a speed: 1m candles at 60000x are 1 ms apart (300 of them).
/usr/bin/python3 -c "import json,sys; json.dump(json.load(open(sys.argv[1]))[:300], open(sys.argv[2], 'w'))" \
  data/btc-usdt-1m.json "$TMP/few.json"
expect 0 "paper at a speed" -- "$APEX" paper --strategy examples/sma_crossover.json --replay "$TMP/few.json" --speed 60000 --json -
has "$TMP/out" '"total_trades": ' "a paced session ends with a result"
expect 2 "paper: missing candle file" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json --replay "$TMP/none.csv" --speed max
has "$TMP/err" 'none.csv' "missing replay file named"
lines "$TMP/err" 1 "paper: one error line for a missing file"
expect 2 "paper: bad speed" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json --replay "$ORCL" --speed fast
has "$TMP/err" "^apextrade paper: --speed .*'fast'" "bad speed named"
lines "$TMP/err" 1 "paper: one error line for a bad speed"
expect 2 "paper: negative speed" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json --replay "$ORCL" --speed -2
lines "$TMP/err" 1 "paper: one error line for a negative speed"
expect 2 "paper: no --replay" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json
has "$TMP/err" 'missing --replay' "missing --replay named"
expect 2 "paper: backtest-only option" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json --replay "$ORCL" --trades x.csv
expect 2 "paper: bad commission" -- "$APEX" paper --strategy examples/rsi_mean_reversion.json --replay "$ORCL" --commission abc
has "$TMP/err" '^apextrade paper: --commission: must be a number' "bad cost option named"

# --- migrate and data import (SQLite in a temporary APEX_DATA_DIR) ---
export APEX_DATA_DIR="$TMP/var/data"
unset DATABASE_URL
expect 0 "migrate --status before any migration" -- "$APEX" migrate --status
has "$TMP/out" '0001_init pending' "pending before migrating"
expect 0 "migrate" -- "$APEX" migrate
has "$TMP/out" '0001_init applied' "applied after migrating"
expect 0 "migrate again does nothing" -- "$APEX" migrate
if [ "$(stat -c %a "$APEX_DATA_DIR")" = 700 ]; then ok; else bad "data dir mode $(stat -c %a "$APEX_DATA_DIR"), wanted 700"; fi
expect 0 "import the ORCL sample" -- "$APEX" data import "$ORCL" --symbol ORCL --timeframe 1d --source yahoo
has "$TMP/out" 'imported 5036 rows of ORCL 1d' "import counts rows"
has "$TMP/out" 'rows/s' "import reports its speed"
expect 0 "import again (upsert)" -- "$APEX" data import "$ORCL" --symbol ORCL --timeframe 1d
expect 0 "import help" -- "$APEX" data import --help
has "$TMP/out" 'usage: apextrade data import FILE --symbol SYM --timeframe TF' "import usage"
expect 2 "import without symbol" -- "$APEX" data import "$ORCL" --timeframe 1d
expect 2 "import with a bad timeframe" -- "$APEX" data import "$ORCL" --symbol ORCL --timeframe 7q
expect 2 "import of a missing file" -- "$APEX" data import "$TMP/none.csv" --symbol ORCL --timeframe 1d
lines "$TMP/err" 1 "one error line"
expect 2 "migrate with a bad argument" -- "$APEX" migrate --frob
unset APEX_DATA_DIR

# --- top level ---
expect 0 "top-level help" -- "$APEX" --help
has "$TMP/out" 'indicator' "help lists indicator"
has "$TMP/out" '^  paper ' "help lists paper"
expect 2 "unknown command" -- "$APEX" frobnicate

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
