#!/usr/bin/env bash
# test_case.sh - a disclosure case end to end through the real binary: a reporter opens a case
# under an embargo a few seconds ahead, three vendors come in (one found from its purl profile
# answers affected then fixed, one not affected, one outside organisation never answers), early
# publication is refused and nothing of the case is readable by outsiders or in the STIX store
# (get, search, export) until the embargo passes; then the advisory is published and the CSAF
# document passes the BSI validator library (strict schema, all mandatory tests), the OSV record
# the OSV schema, the STIX vulnerability the store's validator, and a second revision validates too.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/case_lib.sh"

A="$ACCORD"
for u in rita coord acme globex eve; do
  expect_rc 0 "user add $u" -- "$A" user add "$u" --no-password
done
expect_rc 0 "vendor profile" -- "$A" case profile "Acme Corp" --purl pkg:npm/@acme --account acme \
  --contact sec@acme.example
END=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S+00:00)
expect_rc 0 "open" -- "$A" case open --as rita --title "Heap overflow in widget parser" \
  --summary "A crafted widget file overflows a heap buffer." --embargo "$END" \
  --deadline 2000-01-01T00:00:00Z --coordinator coord
ID=$(cat "$T/out")
check "case id" test -n "$ID"
expect_rc 0 "cve" -- "$A" case set "$ID" cve CVE-2026-40001 --as rita
expect_rc 0 "cwe" -- "$A" case set "$ID" cwe CWE-787 --as rita
expect_rc 0 "cvss3" -- "$A" case set "$ID" cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H --as rita
expect_rc 0 "cvss4" -- "$A" case set "$ID" cvss CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N
expect_rc 1 "bad cvss names the metric" -- "$A" case set "$ID" cvss CVSS:3.1/AV:N/AC:L
check "bad cvss message" has "mandatory base metric" "$T/err"
expect_rc 0 "reference" -- "$A" case set "$ID" reference https://example.org/advisory
expect_rc 0 "product by purl finds Acme" -- "$A" case add-product "$ID" --as rita \
  --purl "pkg:npm/%40acme/widget@1.4.0" --affected ">=1.0.0,<1.5.0" --fixed 1.5.0
check "Acme found from its profile" has "Acme Corp added from its purl profile" "$T/err"
expect_rc 0 "Globex" -- "$A" case add-vendor "$ID" Globex --account globex --as coord
expect_rc 0 "Globex product" -- "$A" case add-product "$ID" --vendor Globex --name Viewer \
  --cpe "cpe:2.3:a:globex:viewer:*:*:*:*:*:*:*:*" --as coord
expect_rc 1 "bad cpe" -- "$A" case add-product "$ID" --vendor Globex --cpe "cpe:2.3:a:globex"
expect_rc 0 "Initech (outside)" -- "$A" case add-vendor "$ID" Initech --contact psirt@initech.example
expect_rc 0 "acme affected" -- "$A" case status "$ID" --product widget --set affected \
  --statement "Reproduced." --as acme
expect_rc 1 "acme cannot answer for Globex" -- "$A" case status "$ID" --vendor Globex \
  --set affected --as acme
expect_rc 0 "acme fixed" -- "$A" case status "$ID" --product widget --set fixed \
  --statement "Fixed in 1.5.0." --as acme
expect_rc 0 "globex not affected" -- "$A" case status "$ID" --set not_affected \
  --statement "Viewer never loads widget files." --as globex
expect_rc 0 "private post" -- "$A" case post "$ID" --private "Acme Corp" "patch attached" --as acme
expect_rc 0 "globex messages" -- "$A" case messages "$ID" --as globex
check "private thread hidden from other vendors" sh -c "! grep -q 'patch attached' '$T/out'"
expect_rc 0 "vendors" -- "$A" case vendors "$ID" --as rita
check "silent vendor is no_response" has '"vendor":"Initech","member":null,"status":"no_response"' "$T/out"
check "Globex not_affected" has '"status":"not_affected","statement":"Viewer' "$T/out"

