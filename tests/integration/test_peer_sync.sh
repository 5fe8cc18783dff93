#!/usr/bin/env bash
# Background federation sync inside `accord serve`: node B pulls from and pushes to node A every
# second.  Checks: `sync --dry-run` lists what would move and moves nothing; B receives A's CLEAR
# objects and refuses (and audits) the RED ones A's admin token could read but B must never hold;
# A receives B's CLEAR objects only (B's GREEN and RED stay home: A's link has no organisation);
# nothing of A's comes back to A (pushed counts only B's own); `accord peer status` shows the last
# success and no failures; with A down, B records failures and the cause and backs off; when A
# returns on the same port, what A got meanwhile arrives and the failures reset.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"

node_start a || { bad "node A start"; finish; }
node_start b || { bad "node B start"; finish; }
DEFA=$(node_default a)
# accord's signature extension-definition: both default collections hold it from their node's
# start; the pull finds it already here, the push sends B's copy, a duplicate on A
EXT=1
gen_indicators 1 1 10 clear >"$T/a1.json"
gen_indicators 1 11 12 red >>"$T/a1.json"
ncli a import --quiet "$T/a1.json" >/dev/null 2>&1
gen_indicators 2 1 5 clear >"$T/b1.json"
gen_indicators 2 6 7 green >>"$T/b1.json"
gen_indicators 2 8 8 red >>"$T/b1.json"
ncli b import --quiet "$T/b1.json" >/dev/null 2>&1
[ "$(node_objects a)" = $((12 + EXT)) ] && [ "$(node_objects b)" = $((8 + EXT)) ] && ok || bad "setup: A $(node_objects a), B $(node_objects b)"

# by hand first (interval 0): the dry run lists and moves nothing
expect_rc 0 "peer add (both, by hand)" -- ncli b peer add a "$(node_url a)" --collection "$DEFA" --both --interval 0 --token-file "$T/a.token" --cacert "$T/a.ca"
ncli b sync --dry-run a >"$T/dry" 2>&1
check "dry run lists A's 10 CLEAR objects to pull" [ "$(grep -c '^pull	a	indicator--' "$T/dry")" = 10 ]
check "dry run lists no RED object to pull" sh -c "! grep -q '$(pid_of 1 11)' '$T/dry'"
check "dry run lists B's 5 CLEAR objects to push" [ "$(grep -c '^push	a	indicator--' "$T/dry")" = 5 ]
check "dry run lists B's extension-definition to push" grep -q "^push	a	extension-definition--53c7b8eb-" "$T/dry"
check "dry run summary" grep -q "^a	would move 16	already here 1$" "$T/dry" || cat "$T/dry" >&2
[ "$(node_objects a)" = $((12 + EXT)) ] && [ "$(node_objects b)" = $((8 + EXT)) ] && ok || bad "the dry run moved objects"
ncli b peer list >"$T/list"
check "the dry run moved no cursor" grep -q "^a	.*	both	cacert .*cursor -$" "$T/list"

# background: the same peer with an interval of one second
expect_rc 0 "peer add (both, every second)" -- ncli b peer add a "$(node_url a)" --collection "$DEFA" --both --interval 1 --token-file "$T/a.token" --cacert "$T/a.ca"
wait_for 30 "B receives A's 10 CLEAR objects" sh -c "[ \"\$(\"$ACCORD\" --data '$T/b' stats | sed -n 's/^objects \([0-9]*\),.*/\1/p')\" = $((18 + EXT)) ]"
wait_for 30 "A receives B's 5 CLEAR objects" sh -c "[ \"\$(\"$ACCORD\" --data '$T/a' stats | sed -n 's/^objects \([0-9]*\),.*/\1/p')\" = $((17 + EXT)) ]"
sleep 2 # a few more rounds: nothing else moves
[ "$(node_objects a)" = $((17 + EXT)) ] && ok || bad "A holds $(node_objects a), expected 17 + $EXT (B's GREEN or RED leaked?)"
[ "$(node_objects b)" = $((18 + EXT)) ] && ok || bad "B holds $(node_objects b), expected 18 + $EXT"
for i in 6 7 8; do
  ncli a get "$(pid_of 2 "$i")" >/dev/null 2>&1 && bad "B's non-CLEAR object $i reached A" || ok
done
for i in 11 12; do
  ncli b get "$(pid_of 1 "$i")" >/dev/null 2>&1 && bad "A's RED object $i reached B" || ok
done
ncli b peer status >"$T/st"
check "status: pushed exactly B's own 5 (nothing of A's echoed back)" grep -q "	pushed 5	" "$T/st" || cat "$T/st" >&2
check "status: pulled 10" grep -q "	pulled 10	" "$T/st" || cat "$T/st" >&2
check "status: no failures, no error, a last success" grep -q "^a	interval 1s	cursor 20.*	last-success 20[^	]*	lag [0-9]*s	failures 0	.*	error -$" "$T/st" || cat "$T/st" >&2
ncli b audit export "$T/audit" >/dev/null 2>&1
check "the RED objects are audited as over-shares" sh -c "grep -r 'peer-refused' '$T/audit' | grep -q 'over-share'"

# A goes down: failures are recorded with their cause, rounds back off
node_stop a
gen_indicators 3 1 4 clear >"$T/a2.json"
ncli a import --quiet "$T/a2.json" >/dev/null 2>&1
wait_for 20 "B records failed rounds while A is down" sh -c "\"$ACCORD\" --data '$T/b' peer status | grep -q '	failures [1-9]'"
ncli b peer status >"$T/st2"
check "the error names the peer and the cause" grep -q "error peer a: GET https://localhost:[0-9]*/accord/.*" "$T/st2" || cat "$T/st2" >&2
sleep 3
F=$(ncli b peer status | sed -n 's/.*	failures \([0-9]*\)	.*/\1/p')
[ "${F:-0}" -ge 1 ] && [ "${F:-99}" -le 5 ] && ok || bad "after ~4 s down: $F failed rounds (backoff from 1 s keeps it between 1 and 5)"
# A comes back on the same port: the link recovers, what A got meanwhile arrives
node_start a || bad "node A restart"
wait_for 40 "B receives A's 4 new objects after A returns" sh -c "[ \"\$(\"$ACCORD\" --data '$T/b' stats | sed -n 's/^objects \([0-9]*\),.*/\1/p')\" = $((22 + EXT)) ]"
wait_for 20 "failures reset after recovery" sh -c "\"$ACCORD\" --data '$T/b' peer status | grep -q '	failures 0	.*error -$'"
# interval 0 stops the background rounds
expect_rc 0 "peer back to by-hand" -- ncli b peer add a "$(node_url a)" --collection "$DEFA" --both --interval 0 --token-file "$T/a.token" --cacert "$T/a.ca"
sleep 1.5
gen_indicators 3 5 5 clear | ncli a import --quiet - >/dev/null 2>&1
sleep 2.5
[ "$(node_objects b)" = $((22 + EXT)) ] && ok || bad "with interval 0, B still synced in the background"
expect_rc 0 "sync by hand" -- ncli b sync a
[ "$(node_objects b)" = $((23 + EXT)) ] && ok || bad "B holds $(node_objects b) after the sync by hand"
node_stop b
node_stop a
finish
