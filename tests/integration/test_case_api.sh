#!/usr/bin/env bash
# test_case_api.sh - disclosure cases over HTTPS (/api/cases) with curl, and the embargo matrix:
# for each role (coordinator, reporter, vendor, observer, outsider with read rights on every
# collection, node admin who is not a participant) x each read path (case API: case, vendors,
# messages, timeline, STIX draft, CSAF, list; TAXII: objects, object, manifest, versions; CLI:
# get, search, export) x before/after publication, asserts what may be seen and that nothing
# else leaks.  Also: opening and working a case over the API, role refusals (403), bad bodies
# (400 naming the member), paging limits, refusal of publication under embargo, and the audit
# records of embargoed reads.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

start_server || { bad "server start"; finish; }
DEF=$(collection_id default)
C="/accord/collections"
declare -A TOK
for u in coord rita acme obs eve; do
  cli user add "$u" >/dev/null 2>&1
  TOK[$u]=$(cli token create "$u" 2>/dev/null | grep '^acc_' | head -n 1)
  check "token $u" test -n "${TOK[$u]}"
done
cli user grant eve default --read >/dev/null
cli case profile Acme --purl pkg:npm/@acme --account acme >/dev/null
as() { if [ "$1" = admin ]; then WHO=admin; else WHO="token:${TOK[$1]}"; fi; }
jpost() { req POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }

# a reporter opens a case over the API
as rita
jpost /api/cases '{"title":"Auth bypass in widget admin","summary":"Crafted cookie skips login.","embargo":"2099-06-01T12:00:00+02:00","deadline":"2000-01-01T00:00:00Z","coordinator":"coord"}'
expect 201 "open"
ID=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$T/body")
check "case id" test -n "$ID"
jpost /api/cases '{"title":"x","role":"coordinator"}'
expect 403 "non-admin cannot open as coordinator"
jpost /api/cases '{"title":1}'
expect 400 "title must be a string"
body_has '"title' "400 names the member"
jpost /api/cases '{"title":"x","colour":"red"}'
expect 400 "unknown member"
body_has 'colour' "400 names the unknown member"
jpost "/api/cases/$ID/fields" '{"field":"cve","value":"CVE-2026-41000"}'
expect 200 "reporter sets the CVE"
jpost "/api/cases/$ID/fields" '{"field":"cvss","value":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N"}'
expect 200 "reporter sets CVSS"
jpost "/api/cases/$ID/products" '{"purl":"pkg:npm/%40acme/widget","affected":"<3.2.0","fixed":"3.2.0"}'
expect 200 "product by purl (Acme from its profile)"
jpost "/api/cases/$ID/vendors" '{"name":"Globex"}'
expect 403 "reporter cannot add vendors"
as coord
jpost "/api/cases/$ID/vendors" '{"name":"Initech","contact":"psirt@initech.example"}'
expect 200 "coordinator adds an outside vendor"
jpost "/api/cases/$ID/participants" '{"account":"obs","role":"observer"}'
expect 200 "observer added"
jpost "/api/cases/$ID/fields" '{"field":"indicator","value":"indicator--00000000-0000-4000-8000-000000000001"}'
expect 200 "indicator linked"
as acme
jpost "/api/cases/$ID/status" '{"product":"widget","status":"fixed","statement":"Fixed in 3.2.0."}'
expect 200 "vendor sets its status"
jpost "/api/cases/$ID/status" '{"vendor":"Initech","status":"not_affected"}'
expect 403 "vendor cannot answer for another"
jpost "/api/cases/$ID/messages" '{"private_vendor":"Acme","body":"diff attached"}'
expect 201 "vendor posts privately"
as obs
jpost "/api/cases/$ID/messages" '{"body":"hi"}'
expect 403 "observer cannot post"
as rita
jpost "/api/cases/$ID/messages" '{"topic":"triage","body":"PoC in the report"}'
expect 201 "reporter posts"
req GET "/api/cases/$ID/messages"
expect 200 "reporter reads messages"
body_lacks "diff attached" "private vendor thread hidden from the reporter"
req GET "/api/cases/$ID/vendors?limit=501"
expect 400 "limit above 500"
req GET "/api/cases/$ID/vendors?limit=1"
expect 200 "vendors page 1"
body_has '"more":true' "more vendors"
req DELETE "/api/cases/$ID"
expect 405 "DELETE not allowed"

