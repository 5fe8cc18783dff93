#!/usr/bin/env python3
"""Prints the galaxy links of a STIX bundle (accord export) as sorted lines, for a round trip
through a MISP feed to compare:  "indicator VALUE CLUSTER" for each relationship between an
indicator and a cluster SDO, and "report CLUSTER" for each cluster SDO a report naming such an
indicator references, and "cluster SRC TYPE DST" for each relationship between two of those
clusters.  A cluster is its type and its mitre-attack external ids (its name when it
has none); an indicator its pattern's quoted values.  Only indicators holding a value listed in
the file VALUES (one per line: the values a misp-feed export writes) count.
usage: misp_links.py BUNDLE VALUES"""
import json, re, sys

import misp_stix

objs = json.load(open(sys.argv[1]))["objects"]
values = set(l.strip() for l in open(sys.argv[2]) if l.strip())
byid = {o["id"]: o for o in objs}

def cluster(ref):
    return misp_stix.cluster(byid, ref)

def ind_values(ref):
    o = byid.get(ref)
    if not o or o["type"] != "indicator":
        return []
    return [v for v in re.findall(r"'((?:[^'\\]|\\.)*)'", o["pattern"]) if v in values]

out, linked = set(), set()
for o in objs:
    if o["type"] == "relationship":
        for a, b in ((o["source_ref"], o["target_ref"]), (o["target_ref"], o["source_ref"])):
            c = cluster(b)
            for v in ind_values(a) if c else []:
                out.add("indicator %s %s" % (v, c))
                linked.add(c)
    elif o["type"] == "report":
        refs = o.get("object_refs", [])
        if any(ind_values(r) for r in refs):
            cs = [c for c in map(cluster, refs) if c]
            out.update("report %s" % c for c in cs)
            linked.update(cs)
# relationships between two clusters that the lines above name ("cluster SRC TYPE DST")
for o in objs:
    if o["type"] == "relationship":
        a, b = cluster(o["source_ref"]), cluster(o["target_ref"])
        if a in linked and b in linked:
            out.add("cluster %s %s %s" % (a, o["relationship_type"], b))
print("\n".join(sorted(out)))
