#!/usr/bin/env bash
# accord match on real data: Maltrail's static trails (../shared/data/ioc-maltrail: domains, IPv4
# addresses, ADDRESS:PORT pairs, mass-scanner CIDRs) as indicators, against Stratosphere's
# malicious Suricata eve.json, the WRCCDC Zeek JSON logs, Slips' and OTRF's Zeek JSON logs and
# Brim's Zeek TSV conn.log, and (for the ADDRESS:PORT pairs, which that traffic never meets)
# flows built from some of the pairs.  The expected number of matches of every field is computed
# here, independently, with awk over the same files (address in a listed CIDR or equal to a
# listed address; a name equal to or below a listed domain), and compared with what accord
# reports for that field.
. "$(dirname "$0")/lib.sh" "$@"

DATA=${ACCORD_SHARED_DATA:-$ROOT/../shared/data}
MT=$DATA/ioc-maltrail
EVE=$DATA/telemetry-slips/test6-malicious.suricata.json
ZEEK=$DATA/zeek-zed-sample-data/zeek-json
SL=$DATA/telemetry-slips/test9-mixed-zeek-dir
OT=$DATA/zeek-otrf-apt29-day1
BRIM=$DATA/zeek-brim-conn/conn.log
if [ ! -d "$MT" ] || [ ! -f "$EVE" ] || [ ! -d "$ZEEK" ] || [ ! -d "$SL" ] || [ ! -d "$OT" ] || [ ! -f "$BRIM" ]; then
  if [ -n "${CI:-}" ]; then bad "../shared/data (ioc-maltrail, telemetry-slips, zeek-zed-sample-data, zeek-otrf-apt29-day1, zeek-brim-conn) not found"; finish; fi
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

# indicators TRAILS: one indicator per trail line, as JSON lines
indicators() {
  awk '
  { n++; id = sprintf("indicator--00000000-0000-4000-8000-%012d", n) }
  $1 == "cidr"   { p = "[ipv4-addr:value ISSUBSET '\''" $2 "'\'']" }
  $1 == "ip"     { p = "[ipv4-addr:value = '\''" $2 "'\'']" }
  $1 == "ipport" { p = "[network-traffic:dst_ref.value = '\''" $2 "'\'' AND network-traffic:dst_port = " $3 "]" }
  $1 == "domain" { p = "[domain-name:value = '\''" $2 "'\'' OR domain-name:value LIKE '\''%." $2 "'\'']" }
  { printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"%s\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"maltrail %s\",\"pattern\":\"%s\",\"pattern_type\":\"stix\",\"valid_from\":\"2000-01-01T00:00:00Z\"}\n", id, $1, p }
' "$1"
}
indicators "$T/trails" >"$T/ind.jsonl"
ntrails=$(wc -l <"$T/trails")

zcat "$ZEEK/dns.json.gz" >"$T/dns.json"
zcat "$ZEEK/ssl.json.gz" >"$T/ssl.json"
cp "$EVE" "$T/eve.json"
expect_rc 0 "maltrail against Suricata and Zeek" -- "$ACCORD" match --threads 2 --event-bytes 0 \
  --indicators "$T/ind.jsonl" "$T/eve.json" "$T/dns.json" "$T/ssl.json"
check "every trail an indicator, all fast" has "$ntrails indicators ($ntrails fast, 0 pattern engine)" "$T/err"
cp "$T/out" "$T/matches"

