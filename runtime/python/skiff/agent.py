"""``python3 -m skiff.agent``: one rank of a notebook session.

Each rank of a session is a long-lived pod running this agent. The runtime sends every cell to
every rank over HTTP (through the API server's pod proxy), and each rank runs it in one namespace
that lives as long as the pod, so a variable from cell 1 is there in cell 3 and a
``dist.init_process_group`` call in cell 1 keeps its group up for the cells after it.

Protocol (HTTP/1.1, JSON):
- ``GET /health``: ``{"rank", "world", "busy", "count"}``, answered while a cell runs too.
- ``POST /execute`` with ``{"code": "...", "id": "...", "from": 0, "paths": [...]}`` (``paths``: package
  folders installed since the session started, put on sys.path before the code runs): a chunked
  ``application/x-ndjson`` stream of events, one JSON object per line, ending with
  ``{"type": "done", "status": "ok"|"error"|"interrupted"}``: ``stream`` (``name``: stdout/stderr,
  ``text``), ``display`` and ``result`` (``data``: a MIME bundle), ``error`` (``ename``, ``evalue``,
  ``traceback``). Each line carries ``next``: how many of the cell's events it and the lines before
  it hold. One cell at a time: 409 while busy.
  A request with the ``id`` of the running (or last) cell does not run it again: it replays that
  cell's events from ``from`` and follows it. So a stream cut on its way (a proxy's connection
  closing) is resumed by asking again, with nothing run twice and nothing lost; 410 when the events
  asked for are no longer kept (the rank restarted, or the cell's output outgrew the replay window).
- ``POST /interrupt``: KeyboardInterrupt in the running cell (a real SIGINT, so sleeps and most
  blocking calls wake up); ``{"interrupted": false}`` when nothing runs.

Cells run on the main thread (signals reach only it); the HTTP server answers from threads.
Standard library only, like the rest of the helper.
"""

import argparse
import ast
import base64
import builtins
import importlib
import io
import json
import linecache
import os
import queue
import signal
import site
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import cell_display, exporter, launch

AGENT_PORT = 47077
# Rich representations IPython would ask an object for, in the order a front end prefers them.
_REPR_METHODS = (
    ("text/html", "_repr_html_"),
    ("text/markdown", "_repr_markdown_"),
    ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"),
    ("image/jpeg", "_repr_jpeg_"),
    ("text/latex", "_repr_latex_"),
    ("application/json", "_repr_json_"),
)
_HERE = os.path.abspath(__file__)


def mime_bundle(obj):
    """The object's MIME bundle the way Jupyter builds one: its _repr_*_ methods, then repr()."""
    data = {}
    if not isinstance(obj, type):
        custom = getattr(obj, "_repr_mimebundle_", None)
        if callable(custom):
            try:
                given = custom()
                data.update(given[0] if isinstance(given, tuple) else given or {})
            except Exception:  # noqa: BLE001 - a broken repr must not fail the cell
                pass
        for mime, name in _REPR_METHODS:
            method = getattr(obj, name, None)
            if mime in data or not callable(method):
                continue
            try:
                value = method()
            except Exception:  # noqa: BLE001
                continue
            if value is None:
                continue
            if isinstance(value, tuple):
                value = value[0]
            data[mime] = base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
    try:
        data.setdefault("text/plain", repr(obj))
    except Exception as exc:  # noqa: BLE001
        data.setdefault("text/plain", f"<repr failed: {exc!r}>")
    return data


class _CellStream(io.TextIOBase):
    """sys.stdout/sys.stderr while the agent runs: the pod log keeps every line, the cell gets them too.

    Line-buffered like a terminal: print() writes its pieces one by one, and a cell's output reads
    better (and other ranks' tags land right) when it travels in whole lines. A progress bar's
    '\r' frames count as lines; flush() and the cell's end send what is left.
    """

    def __init__(self, name, real, agent):
        self.name = name
        self._real = real
        self._agent = agent
        self._pending = ""

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._real.fileno()

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._real.write(text)
        self._real.flush()
        self._pending += text
        end = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if end >= 0:
            self._send(self._pending[: end + 1])
            self._pending = self._pending[end + 1:]
        return len(text)

    def flush(self):
        self._real.flush()
        self._send(self._pending)
        self._pending = ""

    def _send(self, text):
        if text:
            self._agent.emit({"type": "stream", "name": self.name, "text": text})
            if self._agent.on_line:
                for line in text.splitlines():
                    self._agent.on_line(line.encode())


