#!/bin/sh
# with-redis.sh DIR PORT CMD... - runs CMD with APEX_TEST_REDIS_URL pointing at a throwaway
# redis-server (Debian's) on 127.0.0.1:PORT with its files in DIR, and stops it and removes DIR
# afterwards, also when CMD fails or is interrupted. Exits with CMD's status.
set -eu
dir=$1
port=$2
shift 2
rm -rf "$dir"
mkdir -p "$dir"
redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
stop() {
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  i=0
  while [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
i=0
until redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -lt 100 ] || { echo "with-redis: redis-server did not start:" >&2; cat "$dir/redis.log" >&2; exit 1; }
  sleep 0.05
done
url="redis://127.0.0.1:$port/0"
echo "with-redis: Redis at $url"
set +e
APEX_TEST_REDIS_URL=$url "$@"
status=$?
exit $status
