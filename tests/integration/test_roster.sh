#!/usr/bin/env bash
# accord roster through the CLI on four nodes: create and pin version 1, another node refuses it
# until pinned, propose adding a member, vote here, vote offline with root keys kept outside the
# store (roster sign + import-signature), the proposal takes effect only when the new member voted
# too; a vote repeated is already recorded; a proposal whose vote ended is expired, not open: vote
# and export without a hash name it, or pick the open one beside it; the audit log records each
# step and still verifies.
. "$(dirname "$0")/lib.sh" "$@"

for o in a b c d; do
  expect_rc 0 "member init $o" -- "$ACCORD" --data "$T/$o" member init --name "Org-$o"
  id=$("$ACCORD" --data "$T/$o" member show | awk 'NR==1{print $2}')
  eval "ID_$o=$id"
  "$ACCORD" --data "$T/$o" get "$id" >"$T/$o.json"
done

expect_rc 2 "threshold not above half" -- "$ACCORD" --data "$T/a" roster create --threshold 1 \
  "$T/a.json" "$T/b.json" "$T/c.json"
expect_rc 0 "create" -- "$ACCORD" --data "$T/a" roster create --threshold 2 \
  "$T/a.json" "$T/b.json" "$T/c.json"
H1=$(grep -o '[0-9a-f]\{64\}' "$T/out")
"$ACCORD" --data "$T/a" roster export "$H1" >"$T/v1.json"
expect_rc 2 "version 1 unpinned elsewhere" -- "$ACCORD" --data "$T/b" roster import "$T/v1.json"
has "not the pinned one" "$T/err" && ok || bad "says not pinned"
expect_rc 0 "pin" -- "$ACCORD" --data "$T/b" roster pin "$H1"
expect_rc 0 "import version 1" -- "$ACCORD" --data "$T/b" roster import "$T/v1.json"

expect_rc 0 "propose adding d" -- "$ACCORD" --data "$T/a" roster propose --add "$T/d.json" --threshold 3
H2=$(grep -o '[0-9a-f]\{64\}' "$T/out")
expect_rc 0 "a votes" -- "$ACCORD" --data "$T/a" roster vote
check "the vote is stored" grep -q "^voted$" "$T/out"
expect_rc 0 "a votes again" -- "$ACCORD" --data "$T/a" roster vote
check "the same vote again is already recorded" grep -q "^already recorded: 1 vote stored before; nothing changed$" "$T/out" || cat "$T/out" >&2
check "and not said to be voted" sh -c "! grep -q voted '$T/out'"
"$ACCORD" --data "$T/a" roster export >"$T/p.json"
expect_rc 0 "b signs offline" -- "$ACCORD" roster sign --root "$T/b/keys/root.seed" --member "$ID_b" "$T/p.json"
cp "$T/out" "$T/vote-b"
expect_rc 0 "import b's vote" -- "$ACCORD" --data "$T/a" roster import-signature "$T/vote-b"
expect_rc 0 "status" -- "$ACCORD" --data "$T/a" roster status
has "votes 2/2, new members voted 0/1" "$T/out" && ok || bad "quorum without the new member"
check "version 1 still current" grep -q "^version 1  current" "$T/out"
expect_rc 0 "d signs offline" -- "$ACCORD" roster sign --root "$T/d/keys/root.seed" --member "$ID_d" "$T/p.json"
cp "$T/out" "$T/vote-d"
expect_rc 0 "import d's vote" -- "$ACCORD" --data "$T/a" roster import-signature "$T/vote-d"
has "took effect" "$T/out" && ok || bad "the proposal took effect"
expect_rc 0 "status after" -- "$ACCORD" --data "$T/a" roster status
check "version 2 current" grep -q "^version 2  current  $H2" "$T/out"
has "$ID_d" "$T/out" && ok || bad "d is a member"
# the same vote again is a no-op, and says so; a vote for another member's key is refused
expect_rc 0 "duplicate vote" -- "$ACCORD" --data "$T/a" roster import-signature "$T/vote-d"
check "a duplicate vote is already recorded" grep -q "^already recorded: 1 vote stored before; nothing changed$" "$T/out" || cat "$T/out" >&2
check "and not imported again" sh -c "! grep -q imported '$T/out'"
expect_rc 0 "the export again (version and votes)" -- "$ACCORD" --data "$T/b" roster import "$T/v1.json"
check "an export imported twice is already recorded" grep -q "^already recorded: the roster version stored before" "$T/out" || cat "$T/out" >&2
printf 'this is not a vote\n' >"$T/junk-vote"
expect_rc 2 "a junk vote file" -- "$ACCORD" --data "$T/a" roster import-signature "$T/junk-vote"
check "the error names the file" grep -q "roster: $T/junk-vote: " "$T/err" || cat "$T/err" >&2
sed "s/$ID_d/$ID_c/" "$T/vote-d" >"$T/vote-forged"
expect_rc 2 "forged vote" -- "$ACCORD" --data "$T/a" roster import-signature "$T/vote-forged"

