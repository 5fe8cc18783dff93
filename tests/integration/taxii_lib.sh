# taxii_lib.sh - shared by the TAXII integration tests (sourced after lib.sh): starts and stops
# `accord serve` on 127.0.0.1, sends requests with curl, checks statuses, headers and bodies.
#
#   start_server [DATA_DIR] [serve options...]   sets PORT, BASE (https://localhost:PORT), SPID,
#                                                 and TOKEN when the server printed an admin token
#   stop_server                                   SIGTERM, waits (bounded); sets SERVER_RC
#   req METHOD PATH [curl args...]                sends one request as $WHO (default: the admin
#                                                 token); sets CODE, CTYPE; body in $T/body,
#                                                 headers in $T/hdr
#   expect CODE DESC                               checks the last request's status
#   expect_error CODE DESC                         ... and that it is a TAXII error resource
#   body_has / body_lacks / hdr_has TEXT DESC      checks on the last response
#
# JSON is read with grep/sed only: the server writes compact JSON (no spaces), so fixed strings
# such as "more":true are reliable.
if ! command -v curl >/dev/null 2>&1; then
  echo "SKIP: curl is not installed (apt-get install curl); the TAXII tests need it"
  exit 77
fi

TAXII_CT='application/taxii+json;version=2.1'
SPID=
PORT=
TOKEN=
SERVER_RC=
CODE=
CTYPE=
WHO=admin
# Extra time for sanitizer builds: every wait below is bounded by this many tenths of a second.
WAIT_TENTHS=${TAXII_WAIT_TENTHS:-300}

taxii_cleanup() {
  stop_server
  local p
  for p in ${WRITER_PID:-} ${IMPORTER_PID:-}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap taxii_cleanup EXIT

# start_server [DATA] [serve options]: output in $T/serve.out, access log in $T/access.log.
start_server() {
  local data=${1:-$T/data}
  [ $# -gt 0 ] && shift
  START_DATA=$data
  START_ARGS=("$@")
  : >"$T/serve.out"
  "$ACCORD" --data "$data" serve --listen 127.0.0.1:0 --access-log "$T/access.log" "$@" \
    >"$T/serve.out" 2>&1 &
  SPID=$!
  local i=0
  while [ $i -lt "$WAIT_TENTHS" ]; do
    if grep -q 'serving TAXII 2.1 on' "$T/serve.out" 2>/dev/null; then
      break
    fi
    if ! kill -0 "$SPID" 2>/dev/null; then
      echo "FATAL: accord serve exited before serving:" >&2
      sed 's/^/  | /' "$T/serve.out" >&2
      SPID=
      return 1
    fi
    sleep 0.1
    i=$((i + 1))
  done
  if ! grep -q 'serving TAXII 2.1 on' "$T/serve.out"; then
    echo "FATAL: accord serve did not start in time" >&2
    sed 's/^/  | /' "$T/serve.out" >&2
    return 1
  fi
  # everything is printed with one fflush; still, give the token line a moment to appear
  i=0
  while grep -q 'created account admin' "$T/serve.out" &&
    ! grep -A1 'created account admin' "$T/serve.out" | sed -n 2p | grep -q . && [ $i -lt 20 ]; do
    sleep 0.05
    i=$((i + 1))
  done
  PORT=$(sed -n 's|.*serving TAXII 2.1 on https\{0,1\}://[^:]*:\([0-9]*\)/taxii2/.*|\1|p' "$T/serve.out" | head -n 1)
  local tok
  tok=$(grep -A1 'created account admin' "$T/serve.out" | sed -n 2p)
  [ -n "$tok" ] && TOKEN=$tok
  BASE=https://localhost:$PORT
  grep -q 'serving TAXII 2.1 on http://' "$T/serve.out" && BASE=http://127.0.0.1:$PORT
  [ -f "$data/tls/cert.pem" ] && cp "$data/tls/cert.pem" "$T/cacert.pem"
  [ -n "$PORT" ]
}

# stop_server: SIGTERM and a bounded wait; SERVER_RC is the exit code (or "timeout").
stop_server() {
  [ -z "$SPID" ] && return 0
  kill -TERM "$SPID" 2>/dev/null
  local i=0
  while kill -0 "$SPID" 2>/dev/null && [ $i -lt "$WAIT_TENTHS" ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$SPID" 2>/dev/null; then
    SERVER_RC=timeout
    kill -KILL "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
  else
    wait "$SPID"
    SERVER_RC=$?
  fi
  SPID=
  sanitizer_report
}

# Sanitizer builds: a report in the server's output is a failure even when the server lived on.
sanitizer_report() {
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$T/serve.out" 2>/dev/null; then
    bad "sanitizer report from accord serve"
    grep -E -A12 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$T/serve.out" | head -n 40 | sed 's/^/  | /' >&2
  fi
}

# The curl options of an identity: admin (token), token:SECRET, basic:USER:PASS, none, or raw:HEADER.
auth_args() {
  case $1 in
  admin) printf '%s\n' -H "Authorization: Bearer $TOKEN" ;;
  token:*) printf '%s\n' -H "Authorization: Bearer ${1#token:}" ;;
  basic:*)
    local up=${1#basic:}
    printf '%s\n' -u "$up"
    ;;
  raw:*) printf '%s\n' -H "Authorization: ${1#raw:}" ;;
  none) ;;
  esac
}

