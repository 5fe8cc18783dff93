#!/usr/bin/env python3
"""cve_validate.py SCHEMA FILE... - validates CVE JSON 5 records against the bundled CVE Record
Format schema with python3-jsonschema (Draft 7, formats checked).  Prints each failure with its
JSON path; exits 1 when any record fails."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft7Validator(
    schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
bad = 0
for path in sys.argv[2:]:
    rec = json.load(open(path))
    errors = list(validator.iter_errors(rec))
    for e in errors:
        # oneOf failures hide the real reason in their context: print the deepest ones
        leaves = [c for c in e.context if not c.context] or [e]
        for c in leaves[:20]:
            print(f"{path} {'/'.join(map(str, c.absolute_path))}: {c.message[:300]}")
    bad += bool(errors)
    if not errors:
        print(f"{path}: valid CVE record")
sys.exit(1 if bad else 0)
