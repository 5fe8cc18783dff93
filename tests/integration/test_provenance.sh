#!/usr/bin/env bash
# Signed provenance through the real binary, between three nodes (A produces, B relays and
# endorses, C receives):
#   - member init / show; import --sign; the export verifies on a node that never saw A;
#   - forgeries rejected with nothing stored and an audit record naming the reason: one byte
#     changed, a swapped signer_ref, TLP lowered from RED to CLEAR, a signature by a key A
#     marked compromised (C learnt the revocation first);
#   - an object accepted before the revocation stays valid (accord verify ID);
#   - endorsement: B's --sign adds a signature without a new version, with a "signature added"
#     audit record and no second "accepted"; equal signature sets give byte-identical exports;
#   - a signed and an unsigned copy of one version conflict, in either order: the stored copy
#     stays as it was, and the audit record says which was signed.
. "$(dirname "$0")/lib.sh" "$@"
require_tool sqlite3
A="$T/a" B="$T/b" C="$T/c"
acc() { local d=$1; shift; "$ACCORD" --data "$d" "$@"; }
audit() { sqlite3 "$1/accord.db" "$2"; }
differs() { ! cmp -s "$1" "$2"; }
RED=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487

expect_rc 0 "member init A" -- acc "$A" member init --name "Alpha CERT"
check "init prints three keys" test "$(grep -c $'\tactive\t' "$T/out")" = 3
AID=$(grep -v '^#' "$T/out" | cut -f1 | head -n 1)
expect_rc 2 "second init refused" -- acc "$A" member init --name Again
check "key files are 0600" test "$(stat -c %a "$A/keys/signing.seed")" = 600
chmod 640 "$A/keys/signing.seed"
expect_rc 1 "import --sign refuses a group-readable key" -- acc "$A" import --quiet --sign \
  "$ROOT/tests/data/sample"
check "names the mode" has "chmod 600" "$T/err"
chmod 600 "$A/keys/signing.seed"

# A signs the sample plus one TLP:RED indicator
cat >"$T/red.json" <<EOF
{"type":"indicator","spec_version":"2.1","id":"indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11",
 "created":"2026-02-01T00:00:00.000Z","modified":"2026-02-01T00:00:00.000Z",
 "created_by_ref":"$AID","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix",
 "valid_from":"2026-02-01T00:00:00Z","object_marking_refs":["$RED"]}
EOF
expect_rc 0 "import --sign A" -- acc "$A" import --quiet --sign "$ROOT/tests/data/sample" \
  "$T/red.json"
acc "$A" export >"$T/signed.json"
check "every object carries the signature extension" \
  test "$(grep -c 'extension-definition--53c7b8eb' "$T/signed.json")" -ge 10

# the same versions unsigned and signed, in both orders: a conflict each time, the first kept
RID=indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11
expect_rc 0 "U stores the red indicator unsigned" -- acc "$T/u" import --quiet "$T/red.json"
acc "$T/u" get "$RID" >"$T/u-before.json"
expect_rc 3 "U: the signed copy conflicts" -- acc "$T/u" import --quiet "$T/signed.json"
check "U: reported as a version conflict" has "$RID.*stored unsigned, and this copy is signed" "$T/err"
acc "$T/u" get "$RID" >"$T/u-after.json"
check "U: the unsigned copy is kept as it was" cmp -s "$T/u-before.json" "$T/u-after.json"
check "U: audit conflict record" test -n "$(audit "$T/u" "SELECT 1 FROM audit WHERE action='conflict' AND ref='$RID' AND detail LIKE '%unsigned, and this copy is signed%'")"
check "U: no signature rows" test "$(audit "$T/u" "SELECT count(*) FROM signatures s JOIN objects o ON o.seq = s.object_seq WHERE o.id = '$RID'")" = 0
expect_rc 0 "S stores the signed export" -- acc "$T/s" import --quiet "$T/signed.json"
expect_rc 3 "S: the unsigned copy conflicts" -- acc "$T/s" import --quiet "$T/red.json"
check "S: reported as a version conflict" has "$RID.*stored signed, and this copy is unsigned" "$T/err"
check "S: audit conflict record" test -n "$(audit "$T/s" "SELECT 1 FROM audit WHERE action='conflict' AND ref='$RID' AND detail LIKE '%signed, and this copy is unsigned%'")"
acc "$T/s" get "$RID" >"$T/s-after.json"
check "S: the signed copy is kept" has "extension-definition--53c7b8eb" "$T/s-after.json"

# C has never seen A: A's identity, first in the export, introduces its keys
expect_rc 0 "verify file on an empty node" -- acc "$C" verify "$T/signed.json"
check "A's own objects are authored" has "indicator--6a1f1c5e.*authored" "$T/out"
check "others' objects are endorsed" has "malware--.*endorsed" "$T/out"

forged() { # NAME SED-EXPR RULE-TEXT: the edit must be rejected by import at a fresh node
  local name=$1 expr=$2 why=$3 dir="$T/f-$1"
  sed -e "$expr" "$T/signed.json" >"$T/$name.json"
  check "$name: the edit changed something" differs "$T/$name.json" "$T/signed.json"
  expect_rc 3 "$name: import rejects" -- acc "$dir" import --quiet "$T/$name.json"
  check "$name: reported as rule signature" has "rule signature" "$T/err"
  check "$name: reason $why" has "$why" "$T/err"
  expect_rc 1 "$name: nothing stored" -- acc "$dir" get "$4"
  check "$name: audit names the reason" \
    test -n "$(audit "$dir" "SELECT 1 FROM audit WHERE action='rejected' AND ref='$4' AND detail LIKE '%$why%'")"
  expect_rc 3 "$name: verify says invalid" -- acc "$dir" verify "$T/$name.json"
}
forged byte 's/203\.0\.113\.9/203.0.113.8/' "does not verify" \
  indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11
