#!/usr/bin/env bash
# test_case_import.sh - `accord csaf import` and `accord osv import`: vendors' advisories become
# STIX in the store, and the fields they carry survive (advisory_roundtrip.py compares each
# document with `accord export`): accord's own published CSAF and OSV documents here; the real
# samples under ../shared/data in test_case_import_samples.sh and test_case_import_repub.sh.
# Bad documents are refused naming the file, the JSON path and the rule (test_csaf_oasis.sh walks
# the OASIS test documents of every mandatory test), store nothing, and do not stop the others; a re-import changes nothing; TLP labels become markings.
# `accord csaf export` writes an imported vulnerability as this node's CSAF advisory again, and
# those advisories pass the CSAF validator library (strict schema, every mandatory test).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/case_lib.sh"
A=$ACCORD
export ACCORD_DATA=$T/data
RT="$ROOT/tests/integration/advisory_roundtrip.py"
versions() { "$A" stats | sed -n 's/^objects [0-9]*, versions \([0-9]*\),.*/\1/p'; }

# accord's own advisory, published and imported back
"$A" user add rita --no-password >/dev/null
expect_rc 0 "open" -- "$A" case open --title "Heap overflow in widget parser" \
  --summary "A crafted widget file overflows a heap buffer."
ID=$(cat "$T/out")
expect_rc 0 "cve" -- "$A" case set "$ID" cve CVE-2026-40002
expect_rc 0 "cwe" -- "$A" case set "$ID" cwe CWE-787
expect_rc 0 "cvss" -- "$A" case set "$ID" cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H
expect_rc 0 "vendor" -- "$A" case add-vendor "$ID" Acme --contact psirt@acme.example
expect_rc 0 "vendor 2" -- "$A" case add-vendor "$ID" Globex --contact psirt@globex.example
expect_rc 0 "product" -- "$A" case add-product "$ID" --vendor Acme \
  --purl "pkg:npm/%40acme/widget@1.4.0" --affected ">=1.0.0,<1.5.0" --fixed 1.5.0
expect_rc 0 "product 2" -- "$A" case add-product "$ID" --vendor Globex --name Viewer \
  --cpe "cpe:2.3:a:globex:viewer:*:*:*:*:*:*:*:*"
expect_rc 0 "fixed" -- "$A" case status "$ID" --vendor Acme --product widget --set fixed --statement "1.5.0."
expect_rc 0 "not affected" -- "$A" case status "$ID" --vendor Globex --set not_affected --statement "No parser."
expect_rc 0 "publish" -- "$A" case publish "$ID" --out "$T/pub"
OWN=$T/own
mkdir -p "$OWN"
cp "$T/pub/$ID.json" "$OWN/csaf.json"
python3 -c 'import json,sys; [json.dump(r, open(f"{sys.argv[2]}/osv-{i}.json", "w")) for i, r in enumerate(json.load(open(sys.argv[1])))]' "$T/pub/$ID-osv.json" "$OWN"
check "an OSV record was published" test -s "$OWN/osv-0.json"

# a second store imports them
export ACCORD_DATA=$T/b
expect_rc 0 "csaf import" -- "$A" csaf import "$OWN/csaf.json"
check "import summary" has "object(s)" "$T/out"
expect_rc 0 "osv import" -- "$A" osv import "$OWN"/osv-*.json
expect_rc 0 "export" -- "$A" export
cp "$T/out" "$T/export.json"
expect_rc 0 "own CSAF round trip" -- python3 "$RT" csaf "$T/export.json" "$OWN/csaf.json"
expect_rc 0 "own OSV round trip" -- python3 "$RT" osv "$T/export.json" "$OWN"/osv-*.json
check "named by the CVE" has '"type":"vulnerability".*"name":"CVE-2026-40002"' "$T/export.json"
check "purl and fixed status" has '"purl":"pkg:npm/%40acme/widget@1.5.0","status":"fixed"\|"purl":"pkg:npm/%40acme/widget[^"]*","status":"fixed"' "$T/export.json"
check "the OSV fixed version" has '"status":"affected","fixed":"1.5.0"' "$T/export.json"
check "CLEAR marking" has '"object_marking_refs":\["marking-definition--94868c89' "$T/export.json"
check "the vendor statements are notes" has '"type":"note"' "$T/export.json"
# re-published as this node's advisory: the CVE, CWE, products and statuses are there again
vulns() { python3 -c 'import json,sys; print("\n".join(o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == "vulnerability"))' "$1"; }
mkdir -p "$T/repub"
for v in $(vulns "$T/export.json"); do
  expect_rc 0 "csaf export $v" -- "$A" csaf export "$v"
  cp "$T/out" "$T/repub/${v#vulnerability--}.json"
