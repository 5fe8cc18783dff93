#!/usr/bin/env bash
# test_export_feed.sh - feeds served by `accord serve` over HTTPS, with curl: `accord feed
# add/list/rm`; GET /feeds/NAME answers 200 with an ETag, then 304 with no body for the same
# ETag; a new ETag and new content after an import, after a revocation, and after an indicator's
# valid_until passes (no store change at all) and after an indicator leaves the feed's collection,
# the same ETag after a change that leaves the bytes alone; the default TLP decides for unmarked
# indicators under --max-tlp; a feed past its size cap is answered 507, nothing partial;
# ?since=CURSOR sends nft deletes and adds, and a stix feed's changes (a revocation);
# multi-file formats list their files and serve each; 401 without credentials, 403 without read
# rights on the feed's collection (and for a whole-store feed unless admin), 404, 400, 405; each
# reader gets what its TLP clearance admits, under its own ETag.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

DATA=$T/data
start_server || { bad "server start"; finish; }
check "admin token printed" test -n "$TOKEN"

# ETag of the last response
etag() { hdr_value ETag; }
# ind ID IP [extra JSON members [modified [marking]]]: an indicator valid from 2026-01-01, TLP:CLEAR
# unless a marking-definition id is given
CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
ind() {
  printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"%s","pattern":"[ipv4-addr:value = '"'"'%s'"'"']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["%s"]%s}' \
    "$1" "${4:-2026-01-01T00:00:00.000Z}" "$2" "${5:-$CLEAR}" "${3:-}"
}
bundle() { local IFS=,; printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-00000000000b","objects":[%s]}' "$*"; }
A=$(mkid indicator 1 1)
B=$(mkid indicator 1 2)
E=$(mkid indicator 1 3)
# E expires a few seconds from now: the feed must change then without any change to the store
EXP_AT=$(date -u -d '+15 seconds' +%Y-%m-%dT%H:%M:%SZ) # room for a slow (sanitised) build
AM=$(mkid indicator 1 4)
bundle "$(ind "$A" 45.77.1.10)" "$(ind "$E" 45.77.1.30 ",\"valid_until\":\"$EXP_AT\"")" \
  "$(ind "$AM" 45.77.1.40 '' 2026-01-01T00:00:00.000Z "$AMBER")" >"$T/b1.json"
expect_rc 0 "import A, E and an AMBER one" -- cli import --quiet "$T/b1.json"

# --- configuration ------------------------------------------------------------------------------
expect_rc 0 "feed add fw (nft, default collection)" -- cli feed add fw --format nft --collection default
expect_rc 0 "feed add all (zeek, whole store)" -- cli feed add all --format zeek-intel
expect_rc 0 "feed add ds (suricata-dataset)" -- cli feed add ds --format suricata-dataset --collection default
expect_rc 2 "feed add: unknown format" -- cli feed add x --format bogus
expect_rc 2 "feed add: unknown option" -- cli feed add x --format nft --frobnicate 1
expect_rc 2 "feed add: bad name" -- cli feed add ../x --format nft
expect_rc 2 "feed add: bad TLP" -- cli feed add x --format nft --max-tlp purple
expect_rc 0 "feed list" -- cli feed list
check "feed list shows fw and its words" has "^fw.*--format nft --collection default" "$T/out"
expect_rc 0 "feed add tmp" -- cli feed add tmp --format plain
expect_rc 0 "feed rm tmp" -- cli feed rm tmp
expect_rc 1 "feed rm: no such feed" -- cli feed rm tmp

# --- 200, then 304 on the same ETag --------------------------------------------------------------
req GET /feeds/fw
expect 200 "GET /feeds/fw"
body_has "45.77.1.10" "fw holds A"
body_has "45.77.1.30" "fw holds E (not yet expired)"
body_has "# cursor v1." "fw carries its cursor"
E1=$(etag)
check "an ETag is sent" test -n "$E1"
CUR1=$(sed -n 's/^# cursor //p' "$T/body")
cp "$T/body" "$T/fw1.nft"
req GET /feeds/fw -H "If-None-Match: $E1"
expect 304 "same ETag: 304"
check "304 has no body" test ! -s "$T/body"
req GET /feeds/fw -H "If-None-Match: \"0000000000000000\", $E1"
expect 304 "ETag in a list: 304"
req GET /feeds/fw -H 'If-None-Match: "0000000000000000"'
expect 200 "another ETag: 200"
check "the same ETag again" test "$(etag)" = "$E1"

