#!/usr/bin/env bash
# bench/console_reads.sh BUILD_DIR [OBJECTS] [SIGHTINGS] [LOADS]: latency of the read endpoints of
# the console's sightings, cases, members and feeds pages (/api/console/..., src/console_pages.c).
#
# Generates a store of OBJECTS objects (default 1,000,000; bench_import's mix) plus SIGHTINGS
# sightings (default 100,000) spread over 1,000 of its indicators and 90 days, 20 cases linking
# the first indicator, starts `accord serve`, and asks each endpoint LOADS times (default 100)
# over one kept-alive connection (curl), as an admin and as an account cleared for nothing: p50 and
# p99 of curl's time_total in ms, and the server's CPU time (user+sys) per call.
# Target (docs/console.md): API p99 <= 150 ms.
set -eu
B=${1:?usage: console_reads.sh BUILD_DIR [OBJECTS] [SIGHTINGS] [LOADS]}
N=${2:-1000000} S=${3:-100000} LOADS=${4:-100}
D=$(mktemp -d /tmp/accord-bench-reads.XXXXXX)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
A() { "$B/accord" --data "$D/data" "$@"; }

t0=$(date +%s.%N)
"$B/bench_import" --generate "$D/g.json" --objects "$N" --seed 7 >/dev/null
A import "$D/g.json" >/dev/null 2>&1
grep -o '"id":"indicator--[0-9a-f-]*"' "$D/g.json" | head -n 1000 | cut -d'"' -f4 >"$D/ind"
rm -f "$D/g.json"
awk -v s="$S" 'NR == FNR { ind[n++] = $0; next } END {
  printf "{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-0000000000b1\",\"objects\":["
  for (i = 0; i < s; i++) {
    t = 1772409600 + (i * 7919) % (90 * 86400)
    ts = strftime("%Y-%m-%dT%H:%M:%S.000Z", t, 1)
    printf "%s{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"sighting--5b000000-0000-4000-8000-%012d\",\"created\":\"%s\",\"modified\":\"%s\",\"first_seen\":\"%s\",\"count\":%d,\"sighting_of_ref\":\"%s\"}", i ? "," : "", i, ts, ts, ts, i % 5 + 1, ind[i % n]
  }
  printf "]}\n" }' "$D/ind" /dev/null >"$D/s.json"
A import "$D/s.json" >/dev/null 2>&1
IND=$(head -n 1 "$D/ind")
printf 'bench-pass-1\n' | A user add --admin --password-stdin analyst >/dev/null
for i in $(seq 1 20); do
  id=$(A case open --title "case $i" 2>/dev/null | tail -n 1)
  A case set "$id" indicator "$IND" >/dev/null 2>&1
  A case add-participant "$id" analyst observer >/dev/null 2>&1
done
A user add reader --no-password >/dev/null
A user grant reader default --read >/dev/null
ADMIN=$(A token create analyst 2>/dev/null)
READER=$(A token create reader 2>/dev/null)
printf 'store   %s objects + %s sightings + 20 cases in %.0f s\n' "$N" "$S" \
  "$(echo "$(date +%s.%N) - $t0" | bc)"

"$B/accord" --data "$D/data" serve --listen 127.0.0.1:0 >"$D/serve.out" 2>&1 &
SPID=$!
for _ in $(seq 1 300); do grep -q 'serving TAXII' "$D/serve.out" && break; sleep 0.1; done
PORT=$(sed -n 's|.*serving TAXII 2.1 on https://[^:]*:\([0-9]*\)/.*|\1|p' "$D/serve.out")
cpu() { awk '{ print $14 + $15 }' "/proc/$SPID/stat"; }
HZ=$(getconf CLK_TCK)

# time NAME TOKEN PATH: LOADS requests on one connection
time_it() {
  local name=$1 tok=$2 path=$3 urls=() i
  for i in $(seq 1 "$LOADS"); do urls+=(-o /dev/null "https://127.0.0.1:$PORT$path"); done
  local c0; c0=$(cpu)
  curl -sk -H "Authorization: Bearer $tok" -w '%{http_code} %{time_total}\n' \
    "${urls[@]}" >"$D/t"
  local c1; c1=$(cpu)
  local bad; bad=$(awk '$1 != 200 { print $1 }' "$D/t" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
  sort -k2 -g "$D/t" | awk -v name="$name" -v n="$LOADS" -v cpu="$(( (c1 - c0) ))" -v hz="$HZ" -v bad="$bad" '
    { v[NR] = $2 * 1000 }
    END { p50 = v[int((n + 1) / 2)]; p99 = v[int(n * 0.99 + 0.5) > n ? n : int(n * 0.99 + 0.5)]
          printf "%-46s p50 %8.2f ms  p99 %8.2f ms  server CPU %6.2f ms/call%s\n", name, p50, p99,
                 cpu * 1000 / hz / n, bad ? "  (" bad " not 200)" : "" }'
}

time_it "sightings?indicator (hour), admin" "$ADMIN" "/api/console/sightings?indicator=$IND&bucket=hour"
time_it "sightings?collection=default (day), admin" "$ADMIN" "/api/console/sightings?collection=default&bucket=day"
time_it "sightings?collection=default (day), reader" "$READER" "/api/console/sightings?collection=default&bucket=day"
time_it "object-cases (20 cases link it), admin" "$ADMIN" "/api/console/object-cases?object=$IND"
time_it "roster, admin" "$ADMIN" "/api/console/roster"
time_it "collections, reader" "$READER" "/api/console/collections"
time_it "peers, admin" "$ADMIN" "/api/console/peers"
time_it "cases (list), admin" "$ADMIN" "/api/cases?limit=100"

# the pages of a series add up to every sighting (the cursor resumes where the walk stopped)
walk() { # walk TOKEN QUERY: the sightings counted over all pages of a series
  local total=0 after= body pages=0
  while :; do
    body=$(curl -sk -H "Authorization: Bearer $1" "https://127.0.0.1:$PORT/api/console/sightings?$2${after:+&after=$after}")
    total=$((total + $(printf '%s' "$body" | sed -n 's/.*"sightings":\([0-9]*\),.*/\1/p')))
    pages=$((pages + 1))
    after=$(printf '%s' "$body" | sed -n 's/.*"next":"\([0-9]*\)".*/\1/p')
    [ -n "$after" ] || break
  done
  echo "$total sightings in $pages request(s)"
}
echo "series of the default collection: $(walk "$ADMIN" "collection=default&bucket=day") (generated: $S)"
