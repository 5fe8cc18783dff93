#!/usr/bin/env bash
# The producer profile (docs/provenance.md): what accord itself emits survives relays that
# re-serialise, python-stix2 among them.  A node with an organisation, a roster and a signed
# indicator exports every version; each object, the identity and the roster are checked against
# the profile's rules with Python's json:
#   1. created and modified carry exactly three fractional digits;
#   2. no property at a default python-stix2 drops: no null, no empty list or object, no
#      `revoked`/`negated` false;
#   3. no integral value written as a float (1.0);
#   5. spec_version "2.1", identifiers in lower case, strings in NFC.
# Then the bundle re-serialised by Python (other member order, indentation, \u escapes) still
# verifies as authored at a node that knows only the producer's identity, which imports it.
# (python-stix2 itself is not packaged by Debian 12, so the round trip through the library is not
# run here; these are the rules it needs.)
. "$(dirname "$0")/lib.sh" "$@"
command -v python3 >/dev/null || {
  [ -n "${CI:-}" ] && { echo "FAIL: python3 is missing" >&2; exit 1; }
  echo "SKIP: python3 is not installed (the profile checker is Python)"
  exit 77
}
acc() { local d=$1; shift; "$ACCORD" --data "$T/$d" "$@"; }
for o in a b; do
  expect_rc 0 "member init $o" -- acc "$o" member init --name "Org-$o é"
  eval "ID_$o=\$(acc $o member show | sed -n '1s/^# \([^ ]*\).*/\1/p')"
  eval "acc $o get \$ID_$o" >"$T/$o.id.json"
done
expect_rc 0 "roster" -- acc a roster create --threshold 2 "$T/a.id.json" "$T/b.id.json"
cat >"$T/ind.json" <<EOF
{"type":"indicator","spec_version":"2.1","id":"indicator--00000001-0000-4000-8000-00000000000a","created":"2026-01-10T09:10:00.000Z","modified":"2026-01-10T09:10:00.000Z","name":"profile","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-10T09:10:00Z","confidence":70,"created_by_ref":"$ID_a"}
EOF
expect_rc 0 "signed import" -- acc a import --sign --quiet "$T/ind.json"
acc a export --all-versions >"$T/bundle.json"
acc a roster export >"$T/roster.json"

python3 - "$T/bundle.json" "$T/roster.json" "$T/a.id.json" >"$T/profile" 2>&1 <<'PY'
import json, re, sys, unicodedata
bad = []
floats = []
def load(path):
    def pf(s):
        v = float(s)
        if v.is_integer():
            floats.append((path, s))
        return v
    return json.load(open(path), parse_float=pf)
def walk(where, v, top):
    if v is None:
        bad.append("%s: null" % where)
    elif isinstance(v, (list, dict)) and not v:
        bad.append("%s: empty %s" % (where, type(v).__name__))
    elif isinstance(v, str) and not unicodedata.is_normalized("NFC", v):
        bad.append("%s: not NFC" % where)
    if isinstance(v, dict):
        for k, x in v.items():
            walk("%s.%s" % (where, k), x, False)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk("%s[%d]" % (where, i), x, False)
def check(o):
    oid = o.get("id", "?")
    for p in ("created", "modified"):
        if p in o and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o[p]):
            bad.append("%s: %s %s has not 3 fractional digits" % (oid, p, o[p]))
    for p in ("revoked", "negated"):
        if o.get(p) is False:
            bad.append("%s: %s false" % (oid, p))
    if o.get("spec_version") != "2.1":
        bad.append("%s: spec_version %r" % (oid, o.get("spec_version")))
    if oid != oid.lower():
        bad.append("%s: id not in lower case" % oid)
    walk(oid, o, True)
objs = load(sys.argv[1])["objects"] + [load(sys.argv[2])["roster"], load(sys.argv[3])]
for o in objs:
    check(o)
types = sorted({o["type"] for o in objs})
print("checked %d objects: %s" % (len(objs), " ".join(types)))
for b in bad:
    print("VIOLATION " + b)
for f in floats:
    print("VIOLATION %s: integral float %s" % f)
PY
check "the checker ran over the identity, the indicator, the roster and the extension-definitions" \
  grep -q "^checked [0-9]* objects: accord-roster extension-definition identity indicator$" "$T/profile"
check "no object breaks the profile" sh -c "! grep -q VIOLATION '$T/profile'"
grep VIOLATION "$T/profile" | head -n 10 >&2

# a foreign relay's re-serialisation keeps the signatures valid
python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
b["objects"] = [dict(reversed(list(o.items()))) for o in b["objects"]]
json.dump(b, open(sys.argv[2], "w"), indent=3, ensure_ascii=True)
' "$T/bundle.json" "$T/relayed.json"
check "the relayed copy differs byte for byte" sh -c "! cmp -s '$T/bundle.json' '$T/relayed.json'"
expect_rc 0 "C learns A's identity" -- acc c import --quiet "$T/a.id.json"
expect_rc 0 "C verifies the relayed bundle" -- acc c verify "$T/relayed.json"
check "the indicator is authored by A" grep -q "^indicator--00000001-0000-4000-8000-00000000000a	.*authored$" "$T/out"
# only the signed objects: an unsigned object's content is compared as received (member order
# included), so the reordered copies of accord's unsigned extension-definitions would conflict
# with the ones C publishes itself
python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
b["objects"] = [o for o in b["objects"] if o["type"] != "extension-definition"]
json.dump(b, open(sys.argv[1], "w"), indent=3, ensure_ascii=True)
' "$T/relayed.json"
expect_rc 0 "C imports the relayed signed objects" -- acc c import "$T/relayed.json"
check "the relayed indicator is accepted, the identity a duplicate" \
  sh -c "grep -qE 'accepted +1$' '$T/err' && grep -qE 'duplicates +1$' '$T/err'"
acc c verify indicator--00000001-0000-4000-8000-00000000000a >"$T/v" 2>&1
check "stored on C as authored" grep -q "	authored$" "$T/v"
finish
