#!/usr/bin/env bash
# The built-in field map on small fixture lines: Suricata smtp (mail_from, rcpt_to, helo) and
# email (from, to, cc, with display names; url) addresses, quic (sni, ua), dns "grouped" answers,
# SRV answers and authorities, http (http_refer, redirect, xff, HTTP/2 :authority), files
# digests and dhcp; Zeek http (referrer, origin), smtp, dhcp, ntlm, intel, radius and socks keys,
# x509 subject alternative names (san.dns, san.ip, san.email) flat, nested and in a TSV log.
# Every expected match is listed; nothing else may match (a bare host name is no domain name).
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
  ind 8 "landing" "[url:value = 'http://ref.evil.example/landing?x=1']"
  ind 9 "quic ua" "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'EvilQuic/1.0']"
  ind 10 "md5" "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef']"
  ind 11 "sha256" "[file:hashes.'SHA-256' = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff']"
  ind 12 "sha1" "[file:hashes.'SHA-1' = '0123456789abcdef0123456789abcdef01234567']"
  ind 13 "bare host names" "[domain-name:value = 'john-pc' OR domain-name:value = 'win-box']"
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

# Suricata http (HTTP/1 with a referrer, a redirect, X-Forwarded-For and the files of the
# transaction; HTTP/2 with its request headers: only :authority names the host), quic user agent,
# smtp helo and e-mail body URLs (one without a scheme is no URL), dhcp (a bare host name is no
# domain name), dns SRV answers and authorities
cat >"$T/eve3.json" <<'EOF'
{"timestamp":"2024-03-01T10:00:07.000000+0000","event_type":"http","src_ip":"10.0.0.1","dest_ip":"10.0.0.80","http":{"hostname":"ok.example","url":"/a","http_user_agent":"curl/8","http_refer":"http://REF.evil.example/landing?x=1","redirect":"https://redir.evil.example:8443/next","xff":"198.51.100.9","status":302},"files":[{"filename":"a.exe","md5":"0123456789ABCDEF0123456789abcdef","sha1":"0123456789abcdef0123456789abcdef01234567","sha256":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}]}
{"timestamp":"2024-03-01T10:00:08.000000+0000","event_type":"http","src_ip":"10.0.0.1","dest_ip":"10.0.0.80","http":{"version":"2","request_headers":[{"name":":method","value":"GET"},{"name":":authority","value":"h2.evil.example:443"},{"name":":path","value":"/"},{"name":"x-host","value":"x.evil.example"}],"response_headers":[{"name":":status","value":"200"}],"http_method":"GET","url":"/","http2":{"stream_id":1}}}
{"timestamp":"2024-03-01T10:00:09.000000+0000","event_type":"quic","src_ip":"10.0.0.1","dest_ip":"10.0.0.9","quic":{"version":"Q046","sni":"ok.example","ua":"EvilQuic/1.0"}}
{"timestamp":"2024-03-01T10:00:10.000000+0000","event_type":"smtp","smtp":{"helo":"mx.evil.example","mail_from":"<a@ok.example>","rcpt_to":["<b@ok.example>"]},"email":{"status":"PARSE_DONE","from":"a@ok.example","to":["b@ok.example"],"url":["http://ref.evil.example/landing?x=1","www.evil.example/x"]}}
{"timestamp":"2024-03-01T10:00:11.000000+0000","event_type":"smtp","smtp":{"helo":"WIN-BOX","mail_from":"<a@ok.example>"}}
{"timestamp":"2024-03-01T10:00:12.000000+0000","event_type":"dhcp","src_ip":"10.0.0.67","dest_ip":"10.0.0.68","dhcp":{"type":"reply","id":1,"client_mac":"08:00:27:7f:09:e1","assigned_ip":"198.51.100.9","client_ip":"0.0.0.0","relay_ip":"198.51.100.9","next_server_ip":"198.51.100.9","dhcp_type":"ack","routers":["10.0.0.1","198.51.100.9"],"dns_servers":["2001:db8::9"],"hostname":"John-PC"}}
{"timestamp":"2024-03-01T10:00:13.000000+0000","event_type":"dhcp","dhcp":{"type":"request","client_ip":"198.51.100.9","hostname":"laptop.evil.example"}}
{"timestamp":"2024-03-01T10:00:14.000000+0000","event_type":"dns","dns":{"version":2,"type":"answer","rrname":"_x._tcp.ok.example","rrtype":"SRV","answers":[{"rrname":"_x._tcp.ok.example","rrtype":"SRV","ttl":60,"srv":{"priority":0,"weight":5,"port":443,"name":"srv2.evil.example"}}],"authorities":[{"rrname":"ok.example","rrtype":"NS","ttl":60,"rdata":"ns.evil.example"}]}}
EOF
expect_matches "Suricata http, quic, smtp, dhcp, dns" "$T/eve3.json" '"field"' <<'EOF'
"field":"http.http_refer","value":"http://ref.evil.example/landing?x=1",8
"field":"http.http_refer","value":"ref.evil.example",4
"field":"http.redirect","value":"redir.evil.example",4
"field":"http.xff","value":"198.51.100.9",5
"field":"files.md5","value":"0123456789abcdef0123456789abcdef",10
"field":"files.sha1","value":"0123456789abcdef0123456789abcdef01234567",12
"field":"files.sha256","value":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",11
"field":"http.request_headers.:authority","value":"h2.evil.example",4
"field":"quic.ua","value":"EvilQuic/1.0",9
"field":"smtp.helo","value":"mx.evil.example",4
"field":"email.url","value":"http://ref.evil.example/landing?x=1",8
"field":"email.url","value":"ref.evil.example",4
"field":"dhcp.assigned_ip","value":"198.51.100.9",5
"field":"dhcp.relay_ip","value":"198.51.100.9",5
"field":"dhcp.next_server_ip","value":"198.51.100.9",5
"field":"dhcp.routers","value":"198.51.100.9",5
"field":"dhcp.dns_servers","value":"2001:db8::9",7
"field":"dhcp.client_ip","value":"198.51.100.9",5
"field":"dhcp.hostname","value":"laptop.evil.example",4
"field":"dns.answers.srv.name","value":"srv2.evil.example",4
"field":"dns.authorities.rdata","value":"ns.evil.example",4
EOF

