#!/usr/bin/env bash
# Tenants and credentials on a real nats-server: every tenant has its own streams, and the
# server's permissions give a tenant's worker (which logs in with an nkey) its tenant's subjects
# alone.  Tenant a's worker matches tenant a's telemetry (the same pairs as accord match) and
# is refused tenant b's queue by the server, which keeps b's chunks; a seed the server does not
# know, and a damaged seed file, do not connect.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"

mkdir -p "$T/js"
WA=$(nkey_gen "$T/worker-a.nk") || { echo "nkey_gen failed" >&2; exit 1; }
nkey_gen "$T/stranger.nk" >/dev/null
check "nkey made" grep -q '^SU[A-Z2-7]\{56\}$' "$T/worker-a.nk"
# tenant a's worker: its consumer, its acks, its results and dead letters, and the snapshot
cat >"$T/server.conf" <<CONF
listen: 127.0.0.1:$NATS_PORT
jetstream { store_dir: "$T/js" }
authorization {
  users: [
    { user: admin, password: s3cret }
    { nkey: $WA, permissions: {
        publish: { allow: [
          "\$JS.API.CONSUMER.INFO.ACCORD_TEL_a.workers",
          "\$JS.API.CONSUMER.MSG.NEXT.ACCORD_TEL_a.workers",
          "\$JS.ACK.ACCORD_TEL_a.>",
          "accord.res.a", "accord.dlq.a",
          "\$JS.API.STREAM.INFO.KV_accord_snapshot",
          "\$JS.API.DIRECT.GET.KV_accord_snapshot.>",
          "\$JS.API.STREAM.MSG.GET.KV_accord_snapshot",
          "\$JS.API.DIRECT.GET.ACCORD_SNAP.>" ] }
        subscribe: { allow: ["_INBOX.>"] } } }
  ]
}
CONF
nats-server -c "$T/server.conf" -l "$T/nats-server.log" </dev/null >/dev/null 2>&1 &
NATS_PID=$!
nats_ready "$NATS_PID" "$T/nats-server.log" || exit 1
ADMIN=(--nats "nats://admin:s3cret@127.0.0.1:$NATS_PORT")
WORKER_A=(--nats "nats://127.0.0.1:$NATS_PORT" --nats-nkey "$T/worker-a.nk")

expect_rc 1 "no credentials: refused" -- "$ACCORD" nats status --nats "nats://127.0.0.1:$NATS_PORT"
check "no credentials: the server says why" grep -q "Authentication Violation" "$T/err"
expect_rc 0 "setup tenant a" -- "$ACCORD" nats setup "${ADMIN[@]}" --tenant a --ack-wait 5
check "setup: tenant a's streams" has "streams ACCORD_TEL_a ACCORD_RES_a ACCORD_DLQ_a ACCORD_SNAP" "$T/out"
expect_rc 0 "setup tenant b" -- "$ACCORD" nats setup "${ADMIN[@]}" --tenant b --ack-wait 5
expect_rc 2 "a tenant is a subject token" -- "$ACCORD" nats setup "${ADMIN[@]}" --tenant "a.b"

gen_telemetry "$T/a.json" 4000 21
gen_telemetry "$T/b.json" 3000 22
gen_indicators "$T/ind.jsonl"
expect_rc 0 "snapshot" -- "$ACCORD" nats snapshot "${ADMIN[@]}" --indicators "$T/ind.jsonl"
expect_rc 0 "publish for tenant a" -- bounded 120 "publish a" "$ACCORD" publish "${ADMIN[@]}" --tenant a --chunk-kib 64 "$T/a.json"
expect_rc 0 "publish for tenant b" -- bounded 120 "publish b" "$ACCORD" publish "${ADMIN[@]}" --tenant b --chunk-kib 64 "$T/b.json"
nb=$(sed -n 's/^accord publish: \([0-9]*\) chunks.*/\1/p' "$T/err")
"$ACCORD" nats status "${ADMIN[@]}" --tenant b >"$T/st.b0"
check "tenant b's chunks in its own stream" grep -q "^stream	ACCORD_TEL_b	messages $nb	" "$T/st.b0"

# tenant a's worker asks for tenant b's chunks: the server refuses, b's queue is untouched
expect_rc 1 "worker a on tenant b: refused" -- "$ACCORD" worker "${WORKER_A[@]}" --tenant b --idle 1
check "worker a on tenant b: the server's permissions violation" grep -q "Permissions Violation" "$T/err"
"$ACCORD" nats status "${ADMIN[@]}" --tenant b >"$T/st.b1"
check "tenant b's chunks still there, none delivered" \
  grep -q "^consumer	workers	pending $nb	ack-pending 0	redelivered 0" "$T/st.b1"

# with its nkey, tenant a's worker does tenant a's chunks
expect_rc 0 "worker a on tenant a (nkey)" -- bounded 120 "worker --drain" "$ACCORD" worker "${WORKER_A[@]}" --tenant a --drain
check "worker a: matched chunks" grep -q "^accord worker: [1-9][0-9]* chunks, 4000 lines" "$T/err"
expect_rc 0 "collect tenant a" -- bounded 120 "collect --drain" "$ACCORD" nats collect "${ADMIN[@]}" --tenant a --db "$T/a.db" --drain
"$ACCORD" match --indicators "$T/ind.jsonl" "$T/a.json" >"$T/match.out" 2>/dev/null
pairs "$T/match.out" >"$T/want"
db_pairs "$T/a.db" >"$T/got"
check "tenant a: the same pairs as accord match" cmp -s "$T/want" "$T/got"
check "tenant a: hits to compare" test "$(wc -l <"$T/want")" -gt 40
check "tenant a: nothing of tenant b" test "$(sqlite3 "$T/a.db" "SELECT count(*) FROM chunks WHERE input LIKE '%b.json'")" = 0
"$ACCORD" nats status "${ADMIN[@]}" --tenant b >"$T/st.b2"
check "tenant b: still all queued" grep -q "^stream	ACCORD_TEL_b	messages $nb	" "$T/st.b2"

# a seed the server does not know, a damaged one
expect_rc 1 "unknown nkey: refused" -- "$ACCORD" nats status --nats "nats://127.0.0.1:$NATS_PORT" --nats-nkey "$T/stranger.nk" --tenant a
check "unknown nkey: authentication violation" grep -q "Authentication Violation" "$T/err"
sed 's/^\(SU.\{20\}\)\(.\)/\1Q/' "$T/worker-a.nk" >"$T/damaged.nk"
cmp -s "$T/damaged.nk" "$T/worker-a.nk" && sed -i 's/^\(SU.\{20\}\)Q/\1R/' "$T/damaged.nk"
expect_rc 1 "damaged seed: refused before connecting" -- "$ACCORD" nats status --nats "nats://127.0.0.1:$NATS_PORT" --nats-nkey "$T/damaged.nk"
check "damaged seed: says so" grep -q "checksum" "$T/err"
finish
