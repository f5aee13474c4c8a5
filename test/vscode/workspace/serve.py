# Served from the CodeLens in the end-to-end test: doubles the numbers it is sent.
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Double(BaseHTTPRequestHandler):
    def do_POST(self):
        numbers = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"doubled": [2 * n for n in numbers]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


print("listening", flush=True)
HTTPServer(("", int(os.environ["PORT"])), Double).serve_forever()
