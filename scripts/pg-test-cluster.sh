#!/bin/sh
# pg-test-cluster.sh {start|stop} DIR PORT - a throwaway PostgreSQL cluster for tests, from Debian's
# postgresql packages: data in DIR (in the build tree), listening on 127.0.0.1:PORT only, trust
# authentication (local tests only), database apextrade_test. `start` prints its URL; `stop` stops
# it and removes DIR. As root it runs the server as the postgres user (initdb refuses root).
set -eu
cmd=${1:-}
dir=${2:-}
port=${3:-}
if [ -z "$cmd" ] || [ -z "$dir" ] || [ -z "$port" ]; then
  echo "usage: pg-test-cluster.sh {start|stop} DIR PORT" >&2
  exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg-test-cluster: PostgreSQL server binaries not found (install the postgresql package)" >&2
  exit 1
fi
as=""
if [ "$(id -u)" -eq 0 ]; then
  as="runuser -u postgres --"
fi

case "$cmd" in
start)
  if [ -e "$dir/data/postmaster.pid" ]; then
    echo "pg-test-cluster: $dir already holds a running cluster" >&2
    exit 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  [ -n "$as" ] && chown postgres: "$dir"
  $as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    echo "pg-test-cluster: initdb failed (see $dir/initdb.log)" >&2
    exit 1
  }
  # Durability is not needed for throwaway data; the socket lives in DIR, not /var/run.
  $as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || {
    echo "pg-test-cluster: server did not start (see $dir/server.log)" >&2
    exit 1
  }
  $as "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres apextrade_test
  echo "postgresql://postgres@127.0.0.1:$port/apextrade_test"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    $as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg-test-cluster.sh {start|stop} DIR PORT" >&2
  exit 2
  ;;
esac
