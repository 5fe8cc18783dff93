#!/usr/bin/env bash
# accord nats / publish / worker against a real nats-server with JetStream: setup is idempotent,
# three workers over generated telemetry give the same (event, indicator) pairs as one accord
# match, each chunk is done once and names its snapshot, publishing again adds nothing, a poison
# chunk lands in the dead-letter stream after the maximum deliveries, and the results become
# sightings in the store, by accord nats collect and by accord serve --nats.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"

mkdir -p "$T/js" "$T/in"
nats_start || exit 1
U=$NATS_URL

# usage and errors
expect_rc 2 "publish: stdin without --source" -- "$ACCORD" publish --nats "$U" -
expect_rc 1 "publish: no --nats" -- "$ACCORD" publish "$T/none"
check "publish: says --nats is required" has "nats URL is required" "$T/err"
expect_rc 1 "worker before setup" -- "$ACCORD" worker --nats "$U" --idle 1
check "worker before setup: names setup" has "accord nats setup" "$T/err"
expect_rc 2 "nats: unknown subcommand" -- "$ACCORD" nats frobnicate --nats "$U"

# setup twice: the second run changes nothing and succeeds
expect_rc 0 "setup" -- "$ACCORD" nats setup --nats "$U" --ack-wait 2 --max-deliver 3
expect_rc 0 "setup again" -- "$ACCORD" nats setup --nats "$U" --ack-wait 2 --max-deliver 3
expect_rc 0 "status" -- "$ACCORD" nats status --nats "$U"
check "status: work queue" grep -q "^stream	ACCORD_TEL_default	messages 0" "$T/out"
check "status: consumers" grep -q "^consumer	workers	pending 0" "$T/out"

gen_telemetry "$T/in/a.json" 12000 1
gen_telemetry "$T/in/b.json" 8000 2
gen_indicators "$T/ind.jsonl"
"$ACCORD" match --indicators "$T/ind.jsonl" "$T/in/a.json" "$T/in/b.json" >"$T/match.out" 2>/dev/null
pairs "$T/match.out" >"$T/want"
check "generated telemetry has hits" test "$(wc -l <"$T/want")" -gt 300

expect_rc 0 "snapshot" -- "$ACCORD" nats snapshot --nats "$U" --indicators "$T/ind.jsonl"
check "snapshot: version 1, 3 indicators" has "snapshot 1: 3 indicators" "$T/out"
W=()
# --batch 1 (the default takes 4 at a time): each of the three workers takes some of the chunks
for i in 1 2 3; do
  "$ACCORD" worker --nats "$U" --batch 1 </dev/null >/dev/null 2>"$T/w$i.err" &
  W+=($!)
done
BG_PIDS+=("${W[@]}")
for i in 1 2 3; do
  wait_until 60 grep -qs "snapshot 1" "$T/w$i.err" || bad "worker $i: no snapshot within 60 s"
done
expect_rc 0 "publish a directory" -- bounded 120 "publish" "$ACCORD" publish --nats "$U" --chunk-kib 32 "$T/in"
chunks=$(sed -n 's/^accord publish: \([0-9]*\) chunks.*/\1/p' "$T/err")
check "publish: chunks of at most 32 KiB" test "${chunks:-0}" -ge 150
# every chunk matched, its results stored and the chunk acknowledged: then the workers stop
check "3 workers: the queue drained" wait_until 120 consumer_idle workers
kill -TERM "${W[@]}"
wait_pids 60 "3 workers after SIGTERM" "${W[@]}"
bounded 120 "collect --drain" "$ACCORD" nats collect --nats "$U" --drain 2>"$T/collect.err"
DB="$ACCORD_DATA/nats-results.db"
db_pairs "$DB" >"$T/got"
check "3 workers: the same pairs as accord match" cmp -s "$T/want" "$T/got"
check "3 workers: each did some chunks" bash -c "grep -c '^accord worker: [1-9][0-9]* chunks' $T/w1.err $T/w2.err $T/w3.err | grep -c ':1' | grep -qx 3"
check "every chunk done once" test "$(sqlite3 "$DB" 'SELECT count(*) FROM chunks')" = "$chunks"
check "every line matched once" test "$(sqlite3 "$DB" 'SELECT sum(lines) FROM chunks')" = 20000
check "every match names snapshot 1" test "$(sqlite3 "$DB" 'SELECT count(*) FROM matches WHERE version <> 1')" = 0
check "line numbers as in the inputs" test "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE line < 1 OR line > 12000")" = 0

# a restarted producer sends the same chunks again: the duplicate window drops them
expect_rc 0 "publish again" -- bounded 120 "publish again" "$ACCORD" publish --nats "$U" --chunk-kib 32 "$T/in"
check "publish again: all already stored" has "($chunks already stored)" "$T/err"
"$ACCORD" nats status --nats "$U" >"$T/status"
check "publish again: queue stays empty" grep -q "^stream	ACCORD_TEL_default	messages 0" "$T/status"

