#!/usr/bin/env bash
# `accord serve`: pagination.  Walking a collection with `next` and with
# added_after=<X-TAXII-Date-Added-Last> sees every object exactly once, in date_added order; the
# same while another client keeps adding objects and versions, and `accord import` writes too (no (id, version) twice in one walk,
# every object present before the walk seen), with parallel readers.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

start_server || { bad "server start"; finish; }
DEF=$(collection_id default)
cli collection add --alias other Other >/dev/null
OTH=$(collection_id other)
C=/accord/collections/$DEF
NSEED=500
V1=2026-01-10T09:10:00.000Z
V2=2026-02-10T09:10:00.000Z

# seed: 500 objects in 5 envelopes, interleaved with objects in another collection
for b in 0 1 2 3 4; do
  objs=()
  for i in $(seq 1 100); do
    n=$((b * 100 + i))
    objs+=("$(indicator "$(mkid indicator 1 "$n")" "$V1" "$n")")
  done
  post "$C/objects/" "$(envelope "${objs[@]}")"
  expect 202 "seed envelope $b"
  body_has '"success_count":100' "seed envelope $b: all stored"
  post "/accord/collections/$OTH/objects/" "$(envelope "$(indicator "$(mkid indicator 2 "$b")" "$V1" "$b")")"
done
# ten of them get a second version
objs=()
for n in 5 50 150 250 350 400 450 480 499 500; do objs+=("$(indicator "$(mkid indicator 1 "$n")" "$V2" "$n")"); done
post "$C/objects/" "$(envelope "${objs[@]}")"
body_has '"success_count":10' "second versions stored"
for n in $(seq 1 $NSEED); do mkid indicator 1 "$n"; echo; done | sort >"$T/seed.ids"

# fetch URL PREFIX: one page into PREFIX.body / PREFIX.hdr; prints the status
fetch() {
  curl -g -s --max-time 30 --cacert "$T/cacert.pem" -H "Authorization: Bearer $TOKEN" \
    -H "Accept: $TAXII_CT" -D "$2.hdr" -o "$2.body" -w '%{http_code}' "$1" 2>/dev/null
}
# pairs FILE: "id modified" of each object in a body (objects carry id, created, modified in order)
pairs() { grep -o '"id":"[^"]*","created":"[^"]*","modified":"[^"]*"' "$1" | sed 's/"id":"\([^"]*\)","created":"[^"]*","modified":"\([^"]*\)"/\1 \2/'; }

