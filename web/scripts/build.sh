#!/usr/bin/env bash
# build.sh NODE NPM OUT STAMP: builds the console into OUT (run by CMake from web/).
# Installs the exact versions of package-lock.json with `npm ci` when node_modules is older than
# the lock file, then runs `vite build` and checks the initial JavaScript budget.  When npm cannot
# fetch the packages (no registry reachable) the console is left out with a warning and accord
# builds and serves without /ui/: the console's tests then skip, or fail when CI is set.  A build
# or budget error in the console itself always fails.
set -u
node=$1 npm=$2 out=$3 stamp=$4
# Debian's Node.js trusts only the CAs bundled into it; a registry mirror or proxy whose CA the
# machine's administrator added to the system store needs that store too.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
   [ package.json -nt node_modules/.package-lock.json ]; then
  echo "web console: npm ci (exact versions of web/package-lock.json)"
  if ! "$npm" ci --no-audit --no-fund --loglevel=error; then
    rm -f "$out/index.html" "$stamp"
    echo "web console: NOT BUILT: npm ci could not install web/package-lock.json (message above)." >&2
    echo "web console: accord builds and serves without /ui/; rebuild once the npm registry is reachable." >&2
    exit 0
  fi
fi
ACCORD_UI_OUT=$out "$node" node_modules/vite/bin/vite.js build --logLevel warn || exit 1
"$node" scripts/size.mjs "$out" || exit 1
touch "$stamp"
