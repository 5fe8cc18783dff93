#!/usr/bin/env bash
# The server side of the web console around its pages: console sessions survive a restart of
# `accord serve` (kept in the store as hashes, never the id itself) and a logout survives it too;
# the console's text files are sent gzipped to clients that accept it (and only to them), with
# Vary: Accept-Encoding; and `accord serve` says at start whether the console is served.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

PASS=console-server-pass-1
printf '%s\n' "$PASS" | "$ACCORD" user add --admin --password-stdin analyst >/dev/null ||
  { echo "FATAL: user add failed" >&2; exit 1; }
start_server "$T/data" || exit 1
WHO=none
no_encoding() { ! grep -qi '^Content-Encoding:' "$T/hdr"; }

if [ -f "$BIN_DIR/ui/index.html" ]; then
  check "serve names the console's directory" grep -q "^web console at /ui/ (files from .*/ui)" "$T/serve.out"
else
  check "serve says the console is not available" grep -q "^web console not available" "$T/serve.out"
fi

# --- a session survives a restart, with the same CSRF token (the port changes: Origin is $BASE)
req POST /api/session -c "$T/jar" -H "Origin: $BASE" -H 'Content-Type: application/json' \
  --data-binary "{\"username\":\"analyst\",\"password\":\"$PASS\"}"
expect 200 "login"
CSRF=$(sed -n 's/.*"csrf_token":"\([A-Za-z0-9_-]*\)".*/\1/p' "$T/body")
SID=$(awk '$6 == "__Host-accord" { print $7 }' "$T/jar")
check "login gave a token and a cookie" [ ${#CSRF} = 43 -a ${#SID} = 43 ]
stop_server
if command -v sqlite3 >/dev/null 2>&1; then
  check "the store holds the session" [ "$(sqlite3 "$T/data/accord.db" 'SELECT count(*) FROM sessions')" = 1 ]
fi
check "the session id is nowhere in the data directory" \
  [ "$(grep -rl -- "$SID" "$T/data" | wc -l)" = 0 ]
start_server "$T/data" || exit 1
req GET /api/session -b "$T/jar"
expect 200 "the session after a restart"
body_has "\"csrf_token\":\"$CSRF\"" "the same CSRF token after a restart"
body_has '"account":"analyst"' "the same account after a restart"
req GET /api/whoami -b "$T/jar"
expect 200 "the cookie still authenticates /api/ after a restart"
req DELETE /api/session -b "$T/jar" -H "Origin: $BASE"
expect 403 "logout without the CSRF token"
req DELETE /api/session -b "$T/jar" -H "Origin: $BASE" -H "X-CSRF-Token: $CSRF"
expect 204 "logout"
stop_server
start_server "$T/data" || exit 1
req GET /api/session -b "$T/jar"
expect 401 "a logged-out session stays out after a restart"
# a forged cookie of the right shape is not a session (nor an error)
printf 'localhost\tFALSE\t/\tTRUE\t0\t__Host-accord\t%s\n' \
  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" >"$T/jar.forged"
req GET /api/session -b "$T/jar.forged"
expect 401 "a forged cookie"

# --- gzip for the console's files
if [ -f "$BIN_DIR/ui/index.html" ]; then
  asset=$(grep -o '/ui/assets/index-[^"]*\.js' "$BIN_DIR/ui/index.html" | head -n 1)
  req GET "$asset"
  expect 200 "the script, no Accept-Encoding"
  check "sent as it is without Accept-Encoding" no_encoding
  hdr_has "Vary: Accept-Encoding" "Vary on the plain answer"
  cp "$T/body" "$T/plain.js"
  req GET "$asset" -H 'Accept-Encoding: gzip, deflate, br'
  expect 200 "the script, gzip accepted"
  hdr_has "Content-Encoding: gzip" "gzipped when accepted"
  hdr_has "Vary: Accept-Encoding" "Vary on the gzipped answer"
  hdr_has "Cache-Control: public, max-age=31536000, immutable" "still cached as immutable"
  check "the gzipped script is smaller" [ "$(wc -c <"$T/body")" -lt "$(wc -c <"$T/plain.js")" ]
  check "it unpacks to the same bytes" cmp <(gzip -dc "$T/body") "$T/plain.js"
  req GET "$asset" -H 'Accept-Encoding: gzip;q=0, identity'
  check "gzip;q=0 is a refusal" no_encoding
  req GET /ui/ -H 'Accept-Encoding: *'
  hdr_has "Content-Encoding: gzip" "index.html gzipped for *"
  req GET /api/session -b "$T/jar" -H 'Accept-Encoding: gzip'
  check "API answers are not encoded" no_encoding
fi
stop_server

# --- a binary with no console beside it says so at start
mkdir -p "$T/bin"
cp "$ACCORD" "$T/bin/accord"
env -u ACCORD_UI_DIR "$T/bin/accord" --data "$T/data" serve --listen 127.0.0.1:0 >"$T/bare.out" 2>&1 &
BARE=$!
for _ in $(seq 1 100); do grep -q 'serving TAXII' "$T/bare.out" && break; sleep 0.1; done
kill -TERM $BARE 2>/dev/null
wait $BARE 2>/dev/null
check "serve without a console says so" grep -q "^web console not available: no built console found" "$T/bare.out"
finish
