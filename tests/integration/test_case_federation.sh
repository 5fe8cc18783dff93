#!/usr/bin/env bash
# test_case_federation.sh - a disclosure case from report to the coalition, across two accord
# nodes: on node A a reporter opens a case under embargo, three vendors are added (one answers
# affected then fixed, one not affected, one never answers), node B pulls A's default collection
# over TAXII 2.1 (`accord peer add`, `accord sync`) and receives nothing of the case while the
# embargo runs; publication is refused until the embargo passes, then the advisory is published
# and B's next sync brings the case's STIX vulnerability, TLP:CLEAR, named by its CVE id, with the
# a note per vendor: the statements, and "no_response" for the silent one.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

start_server "$T/a" || { bad "node A start"; finish; }
DATA=$T/a
DEF=$(collection_id default)
check "node A has a default collection" test -n "$DEF"

# the case on node A
for u in rita coord acme globex; do
  expect_rc 0 "user add $u" -- cli user add "$u" --no-password
done
expect_rc 0 "publisher" -- cli case publisher "Example CERT" https://cert.example.org
expect_rc 0 "Acme's purl profile" -- cli case profile "Acme Corp" --purl pkg:npm/@acme --account acme
expect_rc 0 "open" -- cli case open --as rita --title "Heap overflow in widget parser" \
  --summary "A crafted widget file overflows a heap buffer." --deadline 2000-01-01T00:00:00Z \
  --embargo "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S+00:00)" --coordinator coord
ID=$(cat "$T/out")
check "case id" test -n "$ID"
expect_rc 0 "cve" -- cli case set "$ID" cve CVE-2026-40777 --as rita
expect_rc 0 "Acme's product" -- cli case add-product "$ID" --as rita \
  --purl "pkg:npm/%40acme/widget@1.4.0" --affected ">=1.0.0,<1.5.0" --fixed 1.5.0
expect_rc 0 "Globex" -- cli case add-vendor "$ID" Globex --account globex --as coord
expect_rc 0 "Initech" -- cli case add-vendor "$ID" Initech --contact psirt@initech.example --as coord
expect_rc 0 "Acme affected" -- cli case status "$ID" --set affected --statement "Reproduced." --as acme
expect_rc 0 "Acme fixed" -- cli case status "$ID" --product widget --set fixed \
  --statement "Fixed in widget 1.5.0." --as acme
expect_rc 0 "Globex not affected" -- cli case status "$ID" --set not_affected \
  --statement "Globex ships no widget parser." --as globex
VULN=$(cli case show "$ID" case --as rita | sed -n 's/.*"stix_id":"\([^"]*\)".*/\1/p')
check "stix id" test -n "$VULN"

# node B pulls A's default collection
B=$T/b
bcli() { "$ACCORD" --data "$B" "$@"; }
printf '%s\n' "$TOKEN" >"$T/token"
expect_rc 0 "B: peer add A" -- bcli peer add a "$BASE/accord/" --collection "$DEF" --pull \
  --token-file "$T/token" --cacert "$T/cacert.pem"
expect_rc 0 "B: sync under embargo" -- bcli sync a
expect_rc 1 "B has nothing of the embargoed case" -- bcli get "$VULN"
expect_rc 0 "B: export under embargo" -- bcli export
check "B's export holds nothing of the case" sh -c "! grep -q 'CVE-2026-40777' '$T/out'"

# the embargo ends a few seconds from now (set only now: sanitizer builds are slow)
END=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%S+00:00)
expect_rc 0 "embargo end" -- cli case set "$ID" embargo "$END" --as coord
expect_rc 1 "early publication refused" -- cli case publish "$ID" --as coord
check "the refusal names the embargo" has "embargo runs until" "$T/err"
while [ "$(date -u +%s)" -le "$(date -u -d "$END" +%s)" ]; do sleep 1; done
expect_rc 0 "publish" -- cli case publish "$ID" --as coord --out "$T/pub"
check "CSAF written" test -s "$T/pub/$ID.json"
check "CVE record written" has '"cveId":"CVE-2026-40777"' "$T/pub/$ID-cve.json"

