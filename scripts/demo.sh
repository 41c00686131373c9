#!/bin/sh
# demo.sh - what `make run` shows until the API server exists: the CLI on the shipped samples.
set -eu
APEX=${1:-build/apextrade}
echo "== apextrade --help"
"$APEX" --help
echo
echo "== apextrade data inspect data/orcl-1995-2014.csv"
"$APEX" data inspect data/orcl-1995-2014.csv
echo
echo "== apextrade data inspect data/btc-usdt-1m.json"
"$APEX" data inspect data/btc-usdt-1m.json
echo
echo "== apextrade indicator rsi --data data/orcl-1995-2014.csv --param period=14 (last 5 rows)"
"$APEX" indicator rsi --data data/orcl-1995-2014.csv --param period=14 | tail -n 5
echo
echo "== apextrade indicator macd --data data/btc-usdt-1m.json (last 3 rows)"
"$APEX" indicator macd --data data/btc-usdt-1m.json | tail -n 3
echo
echo "== apextrade backtest --strategy examples/rsi_mean_reversion.json --data data/orcl-1995-2014.csv"
"$APEX" backtest --strategy examples/rsi_mean_reversion.json --data data/orcl-1995-2014.csv
echo
echo "== apextrade backtest --strategy examples/sma_crossover.json --data data/btc-usdt-1m.json"
"$APEX" backtest --strategy examples/sma_crossover.json --data data/btc-usdt-1m.json
echo
echo "== apextrade indicator --list"
"$APEX" indicator --list
echo
echo "The API server and web UI arrive with 'apextrade serve' (see README.md); until then"
echo "'make run' shows the command line above. Try: $APEX backtest --help"
