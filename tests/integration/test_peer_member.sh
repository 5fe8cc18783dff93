#!/usr/bin/env bash
# The accept policy "signed by a roster member" counts only a member whose signature verified.
# C keeps a roster {C, M1, M2} and holds the keys of M1 and of X (not a member), not those of
# M2.  C pulls by hand from X's node (`accord serve`), whose copies carry forged signatures
# claiming M2 (a signature by keys C does not hold is "unknown", not invalid):
#   - object 1: X's valid signature + the forged M2 one: refused, the refusal names the object
#     id and M2, audited, nothing stored;
#   - object 2: X's valid signature + M1's valid endorsement + the forged M2 one: taken;
#   - object 3: X's valid signature alone: refused (X is not a member);
#   - object 4, which X's node took unsigned (as from a public feed): refused, never relayed to a
#     member as verified.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3 "the test forges signatures in X's database"
node_start x || { bad "node X start"; finish; }
for n in x m1 m2 c; do
  ncli "$n" member init --name "Org-$n" >/dev/null 2>&1
  eval "ID_$n=\$(ncli $n member show | sed -n '1s/^# \([^ ]*\).*/\1/p')"
  eval "ncli $n get \$ID_$n" >"$T/$n.id.json"
done
[ -n "$ID_x" ] && [ -n "$ID_m1" ] && [ -n "$ID_m2" ] && [ -n "$ID_c" ] && ok || bad "member init"
expect_rc 0 "C's roster: C, M1, M2" -- ncli c roster create --threshold 2 \
  "$T/c.id.json" "$T/m1.id.json" "$T/m2.id.json"
expect_rc 0 "C learns the keys of X and M1 (not M2's)" -- ncli c import --quiet "$T/x.id.json" "$T/m1.id.json"

V=2026-01-10T09:10:00.000Z
O1=$(pid_of 7 1)
O2=$(pid_of 7 2)
O3=$(pid_of 7 3)
gen_indicators 7 1 3 clear "$V" "$ID_x" | ncli x import --sign --quiet - >/dev/null 2>&1
O4=$(pid_of 7 4)
gen_indicators 7 4 4 clear "$V" | ncli x import --quiet - >/dev/null 2>&1
# M1 endorses object 2 (its node signs what it imports) and X's node merges the endorsement
ncli x get "$O2" >"$T/o2.json"
ncli m1 import --sign --quiet "$T/o2.json" >/dev/null 2>&1
ncli m1 get "$O2" >"$T/o2e.json"
ncli x import --quiet "$T/o2e.json" >/dev/null 2>&1
grep -q "\"signer_ref\":\"$ID_m1\"" <(ncli x get "$O2") && ok || bad "setup: X holds M1's endorsement"
# the forged M2 signature: a key id and 64 bytes M2 never made
SIG=$(head -c 64 /dev/urandom | base64 -w0)
FORGED="{\"keyid\":\"00000000000000000000000000000000\",\"sig\":\"$SIG\",\"signer_ref\":\"$ID_m2\"},"
sq "$T/x/accord.db" "UPDATE objects SET body = CAST(replace(CAST(body AS TEXT), '\"signatures\":[', '\"signatures\":[$FORGED') AS BLOB) WHERE id IN ('$O1', '$O2')" >/dev/null
for o in "$O1" "$O2"; do
  grep -q "\"signer_ref\":\"$ID_m2\"" <(ncli x get "$o") && ok || bad "setup: $o carries the forged signature"
done

ncli c peer add x "$(node_url x)" --collection "$(node_default x)" --pull --interval 0 \
  --org "$ID_x" --token-file "$T/x.token" --cacert "$T/x.ca" >/dev/null
ncli c sync x >"$T/sync" 2>"$T/sync.err"
check "C stores one object (M1's endorsement verified)" grep -q "^x	.*	stored 1	" "$T/sync" || cat "$T/sync" "$T/sync.err" >&2
check "C refuses three objects" grep -q "^x	.*	refused 3	" "$T/sync" || cat "$T/sync" >&2
check "the refusal of object 1 names it and the unproven member" \
  grep -q "refused $O1 version $V: no valid signature by a member of the roster ($ID_m2's keys" "$T/sync.err" ||
  cat "$T/sync.err" >&2
check "object 3 (a non-member's signature only) is refused" \
  grep -q "refused $O3 version $V: signed by no member of the roster" "$T/sync.err"
check "the unsigned object 4 is refused" \
  grep -q "refused $O4 version $V: unsigned: a member's node relays only signed objects" "$T/sync.err"
ncli c get "$O4" >/dev/null 2>&1 && bad "object 4 stored on C" || ok
ncli c get "$O1" >/dev/null 2>&1 && bad "object 1 stored on C" || ok
ncli c get "$O3" >/dev/null 2>&1 && bad "object 3 stored on C" || ok
ncli c verify "$O2" >"$T/v" 2>&1
check "object 2 is stored as X's, endorsed by M1" grep -q "	authored$" "$T/v" || cat "$T/v" >&2
sq "$T/c/accord.db" "SELECT ref || ' ' || detail FROM audit WHERE action = 'peer-refused'" >"$T/aud"
check "C audited why object 1 was refused" grep -q "^$O1 refused from peer x: no valid signature by a member" "$T/aud" || cat "$T/aud" >&2
node_stop x
finish
