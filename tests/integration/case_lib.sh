# case_lib.sh - what the disclosure tests share: the CSAF validator library (npm package
# @secvisogram/csaf-validator-lib, run by Debian's node) and the OSV schema check (Debian's
# python3-jsonschema).  Sourced after lib.sh.

CSAF_LIB_VERSION=2.0.10
OSV_SCHEMA="$ROOT/tests/data/osv/schema.json" # the OSV project's schema (Apache-2.0)
CVE_SCHEMA="$ROOT/tests/data/cve/CVE_JSON_bundled_5.1.1.json" # CVE Record Format 5.1.1 (MIT)

# need_tool TOOL: 0 when present; a skip line locally, a failure under CI
need_tool() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ "${CI:-}" = true ]; then bad "$1 is not installed (debian-packages.txt lists it)"
  else echo "skip: $1 not installed"; fi
  return 1
}

# csaf_lib: prints the validator library's directory, installing it with npm into
# ${XDG_CACHE_HOME:-~/.cache}/accord-test the first time (ACCORD_CSAF_VALIDATOR overrides).
csaf_lib() {
  if [ -n "${ACCORD_CSAF_VALIDATOR:-}" ]; then echo "$ACCORD_CSAF_VALIDATOR"; return 0; fi
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/accord-test/csaf-validator-$CSAF_LIB_VERSION"
  local dir="$cache/node_modules/@secvisogram/csaf-validator-lib"
  if [ ! -f "$dir/validateStrict.js" ]; then
    command -v npm >/dev/null 2>&1 || return 1
    mkdir -p "$cache" &&
      npm install --prefix "$cache" --no-audit --no-fund --silent \
        "@secvisogram/csaf-validator-lib@$CSAF_LIB_VERSION" >/dev/null 2>&1 || return 1
  fi
  echo "$dir"
}

# validate_csaf FILE...: the strict schema and every mandatory test; skip when unavailable
validate_csaf() {
  need_tool node || return 0
  local lib
  if ! lib=$(csaf_lib); then
    if [ "${CI:-}" = true ]; then bad "csaf-validator-lib could not be installed"
    else echo "skip: csaf-validator-lib not installable (npm offline?)"; fi
    return 0
  fi
  if node "$ROOT/tests/integration/csaf_validate.mjs" "$lib" "$@" >"$T/csaf.out" 2>&1; then ok
  else bad "CSAF validation: $(head -c 2000 "$T/csaf.out")"; fi
}

# validate_osv FILE...: every record against the OSV schema
validate_osv() {
  if ! python3 -c 'import jsonschema' 2>/dev/null; then
    if [ "${CI:-}" = true ]; then bad "python3-jsonschema is not installed"
    else echo "skip: python3-jsonschema not installed"; fi
    return 0
  fi
  if python3 "$ROOT/tests/integration/osv_validate.py" "$OSV_SCHEMA" "$@" >"$T/osv.out" 2>&1
  then ok; else bad "OSV validation: $(head -c 2000 "$T/osv.out")"; fi
}

# validate_cve FILE...: CVE JSON 5 records against the CVE Record Format schema
validate_cve() {
  if ! python3 -c 'import jsonschema' 2>/dev/null; then
    if [ "${CI:-}" = true ]; then bad "python3-jsonschema is not installed"
    else echo "skip: python3-jsonschema not installed"; fi
    return 0
  fi
  if python3 "$ROOT/tests/integration/cve_validate.py" "$CVE_SCHEMA" "$@" >"$T/cve.out" 2>&1
  then ok; else bad "CVE validation: $(head -c 2000 "$T/cve.out")"; fi
}

# csaf_samples DATA: CSAF=(the CISA advisories and OASIS examples under DATA, sorted)
csaf_samples() {
  mapfile -t CSAF < <(grep -l '"csaf_version"' -r "$1/csaf-cisa" "$1/csaf-oasis/csaf_2.0/examples/csaf" --include='*.json' | sort)
}
