"""`%%skiff`: run a notebook cell on the Skiff cluster from the kernel, for those who prefer typing.

    %load_ext skiff_jupyterlab
    %%skiff --workers 2
    import torch.distributed as dist ...

Every rank's lines stream into the cell as they arrive, the metrics chart (the same renderer the
sidebar uses) updates live, and the cell fails when the job does. `%%skiff --serve --port 8000`
starts a serving job instead. It drives the `skiff` CLI, so it works wherever that does.
"""

import json
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from .command import skiff_command

METRICS_MIME = "application/vnd.skiff.metrics+json"
REDRAW_SECONDS = 1.5


class SkiffJobFailed(Exception):
    """The job did not succeed; the cell shows why, without a Python traceback."""

    def _render_traceback_(self):
        return [str(self)]


def _job_name(given):
    return given or f"cell-{secrets.token_hex(3)}"


def _ipython_only(line):
    stripped = line.lstrip()
    return stripped.startswith("%") or stripped.startswith("!")


def cell_script(cell):
    """The cell as plain Python: IPython-only lines stay, as comments (line numbers still match)."""
    return "\n".join(f"# (IPython only) {line}" if _ipython_only(line) else line for line in cell.splitlines()) + "\n"


class _MetricsDisplay:
    """Follows `skiff metrics JOB -f -o json` in a thread and redraws one display as samples arrive."""

    def __init__(self, command, job):
        self.job = job
        self.samples = []
        self._command = command
        self._process = None
        self._thread = None
        # Made here, on the kernel's main thread, so the chart belongs to this cell.
        self.handle = display(self._bundle(), raw=True, display_id=True)

    def start(self):
        """Once the job exists: follow its metrics."""
        if self._process:
            return
        self._process = subprocess.Popen(
            [*self._command, "metrics", self.job, "-f", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _bundle(self):
        return {METRICS_MIME: {"job": self.job, "samples": list(self.samples)}, "text/plain": f"metrics of {self.job}"}

    def _read(self):
        last = 0.0
        for line in self._process.stdout:
            try:
                self.samples.append(json.loads(line))
            except ValueError:
                continue
            if time.monotonic() - last > REDRAW_SECONDS:
                last = time.monotonic()
                self.handle.update(self._bundle(), raw=True)

    def close(self):
        if self._process:
            self._process.terminate()
            self._thread.join(timeout=5)
        self.handle.update(self._bundle(), raw=True)


@magics_class
class SkiffMagics(Magics):
    @magic_arguments()
    @argument("--workers", type=int, default=2, help="training workers (one process each)")
    @argument("--gpus-per-worker", type=int, default=0, help="GPUs per worker")
    @argument("--name", help="job name (default: cell-<random>)")
    @argument("--env", action="append", default=[], metavar="K=V", help="environment variable (repeatable)")
    @argument("--serve", action="store_true", help="run the cell as a serving job instead of training")
    @argument("--port", type=int, default=8000, help="port the served app listens on")
    @argument("--replicas", type=int, default=1, help="serving replicas")
    @cell_magic
    def skiff(self, line, cell):
        args = parse_argstring(self.skiff, line)
        command = skiff_command()
        name = _job_name(args.name)
        with tempfile.TemporaryDirectory(prefix="skiff-cell-") as folder:
            script = Path(folder) / ("app.py" if args.serve else "cell.py")
            script.write_text(cell_script(cell))
            env_flags = [flag for pair in args.env for flag in ("--env", pair)]
            if args.serve:
                argv = [*command, "serve", str(script), "--name", name, "--port", str(args.port), "--replicas", str(args.replicas), *env_flags]
            else:
                argv = [*command, "run", str(script), "--name", name, "--workers", str(args.workers), "--gpus-per-worker", str(args.gpus_per_worker), *env_flags]
            return self._follow(argv, command, name, with_metrics=not args.serve)

    def _follow(self, argv, command, name, with_metrics):
        try:
            process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        except FileNotFoundError:
            raise SkiffJobFailed(f"cannot run {argv[0]}: not found — install the Skiff CLI or set SKIFF_COMMAND") from None
        metrics = _MetricsDisplay(command, name) if with_metrics else None
        stderr_lines = []

        def pump_stderr():
            for text in process.stderr:
                stderr_lines.append(text)
                sys.stderr.write(text)
                sys.stderr.flush()
                if metrics and text.startswith("submitted "):
                    metrics.start()

        stderr_thread = threading.Thread(target=pump_stderr, daemon=True)
        stderr_thread.start()
        try:
            for text in process.stdout:
                sys.stdout.write(text)
                sys.stdout.flush()
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            print(f"stopped following; job {name} keeps running (cancel it with `skiff cancel {name}` or from the sidebar)", file=sys.stderr)
            return None
        finally:
            stderr_thread.join(timeout=5)
            if metrics:
                metrics.close()
        if code != 0:
            last = "".join(stderr_lines[-3:]).strip()
            raise SkiffJobFailed(f"skiff: job {name} did not succeed (exit {code})" + (f": {last}" if last else ""))
        return None


def load_ipython_extension(ipython):
    ipython.register_magics(SkiffMagics)
