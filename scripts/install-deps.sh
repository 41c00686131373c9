#!/bin/sh
# install-deps.sh - installs the Debian packages ApexTrade needs to build, test and run.
# Idempotent: packages already present are skipped; prints what it installed.
# The one list of packages lives here.
set -eu

PACKAGES="
build-essential
cmake
pkg-config
git
clang
libclang-rt-14-dev
libjansson-dev
zlib1g-dev
libcriterion-dev
libmicrohttpd-dev
wrk
python3-pytest
python3-httpx
python3-hypothesis
libsqlite3-dev
libpq-dev
postgresql
libjwt-dev
libsodium-dev
libssl-dev
openssl
libcurl4-openssl-dev
libxml2-dev
libwslay-dev
libhiredis-dev
redis-server
nginx
python3-websockets
python3-cryptography
chromium
"
# The web UI builds with Node.js and npm: the machine's own when it has them (a newer Node than
# Debian's), else Debian's.
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs"
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-deps: missing packages:$missing; run as root or install sudo" >&2
    exit 1
  fi
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: installed$missing"