# A's CSAF provider directory holds the advisory with its hashes, index, changes and ROLIE feed
expect_rc 0 "provider directory" -- cli case provider "$T/csaf"
Y=$(date -u +%Y)
NAME=$(echo "$ID" | tr 'A-Z' 'a-z').json
check "advisory in white/YEAR" test -s "$T/csaf/white/$Y/$NAME"
check "the advisory is the published CSAF" cmp -s "$T/pub/$ID.json" <(cat "$T/csaf/white/$Y/$NAME"; echo)
check "sha256 matches" sh -c "cd '$T/csaf/white/$Y' && sha256sum --quiet -c '$NAME.sha256'"
check "sha512 matches" sh -c "cd '$T/csaf/white/$Y' && sha512sum --quiet -c '$NAME.sha512'"
echo tampered >>"$T/csaf/white/$Y/$NAME"
check "a changed advisory fails its hash" sh -c "cd '$T/csaf/white/$Y' && ! sha512sum --quiet -c '$NAME.sha512' 2>/dev/null"
expect_rc 0 "provider directory rewritten" -- cli case provider "$T/csaf"
check "index.txt" has "^$Y/$NAME\$" "$T/csaf/white/index.txt"
check "canonical URL" has '"canonical_url":"https://cert.example.org/.well-known/csaf/provider-metadata.json"' "$T/csaf/provider-metadata.json"
if python3 -c 'import jsonschema, referencing' 2>/dev/null; then
  expect_rc 0 "provider directory checks (schema, index, changes, ROLIE)" -- \
    python3 "$ROOT/tests/integration/csaf_provider_validate.py" "$ROOT/tests/data/csaf" "$T/csaf"
  sed -i 's/"role":"csaf_provider"/"role":"csaf_vendor"/' "$T/csaf/provider-metadata.json"
  expect_rc 1 "a wrong role fails the provider schema" -- \
    python3 "$ROOT/tests/integration/csaf_provider_validate.py" "$ROOT/tests/data/csaf" "$T/csaf"
elif [ "${CI:-}" = true ]; then bad "python3-jsonschema is not installed"
else echo "skip: python3-jsonschema not installed"; fi

# with a GnuPG key: a detached OpenPGP signature beside every advisory, the public key published
if command -v gpg >/dev/null 2>&1; then
  export GNUPGHOME=$T/gnupg
  mkdir -m 700 "$GNUPGHOME"
  trap 'gpgconf --kill gpg-agent 2>/dev/null; taxii_cleanup' EXIT
  expect_rc 0 "a signing key" -- gpg --batch --passphrase '' --quick-gen-key \
    "Example CERT <cert@example.org>" ed25519 sign never
  FPR=$(gpg --list-secret-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
  check "key fingerprint" test -n "$FPR"
  expect_rc 1 "an unknown key is refused" -- cli case provider "$T/csaf2" --sign-key 0123456789ABCDEF0123456789ABCDEF01234567
  check "the refusal names the key" has "OpenPGP secret key" "$T/err"
  expect_rc 0 "signed provider directory" -- cli case provider "$T/csaf2" --sign-key "$FPR"
  check "signature beside the advisory" has "BEGIN PGP SIGNATURE" "$T/csaf2/white/$Y/$NAME.asc"
  expect_rc 0 "the signature verifies" -- gpg --verify "$T/csaf2/white/$Y/$NAME.asc" "$T/csaf2/white/$Y/$NAME"
  check "the public key is published" has "BEGIN PGP PUBLIC KEY BLOCK" "$T/csaf2/openpgp/$FPR.asc"
  check "the metadata lists the key" has "\"public_openpgp_keys\":\[{\"fingerprint\":\"$FPR\"" "$T/csaf2/provider-metadata.json"
  echo tampered >>"$T/csaf2/white/$Y/$NAME"
  expect_rc 1 "a changed advisory fails its signature" -- gpg --verify "$T/csaf2/white/$Y/$NAME.asc" "$T/csaf2/white/$Y/$NAME"
  if python3 -c 'import jsonschema, referencing' 2>/dev/null; then
    expect_rc 0 "signed provider directory rewritten" -- cli case provider "$T/csaf2" --sign-key "$FPR"
    expect_rc 0 "signed provider directory checks" -- \
      python3 "$ROOT/tests/integration/csaf_provider_validate.py" "$ROOT/tests/data/csaf" "$T/csaf2"
  fi
elif [ "${CI:-}" = true ]; then bad "gpg is not installed (debian-packages.txt lists gnupg)"
else echo "skip: gpg not installed"; fi

# node B receives the published vulnerability
expect_rc 0 "B: sync after publication" -- bcli sync a
check "B stored the publication" grep -Eq "stored [1-9]" "$T/out"
expect_rc 0 "B holds the vulnerability" -- bcli get "$VULN"
check "named by its CVE id" has '"name":"CVE-2026-40777"' "$T/out"
check "TLP:CLEAR" has 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487' "$T/out"
expect_rc 0 "B: export" -- bcli export
check "Acme's statement reached B" has '"content":"Reproduced."' "$T/out"
check "Globex's statement reached B" has '"content":"Globex ships no widget parser."' "$T/out"
check "the silent vendor is no_response, not unaffected" has '"abstract":"Initech: no_response"' "$T/out"
check "B holds a note per vendor" test "$(grep -o '"type":"note"' "$T/out" | wc -l)" = 3
finish
