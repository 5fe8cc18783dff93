#!/usr/bin/env bash
# A conflict arriving by sync: two peers serve one (id, version) with different content.  Node A
# and node A2 (a copy of A's store taken after `accord member init`, so both sign as A's
# organisation) each hold indicator X signed by A, and indicator Y unsigned, with the same id
# and modified but another name.  C pulls A then A2 as member peers (X only: Y is unsigned); D
# pulls A then A2 as public feeds (X and Y).  Checks, on C and on D:
#   - the second copy is refused as a conflict: `accord sync` exits 3, counts it, names it;
#   - a "conflict" audit record names the object and says the stored one is kept;
#   - the stored version is byte for byte A's (the conflicting copy's signature is not merged
#     into it) and still verifies as authored by A; nothing else was stored;
#   - the cursor moved past the page: the next sync reports no conflict again.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
if ! command -v sqlite3 >/dev/null; then
  [ -n "${CI:-}" ] && { echo "FAIL: sqlite3 (debian-packages.txt) is missing" >&2; exit 1; }
  echo "SKIP: sqlite3 is not installed (the test reads the audit log)"
  exit 77
fi
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
X=$(pid_of 6 1)
Y=$(pid_of 6 2)
gen_indicators 6 1 1 clear "$V" "$ID_a" | ncli a import --sign --quiet - >/dev/null 2>&1
gen_indicators 6 1 1 clear "$V" "$ID_a" | sed 's/"peer test 1"/"other content"/' |
  ncli a2 import --sign --quiet - >/dev/null 2>&1
gen_indicators 6 2 2 clear "$V" | ncli a import --quiet - >/dev/null 2>&1
gen_indicators 6 2 2 clear "$V" | sed 's/"peer test 2"/"other content"/' |
  ncli a2 import --quiet - >/dev/null 2>&1
ncli a get "$X" >"$T/x.a"
ncli a2 get "$X" >"$T/x.a2"
ncli a get "$Y" >"$T/y.a"
grep -q '"other content"' "$T/x.a2" && ! cmp -s "$T/x.a" "$T/x.a2" && ok || bad "setup: A2's X differs"
grep -q "\"signer_ref\":\"$ID_a\"" "$T/x.a2" && ok || bad "setup: A2 signed X as A"

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
# conflicted NODE IDS...: the checks above for the conflicting ids
conflicted() {
  local n=$1 id
  shift
  check "$n: sync counts $# conflict(s) and stores nothing" \
    grep -q "^a2	.*	stored 0	.*	conflicts $#	" "$T/$n.sa2"
  check "$n: the error says $# conflict(s)" grep -q "peer a2: .*$# conflict(s)" "$T/$n.sa2.err"
  for id in "$@"; do
    sq "$T/$n/accord.db" "SELECT detail FROM audit WHERE action = 'conflict' AND ref = '$id'" >"$T/aud"
    check "$n: $id audited as a conflict, the stored one kept" \
      grep -q "is already stored with other content; the stored one is kept" "$T/aud"
  done
  ncli "$n" get "$X" >"$T/x.$n"
  check "$n: X is byte for byte A's copy" cmp -s "$T/x.a" "$T/x.$n"
  ncli "$n" verify "$X" >"$T/v" 2>&1
  check "$n: X verifies as authored by A" grep -q "	authored$" "$T/v"
  local vers
  vers=$(sq "$T/$n/accord.db" "SELECT count(*) FROM objects WHERE id IN ('$X', '$Y')")
  [ "$vers" = "$#" ] && ok || bad "$n holds $vers versions of X and Y"
  expect_rc 0 "$n: the next sync of A2 is clean" -- ncli "$n" sync a2
  check "$n: no conflict reported again" grep -q "^a2	.*	objects 0	.*	conflicts 0	" "$T/out"
}
puller c --org "$ID_a"
check "C refused A's unsigned Y from a member peer" grep -q "^a	.*	refused 1	" "$T/c.sa"
conflicted c "$X"
puller d
conflicted d "$X" "$Y"
ncli d get "$Y" >"$T/y.d"
check "D: Y is byte for byte A's copy" cmp -s "$T/y.a" "$T/y.d"
ncli d audit export "$T/audit.d" >/dev/null 2>&1
expect_rc 0 "D's audit log verifies" -- ncli d audit verify "$T/audit.d"
node_stop a
node_stop a2
finish