class _Cell:
    """One cell's events, kept until the next cell so that a cut stream can be resumed."""

    # Output kept for replay; a cell printing more than this drops its oldest events.
    KEEP_BYTES = 8 * 1024 * 1024

    def __init__(self, code, cell_id=None, paths=()):
        self.code = code
        self.paths = list(paths)  # package sets to put on sys.path before the code runs
        self.id = cell_id
        self._events = []
        self._first = 0  # index of self._events[0] among all the cell's events
        self._kept_bytes = 0
        self.done = False
        self._changed = threading.Condition()

    def put(self, event):
        with self._changed:
            self._events.append(event)
            self._kept_bytes += len(event.get("text", "")) + 64
            while self._kept_bytes > self.KEEP_BYTES and len(self._events) > 1:
                dropped = self._events.pop(0)
                self._first += 1
                self._kept_bytes -= len(dropped.get("text", "")) + 64
            self.done = self.done or event["type"] == "done"
            self._changed.notify_all()

    def kept_from(self, index):
        with self._changed:
            return index >= self._first

    def after(self, index, timeout=None):
        """The events from `index` on (waiting for at least one, or `timeout` seconds for none), and
        the index after them; None once dropped."""
        with self._changed:
            if not self._changed.wait_for(lambda: index < self._first + len(self._events), timeout):
                return [], index
            if index < self._first:
                return None, index
            events = self._events[index - self._first:]
            return events, index + len(events)


def add_package_paths(paths):
    """Package sets installed while the session runs (a `%pip install` cell), ahead of the ones its
    ranks started with but after the notebook's own folder, so its modules still come first. As
    site does for the folders it starts with, their .pth files count (namespace packages, editables)."""
    for folder in reversed(paths):
        if folder in sys.path:
            continue
        before = list(sys.path)
        site.addsitedir(folder)
        added = [p for p in sys.path if p not in before]
        for p in added:
            sys.path.remove(p)
        sys.path[1:1] = added
        # Processes the cell starts (a `python -m` in a subprocess) see them too.
        os.environ["PYTHONPATH"] = os.pathsep.join([folder, *filter(None, [os.environ.get("PYTHONPATH")])])
    if paths:
        importlib.invalidate_caches()


def _coalesced(events, first):
    """Consecutive text of one stream in one line: a progress bar's thousand writes, one line on the wire.

    `first` is the index of events[0] in the cell; each line's ``next`` is the index after the last
    event it holds, which is where a resumed stream starts.
    """
    merged = []
    for index, event in enumerate(events, first):
        last = merged[-1] if merged else None
        if last and event["type"] == "stream" and last["type"] == "stream" and last["name"] == event["name"]:
            last["text"] += event["text"]
        else:
            last = dict(event)
            merged.append(last)
        last["next"] = index + 1
    return merged


