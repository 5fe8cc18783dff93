#!/usr/bin/env bash
# The accord command end to end: help, import (bundle, .gz, JSON lines, directories), duplicates,
# get, search, export, stats.
. "$(dirname "$0")/lib.sh" "$@"
SAMPLE="$ROOT/tests/data/sample/coalition-sample.json"
IND=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f

expect_rc 0 "help" -- "$ACCORD" help
for c in import get search export stats validate; do
  check "help lists $c" has "^  $c " "$T/out"
done
expect_rc 0 "help import" -- "$ACCORD" help import
check "help import shows --strict" has "--strict" "$T/out"
expect_rc 0 "import --help" -- "$ACCORD" import --help
check "import --help shows usage" has "usage: accord import" "$T/out"
expect_rc 0 "search -h" -- "$ACCORD" search -h
expect_rc 2 "unknown command" -- "$ACCORD" frobnicate
check "unknown command named" has "frobnicate" "$T/err"
expect_rc 2 "import without input" -- "$ACCORD" import

expect_rc 0 "import sample" -- "$ACCORD" import "$SAMPLE"
check "summary counts 8 accepted" grep -qE "accepted +8$" "$T/err"
expect_rc 0 "re-import sample" -- "$ACCORD" import "$SAMPLE"
check "re-import: 8 duplicates" grep -qE "duplicates +8$" "$T/err"
check "re-import: 0 accepted" grep -qE "accepted +0$" "$T/err"

expect_rc 0 "get" -- "$ACCORD" get "$IND"
check "get prints the object" has "\"id\":\"$IND\"" "$T/out"
check "get prints one line" test "$(wc -l <"$T/out")" = 1
expect_rc 1 "get unknown id" -- "$ACCORD" get indicator--00000000-0000-4000-8000-000000000000
check "get unknown names the id" has "00000000-0000-4000-8000-000000000000" "$T/err"

expect_rc 0 "search ip" -- "$ACCORD" search 198.51.100.7
check "search ip: indicator and SCO" test "$(wc -l <"$T/out")" = 2
check "search ip: the indicator" has "$IND" "$T/out"
check "search ip: the SCO" has "ipv4-addr--" "$T/out"
expect_rc 0 "search domain, other case" -- "$ACCORD" search C2.Example.NET
check "search domain: 2 hits" test "$(wc -l <"$T/out")" = 2
expect_rc 0 "search hash upper case" -- "$ACCORD" search AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F
check "search hash: 1 hit" test "$(wc -l <"$T/out")" = 1
expect_rc 0 "search miss" -- "$ACCORD" search 192.0.2.55
check "search miss: no hits" test ! -s "$T/out"

expect_rc 0 "export" -- "$ACCORD" export
check "export is a bundle" has '^{"type":"bundle","id":"bundle--' "$T/out"
check "export holds 8 objects" test "$(grep -c '"spec_version"' "$T/out")" = 8
cp "$T/out" "$T/export.json"
expect_rc 0 "export --type indicator" -- "$ACCORD" export --type indicator
check "export --type: 2 indicators" test "$(grep -c '"type":"indicator"' "$T/out")" = 2
check "export --type: nothing else" test "$(grep -c '"spec_version"' "$T/out")" = 2
expect_rc 0 "export --added-after future" -- "$ACCORD" export --added-after 2999-01-01T00:00:00Z
check "export after the future is empty" has '"objects":\[\]}' "$T/out"
expect_rc 2 "export --added-after garbage" -- "$ACCORD" export --added-after yesterday

# the export re-imports into another store as all-new objects
expect_rc 0 "import export" -- "$ACCORD" --data "$T/data2" import "$T/export.json"
check "export round trip: 8 accepted" grep -qE "accepted +8$" "$T/err"

# gzip, JSON lines, directory walk
mkdir -p "$T/dir/sub"
gzip -c "$SAMPLE" >"$T/dir/sub/sample.json.gz"
expect_rc 0 "import .gz" -- "$ACCORD" --data "$T/data3" import "$T/dir/sub/sample.json.gz"
check "gz: 8 accepted" grep -qE "accepted +8$" "$T/err"
# a .gz cut short (its trailer and the end of its data gone): an error that says so, not a quiet end
head -c $(($(stat -c %s "$T/dir/sub/sample.json.gz") - 12)) "$T/dir/sub/sample.json.gz" >"$T/cut.json.gz"
expect_rc 1 "import a cut .gz" -- "$ACCORD" --data "$T/data3" import "$T/cut.json.gz"
check "cut .gz: named as truncated" grep -q "cut.json.gz: byte [0-9]*: gzip: the compressed data ends before its stream does (truncated file?)" "$T/err"
"$ACCORD" get "$IND" >"$T/line1"
printf '%s\n' "$(cat "$T/line1")" \
  '{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--1d0c5c67-7d8b-5b2e-8f3a-2c1b0e9d8f77","value":"203.0.113.9"}' \
  >"$T/dir/lines.jsonl"
expect_rc 0 "import dir" -- "$ACCORD" --data "$T/data4" import "$T/dir"
check "dir: 9 accepted (gz + jsonl)" grep -qE "accepted +9$" "$T/err"
check "dir: 1 duplicate" grep -qE "duplicates +1$" "$T/err"

# a new version, and --all-versions
sed 's/"modified":"2026-01-10T09:10:00.000Z"/"modified":"2026-02-01T00:00:00.000Z"/; s/ExampleRAT command and control/ExampleRAT C2 (updated)/' \
  "$T/line1" >"$T/v2.json"
expect_rc 0 "import new version" -- "$ACCORD" import "$T/v2.json"
check "new version counted" grep -qE "new versions +1$" "$T/err"
expect_rc 0 "get latest" -- "$ACCORD" get "$IND"
check "latest is the update" has "updated" "$T/out"
expect_rc 0 "get --all-versions" -- "$ACCORD" get --all-versions "$IND"
check "two versions" test "$(wc -l <"$T/out")" = 2
check "oldest first" sh -c "head -n 1 '$T/out' | grep -q 'command and control'"

expect_rc 0 "stats" -- "$ACCORD" stats
check "stats: 8 objects 9 versions" has "objects 8, versions 9" "$T/out"
check "stats per type" grep -qE "^  indicator +2 +3$" "$T/out"
expect_rc 0 "validate sample" -- "$ACCORD" validate "$SAMPLE"
check "validate: 8 valid" grep -qE "valid +8$" "$T/err"
finish
