#!/usr/bin/env bash
# Producers that sign, through the real binary:
#   - `accord sign --batch N`: one Merkle-root signature per N objects, each object with its leaf
#     index and inclusion path; `accord verify` accepts the bundle here and, with the producer's
#     identity, at another node, which also imports it; one object altered after signing fails
#     alone with its id named (verify and import), the rest of its batch still verifies;
#   - `accord sign` without --batch: one signature per object; refusals (no organisation yet, an
#     invalid object named by index and id with OUT left as it was, a batch out of range);
#   - sightings written by `accord match` are signed with the node's organisation and verify as
#     authored; a second run writes nothing new;
#   - kill -9 during a signed import: every stored version has exactly one `accepted` record,
#     every imported object carries its signature, and the audit log verifies.
. "$(dirname "$0")/lib.sh" "$@"
require_tool sqlite3
A="$T/a"
acc() { local d=$1; shift; "$ACCORD" --data "$d" "$@"; }
sq() { sqlite3 "$1/accord.db" "$2"; }
SIGEXT=extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31
# ind N [created_by]: an indicator
ind() {
  local by=""
  [ -n "${2:-}" ] && by=",\"created_by_ref\":\"$2\""
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-10T09:10:00.000Z","modified":"2026-01-10T09:10:00.000Z","pattern":"[ipv4-addr:value = '"'"'198.51.100.%d'"'"']","pattern_type":"stix","valid_from":"2026-01-10T09:10:00Z"%s}\n' \
    "$1" "$1" "$by"
}
iid() { printf 'indicator--00000000-0000-4000-8000-%012d' "$1"; }

printf '' | acc "$A" import --quiet - >/dev/null 2>&1 # creates A's store
expect_rc 1 "sign before member init" -- acc "$A" sign "$ROOT/tests/data/sample/coalition-sample.json"
check "names member init" has "member init" "$T/err"
expect_rc 0 "member init" -- acc "$A" member init --name "Alpha CERT"
AID=$(grep -v '^#' "$T/out" | cut -f1 | head -n 1)
{ for i in $(seq 1 10); do ind "$i" "$AID"; done; } >"$T/ten.jsonl"

