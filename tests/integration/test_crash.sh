#!/usr/bin/env bash
# kill -9 during an import: the store reopens cleanly and holds every object the import had
# reported as committed; importing again completes the set without duplicates being stored twice.
. "$(dirname "$0")/lib.sh" "$@"
GEN="$BIN_DIR/bench_import"
[ -x "$GEN" ] || { echo "skipped: $GEN not built"; exit 77; }
N=400000
"$GEN" --generate "$T/big.json" --objects $N
"$ACCORD" import --batch 5000 "$T/big.json" >"$T/out" 2>"$T/log" &
pid=$!
# wait for at least three commits, then kill without warning
for i in $(seq 600); do
  [ "$(grep -c 'committed' "$T/log" 2>/dev/null)" -ge 3 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
reported=$(grep -o 'committed [0-9]*' "$T/log" | tail -n 1 | grep -o '[0-9]*')
check "the import reported commits" test -n "$reported"
check "killed before the end" test "${reported:-0}" -lt $N
stored=$("$ACCORD" stats | grep -o 'versions [0-9]*' | grep -o '[0-9]*')
check "store reopens" test -n "$stored"
check "every reported object is there ($stored >= $reported)" test "${stored:-0}" -ge "${reported:-1}"
audit=$("$ACCORD" stats | grep -o 'audit records [0-9]*' | grep -o '[0-9]*')
check "one audit record per stored version" test "$audit" = "$stored"
expect_rc 0 "import again" -- "$ACCORD" import --quiet "$T/big.json"
total=$("$ACCORD" stats | grep -o 'versions [0-9]*' | grep -o '[0-9]*')
check "all $N objects stored exactly once" test "$total" = $N
finish
