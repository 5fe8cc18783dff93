#!/usr/bin/env bash
# `accord serve`: the authentication and authorisation matrix over HTTPS with curl.  No
# credentials, wrong password, unknown account, garbage / revoked / expired tokens (401); Basic
# and bearer logins; read-only, write-only and invisible collections (can_read/can_write, 403,
# 404); statuses private to their account; CLI changes applied without a restart; failed-login
# rate limiting per account and per address (429).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

start_server || { bad "server start"; finish; }
check "admin token printed" test -n "$TOKEN"
# This test is about accounts and rights; the objects it posts carry no TLP marking and no
# producer, so they read as the default level: CLEAR here, so that rights alone decide.  TLP
# clearance has its own tests (unit/test_tlp_matrix, integration/test_taxii_tlp).
expect_rc 0 "tlp default clear" -- "$ACCORD" --data "$T/data" tlp default clear

# collections: default (read-write for alice), ro, wo, hidden
DEF=$(collection_id default)
cli collection add --alias ro "Read only" >/dev/null
cli collection add --alias wo "Write only" >/dev/null
cli collection add --alias hidden "Hidden" >/dev/null
RO=$(collection_id ro)
WO=$(collection_id wo)
HID=$(collection_id hidden)
check "collections created" test -n "$DEF" -a -n "$RO" -a -n "$WO" -a -n "$HID"

PW_ALICE='correct horse battery'
PW_ERIN='p:ss:wörd with colons'
printf '%s\n' "$PW_ALICE" | cli user add --password-stdin alice >/dev/null 2>"$T/err"
check "user add alice" test $? = 0
cli user add bob >/dev/null 2>"$T/err" # token-only
check "user add bob (token-only)" test $? = 0
printf 'carol-password-1\n' | cli user add --password-stdin carol >/dev/null
printf 'dave-password-1\n' | cli user add --password-stdin dave >/dev/null
printf '%s\n' "$PW_ERIN" | cli user add --password-stdin erin >/dev/null
expect_rc 0 "grant alice default read-write" -- "$ACCORD" user grant alice default --read-write
expect_rc 0 "grant alice ro read" -- "$ACCORD" user grant alice ro --read
expect_rc 0 "grant alice wo write" -- "$ACCORD" user grant alice wo --write
expect_rc 0 "grant alice hidden none" -- "$ACCORD" user grant alice hidden --none
expect_rc 0 "grant bob ro read" -- "$ACCORD" user grant bob "$RO" --read
expect_rc 0 "grant dave default read" -- "$ACCORD" user grant dave default --read
expect_rc 0 "grant erin default write" -- "$ACCORD" user grant erin default --write
expect_rc 2 "grant on an unknown collection" -- "$ACCORD" user grant alice nope --read
cli token create bob >"$T/tok" 2>"$T/err"
BOB=$(grep '^acc_' "$T/tok" | head -n 1)
BOB_ID=$(echo "$BOB" | cut -d_ -f2)
check "token create prints a token" test -n "$BOB" -a -n "$BOB_ID"

ALICE="basic:alice:$PW_ALICE"
ERIN="basic:erin:$PW_ERIN"
V1=2026-01-10T09:10:00.000Z
X1=$(mkid indicator 7 1)
X2=$(mkid indicator 7 2)
C="/accord/collections"

# seed: one object in default and ro (as admin)
post "$C/$DEF/objects/" "$(envelope "$(indicator "$X1" "$V1" 1)")"
expect 202 "admin POST to default"
post "$C/$RO/objects/" "$(envelope "$(indicator "$X1" "$V1" 1)")"
expect 202 "admin POST to ro"

# --- 401: no or bad credentials, on every endpoint -----------------------------------------------------
for p in /taxii2/ /accord/ "$C/" "$C/$DEF/" "$C/$DEF/objects/" "$C/$DEF/manifest/" \
  "$C/$DEF/objects/$X1/" "$C/$DEF/objects/$X1/versions/" /accord/status/00000000-0000-4000-8000-000000000000/ \
  /nope/ "$C/nope/objects/"; do
  WHO=none get "$p"
  expect_error 401 "no credentials: GET $p"
