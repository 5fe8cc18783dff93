#!/usr/bin/env bash
# accord match over flows and dnstap, end to end:
#   - files: pmacct's pcap, ipfixcol2's IPFIX file and go-dnscollector's dnstap capture (when
#     ../shared/data is there), matched and decoded;
#   - differential: --decode against ipfixDump (libfixbuf-tools) record by record, and against
#     dnstap-ldns line by line;
#   - real producers on 127.0.0.1: softflowd exports NetFlow v5, v9 and IPFIX from a pcap this
#     script writes to the --listen-flows collector; unbound with dnstap answers a local zone to
#     dig and streams into --listen-dnstap;
#   - bad input: cut and garbage files, garbage datagrams on the socket: reported, no crash.
# A missing tool skips its part locally and fails when CI is set.
. "$(dirname "$0")/lib.sh" "$@"

DATA=${ACCORD_SHARED_DATA:-$ROOT/../shared/data}
need() { # need TOOL: 0 when present; else skip (1) or, under CI, fail
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ -n "${CI:-}" ]; then bad "$1 is not installed (debian-packages.txt)"; else
    echo "skip: $1 not installed" >&2; fi
  return 1
}
port() { echo $((20000 + RANDOM % 20000)); }

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2000-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "evil zone" "[domain-name:value = 'evil.test' OR domain-name:value LIKE '%.evil.test']"
  ind 3 "pmacct src" "[ipv4-addr:value = '10.231.65.56']"
  ind 4 "google" "[domain-name:value LIKE '%.google.com']"
  ind 5 "answer net" "[ipv4-addr:value ISSUBSET '216.58.213.0/24']"
  ind 6 "c2 port" "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]"
} >"$T/ind.jsonl"

