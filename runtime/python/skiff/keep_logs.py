"""Keeps a pod's output on the host, where it outlives the pod.

A pod's logs go with the pod: when a rank's pod is deleted, its node goes away or the Job controller
stops the other ranks, what they printed is gone, and so is why they ended. On a local cluster the
job's run folder sits on the host, so ``python3 -m skiff.launch`` runs the script under this
supervisor (``SKIFF_LOG_DIR`` set): the script's stdout and stderr pass through unchanged (``kubectl
logs`` still works), and each line is also appended to ``<SKIFF_LOG_DIR>/<pod>.log`` as
``<RFC 3339 time> <text>``, the form the API server gives with ``timestamps=true``. Beside it,
``<pod>.json`` says which pod and rank this was, when it started and how it ended: its exit code and
any signal that stopped it from outside (the pod deleted, the node drained). With the Prometheus
add-on it also serves the script's records and the container's usage (exporter.py).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from skiff import exporter

LOG_SUFFIX = ".log"
META_SUFFIX = ".json"
#: Like the kubelet, a line longer than this (a progress bar that never prints a newline) is cut.
MAX_LINE_BYTES = 16 * 1024
READ_BYTES = 64 * 1024
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Unavailable(Exception):
    """The log cannot be kept at all; nothing has run yet."""


def rfc3339(ns):
    """Nanoseconds since the epoch as the API server writes them: 2026-12-03T09:00:00.123456789Z."""
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


class LineLog:
    """Appends stamped lines to one file from several streams; a line is written whole or not at all.

    The file is a copy: when it cannot be written (the disk filled up under a job that writes big
    checkpoints), it stops, says why once in ``failed``, and the output still passes through.
    """

    def __init__(self, path, clock=time.time_ns):
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()
        self._clock = clock
        self.failed = None

    def write_line(self, text):
        with self._lock:
            if self.failed:
                return
            try:
                os.write(self._fd, rfc3339(self._clock()).encode() + b" " + text + b"\n")
            except OSError as err:
                self.failed = err.strerror or str(err)

    def close(self):
        os.close(self._fd)


def copy_stream(source_fd, passthrough_fd, log, on_line=None):
    """Copies bytes to passthrough_fd as they come and whole lines to log (and on_line), until end of file."""
    pending = b""
    while True:
        try:
            chunk = os.read(source_fd, READ_BYTES)
        except InterruptedError:
            continue
        if not chunk:
            break
        try:
            os.write(passthrough_fd, chunk)
        except OSError:
            pass  # nobody reads the container's own output any more; the file still gets it
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            _write_cut(log, line)
            if on_line:
                on_line(line)
        while len(pending) > MAX_LINE_BYTES:
            log.write_line(pending[:MAX_LINE_BYTES])
            pending = pending[MAX_LINE_BYTES:]
    if pending:
        log.write_line(pending)
        if on_line:
            on_line(pending)
    os.close(source_fd)


def _write_cut(log, line):
    while len(line) > MAX_LINE_BYTES:
        log.write_line(line[:MAX_LINE_BYTES])
        line = line[MAX_LINE_BYTES:]
    log.write_line(line)


def write_json(path, value):
    """Whole or not at all: a reader never sees half a file. False when it could not be written."""
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def pod_meta(env, clock=time.time_ns):
    meta = {"pod": env.get("SKIFF_POD_NAME") or socket.gethostname(), "startedAt": rfc3339(clock())}
    for key, name in (("uid", "SKIFF_POD_UID"), ("node", "SKIFF_NODE_NAME")):
        if env.get(name):
            meta[key] = env[name]
    if env.get("RANK", "").isdigit():
        meta["rank"] = int(env["RANK"])
    return meta


def supervise(command, env, log_dir):
    """Runs command with its output kept in log_dir; returns the exit code the container should have."""
    meta = pod_meta(env)
    base = os.path.join(log_dir, meta["pod"])
    try:
        log = LineLog(base + LOG_SUFFIX)
    except OSError as err:
        raise Unavailable(f"cannot open {base + LOG_SUFFIX}: {err.strerror or err}") from err
    write_json(base + META_SUFFIX, meta)
    # With the Prometheus add-on the script's records and the container's usage are served for scraping.
    metrics = exporter.start(env)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    try:
        child = subprocess.Popen(command, env=env, stdout=out_write, stderr=err_write)
    finally:
        os.close(out_write)
        os.close(err_write)
    received = []

    def forward(signum, _frame):
        if not received:
            received.append({"signal": signal.Signals(signum).name, "at": rfc3339(time.time_ns())})
            write_json(base + META_SUFFIX, {**meta, "stoppedBy": received[0]})
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, forward)
    copiers = [
        threading.Thread(target=copy_stream, args=(source, target, log, metrics and metrics.metrics.observe), daemon=True)
        for source, target in ((out_read, sys.stdout.fileno()), (err_read, sys.stderr.fileno()))
    ]
    for t in copiers:
        t.start()
    code = child.wait()
    for t in copiers:
        t.join()
    log.close()
    if metrics:
        metrics.close()
    # Killed by a signal: exit as a shell would (128 + N), so the pod reads the same as before.
    exit_code = code if code >= 0 else 128 - code
    end = {"exitCode": exit_code, "at": rfc3339(time.time_ns())}
    if code < 0:
        end["signal"] = signal.Signals(-code).name
    final = {**meta, **({"stoppedBy": received[0]} if received else {}), "ended": end}
    if log.failed:
        # The kubelet's log of this pod has the lines the file is missing.
        final["logIncomplete"] = log.failed
    write_json(base + META_SUFFIX, final)
    return exit_code