# --- batches of 4: 10 objects, 3 signatures ----------------------------------------------------
expect_rc 0 "sign --batch 4" -- acc "$A" sign --batch 4 -o "$T/b.json" "$T/ten.jsonl"
check "reports 3 signatures for 10 objects" has "10 objects, 10 signed with 3 signature(s)" "$T/err"
check "nothing on stdout with -o" test ! -s "$T/out"
check "ten objects carry a batch path" test "$(grep -c '"batch_path":\[' "$T/b.json")" = 10
check "three distinct root signatures" test "$(grep -o '"sig":"[^"]*"' "$T/b.json" | sort -u | wc -l)" = 3
check "the last batch holds 2" test "$(grep -c '"batch_size":2,' "$T/b.json")" = 2
check "indexes 0..3 in full batches" test "$(grep -c '"batch_index":3,' "$T/b.json")" = 2
expect_rc 0 "verify the batch-signed bundle" -- acc "$A" verify "$T/b.json"
check "all ten authored" test "$(grep -c $'\tauthored$' "$T/out")" = 10
# another node: the producer's identity, then the bundle
acc "$A" get "$AID" >"$T/identity.json"
expect_rc 0 "C learns the identity" -- acc "$T/c" import --quiet "$T/identity.json"
expect_rc 0 "C imports the batch-signed bundle" -- acc "$T/c" import --quiet "$T/b.json"
expect_rc 0 "C verifies a stored object" -- acc "$T/c" verify "$(iid 6)"
check "authored at C" grep -q $'\tauthored$' "$T/out"
check "C keeps the signature rows" test "$(sq "$T/c" "SELECT count(*) FROM signatures WHERE signer = '$AID'")" -ge 10

# one object altered after signing: that one fails, named; its batch mates still verify
sed "s/198\.51\.100\.6'/198.51.100.99'/" "$T/b.json" >"$T/bad.json"
check "the edit changed one object" test "$(diff "$T/b.json" "$T/bad.json" | grep -c '^>')" = 1
expect_rc 3 "verify the altered bundle" -- acc "$A" verify "$T/bad.json"
check "exactly one invalid" test "$(grep -c $'\tinvalid\t' "$T/out")" = 1
check "the invalid one is the altered object" grep -q "^$(iid 6)"$'\t.*\tinvalid\t.*does not verify' "$T/out"
check "its batch mates verify" grep -q "^$(iid 5)"$'\t.*\tauthored$' "$T/out"
check "the other nine authored" test "$(grep -c $'\tauthored$' "$T/out")" = 9
expect_rc 0 "D learns the identity" -- acc "$T/d" import --quiet "$T/identity.json"
expect_rc 3 "D imports the altered bundle" -- acc "$T/d" import --quiet "$T/bad.json"
check "D names the altered object" has "$(iid 6).*rule signature" "$T/err"
expect_rc 1 "D stored nothing of it" -- acc "$T/d" get "$(iid 6)"
expect_rc 0 "D stored its batch mate" -- acc "$T/d" get "$(iid 5)"

# --- one signature per object ---------------------------------------------------------------------
expect_rc 0 "sign (single) to stdout" -- acc "$A" sign "$ROOT/tests/data/sample/coalition-sample.json"
cp "$T/out" "$T/s.json"
n=$(grep -c "$SIGEXT" "$T/s.json")
check "every object signed" test "$n" -ge 8
check "as many signatures as objects" has "$n objects, $n signed with $n signature(s)" "$T/err"
check "no batch fields" sh -c "! grep -q batch_path '$T/s.json'"
expect_rc 0 "verify the single-signed bundle" -- acc "$A" verify "$T/s.json"
check "none invalid or unverified" sh -c "! grep -qE $'\t(invalid|unverified)' '$T/out'"
expect_rc 0 "sign from stdin" -- sh -c "cat '$T/ten.jsonl' | '$ACCORD' --data '$A' sign --quiet - >'$T/stdin.json'"
check "--quiet prints no summary" test ! -s "$T/err"
check "stdin: ten signed objects" test "$(grep -c "$SIGEXT" "$T/stdin.json")" = 10
# signing a signed bundle again keeps the one signature per key
expect_rc 0 "sign what this key signed" -- acc "$A" sign -o "$T/again.json" "$T/stdin.json"
check "no second signature by the key" has "10 objects, 0 signed" "$T/err"

# refusals
echo '{"previous": "output"}' >"$T/keep.json"
{ ind 1 "$AID"; printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-10T09:10:00.000Z"}\n' "$(iid 2)"; } >"$T/invalid.jsonl"
expect_rc 2 "an invalid object stops signing" -- acc "$A" sign -o "$T/keep.json" "$T/invalid.jsonl"
check "names index and id" has "object 1 ($(iid 2))" "$T/err"
check "OUT left as it was" grep -q '"previous": "output"' "$T/keep.json"
check "no temporary file left" test "$(ls "$T" | grep -c 'keep.json.tmp')" = 0
expect_rc 2 "--batch 0" -- acc "$A" sign --batch 0 "$T/ten.jsonl"
expect_rc 2 "--batch too large" -- acc "$A" sign --batch 70000 "$T/ten.jsonl"
expect_rc 2 "two inputs" -- acc "$A" sign "$T/ten.jsonl" "$T/ten.jsonl"
expect_rc 1 "missing input" -- acc "$A" sign "$T/nope.json"

# --- sightings by accord match are signed ------------------------------------------------------------
M="$T/m"
expect_rc 0 "member init M" -- acc "$M" member init --name "Matcher"
MID=$(grep -v '^#' "$T/out" | cut -f1 | head -n 1)
printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'198.51.100.7'"'"']","pattern_type":"stix","valid_from":"2023-01-01T00:00:00Z"}\n' >"$T/mi.jsonl"
expect_rc 0 "import an indicator" -- acc "$M" import --quiet "$T/mi.jsonl"
printf '{"ts":1700000000.1,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7"}\n{"ts":1700009000.0,"uid":"C2","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7"}\n' >"$T/zeek.json"
expect_rc 0 "match --sightings" -- acc "$M" match --sightings "$T/zeek.json"
acc "$M" export | tr '{' '\n' | grep -o '"id":"sighting--[0-9a-f-]*"' | cut -d'"' -f4 | sort -u >"$T/sightings"
check "two sightings" test "$(wc -l <"$T/sightings")" = 2
for sid in $(cat "$T/sightings"); do
  expect_rc 0 "verify $sid" -- acc "$M" verify "$sid"
  check "$sid authored by the node's organisation" grep -q $'\tauthored$' "$T/out"
done
check "signature rows by M" test "$(sq "$M" "SELECT count(*) FROM signatures s JOIN objects o ON o.seq = s.object_seq WHERE o.type = 'sighting' AND s.signer = '$MID'")" = 2
expect_rc 0 "match --sightings again" -- acc "$M" match --sightings "$T/zeek.json"
check "nothing new the second time" has "(0 objects new or updated" "$T/err"

# --- kill -9 during a signed import -----------------------------------------------------------------
GEN="$BIN_DIR/bench_import"
if [ -x "$GEN" ]; then
  K="$T/k"
  acc "$K" member init --name "Killed" >/dev/null
  "$GEN" --generate "$T/big.json" --objects 60000 >/dev/null
  "$ACCORD" --data "$K" import --sign --batch 2000 "$T/big.json" >/dev/null 2>"$T/log" &
  pid=$!
  for i in $(seq 600); do
    [ "$(grep -c 'committed' "$T/log" 2>/dev/null)" -ge 3 ] && break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  stored=$(sq "$K" "SELECT count(*) FROM objects")
  # the identity and accord's 3 extension-definitions come before the import
  check "killed part way ($stored stored)" test "${stored:-0}" -gt 4 -a "${stored:-0}" -lt 60004
  check "every imported object signed" test "$(sq "$K" "SELECT count(*) FROM objects o WHERE NOT EXISTS (SELECT 1 FROM signatures s WHERE s.object_seq = o.seq)")" = 3
  expect_rc 0 "export after kill -9" -- acc "$K" audit export "$T/crash-exp"
  expect_rc 0 "the log verifies after kill -9" -- acc "$K" audit verify "$T/crash-exp"
  accepted=$(grep -c '^{"action":"accepted"' "$T/crash-exp/records.jsonl")
  distinct=$(grep '^{"action":"accepted"' "$T/crash-exp/records.jsonl" |
             grep -o '"object":[0-9]*' | sort -u | wc -l)
  check "one accepted record per stored version ($accepted, $distinct, $stored)" \
    test "$accepted" = "$stored" -a "$distinct" = "$stored"
else
  echo "skipped the kill -9 case: $GEN is not built"
fi
finish
