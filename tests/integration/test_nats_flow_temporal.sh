#!/usr/bin/env bash
# Multi-observation indicators (FOLLOWEDBY ... WITHIN, REPEATS ... WITHIN) over flow (IPFIX) and
# dnstap records that accord match --listen-flows / --listen-dnstap --nats publishes in record
# chunks of 2 KiB: the records come in three phases, each matched by workers of its own (the
# first phase's worker exits before the second phase is sent; two workers share the third), so
# the observations of a hit lie in chunks that different workers matched.  The collector
# combines them per source in the source's order, and the (event, indicator) pairs equal those
# of one accord match over the same records (a capture of the same datagrams, a Frame Streams
# file of the same messages).  A collector runs after each phase, pruning the observations no
# state can use any more; the next one rebuilds its state from what is left.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"
GEN="$(dirname "$0")/nats_records.py"

mkdir -p "$T/js" "$T/in"
nats_start || exit 1
U=$NATS_URL
"$ACCORD" nats setup --nats "$U" --ack-wait 5 --max-deliver 5 >/dev/null || exit 1
python3 "$GEN" write "$T/in" 3 >"$T/counts" || exit 1
read -r -a FLOWS <<<"$(sed -n 's/^FLOWS //p' "$T/counts")"
read -r -a DNS <<<"$(sed -n 's/^DNSTAP //p' "$T/counts")"
{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 3 "evil domains" "[domain-name:value LIKE '%.evil.example']"
  ind 5 "c2 then bad net" "([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [ipv4-addr:value ISSUBSET '203.0.113.0/24']) WITHIN 60 SECONDS"
  ind 6 "bad net thrice" "[ipv4-addr:value ISSUBSET '203.0.113.0/24'] REPEATS 3 TIMES WITHIN 300 SECONDS"
  ind 7 "evil thrice" "[domain-name:value LIKE '%.evil.example'] REPEATS 3 TIMES WITHIN 600 SECONDS"
  ind 8 "evil then its answer" "([domain-name:value LIKE '%.evil.example'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.9']) WITHIN 120 SECONDS"
} >"$T/ind.jsonl"

# one accord match over the same records: each file is one source
"$ACCORD" match --indicators "$T/ind.jsonl" "$T/in/flows.pcap" "$T/in/dnstap.fstrm" >"$T/match.out" 2>"$T/match.err"
pairs "$T/match.out" >"$T/want"
nmatch=$(python3 -c 'import sys,json; print(sum(len(json.loads(l)["indicators"]) for l in open(sys.argv[1])))' "$T/match.out")
hits_of() { grep -c "indicator--00000000-0000-4000-8000-00000000000$1" "$2"; }
for i in 5 6 7 8; do
  check "indicator $i: hits to compare" test "$(hits_of $i "$T/want")" -gt 10
done

"$ACCORD" nats snapshot --nats "$U" --indicators "$T/ind.jsonl" >/dev/null || exit 1
P=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ACCORD" match --indicators "$T/ind.jsonl" --listen-flows 127.0.0.1:"$P" --listen-dnstap "$T/d.sock" \
  --nats "$U" --nats-chunk-kib 2 >"$T/listen.out" 2>"$T/listen.err" &
L=$!
BG_PIDS+=("$L")
wait_until 30 bash -c "[ -S '$T/d.sock' ] && grep -qs 'collecting flows' '$T/listen.err'" || bad "listener not up"

