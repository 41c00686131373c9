#!/bin/sh
# run.sh - what `make run` does after building: a SQLite store in ./var with the sample candles
# imported (once), a demo account (its password printed once, when it is created), and the server
# on http://127.0.0.1:8000 until Ctrl-C.
set -eu
APEX=${1:-build/apextrade}
export APEX_DATA_DIR="${APEX_DATA_DIR:-./var}"
mkdir -p -m 700 "$APEX_DATA_DIR" # the database, keys and secrets: private
"$APEX" migrate
if [ ! -f "$APEX_DATA_DIR/.samples-imported" ]; then
  "$APEX" data import data/orcl-1995-2014.csv --symbol ORCL --timeframe 1d
  "$APEX" data import data/btc-usdt-1m.json --symbol BTC/USDT --timeframe 1m
  touch "$APEX_DATA_DIR/.samples-imported"
fi
cat <<MSG

ApexTrade API on http://127.0.0.1:8000 (Ctrl-C stops it). Try:
  curl -s http://127.0.0.1:8000/healthz
  curl -s -X POST http://127.0.0.1:8000/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"email": "demo@apextrade.local", "password": "<the password printed below>"}'
The README's "API walkthrough" creates a strategy and runs a backtest with curl.

MSG
exec "$APEX" serve --demo-account