# ---------------------------------------------------------------------------------------------
# A pcap of TCP packets, written with printf (the generator of test captures for softflowd)
le32() { printf '%08x' "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/'; }
ip2hex() { local IFS=.; set -- $1; printf '%02x%02x%02x%02x' "$1" "$2" "$3" "$4"; }
hexbytes() { printf "$(printf '%s' "$1" | sed 's/\(..\)/\\x\1/g')"; }
tcp_packet() { # TS SRC SPORT DST DPORT: an Ethernet/IPv4/TCP SYN frame
  hexbytes "$(le32 "$1")00000000$(le32 54)$(le32 54)"
  hexbytes "0000000000020000000000010800450000280001000040060000$(ip2hex "$2")$(ip2hex "$4")$(printf '%04x%04x' "$3" "$5")00000001000000005002200000000000"
}
{
  hexbytes d4c3b2a102000400000000000000000000ff000001000000
  for i in 0 1 2; do
    tcp_packet $((1700000000 + i)) 10.0.0.1 40000 198.51.100.7 443
    tcp_packet $((1700000000 + i)) 10.0.0.2 40001 192.0.2.10 80
    tcp_packet $((1700000000 + i)) 10.0.0.3 40002 198.51.100.7 22
  done
} >"$T/tcp.pcap"
check "generated pcap has 9 packets" test "$(stat -c %s "$T/tcp.pcap")" = $((24 + 9 * 70))

# ---------------------------------------------------------------------------------------------
# Files from ../shared/data
if [ -d "$DATA/telemetry-flows-pmacct" ]; then
  P=$DATA/telemetry-flows-pmacct/100-IPFIXv10-CISCO/traffic-00.pcap
  F=$DATA/telemetry-dnstap-dnscollector/dnstap.fstrm
  I=$DATA/telemetry-ipfix-ipfixcol2/example_flows.ipfix
  expect_rc 0 "match pcap, dnstap and IPFIX files" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$P" "$F" "$I"
  check "pmacct flow matched on its source" has '"field":"src","value":"10.231.65.56"' "$T/out"
  check "flow event names exporter and counts" has 'exporter\\":\\"138.187.0.13\\".*bytes\\":220,\\"packets\\":2' "$T/out"
  check "dnstap query name matched by suffix" has '"field":"dns.qname","value":"www.google.com"' "$T/out"
  check "dnstap answer matched by CIDR" has '"field":"dns.answer","value":"216.58.213.68"' "$T/out"
  check "dnstap event reports the client" has 'client\\":\\"172.19.0.1\\"' "$T/out"
  check "three matches" test "$(wc -l <"$T/out")" = 3
  check "IPFIX file record count" has "3979 flow records in 68 messages" "$T/err"
  check "totals count the records" has "3993 events" "$T/err"
  check "match output keeps the JSON path's keys" has '^{"time":[0-9.]*,"input":"[^"]*","field":"src","value":"10.231.65.56","indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000003","name":"pmacct src"}\],"event":"{' "$T/out"

  # differential: ipfixDump, record by record on the fields accord uses (IPv6 written out in
  # full on both sides: ipfixDump keeps leading zeros)
  full6() {
    awk 'function pad(g) { while (length(g) < 4) g = "0" g; return g }
      function full(a,   h, l, r, nl, nr, L, R, o, i) {
        if (index(a, ":") == 0) return a
        h = index(a, "::")
        if (h) { l = substr(a, 1, h - 1); r = substr(a, h + 2) } else { l = a; r = "" }
        nl = l == "" ? 0 : split(l, L, ":"); nr = r == "" ? 0 : split(r, R, ":")
        o = ""
        for (i = 1; i <= nl; i++) o = o (o == "" ? "" : ":") pad(L[i])
        for (i = 0; i < 8 - nl - nr; i++) o = o (o == "" ? "" : ":") "0000"
        for (i = 1; i <= nr; i++) o = o (o == "" ? "" : ":") pad(R[i])
        return o
      }
      { $1 = full($1); $2 = full($2); print }'
  }
  if need ipfixDump; then
    ipfixDump -d --in "$I" 2>/dev/null | awk '
      function flush() { if (n) print src, dst, sp, dp, pr, by, pk; n = 0 }
      /^--- data record/ { flush(); n = 1; src = dst = "-"; sp = dp = pr = by = pk = 0; next }
      /\(8\) |\(27\) / { src = $NF } /\(12\) |\(28\) / { dst = $NF }
      /\(7\) / { sp = $NF } /\(11\) / { dp = $NF } /\(4\) / { pr = $NF }
      /\(1\) / { by = $NF } /\(2\) / { pk = $NF }
      END { flush() }' | full6 | sort >"$T/ipfixdump.txt"
    "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$I" 2>/dev/null |
      sed -E -e 's/"proto":/"sport":0,"dport":0,"proto":/; s/("sport":[0-9]*,"dport":[0-9]*),"sport":0,"dport":0/\1/' \
        -e 's/.*"src":"([^"]*)","dst":"([^"]*)","sport":([0-9]*),"dport":([0-9]*),"proto":([0-9]*),"bytes":([0-9]*),"packets":([0-9]*).*/\1 \2 \3 \4 \5 \6 \7/' |
      full6 | sort >"$T/accord-ipfix.txt"
    check "ipfixDump and accord agree on 3979 records" test "$(wc -l <"$T/ipfixdump.txt")" = 3979
    check "ipfixDump and accord decode the same records" cmp -s "$T/ipfixdump.txt" "$T/accord-ipfix.txt"
  fi
  # differential: tshark's NetFlow/IPFIX dissector on pmacct's captures (v9 and IPFIX), IPv4
  # records (a packet's fields come as lists, one entry per record)
  if need tshark; then
    for c in 101-NFv9-CISCO-cust_primitives:9991 100-IPFIXv10-CISCO:9991; do
      cap=$DATA/telemetry-flows-pmacct/${c%%:*}/traffic-00.pcap
      tshark -r "$cap" -d udp.port==${c##*:},cflow -T fields -E separator=' ' -e cflow.srcaddr \
        -e cflow.dstaddr -e cflow.srcport -e cflow.dstport -e cflow.protocol -e cflow.octets \
        -e cflow.packets 2>/dev/null |
        awk 'NF == 7 { n = split($1, a, ","); split($2, b, ","); split($3, c, ","); split($4, d, ",")
                        split($5, e, ","); split($6, f, ","); split($7, g, ",")
                        for (i = 1; i <= n; i++) print a[i], b[i], c[i], d[i], e[i], f[i], g[i] }' |
        sort >"$T/tshark.txt"
      "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$cap" 2>/dev/null |
        sed -E 's/.*"src":"([^"]*)","dst":"([^"]*)","sport":([0-9]*),"dport":([0-9]*),"proto":([0-9]*),"bytes":([0-9]*),"packets":([0-9]*).*/\1 \2 \3 \4 \5 \6 \7/' |
        grep -v '^[^ ]*:' | sort >"$T/accord-tshark.txt" # IPv4 (tshark lists IPv6 apart)
      check "tshark decodes ${c%%:*}" test -s "$T/tshark.txt"
      check "tshark and accord decode ${c%%:*} alike" cmp -s "$T/tshark.txt" "$T/accord-tshark.txt"
    done
  fi
  # the same capture as pcapng (editcap, from tshark's package) decodes the same
  if need editcap; then
    cap=$DATA/telemetry-flows-pmacct/104-IPFIXv10-IPv6-CISCO-sampling_option/traffic-00.pcap
    editcap -F pcapng "$cap" "$T/104.pcapng"
    "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$cap" >"$T/104-pcap.txt" 2>/dev/null
    "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$T/104.pcapng" >"$T/104-pcapng.txt" 2>/dev/null
    check "pcapng decoded" test "$(wc -l <"$T/104-pcapng.txt")" = 3
    check "pcap and pcapng decode alike" cmp -s "$T/104-pcap.txt" "$T/104-pcapng.txt"
  fi
  # sightings of flow records carry their traffic: pmacct's capture 104 has two records to
  # ff02::12 (5760 + 4800 bytes, 60 + 60 packets) from an exporter sampling 1 packet in 256
  cap=$DATA/telemetry-flows-pmacct/104-IPFIXv10-IPv6-CISCO-sampling_option/traffic-00.pcap
  ind 7 "vrrp group" "[ipv6-addr:value = 'ff02::12']" >"$T/ind104.jsonl"
  expect_rc 0 "import the ff02::12 indicator" -- "$ACCORD" import "$T/ind104.jsonl"
  expect_rc 0 "match capture 104 --sightings" -- "$ACCORD" match --sightings "$cap"
  check "one sighting stored" has "1 sightings to the default collection" "$T/err"
  expect_rc 0 "export the sightings" -- "$ACCORD" export --type sighting
  check "sighting counts the two records, sums and scales their traffic" has \
    '"count":2,.*"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000007".*"x_accord_bytes":10560,"x_accord_packets":120,"x_accord_sampling_interval":256,"x_accord_estimated_bytes":2703360,"x_accord_estimated_packets":30720}' "$T/out"

  # differential: dnstap-ldns's one-line form
  if need dnstap-ldns; then
    TZ=UTC dnstap-ldns -r "$F" >"$T/ldns.txt"
    "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$F" 2>/dev/null |
      sed -E 's/.*"client":"([^"]*)".*"protocol":"([^"]*)","qname":"([^"]*)","qtype":"([^"]*)","code":"([^"]*)","size":([0-9]*),"time":"([0-9-]*)T([0-9:.]*)Z".*/\7 \8 \5 \1 \2 \6b "\3." IN \4/' >"$T/accord-ldns.txt"
    check "dnstap-ldns and accord print the same messages" cmp -s "$T/ldns.txt" "$T/accord-ldns.txt"
  fi

  # gzip-compressed captures, IPFIX and dnstap files decode as the plain ones; one cut short is
  # matched as far as it goes and reported
  for f in "$P" "$I" "$F"; do
    b=$(basename "$f")
    gzip -c "$f" >"$T/$b.gz"
    "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$f" >"$T/plain.txt" 2>/dev/null
    "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$T/$b.gz" >"$T/gz.txt" 2>/dev/null
    check "$b.gz decodes as $b" cmp -s "$T/plain.txt" "$T/gz.txt"
    check "$b decodes to records" test -s "$T/gz.txt"
  done
  expect_rc 0 "match gzip-compressed inputs" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/traffic-00.pcap.gz" "$T/dnstap.fstrm.gz"
  check "compressed pcap matched" has '"field":"src","value":"10.231.65.56"' "$T/out"
  check "compressed dnstap matched" has '"field":"dns.qname","value":"www.google.com"' "$T/out"
  sz=$(stat -c %s "$T/example_flows.ipfix.gz")
  head -c $((sz / 2)) "$T/example_flows.ipfix.gz" >"$T/cut.ipfix.gz"
  expect_rc 1 "cut gzip IPFIX file" -- "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$T/cut.ipfix.gz"
  check "cut gzip reported" has "cut.ipfix.gz: gzip: .* decompressed bytes; what came before is matched" "$T/err"
  check "records before the cut decoded" test "$(wc -l <"$T/out")" -gt 100

  # bad input: cut files, a pcap header on garbage
  head -c 1000 "$I" >"$T/cut.ipfix"
  expect_rc 1 "cut IPFIX file" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/cut.ipfix"
  check "cut IPFIX file reported with its offset" has "cut.ipfix: IPFIX message cut short at byte" "$T/err"
  head -c 150 "$F" >"$T/cut.fstrm"
  expect_rc 1 "cut dnstap file" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/cut.fstrm"
  check "cut dnstap file reported" has "cut.fstrm: Frame Streams file cut short at byte" "$T/err"
else
  echo "skip: ../shared/data not found (file tests)" >&2
fi
# IP fragments: the flow_pcap fuzz seed holds an IPFIX datagram of 70 records cut into IPv4
# fragments (last first) and IPv6 fragments, and a fragment that never completes; tshark's
# reassembly and NetFlow dissector see the same 140 records
FR=$ROOT/fuzz/corpus/flow_pcap/fragments.pcap
expect_rc 0 "fragmented capture" -- "$ACCORD" match --indicators "$T/ind.jsonl" --decode "$FR"
check "fragments reassembled and counted" has "7 IP fragments: 2 datagrams reassembled, 1 fragments of incomplete ones skipped" "$T/err"
check "140 records from fragments" test "$(wc -l <"$T/out")" = 140
if need tshark; then
  tshark -r "$FR" -d udp.port==4739,cflow -T fields -E separator=' ' -e cflow.srcaddr \
    -e cflow.dstaddr -e cflow.srcport -e cflow.dstport -e cflow.protocol -e cflow.octets \
    -e cflow.packets 2>/dev/null |
    awk 'NF == 7 { n = split($1, a, ","); split($2, b, ","); split($3, c, ","); split($4, d, ",")
                    split($5, e, ","); split($6, f, ","); split($7, g, ",")
                    for (i = 1; i <= n; i++) print a[i], b[i], c[i], d[i], e[i], f[i], g[i] }' |
    sort >"$T/tshark-frag.txt"
  sed -E 's/.*"src":"([^"]*)","dst":"([^"]*)","sport":([0-9]*),"dport":([0-9]*),"proto":([0-9]*),"bytes":([0-9]*),"packets":([0-9]*).*/\1 \2 \3 \4 \5 \6 \7/' \
    "$T/out" | sort >"$T/accord-frag.txt"
  check "tshark reassembles 140 records" test "$(wc -l <"$T/tshark-frag.txt")" = 140
  check "tshark and accord reassemble alike" cmp -s "$T/tshark-frag.txt" "$T/accord-frag.txt"
