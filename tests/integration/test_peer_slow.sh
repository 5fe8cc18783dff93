#!/usr/bin/env bash
# A peer that trickles its answer (one byte per second) is cut without stalling the others.  Node
# B (`accord serve`) syncs in the background, every second, with two peers served by the fault
# proxy (peer_faults.py): "s" sends its page one byte per second, "g" behaves.  With s's slow
# transfer limit made short (--low-speed 64/3: under 64 bytes/s for 3 s fails the round):
#   - s's round fails, reported ("too slow") and counted in `accord peer status`; its cursor
#     stays unset and nothing of it is stored;
#   - while s's first transfer hangs, g's rounds go on (at least two of them) and g's object
#     arrives;
#   - `accord peer add` refuses a malformed --low-speed;
#   - when s behaves again, its next round succeeds: cursor set, failures reset (the object is a
#     duplicate of g's).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
command -v python3 >/dev/null || {
  [ -n "${CI:-}" ] && { echo "FAIL: python3 is missing" >&2; exit 1; }
  echo "SKIP: python3 is not installed (the misbehaving peer is a Python server)"
  exit 77
}
node_start b || { bad "node B start"; finish; }
node_stop b # restarted below, once its peers are set up; its certificate serves the proxy
EXT=1 # B's one object before any sync: the signature extension-definition its start published
echo ok >"$T/mode"
echo slow >"$T/mode.cs"
echo ok >"$T/mode.cg"
python3 "$ROOT/tests/integration/peer_faults.py" "$T/b/tls/cert.pem" "$T/b/tls/key.pem" \
  "$T/mode" "$T/fport" 2>"$T/py.err" &
PY=$!
trap 'kill $PY 2>/dev/null; nodes_cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$T/fport" ] && break; sleep 0.1; done
[ -s "$T/fport" ] || { bad "the fault proxy did not start: $(cat "$T/py.err")"; finish; }
printf 'tok\n' >"$T/tok"
URL="https://localhost:$(cat "$T/fport")/api/"
expect_rc 2 "a malformed --low-speed is refused" -- ncli b peer add s "$URL" --collection cs \
  --pull --low-speed 64 --token-file "$T/tok" --cacert "$T/b.ca"
expect_rc 2 "a zero --low-speed time is refused" -- ncli b peer add s "$URL" --collection cs \
  --pull --low-speed 64/0 --token-file "$T/tok" --cacert "$T/b.ca"
ncli b peer add s "$URL" --collection cs --pull --interval 1 --low-speed 64/3 \
  --token-file "$T/tok" --cacert "$T/b.ca" >/dev/null
ncli b peer add g "$URL" --collection cg --pull --interval 1 --low-speed 64/3 \
  --token-file "$T/tok" --cacert "$T/b.ca" >/dev/null
[ "$(ncli b peer list | wc -l)" = 2 ] && ok || bad "B's two peers"
field() { # PEER FIELD: a field of `accord peer status`
  ncli b peer status | awk -F '\t' -v p="$1" '$1 == p' | tr '\t' '\n' | sed -n "s/^$2 //p"
}
node_start b || { bad "node B restart"; finish; }
T0=$(date +%s)
s_failed() { [ "$(field s failures)" -ge 1 ] 2>/dev/null; }
wait_for 40 "the slow peer's round fails" s_failed
CUT=$(($(date +%s) - T0))
echo "slow peer cut after $CUT s"
[ "$CUT" -lt 20 ] && ok || bad "the slow peer was cut after $CUT s, not by its 3 s limit (the default is 30 s)"
s_too_slow() { field s error | grep -qi "too slow"; }
check "the error says the transfer was too slow" s_too_slow || echo "s's error: $(field s error)" >&2
[ "$(field s cursor)" = - ] && ok || bad "s's cursor moved to $(field s cursor)"
[ "$(field s pulled)" = 0 ] && ok || bad "something was pulled from s"
[ "$(field g failures)" = 0 ] && ok || bad "g failed: $(field g error)"
[ "$(node_objects b)" = $((1 + EXT)) ] && ok || bad "g's object did not arrive (B holds $(node_objects b))"
# g's rounds during s's first (hung) transfer: requests logged after it and within the 3 s
S=$(awk '$1 == "slow" {print $2; exit}' "$T/mode.log")
G=$(awk -v s="$S" '$1 == "ok" && $2 > s && $2 < s + 3 {n++} END {print n + 0}' "$T/mode.log")
[ "$G" -ge 2 ] && ok || { bad "only $G rounds of g while s's transfer hung"; cat "$T/mode.log" >&2; }
grep -q "sync s: .*too slow" "$T/b.out" && ok || bad "serve did not report the slow peer"
# s behaves again: its next round (after the backoff) succeeds
echo ok >"$T/mode.cs"
s_back() { [ "$(field s failures)" = 0 ] && [ "$(field s cursor)" != - ]; }
wait_for 40 "the recovered peer's round succeeds" s_back
[ "$(field s cursor)" = 2026-03-01T10:00:00.000000Z ] && ok || bad "s's cursor $(field s cursor) after recovery"
node_stop b
finish
