#!/usr/bin/env bash
# test_case_provider.sh - `accord serve` answers the CSAF provider directory at /.well-known/csaf/
# without credentials: the provider metadata, TLP:WHITE advisories with their hashes and OpenPGP
# signatures, index.txt, changes.csv and the ROLIE feed, each with its media type and an ETag
# (If-None-Match: 304).  Only published TLP:WHITE advisories are reachable: an embargoed case and a
# published case whose stored advisory is labelled AMBER appear in no file and answer 404.  The
# files fetched over HTTPS pass the same checks as the directory `accord case provider` writes,
# and are byte for byte what it writes.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

start_server "$T/data" || { bad "start"; finish; }
WKN=/.well-known/csaf
WHO=none

expect_rc 0 "publisher" -- cli case publisher "Example CERT" https://cert.example.org
# a published case (no embargo), an embargoed one, and one whose advisory is relabelled AMBER
expect_rc 0 "open public" -- cli case open --title "Path traversal in widget uploads"
PUB=$(cat "$T/out")
expect_rc 0 "public: vendor" -- cli case add-vendor "$PUB" Acme --contact psirt@acme.example
expect_rc 0 "public: product" -- cli case add-product "$PUB" --vendor Acme \
  --purl "pkg:npm/%40acme/upload@2.0.0" --affected ">=2.0.0,<2.3.1" --fixed 2.3.1
expect_rc 0 "public: fixed" -- cli case status "$PUB" --vendor Acme --set fixed --statement "2.3.1."
expect_rc 0 "public: publish" -- cli case publish "$PUB"
expect_rc 0 "open embargoed" -- cli case open --title "SECRET-EMBARGOED flaw" \
  --embargo "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%S+00:00)"
EMB=$(cat "$T/out")
expect_rc 0 "embargoed: publication refused" -- sh -c "! '$ACCORD' --data '$T/data' case publish '$EMB'"
expect_rc 0 "open amber" -- cli case open --title "AMBER-ONLY flaw"
AMB=$(cat "$T/out")
expect_rc 0 "amber: vendor" -- cli case add-vendor "$AMB" Initech --contact psirt@initech.example
expect_rc 0 "amber: status" -- cli case status "$AMB" --vendor Initech --set not_affected \
  --statement "No such component."
expect_rc 0 "amber: publish" -- cli case publish "$AMB"
if command -v sqlite3 >/dev/null 2>&1; then
  sqlite3 "$T/data/accord.db" "UPDATE case_docs SET body = replace(body, '\"label\":\"WHITE\"',
    '\"label\":\"AMBER\"') WHERE kind = 'csaf' AND cid = (SELECT cid FROM cases WHERE id = '$AMB')"
  check "amber: relabelled" test "$(sqlite3 "$T/data/accord.db" "SELECT count(*) FROM case_docs
    WHERE body LIKE '%\"label\":\"AMBER\"%'")" = 1
elif [ "${CI:-}" = true ]; then bad "sqlite3 is not installed (debian-packages.txt lists it)"
else echo "skip: sqlite3 not installed (the AMBER checks are vacuous)"; fi

Y=$(date -u +%Y)
name() { echo "$1" | tr 'A-Z' 'a-z'; }

# fetch PATH: GET without credentials into $T/mirror/PATH; 200 expected
M=$T/mirror
fetch() {
  req GET "$WKN/$1"
  expect 200 "GET $1"
  mkdir -p "$(dirname "$M/$1")"
  cp "$T/body" "$M/$1"
}

fetch provider-metadata.json
check "metadata: application/json" test "$CTYPE" = application/json
check "metadata: canonical URL" has '"canonical_url":"https://cert.example.org/.well-known/csaf/provider-metadata.json"' "$M/provider-metadata.json"
req GET "$WKN/"
expect 200 "GET the directory root is the metadata"
check "root: same bytes" cmp -s "$T/body" "$M/provider-metadata.json"
fetch white/index.txt
check "index: text/plain" has "^text/plain" <(echo "$CTYPE")
check "index lists the public advisory" has "^$Y/$(name "$PUB").json\$" "$M/white/index.txt"
check "index: one line" test "$(wc -l <"$M/white/index.txt")" = 1
fetch white/changes.csv
check "changes: text/csv" has "^text/csv" <(echo "$CTYPE")
fetch white/csaf-feed-tlp-white.json
check "feed: application/json" test "$CTYPE" = application/json
check "feed: the public advisory" has "$PUB" "$M/white/csaf-feed-tlp-white.json"
P=white/$Y/$(name "$PUB").json
fetch "$P"
ETAG=$(hdr_value ETag)
check "advisory: ETag" test -n "$ETAG"
expect_rc 0 "the published CSAF" -- cli case show "$PUB" csaf
check "advisory: the published document" cmp -s "$M/$P" <(head -c -1 "$T/out")
fetch "$P.sha256"
fetch "$P.sha512"
check "sha256 over HTTPS" sh -c "cd '$M/white/$Y' && sha256sum --quiet -c '$(basename "$P").sha256'"
check "sha512 over HTTPS" sh -c "cd '$M/white/$Y' && sha512sum --quiet -c '$(basename "$P").sha512'"
req GET "$WKN/$P" -H "If-None-Match: $ETAG"
expect 304 "If-None-Match: not modified"
check "304: empty body" test ! -s "$T/body"

