#!/usr/bin/env bash
# accord match inputs and messages: a directory of telemetry (files sorted, subdirectories
# recursively, hidden entries and non-regular files left out, .gz inside), errors that name the
# file and the reason (missing file, cut and corrupt gzip), bad option values named with the
# value, invalid indicators of --indicators reported with FILE:LINE and id and counted, and the
# event / event_truncated fields of a match on JSON input.
. "$(dirname "$0")/lib.sh" "$@"

ind() { # ind N NAME PATTERN
  printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' "$1" "$2" "$3"
}
{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 2 "evil" "[domain-name:value LIKE '%.evil.example']"
} >"$T/ind.jsonl"
ev() { printf '{"ts":%s,"uid":"C%s","id.orig_h":"10.0.0.1","id.resp_h":"198.51.100.7","proto":"tcp"}\n' "$1" "$1"; }

# --- a directory of telemetry ------------------------------------------------------------
L=$T/logs
mkdir -p "$L/b-sub/deeper" "$L/.hidden-dir" "$L/empty"
ev 1 >"$L/a.json"
ev 2 | gzip >"$L/b-sub/c.json.gz"
ev 3 >"$L/b-sub/deeper/d.log"
ev 4 >"$L/c.json"
ev 90 >"$L/.hidden.json"
ev 91 >"$L/.hidden-dir/e.json"
ln -s .. "$L/b-sub/loop"          # a link to a directory: not followed (no loop)
ln -s ../c.json "$L/b-sub/link.json" # a link to a file: read
mkfifo "$L/fifo"                   # not a regular file: left out (reading it would block)
expect_rc 0 "directory input" -- "$ACCORD" match --no-progress --event-bytes 0 --indicators "$T/ind.jsonl" "$L"
check "directory: 5 files, 5 matches" test "$(wc -l <"$T/out")" = 5
check "directory: files in sorted order, recursively, the link too" \
  test "$(grep -o '"time":[0-9]*' "$T/out" | cut -d: -f2 | tr '\n' ' ')" = "1 2 3 4 4 "
