#!/usr/bin/env bash
# accord misp end to end on the fixtures in tests/data/misp: import (file, directory, stdin,
# .gz, list and response shapes), idempotent re-import, updates, --strict, the summary naming
# unmapped types and bad attributes, then match and export on what was imported, and MISP feeds
# from a directory and over HTTPS (CA file, pinned key, refusals), incremental and resumable.
. "$(dirname "$0")/lib.sh" "$@"
F="$ROOT/tests/data/misp"
EV=5f6e2a1c-eeee-4000-8000-000000000042
IND1=indicator--5f6e2a1c-0000-4000-8000-000000000001

expect_rc 0 "help misp" -- "$ACCORD" help misp
check "help shows feed pull" grep -q "feed list | remove NAME | pull" "$T/out" "$T/err"
expect_rc 2 "misp without subcommand" -- "$ACCORD" misp
expect_rc 2 "misp import without input" -- "$ACCORD" misp import

# import: one bad value -> exit 3, everything else stored, the problem named
expect_rc 3 "import event" -- "$ACCORD" misp import "$F/event.json"
check "bad value named with event and path" has "event $EV: Attribute\[13\] (uuid 5f6e2a1c-0000-4000-8000-000000000014): value \"999.1.1.1\"" "$T/err"
check "unmapped types named and counted" has "kept as x-misp-attribute (no STIX equivalent): btc 1, text 3" "$T/err"
check "indicators counted" grep -qE "indicators +16 " "$T/err"
check "nothing rejected" grep -qE "rejected +0$" "$T/err"
accepted=$(sed -nE 's/^  accepted +([0-9]+)$/\1/p' "$T/err")
check "objects accepted" test "${accepted:-0}" -gt 40
expect_rc 0 "get the report" -- "$ACCORD" get "report--$EV"
check "report named after the event" has '"name":"Example campaign: EvilRAT C2"' "$T/out"
expect_rc 0 "get an indicator" -- "$ACCORD" get "$IND1"
check "indicator pattern" has "\[ipv4-addr:value = '198.51.100.7'\]" "$T/out"
check "TLP:AMBER marking" has "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421" "$T/out"
expect_rc 0 "search the address" -- "$ACCORD" search 198.51.100.7
check "search finds the indicator" has "$IND1" "$T/out"

# re-import: nothing new
expect_rc 3 "re-import" -- "$ACCORD" misp import "$F/event.json"
check "re-import: accepted 0" grep -qE "accepted +0$" "$T/err"
check "re-import: no new versions" grep -qE "new versions +0$" "$T/err"
check "re-import: all duplicates" grep -qE "duplicates +$accepted$" "$T/err"

# update from stdin, gzip-compressed: new versions, the dropped attribute revoked
gzip -c "$F/event-v2.json" >"$T/v2.json.gz"
expect_rc 3 "import the update from stdin (.gz)" -- sh -c "\"$ACCORD\" misp import - <\"$T/v2.json.gz\""
check "update: new versions" grep -qE "new versions +[1-9]" "$T/err"
expect_rc 0 "report versions" -- "$ACCORD" get --all-versions "report--$EV"
check "report has 2 versions" test "$(wc -l <"$T/out")" = 2
expect_rc 0 "dropped attribute" -- "$ACCORD" get indicator--5f6e2a1c-0000-4000-8000-000000000004
check "dropped attribute revoked" has '"revoked":true' "$T/out"

# the audit log of the imports (one record per stored version, checkpoints every 1,000) verifies
expect_rc 0 "audit export after MISP imports" -- "$ACCORD" audit export "$T/audit"
expect_rc 0 "audit verify after MISP imports" -- "$ACCORD" audit verify "$T/audit"
check "audit records every accepted object" test "$(grep -c '"action":"accepted"' "$T/audit/records.jsonl")" -ge "$accepted"

