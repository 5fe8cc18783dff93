#!/usr/bin/env bash
# The web console, end to end: `accord serve` on 127.0.0.1 (HTTPS, self-signed) over a small
# seeded store.  First the session API with curl (login cookie flags, CSRF and Origin guard,
# logout, security headers, caching of the app's files, bearer tokens unchanged), then the pages
# in Debian's chromium driven by playwright-core under Node's test runner (tests/browser/).
# Screenshots go to BUILD_DIR/console-artifacts/.  Skips (77) without the built console, Node or
# chromium; fails instead when CI is set.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

UI=$BIN_DIR/ui
ART=$BIN_DIR/console-artifacts
missing() { # missing WHAT: skip, or fail under CI
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $1 (CI is set: the console tests must run)" >&2
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
[ -f "$UI/index.html" ] || missing "the console is not built ($UI/index.html; cmake needs Node.js >= 18 and npm)"

# ACCORD_CONSOLE_OBJECTS=N: both stores start from N generated objects (bench_import's mix: 45%
# indicators, 30% SCOs, 20% relationships, 5% malware, TLP:GREEN), imported once and copied, so
# that every check below runs against a store of that size (.ci/run's console stage: 1,000,000).
BASE_N=${ACCORD_CONSOLE_OBJECTS:-0}
BASE_SEQ=0 # the versions in the generated store: the seeds' seqs follow
base_store() { # base_store DIR: DIR starts as the generated store (nothing without BASE_N)
  [ "$BASE_N" -gt 0 ] || return 0
  if [ ! -d "$T/base" ]; then
    [ -x "$BIN_DIR/bench_import" ] || { echo "FATAL: $BIN_DIR/bench_import is not built" >&2; exit 1; }
    local t0=$SECONDS
    "$BIN_DIR/bench_import" --generate "$T/base.json" --objects "$BASE_N" --seed 7 >/dev/null &&
      "$ACCORD" --data "$T/base" import "$T/base.json" >"$T/import.out" 2>&1 ||
      { echo "FATAL: the generated store" >&2; tail -n 5 "$T/import.out" >&2; exit 1; }
    # one generated indicator, for the pages to find: its id and the value its pattern names
    local line
    line=$(grep -m 1 '^{"type":"indicator"' "$T/base.json")
    BASE_ID=$(printf '%s' "$line" | sed -n 's/.*"id":"\(indicator--[0-9a-f-]*\)".*/\1/p')
    BASE_VALUE=$(printf '%s' "$line" | sed -n "s/.*\"pattern\":\"\[[^=]*= '\([^']*\)'\].*/\1/p")
    export BASE_ID BASE_VALUE
    rm -f "$T/base.json"
    BASE_SEQ=$(awk '$1 == "accepted" {print $2}' "$T/import.out")
    [ "$BASE_SEQ" = "$BASE_N" ] || { echo "FATAL: $BASE_SEQ of $BASE_N generated objects stored" >&2; exit 1; }
    echo "base store: $BASE_N generated objects in $((SECONDS - t0)) s"
  fi
  cp -a "$T/base" "$1"
}
base_store "$T/data"

"$ACCORD" import "$ROOT/tests/browser/seed.json" >"$T/import.out" 2>&1 ||
  { echo "FATAL: seed import failed" >&2; cat "$T/import.out" >&2; exit 1; }
"$ACCORD" import "$ROOT/tests/browser/seed_indicators.json" >"$T/import.out" 2>&1 ||
  { echo "FATAL: indicator seed import failed" >&2; cat "$T/import.out" >&2; exit 1; }
PASS=console-test-pass-1
printf '%s\n' "$PASS" | "$ACCORD" user add --admin --password-stdin analyst >/dev/null
printf '%s\n' "$PASS" | "$ACCORD" user add --password-stdin reader >/dev/null
TOKEN=$("$ACCORD" token create analyst)
start_server "$T/data" || exit 1
ORIGIN=$BASE
WHO=none

# --- the app's files
req GET /ui/
expect 200 "GET /ui/"
check "index.html is text/html" [ "$CTYPE" = "text/html; charset=utf-8" ]
hdr_has "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" "CSP on /ui/"
hdr_has "X-Content-Type-Options: nosniff" "nosniff"
hdr_has "Referrer-Policy: no-referrer" "referrer policy"
hdr_has "Strict-Transport-Security: max-age=31536000" "HSTS"
hdr_has "Cache-Control: no-cache" "index.html revalidated"
asset=$(grep -o '/ui/assets/index-[^"]*\.js' "$T/body" | head -n 1)
check "index.html loads a hashed script" [ -n "$asset" ]
req GET "$asset"
expect 200 "GET $asset"
check "script is text/javascript" [ "$CTYPE" = "text/javascript; charset=utf-8" ]
hdr_has "Cache-Control: public, max-age=31536000, immutable" "hashed asset cached as immutable"
req GET /ui/object/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
expect 200 "an app route falls back to index.html"
body_has '<div id="app">' "fallback is index.html"
req GET /ui/assets/missing-0000.js
expect 404 "a missing asset is 404, not index.html"
req POST /ui/
expect 405 "POST /ui/"

# --- login
login() { # login USER PASS [ORIGIN]: cookie jar in $T/jar
  req POST /api/session -c "$T/jar" -H "Origin: ${3:-$ORIGIN}" -H 'Content-Type: application/json' \
    --data-binary "{\"username\":\"$1\",\"password\":\"$2\"}"
}
login analyst wrong-password
expect 401 "login with a wrong password"
login analyst "$PASS" https://evil.example
expect 403 "login from another origin"
login analyst "$PASS"
expect 200 "login"
hdr_has "Set-Cookie: __Host-accord=" "session cookie is __Host-"
check "cookie is Secure, HttpOnly, SameSite=Strict, Path=/" \
  grep -qi 'Set-Cookie: __Host-accord=[A-Za-z0-9_-]\{43\}; Path=/; Secure; HttpOnly; SameSite=Strict' "$T/hdr"
CSRF=$(sed -n 's/.*"csrf_token":"\([A-Za-z0-9_-]*\)".*/\1/p' "$T/body")
check "login returns a CSRF token" [ ${#CSRF} = 43 ]
cp "$T/jar" "$T/jar.analyst"

req GET /api/session -b "$T/jar.analyst"
expect 200 "GET /api/session with the cookie"
body_has "\"csrf_token\":\"$CSRF\"" "the session's CSRF token"
req GET /api/whoami -b "$T/jar.analyst"
expect 200 "the cookie authenticates /api/"
body_has '"account":"analyst"' "as analyst"
req GET /taxii2/ -b "$T/jar.analyst" -H "Accept: $TAXII_CT"
expect 401 "the cookie does not authenticate TAXII"
req GET "/api/search?value=198.51.100.7" -b "$T/jar.analyst"
expect 200 "search with the cookie"
body_has '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"' "search finds the seeded indicator"
hdr_has "Cache-Control: no-store" "API data is not cached"

if [ "$BASE_N" -gt 0 ]; then
  req GET "/api/search?value=$BASE_VALUE" -b "$T/jar.analyst"
  body_has "\"id\":\"$BASE_ID\"" "search finds a generated indicator ($BASE_VALUE)"
  req GET "/api/indicators?type=ipv4-addr&limit=500" -b "$T/jar.analyst"
  check "a page of 500 generated ipv4-addr indicators" [ "$(grep -o '"type":"ipv4-addr"' "$T/body" | wc -l)" = 500 ]
fi

# --- keyset pagination: limit 1 walks the two versions mentioning the value, then stops
req GET "/api/search?value=198.51.100.7&limit=1" -b "$T/jar.analyst"
body_has "\"seq\":$((BASE_SEQ + 2))," "search page 1 has the first version"
body_has "\"next\":\"0.$((BASE_SEQ + 2))\"" "search page 1 ends with a cursor"
req GET "/api/search?value=198.51.100.7&limit=1&after=0.$((BASE_SEQ + 2))" -b "$T/jar.analyst"
body_has "\"seq\":$((BASE_SEQ + 3))," "search page 2 has the second version"
body_lacks "\"seq\":$((BASE_SEQ + 2))," "search page 2 does not repeat page 1"
body_has '"next":null' "search page 2 is the last"
req GET "/api/search?value=198.51.100.7&limit=501" -b "$T/jar.analyst"
expect 400 "limit above 500"
req GET "/api/search?value=198.51.100.7&after=x" -b "$T/jar.analyst"
expect 400 "a malformed cursor"
req GET "/api/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f?limit=1" -b "$T/jar.analyst"
expect 200 "object versions page 1"
body_has '"next":"2026-01-02T00:00:00.000Z"' "versions page 1 ends at the first version"
body_has '"signatures":[{"modified":"2026-01-02T00:00:00.000Z","status":"unverified"' "its signature status"
req GET "/api/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f?limit=1&after=2026-01-02T00:00:00.000Z" -b "$T/jar.analyst"
body_has '"modified":"2026-01-03T00:00:00.000Z"' "versions page 2 has the second version"
body_has '"next":null' "versions page 2 is the last"
req GET "/api/objects/malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc/relationships" -b "$T/jar.analyst"
body_has '"id":"relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad"' "the malware's relationship"
req GET "/api/objects/indicator--00000000-0000-4000-8000-000000000000" -b "$T/jar.analyst"
expect 404 "an unknown object"

# --- TLP: an account without clearance for the (AMBER by default) seed sees none of it
login reader "$PASS"
expect 200 "login as reader"
cp "$T/jar" "$T/jar.reader"
req GET "/api/search?value=198.51.100.7" -b "$T/jar.reader"
body_has '"rows":[]' "reader: no rows"
body_has '"unknown":["198.51.100.7"]' "reader: the value reads as unknown"
req GET "/api/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f" -b "$T/jar.reader"
expect 404 "reader: the object is not found"
req GET "/api/objects/malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc/relationships" -b "$T/jar.reader"
body_has '"rows":[]' "reader: no relationships"

# --- CSRF and Origin guard on changes
SEARCH='{"values":["198.51.100.7","c2.example.net","203.0.113.99"]}'
req POST /api/search -b "$T/jar.analyst" -H "Origin: $ORIGIN" -H 'Content-Type: application/json' --data-binary "$SEARCH"
expect 403 "POST with the cookie and no CSRF token"
req POST /api/search -b "$T/jar.analyst" -H "Origin: $ORIGIN" -H "X-CSRF-Token: ${CSRF%?}x" -H 'Content-Type: application/json' --data-binary "$SEARCH"
expect 403 "POST with a wrong CSRF token"
req POST /api/search -b "$T/jar.analyst" -H "Origin: https://evil.example" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' --data-binary "$SEARCH"
expect 403 "POST from another origin"
req POST /api/search -b "$T/jar.analyst" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' --data-binary "$SEARCH"
expect 403 "POST without an Origin"
req POST /api/search -b "$T/jar.analyst" -H "Origin: $ORIGIN" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' --data-binary "$SEARCH"
expect 200 "POST with the CSRF token and Origin"
body_has '"unknown":["203.0.113.99"]' "the unknown value is listed"
body_has '"value":"c2.example.net"' "the domain's hit"

# --- bearer tokens keep working, with no CSRF token
WHO=token:$TOKEN
req POST /api/search -H 'Content-Type: application/json' --data-binary "$SEARCH"
expect 200 "POST with a bearer token needs no CSRF token"
get /taxii2/
expect 200 "TAXII with a bearer token"
WHO=none
req GET /api/search?value=198.51.100.7
expect 401 "no credentials"

# --- indicators: filters, keyset pagination, bulk extend whose preview count is what changes
SRC_A=identity--5a0c4f0e-1b2a-4c3d-8e4f-5a6b7c8d9e01
WHO=token:$TOKEN
req GET "/api/indicators?source=$SRC_A&limit=2"
expect 200 "indicators of source A, page 1"
check "page 1 has 2 rows" [ "$(grep -o '"seq":' "$T/body" | wc -l)" = 2 ]
NEXT=$(sed -n 's/.*"next":"\([0-9.]*\)".*/\1/p' "$T/body")
check "page 1 ends with a cursor" [ -n "$NEXT" ]
req GET "/api/indicators?source=$SRC_A&limit=2&after=$NEXT"
body_has '"id":"indicator--5a0c4f0e-1b2a-4c3d-8e4f-0000000000a0"' "page 2 has the oldest of A"
body_has '"next":null' "page 2 is the last"
req GET "/api/indicators?has_sightings=true&sort=last_sighting"
body_has '"id":"indicator--5a0c4f0e-1b2a-4c3d-8e4f-0000000000a1","modified"' "the sighted indicator"
body_has '"sightings":2,' "with its two sightings"
check "only the sighted indicator" [ "$(grep -o '"seq":' "$T/body" | wc -l)" = 1 ]
req GET "/api/indicators?type=domain-name&source=identity--5a0c4f0e-1b2a-4c3d-8e4f-5a6b7c8d9e02"
check "two domain-name indicators of source B" [ "$(grep -o '"type":"domain-name"' "$T/body" | wc -l)" = 2 ]
req GET "/api/indicators?valid_until_before=2026-07-01T00:00:00Z"
check "three expire before July" [ "$(grep -o '"seq":' "$T/body" | wc -l)" = 3 ]
req GET "/api/indicators?tlp=red"
body_has '"rows":[]' "no TLP:RED indicator"
req GET "/api/indicators?limit=501"
expect 400 "indicators: limit above 500"
req GET "/api/indicators?tlp=purple"
expect 400 "indicators: an unknown TLP"
EXT="{\"action\":\"extend\",\"valid_until\":\"2027-01-01T00:00:00Z\",\"filter\":{\"source\":\"$SRC_A\"}}"
req POST /api/indicators/bulk/preview -H 'Content-Type: application/json' --data-binary "$EXT"
expect 200 "bulk preview"
body_has '"count":3,' "the preview counts A's three indicators"
TOK=$(sed -n 's/.*"token":"\([0-9a-f.]*\)".*/\1/p' "$T/body")
# a fourth indicator of A arrives between the preview and the apply: it must not change
printf '%s\n' "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--5a0c4f0e-1b2a-4c3d-8e4f-0000000000a9\",\"created\":\"2026-02-05T00:00:00.000Z\",\"modified\":\"2026-02-05T00:00:00.000Z\",\"created_by_ref\":\"$SRC_A\",\"pattern\":\"[ipv4-addr:value = '192.0.2.99']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-02-05T00:00:00Z\",\"valid_until\":\"2026-06-01T00:00:00Z\"}" >"$T/late.json"
check "a late indicator is imported" "$ACCORD" import "$T/late.json"
APPLY="${EXT%\}},\"token\":\"$TOK\"}"
req POST /api/indicators/bulk -H 'Content-Type: application/json' --data-binary "$APPLY"
expect 200 "bulk apply"
body_has '"changed":3}' "the apply changes the three previewed"
req GET "/api/indicators?source=$SRC_A"
check "three of A now valid until 2027" [ "$(grep -o '"valid_until":"2027-01-01T00:00:00.000000Z"' "$T/body" | wc -l)" = 3 ]
body_has '"id":"indicator--5a0c4f0e-1b2a-4c3d-8e4f-0000000000a9","modified":"2026-02-05T00:00:00.000Z"' "the late indicator is unchanged"
req POST /api/indicators/bulk -H 'Content-Type: application/json' --data-binary "$APPLY"
expect 409 "the same token again: the selection changed"
WHO=none
req POST /api/indicators/bulk/preview -b "$T/jar.analyst" -H "Origin: $ORIGIN" -H 'Content-Type: application/json' --data-binary "$EXT"
expect 403 "bulk preview with the cookie and no CSRF token"
WHO=token:$("$ACCORD" token create reader)
req POST /api/indicators/bulk/preview -H 'Content-Type: application/json' --data-binary "$EXT"
expect 403 "a non-admin's bulk change is refused"
req GET "/api/indicators?sort=last_sighting"
expect 403 "a non-admin may not sort by sightings of every TLP"
req GET "/api/indicators"
body_has '"rows":[]' "a non-admin without clearance sees no indicator"
WHO=none

# --- logout
req DELETE /api/session -b "$T/jar.analyst" -H "Origin: $ORIGIN"
expect 403 "logout without the CSRF token"
req DELETE /api/session -b "$T/jar.analyst" -H "Origin: $ORIGIN" -H "X-CSRF-Token: $CSRF"
expect 204 "logout"
hdr_has "Max-Age=0" "logout clears the cookie"
req GET /api/whoami -b "$T/jar.analyst"
expect 401 "the session is gone after logout"

# --- the pages in a real browser
run_browser() { # run_browser TEST-FILE...: against the server at $BASE
  command -v node >/dev/null 2>&1 || { missing "node is not installed (apt-get install nodejs)"; }
  local chromium=${CHROMIUM:-/usr/bin/chromium}
  [ -x "$chromium" ] || missing "chromium is not installed (apt-get install chromium)"
  [ -d "$ROOT/web/node_modules/playwright-core" ] || missing "web/node_modules/playwright-core is missing (the console build runs npm ci)"
  mkdir -p "$ART"
  if ACCORD_URL=$BASE ACCORD_USER=analyst ACCORD_PASS=$PASS CHROMIUM=$chromium \
    ARTIFACTS=$ART PLAYWRIGHT_CORE=$ROOT/web/node_modules/playwright-core \
    timeout 180 node --test --test-reporter=spec "${@/#/$ROOT/tests/browser/}" >"$T/browser.out" 2>&1; then
    ok
  else
    bad "browser tests (tests/browser/)"
  fi
  sed 's/^/  | /' "$T/browser.out" | tail -n 60
}
if [ "$failed" != 0 ]; then finish; fi
run_browser console.test.mjs indicators.test.mjs

# --- the sightings, graph, cases, members and feeds pages: a second store, seeded with TLP:CLEAR
# and TLP:RED objects, sightings, two cases (one embargoed, the reader outside it), a roster with
# a pending proposal and a peer whose link fails.  `reader` has no organisation: it reads CLEAR
# only, and takes part in one case as an observer.
stop_server
P=$T/pages
pcli() { "$ACCORD" --data "$P" "$@"; }
IND=indicator--c1ea4000-0000-4000-8000-000000000001
RED=indicator--4ed00000-0000-4000-8000-000000000002
HUB=infrastructure--c1ea4000-0000-4000-8000-0000000000aa
base_store "$P"
pcli import "$ROOT/tests/browser/seed_pages.json" >"$T/import.out" 2>&1 ||
  { echo "FATAL: pages seed import failed" >&2; cat "$T/import.out" >&2; exit 1; }
# a hub with 320 neighbours: more than the graph's 300 nodes
awk -v hub="$HUB" 'BEGIN {
  c = "\"created\":\"2026-03-01T00:00:00.000Z\",\"modified\":\"2026-03-01T00:00:00.000Z\",\"object_marking_refs\":[\"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487\"]"
  printf "{\"type\":\"bundle\",\"id\":\"bundle--c1ea4000-0000-4000-8000-0000000000fe\",\"objects\":["
  printf "{\"type\":\"infrastructure\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"name\":\"Hub\",%s}", hub, c
  for (i = 0; i < 320; i++)
    printf ",{\"type\":\"relationship\",\"spec_version\":\"2.1\",\"id\":\"relationship--c1ea4001-0000-4000-8000-%012d\",\"relationship_type\":\"communicates-with\",\"source_ref\":\"%s\",\"target_ref\":\"ipv4-addr--c1ea4002-0000-4000-8000-%012d\",%s}", i, hub, i, c
  printf "]}\n" }' >"$T/hub.json"
pcli import "$T/hub.json" >"$T/import.out" 2>&1 ||
  { echo "FATAL: hub import failed" >&2; cat "$T/import.out" >&2; exit 1; }
printf '%s\n' "$PASS" | pcli user add --admin --password-stdin analyst >/dev/null
printf '%s\n' "$PASS" | pcli user add --password-stdin reader >/dev/null
pcli user grant reader default --read >/dev/null
# case 1: embargoed until 2030-01-15 09:00 in UTC+09:00; the vendors' deadline has passed, so a
# vendor that never answered shows "no response"
pcli case open --title "Parser overflow <img src=x onerror=alert('case')>" \
  --summary "<script>alert('summary')</script> in the parser" --embargo 2030-01-15T09:00:00+09:00 \
  --deadline 2026-01-01T00:00:00Z >"$T/out" 2>&1 || { cat "$T/out" >&2; exit 1; }
CASE1=$(tail -n 1 "$T/out")
pcli case add-participant "$CASE1" analyst coordinator >/dev/null
pcli case add-vendor "$CASE1" "Acme <b>Corp</b>" --contact psirt@acme.example >/dev/null
pcli case add-product "$CASE1" --vendor "Acme <b>Corp</b>" --name "widget <script>alert('product')</script>" \
  --affected "<1.5.0" --fixed 1.5.0 >/dev/null
pcli case status "$CASE1" --vendor "Acme <b>Corp</b>" --set affected --statement "Reproduced <i>here</i>." >/dev/null
pcli case add-vendor "$CASE1" "Globex" --contact sec@globex.example >/dev/null
pcli case status "$CASE1" --vendor Globex --set not_affected --statement "Never loads widgets." >/dev/null
pcli case add-vendor "$CASE1" "Silent Ltd" --contact nobody@silent.example >/dev/null
pcli case post "$CASE1" --topic widget "patch <img src=x onerror=alert('msg')> attached" >/dev/null
pcli case post "$CASE1" --topic widget "second note on the widget" >/dev/null
pcli case post "$CASE1" --topic general "timeline agreed" >/dev/null
pcli case set "$CASE1" indicator "$IND" >/dev/null
# case 2: not embargoed, reader observes it
pcli case open --title "Reader's case" >"$T/out" 2>&1 || { cat "$T/out" >&2; exit 1; }
CASE2=$(tail -n 1 "$T/out")
pcli case add-participant "$CASE2" reader observer >/dev/null
pcli case set "$CASE2" indicator "$IND" >/dev/null
# this node's organisation, a roster of it alone, and a proposal to add a second member
pcli member init --name "Org <script>alert('org')</script>" >/dev/null 2>&1
SELF=$(pcli member show | awk 'NR==1{print $2}')
pcli get "$SELF" >"$T/self.json"
"$ACCORD" --data "$T/other" member init --name "Second Org" >/dev/null 2>&1
OTHER=$("$ACCORD" --data "$T/other" member show | awk 'NR==1{print $2}')
"$ACCORD" --data "$T/other" get "$OTHER" >"$T/other.json"
pcli roster create --threshold 1 "$T/self.json" >/dev/null 2>&1 || { echo "FATAL: roster create" >&2; exit 1; }
pcli roster propose --add "$T/other.json" --threshold 2 >/dev/null 2>&1 || { echo "FATAL: roster propose" >&2; exit 1; }
# a peer nothing listens for: its round fails and the error is recorded
echo not-a-token >"$T/peer.token"
cp "$T/cacert.pem" "$T/peer-ca.pem" 2>/dev/null || echo junk >"$T/peer-ca.pem"
pcli peer add upstream https://127.0.0.1:9/accord/ --collection 11111111-2222-4333-8444-555555555555 \
  --pull --interval 0 --token-file "$T/peer.token" --cacert "$T/peer-ca.pem" >/dev/null
pcli sync upstream >/dev/null 2>&1
start_server "$P" || exit 1
ORIGIN=$BASE
for u in analyst reader; do
  login "$u" "$PASS"
  expect 200 "pages: login as $u"
  cp "$T/jar" "$T/jar.$u"
  sed -n 's/.*"csrf_token":"\([A-Za-z0-9_-]*\)".*/\1/p' "$T/body" >"$T/csrf.$u"
done

# sightings: the clear indicator's four sightings in three hours; RED's only for the admin
req GET "/api/console/sightings?indicator=$IND&bucket=hour" -b "$T/jar.reader"
expect 200 "sightings per hour"
body_has '"buckets":[[1772445600,5],[1772449200,4],[1772614800,1]]' "three hours: 3+2, 4, 1"
body_has '"sightings":4,"count":10,' "four sightings, seen ten times"
req GET "/api/console/sightings?indicator=$IND&bucket=day" -b "$T/jar.reader"
body_has '"buckets":[[1772409600,9],[1772582400,1]]' "two days"
req GET "/api/console/sightings?collection=default&bucket=day" -b "$T/jar.reader"
expect 200 "a collection's sightings"
body_has '"sightings":4,"count":10,' "reader: the RED indicator's sightings are left out of the feed"
req GET "/api/console/sightings?collection=default&bucket=day" -b "$T/jar.analyst"
body_has '"sightings":6,"count":130,' "admin: every sighting of the feed"
req GET "/api/console/sightings?indicator=$RED" -b "$T/jar.reader"
expect 404 "reader: the RED indicator's sightings are not found"
req GET "/api/console/sightings?indicator=$RED" -b "$T/jar.analyst"
body_has '"sightings":2,' "admin: the RED indicator's sightings"
req GET "/api/objects/$RED" -b "$T/jar.reader"
expect 404 "reader: the RED indicator is not found"
req GET "/api/objects/$IND/relationships" -b "$T/jar.reader"
body_lacks "$RED" "reader: no relationship to the RED indicator"
req GET "/api/console/sightings?indicator=$IND&bucket=week" -b "$T/jar.reader"
expect 400 "an unknown bucket"
req GET "/api/console/sightings" -b "$T/jar.reader"
expect 400 "sightings of nothing"
# cases that link an object: the embargoed case only for its participants
req GET "/api/console/object-cases?object=$IND" -b "$T/jar.analyst"
body_has "\"id\":\"$CASE1\"" "admin (coordinator): the embargoed case"
req GET "/api/console/object-cases?object=$IND" -b "$T/jar.reader"
body_lacks "$CASE1" "reader: not the embargoed case"
body_has "\"id\":\"$CASE2\"" "reader: the case it observes"
req GET "/api/cases/$CASE1" -b "$T/jar.reader"
expect 404 "reader: the embargoed case is not found"
req GET "/api/console/object-cases?object=$RED" -b "$T/jar.reader"
expect 404 "reader: no cases of an object it may not read"
# read markers of case threads: the account's own, kept by the server, only for cases it sees
mark() { # mark USER BODY
  req POST /api/console/reads -b "$T/jar.$1" -H "Origin: $ORIGIN" -H "X-CSRF-Token: $(cat "$T/csrf.$1")" \
    -H 'Content-Type: application/json' --data-binary "$2"
}
req GET "/api/console/reads?case=$CASE2" -b "$T/jar.reader"
expect 200 "reader: the read markers of its case"
body_has '"topics":{}}' "nothing read yet"
mark reader "{\"case\":\"$CASE2\",\"topic\":\"general\",\"seen\":7}"
expect 200 "reader: a thread read up to message 7"
body_has '"topics":{"general":7}}' "the marker is stored"
mark reader "{\"case\":\"$CASE2\",\"topic\":\"general\",\"seen\":3}"
body_has '"topics":{"general":7}}' "an earlier message does not move the marker back"
req GET "/api/console/reads?case=$CASE2" -b "$T/jar.analyst"
expect 404 "the admin takes no part in the reader's unpublished case"
req GET "/api/console/reads?case=$CASE1" -b "$T/jar.reader"
expect 404 "reader: no markers of the embargoed case"
mark reader "{\"case\":\"$CASE1\",\"topic\":\"widget\",\"seen\":1}"
expect 404 "reader: no marker on the embargoed case"
mark reader '{"case":"x","topic":"","seen":1}'
expect 400 "an empty topic"
mark reader "{\"case\":\"$CASE2\",\"topic\":\"general\",\"seen\":-1}"
expect 400 "a negative seq"
req POST /api/console/reads -b "$T/jar.reader" -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
  --data-binary "{\"case\":\"$CASE2\",\"topic\":\"general\",\"seen\":9}"
expect 403 "a marker without the CSRF token"
# roster, collections, peers
req GET /api/console/roster -b "$T/jar.reader"
expect 200 "roster"
body_has "\"self\":\"$SELF\"" "this node's organisation"
body_has '"state":"proposed"' "the pending proposal"
body_has '"purpose":"root","status":"active"' "members' keys"
req GET /api/console/collections -b "$T/jar.reader"
body_has '"alias":"default"' "reader: the collection it may read"
req GET /api/console/peers -b "$T/jar.reader"
expect 403 "reader: peers are for admins"
req GET /api/console/peers -b "$T/jar.analyst"
expect 200 "admin: peers"
body_has '"name":"upstream"' "the peer"
body_lacks '"last_error":null' "its failed round's error"
req POST /api/console/roster -b "$T/jar.analyst" -H "Origin: $ORIGIN" -H "X-CSRF-Token: x"
expect 403 "POST to a read endpoint without the session's token"
if [ "$failed" != 0 ]; then finish; fi
CASE1=$CASE1 CASE2=$CASE2 HUB=$HUB run_browser pages.test.mjs
finish
