#!/usr/bin/env bash
# TLP 2.0 through the real binary: `accord user add/set --org/--community`, `accord collection
# red`, `accord tlp default`, `accord get/search --as`, and the TAXII server over HTTPS with curl
# (objects, object, versions, manifest, status) for accounts of different clearance.  The full
# account x collection x TLP x endpoint table is unit/test_tlp_matrix; this checks that the
# binary and the server wire it up.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/taxii_lib.sh"

ORG_A=identity--aaaaaaaa-0000-4000-8000-000000000001
ORG_B=identity--bbbbbbbb-0000-4000-8000-000000000002
M_CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
M_GREEN=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
M_AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
M_RED=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1

# marked ID MARKING [N]: an indicator by organisation A with that marking ("" = none).
marked() {
  local m=""
  [ -n "$2" ] && m=",\"object_marking_refs\":[\"$2\"]"
  indicator "$1" 2026-01-10T09:10:00.000Z "${3:-1}" | sed "s/}\$/,\"created_by_ref\":\"$ORG_A\"$m}/"
}
I_CLEAR=$(mkid indicator 1 1)
I_GREEN=$(mkid indicator 1 2)
I_AMBER=$(mkid indicator 1 3)
I_RED=$(mkid indicator 1 4)
I_NONE=$(mkid indicator 1 5)
S_RED=$(mkid sighting 1 6)
{
  marked "$I_CLEAR" "$M_CLEAR" 1
  marked "$I_GREEN" "$M_GREEN" 2
  marked "$I_AMBER" "$M_AMBER" 3
  marked "$I_RED" "$M_RED" 4
  marked "$I_NONE" "" 5
  printf '{"type":"sighting","spec_version":"2.1","id":"%s","created":"2026-01-10T09:10:00.000Z","modified":"2026-01-10T09:10:00.000Z","sighting_of_ref":"%s","object_marking_refs":["%s"]}\n' \
    "$S_RED" "$I_RED" "$M_CLEAR"
} >"$T/objs.jsonl"
expect_rc 0 "import" -- "$ACCORD" import --quiet "$T/objs.jsonl"

expect_rc 0 "user add with --org" -- "$ACCORD" user add --org "$ORG_A" alice
expect_rc 0 "user add" -- "$ACCORD" user add bob
expect_rc 0 "user set --org" -- "$ACCORD" user set --org "$ORG_B" bob
expect_rc 0 "user add --community" -- "$ACCORD" user add --community carol
expect_rc 0 "user add" -- "$ACCORD" user add dave
expect_rc 2 "user set without a change" -- "$ACCORD" user set dave
expect_rc 2 "user set --org with a bad id" -- "$ACCORD" user set --org identity--nope dave
expect_rc 0 "collection red add" -- "$ACCORD" collection red add default dave
expect_rc 2 "collection red add: unknown account" -- "$ACCORD" collection red add default ghost
"$ACCORD" collection red list >"$T/red"
check "collection red list names dave" grep -q ' dave$' "$T/red"
"$ACCORD" user list >"$T/users"
check "user list shows the organisation" grep -q "^alice .*$ORG_A" "$T/users"
check "user list shows community" grep -q '^carol .*community' "$T/users"
for u in alice bob carol dave; do "$ACCORD" user grant "$u" default --read >/dev/null; done

# --- the CLI: the operator reads all, --as reads as an account -------------------------------------
expect_rc 0 "get RED as the operator" -- "$ACCORD" get "$I_RED"
expect_rc 1 "get RED as alice (producer, not on the RED list)" -- "$ACCORD" get --as alice "$I_RED"
expect_rc 0 "get RED as dave (on the RED list)" -- "$ACCORD" get --as dave "$I_RED"
expect_rc 0 "get unmarked as alice (producer; default amber)" -- "$ACCORD" get --as alice "$I_NONE"
expect_rc 1 "get unmarked as bob" -- "$ACCORD" get --as bob "$I_NONE"
expect_rc 2 "get --as an unknown account" -- "$ACCORD" get --as ghost "$I_NONE"
"$ACCORD" search --as carol 198.51.100.4 >"$T/s"
check "search as carol (community) withholds AMBER" test ! -s "$T/s"
"$ACCORD" search --as alice 198.51.100.4 >"$T/s"
check "search as alice finds her AMBER object" grep -q "$I_AMBER" "$T/s"
"$ACCORD" search 198.51.100.5 >"$T/s"
check "search as the operator finds RED" grep -q "$I_RED" "$T/s"
"$ACCORD" tlp default >"$T/d"
check "the default is amber" grep -qx amber "$T/d"
expect_rc 0 "tlp default green" -- "$ACCORD" tlp default green
expect_rc 0 "get unmarked as bob once the default is green" -- "$ACCORD" get --as bob "$I_NONE"
expect_rc 0 "tlp default amber" -- "$ACCORD" tlp default amber
expect_rc 2 "tlp default: not a level" -- "$ACCORD" tlp default purple

