"""The runtime's loopback API from a plain (blocking) Python process: the Skiff kernel's link to it.

The kernel starts its own `skiff api` child rather than borrowing the Jupyter server's: a kernel
runs wherever kernels run (JupyterLab, Notebook, nbclient, papermill) and never holds the server's
credentials. The child watches its stdin and stops when the kernel goes, however the kernel goes.
"""

import http.client
import json
import select
import socket
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
        self._idle = []  # kept-alive connections to the API, free for the next request

    # ---- the child process ---------------------------------------------------------------------

    def _endpoint(self):
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            return self._url, self._token

    def _start(self):
        for conn in self._idle:  # kept alive to the API that went away
            conn.close()
        self._idle = []
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
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        if self._process and self._process.poll() is None:
            self._process.stdin.close()  # the API stops when its stdin closes
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()

    # ---- requests -------------------------------------------------------------------------------

    # A cell is a request: a new connection per request cost its accept and handshake on both sides,
    # about a millisecond of a few-millisecond cell. Connections are kept alive and reused, one per
    # request at a time (an interrupt is sent while the cell's stream is open on another).

    def _connection(self, url):
        """An idle kept-alive connection to the API, or a new one; whether it was reused."""
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if _still_open(conn):
                    return conn, True
                conn.close()
        parsed = urllib.parse.urlsplit(url)
        return _Connection(parsed.hostname, parsed.port), False

    def _release(self, conn, response):
        """Keeps the connection for the next request once its answer was read to the end."""
        if response.isclosed() and not response.will_close and conn.sock is not None:
            with self._lock:
                self._idle.append(conn)
        else:
            conn.close()

    def _open(self, method, path, body=None, stream=False, timeout=None):
        url, token = self._endpoint()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if stream:
            headers["Accept"] = "text/event-stream"
        payload = None if body is None else json.dumps(body).encode()
        while True:
            conn, reused = self._connection(url)
            conn.timeout = timeout
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                break
            except OSError as err:  # http.client's RemoteDisconnected is one
                conn.close()
                # The API (still running) closed a kept-alive connection as this request went out: it
                # never read the request, which goes again on a new connection.
                if reused and isinstance(err, (ConnectionResetError, BrokenPipeError)) and self._process.poll() is None:
                    continue
                raise RuntimeUnavailable(f"the Skiff runtime's API does not answer: {err}", "restart the kernel") from err
        if response.status >= 400:
            payload = response.read()
            self._release(conn, response)
            raise _problem(response.status, payload)
        return conn, response

    def call(self, method, path, body=None, timeout=600):
        """A JSON request; its decoded answer, or SkiffRuntimeError with the runtime's own words."""
        conn, response = self._open(method, path, body, timeout=timeout)
        try:
            return json.loads(response.read() or b"null")
        finally:
            self._release(conn, response)

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
                        response.read()  # the stream's last chunk, after which the connection serves the next request
                        return
                    if event == "error":
                        raise _error_of(data)
                    yield event, data
                    event, data = None, None
            # Every stream of the API ends with `end`: without it the runtime went away mid-stream.
            raise SkiffRuntimeError("UNREACHABLE", f"the Skiff runtime's stream {path.split('?')[0]} was cut before its end",
                                    "the runtime may have stopped; restart the kernel")
        finally:
            # A stream left before its end (an error event, a caller that stopped reading) is closed.
            self._release(conn, response)


class _Connection(http.client.HTTPConnection):
    """Without Nagle's algorithm: a request goes out as its headers, then its body, and the body
    would otherwise wait for the API's (delayed) ACK of the headers on a kept-alive connection."""

    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _still_open(conn):
    """False when the API has closed an idle connection (it reads as ready, at its end)."""
    if conn.sock is None:
        return False
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


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
