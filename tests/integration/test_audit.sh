#!/usr/bin/env bash
# The audit log through the CLI: export and offline verify (also with the node key pinned, and
# after tampering: tail dropped, a record edited or swapped; a record appended after the latest
# checkpoint is said to be covered by none, and without leaves.bin the ranges checked only as a
# whole and the records not checked at all are named), proofs printed and checked, the
# checkpoint format checked with an independent implementation (Python: hashlib and the
# cryptography package's Ed25519), `accord serve` signing checkpoints on its timer and at
# shutdown, and kill -9 during an import: every stored version has exactly one `accepted`
# record and the log verifies.
. "$(dirname "$0")/lib.sh" "$@"

expect_rc 0 "import the sample" -- "$ACCORD" import --quiet "$ROOT/tests/data/sample"
expect_rc 0 "audit key" -- "$ACCORD" audit key
KEY=$(cat "$T/out")
check "verifier key form" grep -qE '^accord\.audit/[0-9a-f]{32}\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' "$T/out"
check "node key 0600" test "$(stat -c %a "$ACCORD_DATA/keys/node.seed")" = 600
expect_rc 0 "export" -- "$ACCORD" audit export "$T/exp"
expect_rc 0 "verify the untouched export" -- "$ACCORD" audit verify "$T/exp"
has "intact:" "$T/out" && ok || bad "verify says intact"
expect_rc 0 "verify with the key pinned" -- "$ACCORD" audit verify --key "$KEY" "$T/exp"
expect_rc 1 "export over an export" -- "$ACCORD" audit export "$T/exp"

n=$(wc -l <"$T/exp/records.jsonl")
check "the export holds records" test "$n" -ge 5
cp -r "$T/exp" "$T/t1" && sed -i '$d' "$T/t1/records.jsonl"
expect_rc 1 "tail dropped" -- "$ACCORD" audit verify "$T/t1"
has "truncated" "$T/out" && ok || bad "tail dropped: says truncated"
cp -r "$T/exp" "$T/t2" && sed -i '3s/"accepted"/"rejected"/' "$T/t2/records.jsonl"
expect_rc 1 "record edited" -- "$ACCORD" audit verify "$T/t2"
has "record 3: edited" "$T/out" && ok || bad "edited: names record 3"
cp -r "$T/exp" "$T/t3" && sed -i '2{h;d};3{G}' "$T/t3/records.jsonl"
expect_rc 1 "records swapped" -- "$ACCORD" audit verify "$T/t3"
has "record 2: missing or moved" "$T/out" && ok || bad "swapped: names record 2"

# records after the latest checkpoint: intact only up to it, the rest said to be uncovered
"$ACCORD" audit verify "$T/exp" >"$T/v0"
check "the untouched export: every record signed" grep -q "^intact: records 1\.\.$n, signed by " "$T/v0" || cat "$T/v0" >&2
check "and nothing said to be uncovered or unchecked" sh -c "! grep -q -e '^NOT' -e '^leaves.bin' '$T/v0'"
cat >"$T/append.py" <<'EOF'
import hashlib, json, sys
d = sys.argv[1]
last = json.loads(open(d + "/records.jsonl", "rb").read().split(b"\n")[-2])
rec = {"action": "accepted", "ref": "indicator--00000000-0000-4000-8000-0000000000ff",
       "seq": last["seq"] + 1, "ts": last["ts"] + 1}
line = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode()
open(d + "/records.jsonl", "ab").write(line + b"\n")
if len(sys.argv) < 3:
    open(d + "/leaves.bin", "ab").write(hashlib.sha256(b"\0" + line).digest())
EOF
cp -r "$T/exp" "$T/u1" && python3 "$T/append.py" "$T/u1"
expect_rc 0 "a record appended after the latest checkpoint" -- "$ACCORD" audit verify "$T/u1"
check "intact names only the signed records" grep -q "^intact: records 1\.\.$n, signed by " "$T/out" || cat "$T/out" >&2
check "the appended record is not covered by a checkpoint" \
  grep -q "^NOT COVERED by a checkpoint yet: records $((n + 1))\.\.$((n + 1)) after checkpoints/" "$T/out"
cp -r "$T/exp" "$T/u2" && rm "$T/u2/leaves.bin" && python3 "$T/append.py" "$T/u2" no-leaf
expect_rc 0 "an appended record and no leaves.bin" -- "$ACCORD" audit verify "$T/u2"
check "the appended record is not checked at all" \
  grep -q "^NOT CHECKED: records $((n + 1))\.\.$((n + 1)) after checkpoints/.*leaves.bin is missing" "$T/out" || cat "$T/out" >&2
check "and the checkpoint range checked only as a whole is named" \
  grep -q "^leaves.bin is missing: records 1\.\.$n were checked only as whole checkpoint ranges (checkpoints/[^ ]* to checkpoints/[^ ]*)" "$T/out" || cat "$T/out" >&2
