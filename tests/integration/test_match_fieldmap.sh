#!/usr/bin/env bash
# accord match --field-map: JSON lines of another format (nested keys, arrays, a quoted key with
# dots) matched through a configured map, with threads; TSV columns named by the map; a built-in
# key switched off; and a bad map rejected with FILE:LINE before any input is read.
. "$(dirname "$0")/lib.sh" "$@"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "evil" "[domain-name:value LIKE '%.evil.example']"
  ind 3 "payload" "[url:value = 'http://evil.example/a']"
} >"$T/ind.jsonl"

cat >"$T/map.conf" <<'EOF2'
# an ECS-like proxy log
source.ip = src-ip
destination.ip = dst-ip
"@timestamp" = time
dns.question.name = domain
http.request.host = host
http.request.path = uri
src_ip = none
EOF2

# 2000 events, every 100th to the C2, every 250th resolving an evil name, one URL
for i in $(seq 1 2000); do
  dst=10.0.$((i % 200)).$((i % 250 + 1))
  [ $((i % 100)) -eq 0 ] && dst=198.51.100.7
  q=ok$i.example
  [ $((i % 250)) -eq 0 ] && q=h$i.EVIL.example.
  printf '{"@timestamp":"2026-01-01T00:00:%02dZ","source":{"ip":"10.1.1.1"},"destination":{"ip":"%s"},"dns":{"question":{"name":"%s"}},"src_ip":"198.51.100.7"}\n' $((i % 60)) "$dst" "$q"
done >"$T/ecs.json"
printf '{"http":{"request":{"host":"evil.example","path":"/a"}}}\n' >>"$T/ecs.json"

expect_rc 0 "field map" -- "$ACCORD" match --no-progress --event-bytes 0 --threads 2 \
  --field-map "$T/map.conf" --indicators "$T/ind.jsonl" "$T/ecs.json"
check "field map: 29 matches (20 addresses, 8 names, 1 URL)" test "$(wc -l <"$T/out")" = 29
check "field map: 20 by destination.ip" test "$(grep -c '"field":"destination.ip","value":"198.51.100.7"' "$T/out")" = 20
check "field map: names normalised" grep -q '"field":"dns.question.name","value":"h250.evil.example"' "$T/out"
check "field map: time from @timestamp" grep -q '"time":"2026-01-01T00:00:40Z"' "$T/out"
check "field map: host and path make the URL" grep -q '"field":"url","value":"http://evil.example/a"' "$T/out"
check "field map: src_ip switched off" sh -c "! grep -q '\"field\":\"src_ip\"' '$T/out'"
check "field map: input order kept with 2 threads" sh -c "grep -o '\"time\":\"[^\"]*\"' '$T/out' | head -3 | tr '\n' ' ' | grep -q '00:40Z.*00:20Z.*00:10Z'"

# without the map only the built-in (Suricata) src_ip key is read
expect_rc 0 "built-in map" -- "$ACCORD" match --no-progress --indicators "$T/ind.jsonl" "$T/ecs.json"
check "built-in map: 2000 src_ip matches" test "$(grep -c '"field":"src_ip"' "$T/out")" = 2000

# TSV columns are named by the map too
printf '#separator \\x09\n#fields\tts\tpeer\n#types\ttime\taddr\n1700000000.0\t198.51.100.7\n' >"$T/peer.log"
printf 'peer = ip\n' >"$T/peer.conf"
expect_rc 0 "TSV with a map" -- "$ACCORD" match --no-progress --field-map "$T/peer.conf" --indicators "$T/ind.jsonl" "$T/peer.log"
check "TSV: the configured column" grep -q '"field":"peer","value":"198.51.100.7"' "$T/out"

# a bad map: exit 2, FILE:LINE and the reason, no matching
printf '# ok\nsource.ip = src-ip\ndestination.ip = dest-ip\n' >"$T/bad.conf"
expect_rc 2 "bad map" -- "$ACCORD" match --field-map "$T/bad.conf" --indicators "$T/ind.jsonl" "$T/ecs.json"
check "bad map: file:line and the role" grep -q "bad.conf:3: unknown role 'dest-ip'" "$T/err"
check "bad map: nothing matched" test ! -s "$T/out"
expect_rc 2 "missing map" -- "$ACCORD" match --field-map "$T/none.conf" --indicators "$T/ind.jsonl" "$T/ecs.json"
check "missing map: named" grep -q "none.conf" "$T/err"
finish
