#!/usr/bin/env bash
# `accord serve` refuses to start while a key file it would load (DATA/keys/*.seed: node,
# signing, root) is readable by group or others, naming the file and its mode, and starts once
# the file is private again.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/peer_lib.sh"

ncli s member init --name Org-s >/dev/null 2>&1
[ -f "$T/s/keys/node.seed" ] && ok || bad "setup: member init wrote keys/node.seed"
for key in node signing root; do
  chmod 640 "$T/s/keys/$key.seed"
  expect_rc 1 "serve refuses a group-readable $key.seed" -- timeout 60 "$ACCORD" --data "$T/s" serve --listen 127.0.0.1:0
  check "the refusal names $key.seed" has "key file $T/s/keys/$key.seed: mode 0640 gives group or others access" "$T/err"
  check "nothing was served with $key.seed readable" sh -c "! grep -q 'serving TAXII' '$T/out'"
  chmod 600 "$T/s/keys/$key.seed"
done
chmod 604 "$T/s/keys/node.seed"
expect_rc 1 "serve refuses an other-readable node.seed" -- timeout 60 "$ACCORD" --data "$T/s" serve --listen 127.0.0.1:0
check "the refusal names node.seed and its mode" has "node.seed: mode 0604" "$T/err"
chmod 600 "$T/s/keys/node.seed"
node_start s && ok || bad "serve starts with every key file private"
node_stop s
finish
