#!/usr/bin/env bash
# The real MISP data under ../shared/data: every event of the PyMISP test files, the ESET
# exports and the CIRCL feed excerpt imports with zero rejected objects; each to_ids attribute
# is exactly one indicator pattern term (misp_terms.py: standalone, indicator--ATTRIBUTE-UUID
# with one term per part of its value, never an x-misp-attribute; in an object, one term of
# indicator--OBJECT-UUID), and the checker saw as many as jq counts in the sources; the files
# that hold no event, and the ESET export with a trailing comma, are named with file and
# position; the feed's withheld event is reported missing.
. "$(dirname "$0")/lib.sh" "$@"

# Network fingerprints and pehash, which the real data lacks, on a fixture: each to_ids one is an
# indicator with one term (JA3/JARM/HASSH on a custom network-traffic property, pehash as a
# file hash), a non-to_ids one a custom object (no SCO can hold it), a bad value reported.
F="$ROOT/fuzz/corpus/misp/attr-netfp-pehash.json"
expect_rc 3 "fingerprints: convert (one bad value)" -- "$ACCORD" misp convert "$F"
cp "$T/out" "$T/fp.jsonl"
check "fingerprints: the bad JA3 named" has "5f6e2a1c-0000-4000-8000-000000000105.*is not a fingerprint of that kind" "$T/err"
check "fingerprints: JA3 pattern" grep -q "\"id\":\"indicator--5f6e2a1c-0000-4000-8000-000000000101\".*\"pattern\":\"\[network-traffic:x_misp_ja3_fingerprint_md5 = 'e7eca2baf4458d095b7f45da28c16c34'\]\"" "$T/fp.jsonl"
check "fingerprints: JARM pattern" grep -q "\"pattern\":\"\[network-traffic:x_misp_jarm_fingerprint = '27d27d27d00027d27d27d27d27d27d1e37e6e7b4e43afc3fc4e5f36b07c0e8'\]\"" "$T/fp.jsonl"
check "fingerprints: pehash pattern" grep -q "\"pattern\":\"\[file:hashes.'PEHASH' = 'ffb7a38174aab4744cc4a509e34800aee9be8e57'\]\"" "$T/fp.jsonl"
check "fingerprints: HASSH without to_ids is a custom object" grep -q '"id":"x-misp-attribute--5f6e2a1c-0000-4000-8000-000000000103"' "$T/fp.jsonl"
check "fingerprints: 3 indicators" test "$(grep -c '"type":"indicator"' "$T/fp.jsonl")" = 3
check "fingerprints: every to_ids one is exactly one indicator term" sh -c "python3 '$ROOT/tests/integration/misp_terms.py' '$F' '$T/fp.jsonl' | grep -qx 'to_ids 4, exactly one indicator term 3'"
check "fingerprints: the objects validate" sh -c "'$ACCORD' validate '$T/fp.jsonl' >/dev/null 2>&1"
expect_rc 0 "fingerprints: the indicators load for matching" -- "$ACCORD" match --no-progress --indicators "$T/fp.jsonl" "$F"
check "fingerprints: 3 indicators, none invalid" sh -c "grep -q ' 3 indicators (0 fast, 3 pattern engine); ' '$T/err' && ! grep -q invalid '$T/err'"

D="$ROOT/../shared/data"
[ -d "$D/misp-pymisp" ] || D="$ROOT/../../shared/data"
[ -d "$D/misp-pymisp" ] || { echo "skipped: shared data not present"; exit 77; }
command -v python3 >/dev/null || {
  [ -n "${CI:-}" ] && { echo "FAIL: python3 needed" >&2; exit 1; }
  echo "skipped: python3 missing"; exit 77; }


