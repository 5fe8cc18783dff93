#!/usr/bin/env bash
# bench/nats.sh - matching through NATS JetStream (accord publish -> accord worker -> results) on
# this machine, against one `accord match` process on the same data.
#
# Usage: bench/nats.sh BUILD_DIR [MB] [CHUNK_KIB]      (defaults: 256 MB, 512 KiB chunks)
#        BATCH=N (chunks a worker fetches at once, default 4), WORKERS="1 2" and GOGCS="100 200"
#        (the server's Go GOGC settings to run with, each a row per worker count), WINDOW=N (the
#        publisher's chunks in flight, accord publish --window, default 8) and PUB_WINDOWS="1 8"
#        (first, the publisher alone into the queue, no workers, a row per window, GOGC 200) in
#        the environment
#
# Starts its own nats-server (JetStream, 127.0.0.1, free port, store under a temporary directory,
# stopped at the end), writes MB of Zeek-style telemetry with bench_match --write, 10,000 IPv4 and
# domain indicators, and then for 1 and 2 workers: workers started first, the input published,
# the clock stopped when the queue is empty and nothing is in flight.  Prints end-to-end MB/s and
# records/s, and CPU seconds per GB of telemetry for each worker, the server and the publisher
# (user+sys: the machine is shared, wall time is noisy), the worker's transport overhead against
# `accord match --threads 1` (and, for N workers, against N such processes run at once, which
# share the cores as the workers do: the part of the overhead that is transport; and "steady":
# both without what a process does once, i.e. its start, connections and snapshot load against
# accord match's start and compile of the indicators on an empty input), per worker its
# socket reads and context switches per chunk, and from those a table of what N GB/s needs.
set -eu
BUILD=$(cd "${1:?usage: bench/nats.sh BUILD_DIR [MB] [CHUNK_KIB]}" && pwd)
MB=${2:-256}
CHUNK=${3:-512}
BATCH=${BATCH:-4}
WORKERS=${WORKERS:-1 2}
WINDOW=${WINDOW:-8}
PUB_WINDOWS=${PUB_WINDOWS:-}
# nats-server is a Go program: GOGC=200 halves its garbage collections, which returned memory that
# the next 512 KiB chunks faulted back in (zeroed pages): ~15% of its CPU per GB (docs/scale-out.md)
GOGCS=${GOGCS:-100 200}
A=$BUILD/accord
command -v nats-server >/dev/null || { echo "nats-server is not installed (apt-get install nats-server)"; exit 1; }
D=$(mktemp -d /tmp/accord-bench-nats.XXXXXX)
SRV=
W=()
# stops what is left (workers first: a worker waits for its server), at most 30 s, then SIGKILL
cleanup() {
  local p
  for p in ${W[@]+"${W[@]}"} $SRV; do
    kill "$p" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$D"
}
trap cleanup EXIT
export ACCORD_DATA=$D/data

"$BUILD/bench_match" --write "$D/tel.json" --mb "$MB" --indicators 10000 >/dev/null
python3 - "$D/ind.jsonl" <<'PY'
import sys, random
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        pat = "[ipv4-addr:value = '%d.%d.%d.%d']" % (r.randrange(1, 224), r.randrange(256), r.randrange(256), r.randrange(256)) \
            if i % 2 else "[domain-name:value = 'h%d.example.net']" % i
        f.write('{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' % (i, pat))
PY
BYTES=$(stat -c %s "$D/tel.json")
LINES=$(wc -l <"$D/tel.json")
GB=$(awk -v b="$BYTES" 'BEGIN {print b / 1e9}')

cpu_of() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; } # user+sys seconds of a live pid
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# CPU seconds (user+sys of the process and its threads) and wall seconds of a command into file
# $1: perf stat's task clock where perf works (to the microsecond), else /usr/bin/time (10 ms)
if perf stat -x, -e task-clock -o /dev/null true >/dev/null 2>&1; then
  cpu_wall() {
    local out=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    perf stat -x, -e task-clock -o "$out.perf" "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -F, -v a="$t0" -v z="$t1" '/task-clock/ {printf "%.6f %.6f\n", $1 / 1000, z - a}' "$out.perf" >"$out"
  }
else
  cpu_wall() {
    local out=$1
    shift
    /usr/bin/time -f "%U %S %e" -o "$out.time" "$@" >/dev/null 2>&1
    awk '{printf "%.6f %.6f\n", $1 + $2, $3}' "$out.time" >"$out"
  }