fi

{ hexbytes d4c3b2a102000400000000000000000000ff000001000000; head -c 3000 /dev/urandom; } >"$T/junk.pcap"
expect_rc 1 "garbage after a pcap header" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/junk.pcap"
check "garbage pcap reported" has "junk.pcap: " "$T/err"

# ---------------------------------------------------------------------------------------------
# softflowd -> UDP collector, NetFlow v5, v9 and IPFIX
if need softflowd; then
  P=$(port)
  "$ACCORD" match --indicators "$T/ind.jsonl" --listen-flows 127.0.0.1:$P --listen-seconds 6 \
    --threads 2 >"$T/sf.out" 2>"$T/sf.err" &
  APID=$!
  for i in $(seq 50); do has "collecting flows" "$T/sf.err" 2>/dev/null && break; sleep 0.1; done
  for v in 5 9 10; do softflowd -r "$T/tcp.pcap" -n 127.0.0.1:$P -v $v -d >/dev/null 2>&1; done
  # garbage on the socket: counted, not fatal
  printf 'garbage, not a flow' >/dev/udp/127.0.0.1/$P
  wait $APID
  check "collector exits 3 (one datagram was not a flow message)" test $? = 3
  for v in 5 9 10; do
    check "softflowd v$v flow to the c2 address" has "\"field\":\"dst\",\"value\":\"198.51.100.7\".*version\\\\\":$v," "$T/sf.out"
  done
  check "address and port indicator matched" has '"indicators":\[[^]]*"name":"c2 port"' "$T/sf.out"
  check "flow to port 22 matches the address only" has 'dport\\":22' "$T/sf.out"
  check "no match for the clean host" test "$(grep -c '192.0.2.10' "$T/sf.out")" = 0
  check "9 flow records decoded" has ": 9 flow records" "$T/sf.err"
  check "garbage datagram counted" has "1 not flow messages" "$T/sf.err"
  check "kernel drops reported" has "0 dropped by the kernel" "$T/sf.err"
  # an IPv6 exporter
  if [ -e /proc/net/if_inet6 ]; then
    P=$(port)
    "$ACCORD" match --indicators "$T/ind.jsonl" --listen-flows "[::1]:$P" --listen-seconds 4 \
      >"$T/sf6.out" 2>"$T/sf6.err" &
    APID=$!
    for i in $(seq 50); do has "collecting flows" "$T/sf6.err" 2>/dev/null && break; sleep 0.1; done
    softflowd -r "$T/tcp.pcap" -n "[::1]:$P" -v 10 -d >/dev/null 2>&1
    wait $APID
    check "IPFIX from an IPv6 exporter" has 'exporter\\":\\"::1\\".*198.51.100.7' "$T/sf6.out"
  fi
