#!/usr/bin/env python3
"""Prints the indicators of a STIX bundle (accord export) as sorted lines, for a round trip
through a MISP feed to compare: "indicator PATTERN_TYPE PATTERN TLP" per pattern (a STIX
pattern's comparisons sorted, its values' case folded where the exports fold it: domains and
hashes), and "link PATTERN CLUSTER" per relationship between an indicator and a cluster SDO (a
cluster named by its type and ATT&CK ids, else its name).  Revoked indicators are left out; an
unmarked one is at the store's default TLP (DEFAULT, amber unless given), the level exports
give it; a URL without a path has the "/" the exports' normaliser gives it.
Only what an export writes counts: indicators valid now, without an address of the special-purpose
ranges (RFC 1918/6890: the exports' built-in allow-list).
usage: misp_patterns.py BUNDLE [DEFAULT]"""
import datetime, ipaddress, json, re, sys

import misp_stix

TLP = {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
       "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
       "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red"}
TERM = re.compile(r"\s*([a-z0-9_-]+:[^=]+?)\s*=\s*('(?:[^'\\]|\\.)*'|[0-9]+)\s*(?:AND|$)")
FOLD = ("domain-name:value", "file:hashes.", "x509-certificate:hashes.", "email-addr:value")

def norm(o):
    p = o["pattern"]
    if o.get("pattern_type", "stix") != "stix":
        return p
    inner = p.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        return p
    inner, terms, pos = inner[1:-1], [], 0
    while pos < len(inner):
        m = TERM.match(inner, pos)
        if not m or m.end() == pos:
            return p  # not an AND of comparisons: compared as it is
        path, v = m.group(1).strip(), m.group(2)
        if path.startswith(FOLD):
            v = v.lower()
        if path == "url:value" and re.match(r"'[a-z]+://[^/']+'$", v):
            v = v[:-1] + "/'"
        terms.append("%s = %s" % (path, v))
        pos = m.end()
    return "[" + " AND ".join(sorted(terms)) + "]"

objs = json.load(open(sys.argv[1]))["objects"]
DEFAULT = sys.argv[2] if len(sys.argv) > 2 else "amber"
byid = {o["id"]: o for o in objs}

def cluster(ref):
    return misp_stix.cluster(byid, ref)

NOW = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")

def special(v):
    try:
        n = ipaddress.ip_network(v, strict=False)
    except ValueError:
        return False
    return any((n.is_private, n.is_reserved, n.is_loopback, n.is_link_local, n.is_multicast,
                n.is_unspecified))

def exported(o):
    if o.get("revoked") or o.get("valid_until", "9999")[:19] <= NOW:
        return False
    vals = re.findall(r"'((?:[^'\\]|\\.)*)'", o["pattern"]) if o.get("pattern_type", "stix") == "stix" else []
    return not any(special(v) for v in vals)

out = set()
for o in objs:
    if o["type"] == "indicator" and exported(o):
        tlp = ",".join(sorted(TLP.get(m, m) for m in o.get("object_marking_refs", [])))
        out.add("indicator %s %s %s" % (o.get("pattern_type", "stix"), norm(o), tlp or DEFAULT))
    elif o["type"] == "relationship":
        for a, b in ((o["source_ref"], o["target_ref"]), (o["target_ref"], o["source_ref"])):
            i, c = byid.get(a), cluster(b)
            if i and c and i["type"] == "indicator" and exported(i):
                out.add("link %s %s" % (norm(i), c))
for line in sorted(out):
    print(line)