fi

# the baseline: one process, one matching thread; and the same process over an empty input (its
# start and the indicators' compile, once per process), so that both the whole process and the
# steady state per GB compare with a worker's (whose start and snapshot load it reports apart)
: >"$D/empty.json"
cpu_wall "$D/match.cpu" "$A" match --no-progress --summary --threads 1 --indicators "$D/ind.jsonl" "$D/tel.json"
cpu_wall "$D/empty.cpu" "$A" match --no-progress --summary --threads 1 --indicators "$D/ind.jsonl" "$D/empty.json"
read -r mc me <"$D/match.cpu"
read -r m0 _ <"$D/empty.cpu"
MATCH_CPU=$(awk -v c="$mc" -v g="$GB" 'BEGIN {printf "%.3f", c / g}')
MATCH_RUN=$(awk -v c="$mc" -v z="$m0" -v g="$GB" 'BEGIN {printf "%.3f", (c - z) / g}')
printf 'input: %.0f MB, %d records, %s KiB chunks; accord match --threads 1: %.1f MB/s, %.2f CPU s/GB (%.2f without its %.3f s of start and compile)\n' \
  "$(awk -v b="$BYTES" 'BEGIN {print b / 1e6}')" "$LINES" "$CHUNK" \
  "$(awk -v b="$BYTES" -v e="$me" 'BEGIN {print b / 1e6 / e}')" "$MATCH_CPU" "$MATCH_RUN" "$m0"
# the same with N match processes at once on this machine's cores: what sharing the cores (caches,
# scheduler) costs a matching process without any transport, the baseline of N workers
declare -A MATCH_N
MATCH_N[1]=$MATCH_CPU
for N in $WORKERS; do
  [ "$N" -gt 1 ] || continue
  pids=()
  for i in $(seq 1 "$N"); do
    cpu_wall "$D/match$i.cpu" "$A" match --no-progress --summary --threads 1 --indicators "$D/ind.jsonl" \
      "$D/tel.json" &
    pids+=($!)
  done
  wait "${pids[@]}"
  MATCH_N[$N]=$(cat "$D"/match[0-9]*.cpu | awk -v g="$GB" -v n="$N" '{s += $1} END {printf "%.3f", s / n / g}')
  rm -f "$D"/match[0-9]*.cpu*
  printf '%d accord match processes at once: %.2f CPU s/GB each\n' "$N" "${MATCH_N[$N]}"
done
# start_server GOGC: a fresh nats-server (SRV, U) with the streams and the snapshot
start_server() {
  local P
  P=$(port)
  rm -rf "$D/js" "$D/data"
  GOGC=$1 nats-server -js -a 127.0.0.1 -p "$P" -sd "$D/js" -l "$D/server.log" &
  SRV=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$P") 2>/dev/null && break; sleep 0.05; done
  U=nats://127.0.0.1:$P
  "$A" nats setup --nats "$U" --max-bytes $((4 << 30)) >/dev/null
  "$A" nats snapshot --nats "$U" --indicators "$D/ind.jsonl" >/dev/null
}
# the publisher alone: its chunks in flight (--window) against one round trip per chunk
for PW in $PUB_WINDOWS; do
  start_server 200
  s0=$(cpu_of "$SRV")
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$D/pub.time" "$A" publish --nats "$U" --chunk-kib "$CHUNK" --window "$PW" \
    --source bench "$D/tel.json" 2>/dev/null
  t1=$(date +%s.%N)
  s1=$(cpu_of "$SRV")
  read -r pu ps <"$D/pub.time"
  awk -v w="$PW" -v b="$BYTES" -v t="$(awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}')" -v g="$GB" \
      -v s="$(awk -v a="$s0" -v z="$s1" 'BEGIN {print z - a}')" -v p="$(awk -v u="$pu" -v s="$ps" 'BEGIN {print u + s}')" \
      -v la="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "publisher alone, window %2d: %7.1f MB/s, publisher %.2f CPU s/GB, server %.2f CPU s/GB, load %s\n", w, b / 1e6 / t, p / g, s / g, la
      }'
  kill "$SRV"; wait "$SRV" 2>/dev/null || true; SRV=
done
printf '%-8s %8s %12s %14s %14s %14s %10s %10s %10s %6s %6s\n' workers MB/s records/s "worker s/GB" "server s/GB" \
  "publish s/GB" overhead "vs N match" "steady" GOGC load