# a poison chunk (no chunk id): refused, then dead-lettered on its 3rd delivery
printf 'not a chunk\n' >"$T/poison"
expect_rc 0 "send poison" -- "$ACCORD" nats send --nats "$U" accord.tel.default.poison "$T/poison"
# a chunk every delivery refuses (an unknown Accord-Kind) whose place in its source is known:
# dead-lettered too, and done without matches as a recorded gap, so that the source's next chunk
# is combined past it instead of waiting for it
printf '{"ts":1700000000,"note":"x"}\n' >"$T/gap1"
printf '{"ts":1700000001,"note":"y"}\n' >"$T/gap2"
g1=$(stat -c %s "$T/gap1")
g2=$(stat -c %s "$T/gap2")
expect_rc 0 "send a dead chunk" -- "$ACCORD" nats send --nats "$U" accord.tel.default.gapsrc "$T/gap1" \
  --msg-id gapsrc:0 --header Accord-Line:1 --header Accord-Header-Len:0 --header Accord-Input:gap \
  --header Accord-Kind:bogus
expect_rc 0 "send the chunk after it" -- "$ACCORD" nats send --nats "$U" accord.tel.default.gapsrc \
  "$T/gap2" --msg-id "gapsrc:$g1" --header Accord-Line:2 --header Accord-Header-Len:0 \
  --header Accord-Input:gap
bounded 120 "worker --drain (poison)" "$ACCORD" worker --nats "$U" --drain 2>"$T/wp.err"
check "poison: refused first" grep -q "no Nats-Msg-Id (chunk id); refused" "$T/wp.err"
check "poison: dead-lettered after 3 deliveries" grep -q "to accord.dlq.default after 3 deliveries" "$T/wp.err"
"$ACCORD" nats status --nats "$U" >"$T/status"
check "poison: in ACCORD_DLQ (with the dead chunk)" grep -q "^stream	ACCORD_DLQ_default	messages 2" "$T/status"
check "poison: gone from the queue" grep -q "^stream	ACCORD_TEL_default	messages 0" "$T/status"
check "dead chunk: dead-lettered" grep -q "accord.tel.default.gapsrc (stream seq [0-9]*) to accord.dlq.default after 3 deliveries: Accord-Kind" "$T/wp.err"
expect_rc 0 "collect the dead chunk's place" -- bounded 120 "collect --drain (gap)" "$ACCORD" nats collect --nats "$U" --drain
check "dead chunk: reported as a gap" has "chunk gapsrc:0 was dead-lettered (Accord-Kind is neither flow nor dnstap)" "$T/err"
check "dead chunk: recorded with its size" test "$(sqlite3 "$DB" "SELECT chunk || ' ' || bytes FROM gaps")" = "gapsrc:0 $g1"
check "dead chunk: the source combined past it" test "$(sqlite3 "$DB" "SELECT next FROM sources WHERE source = 'gapsrc'")" = "$((g1 + g2))"
check "dead chunk: no matches" test "$(sqlite3 "$DB" "SELECT count(*) FROM matches WHERE chunk LIKE 'gapsrc:%'")" = 0

# the results again (nothing new) and the sightings in the store
expect_rc 0 "collect sightings" -- "$ACCORD" nats collect --nats "$U" --idle 1 --sightings
nmatch=$(python3 -c 'import sys,json; print(sum(len(json.loads(l)["indicators"]) for l in open(sys.argv[1])))' "$T/match.out")
check "sightings: from every match once" grep -q "sightings of $nmatch matches" "$T/err"
expect_rc 0 "collect sightings again" -- "$ACCORD" nats collect --nats "$U" --idle 1 --sightings
check "sightings again: nothing new" grep -q "(0 objects new or updated)" "$T/err"

# accord serve --nats: the collector beside the server takes new results as they come and
# writes their sightings (every second here, and at the end)
gen_telemetry "$T/c.json" 3000 5 1700100000 # later than the others: the sightings move on
"$ACCORD" match --indicators "$T/ind.jsonl" "$T/c.json" >"$T/match.c" 2>/dev/null
nmatch_c=$(python3 -c 'import sys,json; print(sum(len(json.loads(l)["indicators"]) for l in open(sys.argv[1])))' "$T/match.c")
expect_rc 2 "serve: --nats-idle is not for a server" -- "$ACCORD" serve --plain-http --nats "$U" --nats-idle 1
"$ACCORD" serve --plain-http --listen 127.0.0.1:0 --nats "$U" --nats-sightings-every 1 \
  </dev/null >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
BG_PIDS+=("$SPID")
wait_until 60 grep -qs "collecting results of tenant default" "$T/serve.err" || bad "serve: not collecting within 60 s"
check "serve: collecting" grep -q "collecting results of tenant default from $U" "$T/serve.err"
bounded 120 "publish c.json" "$ACCORD" publish --nats "$U" --chunk-kib 32 "$T/c.json" 2>/dev/null
bounded 120 "worker --drain (c.json)" "$ACCORD" worker --nats "$U" --drain 2>/dev/null
total=$((nmatch + nmatch_c))
wait_until 60 grep -qs "sightings of $total matches" "$T/serve.err"
check "serve: sightings of the new matches while running" grep -q "sightings of $total matches" "$T/serve.err"
kill -TERM "$SPID"
wait_pids 60 "accord serve after SIGTERM" "$SPID"
check "serve: stopped cleanly" test $? = 0
check "serve: every new match in the results" test "$(sqlite3 "$DB" "SELECT count(*) FROM matches m JOIN chunks c USING (chunk) WHERE c.input LIKE '%c.json'")" = "$nmatch_c"
check "serve: the last sightings at exit, nothing left" bash -c "tail -n 2 '$T/serve.err' | grep -q '(0 objects new or updated)'"
finish
