#!/usr/bin/env bash
# Three member nodes A, B, C on 127.0.0.1, each with its organisation (`accord member init`);
# pulls A<->B and B<->C, the A-C link cut (C's peer entry for A points at a closed port).  Each
# node pulls through an account on the other carrying the puller's organisation, so the serving
# side's TLP gate applies.  Checks:
#   - A signs a CLEAR, a GREEN and an AMBER+STRICT indicator: C receives CLEAR and GREEN through
#     B and verifies A's authorship; AMBER+STRICT reaches neither B nor C;
#   - A's new version of the CLEAR indicator reaches C through B;
#   - quiescence: further rounds move nothing (no echo storm), the objects transferred in all are
#     bounded, and every (id, version) is stored once per node;
#   - with B's serving gate off (C pulls B as B's admin), B relaying the AMBER+STRICT object is
#     refused by C as an over-share and audited;
#   - tampering relay: B's copies changed in one byte, in signer_ref, or with the TLP marking
#     lowered are refused by C with the reason audited; the valid object of the same page and
#     everything accepted before stay.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3 "the tampering relay edits B's database"

member_nodes a b c

# account NODE PULLER: an account on NODE for node PULLER, with PULLER's organisation
account() {
  local id
  eval "id=\$ID_$2"
  ncli "$1" user add --org "$id" "node-$2" >/dev/null 2>&1
  ncli "$1" user grant "node-$2" default --read >/dev/null 2>&1
  ncli "$1" token create "node-$2" 2>/dev/null >"$T/$2-on-$1.token"
}
# link PULLER NODE: PULLER pulls NODE's default collection by hand
link() {
  local id
  eval "id=\$ID_$2"
  account "$2" "$1"
  ncli "$1" peer add "$2" "$(node_url "$2")" --collection "$(node_default "$2")" --pull \
    --interval 0 --org "$id" --token-file "$T/$1-on-$2.token" --cacert "$T/$2.ca" >/dev/null
}
link b a
link a b
link c b
link b c
# the cut A-C link: C's entry for A points at a port nothing listens on
printf 'x\n' >"$T/dead.token"
ncli c peer add a "https://localhost:9/accord/" --collection "$(node_default a)" --pull \
  --interval 0 --org "$ID_a" --token-file "$T/dead.token" --cacert "$T/a.ca" >/dev/null
[ "$(ncli c peer list | wc -l)" = 2 ] && ok || bad "C's peers"

V1=2026-01-10T09:10:00.000Z
V2=2026-02-10T09:10:00.000Z
CLEAR=$(pid_of 1 1)
GREEN=$(pid_of 1 2)
STRICT=$(pid_of 1 3)
{
  gen_indicators 1 1 1 clear "$V1" "$ID_a"
  gen_indicators 1 2 2 green "$V1" "$ID_a"
  gen_indicators 1 3 3 amber+strict "$V1" "$ID_a"
} >"$T/a1.json"
ncli a import --sign --quiet "$T/a1.json" >/dev/null 2>&1
TRANSFERS=0
LAST=0
round() { # one sync round on every node, in the order B, C, A; adds up the objects transferred
  local n m
  LAST=0
  for n in b c a; do
    ncli "$n" sync >"$T/round.$n" 2>&1
    m=$(sed -n 's/.*	objects \([0-9]*\)	.*/\1/p' "$T/round.$n" | awk '{s += $1} END {print s + 0}')
    LAST=$((LAST + m))
  done
  TRANSFERS=$((TRANSFERS + LAST))
}
round
# the counts below are parsed from the sync output: a parse that read nothing would make the
# echo and bound checks pass vacuously, so the rounds that must move objects are checked to
[ "$LAST" -gt 0 ] && ok || bad "the first round moved nothing (or its output was not read)"
round
check "no conflicts: a node's own identity relayed back is the same version" \
  sh -c "! grep -hE 'conflicts [1-9]|[1-9][0-9]* conflict' '$T'/round.*"
check "C reaches A through B only (the cut link fails, named)" grep -q "peer a: GET https://localhost:9/" "$T/round.c"
for id in "$CLEAR" "$GREEN"; do
  ncli c verify "$id" >"$T/v" 2>&1
  check "C holds $id and verifies A's authorship" grep -q "	authored$" "$T/v" || cat "$T/v" >&2
done
for n in b c; do
  ncli "$n" get "$STRICT" >/dev/null 2>&1 && bad "AMBER+STRICT reached $n" || ok
done

# A's new version of the CLEAR indicator reaches C through B
gen_indicators 1 1 1 clear "$V2" "$ID_a" | ncli a import --sign --quiet - >/dev/null 2>&1
round
# B pulls it from A, C from B (B syncs first): two transfers of the new version at least
[ "$LAST" -ge 2 ] && ok || bad "the new version's round moved $LAST objects (at least 2)"
ncli c get --all-versions "$CLEAR" 2>/dev/null | grep -c '"modified"' >"$T/nv"
check "A's second version reached C" [ "$(cat "$T/nv")" = 2 ]