# under embargo: refused, invisible, nothing in the STIX store.  The end is set only now, a few
# seconds ahead, so that slow (sanitizer) builds do not pass it during the setup above.
END=$(date -u -d '+12 seconds' +%Y-%m-%dT%H:%M:%S+00:00)
expect_rc 0 "embargo moved" -- "$A" case set "$ID" embargo "$END" --as coord
VULN=$("$A" case show "$ID" case --as rita | sed -n 's/.*"stix_id":"\([^"]*\)".*/\1/p')
check "stix id" test -n "$VULN"
expect_rc 1 "early publication refused" -- "$A" case publish "$ID" --as coord
check "refusal names the embargo" has "embargo runs until" "$T/err"
expect_rc 1 "outsider cannot read" -- "$A" case show "$ID" case --as eve
check "outsider told not found" has "no case" "$T/err"
expect_rc 1 "get before" -- "$A" get "$VULN"
expect_rc 0 "export before" -- "$A" export
check "export holds no case" sh -c "! grep -q 'CVE-2026-40001' '$T/out'"
expect_rc 0 "participants see the STIX draft" -- "$A" case show "$ID" stix --as acme
check "draft names the CVE" has '"name":"CVE-2026-40001"' "$T/out"

# the embargo passes
while [ "$(date -u +%s)" -le "$(date -u -d "$END" +%s)" ]; do sleep 1; done
expect_rc 0 "publish" -- "$A" case publish "$ID" --as coord --out "$T/pub"
check "csaf written" test -s "$T/pub/$ID.json"
validate_csaf "$T/pub/$ID.json"
validate_osv "$T/pub/$ID-osv.json"
check "osv fixed event" has '"fixed":"1.5.0"' "$T/pub/$ID-osv.json"
check "csaf fixed product" has '"fixed":\["CSAFPID-1-fixed"\]' "$T/pub/$ID.json"
check "csaf not affected" has '"known_not_affected":\["CSAFPID-2"\]' "$T/pub/$ID.json"
check "csaf score" has '"baseScore":8.8' "$T/pub/$ID.json"
validate_cve "$T/pub/$ID-cve.json"
check "cve id" has '"cveId":"CVE-2026-40001"' "$T/pub/$ID-cve.json"
check "cve range up to the fix" has '"version":"1.0.0","status":"affected","versionType":"custom","lessThan":"1.5.0"' "$T/pub/$ID-cve.json"
check "cve package" has '"collectionURL":"https://www.npmjs.com","packageName":"@acme/widget"' "$T/pub/$ID-cve.json"
check "cve not affected" has '"product":"Viewer","cpes":\["cpe:2.3:a:globex:viewer:\*:\*:\*:\*:\*:\*:\*:\*"\],"defaultStatus":"unaffected"' "$T/pub/$ID-cve.json"
check "cve silent vendor unknown" has '"vendor":"Initech","product":"all products","defaultStatus":"unknown"' "$T/pub/$ID-cve.json"
check "cve scores" has '"cvssV3_1":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H","baseScore":8.8,"baseSeverity":"HIGH"}' "$T/pub/$ID-cve.json"
# the schema check can fail: a record without its references is refused
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); del r["containers"]["cna"]["references"]; json.dump(r,open(sys.argv[2],"w"))' \
  "$T/pub/$ID-cve.json" "$T/cve-bad.json"
if python3 -c 'import jsonschema' 2>/dev/null; then
  expect_rc 1 "a CVE record without references fails the schema" -- \
    python3 "$ROOT/tests/integration/cve_validate.py" "$CVE_SCHEMA" "$T/cve-bad.json"
fi
expect_rc 0 "stix vulnerability in the store" -- "$A" get "$VULN"
check "TLP:CLEAR" has 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487' "$T/out"
expect_rc 0 "outsider reads the published case" -- "$A" case show "$ID" csaf --as eve
expect_rc 1 "outsider still cannot read messages" -- "$A" case messages "$ID" --as eve

# a second revision
expect_rc 0 "Initech answers late" -- "$A" case status "$ID" --vendor Initech --set not_affected \
  --statement "No Initech product ships the parser."
expect_rc 1 "CNA id must be a UUID" -- "$A" case cna not-a-uuid
check "CNA refusal says why" has "version 4 UUID" "$T/err"
expect_rc 0 "CNA" -- "$A" case cna 8254265b-2729-46b6-b9e3-3dfca2d5bfca accord-test
expect_rc 0 "republish" -- "$A" case publish "$ID" --out "$T/pub2"
check "revision 2" has '"version":"2"' "$T/pub2/$ID.json"
validate_csaf "$T/pub2/$ID.json"
validate_cve "$T/pub2/$ID-cve.json"
check "cve names the CNA" has '"orgId":"8254265b-2729-46b6-b9e3-3dfca2d5bfca","shortName":"accord-test"' "$T/pub2/$ID-cve.json"
expect_rc 0 "timeline" -- "$A" case timeline "$ID"
check "timeline has both publications" test "$(grep -o '"kind":"publish"' "$T/out" | wc -l)" = 2
finish
