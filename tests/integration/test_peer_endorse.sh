#!/usr/bin/env bash
# An endorsement travels: three member nodes A, B, C pulling from each other (A<->B, B<->C,
# A<->C).  A signs a CLEAR indicator; every node gets it.  B endorses it (B's operator imports
# the object with --sign: B's signature joins A's, no new version).  Checks:
#   - B's grown signature set gives the version a new date_added in B's collection, so A and C
#     receive B's signature by their ordinary pulls (added_after walks) and store it, again as
#     the same version;
#   - the echo dies: once every node holds the same set, further rounds move nothing, the
#     objects transferred in all are bounded, and the version's date_added on every node stays
#     put (an equal set never bumps it);
#   - importing the same set again by hand changes no date_added either;
#   - every node holds the version once, and verifies it as A's (authored) with B's signature.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3 "date_added is read from the stores"

member_nodes a b c

# link PULLER NODE: PULLER pulls NODE's default collection by hand, through an account on NODE
# carrying PULLER's organisation
link() {
  local id pid
  eval "id=\$ID_$2"
  eval "pid=\$ID_$1"
  ncli "$2" user add --org "$pid" "node-$1" >/dev/null 2>&1
  ncli "$2" user grant "node-$1" default --read >/dev/null 2>&1
  ncli "$2" token create "node-$1" 2>/dev/null >"$T/$1-on-$2.token"
  ncli "$1" peer add "$2" "$(node_url "$2")" --collection "$(node_default "$2")" --pull \
    --interval 0 --org "$id" --token-file "$T/$1-on-$2.token" --cacert "$T/$2.ca" >/dev/null
}
link a b
link b a
link b c
link c b
link a c
link c a

TRANSFERS=0
LAST=0
round() { # one sync round on every node; LAST: the objects transferred in it
  local n
  LAST=0
  for n in a b c; do
    ncli "$n" sync >"$T/round.$n" 2>&1
    LAST=$((LAST + $(sed -n 's/.*	objects \([0-9]*\)	.*/\1/p' "$T/round.$n" | awk '{s += $1} END {print s + 0}')))
  done
  TRANSFERS=$((TRANSFERS + LAST))
}
# added NODE: the date_added (µs) of the indicator in NODE's default collection
added() {
  sq "$T/$1/accord.db" "SELECT group_concat(m.added) FROM members m JOIN objects o ON o.seq = m.seq WHERE o.id = '$OBJ'"
}
OBJ=$(pid_of 7 1)
gen_indicators 7 1 1 clear 2026-01-10T09:10:00.000Z "$ID_a" | ncli a import --sign --quiet - || bad "A imports its indicator"
round
[ "$LAST" -gt 0 ] && ok || bad "the first round moved nothing (sync output: $(cat "$T"/round.*))"
round
for n in b c; do
  ncli "$n" get "$OBJ" >/dev/null 2>&1 && ok || bad "setup: $n holds A's indicator"
done
round # settle the identities' echoes
for n in a b c; do eval "BEFORE_$n=\$(added $n)"; done

# B endorses A's indicator
ncli b get "$OBJ" >"$T/obj.json"
expect_rc 0 "B endorses" -- ncli b import --quiet --sign "$T/obj.json"
grep -q "\"signer_ref\":\"$ID_b\"" <(ncli b get "$OBJ") && ok || bad "B holds its own signature"
check "B's grown set gave the version a new date_added" [ "$(added b)" -gt "$BEFORE_b" ]
[ "$(sq "$T/b/accord.db" "SELECT count(*) FROM audit WHERE action = 'signature added' AND ref = '$OBJ' AND object_seq = (SELECT seq FROM objects WHERE id = '$OBJ')")" = 1 ] && ok || bad "B audited the signature added once, naming the object"

