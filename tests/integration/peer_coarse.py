#!/usr/bin/env python3
"""A foreign TAXII 2.1 server with coarse date_added (whole seconds), for test_peer_coarse.sh.

Usage: peer_coarse.py CERT KEY OBJFILE PORTFILE

Serves HTTPS on 127.0.0.1 (a free port, written to PORTFILE).  OBJFILE holds one object a line,
"DATE_ADDED<TAB>JSON", re-read on every request, so the test can add objects while the server
runs; many lines share one DATE_ADDED, the way a server with second-precision timestamps (or one
that stamps a whole POST with one instant) serves them.

GET .../collections/NAME/objects/ honours added_after (strictly after), limit and next (an offset
into the objects after added_after, in date_added order then file order), answers
X-TAXII-Date-Added-First/Last, "more" and "next" like a TAXII 2.1 server.  A collection named
capN serves at most N objects a page whatever limit asks (a server's own maximum page size).

When OBJFILE.fail exists and holds a number K, the K-th request from then on is answered 500 and
the file is removed (one simulated crash of the walk).  Each request appends
"limit=L added_after=A next=X count=C first=F last=L more=M conn=P" (P: the client's port, one
per connection) or "fail" to OBJFILE.log.
"""
import datetime
import json
import os
import re
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
from peer_httpd import TaxiiHandler, serve  # noqa: E402 (after the line above)

CERT, KEY, OBJFILE, PORTFILE = sys.argv[1:5]
COUNTER = {"n": 0}


def parse_ts(s):
    """An RFC 3339 UTC timestamp (any fraction digits) as a datetime, microsecond precision."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    if not m:
        raise ValueError(s)
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    frac = (m.group(2) or "")[:6].ljust(6, "0")
    return base + datetime.timedelta(microseconds=int(frac))


def load():
    rows = []
    with open(OBJFILE) as f:
        for i, line in enumerate(f):
            line = line.rstrip("\n")
            if not line:
                continue
            added, obj = line.split("\t", 1)
            rows.append((parse_ts(added), i, added, obj))
    rows.sort()
    return rows


class Handler(TaxiiHandler):
    def log(self, text):
        with open(OBJFILE + ".log", "a") as f:
            f.write(text + "\n")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        m = re.search(r"/collections/([A-Za-z0-9._-]+)/objects/$", url.path)
        if not m:
            self.send(404, '{"title":"not found"}')
            return
        failfile = OBJFILE + ".fail"
        if os.path.exists(failfile):
            with open(failfile) as f:
                k = int(f.read().strip() or "1")
            COUNTER["n"] += 1
            if COUNTER["n"] >= k:
                os.remove(failfile)
                COUNTER["n"] = 0
                self.log("fail")
                self.send(500, '{"title":"Internal error","description":"simulated crash"}')
                return
        cap = re.fullmatch(r"cap(\d+)", m.group(1))
        limit = int(q.get("limit", ["100"])[0])
        if cap:
            limit = min(limit, int(cap.group(1)))
        rows = load()
        after = q.get("added_after", [None])[0]
        if after:
            a = parse_ts(after)
            rows = [r for r in rows if r[0] > a]
        start = int(q.get("next", ["0"])[0])
        page = rows[start:start + limit]
        more = start + len(page) < len(rows)
        env = {"more": more, "objects": [json.loads(r[3]) for r in page]}
        if more:
            env["next"] = str(start + len(page))
        headers = []
        if page:
            headers = [("X-TAXII-Date-Added-First", page[0][2]),
                       ("X-TAXII-Date-Added-Last", page[-1][2])]
        self.log("limit=%d added_after=%s next=%d count=%d first=%s last=%s more=%s conn=%d" % (
            limit, after or "-", start, len(page), page[0][2] if page else "-",
            page[-1][2] if page else "-", more, self.client_address[1]))
        self.send(200, json.dumps(env, separators=(",", ":")), headers)


serve(Handler, CERT, KEY, PORTFILE)