# walk MODE QUERY OUT [PATH]: pages through PATH (default the objects endpoint) with limit in QUERY,
# following `next` (MODE next) or added_after=<X-TAXII-Date-Added-Last> (MODE added_after).
# Writes OUT.pairs ("id modified" per object, in order), OUT.pages and OUT.err (problems).
walk() {
  local mode=$1 query=$2 out=$3 path=${4:-$C/objects/}
  local url="$BASE$path?$query" cursor= pages=0 prev_last= code first last
  : >"$out.pairs"
  : >"$out.err"
  while [ $pages -lt 2000 ]; do
    code=$(fetch "$url${cursor:+&$cursor}" "$out.page")
    pages=$((pages + 1))
    if [ "$code" != 200 ]; then
      echo "page $pages: status $code" >>"$out.err"
      break
    fi
    pairs "$out.page.body" >>"$out.pairs"
    grep -q '"objects":\[' "$out.page.body" || break # an empty last page
    first=$(grep -i '^X-TAXII-Date-Added-First:' "$out.page.hdr" | sed 's/^[^:]*: *//' | tr -d '\r')
    last=$(grep -i '^X-TAXII-Date-Added-Last:' "$out.page.hdr" | sed 's/^[^:]*: *//' | tr -d '\r')
    [ -z "$first" -o -z "$last" ] && echo "page $pages: no X-TAXII-Date-Added headers" >>"$out.err"
    [ -n "$prev_last" ] && ! [ "$first" \> "$prev_last" ] &&
      echo "page $pages: Date-Added-First $first not after the previous page's last $prev_last" >>"$out.err"
    [ "$first" \> "$last" ] && echo "page $pages: First $first after Last $last" >>"$out.err"
    prev_last=$last
    grep -q '"more":true' "$out.page.body" || break
    if [ "$mode" = next ]; then
      cursor="next=$(sed -n 's/.*"next":"\([^"]*\)".*/\1/p' "$out.page.body")"
      [ "$cursor" = "next=" ] && { echo "page $pages: more without next" >>"$out.err"; break; }
    else
      cursor="added_after=$last"
    fi
  done
  echo "$pages" >"$out.pages"
}

# --- a quiet collection ----------------------------------------------------------------------------------
walk next "limit=7" "$T/w1"
check "next walk: no errors" test ! -s "$T/w1.err"
[ -s "$T/w1.err" ] && sed 's/^/  | /' "$T/w1.err" >&2
check "next walk: $NSEED objects (got $(wc -l <"$T/w1.pairs"))" test "$(wc -l <"$T/w1.pairs")" = $NSEED
check "next walk: each id once" test "$(cut -d' ' -f1 "$T/w1.pairs" | sort -u | wc -l)" = $NSEED
check "next walk: exactly the seeded ids" cmp -s <(cut -d' ' -f1 "$T/w1.pairs" | sort) "$T/seed.ids"
check "next walk: 72 pages (got $(cat "$T/w1.pages"))" test "$(cat "$T/w1.pages")" = 72
check "next walk: latest versions" test "$(grep -c " $V2\$" "$T/w1.pairs")" = 10
check "next walk: the re-versioned objects come last" test "$(tail -n 10 "$T/w1.pairs" | grep -c " $V2\$")" = 10
check "next walk: no object of the other collection" test "$(grep -c 'indicator--00000002-' "$T/w1.pairs")" = 0

walk added_after "limit=9" "$T/w2"
check "added_after walk: no errors" test ! -s "$T/w2.err"
[ -s "$T/w2.err" ] && sed 's/^/  | /' "$T/w2.err" >&2
check "added_after walk: same objects in the same order" cmp -s "$T/w1.pairs" "$T/w2.pairs"

walk next "limit=13&match[version]=all" "$T/w3"
check "all versions walk: no errors" test ! -s "$T/w3.err"
check "all versions walk: $((NSEED + 10)) versions" test "$(wc -l <"$T/w3.pairs")" = $((NSEED + 10))
check "all versions walk: each (id, version) once" test "$(sort -u "$T/w3.pairs" | wc -l)" = $((NSEED + 10))

walk next "limit=11&match[type]=indicator&match[version]=first" "$T/w4"
check "filtered walk: first versions" test "$(wc -l <"$T/w4.pairs")" = $NSEED -a "$(grep -c " $V2\$" "$T/w4.pairs")" = 0

# manifest walk with next, ids only
pages=0
cursor=
: >"$T/m.ids"
while [ $pages -lt 200 ]; do
  code=$(fetch "$BASE$C/manifest/?limit=50${cursor:+&next=$cursor}" "$T/m")
  pages=$((pages + 1))
  [ "$code" = 200 ] || break
  grep -o '"id":"indicator--[^"]*"' "$T/m.body" | sed 's/"id":"//; s/"$//' >>"$T/m.ids"
  grep -q '"more":true' "$T/m.body" || break
  cursor=$(sed -n 's/.*"next":"\([^"]*\)".*/\1/p' "$T/m.body")
done
check "manifest walk: the same ids in the same order" cmp -s "$T/m.ids" <(cut -d' ' -f1 "$T/w1.pairs")

# a next from one collection cannot leak another collection's objects
get "$C/objects/?limit=3"
N=$(body_next)
get "/accord/collections/$OTH/objects/?limit=100&next=$N"
expect 200 "a next used on another collection"
check "another collection's next shows only that collection" test "$(body_ids | grep -c 'indicator--00000001-')" = 0

# --- while a writer adds objects and versions ------------------------------------------------------------
# Writer: 40 envelopes, each 5 new objects and 1 new version of a seeded object.
writer() {
  local b i n objs ok=0
  for b in $(seq 1 40); do
    objs=()
    for i in 1 2 3 4 5; do objs+=("$(indicator "$(mkid indicator 3 $((b * 10 + i)))" "$V1" "$i")"); done
    n=$((b * 11 % NSEED + 1))
    objs+=("$(indicator "$(mkid indicator 1 "$n")" "2026-03-$(printf %02d $((b % 28 + 1)))T00:00:00.000Z" "$n")")
    code=$(curl -g -s --max-time 30 --cacert "$T/cacert.pem" -H "Authorization: Bearer $TOKEN" \
      -H "Content-Type: $TAXII_CT" -o /dev/null -w '%{http_code}' \
      --data-binary "$(envelope "${objs[@]}")" "$BASE$C/objects/" 2>/dev/null)
    [ "$code" = 202 ] && ok=$((ok + 1))
  done
  echo "$ok" >"$T/writer.ok"
}
# Another process: `accord import` into the same collection, 20 files of 5 objects, 2 per commit.
importer() {
  local b i ok=0
  for b in $(seq 1 20); do
    for i in 1 2 3 4 5; do indicator "$(mkid indicator 4 $((b * 10 + i)))" "$V1" "$i"; echo; done >"$T/imp$b.jsonl"
    "$ACCORD" --data "$T/data" import --quiet --batch 2 --collection default "$T/imp$b.jsonl" \
      >/dev/null 2>>"$T/importer.err" && ok=$((ok + 1))
  done
  echo "$ok" >"$T/importer.ok"
}
# everything present now, as "id version" of the latest versions
walk next "limit=1000" "$T/before"
importer &
IMPORTER_PID=$!
writer &
WRITER_PID=$!
walk next "limit=10" "$T/c1" &
r1=$!
walk added_after "limit=17&match[version]=all" "$T/c2" &
r2=$!
walk next "limit=25" "$T/c3" "$C/objects/"
wait "$r1" "$r2"
wait "$WRITER_PID"
WRITER_PID=
wait "$IMPORTER_PID"
IMPORTER_PID=
check "importer: all 20 imports succeeded (got $(cat "$T/importer.ok"))" test "$(cat "$T/importer.ok")" = 20
[ -s "$T/importer.err" ] && head -n 5 "$T/importer.err" | sed 's/^/  | /' >&2
check "writer: all 40 envelopes accepted (got $(cat "$T/writer.ok"))" test "$(cat "$T/writer.ok")" = 40
for w in c1 c2 c3; do
  check "$w: no errors" test ! -s "$T/$w.err"
  [ -s "$T/$w.err" ] && sed 's/^/  | /' "$T/$w.err" >&2
  check "$w: no (id, version) twice" test "$(sort "$T/$w.pairs" | uniq -d | wc -l)" = 0
  missing=$(comm -23 "$T/seed.ids" <(cut -d' ' -f1 "$T/$w.pairs" | sort -u) | wc -l)
  check "$w: every object present before the walk was seen ($missing missing)" test "$missing" = 0
done
check "c1 (latest, next): every latest version present before, or a newer one" \
  test "$(while read -r id v; do grep -q "^$id " "$T/c1.pairs" || echo "$id"; done <"$T/before.pairs" | wc -l)" = 0
check "c2 (all versions, added_after): every version present before" \
  test "$(comm -23 <(sort "$T/w3.pairs") <(sort "$T/c2.pairs") | wc -l)" = 0
for w in c1 c2 c3; do
  echo "info: walk $w saw $(grep -c 'indicator--00000003-' "$T/$w.pairs") of the 200 objects POSTed and $(grep -c 'indicator--00000004-' "$T/$w.pairs") of the 100 imported during it, in $(cat "$T/$w.pages") pages"
done

# afterwards: everything once
walk next "limit=100" "$T/after"
check "after the writes: $((NSEED + 300)) objects" test "$(wc -l <"$T/after.pairs")" = $((NSEED + 300))
check "after the writes: each id once" test "$(cut -d' ' -f1 "$T/after.pairs" | sort -u | wc -l)" = $((NSEED + 300))
walk next "limit=100&match[version]=all" "$T/afterall"
check "after the writes: $((NSEED + 10 + 300 + 40)) versions" test "$(wc -l <"$T/afterall.pairs")" = $((NSEED + 10 + 300 + 40))
stop_server
check "server exits 0" test "$SERVER_RC" = 0
finish
