#!/usr/bin/python3
"""A webhook receiver for the integration tests: records the body of every
POST it answers 2xx to, one per line, in --out; --fail-first N answers the
first N requests 500 (each counted in --out.requests).  Writes its port to
--port-file once listening (port 0 = any free one)."""
import argparse
import http.server
import os
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--port-file", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--fail-first", type=int, default=0)
args = ap.parse_args()
lock = threading.Lock()
seen = {"n": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            seen["n"] += 1
            n = seen["n"]
            with open(args.out + ".requests", "a") as f:
                f.write("%d %s\n" % (n, self.headers.get("Content-Type", "")))
            ok = n > args.fail_first
            if ok:
                with open(args.out, "ab") as f:
                    f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200 if ok else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
tmp = args.port_file + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(tmp, args.port_file)
srv.serve_forever()
