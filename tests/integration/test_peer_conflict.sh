#!/usr/bin/env bash
# Conflicts arriving by sync: two peers serve one (id, version) with different content.  Node A
# and node A2 (a copy of A's store taken after `accord member init`, so both sign as A's
# organisation) each hold, with the same id and modified:
#   X  signed by A, created by A, another name on A2: an equivocation (the creator signed both);
#   Y  unsigned, another name on A2: a plain conflict;
#   Z  unsigned, the same object with its keys in another order on A2: the same version;
#   W  signed by A but created by another identity, another name on A2: a plain conflict (the
#      signer is not the creator, so nothing proves the creator said both).
# C pulls A then A2 as member peers (X and W: Y and Z are unsigned); D pulls A then A2 as public
# feeds (all four).  Checks, on C and on D:
#   - the second copies are refused: `accord sync` exits 3, counts them (the equivocation apart
#     from the conflicts), names them;
#   - X is audited as an "equivocation", Y and W as a "conflict", each record naming the object,
#     saying the stored one is kept and naming the peer (name and URL) the copy came from;
#   - Z is a duplicate on D (no record, nothing stored);
#   - the stored versions are byte for byte A's (a conflicting copy's signature is not merged)
#     and X still verifies as authored by A; nothing else was stored;
#   - the cursor moved past the page: the next sync reports no conflict again.
# Then on D, by `accord import`: Y with its keys reversed and indented is a duplicate; Y with one
# value changed is a conflict.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
for tool in sqlite3 python3; do
  command -v "$tool" >/dev/null && continue
  [ -n "${CI:-}" ] && { echo "FAIL: $tool (debian-packages.txt) is missing" >&2; exit 1; }
  echo "SKIP: $tool is not installed (the test reads the audit log and rewrites JSON)"
  exit 77
done
node_start a || { bad "node A start"; finish; }
ncli a member init --name Org-a >/dev/null 2>&1
ID_a=$(ncli a member show | sed -n '1s/^# \([^ ]*\).*/\1/p')
[ -n "$ID_a" ] && ok || bad "member init on A"
node_stop a
cp -r "$T/a" "$T/a2"
cp "$T/a.token" "$T/a2.token"
node_start a || { bad "node A restart"; finish; }
node_start a2 || { bad "node A2 start"; finish; }

V=2026-01-10T09:10:00.000Z
OTHER=identity--0badc0de-0000-4000-8000-000000000001
X=$(pid_of 6 1)
Y=$(pid_of 6 2)
Z=$(pid_of 6 3)
W=$(pid_of 6 4)
gen_indicators 6 1 1 clear "$V" "$ID_a" | ncli a import --sign --quiet - >/dev/null 2>&1
gen_indicators 6 1 1 clear "$V" "$ID_a" | sed 's/"peer test 1"/"other content"/' |
  ncli a2 import --sign --quiet - >/dev/null 2>&1
gen_indicators 6 2 3 clear "$V" | ncli a import --quiet - >/dev/null 2>&1
gen_indicators 6 2 2 clear "$V" | sed 's/"peer test 2"/"other content"/' |
  ncli a2 import --quiet - >/dev/null 2>&1
gen_indicators 6 3 3 clear "$V" | sed 's/^{"type":"indicator",/{/; s/}$/,"type":"indicator"}/' |
  ncli a2 import --quiet - >/dev/null 2>&1
gen_indicators 6 4 4 clear "$V" "$OTHER" | ncli a import --sign --quiet - >/dev/null 2>&1
gen_indicators 6 4 4 clear "$V" "$OTHER" | sed 's/"peer test 4"/"other content"/' |
  ncli a2 import --sign --quiet - >/dev/null 2>&1
for o in X Y Z W; do
  ncli a get "${!o}" >"$T/$o.a"
  ncli a2 get "${!o}" >"$T/$o.a2"
done
grep -q '"other content"' "$T/X.a2" && ! cmp -s "$T/X.a" "$T/X.a2" && ok || bad "setup: A2's X differs"
grep -q "\"signer_ref\":\"$ID_a\"" "$T/X.a2" && ok || bad "setup: A2 signed X as A"
grep -q '"type":"indicator"}$' "$T/Z.a2" && ! cmp -s "$T/Z.a" "$T/Z.a2" && ok || bad "setup: A2 serves Z reordered"
grep -q "\"signer_ref\":\"$ID_a\"" "$T/W.a2" && grep -q '"other content"' "$T/W.a2" && ok ||
  bad "setup: A2's W differs, signed by A"

