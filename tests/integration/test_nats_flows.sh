#!/usr/bin/env bash
# Flow records and dnstap messages through NATS JetStream: accord match --listen-flows and
# --listen-dnstap with --nats publish what they receive as record chunks instead of matching it,
# workers match them, and the (event, indicator) pairs are those of the same collectors
# matching locally.  softflowd exports IPFIX from a generated capture; a dnstap capture is
# streamed into the socket.  A record chunk that cannot be read is refused by the worker.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"
need_tool softflowd softflowd "the flow exporter"
DNSTAP=${ACCORD_SHARED_DATA:-$ROOT/../shared/data}/telemetry-dnstap-dnscollector/dnstap.fstrm

{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "c2 https" "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]"
  ind 3 "bad net" "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"
  ind 4 "google" "[domain-name:value LIKE '%.google.com']"
} >"$T/ind.jsonl"

# a pcap of TCP SYNs (Ethernet/IPv4), for softflowd to make flows of
python3 - "$T/tcp.pcap" <<'PY'
import struct, sys
def pkt(ts, src, sport, dst, dport):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 8192, 0, 0)
    frame = b"\0\0\0\0\0\2\0\0\0\0\0\1\x08\x00" + ip + tcp
    return struct.pack("<IIII", ts, 0, len(frame), len(frame)) + frame
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(240):
        dst = [198, 51, 100, 7] if i % 7 == 0 else [192, 0, 2, 1 + i % 200]
        src = [203, 0, 113, i % 250] if i % 11 == 0 else [10, 0, i // 250, 1 + i % 250]
        f.write(pkt(1700000000 + i, src, 40000 + i, dst, [443, 80, 22][i % 3]))
PY
udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dnstap_send() { # dnstap_send SOCKET FILE: a unidirectional Frame Streams connection
  python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], "rb").read())
s.close()
PY
}
# collect NAME [OPTIONS]: a collector on a fresh UDP port and socket fed by softflowd (IPFIX)
# and three dnstap connections; its output in $T/NAME.out, .err
collect() {
  local name=$1 p
  shift
  p=$(udp_port)
  "$ACCORD" match --indicators "$T/ind.jsonl" --listen-flows 127.0.0.1:"$p" \
    --listen-dnstap "$T/$name.sock" --listen-seconds 5 "$@" >"$T/$name.out" 2>"$T/$name.err" &
  local pid=$!
  BG_PIDS+=("$pid")
  wait_until 30 bash -c "[ -S '$T/$name.sock' ] && grep -qs 'collecting flows' '$T/$name.err'"
  softflowd -r "$T/tcp.pcap" -n 127.0.0.1:"$p" -v 10 -d >/dev/null 2>&1
  if [ -f "$DNSTAP" ]; then
    for _ in 1 2 3; do dnstap_send "$T/$name.sock" "$DNSTAP"; done
  fi
  wait_pids 60 "accord match --listen-seconds 5 ($name)" "$pid"
}

mkdir -p "$T/js"
nats_start || exit 1
U=$NATS_URL
"$ACCORD" nats setup --nats "$U" --ack-wait 5 --max-deliver 2 >/dev/null || exit 1
"$ACCORD" nats snapshot --nats "$U" --indicators "$T/ind.jsonl" >/dev/null || exit 1

collect local
check "local: flows matched" grep -q '"value":"198.51.100.7"' "$T/local.out"
collect viaNats --nats "$U"
check "nats: nothing matched in the collector" test ! -s "$T/viaNats.out"
check "nats: the indicators not compiled in the collector" grep -q "^accord match: 0 indicators" "$T/viaNats.err"
check "local: the indicators compiled" grep -q "^accord match: 4 indicators" "$T/local.err"
check "nats: flow records published" grep -q "^accord match: udp:127.0.0.1:[0-9]*: [1-9][0-9]* records in [1-9][0-9]* chunks" "$T/viaNats.err"
expect_rc 0 "worker" -- bounded 120 "worker --drain" "$ACCORD" worker --nats "$U" --drain
expect_rc 0 "collect" -- bounded 120 "collect --drain" "$ACCORD" nats collect --nats "$U" --db "$T/flows.db" --drain
pairs "$T/local.out" >"$T/want"
db_pairs "$T/flows.db" >"$T/got"
check "flows and dnstap: the same pairs as matching in the collector" cmp -s "$T/want" "$T/got"
check "flows: hits to compare" test "$(grep -c '198.51.100.7' "$T/want")" -gt 5
nlocal=$(python3 -c 'import sys,json; print(sum(len(json.loads(l)["indicators"]) for l in open(sys.argv[1])))' "$T/local.out")
check "every match once" test "$(sqlite3 "$T/flows.db" 'SELECT count(*) FROM matches')" = "$nlocal"
check "records of flows counted" test "$(sqlite3 "$T/flows.db" "SELECT sum(lines) FROM chunks WHERE input LIKE 'udp:%'")" -ge 240
if [ -f "$DNSTAP" ]; then
  check "dnstap: matched through the workers" grep -q 'google' "$T/got"
  check "dnstap: 6 messages" test "$(sqlite3 "$T/flows.db" "SELECT sum(lines) FROM chunks WHERE input LIKE 'dnstap:%'")" = 6
fi

# a record chunk whose framing is broken: refused, then dead-lettered (max deliver 2)
printf '\0\0\1\0short' >"$T/broken"
"$ACCORD" nats send --nats "$U" accord.tel.default.broken "$T/broken" --msg-id broken:0 \
  --header Accord-Line:1 --header Accord-Input:x --header Accord-Header-Len:0 \
  --header Accord-Kind:ipfix >/dev/null
bounded 120 "worker --drain (broken chunk)" "$ACCORD" worker --nats "$U" --drain 2>"$T/wb.err"
check "unknown record kind: refused" grep -q "Accord-Kind is neither flow nor dnstap; refused" "$T/wb.err"
check "unknown record kind: dead-lettered" grep -q "to accord.dlq.default after 2 deliveries" "$T/wb.err"
finish