# awk functions for the expected counts: is_ip, norm (the address or name a value of a key of
# a mode stands for), hit (whether the trails match it), load (the trails), keys_of and values
# (the values of a key in a JSON line), base (a file name without its directory)
lib='
  function ipnum(s,   o) { split(s, o, "."); return ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4] }
  function is_ip(s,   n, o, i) {
    n = split(s, o, ".")
    if (n != 4) return 0
    for (i = 1; i <= 4; i++) if (o[i] !~ /^(0|[1-9][0-9]?[0-9]?)$/ || o[i] + 0 > 255) return 0
    return 1
  }
  # the address or name a value of a key of that mode stands for, or ""
  function norm(s, mode,   i, e, c) {
    if (mode == "ip") return is_ip(s) ? s : ""
    if (mode == "host" && s ~ /^[^:]*:[0-9]+$/) sub(/:[0-9]+$/, "", s)
    if (mode == "url") {
      if (!match(s, /^[^:\/]+:\/\//)) return ""
      s = substr(s, RLENGTH + 1)
      e = match(s, /[\/?#]/); if (e) s = substr(s, 1, e - 1)
      if ((i = index(s, "@")) > 0) s = substr(s, i + 1)
      if (substr(s, 1, 1) == "[") return ""
      c = index(s, ":"); if (c) s = substr(s, 1, c - 1)
    }
    if (is_ip(s)) return s
    s = tolower(s); sub(/\.$/, "", s)
    if (mode == "fqdn" && index(s, ".") == 0) return ""
    return s
  }
  function hit(s, mode,   a, p, sh, i) {
    s = norm(s, mode)
    if (s == "") return 0
    if (is_ip(s)) {
      if (s in ip) return 1
      a = ipnum(s)
      for (p in plen) { sh = 2 ^ (32 - p); if (sprintf("%.0f/%d", int(a / sh) * sh, p) in net) return 1 }
      return 0
    }
    if (s in dom) return 1
    for (i = 1; i <= length(s); i++) if (substr(s, i, 1) == "." && substr(s, i + 1) in dom) return 1
    return 0
  }
  function load(trails,   l, f, c) {
    while ((getline l < trails) > 0) {
      split(l, f, " ")
      if (f[1] == "ip") ip[f[2]] = 1
      else if (f[1] == "domain") dom[f[2]] = 1
      else if (f[1] == "cidr") { split(f[2], c, "/"); plen[c[2] + 0] = 1; net[sprintf("%.0f/%d", ipnum(c[1]), c[2])] = 1 }
    }
  }
  function keys_of(keys,   kl, k, p) {
    nk = split(keys, kl, /[ \n]+/)
    for (k = 1; k <= nk; k++) { split(kl[k], p, ":"); key[k] = p[1]; mode[k] = p[2]; field[k] = p[3] }
  }
  # the values of key k in this line: v[1..n] (each string of an array), their number
  function values(k, v,   pat, i, r, n, j) {
    pat = "\"" key[k] "\":"
    i = index($0, pat)
    if (!i) return 0
    r = substr($0, i + length(pat))
    if (substr(r, 1, 1) == "[") {
      r = substr(r, 2, index(r, "]") - 2)
      n = split(r, v, ",")
      for (j = 1; j <= n; j++) gsub(/"/, "", v[j])
      return n
    }
    if (substr(r, 1, 1) != "\"") return 0
    r = substr(r, 2); v[1] = substr(r, 1, index(r, "\"") - 1)
    return 1
  }
  function base(p) { sub(/.*\//, "", p); return p }'
# expected FILE KEY: how many values of KEY (a string, or each string of an array) in the JSON
# lines of FILE a trail matches (an address, or a name); the first KEY of a line, as the
# matcher's map reads it
expected() {
  awk -v spec="$2:name:$2" -v trails="$T/trails" "$lib"'
    BEGIN { load(trails); keys_of(spec) }
    { n = values(1, v); for (j = 1; j <= n; j++) if (v[j] != "" && hit(v[j], "name")) cnt++ }
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

# The other Zeek logs: Slips' mixed capture (JSON), OTRF's APT29 day 1 (JSON with id_orig_h
# style keys), the WRCCDC smtp, notice and software JSON logs and Brim's TSV conn.log.  Every
# key the built-in map reads as an address, a name, a host, a host's own name or a URL is
# counted here with the matcher's rules: an address key takes dotted quads only; a host drops a
# ":port"; a host's own name (dhcp, helo) is no domain name without a dot; a URL's host lies
# between "://" and the next '/', '?' or '#', without userinfo (to the first '@') and port.
# They are matched twice: against the trails (which they seldom meet), and against every third
# distinct address and name they hold themselves and the first of each key, taken as trails (so
# every key with values is exercised).
Z=$T/zeek
mkdir "$Z"
for f in conn dns http ssl smtp dhcp files notice software; do cp "$SL/$f.log" "$Z/slips_$f.json"; done
for f in "$OT"/*_*.log; do cp "$f" "$Z/otrf_$(basename "$f" .log).json"; done
for f in smtp notice software; do zcat "$ZEEK/$f.json.gz" >"$Z/zed_$f.json"; done
cp "$BRIM" "$Z/brim_conn.log"
# KEY:MODE:FIELD (FIELD: the name accord reports the key's values under)
keys="id.orig_h:ip:id.orig_h id_orig_h:ip:id.orig_h id.resp_h:ip:id.resp_h id_resp_h:ip:id.resp_h
  src:ip:src dst:ip:dst tx_hosts:ip:tx_hosts rx_hosts:ip:rx_hosts path:ip:path
  client_addr:ip:client_addr server_addr:ip:server_addr requested_addr:ip:requested_addr
  assigned_addr:ip:assigned_addr x_originating_ip:ip:x_originating_ip query:name:query
  answers:name:answers server_name:name:server_name host:host:host referrer:url:referrer
  origin:url:origin helo:fqdn:helo host_name:fqdn:host_name client_fqdn:fqdn:client_fqdn
  domain:fqdn:domain"
# zeek_expected TRAILS: "FILE FIELD COUNT" for every log and field with a value the trails
# match: the JSON logs by key, the TSV log by the columns of its #fields header
zeek_expected() {
  {
    awk -v trails="$1" -v keys="$keys" "$lib"'
      BEGIN { load(trails); keys_of(keys) }
      { for (k = 1; k <= nk; k++) { n = values(k, v); for (j = 1; j <= n; j++) if (v[j] != "" && hit(v[j], mode[k])) cnt[base(FILENAME) " " field[k]]++ } }
      END { for (c in cnt) print c, cnt[c] }' "$Z"/*.json
    awk -v trails="$1" "$lib"'
      BEGIN { FS = "\t"; load(trails) }
      /^#fields/ { for (i = 2; i <= NF; i++) col[$i] = i - 1; next }
      /^#/ { next }
      { if (hit($col["id.orig_h"], "ip")) o++; if (hit($col["id.resp_h"], "ip")) r++ }
      END { if (o) print base(FILENAME), "id.orig_h", o; if (r) print base(FILENAME), "id.resp_h", r }' \
      "$Z/brim_conn.log"
  } | sort
}
# zeek_reported: the same from accord's matches in $T/out (address and name values)
zeek_reported() {
  sed -n 's/.*"input":"[^"]*\/\([^"]*\)","field":"\([^"]*\)","value":"[^":]*".*/\1 \2/p' "$T/out" |
    sort | uniq -c | awk '{ print $2, $3, $1 }' | sort
}
zeek_match() { # zeek_match INDICATORS
  expect_rc 0 "the other Zeek logs against $(basename "$1")" -- "$ACCORD" match --threads 2 \
    --event-bytes 0 --indicators "$1" "$Z"/*.json "$Z/brim_conn.log"
}

zeek_match "$T/ind.jsonl"
zeek_expected "$T/trails" >"$T/want-zeek"
zeek_reported >"$T/got-zeek"
check "other Zeek logs, trails: accord's matches per file and field are the trails' ($(wc -l <"$T/want-zeek") pairs)" \
  diff "$T/want-zeek" "$T/got-zeek"
check "other Zeek logs, trails: some match" test -s "$T/want-zeek"

awk -v keys="$keys" "$lib"'
  BEGIN { keys_of(keys) }
  {
    for (k = 1; k <= nk; k++) {
      n = values(k, v)
      for (j = 1; j <= n; j++) {
        s = norm(v[j], mode[k])
        if (s == "" && mode[k] == "fqdn") { s = tolower(v[j]); sub(/\.$/, "", s) } # a bare name
        if (is_ip(s)) t = "ip " s
        else if (s ~ /^[a-z0-9-]+(\.[a-z0-9-]+)*$/ && length(s) <= 253) t = "domain " s
        else continue
        print t
        if (!(k in first)) { first[k] = 1; print t >firsts }
      }
    }
  }' firsts="$T/firsts" "$Z"/*.json >"$T/values"
sort -u "$T/values" | awk 'NR % 3 == 1' | sort -u - "$T/firsts" >"$T/trails2"
indicators "$T/trails2" >"$T/ind2.jsonl"
zeek_match "$T/ind2.jsonl"
zeek_expected "$T/trails2" >"$T/want-zeek2"
zeek_reported >"$T/got-zeek2"
check "other Zeek logs, their own values: accord's matches per file and field are the awk count's ($(wc -l <"$T/want-zeek2") pairs)" \
  diff "$T/want-zeek2" "$T/got-zeek2"
for f in id.orig_h id.resp_h query answers server_name host referrer origin path src dst tx_hosts \
  client_addr server_addr requested_addr assigned_addr domain; do
  check "other Zeek logs, their own values: $f matched" grep -q " $f [0-9]*\$" "$T/want-zeek2"
done
# Slips' dhcp host_name and client_fqdn are bare names ("John-PC"): listed, never matched there
check "other Zeek logs: bare host names listed as domain names" grep -q '^domain [a-z0-9-]*$' "$T/trails2"
check "other Zeek logs: a bare host name is no domain name" \
  test -z "$(grep ' host_name \| client_fqdn ' "$T/got-zeek2")"
finish
