#!/usr/bin/env bash
# accord match on Zeek TSV logs: the #fields/#types header recognised by itself, sets and
# vectors, unset and empty fields, \xHH escapes, a custom separator, malformed rows with
# file:line, a header kept across chunks and threads; and the real Zeek logs under
# ../shared/data in TSV and in JSON form (the same traffic) giving the same matches.
. "$(dirname "$0")/lib.sh" "$@"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "evil" "[domain-name:value LIKE '%.evil.example']"
  ind 3 "answer" "[ipv4-addr:value = '203.0.113.9']"
  ind 4 "dns to c2" "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 53 AND network-traffic:protocols[*] = 'udp']"
} >"$T/ind.jsonl"

tab=$'\t'
hdr() { # hdr FIELDS... (tab-separated header of a dns log)
  printf '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n'
  printf '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n'
  printf '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n'
}
{
  hdr
  printf '1700000000.100000\tC1\t10.0.0.1\t5000\t198.51.100.7\t53\tudp\twww.evil.example\tx.example,203.0.113.9\n'
  printf '1700000000.200000\tC2\t10.0.0.1\t5001\t10.0.0.53\t53\tudp\tok.example\t(empty)\n'
  printf '1700000000.300000\tC3\t10.0.0.1\t5002\t10.0.0.53\t53\tudp\t-\t-\n'
  printf '1700000000.400000\tC4\t10.0.0.1\t5003\t10.0.0.53\t53\tudp\tshort.row\n'
  printf '1700000000.500000\tC5\t10.0.0.1\t5004\t10.0.0.53\t53\tudp\tA\\x2eEVIL.example\t-\n'
  printf '#close\t2024-01-01-00-00-00\n'
  printf '198.51.100.7\n' # a plain value again after #close
} >"$T/dns.log"

expect_rc 3 "TSV log" -- "$ACCORD" match --event-bytes 0 --indicators "$T/ind.jsonl" "$T/dns.log"
check "TSV: 6 matches" test "$(wc -l <"$T/out")" = 6
check "TSV: query by suffix" grep -q '"field":"query","value":"www.evil.example"' "$T/out"
check "TSV: vector element" grep -q '"field":"answers","value":"203.0.113.9"' "$T/out"
check "TSV: destination address" grep -q '"time":1700000000.100000,.*"field":"id.resp_h","value":"198.51.100.7"' "$T/out"
check "TSV: ports and protocol for the pattern engine" grep -q '"field":null,.*"dns to c2"' "$T/out"
check "TSV: \\x escape" grep -q '"value":"a.evil.example"' "$T/out"
check "TSV: plain value after #close" grep -q '"field":"value","value":"198.51.100.7"' "$T/out"
check "TSV: short row reported" grep -q "dns.log:11: fewer columns than the #fields header names" "$T/err"
check "TSV: 5 events, 1 malformed (not an event)" grep -q "; 5 events, .* 6 matches, 1 malformed" "$T/err"