# --- an import changes it ------------------------------------------------------------------------
bundle "$(ind "$B" 45.77.1.20)" >"$T/b2.json"
expect_rc 0 "import B" -- cli import --quiet "$T/b2.json"
req GET /feeds/fw -H "If-None-Match: $E1"
expect 200 "after an import: 200"
body_has "45.77.1.20" "fw holds B after the import"
E2=$(etag)
check "new ETag after the import" test -n "$E2" -a "$E2" != "$E1"
req GET /feeds/fw -H "If-None-Match: $E2"
expect 304 "after the import, unchanged: 304"

# --- a revocation changes it ---------------------------------------------------------------------
bundle "$(ind "$A" 45.77.1.10 ',"revoked":true' 2026-01-02T00:00:00.000Z)" >"$T/b3.json"
expect_rc 0 "revoke A" -- cli import --quiet "$T/b3.json"
req GET /feeds/fw -H "If-None-Match: $E2"
expect 200 "after a revocation: 200"
body_lacks "45.77.1.10" "revoked A left the feed"
E3=$(etag)
check "new ETag after the revocation" test -n "$E3" -a "$E3" != "$E2"
# the incremental form since the first fetch: A deleted, B added
req GET "/feeds/fw?since=$CUR1"
expect 200 "GET ?since=CURSOR"
if grep -q '^delete element inet accord ipv4 {.*45.77.1.10' "$T/body"; then ok; else
  bad "since: revoked A is a delete"; show_last; fi
if grep -q '^add element inet accord ipv4 {.*45.77.1.20' "$T/body"; then ok; else
  bad "since: B is an add"; show_last; fi
body_lacks "flush set" "since: no flush"
if command -v nft >/dev/null 2>&1 && nft -c -f /dev/null 2>/dev/null; then
  { cat "$T/fw1.nft"; grep -v '^#' "$T/body"; } >"$T/applied.nft"
  check "nft -c -f accepts the full feed followed by its changes" nft -c -f "$T/applied.nft"
fi

# --- what an nft feed does not serve does not change its ETag --------------------------------------
# a domain indicator arrives, then its validity ends: the feed holds addresses only, so its bytes
# (cursor line included) and its ETag stay, and a client polling with E3 keeps getting 304
DX=$(mkid indicator 1 9)
DX_AT=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = '"'"'dx.example.top'"'"']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","valid_until":"%s","object_marking_refs":["%s"]}' \
  "$DX" "$DX_AT" "$CLEAR" >"$T/dx.json"
expect_rc 0 "import a domain indicator" -- cli import --quiet "$T/dx.json"
req GET /feeds/fw -H "If-None-Match: $E3"
expect 304 "a domain indicator arrived: the nft feed's ETag stays"
while [ "$(date -u +%s)" -le "$(date -u -d "$DX_AT" +%s)" ]; do sleep 0.2; done
if [ "$(date -u +%s)" -lt "$(date -u -d "$EXP_AT" +%s)" ]; then
  req GET /feeds/fw -H "If-None-Match: $E3"
  expect 304 "a domain's validity ended: the nft feed's ETag stays"
fi

# --- an expiry changes it, with no change to the store --------------------------------------------
req GET /feeds/fw -H "If-None-Match: $E3"
if [ "$(date -u +%s)" -lt "$(date -u -d "$EXP_AT" +%s)" ]; then
  expect 304 "before E expires: 304"
fi
while [ "$(date -u +%s)" -le "$(date -u -d "$EXP_AT" +%s)" ]; do sleep 0.2; done
req GET /feeds/fw -H "If-None-Match: $E3"
expect 200 "after E expired: 200"
body_lacks "45.77.1.30" "expired E left the feed"
body_has "45.77.1.20" "B is still there"
E4=$(etag)
check "new ETag after the expiry" test -n "$E4" -a "$E4" != "$E3"
req GET "/feeds/fw?since=$CUR1"
if grep -q '^delete element inet accord ipv4 {.*45.77.1.30' "$T/body"; then ok; else
  bad "since: expired E is a delete"; show_last; fi

# --- multi-file formats ----------------------------------------------------------------------------
req GET /feeds/ds
expect 200 "GET /feeds/ds lists files"
body_has '"accord-ipv4.lst"' "the listing names the IPv4 dataset"
req GET /feeds/ds/accord-ipv4.lst
expect 200 "GET /feeds/ds/accord-ipv4.lst"
body_has "45.77.1.20" "the dataset holds B"
D1=$(etag)
req GET /feeds/ds/accord-ipv4.lst -H "If-None-Match: $D1"
expect 304 "dataset file: 304"
req GET /feeds/ds/nope.lst
expect 404 "no such file"