# quiescence: after one more round (the last echoes, duplicates everywhere), two more rounds
# move nothing at all
round
BEFORE=$TRANSFERS
round
round
[ "$TRANSFERS" = "$BEFORE" ] && ok || bad "echo storm: $((TRANSFERS - BEFORE)) objects moved after quiescence"
# bound: each of the 4 working links carries each version at most twice (once as new, once as
# the echo of what the other side got from it): 9 versions (3 identities, CLEAR x2, GREEN,
# accord's 3 extension-definitions) on the B links, fewer on the others
[ "$TRANSFERS" -gt 0 ] && [ "$TRANSFERS" -le 72 ] && ok || bad "$TRANSFERS objects transferred in all (bound 72)"
# exactly once per node: identities 3 + CLEAR 2 versions + GREEN + the 3 extension-definitions
# every member publishes, and A also its AMBER+STRICT
[ "$(node_versions a)" = 10 ] && ok || bad "A holds $(node_versions a) versions, expected 10"
[ "$(node_versions b)" = 9 ] && ok || bad "B holds $(node_versions b) versions, expected 9"
[ "$(node_versions c)" = 9 ] && ok || bad "C holds $(node_versions c) versions, expected 9"

# B's serving gate off: B holds A's AMBER+STRICT object (its operator imported a copy) and C
# pulls B as B's admin, which reads everything
ncli a get "$STRICT" >"$T/strict.json"
ncli b import --quiet "$T/strict.json" >/dev/null 2>&1
ncli b get "$STRICT" >/dev/null 2>&1 && ok || bad "setup: B holds the AMBER+STRICT copy"
ncli c sync b >"$T/gated" 2>&1
check "through B's gate C gets nothing new" grep -q "^b	.*	stored 0	.*	refused 0	" "$T/gated" || cat "$T/gated" >&2
ncli c peer add bgate "$(node_url b)" --collection "$(node_default b)" --pull --interval 0 \
  --org "$ID_b" --token-file "$T/b.token" --cacert "$T/b.ca" >/dev/null
ncli c sync bgate >"$T/ungated" 2>&1
check "without B's gate C refuses one object" grep -q "^bgate	.*	refused 1	" "$T/ungated" || cat "$T/ungated" >&2
ncli c get "$STRICT" >/dev/null 2>&1 && bad "AMBER+STRICT reached C through an ungated B" || ok
sq "$T/c/accord.db" "SELECT detail FROM audit WHERE action = 'peer-refused' AND ref = '$STRICT'" >"$T/aud"
check "C audited the over-share" grep -q "over-share: TLP:amber+strict" "$T/aud" || cat "$T/aud" >&2

# tampering relay: four new signed objects reach B; B's copies of three are altered
{
  gen_indicators 4 1 1 clear "$V1" "$ID_a"
  gen_indicators 4 2 2 clear "$V1" "$ID_a"
  gen_indicators 4 3 3 green "$V1" "$ID_a"
  gen_indicators 4 4 4 clear "$V1" "$ID_a"
} | ncli a import --sign --quiet - >/dev/null 2>&1
ncli b sync a >/dev/null 2>&1
[ "$(node_objects b)" = 13 ] && ok || bad "setup: B got A's 4 new objects (B holds $(node_objects b))"
tamper() { # ID SQL-REPLACE-FROM SQL-REPLACE-TO
  sq "$T/b/accord.db" "PRAGMA busy_timeout = 10000; UPDATE objects SET body = CAST(replace(CAST(body AS TEXT), '$2', '$3') AS BLOB) WHERE id = '$1'" >/dev/null
}
tamper "$(pid_of 4 1)" "peer test 1" "peer test 7"                      # one byte of the content
tamper "$(pid_of 4 2)" "\"signer_ref\":\"$ID_a\"" "\"signer_ref\":\"$ID_b\"" # another signer
tamper "$(pid_of 4 3)" "$(tlp_ref green)" "$(tlp_ref clear)"            # TLP lowered
VC=$(node_versions c)
ncli c sync b >"$T/tamper" 2>&1
check "C refuses the three altered objects" grep -q "^b	.*	refused 3	" "$T/tamper" || cat "$T/tamper" >&2
check "C stores the valid one of the page" grep -q "^b	.*	stored 1	" "$T/tamper" || cat "$T/tamper" >&2
[ "$(node_versions c)" = $((VC + 1)) ] && ok || bad "C holds $(node_versions c) versions, expected $((VC + 1))"
for i in 1 2 3; do
  ncli c get "$(pid_of 4 "$i")" >/dev/null 2>&1 && bad "altered object $i stored on C" || ok
done
ncli c verify "$(pid_of 4 4)" | grep -q "	authored$" && ok || bad "the valid object is A's"
sq "$T/c/accord.db" "SELECT ref || ' ' || detail FROM audit WHERE action = 'peer-refused'" >"$T/aud2"
for i in 1 2 3; do
  check "C audited why altered object $i was refused" grep -q "$(pid_of 4 "$i") refused from peer b: signature: " "$T/aud2" || cat "$T/aud2" >&2
done
ncli c get "$CLEAR" >/dev/null && ok || bad "C lost what it had accepted before"
check "C's store is intact" sh -c "sqlite3 -cmd '.timeout 10000' '$T/c/accord.db' 'PRAGMA integrity_check' | grep -qx ok"
for n in a b c; do node_stop "$n"; done
finish
