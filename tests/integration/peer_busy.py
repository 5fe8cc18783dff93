#!/usr/bin/env python3
"""A TAXII 2.1 peer whose POST status reports per-object failures, for test_peer_push_retry.sh.

Usage: peer_busy.py CERT KEY LOGFILE PORTFILE

Serves HTTPS on 127.0.0.1 (a free port, written to PORTFILE): GET of any API root answers with
a max_content_length; a POST of an envelope answers 202 with a complete status resource in
which each object's fate follows the last digit of its id:
  1   the first POST of it fails "database is locked (server busy), try again"; later ones succeed
  2   always fails "object refused: this collection takes no indicators of that kind" (permanent)
  4   always fails "server busy: try again later" (transient, never passing)
  else  succeeds
Each POSTed object appends "ID ATTEMPT" to LOGFILE.
"""
import json
import sys
import threading
import uuid

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
from peer_httpd import TaxiiHandler, serve  # noqa: E402 (after the line above)

CERT, KEY, LOGFILE, PORTFILE = sys.argv[1:5]
SEEN = {}
LOCK = threading.Lock()


class Handler(TaxiiHandler):
    def do_GET(self):
        self.send(200, json.dumps({"title": "busy peer", "versions": ["application/taxii+json;version=2.1"],
                                   "max_content_length": 10485760}))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        env = json.loads(self.rfile.read(n) or b"{}")
        ok, bad = [], []
        with LOCK, open(LOGFILE, "a") as log:
            for o in env.get("objects", []):
                oid, ver = o.get("id", "?"), o.get("modified", "")
                SEEN[oid] = SEEN.get(oid, 0) + 1
                log.write("%s %d\n" % (oid, SEEN[oid]))
                last = oid[-1]
                if last == "1" and SEEN[oid] == 1:
                    bad.append((oid, ver, "database is locked (server busy), try again"))
                elif last == "2":
                    bad.append((oid, ver, "object refused: this collection takes no indicators of that kind"))
                elif last == "4":
                    bad.append((oid, ver, "server busy: try again later"))
                else:
                    ok.append((oid, ver))
        status = {"id": str(uuid.uuid4()), "status": "complete",
                  "request_timestamp": "2026-03-01T10:00:00.000000Z",
                  "total_count": len(ok) + len(bad), "success_count": len(ok),
                  "successes": [{"id": i, "version": v} for i, v in ok],
                  "failure_count": len(bad),
                  "failures": [{"id": i, "version": v, "message": m} for i, v, m in bad],
                  "pending_count": 0}
        self.send(202, json.dumps(status))


serve(Handler, CERT, KEY, PORTFILE)
