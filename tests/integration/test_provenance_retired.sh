#!/usr/bin/env bash
# Key statuses and old signatures (issue: retired keys keep old signatures valid; compromised
# ones do not, for anything first accepted after the revocation was applied):
#   - A signs an indicator, then rotates its signing key: the old key is `retired`.  A node that
#     first sees the object after the rotation (and the rotated identity) stores it and verifies
#     it as authored; so does A itself;
#   - A then marks the retired key compromised.  An object signed with it before, first accepted
#     by a node after it learnt the revocation, is refused with the reason audited and nothing
#     stored; the node that accepted it before the revocation still verifies it as authored.
. "$(dirname "$0")/lib.sh" "$@"
require_tool sqlite3
A="$T/a" B="$T/b" C="$T/c"
acc() { local d=$1; shift; "$ACCORD" --data "$d" "$@"; }
ind() { # ID-SUFFIX: an indicator created by A
  cat <<JSON
{"type":"indicator","spec_version":"2.1","id":"indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2e$1",
 "created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z",
 "created_by_ref":"$AID","pattern":"[ipv4-addr:value = '203.0.113.$1']","pattern_type":"stix",
 "valid_from":"2026-02-01T00:00:00Z"}
JSON
}
expect_rc 0 "member init A" -- acc "$A" member init --name "Alpha CERT"
AID=$(grep -v '^#' "$T/out" | cut -f1 | head -n 1)
OLD=$(acc "$A" member show | awk -F'\t' '$3=="signing" && $4=="active" {print $2}')
[ -n "$OLD" ] && ok || bad "setup: A's signing key"
ind 11 >"$T/o11.json"
expect_rc 0 "A signs object 11 with its first key" -- acc "$A" import --quiet --sign "$T/o11.json"
acc "$A" get indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2e11 >"$T/s11.json"
check "object 11 is signed by the first key" grep -q "\"keyid\":\"$OLD\"" "$T/s11.json"
acc "$A" export >"$T/before.json"
expect_rc 0 "B takes A's objects before any change" -- acc "$B" import --quiet "$T/before.json"

expect_rc 0 "A rotates its signing key" -- acc "$A" member rotate --signing
acc "$A" member show >"$T/show"
check "the first key is retired" grep -q "$OLD"$'\tsigning\tretired' "$T/show"
acc "$A" export >"$T/rotated.json"
# C first sees object 11 after the rotation, with the identity listing the key as retired
expect_rc 0 "C stores the rotated identity and object 11" -- acc "$C" import --quiet "$T/rotated.json"
expect_rc 0 "C verifies object 11" -- acc "$C" verify indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2e11
check "a retired key's signature is still authored on C" grep -q $'\tauthored$' "$T/out"
expect_rc 0 "A verifies object 11" -- acc "$A" verify indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2e11
check "and on A" grep -q $'\tauthored$' "$T/out"

# the retired key is then reported compromised
sleep 0.01
expect_rc 0 "A marks the retired key compromised" -- acc "$A" member revoke "$OLD"
acc "$A" member show >"$T/show"
check "the first key is compromised" grep -q "$OLD"$'\tsigning\tcompromised' "$T/show"
acc "$A" export | grep -v 'indicator--6a1f1c5e' >"$T/revoked-identity.json"
# D learns the revocation first, then receives object 11 (signed before the revocation)
D="$T/d"
expect_rc 0 "D applies A's identity with the revocation" -- acc "$D" import --quiet "$T/revoked-identity.json"
expect_rc 3 "D refuses object 11, first accepted after the revocation" -- acc "$D" import --quiet "$T/s11.json"
check "the reason names the compromised key" has "compromised" "$T/err"
expect_rc 1 "nothing stored on D" -- acc "$D" get indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2e11
check "D audited the rejection" test -n "$(sqlite3 "$D/accord.db" "SELECT 1 FROM audit WHERE action = 'rejected' AND detail LIKE '%compromised%'")"
# B accepted it before the revocation: still authored once B applies the revocation
expect_rc 0 "B applies the revocation" -- acc "$B" import --quiet "$T/revoked-identity.json"
expect_rc 0 "B verifies object 11" -- acc "$B" verify indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2e11
check "accepted before the revocation: still authored on B" grep -q $'\tauthored$' "$T/out"
finish