# puller NAME [--org]: pulls A, then A2
puller() {
  local n=$1 o
  shift
  for o in a a2; do
    ncli "$n" peer add "$o" "$(node_url "$o")" --collection "$(node_default "$o")" --pull \
      --interval 0 "$@" --token-file "$T/$o.token" --cacert "$T/$o.ca" >/dev/null
  done
  expect_rc 0 "$n pulls A" -- ncli "$n" sync a
  cp "$T/out" "$T/$n.sa"
  expect_rc 3 "$n pulls A2: partial (conflicts)" -- ncli "$n" sync a2
  cp "$T/out" "$T/$n.sa2"
  cp "$T/err" "$T/$n.sa2.err"
}
# audited NODE ACTION ID RULE: one record of ACTION for ID naming the rule and the peer a2
audited() {
  local n=$1 action=$2 id=$3 rule=$4
  sq "$T/$n/accord.db" "SELECT action, detail FROM audit WHERE ref = '$id' AND action IN ('conflict', 'equivocation')" >"$T/aud"
  check "$n: $id audited once, as $action" test "$(cut -d'|' -f1 "$T/aud" | tr '\n' ' ')" = "$action "
  check "$n: $id's record says the stored one is kept, rule $rule" \
    grep -q "is already stored with other content.*; the stored one is kept (rule $rule)" "$T/aud"
  check "$n: $id's record names the peer it came from" \
    grep -qF "received from peer a2 ($(node_url a2))" "$T/aud"
}
# conflicted NODE CONFLICTS VERSIONS: the checks above, the counts (X an equivocation, counted
# apart from the plain conflicts), and the stored copies
conflicted() {
  local n=$1 k=$2 want=$3
  check "$n: sync counts $k conflict(s) and 1 equivocation, and stores nothing" \
    grep -q "^a2	.*	stored 0	.*	conflicts $k	equivocations 1	" "$T/$n.sa2"
  check "$n: the error says $k conflict(s), 1 equivocation(s)" \
    grep -q "peer a2: .*$k conflict(s), 1 equivocation(s)" "$T/$n.sa2.err"
  audited "$n" equivocation "$X" equivocation
  audited "$n" conflict "$W" version-conflict
  for o in X W; do
    ncli "$n" get "${!o}" >"$T/$o.$n"
    check "$n: $o is byte for byte A's copy" cmp -s "$T/$o.a" "$T/$o.$n"
  done
  ncli "$n" verify "$X" >"$T/v" 2>&1
  check "$n: X verifies as authored by A" grep -q "	authored$" "$T/v"
  local vers
  vers=$(sq "$T/$n/accord.db" "SELECT count(*) FROM objects WHERE id IN ('$X', '$Y', '$Z', '$W')")
  [ "$vers" = "$want" ] && ok || bad "$n holds $vers versions of X, Y, Z and W, not $want"
  expect_rc 0 "$n: the next sync of A2 is clean" -- ncli "$n" sync a2
  check "$n: no conflict reported again" \
    grep -q "^a2	.*	objects 0	.*	conflicts 0	equivocations 0	" "$T/out"
}
puller c --org "$ID_a"
check "C refused A's unsigned Y and Z from a member peer" grep -q "^a	.*	refused 2	" "$T/c.sa"
conflicted c 1 2
puller d
conflicted d 2 4
audited d conflict "$Y" version-conflict
sq "$T/d/accord.db" "SELECT count(*) FROM audit WHERE ref = '$Z' AND action IN ('conflict', 'equivocation')" >"$T/zc"
check "D: A2's reordered Z is no conflict" test "$(cat "$T/zc")" = 0
check "D: A2's reordered Z counted a duplicate" grep -q "^a2	.*	duplicates [1-9]" "$T/d.sa2"
for o in Y Z; do
  ncli d get "${!o}" >"$T/$o.d"
  check "D: $o is byte for byte A's copy" cmp -s "$T/$o.a" "$T/$o.d"
done

# by hand: the same Y re-serialised is a duplicate; one value changed is a conflict
python3 -c 'import json, sys; o = json.load(open(sys.argv[1]))
print(json.dumps(dict(reversed(list(o.items()))), indent=2))' "$T/Y.d" >"$T/y.reordered"
python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); o["name"] += "!"
print(json.dumps(o))' "$T/Y.d" >"$T/y.changed"
expect_rc 0 "D: Y reordered and indented imports cleanly" -- ncli d import "$T/y.reordered"
sq "$T/d/accord.db" "SELECT count(*) FROM audit WHERE ref = '$Y' AND action = 'conflict'" >"$T/yc"
check "D: reordered Y is no new conflict" test "$(cat "$T/yc")" = 1
expect_rc 3 "D: Y with one value changed is refused" -- ncli d import "$T/y.changed"
sq "$T/d/accord.db" "SELECT count(*) FROM audit WHERE ref = '$Y' AND action = 'conflict'" >"$T/yc"
check "D: changed Y is a conflict" test "$(cat "$T/yc")" = 2
ncli d get "$Y" >"$T/Y.d2"
check "D: Y is still A's copy" cmp -s "$T/Y.a" "$T/Y.d2"
ncli d audit export "$T/audit.d" >/dev/null 2>&1
expect_rc 0 "D's audit log verifies" -- ncli d audit verify "$T/audit.d"
node_stop a
node_stop a2
finish
