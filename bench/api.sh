#!/bin/sh
# api.sh - HTTP throughput of `apextrade serve` with wrk: /healthz (and, once it exists, the
# authenticated strategy list) on SQLite in a temporary data directory, 2 threads, 64
# connections, 10 s. Prints requests/s and p99 latency; it measures, it does not pass or fail.
# Usage: bench/api.sh [path/to/apextrade]   (default build/apextrade)
set -eu

BIN=${1:-build/apextrade}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
command -v wrk >/dev/null 2>&1 || { echo "api.sh: wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "api.sh: $BIN is not built" >&2; exit 1; }

DATA=$(mktemp -d)
LOG="$DATA/server.log"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

# The access log stays on (as in production) but goes to a file.
# wrk is one client address with $CONNS connections: lift the per-client cap above it.
APEX_DATA_DIR="$DATA" HTTP_MAX_CONNECTIONS_PER_CLIENT=100000 "$BIN" serve --host 127.0.0.1 --port 0 >"$LOG" 2>&1 &
PID=$!
URL=""
for _ in $(seq 1 200); do
  URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$LOG" | head -n 1)
  [ -n "$URL" ] && break
  kill -0 "$PID" 2>/dev/null || { echo "api.sh: server exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.05
done
[ -n "$URL" ] || { echo "api.sh: server did not start" >&2; exit 1; }

run() { # name path [wrk args...]
  name=$1; path=$2; shift 2
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$URL$path")
  rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
  p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
  errs=$(printf '%s\n' "$out" | grep -E 'Non-2xx|Socket errors' | tr -s ' ' | paste -sd ';' -)
  printf '%-28s %12s req/s   p99 %8s   %s\n' "$name" "$rps" "$p99" "${errs:-}"
}

echo "apextrade serve on $URL ($THREADS threads, $CONNS connections, $DURATION; $(nproc) cores shared with wrk)"
run "GET /healthz" /healthz

# The authenticated list: register a user, log in, and send the bearer token with every request.
if command -v curl >/dev/null 2>&1 &&
   curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/strategies" | grep -q '^401$'; then
  curl -s -o /dev/null -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-123"}' "$URL/api/v1/auth/register"
  TOKEN=$(curl -s -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-123"}' "$URL/api/v1/auth/login" |
    sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p')
  if [ -n "$TOKEN" ]; then
    # A page of real rows to list: ten strategies, each a full document with rules.
    for _ in $(seq 1 10); do
      curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d @examples/rsi_mean_reversion.json "$URL/api/v1/strategies"
    done
    run "GET /api/v1/strategies (auth)" /api/v1/strategies -H "Authorization: Bearer $TOKEN"
  else
    echo "api.sh: could not log in; skipped the authenticated list" >&2
  fi
fi
