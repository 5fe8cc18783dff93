#!/usr/bin/env bash
# Federation pull: node B (`accord sync`) pulls a collection of node A (`accord serve`) over TAXII
# 2.1.  B gets every object once; a second sync pulls nothing; new objects on A arrive on the next
# sync; a sync from a reset cursor (what a crash before the cursor commit replays) stores nothing
# new; a wrong pin or a wrong token fails with a clear message and stores nothing.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"
command -v openssl >/dev/null 2>&1 || {
  echo "SKIP: openssl is not installed (the test computes the certificate's key pin)"
  [ -n "${CI:-}" ] && exit 1
  exit 77
}

start_server "$T/a" || { bad "node A start"; finish; }
DATA=$T/a
DEF=$(collection_id default)
C=/accord/collections/$DEF
V1=2026-01-10T09:10:00.000Z
V2=2026-02-10T09:10:00.000Z
post_range() { # FROM TO [MODIFIED]: indicators FROM..TO in one envelope
  local objs=() n
  for n in $(seq "$1" "$2"); do objs+=("$(indicator "$(mkid indicator 7 "$n")" "${3:-$V1}" "$n")"); done
  post "$C/objects/" "$(envelope "${objs[@]}")"
  expect 202 "post $1..$2 to A"
}
post_range 1 120
post_range 121 250

