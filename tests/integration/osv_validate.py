#!/usr/bin/env python3
"""osv_validate.py SCHEMA FILE... - validates OSV records (a file holds one record or an array of
them) against the OSV JSON schema with python3-jsonschema (Draft 2020-12, formats checked).
Prints each failure with its JSON path; exits 1 when any record fails."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(
    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
bad = 0
for path in sys.argv[2:]:
    doc = json.load(open(path))
    records = doc if isinstance(doc, list) else [doc]
    if not records:
        print(f"{path}: no OSV record")
        bad += 1
    for i, rec in enumerate(records):
        errors = sorted(validator.iter_errors(rec), key=lambda e: list(e.path))
        for e in errors:
            print(f"{path}[{i}] {'/'.join(map(str, e.path))}: {e.message}")
        bad += bool(errors)
    if not bad:
        print(f"{path}: {len(records)} valid OSV record(s)")
sys.exit(1 if bad else 0)