done
WHO=none get /taxii2/
hdr_has '^WWW-Authenticate: .*Basic' "401 names Basic in WWW-Authenticate"
hdr_has '^WWW-Authenticate: .*Bearer' "401 names Bearer in WWW-Authenticate"
WHO=none post "$C/$DEF/objects/" "$(envelope "$(indicator "$X2" "$V1" 2)")"
expect_error 401 "no credentials: POST"
WHO=none req DELETE "$C/$DEF/objects/$X1/"
expect_error 401 "no credentials: DELETE"
get "$C/$DEF/objects/$X1/"
expect 200 "the unauthenticated DELETE deleted nothing"
WHO=none req POST "$C/$DEF/objects/" -H 'Content-Type: application/json' --data-binary 'junk'
expect_error 401 "no credentials beats 415 and a bad body"

WHO="basic:alice:wrong password" get "$C/"
expect_error 401 "wrong password"
WHO="basic:nobody:whatever" get "$C/"
expect_error 401 "unknown account"
WHO="basic:bob:" get "$C/"
expect_error 401 "token-only account with an empty password"
WHO="token:garbage" get "$C/"
expect_error 401 "garbage token"
WHO="token:acc_${BOB_ID}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" get "$C/"
expect_error 401 "a token id with the wrong secret"
WHO="token:${BOB}x" get "$C/"
expect_error 401 "a token with a byte appended"
WHO="token:" get "$C/"
expect_error 401 "an empty bearer token"
WHO="raw:Basic !!!notbase64" get "$C/"
expect_error 401 "Basic that is not base64"
WHO="raw:Basic $(printf 'no-colon' | base64)" get "$C/"
expect_error 401 "Basic without a colon"
WHO="raw:Digest username=alice" get "$C/"
expect_error 401 "an unknown scheme"
WHO="raw:$TOKEN" get "$C/"
expect_error 401 "a token without a scheme"
WHO="raw:Basic $(printf 'admin:%s' "$TOKEN" | base64 -w0)" get "$C/"
expect_error 401 "the admin token as a Basic password"

# --- admin token ------------------------------------------------------------------------------------------
get "$C/"
expect 200 "admin: collections"
for k in "$DEF" "$RO" "$WO" "$HID"; do
  check "admin sees $k read-write" grep -q "{\"id\":\"$k\",[^}]*\"can_read\":true,\"can_write\":true" "$T/body"
done
WHO="raw:bearer $TOKEN" get "$C/"
expect 200 "the auth scheme is case-insensitive (bearer)"

# --- alice: Basic, per-collection rights --------------------------------------------------------------------
WHO=$ALICE get /taxii2/
expect 200 "Basic login"
WHO=$ALICE get "$C/"
expect 200 "alice: collections"
check "alice: default read-write" grep -q "{\"id\":\"$DEF\",[^}]*\"can_read\":true,\"can_write\":true" "$T/body"
check "alice: ro read-only" grep -q "{\"id\":\"$RO\",[^}]*\"can_read\":true,\"can_write\":false" "$T/body"
check "alice: wo write-only" grep -q "{\"id\":\"$WO\",[^}]*\"can_read\":false,\"can_write\":true" "$T/body"
body_lacks "$HID" "alice does not see the hidden collection"
WHO="raw:Basic $(printf 'alice:%s' "$PW_ALICE" | base64 -w0)" get "$C/"
expect 200 "Basic by hand"
WHO="raw:basic $(printf 'alice:%s' "$PW_ALICE" | base64 -w0)" get "$C/"
expect 200 "the auth scheme is case-insensitive (basic)"

WHO=$ALICE get "$C/$RO/"
expect 200 "alice: ro collection"
body_has '"can_read":true,"can_write":false' "alice: ro collection rights"
WHO=$ALICE get "$C/$WO/"
expect 200 "alice: wo collection"
body_has '"can_read":false,"can_write":true' "alice: wo collection rights"
WHO=$ALICE get "$C/$HID/"
expect_error 404 "alice: hidden collection is 404"
WHO=$ALICE get "$C/hidden/"
expect_error 404 "alice: hidden collection by alias is 404"
for e in objects/ manifest/ "objects/$X1/" "objects/$X1/versions/"; do
  WHO=$ALICE get "$C/$HID/$e"
  expect_error 404 "alice: hidden $e is 404"
done
WHO=$ALICE post "$C/$HID/objects/" "$(envelope "$(indicator "$X2" "$V1" 2)")"
expect_error 404 "alice: POST to hidden is 404"

