#!/usr/bin/env bash
# accord match --follow: a growing file matched as it grows; indicators reloaded while running
# (a store import, SIGHUP, a changed indicator file) with every event matched exactly once;
# rotation by rename and by copytruncate; a partial line waits for its end; expiry while
# running; SIGTERM ends the run with its totals; a .gz input beside followed ones is read once;
# a directory's files created later are followed.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/match_lib.sh"

ind() { # ind N NAME PATTERN [extra JSON members]
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}\n' "$1" "$2" "$3" "${4:-}"
}
conn() { printf '{"ts":%s,"id.orig_h":"10.0.0.1","id.resp_h":"%s","id.resp_p":443}\n' "$1" "$2"; }
dns() { printf '{"ts":%s,"id.orig_h":"10.0.0.1","query":"%s"}\n' "$1" "$2"; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
count_is() { [ "$(lines "$1")" = "$2" ]; }

# --- the store: an import and SIGHUP while following, rotation, copytruncate -----------------
ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']" >"$T/i1.json"
ind 2 "evil" "[domain-name:value LIKE '%.evil.example']" >"$T/i2.json"
expect_rc 0 "import the first indicator" -- "$ACCORD" import "$T/i1.json"
: >"$T/live.json"
"$ACCORD" match --follow --threads 2 --event-bytes 0 "$T/live.json" >"$T/m.out" 2>"$T/m.err" &
pid=$!
{ conn 1 198.51.100.7; dns 2 www.evil.example; conn 3 198.51.100.7; } >>"$T/live.json"
wait_for "matches of the lines already there" count_is "$T/m.out" 2
check "nothing for the domain yet" sh -c "! grep -q evil '$T/m.out'"

expect_rc 0 "import a second indicator while running" -- "$ACCORD" import "$T/i2.json"
wait_for "store change seen, indicators reloaded" grep -q "store changed: indicators reloaded: 2" "$T/m.err"
{ dns 4 a.evil.example; conn 5 198.51.100.7; dns 6 b.evil.example; } >>"$T/live.json"
wait_for "matches after the reload" count_is "$T/m.out" 5
check "the new indicator matches" test "$(grep -c '"name":"evil"' "$T/m.out")" = 2
check "line 2 was not matched again" test "$(grep -c '"time":2,' "$T/m.out")" = 0

kill -HUP $pid
wait_for "SIGHUP reloads" grep -q "SIGHUP: indicators reloaded: 2" "$T/m.err"
conn 7 198.51.100.7 >>"$T/live.json"
wait_for "match after SIGHUP" count_is "$T/m.out" 6

# rotation: renamed away, a new file at the path (read from its start, line numbers anew)
printf '{"ts":8,"query":"c.evil.example"}' >>"$T/live.json" # no newline yet: waits
sleep 0.5
check "a partial line is not matched yet" count_is "$T/m.out" 6
mv "$T/live.json" "$T/live.json.1"
{ dns 9 d.evil.example; echo '{"ts":10,"query":'; conn 11 198.51.100.7; } >"$T/live.json"
wait_for "the old file's last line and the new file" count_is "$T/m.out" 9
check "the old file's unterminated last line counted" grep -q '"time":8,.*c.evil.example' "$T/m.out"
wait_for "malformed line numbered in the new file" grep -q "live.json:2: " "$T/m.err"

# copytruncate: the file shrinks and is read again from its start
cp "$T/live.json" "$T/live.json.2"
: >"$T/live.json"
sleep 0.5
{ conn 12 198.51.100.7; dns 13 e.evil.example; } >>"$T/live.json"
wait_for "matches after copytruncate" count_is "$T/m.out" 11

kill -TERM $pid
wait $pid
check "SIGTERM ends with 3 (one malformed line)" test $? = 3
check "every match once, in order" test "$(sed 's/^{"time":\([0-9]*\),.*/\1/' "$T/m.out" | tr '\n' ' ')" = "1 3 4 5 6 7 8 9 11 12 13 "
check "totals: 12 events, 11 matches, 1 malformed" grep -q "12 events, .* 11 matches, 1 malformed lines; indicators reloaded 2 times" "$T/m.err"

# --- a FOLLOWEDBY across a reload: the first half before, the second after --------------------
# Indicator 21's sequence goes on through a reload that adds an unrelated indicator; 22's is
# revoked at that reload, so its second half alone reports nothing.  A canary shows when the
# lines before the reload have been matched.
export ACCORD_DATA="$T/seqdata"
{
  ind 20 "canary" "[ipv4-addr:value = '192.0.2.77']"
  ind 21 "two-stage" "[ipv4-addr:value = '198.51.100.21'] FOLLOWEDBY [domain-name:value = 'stage2.example'] WITHIN 600 SECONDS"
  ind 22 "revoked two-stage" "[ipv4-addr:value = '198.51.100.22'] FOLLOWEDBY [domain-name:value = 'stage2b.example']"
} >"$T/seq1.json"
expect_rc 0 "import the sequences" -- "$ACCORD" import "$T/seq1.json"
: >"$T/seq.json"
"$ACCORD" match --follow --threads 1 --sightings "$T/seq.json" >"$T/q.out" 2>"$T/q.err" &
pid=$!
{ conn 100 198.51.100.21; conn 101 198.51.100.22; conn 102 192.0.2.77; } >>"$T/seq.json"
wait_for "the first halves matched (the canary after them)" grep -q canary "$T/q.out"
{
  ind 23 "unrelated" "[ipv4-addr:value = '203.0.113.23']"
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000022","created":"2024-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"revoked two-stage","pattern":"[ipv4-addr:value = '"'"'198.51.100.22'"'"'] FOLLOWEDBY [domain-name:value = '"'"'stage2b.example'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","revoked":true}\n'
} >"$T/seq2.json"
expect_rc 0 "import an unrelated indicator and a revocation while running" -- "$ACCORD" import "$T/seq2.json"
wait_for "reloaded" grep -q "store changed: indicators reloaded: 3" "$T/q.err"
{ dns 110 stage2b.example; dns 111 stage2.example; conn 112 192.0.2.77; } >>"$T/seq.json"
wait_for "the second canary" count_is "$T/q.out" 3
kill -TERM $pid
wait $pid
check "sequence run ends with 0" test $? = 0
check "the sequence begun before the reload is reported after it" grep -q '"time":111,.*"name":"two-stage"' "$T/q.out"
check "the revoked sequence is not" test "$(grep -c 'revoked two-stage' "$T/q.out")" = 0
check "its sighting is stored" has "sightings to the default collection" "$T/q.err"
expect_rc 0 "export the sightings" -- "$ACCORD" export --type sighting
check "a sighting of the two-stage indicator" has '"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000021"' "$T/out"
export ACCORD_DATA="$T/data"

# --- --summary across reloads: counts merged per indicator id ---------------------------------
: >"$T/live3.json"
"$ACCORD" match --follow --summary "$T/live3.json" >"$T/c.out" 2>"$T/c.err" &
pid=$!
{ conn 1 198.51.100.7; conn 2 198.51.100.7; } >>"$T/live3.json"
sleep 1
kill -HUP $pid
wait_for "SIGHUP reloads (summary run)" grep -q "SIGHUP: indicators reloaded" "$T/c.err"
{ conn 3 198.51.100.7; dns 4 x.evil.example; conn 5 198.51.100.7; } >>"$T/live3.json"
sleep 1
kill -TERM $pid
wait $pid
check "summary run ends with 0" test $? = 0
check "summary: c2 counted over both snapshots" grep -q '"name":"c2","matches":4}' "$T/c.out"
check "summary: one line per indicator" test "$(lines "$T/c.out")" = 2

# --- indicator files: expiry while running, a changed file reloaded ----------------------------
until=$(date -u -d '+6 seconds' +%s)
ind 3 "short-lived" "[ipv4-addr:value = '192.0.2.1']" ",\"valid_until\":\"$(date -u -d "@$until" +%Y-%m-%dT%H:%M:%SZ)\"" >"$T/f.json"
: >"$T/live2.json"
"$ACCORD" match --follow --indicators "$T/f.json" "$T/live2.json" >"$T/s.out" 2>"$T/s.err" &
pid=$!
conn 1 192.0.2.1 >>"$T/live2.json"
wait_for "match before valid_until" count_is "$T/s.out" 1
while [ "$(date +%s)" -le "$until" ]; do sleep 0.2; done
conn 2 192.0.2.1 >>"$T/live2.json" # after valid_until: no match
ind 4 "late" "[ipv4-addr:value = '192.0.2.2']" >>"$T/f.json"
wait_for "changed indicator file reloaded" grep -q "indicator files changed: indicators reloaded: 1 " "$T/s.err"
{ conn 3 192.0.2.2; conn 4 192.0.2.1; } >>"$T/live2.json"
wait_for "the indicator added to the file matches" count_is "$T/s.out" 2
kill -INT $pid
wait $pid
check "SIGINT ends with 0" test $? = 0
check "the expired indicator matched only before its end" test "$(grep -c short-lived "$T/s.out")" = 1
check "the new indicator matched event 3" grep -q '"time":3,.*"name":"late"' "$T/s.out"
check "totals: 4 events, 2 matches" grep -q "4 events, .* 2 matches" "$T/s.err"

# --- a .gz input with --follow: read once (not its compressed bytes again), said so ----------
{ conn 1 192.0.2.2; conn 2 192.0.2.9; } | gzip >"$T/old.json.gz"
: >"$T/live3.json"
"$ACCORD" match --follow --event-bytes 0 --indicators "$T/f.json" "$T/old.json.gz" "$T/live3.json" >"$T/g.out" 2>"$T/g.err" &
pid=$!
wait_for "the compressed input matched" count_is "$T/g.out" 1
conn 3 192.0.2.2 >>"$T/live3.json"
wait_for "the plain input followed beside it" count_is "$T/g.out" 2
kill -TERM $pid
wait $pid
check "gz with --follow: exit 0, no malformed line" test $? = 0
check "gz with --follow: told it is not followed" grep -q "old.json.gz: compressed; read to its end, not followed" "$T/g.err"
check "gz with --follow: 3 events, 2 matches" grep -q "3 events, .* 2 matches, 0 malformed" "$T/g.err"

# --- a directory: files created later are followed from their start (subdirectories too); a
# file renamed by rotation and a compressed one are told, not read again ---------------------
mkdir -p "$T/logs/sub"
conn 1 198.51.100.7 >"$T/logs/a.json"
"$ACCORD" match --follow --event-bytes 0 "$T/logs" >"$T/d.out" 2>"$T/d.err" &
pid=$!
wait_for "the file there at the start" count_is "$T/d.out" 1
{ conn 2 198.51.100.7; dns 3 x.evil.example; } >"$T/logs/sub/b.json"
wait_for "a file created later, in a subdirectory, read from its start" count_is "$T/d.out" 3
wait_for "said so" grep -q "sub/b.json: new file, followed" "$T/d.err"
conn 4 198.51.100.7 >>"$T/logs/sub/b.json"
wait_for "the new file followed as it grows" count_is "$T/d.out" 4
mv "$T/logs/a.json" "$T/logs/a.json.1"
conn 5 198.51.100.7 >"$T/logs/a.json"
wait_for "the new file at the rotated path" count_is "$T/d.out" 5
conn 6 198.51.100.7 | gzip >"$T/logs/a.json.2.gz"
wait_for "the renamed file: told, not read again" grep -q "a.json.1: a file read under another name (rotated); not read" "$T/d.err"
wait_for "the compressed file: told, not read" grep -q "a.json.2.gz: new, compressed (a rotated log); not read" "$T/d.err"
conn 7 198.51.100.7 >>"$T/logs/a.json"
wait_for "the new a.json followed" count_is "$T/d.out" 6
kill -TERM $pid
wait $pid
check "directory run ends with 0" test $? = 0
check "directory: every event once, in order" test "$(sed 's/^{"time":\([0-9]*\),.*/\1/' "$T/d.out" | tr '\n' ' ')" = "1 2 3 4 5 7 "
finish