# a proposal whose vote ended without quorum shows as expired, not as proposed
EXP=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%S.000Z)
expect_rc 0 "propose with a short vote" -- "$ACCORD" --data "$T/a" roster propose --remove "$ID_c" --expires "$EXP"
H3=$(grep -o '[0-9a-f]\{64\}' "$T/out")
expect_rc 0 "status while the vote is open" -- "$ACCORD" --data "$T/a" roster status
check "open: proposed" grep -q "^version 3  proposed  $H3" "$T/out" || cat "$T/out" >&2
while [ "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \< "$EXP" ] || [ "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" = "$EXP" ]; do sleep 0.2; done
sleep 0.1
expect_rc 0 "status after the vote ended" -- "$ACCORD" --data "$T/a" roster status
check "ended without quorum: expired" grep -q "^version 3  expired  $H3" "$T/out" || cat "$T/out" >&2
check "not shown as proposed" sh -c "! grep -q '  proposed  ' '$T/out'"
check "its vote ended" grep -q "votes 0/3, new members voted 0/0, ended $EXP" "$T/out" || cat "$T/out" >&2
# an expired proposal is not open: vote and export without a hash name it as expired
expect_rc 2 "vote with only an expired proposal" -- "$ACCORD" --data "$T/a" roster vote
check "the vote names the expired proposal" grep -q "^accord roster: no open proposal: version 3 (${H3:0:12}) expired, its vote ended at $EXP without quorum$" "$T/err" || cat "$T/err" >&2
expect_rc 2 "export with only an expired proposal" -- "$ACCORD" --data "$T/a" roster export
check "the export names the expired proposal" grep -q "version 3 (${H3:0:12}) expired" "$T/err" || cat "$T/err" >&2
check "and exports nothing" test ! -s "$T/out"
# with an expired one and an open one, both pick the open one
expect_rc 0 "propose again" -- "$ACCORD" --data "$T/a" roster propose --remove "$ID_c"
H4=$(grep -o '[0-9a-f]\{64\}' "$T/out")
"$ACCORD" --data "$T/a" roster export "$H4" >"$T/p4.json"
expect_rc 0 "export picks the open proposal" -- "$ACCORD" --data "$T/a" roster export
check "the open one is exported" cmp -s "$T/out" "$T/p4.json"
expect_rc 0 "vote picks the open proposal" -- "$ACCORD" --data "$T/a" roster vote
expect_rc 0 "status" -- "$ACCORD" --data "$T/a" roster status
check "the vote counts for the open one" grep -q "^version 3  proposed  $H4 .* votes 1/3" "$T/out" || cat "$T/out" >&2
check "and not for the expired one" grep -q "^version 3  expired  $H3 .* votes 0/3" "$T/out" || cat "$T/out" >&2

expect_rc 0 "audit export" -- "$ACCORD" --data "$T/a" audit export "$T/exp"
expect_rc 0 "audit verify" -- "$ACCORD" audit verify "$T/exp"
for a in roster-applied roster-propose roster-vote; do
  check "audit has $a" grep -q "\"action\":\"$a\"" "$T/exp/records.jsonl"
done
finish
