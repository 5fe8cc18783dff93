# peer_lib.sh - federation tests (sourced after lib.sh): several `accord serve` nodes on
# 127.0.0.1, each in $T/NAME with its own port, admin token and self-signed certificate.
#
#   node_start NAME [serve options]  starts (or restarts: same port) node NAME; $T/NAME.port,
#                                    $T/NAME.token (first start), $T/NAME.ca, $T/NAME.out
#   node_stop NAME / node_kill NAME  SIGTERM and wait / SIGKILL
#   ncli NAME ARGS...                the CLI on node NAME's store
#   node_url NAME                    its TAXII API root "accord"
#   node_objects NAME / node_versions NAME   counts from `accord stats`
#   gen_indicators PREFIX FROM TO TLP [MODIFIED]   JSON lines; TLP clear|green|amber|
#                                    amber+strict|red|none
#   wait_for SECONDS DESC CMD...     retries CMD every 0.2 s; a failed check when time runs out
#   sq DB SQL                        the sqlite3 shell with a busy timeout
WAIT_SCALE=${TAXII_WAIT_TENTHS:-300}
NODES=

node_start() {
  local n=$1 port=0
  shift
  [ -f "$T/$n.port" ] && port=$(cat "$T/$n.port")
  : >"$T/$n.out"
  "$ACCORD" --data "$T/$n" serve --listen "127.0.0.1:$port" "$@" >>"$T/$n.out" 2>&1 &
  echo $! >"$T/$n.pid"
  NODES="$NODES $n"
  local i=0
  while ! grep -q 'serving TAXII 2.1 on' "$T/$n.out" && [ $i -lt "$WAIT_SCALE" ]; do
    kill -0 "$(cat "$T/$n.pid")" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
  grep -q 'serving TAXII 2.1 on' "$T/$n.out" || { sed 's/^/  | /' "$T/$n.out" >&2; return 1; }
  sed -n 's|.*serving TAXII 2.1 on https://[^:]*:\([0-9]*\)/taxii2/.*|\1|p' "$T/$n.out" | head -n 1 >"$T/$n.port"
  sleep 0.1
  local tok
  tok=$(grep -A1 'created account admin' "$T/$n.out" | sed -n 2p)
  [ -n "$tok" ] && printf '%s\n' "$tok" >"$T/$n.token"
  cp "$T/$n/tls/cert.pem" "$T/$n.ca"
}
node_stop() {
  local pid
  pid=$(cat "$T/$1.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -f "$T/$1.pid"
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$T/$1.out"; then
    bad "sanitizer report from node $1"
    grep -E -A12 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$T/$1.out" | head -n 40 >&2
  fi
}
node_kill() {
  local pid
  pid=$(cat "$T/$1.pid" 2>/dev/null) || return 0
  kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -f "$T/$1.pid"
}
nodes_cleanup() {
  local n
  for n in $NODES; do node_stop "$n"; done
  rm -rf "$T"
}
trap nodes_cleanup EXIT
ncli() { local n=$1; shift; "$ACCORD" --data "$T/$n" "$@"; }
node_url() { printf 'https://localhost:%s/accord/' "$(cat "$T/$1.port")"; }
node_objects() { ncli "$1" stats 2>/dev/null | sed -n 's/^objects \([0-9]*\), versions.*/\1/p'; }
node_versions() { ncli "$1" stats 2>/dev/null | sed -n 's/^objects [0-9]*, versions \([0-9]*\),.*/\1/p'; }
node_default() { ncli "$1" collection list | awk '$3 == "default" {print $1}' | head -n 1; }

tlp_ref() {
  case $1 in
  clear) echo marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487 ;;
  green) echo marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb ;;
  amber) echo marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421 ;;
  amber+strict) echo marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003 ;;
  red) echo marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1 ;;
  esac
}
pid_of() { printf 'indicator--%08x-0000-4000-8000-%012x' "$1" "$2"; }
gen_indicators() { # PREFIX(number) FROM TO TLP [MODIFIED] [CREATED_BY]; one awk, no fork per line
  local g=$1 from=$2 to=$3 tlp=$4 mod=${5:-2026-01-10T09:10:00.000Z} by=${6:-} m=""
  [ "$tlp" != none ] && m=",\"object_marking_refs\":[\"$(tlp_ref "$tlp")\"]"
  [ -n "$by" ] && m="$m,\"created_by_ref\":\"$by\""
  awk -v g="$g" -v from="$from" -v to="$to" -v mod="$mod" -v m="$m" -v q="'" 'BEGIN {
    for (i = from; i <= to; i++)
      printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-%012x\",\"created\":\"2026-01-10T09:10:00.000Z\",\"modified\":\"%s\",\"name\":\"peer test %d\",\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[ipv4-addr:value = %s203.0.%d.%d%s]\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-10T09:10:00Z\"%s}\n", g, i, mod, i, q, g % 250, i % 250 + 1, q, m
  }'
}
wait_for() {
  local secs=$1 d=$2 i=0
  shift 2
  local lim=$((secs * 10 * WAIT_SCALE / 300))
  [ "$lim" -lt $((secs * 10)) ] && lim=$((secs * 10))
  while [ $i -lt "$lim" ]; do
    "$@" && { ok; return 0; }
    sleep 0.2
    i=$((i + 2))
  done
  bad "$d (waited ${secs}s)"
  return 1
}
# sq DB SQL...: the sqlite3 shell, waiting for a node's writer instead of failing on its lock
sq() { sqlite3 -cmd '.timeout 10000' "$@"; }
# member_nodes NODE...: starts each node with its own organisation (member init --name Org-NODE,
# TLP default green) and sets ID_NODE to that organisation's identity id
member_nodes() {
  local n id all=1
  for n in "$@"; do
    node_start "$n" || { bad "node $n start"; finish; }
    ncli "$n" member init --name "Org-$n" >/dev/null 2>&1
    ncli "$n" tlp default green >/dev/null 2>&1
    id=$(ncli "$n" member show | sed -n '1s/^# \([^ ]*\).*/\1/p')
    [ -n "$id" ] || all=0
    eval "ID_$n=\$id"
  done
  [ "$all" = 1 ] && ok || bad "member init on every node"
}
