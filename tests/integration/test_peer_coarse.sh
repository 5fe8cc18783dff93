#!/usr/bin/env bash
# Pulling from a foreign TAXII server whose date_added has whole-second precision, so that many
# objects share one date_added and pages end in the middle of such a group (peer_coarse.py).
# 35 objects: 2, 9, 1, 20 and 3 sharing each second; pages of 4.  Checks:
#   - one walk stores all 35 exactly once (no skip, no repeat across an equal-date_added page
#     boundary), widening the full pages of one instant (limits 8, 16 and 32 asked), and ends
#     with the cursor at the last date_added, over one kept-alive connection; a second sync moves
#     nothing; 6 new objects sharing one new second (more than a page) arrive on the next sync;
#   - a server that caps its page at 8 whatever limit asks, with the 20-object group: widening
#     cannot help, the walk goes on by `next` and stores all 35;
#   - a walk cut by a failed request at 4 different points (what a crash costs): after each cut
#     the committed cursor is never ahead of the data (every object added at or before it is
#     stored), nothing is stored twice, and the walk resumed from the cursor completes the set.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
command -v python3 >/dev/null || {
  [ -n "${CI:-}" ] && { echo "FAIL: python3 is missing" >&2; exit 1; }
  echo "SKIP: python3 is not installed (the foreign TAXII server is a Python server)"
  exit 77
}
node_start b || { bad "node B start"; finish; }
node_stop b # B syncs by hand; its certificate and key serve the foreign server

S=2026-03-01T10:00:0
# OBJFILE lines: DATE_ADDED<TAB>object; objects FROM..TO of group 9 added at second SEC
add_group() { gen_indicators 9 "$1" "$2" clear | awk -v t="${S}$3Z" '{print t "\t" $0}' >>"$T/objs"; }
: >"$T/objs"
add_group 1 2 1
add_group 3 11 2
add_group 12 12 3
add_group 13 32 4
add_group 33 35 5
python3 "$ROOT/tests/integration/peer_coarse.py" "$T/b/tls/cert.pem" "$T/b/tls/key.pem" \
  "$T/objs" "$T/fport" 2>"$T/py.err" &
PY=$!
trap 'kill $PY 2>/dev/null; [ -n "${KEEP:-}" ] && cp -r "$T" /tmp/coarse-keep; nodes_cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$T/fport" ] && break; sleep 0.1; done
[ -s "$T/fport" ] || { bad "the foreign server did not start: $(cat "$T/py.err")"; finish; }
printf 'tok\n' >"$T/tok"
URL="https://localhost:$(cat "$T/fport")/api/"
add_peer() { # NODE PEER COLLECTION
  ncli "$1" peer add "$2" "$URL" --collection "$3" --pull --interval 0 --page 4 \
    --token-file "$T/tok" --cacert "$T/b.ca" >/dev/null
}
# state NODE PEER: checks the node's store against OBJFILE: every object added at or before the
# peer's cursor is stored, no (id, version) twice; prints "ids N dups N behind N cursor C"
state() {
  python3 - "$T/$1/accord.db" "$2" "$T/objs" <<'PY'
import re, sqlite3, sys, datetime
def ts(s):
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S") + \
        datetime.timedelta(microseconds=int((m.group(2) or "")[:6].ljust(6, "0")))
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = db.execute("SELECT id, modified FROM objects WHERE type = 'indicator'").fetchall()
ids = {r[0] for r in rows}
cur = db.execute("SELECT cursor FROM peer_cursors WHERE peer = ?", (sys.argv[2],)).fetchone()
behind = 0
for line in open(sys.argv[3]):
    added, obj = line.rstrip("\n").split("\t", 1)
    oid = re.search(r'"id":"([^"]+)"', obj).group(1)
    if cur and ts(added) <= ts(cur[0]) and oid not in ids:
        behind += 1
print("ids %d dups %d behind %d cursor %s" % (len(ids), len(rows) - len(set(rows)), behind,
                                              cur[0] if cur else "-"))
PY
}

# one walk, pages of 4
add_peer b f c1
ncli b sync f >"$T/s1" 2>"$T/s1.err"
check "the walk stores all 35 once, widening 4 times" \
  grep -q "^f	pages 3	objects 35	stored 35	duplicates 0	.*	widened 4	cursor ${S}5Z$" "$T/s1" ||
  cat "$T/s1" "$T/s1.err" >&2
for l in 8 16 32; do
  check "a page widened to $l was asked" grep -q "^limit=$l " "$T/objs.log"
done
check "the walk's 7 requests share one connection (keep-alive)" \
  [ "$(sed -n 's/.* conn=\([0-9]*\)$/\1/p' "$T/objs.log" | sort -u | wc -l)" = 1 ]
state b f >"$T/st"
check "B holds 35 indicators, none twice, cursor at the last second" \
  grep -qx "ids 35 dups 0 behind 0 cursor ${S}5Z" "$T/st" || cat "$T/st" >&2
ncli b sync f >"$T/s2" 2>&1
check "a second sync moves nothing" grep -q "^f	pages 1	objects 0	stored 0	" "$T/s2" || cat "$T/s2" >&2
add_group 36 41 6
ncli b sync f >"$T/s3" 2>&1
check "6 new objects of one second (more than a page) arrive" \
  grep -q "^f	pages 1	objects 6	stored 6	duplicates 0	.*	widened 1	cursor ${S}6Z$" "$T/s3" ||
  cat "$T/s3" >&2
sed -i "/^${S}6Z\t/d" "$T/objs" # back to 35

# a server that never serves more than 8 a page
add_peer c cap cap8
: >"$T/objs.log"
ncli c sync cap >"$T/c1" 2>"$T/c1.err"
check "with the server's cap of 8, the walk still completes" \
  grep -q "^cap	pages [0-9]*	objects 35	stored 35	duplicates 0	.*	cursor ${S}5Z$" "$T/c1" ||
  cat "$T/c1" "$T/c1.err" >&2
state c cap >"$T/st"
check "C holds 35 indicators, none twice" grep -qx "ids 35 dups 0 behind 0 cursor ${S}5Z" "$T/st" ||
  cat "$T/st" >&2
N=$(wc -l <"$T/objs.log")
[ "$N" -le 20 ] && ok || bad "the capped walk took $N requests (widening in vain?)"

# cuts: the K-th request of a sync fails; the cursor stays with the data
add_peer d f c1
for k in 2 3 4 3; do
  echo "$k" >"$T/objs.fail"
  expect_rc 1 "the sync cut at request $k fails" -- ncli d sync f
  check "cut at request $k: named" grep -q "peer f: GET .*HTTP 500: Internal error: simulated crash" "$T/err" ||
    cat "$T/err" >&2
  state d f >"$T/st"
  check "cut at request $k: cursor not ahead of the data, no duplicates" grep -q "dups 0 behind 0" "$T/st" ||
    cat "$T/st" >&2
done
rm -f "$T/objs.fail"
ncli d sync f >"$T/d1" 2>&1
check "the resumed walk completes" grep -q "^f	pages .*	cursor ${S}5Z$" "$T/d1" || cat "$T/d1" >&2
state d f >"$T/st"
check "D holds all 35 once after the cuts" grep -qx "ids 35 dups 0 behind 0 cursor ${S}5Z" "$T/st" ||
  cat "$T/st" >&2
finish