# match and export use what was imported
printf '198.51.100.7\nevil.example.com\nunrelated.example.org\n' >"$T/telemetry.txt"
expect_rc 0 "match" -- "$ACCORD" match --no-progress "$T/telemetry.txt"
check "match finds the address indicator" has "$IND1" "$T/out"
check "match finds the domain indicator" has "indicator--5f6e2a1c-0000-4000-8000-000000000002" "$T/out"
check "match: two matches" test "$(wc -l <"$T/out")" = 2
expect_rc 0 "export plain" -- "$ACCORD" export --format plain
check "export has the domain" has "^evil.example.com$" "$T/out"
check "export has the hash" has "^d41d8cd98f00b204e9800998ecf8427e$" "$T/out"
check "export has not the URL the update dropped" sh -c "! grep -q 'gate.php' '$T/out'"
check "export has no revoked value" sh -c "! grep -q '198.51.100.66' '$T/out'"

# shapes: a list of events and an API response, in a directory with a non-event
mkdir -p "$T/dir/sub"
python3 - "$F/event.json" "$T/dir" <<'EOF' || { echo "python3 missing"; }
import json, sys
e = json.load(open(sys.argv[1]))["Event"]
def small(uuid, ip):
    return {"uuid": uuid, "info": "small " + ip, "timestamp": "1600000000",
            "Attribute": [{"uuid": uuid[:-4] + "aaaa", "type": "ip-dst", "value": ip, "to_ids": True,
                           "category": "Network activity", "timestamp": "1600000000"}]}
json.dump([{"Event": small("0a0a0a0a-0000-4000-8000-000000000001", "192.0.2.1")},
           {"Event": small("0a0a0a0a-0000-4000-8000-000000000002", "192.0.2.2")}],
          open(sys.argv[2] + "/list.json", "w"))
json.dump({"response": [{"Event": small("0a0a0a0a-0000-4000-8000-000000000003", "192.0.2.3")}]},
          open(sys.argv[2] + "/sub/response.json", "w"))
json.dump({"name": "not an event"}, open(sys.argv[2] + "/sub/other.json", "w"))
EOF
expect_rc 3 "import a directory" -- "$ACCORD" --data "$T/d2" misp import "$T/dir"
check "directory: 3 events" grep -qE "^  events +3$" "$T/err"
check "directory: the non-event named" has "other.json: no MISP event" "$T/err"

# malformed JSON: file, line and column; strict rejects the whole file
printf '{"Event": {"uuid": "0b0b0b0b-0000-4000-8000-000000000001",\n "Attribute": [\n {"type": "md5"},\n ]}}\n' >"$T/bad.json"
expect_rc 3 "malformed" -- "$ACCORD" --data "$T/d3" misp import "$T/bad.json"
check "malformed: line and column" has "bad.json:4:2: invalid JSON" "$T/err"
check "malformed: the JSON error printed once" test "$(grep -c 'invalid JSON' "$T/err")" = 1
# a cut .gz is a truncated gzip, named with its file, not invalid JSON; a directory goes on
mkdir -p "$T/gzdir"
gzip -c "$F/event.json" | head -c 900 >"$T/gzdir/cut.json.gz"
gzip -c "$F/event-v2.json" >"$T/gzdir/whole.json.gz"
expect_rc 1 "cut .gz" -- "$ACCORD" --data "$T/d6" misp import "$T/gzdir/cut.json.gz"
check "cut .gz: named as a truncated gzip with its file" has "cut.json.gz: truncated or corrupt gzip (unexpected end of file)" "$T/err"
check "cut .gz: not called invalid JSON" sh -c "! grep -q 'invalid JSON' '$T/err'"
expect_rc 1 "a directory with a cut .gz" -- "$ACCORD" --data "$T/d7" misp import "$T/gzdir"
check "cut .gz in a directory: named" has "cut.json.gz: truncated or corrupt gzip" "$T/err"
check "cut .gz in a directory: the other file imported" grep -qE "^  events +1$" "$T/err"
printf '\037\213\010\000\000\000\000\000\000\003garbage-not-deflate' >"$T/corrupt.json.gz"
expect_rc 1 "corrupt .gz" -- "$ACCORD" --data "$T/d6" misp import "$T/corrupt.json.gz"
check "corrupt .gz: named as gzip with its file" grep -qE "corrupt.json.gz: (truncated or )?corrupt gzip" "$T/err"
expect_rc 1 "convert a cut .gz" -- "$ACCORD" misp convert "$T/gzdir/cut.json.gz"
check "convert a cut .gz: named" has "cut.json.gz: truncated or corrupt gzip" "$T/err"

