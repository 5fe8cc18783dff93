#!/usr/bin/env bash
# Bad input never crashes accord, always names what and where, and never loses what is stored.
. "$(dirname "$0")/lib.sh" "$@"
SAMPLE="$ROOT/tests/data/sample/coalition-sample.json"
"$ACCORD" import --quiet "$SAMPLE" >/dev/null 2>&1
stored() { "$ACCORD" stats | grep -o 'versions [0-9]*'; }
BEFORE=$(stored)
check "sample stored" test "$BEFORE" = "versions 8"

IP='{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--5a3f0e1b-2c4d-5e6f-8a9b-0c1d2e3f4a5b","value":"192.0.2.1"}'
# input: description | file content (printf format) | expected exit | expected message part
run_case() {
  local d=$1 want=$3 msg=$4
  printf "$2" "${@:5}" >"$T/in.json"
  expect_rc "$want" "$d" -- "$ACCORD" import "$T/in.json"
  check "$d: message names '$msg'" has "$msg" "$T/err"
}
run_case "invalid JSON" '[%s, {"type": }]' 3 "invalid JSON at byte 128" "$IP"
run_case "truncated bundle" '{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"ipv4-addr"' 3 "truncated"
run_case "garbage between objects" '[{"a":1} x]' 3 "expected ',' or ']'"
run_case "trailing comma" '[{"type":"x"},]' 3 "trailing ','"
run_case "top-level scalar" '42' 3 "expected a STIX bundle"
run_case "wrong type of a property" '{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--5a3f0e1b-2c4d-5e6f-8a9b-0c1d2e3f4a5b","value":7}' 3 '"value"'
run_case "duplicate keys" '{"type":"ipv4-addr","type":"url"}' 3 'duplicate key "type"'
run_case "invalid UTF-8" '{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--5a3f0e1b-2c4d-5e6f-8a9b-0c1d2e3f4a5b","value":"\xc0\x80"}' 3 "invalid UTF-8"
run_case "NUL escape" '{"type":"x\\u0000"}' 3 'u0000'
run_case "raw NUL byte" '{"type":"a\0b"}' 3 "control character 0x00"
run_case "not an object" '[1]' 3 "not a STIX object"
run_case "missing id" '{"type":"ipv4-addr","spec_version":"2.1","value":"192.0.2.1"}' 3 '"id"'

# 10,000-deep nesting: rejected, no crash
{ printf '['; for i in $(seq 10000); do printf '{"a":['; done; for i in $(seq 10000); do printf ']}'; done; printf ']'; } >"$T/deep.json"
expect_rc 3 "10,000-deep nesting" -- "$ACCORD" import "$T/deep.json"
check "deep nesting message" has "nesting deeper than" "$T/err"

# a 1 GB string through a pipe: refused at the object size cap, memory stays bounded
{ printf '{"type":"x","s":"'; head -c 1000000000 /dev/zero | tr '\0' a; printf '"}'; } 2>/dev/null |
  "$ACCORD" import - >"$T/out" 2>"$T/err"
rc=$?
check "1 GB string: exit 1 (limit)" test "$rc" = 1
check "1 GB string: names the limit" has "larger than the" "$T/err"

# --strict rejects the whole file
IP2='{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--7b1e2c3d-4f5a-5b6c-9d7e-8f9a0b1c2d3e","value":"192.0.2.2"}'
printf '[%s, {"type":"ipv4-addr"}]' "$IP2" >"$T/mixed.json"
expect_rc 4 "strict rejects all" -- "$ACCORD" import --strict "$T/mixed.json"
check "strict message" has "strict" "$T/err"
expect_rc 1 "strict: the valid object was not stored" -- "$ACCORD" get ipv4-addr--7b1e2c3d-4f5a-5b6c-9d7e-8f9a0b1c2d3e
expect_rc 3 "non-strict stores the valid one" -- "$ACCORD" import "$T/mixed.json"
check "non-strict counts" grep -qE "accepted +1$" "$T/err"
check "reasons grouped" has "reasons:" "$T/err"

# nothing stored before was lost or changed
AFTER=$("$ACCORD" stats | grep -o 'versions [0-9]*')
check "store intact (8 + 2 versions)" test "$AFTER" = "versions 10"
expect_rc 0 "sample re-import is all duplicates" -- "$ACCORD" import "$SAMPLE"
check "duplicates 8" grep -qE "duplicates +8$" "$T/err"
expect_rc 1 "missing file" -- "$ACCORD" import "$T/nope.json"
check "missing file named" has "nope.json" "$T/err"
finish