round
[ "$LAST" -gt 0 ] && ok || bad "the endorsement moved nothing"
round
for n in a c; do
  ncli "$n" get "$OBJ" >"$T/$n.obj" 2>/dev/null
  check "B's endorsement reached $n" grep -q "\"signer_ref\":\"$ID_b\"" "$T/$n.obj"
  check "$n still holds A's signature" grep -q "\"signer_ref\":\"$ID_a\"" "$T/$n.obj"
  check "the endorsement gave the version a new date_added on $n" [ "$(added "$n")" -gt "$(eval echo "\$BEFORE_$n")" ]
  ncli "$n" verify "$OBJ" >"$T/v" 2>&1
  check "$n verifies A's authorship" grep -q "	authored$" "$T/v"
done
for n in a b c; do
  [ "$(sq "$T/$n/accord.db" "SELECT count(*) FROM objects WHERE id = '$OBJ'")" = 1 ] && ok || bad "$n holds the version more than once"
done
cmp -s "$T/a.obj" "$T/c.obj" && ok || bad "A and C serialise the equal set differently"

# the echo dies: every node holds the same set; the last echoes settle within a round, then
# nothing moves and no date_added changes
round
for n in a b c; do eval "SETTLED_$n=\$(added $n)"; done
SETTLED=$TRANSFERS
round
[ "$LAST" = 0 ] && ok || bad "echo: $LAST objects moved after quiescence"
round
[ "$TRANSFERS" = "$SETTLED" ] && ok || bad "echo storm: $((TRANSFERS - SETTLED)) objects moved after quiescence"
for n in a b c; do
  check "an equal set kept $n's date_added" [ "$(added "$n")" = "$(eval echo "\$SETTLED_$n")" ]
done
# bound: 6 links; before the endorsement each carries each of the 7 versions (3 identities, 3
# extension-definitions, the indicator) at most twice (new, echo); the endorsed indicator then
# crosses each link at most once more (48 measured)
[ "$TRANSFERS" -gt 0 ] && [ "$TRANSFERS" -le 90 ] && ok || bad "$TRANSFERS objects transferred in all (bound 90)"

# every cursor move is an audit record in the transaction that moved it: the last one names
# the cursor kept, and the quiescent rounds, which moved no cursor, wrote none
for n in a b c; do
  sq "$T/$n/accord.db" "SELECT ref || ' ' || substr(detail, instr(detail, ': ') + 2) FROM audit WHERE action = 'peer-cursor' AND seq = (SELECT max(seq) FROM audit a2 WHERE a2.action = 'peer-cursor' AND a2.ref = audit.ref) ORDER BY ref" >"$T/cur.audit"
  sq "$T/$n/accord.db" "SELECT peer || ' ' || cursor FROM peer_cursors ORDER BY peer" >"$T/cur.table"
  check "$n: the last cursor audit record of each peer names its cursor" cmp -s "$T/cur.audit" "$T/cur.table"
  [ -s "$T/cur.table" ] && ok || bad "$n keeps no cursor"
  eval "CURSORS_$n=$(sq "$T/$n/accord.db" "SELECT count(*) FROM audit WHERE action = 'peer-cursor'")"
done
round
for n in a b c; do
  check "$n: a round that moved no cursor wrote no cursor record" [ "$(sq "$T/$n/accord.db" "SELECT count(*) FROM audit WHERE action = 'peer-cursor'")" = "$(eval echo "\$CURSORS_$n")" ]
  rm -rf "$T/audit.$n"
  expect_rc 0 "$n: audit export" -- ncli "$n" audit export "$T/audit.$n"
  expect_rc 0 "$n: the audit log with the cursor records verifies" -- ncli "$n" audit verify "$T/audit.$n"
done

# the same set imported again by hand: a duplicate, date_added untouched
ncli a get "$OBJ" >"$T/again.json"
ncli a import --quiet "$T/again.json" >/dev/null 2>&1
check "re-importing an equal set keeps A's date_added" [ "$(added a)" = "$SETTLED_a" ]
for n in a b c; do node_stop "$n"; done

finish
