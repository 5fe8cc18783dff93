#!/usr/bin/env bash
# Failures of the NATS JetStream scale-out, each ending with the same (event, indicator) pairs
# as one accord match over the same input and every chunk done exactly once, with three workers:
#   a worker killed with SIGKILL mid-run; nats-server killed and restarted mid-run with its
#   store kept; a producer killed while the full queue pushes back, then started again; the
#   snapshot replaced while the workers run (each chunk matched with one whole version).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"

mkdir -p "$T/js"
nats_start || exit 1
U=$NATS_URL
"$ACCORD" nats setup --nats "$U" --ack-wait 2 --max-deliver 5 >/dev/null || exit 1
gen_indicators "$T/ind1.jsonl"
gen_indicators "$T/ind2.jsonl" more
"$ACCORD" nats snapshot --nats "$U" --indicators "$T/ind1.jsonl" >/dev/null || exit 1

# expect NAME DB FILE:INDICATORS...: the pairs of DB against accord match per file
expect_same() {
  local name=$1 db=$2; shift 2
  : >"$T/$name.match"
  for fi in "$@"; do
    "$ACCORD" match --indicators "${fi#*:}" "${fi%%:*}" >>"$T/$name.match" 2>/dev/null
  done
  pairs "$T/$name.match" >"$T/$name.want"
  db_pairs "$db" >"$T/$name.got"
  check "$name: the same pairs as accord match" cmp -s "$T/$name.want" "$T/$name.got"
  check "$name: hits to compare" test "$(wc -l <"$T/$name.want")" -gt 100
}
workers() { # workers N IDLE NAME [OPTIONS OF THE FIRST]: starts N workers, their pids in W
  W=()
  for i in $(seq 1 "$1"); do
    "$ACCORD" worker --nats "$U" --idle "$2" $( [ "$i" = 1 ] && echo "${@:4}" ) </dev/null >/dev/null \
      2>"$T/$3.w$i.err" &
    W+=($!)
  done
  BG_PIDS+=("${W[@]}")
}
tel_last() { # the last sequence of the work-queue stream
  "$ACCORD" nats status --nats "$U" 2>/dev/null | sed -n 's/^stream	ACCORD_TEL_default	.*	last \([0-9]*\)$/\1/p'
}
tel_grew() { [ "$(tel_last)" -ge "$1" ] 2>/dev/null; }
redelivered() { cat "$T"/$1.w*.err | sed -n 's/.* \([0-9]*\) redelivered.*/\1/p' | awk '{s+=$1} END {print s+0}'; }
stop_workers() { # once everything is matched: SIGTERM, and wait for them to finish
  wait_drained || bad "queue not drained within 180 s"
  kill -TERM "${W[@]}" 2>/dev/null
  wait_pids 60 "workers after SIGTERM" "${W[@]}"
}
wait_drained() { # until the workers have nothing left and nothing in flight (at most 180 s)
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt 180 ]; do
    "$ACCORD" nats status --nats "$U" >"$T/st" 2>/dev/null
    # (not the stream's message count: after the server was killed it may keep a few chunks
    # that were acknowledged, which the consumer never hands out again)
    grep -q "^consumer	workers	pending 0	ack-pending 0" "$T/st" && return 0
    sleep 0.1
  done
  { echo "not drained:"; cat "$T/st"; tail -n 3 "$T"/*.w*.err; } >&2
  return 1
}

# 1. SIGKILL a worker mid-run: its chunks come back after the ack wait, to the others
gen_telemetry "$T/kill.json" 20000 11
bounded 120 "publish kill.json" "$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/kill.json" 2>"$T/kill.pub"
n1=$(sed -n 's/^accord publish: \([0-9]*\) chunks.*/\1/p' "$T/kill.pub")
# a worker alone takes 64 chunks at a time; it is stopped (SIGSTOP) again and again until the
# server counts chunks delivered to it and not acknowledged while it stands still, and then
# killed there; two others finish the queue
workers 1 600 kill --batch 64
held=0
for _ in $(seq 1 600); do
  kill -STOP "${W[0]}"
  sleep 0.2 # what it sent before it stopped reaches the server
  if "$ACCORD" nats status --nats "$U" 2>/dev/null |
     grep -q "^consumer	workers	pending [0-9]*	ack-pending [1-9]"; then
    kill -9 "${W[0]}"
    held=1
    break
  fi
  kill -CONT "${W[0]}"
done
kill -9 "${W[0]}" 2>/dev/null
wait "${W[0]}" 2>/dev/null
check "kill: killed while holding chunks" test "$held" = 1
workers 2 600 kill
stop_workers
bounded 120 "collect --drain (kill)" "$ACCORD" nats collect --nats "$U" --db "$T/kill.db" --drain 2>/dev/null
expect_same kill "$T/kill.db" "$T/kill.json:$T/ind1.jsonl"
check "kill: every chunk done once" test "$(sqlite3 "$T/kill.db" 'SELECT count(*) FROM chunks')" = "$n1"
check "kill: every line once" test "$(sqlite3 "$T/kill.db" 'SELECT sum(lines) FROM chunks')" = 20000
check "kill: the killed worker's chunks were delivered again" test "$(redelivered kill)" -gt 0

# 2. nats-server killed and started again on the same store while the producer and the
#    workers run
gen_telemetry "$T/restart.json" 30000 12
workers 3 600 restart
last0=$(tel_last)
"$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/restart.json" </dev/null >/dev/null 2>"$T/restart.pub" &
P=$!
BG_PIDS+=($P)
# the server goes once the producer has stored a few chunks (it has ~180 to send)
check "restart: the producer started" wait_until 60 tel_grew "$((last0 + 5))"
kill -9 "$NATS_PID"
wait "$NATS_PID" 2>/dev/null
NATS_PID=
sleep 0.5
nats_start || exit 1
# the producer sends again until the server takes each chunk: bounded, it cannot hang the test
wait_pids 180 "the producer after the server restart" "$P"
check "restart: the producer finished" test $? = 0
stop_workers
n2=$(sed -n 's/^accord publish: \([0-9]*\) chunks.*/\1/p' "$T/restart.pub")
bounded 120 "collect --drain (restart)" "$ACCORD" nats collect --nats "$U" --db "$T/restart.db" --drain 2>/dev/null
expect_same restart "$T/restart.db" "$T/restart.json:$T/ind1.jsonl"
check "restart: every chunk done once" test "$(sqlite3 "$T/restart.db" 'SELECT count(*) FROM chunks')" = "$n2"
check "restart: every line once" test "$(sqlite3 "$T/restart.db" 'SELECT sum(lines) FROM chunks')" = 30000

# 3. a full queue pushes the producer back; it is killed there and started again
tel_state() { # bytes and last sequence of the work-queue stream (a killed server may have left
               # a few acknowledged chunks in it)
  "$ACCORD" nats status --nats "$U" | sed -n 's/^stream	ACCORD_TEL_default	messages [0-9]*	bytes \([0-9]*\)	first [0-9]*	last \([0-9]*\)$/\1 \2/p'
}
read -r left last0 < <(tel_state)
"$ACCORD" nats setup --nats "$U" --ack-wait 2 --max-deliver 5 --max-bytes $((left + 1048576)) >/dev/null
gen_telemetry "$T/prod.json" 20000 13
"$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/prod.json" </dev/null >/dev/null 2>"$T/prod.pub1" &
P=$!
BG_PIDS+=($P)
wait_until 60 grep -qs "full, waiting" "$T/prod.pub1" || bad "producer: no full queue within 60 s"
check "producer: waits at a full queue" grep -q "stream ACCORD_TEL_default full, waiting for the workers" "$T/prod.pub1"
kill -9 "$P"
wait "$P" 2>/dev/null
read -r _ last1 < <(tel_state)
stored1=$((last1 - last0))
check "producer: the killed run stored chunks" test "$stored1" -gt 0
workers 3 600 prod
bounded 180 "restarted producer" "$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/prod.json" 2>"$T/prod.pub2"
check "producer: restarted run finished" test $? = 0
stop_workers
n3=$(sed -n 's/^accord publish: \([0-9]*\) chunks.*/\1/p' "$T/prod.pub2")
d3=$(sed -n 's/^accord publish: [0-9]* chunks (\([0-9]*\) already stored).*/\1/p' "$T/prod.pub2")
check "producer: chunks of the killed run not stored twice" test "${d3:-0}" -ge $((stored1 - 1)) -a "${d3:-0}" -le "$stored1"
bounded 120 "collect --drain (producer)" "$ACCORD" nats collect --nats "$U" --db "$T/prod.db" --drain 2>/dev/null
expect_same prod "$T/prod.db" "$T/prod.json:$T/ind1.jsonl"
check "producer: every chunk done once" test "$(sqlite3 "$T/prod.db" 'SELECT count(*) FROM chunks')" = "$n3"
"$ACCORD" nats setup --nats "$U" --ack-wait 2 --max-deliver 5 >/dev/null

# 4. the snapshot replaced while the workers run: chunks before use version 1, after version 2
gen_telemetry "$T/snap1.json" 10000 14
gen_telemetry "$T/snap2.json" 10000 15
workers 3 600 snap
bounded 120 "publish snap1.json" "$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/snap1.json" 2>/dev/null
wait_drained
check "snapshot: first half done" test $? = 0
"$ACCORD" nats snapshot --nats "$U" --indicators "$T/ind2.jsonl" >"$T/snap.out"
check "snapshot: version 2 published" grep -q "^snapshot 2: 4 indicators" "$T/snap.out"
# each worker checks the pointer every second: all three on version 2 before the second input
check "snapshot: all workers took version 2" wait_until 60 bash -c "grep -qs 'snapshot 2 ' $T/snap.w1.err && grep -qs 'snapshot 2 ' $T/snap.w2.err && grep -qs 'snapshot 2 ' $T/snap.w3.err"
bounded 120 "publish snap2.json" "$ACCORD" publish --nats "$U" --chunk-kib 16 "$T/snap2.json" 2>/dev/null
stop_workers
bounded 120 "collect --drain (snapshot)" "$ACCORD" nats collect --nats "$U" --db "$T/snap.db" --drain 2>/dev/null
expect_same snap "$T/snap.db" "$T/snap1.json:$T/ind1.jsonl" "$T/snap2.json:$T/ind2.jsonl"
check "snapshot: first input all version 1" test "$(sqlite3 "$T/snap.db" "SELECT count(*) FROM chunks WHERE input LIKE '%snap1.json' AND version <> 1")" = 0
check "snapshot: second input all version 2" test "$(sqlite3 "$T/snap.db" "SELECT count(*) FROM chunks WHERE input LIKE '%snap2.json' AND version <> 2")" = 0
check "snapshot: matches name their version" test "$(sqlite3 "$T/snap.db" "SELECT count(*) FROM matches m JOIN chunks c USING (chunk) WHERE m.version <> c.version")" = 0
check "snapshot: each worker swapped once" test "$(cat "$T"/snap.w*.err | grep -c ' 1 snapshot swaps')" = 3
finish
