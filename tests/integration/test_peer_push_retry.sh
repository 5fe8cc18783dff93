#!/usr/bin/env bash
# Push and the failures a TAXII status resource reports per object (peer_busy.py): a failure
# whose message names a passing reason (busy, locked, try again ...) is sent again within the
# round, alone, a bounded number of times; any other failure is permanent.  Checks:
#   - an object refused once as "database is locked (server busy), try again" is sent again and
#     counted pushed, with no failure recorded;
#   - an object refused for a permanent reason is sent once and audited with the peer's message;
#   - an object that stays "busy" is sent exactly 4 times (PUSH_ATTEMPTS) and then audited as a
#     transient failure that outlived its attempts;
#   - the push position moves past the envelope; the next round sends nothing again.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3 "the test reads the audit log"
node_start b || { bad "node B start"; finish; }
node_stop b # its certificate and key serve the busy peer
python3 "$ROOT/tests/integration/peer_busy.py" "$T/b/tls/cert.pem" "$T/b/tls/key.pem" \
  "$T/posts.log" "$T/busy.port" &
BUSY=$!
trap 'kill $BUSY 2>/dev/null; nodes_cleanup' EXIT
for _ in $(seq 1 150); do [ -s "$T/busy.port" ] && break; sleep 0.1; done
[ -s "$T/busy.port" ] && ok || { bad "the busy peer did not start"; finish; }
printf 'tok\n' >"$T/tok"
gen_indicators 9 1 5 clear | ncli p import --quiet - >/dev/null 2>&1
expect_rc 0 "peer add" -- ncli p peer add busy "https://localhost:$(cat "$T/busy.port")/accord/" \
  --collection c1 --push --interval 0 --token-file "$T/tok" --cacert "$T/b.ca"
ncli p sync busy >"$T/out1" 2>"$T/err1"
check "pushed: the retried object and the two plain ones" grep -q "^busy	.*	pushed 3	push-failed 2	" "$T/out1" || cat "$T/out1" "$T/err1" >&2
posts() { grep -c "^$(pid_of 9 "$1") " "$T/posts.log"; }
check "the object refused once as busy was sent twice" [ "$(posts 1)" = 2 ]
check "the permanently refused object was sent once" [ "$(posts 2)" = 1 ]
check "a plain object was sent once" [ "$(posts 3)" = 1 ]
check "the object that stays busy was sent 4 times" [ "$(posts 4)" = 4 ]
sq "$T/p/accord.db" "SELECT ref || ' ' || detail FROM audit WHERE action = 'peer-push-failed' ORDER BY ref" >"$T/aud"
check "the permanent failure is audited with the peer's message" grep -q "^$(pid_of 9 2) push to peer busy refused: .*object refused: this collection" "$T/aud"
check "the busy object is audited as transient after its attempts" grep -q "^$(pid_of 9 4) push to peer busy refused: .*server busy: try again later (transient, 4 attempts)" "$T/aud"
grep -q "^$(pid_of 9 1) " "$T/aud" && bad "the object that passed on retry was audited as failed" || ok
[ "$(wc -l <"$T/aud")" = 2 ] && ok || bad "$(wc -l <"$T/aud") push failures audited, expected 2"
LINES=$(wc -l <"$T/posts.log")
ncli p sync busy >"$T/out2" 2>&1
check "the next round sends nothing" [ "$(wc -l <"$T/posts.log")" = "$LINES" ]
finish
