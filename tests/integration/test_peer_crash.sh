#!/usr/bin/env bash
# Crash during a pull: node C pulls 50,000 signed objects from node A (`accord serve`) in pages of
# 500 and is killed with SIGKILL ten times, at random moments spread over the transfer (the i-th
# kill comes once C holds about i/11 of the objects, after a random extra delay), then runs to the
# end.  After each kill: the cursor is never ahead of the data (every version A added up to C's
# cursor is on C), no (id, version) is stored twice, and PRAGMA integrity_check is ok.  At the
# end: C's (id, version, content hash) set equals A's, C's audit log verifies, and it holds
# exactly one accepted record per stored version.  PEER_CRASH_OBJECTS and PEER_CRASH_KILLS
# change the sizes.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3 "the test compares the nodes' databases"
N=${PEER_CRASH_OBJECTS:-50000}
K=${PEER_CRASH_KILLS:-10}
SECONDS=0
node_start a || { bad "node A start"; finish; }
ncli a member init --name Org-a >/dev/null 2>&1
ID_a=$(ncli a member show | sed -n '1s/^# \([^ ]*\).*/\1/p')
gen_indicators 5 1 "$N" clear 2026-01-10T09:10:00.000Z "$ID_a" >"$T/a.json"
ncli a import --sign --quiet "$T/a.json" >/dev/null 2>&1
VA=$(node_versions a)
# the objects, A's identity and accord's 3 extension-definitions
[ "$VA" = $((N + 4)) ] && ok || bad "setup: A holds $VA versions"
echo "setup: $VA signed versions on A in ${SECONDS}s"

printf '' | ncli c import --quiet - >/dev/null 2>&1 # creates C's store
ncli c peer add a "$(node_url a)" --collection "$(node_default a)" --pull --interval 0 \
  --page 500 --org "$ID_a" --token-file "$T/a.token" --cacert "$T/a.ca" >/dev/null
ncli c peer list | grep -q '^a	' && ok || bad "setup: C's peer"

# versions A added up to C's cursor that C lacks; duplicate (id, version) rows on C
check_state() {
  local cur
  cur=$(sq "$T/c/accord.db" "SELECT cursor FROM peer_cursors WHERE peer = 'a'")
  [ -z "$cur" ] && return 0
  sq "$T/c/accord.db" >"$T/chk" <<SQL
PRAGMA busy_timeout = 10000;
ATTACH '$T/a/accord.db' AS a;
SELECT 'ahead', count(*) FROM (
  SELECT id, modified FROM a.objects
   WHERE added <= CAST(strftime('%s', substr('$cur', 1, 19)) AS INTEGER) * 1000000
                  + CAST(substr(substr('$cur', 21, length('$cur') - 21) || '000000', 1, 6) AS INTEGER)
  EXCEPT SELECT id, modified FROM main.objects);
SELECT 'dups', count(*) FROM (SELECT 1 FROM main.objects GROUP BY id, modified HAVING count(*) > 1);
SQL
  grep -qx 'ahead|0' "$T/chk" && grep -qx 'dups|0' "$T/chk" &&
    [ "$(sq "$T/c/accord.db" 'PRAGMA integrity_check')" = ok ]
}
c_versions() { sq "$T/c/accord.db" "SELECT count(*) FROM objects" 2>/dev/null || echo 0; }
kills=0
SECONDS=0
for i in $(seq 1 "$K"); do
  # the i-th kill: once C holds i/(K+1) of the objects, give or take a quarter of a step
  step=$((VA / (K + 1)))
  target=$((step * i - step / 4 + (RANDOM * 32768 + RANDOM) % (step / 2 + 1)))
  ncli c sync a >"$T/sync.$i" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ "$(c_versions)" -lt "$target" ]; do sleep 0.05; done
  sleep "$(printf '0.%02d' $((RANDOM % 20)))"
  if kill -KILL "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  have=$(c_versions)
  check "after kill $i (C held $have of $VA versions): cursor not ahead of the data, no duplicates, integrity ok" check_state ||
    cat "$T/chk" >&2
done
echo "killed $kills of $K syncs in flight, ${SECONDS}s"
[ "$kills" -ge $((K / 2)) ] && ok || bad "only $kills of $K kills hit a sync in flight"
ncli c sync a >"$T/final" 2>&1
check "the last sync completes" grep -q "^a	pages" "$T/final" || cat "$T/final" >&2
sq "$T/a/accord.db" "SELECT id, modified, chash FROM objects ORDER BY id, modified" >"$T/set.a"
sq "$T/c/accord.db" "SELECT id, modified, chash FROM objects ORDER BY id, modified" >"$T/set.c"
check "C's (id, version, content hash) set equals A's" cmp -s "$T/set.a" "$T/set.c" ||
  diff "$T/set.a" "$T/set.c" | head -5 >&2
check "no duplicates at the end" check_state
ACC=$(sq "$T/c/accord.db" "SELECT count(*) FROM audit WHERE action = 'accepted'")
ACCD=$(sq "$T/c/accord.db" "SELECT count(*) FROM (SELECT DISTINCT ref, detail FROM audit WHERE action = 'accepted')")
[ "$ACC" = "$VA" ] && [ "$ACCD" = "$VA" ] && ok || bad "C's audit log: $ACC accepted records ($ACCD distinct) for $VA versions"
ncli c audit export "$T/audit" >/dev/null 2>&1
expect_rc 0 "C's audit log verifies" -- ncli c audit verify "$T/audit"
echo "done in ${SECONDS}s after the kills"
node_stop a
finish
