#!/usr/bin/env bash
# test_case_import_samples.sh - the real advisories under ../shared/data import, and the fields
# they carry survive (advisory_roundtrip.py compares each document with `accord export`): the
# CISA CSAF advisories, the OASIS CSAF examples and the Go vulnerability database's OSV records.
# (test_case_import_repub.sh re-publishes them; test_csaf_oasis.sh walks the OASIS test files.)
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/case_lib.sh"
A=$ACCORD
RT="$ROOT/tests/integration/advisory_roundtrip.py"
D=${ACCORD_SHARED_DATA:-$ROOT/../shared/data}
if [ ! -d "$D/csaf-cisa" ] || [ ! -d "$D/csaf-oasis" ] || [ ! -d "$D/osv-golang-vulndb" ]; then
  echo "skip: ../shared/data (CSAF and OSV samples) not present"
  exit 77
fi
csaf_samples "$D"
check "CSAF samples found" test "${#CSAF[@]}" -gt 50
expect_rc 0 "CISA advisories and OASIS examples import" -- "$A" csaf import "${CSAF[@]}"
check "every CSAF sample" has "${#CSAF[@]} document(s), ${#CSAF[@]} imported" "$T/err"
expect_rc 0 "Go vulnerability database imports" -- "$A" osv import "$D/osv-golang-vulndb/osv"
check "every OSV record" has "684 document(s), 684 imported" "$T/err"
expect_rc 0 "export" -- "$A" export
cp "$T/out" "$T/real.json"
expect_rc 0 "CSAF samples round trip" -- python3 "$RT" csaf "$T/real.json" "${CSAF[@]}"
expect_rc 0 "OSV samples round trip" -- python3 "$RT" osv "$T/real.json" "$D"/osv-golang-vulndb/osv/*.json
finish
