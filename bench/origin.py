#!/usr/bin/env python3
"""Origin server for the HIT benchmark: answers every GET/HEAD with one small, cacheable object.

The object has an old Last-Modified and `Cache-Control: public, max-age=86400`, so Squid keeps
serving it from memory for the whole run (docs/design.md#fact-8: a recently modified object is fresh
only briefly). Binds 127.0.0.1 only; prints the port it listens on as its first stdout line;
stops on SIGTERM. Counts the requests it served on stderr at exit, so the benchmark can show
that the measured requests were cache hits.
"""

import argparse
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b"hello\n"  # 6 bytes, like the object of docs/design.md#fact-3
SERVED = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _head(self):
        global SERVED
        SERVED += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
        self.send_header("Cache-Control", "public, max-age=86400")
        self.end_headers()

    def do_GET(self):
        self._head()
        self.wfile.write(BODY)

    def do_HEAD(self):
        self._head()

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    print(f"origin: served {SERVED} requests", file=sys.stderr)


if __name__ == "__main__":
    main()
