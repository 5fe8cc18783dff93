#!/usr/bin/env python3
"""A TAXII 2.1 peer that misbehaves on demand, for test_peer_faults.sh.

Usage: peer_faults.py CERT KEY MODEFILE PORTFILE

Serves HTTPS on 127.0.0.1 (a free port, written to PORTFILE).  Each request reads MODEFILE:
  ok            a page of one indicator with X-TAXII-Date-Added-First/Last
  429           Too Many Requests with Retry-After: 30
  503           Service Unavailable with Retry-After as an HTTP date 40 s ahead
  500           Internal Server Error with a TAXII error resource
  garbage       200 with a body that is not JSON
  more-no-next  200, "more": true without "next"
  no-headers    200 with an object but no X-TAXII-Date-Added headers
  empty-more    200, no objects, "more": true and a "next" (the same one every time)
  slow          the "ok" page, its body sent one byte per second

A request for collections/NAME/... reads MODEFILE.NAME instead when that file exists, so that
several peers can misbehave differently at once.  Each request appends "MODE SECONDS" (a
monotonic clock) to MODEFILE.log.
"""
import email.utils
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
from peer_httpd import TaxiiHandler, serve  # noqa: E402 (after the line above)

CERT, KEY, MODEFILE, PORTFILE = sys.argv[1:5]
OBJ = ('{"type":"indicator","spec_version":"2.1","id":"indicator--0000fa17-0000-4000-8000-000000000001",'
       '"created":"2026-01-10T09:10:00.000Z","modified":"2026-01-10T09:10:00.000Z","name":"fault test",'
       '"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = \'192.0.2.7\']",'
       '"pattern_type":"stix","valid_from":"2026-01-10T09:10:00Z"}')
ADDED = "2026-03-01T10:00:00.000000Z"


class Handler(TaxiiHandler):
    def trickle(self, body, headers):
        data = body.encode()
        self.head(200, len(data), headers)
        try:
            for b in data:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            self.close_connection = True  # the client gave up

    def do_GET(self):
        modefile = MODEFILE
        m = re.search(r"/collections/([A-Za-z0-9._-]+)/", self.path)
        if m and os.path.exists(MODEFILE + "." + m.group(1)):
            modefile = MODEFILE + "." + m.group(1)
        with open(modefile) as f:
            mode = f.read().strip()
        with open(MODEFILE + ".log", "a") as f:
            f.write("%s %.3f\n" % (mode, time.monotonic()))
        added = [("X-TAXII-Date-Added-First", ADDED), ("X-TAXII-Date-Added-Last", ADDED)]
        if mode == "slow":
            self.trickle('{"more":false,"objects":[%s]}' % OBJ, added)
        elif mode == "ok":
            self.send(200, '{"more":false,"objects":[%s]}' % OBJ, added)
        elif mode == "429":
            self.send(429, '{"title":"slow down"}', [("Retry-After", "30")])
        elif mode == "503":
            when = email.utils.formatdate(time.time() + 40, usegmt=True)
            self.send(503, '{"title":"maintenance"}', [("Retry-After", when)])
        elif mode == "500":
            self.send(500, '{"title":"Internal error","description":"database on fire"}')
        elif mode == "garbage":
            self.send(200, "<html>not taxii</html>", added)
        elif mode == "more-no-next":
            self.send(200, '{"more":true,"objects":[%s]}' % OBJ, added)
        elif mode == "empty-more":
            self.send(200, '{"more":true,"next":"again","objects":[]}')
        elif mode == "no-headers":
            self.send(200, '{"more":false,"objects":[%s]}' % OBJ)
        else:
            self.send(404, '{"title":"unknown mode"}')


serve(Handler, CERT, KEY, PORTFILE)