# req METHOD PATH [curl args]: PATH is relative to $BASE (or a full URL).
req() {
  local method=$1 path=$2
  shift 2
  local url=$path
  case $path in http*) ;; *) url=$BASE$path ;; esac
  local -a auth=()
  local line
  while IFS= read -r line; do auth+=("$line"); done < <(auth_args "$WHO")
  local out
  rm -f "$T/body" "$T/hdr"
  : >"$T/body"
  : >"$T/hdr"
  out=$(curl -g -s -S --max-time 30 --cacert "$T/cacert.pem" -X "$method" "${auth[@]}" \
    -D "$T/hdr" -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$url" 2>"$T/curl.err")
  CODE=${out%% *}
  CTYPE=${out#* }
  [ "$CTYPE" = "$CODE" ] && CTYPE=
  server_alive "$method $path"
  return 0
}

# server_alive WHAT: when the server died (a crash), counts a failure naming WHAT, shows the end
# of its output, and starts it again on the same data so that later checks still run.
server_alive() {
  [ -z "$SPID" ] && return 0
  local i=0
  # no answer at all: give a crashing process time to finish dying
  while [ "$CODE" = 000 ] && [ $i -lt 10 ] && kill -0 "$SPID" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -0 "$SPID" 2>/dev/null && return 0
  wait "$SPID" 2>/dev/null
  local rc=$?
  bad "SERVER DIED (exit $rc) during $1"
  grep -v '^acc_' "$T/serve.out" | tail -n 25 | sed 's/^/  | /' >&2
  sanitizer_report
  SPID=
  local tok=$TOKEN
  start_server "$START_DATA" "${START_ARGS[@]}" || return 1
  TOKEN=$tok
}

# GET with the TAXII Accept header.
get() {
  local path=$1
  shift
  case " $* " in
  *" Accept:"* | *" accept:"*) req GET "$path" "$@" ;;
  *) req GET "$path" -H "Accept: $TAXII_CT" "$@" ;;
  esac
}

# POST an envelope (a file or a string) to PATH.
post() {
  local path=$1 data=$2
  shift 2
  req POST "$path" -H "Accept: $TAXII_CT" -H "Content-Type: $TAXII_CT" --data-binary "$data" "$@"
}

show_last() {
  echo "  | status $CODE, content-type '$CTYPE'" >&2
  head -c 600 "$T/body" 2>/dev/null | sed 's/^/  | /' >&2
  echo >&2
  [ -s "$T/curl.err" ] && sed 's/^/  | curl: /' "$T/curl.err" >&2
  return 0
}

expect() {
  if [ "$CODE" = "$1" ]; then ok; else
    bad "$2: status $CODE, expected $1"
    show_last
  fi
}

# expect_error CODE DESC: the status, the TAXII media type, and an error resource naming it.
expect_error() {
  expect "$1" "$2"
  if [ "$CTYPE" = "$TAXII_CT" ]; then ok; else bad "$2: content type '$CTYPE', expected $TAXII_CT"; fi
  if grep -q "\"http_status\":\"$1\"" "$T/body" && grep -q '"title":"[^"]' "$T/body"; then ok; else
    bad "$2: not a TAXII error resource with title and http_status $1"
    show_last
  fi
}

body_has() {
  if grep -qF -- "$1" "$T/body"; then ok; else
    bad "$2: body lacks $1"
    show_last
  fi
}
body_lacks() {
  if grep -qF -- "$1" "$T/body"; then
    bad "$2: body has $1"
    show_last
  else ok; fi
}
hdr_has() {
  if grep -qi -- "$1" "$T/hdr"; then ok; else
    bad "$2: no header matching $1"
    sed 's/^/  | /' "$T/hdr" >&2
  fi
}
# The value of response header NAME (last response), without CR.
hdr_value() { grep -i "^$1:" "$T/hdr" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }

# Ids of the objects in the last body, one per line, in order (objects or manifest).
body_ids() { grep -o '"id":"[a-z0-9-]*--[0-9a-f-]*"' "$T/body" | sed 's/^"id":"//; s/"$//'; }
body_count() { body_ids | wc -l | tr -d ' '; }
# The value of "next" in the last body, or empty.
body_next() { sed -n 's/.*"next":"\([^"]*\)".*/\1/p' "$T/body"; }
body_more() { grep -q '"more":true' "$T/body"; }

# An indicator; ID MODIFIED [N] (N picks the IP address).
indicator() {
  printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-10T09:10:00.000Z","modified":"%s","name":"test indicator","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '"'"'198.51.100.%d'"'"']","pattern_type":"stix","valid_from":"2026-01-10T09:10:00Z"}' \
    "$1" "$2" "$((${3:-1} % 250 + 1))"
}
malware() {
  printf '{"type":"malware","spec_version":"2.1","id":"%s","created":"2026-01-10T09:05:00.000Z","modified":"%s","name":"ExampleRAT","is_family":true,"malware_types":["remote-access-trojan"]}' \
    "$1" "$2"
}
# A deterministic UUIDv4-shaped id: PREFIX GROUP N.
mkid() { printf '%s--%08x-0000-4000-8000-%012x' "$1" "$2" "$3"; }
# envelope OBJ...: {"objects":[OBJ,...]}
envelope() {
  local IFS=,
  printf '{"objects":[%s]}' "$*"
}

# CLI on the server's data dir.
cli() { "$ACCORD" --data "${DATA:-$T/data}" "$@"; }

# The id of the collection with ALIAS (from `accord collection list`).
collection_id() { cli collection list | awk -v a="$1" '$3 == a {print $1}' | head -n 1; }
