#!/bin/sh
# with-pg.sh DIR PORT CMD... - runs CMD with APEX_TEST_PG_URL pointing at a throwaway PostgreSQL
# cluster in DIR (scripts/pg-test-cluster.sh), and stops and removes the cluster afterwards, also
# when CMD fails or is interrupted. Exits with CMD's status.
set -eu
dir=$1
port=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
url=$(sh "$here/pg-test-cluster.sh" start "$dir" "$port")
trap 'sh "$here/pg-test-cluster.sh" stop "$dir" "$port"' EXIT
trap 'exit 130' INT TERM
echo "with-pg: PostgreSQL test cluster at $url"
set +e
APEX_TEST_PG_URL=$url "$@"
status=$?
exit $status
