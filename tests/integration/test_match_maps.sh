#!/usr/bin/env bash
# The built-in field map on small fixture lines: Suricata smtp (mail_from, rcpt_to) and email
# (from, to, cc, with display names) addresses, Suricata quic.sni and dns "grouped" answers, Zeek x509 subject alternative names (san.dns,
# san.ip, san.email) flat, nested and in a TSV log.  Every expected match is listed; nothing else
# may match.
. "$(dirname "$0")/lib.sh" "$@"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
{
  ind 1 "boss" "[email-addr:value = 'boss@evil.example']"
  ind 2 "cfo" "[email-addr:value = 'cfo@corp.example']"
  ind 3 "phish" "[email-addr:value = 'phish@evil.example']"
  ind 4 "evil names" "[domain-name:value LIKE '%.evil.example']"
  ind 5 "c2" "[ipv4-addr:value = '198.51.100.9']"
  ind 6 "ca mail" "[email-addr:value = 'ca@evil.example']"
  ind 7 "v6" "[ipv6-addr:value = '2001:db8::9']"
} >"$T/ind.jsonl"
# matches_of FROM: the matches in $T/out from the member FROM on, without the input, with the
# number of the (first) indicator instead of the indicators
matches_of() {
  sed 's/"indicators":\[{"id":"indicator--[0-9]*-[0-9]*-[0-9]*-[0-9]*-0*\([0-9]*\)".*/\1/' "$T/out" |
    grep -o "$1:.*" | sed 's/,"input":"[^"]*"//'
}
# expect_matches DESCRIPTION INPUT FROM <WANT: INPUT matched against $T/ind.jsonl gives exactly
# the matches listed on stdin (as matches_of FROM prints them), in order
expect_matches() {
  expect_rc 0 "$1" -- "$ACCORD" match --no-progress --event-bytes 0 --indicators "$T/ind.jsonl" "$2"
  matches_of "$3" >"$T/got"
  cat >"$T/want"
  check "$1: exactly the listed matches, in order" diff "$T/want" "$T/got"
}

# Suricata eve.json (smtp event with its email record), one line without any listed value
cat >"$T/eve.json" <<'EOF'
{"timestamp":"2024-03-01T10:00:00.000000+0000","event_type":"smtp","src_ip":"10.0.0.1","src_port":50000,"dest_ip":"10.0.0.25","dest_port":25,"proto":"TCP","smtp":{"helo":"mx.corp.example","mail_from":"<Boss@Evil.Example>","rcpt_to":["<victim@corp.example>","<CFO@corp.example>"]},"email":{"status":"PARSE_DONE","from":"\"The Boss\" <boss@evil.example>","to":["\"Victim\" <victim@corp.example>"],"cc":["phish@evil.example"]}}
{"timestamp":"2024-03-01T10:00:01.000000+0000","event_type":"smtp","src_ip":"10.0.0.2","dest_ip":"10.0.0.25","smtp":{"helo":"a","mail_from":"<a@b.example>","rcpt_to":["<c@d.example>"]},"email":{"status":"PARSE_DONE","from":"a@b.example","to":["Someone <c@d.example>"]}}
EOF
expect_matches "Suricata smtp and email" "$T/eve.json" '"field"' <<'EOF'
"field":"smtp.mail_from","value":"boss@evil.example",1
"field":"smtp.rcpt_to","value":"cfo@corp.example",2
"field":"email.from","value":"boss@evil.example",1
"field":"email.cc","value":"phish@evil.example",3
EOF

# Suricata quic (sni) and dns v2 "grouped" answers (arrays per record type; SRV and SOA as
# objects; TXT carries no name); an eve v1 answer beside them still matches
cat >"$T/eve2.json" <<'EOF'
{"timestamp":"2024-03-01T10:00:02.000000+0000","event_type":"quic","src_ip":"10.0.0.3","dest_ip":"10.0.0.9","quic":{"version":"1","sni":"q.Evil.example","ua":"Chrome/120","ja3":{"hash":"x"}}}
{"timestamp":"2024-03-01T10:00:03.000000+0000","event_type":"dns","src_ip":"10.0.0.53","dest_ip":"10.0.0.4","dns":{"version":2,"type":"answer","rrname":"ok.example","rrtype":"A","grouped":{"CNAME":["cdn.ok.example","edge.evil.example"],"A":["10.2.2.2","198.51.100.9"],"AAAA":["2001:db8::9"],"TXT":["v=spf1 include:spf.evil.example"]}}}
{"timestamp":"2024-03-01T10:00:04.000000+0000","event_type":"dns","dns":{"version":2,"type":"answer","rrname":"ok.example","grouped":{"MX":["mx.evil.example"],"NS":["ns1.ok.example"],"PTR":["ptr.evil.example"],"SRV":[{"priority":1,"weight":5,"port":443,"name":"srv.evil.example"}],"SOA":[{"mname":"soa.evil.example","rname":"hostmaster.ok.example","serial":1}]}}}
{"timestamp":"2024-03-01T10:00:05.000000+0000","event_type":"dns","dns":{"version":3,"type":"response","queries":[{"rrname":"ok.example"}],"answers":[{"rrname":"ok.example","rdata":"198.51.100.9"}],"grouped":{"NS":["ns.evil.example"]}}}
{"timestamp":"2024-03-01T10:00:06.000000+0000","event_type":"quic","quic":{"version":"1","sni":"ok.example"},"tls":{"sni":"ok.example"}}
EOF
expect_matches "Suricata quic and dns grouped" "$T/eve2.json" '"field"' <<'EOF'
"field":"quic.sni","value":"q.evil.example",4
"field":"dns.grouped.CNAME","value":"edge.evil.example",4
"field":"dns.grouped.A","value":"198.51.100.9",5
"field":"dns.grouped.AAAA","value":"2001:db8::9",7
"field":"dns.grouped.MX","value":"mx.evil.example",4
"field":"dns.grouped.PTR","value":"ptr.evil.example",4
"field":"dns.grouped.SRV.name","value":"srv.evil.example",4
"field":"dns.grouped.SOA.mname","value":"soa.evil.example",4
"field":"dns.answers.rdata","value":"198.51.100.9",5
"field":"dns.grouped.NS","value":"ns.evil.example",4
EOF

