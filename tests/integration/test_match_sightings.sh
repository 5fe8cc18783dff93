#!/usr/bin/env bash
# accord match --sightings / --report: matches aggregated per indicator and interval into STIX
# 2.1 sightings, stored with this node's identity, in the collection TAXII clients read.
. "$(dirname "$0")/lib.sh" "$@"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2023-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
{
  ind 1 "c2 address" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "evil domains" "[domain-name:value LIKE '%.evil.example']"
} >"$T/ind.jsonl"

# 1700000000 = 2023-11-14T22:13:20Z; the hour interval starts at 22:00:00
cat >"$T/zeek.json" <<'EOF2'
{"ts":1700000000.1,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7"}
{"ts":1700000100.2,"uid":"C2","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7","query":"www.evil.example"}
{"ts":1700000200.3,"uid":"C3","id.orig_h":"10.0.0.2","id.resp_h":"198.51.100.7"}
{"ts":1700009000.0,"uid":"C4","id.orig_h":"10.0.0.3","id.resp_h":"198.51.100.7"}
{"ts":1700000300.0,"uid":"C5","id.orig_h":"10.0.0.4","query":"a.evil.example"}
EOF2

expect_rc 0 "import indicators" -- "$ACCORD" import "$T/ind.jsonl"
expect_rc 0 "add collection" -- "$ACCORD" collection add --alias sightings "Sightings"
expect_rc 0 "match --report" -- "$ACCORD" match --report sightings --threads 2 "$T/zeek.json"
check "report line on stderr" has "3 sightings to sightings" "$T/err"
expect_rc 0 "export the collection" -- "$ACCORD" export --collection sightings
tr '{' '\n' <"$T/out" >"$T/objs"
check "three sightings" test "$(grep -c '"type":"sighting"' "$T/objs")" = 3
check "one identity" test "$(grep -c '"type":"identity"' "$T/objs")" = 1
check "c2 hour 22: count 3" grep -q '"count":3,"first_seen":"2023-11-14T22:13:20.100000Z","last_seen":"2023-11-14T22:16:40.300000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001"' "$T/objs"
check "c2 hour 00: count 1" grep -q '"count":1,"first_seen":"2023-11-15T00:43:20.000000Z",.*"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001"' "$T/objs"
check "domain: count 2" grep -q '"count":2,.*"sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000002"' "$T/objs"
IDENT=$(grep -o '"id":"identity--[0-9a-f-]*"' "$T/objs" | head -1 | cut -d'"' -f4)
check "identity id shape" test "${#IDENT}" = 46
check "sightings are sighted by the node" test "$(grep -c "\"where_sighted_refs\":\[\"$IDENT\"\]" "$T/objs")" = 3

# the same run again: same ids, same content, nothing new
expect_rc 0 "match --report again" -- "$ACCORD" match --report sightings "$T/zeek.json"
check "rerun writes nothing new" has "(0 objects new or updated, 4 unchanged)" "$T/err"

# more matches in an interval: a new version of that sighting only
printf '{"ts":1700000400.0,"id.resp_h":"198.51.100.7"}\n' >"$T/more.json"
cat "$T/zeek.json" "$T/more.json" >"$T/all.json"
expect_rc 0 "match with one more event" -- "$ACCORD" match --report sightings "$T/all.json"
check "one new version" has "(1 objects new or updated, 3 unchanged)" "$T/err"

# --sightings alone: the default collection; an unknown collection is an error
expect_rc 0 "match --sightings" -- "$ACCORD" match --sightings --sightings-interval 60 "$T/zeek.json"
expect_rc 1 "unknown collection" -- "$ACCORD" match --report nosuch "$T/zeek.json"
expect_rc 2 "bad interval" -- "$ACCORD" match --sightings-interval 0 "$T/zeek.json"
finish
