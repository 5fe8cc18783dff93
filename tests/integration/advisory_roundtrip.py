#!/usr/bin/env python3
"""advisory_roundtrip.py MODE EXPORT FILE... - after `accord csaf|osv import FILE...` and
`accord export >EXPORT`: every vulnerability of every FILE is in the export with the fields the
import promises (CVE name, CWE, every product of the product status with its status, purl and CPE,
CVSS v3 vectors, TLP marking, release dates; OSV: packages with introduced and fixed versions).
Prints one line per mismatch and exits 1 when there is any."""
import json
import sys
from datetime import datetime, timezone

TLP = {"WHITE": "94868c89", "CLEAR": "94868c89", "GREEN": "bab4a63c", "AMBER": "55d920b0",
       "RED": "e828b379"}
STATUS = {"known_affected": "affected", "first_affected": "affected", "last_affected": "affected",
          "fixed": "fixed", "first_fixed": "fixed", "known_not_affected": "not_affected",
          "under_investigation": "under_investigation", "recommended": "recommended"}


def instant(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc).replace(
        microsecond=0)


def load_export(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    objs = doc["objects"] if isinstance(doc, dict) else doc
    by_ref = {}
    for o in objs:
        if o.get("type") != "vulnerability":
            continue
        for r in o.get("external_references", []):
            if "external_id" in r:
                by_ref.setdefault((r["source_name"], r["external_id"]), []).append(o)
    return by_ref


def products_of(tree):
    out = {}

    def walk(branches, vendor):
        for b in branches or []:
            v = b["name"] if b.get("category") == "vendor" else vendor
            if "product" in b:
                out[b["product"]["product_id"]] = b["product"]
            walk(b.get("branches"), v)
    walk(tree.get("branches"), None)
    for p in tree.get("full_product_names", []):
        out[p["product_id"]] = p
    for r in tree.get("relationships", []):
        out[r["full_product_name"]["product_id"]] = r["full_product_name"]
    return out


def check_csaf(path, by_ref, bad):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    doc = d["document"]
    key = (doc["publisher"]["name"], doc["tracking"]["id"])
    got = by_ref.get(key, [])
    vulns = d.get("vulnerabilities", [])
    if len(got) != len(vulns):
        bad(f"{path}: {len(vulns)} vulnerabilities, {len(got)} in the store")
        return
    prods = products_of(d.get("product_tree", {}))
    label = doc.get("distribution", {}).get("tlp", {}).get("label")
    for i, v in enumerate(vulns):
        name = v.get("cve") or v.get("title") or doc["tracking"]["id"]
        cands = [o for o in got if o["name"] == name]
        if not cands:
            bad(f"{path}: vulnerabilities[{i}]: no vulnerability named {name}")
            continue
        o = cands[0] if len(cands) == 1 else cands[min(i, len(cands) - 1)]
        if instant(o["modified"]) != instant(doc["tracking"]["current_release_date"]):
            bad(f"{path}: modified {o['modified']}")
        if label and not any(TLP[label] in m for m in o.get("object_marking_refs", [])):
            bad(f"{path}: marking {o.get('object_marking_refs')} for TLP {label}")
        if "cwe" in v and not any(r.get("source_name") == "cwe" and
                                  r.get("external_id") == v["cwe"]["id"]
                                  for r in o["external_references"]):
            bad(f"{path}: vulnerabilities[{i}]: CWE {v['cwe']['id']} lost")
        have = {(p["product_id"], p["status"]) for p in o.get("x_accord_products", [])}
        byid = {p["product_id"]: p for p in o.get("x_accord_products", [])}
        for k, ids in v.get("product_status", {}).items():
            for pid in ids:
                if (pid, STATUS[k]) not in have:
                    bad(f"{path}: vulnerabilities[{i}]: product {pid} {STATUS[k]} lost")
                helper = prods.get(pid, {}).get("product_identification_helper", {})
                for h in ("purl", "cpe"):
                    if h in helper and byid.get(pid, {}).get(h) != helper[h]:
                        bad(f"{path}: vulnerabilities[{i}]: {pid} {h} lost")
        vectors = {s["cvss_v3"]["vectorString"] for s in v.get("scores", []) if "cvss_v3" in s}
        kept = {c["vector"] for c in o.get("x_accord_cvss", [])}
        if vectors - kept:
            bad(f"{path}: vulnerabilities[{i}]: CVSS {sorted(vectors - kept)} lost")


def check_osv(path, by_ref, bad):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    got = by_ref.get(("osv", d["id"]), [])
    if len(got) != 1:
        bad(f"{path}: {len(got)} vulnerabilities for {d['id']}")
        return
    o = got[0]
    cves = [a for a in d.get("aliases", []) if a.startswith("CVE-")]
    if o["name"] != (cves[0] if cves else d["id"]):
        bad(f"{path}: name {o['name']}")
    prods = o.get("x_accord_products", [])
    for i, a in enumerate(d.get("affected", [])):
        events = [e for r in a.get("ranges", []) for e in r.get("events", [])]
        fixed = next((e["fixed"] for e in events if "fixed" in e), None)
        intro = next((e["introduced"] for e in events if "introduced" in e), None)
        p = prods[i] if i < len(prods) else {}
        if p.get("name") != a.get("package", {}).get("name") or p.get("fixed") != fixed or \
                p.get("introduced") != intro:
            bad(f"{path}: affected[{i}]: {p} for package {a.get('package')} fixed {fixed}")


def main():
    mode, export, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    by_ref = load_export(export)
    problems = []
    for f in files:
        (check_csaf if mode == "csaf" else check_osv)(f, by_ref, problems.append)
    for p in problems[:40]:
        print(p)
    print(f"{len(files)} document(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
