#!/usr/bin/env bash
# accord match on real data: Maltrail's static trails (../shared/data/ioc-maltrail: domains, IPv4
# addresses, ADDRESS:PORT pairs, mass-scanner CIDRs) as indicators, against Stratosphere's
# malicious Suricata eve.json and the WRCCDC Zeek JSON logs, and (for the ADDRESS:PORT pairs,
# which that traffic never meets) flows built from some of the pairs.  The expected number of matches
# of every field is computed here, independently, with awk over the same files (address in a
# listed CIDR or equal to a listed address; a name equal to or below a listed domain), and
# compared with what accord reports for that field.
. "$(dirname "$0")/lib.sh" "$@"

DATA=${ACCORD_SHARED_DATA:-$ROOT/../shared/data}
MT=$DATA/ioc-maltrail
EVE=$DATA/telemetry-slips/test6-malicious.suricata.json
ZEEK=$DATA/zeek-zed-sample-data/zeek-json
if [ ! -d "$MT" ] || [ ! -f "$EVE" ] || [ ! -d "$ZEEK" ]; then
  if [ -n "${CI:-}" ]; then bad "../shared/data (ioc-maltrail, telemetry-slips, zeek-zed-sample-data) not found"; finish; fi
  echo "skip: ../shared/data not found" >&2
  exit 77
fi