# --- TAXII over HTTPS ---------------------------------------------------------------------------------
start_server || { bad "server start"; finish; }
expect_rc 0 "an admin account" -- "$ACCORD" user add --admin root
for u in root alice bob carol dave; do
  cli token create "$u" 2>/dev/null | grep '^acc_' >"$T/tok.$u"
done
TOKEN=$(cat "$T/tok.root")
tok() { echo "token:$(cat "$T/tok.$1")"; }
DEF=$(collection_id default)
C="/accord/collections/$DEF"

# ids listed by objects and manifest, per account; last, accord's signature
# extension-definition, which the server's start published (TLP:CLEAR: every reader sees it)
X=extension-definition--53c7b8eb-425d-4c94-b293-1a9751b00c31
declare -A WANT=(
  [admin]="$I_CLEAR $I_GREEN $I_AMBER $I_RED $I_NONE $S_RED $X"
  [alice]="$I_CLEAR $I_GREEN $I_AMBER $I_NONE $X"
  [bob]="$I_CLEAR $I_GREEN $X"
  [carol]="$I_CLEAR $I_GREEN $X"
  [dave]="$I_CLEAR $I_RED $S_RED $X"
)
for who in admin alice bob carol dave; do
  if [ "$who" = admin ]; then WHO=admin; else WHO=$(tok "$who"); fi
  for ep in objects manifest; do
    get "$C/$ep/"
    expect 200 "$who: $ep"
    got=$(body_ids | tr '\n' ' ' | sed 's/ $//')
    check "$who: $ep lists exactly what $who is cleared for" test "$got" = "${WANT[$who]}"
  done
  # paged one at a time with next: the same ids, every page full
  ids="" next="" n=0
  while [ $n -lt 20 ]; do
    if [ -n "$next" ]; then get "$C/objects/?limit=1&next=$next"; else get "$C/objects/?limit=1"; fi
    ids="$ids $(body_ids)"
    next=$(body_next)
    body_more || break
    check "$who: a page that says more is full" test "$(body_count)" = 1
    n=$((n + 1))
  done
  check "$who: paging by 1 lists the same" test "$(echo $ids)" = "${WANT[$who]}"
  for id in $I_CLEAR $I_GREEN $I_AMBER $I_RED $I_NONE $S_RED $X; do
    case " ${WANT[$who]} " in *" $id "*) want=200 ;; *) want=404 ;; esac
    get "$C/objects/$id/"
    expect $want "$who: object $id"
    get "$C/objects/$id/versions/"
    expect $want "$who: versions of $id"
  done
done
WHO=$(tok bob) get "$C/objects/$I_RED/"
expect_error 404 "a withheld object is a TAXII 404"
body_lacks "$I_RED\"," "the 404 does not echo the object"

# status: only the poster
expect_rc 0 "grant alice write" -- "$ACCORD" user grant alice default --read-write
WHO=$(tok alice) post "$C/objects/" "$(envelope "$(marked "$(mkid indicator 2 1)" "$M_RED" 9)")"
expect 202 "alice posts a RED object"
SID=$(sed -n 's/^{"id":"\([0-9a-f-]*\)".*/\1/p' "$T/body")
WHO=$(tok alice) get "/accord/status/$SID/"
expect 200 "alice reads her status"
WHO=$(tok dave) get "/accord/status/$SID/"
expect_error 404 "dave cannot read alice's status"
body_lacks "$(mkid indicator 2 1)" "dave's 404 names no id"
stop_server
check "server exits 0" test "$SERVER_RC" = 0

# --- GREEN and the roster: once the node keeps one, only its members' accounts read GREEN -----------
expect_rc 0 "member init" -- "$ACCORD" member init --name "Org N"
NODE=$("$ACCORD" member show | grep -v '^#' | head -n 1 | cut -f1)
"$ACCORD" get "$NODE" >"$T/node.json"
expect_rc 0 "user add: an account of the node's organisation" -- "$ACCORD" user add --org "$NODE" nina
expect_rc 0 "bob reads GREEN before a roster is kept" -- "$ACCORD" get --as bob "$I_GREEN"
expect_rc 0 "roster create (the node's organisation only)" -- "$ACCORD" roster create --threshold 1 "$T/node.json"
expect_rc 1 "bob (not on the roster) no longer reads GREEN" -- "$ACCORD" get --as bob "$I_GREEN"
expect_rc 0 "nina (on the roster) reads GREEN" -- "$ACCORD" get --as nina "$I_GREEN"
expect_rc 0 "carol (community) reads GREEN" -- "$ACCORD" get --as carol "$I_GREEN"
expect_rc 0 "bob still reads CLEAR" -- "$ACCORD" get --as bob "$I_CLEAR"
finish