for G in $GOGCS; do
for N in $WORKERS; do
  start_server "$G"
  W=()
  for i in $(seq 1 "$N"); do
    "$A" worker --nats "$U" --idle 600 --batch "$BATCH" 2>"$D/w$i.err" &
    W+=($!)
  done
  for i in $(seq 1 "$N"); do
    for _ in $(seq 1 200); do grep -q snapshot "$D/w$i.err" && break; sleep 0.05; done
  done
  s0=$(cpu_of "$SRV")
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$D/pub.time" "$A" publish --nats "$U" --chunk-kib "$CHUNK" \
    --window "$WINDOW" --source bench "$D/tel.json" 2>/dev/null
  # one connection polling the consumer: a status command every 50 ms cost the server ~10% of
  # its CPU per GB here (a connection, six infos and a KV read each)
  "$A" nats status --nats "$U" --wait-drained 3600 >"$D/st"
  t1=$(date +%s.%N)
  s1=$(cpu_of "$SRV")
  kill -TERM "${W[@]}"
  wait "${W[@]}" 2>/dev/null || true
  read -r pu ps <"$D/pub.time"
  wcpu=$(cat "$D"/w*.err | sed -n 's/.*CPU \([0-9.]*\) s (.*/\1/p' | awk '{s += $1} END {print s}')
  wrun=$(cat "$D"/w*.err | sed -n 's/.*CPU \([0-9.]*\) s after the first snapshot.*/\1/p' | awk '{s += $1} END {print s}')
  awk -v n="$N" -v b="$BYTES" -v l="$LINES" -v t="$(awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}')" \
      -v w="$wcpu" -v wr="$wrun" -v mr="$MATCH_RUN" -v s="$(awk -v a="$s0" -v z="$s1" 'BEGIN {print z - a}')" -v p="$(awk -v u="$pu" -v s="$ps" 'BEGIN {print u + s}')" \
      -v g="$GB" -v m="$MATCH_CPU" -v mn="${MATCH_N[$N]}" -v gc="$G" -v la="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "%-8d %8.1f %12.0f %14.2f %14.2f %14.2f %9.0f%% %9.0f%% %9.0f%% %6s %6s\n", n, b / 1e6 / t, l / t, w / g, s / g, p / g, (w / g - m) / m * 100, (w / g - mn) / mn * 100, (wr / g - mr) / mr * 100, gc, la
      }' | tee -a "$D/rows"
  # each worker on its own: its chunks, its CPU per GB of what it matched, its socket reads per
  # chunk and context switches (where a second worker's extra CPU goes)
  for i in $(seq 1 "$N"); do
    sed -n 's/^accord worker: \([0-9]*\) chunks, .* CPU \([0-9.]*\) s (\([0-9.]*\) s\/GB); \([0-9]*\) socket reads, \([0-9]*\) voluntary and \([0-9]*\) involuntary.*/\1 \2 \3 \4 \5 \6/p' "$D/w$i.err" |
      awk -v i="$i" '{ printf "  worker %d: %d chunks, CPU %.2f s, %.2f s/GB of its own chunks, %.1f socket reads and %.1f + %.1f context switches per chunk\n", i, $1, $2, $3, $4 / ($1 ? $1 : 1), $5 / ($1 ? $1 : 1), $6 / ($1 ? $1 : 1) }'
    grep -o 'loaded in [0-9.]* s' "$D/w$i.err" | head -1 | sed 's/^/    snapshot /'
  done
  kill "$SRV"; wait "$SRV" 2>/dev/null || true; SRV=
  rm -f "$D"/w*.err
done
done

# sizing from the last row (the most workers, the last GOGC): CPU seconds per GB are cores per GB/s
awk 'END {
  w = $4; s = $5; p = $6
  print ""
  print "sizing (from the figures above; cores = CPU s/GB x GB/s; one JetStream server taken at 8 cores):"
  printf "%-8s %14s %14s %16s %10s\n", "GB/s", "worker cores", "server cores", "publisher cores", "servers"
  n = split("1 2.5 5 10", r, " ")
  for (i = 1; i <= n; i++)
    printf "%-8s %14.0f %14.0f %16.0f %10.0f\n", r[i], w * r[i] + 0.5, s * r[i] + 0.5, p * r[i] + 0.5, (s * r[i]) / 8 + 1
}' "$D/rows"
