#!/usr/bin/env bash
# Installs, as root with apt, the Debian packages listed in debian-packages.txt: one package per
# line, '#' starts a comment.  A comment saying "only-without: CMD" skips its package when CMD is
# already on PATH: Node.js packaged by nodesource (what some Debian 12 machines carry) bundles npm
# and conflicts with Debian's npm package, which Debian's own nodejs needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=()
while IFS= read -r line || [ -n "$line" ]; do
  read -r name _ <<<"${line%%#*}" || true
  [ -n "${name:-}" ] || continue
  if [[ $line =~ only-without:\ *([A-Za-z0-9_+-]+) ]] && command -v "${BASH_REMATCH[1]}" >/dev/null; then
    echo "install-packages: $name skipped (${BASH_REMATCH[1]} is already installed)"
    continue
  fi
  pkgs+=("$name")
done <debian-packages.txt
apt-get update
apt-get install -y --no-install-recommends "${pkgs[@]}"