forged tlp "s/$RED/$CLEAR/" "does not verify" indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11

# B: a second member; its identity lets a swapped signer_ref name a known member
expect_rc 0 "member init B" -- acc "$B" member init --name "Beta ISAC"
BID=$(grep -v '^#' "$T/out" | cut -f1 | head -n 1)
acc "$B" export >"$T/b-identity.json"
mkdir -p "$T/f-signer"
expect_rc 0 "B's identity at the checking node" -- acc "$T/f-signer" import --quiet "$T/b-identity.json"
forged signer "/indicator--6a1f1c5e/s/\"signer_ref\":\"$AID\"/\"signer_ref\":\"$BID\"/" \
  "not a key of the signer" indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11

# B relays A's objects and endorses them: same versions, one more signature each
expect_rc 0 "B imports A's export" -- acc "$B" import --quiet "$T/signed.json"
n_before=$(audit "$B" "SELECT count(*) FROM audit WHERE action='accepted'")
v_before=$(audit "$B" "SELECT count(*) FROM objects")
expect_rc 0 "B endorses" -- acc "$B" import --quiet --sign "$T/signed.json"
check "no new version" test "$(audit "$B" "SELECT count(*) FROM objects")" = "$v_before"
check "no second accepted" test "$(audit "$B" "SELECT count(*) FROM audit WHERE action='accepted'")" = "$n_before"
check "signature added records" test "$(audit "$B" "SELECT count(*) FROM audit WHERE action='signature added'")" -ge 10
acc "$B" export >"$T/b.json"
expect_rc 0 "verify the endorsed export" -- acc "$B" verify "$T/b.json"
check "still authored by A" has "indicator--6a1f1c5e.*authored" "$T/out"
# a node that gets the endorsed objects and the plain ones, in either order, stores the same bytes
acc "$T/d" import --quiet "$T/signed.json"
acc "$T/d" import --quiet "$T/b.json"
acc "$T/e" import --quiet "$T/b.json"
acc "$T/e" import --quiet "$T/signed.json"
# (added order differs with the import order: compare the objects, sorted)
acc "$T/d" export | tail -n +2 | sed 's/,$//' | sort >"$T/d.json"
acc "$T/e" export | tail -n +2 | sed 's/,$//' | sort >"$T/e.json"
check "equal signature sets serialise byte-identically" cmp -s "$T/d.json" "$T/e.json"

# C stores A's signed objects, then learns that A's signing key was compromised
expect_rc 0 "C imports before the revocation" -- acc "$C" import --quiet "$T/signed.json"
KEY=$(acc "$A" member show | awk -F'\t' '$3=="signing" && $4=="active" {print $2}')
sleep 0.01
expect_rc 0 "A revokes its signing key" -- acc "$A" member revoke "$KEY"
check "shown compromised" has "$KEY"$'\t'"signing"$'\t'"compromised" "$T/out"
acc "$A" export >"$T/after.json"
expect_rc 0 "C takes A's new identity version" -- acc "$C" import --quiet "$T/after.json"
expect_rc 0 "accepted before the revocation: still valid" -- acc "$C" verify \
  indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11
check "still authored" has "authored" "$T/out"
# a new object signed with the compromised key (made with A's old seed, as a thief would)
sed -e 's/6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d11/6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d12/' "$T/red.json" >"$T/red2.json"
mkdir -p "$T/thief/keys"
cp -p "$A/keys/signing.seed" "$T/thief/keys/"
expect_rc 0 "the thief's node" -- acc "$T/thief" import --quiet "$T/signed.json"
sqlite3 "$T/thief/accord.db" "INSERT OR REPLACE INTO meta VALUES('member_identity', '$AID')"
expect_rc 0 "thief signs with the stolen key" -- acc "$T/thief" import --quiet --sign "$T/red2.json"
acc "$T/thief" get indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d12 >"$T/stolen.json"
expect_rc 3 "C refuses a signature by the compromised key" -- acc "$C" import --quiet "$T/stolen.json"
check "reason: compromised" has "compromised" "$T/err"
expect_rc 1 "nothing stored" -- acc "$C" get indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d12
check "audit names it" test -n "$(audit "$C" "SELECT 1 FROM audit WHERE action='rejected' AND detail LIKE '%compromised%'")"

# rotation: a new signing key signs, old signatures stay valid
expect_rc 0 "A rotates" -- acc "$A" member rotate --signing
expect_rc 0 "A signs with the new key" -- acc "$A" import --quiet --sign "$T/red2.json"
acc "$A" export >"$T/rotated.json"
expect_rc 0 "C takes the rotated identity and the new object" -- acc "$C" import --quiet "$T/rotated.json"
expect_rc 0 "verify the new object" -- acc "$C" verify indicator--6a1f1c5e-1e3d-4b59-9d0c-3b1f7f0a2d12
check "authored with the new key" has "authored" "$T/out"
# an identity version not signed by A's root key is refused
sed -e "/\"id\":\"$AID\"/s/\"name\":\"Alpha CERT\"/\"name\":\"Alpha CERT (hijacked)\"/" \
  -e "/\"id\":\"$AID\"/s/\"modified\":\"[^\"]*\"/\"modified\":\"2099-01-01T00:00:00.000Z\"/" \
  "$T/rotated.json" >"$T/hijack.json"
expect_rc 3 "a re-written identity version is refused" -- acc "$C" import --quiet "$T/hijack.json"
finish
