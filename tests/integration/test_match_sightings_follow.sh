#!/usr/bin/env bash
# accord match --follow --report: the sightings of each interval are written as the interval
# closes (so a killed run keeps them), the open ones when SIGTERM ends the run, and an unknown
# --report collection is an error at the start, not when the first sightings are written.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/match_lib.sh"
require_tool sqlite3 "the store is checked after SIGKILL"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2023-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
conn() { printf '{"ts":%s,"id.orig_h":"10.0.0.1","id.resp_h":"%s"}\n' "$1" "$2"; }
# stored PATTERN: a sighting in collection "live" has PATTERN (read with accord export)
stored() { "$ACCORD" export --collection live 2>/dev/null | tr '{' '\n' | grep '"type":"sighting"' | grep -q -- "$1"; }
C2='"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001"'

ind 1 "c2 address" "[ipv4-addr:value = '198.51.100.7']" >"$T/ind.jsonl"
expect_rc 0 "import indicators" -- "$ACCORD" import "$T/ind.jsonl"
expect_rc 0 "add collection" -- "$ACCORD" collection add --alias live "Live sightings"

# --- an unknown collection: an error at once, naming it (the run would follow forever) ---------
: >"$T/live.json"
expect_rc 1 "unknown --report collection" -- timeout 10 "$ACCORD" match --follow --report nosuch "$T/live.json"
check "the error names the collection" has "nosuch: no such collection" "$T/err"
expect_rc 1 "unknown collection without --follow" -- "$ACCORD" match --report nosuch "$T/live.json"

# --- closed intervals written while following; kept when the run is killed --------------------
# 1700000000 = 2023-11-14T22:13:20Z: its minute (22:13) ended long ago
"$ACCORD" match --follow --report live --sightings-interval 60 "$T/live.json" >"$T/a.out" 2>"$T/a.err" &
pid=$!
{ conn 1700000000.1 198.51.100.7; conn 1700000001.2 198.51.100.7; } >>"$T/live.json"
wait_for "a closed interval written while running" stored "\"count\":2,\"first_seen\":\"2023-11-14T22:13:20.100000Z\",\"last_seen\":\"2023-11-14T22:13:21.200000Z\",$C2"
wait_for "said so on stderr" grep -q "sightings of closed intervals to live" "$T/a.err"
# a later minute, and a late event of the minute written already: its whole count again
{ conn 1700000100.0 198.51.100.7; conn 1700000002.0 198.51.100.7; } >>"$T/live.json"
wait_for "the next interval written" stored "\"count\":1,\"first_seen\":\"2023-11-14T22:15:00.000000Z\",.*$C2"
wait_for "the late event: the whole count, a new version" stored "\"count\":3,\"first_seen\":\"2023-11-14T22:13:20.100000Z\",\"last_seen\":\"2023-11-14T22:13:22.000000Z\",$C2"
# a late event with the same time as the last one: a newer version all the same (not a conflict)
conn 1700000002.0 198.51.100.7 >>"$T/live.json"
wait_for "a late event of the same time: the whole count, a newer version" stored "\"modified\":\"2023-11-14T22:13:22.000003Z\",.*\"count\":4,\"first_seen\":\"2023-11-14T22:13:20.100000Z\",\"last_seen\":\"2023-11-14T22:13:22.000000Z\",$C2"
check "no conflict reported" sh -c "! grep -q conflict '$T/a.err'"
check "no sighting with the late event's count alone" sh -c "! \"$ACCORD\" export --collection live | tr '{' '\n' | grep -q '\"count\":1,\"first_seen\":\"2023-11-14T22:13:22'"
check "its own writes are no indicator change (no reload)" sh -c "! grep -q 'store changed' '$T/a.err'"
{ kill -KILL $pid; wait $pid; } 2>/dev/null
# What a kill can break is the store the next process opens: a transaction cut short, a WAL that
# must be replayed, a lock left behind.  Each read below is made by a new process after the kill.
check "after SIGKILL the store passes integrity_check" sh -c "[ \"\$(sqlite3 -cmd '.timeout 10000' '$ACCORD_DATA/accord.db' 'PRAGMA integrity_check')\" = ok ]"
expect_rc 0 "after SIGKILL the store opens for writing" -- "$ACCORD" collection add --alias after "After the kill"
check "after SIGKILL the first interval is there with its whole count" stored "\"count\":4,\"first_seen\":\"2023-11-14T22:13:20.100000Z\",\"last_seen\":\"2023-11-14T22:13:22.000000Z\",$C2"
check "after SIGKILL the second interval is there with its count" stored "\"count\":1,\"first_seen\":\"2023-11-14T22:15:00.000000Z\",.*$C2"
# the same events again, by a new run: the same sightings, nothing new and no conflict
expect_rc 0 "a second run over the same events" -- "$ACCORD" match --report live --sightings-interval 60 "$T/live.json"
check "it writes nothing new" has "2 sightings to live (0 objects new or updated, 3 unchanged)" "$T/err"

# --- an open interval: written when SIGTERM ends the run, not before ----------------------------
# the hour of now, not close to its end (the test needs a few seconds inside it)
while [ $(( $(date +%s) % 3600 )) -gt 3570 ]; do sleep 1; done
now=$(date +%s)
hour=$(date -u -d "@$((now - now % 3600))" +%Y-%m-%dT%H:00:00)
: >"$T/live2.json"
"$ACCORD" match --follow --report live --event-bytes 0 "$T/live2.json" >"$T/b.out" 2>"$T/b.err" &
pid=$!
conn "$now.5" 198.51.100.7 >>"$T/live2.json"
wait_for "the match of the open hour" grep -q 198.51.100.7 "$T/b.out"
sleep 2.5 # two looks of the monitor: the hour is open, nothing written
check "an open interval is not written while running" sh -c "! \"$ACCORD\" export --collection live | tr '{' '\n' | grep '\"type\":\"sighting\"' | grep -q '\"created\":\"$hour'"
kill -TERM $pid
wait $pid
check "SIGTERM ends the run with 0" test $? = 0
check "the open interval written at the end" grep -q "accord match: 1 sightings to live" "$T/b.err"
check "and it is in the store" stored "\"created\":\"$hour.*\"count\":1,.*$C2"
finish
