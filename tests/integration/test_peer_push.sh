#!/usr/bin/env bash
# Push retries: node B (`accord serve`) pushes its CLEAR objects to node A every second.  Checks:
#   - B's first 5 objects reach A;
#   - with A down, B's 7 new objects wait: every round fails naming the peer and the cause, the
#     push position stays, and the waits between rounds grow by backoff (the k-th wait after k
#     failures in a row within [2^(k-1)/2, 2^(k-1)] s: 1 s doubled, jitter in [1/2, 1], up to 8 s);
#   - A back on the same port: the 7 arrive, the failures reset, and every one of the 12 is stored
#     on A exactly once, with exactly one `accepted` audit record each, and counted once as
#     pushed by B; rounds after that push nothing;
#   - a push position lost after the POST (what a crash of B between the POST and its commit
#     leaves): the next round sends everything again and A stores nothing twice;
#   - to an API root whose max_content_length is 4,000 bytes, 15 versions go in envelopes within
#     it; a version larger than that and one A refuses (A holds other content for that version)
#     are permanent failures, audited on B with the reason, A's copy untouched, never resent;
#     A's conflict record names the account B pushed as.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3 "the test reads the nodes' audit logs"
node_start a || { bad "node A start"; finish; }
node_start b || { bad "node B start"; finish; }
field() { ncli b peer status | tr '\t' '\n' | sed -n "s/^$1 //p"; }
# accord's signature extension-definition: both default collections hold it from their node's
# start; B pushes it like its other CLEAR objects, and it is a duplicate on A
EXT=1
a_count() { [ "$(node_objects a)" = $(($1 + EXT)) ]; } # N of B's objects on A
gen_indicators 2 1 5 clear | ncli b import --quiet - >/dev/null 2>&1
expect_rc 0 "peer add (push every second)" -- ncli b peer add a "$(node_url a)" \
  --collection "$(node_default a)" --push --interval 1 --token-file "$T/a.token" --cacert "$T/a.ca"
wait_for 30 "B's first 5 objects reach A" a_count 5

node_stop a
gen_indicators 2 6 12 clear | ncli b import --quiet - >/dev/null 2>&1
POS=$(field pushed-to)
failed() { [ "$(field failures)" -ge "$1" ] 2>/dev/null; }
wait_for 40 "B records 4 failed rounds while A is down" failed 4
check "the error names the peer and the cause" sh -c "'$ACCORD' --data '$T/b' peer status |
  grep -q 'error peer a: GET https://localhost:[0-9]*/accord/: .*\(Couldn.t connect\|Connection refused\|Failed to connect\)'"
[ "$(field pushed-to)" = "$POS" ] && ok || bad "the push position moved while A was down"
a_count 5 && ok || bad "A holds $(node_objects a) while down, expected 5 + $EXT"
# the waits B announced after each failure in a row
sed -n 's/.*sync a: .*(next try in \([0-9]*\) ms)$/\1/p' "$T/b.out" >"$T/waits"
k=0
while read -r ms; do
  k=$((k + 1))
  [ "$k" -gt 4 ] && break
  hi=$((1000 << (k - 1)))
  [ "$ms" -ge $((hi / 2)) ] && [ "$ms" -le "$hi" ] && ok ||
    bad "wait $k after $k failures: $ms ms, expected $((hi / 2))..$hi"
done <"$T/waits"
[ "$k" -ge 4 ] && ok || bad "B announced $k waits, expected 4 or more"

node_start a || bad "node A restart"
wait_for 40 "the 7 new objects reach A after it returns" a_count 12
recovered() { [ "$(field failures)" = 0 ] && [ "$(field error)" = - ]; }
wait_for 20 "failures reset after recovery" recovered
sleep 2 # more rounds: nothing moves again
a_count 12 && ok || bad "A holds $(node_objects a), expected 12 + $EXT"
[ "$(node_versions a)" = $((12 + EXT)) ] && ok || bad "A holds $(node_versions a) versions, expected 12 + $EXT"
[ "$(field pushed)" = $((12 + EXT)) ] && ok || bad "B counts $(field pushed) pushed, expected 12 + $EXT"
NOT_EXT="ref NOT LIKE 'extension-definition--%'"
sq "$T/a/accord.db" "SELECT count(*), count(DISTINCT ref) FROM audit WHERE action = 'accepted' AND $NOT_EXT" >"$T/acc"
check "A has one accepted record for each of the 12" grep -qx "12|12" "$T/acc"
sq "$T/a/accord.db" "SELECT count(*) FROM audit WHERE action = 'accepted' AND NOT ($NOT_EXT)" >"$T/acc"
check "and one for the extension-definition (its start), none for B's copy" grep -qx "$EXT" "$T/acc"

