"""What the stand-in TAXII 2.1 peers of the integration tests share (peer_coarse.py,
peer_faults.py): a request handler that answers TAXII JSON over HTTP/1.1 keep-alive, and an HTTPS
server on 127.0.0.1 that writes its port to a file once it listens.

Imported by those scripts from their own directory (Python puts a script's directory first on
its module path).
"""
import http.server
import os
import ssl

TAXII_TYPE = "application/taxii+json;version=2.1"


class TaxiiHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (one connection for a client's whole walk), no request log on stderr."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def head(self, code, length, headers=()):
        """The status line and headers of a TAXII answer of `length` bytes."""
        self.send_response(code)
        self.send_header("Content-Type", TAXII_TYPE)
        self.send_header("Content-Length", str(length))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def send(self, code, body, headers=()):
        data = body.encode()
        self.head(code, len(data), headers)
        self.wfile.write(data)


def serve(handler, cert, key, portfile):
    """Serves handler over HTTPS (cert, key) on a free port of 127.0.0.1, written to portfile
    (atomically: a test waiting for the file reads a whole number), until killed."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()
