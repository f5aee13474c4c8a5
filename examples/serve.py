"""A tiny model server: POST a JSON list of numbers, get back 3x + 2 for each."""
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._reply(200, {"status": "ok", "model": "linear-3x+2"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)) or 0)
        try:
            xs = json.loads(body or b"[]")
            self._reply(200, {"predictions": [3 * float(x) + 2 for x in xs]})
        except (ValueError, TypeError) as err:
            self._reply(400, {"error": f"send a JSON list of numbers: {err}"})

    def _reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


port = int(os.environ.get("PORT", "8000"))
print(f"serving on :{port}", flush=True)
ThreadingHTTPServer(("", port), Handler).serve_forever()