# Zeek http (referrer and origin: the URL and its host), smtp (header addresses with display
# names, x_originating_ip, path, helo), dhcp, ntlm, intel (flat and nested seen), radius and
# socks (flat and nested); bare host names (dhcp host_name, a HELO) are no domain names
cat >"$T/zeek.json" <<'EOF'
{"ts":1700000001.0,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"10.0.0.80","method":"GET","host":"ok.example","uri":"/","referrer":"http://ref.evil.example/landing?x=1","origin":"https://Origin.Evil.Example:8443","user_agent":"Mozilla/5.0"}
{"ts":1700000002.0,"uid":"C2","helo":"mx.evil.example","mailfrom":"<x@ok.example>","rcptto":["<y@ok.example>"],"from":"\"The Boss\" <Boss@Evil.Example>","to":["\"CFO\" <cfo@corp.example>","z@ok.example"],"cc":["phish@evil.example"],"reply_to":"\"Reply\" <boss@evil.example>","x_originating_ip":"198.51.100.9","path":["10.0.0.25","198.51.100.9"]}
{"ts":1700000003.0,"uid":"C3","helo":"WIN-BOX","mailfrom":"<x@ok.example>"}
{"ts":1700000004.0,"uids":["C4"],"client_addr":"198.51.100.9","server_addr":"2001:db8::9","mac":"08:00:27:7f:09:e1","host_name":"John-PC","client_fqdn":"john-pc.dhcp.evil.example","domain":"corp.evil.example","requested_addr":"198.51.100.9","assigned_addr":"198.51.100.9","msg_types":["REQUEST","ACK"]}
{"ts":1700000005.0,"uid":"C5","domainname":"CORP","server_nb_computer_name":"DC1","server_dns_computer_name":"dc1.corp.evil.example","server_tree_name":"corp.evil.example"}
{"ts":1700000006.0,"seen.indicator":"198.51.100.9","seen.indicator_type":"Intel::ADDR","seen.where":"Conn::IN_RESP","sources":["feed"]}
{"ts":1700000007.0,"seen":{"indicator":"www.evil.example","indicator_type":"Intel::DOMAIN"}}
{"ts":1700000008.0,"uid":"C8","username":"u","framed_addr":"198.51.100.9"}
{"ts":1700000009.0,"uid":"C9","request.host":"198.51.100.9","request.name":"c2.evil.example","request_p":443,"bound.host":"2001:db8::9"}
{"ts":1700000010.0,"uid":"C10","request":{"host":"198.51.100.9","name":"c2.evil.example"},"bound":{"host":"198.51.100.9"}}
EOF
expect_matches "Zeek http, smtp, dhcp, ntlm, intel, radius, socks" "$T/zeek.json" '"time"' <<'EOF'
"time":1700000001.0,"field":"referrer","value":"http://ref.evil.example/landing?x=1",8
"time":1700000001.0,"field":"referrer","value":"ref.evil.example",4
"time":1700000001.0,"field":"origin","value":"origin.evil.example",4
"time":1700000002.0,"field":"helo","value":"mx.evil.example",4
"time":1700000002.0,"field":"from","value":"boss@evil.example",1
"time":1700000002.0,"field":"to","value":"cfo@corp.example",2
"time":1700000002.0,"field":"cc","value":"phish@evil.example",3
"time":1700000002.0,"field":"reply_to","value":"boss@evil.example",1
"time":1700000002.0,"field":"x_originating_ip","value":"198.51.100.9",5
"time":1700000002.0,"field":"path","value":"198.51.100.9",5
"time":1700000004.0,"field":"client_addr","value":"198.51.100.9",5
"time":1700000004.0,"field":"server_addr","value":"2001:db8::9",7
"time":1700000004.0,"field":"client_fqdn","value":"john-pc.dhcp.evil.example",4
"time":1700000004.0,"field":"domain","value":"corp.evil.example",4
"time":1700000004.0,"field":"requested_addr","value":"198.51.100.9",5
"time":1700000004.0,"field":"assigned_addr","value":"198.51.100.9",5
"time":1700000005.0,"field":"server_dns_computer_name","value":"dc1.corp.evil.example",4
"time":1700000005.0,"field":"server_tree_name","value":"corp.evil.example",4
"time":1700000006.0,"field":"seen.indicator","value":"198.51.100.9",5
"time":1700000007.0,"field":"seen.indicator","value":"www.evil.example",4
"time":1700000008.0,"field":"framed_addr","value":"198.51.100.9",5
"time":1700000009.0,"field":"request.host","value":"198.51.100.9",5
"time":1700000009.0,"field":"request.name","value":"c2.evil.example",4
"time":1700000009.0,"field":"bound.host","value":"2001:db8::9",7
"time":1700000010.0,"field":"request.host","value":"198.51.100.9",5
"time":1700000010.0,"field":"request.name","value":"c2.evil.example",4
"time":1700000010.0,"field":"bound.host","value":"198.51.100.9",5
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