# the same rows as Zeek JSON give the same matches
cat >"$T/dns.json" <<'EOF2'
{"ts":1700000000.1,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"198.51.100.7","id.resp_p":53,"proto":"udp","query":"www.evil.example","answers":["x.example","203.0.113.9"]}
{"ts":1700000000.2,"uid":"C2","id.orig_h":"10.0.0.1","id.orig_p":5001,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","query":"ok.example","answers":[]}
{"ts":1700000000.5,"uid":"C5","id.orig_h":"10.0.0.1","id.orig_p":5004,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","query":"A.EVIL.example"}
EOF2
expect_rc 0 "JSON form" -- "$ACCORD" match --summary --indicators "$T/ind.jsonl" "$T/dns.json"
mv "$T/out" "$T/json.sum"
grep -v '^198' "$T/dns.log" >"$T/dns2.log"
expect_rc 3 "TSV form" -- "$ACCORD" match --summary --indicators "$T/ind.jsonl" "$T/dns2.log"
check "TSV and JSON: the same summary" cmp -s "$T/json.sum" "$T/out"

# a custom separator (|) and set separator (;)
sed "s/$tab/|/g; s/^#separator .*/#separator \\\\x7c/; s/x.example,/x.example;/; s/^#set_separator|,/#set_separator|;/" "$T/dns2.log" >"$T/pipe.log"
expect_rc 3 "custom separators" -- "$ACCORD" match --summary --indicators "$T/ind.jsonl" "$T/pipe.log"
check "custom separators: the same summary" cmp -s "$T/json.sum" "$T/out"

# many chunks, two threads: the header reaches every chunk
grep -v '^#' "$T/dns2.log" | grep -v short.row >"$T/four"
awk '{ r[NR] = $0 } END { for (i = 0; i < 30000; i++) for (j = 1; j <= NR; j++) print r[j] }' "$T/four" >"$T/rows"
{ hdr; cat "$T/rows"; } >"$T/big.log"
expect_rc 0 "big TSV, 1 thread" -- "$ACCORD" match --summary --indicators "$T/ind.jsonl" "$T/big.log"
mv "$T/out" "$T/big1"
expect_rc 0 "big TSV, 2 threads" -- "$ACCORD" match --threads 2 --summary --indicators "$T/ind.jsonl" "$T/big.log"
check "big TSV: same with 2 threads" cmp -s "$T/big1" "$T/out"
rows=$(wc -l <"$T/rows")
check "big TSV: c2 on every row of C1 ($((rows / 4)))" grep -q "\"name\":\"c2\",\"matches\":$((rows / 4))}" "$T/out"
check "big TSV: several chunks" test "$(stat -c %s "$T/big.log")" -gt 8000000

# real logs: the same traffic as TSV and as JSON; indicators from a third of the query names,
# half of the answering servers, half of the SMTP and notice servers and a third of the
# certificate fingerprints, so that every log has matches to compare (an empty summary on both
# sides would prove nothing)
D="$ROOT/../shared/data/zeek-zed-sample-data"
[ -d "$D" ] || D="$ROOT/../../shared/data/zeek-zed-sample-data"
if [ -d "$D" ]; then
  zcat "$D/zeek-json/dns.json.gz" | grep -o '"query":"[^"]*"' | cut -d'"' -f4 | sort -u | awk 'NR % 3 == 0' >"$T/q"
  { zcat "$D/zeek-json/dns.json.gz" | grep -o '"id.resp_h":"[^"]*"' | cut -d'"' -f4 | sort -u | awk 'NR % 2 == 0'
    for l in smtp notice; do
      zcat "$D/zeek-json/$l.json.gz" | grep -o '"id.resp_h":"[^"]*"' | cut -d'"' -f4 | sort -u | awk 'NR % 2 == 1'
    done; } | sort -u >"$T/a"
  zcat "$D/zeek-json/x509.json.gz" | grep -o '"fingerprint":"[0-9a-f]*"' | cut -d'"' -f4 | sort -u | awk 'NR % 3 == 0' >"$T/fp"
  i=100
  { while read -r q; do i=$((i + 1)); ind $i "q$i" "[domain-name:value = '$q']"; done <"$T/q"
    while read -r a; do i=$((i + 1)); ind $i "a$i" "[ipv4-addr:value = '$a']"; done <"$T/a"
    while read -r f; do i=$((i + 1)); ind $i "f$i" "[x509-certificate:hashes.'SHA-256' = '$f']"; done <"$T/fp"; } >"$T/real.jsonl"
  for log in dns ssl smtp notice x509; do
    expect_rc 0 "real $log (JSON)" -- "$ACCORD" match --summary --indicators "$T/real.jsonl" "$D/zeek-json/$log.json.gz"
    mv "$T/out" "$T/rj"
    jm=$(grep -o '[0-9]* matches' "$T/err")
    check "real $log: the JSON log has matches ($jm)" test "${jm% matches}" -gt 0
    expect_rc 0 "real $log (TSV)" -- "$ACCORD" match --summary --threads 2 --indicators "$T/real.jsonl" "$D/zeek-default/$log.log.gz"
    check "real $log: TSV and JSON give the same summary" cmp -s "$T/rj" "$T/out"
    check "real $log: the same totals ($jm)" grep -q "$jm" "$T/err"
  done
  # counted independently: SMTP sessions to a listed server, certificates with a listed
  # fingerprint (the only fields of those logs these indicators can meet: no name or address
  # of the lists is anywhere else in them, checked by the totals above)
  want=$(zcat "$D/zeek-json/smtp.json.gz" | grep -o '"id.resp_h":"[^"]*"' | cut -d'"' -f4 | grep -cxFf "$T/a")
  expect_rc 0 "real smtp, listed servers" -- "$ACCORD" match --event-bytes 0 --indicators "$T/real.jsonl" "$D/zeek-default/smtp.log.gz"
  check "real smtp: $want sessions to a listed server" test "$(grep -c '"field":"id.resp_h"' "$T/out")" = "$want"
  check "real smtp: some" test "$want" -gt 10
  want=$(zcat "$D/zeek-json/x509.json.gz" | grep -o '"fingerprint":"[0-9a-f]*"' | cut -d'"' -f4 | grep -cxFf "$T/fp")
  expect_rc 0 "real x509, listed fingerprints" -- "$ACCORD" match --event-bytes 0 --indicators "$T/real.jsonl" "$D/zeek-default/x509.log.gz"
  check "real x509: $want certificates with a listed fingerprint" test "$(grep -c '"field":"fingerprint"' "$T/out")" = "$want"
  check "real x509: some" test "$want" -gt 10
  expect_rc 0 "real dns again" -- "$ACCORD" match --summary --indicators "$T/real.jsonl" "$D/zeek-default/dns.log.gz"
  check "real dns: hundreds of indicators matched" test "$(wc -l <"$T/out")" -gt 300
fi
finish
