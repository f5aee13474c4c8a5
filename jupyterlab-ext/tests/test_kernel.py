"""The Skiff kernel from the installed wheel, started by jupyter_client as Jupyter starts it, in
front of the real runtime API (with no Docker engine to reach: the cluster path is the e2e tier's)."""

import json
import os
import subprocess
import sys

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

from skiff_jupyterlab.kernel import install, kernel_spec
from skiff_jupyterlab.runtime_client import RuntimeClient, SkiffRuntimeError

from conftest import skiff_command


def test_the_wheel_ships_a_kernel_per_size():
    specs = KernelSpecManager().get_all_specs()
    for workers, name in ((1, "Skiff · 1 worker"), (2, "Skiff · 2 workers")):
        spec = specs[f"skiff-{workers}"]["spec"]
        assert spec["display_name"] == name
        assert spec["argv"] == kernel_spec(workers)["argv"]
        assert spec["language"] == "python"


def test_install_adds_a_kernel_of_another_size(tmp_path, capsys):
    install(["--workers", "4", "--gpus", "1", "--prefix", str(tmp_path)])
    spec = json.loads((tmp_path / "share/jupyter/kernels/skiff-4x1gpu/kernel.json").read_text())
    assert spec["display_name"] == "Skiff · 4 workers × 1 GPU"
    assert spec["argv"][0] == sys.executable
    assert "--SkiffKernel.workers=4" in spec["argv"] and "--SkiffKernel.gpus_per_worker=1" in spec["argv"]
    assert "installed kernel 'Skiff · 4 workers × 1 GPU'" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        install(["--workers", "0"])


def test_the_runtime_client_speaks_the_api_and_its_child_stops_with_it(tmp_path):
    client = RuntimeClient()
    assert client.call("GET", "/api/health")["ok"] is True
    with pytest.raises(SkiffRuntimeError) as err:
        client.call("POST", "/api/sessions", {"notebook": "relative.ipynb"})
    assert err.value.code == "BAD_INPUT" and "absolute path" in err.value.message
    process = client._process
    client.close()
    assert process.poll() is not None


def test_events_raise_the_runtimes_error(tmp_path, monkeypatch):
    # A kernel runs in its notebook's folder, which its API serves (the API's working directory).
    monkeypatch.chdir(tmp_path)
    client = RuntimeClient()
    try:
        with pytest.raises(SkiffRuntimeError) as err:
            list(client.events("POST", "/api/sessions", {"notebook": str(tmp_path / "nb.ipynb")}))
        assert err.value.code == "NO_DOCKER" and err.value.hint
    finally:
        client.close()


CUTTING_API = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b'event: output\ndata: {"type": "stream", "name": "stdout", "text": "hi"}\n\n')  # and no end

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"url": f"http://127.0.0.1:{server.server_port}", "token": "t"}), flush=True)
sys.stdin.read()
"""


def test_a_stream_cut_before_its_end_raises_instead_of_ending_quietly(tmp_path):
    script = tmp_path / "cutting_api.py"
    script.write_text(CUTTING_API)
    client = RuntimeClient(command=[sys.executable, str(script)])
    seen = []
    try:
        with pytest.raises(SkiffRuntimeError) as err:
            for event, data in client.events("POST", "/api/sessions/nb/cells", {"code": "1"}):
                seen.append((event, data["text"]))
        assert err.value.code == "UNREACHABLE" and "cut before its end" in err.value.message
        assert seen == [("output", "hi")]
    finally:
        client.close()


def iopub_of(kc, msg_id):
    """The IOPub messages of one request, up to the kernel going idle after it."""
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def test_a_cell_without_a_cluster_says_why_and_the_kernel_goes_on(tmp_path, monkeypatch):
    cluster = f"skiff-kernel-test-{os.getpid()}"
    monkeypatch.setenv("SKIFF_COMMAND", skiff_command(cluster))
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "train.ipynb"))
    km, kc = start_new_kernel(kernel_name="skiff-2", cwd=str(tmp_path), startup_timeout=60)
    try:
        info = kc.kernel_info(reply=True, timeout=30)["content"]
        assert info["implementation"] == "skiff" and info["language_info"]["name"] == "python"

        answer = kc.execute("x = 1", reply=True, timeout=120)
        reply = answer["content"]
        messages = iopub_of(kc, answer["parent_header"]["msg_id"])
        assert reply["status"] == "error" and reply["ename"] == "SkiffError"
        assert "Docker" in reply["evalue"]
        assert any(line.startswith("hint: ") for line in reply["traceback"])
        shown = [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"] == "display_data"]
        assert shown[0] == "skiff: starting a session of 2 ranks…"
        assert [m["content"]["ename"] for m in messages if m["msg_type"] == "error"] == ["SkiffError"]

        assert kc.execute("   \n", reply=True, timeout=30)["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    # The kernel's runtime went with it.
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"--cluster {cluster} api" not in running
