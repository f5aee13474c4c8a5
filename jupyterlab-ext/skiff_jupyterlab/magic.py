"""`%%skiff`: run a notebook cell on the Skiff cluster from the kernel, for those who prefer typing.

    %load_ext skiff_jupyterlab
    %%skiff --workers 2
    import torch.distributed as dist ...

Every rank's lines stream into the cell as they arrive, the metrics chart (the same renderer the
sidebar uses) updates live, and the cell fails when the job does. `%%skiff --serve --port 8000`
starts a serving job instead. It drives the `skiff` CLI and follows its events (`-o json`), so it
works wherever that does.
"""

import json
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from .command import skiff_command
from .metrics_chart import MetricsChart



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
            return self._follow(argv, name, with_metrics=not args.serve)

    def _follow(self, argv, name, with_metrics):
        # The CLI's events, one JSON object per stdout line (`-o json`); its human lines on stderr
        # go to the cell as they are.
        try:
            process = subprocess.Popen([*argv, "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        except FileNotFoundError:
            raise SkiffJobFailed(f"cannot run {argv[0]}: not found — install the Skiff CLI or set SKIFF_COMMAND") from None
        handle = None

        def show(bundle, first):
            # On the kernel's main thread (events are read there), so the chart belongs to this cell.
            nonlocal handle
            if first:
                handle = display(bundle, raw=True, display_id=True)
            else:
                handle.update(bundle, raw=True)

        metrics = MetricsChart(name, show) if with_metrics else None
        stderr_lines = []

        def pump_stderr():
            for text in process.stderr:
                stderr_lines.append(text)
                sys.stderr.write(text)
                sys.stderr.flush()

        stderr_thread = threading.Thread(target=pump_stderr, daemon=True)
        stderr_thread.start()
        end = None
        try:
            for line in process.stdout:
                event = _event(line)
                if event.get("event") == "log":
                    sys.stdout.write(event["text"] + "\n")
                    sys.stdout.flush()
                elif event.get("event") == "metrics" and metrics:
                    metrics.add([event["sample"]])
                elif event.get("event") == "end":
                    end = event["job"]
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            print(f"stopped following; job {name} keeps running (cancel it with `skiff cancel {name}` or from the sidebar)", file=sys.stderr)
            return None
        finally:
            stderr_thread.join(timeout=5)
            if metrics:
                metrics.finish()
        if code != 0:
            if end:
                reason = f": {end['reason']}" if end.get("reason") else ""
                raise SkiffJobFailed(f"skiff: job {name} {end['phase']}{reason} (details: `skiff describe {name}`)")
            # It never got to an outcome (no cluster, bad flags): the CLI's own last words say why.
            last = "".join(stderr_lines[-3:]).strip()
            raise SkiffJobFailed(f"skiff: job {name} did not succeed (exit {code})" + (f": {last}" if last else ""))
        return None


def _event(line):
    """One event of the CLI's stdout; a line that is not one (a CLI without `-o json`) is an error, not silence."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise SkiffJobFailed(f"skiff: the CLI printed {line.strip()[:120]!r} where an event of `-o json` was expected: update the Skiff CLI")
    return event


def load_ipython_extension(ipython):
    ipython.register_magics(SkiffMagics)
