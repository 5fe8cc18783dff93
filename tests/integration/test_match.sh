#!/usr/bin/env bash
# accord match end to end: indicators from files and from the store, Zeek and Suricata JSON lines,
# plain values, .gz and stdin, malformed lines reported with file:line, --summary, --threads
# keeping the output order, validity, the real Zeek logs under ../shared/data when present, and the
# progress line on a terminal.
. "$(dirname "$0")/lib.sh" "$@"

ind() { # ind N NAME PATTERN [extra JSON members]
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}\n' "$1" "$2" "$3" "${4:-}"
}
{
  ind 1 "c2 address" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "bad net" "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"
  ind 3 "evil domains" "[domain-name:value = 'evil.example' OR domain-name:value LIKE '%.evil.example']"
  ind 4 "dropper" "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"
  ind 5 "gate url" "[url:value = 'http://gate.example/panel/gate.php']"
  ind 6 "v6 net" "[ipv6-addr:value ISSUBSET '2001:db8:bad::/48']"
  ind 7 "dns to c2" "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 53 AND network-traffic:protocols[*] = 'udp']"
  ind 8 "expired" "[ipv4-addr:value = '192.0.2.1']" ',"valid_until":"2024-06-01T00:00:00Z"'
  ind 9 "phish sender" "[email-addr:value = 'boss@evil.example']" ',"labels":["phishing","b\"ec"],"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]'
} >"$T/ind.jsonl"

