#!/usr/bin/env bash
# accord's NATS commands over TLS: a nats-server with a certificate from a test CA; --nats-ca
# makes the connection verify it, a client without the CA or with another CA is refused, and a
# whole publish/worker/collect round runs over the TLS connection.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/nats_lib.sh"
need_tool openssl openssl "test certificates"
mkdir -p "$T/js" "$T/pki"
cd "$T/pki" || exit 1
ca() { # ca NAME: a self-signed CA
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
ca ca
ca other
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 \
  -extfile san.ext 2>/dev/null
cd - >/dev/null || exit 1
check "test certificate made" test -s "$T/pki/srv.pem"

nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$T/js" -l "$T/nats-server.log" \
  --tls --tlscert "$T/pki/srv.pem" --tlskey "$T/pki/srv.key" </dev/null >/dev/null 2>&1 &
NATS_PID=$!
nats_ready "$NATS_PID" "$T/nats-server.log" || exit 1
U=tls://127.0.0.1:$NATS_PORT

expect_rc 0 "setup over TLS with the CA" -- "$ACCORD" nats setup --nats "$U" --nats-ca "$T/pki/ca.pem" --ack-wait 2
expect_rc 1 "another CA: refused" -- "$ACCORD" nats status --nats "$U" --nats-ca "$T/pki/other.pem"
expect_rc 1 "no CA: refused" -- "$ACCORD" nats status --nats "$U"

gen_telemetry "$T/tel.json" 3000 3
gen_indicators "$T/ind.jsonl"
C=(--nats "$U" --nats-ca "$T/pki/ca.pem")
expect_rc 0 "snapshot over TLS" -- "$ACCORD" nats snapshot "${C[@]}" --indicators "$T/ind.jsonl"
expect_rc 0 "publish over TLS" -- bounded 120 "publish" "$ACCORD" publish "${C[@]}" --chunk-kib 32 "$T/tel.json"
expect_rc 0 "worker over TLS" -- bounded 120 "worker --drain" "$ACCORD" worker "${C[@]}" --drain
expect_rc 0 "collect over TLS" -- bounded 120 "collect --drain" "$ACCORD" nats collect "${C[@]}" --drain
"$ACCORD" match --indicators "$T/ind.jsonl" "$T/tel.json" >"$T/match.out" 2>/dev/null
pairs "$T/match.out" >"$T/want"
db_pairs "$ACCORD_DATA/nats-results.db" >"$T/got"
check "TLS round: the same pairs as accord match" cmp -s "$T/want" "$T/got"
check "TLS round: hits to compare" test "$(wc -l <"$T/want")" -gt 20
finish
