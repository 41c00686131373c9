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

# --- top level ---
expect 0 "top-level help" -- "$APEX" --help
has "$TMP/out" 'indicator' "help lists indicator"
expect 2 "unknown command" -- "$APEX" frobnicate

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
