#!/bin/sh
# ws.sh - the WebSocket hub under load: CONNS subscribers (build/bench/ws_load, a process of its own)
# on one `apextrade serve` (SQLite, temporary data dir), each on the ticker of 20 symbols updated
# 10 times a second and on its user's portfolio (1 update a second), spread over USERS accounts.
# The test-only publisher (APEX_TEST_ROUTES=1) stamps each event with its publish time. Prints the
# connections held, messages delivered per second, publish-to-receipt latency, the server's peak
# RSS and GET /healthz requests/s (wrk) while the hub is loaded, beside their targets. It measures;
# it does not pass or fail (exit 1 only when it could not run).
# Usage: bench/ws.sh [path/to/apextrade]   (default build/apextrade)
# Env: CONNS (10000), SECONDS measured (30), USERS (50), WARMUP (2), WAVE (500), LOAD (build/bench/ws_load),
#      WRK_SECONDS (10; 0: no wrk, to see the hub's latency without the REST load beside it)
set -eu

# Read first: in bash, SECONDS is the shell's own clock (0 when the caller did not set it).
MEASURE=${SECONDS:-30}
[ "$MEASURE" -gt 0 ] 2>/dev/null || MEASURE=30
BIN=${1:-build/apextrade}
LOAD=${LOAD:-build/bench/ws_load}
CONNS=${CONNS:-10000}
USERS=${USERS:-50}
WARMUP=${WARMUP:-2}
WAVE=${WAVE:-500}
WRK_SECONDS=${WRK_SECONDS:-10}
SYMBOLS=20
RATE_HZ=10
PORTFOLIO_HZ=1
PY=/usr/bin/python3
for tool in wrk curl; do
  command -v $tool >/dev/null 2>&1 || { echo "ws.sh: $tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "ws.sh: $BIN is not built" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "ws.sh: $LOAD is not built" >&2; exit 1; }

DATA=$(mktemp -d)
LOG="$DATA/server.log"
PID=""
CLIENT=""
SAMPLER=""
cleanup() {
  for p in $CLIENT $SAMPLER; do kill -TERM "$p" 2>/dev/null || true; done
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

# Both ends hold CONNS sockets: each process gets the hard limit of open files.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((CONNS + 256)) ] ||
  echo "ws.sh: open files limited to $(ulimit -n), below $CONNS connections and the server's own (ulimit -Hn)" >&2

# The connection caps are lifted above CONNS (all from 127.0.0.x); tokens outlive the run; the
# access log keeps only errors so that it does not weigh on the figures.
APEX_DATA_DIR="$DATA" APP_ENV=development APEX_TEST_ROUTES=1 HTTP_MAX_CONNECTIONS=20000 \
  HTTP_MAX_CONNECTIONS_PER_CLIENT=100000 ACCOUNT_REQUESTS_PER_MINUTE=100000 ACCESS_LOG=errors \
  JWT_ACCESS_TOKEN_EXPIRE_MINUTES=60 BINANCE_BASE_URL=http://127.0.0.1:9 \
  "$BIN" serve --host 127.0.0.1 --port 0 >"$LOG" 2>&1 &
PID=$!
URL=""
for _ in $(seq 1 200); do
  URL=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$LOG" | head -n 1)
  [ -n "$URL" ] && break
  kill -0 "$PID" 2>/dev/null || { echo "ws.sh: server exited:" >&2; cat "$LOG" >&2; exit 1; }
  sleep 0.05
done
[ -n "$URL" ] || { echo "ws.sh: server did not start" >&2; exit 1; }

# USERS accounts, each with a portfolio: "token portfolio_id" lines for the client, and the
# publisher's body (every symbol, every portfolio with its owner).
URL="$URL" USERS="$USERS" SYMBOLS="$SYMBOLS" RATE_HZ="$RATE_HZ" PORTFOLIO_HZ="$PORTFOLIO_HZ" \
PUB_SECONDS=$((WARMUP + MEASURE + 10)) DATA="$DATA" "$PY" - <<'EOF' || { echo "ws.sh: setting up the accounts failed" >&2; exit 1; }
import json, os, sys
from concurrent.futures import ThreadPoolExecutor
import httpx

url, data = os.environ["URL"], os.environ["DATA"]

def account(i):
    with httpx.Client(base_url=url, timeout=30) as c:
        cred = {"email": f"ws{i}@example.com", "password": "bench-password-123"}
        r = c.post("/api/v1/auth/register", json=cred)
        if r.status_code not in (200, 201):
            sys.exit(f"register: {r.status_code} {r.text}")
        r = c.post("/api/v1/auth/login", json=cred)
        if r.status_code != 200:
            sys.exit(f"login: {r.status_code} {r.text}")
        auth = {"Authorization": "Bearer " + r.json()["access_token"]}
        user = c.get("/api/v1/auth/me", headers=auth).json()["id"]
        r = c.post("/api/v1/portfolios", headers=auth,
                   json={"name": f"ws {i}", "base_currency": "USD", "initial_balance": "10000"})
        if r.status_code not in (200, 201):
            sys.exit(f"portfolio: {r.status_code} {r.text}")
        return auth["Authorization"][7:], r.json()["id"], user

# A few at a time: registration and login each hash a password (argon2id).
with ThreadPoolExecutor(4) as pool:
    accounts = list(pool.map(account, range(int(os.environ["USERS"]))))
with open(os.path.join(data, "tokens"), "w") as f:
    f.writelines(f"{t} {p}\n" for t, p, _ in accounts)
body = {"symbols": [f"S{i:02d}/USDT" for i in range(int(os.environ["SYMBOLS"]))],
        "rate_hz": float(os.environ["RATE_HZ"]), "seconds": int(os.environ["PUB_SECONDS"]),
        "portfolios": [{"portfolio_id": p, "user_id": u} for _, p, u in accounts],
        "portfolio_rate_hz": float(os.environ["PORTFOLIO_HZ"])}
with open(os.path.join(data, "publish.json"), "w") as f:
    json.dump(body, f)
EOF

rss_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
RSS_IDLE=$(rss_kb VmRSS "$PID")

# The server's VmRSS once a second for the whole run; the peak is kept in a file.
echo 0 >"$DATA/rss.peak"
(
  peak=0
  while kill -0 "$PID" 2>/dev/null; do
    r=$(rss_kb VmRSS "$PID")
    if [ "${r:-0}" -gt "$peak" ]; then peak=$r; echo "$peak" >"$DATA/rss.peak"; fi
    sleep 1
  done
) &
SAMPLER=$!

echo "apextrade serve on $URL: $CONNS subscribers over $USERS accounts, $SYMBOLS tickers at ${RATE_HZ}/s + a portfolio at ${PORTFOLIO_HZ}/s each; $(nproc) cores shared by server, client and wrk"
"$LOAD" --url "$URL" --tokens "$DATA/tokens" --conns "$CONNS" --symbols "$SYMBOLS" --seconds "$MEASURE" \
  --warmup "$WARMUP" --wave "$WAVE" --ready "$DATA/ready" >"$DATA/client.out" 2>"$DATA/client.err" &
CLIENT=$!
while [ ! -e "$DATA/ready" ]; do
  if ! kill -0 "$CLIENT" 2>/dev/null; then
    wait "$CLIENT" || true
    CLIENT=""
    echo "ws.sh: the client stopped before its subscriptions were made:" >&2
    cat "$DATA/client.out" "$DATA/client.err" >&2
    exit 1
  fi
  kill -0 "$PID" 2>/dev/null || { echo "ws.sh: server exited while clients connected:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
  sleep 0.2
done
RSS_HELD=$(rss_kb VmRSS "$PID")

T0=$(date +%s.%N)
CPU0_S=$(cpu_ticks "$PID")
code=$(curl -s -o "$DATA/publish.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d @"$DATA/publish.json" "$URL/api/v1/_test/publish")
[ "$code" = 202 ] || { echo "ws.sh: the publisher answered $code: $(cat "$DATA/publish.out")" >&2; exit 1; }

# wrk inside the client's window: it opens WARMUP s after the first event.
sleep $((WARMUP + 1))
WRK=""
[ "$WRK_SECONDS" -gt 0 ] && { WRK=$(wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency "$URL/healthz" 2>&1) || true; }
wait "$CLIENT" || true
CLIENT=""
T1=$(date +%s.%N)
CPU1_S=$(cpu_ticks "$PID")
ALIVE=yes
kill -0 "$PID" 2>/dev/null || ALIVE=no
RSS_HWM=$(rss_kb VmHWM "$PID")
RSS_PEAK=$(cat "$DATA/rss.peak")

cat "$DATA/client.out"
sed 's/^/  /' "$DATA/client.err"
printf '%s\n' "$WRK" | grep -E 'Non-2xx|Socket errors' || true

# The summary, beside the targets.
held=$(sed -n 's/^connections: \([0-9]*\) of.*/\1/p' "$DATA/client.out")
rate=$(sed -n 's/^messages: .* = \([0-9]*\)\/s.*/\1/p' "$DATA/client.out")
lat() { sed -n "s/^latency ms ($1):.* $2 \([0-9.]*\) .*/\1/p" "$DATA/client.out"; }
rps=$(printf '%s\n' "$WRK" | awk '/^Requests\/sec:/ {printf "%.0f", $2}')
hp99=$(printf '%s\n' "$WRK" | awk '$1 == "99%" {print $2}')
peak_kb=$RSS_PEAK
[ "${RSS_HWM:-0}" -gt "$peak_kb" ] && peak_kb=$RSS_HWM
verdict() { if [ -n "$1" ] && awk "BEGIN {exit !($1)}"; then echo ok; else echo MISSED; fi; }
published=$((CONNS * SYMBOLS * RATE_HZ + CONNS * PORTFOLIO_HZ))
secs=$(awk -v a="$T0" -v b="$T1" 'BEGIN {print b - a}')
tck=$(getconf CLK_TCK)
echo
echo "summary ($CONNS subscribers, $(nproc) cores):"
printf '  %-22s %-34s %-18s %s\n' "connections held" "${held:-0} / $CONNS" "all" "$(verdict "${held:-0} >= $CONNS")"
printf '  %-22s %s\n' "messages delivered" "${rate:-0}/s (published for them: $published/s)"
for kind in arrival read; do
  p99=$(lat $kind p99)
  printf '  %-22s %-34s %-18s %s\n' "latency $kind" "p50 $(lat $kind p50) / p99 ${p99:--} / max $(lat $kind max) ms" \
    "p99 < 50 ms" "$(verdict "${p99:-999999} < 50")"
done
printf '  %-22s %-34s %-18s %s\n' "server peak RSS" "$((peak_kb / 1024)) MB (idle $((RSS_IDLE / 1024)), held $((RSS_HELD / 1024)))" "< 300 MB" "$(verdict "$peak_kb < 300 * 1024")"
if [ -n "$WRK" ]; then
  printf '  %-22s %-34s %-18s %s\n' "/healthz under load" "${rps:-0} req/s (p99 ${hp99:--})" "> 40000 req/s" "$(verdict "${rps:-0} > 40000")"
fi
printf '  %-22s %s\n' "server CPU" "$(awk -v a="$CPU0_S" -v b="$CPU1_S" -v t="$tck" -v s="$secs" 'BEGIN {printf "%.0f %% of a core over the %.0f s of load", (b - a) / t / s * 100, s}')"
[ "$ALIVE" = yes ] || { echo "ws.sh: the server died during the run:" >&2; tail -n 30 "$LOG" >&2; }
errs=$(grep -c -i -E 'error|fatal|abort' "$LOG" || true)
[ "${errs:-0}" -eq 0 ] || { echo "server log: $errs error lines, the first:"; grep -i -E 'error|fatal|abort' "$LOG" | head -n 5; }
exit 0
