#!/usr/bin/env bash
# Signed provenance over TAXII 2.1 (HTTPS, curl):
#   - `accord collection sign COLL on|off`: refused before `accord member init`, shown by
#     `collection sign COLL` and marked in `collection list`;
#   - a POST into a collection that signs stores each object signed by this node's organisation
#     (accord verify ID: authored when created_by_ref is the node's organisation, endorsed when
#     not), and the objects a TAXII client reads back verify at a node that only knows the
#     organisation's identity; a POST into another collection stores them unsigned;
#   - accord's extension-definitions (signatures, member keys, roster) are readable in the signing
#     collection by an account that is not an administrator, are not signed, and carry JSON
#     schemas (checked with python3-jsonschema) that the objects' extensions satisfy; the plain
#     collection holds the signature one only;
#   - an object altered after signing, POSTed to the other collection, is rejected: a failure in
#     the status, nothing stored, an audit record with the reason;
#   - a signing collection whose key cannot be read (mode 0640) stores nothing and answers 500
#     naming the key file's mode; signing turned off stores the next POST unsigned; with such a
#     key, `accord serve` refuses to start while a collection signs.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"
require_tool sqlite3
DATA=$T/data
SIGEXT=extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31
KEYSEXT=extension-definition--d199fcc8-2064-4b35-a710-3bbd6393645a
ROSTEREXT=extension-definition--0c6f4d8e-7a43-4b5e-9f0e-2d1c8b6a5e37

expect_rc 0 "collection add (signing)" -- cli collection add --alias signed "Signed by this node"
expect_rc 0 "collection add (plain)" -- cli collection add --alias plain "Plain"
expect_rc 2 "collection sign refused before member init" -- cli collection sign signed on
check "names member init" has "member init" "$T/err"
expect_rc 0 "member init" -- cli member init --name "Alpha CERT"
AID=$(grep -v '^#' "$T/out" | cut -f1 | head -n 1)
expect_rc 0 "collection sign on" -- cli collection sign signed on
expect_rc 0 "collection sign (show)" -- cli collection sign signed
check "shows on" grep -qx $'signed\ton' "$T/out"
expect_rc 0 "collection sign plain (show)" -- cli collection sign plain
check "plain shows off" grep -qx $'plain\toff' "$T/out"
expect_rc 0 "collection list" -- cli collection list
check "list marks the signing collection" grep -q ' signed .*\[signs\]$' "$T/out"
check "list does not mark the plain one" sh -c "! grep -q ' plain .*\[signs\]' '$T/out'"
expect_rc 2 "collection sign: not on|off" -- cli collection sign signed maybe
expect_rc 2 "collection sign: unknown collection" -- cli collection sign nope on
check "audit records the setting" test "$(sqlite3 "$DATA/accord.db" "SELECT count(*) FROM audit WHERE action = 'collection-sign' AND ref = 'signed' AND detail = 'on'")" = 1

start_server "$DATA" || { bad "server start"; finish; }
expect_rc 0 "reader account" -- cli user add reader
cli token create reader 2>/dev/null | grep '^acc_' >"$T/tok.reader"
for c in signed plain; do cli user grant reader "$c" --read >/dev/null; done
SIG=/accord/collections/$(collection_id signed)
PLAIN=/accord/collections/$(collection_id plain)
CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
# clear ID N [created_by]: a TLP:CLEAR indicator (by the node's organisation when asked)
clear() {
  local by=""
  [ -n "${3:-}" ] && by=",\"created_by_ref\":\"$3\""
  indicator "$1" 2026-01-10T09:10:00.000Z "$2" | sed "s/}\$/,\"object_marking_refs\":[\"$CLEAR\"]$by}/"
}
S1=$(mkid indicator 1 1) S2=$(mkid indicator 1 2) P1=$(mkid indicator 2 1)

post "$SIG/objects/" "$(envelope "$(clear "$S1" 1 "$AID")" "$(clear "$S2" 2)")"
expect 202 "POST into the signing collection"
body_has '"success_count":2' "both stored"
expect_rc 0 "verify the node's own object" -- cli verify "$S1"
check "authored by the node's organisation" grep -q $'\tauthored$' "$T/out"
expect_rc 0 "verify the other object" -- cli verify "$S2"
check "endorsed by the node's organisation" grep -q $'\tendorsed$' "$T/out"
check "one signature row each" test "$(sqlite3 "$DATA/accord.db" "SELECT count(*) FROM signatures s JOIN objects o ON o.seq = s.object_seq WHERE o.id IN ('$S1', '$S2') AND s.signer = '$AID'")" = 2

post "$PLAIN/objects/" "$(envelope "$(clear "$P1" 3 "$AID")")"
expect 202 "POST into the plain collection"
body_has '"success_count":1' "stored"
expect_rc 0 "verify the plain object" -- cli verify "$P1"
check "unverified: not signed" grep -q $'\tunverified$' "$T/out"
cli get "$P1" >"$T/p1.json"
check "stored without the signature extension" sh -c "! grep -q '$SIGEXT' '$T/p1.json'"

