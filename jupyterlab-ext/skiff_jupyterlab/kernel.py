"""The Skiff kernel: a notebook's live session on the local cluster, as a Jupyter kernel.

Each cell runs on every rank of the notebook's session (one pod per worker, torch.distributed set
up) and the ranks keep their Python state between cells. Jupyter's own controls do the rest:
interrupt sends KeyboardInterrupt to every rank, restart brings up fresh ranks, shut down deletes
them, and changing the kernel ("Skiff · 1 worker" -> "Skiff · 2 workers") changes the session's
size. The kernel is a thin client: the runtime's API starts the session and presents each cell's
outputs (the same presenter as the CLI and VS Code), and the kernel passes them to Jupyter.

`python -m skiff_jupyterlab.kernel install --workers 4 --gpus 1` adds a kernel of another size;
`--gpus 0.5` gives each rank half of a GPU the cluster shares (`skiff up --gpu-sharing 2`).
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid

from ipykernel.kernelbase import Kernel
from traitlets import Bool, Float, Integer

from . import __version__
from .metrics_chart import MetricsChart
from .runtime_client import RuntimeClient, SkiffRuntimeError



class SkiffKernel(Kernel):
    implementation = "skiff"
    implementation_version = __version__
    banner = "Skiff: a live session on the local cluster; every cell runs on each rank and keeps its state"
    language_info = {
        "name": "python",
        "version": "3",
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "pygments_lexer": "ipython3",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "nbconvert_exporter": "python",
    }

    workers = Integer(1, help="Ranks of the session: one pod each").tag(config=True)
    gpus_per_worker = Float(0, help="GPUs of each rank; below 1 (0.5) a time-slice of one GPU the cluster shares").tag(config=True)
    idle_minutes = Integer(None, allow_none=True, help="Stop the ranks after this long without a cell (default: the runtime's)").tag(config=True)
    all_ranks = Bool(True, help="Show the output of ranks other than 0 (tagged); their errors show regardless").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.skiff = RuntimeClient(log=self.log)
        self.notebook_session = None  # the session's info from the runtime while its ranks are usable
        self.session_name = None  # its name once known: what restart and shut down stop
        self.fresh_start = False  # the last session lost a rank: the next cell starts anew, never reattaches

    # ---- the session --------------------------------------------------------------------------

    @staticmethod
    def notebook_path():
        """The notebook's absolute path: Jupyter's server names it in JPY_SESSION_NAME and starts the
        kernel in its folder. Without it (a kernel started by hand), the folder is the working one."""
        named = os.environ.get("JPY_SESSION_NAME")
        if named and os.path.isabs(named):
            return named
        return os.path.join(os.getcwd(), os.path.basename(named) if named else "notebook.ipynb")

    def _ensure_session(self, silent):
        if self.notebook_session is not None:
            return self.notebook_session
        status = _StatusLine(self, silent)
        ranks = session_size(self.workers, self.gpus_per_worker)
        status.show(f"skiff: starting a session of {ranks}…")
        fresh = " (a fresh one: the last lost a rank, its variables are gone)" if self.fresh_start else ""
        if fresh:
            status.show(f"skiff: starting a fresh session of {ranks}…")
        body = {"notebook": self.notebook_path(), "workers": self.workers, **gpu_fields(self.gpus_per_worker), "attach": not self.fresh_start}
        if self.idle_minutes is not None:
            body["idleMinutes"] = self.idle_minutes
        started = time.monotonic()
        info = None
        for event, data in self.skiff.events("POST", "/api/sessions", body):
            if event == "progress":
                status.show(f"skiff: {data['message']}")
            elif event == "result":
                info = data
        if info is None:
            raise SkiffRuntimeError("SESSION_LOST", "the runtime ended the session's start without an answer", "run the cell again")
        if info.get("attached"):
            status.show(f"skiff: reattached to session {info['name']} ({ranks}); its variables are kept")
        else:
            status.show(f"skiff: session {info['name']} ready: {ranks} in {time.monotonic() - started:.1f} s{fresh}")
        self.notebook_session, self.session_name, self.fresh_start = info, info["name"], False
        return info

    def _lost(self):
        """The session's state is gone (a rank lost, the session deleted): the next cell starts afresh."""
        self.notebook_session, self.fresh_start = None, True

    def _stop_session(self):
        name, self.notebook_session, self.session_name = self.session_name, None, None
        if name is None:
            return
        try:
            self.skiff.call("DELETE", f"/api/sessions/{name}", timeout=60)
        except SkiffRuntimeError as err:
            if err.code != "JOB_NOT_FOUND":
                self.log.warning("could not stop session %s: %s", name, err)

    # ---- cells --------------------------------------------------------------------------------

    async def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False, **_ignored):
        if not code.strip():
            return self._ok()
        try:
            session = self._ensure_session(silent)
        except KeyboardInterrupt:
            return self._failed("KeyboardInterrupt", "interrupted while the session started", [], silent)
        except SkiffRuntimeError as err:
            return self._failed("SkiffError", err.message, _explained(err), silent)
        try:
            return self._run_cell(session, code, silent)
        except SkiffRuntimeError as err:
            if err.code == "SESSION_LOST":
                self._lost()
            return self._failed("SkiffError", err.message, _explained(err), silent)

    def _run_cell(self, session, code, silent):
        name = session["name"]
        display_id = f"skiff-metrics-{uuid.uuid4().hex}"

        def show(bundle, first):
            kind = "display_data" if first else "update_display_data"
            self._publish(kind, {"data": bundle, "metadata": {}, "transient": {"display_id": display_id}}, silent)

        metrics = MetricsChart(name, show)
        first_error = None
        outcome = {"status": "lost", "summary": "the cell did not finish"}
        with _InterruptForwarder(self.skiff, name, self.log) as interrupts:
            for event, data in self.skiff.events("POST", f"/api/sessions/{name}/cells", {"code": code, "allRanks": self.all_ranks}):
                if event == "outcome":
                    outcome = data
                elif data["type"] == "metrics":
                    metrics.add(data["samples"])
                elif data["type"] == "error":
                    first_error = first_error or data
                    self._publish("error", {"ename": data["ename"], "evalue": data["evalue"], "traceback": data["traceback"].splitlines()}, silent)
                elif data["type"] == "stream":
                    self._publish("stream", {"name": data["name"], "text": data["text"]}, silent)
                elif data["type"] == "rich" and "count" in data:
                    self._publish("execute_result", {"execution_count": self.execution_count, "data": data["data"], "metadata": {}}, silent)
                elif data["type"] == "rich":
                    self._publish("display_data", {"data": data["data"], "metadata": {}, "transient": {}}, silent)
        metrics.finish()
        if interrupts.killed:
            ranks = ", ".join(str(r) for r in interrupts.killed)
            self._publish("stream", {"name": "stderr", "text": f"skiff: rank(s) {ranks} ignored the interrupt and were stopped; restart the kernel\n"}, silent)
        if outcome["status"] == "ok":
            return self._ok()
        if outcome["status"] == "lost":
            self._lost()
        self._publish("stream", {"name": "stderr", "text": f"skiff: {outcome['summary']}\n"}, silent)
        if first_error:
            return self._reply_error(first_error["ename"], first_error["evalue"], first_error["traceback"].splitlines())
        ename = "KeyboardInterrupt" if outcome["status"] == "interrupted" else "SessionLost"
        return self._reply_error(ename, outcome["summary"], [])

    def _publish(self, msg_type, content, silent):
        if not silent:
            self.send_response(self.iopub_socket, msg_type, content)

    def _ok(self):
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    def _reply_error(self, ename, evalue, traceback):
        return {"status": "error", "execution_count": self.execution_count, "ename": ename, "evalue": evalue, "traceback": traceback}

    def _failed(self, ename, evalue, traceback, silent):
        self._publish("error", {"ename": ename, "evalue": evalue, "traceback": traceback}, silent)
        return self._reply_error(ename, evalue, traceback)

    # ---- the rest of the protocol ---------------------------------------------------------------

    async def do_shutdown(self, restart):
        # A restart is a fresh start: the next cell brings up new ranks. A shut down leaves nothing.
        self._stop_session()
        self.skiff.close()
        return {"status": "ok", "restart": restart}

    async def do_is_complete(self, code):
        try:
            compile(code, "<cell>", "exec")
            return {"status": "complete"}
        except SyntaxError as err:
            return {"status": "incomplete" if "unexpected EOF" in str(err) or "was never closed" in str(err) else "invalid", "indent": ""}


