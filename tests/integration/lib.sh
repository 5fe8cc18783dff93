# lib.sh - shared by the integration tests: a temp dir, the binary, checks that count.
# Each test script: . "$(dirname "$0")/lib.sh" "$@"; ...; finish
set -u
ACCORD=${1:?usage: test.sh PATH-TO-accord}
BIN_DIR=$(cd "$(dirname "$ACCORD")" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/accord-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
export ACCORD_DATA="$T/data"
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION CONDITION...: runs the condition as a command
check() { local d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }
# expect_rc CODE DESCRIPTION -- CMD...: runs CMD, compares its exit code
expect_rc() {
  local want=$1 d=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" = "$want" ]; then ok; else
    bad "$d: exit $got, expected $want"; sed 's/^/  | /' "$T/err" | head -n 20 >&2
  fi
}
has() { grep -q -- "$1" "$2"; }
# require_tool TOOL [WHY]: a tool from debian-packages.txt; missing, it fails the test in CI and
# skips it (exit 77) elsewhere
require_tool() {
  command -v "$1" >/dev/null && return 0
  [ -n "${CI:-}" ] && { echo "FAIL: $1 (debian-packages.txt) is missing" >&2; exit 1; }
  echo "SKIP: $1 is not installed${2:+ ($2)}"
  exit 77
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }
