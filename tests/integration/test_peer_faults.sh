#!/usr/bin/env bash
# A peer that fails: 429 and 503 with Retry-After (seconds, HTTP date), 500 with a TAXII error,
# a body that is not JSON, "more": true without "next", a page without the date-added headers,
# empty pages that say "more" without end (given up after 101), and a peer that is down.  Each time `accord sync` fails naming the peer and the cause, stores
# nothing, leaves the cursor where it was, and `accord peer status` counts the failure, shows the
# error and (429/503) a next try no sooner than the peer asked.  When the peer behaves again the
# object arrives, the cursor moves and the failures reset.  The misbehaving peer is a small
# Python HTTPS server (peer_faults.py) with a real accord node's certificate.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
command -v python3 >/dev/null || {
  [ -n "${CI:-}" ] && { echo "FAIL: python3 is missing" >&2; exit 1; }
  echo "SKIP: python3 is not installed (the misbehaving peer is a Python server)"
  exit 77
}
node_start b || { bad "node B start"; finish; }
node_stop b # B syncs by hand; its certificate and key serve the faulty peer
EXT=1 # B's one object before any sync: the signature extension-definition its start published
echo ok >"$T/mode"
python3 "$ROOT/tests/integration/peer_faults.py" "$T/b/tls/cert.pem" "$T/b/tls/key.pem" \
  "$T/mode" "$T/fport" 2>"$T/py.err" &
PY=$!
trap 'kill $PY 2>/dev/null; nodes_cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$T/fport" ] && break; sleep 0.1; done
[ -s "$T/fport" ] || { bad "the faulty peer did not start: $(cat "$T/py.err")"; finish; }
printf 'tok\n' >"$T/tok"
ncli b peer add f "https://localhost:$(cat "$T/fport")/api/" --collection c1 --pull --interval 0 \
  --token-file "$T/tok" --cacert "$T/b.ca" >/dev/null
cursor() { ncli b peer list | sed -n 's/.*cursor \(.*\)$/\1/p'; }
status_field() { ncli b peer status | tr '\t' '\n' | sed -n "s/^$1 //p"; }
now_s() { date -u +%s; }
to_s() { date -u -d "$1" +%s 2>/dev/null || echo 0; }

fails=0
fault() { # MODE EXPECTED-MESSAGE [MIN-WAIT-SECONDS]
  echo "$1" >"$T/mode"
  local t0
  t0=$(now_s) # the peer's wait counts from its answer, which comes after this
  expect_rc 1 "sync against a peer answering $1 fails" -- ncli b sync f
  check "$1: the error names the peer and the cause" grep -q "peer f: .*$2" "$T/err" || cat "$T/err" >&2
  fails=$((fails + 1))
  [ "$(status_field failures)" = "$fails" ] && ok || bad "$1: $(status_field failures) failures recorded, expected $fails"
  [ "$(cursor)" = - ] && ok || bad "$1: the cursor moved to $(cursor)"
  [ "$(node_objects b)" = $EXT ] && ok || bad "$1: something was stored"
  status_field error | grep -q "$2" && ok || bad "$1: peer status does not show the error"
  if [ -n "${3:-}" ]; then
    local next
    next=$(to_s "$(status_field next)")
    [ $((next - t0)) -ge $(($3 - 2)) ] && ok || bad "$1: next try $((next - t0)) s after the sync started, the peer asked for $3"
  fi
}
fault 429 "HTTP 429: slow down" 30
fault 503 "HTTP 503: maintenance" 40
fault 500 "HTTP 500: Internal error: database on fire"
fault garbage "envelope: "
fault more-no-next '"more" is true but there is no "next"'
fault no-headers "missing or invalid X-TAXII-Date-Added-First/Last"
: >"$T/mode.log"
fault empty-more '101 pages in a row without objects say "more"'
[ "$(grep -c '^empty-more ' "$T/mode.log")" = 101 ] && ok || bad "empty pages asked: $(wc -l <"$T/mode.log"), expected 101"
kill $PY 2>/dev/null
wait $PY 2>/dev/null
fault down "Couldn't connect\|Connection refused\|Failed to connect"
# back, and well behaved
rm -f "$T/fport"
echo ok >"$T/mode"
python3 "$ROOT/tests/integration/peer_faults.py" "$T/b/tls/cert.pem" "$T/b/tls/key.pem" \
  "$T/mode" "$T/fport" 2>"$T/py.err" &
PY=$!
for _ in $(seq 1 100); do [ -s "$T/fport" ] && break; sleep 0.1; done
ncli b peer add f "https://localhost:$(cat "$T/fport")/api/" --collection c1 --pull --interval 0 \
  --token-file "$T/tok" --cacert "$T/b.ca" >/dev/null
expect_rc 0 "sync against the recovered peer" -- ncli b sync f
[ "$(node_objects b)" = $((1 + EXT)) ] && ok || bad "the object did not arrive after recovery"
[ "$(cursor)" = 2026-03-01T10:00:00.000000Z ] && ok || bad "cursor $(cursor) after recovery"
[ "$(status_field failures)" = 0 ] && ok || bad "failures not reset after recovery"
[ "$(status_field error)" = - ] && ok || bad "the error is still shown after recovery"
finish
