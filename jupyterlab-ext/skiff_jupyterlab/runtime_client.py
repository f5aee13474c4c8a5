"""The runtime's loopback API from a plain (blocking) Python process: the Skiff kernel's link to it.

The kernel starts its own `skiff api` child rather than borrowing the Jupyter server's: a kernel
runs wherever kernels run (JupyterLab, Notebook, nbclient, papermill) and never holds the server's
credentials. The child watches its stdin and stops when the kernel goes, however the kernel goes.
"""

import http.client
import json
import subprocess
import threading
import urllib.parse

from .command import skiff_command


class SkiffRuntimeError(Exception):
    """The runtime answered with an error: its code, message and hint, as the API sends them."""

    def __init__(self, code, message, hint=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __str__(self):
        return f"{self.message}\nhint: {self.hint}" if self.hint else self.message


class RuntimeUnavailable(SkiffRuntimeError):
    """The runtime could not be started or reached."""

    def __init__(self, message, hint="install Skiff's runtime (Node.js 20 and `skiff` on PATH), or set SKIFF_COMMAND"):
        super().__init__("RUNTIME_UNAVAILABLE", message, hint)


class RuntimeClient:
    """Starts `skiff api` on first use and talks to it: JSON calls and server-sent event streams."""

    def __init__(self, log=None, command=None, start_timeout=60):
        self._log = log
        self._command = command
        self._start_timeout = start_timeout
        self._process = None
        self._url = None
        self._token = None
        self._lock = threading.Lock()

    # ---- the child process ---------------------------------------------------------------------

    def _endpoint(self):
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            return self._url, self._token

    def _start(self):
        command = [*(self._command or skiff_command()), "api", "--stop-with-stdin"]
        try:
            # Its own session: the interrupt Jupyter sends the kernel's process group is not for it.
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
        except FileNotFoundError as err:
            raise RuntimeUnavailable(f"cannot start the Skiff runtime: {command[0]} not found") from err
        line = _readline_within(self._process.stdout, self._start_timeout)
        try:
            info = json.loads(line)
            self._url, self._token = info["url"], info["token"]
        except (ValueError, KeyError, TypeError):
            self._process.kill()
            stderr = self._process.stderr.read().decode(errors="replace").strip()
            raise RuntimeUnavailable(f"the Skiff runtime did not start its API: {stderr or line or 'no answer'}") from None
        # Nobody reads the pipes from now on: drain them, or a chatty runtime blocks on a full pipe.
        for stream in (self._process.stdout, self._process.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()

    def _drain(self, stream):
        for raw in iter(stream.readline, b""):
            if self._log:
                self._log.info("skiff api: %s", raw.decode(errors="replace").rstrip())

    def close(self):
        if self._process and self._process.poll() is None:
            self._process.stdin.close()  # the API stops when its stdin closes
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()

    # ---- requests -------------------------------------------------------------------------------

    def _open(self, method, path, body=None, stream=False, timeout=None):
        url, token = self._endpoint()
        parsed = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if stream:
            headers["Accept"] = "text/event-stream"
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = conn.getresponse()
        except OSError as err:
            conn.close()
            raise RuntimeUnavailable(f"the Skiff runtime's API does not answer: {err}", "restart the kernel") from err
        if response.status >= 400:
            payload = response.read()
            conn.close()
            raise _problem(response.status, payload)
        return conn, response

    def call(self, method, path, body=None, timeout=600):
        """A JSON request; its decoded answer, or SkiffRuntimeError with the runtime's own words."""
        conn, response = self._open(method, path, body, timeout=timeout)
        try:
            return json.loads(response.read() or b"null")
        finally:
            conn.close()

    def events(self, method, path, body=None):
        """(event, data) pairs of a server-sent event stream, as they arrive; an `error` event raises."""
        conn, response = self._open(method, path, body, stream=True)
        try:
            event, data = None, None
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: "):
                    data = json.loads(line[len("data: "):])
                elif line == "" and event is not None:
                    if event == "end":
                        return
                    if event == "error":
                        raise _error_of(data)
                    yield event, data
                    event, data = None, None
            # Every stream of the API ends with `end`: without it the runtime went away mid-stream.
            raise SkiffRuntimeError("UNREACHABLE", f"the Skiff runtime's stream {path.split('?')[0]} was cut before its end",
                                    "the runtime may have stopped; restart the kernel")
        finally:
            conn.close()


def _problem(status, payload):
    try:
        return _error_of(json.loads(payload))
    except ValueError:
        return SkiffRuntimeError("INTERNAL", f"the Skiff runtime answered {status}: {payload[:200]!r}")


def _error_of(body):
    error = (body or {}).get("error") or {}
    return SkiffRuntimeError(error.get("code", "INTERNAL"), error.get("message", "unknown error"), error.get("hint"))


def _readline_within(stream, seconds):
    """The first line a child prints, or b'' if it prints none within `seconds` (or exits first)."""
    lines = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return lines[0] if lines else b""
