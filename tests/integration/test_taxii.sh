#!/usr/bin/env bash
# `accord serve` over HTTPS with curl: every TAXII 2.1 endpoint, every filter, the error codes of
# the spec's tables (400, 404, 405, 406, 413, 415), content negotiation, /metrics, the access log,
# certificate pinning, SIGTERM, and plain HTTP on loopback only.
# (Authentication and rights: test_taxii_auth.sh; pagination under writes: test_taxii_paging.sh.)
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

start_server || { bad "server start"; finish; }
check "first start prints the admin token" test -n "$TOKEN"
check "first start prints the certificate fingerprint" grep -q '^certificate SHA-256 fingerprint [0-9A-F:]\{95\}' "$T/serve.out"
check "self-signed pair in the data dir" test -s "$T/data/tls/cert.pem" -a -s "$T/data/tls/key.pem"
if command -v openssl >/dev/null 2>&1; then
  fp=$(openssl x509 -in "$T/data/tls/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
  check "printed fingerprint is the certificate's" grep -qF "$fp" "$T/serve.out"
fi

# --- TLS: the self-signed certificate verifies for localhost and 127.0.0.1 when pinned -------
get /taxii2/
expect 200 "discovery over https://localhost with --cacert"
get "https://127.0.0.1:$PORT/taxii2/"
expect 200 "discovery over https://127.0.0.1 with --cacert"
curl -s -o /dev/null --max-time 10 --capath /nonexistent --cacert /dev/null "https://localhost:$PORT/taxii2/" 2>/dev/null
rc=$?
check "an unpinned client does not trust the self-signed certificate (curl rc $rc)" test "$rc" = 60 -o "$rc" = 77 -o "$rc" = 35
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PORT/taxii2/" 2>/dev/null)
check "plain HTTP to the HTTPS port is not served (got '$code')" test "$code" != 200

DEF=$(collection_id default)
check "a default collection exists" test -n "$DEF"
cli collection add --alias second --description "Second collection" "Second" >/dev/null 2>"$T/err"
SEC=$(collection_id second)
check "collection add" test -n "$SEC"

# --- discovery, API root, collections ----------------------------------------------------------
get /taxii2/
expect 200 "discovery"
check "discovery content type" test "$CTYPE" = "$TAXII_CT"
body_has '"title":"' "discovery title"
body_has "\"api_roots\":[\"https://localhost:$PORT/accord/\"" "discovery lists the API root"
body_has "\"default\":\"https://localhost:$PORT/accord/\"" "discovery default root"
get /taxii2
expect 200 "discovery without the trailing slash"

get /accord/
expect 200 "API root"
body_has '"versions":["application/taxii+json;version=2.1"]' "API root versions"
body_has '"max_content_length":' "API root max_content_length"
body_has '"title":"' "API root title"

get /accord/collections/
expect 200 "collections"
body_has "\"id\":\"$DEF\"" "collections lists the default collection"
body_has "\"id\":\"$SEC\"" "collections lists the new collection"
body_has '"can_read":true,"can_write":true' "admin can read and write"
body_has '"media_types":["application/stix+json;version=2.1"]' "collection media types"
body_has '"description":"Second collection"' "collection description"

get "/accord/collections/$DEF/"
expect 200 "a collection by id"
body_has "\"id\":\"$DEF\"" "the collection's id"
body_has '"title":"' "the collection's title"
body_lacks '"collections"' "a collection is not a list"
get /accord/collections/second/
expect 200 "a collection by alias"
body_has "\"id\":\"$SEC\"" "alias resolves to the id"

# --- POST objects: 202 and a status resource ------------------------------------------------------
V1=2026-01-10T09:10:00.000Z
V2=2026-02-10T09:10:00.000Z
V3=2026-03-10T09:10:00.000Z
I1=$(mkid indicator 1 1)
I2=$(mkid indicator 1 2)
M1=$(mkid malware 1 3)
S1=ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd
L20=indicator--00000064-17d4-4cbf-938f-98ee46b3cd3f
# accord's signature extension-definition: published in every collection at the server's start,
# so it is the default collection's first object
X=extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31
BADR=$(mkid indicator 1 4)
BADP=$(mkid indicator 1 5)
O_I1V1=$(indicator "$I1" "$V1" 1)
O_I1V2=$(indicator "$I1" "$V2" 1)
O_I1V3=$(indicator "$I1" "$V3" 1)
O_I2=$(indicator "$I2" "$V1" 2)
O_M1=$(malware "$M1" "$V1")
O_S1='{"type":"ipv4-addr","spec_version":"2.1","id":"'$S1'","value":"198.51.100.7"}'
O_L20='{"type":"indicator","id":"'$L20'","created":"2016-04-06T20:03:48Z","modified":"2016-04-06T20:03:48Z","labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '"'"'1.2.3.4'"'"']","valid_from":"2016-01-01T00:00:00Z"}'
O_BADR='{"type":"indicator","spec_version":"2.1","id":"'$BADR'","modified":"2026-01-10T09:10:00.000Z","pattern":"[ipv4-addr:value = '"'"'1.2.3.4'"'"']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}'
O_BADP=$(indicator "$BADP" "$V1" 5 | sed "s/'198.51.100.6'\]/'198.51.100.6'/")

post "/accord/collections/$DEF/objects/" "$(envelope "$O_I1V1" "$O_I2" "$O_M1" "$O_S1" "$O_L20" "$O_BADR" "$O_BADP")"
expect 202 "POST objects"
check "POST answers the TAXII media type" test "$CTYPE" = "$TAXII_CT"
cp "$T/body" "$T/status1.json"
SID=$(sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p' "$T/body")
check "status has an id" test -n "$SID"
body_has '"total_count":7' "status total_count"
body_has '"success_count":5' "status success_count"
body_has '"failure_count":2' "status failure_count"
body_has '"pending_count":0' "status pending_count"
body_has '"status":"complete"' "status complete"
body_has '"request_timestamp":"' "status request_timestamp"
body_has "{\"id\":\"$I1\",\"version\":\"$V1\"}" "successes name id and version"
check "failure for the object without created names it and the rule" \
  grep -q "\"failures\":\[.*{\"id\":\"$BADR\",\"message\":\"[^}]*required-property" "$T/body"
check "failure message names the missing property" grep -q "{\"id\":\"$BADR\",\"message\":\"[^}]*created" "$T/body"
check "failure for the broken pattern names the rule" \
  grep -q "{\"id\":\"$BADP\",\"message\":\"[^}]*pattern-syntax" "$T/body"

get "/accord/status/$SID/"
expect 200 "GET status afterwards"
check "the status is kept as answered" cmp -s "$T/body" "$T/status1.json"
get "/accord/status/$SID"
expect 200 "GET status without the trailing slash"

post "/accord/collections/$DEF/objects/" "$(envelope "$O_I1V2")"
expect 202 "POST a second version"
post "/accord/collections/$DEF/objects/" "$(envelope "$O_I1V3")"
expect 202 "POST a third version"
post "/accord/collections/$SEC/objects/" "$(envelope "$O_I2" "$O_M1")"
expect 202 "POST into the second collection"
body_has '"success_count":2' "second collection: both accepted"
post "/accord/collections/$DEF/objects/" "$(envelope "$O_I1V3")"
expect 202 "POST a duplicate version"
body_lacks '"failure_count":1' "a duplicate is not a failure"
post "/accord/collections/$DEF/objects/" '{"objects":[]}'
expect 202 "POST an empty envelope"
body_has '"total_count":0' "empty envelope: total_count 0"

# --- GET objects: latest versions, ascending date_added, stored bytes -----------------------------
get "/accord/collections/$DEF/objects/"
expect 200 "GET objects"
check "GET objects content type" test "$CTYPE" = "$TAXII_CT"
check "latest versions in date_added order" test "$(body_ids | tr '\n' ' ')" = "$X $I2 $M1 $S1 $L20 $I1 "
body_has "$O_I1V3" "the latest version, as stored"
body_lacks "$O_I1V1" "no older version by default"
body_has "$O_L20" "a STIX 2.0 object, as stored"
body_has '"more":false' "more is false on the last page"
body_lacks '"next"' "no next on the last page"
hdr_has '^X-TAXII-Date-Added-First: 20[0-9-]*T[0-9:.]*Z' "objects: X-TAXII-Date-Added-First"
hdr_has '^X-TAXII-Date-Added-Last: 20[0-9-]*T[0-9:.]*Z' "objects: X-TAXII-Date-Added-Last"
FIRST_ALL=$(hdr_value X-TAXII-Date-Added-First)
LAST_ALL=$(hdr_value X-TAXII-Date-Added-Last)
check "Date-Added-First < Date-Added-Last" test "$FIRST_ALL" \< "$LAST_ALL"
for bad in BADR BADP; do
  body_lacks "${!bad}" "rejected object $bad is not stored"
done

# manifest
get "/accord/collections/$DEF/manifest/"
expect 200 "manifest"
check "manifest ids in date_added order" test "$(body_ids | tr '\n' ' ')" = "$X $I2 $M1 $S1 $L20 $I1 "
check "manifest record for I1: id, date_added, version, media_type" \
  grep -q "{\"id\":\"$I1\",\"date_added\":\"20[0-9-]*T[0-9:.]*Z\",\"version\":\"$V3\",\"media_type\":\"application/stix+json;version=2.1\"}" "$T/body"
body_has "{\"id\":\"$L20\"" "manifest lists the 2.0 object"
check "manifest: the 2.0 object's media type" grep -q "{\"id\":\"$L20\",[^}]*\"media_type\":\"application/stix+json;version=2.0\"}" "$T/body"
body_lacks '"type":"indicator"' "manifest holds records, not objects"
hdr_has '^X-TAXII-Date-Added-First:' "manifest: X-TAXII-Date-Added-First"
hdr_has '^X-TAXII-Date-Added-Last:' "manifest: X-TAXII-Date-Added-Last"
check "manifest and objects agree on Date-Added-First" test "$(hdr_value X-TAXII-Date-Added-First)" = "$FIRST_ALL"
# date_added of the first record equals the header
d1=$(sed -n 's/^{"objects":\[{"id":"[^"]*","date_added":"\([^"]*\)".*/\1/p' "$T/body")
check "first record's date_added is X-TAXII-Date-Added-First" test "$d1" = "$FIRST_ALL"
get "/accord/collections/$DEF/manifest/?match[version]=all"
expect 200 "manifest match[version]=all"
check "manifest all: three records for I1" test "$(body_ids | grep -c "$I1")" = 3
check "manifest all: the versions" grep -q "\"version\":\"$V1\".*\"version\":\"$V2\".*\"version\":\"$V3\"" "$T/body"
get "/accord/collections/$DEF/manifest/?match[type]=malware"
expect 200 "manifest match[type]"
check "manifest match[type]=malware: one record" test "$(body_ids)" = "$M1"

# --- filters -------------------------------------------------------------------------------------------
O="/accord/collections/$DEF/objects/"
ids() { body_ids | tr '\n' ' ' | sed 's/ $//'; }

get "$O?match[id]=$I1"
expect 200 "match[id]"
check "match[id]: one object" test "$(ids)" = "$I1"
get "$O?match[id]=$I1,$M1"
check "match[id] a,b = OR" test "$(ids)" = "$M1 $I1"
get "$O?match[id]=indicator--00000000-0000-4000-8000-00000000dead"
expect 200 "match[id] with no hit"
check "no hit: no objects" test "$(body_count)" = 0
body_has '"more":false' "no hit: more false"
get "$O?match[type]=indicator"
check "match[type]=indicator" test "$(ids)" = "$I2 $L20 $I1"
get "$O?match[type]=indicator,malware"
check "match[type] a,b = OR" test "$(ids)" = "$I2 $M1 $L20 $I1"
get "$O?match[type]=ipv4-addr"
check "match[type] SCO" test "$(ids)" = "$S1"
get "$O?match[type]=malware&match[id]=$I1"
expect 200 "match[type] AND match[id] disjoint"
check "AND across fields: nothing" test "$(body_count)" = 0
get "$O?match[type]=indicator&match[id]=$I1,$M1"
check "AND across fields, OR within" test "$(ids)" = "$I1"
get "$O?match[type]=indicator&match[type]=malware"
expect 200 "a repeated match[type]"
check "a repeated match[type] = OR" test "$(ids)" = "$I2 $M1 $L20 $I1"
# percent-encoded, as HTTP client libraries send them: match%5Btype%5D, %2C, %3A
get "$O?match%5Btype%5D=malware%2Cipv4-addr"
expect 200 "percent-encoded match[type] and comma"
check "percent-encoded filter applied" test "$(ids)" = "$M1 $S1"
get "$O?match%5Bid%5D=$I1&match%5Bversion%5D=first"
check "percent-encoded match[id] and match[version]" test "$(body_count)" = 1
body_has "$O_I1V1" "percent-encoded match[version]=first"

get "$O?match[version]=last"
check "match[version]=last = default" test "$(ids)" = "$X $I2 $M1 $S1 $L20 $I1"
body_has "$O_I1V3" "last: the latest version"
get "$O?match[id]=$I1&match[version]=first"
check "first: one object" test "$(body_count)" = 1
body_has "$O_I1V1" "first: the first version"
get "$O?match[id]=$I1&match[version]=all"
check "all: three versions" test "$(body_count)" = 3
check "all: in date_added order" grep -q "\"modified\":\"$V1\".*\"modified\":\"$V2\".*\"modified\":\"$V3\"" "$T/body"
get "$O?match[id]=$I1&match[version]=$V2"
check "a timestamp: that version" test "$(body_count)" = 1
body_has "$O_I1V2" "timestamp: the second version"
get "$O?match[id]=$I1&match[version]=$V1,$V3"
check "two timestamps: two versions" test "$(body_count)" = 2
body_lacks "$O_I1V2" "two timestamps: not the other"
get "$O?match[id]=$I1&match[version]=first,last"
check "first,last: two versions" test "$(body_count)" = 2
body_has "$O_I1V1" "first,last: first"
body_has "$O_I1V3" "first,last: last"
body_lacks "$O_I1V2" "first,last: not the middle"
get "$O?match[id]=$I1&match[version]=first&match[version]=last"
check "match[version] repeated: first and last" test "$(body_count)" = 2
get "$O?match[id]=$I1&match[version]=first,$V2"
check "first,timestamp: two versions" test "$(body_count)" = 2
get "$O?match[id]=$I2&match[version]=first,last"
check "first,last of a single-version object: once" test "$(body_count)" = 1
get "$O?match[id]=$I1&match[version]=2026-01-01T00:00:00.000Z"
expect 200 "a timestamp no version has"
check "no such version: nothing" test "$(body_count)" = 0
# match[version] compares instants, not text: 2026-02-10T09:10:00Z names the same instant as
# the stored modified 2026-02-10T09:10:00.000Z (a regression check).
get "$O?match[id]=$I1&match[version]=2026-02-10T09:10:00Z"
check "match[version] timestamp in another precision names the same version" test "$(body_count)" = 1

get "$O?match[spec_version]=2.1"
check "match[spec_version]=2.1" test "$(ids)" = "$X $I2 $M1 $S1 $I1"
get "$O?match[spec_version]=2.0"
check "match[spec_version]=2.0: the object without spec_version" test "$(ids)" = "$L20"
get "$O?match[spec_version]=2.0,2.1"
check "match[spec_version] a,b" test "$(body_count)" = 6

# added_after: strictly after, with date_added from the manifest
get "/accord/collections/$DEF/manifest/"
D_M1=$(grep -o "{\"id\":\"$M1\",\"date_added\":\"[^\"]*\"" "$T/body" | sed 's/.*"date_added":"//; s/"$//')
check "manifest gives M1's date_added" test -n "$D_M1"
get "$O?added_after=$D_M1"
expect 200 "added_after"
check "added_after is exclusive" test "$(ids)" = "$S1 $L20 $I1"
check "added_after: Date-Added-First is after it" test "$(hdr_value X-TAXII-Date-Added-First)" \> "$D_M1"
get "$O?added_after=$(echo "$D_M1" | sed 's/:/%3A/g')"
check "added_after percent-encoded" test "$(ids)" = "$S1 $L20 $I1"
get "$O?added_after=2000-01-01T00:00:00Z"
check "added_after long ago: everything" test "$(body_count)" = 6
get "$O?added_after=2999-01-01T00:00:00.000000Z"
expect 200 "added_after in the future"
check "added_after in the future: nothing" test "$(body_count)" = 0
body_has '"more":false' "added_after in the future: more false"
get "$O?added_after=$D_M1&match[type]=indicator"
check "added_after AND match[type]" test "$(ids)" = "$L20 $I1"

# limit, more, next
get "$O?limit=2"
expect 200 "limit=2"
check "limit=2: two objects" test "$(ids)" = "$X $I2"
body_has '"more":true' "limit: more true"
N1=$(body_next)
check "limit: next given" test -n "$N1"
get "$O?limit=2&next=$N1"
expect 200 "next"
check "next: the following page" test "$(ids)" = "$M1 $S1"
body_has '"more":true' "next: more true"
N2=$(body_next)
get "$O?limit=2&next=$N2"
check "next: the last page" test "$(ids)" = "$L20 $I1"
body_has '"more":false' "last page: more false"
body_lacks '"next"' "last page: no next"
get "$O?limit=6"
check "limit = count: one page" test "$(body_count)" = 6
body_has '"more":false' "limit = count: more false"
get "$O?limit=2&match[type]=indicator"
check "limit with a filter" test "$(ids)" = "$I2 $L20"
N=$(body_next)
get "$O?limit=2&match[type]=indicator&next=$N"
check "next keeps the filter" test "$(ids)" = "$I1"
get "/accord/collections/$DEF/manifest/?limit=1"
check "manifest: limit" test "$(body_count)" = 1
body_has '"more":true' "manifest: more true"
hdr_has '^X-TAXII-Date-Added-Last:' "manifest page: X-TAXII-Date-Added-Last"
get "$O?limit=4294967295"
expect 200 "a huge limit is served (capped)"

# --- GET an object, versions ------------------------------------------------------------------------------
get "$O$I1/"
expect 200 "GET an object"
check "object: the latest version only" test "$(body_count)" = 1
body_has "$O_I1V3" "object: latest version as stored"
hdr_has '^X-TAXII-Date-Added-First:' "object: X-TAXII-Date-Added-First"
hdr_has '^X-TAXII-Date-Added-Last:' "object: X-TAXII-Date-Added-Last"
get "$O$I1"
expect 200 "GET an object without the trailing slash"
get "$O$I1/?match[version]=all"
check "object match[version]=all" test "$(body_count)" = 3
get "$O$I1/?match[version]=first"
body_has "$O_I1V1" "object match[version]=first"
get "$O$I1/?match[version]=all&limit=2"
check "object: limit" test "$(body_count)" = 2
body_has '"more":true' "object: more"
N=$(body_next)
get "$O$I1/?match[version]=all&limit=2&next=$N"
check "object: next page" test "$(body_count)" = 1
body_has "$O_I1V3" "object: the last version on the next page"
get "$O$I1/?match[spec_version]=2.0"
expect_error 404 "object filtered to nothing"
get "$O$L20/?match[spec_version]=2.0"
expect 200 "object match[spec_version]"

get "$O$I1/versions/"
expect 200 "versions"
body_has "\"versions\":[\"$V1\",\"$V2\",\"$V3\"]" "versions in order"
body_has '"more":false' "versions: more false"
hdr_has '^X-TAXII-Date-Added-First:' "versions: X-TAXII-Date-Added-First"
hdr_has '^X-TAXII-Date-Added-Last:' "versions: X-TAXII-Date-Added-Last"
get "$O$I1/versions/?limit=2"
body_has "\"versions\":[\"$V1\",\"$V2\"]" "versions: limit"
body_has '"more":true' "versions: more"
N=$(body_next)
get "$O$I1/versions/?limit=2&next=$N"
body_has "\"versions\":[\"$V3\"]" "versions: next page"
get "$O$M1/versions/"
body_has "\"versions\":[\"$V1\"]" "versions of a single-version object"
get "$O$I1/versions/?added_after=2999-01-01T00:00:00Z"
check "versions with added_after in the future: 200 or 404 (got $CODE)" test "$CODE" = 200 -o "$CODE" = 404
check "versions: none after the future" test "$(grep -c "$V1" "$T/body")" = 0
get "$O$(mkid indicator 9 9)/versions/"
expect_error 404 "versions of an unknown object"

# --- DELETE an object ----------------------------------------------------------------------------------
req DELETE "$O$I2/" -H "Accept: $TAXII_CT"
expect 200 "DELETE an object"
get "$O$I2/"
expect_error 404 "a deleted object is gone"
get "$O?match[id]=$I2"
check "a deleted object is not listed" test "$(body_count)" = 0
get "/accord/collections/$SEC/objects/$I2/"
expect 200 "the other collection keeps it"
body_has "$O_I2" "the other collection's copy"
req DELETE "$O$I2/" -H "Accept: $TAXII_CT"
expect_error 404 "DELETE it again"
req DELETE "$O$I1/?match[version]=first" -H "Accept: $TAXII_CT"
expect 200 "DELETE the first version"
get "$O$I1/versions/"
body_has "\"versions\":[\"$V2\",\"$V3\"]" "versions after deleting the first"
req DELETE "$O$I1/?match[version]=$V2" -H "Accept: $TAXII_CT"
expect 200 "DELETE a version by timestamp"
get "$O$I1/versions/"
body_has "\"versions\":[\"$V3\"]" "versions after deleting by timestamp"

# --- errors: 400 --------------------------------------------------------------------------------------
for q in limit=0 limit=-1 limit=abc limit= 'limit=1.5' next=abc next=-5 'next=' \
  added_after=yesterday added_after=2026-13-01T00:00:00Z 'added_after=' \
  'match[version]=newest' 'match[version]=' 'match[version]=first,' 'match[foo]=x' \
  'match[type]=' 'match[id]=,' 'match[]=x' 'match[type=x'; do
  get "$O?$q"
  expect_error 400 "GET objects?$q"
done
get "/accord/collections/$DEF/manifest/?limit=0"
expect_error 400 "manifest bad limit"
get "$O$I1/?match[type]=indicator"
expect_error 400 "object endpoint: match[type] is not its filter"
get "$O$I1/versions/?match[version]=all"
expect_error 400 "versions endpoint: match[version] is not its filter"
get "$O$I1/versions/?limit=x"
expect_error 400 "versions bad limit"
many=$(for i in $(seq 1 80); do printf 'p%d=1&' "$i"; done)
get "$O?${many}limit=1"
expect_error 400 "too many query parameters"
post "$O" 'garbage'
expect_error 400 "POST a body that is not JSON"
post "$O" '{"objects":['
expect_error 400 "POST a truncated envelope"
post "$O" '[]'
expect_error 400 "POST an array"
post "$O" ''
expect_error 400 "POST an empty body"

# --- 404 ------------------------------------------------------------------------------------------------
for p in /nope/ /nope/collections/ "/nope/collections/$DEF/objects/" /accord/collections/nope/ \
  /accord/collections/nope/objects/ /accord/collections/nope/manifest/ "$O$(mkid indicator 9 9)/" \
  /accord/status/00000000-0000-4000-8000-000000000000/ /accord/status/nope/ / /accord/nope/ \
  /taxii2/nope/ "/small/collections/$DEF/objects/"; do
  get "$p"
  expect_error 404 "GET $p"
done
req DELETE "$O$(mkid indicator 9 9)/" -H "Accept: $TAXII_CT"
expect_error 404 "DELETE an unknown object"
post /accord/collections/nope/objects/ '{"objects":[]}'
expect_error 404 "POST to an unknown collection"
get "/accord/status/$SID/../../collections/"
check "dot segments do not escape (status $CODE)" test "$CODE" != 500

# --- 405 -----------------------------------------------------------------------------------------------
for mp in "PUT $O" "PATCH $O" "DELETE /accord/collections/" "DELETE /accord/collections/$DEF/" \
  "POST /accord/collections/$DEF/manifest/" "DELETE /taxii2/" "POST /taxii2/" "POST /accord/" \
  "PUT $O$I1/" "POST $O$I1/" "DELETE $O$I1/versions/" "DELETE /accord/status/$SID/"; do
  req ${mp% *} "${mp#* }" -H "Accept: $TAXII_CT" -H "Content-Type: $TAXII_CT" --data-binary '{}'
  expect_error 405 "$mp"
  # RFC 9110 15.5.6: "The origin server MUST generate an Allow header field in a 405
  # response containing a list of the target resource's currently supported methods."
  hdr_has '^Allow: GET' "$mp: Allow header"
done
req PUT "$O" -H "Accept: $TAXII_CT"
check "Allow on objects: GET, POST" test "$(hdr_value Allow)" = "GET, POST"
req PUT "$O$I1/" -H "Accept: $TAXII_CT"
check "Allow on an object: GET, DELETE" test "$(hdr_value Allow)" = "GET, DELETE"
req POST "/accord/collections/$DEF/manifest/" -H "Accept: $TAXII_CT"
check "Allow on manifest: GET" test "$(hdr_value Allow)" = "GET"

# --- 406 and content negotiation -------------------------------------------------------------------------
get /taxii2/ -H 'Accept: application/json'
expect_error 406 "Accept: application/json"
get /accord/ -H 'Accept: application/taxii+json;version=2.0'
expect_error 406 "Accept: TAXII 2.0"
get "$O" -H 'Accept: application/stix+json;version=2.1'
expect_error 406 "Accept: STIX (not TAXII) on objects"
get "$O" -H 'Accept: text/html'
expect_error 406 "Accept: text/html"
get "$O" -H 'Accept: application/taxii+json;version=2.1;q=0'
expect_error 406 "Accept with q=0"
get /taxii2/ -H 'Accept: application/taxii+json'
expect 200 "a versionless application/taxii+json is served"
check "versionless: answered as 2.1" test "$CTYPE" = "$TAXII_CT"
get "$O" -H 'Accept: application/taxii+json'
expect 200 "versionless Accept on objects"
get /taxii2/ -H 'Accept: */*'
expect 200 "Accept: */*"
get /taxii2/ -H 'Accept: application/*'
expect 200 "Accept: application/*"
get /taxii2/ -H 'Accept: text/html, application/taxii+json;version=2.1;q=0.9'
expect 200 "Accept: a list with TAXII in it"
get /taxii2/ -H 'Accept: APPLICATION/TAXII+JSON; version=2.1'
expect 200 "Accept: media type case-insensitive, a space before the parameter"
req GET /taxii2/
expect 200 "no Accept header"

# --- 415 -------------------------------------------------------------------------------------------------
req POST "$O" -H "Accept: $TAXII_CT" -H 'Content-Type: application/json' --data-binary '{"objects":[]}'
expect_error 415 "POST Content-Type: application/json"
req POST "$O" -H "Accept: $TAXII_CT" -H 'Content-Type: application/stix+json;version=2.1' --data-binary '{"objects":[]}'
expect_error 415 "POST Content-Type: STIX"
req POST "$O" -H "Accept: $TAXII_CT" -H 'Content-Type: application/taxii+json;version=2.0' --data-binary '{"objects":[]}'
expect_error 415 "POST Content-Type: TAXII 2.0"
req POST "$O" -H "Accept: $TAXII_CT" -H 'Content-Type:' --data-binary '{"objects":[]}'
expect_error 415 "POST without a Content-Type"
req POST "$O" -H "Accept: $TAXII_CT" -H 'Content-Type: application/taxii+json' --data-binary '{"objects":[]}'
expect 202 "POST with a versionless TAXII Content-Type"

# --- 413: max_content_length of the API root, while reading -------------------------------------------------
cli root add --title Small --max-content-length 2000 small >/dev/null 2>"$T/err"
check "root add" test $? = 0
cli collection add --root small --alias tiny Tiny >/dev/null 2>>"$T/err"
get /small/
expect 200 "the new API root is served without a restart"
body_has '"max_content_length":2000' "the root's max_content_length"
get /taxii2/
body_has "\"https://localhost:$PORT/small/\"" "discovery lists the new root"
get /small/collections/
body_has '"alias":"tiny"' "the new root's collection"
small=$(envelope "$(indicator "$(mkid indicator 3 1)" "$V1" 1)")
post /small/collections/tiny/objects/ "$small"
expect 202 "POST under max_content_length"
head -c 3000 /dev/zero | tr '\0' ' ' >"$T/pad"
{ printf '{"objects":[%s],"x":"' "$(indicator "$(mkid indicator 3 2)" "$V1" 2)"; cat "$T/pad"; printf '"}'; } >"$T/big.json"
post /small/collections/tiny/objects/ "@$T/big.json"
expect_error 413 "POST over max_content_length"
post /small/collections/tiny/objects/ "@$T/big.json" -H 'Transfer-Encoding: chunked'
expect_error 413 "chunked POST over max_content_length"
post /small/collections/tiny/objects/ "$small" -H 'Transfer-Encoding: chunked'
expect 202 "chunked POST under max_content_length"
get /small/collections/tiny/objects/
check "the rejected bodies stored nothing" test "$(body_ids | grep -c "$(mkid indicator 3 2)")" = 0
head -c 200000 /dev/zero | tr '\0' ' ' >"$T/pad"
{ printf '{"objects":[],"x":"'; cat "$T/pad"; printf '"}'; } >"$T/big.json"
post /small/collections/tiny/objects/ "@$T/big.json" -H 'Transfer-Encoding: chunked'
expect_error 413 "a 200 kB chunked POST"
post "$O" "@$T/big.json"
expect 202 "the same body is fine under the default root"
get /taxii2/
expect 200 "the server still answers after 413s"

# a removed collection is gone without a restart
cli collection add --alias gone Gone >/dev/null
get /accord/collections/gone/
expect 200 "a new collection is served without a restart"
cli collection rm gone >/dev/null 2>"$T/err"
get /accord/collections/gone/
expect_error 404 "a removed collection is 404 without a restart"
get /accord/collections/gone/objects/
expect_error 404 "a removed collection's objects are 404"

# oversized headers are refused, not crashing the server
{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' a; echo; } >"$T/bighdr"
req GET /taxii2/ -H "@$T/bighdr"
check "a 200 kB header is refused (status $CODE)" test "$CODE" = 431 -o "$CODE" = 413 -o "$CODE" = 400 -o "$CODE" = 000
get /taxii2/
expect 200 "the server still answers after a huge header"

# --- /metrics and the access log -------------------------------------------------------------------------------
get "/accord/collections/$DEF/manifest/"
get "$O?limit=1"
req GET /metrics
expect 200 "/metrics"
case $CTYPE in text/plain*) ok ;; *) bad "/metrics content type '$CTYPE'" ;; esac
check "metrics: objects 2xx counter" grep -qE '^accord_http_requests_total\{endpoint="objects",status="2xx"\} [1-9]' "$T/body"
check "metrics: 4xx counter" grep -qE '^accord_http_requests_total\{endpoint="[a-z_]*",status="4xx"\} [1-9]' "$T/body"
check "metrics: manifest counter" grep -qE '^accord_http_requests_total\{endpoint="manifest",status="2xx"\} [1-9]' "$T/body"
check "metrics: latency histogram" grep -q '^accord_http_request_duration_seconds_bucket{le="+Inf"} [1-9]' "$T/body"
check "metrics: TYPE lines" grep -q '^# TYPE accord_http_requests_total counter' "$T/body"
# issue 3 asks /metrics for "objects stored, ingest rate"
check "metrics: objects ingested by POSTs" grep -qE '^accord_objects_ingested_total [1-9][0-9]*$' "$T/body"
check "metrics: objects stored" grep -qE '^accord_objects_stored [1-9][0-9]*$' "$T/body"
WHO=none req GET /metrics
expect 401 "/metrics needs credentials"
check "access log: one JSON line per request" grep -q '^{"ts":"[^"]*","client":"127.0.0.1","endpoint":"objects","status":202,' "$T/access.log"
check "access log: errors too" grep -q '"status":405' "$T/access.log"
check "access log: no token in it" test "$(grep -c "${TOKEN#acc_}" "$T/access.log")" = 0

# --- SIGTERM: finishes a request in flight, exits 0 -------------------------------------------------------------
{ printf '{"objects":['; for i in $(seq 1 60); do [ "$i" -gt 1 ] && printf ,; indicator "$(mkid indicator 4 "$i")" "$V1" "$i"; done; printf ']}'; } >"$T/slow.json"
curl -g -s --cacert "$T/cacert.pem" -H "Authorization: Bearer $TOKEN" -H "Content-Type: $TAXII_CT" \
  --limit-rate 12k --max-time 30 -o "$T/slow.out" -w '%{http_code}' --data-binary "@$T/slow.json" \
  "$BASE$O" >"$T/slow.code" 2>/dev/null &
cpid=$!
sleep 0.5
t0=$(date +%s%N)
stop_server
t1=$(date +%s%N)
wait "$cpid"
check "SIGTERM: exit status 0 (got $SERVER_RC)" test "$SERVER_RC" = 0
check "SIGTERM: exits within 10 s" test $(((t1 - t0) / 1000000)) -lt 10000
check "SIGTERM: the request in flight was answered (got $(cat "$T/slow.code"))" test "$(cat "$T/slow.code")" = 202
check "SIGTERM: its objects were all stored" grep -q '"success_count":60' "$T/slow.out"
check "SIGTERM: the server says it is stopping" grep -q 'signal 15' "$T/serve.out"

# --- restart: no new token, data kept; plain HTTP only on loopback -------------------------------------------------
OLD=$TOKEN
TOKEN=
start_server "$T/data" --plain-http || bad "plain HTTP start"
check "second start prints no token" test -z "$TOKEN"
check "plain HTTP announced as http://" grep -q 'serving TAXII 2.1 on http://127.0.0.1:' "$T/serve.out"
TOKEN=$OLD
get /taxii2/
expect 200 "plain HTTP on 127.0.0.1"
get "$O$I1/"
expect 200 "objects survive a restart"
body_has "$O_I1V3" "the stored object after a restart"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -k "https://127.0.0.1:$PORT/taxii2/" 2>/dev/null)
check "no TLS on the plain port (got '$code')" test "$code" != 200
# SIGTERM with idle connections: one kept alive after its request was answered, one that never
# sent a request.  Neither has a request in flight, so neither should hold the shutdown back.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /taxii2/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n\r\n' "$TOKEN" >&3
line=
IFS= read -r -t 5 line <&3
check "keep-alive request over plain HTTP answered (got '${line%$'\r'}')" test "${line%$'\r'}" = "HTTP/1.1 200 OK"
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
sleep 0.2
t0=$(date +%s%N)
stop_server
t1=$(date +%s%N)
exec 3>&- 4>&-
check "plain HTTP server exits 0" test "$SERVER_RC" = 0
# BUG: with an idle keep-alive connection open, SIGTERM waits out the whole 10 s grace period
# (accord_server_stop waits for open connections, not for requests in flight).
check "SIGTERM with idle connections: exits within 3 s (took $(((t1 - t0) / 1000000)) ms)" \
  test $(((t1 - t0) / 1000000)) -lt 3000
expect_rc 1 "plain HTTP on 0.0.0.0 is refused" -- "$ACCORD" --data "$T/data" serve --plain-http --listen 0.0.0.0:0
check "refusal names loopback" grep -qi 'loopback' "$T/err"
expect_rc 1 "plain HTTP on [::] is refused" -- "$ACCORD" --data "$T/data" serve --plain-http --listen '[::]:0'
expect_rc 2 "--cert without --key" -- "$ACCORD" --data "$T/data" serve --cert "$T/data/tls/cert.pem"
expect_rc 1 "a bad listen address" -- "$ACCORD" --data "$T/data" serve --listen nowhere:1
finish