# Zeek x509: flat keys (Zeek's JSON writer), nested records, arrays
cat >"$T/x509.json" <<'EOF'
{"ts":1700000000.1,"fingerprint":"b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe","certificate.subject":"CN=www.evil.example","san.dns":["ok.example","www.EVIL.example"],"san.ip":["10.1.1.1","198.51.100.9"],"san.email":["ca@evil.example"]}
{"ts":1700000000.2,"fingerprint":"8d59ed09ff71bfe26607f9b6b77506f2718346d2417f964cb2f720ece09ed406","san":{"dns":["mail.evil.example"],"ip":["2001:db8::9"],"email":["x@ok.example"]}}
{"ts":1700000000.3,"fingerprint":"8b64b08097c05ac62a28d278d7627b7f230b78d8da722154d0efb54013623592","san.dns":["Snozberry","Snozberry.factory.oompa.loompa"]}
EOF
expect_matches "Zeek x509 JSON" "$T/x509.json" '"time"' <<'EOF'
"time":1700000000.1,"field":"san.dns","value":"www.evil.example",4
"time":1700000000.1,"field":"san.ip","value":"198.51.100.9",5
"time":1700000000.1,"field":"san.email","value":"ca@evil.example",6
"time":1700000000.2,"field":"san.dns","value":"mail.evil.example",4
"time":1700000000.2,"field":"san.ip","value":"2001:db8::9",7
EOF

# the same certificates as a Zeek TSV x509 log (the header's column names are the flat keys)
{
  printf '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tx509\n'
  printf '#fields\tts\tfingerprint\tcertificate.subject\tsan.dns\tsan.uri\tsan.email\tsan.ip\n'
  printf '#types\ttime\tstring\tstring\tvector[string]\tvector[string]\tvector[string]\tvector[addr]\n'
  printf '1700000000.100000\tb2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe\tCN=www.evil.example\tok.example,www.EVIL.example\t-\tca@evil.example\t10.1.1.1,198.51.100.9\n'
  printf '1700000000.200000\t8d59ed09ff71bfe26607f9b6b77506f2718346d2417f964cb2f720ece09ed406\t-\tmail.evil.example\t-\tx@ok.example\t2001:db8::9\n'
  printf '1700000000.300000\t8b64b08097c05ac62a28d278d7627b7f230b78d8da722154d0efb54013623592\t-\tSnozberry,Snozberry.factory.oompa.loompa\t-\t-\t-\n'
} >"$T/x509.log"
expect_rc 0 "Zeek x509 TSV" -- "$ACCORD" match --no-progress --event-bytes 0 --indicators "$T/ind.jsonl" "$T/x509.log"
matches_of '"time"' | sed 's/"time":\([0-9]*\.[0-9]\)00000/"time":\1/' >"$T/got"
# the TSV columns come in header order: san.dns, san.email, san.ip
cat >"$T/want" <<'EOF'
"time":1700000000.1,"field":"san.dns","value":"www.evil.example",4
"time":1700000000.1,"field":"san.email","value":"ca@evil.example",6
"time":1700000000.1,"field":"san.ip","value":"198.51.100.9",5
"time":1700000000.2,"field":"san.dns","value":"mail.evil.example",4
"time":1700000000.2,"field":"san.ip","value":"2001:db8::9",7
EOF
check "x509 TSV: exactly the listed matches" diff "$T/want" "$T/got"

# the real Zeek x509 log: its san.dns names as indicators find every certificate naming them.
# A line gives at most 64 values (MFIELDS_MAX, src/match.h), so certificates listing more than
# 50 names are left out; names that are IPv4 addresses are not domain names.
D="$ROOT/../shared/data/zeek-zed-sample-data"
[ -d "$D" ] || D="$ROOT/../../shared/data/zeek-zed-sample-data"
if [ -f "$D/zeek-json/x509.json.gz" ]; then
  zcat "$D/zeek-json/x509.json.gz" | awk '{ s = $0; if (match(s, /"san\.dns":\[[^]]*\]/)) { n = gsub(/,/, ",", s) } if (n <= 50) print }' >"$T/x509-real.json"
  grep -o '"san.dns":\[[^]]*\]' "$T/x509-real.json" | sed 's/^"san.dns":\[//; s/\]$//' |
    tr ',' '\n' | sed -n 's/^"\([a-zA-Z0-9.-]*\)"$/\1/p' | tr 'A-Z' 'a-z' | sed 's/\.$//' >"$T/sans"
  sort -u "$T/sans" | grep '\.' | grep -vx '[0-9.]*' | awk 'NR % 2 == 1' >"$T/names"
  i=100
  while read -r n; do i=$((i + 1)); ind "$i" "n$i" "[domain-name:value = '$n']"; done <"$T/names" >"$T/real.jsonl"
  want=$(grep -cxFf "$T/names" "$T/sans")
  expect_rc 0 "real x509 san.dns" -- "$ACCORD" match --no-progress --event-bytes 0 --indicators "$T/real.jsonl" "$T/x509-real.json"
  got=$(grep -c '"field":"san.dns"' "$T/out")
  check "real x509: $want san.dns values listed, $got matched" test "$got" = "$want"
  check "real x509: hundreds" test "$want" -gt 100
fi
finish