def _explained(err):
    return [f"skiff: {err.message}"] + ([f"hint: {err.hint}"] if err.hint else [])


class _StatusLine:
    """One line of output that says where the session's start stands, updated in place."""

    def __init__(self, kernel, silent):
        self.kernel, self.silent = kernel, silent
        self.display_id = f"skiff-status-{uuid.uuid4().hex}"
        self.shown = False

    def show(self, text):
        msg_type = "update_display_data" if self.shown else "display_data"
        self.kernel._publish(msg_type, {"data": {"text/plain": text}, "metadata": {}, "transient": {"display_id": self.display_id}}, self.silent)
        self.shown = True


class _InterruptForwarder:
    """While a cell runs, Jupyter's interrupt (SIGINT to the kernel) becomes an interrupt of every
    rank; the cell's stream goes on and ends with the ranks' KeyboardInterrupt."""

    def __init__(self, runtime, name, log):
        self.runtime, self.name, self.log = runtime, name, log
        self.killed = []
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _on_interrupt(self, _signum, _frame):
        # Not in the handler itself: it runs between two reads of the cell's stream, which must go on.
        threading.Thread(target=self._interrupt, daemon=True).start()

    def _interrupt(self):
        try:
            answer = self.runtime.call("POST", f"/api/sessions/{self.name}/interrupt", {}, timeout=120)
            self.killed = answer.get("killed", [])
        except SkiffRuntimeError as err:
            self.log.warning("could not interrupt session %s: %s", self.name, err)


