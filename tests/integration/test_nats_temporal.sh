#!/usr/bin/env bash
# Multi-observation indicators (FOLLOWEDBY, REPEATS, AND of observations, WITHIN) over telemetry
# cut into chunks that several workers match: the collector combines the observations each
# worker reports, per source in source order, and the (event, indicator) pairs equal what one
# accord match per input reports; also with a worker killed (SIGKILL) while it holds chunks and
# the collector killed mid-run and started again (its state rebuilt from the results database,
# nothing reported twice).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"

mkdir -p "$T/js" "$T/in"
nats_start || exit 1
U=$NATS_URL
"$ACCORD" nats setup --nats "$U" --ack-wait 2 --max-deliver 5 >/dev/null || exit 1

# lines are one second apart; 198.51.100.7 every 97th line, an evil query every 89th, a
# 203.0.113.N source every 101st; chunks of 16 KiB hold ~85 lines
gen_telemetry "$T/in/a.json" 16000 21
gen_telemetry "$T/in/b.json" 7000 22
{
  gen_indicators /dev/stdout
  ind 5 "c2 then evil query" "([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value LIKE '%.evil.example']) WITHIN 60 SECONDS"
  ind 6 "bad net thrice" "[ipv4-addr:value ISSUBSET '203.0.113.0/24'] REPEATS 3 TIMES WITHIN 300 SECONDS"
  ind 7 "c2 and evil query" "[domain-name:value LIKE '%.evil.example'] AND [ipv4-addr:value = '198.51.100.7']"
} >"$T/ind.jsonl"
# one accord match per input: a source's observations combine with that source's alone
: >"$T/match.out"
for f in a b; do
  "$ACCORD" match --indicators "$T/ind.jsonl" "$T/in/$f.json" >>"$T/match.out" 2>/dev/null
done
pairs "$T/match.out" >"$T/want"
nmatch=$(python3 -c 'import sys,json; print(sum(len(json.loads(l)["indicators"]) for l in open(sys.argv[1])))' "$T/match.out")
hits_of() { grep -c "indicator--00000000-0000-4000-8000-00000000000$1" "$2"; }
# three REPEATS 101 lines apart never fit in one chunk of ~85 lines: every such hit straddles
check "FOLLOWEDBY hits to compare" test "$(hits_of 5 "$T/want")" -gt 50
check "REPEATS hits to compare (each across 3 chunks)" test "$(hits_of 6 "$T/want")" -gt 50
check "AND hits to compare" test "$(hits_of 7 "$T/want")" -gt 50

"$ACCORD" nats snapshot --nats "$U" --indicators "$T/ind.jsonl" >/dev/null || exit 1
start_worker() { # start_worker N [OPTIONS]: worker N in the background, its pid in W[N]
  local n=$1
  shift
  "$ACCORD" worker --nats "$U" --idle 600 "$@" </dev/null >/dev/null 2>"$T/w$n.err" &
  W[$n]=$!
  BG_PIDS+=("${W[$n]}")
  wait_until 60 grep -qs "snapshot 1" "$T/w$n.err" || bad "worker $n: no snapshot within 60 s"
}
W=()
# worker 1 alone, 64 chunks a fetch: stopped again and again until the server counts chunks
# delivered to it and not acknowledged, then killed there; its chunks come back after the ack
# wait to three others (--batch 2: chunks spread over them more than with larger batches)
start_worker 1 --batch 64
"$ACCORD" nats collect --nats "$U" --db "$T/res.db" </dev/null >/dev/null 2>"$T/c1.err" &
C=$!
BG_PIDS+=("$C")
bounded 120 "publish" "$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/in" 2>"$T/pub.err" || bad "publish failed"
chunks=$(sed -n 's/^accord publish: \([0-9]*\) chunks.*/\1/p' "$T/pub.err")
held=0
for _ in $(seq 1 300); do
  kill -STOP "${W[1]}"
  sleep 0.2
  if "$ACCORD" nats status --nats "$U" 2>/dev/null |
     grep -q "^consumer	workers	pending [0-9]*	ack-pending [1-9]"; then
    held=1
    break
  fi
  kill -CONT "${W[1]}"
done
kill -9 "${W[1]}" 2>/dev/null
wait "${W[1]}" 2>/dev/null
check "a worker killed while holding chunks" test "$held" = 1
# what the killed worker finished is in the results stream (nothing else ran yet): the others
# match the rest, so observations of one source were matched by different workers
res1=$("$ACCORD" nats status --nats "$U" 2>/dev/null | sed -n 's/^stream	ACCORD_RES_default	messages \([0-9]*\).*/\1/p')
echo "the killed worker left ${res1:-0} result messages of $chunks chunks"
for i in 2 3 4; do start_worker $i --batch 2; done
# the collector killed mid-run (once it has done some chunks), then started again below
done_chunks() { [ "$(sqlite3 "$T/res.db" 'SELECT count(*) FROM chunks' 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_until 60 done_chunks 20 || bad "collector: 20 chunks not done within 60 s"
echo "collector killed after $(sqlite3 "$T/res.db" "SELECT count(*) FROM chunks") of $chunks chunks"
kill -9 "$C"
wait "$C" 2>/dev/null
check "workers: the queue drained" wait_until 180 consumer_idle workers
kill -TERM "${W[2]}" "${W[3]}" "${W[4]}"
wait_pids 30 "workers 2-4" "${W[2]}" "${W[3]}" "${W[4]}"
collect_compare "$T/res.db" "$T/c2.err" "$nmatch"
check "every chunk done once" test "$(sqlite3 "$T/res.db" 'SELECT count(*) FROM chunks')" = "$chunks"
check "both sources combined to their end" test "$(sqlite3 "$T/res.db" 'SELECT count(*) FROM sources')" = 2
check "killed worker's chunks delivered again" bash -c "cat $T/w[234].err | grep -q ' [1-9][0-9]* redelivered'"
check "the other workers did chunks" grep -q '^accord worker: [1-9][0-9]* chunks' "$T"/w[234].err
check "combined matches name snapshot 1" test "$(sqlite3 "$T/res.db" "SELECT count(*) FROM matches WHERE field IS NULL AND version <> 1")" = 0
finish
