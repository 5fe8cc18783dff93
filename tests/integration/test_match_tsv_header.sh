#!/usr/bin/env bash
# accord match on Zeek TSV headers that cannot be used: each reported once as FILE:LINE with the
# reason (a #separator or #set_separator that is not one byte, #fields empty, with another
# separator, an empty name or more than 1024 columns, #types not one per column), and every row
# under it malformed with a reason naming the rejected line, also in later chunks and threads;
# a good header after a bad one is read again; 300 columns are read whole.
. "$(dirname "$0")/lib.sh" "$@"

printf '{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c2","pattern":"[ipv4-addr:value = '"'"'198.51.100.7'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}\n' >"$T/ind.jsonl"
row='1700000000.1\t10.0.0.1\t198.51.100.7\n'
good='#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n#types\ttime\taddr\taddr\n'
tsv() { # tsv NAME HEADER: the header, two rows, then a good header and one row
  printf "$2$row$row$good$row" >"$T/$1.log"
  expect_rc 3 "$1" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/$1.log"
}
under() { # under NAME LINE1 LINE2 REASON: the two rows malformed for REASON
  check "$1: row $2 malformed, naming the header" has "$1.log:$2: $4 (byte 1)" "$T/err"
  check "$1: row $3 too" has "$1.log:$3: $4 (byte 1)" "$T/err"
  check "$1: the good header after it read, its row matched" grep -q '"name":"c2","matches":1}' "$T/out"
  check "$1: 1 event, 3 malformed (the header, 2 rows)" has "; 1 events, .* 1 matches, 3 malformed lines" "$T/err"
}

tsv types '#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n#types\ttime\taddr\n'
check "types: reported at its line" has "types.log:3: #types: not one type for each #fields column (byte 1)" "$T/err"
under types 4 5 "a row under a #types line that was rejected"

tsv sep '#separator zzz\n#fields\tts\tid.orig_h\tid.resp_h\n'
check "sep: reported at its line" has 'sep.log:1: #separator: not one byte (a byte or \\xHH) (byte 1)' "$T/err"
under sep 3 4 "a row under a #separator line that was rejected"

tsv empty '#separator \\x09\n#fields\n'
check "empty #fields: reported" has "empty.log:2: #fields: no column names separated by the #separator byte (byte 1)" "$T/err"
under empty 3 4 "a row under a #fields line that was rejected"

tsv spaces '#separator \\x09\n#fields ts id.orig_h id.resp_h\n'
check "#fields with spaces: reported" has "spaces.log:2: #fields: no column names separated by the #separator byte" "$T/err"
under spaces 3 4 "a row under a #fields line that was rejected"

tsv noname '#separator \\x09\n#fields\tts\t\tid.resp_h\n'
check "#fields with an empty name: reported" has "noname.log:2: #fields: an empty column name" "$T/err"
under noname 3 4 "a row under a #fields line that was rejected"

tsv setsep '#separator \\x09\n#set_separator\t,,\n#fields\tts\tid.orig_h\tid.resp_h\n'
check "#set_separator: reported" has 'setsep.log:2: #set_separator: not one byte' "$T/err"
under setsep 4 5 "a row under a #set_separator line that was rejected"

# a bad #fields after a good one: its rows are not read with the old columns
printf "$good$row#fields\n$row" >"$T/after.log"
expect_rc 3 "a bad #fields after a good one" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/after.log"
check "after: the row under the good header matched, not the other" grep -q '"matches":1}' "$T/out"
check "after: the row under the bad one malformed" has "after.log:6: a row under a #fields line that was rejected" "$T/err"

# 300 columns (the limit was 256: the address in column 301 was cut off); more than 1024 rejected
cols() { awk -v n="$1" 'BEGIN { s = "#fields"; for (i = 1; i <= n; i++) s = s "\tc" i; print s "\tid.resp_h" }'; }
vals() { awk -v n="$1" 'BEGIN { s = "x"; for (i = 2; i <= n; i++) s = s "\tx"; print s "\t198.51.100.7" }'; }
{ printf '#separator \\x09\n'; cols 300; vals 300; } >"$T/wide.log"
expect_rc 0 "300 columns" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/wide.log"
check "300 columns: the last one matched" grep -q '"matches":1}' "$T/out"
{ printf '#separator \\x09\n'; cols 1100; vals 1100; } >"$T/wider.log"
expect_rc 3 "1101 columns" -- "$ACCORD" match --no-progress --summary --indicators "$T/ind.jsonl" "$T/wider.log"
check "1101 columns: reported" has "wider.log:2: #fields: more than 1024 columns (byte 1)" "$T/err"
check "1101 columns: the row under it" has "wider.log:3: a row under a #fields line that was rejected" "$T/err"

# many chunks, two threads: the rejected header reaches every chunk, and is reported once
{ printf '#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\n#types\ttime\taddr\n'
  awk 'BEGIN { for (i = 0; i < 200000; i++) printf "1700000000.%06d\t10.0.0.1\t198.51.100.7\n", i }'; } >"$T/big.log"
expect_rc 3 "big log under a rejected #types, 2 threads" -- "$ACCORD" match --no-progress --threads 2 --summary --indicators "$T/ind.jsonl" "$T/big.log"
check "big: several chunks" test "$(stat -c %s "$T/big.log")" -gt 8000000
check "big: no row matched" test ! -s "$T/out"
check "big: 0 events, every row and the header malformed" has "; 0 events, .* 0 matches, 200001 malformed lines" "$T/err"
check "big: the header reported once" test "$(grep -c '#types: not one type' "$T/err")" = 1
finish