events=0 files=0 total_ids=0
while IFS= read -r f; do
  case "$f" in
    */pypi_backdoor/*|*/galaxy.json|*/sighting.json|*/definition.json|*/simple.json|*/sharing_groups.json|*/dnsbirthday/*|*/manifest.json) continue ;;
  esac
  files=$((files + 1))
  name=${f#"$D"/}
  # a store per file: search_index_result.json lists events of the other files with the same
  # uuid and timestamp but without their attributes (a conflict by design)
  "$ACCORD" --data "$T/s$files" misp import -q "$f" >"$T/out" 2>"$T/err"
  rc=$?
  check "$name: imported (exit $rc)" test "$rc" = 0
  check "$name: zero rejected" grep -qE "^  rejected +0$" "$T/err"
  check "$name: no bad value" grep -qE "^  bad values +0$" "$T/err"
  n=$(sed -nE 's/^  events +([0-9]+)$/\1/p' "$T/err")
  events=$((events + ${n:-0}))
  "$ACCORD" misp convert "$f" >"$T/conv.jsonl" 2>/dev/null
  check "$name: each to_ids attribute is exactly one indicator term" sh -c "python3 '$ROOT/tests/integration/misp_terms.py' '$f' '$T/conv.jsonl' >'$T/chk' 2>&1"
  grep -v "^to_ids" "$T/chk" | head -3 >&2
  ids=$(sed -n 's/^to_ids \([0-9]*\), .*/\1/p' "$T/chk")
  total_ids=$((total_ids + ${ids:-0}))
  check "$name: converted objects validate" sh -c "'$ACCORD' validate '$T/conv.jsonl' >/dev/null 2>&1"
  rm -rf "$T/s$files"
done < <(find "$D/misp-pymisp" "$D/misp-eset-malware-ioc" "$D/misp-feed-circl-sample" -name '*.json' | sort)
check "found the MISP files" test "$files" -ge 50
check "imported the events" test "$events" -ge 50
# the to_ids attributes of the source events, counted with jq apart from the checker: as many
# as it checked
want_ids=0
while IFS= read -r f; do
  case "$f" in
    */pypi_backdoor/*|*/galaxy.json|*/sighting.json|*/definition.json|*/simple.json|*/sharing_groups.json|*/dnsbirthday/*|*/manifest.json) continue ;;
  esac
  k=$(jq '[(if type == "array" then .[] else . end) | (.response[]? // .) | (.Event // .) | select(type == "object" and has("uuid"))
          | (.Attribute[]?, .Object[]?.Attribute[]?) | select(has("uuid") and (.to_ids == true or .to_ids == 1 or .to_ids == "1"))] | length' "$f" 2>/dev/null)
  want_ids=$((want_ids + ${k:-0}))
done < <(find "$D/misp-pymisp" "$D/misp-eset-malware-ioc" "$D/misp-feed-circl-sample" -name '*.json' | sort)
check "every to_ids attribute checked: $total_ids of $want_ids" test "$total_ids" = "$want_ids"
check "hundreds of to_ids attributes" test "$want_ids" -gt 300

# re-importing everything changes nothing
expect_rc 0 "import the ESET exports" -- "$ACCORD" --data "$T/s" misp import "$D/misp-eset-malware-ioc/turla" "$D/misp-eset-malware-ioc/sshdoor"
# the import reads the mapper's objects without validating them (src/misp_store.c); validating
# every one as well (ACCORD_MISP_VALIDATE) stores the same objects
expect_rc 0 "import the ESET exports, every object validated" -- env ACCORD_MISP_VALIDATE=1 "$ACCORD" --data "$T/sv" misp import "$D/misp-eset-malware-ioc/turla" "$D/misp-eset-malware-ioc/sshdoor"
for s in s sv; do
  python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute("SELECT id, modified, flags, tlp, body FROM objects ORDER BY id, modified"):
    print(r[0], r[1], r[2], r[3], bytes(r[4]).decode())' "$T/$s/accord.db" >"$T/$s.objects" 2>&1
done
check "validated or not, the same objects" sh -c "test \$(wc -l <'$T/s.objects') -gt 100 && cmp -s '$T/s.objects' '$T/sv.objects'"
rm -rf "$T/sv"
expect_rc 0 "re-import the ESET exports" -- "$ACCORD" --data "$T/s" misp import "$D/misp-eset-malware-ioc/turla" "$D/misp-eset-malware-ioc/sshdoor"
check "re-import: accepted 0" grep -qE "accepted +0$" "$T/err"
check "re-import: no new versions" grep -qE "new versions +0$" "$T/err"

# not events, and the ESET export with a trailing comma: named, the rest of a directory imports
expect_rc 3 "ESET pypi export: trailing comma" -- "$ACCORD" --data "$T/p" misp import "$D/misp-eset-malware-ioc/pypi_backdoor"
check "trailing comma named with file:line:col" has "malicious_pypi_packages.misp-event.json:37374:9: invalid JSON" "$T/err"
expect_rc 3 "a directory with a broken file" -- "$ACCORD" --data "$T/p" misp import "$D/misp-eset-malware-ioc"
check "the rest of the directory imported" grep -qE "^  events +[1-9][0-9]+$" "$T/err"
expect_rc 3 "galaxy file is not an event" -- "$ACCORD" --data "$T/p" misp import "$D/misp-pymisp/mispevent_testfiles/galaxy.json"
check "not an event: named" has "galaxy.json: no MISP event" "$T/err"