fi

# ---------------------------------------------------------------------------------------------
# unbound with dnstap -> dnstap socket
if need unbound && need dig; then
  if ! unbound -V 2>/dev/null | grep -q -- --enable-dnstap; then
    bad "unbound was built without dnstap"
  else
    P=$(port)
    cat >"$T/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $P
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$T"
  pidfile: "$T/unbound.pid"
  use-syslog: no
  logfile: "$T/unbound.log"
  do-ip6: no
  module-config: "iterator"
  local-zone: "evil.test." static
  local-data: "www.evil.test. A 192.0.2.66"
  local-data: "mail.evil.test. A 192.0.2.67"
  local-zone: "good.test." static
  local-data: "www.good.test. A 192.0.2.1"
  local-data: "cdn.good.test. CNAME edge.evil.test."
remote-control:
  control-enable: no
dnstap:
  dnstap-enable: yes
  dnstap-bidirectional: yes
  dnstap-socket-path: "$T/dnstap.sock"
  dnstap-send-identity: yes
  dnstap-identity: "accord-test"
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
EOF
    "$ACCORD" match --indicators "$T/ind.jsonl" --listen-dnstap "$T/dnstap.sock" \
      --listen-seconds 8 >"$T/dt.out" 2>"$T/dt.err" &
    APID=$!
    for i in $(seq 50); do [ -S "$T/dnstap.sock" ] && break; sleep 0.1; done
    unbound -c "$T/unbound.conf" &
    UPID=$!
    # unbound connects to the socket after it starts answering: warm up until it has
    sleep 2
    for i in 1 2 3; do dig @127.0.0.1 -p $P +short +tries=1 +time=1 warm$i.good.test >/dev/null; done
    sleep 1
    for n in www mail a1 a2; do dig @127.0.0.1 -p $P +short +tries=1 +time=1 $n.evil.test >/dev/null; done
    dig @127.0.0.1 -p $P +short +tries=1 +time=1 www.good.test >/dev/null
    dig @127.0.0.1 -p $P +short +tries=1 +time=1 cdn.good.test >/dev/null
    sleep 1
    kill $UPID
    wait $UPID
    wait $APID
    check "dnstap listener exits 0" test $? = 0
    for n in www mail a1 a2; do
      check "query for $n.evil.test reported" has "\"field\":\"dns.qname\",\"value\":\"$n.evil.test\"" "$T/dt.out"
    done
    check "each query reported once" test "$(grep -c '"dns.qname"' "$T/dt.out")" = 4
    check "CNAME target matched" has '"field":"dns.cname","value":"edge.evil.test"' "$T/dt.out"
    check "client address reported" has 'client\\":\\"127.0.0.1\\"' "$T/dt.out"
    check "identity reported" has 'identity\\":\\"accord-test\\"' "$T/dt.out"
    check "dnstap connection counted" has "dnstap messages in 1 connections, 0 malformed" "$T/dt.err"
    check "clean name not reported" test "$(grep -c '"value":"www.good.test"' "$T/dt.out")" = 0
  fi
