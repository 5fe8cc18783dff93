#!/usr/bin/env bash
# accord jcs: the cyberphone vectors byte for byte through the real binary (file and stdin), and
# the rejections with exit 2 and the byte offset named.
. "$(dirname "$0")/lib.sh" "$@"
V="$ROOT/../shared/data/jcs-cyberphone"

expect_rc 0 "help jcs" -- "$ACCORD" help jcs
check "help jcs shows usage" has "usage: accord jcs" "$T/out"
expect_rc 0 "help lists jcs" -- "$ACCORD" help
check "overview lists jcs" has "^  jcs " "$T/out"

if [ -d "$V/input" ]; then
  for f in "$V"/input/*.json; do
    n=$(basename "$f")
    expect_rc 0 "jcs $n" -- "$ACCORD" jcs "$f"
    check "jcs $n byte for byte" cmp -s "$T/out" "$V/output/$n"
    "$ACCORD" jcs - <"$f" >"$T/stdin.out" 2>"$T/err"
    check "jcs - <$n byte for byte" cmp -s "$T/stdin.out" "$V/output/$n"
    # canonical output is a fixed point
    "$ACCORD" jcs "$T/stdin.out" >"$T/again" 2>"$T/err"
    check "jcs idempotent on $n" cmp -s "$T/again" "$V/output/$n"
  done
else
  echo "skip: $V not found"
fi

printf '{ "b": [1.0, 2e0, -0], "a": "\\u00e9" }' >"$T/x.json"
expect_rc 0 "jcs small" -- "$ACCORD" jcs "$T/x.json"
check "small canonical" test "$(cat "$T/out")" = '{"a":"é","b":[1,2,0]}'
check "no trailing newline" test "$(wc -c <"$T/out")" = 22

printf '{"a":1,"a":2}' >"$T/dup.json"
expect_rc 2 "duplicate key rejected" -- "$ACCORD" jcs "$T/dup.json"
check "duplicate names byte" has "byte [0-9]" "$T/err"
printf '["\\ud800"]' >"$T/sur.json"
expect_rc 2 "lone surrogate rejected" -- "$ACCORD" jcs "$T/sur.json"
check "surrogate names byte" has "byte 2" "$T/err"
printf '[1, 1e400]' >"$T/big.json"
expect_rc 2 "1e400 rejected" -- "$ACCORD" jcs "$T/big.json"
check "1e400 names byte 4" has "byte 4: number 1e400" "$T/err"
printf '{"n": 9007199254740993}' >"$T/int.json"
expect_rc 2 "integer beyond 2^53 rejected" -- "$ACCORD" jcs "$T/int.json"
check "integer names byte 6" has "byte 6: .*2^53" "$T/err"
printf '{"n": 9007199254740992}' >"$T/int2.json"
expect_rc 0 "2^53 accepted" -- "$ACCORD" jcs "$T/int2.json"
printf '{"a":' >"$T/trunc.json"
expect_rc 2 "truncated rejected" -- "$ACCORD" jcs "$T/trunc.json"
check "truncated names file" has "trunc.json: byte 5" "$T/err"
expect_rc 1 "missing file" -- "$ACCORD" jcs "$T/nope.json"
expect_rc 2 "two files" -- "$ACCORD" jcs "$T/x.json" "$T/x.json"
expect_rc 2 "unknown option" -- "$ACCORD" jcs --frob
finish
