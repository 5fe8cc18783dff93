#!/usr/bin/env bash
# The public STIX data under ../shared/data: every valid file imports with zero rejections, and
# every deliberately invalid example is rejected with a reason that names the broken rule.
. "$(dirname "$0")/lib.sh" "$@"
D="$ROOT/../shared/data"
[ -d "$D" ] || { echo "skipped: $D not present"; exit 77; }

n=0
# ATT&CK bundles and Attack Flow: each into a store of its own (versions across releases conflict
# by design: MITRE edits objects without changing `modified`)
for f in "$D"/attack-stix-data/ics-attack/*.json "$D"/attack-stix-data/mobile-attack/*.json \
         "$D"/attack-stix-data/enterprise-attack/*.json "$D"/attack-flow/attack-flow-example.json; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  expect_rc 0 "import $(basename "$f")" -- "$ACCORD" --data "$T/s$n" import "$f"
  check "$(basename "$f"): zero rejected" grep -qE "rejected +0$" "$T/err"
  check "$(basename "$f"): objects accepted" grep -qE "accepted +[1-9][0-9]*$" "$T/err"
done
check "found the ATT&CK bundles" test "$n" -ge 3

# the OASIS examples and common objects
for f in "$D"/stix2-json-schemas/examples/*.json "$D"/stix2-json-schemas/examples/threat-reports/*.json \
         "$D"/stix-common-objects/objects/*/*.json \
         "$D"/stix-validator/test/v21/test_examples/{identity,identity_custom,identity_unicode,identity_warning,tlp-amber,tool}.json; do
  [ -f "$f" ] || continue
  expect_rc 0 "validate $(basename "$f")" -- "$ACCORD" validate "$f"
done

# deliberately invalid: rejected, naming the rule
for f in "$D"/stix-validator/test/v21/test_examples/invalid_*.json; do
  [ -f "$f" ] || continue
  "$ACCORD" validate "$f" >"$T/out" 2>"$T/err"
  rc=$?
  check "$(basename "$f") rejected (exit $rc)" test "$rc" = 3
  check "$(basename "$f"): the reason names a rule" grep -qE "\(rule [a-z-]+\)" "$T/err"
done
expect_rc 3 "tlp2 green example with a 3-digit month" -- "$ACCORD" validate \
  "$D/stix-common-objects/extension-definition-specifications/tlp-2.0/examples/using-tlp2.0-green.json"
check "names timestamp-format on created" grep -q 'property "created".*rule timestamp-format' "$T/err"
finish