fi

# ---------------------------------------------------------------------------------------------
# Indicators that change in the store while the collectors run (softflowd over UDP, unbound over
# the dnstap socket): one added is matched and sighted, one that expires stops matching.  Canary
# indicators present from the start show when each round of traffic has been matched.
if need softflowd && need unbound && need dig; then
  export ACCORD_DATA="$T/live"
  P=$(port)
  DP=$(port)
  {
    ind 11 "canary flow" "[ipv4-addr:value = '192.0.2.10']"
    ind 12 "canary name" "[domain-name:value = 'www.good.test']"
  } >"$T/live1.jsonl"
  expect_rc 0 "import the canaries" -- "$ACCORD" import "$T/live1.jsonl"
  sed -e "s/port: [0-9]*/port: $DP/" -e "s#/dnstap\.sock#/live.sock#" -e "s#/unbound\.pid#/live.pid#" \
    -e "s#/unbound\.log#/live.log#" "$T/unbound.conf" >"$T/live.conf" 2>/dev/null
  "$ACCORD" match --sightings --sightings-interval 2 --listen-flows 127.0.0.1:$P \
    --listen-dnstap "$T/live.sock" --listen-seconds 120 --threads 2 >"$T/live.out" 2>"$T/live.err" &
  APID=$!
  for i in $(seq 100); do [ -S "$T/live.sock" ] && has "collecting flows" "$T/live.err" && break; sleep 0.1; done
  unbound -c "$T/live.conf" &
  UPID=$!
  count() { grep -c -- "$1" "$2" 2>/dev/null || true; }
  wait_for() { # wait_for N PATTERN FILE: until PATTERN is on N lines of FILE (at most 30 s)
    for i in $(seq 300); do [ "$(count "$2" "$3")" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
  }
  round() { # traffic: 3 flows (2 to 198.51.100.7, 1 to 192.0.2.10) and 2 queries
    softflowd -r "$T/tcp.pcap" -n 127.0.0.1:$P -v 10 -d >/dev/null 2>&1
    for n in www.evil.test www.good.test; do
      dig @127.0.0.1 -p $DP +short +tries=1 +time=1 $n >/dev/null
    done
  }
  # unbound connects to the socket once it answers: queries until the canary shows it has
  for i in $(seq 20); do
    dig @127.0.0.1 -p $DP +short +tries=1 +time=1 www.good.test >/dev/null
    [ "$(count '"value":"www.good.test"' "$T/live.out")" -ge 1 ] && break
    sleep 0.5
  done
  G0=$(count '"value":"www.good.test"' "$T/live.out")
  round
  check "round 1 matched (canaries)" wait_for 1 '"value":"192.0.2.10"' "$T/live.out"
  check "round 1 dnstap matched (canary)" wait_for $((G0 + 1)) '"value":"www.good.test"' "$T/live.out"
  check "no indicator for the c2 address yet" test "$(count '"value":"198.51.100.7"' "$T/live.out")" = 0
  {
    ind 13 "c2 live" "[ipv4-addr:value = '198.51.100.7']"
    ind 14 "evil live" "[domain-name:value = 'www.evil.test']"
  } >"$T/live2.jsonl"
  expect_rc 0 "import indicators while the collectors run" -- "$ACCORD" import "$T/live2.jsonl"
  check "the collector reloads from the store" wait_for 1 "store changed: indicators reloaded: 4" "$T/live.err"
  round
  check "added address indicator matched by the UDP collector" wait_for 2 '"value":"198.51.100.7","indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000013"' "$T/live.out"
  check "added domain indicator matched on the dnstap socket" wait_for 1 '"value":"www.evil.test","indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000014"' "$T/live.out"
  # the query's interval (2 s of its time, now) ends: its sighting is stored while collecting
  sighted14() { "$ACCORD" export --type sighting 2>/dev/null | grep -q '"count":1,[^}]*"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000014"'; }
  for i in $(seq 100); do sighted14 && break; sleep 0.1; done
  check "a closed interval's sighting stored while the collectors run" sighted14
  check "the collector still runs" kill -0 $APID
  # new versions that expire three seconds from now
  until=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%S.000Z)
  for n in 13 14; do
    pat="[ipv4-addr:value = '198.51.100.7']"
    [ $n = 14 ] && pat="[domain-name:value = 'www.evil.test']"
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"expiring","pattern":"%s","pattern_type":"stix","valid_from":"2000-01-01T00:00:00Z","valid_until":"%s"}\n' $n "$pat" "$until"
  done >"$T/live3.jsonl"
  expect_rc 0 "import expiring versions" -- "$ACCORD" import "$T/live3.jsonl"
  check "the collector reloads again" wait_for 2 "store changed: indicators reloaded" "$T/live.err"
  while [ "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \< "$until" ] || [ "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" = "$until" ]; do sleep 0.2; done
  round
  check "round 3 matched (canaries)" wait_for 3 '"value":"192.0.2.10"' "$T/live.out"
  check "round 3 dnstap matched (canary)" wait_for $((G0 + 3)) '"value":"www.good.test"' "$T/live.out"
  check "expired address indicator no longer matches" test "$(count '"value":"198.51.100.7"' "$T/live.out")" = 2
  check "expired domain indicator no longer matches" test "$(count '"value":"www.evil.test"' "$T/live.out")" = 1
  kill $UPID; wait $UPID
  kill -INT $APID; wait $APID
  check "collector exits 0" test $? = 0
  check "the open intervals' sightings stored at the end" has "accord match: [0-9]* sightings to the default collection" "$T/live.err"
  expect_rc 0 "export the sightings" -- "$ACCORD" export --type sighting
  check "sighting of the added address: its two flows" has '"count":2,[^}]*"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000013"' "$T/out"
  check "sighting of the added name: its query" has '"count":1,[^}]*"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000014"' "$T/out"
  unset ACCORD_DATA
  export ACCORD_DATA="$T/data"
fi

finish