check "directory: inputs named by their path" \
  test "$(grep -o '"input":"[^"]*"' "$T/out" | cut -d'"' -f4 | tr '\n' ' ')" = \
  "$L/a.json $L/b-sub/c.json.gz $L/b-sub/deeper/d.log $L/b-sub/link.json $L/c.json "
check "directory: hidden files and directories left out" sh -c "! grep -q '\"time\":9' '$T/out'"
check "directory: totals" has "5 events, .* 5 matches, 0 malformed lines" "$T/err"
expect_rc 0 "directory and file together" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$L/b-sub" "$L/a.json"
check "directory and file: 4 matches of c2" grep -q '"name":"c2","matches":4}' "$T/out"
expect_rc 0 "empty directory" -- "$ACCORD" match --no-progress --indicators "$T/ind.jsonl" "$L/empty"
check "empty directory: said so" has "$L/empty: no files in this directory" "$T/err"
# with --threads 2 and more data than one chunk, the order of the files is kept
for i in 1 2 3; do
  awk -v f=$i 'BEGIN { for (j = 0; j < 40000; j++) printf "{\"ts\":%d,\"id.resp_h\":\"198.51.100.7\",\"pad\":\"%080d\"}\n", f * 100000 + j, 0 }' >"$T/big-$i.json"
done
mkdir -p "$T/bigdir" && mv "$T"/big-*.json "$T/bigdir/"
expect_rc 0 "big directory, 2 threads" -- "$ACCORD" match --no-progress --threads 2 --event-bytes 0 --indicators "$T/ind.jsonl" "$T/bigdir"
check "big directory: 120000 matches in file and line order" \
  awk -F'[:,]' 'BEGIN { p = -1 } $2 <= p { exit 1 } { p = $2; n++ } END { exit n != 120000 }' "$T/out"

# --- errors name the file and the reason ---------------------------------------------------
# a malformed line is counted as malformed, not as an event
{ ev 7; printf '{"ts":8,\n'; ev 9; } >"$T/one-bad.json"
expect_rc 3 "one malformed line" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/one-bad.json"
check "malformed line: not an event" has "; 2 events, .* 2 matches, 1 malformed lines" "$T/err"
# a dangling symbolic link in a directory: reported as an input that cannot be read, the rest read
mkdir -p "$T/dl"
ev 6 >"$T/dl/a.json"
ln -s "$T/nowhere.json" "$T/dl/b.json"
expect_rc 1 "a dangling link in a directory" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/dl"
check "dangling link: named, with where it leads" has "accord match: $T/dl/b.json: No such file or directory (a symbolic link to $T/nowhere.json)" "$T/err"
check "dangling link: the other file read" grep -q '"name":"c2","matches":1}' "$T/out"
for i in $(seq 1 3000); do ev 5; done | gzip >"$T/full.json.gz"
head -c 200 "$T/full.json.gz" >"$L/cut.json.gz"
printf '\037\213\010\000\000\000\000\000\000\003garbage, not deflate' >"$T/corrupt.gz"
expect_rc 1 "a cut gzip file in a directory" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$L" "$T/corrupt.gz" "$T/none.json"
check "cut gzip: file and reason" has "accord match: $L/cut.json.gz: gzip: unexpected end of file (the file is cut)" "$T/err"
check "corrupt gzip: file and reason" has "accord match: $T/corrupt.gz: gzip: invalid block type" "$T/err"
check "missing file: file and reason" has "accord match: $T/none.json: No such file or directory" "$T/err"
want=$(( $(zcat "$L/cut.json.gz" 2>/dev/null | grep -c '}$') + 5 ))
check "cut gzip: the rest still read ($want c2 matches)" grep -q "\"name\":\"c2\",\"matches\":$want}" "$T/out"
check "cut gzip: some of it was read" test "$want" -gt 10
rm "$L/cut.json.gz"

# --- a gzip fault after much good data: everything inflated before it is matched ----------------
# (zlib's gzread dropped the up to 4 MiB it inflated in the call that met the fault)
awk 'BEGIN { for (j = 1; j <= 20000; j++) printf "{\"ts\":%d,\"id.resp_h\":\"198.51.100.7\"}\n", j }' >"$T/good.json"
gzip -c "$T/good.json" >"$T/good.json.gz"
# a whole member, then a second one whose deflate data is not deflate: a fault at a known point
{ cat "$T/good.json.gz"; printf '\037\213\010\000\000\000\000\000\000\003garbage'; } >"$T/twomembers.gz"
expect_rc 1 "a corrupt second member" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/twomembers.gz"
check "corrupt second member: the whole first one matched" grep -q '"name":"c2","matches":20000}' "$T/out"
check "corrupt second member: where, and the reason" has "accord match: $T/twomembers.gz: gzip: invalid block type, after $(wc -c <"$T/good.json") bytes of uncompressed data (line 20000); what came before was matched" "$T/err"
check "corrupt second member: 20000 events" has "; 20000 events, " "$T/err"
# 8 bytes overwritten in the middle of a member: gzip -dc gives what it can, and so does accord
cp "$T/good.json.gz" "$T/mid.json.gz"
printf '\377\000\377\000\377\000\377\000' | dd of="$T/mid.json.gz" bs=1 seek=$(($(wc -c <"$T/good.json.gz") / 2)) conv=notrunc 2>/dev/null
gzip -dc "$T/mid.json.gz" >"$T/mid.out" 2>/dev/null
good=$(grep -c '^{"ts":[0-9]*,"id.resp_h":"198.51.100.7"}$' "$T/mid.out")
expect_rc 1 "a member damaged in the middle" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/mid.json.gz"
check "damaged member: gzip -dc gave much good data ($good lines)" test "$good" -gt 5000
got=$(sed -n 's/.*"name":"c2","matches":\([0-9]*\)}.*/\1/p' "$T/out")
check "damaged member: every good line matched (${got:-0} >= $good)" test "${got:-0}" -ge "$good"
check "damaged member: as far as gzip -dc goes" has "accord match: $T/mid.json.gz: gzip: .*, after $(wc -c <"$T/mid.out") bytes of uncompressed data" "$T/err"

# --- bad option values: the option and the value --------------------------------------------
badopt() { # badopt MESSAGE ARGS...
  local m=$1; shift
  expect_rc 2 "bad option $*" -- "$ACCORD" match "$@" --indicators "$T/ind.jsonl" "$L/a.json"
  check "bad option $*: named with its value" has "$m" "$T/err"
  check "bad option $*: no matching" test ! -s "$T/out"
}
badopt "accord match: --threads 'x': expected a whole number from 1 to 64" --threads x
badopt "accord match: --threads '0': expected a whole number from 1 to 64" --threads 0
badopt "accord match: --threads '65': expected a whole number from 1 to 64" --threads 65
badopt "accord match: --event-bytes '-1': expected a whole number from 0 to 1048576" --event-bytes -1
badopt "accord match: --event-bytes '10k': expected a whole number" --event-bytes 10k
badopt "accord match: --now 'yesterday': expected an RFC 3339 timestamp" --now yesterday
badopt "accord match: --sightings-interval '0': expected seconds from 1" --sightings-interval 0
badopt "accord match: --listen-seconds '-3': expected seconds greater than 0" --listen-seconds -3
badopt "accord match: --frobnicate: unknown option" --frobnicate
expect_rc 2 "option without its value" -- "$ACCORD" match --indicators "$T/ind.jsonl" --threads
check "option without its value: named" has "accord match: --threads: unknown option, or its value is missing" "$T/err"
expect_rc 2 "no input" -- "$ACCORD" match --indicators "$T/ind.jsonl"
check "no input: said so" has "accord match: no INPUT: give files, directories or -" "$T/err"

# --- invalid indicators: reported, counted, the run goes on -----------------------------------
{
  ind 1 "c2" "[ipv4-addr:value = '198.51.100.7']"
  ind 3 "broken" "[ipv4-addr:value = "
  ind 4 "evil" "[domain-name:value LIKE '%.evil.example']"
  ind 5 "not an object path" "[ipv4-addr value = '1.2.3.4']"
} >"$T/mixed.jsonl"
mkdir -p "$T/indir/sub"
cp "$T/mixed.jsonl" "$T/indir/sub/a.jsonl"
gzip -c "$T/mixed.jsonl" >"$T/indir/b.json.gz"
expect_rc 3 "invalid indicators" -- "$ACCORD" match --no-progress --event-bytes 0 --indicators "$T/mixed.jsonl" "$L/a.json"
check "invalid: the valid ones match" test "$(wc -l <"$T/out")" = 1
check "invalid: file:line, id, reason" has "accord match: $T/mixed.jsonl:2: indicator--00000000-0000-4000-8000-000000000003: invalid pattern: .*; not used" "$T/err"
check "invalid: the second one" has "accord match: $T/mixed.jsonl:4: indicator--00000000-0000-4000-8000-000000000005: invalid pattern" "$T/err"
check "invalid: counted in the totals" has "2 indicators (2 fast, 0 pattern engine); .*; 2 invalid indicators not used" "$T/err"
expect_rc 3 "invalid indicators in a directory, .gz" -- "$ACCORD" match --no-progress --summary --indicators "$T/indir" "$L/a.json"
check "invalid .gz: line of the uncompressed text" has "accord match: $T/indir/b.json.gz:4: indicator--00000000-0000-4000-8000-000000000005" "$T/err"
check "invalid, nested: line" has "accord match: $T/indir/sub/a.jsonl:2: indicator--00000000-0000-4000-8000-000000000003" "$T/err"
check "invalid, directory: 4 counted" has "; 4 invalid indicators not used" "$T/err"
check "invalid, directory: still matched" grep -q '"name":"c2","matches":1}' "$T/out"
# a bundle on several lines: the line of the object
printf '{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[\n%s,\n%s\n]}\n' \
  "$(ind 1 c2 "[ipv4-addr:value = '198.51.100.7']")" "$(ind 6 bad "[x]")" >"$T/bundle.json"
expect_rc 3 "invalid indicator in a bundle" -- "$ACCORD" match --no-progress --indicators "$T/bundle.json" "$L/a.json"
check "bundle: line 3" has "accord match: $T/bundle.json:3: indicator--00000000-0000-4000-8000-000000000006: invalid pattern" "$T/err"

# --- the event of a match ---------------------------------------------------------------------
# lines of several lengths with quotes, backslashes and a control byte (escaped in the output)
{
  printf '{"ts":1,"id.resp_h":"198.51.100.7","note":"short"}\n'
  printf '{"ts":2,"id.resp_h":"198.51.100.7","note":"q\\"uote b\\\\slash tab\\t","pad":"%0300d"}\n' 0
  printf '{"ts":3,"query":"x.evil.example","pad":"%0100d"}\n' 0
} >"$T/ev.json"
check_events() { # check_events N: every match's event against its input line
  python3 - "$T/ev.json" "$T/out" "$1" <<'EOF'
import json, sys
lines = open(sys.argv[1], 'rb').read().decode().split('\n')[:-1]
n = int(sys.argv[3])
out = [json.loads(l) for l in open(sys.argv[2])]
assert len(out) == 3, len(out)
for m in out:
    src = lines[int(m['time']) - 1]
    ev = m['event']
    if len(src.encode()) <= n:
        assert ev == src, (ev, src)
        assert 'event_truncated' not in m, m
    else:
        assert len(ev.encode()) == n, (len(ev.encode()), n)
        assert src.startswith(ev), (ev, src)
        assert m['event_truncated'] is True, m
EOF
}
expect_rc 0 "event: default 512 bytes" -- "$ACCORD" match --no-progress --indicators "$T/ind.jsonl" "$T/ev.json"
check "event: the whole input line when shorter than 512 bytes" check_events 512
check "event: a line of 512 bytes or less is never truncated" sh -c "! grep -q event_truncated '$T/out'"
len2=$(sed -n 2p "$T/ev.json" | tr -d '\n' | wc -c)
expect_rc 0 "event: --event-bytes 64" -- "$ACCORD" match --no-progress --event-bytes 64 --indicators "$T/ind.jsonl" "$T/ev.json"
check "event: a prefix of 64 bytes, flagged" check_events 64
check "event: lines 2 and 3 truncated, not line 1 (51 bytes)" test "$(grep -c '"event_truncated":true' "$T/out")" = 2
expect_rc 0 "event: --event-bytes = length of line 2" -- "$ACCORD" match --no-progress --event-bytes "$len2" --indicators "$T/ind.jsonl" "$T/ev.json"
check "event: exactly as long as the line: whole, not flagged" check_events "$len2"
check "event: line 2 not flagged, line 1 not, line 3 not" test "$(grep -c event_truncated "$T/out")" = 0
expect_rc 0 "event: --event-bytes 0" -- "$ACCORD" match --no-progress --event-bytes 0 --indicators "$T/ind.jsonl" "$T/ev.json"
check "event: none with --event-bytes 0" sh -c "! grep -q '\"event' '$T/out'"
# the same through a .gz input and two threads
gzip -c "$T/ev.json" >"$T/ev.json.gz"
expect_rc 0 "event: .gz, 2 threads" -- "$ACCORD" match --no-progress --threads 2 --event-bytes 100 --indicators "$T/ind.jsonl" "$T/ev.json.gz"
check "event: .gz, prefix of 100 bytes where longer" check_events 100
finish
