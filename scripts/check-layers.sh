#!/bin/sh
# check-layers.sh - core/ and base/ include no outer layer and no I/O library (ARCHITECTURE.md);
# each third-party header is included by exactly one of our files. The linker checks the rest
# (the apex_*_layercheck targets in CMakeLists.txt).
set -eu
cd "$(dirname "$0")/.."
fail=0
bad=$(grep -rnE '#include *"(store|market|api|jobs|sys|app|io|cli)/|#include *<(sqlite3|libpq-fe|curl/curl|microhttpd|hiredis/hiredis|wslay/wslay|zlib|jansson)\.h>|#include *<libxml/' src/core 2>/dev/null || true)
if [ -n "$bad" ]; then
  echo "check-layers: core/ reaches outside its layer:"; echo "$bad"; fail=1
fi
bad=$(grep -rnE '#include *"(core|store|market|api|jobs|sys|app|io|cli)/' src/base 2>/dev/null || true)
if [ -n "$bad" ]; then
  echo "check-layers: base/ includes a layer above it:"; echo "$bad"; fail=1
fi
bad=$(grep -rnE '#include *"(store|api|jobs|sys|app|io|cli)/' src/market 2>/dev/null || true)
if [ -n "$bad" ]; then
  echo "check-layers: market/ reaches outside its layer (core and base only):"; echo "$bad"; fail=1
fi
for h in jansson.h zlib.h sqlite3.h libpq-fe.h microhttpd.h hiredis/hiredis.h wslay/wslay.h jwt.h sodium.h; do
  n=$(grep -rlE "#include *<$h>" src | wc -l)
  if [ "$n" -gt 1 ]; then
    echo "check-layers: <$h> is included by $n files (one wrapper only):"; grep -rlE "#include *<$h>" src; fail=1
  fi
done
# libcurl has one wrapper per layer that needs it: market/http.c (venue HTTP) and sys/mail.c
# (SMTP). sys/ may not include market/ and mail is no market data, so neither can serve the other.
bad=$(grep -rlE '#include *<curl/curl\.h>' src | grep -vxE 'src/market/http\.c' || true)
if [ -n "$bad" ]; then
  echo "check-layers: <curl/curl.h> outside market/http.c:"; echo "$bad"; fail=1
fi
# libxml2 (the ECB's reference-rate XML) only through market/ecb_codec.c.
bad=$(grep -rlE '#include *<libxml/' src | grep -vxE 'src/market/ecb_codec\.c' || true)
if [ -n "$bad" ]; then
  echo "check-layers: <libxml/...> outside market/ecb_codec.c:"; echo "$bad"; fail=1
fi
# OpenSSL (libcrypto) likewise has one wrapper per layer that needs it: sys/secrets.c (secrets at
# rest: AES-GCM, PBKDF2, random keys) and market/sign.c (request signing: HMAC for the venues'
# private APIs). market/ may not include sys/, and secrets at rest are no request signing, so
# neither can serve the other.
bad=$(grep -rlE '#include *<openssl/' src | grep -vxE 'src/sys/secrets\.c|src/market/sign\.c' || true)
if [ -n "$bad" ]; then
  echo "check-layers: OpenSSL headers outside sys/secrets.c and market/sign.c:"; echo "$bad"; fail=1
fi
[ $fail -eq 0 ] && echo "check-layers: ok"
exit $fail