# ---- kernel specs -------------------------------------------------------------------------------


def is_gpu_share(gpus):
    """GPUs per rank below 1 (0.5) are a time-slice of one GPU, as in the editors' cell choices."""
    return 0 < gpus < 1


def gpu_fields(gpus):
    """The session request's GPU fields: a share below 1, whole GPUs otherwise."""
    return {"gpuShare": gpus} if is_gpu_share(gpus) else {"gpusPerWorker": int(gpus)}


def gpus_text(gpus):
    """"1 GPU", "2 GPUs", "0.5 GPU (a time-slice)"."""
    if is_gpu_share(gpus):
        return f"{gpus:g} GPU (a time-slice)"
    return f"{gpus:g} GPU{'' if gpus == 1 else 's'}"


def session_size(workers, gpus=0, unit="rank"):
    """"2 ranks", "2 ranks × 0.5 GPU (a time-slice)"."""
    return f"{workers} {unit}{'' if workers == 1 else 's'}" + (f" × {gpus_text(gpus)}" if gpus else "")


def kernel_spec(workers, gpus=0):
    """The kernel.json of a session of that size ("Skiff · 2 workers", "Skiff · 2 workers × 1 GPU")."""
    size = session_size(workers, gpus, unit="worker")
    return {
        # 'python' is Jupyter's placeholder for the Python that runs the server (see jupyter_client).
        "argv": ["python", "-m", "skiff_jupyterlab.kernel", "-f", "{connection_file}", f"--SkiffKernel.workers={workers}", f"--SkiffKernel.gpus_per_worker={gpus:g}"],
        "display_name": f"Skiff · {size}",
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def kernel_name(workers, gpus=0):
    return f"skiff-{workers}" + (f"x{gpus:g}gpu" if gpus else "")


def install(argv):
    parser = argparse.ArgumentParser(prog="python -m skiff_jupyterlab.kernel install", description="Add a Skiff kernel of another size.")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--gpus", type=float, default=0, help="GPUs per worker: whole GPUs, or a share of one (0.5) on a cluster that shares its GPUs")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="into this Python environment")
    where.add_argument("--prefix", help="under this prefix")
    args = parser.parse_args(argv)
    if args.workers < 1 or args.gpus < 0:
        parser.error("--workers must be 1 or more and --gpus 0 or more")
    if is_gpu_share(args.gpus) and args.gpus > 0.5 or args.gpus >= 1 and not args.gpus.is_integer():
        parser.error(f"--gpus {args.gpus:g}: give whole GPUs, or a share of one GPU of 0.5 or less (time-slicing gives each of 2 or more sharers 1/n)")
    from jupyter_client.kernelspec import KernelSpecManager

    spec = kernel_spec(args.workers, args.gpus)
    spec["argv"][0] = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)
        prefix = sys.prefix if args.sys_prefix else args.prefix
        dest = KernelSpecManager().install_kernel_spec(folder, kernel_name(args.workers, args.gpus), user=args.user, prefix=prefix)
    print(f"installed kernel '{spec['display_name']}' in {dest}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["install"]:
        return install(argv[1:])
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=SkiffKernel)


if __name__ == "__main__":
    main()