# records the workers of phases 1..K matched, from their reports
matched() { cat "$T"/w*.err 2>/dev/null | sed -n 's/^accord worker: [0-9]* chunks, \([0-9]*\) lines.*/\1/p' | awk '{s += $1} END {print s + 0}'; }
# phase_drained K WANT: a worker of phase K takes what is queued and exits (its report in
# w$k.1.err; in phase 3, whose own workers ran before, in w3.d.err); 0 once the records of
# phases 1..K (WANT) were all matched
phase_drained() {
  local k=$1 want=$2 f=1
  [ "$k" = 3 ] && f=d
  timeout -k 5 60 "$ACCORD" worker --nats "$U" --drain --batch 1 </dev/null >/dev/null 2>>"$T/w$k.$f.err"
  [ "$(matched)" -ge "$want" ]
}
want=0
for k in 1 2 3; do
  if [ "$k" = 3 ]; then
    # the third phase's two workers wait on the consumer before its records come: the server
    # hands each chunk to the oldest pull waiting, so the two take chunks in turn (two --drain
    # workers started after the records could see one of them take all before the other ran)
    p3=()
    for i in 1 2; do
      timeout -k 5 120 "$ACCORD" worker --nats "$U" --idle 20 --batch 1 </dev/null >/dev/null 2>>"$T/w3.$i.err" &
      p3+=($!)
      BG_PIDS+=($!)
    done
    wait_until 30 bash -c "grep -qs '^accord worker: snapshot' '$T/w3.1.err' && grep -qs '^accord worker: snapshot' '$T/w3.2.err'" ||
      bad "phase 3: workers not waiting"
  fi
  python3 "$GEN" send-flows "$P" "$T/in/flows.$k" || bad "phase $k: flows not sent"
  python3 "$GEN" send-dnstap "$T/d.sock" "$T/in/dnstap.$k" || bad "phase $k: dnstap not sent"
  want=$((want + FLOWS[k - 1] + DNS[k - 1]))
  # the third phase's workers exit 20 s after their last chunk; a --drain worker takes the rest
  # (redelivered chunks) if they left any
  [ "$k" = 3 ] && wait "${p3[@]}"
  # the listener sends a chunk once full or a second after its first record
  wait_until 120 phase_drained "$k" "$want" || bad "phase $k: $want records not matched within 120 s (got $(matched))"
  check "phase $k: its worker matched chunks" grep -q '^accord worker: [1-9][0-9]* chunks' "$T/w$k.1.err"
  # a collector per phase: each one rebuilds the state from what the one before kept (pruned)
  if [ "$k" != 3 ]; then
    bounded 120 "collect --drain (phase $k)" "$ACCORD" nats collect --nats "$U" --db "$T/res.db" --drain 2>"$T/c$k.err"
    check "phase $k: collected" test $? = 0
  fi
done
check "phase 3: the second worker matched chunks too" grep -q '^accord worker: [1-9][0-9]* chunks' "$T/w3.2.err"
kill -TERM "$L"
wait_pids 30 "listener" "$L"
check "listener: every flow record published" grep -q "udp:127.0.0.1:$P: 900 records in [0-9]* chunks" "$T/listen.err"
check "listener: every dnstap message published" grep -q "dnstap:$T/d.sock: 600 records in [0-9]* chunks" "$T/listen.err"
check "listener: nothing matched itself" test ! -s "$T/listen.out"

collect_compare "$T/res.db" "$T/c3.err" "$nmatch"
# pruning: what no state can use any more is deleted as sources advance; the collectors of
# phases 2 and 3 rebuilt their state from the rest and still combined what one accord match did
pruned() { sed -n 's/.* \([0-9]*\) observations pruned$/\1/p' "$T"/c[123].err | awk '{s += $1} END {print s + 0}'; }
echo "$(pruned) observations pruned"
check "observations pruned" test "$(pruned)" -gt 20
kept6=$(sqlite3 "$T/res.db" "SELECT count(*) FROM observations WHERE body LIKE '%-000000000006\"%'")
check "REPEATS ... WITHIN 300 SECONDS: about a window's observations kept ($kept6 of 22)" test "$kept6" -lt 15
check "both sources combined" test "$(sqlite3 "$T/res.db" 'SELECT count(*) FROM sources')" = 2
# hits whose observations the workers of two phases matched: flow record 335 (phase 2) repeats
# records 253 and 294 (phase 1); dnstap message 220 (phase 2) repeats 158 and 189 (phase 1)
check "flows: a REPEATS hit across the workers of two phases" grep -q '203\.0\.113\.85\\".*-000000000006"' "$T/got"
check "dnstap: a REPEATS hit across the workers of two phases" grep -q 'h220\.evil\.example\\".*-000000000007"' "$T/got"
finish
