# nats_lib.sh - shared by test_nats*.sh: a real nats-server with JetStream on 127.0.0.1, a free
# port and a store under $T, always stopped on exit; generated telemetry with known hits.
# Sourced after lib.sh.
if ! command -v nats-server >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then
    echo "FAIL: nats-server is not installed (Debian package nats-server, debian-packages.txt)" >&2
    exit 1
  fi
  echo "SKIP: nats-server is not installed (apt-get install nats-server)" >&2
  exit 77
fi
# need_tool TOOL PACKAGE WHY: skips the test when TOOL is missing (fails under CI)
need_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $1 is not installed (Debian package $2)" >&2
    exit 1
  fi
  echo "SKIP: $1 is not installed (apt-get install $2; $3)" >&2
  exit 77
}
NATS_PID=
# nats_stop_server: SIGTERM, at most 20 s to exit, then SIGKILL (a server that hangs in its
# shutdown must not hang the test)
nats_stop_server() {
  if [ -n "$NATS_PID" ]; then
    kill "$NATS_PID" 2>/dev/null
    if ! wait_gone 20 "$NATS_PID"; then
      echo "nats-server (pid $NATS_PID) did not stop within 20 s of SIGTERM; killed" >&2
      kill -9 "$NATS_PID" 2>/dev/null
    fi
    wait "$NATS_PID" 2>/dev/null
    NATS_PID=
  fi
}
# wait_gone SECONDS PID: 0 once PID has exited, 1 when it still runs after SECONDS
wait_gone() {
  local end=$((SECONDS + $1))
  while kill -0 "$2" 2>/dev/null; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.1
  done
  return 0
}
# every process a test starts in the background is listed here and killed on exit
BG_PIDS=()
nats_cleanup() {
  for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  nats_stop_server
  rm -rf "$T"
}
trap nats_cleanup EXIT

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 when SECONDS passed first
# (a bound for a broken run only: a loaded machine just takes longer)
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.1
  done
}
# consumer_idle NAME: consumer NAME has nothing left to deliver and nothing unacknowledged
consumer_idle() {
  "$ACCORD" nats status --nats "$NATS_URL" 2>/dev/null | grep -q "^consumer	$1	pending 0	ack-pending 0"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
NATS_PORT=$(free_port)
NATS_URL="nats://127.0.0.1:$NATS_PORT"
# nats_ready PID LOG: waits (at most 30 s) until the server PID, logging to LOG, says it is
# ready on 127.0.0.1:$NATS_PORT.  Not a connect to the port: after a restart another process may
# hold the port the server failed to bind, and a connect would reach that one.  1, with the
# reason, when the server exited or was not ready in time.
nats_ready() {
  local pid=$1 log=$2 before end=$((SECONDS + 30))
  before=${NATS_READY_SEEN:-0}
  until [ "$(listening "$log")" -gt "$before" ] && grep -q "Server is ready" "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "nats-server exited at start (port $NATS_PORT taken by another process?):" >&2
      tail -n 3 "$log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      echo "nats-server (pid $pid) not ready on port $NATS_PORT within 30 s" >&2
      return 1
    fi
    sleep 0.05
  done
  NATS_READY_SEEN=$(listening "$log")
}
listening() { # listening LOG: how often LOG says the server listens on $NATS_PORT
  local n
  n=$(grep -c "Listening for client connections on 127.0.0.1:$NATS_PORT" "$1" 2>/dev/null)
  echo "${n:-0}"
}
# nats_start: (re)starts the server on the same port and store; waits until it is ready.  Its
# output goes to its log only, so no server outlives the test holding the test's output pipe.
nats_start() {
  nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$T/js" -l "$T/nats-server.log" \
    </dev/null >/dev/null 2>&1 &
  NATS_PID=$!
  nats_ready "$NATS_PID" "$T/nats-server.log" || { kill -9 "$NATS_PID" 2>/dev/null; NATS_PID=; return 1; }
}
# bounded SECONDS WHAT CMD...: runs CMD, killed after SECONDS (SIGTERM, SIGKILL 5 s later);
# when it was, says so naming WHAT and counts a failure.  CMD's exit code (124 when stopped).
bounded() {
  local secs=$1 what=$2 rc
  shift 2
  timeout -k 5 "$secs" "$@"
  rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "FAIL: $what did not finish within $secs s" >&2
    failed=$((failed + 1))
  fi
  return "$rc"
}
# wait_pids SECONDS WHAT PID...: waits for the PIDs to exit; past SECONDS, kills them (SIGKILL)
# and fails naming WHAT (a process that ignores SIGTERM must not hang the test).  The exit code
# of the last PID.
wait_pids() {
  local secs=$1 what=$2 p rc=0 end
  shift 2
  end=$((SECONDS + secs))
  for p in "$@"; do
    if ! wait_gone $((end - SECONDS > 0 ? end - SECONDS : 0)) "$p"; then
      echo "FAIL: $what did not exit within $secs s (pid $*: killed)" >&2
      failed=$((failed + 1))
      kill -9 "$@" 2>/dev/null
      break
    fi
  done
  for p in "$@"; do
    wait "$p" 2>/dev/null
    rc=$?
  done
  return "$rc"
}

# gen_telemetry FILE LINES SEED [T0]: Zeek conn JSON lines with unique uids, one a second from
# T0 (1700000000); every 97th line goes to
# 198.51.100.7 (indicator 1), every 89th asks for x.evil.example (indicator 3), every 101st
# comes from 203.0.113.N (indicator 2)
gen_telemetry() {
  python3 - "$1" "$2" "$3" "${4:-1700000000}" <<'PY'
import sys, random
path, n, seed, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = random.Random(seed)
with open(path, "w") as f:
    for i in range(n):
        dst = "198.51.100.7" if i % 97 == 5 else "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
        src = "203.0.113.%d" % (i % 250) if i % 101 == 7 else "10.0.%d.%d" % (r.randrange(256), r.randrange(1, 255))
        extra = ',"query":"h%d.evil.example"' % i if i % 89 == 3 else ',"query":"www%d.example.com"' % r.randrange(10**6)
        f.write('{"ts":%d.%06d,"uid":"C%08d","id.orig_h":"%s","id.orig_p":%d,"id.resp_h":"%s","id.resp_p":%d,"proto":"tcp"%s,"pad":"%s"}\n'
                % (t0 + i, r.randrange(10**6), i, src, r.randrange(1024, 65535), dst, r.choice([53, 80, 443]), extra, "x" * r.randrange(20, 120)))
PY
}

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
gen_indicators() { # gen_indicators FILE [more]: indicators 1-3 (4 with "more")
  {
    ind 1 "c2 address" "[ipv4-addr:value = '198.51.100.7']"
    ind 2 "bad net" "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"
    ind 3 "evil domains" "[domain-name:value LIKE '%.evil.example']"
    if [ -n "${2:-}" ]; then ind 4 "dns servers" "[network-traffic:dst_port = 53]"; fi
  } >"$1"
}

# pairs FILE: the sorted (event, indicator id) pairs of accord match / collector output lines
pairs() {
  python3 -c '
import sys, json
out = set()
for line in open(sys.argv[1]):
    o = json.loads(line)
    for i in o["indicators"]:
        out.add(json.dumps([o["event"], i["id"]]))
print("\n".join(sorted(out)))' "$1"
}
# db_pairs DB: the same pairs from the collector database
db_pairs() {
  python3 -c '
import sys, json, sqlite3
db = sqlite3.connect(sys.argv[1])
print("\n".join(sorted(set(json.dumps([e, i]) for e, i in db.execute("SELECT event, indicator FROM matches")))))' "$1"
}

# collect_compare DB ERR NMATCH: accord nats collect --drain into DB (stderr to ERR), then checks
# that it combined observations of multi-observation indicators and that its (event, indicator)
# pairs are those of $T/want, each match once (NMATCH rows)
collect_compare() {
  bounded 120 "collect --drain" "$ACCORD" nats collect --nats "$NATS_URL" --db "$1" --drain 2>"$2"
  check "collect: finished" test $? = 0
  check "collect: combinations of multi-observation indicators" grep -q "matches ([1-9][0-9]* of multi-observation indicators)" "$2"
  db_pairs "$1" >"$T/got"
  check "the same pairs as accord match" cmp -s "$T/want" "$T/got"
  if ! cmp -s "$T/want" "$T/got"; then diff "$T/want" "$T/got" | head -n 10 >&2; fi
  check "each match once (rows = matches of accord match)" test "$(sqlite3 "$1" 'SELECT count(*) FROM matches')" = "$3"
}

# nkey_gen SEEDFILE: writes a new user nkey seed to SEEDFILE and prints its public key (Ed25519
# from libsodium, the nkey text form from Python's base32 and CRC-16/XMODEM)
nkey_gen() {
  python3 - "$1" <<'PY'
import sys, os, base64, binascii, ctypes, ctypes.util
def enc(b):
    return base64.b32encode(b + binascii.crc_hqx(b, 0).to_bytes(2, "little")).decode().rstrip("=")
lib = ctypes.util.find_library("sodium")
if not lib:
    sys.exit("libsodium not found")
so = ctypes.CDLL(lib)
seed = os.urandom(32)
pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
if so.crypto_sign_seed_keypair(pk, sk, seed) != 0:
    sys.exit("crypto_sign_seed_keypair failed")
with open(sys.argv[1], "w") as f:
    f.write(enc(bytes([144 | (160 >> 5), (160 & 31) << 3]) + seed) + "\n")
os.chmod(sys.argv[1], 0o600)
print(enc(bytes([160]) + pk.raw))
PY
}

# creds_mint DIR: decentralised auth without nsc: an operator, a system account and account
# "telco" with JetStream (their JWTs signed in Python with libsodium's Ed25519, nkeys as in
# nkey_gen), and user credentials files of telco: DIR/admin.creds (no limits),
# DIR/worker-a.creds (tenant a's worker subjects alone, as in test_nats_tenants.sh), and
# DIR/stranger.creds (a user of an account the server does not know).  Writes
# DIR/operator.jwt and DIR/accounts.conf (the memory resolver, preloaded) for the server.
creds_mint() {
  python3 - "$1" <<'PY'
import sys, os, json, time, base64, binascii, hashlib, ctypes, ctypes.util
d = sys.argv[1]
lib = ctypes.util.find_library("sodium")
if not lib:
    sys.exit("libsodium not found")
so = ctypes.CDLL(lib)
def b32(b):
    return base64.b32encode(b + binascii.crc_hqx(b, 0).to_bytes(2, "little")).decode().rstrip("=")
def key(prefix):  # prefix byte: operator 14 << 3, account 0, user 20 << 3
    seed = os.urandom(32)
    pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    if so.crypto_sign_seed_keypair(pk, sk, seed) != 0:
        sys.exit("crypto_sign_seed_keypair failed")
    return {"pub": b32(bytes([prefix]) + pk.raw), "sk": sk.raw,
            "seed": b32(bytes([144 | (prefix >> 5), (prefix & 31) << 3]) + seed)}
def b64(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")
def jwt(issuer, sub, name, nats):  # NATS JWT v2: Ed25519 over "header.claims"
    claims = {"jti": "", "iat": int(time.time()), "iss": issuer["pub"], "name": name, "sub": sub, "nats": nats}
    claims["jti"] = base64.b32encode(hashlib.sha256(json.dumps(claims).encode()).digest()).decode().rstrip("=")
    msg = (b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    sig = ctypes.create_string_buffer(64)
    so.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), issuer["sk"])
    return msg.decode() + "." + b64(sig.raw)
free = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True, "conn": -1, "leaf": -1}
js = dict(free, mem_storage=-1, disk_storage=-1, streams=-1, consumer=-1)
op, sysacc, acc, other = key(112), key(0), key(0), key(0)
with open(os.path.join(d, "operator.jwt"), "w") as f:
    f.write(jwt(op, op["pub"], "accord-test", {"type": "operator", "version": 2, "system_account": sysacc["pub"]}))
with open(os.path.join(d, "accounts.conf"), "w") as f:
    f.write("system_account: %s\nresolver: MEMORY\nresolver_preload: {\n" % sysacc["pub"])
    f.write("  %s: %s\n" % (sysacc["pub"], jwt(op, sysacc["pub"], "SYS", {"type": "account", "version": 2, "limits": free})))
    f.write("  %s: %s\n}\n" % (acc["pub"], jwt(op, acc["pub"], "telco", {"type": "account", "version": 2, "limits": js})))
def creds(name, account, perms):
    u = key(160)
    nats = dict({"type": "user", "version": 2, "subs": -1, "data": -1, "payload": -1}, **perms)
    path = os.path.join(d, name + ".creds")
    with open(path, "w") as f:
        f.write("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
                "************************* IMPORTANT *************************\n"
                "NKEY Seed printed below can be used to sign and prove identity.\n\n"
                "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n"
                % (jwt(account, u["pub"], name, nats), u["seed"]))
    os.chmod(path, 0o600)
creds("admin", acc, {"pub": {}, "sub": {}})
creds("worker-a", acc, {"pub": {"allow": [
    "$JS.API.CONSUMER.INFO.ACCORD_TEL_a.workers", "$JS.API.CONSUMER.MSG.NEXT.ACCORD_TEL_a.workers",
    "$JS.ACK.ACCORD_TEL_a.>", "accord.res.a", "accord.dlq.a",
    "$JS.API.STREAM.INFO.KV_accord_snapshot", "$JS.API.DIRECT.GET.KV_accord_snapshot.>",
    "$JS.API.STREAM.MSG.GET.KV_accord_snapshot", "$JS.API.DIRECT.GET.ACCORD_SNAP.>"]},
    "sub": {"allow": ["_INBOX.>"]}})
creds("stranger", other, {"pub": {}, "sub": {}})
PY
}

