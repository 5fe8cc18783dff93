#!/usr/bin/env bash
# A peer reached with HTTP Basic credentials over plain http:// (what the OASIS reference server
# medallion speaks by default), against accord's own server started with --plain-http:
#   - an http:// URL is refused without --insecure-http, naming the flag; accepted with it, with
#     a warning at `peer add` and at each sync;
#   - --user-file: the "user:password" line is read from the file at each round and sent as HTTP
#     Basic; the password never appears in the peer list, the peers table or the audit log;
#   - pull and push both work that way; a wrong password fails the round (HTTP 401) and leaves
#     the cursor where it was; a malformed user file is named;
#   - --token-file and --user-file together are refused; a CA file over plain http is refused.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"
require_tool sqlite3

# node A serves plain HTTP (peer_lib's node_start expects https)
: >"$T/a.out"
"$ACCORD" --data "$T/a" serve --plain-http --listen 127.0.0.1:0 >>"$T/a.out" 2>&1 &
echo $! >"$T/a.pid"
NODES="$NODES a"
for _ in $(seq 1 300); do grep -q 'serving TAXII 2.1 on' "$T/a.out" && break; sleep 0.1; done
PORT=$(sed -n 's|.*serving TAXII 2.1 on http://[^:]*:\([0-9]*\)/taxii2/.*|\1|p' "$T/a.out" | head -n 1)
[ -n "$PORT" ] && ok || { bad "node a over plain http"; cat "$T/a.out" >&2; finish; }
URL="http://127.0.0.1:$PORT/accord/"
COLL=$(node_default a)
printf 'Secret-Pass-9\n' >"$T/pw"
ncli a user add --password-file "$T/pw" medallion-like >/dev/null 2>&1
ncli a user grant medallion-like default --read-write >/dev/null 2>&1
gen_indicators 3 1 5 clear | ncli a import --quiet - >/dev/null 2>&1
printf 'medallion-like:Secret-Pass-9\n' >"$T/user"
chmod 600 "$T/user"

expect_rc 2 "an http:// URL without --insecure-http is refused" -- \
  ncli b peer add a "$URL" --collection "$COLL" --both --interval 0 --user-file "$T/user"
check "the refusal names --insecure-http" has "only with --insecure-http" "$T/err"
expect_rc 2 "--token-file and --user-file together are refused" -- \
  ncli b peer add a "$URL" --collection "$COLL" --both --interval 0 --insecure-http \
  --user-file "$T/user" --token-file "$T/user"
expect_rc 2 "a CA file over plain http is refused" -- \
  ncli b peer add a "$URL" --collection "$COLL" --both --interval 0 --insecure-http \
  --user-file "$T/user" --cacert "$T/user"
expect_rc 0 "with --insecure-http and --user-file the peer is added" -- \
  ncli b peer add a "$URL" --collection "$COLL" --both --interval 0 --insecure-http --user-file "$T/user"
check "peer add warns about plain http" has "warning: peer a may use plain http://" "$T/err"
ncli b peer list >"$T/list"
check "peer list shows plain http and Basic" grep -q "plain-http.*basic-auth" "$T/list"

gen_indicators 4 1 2 clear | ncli b import --quiet - >/dev/null 2>&1
expect_rc 0 "sync over plain http with Basic credentials" -- ncli b sync a
check "sync warns about plain http" has "warning: peer a is reached over plain http://" "$T/err"
# B's store never served, so its default collection lacks accord's signature
# extension-definition: it arrives from A with the 5
check "pulled A's 5 indicators and the extension-definition" grep -q "^a	.*	objects 6	stored 6	" "$T/out" || cat "$T/out" "$T/err" >&2
ncli b get extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31 >/dev/null 2>&1 && ok ||
  bad "B lacks the extension-definition it pulled"
check "pushed B's 2 indicators" grep -q "	pushed 2	" "$T/out"
ncli a get "$(pid_of 4 1)" >/dev/null 2>&1 && ok || bad "A holds what B pushed"
for f in "$T/list" "$T/out" "$T/err"; do
  grep -q "Secret-Pass" "$f" && bad "the password shows in $(basename "$f")" || ok
done
sq "$T/b/accord.db" "SELECT * FROM peers; SELECT detail FROM audit" >"$T/db"
grep -q "Secret-Pass" "$T/db" && bad "the password is in B's store" || ok

# a wrong password: the round fails (401), the cursor stays
CUR=$(sq "$T/b/accord.db" "SELECT cursor FROM peer_cursors WHERE peer = 'a'")
gen_indicators 3 6 6 clear | ncli a import --quiet - >/dev/null 2>&1
printf 'medallion-like:wrong\n' >"$T/user"
expect_rc 1 "a wrong password fails the round" -- ncli b sync a
check "the failure names HTTP 401" has "401" "$T/err"
[ "$(sq "$T/b/accord.db" "SELECT cursor FROM peer_cursors WHERE peer = 'a'")" = "$CUR" ] && ok || bad "the cursor moved on a failed round"
printf 'no-colon-here\n' >"$T/user"
expect_rc 1 "a user file without user:password fails" -- ncli b sync a
check "the malformed user file is named" has "user file $T/user must hold user:password" "$T/err"
printf 'medallion-like:Secret-Pass-9\n' >"$T/user"
expect_rc 0 "the right password again: the round recovers" -- ncli b sync a
check "the new indicator arrives" grep -q "^a	.*	stored 1	" "$T/out"
node_stop a
finish