# taken in, not as MISP writes it: warned with file, event and path, counted, the rest intact
cat >"$T/warn.json" <<'EOW'
{"Event": {"uuid": "0f0f0f0f-0000-4000-8000-000000000001", "timestamp": "1600000000",
 "Attribute": [
  {"type": "domain", "value": "nouuid.example", "to_ids": true},
  {"uuid": "not-a-uuid", "type": "domain", "value": "baduuid.example", "to_ids": true},
  {"uuid": "0f0f0f0f-0000-4000-8000-000000000013", "type": "domain", "value": "yes.example", "to_ids": "yes"},
  {"uuid": "0f0f0f0f-0000-4000-8000-000000000014", "type": "domain", "value": "good.example", "to_ids": true}],
 "Object": [{"uuid": "0f0f0f0f-0000-4000-8000-000000000015", "type": "domain", "value": "misplaced.example", "to_ids": true},
  {"uuid": "0f0f0f0f-0000-4000-8000-000000000016", "name": "file", "Attribute": [
   {"uuid": "0f0f0f0f-0000-4000-8000-000000000017", "object_relation": "md5", "type": "md5", "value": "0cc175b9c0f1b6a831c399e269772661", "to_ids": "yes"}]}]}}
EOW
expect_rc 0 "warnings: import" -- "$ACCORD" --data "$T/d8" misp import "$T/warn.json"
W="warn.json: event 0f0f0f0f-0000-4000-8000-000000000001"
check "warning: no uuid" has "$W: Attribute\[0\]: no uuid" "$T/err"
check "warning: malformed uuid" has "$W: Attribute\[1\]: uuid \"not-a-uuid\" is not a UUID" "$T/err"
check "warning: to_ids \"yes\"" has "$W: Attribute\[2\]: to_ids \"yes\" is not a boolean; taken as false" "$T/err"
check "warning: an object's attribute's to_ids" has "$W: Object\[1\].Attribute\[0\]: to_ids \"yes\" is not a boolean" "$T/err"
check "warning: an attribute where an object is expected" has "$W: Object\[0\]: an attribute (type, value) where an object" "$T/err"
check "warnings counted" grep -qE "^  warnings +5$" "$T/err"
expect_rc 0 "warnings: the good attribute stored" -- "$ACCORD" --data "$T/d8" get indicator--0f0f0f0f-0000-4000-8000-000000000014
expect_rc 0 "warnings: \"yes\" is not an indicator" -- "$ACCORD" --data "$T/d8" get observed-data--0f0f0f0f-0000-4000-8000-000000000013
expect_rc 1 "warnings: nothing of the misplaced attribute" -- "$ACCORD" --data "$T/d8" get indicator--0f0f0f0f-0000-4000-8000-000000000015
expect_rc 0 "warnings: the plain export" -- "$ACCORD" --data "$T/d8" export --format plain
check "warnings: the accepted values exported, the others not" test "$(sort "$T/out" | tr '\n' ' ')" = "baduuid.example good.example nouuid.example "
# an attribute that is not JSON inside a well-formed list: found while the event is imported, so
# the event is rolled back whole (its good attribute too) and the next event still imports
printf '[{"Event": {"uuid": "0c0c0c0c-0000-4000-8000-000000000001", "timestamp": "1600000000", "Attribute": [{"uuid": "0c0c0c0c-0000-4000-8000-000000000011", "type": "domain", "value": "rolled.example", "to_ids": true},
 {"type": "md5", "value": tru}]}},
{"Event": {"uuid": "0c0c0c0c-0000-4000-8000-000000000002", "timestamp": "1600000000", "Attribute": [{"uuid": "0c0c0c0c-0000-4000-8000-000000000021", "type": "domain", "value": "kept.example", "to_ids": true}]}}]
' >"$T/bad2.json"
expect_rc 3 "broken attribute" -- "$ACCORD" --data "$T/d5" misp import "$T/bad2.json"
check "broken attribute: line and column" has "bad2.json:2:" "$T/err"
check "broken attribute: one event failed" grep -qE "^  events failed +1$" "$T/err"
expect_rc 0 "the next event imported" -- "$ACCORD" --data "$T/d5" get indicator--0c0c0c0c-0000-4000-8000-000000000021
expect_rc 1 "the broken event rolled back" -- "$ACCORD" --data "$T/d5" get indicator--0c0c0c0c-0000-4000-8000-000000000011
expect_rc 0 "audit export after the rollback" -- "$ACCORD" --data "$T/d5" audit export "$T/audit5"
expect_rc 0 "audit verify after the rollback" -- "$ACCORD" --data "$T/d5" audit verify "$T/audit5"
expect_rc 4 "strict rejects the file" -- "$ACCORD" --data "$T/d4" misp import --strict "$F/event.json"
expect_rc 0 "strict stored nothing" -- "$ACCORD" --data "$T/d4" stats
check "strict: empty store" grep -qE "versions +0" "$T/out"

