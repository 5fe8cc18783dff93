#!/usr/bin/env bash
# bench/interop.sh [PATH-TO-accord] [N] - accord against the OASIS TAXII 2.1 reference server,
# medallion: a push of N indicators (default 1000) into a medallion collection, then a pull of
# that collection into a second, empty accord store, both with `accord sync`; prints objects/s
# of each and checks that every object arrived.
#
# medallion serves plain HTTP with HTTP Basic accounts, so the peers are added with
# --insecure-http and --user-file (docs/FEDERATION.md).  Everything runs on 127.0.0.1.
#
# When medallion is not installed (no `medallion` program and no `python3 -c 'import medallion'`)
# the script says so and exits 0: it is not packaged in Debian, and pip is the way to get it.
set -u
ACCORD=${1:-build/accord}
N=${2:-1000}
if command -v medallion >/dev/null 2>&1; then
  MEDALLION=(medallion)
elif python3 -c 'import medallion' >/dev/null 2>&1; then
  MEDALLION=(python3 -m medallion.scripts.run)
else
  echo "SKIP: medallion (the OASIS TAXII 2.1 reference server) is not installed: neither a"
  echo "      'medallion' program nor the python3 module; install it (pip install medallion) and"
  echo "      run bench/interop.sh again."
  exit 0
fi
[ -x "$ACCORD" ] || { echo "bench/interop.sh: $ACCORD is not an executable accord" >&2; exit 2; }
ACCORD=$(cd "$(dirname "$ACCORD")" && pwd)/$(basename "$ACCORD")
T=$(mktemp -d /tmp/accord-interop.XXXXXX)
MPID=
cleanup() { [ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
COLL=91a7b528-80eb-42ed-a74d-c6fbd5a26116
PASS=interop-$RANDOM$RANDOM
# werkzeug comes with medallion (flask); older medallions read plain passwords from "users"
HASH=$(python3 -c 'import sys; from werkzeug.security import generate_password_hash as g; print(g(sys.argv[1]))' "$PASS" 2>/dev/null || echo "$PASS")
cat >"$T/data.json" <<JSON
{"/discovery": {"title": "accord interop", "description": "bench/interop.sh",
  "default": "http://127.0.0.1:$PORT/trustgroup1/",
  "api_roots": ["http://127.0.0.1:$PORT/trustgroup1/"]},
 "trustgroup1": {
  "information": {"title": "interop", "description": "bench/interop.sh",
   "versions": ["application/taxii+json;version=2.1"], "max_content_length": 9765625},
  "status": [],
  "collections": [{"id": "$COLL", "title": "interop", "description": "bench/interop.sh",
   "can_read": true, "can_write": true,
   "media_types": ["application/stix+json;version=2.1"], "objects": []}]}}
JSON
cat >"$T/config.json" <<JSON
{"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
  "filename": "$T/data.json"},
 "users": {"accord": "$PASS"},
 "auth": {"module": "medallion.backends.auth_memory_backend", "module_class": "AuthMemoryBackend",
  "users": {"accord": "$HASH"}, "api_keys": {}},
 "multi-auth": ["basic"],
 "taxii": {"max_page_size": 1000}}
JSON
"${MEDALLION[@]}" --host 127.0.0.1 --port "$PORT" "$T/config.json" >"$T/medallion.log" 2>&1 &
MPID=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null -u "accord:$PASS" -H 'Accept: application/taxii+json;version=2.1' \
    "http://127.0.0.1:$PORT/trustgroup1/" && break
  sleep 0.2
done
printf 'accord:%s\n' "$PASS" >"$T/user"
chmod 600 "$T/user"

gen() { # N indicators, JSON lines
  awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-00000000beef\",\"created\":\"2026-01-10T09:10:00.000Z\",\"modified\":\"2026-01-10T09:10:00.000Z\",\"name\":\"interop %d\",\"pattern\":\"[ipv4-addr:value = '"'"'198.51.%d.%d'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-10T09:10:00Z\"}\n", i, i, int(i / 250) % 256, i % 250 + 1 }'
}
run() { # LABEL DATA-DIR PEER: one timed `accord sync PEER`, its CPU from /usr/bin/time
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$T/time" "$ACCORD" --data "$2" sync "$3" >"$T/$1.out" 2>"$T/$1.err"
  local rc=$?
  t1=$(date +%s.%N)
  WALL=$(echo "$t1 - $t0" | bc -l)
  CPU=$(awk '{print $1 + $2}' "$T/time")
  return $rc
}
URL="http://127.0.0.1:$PORT/trustgroup1/"
gen "$N" | "$ACCORD" --data "$T/src" import --quiet - >/dev/null || { echo "import failed" >&2; exit 1; }
leg() { # push|pull DATA-DIR COUNTED-FIELD: adds the peer, runs one sync, prints the figures
  "$ACCORD" --data "$2" peer add medallion "$URL" --collection "$COLL" "--$1" --interval 0 \
    --insecure-http --user-file "$T/user" >/dev/null 2>&1 || { echo "peer add failed" >&2; exit 1; }
  run "$1" "$2" medallion || { echo "$1 failed:" >&2; cat "$T/$1.out" "$T/$1.err" >&2; exit 1; }
  COUNT=$(sed -n "s/.*	$3 \([0-9]*\)	.*/\1/p" "$T/$1.out")
  printf '%s  %6d objects, medallion: %.1f s wall, %.2f s accord CPU, %.0f objects/s wall\n' \
    "$1" "$COUNT" "$WALL" "$CPU" "$(echo "$COUNT / $WALL" | bc -l)"
}
leg push "$T/src" pushed
PUSHED=$COUNT
leg pull "$T/dst" stored
STORED=$COUNT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$PUSHED" = "$N" ] && [ "$STORED" = "$N" ]; then
  echo "interop: OK ($N indicators accord -> medallion -> accord)"
else
  echo "interop: FAILED (pushed $PUSHED, pulled $STORED of $N)"
  sed 's/^/  | /' "$T/push.err" "$T/pull.err" "$T/medallion.log" | tail -n 40
  exit 1
fi
