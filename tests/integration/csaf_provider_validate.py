#!/usr/bin/env python3
"""csaf_provider_validate.py SCHEMA_DIR DIR - checks a CSAF 2.0 provider directory: its
provider-metadata.json against the provider metadata schema (Draft 2020-12, formats checked, the
CSAF schema it refers to loaded from SCHEMA_DIR), and that index.txt, changes.csv and the ROLIE
feed name exactly the advisories present under white/, each a CSAF document whose tracking id
gives its file name and whose initial release year its folder.  Exits 1 on any failure."""
import csv
import json
import os
import re
import sys

import jsonschema
from referencing import Registry, Resource

sdir, top = sys.argv[1], sys.argv[2]
schemas = [json.load(open(os.path.join(sdir, n)))
           for n in ("provider_json_schema.json", "csaf_json_schema.json")]
registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
validator = jsonschema.Draft202012Validator(
    schemas[0], registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
bad = []
meta = json.load(open(os.path.join(top, "provider-metadata.json")))
bad += [f"provider-metadata.json {'/'.join(map(str, e.path))}: {e.message}"
        for e in validator.iter_errors(meta)]
white = os.path.join(top, "white")
present = sorted(os.path.relpath(os.path.join(d, f), white)
                 for d, _, fs in os.walk(white) for f in fs if re.fullmatch(r".*\.json", f)
                 and d != white)
index = open(os.path.join(white, "index.txt")).read().split()
if sorted(index) != present:
    bad.append(f"index.txt lists {index}, the folder holds {present}")
changes = list(csv.reader(open(os.path.join(white, "changes.csv"))))
if sorted(r[0] for r in changes) != present:
    bad.append(f"changes.csv lists {[r[0] for r in changes]}")
if [r[1] for r in changes] != sorted((r[1] for r in changes), reverse=True):
    bad.append("changes.csv is not newest first")
feed_url = meta["distributions"][0]["rolie"]["feeds"][0]["url"]
feed = json.load(open(os.path.join(white, os.path.basename(feed_url))))
base = meta["distributions"][0]["directory_url"]
hrefs = sorted(e["content"]["src"][len(base):] for e in feed["feed"]["entry"])
if hrefs != present:
    bad.append(f"the ROLIE feed names {hrefs}")
for path in present:
    doc = json.load(open(os.path.join(white, path)))
    t = doc["document"]["tracking"]
    name = re.sub(r"[^+\-a-z0-9]", "_", t["id"].lower()) + ".json"
    if path != f"{t['initial_release_date'][:4]}/{name}":
        bad.append(f"{path}: expected {t['initial_release_date'][:4]}/{name}")
for b in bad:
    print(b)
if not bad:
    print(f"{top}: provider directory with {len(present)} advisories")
sys.exit(1 if bad else 0)
