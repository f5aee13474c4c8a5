"""One authenticated route that forwards to the runtime's API, streaming server-sent events."""

import json
import os

from jupyter_server.base.handlers import APIHandler
from tornado import httpclient, web

from .api_process import SkiffApiError

# What the runtime's API needs from a request, and what a response may carry back.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "Allow")


def with_code_root(body, root_dir):
    """A submit naming its notebook (relative to the server's root) as one naming the notebook's folder.

    The browser knows where a notebook sits only under the server's root; the runtime runs on this
    machine and needs the folder itself. A path that climbs out of the root is refused.
    """
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return body  # the runtime answers malformed JSON itself
    notebook = request.pop("notebookPath", None) if isinstance(request, dict) else None
    if not notebook:
        return body
    root = os.path.realpath(root_dir)
    folder = os.path.realpath(os.path.join(root, os.path.dirname(str(notebook).lstrip("/"))))
    if os.path.commonpath([root, folder]) != root:
        raise ValueError(f"notebook {notebook} is outside the server's folder {root}")
    request["codeRoot"] = folder
    return json.dumps(request).encode()


class _BrowserGone(Exception):
    """Raised in the streaming callback to stop reading from the runtime."""


class SkiffApiProxy(APIHandler):
    """`<base_url>/skiff/api/<path>` -> `<skiff api url>/api/<path>`, with the runtime's token added."""

    def initialize(self, skiff_api):
        self.skiff_api = skiff_api

    @web.authenticated
    async def get(self, path):
        await self._forward(path)

    @web.authenticated
    async def post(self, path):
        body = self.request.body
        if path == "jobs" or path.endswith("/outputs/copy"):
            try:
                body = with_code_root(body, self.contents_manager.root_dir)
            except ValueError as err:
                self._problem(400, "BAD_INPUT", str(err), "open the notebook from inside the Jupyter server's folder")
                return
        await self._forward(path, body)

    @web.authenticated
    async def delete(self, path):
        await self._forward(path)

    async def _forward(self, path, body=None):
        try:
            url, token = await self.skiff_api.endpoint()
        except SkiffApiError as err:
            self._problem(503, "RUNTIME_UNAVAILABLE", str(err), "see the Jupyter server's log")
            return
        headers = {name: self.request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in self.request.headers}
        headers["Authorization"] = f"Bearer {token}"
        query = f"?{self.request.query}" if self.request.query else ""
        streaming = "text/event-stream" in self.request.headers.get("Accept", "")
        request = httpclient.HTTPRequest(
            f"{url}/api/{path}{query}",
            method=self.request.method,
            headers=headers,
            body=(body if body is not None else self.request.body) if self.request.method == "POST" else None,
            allow_nonstandard_methods=True,
            request_timeout=0 if streaming else 600,
            header_callback=self._on_header if streaming else None,
            streaming_callback=self._on_chunk if streaming else None,
        )
        self._status_sent = False
        self._held = []  # a stream that failed before it started: its JSON error, passed on whole
        # A client of its own: the shared one queues everything past 10 open requests, and every
        # open event stream (job list, logs, metrics, a followed cell) holds one.
        client = httpclient.AsyncHTTPClient(force_instance=True)
        try:
            response = await client.fetch(request, raise_error=False)
        except _BrowserGone:
            return
        except (OSError, httpclient.HTTPClientError) as err:
            if not self._status_sent:
                self._problem(502, "UNREACHABLE", f"the Skiff runtime's API does not answer: {err}", "restart the Jupyter server")
            return
        finally:
            client.close()
        if streaming and self._status_sent:
            self.finish(set_content_type="text/event-stream; charset=utf-8")
            return
        self._copy(response)

    def _copy(self, response):
        self.set_status(response.code)
        for name in FORWARDED_RESPONSE_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        # APIHandler.finish would call every answer JSON; keep the runtime's own type.
        content_type = response.headers.get("Content-Type", "application/json")
        self.finish(b"".join(self._held) or response.body or b"", set_content_type=content_type)

    def _on_header(self, line):
        # The status line of a stream that answered 200: pass the stream's headers on at once.
        if line.startswith("HTTP/") and " 200 " in line:
            self.set_status(200)
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("Cache-Control", "no-cache")
            self.set_header("X-Accel-Buffering", "no")
            self._status_sent = True

    def on_connection_close(self):
        # The browser went away: the next chunk (at the latest the runtime's 15 s keepalive) ends
        # the upstream stream too, so no stream outlives its reader.
        self._browser_gone = True

    def _on_chunk(self, chunk):
        if getattr(self, "_browser_gone", False):
            raise _BrowserGone()
        if not self._status_sent:
            self._held.append(chunk)
            return
        self.write(chunk)
        self.flush()

    def _problem(self, status, code, message, hint):
        self.set_status(status)
        self.finish(json.dumps({"error": {"code": code, "message": message, "hint": hint}}))