cat >"$T/zeek.json" <<'EOF'
{"ts":1700000000.1,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":50000,"id.resp_h":"198.51.100.7","id.resp_p":443,"proto":"tcp"}
{"ts":1700000000.2,"uid":"C2","id.orig_h":"10.0.0.1","id.orig_p":50001,"id.resp_h":"198.51.100.7","id.resp_p":53,"proto":"udp","query":"www.evil.example","answers":["203.0.113.9"]}
{"ts":1700000000.3,"uid":"C3","id.orig_h":"10.0.0.2","id.orig_p":50002,"id.resp_h":"192.0.2.1","id.resp_p":80,"host":"GATE.example","uri":"/panel/gate.php"}
{"ts":1700000000.4,"fuid":"F1","tx_hosts":["2001:db8:bad::1"],"sha256":"AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F"}
{"ts":1700000000.5,"uid":"C4","id.orig_h":"10.0.0.3","query":"badevil.example"}
{"ts":1700000000.6,"uid":"C5","id.orig_h":"10.0.0.3","query":"evil.example.org"
{"ts":1700000000.7,"uid":"C6","id.orig_h":"10.0.0.4","mailfrom":"<Boss@Evil.Example>","rcptto":["a@b.example"]}
EOF
cat >"$T/eve.json" <<'EOF'
{"timestamp":"2024-03-01T10:00:00.000000+0000","event_type":"dns","src_ip":"10.1.1.1","dest_ip":"10.1.1.53","dns":{"type":"query","rrname":"a.b.evil.example"}}
{"timestamp":"2024-03-01T10:00:01.000000+0000","event_type":"http","src_ip":"10.1.1.1","dest_ip":"10.9.9.9","http":{"hostname":"gate.example","url":"\/panel\/gate.php"}}
EOF
printf '198.51.100.7\n# a comment\n\nnot a value at all\n203.0.113.200\nEVIL.example\n' >"$T/plain.txt"

# help and usage
expect_rc 0 "help match" -- "$ACCORD" help match
check "help shows --indicators" has "--indicators" "$T/out"
check "help goes on past one string literal (flows, exit codes)" has "^Exit: 0 done" "$T/out"
check "help says when --follow writes sightings" has "within about a second" "$T/out"
expect_rc 0 "match --help" -- "$ACCORD" match --help
check "match --help ends as help match does" has "^Exit: 0 done" "$T/out"
expect_rc 2 "match without input" -- "$ACCORD" match --indicators "$T/ind.jsonl"
expect_rc 2 "bad --threads" -- "$ACCORD" match --threads 0 --indicators "$T/ind.jsonl" "$T/zeek.json"

# Zeek JSON: 8 matches, one malformed line (line 6), the expired indicator never reported
expect_rc 3 "zeek lines" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/zeek.json"
check "zeek: 9 match lines" test "$(wc -l <"$T/out")" = 9
check "zeek: c2 address on id.resp_h" grep -q '"field":"id.resp_h","value":"198.51.100.7"' "$T/out"
check "zeek: labels and strictest TLP" grep -q '"name":"phish sender","labels":\["phishing","b\\"ec"\],"tlp":"red"}' "$T/out"
check "zeek: no labels, no TLP when there are none" grep -q '"name":"c2 address"}' "$T/out"
check "zeek: suffix on query" grep -q '"field":"query","value":"www.evil.example"' "$T/out"
check "zeek: CIDR on answers" grep -q '"field":"answers","value":"203.0.113.9"' "$T/out"
check "zeek: url from host and uri" grep -q '"field":"url","value":"http://gate.example/panel/gate.php"' "$T/out"
check "zeek: upper-case digest" grep -q '"indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000004","name":"dropper"}\]' "$T/out"
check "zeek: v6 prefix" grep -q '"value":"2001:db8:bad::1"' "$T/out"
check "zeek: complex pattern" grep -q '"field":null,"value":null,"indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000007"' "$T/out"
check "zeek: e-mail" grep -q '"field":"mailfrom","value":"boss@evil.example"' "$T/out"
check "zeek: no label-crossing suffix" bash -c "! grep -q badevil '$T/out'"
check "zeek: expired not reported" bash -c "! grep -q 000000000008 '$T/out'"
check "zeek: time as written" grep -q '"time":1700000000.1,' "$T/out"
check "zeek: malformed reported" grep -q "zeek.json:6: expected .,. or .}. (byte 80)" "$T/err"
check "zeek: totals" grep -q "9 matches, 1 malformed lines" "$T/err"

# with --now before the expiry, the expired indicator matches too
expect_rc 3 "--now" -- "$ACCORD" match --now 2024-05-01T00:00:00Z --indicators "$T/ind.jsonl" "$T/zeek.json"
check "--now: indicator 8 valid then" grep -q 000000000008 "$T/out"

# Suricata eve.json, escaped slashes
expect_rc 0 "eve lines" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/eve.json"
check "eve: dns.rrname" grep -q '"field":"dns.rrname","value":"a.b.evil.example"' "$T/out"
check "eve: http url" grep -q '"field":"url","value":"http://gate.example/panel/gate.php"' "$T/out"
check "eve: time string" grep -q '"time":"2024-03-01T10:00:00.000000+0000"' "$T/out"

# plain text, stdin, .gz
expect_rc 3 "plain values from stdin" -- bash -c "'$ACCORD' match --indicators '$T/ind.jsonl' - <'$T/plain.txt'"
check "plain: 3 matches" test "$(wc -l <"$T/out")" = 3
check "plain: malformed line 4" grep -q -- "-:4: not an address" "$T/err"
gzip -c "$T/zeek.json" >"$T/zeek.json.gz"
expect_rc 3 ".gz input" -- "$ACCORD" match --indicators "$T/ind.jsonl" "$T/zeek.json.gz"
check ".gz: 9 matches" test "$(wc -l <"$T/out")" = 9

# --summary
expect_rc 3 "summary" -- "$ACCORD" match --summary --indicators "$T/ind.jsonl" "$T/zeek.json" "$T/eve.json"
check "summary: c2 address twice" grep -q '"name":"c2 address","matches":2' "$T/out"
check "summary: evil domains 2" grep -q '"name":"evil domains","matches":2' "$T/out"
check "summary: gate url 2" grep -q '"name":"gate url","matches":2' "$T/out"

# threads keep the order of a large input (several 4 MiB chunks)
awk 'BEGIN { pad = sprintf("%0120d", 0);
  for (i = 0; i < 60000; i++) {
    printf "{\"ts\":%d,\"id.resp_h\":\"198.51.100.7\"}\n", i
    for (j = 0; j < 3; j++) printf "{\"ts\":%d,\"query\":\"badevil.example\",\"pad\":\"%s\"}\n", i, pad } }' >"$T/big.json"
expect_rc 0 "1 thread" -- "$ACCORD" match --event-bytes 0 --indicators "$T/ind.jsonl" "$T/big.json"
mv "$T/out" "$T/out1"
expect_rc 0 "2 threads" -- "$ACCORD" match --threads 2 --event-bytes 0 --indicators "$T/ind.jsonl" "$T/big.json"
check "2 threads: same output as 1" cmp -s "$T/out1" "$T/out"
check "big: 60000 matches" test "$(wc -l <"$T/out")" = 60000
check "big: in input order" awk -F'[:,]' '$2 != NR - 1 { exit 1 }' "$T/out"

# network-traffic ports and user agents in the fast tables: Zeek conn and http, Suricata http
{
  ind 21 "c2 https" "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]"
  ind 22 "backdoor port" "[network-traffic:dst_port IN (4444, 31337)]"
  ind 23 "webdav client" "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Microsoft-WebDAV-MiniRedir/10.0.18362']"
} >"$T/ind-traffic.jsonl"
cat >"$T/traffic.json" <<'EOF'
{"ts":1700000001.1,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":50000,"id.resp_h":"198.51.100.7","id.resp_p":443,"proto":"tcp"}
{"ts":1700000001.2,"uid":"C2","id.orig_h":"10.0.0.1","id.orig_p":50001,"id.resp_h":"198.51.100.7","id.resp_p":80,"proto":"tcp"}
{"ts":1700000001.3,"uid":"C3","id.orig_h":"10.0.0.1","id.orig_p":50002,"id.resp_h":"192.0.2.50","id.resp_p":4444,"proto":"tcp"}
{"ts":1700000001.4,"uid":"C4","id.orig_h":"10.0.1.4","id.orig_p":60759,"id.resp_h":"192.168.0.4","id.resp_p":80,"host":"192.168.0.4","uri":"/webdav","user_agent":"Microsoft-WebDAV-MiniRedir/10.0.18362"}
{"timestamp":"2024-03-01T10:00:02.000000+0000","event_type":"http","src_ip":"10.1.1.1","src_port":4444,"dest_ip":"10.9.9.9","dest_port":80,"http":{"hostname":"x.example","url":"/","http_user_agent":"Microsoft-WebDAV-MiniRedir/10.0.18362"}}
EOF
expect_rc 0 "ports and user agents" -- "$ACCORD" match --indicators "$T/ind-traffic.jsonl" "$T/traffic.json"
check "traffic: 3 fast indicators" grep -q "3 indicators (3 fast, 0 pattern engine)" "$T/err"
check "traffic: 4 matches" test "$(wc -l <"$T/out")" = 4
check "traffic: address and port" grep -q '"field":"id.resp_h","value":"198.51.100.7:443","indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000021"' "$T/out"
check "traffic: port alone" grep -q '"field":"id.resp_p","value":"4444","indicators":\[{"id":"indicator--00000000-0000-4000-8000-000000000022"' "$T/out"
check "traffic: Zeek user agent" grep -q '"field":"user_agent","value":"Microsoft-WebDAV-MiniRedir/10.0.18362"' "$T/out"
check "traffic: Suricata user agent" grep -q '"field":"http.http_user_agent","value":"Microsoft-WebDAV-MiniRedir/10.0.18362"' "$T/out"
check "traffic: a source port is not a destination port" test "$(grep -c '"value":"4444"' "$T/out")" = 1

# indicators from the store (the default), a directory of indicator files
mkdir -p "$T/inds"
cp "$T/ind.jsonl" "$T/inds/a.jsonl"
expect_rc 0 "directory of indicators" -- "$ACCORD" match --indicators "$T/inds" "$T/eve.json"
check "directory: 2 matches" test "$(wc -l <"$T/out")" = 2
expect_rc 0 "import indicators" -- "$ACCORD" import "$T/ind.jsonl"
expect_rc 0 "store indicators" -- "$ACCORD" match "$T/eve.json"
check "store: 2 matches" test "$(wc -l <"$T/out")" = 2
check "store: 8 indicators taken (the expired one is not)" grep -q "8 indicators (7 fast, 1 pattern engine)" "$T/err"

# real Zeek logs: dns names of the sample as indicators; the expected count is every query and
# answer value equal to one of them, counted here with grep
DATA="$ROOT/../shared/data/zeek-otrf-apt29-day1"
if [ -d "$DATA" ]; then
  names() {
    grep -ho '"query":"[^"]*"' "$DATA"/*_dns.log | cut -d'"' -f4
    grep -ho '"answers":\[[^]]*\]' "$DATA"/*_dns.log | sed 's/^"answers":\[//; s/\]$//' |
      tr ',' '\n' | sed -n 's/^"\(.*\)"$/\1/p'
  }
  names | tr 'A-Z' 'a-z' | grep -xE '[a-z0-9_-]+(\.[a-z0-9_-]+)+' | grep -vxE '[0-9.]+' |
    sort -u | awk 'NR % 2 == 1' >"$T/names"
  i=100
  while read -r q; do i=$((i + 1)); ind "$i" "n$i" "[domain-name:value = '$q']"; done \
    <"$T/names" >"$T/real.jsonl"
  want=$(names | tr 'A-Z' 'a-z' | sed 's/\.$//' | grep -cxFf "$T/names")
  expect_rc 0 "real zeek dns" -- "$ACCORD" match --summary --indicators "$T/real.jsonl" "$DATA"/*_dns.log
  got=$(sed 's/.*"matches":\([0-9]*\)}/\1/' "$T/out" | awk '{ s += $1 } END { print s + 0 }')
  check "real zeek dns: $want values matched (got $got)" test "$got" = "$want"
  check "real zeek dns: some" test "$want" -gt 10
fi

# the progress line: on a terminal (a pty from script(1)) for a run that lasts, cleared at the end
if command -v script >/dev/null 2>&1; then
  script -qc "(cat '$T/zeek.json'; sleep 1; cat '$T/zeek.json') | '$ACCORD' match --summary --indicators '$T/ind.jsonl' -" /dev/null </dev/null >"$T/tty" 2>&1
  check "progress line on a terminal" grep -q "accord match: .* MB/s, .* events/s, .* matches" "$T/tty"
  check "progress line cleared" grep -q $'\r\033\[K{' "$T/tty"
  script -qc "(cat '$T/zeek.json'; sleep 1; cat '$T/zeek.json') | '$ACCORD' match --no-progress --summary --indicators '$T/ind.jsonl' -" /dev/null </dev/null >"$T/tty" 2>&1
  check "no progress line with --no-progress" sh -c "! grep -q 'events/s' '$T/tty'"
  expect_rc 3 "no progress line off a terminal" -- "$ACCORD" match --summary --indicators "$T/ind.jsonl" "$T/zeek.json"
  check "stderr: the malformed line and the totals" test "$(grep -c . "$T/err")" = 2
  check "stderr: no progress line" sh -c "! grep -q 'events/s' '$T/err'"
fi
finish
