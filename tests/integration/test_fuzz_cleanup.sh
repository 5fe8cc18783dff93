#!/usr/bin/env bash
# The TAXII fuzz target keeps its store in a temporary directory: the replay removes it at exit,
# and removes the directory a killed run left behind once that run's process is gone.
. "$(dirname "$0")/lib.sh" "$@"
FUZZ="$BIN_DIR/fuzz_taxii"
[ -x "$FUZZ" ] || { echo "skipped: $FUZZ is not built"; exit 77; }
# a libFuzzer build (ACCORD_FUZZ) fuzzes a directory instead of replaying it
if "$FUZZ" -help=1 2>&1 | grep -q "To run fuzzing"; then
  echo "skipped: $FUZZ is a libFuzzer build, not the corpus replay"; exit 77
fi
mkdir -p "$T/tmp/accord-fuzz-taxii-999999999-abcdef/sub" "$T/tmp/accord-fuzz-taxii-$$-live"
touch "$T/tmp/accord-fuzz-taxii-999999999-abcdef/sub/accord.db"
expect_rc 0 "replay the taxii corpus" -- env TMPDIR="$T/tmp" "$FUZZ" "$ROOT/fuzz/corpus/taxii"
check "a dead run's directory is removed" test ! -e "$T/tmp/accord-fuzz-taxii-999999999-abcdef"
check "a live run's directory stays" test -d "$T/tmp/accord-fuzz-taxii-$$-live"
check "the replay left nothing else" test "$(ls "$T/tmp")" = "accord-fuzz-taxii-$$-live"
finish
