#!/usr/bin/env python3
"""misp_terms.py EVENTS.json CONVERTED.jsonl - each to_ids attribute of the MISP events is
exactly one term of one indicator's pattern in what `accord misp convert` wrote.

A standalone attribute is indicator--ATTRIBUTE-UUID whose terms are its value's parts (one term
per part of a composite value such as ip-dst|port), never an x-misp-attribute custom object.
An object's attribute is one term of indicator--OBJECT-UUID (the terms are shared out among the
object's attributes, one each), or its own indicator, not both.  Prints the counts (the line
"to_ids N, exactly one indicator term M") and the first differences; exits 1 when N != M.
"""
import json
import re
import sys

TERM = re.compile(r"[a-z0-9-]+:[^\s=]+ = ('(?:[^'\\]|\\.)*'|\d+)")


def events(r):
    if isinstance(r, dict) and "Event" in r:
        return [r["Event"]]
    if isinstance(r, dict) and "response" in r:
        return sum((events(x) for x in r["response"]), [])
    if isinstance(r, list):
        return sum((events(x) for x in r), [])
    return [r]


def true(v):
    return v in (True, 1, "1", "true", "True")


def norm(v):
    v = v.strip().lower()
    if re.fullmatch(r"as\d+", v):
        v = v[2:]
    if re.fullmatch(r"\d+", v):
        v = str(int(v))
    return v


def lits(ind):
    """The literal of every comparison of the indicator's pattern (the rule for snort & co.)."""
    if ind.get("pattern_type", "stix") != "stix":
        return [norm(ind["pattern"])]
    r = []
    for m in TERM.finditer(ind["pattern"]):
        t = m.group(1)
        r.append(norm(re.sub(r"\\(.)", r"\1", t[1:-1]) if t.startswith("'") else t))
    return r


def parts(a):
    v = a["value"]
    if "|" in a["type"] or a["type"] == "malware-sample":
        return [norm(p) for p in v.split("|", 1) if p != ""]
    return [norm(v)]


def main():
    src, out = sys.argv[1], sys.argv[2]
    objs = {}
    for line in open(out):
        o = json.loads(line)
        objs[o["id"]] = o

    def alone(a):
        """'' when the attribute's own indicator holds exactly its parts, None when it has no
        own object, else what is wrong"""
        u = a["uuid"].lower()
        if "x-misp-attribute--" + u in objs:
            return "an x-misp-attribute, not an indicator"
        i = objs.get("indicator--" + u)
        if not i:
            return None
        got, want = sorted(lits(i)), sorted(parts(a))
        return "" if got == want else "terms %s for the value's parts %s" % (got, want)

    n = found = 0
    bad = []
    for e in events(json.load(open(src))):
        if "uuid" not in e:
            continue
        for a in e.get("Attribute", []):
            if not true(a.get("to_ids")) or "uuid" not in a:
                continue
            n += 1
            why = alone(a)
            if why == "":
                found += 1
            else:
                bad.append((a["uuid"], a["type"], why or "no indicator"))
        for o in e.get("Object", []):
            ind = objs.get("indicator--" + o.get("uuid", "").lower())
            pool = lits(ind) if ind else []
            for a in o.get("Attribute", []):
                if "uuid" not in a:
                    continue
                own = alone(a)
                took = own is None and all(p in pool for p in parts(a))
                for p in parts(a) if took else []:
                    pool.remove(p)
                if not true(a.get("to_ids")):
                    continue
                n += 1
                if (own == "" and not took) or (own is None and took):
                    found += 1
                else:
                    bad.append((a["uuid"], o.get("name"), a.get("object_relation"),
                                own or "no term of the object's indicator"))
    for b in bad[:5]:
        print("not exactly one indicator term:", *b)
    print("to_ids %d, exactly one indicator term %d" % (n, found))
    return 0 if n == found else 1


if __name__ == "__main__":
    sys.exit(main())