# a MISP feed: MISP's loader fetches FEED_URL/manifest.json, then FEED_URL/<uuid>.json
expect_rc 0 "feed add misp" -- cli feed add misp --format misp-feed --collection default
req GET /feeds/misp/manifest.json
expect 200 "GET /feeds/misp/manifest.json"
check "manifest is JSON" test "$CTYPE" = application/json
EV=$(sed -n 's/^{"\([0-9a-f-]*\)":.*/\1/p' "$T/body")
check "the manifest names one event" test -n "$EV"
req GET "/feeds/misp/$EV.json"
expect 200 "GET the event file the manifest names"
body_has '"value":"45.77.1.20"' "the event holds B as an attribute"
body_has '"type":"ip-dst"' "as ip-dst"
req GET /feeds/misp/hashes.csv
expect 200 "GET hashes.csv"
check "hashes.csv has md5(value),event" has "^$(printf 45.77.1.20 | md5sum | cut -c1-32),$EV\$" "$T/body"

# --- access ----------------------------------------------------------------------------------------
cli user add bob >/dev/null 2>&1
cli user add dave >/dev/null 2>&1
expect_rc 0 "grant dave read on default" -- cli user grant dave default --read
BOB=$(cli token create bob 2>/dev/null | grep '^acc_' | head -n 1)
DAVE=$(cli token create dave 2>/dev/null | grep '^acc_' | head -n 1)
check "tokens created" test -n "$BOB" -a -n "$DAVE"
WHO=none req GET /feeds/fw
expect 401 "no credentials: 401"
hdr_has '^WWW-Authenticate' "401 asks for credentials"
WHO=token:acc_bogus_bogus req GET /feeds/fw
expect 401 "a bad token: 401"
WHO=none req GET /feeds/nope
expect 401 "no credentials on an unknown feed: 401, not 404"
WHO=token:$BOB req GET /feeds/fw
expect 403 "no read rights on the collection: 403"
body_lacks "45.77.1" "403 carries no indicator"
WHO=token:$DAVE req GET /feeds/fw
expect 200 "read rights on the collection: 200"
body_has "45.77.1.20" "dave reads the TLP:CLEAR indicator"
body_lacks "45.77.1.40" "dave is not cleared for the AMBER one (no organisation)"
DV=$(etag)
check "another clearance, another ETag" test -n "$DV" -a "$DV" != "$E4"
WHO=token:$DAVE req GET /feeds/fw -H "If-None-Match: $DV"
expect 304 "dave's own ETag: 304"
req GET /feeds/fw
body_has "45.77.1.40" "the admin reads the AMBER one"
check "the admin's ETag is unchanged" test "$(etag)" = "$E4"
WHO=token:$DAVE req GET /feeds/all
expect 403 "a whole-store feed is for administrators"
req GET /feeds/all
expect 200 "admin reads the whole-store feed"
body_has "#fields" "zeek header"

# --- errors ------------------------------------------------------------------------------------------
req GET /feeds/nope
expect 404 "unknown feed"
req GET "/feeds/all?since=$CUR1"
expect 400 "since on a zeek feed"
req GET "/feeds/fw?since=garbage"
expect 400 "since that is not a cursor"
req POST /feeds/fw --data-binary x
expect 405 "POST"

# --- a store change that leaves the feed's bytes alone keeps its ETag ------------------------------
req GET /feeds/fw
E5=$(etag)
cli user add erin >/dev/null 2>&1
req GET /feeds/fw -H "If-None-Match: $E5"
expect 304 "an unrelated change (a new account) rebuilds to the same bytes: 304"

# --- an indicator removed from the collection changes it ------------------------------------------
DEF=$(collection_id default)
req DELETE "/accord/collections/$DEF/objects/$B/" -H "Accept: $TAXII_CT"
expect 200 "DELETE B from the default collection"
req GET /feeds/fw -H "If-None-Match: $E5"
expect 200 "after B left the collection: 200"
body_lacks "45.77.1.20" "B left the feed"
E6=$(etag)
check "new ETag after the removal" test -n "$E6" -a "$E6" != "$E5"

