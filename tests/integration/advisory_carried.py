#!/usr/bin/env python3
"""advisory_carried.py REPUB_DIR SOURCE... - after `accord csaf import SOURCE...` and
`accord csaf export --out REPUB_DIR ...`: each vulnerability re-published from a source document
carries the source's vulnerability notes (but the one that became its description), every
remediation naming a product with a status in the vulnerability, and every threat (naming such a
product, or none), with the same category and text, and their products mapped to the re-published
document's (by name).  Prints one line per loss and the counts; exits 1 on any loss or when
nothing was compared."""
import json
import os
import sys


def named(doc, o):
    ids = set(o.get("product_ids", []))
    for g in doc.get("product_tree", {}).get("product_groups", []):
        if g["group_id"] in o.get("group_ids", []):
            ids |= set(g["product_ids"])
    return ids


def main():
    repub_dir, sources = sys.argv[1], sys.argv[2:]
    repub = {}
    for f in sorted(os.listdir(repub_dir)):
        with open(os.path.join(repub_dir, f), encoding="utf-8") as fh:
            d = json.load(fh)
        v = d["vulnerabilities"][0]
        repub.setdefault((d["document"]["tracking"]["id"], v.get("cve") or v.get("title")),
                         []).append(d)
    lost, compared = [], {"notes": 0, "remediations": 0, "threats": 0}
    for src in sources:
        with open(src, encoding="utf-8") as fh:
            d = json.load(fh)
        tid = d["document"]["tracking"]["id"]
        for i, v in enumerate(d.get("vulnerabilities", [])):
            key = (tid, v.get("cve") or v.get("title") or tid)
            status = {p for ids in v.get("product_status", {}).values() for p in ids}
            want = []  # (list, category, text, product names or None)
            descr = next((n["text"] for n in v.get("notes", [])
                          if n["category"] in ("description", "summary")), None)
            for n in v.get("notes", []):
                if n["text"] and n["text"] != descr:
                    want.append(("notes", n["category"], n["text"], None))
            for lst in ("remediations", "threats"):
                for r in v.get(lst, []):
                    ids = named(d, r)
                    if (ids or lst == "remediations") and not ids & status:
                        continue
                    want.append((lst, r["category"], r["details"], ids & status))
            if not want:
                continue
            cands = repub.get(key, [])
            best = None
            for c in cands:
                cv = c["vulnerabilities"][0]
                miss = []
                for lst, cat, text, ids in want:
                    field = "text" if lst == "notes" else "details"
                    got = [x for x in cv.get(lst, []) if x["category"] == cat and x[field] == text]
                    if not got:
                        miss.append(f"{lst} {cat} {text[:60]!r}")
                    elif ids is not None and ids and not any(x.get("product_ids") for x in got):
                        miss.append(f"{lst} {cat} {text[:60]!r} without its products")
                if best is None or len(miss) < len(best):
                    best = miss
            if best is None:
                lost.append(f"{src}: vulnerabilities[{i}]: not re-published ({key})")
                continue
            for m in best:
                lost.append(f"{src}: vulnerabilities[{i}]: {m} lost")
            for lst, *_ in want:
                compared[lst] += 1
    for m in lost[:40]:
        print(m)
    print(f"{len(sources)} source(s): {compared['notes']} notes, {compared['remediations']} "
          f"remediations, {compared['threats']} threats compared, {len(lost)} lost")
    return 1 if lost or not sum(compared.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