# under embargo: publication refused, a vendor may not even try
as acme
jpost "/api/cases/$ID/publish" ''
expect 403 "vendor cannot publish"
as coord
jpost "/api/cases/$ID/publish" ''
expect 400 "publication under embargo refused"
body_has "embargo runs until" "refusal names the embargo"

VULN=$(cli case show "$ID" case | sed -n 's/.*"stix_id":"\([^"]*\)".*/\1/p')
check "stix id" test -n "$VULN"
ROLES="coord rita acme obs eve admin"
participant() { case $1 in coord | rita | acme | obs) return 0 ;; esac; return 1; }

# matrix PHASE: every role x every read path
matrix() {
  local phase=$1 r p want
  for r in $ROLES; do
    as "$r"
    for p in "" /vendors /messages /timeline /stix /csaf; do
      req GET "/api/cases/$ID$p"
      if participant "$r"; then
        want=200
        [ "$phase" = before ] && [ "$p" = /csaf ] && want=404
      else
        want=404
        [ "$phase" = after ] && case $p in "" | /vendors | /stix | /csaf) want=200 ;; esac
      fi
      expect $want "$phase: $r GET /api/cases/ID$p"
      if [ "$want" = 404 ] && ! participant "$r"; then
        body_lacks "Auth bypass" "$phase: $r learns nothing from $p"
      fi
    done
    req GET "/api/cases"
    if participant "$r" || [ "$phase" = after ]; then body_has "$ID" "$phase: $r lists the case"
    else body_lacks "$ID" "$phase: $r does not list the case"; fi
    get "$C/$DEF/objects/"
    if [ "$phase" = after ] && [ "$r" != coord ] && [ "$r" != rita ] && [ "$r" != acme ] &&
      [ "$r" != obs ]; then
      body_has "$VULN" "$phase: $r sees the vulnerability over TAXII"
    else body_lacks "$VULN" "$phase: $r TAXII objects"; fi
    get "$C/$DEF/manifest/"
    if [ "$phase" = before ]; then body_lacks "$VULN" "before: $r TAXII manifest"; fi
    get "$C/$DEF/objects/$VULN/"
    [ "$phase" = before ] && expect 404 "before: $r TAXII object"
    get "$C/$DEF/objects/$VULN/versions/"
    [ "$phase" = before ] && expect 404 "before: $r TAXII versions"
  done
  if [ "$phase" = before ]; then
    expect_rc 1 "before: get" -- cli get "$VULN"
    expect_rc 0 "before: export" -- cli export
    check "before: export lacks the case" sh -c "! grep -q 'CVE-2026-41000' '$T/out'"
    expect_rc 0 "before: search" -- cli search CVE-2026-41000
    check "before: search finds nothing" test ! -s "$T/out"
  else
    expect_rc 0 "after: get" -- cli get "$VULN"
  fi
}

# the audit log grows with embargoed reads (export it and count case-read records)
cli audit export "$T/audit1" >/dev/null 2>&1
R1=$(cat "$T"/audit1/* 2>/dev/null | grep -ao 'case-read' | wc -l)
as obs
req GET "/api/cases/$ID"
cli audit export "$T/audit2" >/dev/null 2>&1
R2=$(cat "$T"/audit2/* 2>/dev/null | grep -ao 'case-read' | wc -l)
check "an embargoed read is audited ($R1 -> $R2)" test "$R2" -gt "$R1"

matrix before

as coord
jpost "/api/cases/$ID/lift" '{"reason":"exploited in the wild"}'
expect 200 "coordinator lifts the embargo"
jpost "/api/cases/$ID/publish" ''
expect 200 "publish"
matrix after
as eve
req GET "/api/cases/$ID/csaf"
body_has '"csaf_security_advisory"' "outsider reads the CSAF advisory"
req GET "/api/cases/$ID/osv"
body_has '"ecosystem":"npm"' "outsider reads the OSV record"
get "$C/$DEF/objects/$VULN/"
expect 200 "outsider gets the vulnerability over TAXII"
body_has "94868c89-83c2-464b-929b-a1a8aa3c8487" "TLP:CLEAR marking"
stop_server
finish