# accord match finds the events' address and domain indicators in telemetry built from their
# values, and the plain export holds those values
M="$T/m"
cat >"$T/telemetry.py" <<'EOF2'
import json, sys
tele, want, vals = open(sys.argv[2], "w"), open(sys.argv[3], "w"), open(sys.argv[4], "w")
for f in sys.argv[5:]:
    d = json.load(open(f))
    e = d.get("Event", d)
    for a in e.get("Attribute", []):
        if a.get("type") in ("ip-dst", "ip-src", "domain", "hostname") and \
           a.get("to_ids") in (True, "1", 1) and not a.get("deleted") and "|" not in a["value"] \
           and not a.get("last_seen") and "/" not in a["value"]:
            tele.write(a["value"] + "\n")
            want.write("indicator--" + a["uuid"].lower() + "\n")
            vals.write(a["value"].lower() + "\n")
EOF2
MF="$D/misp-pymisp/reportlab_testfiles/long_event.json $D/misp-pymisp/reportlab_testfiles/sighting_1.json $D/misp-pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json"
python3 "$T/telemetry.py" x "$T/tele.txt" "$T/want.txt" "$T/vals.txt" $MF
check "telemetry built from the events" test "$(wc -l <"$T/want.txt")" -ge 20
for f in $MF; do "$ACCORD" --data "$M" misp import -q "$f" >/dev/null 2>&1; done
expect_rc 0 "match the events' values" -- "$ACCORD" --data "$M" match --no-progress "$T/tele.txt"
missing=0
while IFS= read -r id; do grep -q "$id" "$T/out" || { missing=$((missing + 1)); echo "not matched: $id" >&2; }; done <"$T/want.txt"
check "every address and domain indicator matched" test "$missing" = 0
expect_rc 0 "export the events' values" -- "$ACCORD" --data "$M" export --format plain
sort -u "$T/out" >"$T/exported.txt"
gone=$(sort -u "$T/vals.txt" | comm -23 - "$T/exported.txt" | wc -l)
check "the export holds the domains and addresses" test "$gone" = 0

# the ESET and PyMISP events through the misp-feed export and back: every indicator the export
# selects (MISP objects and composite attributes - ANDs - included) comes back with the same
# normalised pattern, TLP and galaxy links
"$ACCORD" --data "$T/rt" misp import -q "$D/misp-eset-malware-ioc" "$D/misp-pymisp" >/dev/null 2>&1
expect_rc 0 "real events: export misp-feed" -- "$ACCORD" --data "$T/rt" export --format misp-feed --out "$T/rt-feed"
check "real events: no indicator left out" grep -qE "unexportable indicators 0$" "$T/err"
n=$(sed -nE 's/^accord export: misp-feed: ([0-9]+) indicators.*/\1/p' "$T/err")
check "real events: hundreds of indicators exported ($n)" test "${n:-0}" -ge 300
expect_rc 0 "real events: feed add" -- "$ACCORD" --data "$T/rt2" misp feed add rt "$T/rt-feed"
expect_rc 0 "real events: pull the exported feed" -- "$ACCORD" --data "$T/rt2" misp feed pull rt
check "real events: the pull in step with hashes.csv" grep -qE "0 failed; hashes.csv: [1-9][0-9]* line\(s\), 0 event\(s\) out of step" "$T/err"
expect_rc 0 "real events: bundle before" -- "$ACCORD" --data "$T/rt" export
python3 "$ROOT/tests/integration/misp_patterns.py" "$T/out" >"$T/rt-before"
expect_rc 0 "real events: bundle after" -- "$ACCORD" --data "$T/rt2" export
python3 "$ROOT/tests/integration/misp_patterns.py" "$T/out" >"$T/rt-after"
check "real events: ANDs before" test "$(grep -c '^indicator stix .* AND ' "$T/rt-before")" -ge 100
check "real events: no indicator lost or changed" diff "$T/rt-before" "$T/rt-after"
rm -rf "$T/rt" "$T/rt2" "$T/rt-feed"

# the CIRCL feed excerpt: one event, one withheld
expect_rc 0 "feed add circl" -- "$ACCORD" --data "$T/f" misp feed add circl "$D/misp-feed-circl-sample/misp_dir"
expect_rc 3 "feed pull circl" -- "$ACCORD" --data "$T/f" misp feed pull
check "circl: 1 fetched, 1 missing" has "2 event(s) listed, 0 current (not fetched), 1 fetched, 1 missing, 0 failed" "$T/err"
check "circl: the withheld event named" has "event 5721c2e4-05ec-4af3-9264-411b950d210f is listed in manifest.json but missing" "$T/err"
expect_rc 0 "circl report" -- "$ACCORD" --data "$T/f" get report--57e27c3d-17a8-4c3b-8195-493e950d210f
check "circl report is TLP:CLEAR (tlp:white)" has "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487" "$T/out"
finish
