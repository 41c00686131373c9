#!/bin/sh
# run.sh - what `make run` does after building: a SQLite store in ./var with the sample candles
# imported (once), a demo account (its password printed once, when it is created), and the server
# with the web UI on http://127.0.0.1:8000 until Ctrl-C, paper trading on the replayed sample.
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
# Paper trading works offline: the Bitcoin sample is replayed as the live feed of closed candles
# (60 a minute, from 2017-11-07; the days before warm the indicators up), and the ECB sample rates
# convert a EUR portfolio's money to the pair's USDT. Set MARKET_FEED=binance for real candles.
export MARKET_FEED="${MARKET_FEED:-replay}"
export MARKET_REPLAY_FILE="${MARKET_REPLAY_FILE:-data/btc-usdt-1m.json}"
export MARKET_REPLAY_SYMBOL="${MARKET_REPLAY_SYMBOL:-BTC/USDT}"
export MARKET_REPLAY_TIMEFRAME="${MARKET_REPLAY_TIMEFRAME:-1m}"
export MARKET_REPLAY_SPEED="${MARKET_REPLAY_SPEED:-60}"
export MARKET_REPLAY_FROM="${MARKET_REPLAY_FROM:-2017-11-07}"
export FX_RATES_FILE="${FX_RATES_FILE:-data/fx/eurofxref-hist-sample.xml}"
cat <<MSG

ApexTrade on http://127.0.0.1:8000 (Ctrl-C stops it): open it in a browser and sign up, or log
in as the demo account below. The API is under /api/v1; try:
  curl -s http://127.0.0.1:8000/healthz
  curl -s -X POST http://127.0.0.1:8000/api/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{"email": "demo@apextrade.local", "password": "<the password printed below>"}'
The README's "API walkthrough" creates a strategy, runs a backtest and paper-trades it with curl.

MSG
exec "$APEX" serve --demo-account