# convert: STIX lines, every one valid
expect_rc 3 "convert" -- "$ACCORD" misp convert "$F/event.json"
cp "$T/out" "$T/converted.jsonl"
expect_rc 0 "converted objects validate" -- "$ACCORD" validate "$T/converted.jsonl"

# ---- feeds ---------------------------------------------------------------------------------
FD="$T/feed"
mkdir -p "$FD"
mkfeed() { # mkfeed DIR EVENT-FILE... : manifest.json + UUID.json per event
  python3 - "$@" <<'EOF'
import json, sys, shutil
d, files = sys.argv[1], sys.argv[2:]
m = {}
for f in files:
    e = json.load(open(f))["Event"]
    m[e["uuid"]] = {"info": e["info"], "timestamp": e["timestamp"], "Orgc": e.get("Orgc", {})}
    shutil.copy(f, "%s/%s.json" % (d, e["uuid"]))
m["0c0c0c0c-0000-4000-8000-00000000dead"] = {"info": "withheld", "timestamp": "1600000000"}
json.dump(m, open(d + "/manifest.json", "w"))
open(d + "/hashes.csv", "w").write("")
EOF
}
mkfeed "$FD" "$F/event.json"
expect_rc 0 "feed add" -- "$ACCORD" --data "$T/f" misp feed add local "$FD"
expect_rc 2 "feed add refuses plain http to a remote host" -- "$ACCORD" --data "$T/f" misp feed add bad http://example.com/feed
expect_rc 2 "feed add refuses a bad name" -- "$ACCORD" --data "$T/f" misp feed add "a b" "$FD"
# every change of the feed list is one audit record; a refused one none
expect_rc 0 "audit export after feed add" -- "$ACCORD" --data "$T/f" audit export "$T/audit-f"
check "feed add: one audit record" test "$(grep -c '"action":"misp-feed-add"' "$T/audit-f/records.jsonl")" = 1
check "feed add: the record names the feed and its directory" grep -qF "\"action\":\"misp-feed-add\",\"detail\":\"added: $FD\",\"ref\":\"local\"" "$T/audit-f/records.jsonl"
expect_rc 0 "feed list" -- "$ACCORD" --data "$T/f" misp feed list
check "feed listed" has "^local	$FD	last pull never" "$T/out"
expect_rc 3 "feed pull" -- "$ACCORD" --data "$T/f" misp feed pull
check "pull: fetched 1, missing 1" has "2 event(s) listed, 0 current (not fetched), 1 fetched, 1 missing" "$T/err"
check "pull: missing event named" has "event 0c0c0c0c-0000-4000-8000-00000000dead is listed in manifest.json but missing" "$T/err"
expect_rc 0 "pulled report stored" -- "$ACCORD" --data "$T/f" get "report--$EV"
expect_rc 3 "pull again" -- "$ACCORD" --data "$T/f" misp feed pull local
check "pull again: nothing fetched" has "1 current (not fetched), 0 fetched" "$T/err"
check "pull again: nothing written" grep -qE "accepted +0$" "$T/err"
mkfeed "$FD" "$F/event-v2.json"
expect_rc 3 "pull the update" -- "$ACCORD" --data "$T/f" misp feed pull local
check "update fetched" has "0 current (not fetched), 1 fetched" "$T/err"
check "update: new versions" grep -qE "new versions +[1-9]" "$T/err"
expect_rc 0 "feed list after pulls" -- "$ACCORD" --data "$T/f" misp feed list
check "feed list: last pull and events" grep -qE "last pull 20[0-9-]+T.*	2 event\(s\)" "$T/out"