# node B: its own data dir and server
B=$T/b
"$ACCORD" --data "$B" serve --listen 127.0.0.1:0 >"$T/b.out" 2>&1 &
BPID=$!
for _ in $(seq 1 100); do grep -q 'serving TAXII 2.1 on' "$T/b.out" && break; sleep 0.1; done
check "node B serves" grep -q 'serving TAXII 2.1 on' "$T/b.out"
stop_b() { [ -n "${BPID:-}" ] && kill -TERM "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null; BPID=; }
trap 'stop_b; taxii_cleanup' EXIT
bcli() { "$ACCORD" --data "$B" "$@"; }
# both nodes hold accord's signature extension-definition in every collection since their
# `accord serve` started: A serves it with its objects, B counts it as a duplicate
EXT=1
count_b() { bcli stats 2>/dev/null | sed -n 's/^objects \([0-9]*\), versions.*/\1/p'; }
vers_b() { bcli stats 2>/dev/null | sed -n 's/^objects [0-9]*, versions \([0-9]*\),.*/\1/p'; }
audit_b() { bcli stats 2>/dev/null | sed -n 's/.*audit records \([0-9]*\).*/\1/p'; }

printf '%s\n' "$TOKEN" >"$T/token"
PIN=sha256//$(openssl x509 -in "$T/cacert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)

# usage errors change nothing
expect_rc 2 "add without --pull" -- bcli peer add a "$BASE/accord/" --collection "$DEF" --interval 0 --token-file "$T/token" --cacert "$T/cacert.pem"
expect_rc 2 "add with both cacert and pin" -- bcli peer add a "$BASE/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/token" --cacert "$T/cacert.pem" --pin "$PIN"
expect_rc 2 "add with a malformed pin" -- bcli peer add a "$BASE/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/token" --pin sha256//nope
expect_rc 2 "add with an http URL" -- bcli peer add a "http://127.0.0.1:$PORT/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/token" --cacert "$T/cacert.pem"

expect_rc 0 "peer add (CA file, 40 objects a page)" -- bcli peer add a "$BASE/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/token" --cacert "$T/cacert.pem" --page 40
bcli peer list >"$T/list"
check "peer list shows the peer without a cursor" grep -q "^a	$BASE/accord/	$DEF	pull	cacert .*cursor -$" "$T/list"

# first sync: all 250 and the extension-definition, in 7 pages
bcli get extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31 >/dev/null 2>&1 && ok ||
  bad "B's default collection lacks the signature extension-definition after its start"
bcli sync >"$T/s1" 2>&1
check "first sync exits 0" grep -q "^a	pages 7	objects 251	stored 250	duplicates 1	rejected 0" "$T/s1" || cat "$T/s1" >&2
[ "$(count_b)" = $((250 + EXT)) ] && ok || bad "B holds $(count_b) objects after the first sync, expected 250 + $EXT"
LASTA=$(get "$C/objects/?limit=1000" && hdr_value X-TAXII-Date-Added-Last)
check "the cursor is A's last date_added" grep -q "cursor $LASTA" "$T/s1"
bcli peer list >"$T/list"
check "peer list shows the cursor" grep -q "cursor $LASTA\$" "$T/list"
[ "$(audit_b)" -ge 250 ] && ok || bad "B's audit log lacks the accepted records"

# second sync: nothing new
bcli sync a >"$T/s2" 2>&1
check "second sync pulls nothing" grep -q "^a	pages 1	objects 0	stored 0" "$T/s2" || cat "$T/s2" >&2
[ "$(count_b)" = $((250 + EXT)) ] && ok || bad "B holds $(count_b) after the second sync"

# new objects and new versions on A arrive on the next sync, and only they
post_range 251 260
post_range 1 5 "$V2"
bcli sync a >"$T/s3" 2>&1
check "third sync pulls the 15 new objects and versions" grep -q "objects 15	stored 15	duplicates 0" "$T/s3" || cat "$T/s3" >&2
[ "$(count_b)" = $((260 + EXT)) ] && ok || bad "B holds $(count_b) after the third sync, expected 260 + $EXT"
[ "$(vers_b)" = $((265 + EXT)) ] && ok || bad "B holds $(vers_b) versions after the third sync, expected 265 + $EXT"
bcli get "$(mkid indicator 7 3)" >"$T/obj3"
check "B holds the new version" grep -q "$V2" "$T/obj3"

# a crash before the cursor commit replays from an older cursor: simulated with a second peer
# entry (empty cursor) on the same collection: everything is an echo, nothing is stored
expect_rc 0 "peer add (pinned key)" -- bcli peer add a2 "$BASE/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/token" --pin "$PIN" --page 100
V_BEFORE="$(count_b) $(vers_b) $(audit_b)"
bcli sync a2 >"$T/s4" 2>&1
check "replay from the start stores nothing" grep -q "^a2	pages 3	objects 266	stored 0	duplicates 266	rejected 0" "$T/s4" || cat "$T/s4" >&2
[ "$(count_b)" = $((260 + EXT)) ] && ok || bad "B holds $(count_b) after the replay"
# the replay's only change is a2's cursor, one audit record per page that moved it (3 pages)
V_AFTER="$(count_b) $(vers_b) $(($(audit_b) - 3))"
[ "$V_AFTER" = "$V_BEFORE" ] && ok || bad "the replay changed B's objects, versions or audit log beyond a2's 3 cursor records ($V_BEFORE before, $V_AFTER after)"

# a wrong pin and a wrong token fail clearly and store nothing
post_range 261 270
WRONG=sha256//$(printf x | openssl dgst -sha256 -binary | base64)
expect_rc 0 "peer add (wrong pin)" -- bcli peer add badpin "$BASE/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/token" --pin "$WRONG"
expect_rc 1 "sync with a wrong pin fails" -- bcli sync badpin
bcli sync badpin >/dev/null 2>"$T/e1"
check "the wrong pin is named" grep -qi "pinned public key" "$T/e1" || cat "$T/e1" >&2
printf 'not-the-token\n' >"$T/badtoken"
expect_rc 0 "peer add (wrong token)" -- bcli peer add badtok "$BASE/accord/" --collection "$DEF" --pull --interval 0 --token-file "$T/badtoken" --cacert "$T/cacert.pem"
expect_rc 1 "sync with a wrong token fails" -- bcli sync badtok
bcli sync badtok >/dev/null 2>"$T/e2"
check "the wrong token is named as HTTP 401" grep -q "peer badtok: GET https://.*: HTTP 401" "$T/e2" || cat "$T/e2" >&2
[ "$(count_b)" = $((260 + EXT)) ] && ok || bad "failed syncs stored something: B holds $(count_b)"
bcli peer list >"$T/list"
check "failed syncs wrote no cursor" grep -q "^badpin	.*cursor -\$" "$T/list"
check "failed syncs wrote no cursor (token)" grep -q "^badtok	.*cursor -\$" "$T/list"

# removing a peer; a sync of all peers then reports the remaining ones
expect_rc 0 "peer rm" -- bcli peer rm badpin
expect_rc 1 "peer rm of an unknown peer" -- bcli peer rm badpin
bcli peer rm badtok >/dev/null
bcli sync >"$T/s5" 2>&1
check "sync of all peers pulls the 10 new objects once" grep -q "^a	pages 1	objects 10	stored 10" "$T/s5" || cat "$T/s5" >&2
check "and the other peer sees them as echoes" grep -q "^a2	pages 1	objects 10	stored 0	duplicates 10" "$T/s5" || cat "$T/s5" >&2
[ "$(count_b)" = $((270 + EXT)) ] && ok || bad "B holds $(count_b), expected 270 + $EXT"
check "B still serves" kill -0 "$BPID"
finish
