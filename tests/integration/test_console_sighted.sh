#!/usr/bin/env bash
# test_console_sighted.sh - the console's sighting aggregates (tables sighted and sighting_hours)
# after sightings stored every way a store gets them: `accord import` into two collections (new
# versions, a revoked one, a version already stored linked into a second collection), `accord
# match --report` and `--sightings` (their reruns making new versions), and a TAXII POST.
#
# Since schema 12 the insert path keeps the aggregates (store.c sight_upkeep) where INSERT
# triggers did before.  Checked: (1) they are what the sightings rows add up to (the schema-11
# migration's own fill, recomputed here); (2) they are, row for row, what schema 11's accord kept
# for the same steps (tests/data/console/sighted-schema11.txt, written by that accord with
# SIGHTED_RECORD=FILE); (3) no INSERT trigger is left on sightings.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

EXPECTED="$ROOT/tests/data/console/sighted-schema11.txt"
if ! command -v sqlite3 >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then bad "sqlite3 is not installed (debian-packages.txt lists it)"; finish; fi
  echo "skip: sqlite3 not installed"; exit 77
fi
DATA=$T/data
DB=$DATA/accord.db
ID=00000000-0000-4000-8000
ind() { # ind N PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"%s","pattern_type":"stix","valid_from":"2023-01-01T00:00:00Z"}\n' "$ID" "$1" "$2"
}
sig() { # sig N MODIFIED OF EXTRA: a sighting created 2023-11-14T20:00Z
  printf '{"type":"sighting","spec_version":"2.1","id":"sighting--%s-%012d","created":"2023-11-14T20:00:00.000Z","modified":"%s",%s"sighting_of_ref":"indicator--%s-%012d"}\n' \
    "$ID" "$1" "$2" "$4" "$ID" "$3"
}

{
  ind 1 "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "[domain-name:value LIKE '%.evil.example']"
  ind 3 "[ipv4-addr:value = '203.0.113.9']"
  sig 1 2023-11-14T20:00:00.000Z 1 '"first_seen":"2023-11-14T21:10:00Z","count":3,'
  sig 2 2023-11-14T20:00:00.000Z 1 '"first_seen":"2023-11-14T21:50:00Z",'
  sig 3 2023-11-14T20:00:00.000Z 3 '"count":7,'
  sig 4 2023-11-14T20:00:00.000Z 3 '"first_seen":"2023-11-15T03:00:00Z","count":2,"revoked":true,'
} >"$T/a.jsonl"
{
  sig 2 2023-11-15T00:00:00.000Z 1 '"first_seen":"2023-11-14T23:05:00Z","count":9,'
  sig 5 2023-11-14T20:00:00.000Z 2 '"first_seen":"2023-11-14T22:30:00Z","count":4,'
} >"$T/b.jsonl"
cat >"$T/zeek.json" <<'EOF2'
{"ts":1700000000.1,"uid":"C1","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7"}
{"ts":1700000100.2,"uid":"C2","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7","query":"www.evil.example"}
{"ts":1700009000.0,"uid":"C4","id.orig_h":"10.0.0.3","id.resp_h":"203.0.113.9"}
EOF2
printf '{"ts":1700000400.0,"id.resp_h":"198.51.100.7"}\n' | cat "$T/zeek.json" - >"$T/zeek2.json"

expect_rc 0 "import indicators and sightings" -- cli import "$T/a.jsonl"
expect_rc 0 "add a collection" -- cli collection add --alias second "Second"
expect_rc 0 "add the match collection" -- cli collection add --alias sightings "Sightings"
expect_rc 0 "import into the second collection" -- cli import --collection second "$T/b.jsonl"
expect_rc 0 "link a stored version into the second collection" -- \
  cli import --collection second "$T/a.jsonl"
expect_rc 0 "match --report" -- cli match --report sightings "$T/zeek.json"
expect_rc 0 "match --sightings (default collection)" -- \
  cli match --sightings --sightings-interval 60 "$T/zeek.json"
expect_rc 0 "match again with one more event (a new version)" -- \
  cli match --report sightings "$T/zeek2.json"

start_server "$DATA" || { bad "server start"; finish; }
SEC=$(collection_id second)
s6=$(sig 6 2023-11-14T20:00:00.000Z 3 '"first_seen":"2023-11-14T22:59:59Z","count":5,' | tr -d '\n')
s1=$(sig 1 2023-11-16T00:00:00.000Z 1 '"first_seen":"2023-11-14T21:10:00Z","count":1,' | tr -d '\n')
s3=$(sig 3 2023-11-14T20:00:00.000Z 3 '"count":7,' | tr -d '\n')
post "/accord/collections/$SEC/objects/" "$(envelope "$s6" "$s1" "$s3")"
expect 202 "TAXII POST of sightings (new, a new version, a stored one)"
body_has '"success_count":3' "all three taken"
stop_server

sighted="SELECT s.of_ref, s.n, g.t, g.n FROM sighted s JOIN sightings g ON g.coll = 0
         AND g.added = s.last ORDER BY s.of_ref"
hours="SELECT c.alias, h.hour, h.sightings, h.n FROM sighting_hours h
       JOIN collections c ON c.cid = h.coll ORDER BY c.alias, h.hour"
{
  echo "# sighted: of_ref, count, the last one's t and n"
  sqlite3 "$DB" "$sighted"
  echo "# sighting_hours: collection, hour, sightings, n"
  sqlite3 "$DB" "$hours"
} >"$T/kept"
if [ -n "${SIGHTED_RECORD:-}" ]; then cp "$T/kept" "$SIGHTED_RECORD"; fi
check "some sighted rows and hours" test "$(wc -l <"$T/kept")" -ge 12

# (1) what the sightings rows add up to (the fill of the schema-11 migration); hours that went
# to zero stay as rows
agg_s="SELECT of_ref, max(added), count(*) FROM sightings WHERE coll = 0 AND of_ref IS NOT NULL
       AND (flags & 2) = 0 GROUP BY of_ref"
agg_h="SELECT coll, t - ((t % 3600) + 3600) % 3600, count(*), sum(n) FROM sightings
       WHERE coll != 0 AND (flags & 3) = 0 GROUP BY 1, 2"
diff_s="SELECT (SELECT count(*) FROM ($agg_s EXCEPT SELECT of_ref, last, n FROM sighted))
        + (SELECT count(*) FROM (SELECT of_ref, last, n FROM sighted EXCEPT $agg_s))"
diff_h="SELECT (SELECT count(*) FROM ($agg_h EXCEPT SELECT * FROM sighting_hours))
        + (SELECT count(*) FROM (SELECT * FROM sighting_hours WHERE sightings != 0
           EXCEPT $agg_h))"
check "sighted is the aggregate of the sightings rows" test "$(sqlite3 "$DB" "$diff_s")" = 0
check "sighting_hours is the aggregate of the sightings rows" test "$(sqlite3 "$DB" "$diff_h")" = 0

# (2) what schema 11's accord kept (INSERT triggers) for the same steps
if [ -z "${SIGHTED_RECORD:-}" ]; then
  check "the aggregates are schema 11's, row for row" diff -u "$EXPECTED" "$T/kept"
fi

# (3) the INSERT triggers are gone, the UPDATE and DELETE ones stay
q_trig="SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'trigger'
        AND tbl_name = 'sightings' ORDER BY name)"
check "triggers on sightings: UPDATE and DELETE only" test "$(sqlite3 "$DB" "$q_trig")" = \
  "sighted_del sighted_flags sighting_hours_del sighting_hours_flags"
finish
