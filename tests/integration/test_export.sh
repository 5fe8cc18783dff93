#!/usr/bin/env bash
# test_export.sh - accord export in the defender formats and accord allowlist, through the real
# binary: named-checkzone accepts the RPZ zone, `nft -c -f` accepts the nft script (both from
# debian-packages.txt; a missing tool is a skip locally and a failure under CI=true), output files
# appear atomically, expired/revoked indicators and allow-listed values never appear, options
# are checked.
. "$(dirname "$0")/lib.sh" "$@"

DATA="$ROOT/tests/data/export"
AT=2025-06-01T00:00:00Z

# need TOOL: 0 when present; prints a skip line (or fails under CI) when not
need() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ "${CI:-}" = true ]; then bad "$1 is not installed (debian-packages.txt lists it)"
  else echo "skip: $1 not installed"; fi
  return 1
}

expect_rc 0 "import fixtures" -- "$ACCORD" import --quiet "$DATA/indicators.json"
expect_rc 0 "allowlist import plain" -- "$ACCORD" allowlist import --name local "$DATA/allow.txt"
expect_rc 0 "allowlist list" -- "$ACCORD" allowlist list
check "allowlist list names the list" has "^local" "$T/out"

# every format writes, and none holds what must never appear
for f in zeek-intel rpz nft csv plain; do
  expect_rc 0 "export $f" -- "$ACCORD" export --format "$f" --at $AT --out "$T/out.$f"
  check "$f summary names an AND pattern" has "comparisons joined by AND" "$T/err"
  for v in expired.top future.top revoked.top 10.1.2.3 8.8.8.8 google.com; do
    if grep -q -- "$v" "$T/out.$f"; then bad "$f holds $v"; else ok; fi
  done
  check "$f: no temporary left" test ! -e "$T/out.$f.tmp"
done
for f in suricata-dataset suricata-rules; do
  expect_rc 0 "export $f" -- "$ACCORD" export --format "$f" --at $AT --out "$T/dir.$f"
  check "$f wrote the IPv4 dataset" test -s "$T/dir.$f/accord-ipv4.lst"
  check "$f: no temporaries left" test -z "$(ls -A "$T/dir.$f" | grep '^\.')"
done
check "suricata-rules wrote rules" has "dataset:isset,accord-domain,type string" \
  "$T/dir.suricata-rules/accord.rules"
expect_rc 2 "a directory format needs --out" -- "$ACCORD" export --format suricata-dataset
expect_rc 2 "unknown format" -- "$ACCORD" export --format bogus
expect_rc 2 "bad rpz action" -- "$ACCORD" export --format rpz --rpz-action sometimes
expect_rc 2 "bad kind" -- "$ACCORD" export --format plain --type ipv5
expect_rc 2 "stix-only option" -- "$ACCORD" export --format csv --include-revoked
expect_rc 0 "plain, one kind" -- "$ACCORD" export --format plain --type domain-suffix --at $AT
check "plain domain-suffix is *.phish.top only" test "$(cat "$T/out")" = "*.phish.top"
expect_rc 0 "max-tlp green" -- "$ACCORD" export --format plain --max-tlp green --at $AT
if grep -q red.top "$T/out"; then bad "TLP:RED left with --max-tlp green"; else ok; fi
expect_rc 0 "stix still the default" -- "$ACCORD" export
check "stix bundle" has '"type":"bundle"' "$T/out"

# the tools members run accept what accord writes
if need named-checkzone; then
  for a in nxdomain nodata passthru drop cname:walled.example; do
    expect_rc 0 "rpz $a" -- "$ACCORD" export --format rpz --rpz-action $a --at $AT --out "$T/z"
    expect_rc 0 "named-checkzone accepts rpz ($a)" -- named-checkzone rpz.accord.test "$T/z"
  done
fi
if need nft; then
  expect_rc 0 "nft -c accepts the script" -- nft -c -f "$T/out.nft"
  check "nft merged 45.33.32.156 into 45.33.32.0/23" has "45.33.32.0/23" "$T/out.nft"
  # an export of overlapping and duplicate networks only
  D2="$T/data2"
  cat >"$T/ov.json" <<'EOF'
[{"type":"indicator","spec_version":"2.1","id":"indicator--0a000000-0000-4000-8000-000000000001","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '77.0.0.0/8' OR ipv4-addr:value = '77.1.2.3' OR ipv4-addr:value = '77.0.0.0/9']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--0a000000-0000-4000-8000-000000000002","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '77.1.2.3'] OR [ipv6-addr:value = '2a00:1450::1'] OR [ipv6-addr:value ISSUBSET '2a00:1450::/32']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]
EOF
  expect_rc 0 "import overlaps" -- "$ACCORD" --data "$D2" import --quiet "$T/ov.json"
  expect_rc 0 "nft overlaps" -- "$ACCORD" --data "$D2" export --format nft --out "$T/ov.nft"
  expect_rc 0 "nft -c accepts merged overlaps" -- nft -c -f "$T/ov.nft"
  check "overlaps merged into 77.0.0.0/8" has "ipv4 { 77.0.0.0/8 }" "$T/ov.nft"
fi

# allow-lists from the MISP warninglists of ../shared/data
WL="$ROOT/../shared/data/misp-warninglists/lists"
if [ -d "$WL" ]; then
  expect_rc 0 "import warninglists" -- "$ACCORD" allowlist import "$WL/tranco10k/list.json" \
    "$WL/public-dns-v4/list.json" "$WL/rfc1918/list.json"
  check "tranco list named" has "Top 10K" "$T/out"
  cat >"$T/wl.json" <<'EOF'
[{"type":"indicator","spec_version":"2.1","id":"indicator--0b000000-0000-4000-8000-000000000001","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'docs.google.com']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--0b000000-0000-4000-8000-000000000002","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '1.1.1.1']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]
EOF
  expect_rc 0 "import allow-listed indicators" -- "$ACCORD" import --quiet "$T/wl.json"
  expect_rc 0 "export with warninglists" -- "$ACCORD" export --format plain --at $AT
  if grep -q -e docs.google.com -e '^1\.1\.1\.1$' "$T/out"; then bad "allow-listed value exported"
  else ok; fi
  # 6 from the fixtures' own allow-list, the two above, and 45.33.33.0/24: it holds a public
  # resolver (45.33.33.234), and a network overlapping an allowed address is left out whole
  check "summary counts allow-listed values" grep -q "allow-listed values left out 9," "$T/err"
  expect_rc 0 "allowlist rm" -- "$ACCORD" allowlist rm local
else
  echo "skip: ../shared/data is absent (warninglist tests)"
fi

finish