# B loses its push position after A stored the envelope: everything is sent again, once stored
POS_END=$(field pushed-to)
[ "$POS_END" != "$POS" ] && ok || bad "B's push position did not move after recovery"
sq "$T/b/accord.db" "UPDATE peer_state SET push_after = 0 WHERE peer = 'a'"
resent() { [ "$(field pushed)" = $((2 * (12 + EXT))) ]; } # A counts a duplicate as a success
wait_for 20 "B sends the 12 again" resent
[ "$(node_versions a)" = $((12 + EXT)) ] && ok || bad "the resent envelope stored something twice on A ($(node_versions a) versions)"
sq "$T/a/accord.db" "SELECT count(*) FROM audit WHERE action = 'accepted'" >"$T/acc2"
check "the resend added no accepted record on A" grep -qx $((12 + EXT)) "$T/acc2"
[ "$(field pushed-to)" = "$POS_END" ] && ok ||
  bad "B's push position is $(field pushed-to) after the resend, expected $POS_END"

# envelopes within the peer's max_content_length (4,000 bytes on A's root "small"), and the two
# permanent failures: a version larger than that, and one A refuses (A holds other content for
# it); both audited on B, neither sent again
expect_rc 0 "B's link to A's default collection by hand" -- ncli b peer add a "$(node_url a)" \
  --collection "$(node_default a)" --push --interval 0 --token-file "$T/a.token" --cacert "$T/a.ca"
ncli a root add --title Small --max-content-length 4000 small >/dev/null 2>&1
TINY=$(ncli a collection add --root small --alias tiny Tiny 2>/dev/null)
BIG=$(pid_of 3 4)
Z=$(pid_of 3 5)
{
  gen_indicators 3 1 3 clear
  gen_indicators 3 4 4 clear | sed "s/\"name\":/\"description\":\"$(head -c 3000 /dev/zero | tr '\0' x)$(head -c 2000 /dev/zero | tr '\0' y)\",\"name\":/"
  gen_indicators 3 5 5 clear
} | ncli b import --quiet - >/dev/null 2>&1
gen_indicators 3 5 5 clear | sed 's/"peer test 5"/"A says otherwise"/' | ncli a import --quiet - >/dev/null 2>&1
ncli a get "$Z" >"$T/z.before"
VA=$(node_versions a)
expect_rc 0 "peer add (push to the small root)" -- ncli b peer add s "https://localhost:$(cat "$T/a.port")/small/" \
  --collection "$TINY" --push --interval 0 --token-file "$T/a.token" --cacert "$T/a.ca"
ncli b sync s >"$T/s1" 2>"$T/s1.err"
# B's whole store: the 12, the extension-definition, the 3 new small ones, and the two that fail
check "16 pushed, 2 permanent failures" grep -q "^s	.*	pushed $((15 + EXT))	push-failed 2	" "$T/s1" ||
  cat "$T/s1" "$T/s1.err" >&2
sq "$T/b/accord.db" "SELECT ref || ' ' || detail FROM audit WHERE action = 'peer-push-failed'" >"$T/pf"
check "the large version is audited as too large" \
  grep -q "^$BIG push to peer s refused: larger than the peer's max_content_length" "$T/pf"
check "the version A refused is audited with A's reason" grep -q "^$Z push to peer s refused: .*conflict" "$T/pf"
sq "$T/a/accord.db" "SELECT detail FROM audit WHERE action = 'conflict' AND ref = '$Z'" >"$T/ac"
check "A's conflict record names who pushed the other copy (the account B pushes as)" \
  grep -q "the stored one is kept .*; received from TAXII POST by account admin$" "$T/ac"
[ "$(node_versions a)" = $((VA + 3)) ] && ok || bad "A holds $(node_versions a) versions, expected $((VA + 3))"
ncli a get "$BIG" >/dev/null 2>&1 && bad "the large version reached A" || ok
ncli a get "$Z" >"$T/z.after"
check "A's own copy of the refused version is untouched" cmp -s "$T/z.before" "$T/z.after"
ncli b sync s >"$T/s2" 2>&1
check "the next round sends nothing again" grep -q "^s	.*	pushed 0	push-failed 0	" "$T/s2" || cat "$T/s2" >&2
node_stop b
node_stop a
finish
