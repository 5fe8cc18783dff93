"""What the MISP round-trip checkers (misp_links.py, misp_patterns.py) share."""

CLUSTERS = ("attack-pattern", "intrusion-set", "threat-actor", "malware", "tool",
            "course-of-action", "x-misp-galaxy-cluster")


def cluster(byid, ref):
    """A cluster SDO as "TYPE:ATT&CK-IDS" (its name when it has none), None for another object."""
    o = byid.get(ref)
    if not o or o["type"] not in CLUSTERS:
        return None
    ext = sorted(r["external_id"] for r in o.get("external_references", [])
                 if r.get("source_name") == "mitre-attack" and "external_id" in r)
    return "%s:%s" % (o["type"], ",".join(ext) if ext else o.get("name"))
