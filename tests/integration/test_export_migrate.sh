#!/usr/bin/env bash
# test_export_migrate.sh - a store written by an older schema (5: no indicators table; 9: no
# export_rows) is migrated by the first export, and exports the same bytes as the previous code
# did.
#
# tests/data/export/v5/store.sql is the `sqlite3 .dump` of a store that accord at schema 5 wrote
# by importing v5/indicators-1.json then v5/indicators-2.json (a revocation and a new version);
# v5/expected.* are what that accord exported from it with --at 2026-06-01T00:00:00Z.  The test
# also imports the same files into a new store and checks that the migration's columns (read
# from the stored bodies) equal the ones the import path writes (from the validated objects).
. "$(dirname "$0")/lib.sh" "$@"

V5="$ROOT/tests/data/export/v5"
AT=2026-06-01T00:00:00Z
if ! command -v sqlite3 >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then bad "sqlite3 is not installed (debian-packages.txt lists it)"; finish; fi
  echo "skip: sqlite3 not installed"; exit 77
fi

DB="$ACCORD_DATA/accord.db"
mkdir -p "$ACCORD_DATA"
sqlite3 "$DB" <"$V5/store.sql"
check "the fixture is at schema 5" test "$(sqlite3 "$DB" 'PRAGMA user_version')" = 5
check "the fixture has no indicators table" \
  test "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE name = 'indicators'")" = 0

# the first export migrates (a read-only open alone could not) and writes the old bytes
for f in plain csv zeek-intel rpz; do
  expect_rc 0 "export $f from the old store" -- "$ACCORD" export --format "$f" --at $AT
  check "$f is what schema 5's accord exported" cmp "$T/out" "$V5/expected.$f"
done
check "migrated to the current schema (6 or later)" test "$(sqlite3 "$DB" 'PRAGMA user_version')" -ge 6
expect_rc 0 "export nft" -- "$ACCORD" export --format nft --at $AT
grep -v '^#' "$T/out" >"$T/nft-elements"
check "nft elements as schema 5's" cmp "$T/nft-elements" "$V5/expected.nft-elements"

# every stored indicator version has its row, with the objects row's flags
q_rows="SELECT count(*) FROM objects WHERE type = 'indicator'"
check "one indicators row per indicator version" \
  test "$(sqlite3 "$DB" "SELECT count(*) FROM indicators")" = "$(sqlite3 "$DB" "$q_rows")"
q_flags="SELECT count(*) FROM indicators i JOIN objects o USING(seq) WHERE i.flags != o.flags"
check "flags as in objects" test "$(sqlite3 "$DB" "$q_flags")" = 0

# the same input through today's import path gives the same columns
cols="SELECT id, modified, spec, flags, tlp, valid_from, valid_until, confidence, pattern_type,
      pattern, name FROM indicators ORDER BY seq"
sqlite3 "$DB" "$cols" >"$T/migrated.cols"
ACCORD_DATA="$T/fresh" "$ACCORD" import --quiet "$V5/indicators-1.json" >/dev/null 2>&1
ACCORD_DATA="$T/fresh" "$ACCORD" import --quiet "$V5/indicators-2.json" >/dev/null 2>&1
sqlite3 "$T/fresh/accord.db" "$cols" >"$T/fresh.cols"
check "columns from the bodies equal columns from the import" cmp "$T/migrated.cols" "$T/fresh.cols"
check "an escaped pattern is decoded" has "a[\\][\\]b'" "$T/fresh.cols"
check "an escaped name is decoded" has 'domé' "$T/migrated.cols"
check "the revoked and superseded versions are kept with their flags" \
  test "$(sqlite3 "$DB" "SELECT group_concat(flags) FROM indicators WHERE id LIKE '%0005'")" = "2,5"

# after the migration, a new version supersedes in the indicators table too (trigger)
cat >"$T/v3.json" <<'JSON'
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2025-01-01T00:00:00.000Z","modified":"2025-03-01T00:00:00.000Z","name":"addr moved","pattern":"[ipv4-addr:value = '45.33.32.157']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}
JSON
expect_rc 0 "import a new version into the migrated store" -- "$ACCORD" import --quiet "$T/v3.json"
check "flags still as in objects" test "$(sqlite3 "$DB" "$q_flags")" = 0
expect_rc 0 "export plain after the new version" -- "$ACCORD" export --format plain --at $AT
check "the new value is exported" has '^45\.33\.32\.157$' "$T/out"
if grep -q '^45\.33\.32\.156$' "$T/out"; then bad "the superseded value is exported"; else ok; fi

# the packed rows selection reads (export_rows, schema 10): one per indicators row, with its flags
# (trigger), and the same bytes from the migration as from the import path but for date_added
# (bytes 17-24)
check "one export row per indicators row" \
  test "$(sqlite3 "$DB" "SELECT count(*) FROM export_rows")" = "$(sqlite3 "$DB" "$q_rows")"
q_xflags="SELECT count(*) FROM export_rows e JOIN indicators i USING(seq) WHERE e.flags != i.flags"
check "export row flags as in indicators" test "$(sqlite3 "$DB" "$q_xflags")" = 0
check "the superseded version's export row is flagged" test "$(sqlite3 "$DB" \
  "SELECT e.flags FROM export_rows e JOIN indicators i USING(seq) WHERE i.id LIKE '%0001'
   ORDER BY seq LIMIT 1")" = 2
xrows="SELECT hex(substr(row, 1, 16)) || hex(substr(row, 25)) FROM export_rows ORDER BY seq"
sqlite3 "$DB" "$xrows" | head -n "$(wc -l <"$T/fresh.cols")" >"$T/migrated.xrows"
sqlite3 "$T/fresh/accord.db" "$xrows" >"$T/fresh.xrows"
check "export rows from the migration equal those of the import" \
  cmp "$T/migrated.xrows" "$T/fresh.xrows"
# a store at schema 9 gets them from its indicators table (SQL ind_row), byte for byte
all="SELECT seq, flags, hex(row) FROM export_rows ORDER BY seq"
sqlite3 "$T/fresh/accord.db" "$all" >"$T/fresh.all"
sqlite3 "$T/fresh/accord.db" "DELETE FROM export_rows; PRAGMA user_version = 9"
ACCORD_DATA="$T/fresh" expect_rc 0 "export from a store at schema 9" -- \
  "$ACCORD" export --format plain --at $AT
sqlite3 "$T/fresh/accord.db" "$all" >"$T/fresh9.all"
check "schema 9's export rows filled by the migration" test -s "$T/fresh9.all"
check "as the import path writes them" cmp "$T/fresh.all" "$T/fresh9.all"

# a damaged packed row is an error naming the version, never a crash or a wrong export
seq=$(sqlite3 "$DB" "SELECT max(seq) FROM export_rows")
sqlite3 "$DB" "UPDATE export_rows SET row = substr(row, 1, 50) WHERE seq = $seq"
expect_rc 1 "export from a damaged export row" -- "$ACCORD" export --format plain --at $AT
check "the error names the version" has "export row of version $seq is malformed" "$T/err"
finish