# The trails, one per line without comments, classified: cidr, ip, ipport, domain (others, URLs
# and names with unusual bytes, are left out on both sides).
find "$MT" -name '*.txt' -print0 | sort -z | xargs -0 cat | awk '
  function ip_ok(s,   n, o, i) {
    n = split(s, o, ".")
    if (n != 4) return 0
    for (i = 1; i <= 4; i++) if (o[i] !~ /^(0|[1-9][0-9]?[0-9]?)$/ || o[i] + 0 > 255) return 0
    return 1
  }
  { sub(/#.*/, ""); gsub(/[ \t\r]/, ""); if ($0 == "") next; t = tolower($0) }
  t ~ /^[0-9.]+\/[0-9]+$/ { split(t, c, "/"); if (ip_ok(c[1]) && c[2] + 0 <= 32 && c[2] !~ /^0./) print "cidr", t; next }
  t ~ /^[0-9.]+:[0-9]+$/ { split(t, c, ":"); if (ip_ok(c[1]) && c[2] + 0 <= 65535 && c[2] !~ /^0./) print "ipport", c[1], c[2]; next }
  t ~ /^[0-9.]+$/ { if (ip_ok(t)) print "ip", t; next }
  t ~ /^[a-z0-9-]+(\.[a-z0-9-]+)+$/ && length(t) <= 253 { print "domain", t } # no LIKE wildcard
' | sort -u >"$T/trails"
for k in cidr ip ipport domain; do
  check "maltrail has $k trails" test "$(grep -c "^$k " "$T/trails")" -gt 100
done

awk '
  { n++; id = sprintf("indicator--00000000-0000-4000-8000-%012d", n) }
  $1 == "cidr"   { p = "[ipv4-addr:value ISSUBSET '\''" $2 "'\'']" }
  $1 == "ip"     { p = "[ipv4-addr:value = '\''" $2 "'\'']" }
  $1 == "ipport" { p = "[network-traffic:dst_ref.value = '\''" $2 "'\'' AND network-traffic:dst_port = " $3 "]" }
  $1 == "domain" { p = "[domain-name:value = '\''" $2 "'\'' OR domain-name:value LIKE '\''%." $2 "'\'']" }
  { printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"maltrail %s\",\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":\"2000-01-01T00:00:00Z\"}\n", id, $1, p }
' "$T/trails" >"$T/ind.jsonl"
ntrails=$(wc -l <"$T/trails")

zcat "$ZEEK/dns.json.gz" >"$T/dns.json"
zcat "$ZEEK/ssl.json.gz" >"$T/ssl.json"
cp "$EVE" "$T/eve.json"
expect_rc 0 "maltrail against Suricata and Zeek" -- "$ACCORD" match --threads 2 --event-bytes 0 \
  --indicators "$T/ind.jsonl" "$T/eve.json" "$T/dns.json" "$T/ssl.json"
check "every trail an indicator, all fast" has "$ntrails indicators ($ntrails fast, 0 pattern engine)" "$T/err"
cp "$T/out" "$T/matches"

# expected FILE KEY: how many values of KEY (a string, or each string of an array) in the JSON
# lines of FILE a trail matches; the first KEY of a line, as the matcher's map reads it
expected() {
  awk -v key="$2" -v trails="$T/trails" '
    function ipnum(s,   o) { split(s, o, "."); return ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4] }
    function is_ip(s,   n, o, i) {
      n = split(s, o, ".")
      if (n != 4) return 0
      for (i = 1; i <= 4; i++) if (o[i] !~ /^(0|[1-9][0-9]?[0-9]?)$/ || o[i] + 0 > 255) return 0
      return 1
    }
    function hit_ip(s,   a, p, sh) {
      if (s in ip) return 1
      a = ipnum(s)
      for (p in plen) { sh = 2 ^ (32 - p); if (sprintf("%.0f/%d", int(a / sh) * sh, p) in net) return 1 }
      return 0
    }
    function hit_name(s,   i) {
      s = tolower(s); sub(/\.$/, "", s)
      if (s in dom) return 1
      for (i = 1; i <= length(s); i++) if (substr(s, i, 1) == "." && substr(s, i + 1) in dom) return 1
      return 0
    }
    function hit(s) { return is_ip(s) ? hit_ip(s) : hit_name(s) }
    BEGIN {
      while ((getline l < trails) > 0) {
        split(l, f, " ")
        if (f[1] == "ip") ip[f[2]] = 1
        else if (f[1] == "domain") dom[f[2]] = 1
        else if (f[1] == "cidr") { split(f[2], c, "/"); plen[c[2] + 0] = 1; net[sprintf("%.0f/%d", ipnum(c[1]), c[2])] = 1 }
      }
    }
    {
      pat = "\"" key "\":"
      i = index($0, pat)
      if (!i) next
      r = substr($0, i + length(pat))
      if (substr(r, 1, 1) == "[") {
        r = substr(r, 2, index(r, "]") - 2)
        n = split(r, v, ",")
        for (j = 1; j <= n; j++) { s = v[j]; gsub(/"/, "", s); if (s != "" && hit(s)) cnt++ }
      } else if (substr(r, 1, 1) == "\"") {
        s = substr(r, 2); s = substr(s, 1, index(s, "\"") - 1)
        if (hit(s)) cnt++
      }
    }
    END { print cnt + 0 }' "$1"
}
# reported FILE FIELD: lines of accord's output for that input and field (address and name
# values, not ADDRESS:PORT pairs)
reported() {
  grep -F "\"input\":\"$1\"" "$T/matches" | grep -c "\"field\":\"$2\",\"value\":\"[^\":]*\"" || true
}

total=0
for fk in eve.json:src_ip eve.json:dest_ip dns.json:id.orig_h dns.json:id.resp_h dns.json:query \
  dns.json:answers ssl.json:id.orig_h ssl.json:id.resp_h ssl.json:server_name; do
  f=${fk%%:*} k=${fk#*:}
  want=$(expected "$T/$f" "$k")
  got=$(reported "$T/$f" "$k")
  total=$((total + want))
  check "$f $k: accord reports $got, the trails match $want" test "$got" = "$want"
done
check "the trails match something in this data (CIDRs, names)" test "$total" -gt 100
# ADDRESS:PORT trails.  The Slips capture has no flow to a listed pair (0 of 0 would prove
# nothing), so flows are built here: for one pair in 40, a Suricata flow and a Zeek conn line to
# it, and decoys to the same address on the next port and to the same port on the next address.
# The expected count is computed independently from the trails (a decoy that happens to be a
# listed pair counts too) and must be more than zero.
grep '^ipport ' "$T/trails" | awk 'NR % 40 == 1' >"$T/planted"
awk '
  function eve(a, p) { printf "{\"timestamp\":\"2024-01-01T00:00:00.000000+0000\",\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\",\"src_port\":40000,\"dest_ip\":\"%s\",\"dest_port\":%d,\"proto\":\"TCP\"}\n", a, p }
  function conn(a, p) { printf "{\"ts\":1700000000.0,\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":40000,\"id.resp_h\":\"%s\",\"id.resp_p\":%d,\"proto\":\"tcp\"}\n", a, p }
  {
    split($2, o, "."); next_a = o[1] "." o[2] "." o[3] "." (o[4] + 1) % 256
    eve($2, $3); conn($2, $3)
    eve($2, $3 % 65535 + 1); conn(next_a, $3)
  }' "$T/planted" >"$T/pairs.json"
want=$(awk -v trails="$T/trails" '
  BEGIN { while ((getline l < trails) > 0) { split(l, f, " "); if (f[1] == "ipport") pp[f[2] ":" f[3]] = 1 } }
  {
    if (match($0, /"(dest_ip|id\.resp_h)":"[0-9.]*"/)) { s = substr($0, RSTART, RLENGTH); sub(/^"[^"]*":"/, "", s); sub(/"$/, "", s) } else next
    if (match($0, /"(dest_port|id\.resp_p)":[0-9]+/)) { p = substr($0, RSTART, RLENGTH); sub(/^"[^"]*":/, "", p) } else next
    if ((s ":" p) in pp) n++
  }
  END { print n + 0 }' "$T/eve.json" "$T/pairs.json")
planted=$(wc -l <"$T/planted")
check "ADDRESS:PORT: $planted pairs planted" test "$planted" -gt 5
check "ADDRESS:PORT: the expected count ($want) counts the planted flows" test "$want" -ge $((2 * planted))
expect_rc 0 "ADDRESS:PORT flows" -- "$ACCORD" match --threads 2 --event-bytes 0 \
  --indicators "$T/ind.jsonl" "$T/eve.json" "$T/pairs.json"
got=$(grep -c '"field":"\(dest_ip\|id.resp_h\)","value":"[0-9.]*:[0-9]*"' "$T/out" || true)
check "ADDRESS:PORT: accord reports $got flows to a listed pair, the trails match $want" test "$got" = "$want"
finish