class Agent:
    """One rank's interpreter state and the cell it runs now."""

    def __init__(self, rank=0, world=1, idle_seconds=0, clock=time.monotonic):
        self.rank = rank
        self.world = world
        self.idle_seconds = idle_seconds
        self.count = 0
        self.namespace = {"__name__": "__main__", "__builtins__": builtins, "display": self.display}
        self._clock = clock
        self._last_active = clock()
        self._cells = queue.Queue()
        self._lock = threading.Lock()
        self._current = None
        self._last = None
        self._in_user_code = False
        #: Takes each whole line the cells print (the Prometheus add-on's exporter reads skiff.log's records).
        self.on_line = None

    # -- called from HTTP threads -------------------------------------------------------------

    @property
    def busy(self):
        return self._current is not None

    def submit(self, code, cell_id=None, paths=()):
        """The cell, new or (same id) the one already running or last run; None while another runs."""
        with self._lock:
            if cell_id is not None and self._last is not None and self._last.id == cell_id:
                return self._last
            if self._current is not None:
                return None
            cell = _Cell(code, cell_id, paths)
            self._current = cell
            self._last = cell
        self._cells.put(cell)
        return cell

    def known(self, cell_id):
        with self._lock:
            return self._last is not None and self._last.id == cell_id

    def interrupt(self):
        with self._lock:
            if self._current is None:
                return False
        os.kill(os.getpid(), signal.SIGINT)
        return True

    # -- the main thread --------------------------------------------------------------------

    def emit(self, event):
        cell = self._current
        if cell is not None:
            cell.put(event)

    def display(self, *objs):
        """``display(obj)`` in a cell, as in Jupyter: the object's richest form in the cell's output."""
        for obj in objs:
            self.emit({"type": "display", "data": mime_bundle(obj)})

    def display_bundle(self, data):
        self.emit({"type": "display", "data": data})

    def show_figures(self):
        """The figures a cell left open, into its output (matplotlib's inline backend, when in use)."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None or "skiff.inline_figures" not in str(pyplot.get_backend()):
            return
        try:
            from . import inline_figures

            inline_figures.show()
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is the cell's error, not the agent's
            self._report(exc)

    def _on_sigint(self, signum, frame):
        # Between cells there is nothing to interrupt; a late signal must not kill the agent.
        if self._in_user_code:
            raise KeyboardInterrupt

    def serve_forever(self):
        """Runs cells as they arrive; returns when the session has been idle for idle_seconds."""
        signal.signal(signal.SIGINT, self._on_sigint)
        while True:
            try:
                cell = self._cells.get(timeout=1.0)
            except queue.Empty:
                if self.idle_seconds and self._clock() - self._last_active > self.idle_seconds:
                    return
                continue
            try:
                self.run(cell)
            finally:
                self._last_active = self._clock()

    def run(self, cell):
        """Runs one cell and ends its stream with a done event, whatever happens in it."""
        status = "ok"
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = _CellStream("stdout", real_out, self)
        sys.stderr = _CellStream("stderr", real_err, self)
        try:
            add_package_paths(cell.paths)
            status = self._execute(cell.code)
            self.show_figures()
        except KeyboardInterrupt:
            # The signal landed after the cell's own code, while it was being wrapped up.
            status = "interrupted"
        finally:
            self._in_user_code = False
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = real_out, real_err
            with self._lock:
                self._current = None
            cell.put({"type": "done", "status": status, "count": self.count})

    def _execute(self, code):
        self.count += 1
        filename = f"<cell {self.count}>"
        # Tracebacks show the cell's lines, as they do in a Jupyter kernel.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            tree = ast.parse(code, filename)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            body = compile(tree, filename, "exec")
            last_code = compile(last, filename, "eval") if last is not None else None
        except SyntaxError as exc:
            self._report(exc)
            return "error"
        try:
            self._in_user_code = True
            exec(body, self.namespace)  # noqa: S102 - running the user's cell is the point
            value = eval(last_code, self.namespace) if last_code is not None else None  # noqa: S307
            self._in_user_code = False
        except KeyboardInterrupt as exc:
            self._in_user_code = False
            self._report(exc)
            return "interrupted"
        except SystemExit as exc:
            self._in_user_code = False
            self.emit({"type": "error", "ename": "SystemExit", "evalue": str(exc.code),
                       "traceback": f"SystemExit: {exc.code} (the session keeps running)\n"})
            return "error"
        except BaseException as exc:  # noqa: BLE001 - the cell's failure is reported, the rank lives on
            self._in_user_code = False
            self._report(exc)
            return "error"
        if value is not None:
            self.namespace["_"] = value
            self.emit({"type": "result", "data": mime_bundle(value), "count": self.count})
        return "ok"

    def _report(self, exc):
        # The agent's own frames (the exec call, the SIGINT handler) are not the user's code.
        report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        report.stack = traceback.StackSummary.from_list([f for f in report.stack if os.path.abspath(f.filename) != _HERE])
        text = "".join(report.format())
        self.emit({"type": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": text})


# A cell stream's status line and headers (written with its first events: see do_POST).
_STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n"
HEADERS_WAIT_SECONDS = 0.05


def _handler_for(agent):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # An answer goes out as its headers, then its body or its events: with Nagle's algorithm the
        # second write waits for the peer's (delayed) ACK of the first, up to 40 ms on a kept-alive
        # connection, far longer than a cell takes.
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # the pod log is the user's output, not an access log
            pass

        def _json(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return None
            return body if isinstance(body, dict) else None

        def do_GET(self):
            if self.path == "/health":
                return self._json(200, {"rank": agent.rank, "world": agent.world, "busy": agent.busy, "count": agent.count})
            self._json(404, {"error": f"no such path: {self.path}"})

        def do_POST(self):
            if self.path == "/interrupt":
                self._body()
                return self._json(200, {"interrupted": agent.interrupt()})
            if self.path != "/execute":
                return self._json(404, {"error": f"no such path: {self.path}"})
            body = self._body()
            if body is None or not isinstance(body.get("code"), str):
                return self._json(400, {"error": 'expected a JSON body {"code": "...", "id": "...", "from": 0}'})
            cell_id = body.get("id") if isinstance(body.get("id"), str) else None
            start = body.get("from", 0)
            if not isinstance(start, int) or start < 0:
                return self._json(400, {"error": '"from" must be a whole number of events'})
            if start > 0 and not agent.known(cell_id):
                return self._json(410, {"error": f"rank {agent.rank} no longer has that cell's output (did it restart?)"})
            paths = body.get("paths", [])
            if not isinstance(paths, list) or not all(isinstance(p, str) and os.path.isabs(p) for p in paths):
                return self._json(400, {"error": '"paths" must be a list of absolute folders'})
            cell = agent.submit(body["code"], cell_id, paths)
            if cell is None:
                return self._json(409, {"error": f"rank {agent.rank} is still running cell {agent.count}"})
            if not cell.kept_from(start):
                return self._json(410, {"error": f"rank {agent.rank} kept only the last {_Cell.KEEP_BYTES // 2**20} MiB of that cell's output"})
            # The headers go with the cell's first events (a trivial cell's output is there within
            # milliseconds: one trip through the API server's proxy instead of two), or alone once
            # the cell has been quiet for HEADERS_WAIT_SECONDS.
            head = _STREAM_HEAD
            index = start
            while True:
                first = index
                events, index = cell.after(index, HEADERS_WAIT_SECONDS if head else None)
                chunk = b""
                if events:
                    lines = _coalesced(events, first)
                    data = "".join(json.dumps(e) + "\n" for e in lines).encode()
                    chunk = b"%x\r\n%s\r\n" % (len(data), data)
                done = bool(events) and events[-1]["type"] == "done"
                try:
                    # The last events and the stream's end in one write too. Written apart (headers,
                    # events, end), the API server's proxy cut about one cell stream in twelve (its log:
                    # "ReverseProxy read error during body copy"), closing the runtime's kept-alive
                    # connection with it, so a later cell paid a new TLS handshake; together, none in 600.
                    self.wfile.write(head + chunk + (b"0\r\n\r\n" if done else b""))
                    self.wfile.flush()
                except OSError:
                    return  # the caller went away: the cell still runs to its end, a new request resumes it
                head = b""
                if events is None:
                    return  # dropped from the replay window while this caller was slow: the cut tells it
                if done:
                    return

    return Handler


def _env_int(env, name, default):
    try:
        return int(env.get(name, default))
    except ValueError:
        return default


def main(argv=None, env=None):
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(prog="python3 -m skiff.agent")
    parser.add_argument("--port", type=int, default=AGENT_PORT)
    parser.add_argument("--idle-minutes", type=float, default=0, help="exit after this long without a cell (0: never)")
    args = parser.parse_args(argv)
    # The agent is the container's PID 1, which the kernel spares from SIGTERM's default action:
    # without a handler a shutdown or restart would wait out the pod's whole grace period.
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signum))
    agent = Agent(rank=_env_int(env, "RANK", 0), world=_env_int(env, "WORLD_SIZE", 1), idle_seconds=args.idle_minutes * 60)
    if launch._should_wait(env) and not launch.wait_for_master(env["MASTER_ADDR"]):
        print(f"skiff: rank 0 ({env['MASTER_ADDR']}) did not appear in DNS within {launch.WAIT_SECONDS} s", file=sys.stderr, flush=True)
        return 1
    # Cells import sibling modules of the notebook, as `python3 notebook_folder/x.py` would.
    sys.path.insert(0, os.getcwd())
    # Figures in the cell's output, as Jupyter's inline backend shows them; a user's choice stands.
    os.environ.setdefault("MPLBACKEND", "module://skiff.inline_figures")
    cell_display.sink = agent.display_bundle
    # With the Prometheus add-on the cells' skiff.log records and the rank's usage are served for scraping.
    metrics = exporter.start(env)
    if metrics:
        agent.on_line = metrics.metrics.observe
    server = ThreadingHTTPServer(("", args.port), _handler_for(agent))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="skiff-agent-http", daemon=True).start()
    print(f"skiff: session rank {agent.rank} of {agent.world} ready on port {args.port}", file=sys.stderr, flush=True)
    agent.serve_forever()
    print(f"skiff: no cell for {args.idle_minutes:g} minutes; this session rank stops", file=sys.stderr, flush=True)
    server.shutdown()
    if metrics:
        metrics.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
