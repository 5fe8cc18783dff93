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
expect_rc 0 "export misp-feed" -- "$ACCORD" export --format misp-feed --at $AT --out "$T/dir.misp"
check "misp-feed wrote its manifest" test -s "$T/dir.misp/manifest.json"
check "misp-feed wrote hashes.csv" test -s "$T/dir.misp/hashes.csv"
check "misp-feed summary names domain-suffix as unexpressible" \
  has "domain-suffix values cannot be expressed in misp-feed" "$T/err"
for v in expired.top future.top revoked.top 10.1.2.3 8.8.8.8 google.com; do
  if grep -q -- "\"$v\"" "$T"/dir.misp/*.json; then bad "misp-feed holds $v"; else ok; fi
done
check "suricata-rules wrote rules" has "dataset:isset,accord-domain,type string" \
  "$T/dir.suricata-rules/accord.rules"
expect_rc 2 "a directory format needs --out" -- "$ACCORD" export --format suricata-dataset
expect_rc 2 "unknown format" -- "$ACCORD" export --format bogus
expect_rc 2 "bad rpz action" -- "$ACCORD" export --format rpz --rpz-action sometimes
expect_rc 2 "bad kind" -- "$ACCORD" export --format plain --type ipv5
expect_rc 2 "an option of the store's bundle" -- "$ACCORD" export --format csv --include-revoked
expect_rc 2 "a selection option without --format is refused, not ignored" -- "$ACCORD" export --max-tlp green
check "it names the option" has "max-tlp applies to the --format exports" "$T/err"
expect_rc 2 "--at without --format is refused" -- "$ACCORD" export --at $AT
expect_rc 2 "--include-revoked with --format stix is refused" -- "$ACCORD" export --format stix --include-revoked
expect_rc 0 "plain, one kind" -- "$ACCORD" export --format plain --type domain-suffix --at $AT
check "plain domain-suffix is *.phish.top only" test "$(cat "$T/out")" = "*.phish.top"
expect_rc 0 "max-tlp green" -- "$ACCORD" export --format plain --max-tlp green --at $AT
if grep -q red.top "$T/out"; then bad "TLP:RED left with --max-tlp green"; else ok; fi
expect_rc 0 "the store's bundle without --format" -- "$ACCORD" export
check "store bundle" has '"type":"bundle"' "$T/out"
check "the store's bundle holds what --format stix leaves out" has "expired.top" "$T/out"
# --format stix: the selected indicators as stored, and the markings they reference
expect_rc 0 "export stix" -- "$ACCORD" export --format stix --at $AT --max-tlp amber --out "$T/out.stix"
for v in expired.top future.top revoked.top 10.1.2.3 8.8.8.8 google.com red.top; do
  if grep -q -- "$v" "$T/out.stix"; then bad "stix holds $v"; else ok; fi
done
check "stix summary names an indicator with an allow-listed value" \
  has "holds an allow-listed value" "$T/err"
check "stix summary names an AND pattern" has "comparisons joined by AND" "$T/err"
check "stix prints its cursor" has "^cursor v1\." "$T/err"
SC=$(sed -n 's/^cursor //p' "$T/err")
expect_rc 0 "stix --since its own cursor" -- "$ACCORD" export --format stix --at $AT --max-tlp amber --since "$SC"
check "nothing changed: an empty bundle" has '"objects":\[\]}' "$T/out"
expect_rc 2 "--since with csv is refused" -- "$ACCORD" export --format csv --since "$SC"
expect_rc 0 "the bundle parses" -- python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
ids = {o["id"] for o in b["objects"]}
refs = {r for o in b["objects"] for r in o.get("object_marking_refs", [])}
assert b["type"] == "bundle" and refs and refs <= ids, (refs, ids)
assert all(o["type"] in ("indicator", "marking-definition") for o in b["objects"])
' "$T/out.stix"

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

# the rpz SOA serial: kept in the store per zone, larger (RFC 1982) after every change of the
# zone's records, even within one second, the same while they stay the same (another process
# each time: it survives restarts)
D4="$T/data4"
dom() { # dom N NAME
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--0d000000-0000-4000-8000-%012d","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","pattern":"[domain-name:value = '"'"'%s'"'"']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}\n' "$1" "$2"
}
soa() { awk '$2 == "SOA" { print $5 }' "$1"; }
dom 1 s1.serial.top >"$T/s1.jsonl"
expect_rc 0 "serial: import" -- "$ACCORD" --data "$D4" import --quiet "$T/s1.jsonl"
expect_rc 0 "serial: export 1" -- "$ACCORD" --data "$D4" export --format rpz --out "$T/z1"
dom 2 s2.serial.top >"$T/s2.jsonl"
expect_rc 0 "serial: import a second name" -- "$ACCORD" --data "$D4" import --quiet "$T/s2.jsonl"
expect_rc 0 "serial: export 2" -- "$ACCORD" --data "$D4" export --format rpz --out "$T/z2"
expect_rc 0 "serial: export 3, no change" -- "$ACCORD" --data "$D4" export --format rpz --out "$T/z3"
S1=$(soa "$T/z1"); S2=$(soa "$T/z2"); S3=$(soa "$T/z3")
check "serial: a number" test -n "$S1"
check "serial: larger after a change ($S1 -> $S2)" test $(( (S2 - S1 + 4294967296) % 4294967296 )) -gt 0 -a $(( (S2 - S1 + 4294967296) % 4294967296 )) -lt 2147483648
check "serial: the same without one ($S2, $S3)" test "$S2" = "$S3"
check "serial: the same bytes without a change" cmp -s "$T/z2" "$T/z3"
if need named-checkzone; then
  expect_rc 0 "named-checkzone accepts the second zone" -- named-checkzone rpz.accord.test "$T/z2"
  check "named-checkzone reads the serial" has "loaded serial $S2" "$T/out"
fi

# incremental nft: what expired or was revoked between two exports is deleted, what arrived added
D3="$T/data3"
ind() { # ind N VALUE MODIFIED EXTRA
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--0c000000-0000-4000-8000-%012d","created":"2025-01-01T00:00:00.000Z","modified":"%s","pattern":"[ipv4-addr:value = '"'"'%s'"'"']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"%s}\n' "$1" "$3" "$2" "$4"
}
{ ind 1 77.1.0.1 2025-01-01T00:00:00.000Z ',"valid_until":"2025-07-01T00:00:00Z"'
  ind 2 77.1.0.5 2025-01-01T00:00:00.000Z ''
  ind 3 77.1.0.9 2025-01-01T00:00:00.000Z ''; } >"$T/d1.jsonl"
expect_rc 0 "delta: import" -- "$ACCORD" --data "$D3" import --quiet "$T/d1.jsonl"
expect_rc 0 "delta: full export" -- "$ACCORD" --data "$D3" export --format nft --at $AT --out "$T/full.nft"
C1=$(sed -n 's/^cursor //p' "$T/err")
check "the export prints its cursor" test -n "$C1"
{ ind 2 77.1.0.5 2025-02-01T00:00:00.000Z ',"revoked":true'
  ind 4 77.1.0.20 2025-01-01T00:00:00.000Z ''; } >"$T/d2.jsonl"
expect_rc 0 "delta: revoke one, add one" -- "$ACCORD" --data "$D3" import --quiet "$T/d2.jsonl"
AT2=2025-07-02T00:00:00Z
expect_rc 0 "delta: --since" -- "$ACCORD" --data "$D3" export --format nft --at $AT2 --since "$C1" --out "$T/delta.nft"
C2=$(sed -n 's/^cursor //p' "$T/err")
check "expired and revoked are deleted" has "^delete element inet accord ipv4 { 77.1.0.1, 77.1.0.5 }$" "$T/delta.nft"
check "the new one is added" has "^add element inet accord ipv4 { 77.1.0.20 }$" "$T/delta.nft"
check "the unchanged one is not repeated" test "$(grep -c 77.1.0.9 "$T/delta.nft")" = 0
check "a delta does not flush" test "$(grep -c flush "$T/delta.nft")" = 0
expect_rc 0 "delta: nothing changed since" -- "$ACCORD" --data "$D3" export --format nft --at $AT2 --since "$C2" --out "$T/none.nft"
check "an empty delta has no statements" test "$(grep -vc '^#' "$T/none.nft")" = 0
expect_rc 0 "delta: same full state" -- "$ACCORD" --data "$D3" export --format nft --at $AT2 --out "$T/full2.nft"
check "full export after the delta" has "ipv4 { 77.1.0.9, 77.1.0.20 }" "$T/full2.nft"
expect_rc 2 "delta: a bad cursor" -- "$ACCORD" --data "$D3" export --format nft --since v1.x
expect_rc 2 "delta: --since is for nft" -- "$ACCORD" --data "$D3" export --format plain --since "$C1"
echo 77.1.0.9 >"$T/allow9.txt"
expect_rc 0 "delta: allow-list changed" -- "$ACCORD" --data "$D3" allowlist import --name l "$T/allow9.txt"
expect_rc 0 "delta: stale cursor gives the full script" -- "$ACCORD" --data "$D3" export --format nft --at $AT2 --since "$C2" --out "$T/stale.nft"
check "stale cursor: flushes" has "^flush set inet accord ipv4" "$T/stale.nft"
check "stale cursor: says so" has "cannot be rebuilt" "$T/err"
if grep -q 77.1.0.9 "$T/stale.nft"; then bad "allow-listed 77.1.0.9 in the full script"; else ok; fi
if need nft; then
  cat "$T/full.nft" "$T/delta.nft" >"$T/both.nft"
  expect_rc 0 "nft -c accepts the delta after the full script" -- nft -c -f "$T/both.nft"
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
