#!/usr/bin/env bash
# accord match --follow and its inputs' content: gzip told by its first bytes, not its name (read
# once, not followed as text, also when a followed file becomes gzip); an --indicators file being
# written (emptied, a last line without its end, written a line at a time) is not read until it
# is whole and settled, and the current indicators are kept meanwhile, said once.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/match_lib.sh"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
conn() { printf '{"ts":%s,"id.orig_h":"10.0.0.1","id.resp_h":"%s","id.resp_p":443}\n' "$1" "$2"; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
count_is() { [ "$(lines "$1")" = "$2" ]; }
ind 4 "late" "[ipv4-addr:value = '192.0.2.2']" >"$T/f.json"

# --- gzip is told by its content, not its name: read once, not followed as text ----------------
{ conn 1 192.0.2.2; conn 2 192.0.2.2; } | gzip >"$T/gzlog.log"
conn 3 192.0.2.2 | gzip >"$T/notgz.json.gz.txt"
printf '{"ts":4,"id.resp_h":"192.0.2.2"}\n' >"$T/plain.gz" # a plain file named .gz: followed
: >"$T/late.log"
"$ACCORD" match --follow --event-bytes 0 --indicators "$T/f.json" "$T/gzlog.log" "$T/plain.gz" "$T/late.log" >"$T/z.out" 2>"$T/z.err" &
pid=$!
wait_for "gzip content under a .log name matched" count_is "$T/z.out" 3
conn 5 192.0.2.2 >>"$T/plain.gz"
wait_for "a plain file named .gz followed" count_is "$T/z.out" 4
cat "$T/notgz.json.gz.txt" >>"$T/late.log" # gzip bytes written into a file followed while empty
sleep 0.5
conn 6 192.0.2.2 >>"$T/plain.gz"
wait_for "the plain file still followed" count_is "$T/z.out" 5
kill -TERM $pid
wait $pid
check "gzip by content: exit 0, no malformed line" test $? = 0
check "gzip by content: told it is not followed" grep -q "gzlog.log: compressed; read to its end, not followed" "$T/z.err"
check "gzip by content: a file that became gzip told, not read" grep -q "late.log: compressed (gzip); not followed" "$T/z.err"
check "gzip by content: the events in order" test "$(sed 's/^{"time":\([0-9]*\),.*/\1/' "$T/z.out" | tr '\n' ' ')" = "1 2 4 5 6 "
check "gzip by content: 5 events, 0 malformed" grep -q "5 events, .* 5 matches, 0 malformed" "$T/z.err"

# --- an indicator file being written is not read until it is whole --------------------------
# emptied (: >, curl >): kept until it stays empty; a last line without its end: kept; written a
# line at a time: read once it settles, never part of it
: >"$T/live4.json"
{ ind 5 "w1" "[ipv4-addr:value = '192.0.2.51']"; ind 6 "w2" "[ipv4-addr:value = '192.0.2.52']"; } >"$T/w.json"
"$ACCORD" match --follow --event-bytes 0 --indicators "$T/w.json" "$T/live4.json" >"$T/w.out" 2>"$T/w.err" &
pid=$!
conn 1 192.0.2.51 >>"$T/live4.json"
wait_for "w: the first match" count_is "$T/w.out" 1
: >"$T/w.json"
wait_for "w: emptied file: the current indicators kept, said" grep -q "w.json: empty (being written again?), for now; keeping the current indicators" "$T/w.err"
conn 2 192.0.2.51 >>"$T/live4.json"
wait_for "w: the kept indicators match" count_is "$T/w.out" 2
ind 7 "w3" "[ipv4-addr:value = '192.0.2.53']" | head -c 120 >"$T/w.json"
wait_for "w: last line incomplete: kept, said" grep -q "w.json: its last line is incomplete (being written?); keeping the current indicators" "$T/w.err"
conn 3 192.0.2.52 >>"$T/live4.json"
wait_for "w: still the kept indicators" count_is "$T/w.out" 3
check "w: no reload so far" test "$(grep -c 'indicators reloaded' "$T/w.err")" = 0
check "w: each wait said once" test "$(grep -c 'keeping the current indicators' "$T/w.err")" = 2
: >"$T/w.json"
for n in 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do # a slow writer: 1.5 s
  ind $n "s$n" "[ipv4-addr:value = '192.0.2.$n']" >>"$T/w.json"; sleep 0.1
done
wait_for "w: the rewritten file reloaded" grep -q "indicator files changed: indicators reloaded: " "$T/w.err"
check "w: reloaded whole, never in part" test "$(grep -o 'indicators reloaded: [0-9]*' "$T/w.err" | sort -u)" = "indicators reloaded: 15"
conn 4 192.0.2.25 >>"$T/live4.json"
wait_for "w: the new indicators match" count_is "$T/w.out" 4
: >"$T/w.json"
wait_for "w: emptied for good: loaded empty, said" grep -q "w.json: empty for 3 s: read as it is, with no indicators" "$T/w.err"
wait_for "w: reloaded with none" grep -q "indicators reloaded: 0 " "$T/w.err"
{ conn 5 192.0.2.25; conn 6 192.0.2.51; } >>"$T/live4.json"
sleep 0.5
kill -TERM $pid
wait $pid
check "w: ends with 0" test $? = 0
check "w: matches 1-4 only" test "$(sed 's/^{"time":\([0-9]*\),.*/\1/' "$T/w.out" | tr '\n' ' ')" = "1 2 3 4 "

finish
