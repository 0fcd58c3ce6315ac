"""fake_common.py - the shared part of the fake Telegram and Zalo servers
(tests/integration/fake_telegram.py, fake_zalo.py): a threaded
http.server on a loopback port that records every request as one JSON
line and takes orders on POST /_control (a JSON object merged into its
state).  Written for the tests; never a model of the real services beyond
the requests and answers the transports use."""
import json
import sys
import threading
import time
import http.server


class State:
    def __init__(self, record, **kw):
        self.lock = threading.Lock()
        self.record = record
        self.s = dict(kw)

    def log(self, entry):
        with self.lock, open(self.record, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def make_handler(state, route):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, fmt, *args):
            sys.stderr.write("fake: " + (fmt % args) + "\n")

        def reply(self, code, obj, headers=None):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            if self.path == "/_control":
                with state.lock:
                    state.s.update(json.loads(raw))
                return self.reply(200, {"ok": True})
            if self.path == "/_state":
                with state.lock:
                    return self.reply(200, state.s)
            with state.lock:
                if state.s.get("hang"):
                    hang = state.s["hang"]
                else:
                    hang = 0
            if hang:
                time.sleep(hang)
            code, obj, hdrs, entry = route(state, method, self.path, self.headers, raw)
            entry.update({"t": time.time(), "method": method, "path": self.path, "status": code})
            state.log(entry)
            self.reply(code, obj, hdrs)

        def do_POST(self):
            self.handle_any("POST")

        def do_GET(self):
            self.handle_any("GET")

    return H


def serve(port, state, route):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(state, route))
    srv.daemon_threads = True
    print("listening on", port, flush=True)
    srv.serve_forever()