# what a TAXII client reads back verifies at a node that knows only the organisation
WHO=token:$(cat "$T/tok.reader") get "$SIG/objects/"
expect 200 "reader reads the signing collection"
cp "$T/body" "$T/envelope.json"
check "the objects carry the signature extension" test "$(grep -o "\"$SIGEXT\":{" "$T/envelope.json" | wc -l)" -ge 2
for ext in $SIGEXT $KEYSEXT $ROSTEREXT; do
  check "the reader resolves $ext" grep -q "\"id\":\"$ext\"" "$T/envelope.json"
done
# the extension-definitions carry JSON schemas that the extensions of the objects satisfy
cli get "$AID" >"$T/identity.json"
if python3 -c 'import jsonschema' 2>/dev/null; then
  cat >"$T/schemas.py" <<'PY'
import json, sys, jsonschema
env = json.load(open(sys.argv[1]))
objs = env["objects"] + [json.load(open(sys.argv[2]))]
defs = {o["id"]: json.loads(o["schema"]) for o in objs if o["type"] == "extension-definition"}
assert len(defs) == 3, defs.keys()
for s in defs.values():
    jsonschema.Draft202012Validator.check_schema(s)
n = 0
for o in objs:
    for ext, v in o.get("extensions", {}).items():
        if ext in defs:
            jsonschema.Draft202012Validator(defs[ext]).validate(v)
            n += 1
assert n >= 3, n
print("checked", n)
PY
  expect_rc 0 "schemas are JSON Schema 2020-12 and the extensions satisfy them" -- \
    python3 "$T/schemas.py" "$T/envelope.json" "$T/identity.json"
elif [ -n "${CI:-}" ]; then
  bad "python3-jsonschema (debian-packages.txt) is missing"
else
  echo "skipped the schema check: python3-jsonschema not installed"
fi
expect_rc 0 "node C learns the identity" -- "$ACCORD" --data "$T/c" import --quiet "$T/identity.json"
expect_rc 0 "C verifies the envelope" -- "$ACCORD" --data "$T/c" verify "$T/envelope.json"
check "C: S1 authored" grep -q "^$S1"$'\t.*\tauthored$' "$T/out"
check "C: S2 endorsed" grep -q "^$S2"$'\t.*\tendorsed$' "$T/out"
check "C: the extension-definitions are not signed" grep -q "^$SIGEXT"$'\t.*\tunverified$' "$T/out"
WHO=token:$(cat "$T/tok.reader") get "$PLAIN/objects/"
expect 200 "reader reads the plain collection"
# the plain collection holds the signature extension-definition (every collection does) and no
# signature nor the other two: nothing in it needs them
check "the plain collection holds the signature extension-definition and no other" \
  [ "$(body_ids | grep -c '^extension-definition--'):$(body_ids | grep -c "^$SIGEXT\$")" = 1:1 ]
check "and no signature: its id appears once, as the definition's" [ "$(grep -o "$SIGEXT" "$T/body" | wc -l)" = 1 ]
body_lacks "$KEYSEXT" "the plain collection lacks the member-keys extension-definition"
body_lacks "$ROSTEREXT" "the plain collection lacks the roster extension-definition"

# an object altered after signing is refused by TAXII POST, nothing stored
S3=$(mkid indicator 1 3)
cli get "$S1" | sed "s/$S1/$S3/" >"$T/forged-obj.json" # another id under the same signature
check "the copy was altered" grep -q "$S3" "$T/forged-obj.json"
check "and still carries the signature" grep -q "$SIGEXT" "$T/forged-obj.json"
envelope "$(cat "$T/forged-obj.json")" >"$T/forged.json"
post "$PLAIN/objects/" "@$T/forged.json"
expect 202 "POST of the altered object"
body_has '"failure_count":1' "the altered object fails"
body_has "does not verify" "the failure names the signature"
expect_rc 1 "nothing stored" -- cli get "$S3"
check "audit names the reason" test -n "$(sqlite3 "$DATA/accord.db" "SELECT 1 FROM audit WHERE action = 'rejected' AND ref = '$S3' AND detail LIKE '%does not verify%'")"

# a key the server cannot use: nothing stored, a 500 that says why
chmod 640 "$DATA/keys/signing.seed"
S4=$(mkid indicator 1 4)
post "$SIG/objects/" "$(envelope "$(clear "$S4" 4)")"
expect 500 "POST with an unreadable key"
body_has "chmod 600" "names the key file's mode"
expect_rc 1 "nothing stored" -- cli get "$S4"
chmod 600 "$DATA/keys/signing.seed"

# signing off: the next POST is stored unsigned
expect_rc 0 "collection sign off" -- cli collection sign signed off
post "$SIG/objects/" "$(envelope "$(clear "$S4" 4)")"
expect 202 "POST after signing was turned off"
expect_rc 0 "verify" -- cli verify "$S4"
check "unverified" grep -q $'\tunverified$' "$T/out"
stop_server
check "server exits 0" test "$SERVER_RC" = 0

# a collection that signs and a key that cannot be used: serve refuses to start, naming both
expect_rc 0 "collection sign on again" -- cli collection sign signed on
chmod 640 "$DATA/keys/signing.seed"
expect_rc 1 "serve refuses to start" -- timeout 60 "$ACCORD" --data "$DATA" serve --listen 127.0.0.1:0
check "names the collection" has "collection $(collection_id signed) signs" "$T/err"
check "names the key file's mode" has "chmod 600" "$T/err"
chmod 600 "$DATA/keys/signing.seed"
finish
