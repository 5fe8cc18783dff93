#!/usr/bin/env bash
# test_case_import_repub.sh - vendors' advisories re-published by accord (`accord csaf export`):
# every vulnerability of the CISA CSAF advisories, the OASIS CSAF examples and the valid OASIS
# test documents, imported and written again as this node's CSAF advisory, passes the CSAF
# validator library (strict schema, every mandatory test), and carries the source's
# vulnerability notes, remediations and threats with their products (advisory_carried.py).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/case_lib.sh"
A=$ACCORD
D=${ACCORD_SHARED_DATA:-$ROOT/../shared/data}
if [ ! -d "$D/csaf-cisa" ] || [ ! -d "$D/csaf-oasis" ]; then
  echo "skip: ../shared/data (CSAF samples) not present"
  exit 77
fi
csaf_samples "$D"
V="$D/csaf-oasis/csaf_2.0/test/validator/data/mandatory"
# the valid OASIS test documents (-1N, -3N; the file names say so, test_csaf_oasis.sh checks it)
mapfile -t VALID < <(ls "$V"/*-[13][0-9].json)
check "OASIS valid test documents found" test "${#VALID[@]}" -gt 50
expect_rc 0 "samples import" -- "$A" csaf import "${CSAF[@]}" "${VALID[@]}"
expect_rc 0 "export" -- "$A" export
cp "$T/out" "$T/export.json"
# the vulnerabilities with products (an advisory needs a product with a status: 6.1.27.6)
vulns() { python3 -c 'import json,sys; print("\n".join(o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"] == "vulnerability" and bool(o.get("x_accord_products")) == (sys.argv[2] == "1")))' "$T/export.json" "$1"; }
mapfile -t IDS < <(vulns 1)
mapfile -t NOPROD < <(vulns 0)
mkdir -p "$T/repub"
expect_rc 0 "every vulnerability re-published" -- "$A" csaf export --out "$T/repub" "${IDS[@]}"
n=$(ls "$T/repub" | wc -l)
check "re-published: one document per vulnerability ($n of ${#IDS[@]})" test "$n" = "${#IDS[@]}"
check "samples re-published" test "$n" -gt 250
expect_rc 0 "notes, remediations and threats carried over" -- \
  python3 "$ROOT/tests/integration/advisory_carried.py" "$T/repub" "${CSAF[@]}" "${VALID[@]}"
check "notes, remediations and threats all compared" grep -Eq ': [1-9][0-9]* notes, [1-9][0-9]* remediations, [1-9][0-9]* threats compared, 0 lost' "$T/out"
validate_csaf "$T"/repub/*.json
if [ "${#NOPROD[@]}" -gt 0 ]; then
  expect_rc 1 "a vulnerability without products is not re-published" -- "$A" csaf export "${NOPROD[0]}"
  check "no product, named" has "has no vendor; an advisory needs a product tree" "$T/err"
fi
expect_rc 1 "export --out of an unknown id" -- "$A" csaf export --out "$T/repub" vulnerability--00000000-0000-4000-8000-000000000000
check "the id named" has "vulnerability--00000000-0000-4000-8000-000000000000" "$T/err"
finish