# round trip through accord's own misp-feed export: the same indicators (every pattern, the
# ANDs of MISP objects and composite attributes too), TLP and galaxy links
expect_rc 0 "export misp-feed" -- "$ACCORD" --data "$T/f" export --format misp-feed --out "$T/rt-feed"
check "misp-feed export has a manifest" test -f "$T/rt-feed/manifest.json"
check "misp-feed export: only the allow-listed object left out" grep -qE "unexportable indicators 1$" "$T/err"
check "misp-feed export: the allow-listed object named" has "indicator--5f6e2a1c-1111-4000-8000-000000000003: holds an allow-listed value" "$T/err"
check "misp-feed export: a MISP object" grep -q '"Object":\[' "$T/rt-feed"/*-*.json
check "misp-feed export: a composite attribute" grep -q '"type":"filename|sha256"' "$T/rt-feed"/*-*.json
expect_rc 0 "add the exported feed" -- "$ACCORD" --data "$T/rt" misp feed add rt "$T/rt-feed"
expect_rc 0 "pull the exported feed" -- "$ACCORD" --data "$T/rt" misp feed pull rt
expect_rc 0 "values before" -- "$ACCORD" --data "$T/f" export --format plain
sort "$T/out" >"$T/rt-before"
expect_rc 0 "values after" -- "$ACCORD" --data "$T/rt" export --format plain
sort "$T/out" >"$T/rt-after"
check "round trip: values exported" test -s "$T/rt-before"
check "round trip: the same indicator values" cmp -s "$T/rt-before" "$T/rt-after"
expect_rc 0 "add the exported feed to a new store" -- "$ACCORD" --data "$T/rt2" misp feed add rt "$T/rt-feed"
expect_rc 0 "pull the exported feed into a new store" -- "$ACCORD" --data "$T/rt2" misp feed pull rt
check "round trip: every value in its hashes.csv" grep -qE "hashes.csv: [1-9][0-9]* line\(s\), 0 event\(s\) out of step" "$T/err"
expect_rc 0 "amber values after" -- "$ACCORD" --data "$T/rt" export --format plain --max-tlp amber
check "round trip: TLP:AMBER kept (visible at amber)" cmp -s "$T/rt-before" <(sort "$T/out")
expect_rc 0 "green values after" -- "$ACCORD" --data "$T/rt" export --format plain --max-tlp green
check "round trip: TLP:AMBER kept (hidden at green)" test ! -s "$T/out"
# ... and the same galaxy links (ATT&CK ids) of the indicators and of their reports
expect_rc 0 "bundle before" -- "$ACCORD" --data "$T/f" export
python3 "$ROOT/tests/integration/misp_links.py" "$T/out" "$T/rt-before" >"$T/links-before"
expect_rc 0 "bundle after" -- "$ACCORD" --data "$T/rt" export
python3 "$ROOT/tests/integration/misp_links.py" "$T/out" "$T/rt-before" >"$T/links-after"
check "round trip: an indicator's ATT&CK link before" has "^indicator da39a3ee5e6b4b0d3255bfef95601890afd80709 malware:S9999$" "$T/links-before"
check "round trip: the report's ATT&CK technique before" has "^report attack-pattern:T1566$" "$T/links-before"
check "round trip: a cluster relation before" has "^cluster threat-actor:Example Panda uses malware:S9999$" "$T/links-before"
check "round trip: the same galaxy links" cmp -s "$T/links-before" "$T/links-after"
# every indicator of the store (not only those of a plain value) comes back with its pattern,
# TLP and links: the sets of normalised patterns of the import and of the re-import are equal
expect_rc 0 "bundle before (patterns)" -- "$ACCORD" --data "$T/f" export
python3 "$ROOT/tests/integration/misp_patterns.py" "$T/out" >"$T/pat-before"
expect_rc 0 "bundle after (patterns)" -- "$ACCORD" --data "$T/rt" export
python3 "$ROOT/tests/integration/misp_patterns.py" "$T/out" >"$T/pat-after"
check "round trip: indicators before" test "$(grep -c '^indicator ' "$T/pat-before")" -ge 9
check "round trip: an object's AND before" has "^indicator stix \[file:hashes.'MD5' = '0cc175b9c0f1b6a831c399e269772661' AND file:hashes.'SHA-1' = .* AND file:size = 1024\]" "$T/pat-before"
check "round trip: a composite's AND before" has "^indicator stix \[network-traffic:dst_port = 8443 AND network-traffic:dst_ref.value = " "$T/pat-before"
check "round trip: a snort rule before" grep -q "^indicator snort " "$T/pat-before"
check "round trip: a link before" grep -q "^link " "$T/pat-before"
check "round trip: no indicator lost or changed" diff "$T/pat-before" "$T/pat-after"

# resumable: a bad event does not stop the others; once fixed only it is fetched
FR="$T/feed-resume"
mkdir -p "$FR"
python3 - "$FR" <<'EOF'
import json, sys
d = sys.argv[1]
m = {}
for i in range(3):
    u = "0d0d0d0d-0000-4000-8000-00000000000%d" % i
    ev = {"Event": {"uuid": u, "info": "r%d" % i, "timestamp": "1600000000",
                    "Attribute": [{"uuid": u[:-4] + "bbb%d" % i, "type": "domain", "to_ids": True,
                                   "value": "r%d.example.com" % i, "timestamp": "1600000000"}]}}
    m[u] = {"info": "r%d" % i, "timestamp": "1600000000"}
    text = json.dumps(ev)
    open("%s/%s.json" % (d, u), "w").write(text[:-5] + ",]}}" if i == 1 else text)
json.dump(m, open(d + "/manifest.json", "w"))
EOF
expect_rc 0 "feed add resume" -- "$ACCORD" --data "$T/r" misp feed add resume "$FR"
expect_rc 3 "pull with a broken event" -- "$ACCORD" --data "$T/r" misp feed pull resume
check "broken event named" has "resume/0d0d0d0d-0000-4000-8000-000000000001.json:1:" "$T/err"
check "others fetched" has "3 event(s) listed, 0 current (not fetched), 2 fetched, 0 missing, 1 failed" "$T/err"
python3 -c "
import json,sys
u='0d0d0d0d-0000-4000-8000-000000000001'
json.dump({'Event':{'uuid':u,'info':'r1','timestamp':'1600000000','Attribute':[{'uuid':u[:-4]+'bbb1','type':'domain','to_ids':True,'value':'r1.example.com','timestamp':'1600000000'}]}},open('$FR/'+u+'.json','w'))"
expect_rc 0 "pull after the fix" -- "$ACCORD" --data "$T/r" misp feed pull resume
check "only the fixed event fetched" has "3 event(s) listed, 2 current (not fetched), 1 fetched, 0 missing, 0 failed" "$T/err"
expect_rc 0 "feed remove" -- "$ACCORD" --data "$T/r" misp feed remove resume
expect_rc 1 "feed remove of an unknown feed" -- "$ACCORD" --data "$T/r" misp feed remove nosuch
expect_rc 0 "audit export after feed remove" -- "$ACCORD" --data "$T/r" audit export "$T/audit-r"
check "feed remove: one audit record" test "$(grep -c '"action":"misp-feed-remove"' "$T/audit-r/records.jsonl")" = 1
expect_rc 0 "audit verify after feed changes" -- "$ACCORD" --data "$T/r" audit verify "$T/audit-r"
expect_rc 1 "pull a removed feed" -- "$ACCORD" --data "$T/r" misp feed pull resume

# killed mid-pull (kill -9 while an event file is being fetched), then pulled again: the store
# ends as a pull that was never interrupted leaves it (the same object versions), and the
# second pull fetches only what the first did not commit
FK="$T/feed-kill"
mkdir -p "$FK"
python3 - "$FK" <<'EOF'
import json, sys
d, m = sys.argv[1], {}
for i in range(40):
    u = "0a1a2a3a-0000-4000-8000-%012d" % i
    attrs = [{"uuid": "0a1a2a3a-%04d-4000-8000-%012d" % (k + 1, i), "type": t, "to_ids": True,
              "value": v, "timestamp": "1600000000"}
             for k, (t, v) in enumerate([("domain", "k%d.example.com" % i),
                                         ("ip-dst|port", "203.0.114.%d|443" % i),
                                         ("md5", "%032x" % (i + 1))])]
    ev = {"Event": {"uuid": u, "info": "k%d" % i, "timestamp": "1600000000",
                    "Orgc": {"name": "K", "uuid": "0a1a2a3a-ffff-4000-8000-000000000000"},
                    "Attribute": attrs}}
    m[u] = {"info": "k%d" % i, "timestamp": "1600000000"}
    json.dump(ev, open("%s/%s.json" % (d, u), "w"))
json.dump(m, open(d + "/manifest.json", "w"))
EOF
# a loopback server that stops answering at the 15th event file, until the client is killed
python3 - "$FK" "$T/kport" "$T/kblocked" <<'EOF' &
import functools, http.server, os, sys, threading, time
d, portfile, blocked = sys.argv[1:4]
n = [0]
lock = threading.Lock()
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.endswith(".json") and "manifest" not in self.path:
            with lock:
                n[0] += 1
                hold = n[0] == 15
            if hold:
                open(blocked, "w").write(self.path)
                time.sleep(20)
                return
        super().do_GET()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=d))
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF
KSRV=$!
for _ in $(seq 50); do [ -f "$T/kport" ] && break; sleep 0.1; done
KURL="http://127.0.0.1:$(cat "$T/kport")"
expect_rc 0 "kill: feed add" -- "$ACCORD" --data "$T/k" misp feed add kfeed "$KURL"
"$ACCORD" --data "$T/k" misp feed pull kfeed >"$T/kpull.out" 2>"$T/kpull.err" &
KPULL=$!
for _ in $(seq 150); do [ -f "$T/kblocked" ] && break; sleep 0.1; done
check "kill: the pull reached the 15th event" test -f "$T/kblocked"
kill -9 "$KPULL" 2>/dev/null
wait "$KPULL" 2>/dev/null
expect_rc 0 "kill: pull again" -- "$ACCORD" --data "$T/k" misp feed pull kfeed
check "kill: only the events not committed fetched" has "40 event(s) listed, 14 current (not fetched), 26 fetched, 0 missing, 0 failed" "$T/err"
expect_rc 0 "kill: a clean pull into another store" -- "$ACCORD" --data "$T/k2" misp feed add kfeed "$KURL"
expect_rc 0 "kill: the clean pull" -- "$ACCORD" --data "$T/k2" misp feed pull kfeed
kill $KSRV 2>/dev/null
for s in k k2; do
  python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute("SELECT id, modified, flags, body FROM objects ORDER BY id, modified"):
    print(r[0], r[1], r[2], bytes(r[3]).decode())' "$T/$s/accord.db" >"$T/$s.objects"
done
check "kill: the objects of 40 events" test "$(grep -c '^report--' "$T/k.objects")" = 40
check "kill: the same objects as an uninterrupted pull" cmp -s "$T/k.objects" "$T/k2.objects"
expect_rc 0 "kill: audit export" -- "$ACCORD" --data "$T/k" audit export "$T/kaudit"
expect_rc 0 "kill: audit verifies" -- "$ACCORD" --data "$T/k" audit verify "$T/kaudit"

# hashes.csv: each fetched event checked against it; a difference is reported, not fatal
FH="$T/feed-hashes"
mkdir -p "$FH"
python3 - "$FH" <<'EOF'
import hashlib, json, sys
d = sys.argv[1]
m, lines = {}, []
for i in range(2):
    u = "0e0e0e0e-0000-4000-8000-00000000000%d" % i
    vals = ["h%d.example.com" % i, "f%d.exe|d41d8cd98f00b204e9800998ecf8427e" % i]
    ev = {"Event": {"uuid": u, "info": "h%d" % i, "timestamp": "1600000000", "Attribute": [
        {"uuid": u[:-4] + "c%dc%d" % (i, k), "type": t, "to_ids": True, "value": v, "timestamp": "1600000000"}
        for k, (t, v) in enumerate(zip(["domain", "filename|md5"], vals))]}}
    m[u] = {"info": "h%d" % i, "timestamp": "1600000000"}
    json.dump(ev, open("%s/%s.json" % (d, u), "w"))
    listed = vals if i == 0 else vals[:1] + ["stale.example.com"]
    for v in listed:  # event 0: every value; event 1: one value missing, one line stale
        lines.append("%s,%s" % (hashlib.md5(v.encode()).hexdigest(), u))
lines.append("not a line")
json.dump(m, open(d + "/manifest.json", "w"))
open(d + "/hashes.csv", "w").write("\r\n".join(lines) + "\r\n")
EOF
expect_rc 0 "feed add hashes" -- "$ACCORD" --data "$T/hh" misp feed add hashes "$FH"
expect_rc 0 "pull a feed whose hashes.csv is out of step with one event" -- "$ACCORD" --data "$T/hh" misp feed pull hashes
check "hashes.csv read" has "2 fetched, 0 missing, 0 failed; hashes.csv: 4 line(s), 1 event(s) out of step" "$T/err"
check "the event out of step named" has "event 0e0e0e0e-0000-4000-8000-000000000001: 1 attribute value(s) not in hashes.csv, 1 of its 2 hashes.csv line(s) match no value" "$T/err"
check "a bad hashes.csv line reported" has "hashes.csv: 1 line(s) not \"md5,event-uuid\" (the first is line 5)" "$T/err"
check "the event in step not named" test -z "$(grep -- "event 0e0e0e0e-0000-4000-8000-000000000000:" "$T/err")"

# over HTTPS: python's TLS server with a throw-away certificate
if ! command -v openssl >/dev/null || ! command -v python3 >/dev/null; then
  [ -n "${CI:-}" ] && { bad "openssl and python3 are needed for the HTTPS feed test"; finish; }
  echo "skipped HTTPS feed: openssl or python3 missing"
  finish
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/key.pem" \
  -out "$T/cert.pem" -days 2 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
PIN="sha256//$(openssl x509 -in "$T/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64)"
python3 - "$FD" "$T/cert.pem" "$T/key.pem" "$T/port" <<'EOF' &
import functools, http.server, ssl, sys
d, cert, key, portfile = sys.argv[1:5]
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=d))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -f "$T/port" ] && break; sleep 0.1; done
URL="https://127.0.0.1:$(cat "$T/port")"
expect_rc 0 "feed add https with CA" -- "$ACCORD" --data "$T/h" misp feed add --ca-file "$T/cert.pem" tls "$URL/"
expect_rc 3 "pull over https" -- "$ACCORD" --data "$T/h" misp feed pull tls
check "https: fetched 1, missing 1" has "0 current (not fetched), 1 fetched, 1 missing" "$T/err"
expect_rc 0 "https report stored" -- "$ACCORD" --data "$T/h" get "report--$EV"
expect_rc 3 "pull over https again" -- "$ACCORD" --data "$T/h" misp feed pull tls
check "https again: current" has "1 current (not fetched), 0 fetched" "$T/err"
expect_rc 0 "feed add https pinned" -- "$ACCORD" --data "$T/h2" misp feed add --ca-file "$T/cert.pem" --pin "$PIN" pinned "$URL"
expect_rc 3 "pull with the right pin" -- "$ACCORD" --data "$T/h2" misp feed pull pinned
check "pinned: fetched" has "1 fetched" "$T/err"
expect_rc 0 "feed add https wrong pin" -- "$ACCORD" --data "$T/h3" misp feed add --ca-file "$T/cert.pem" --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" wrongpin "$URL"
expect_rc 1 "pull with a wrong pin fails" -- "$ACCORD" --data "$T/h3" misp feed pull wrongpin
check "wrong pin: named" has "manifest.json" "$T/err"
expect_rc 0 "feed add https without CA" -- "$ACCORD" --data "$T/h4" misp feed add untrusted "$URL"
expect_rc 1 "pull without trusting the certificate fails" -- "$ACCORD" --data "$T/h4" misp feed pull untrusted
check "untrusted: certificate problem named" grep -qiE "certificate|SSL" "$T/err"
expect_rc 0 "nothing stored from the untrusted feed" -- "$ACCORD" --data "$T/h4" stats
check "untrusted: empty store" grep -qE "versions +0" "$T/out"
kill $SRV 2>/dev/null
finish
