#!/usr/bin/env bash
# accord's signature extension-definition in every collection, over TAXII 2.1 (HTTPS, curl):
#   - a fresh store's default collection, once `accord serve` started on it, and a collection
#     added while the server runs (`accord collection add`), each hold exactly that one object:
#     objects and manifest list only it, with the shipped id, version and bytes;
#   - it is the shipped constant: type extension-definition, a property-extension by accord's
#     identity, TLP:CLEAR, not signed, and its `schema` is a JSON Schema 2020-12 that the
#     signatures of single and batch-signed objects satisfy and a malformed list does not
#     (checked with python3-jsonschema);
#   - it is TLP:CLEAR, so every account that can read the collection sees it whatever its
#     clearance (no organisation, an organisation, the community, a RED-list account); an
#     account without a grant on the collection does not reach it;
#   - a restart publishes nothing again: one version, accepted once and linked into the second
#     collection.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"
require_tool sqlite3
require_tool python3
DATA=$T/data
X=extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31
XV=2026-11-30T00:00:00.000Z
CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
ACCORD_ID=identity--8c6af861-7b20-41ef-9b59-6344fd872a8f

start_server "$DATA" || { bad "server start"; finish; }
DEF=$(collection_id default)
# only_x DESC: the last response lists the extension-definition and nothing else
only_x() { check "$1: exactly the extension-definition" test "$(body_ids | tr '\n' ' ')" = "$X "; }
get "/accord/collections/$DEF/objects/"
expect 200 "the fresh store's default collection"
only_x "the fresh default collection"
cp "$T/body" "$T/default.json"

expect_rc 0 "collection add while the server runs" -- cli collection add --alias empty "Empty"
E=/accord/collections/$(collection_id empty)
get "$E/objects/"
expect 200 "objects of the new collection"
only_x "the new collection's objects"
body_has '"more":false' "one page"
cp "$T/body" "$T/empty.json"
check "the same bytes in both collections" cmp -s "$T/default.json" "$T/empty.json"
get "$E/manifest/"
expect 200 "manifest of the new collection"
only_x "the new collection's manifest"
check "the manifest record: the shipped version, STIX 2.1" \
  grep -q "{\"id\":\"$X\",\"date_added\":\"[^\"]*\",\"version\":\"$XV\",\"media_type\":\"application/stix+json;version=2.1\"}" "$T/body"
get "$E/objects/$X/versions/"
expect 200 "versions of the extension-definition"
body_has "\"versions\":[\"$XV\"]" "one version"

# the object and its schema, against signatures accord makes (single and batch) on another node
S=$T/signer
"$ACCORD" --data "$S" member init --name "Signer" >/dev/null 2>&1
for n in 1 2 3; do indicator "$(mkid indicator 5 "$n")" 2026-01-10T09:10:00.000Z "$n"; echo; done |
  grep . >"$T/three.jsonl"
expect_rc 0 "sign one by one" -- "$ACCORD" --data "$S" sign -o "$T/single.json" "$T/three.jsonl"
expect_rc 0 "sign in a batch" -- "$ACCORD" --data "$S" sign --batch 3 -o "$T/batch.json" "$T/three.jsonl"
cat >"$T/check.py" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
x_id, x_v, clear, accord_id = sys.argv[2:6]
(o,) = env["objects"]
assert o["type"] == "extension-definition" and o["spec_version"] == "2.1", o
assert o["id"] == x_id and o["created"] == x_v and o["modified"] == x_v, o
assert o["created_by_ref"] == accord_id, o["created_by_ref"]
assert o["object_marking_refs"] == [clear], o["object_marking_refs"]
assert o["extension_types"] == ["property-extension"], o["extension_types"]
assert "extensions" not in o, "the extension-definition is not signed"
schema = json.loads(o["schema"])
assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", schema
try:
    import jsonschema
except ImportError:
    print("no jsonschema")
    sys.exit(0)
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
n = 0
for f in sys.argv[6:]:
    for obj in json.load(open(f))["objects"]:
        ext = obj["extensions"][x_id]
        v.validate(ext)
        n += 1
        bad = dict(ext, signatures=[])
        assert not v.is_valid(bad), "an empty signature list passes"
        bad = dict(ext, extra=1)
        assert not v.is_valid(bad), "an unknown property passes"
print("checked", n)
PY
python3 "$T/check.py" "$T/empty.json" "$X" "$XV" "$CLEAR" "$ACCORD_ID" "$T/single.json" "$T/batch.json" >"$T/py.out" 2>&1
check "the shipped object, and its schema takes single and batch signatures" grep -qx "checked 6" "$T/py.out" ||
  { [ -z "${CI:-}" ] && grep -qx "no jsonschema" "$T/py.out" && echo "skipped the schema check: python3-jsonschema not installed"; } ||
  cat "$T/py.out" >&2

# every account that can read the collection sees it, whatever its clearance
ORG=identity--aaaaaaaa-0000-4000-8000-000000000001
cli user add plain >/dev/null 2>&1
cli user add --org "$ORG" orga >/dev/null 2>&1
cli user add --community comm >/dev/null 2>&1
cli user add redlist >/dev/null 2>&1
cli user add nogrant >/dev/null 2>&1
cli collection red add empty redlist >/dev/null 2>&1
for u in plain orga comm redlist; do cli user grant "$u" empty --read >/dev/null 2>&1; done
for u in plain orga comm redlist nogrant; do
  cli token create "$u" 2>/dev/null | grep '^acc_' >"$T/tok.$u"
done
for u in plain orga comm redlist; do
  for ep in objects manifest; do
    WHO=token:$(cat "$T/tok.$u") get "$E/$ep/"
    expect 200 "$u: $ep"
    only_x "$u: $ep"
  done
  WHO=token:$(cat "$T/tok.$u") get "$E/objects/$X/"
  expect 200 "$u: the object by id"
done
WHO=token:$(cat "$T/tok.nogrant") get "$E/objects/"
expect_error 404 "an account without a grant does not reach the collection"
body_lacks "$X" "nor the extension-definition"

# a restart publishes nothing again
stop_server
start_server "$DATA" || { bad "server restart"; finish; }
get "$E/objects/$X/versions/"
body_has "\"versions\":[\"$XV\"]" "one version after a restart"
stop_server
# the store holds the version once (accepted, at the first start) and links it into the second
# collection; the store held nothing else
N=$(sqlite3 "$DATA/accord.db" "SELECT group_concat(action || ' ' || coalesce(ref, ''), ',') FROM audit
  WHERE action IN ('accepted', 'linked')")
check "accepted once, linked once, nothing from the restart ($N)" test "$N" = "accepted $X,linked $X"
finish