done
check "re-published: CVE" grep -lq '"cve":"CVE-2026-40002"' "$T"/repub/*.json
check "re-published: CWE" grep -lq '"cwe":{"id":"CWE-787"' "$T"/repub/*.json
check "re-published: the fixed package" grep -lq 'pkg:npm/%40acme/widget' "$T"/repub/*.json
check "re-published: not affected" grep -lq '"known_not_affected"' "$T"/repub/*.json
expect_rc 0 "re-published: the vulnerability notes, remediations and threats kept" -- \
  python3 "$ROOT/tests/integration/advisory_carried.py" "$T/repub" "$OWN/csaf.json"
check "re-published: the remediation" grep -lq '"remediations":\[{"category":"vendor_fix","details":"Update Acme widget to version 1.5.0 or later."' "$T"/repub/*.json
validate_csaf "$T"/repub/*.json
expect_rc 1 "csaf export of a note" -- "$A" csaf export "$(python3 -c 'import json,sys; print(next(o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == "note"))' "$T/export.json")"
check "not a vulnerability" has "is not a vulnerability" "$T/err"

V0=$(versions)
check "versions counted" test "${V0:-0}" -gt 0
expect_rc 0 "re-import" -- "$A" csaf import "$OWN/csaf.json"
check "re-import: unchanged" has "0 new, 0 new version(s)" "$T/out"
check "re-import stores nothing" test "$(versions)" = "$V0"

# a newer revision is a new version of the same objects
sed 's/"current_release_date":"[^"]*"/"current_release_date":"2099-01-01T00:00:00Z"/' "$OWN/csaf.json" >"$T/rev2.json"
expect_rc 0 "revision 2" -- "$A" csaf import "$T/rev2.json"
check "revision 2: new versions" grep -Eq "0 new, [1-9][0-9]* new version" "$T/out"

# TLP: an AMBER document's objects are marked AMBER
python3 - "$OWN/csaf.json" "$T/amber.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["document"]["distribution"] = {"tlp": {"label": "AMBER"}}
d["document"]["tracking"]["id"] = "AMBER-1"
d["vulnerabilities"][0]["cve"] = "CVE-2026-40003"
json.dump(d, open(sys.argv[2], "w"))
PY
expect_rc 0 "amber import" -- "$A" csaf import "$T/amber.json"
expect_rc 0 "export amber" -- "$A" export
check "AMBER marking" has '"name":"CVE-2026-40003".*\|marking-definition--55d920b0' "$T/out"
check "AMBER object marked" sh -c "grep '\"name\":\"CVE-2026-40003\"' '$T/out' | grep -q 'marking-definition--55d920b0'"

# bad documents: file, JSON path and rule named; nothing stored; the others still imported
V0=$(versions)
python3 - "$OWN/csaf.json" "$T/bad" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
os.makedirs(sys.argv[2])
b = json.loads(json.dumps(d)); b["vulnerabilities"][0]["product_status"]["fixed"] = ["NOPE"]
json.dump(b, open(f"{sys.argv[2]}/a-undefined.json", "w"))
b = json.loads(json.dumps(d)); b["vulnerabilities"][0]["scores"][0]["cvss_v3"]["vectorString"] = "CVSS:3.1/AV:N"
json.dump(b, open(f"{sys.argv[2]}/b-cvss.json", "w"))
b = json.loads(json.dumps(d)); del b["document"]["tracking"]["id"]
json.dump(b, open(f"{sys.argv[2]}/c-tracking.json", "w"))
open(f"{sys.argv[2]}/d-syntax.json", "w").write('{"document": {"title": "x",}}')
PY
expect_rc 3 "bad documents refused, the good one imported" -- "$A" csaf import "$T/bad" "$T/amber.json"
check "6.1.1 named" has "a-undefined.json: \$.vulnerabilities\[0\].product_status.fixed\[0\]: product id NOPE is not defined (rule 6.1.1)" "$T/err"
check "6.1.8 named" has "b-cvss.json: \$.vulnerabilities\[0\].scores\[0\].cvss_v3.vectorString: invalid CVSS vector.*(rule 6.1.8)" "$T/err"
check "schema named" has "c-tracking.json: \$.document.tracking: id is required.*(rule schema)" "$T/err"
check "syntax named" has "d-syntax.json: \$: byte [0-9]*: .*(rule json-syntax)" "$T/err"
check "4 refused" has "5 document(s), 1 imported, 4 refused" "$T/err"
check "bad documents stored nothing" test "$(versions)" = "$V0"
printf '{"id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"name":"p","ecosystem":"npm"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}' >"$T/osv-bad.json"
expect_rc 1 "OSV event with two kinds" -- "$A" osv import "$T/osv-bad.json"
check "OSV path named" has "osv-bad.json: \$.affected\[0\].ranges\[0\].events\[0\]: an event is one of" "$T/err"
expect_rc 1 "a missing file" -- "$A" csaf import "$T/nothing.json"

finish