# --- the default TLP decides for unmarked indicators under --max-tlp --------------------------------
U=$(mkid indicator 1 5)
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-00000000000c","objects":[{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'45.77.1.50'"'"']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}' "$U" >"$T/b4.json"
expect_rc 0 "import an unmarked indicator" -- cli import --quiet "$T/b4.json"
expect_rc 0 "feed add green (--max-tlp green)" -- cli feed add green --format plain --max-tlp green
req GET /feeds/green
expect 200 "GET /feeds/green"
body_lacks "45.77.1.50" "unmarked reads as amber by default: not in a green feed"
G1=$(etag)
expect_rc 0 "default TLP green" -- cli tlp default green
req GET /feeds/green -H "If-None-Match: $G1"
expect 200 "after the default TLP changed: 200"
body_has "45.77.1.50" "unmarked reads as green now: in the green feed"
expect_rc 0 "default TLP back to amber" -- cli tlp default amber

# --- the size cap: 507, nothing partial ------------------------------------------------------------
expect_rc 2 "feed add: --max-bytes past 256 MiB" -- cli feed add big --format zeek-intel --max-bytes 300M
expect_rc 0 "feed add tiny (--max-bytes 200)" -- cli feed add tiny --format zeek-intel --max-bytes 200
req GET /feeds/tiny
expect 507 "a feed past its cap: 507"
body_has "Feed too large" "507 says why"
body_has "passes 200 bytes" "507 names the cap"
body_lacks "45.77.1" "507 carries no indicator"
expect_rc 0 "feed add tiny (--max-bytes 64K)" -- cli feed add tiny --format zeek-intel --max-bytes 64K
req GET /feeds/tiny
expect 200 "under its cap: 200"
expect_rc 1 "export --max-bytes 100: refused" -- cli export --format zeek-intel --max-bytes 100 --out "$T/tiny.zeek"
check "export --max-bytes names the cap" has "passes 100 bytes" "$T/err"
check "export --max-bytes leaves no partial file" test ! -e "$T/tiny.zeek"

# --- a stix feed: the selected indicators as stored, with their markings --------------------------
S=$(mkid indicator 1 6)
bundle "$(ind "$S" 45.77.1.60)" >"$T/b5.json"
expect_rc 0 "import S" -- cli import --quiet "$T/b5.json"
expect_rc 0 "feed add stx (stix)" -- cli feed add stx --format stix --collection default --max-tlp amber
req GET /feeds/stx
expect 200 "GET /feeds/stx"
body_has '"type":"bundle"' "stx is a bundle"
body_has "$S" "stx holds S"
body_has "\"id\":\"$CLEAR\"" "stx holds the CLEAR marking-definition S references"
body_lacks "$A" "stx lacks revoked A"
body_lacks "45.77.1.30" "stx lacks expired E"
check "stx is served as STIX" grep -qi "content-type: application/stix+json" "$T/hdr"
ST1=$(etag)
req GET /feeds/stx -H "If-None-Match: $ST1"
expect 304 "stx unchanged: 304"
req GET /feeds/stx/cursor
expect 200 "GET /feeds/stx/cursor"
SCUR=$(cat "$T/body")
check "the stix feed's cursor" test "${SCUR#v1.}" != "$SCUR"
bundle "$(ind "$S" 45.77.1.60 ',"revoked":true' 2026-01-02T00:00:00.000Z)" >"$T/b6.json"
expect_rc 0 "revoke S" -- cli import --quiet "$T/b6.json"
req GET /feeds/stx -H "If-None-Match: $ST1"
expect 200 "stx after a revocation: 200"
body_lacks "45.77.1.60" "revoked S left the stix feed"
check "new stx ETag after the revocation" test "$(etag)" != "$ST1"
# the changes since the cursor: S's revocation, nothing that stayed
req GET "/feeds/stx?since=$SCUR"
expect 200 "GET /feeds/stx?since=CURSOR"
body_has '"revoked":true' "since: S's revocation"
body_has "$S" "since: names S"
body_lacks "$AM" "since: the unchanged AMBER one is not sent again"
req GET "/feeds/stx?since=v1.1.1.0000000000000000"
expect 200 "a cursor whose state cannot be rebuilt: the full bundle"
body_has "$AM" "the full bundle holds the AMBER one"

# a changed feed definition changes the ETag
expect_rc 0 "feed fw replaced" -- cli feed add fw --format nft --collection default --nft-table other
req GET /feeds/fw -H "If-None-Match: $E4"
expect 200 "after the feed changed: 200"
body_has "inet other" "the new table name"
finish
