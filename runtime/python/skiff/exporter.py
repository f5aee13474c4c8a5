"""A pod's metrics in Prometheus' text format while its script runs (``SKIFF_METRICS_PORT`` set).

On a local cluster with the Prometheus add-on (``skiff up --with prometheus``) the supervisor
(keep_logs.py) sees every line the script prints. The records ``skiff.log`` prints become gauges
(``skiff.log(loss=0.5)`` -> ``skiff_loss 0.5``), and each scrape reads the container's CPU and
memory from its cgroup (and its GPUs' utilisation from nvidia-smi, where the NVIDIA runtime put
one). Prometheus adds the job, namespace, pod and rank labels from the pod itself.

A scrape every few seconds would miss a short script (Prometheus finds a new pod a few seconds
after it starts) and a script's last records, so before the pod ends the supervisor waits, ten
seconds at most, for a scrape that carries them. By then the script's memory is freed: that scrape
gets the usage as last read while it ran, and all the CPU it used.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_ENV = "SKIFF_METRICS_PORT"
#: Longest wait for the scrape that carries the last records (Prometheus scrapes every 2 s here, and
#: takes up to 5 s to find a new pod).
FINAL_SCRAPE_SECONDS = 10.0
#: How often usage is read while the script runs, so its last reading outlives it.
SAMPLE_SECONDS = 2.0
RECORD_PREFIX = b"SKIFF_METRIC "
NAME_PREFIX = "skiff_"
#: The container's own readings; a logged value by one of these names is left to them.
CPU = "skiff_cpu_seconds_total"
MEMORY = "skiff_memory_working_set_bytes"
GPU = "skiff_gpu_utilization_percent"
USAGE_NAMES = (CPU, MEMORY, GPU)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(key):
    """A logged name as a Prometheus metric name: ``train/loss`` -> ``skiff_train_loss``."""
    return NAME_PREFIX + _NOT_IN_NAME.sub("_", key)


def _number(text):
    return float(text.strip().split()[0])


def cgroup_usage(root="/sys/fs/cgroup"):
    """{CPU: seconds, MEMORY: bytes} of this container, as the kubelet reads them; {} where unreadable.

    Memory is the working set (usage less inactive file cache), which is what the kubelet reports
    and what an OOM kill is measured against.
    """
    usage = {}
    try:
        if os.path.exists(os.path.join(root, "cgroup.controllers")):  # cgroup v2
            with open(os.path.join(root, "cpu.stat")) as f:
                stat = dict(line.split() for line in f if line.strip())
            usage[CPU] = int(stat["usage_usec"]) / 1e6
            with open(os.path.join(root, "memory.current")) as f:
                current = _number(f.read())
            inactive_key = "inactive_file"
            memory_stat = os.path.join(root, "memory.stat")
        else:  # cgroup v1
            with open(os.path.join(root, "cpuacct", "cpuacct.usage")) as f:
                usage[CPU] = _number(f.read()) / 1e9
            with open(os.path.join(root, "memory", "memory.usage_in_bytes")) as f:
                current = _number(f.read())
            inactive_key = "total_inactive_file"
            memory_stat = os.path.join(root, "memory", "memory.stat")
        inactive = 0.0
        with open(memory_stat) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == inactive_key:
                    inactive = _number(value)
        usage[MEMORY] = max(0.0, current - inactive)
    except (OSError, KeyError, ValueError, IndexError):
        pass
    return usage


def gpu_usage(env=os.environ, which=shutil.which, run=subprocess.run):
    """{GPU: mean utilisation in percent} of the container's GPUs, or {} without nvidia-smi or an answer."""
    if not env.get("NVIDIA_VISIBLE_DEVICES") or not which("nvidia-smi"):
        return {}
    try:
        out = run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                  capture_output=True, text=True, timeout=2).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    values = [float(v) for v in out.split() if re.fullmatch(r"\d+(\.\d+)?", v)]
    return {GPU: sum(values) / len(values)} if values else {}


def _value_text(value):
    return repr(float(value)) if value == value and abs(value) != float("inf") else None


class Metrics:
    """The latest value of each logged name, and whether a scrape has seen the last record."""

    def __init__(self, readings=lambda: {**cgroup_usage(), **gpu_usage()}):
        self._readings = readings
        self._values = {}
        self._records = 0
        self._scrapes = 0
        self._scraped_records = 0
        self._changed = threading.Condition()
        self._last_readings = {}
        self._frozen = None

    def sample(self):
        """Reads the usage now, while the script runs; the last reading is what a scrape after its end gets."""
        if self._frozen is None:
            self._last_readings = self._readings()

    def freeze(self):
        """The script has ended: scrapes from now on get its usage as last read while it ran, and all its CPU."""
        now = self._readings()
        self._frozen = {**self._last_readings, **({CPU: now[CPU]} if CPU in now else {})}

    def observe(self, line):
        """Takes one output line (bytes); a ``skiff.log`` record updates its names' values."""
        if not line.startswith(RECORD_PREFIX):
            return
        try:
            record = json.loads(line[len(RECORD_PREFIX):])
        except ValueError:
            return
        if not isinstance(record, dict):
            return
        values = {metric_name(k): float(v) for k, v in record.items()
                  if isinstance(v, (int, float)) and not isinstance(v, bool)}
        with self._changed:
            self._values.update((k, v) for k, v in values.items() if k not in USAGE_NAMES)
            self._records += 1

    def exposition(self):
        """The text a scrape gets: every logged name as a gauge, then the container's usage."""
        if self._frozen is None:
            self.sample()
        readings = self._frozen if self._frozen is not None else self._last_readings
        with self._changed:
            values = dict(self._values)
            self._scraped_records = self._records
            self._scrapes += 1
            self._changed.notify_all()
        lines = []
        for name, value in [*sorted(values.items()), *((n, readings[n]) for n in USAGE_NAMES if n in readings)]:
            text = _value_text(value)
            if text is None:
                continue
            lines.append(f"# TYPE {name} {'counter' if name == CPU else 'gauge'}")
            lines.append(f"{name} {text}")
        return "\n".join(lines) + "\n"

    def wait_for_last_scrape(self, timeout=FINAL_SCRAPE_SECONDS):
        """True once the pod has been scraped, and a scrape has seen every record so far."""
        with self._changed:
            return self._changed.wait_for(lambda: self._scrapes > 0 and self._scraped_records >= self._records, timeout)


class Exporter:
    """Serves ``/metrics`` on the port from a daemon thread until ``close``."""

    def __init__(self, metrics, port, host="0.0.0.0"):
        self.metrics = metrics

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = metrics.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass  # the script's output is the pod's log; scrapes stay out of it

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._stopped = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self):
        while not self._stopped.wait(SAMPLE_SECONDS):
            self.metrics.sample()

    def close(self, timeout=FINAL_SCRAPE_SECONDS):
        """The script has ended: waits (at most timeout) for a scrape that carries its last records, then stops serving."""
        self._stopped.set()
        self.metrics.freeze()
        self.metrics.wait_for_last_scrape(timeout)
        self._server.shutdown()
        self._server.server_close()


def start(env, out=sys.stderr):
    """An Exporter on ``SKIFF_METRICS_PORT``, or None without one; says once why it cannot serve."""
    port = env.get(PORT_ENV)
    if not port:
        return None
    try:
        return Exporter(Metrics(), int(port))
    except (OSError, ValueError) as err:
        print(f"skiff: cannot serve this pod's metrics on port {port} ({err}); "
              "Prometheus will have none from it", file=out, flush=True)
        return None