# read-only: reads, no writes
WHO=$ALICE get "$C/$RO/objects/"
expect 200 "alice: read ro objects"
body_has "$X1" "alice: ro objects listed"
WHO=$ALICE get "$C/$RO/manifest/"
expect 200 "alice: ro manifest"
WHO=$ALICE get "$C/$RO/objects/$X1/versions/"
expect 200 "alice: ro versions"
WHO=$ALICE post "$C/$RO/objects/" "$(envelope "$(indicator "$X2" "$V1" 2)")"
expect_error 403 "alice: POST to read-only is 403"
WHO=$ALICE req DELETE "$C/$RO/objects/$X1/"
expect_error 403 "alice: DELETE in read-only is 403"
get "$C/$RO/objects/?match[id]=$X2"
check "the refused POST stored nothing" test "$(body_count)" = 0

# write-only: writes, no reads
WHO=$ALICE post "$C/$WO/objects/" "$(envelope "$(indicator "$X2" "$V1" 2)")"
expect 202 "alice: POST to write-only"
body_has '"success_count":1' "alice: write-only POST stored"
SID_ALICE=$(sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p' "$T/body")
for e in objects/ manifest/ "objects/$X2/" "objects/$X2/versions/"; do
  WHO=$ALICE get "$C/$WO/$e"
  expect_error 403 "alice: GET write-only $e is 403"
done
get "$C/$WO/objects/$X2/"
expect 200 "admin reads what alice wrote"

# statuses belong to their account
WHO=$ALICE get "/accord/status/$SID_ALICE/"
expect 200 "alice reads her status"
get "/accord/status/$SID_ALICE/"
expect 200 "admin reads alice's status"
WHO=basic:carol:carol-password-1 get "/accord/status/$SID_ALICE/"
expect_error 404 "carol cannot read alice's status"

# dave: read-only on default; erin: write-only on default
WHO=basic:dave:dave-password-1 get "$C/$DEF/objects/"
expect 200 "dave reads default"
WHO=basic:dave:dave-password-1 post "$C/$DEF/objects/" "$(envelope "$(indicator "$X2" "$V1" 2)")"
expect_error 403 "dave (read-only) POST is 403"
WHO=$ERIN post "$C/$DEF/objects/" "$(envelope "$(indicator "$X2" "$V1" 2)")"
expect 202 "erin (password with colons) writes default"
WHO=$ERIN get "$C/$DEF/objects/"
expect_error 403 "erin (write-only) GET objects is 403"
WHO=$ERIN req DELETE "$C/$DEF/objects/$X2/"
expect 200 "erin (write-only) may DELETE"

# --- bob: token-only ------------------------------------------------------------------------------------------
WHO="token:$BOB" get "$C/"
expect 200 "bob: token login"
check "bob sees ro, read-only" grep -q "{\"id\":\"$RO\",[^}]*\"can_read\":true,\"can_write\":false" "$T/body"
check "bob sees only ro" test "$(grep -o '"can_read"' "$T/body" | wc -l)" = 1
WHO="token:$BOB" get "$C/$RO/objects/$X1/"
expect 200 "bob reads ro"
WHO="token:$BOB" get "$C/$DEF/objects/"
expect_error 404 "bob: default is invisible"

# --- carol: no rights at all -------------------------------------------------------------------------------------
WHO=basic:carol:carol-password-1 get "$C/"
expect 200 "carol: collections"
body_lacks '"id"' "carol sees no collection"
WHO=basic:carol:carol-password-1 get /accord/
expect 200 "carol: the API root"
WHO=basic:carol:carol-password-1 get "$C/$DEF/objects/"
expect_error 404 "carol: default objects are 404"

# --- changes made with the CLI apply to the next request -------------------------------------------------------------
expect_rc 0 "grant carol default read" -- "$ACCORD" user grant carol default --read
WHO=basic:carol:carol-password-1 get "$C/$DEF/objects/"
expect 200 "carol reads after a grant, without a restart"
expect_rc 0 "revoke carol's rights" -- "$ACCORD" user grant carol default --none
WHO=basic:carol:carol-password-1 get "$C/$DEF/objects/"
expect_error 404 "carol's rights removed without a restart"

expect_rc 0 "token revoke" -- "$ACCORD" token revoke "$BOB_ID"
WHO="token:$BOB" get "$C/"
expect_error 401 "a revoked token"
WHO="token:$BOB" get "$C/$RO/objects/"
expect_error 401 "a revoked token, on objects"
cli token create bob >"$T/tok" 2>"$T/err"
BOB2=$(grep '^acc_' "$T/tok" | head -n 1)
WHO="token:$BOB2" get "$C/$RO/objects/"
expect 200 "a new token works"

cli token create alice >"$T/tok" 2>"$T/err"
ALICE_TOK=$(grep '^acc_' "$T/tok" | head -n 1)
WHO="token:$ALICE_TOK" get "$C/$RO/"
expect 200 "a password account may use a token too"
body_has '"can_read":true,"can_write":false' "the token carries the account's rights"

WHO=basic:dave:dave-password-1 get /taxii2/
expect 200 "dave before removal (cached login)"
expect_rc 0 "user rm dave" -- "$ACCORD" user rm dave
WHO=basic:dave:dave-password-1 get /taxii2/
expect_error 401 "a removed account's cached login ends"

exp=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
if [ -n "$exp" ]; then
  cli token create --expires "$exp" bob >"$T/tok" 2>"$T/err"
  BOB3=$(grep '^acc_' "$T/tok" | head -n 1)
  WHO="token:$BOB3" get "$C/$RO/objects/"
  expect 200 "a token before its expiry"
  i=0
  while [ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \< "$exp" ] || [ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" = "$exp" ]; do
    sleep 0.2
    i=$((i + 1))
    [ $i -gt 30 ] && break
  done
  sleep 0.2
  WHO="token:$BOB3" get "$C/$RO/objects/"
  expect_error 401 "an expired token"
fi

# --- accord's own JSON API beside TAXII (src/api.c): same accounts, JSON errors -----------------------
WHO=$ALICE get /api/whoami
expect 200 "GET /api/whoami as alice"
body_has '"account":"alice"' "whoami names the account"
body_has '"admin":false' "alice is not an admin"
WHO=admin get /api/whoami
body_has '"admin":true' "the admin token is an admin"
WHO=none get /api/whoami
expect 401 "/api/whoami without credentials"
check "API errors are application/json" test "$CTYPE" = application/json
body_has '"http_status":"401"' "API error names its status"
hdr_has '^WWW-Authenticate: ' "API 401 asks for credentials"
WHO=$ALICE get /api/whoamix
check "a path beside an API route is not the API (TAXII 404)" test "$CODE" = 404 -a "$CTYPE" = "$TAXII_CT"

# --- rate limiting (src/auth.c: 5 failures lock an account, 20 an address) ---------------------------------------------
# A fresh server: the limiter lives in the process, so the failures above do not count.
stop_server
start_server "$T/data" || bad "restart"
WHO=$ALICE get /taxii2/
expect 200 "alice logs in before the lockout"
for i in 1 2 3 4 5; do
  WHO="basic:alice:wrong $i" get /taxii2/
  expect_error 401 "wrong password $i of 5"
done
WHO="basic:alice:wrong 6" get /taxii2/
expect_error 429 "6th wrong password: 429"
hdr_has '^Retry-After: [1-9]' "429 says when to retry"
WHO=$ALICE get /taxii2/
expect_error 429 "the locked account is refused even with the right password"
WHO="token:$ALICE_TOK" get /taxii2/
expect 200 "the locked account's token still works"
WHO=$ERIN get /taxii2/
expect 200 "another account is not locked"
# the address: 20 failures in all (6 so far) lock it for everyone
got429=0
for i in $(seq 1 20); do
  WHO="basic:ghost$i:nothing" get /taxii2/
  if [ "$CODE" = 429 ]; then
    got429=$i
    break
  fi
  [ "$CODE" = 401 ] || bad "failure $i: status $CODE, expected 401 or 429"
done
check "failures from one address end in 429 (after $got429 more)" test "$got429" -gt 0 -a "$got429" -le 16
expect_error 429 "address lockout is a TAXII error resource"
WHO=$ERIN get /taxii2/
expect_error 429 "a locked address is refused, even with a right password"
WHO=admin get /taxii2/
expect_error 429 "a locked address is refused, even with a token"
stop_server
check "server exits 0" test "$SERVER_RC" = 0
finish