# nothing of the embargoed or AMBER case anywhere, and their advisories' paths are not found
check "embargoed case in no file" sh -c "! grep -rq 'SECRET-EMBARGOED\|$EMB' '$M'"
check "AMBER case in no file" sh -c "! grep -rq 'AMBER-ONLY\|$AMB' '$M'"
for id in "$EMB" "$AMB"; do
  for ext in "" .sha256 .sha512 .asc; do
    req GET "$WKN/white/$Y/$(name "$id").json$ext"
    expect 404 "$id$ext: not found"
  done
done
req GET "$WKN/white/$Y/../../provider-metadata.json" --path-as-is
expect 404 "a dot-dot path is no file"
req POST "$WKN/provider-metadata.json" --data x
expect 405 "POST: method not allowed"
req GET "$WKN/white/nothing.json"
expect 404 "an unknown file"
req GET /api/whoami
expect 401 "the API still needs credentials"

# the served files are the directory `accord case provider` writes, and pass its checks
expect_rc 0 "provider directory" -- cli case provider "$T/dir"
check "served = written: index" cmp -s "$M/white/index.txt" "$T/dir/white/index.txt"
check "served = written: advisory" cmp -s "$M/$P" "$T/dir/$P"
check "served = written: feed" cmp -s "$M/white/csaf-feed-tlp-white.json" "$T/dir/white/csaf-feed-tlp-white.json"
check "served = written: changes" cmp -s "$M/white/changes.csv" "$T/dir/white/changes.csv"
if python3 -c 'import jsonschema, referencing' 2>/dev/null; then
  expect_rc 0 "served directory checks (schema, index, changes, ROLIE)" -- \
    python3 "$ROOT/tests/integration/csaf_provider_validate.py" "$ROOT/tests/data/csaf" "$M"
elif [ "${CI:-}" = true ]; then bad "python3-jsonschema is not installed"
else echo "skip: python3-jsonschema not installed"; fi

# signed: the key stored with the publisher, signatures made by the server's GnuPG home
if command -v gpg >/dev/null 2>&1; then
  export GNUPGHOME=$T/gnupg
  mkdir -m 700 "$GNUPGHOME"
  trap 'gpgconf --kill gpg-agent 2>/dev/null; taxii_cleanup' EXIT
  expect_rc 0 "a signing key" -- gpg --batch --passphrase '' --quick-gen-key \
    "Example CERT <cert@example.org>" ed25519 sign never
  FPR=$(gpg --list-secret-keys --with-colons 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
  expect_rc 1 "an unknown key is refused" -- cli case publisher "Example CERT" \
    https://cert.example.org --sign-key 0123456789ABCDEF0123456789ABCDEF01234567
  expect_rc 0 "publisher with key" -- cli case publisher "Example CERT" https://cert.example.org \
    --sign-key "$FPR"
  stop_server
  start_server "$T/data" || bad "restart with GNUPGHOME"
  fetch "$P.asc"
  check "signature: application/pgp-signature" test "$CTYPE" = application/pgp-signature
  expect_rc 0 "the served signature verifies" -- gpg --verify "$M/$P.asc" "$M/$P"
  fetch "openpgp/$FPR.asc"
  check "public key: application/pgp-keys" test "$CTYPE" = application/pgp-keys
  check "public key block" has "BEGIN PGP PUBLIC KEY BLOCK" "$M/openpgp/$FPR.asc"
  fetch provider-metadata.json
  check "metadata lists the key" has "\"public_openpgp_keys\":\[{\"fingerprint\":\"$FPR\"" "$M/provider-metadata.json"
  req GET "$WKN/white/$Y/$(name "$AMB").json.asc"
  expect 404 "no signature of the AMBER advisory"
elif [ "${CI:-}" = true ]; then bad "gpg is not installed (debian-packages.txt lists gnupg)"
else echo "skip: gpg not installed"; fi
finish