cp -r "$T/exp" "$T/u3" && rm "$T/u3/leaves.bin"
expect_rc 0 "no leaves.bin" -- "$ACCORD" audit verify "$T/u3"
check "no leaves.bin: the range is named, nothing unchecked" sh -c \
  "grep -q '^leaves.bin is missing: records 1\.\.$n ' '$T/out' && ! grep -q '^NOT' '$T/out'"

# proofs, printed and checked offline
expect_rc 0 "prove" -- "$ACCORD" audit prove 2
cp "$T/out" "$T/proof"
expect_rc 0 "check the proof" -- "$ACCORD" audit check --key "$KEY" "$T/proof"
has "record 2 (accepted) is in checkpoint $n" "$T/out" && ok || bad "proof names record 2"
sed -i 's/^record {"action":"accepted"/record {"action":"rejected"/' "$T/proof"
expect_rc 1 "a tampered proof fails" -- "$ACCORD" audit check "$T/proof"

# the checkpoint, checked by another implementation of RFC 6962 and C2SP signed notes
if python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then
  cat >"$T/check.py" <<'EOF'
import base64, glob, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
d = sys.argv[1]
leaves = open(d + "/records.jsonl", "rb").read().split(b"\n")[:-1]
def mth(x):
    if len(x) == 1:
        return hashlib.sha256(b"\0" + x[0]).digest()
    k = 1
    while k * 2 < len(x):
        k *= 2
    return hashlib.sha256(b"\1" + mth(x[:k]) + mth(x[k:])).digest()
name, kid, pk = open(d + "/keys").read().split()[0].split("+", 2)
raw = base64.b64decode(pk)
assert raw[0] == 1 and hashlib.sha256(name.encode() + b"\n" + raw).hexdigest()[:8] == kid
for f in glob.glob(d + "/checkpoints/*.note"):
    note = open(f, "rb").read()
    body, sigs = note.split(b"\n\n")
    body += b"\n"
    origin, size, root = body.decode().split("\n")[:3]
    assert origin == name and base64.b64decode(root) == mth(leaves[: int(size)])
    dash, signer, sig = sigs.decode().rstrip("\n").split(" ")
    assert dash == "\u2014" and signer == name
    sig = base64.b64decode(sig)
    assert sig[:4].hex() == kid
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], body)
print("checked")
EOF
  expect_rc 0 "python checks root, key id and signature" -- python3 "$T/check.py" "$T/exp"
elif [ -n "${CI:-}" ]; then
  bad "python3-cryptography is not installed (debian-packages.txt lists it)"
else
  echo "skipped the independent check: python3-cryptography is not installed"
fi

# accord serve: a checkpoint on its timer and one at shutdown
if command -v curl >/dev/null 2>&1; then
  "$ACCORD" serve --listen 127.0.0.1:0 --plain-http --checkpoint-interval 1 >"$T/serve.out" 2>&1 &
  spid=$!
  for i in $(seq 100); do grep -q 'serving TAXII' "$T/serve.out" && break; sleep 0.1; done
  "$ACCORD" collection add extra >/dev/null
  before=$("$ACCORD" stats | grep -o 'audit records [0-9]*' | grep -o '[0-9]*')
  for i in $(seq 50); do
    "$ACCORD" audit list | grep -q "^ *$before " && break
    sleep 0.2
  done
  check "the server signed a checkpoint on its timer" sh -c "\"$ACCORD\" audit list | grep -q '^ *$before '"
  "$ACCORD" collection add more >/dev/null
  kill -TERM $spid
  wait $spid
  last=$("$ACCORD" stats | grep -o 'audit records [0-9]*' | grep -o '[0-9]*')
  check "the server signed a checkpoint at shutdown ($last)" sh -c "\"$ACCORD\" audit list | grep -q '^ *$last '"
fi

# kill -9 during an import
GEN="$BIN_DIR/bench_import"
if [ -x "$GEN" ]; then
  export ACCORD_DATA="$T/crash"
  "$GEN" --generate "$T/big.json" --objects 150000 >/dev/null
  "$ACCORD" import --batch 3000 "$T/big.json" >/dev/null 2>"$T/log" &
  pid=$!
  for i in $(seq 600); do
    [ "$(grep -c 'committed' "$T/log" 2>/dev/null)" -ge 3 ] && break
    sleep 0.05
  done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  stored=$("$ACCORD" stats | grep -o 'versions [0-9]*' | grep -o '[0-9]*')
  check "killed part way ($stored stored)" test "${stored:-0}" -gt 0 -a "${stored:-0}" -lt 150000
  expect_rc 0 "export after kill -9" -- "$ACCORD" audit export "$T/crash-exp"
  expect_rc 0 "the log verifies after kill -9" -- "$ACCORD" audit verify "$T/crash-exp"
  accepted=$(grep -c '^{"action":"accepted"' "$T/crash-exp/records.jsonl")
  distinct=$(grep '^{"action":"accepted"' "$T/crash-exp/records.jsonl" |
             grep -o '"object":[0-9]*' | sort -u | wc -l)
  check "one accepted record per stored version ($accepted, $distinct, $stored)" \
    test "$accepted" = "$stored" -a "$distinct" = "$stored"
else
  echo "skipped the kill -9 case: $GEN is not built"
fi
finish
