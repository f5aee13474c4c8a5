"""The Skiff kernel from the installed wheel, started by jupyter_client as Jupyter starts it, in
front of the real runtime API (with no Docker engine to reach: the cluster path is the e2e tier's)."""

import json
import os
import subprocess
import sys

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

from skiff_jupyterlab.kernel import gpu_fields, install, kernel_spec
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


def test_a_kernel_of_half_a_shared_gpu_per_rank_asks_the_session_for_a_share(tmp_path, capsys):
    install(["--workers", "2", "--gpus", "0.5", "--prefix", str(tmp_path)])
    spec = json.loads((tmp_path / "share/jupyter/kernels/skiff-2x0.5gpu/kernel.json").read_text())
    assert spec["display_name"] == "Skiff · 2 workers × 0.5 GPU (a time-slice)"
    assert "--SkiffKernel.gpus_per_worker=0.5" in spec["argv"]
    assert gpu_fields(0.5) == {"gpuShare": 0.5} and gpu_fields(1.0) == {"gpusPerWorker": 1} and gpu_fields(0) == {"gpusPerWorker": 0}
    # Time-slicing gives each of n >= 2 sharers 1/n: more than half, or a part of a GPU above one, is refused before any kernel exists.
    for bad in ("0.75", "1.5"):
        with pytest.raises(SystemExit):
            install(["--workers", "2", "--gpus", bad, "--prefix", str(tmp_path)])
        assert "give whole GPUs, or a share of one GPU of 0.5 or less" in capsys.readouterr().err


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


def serve_api(server_class):
    """The end of a stand-in API script: serve `Handler`, announce the endpoint as `skiff api` does, stop with stdin."""
    return f"""
    def log_message(self, *args):
        pass

server = {server_class}(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({{"url": f"http://127.0.0.1:{{server.server_port}}", "token": "t"}}), flush=True)
sys.stdin.read()
"""


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

""" + serve_api('HTTPServer')


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


KEEPING_API = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ports = []  # the client's port of each request: one port, one connection
refused = []  # whether /refuse-once has refused its request

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        port = self.client_address[1]
        if self.path == "/drop-next" or (self.path == "/refuse-once" and not refused):
            # Closed as Node closes an idle kept-alive connection: without a word, here once answered
            # (the client finds it closed before its next request), or as the next request came in.
            if self.path == "/refuse-once":
                refused.append(port)
            else:
                self.answer(b"{}")
            self.close_connection = True
            return
        ports.append(port)
        self.answer(json.dumps(ports).encode())

    def do_POST(self):
        ports.append(self.client_address[1])
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'event: output\ndata: {"text": "hi"}\n\nevent: end\ndata: {}\n\n'
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (body, b""):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))

    def answer(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

""" + serve_api('ThreadingHTTPServer')


@pytest.fixture
def keeping_api(tmp_path):
    script = tmp_path / "keeping_api.py"
    script.write_text(KEEPING_API)
    client = RuntimeClient(command=[sys.executable, str(script)])
    yield client
    client.close()


def test_one_kept_alive_connection_serves_request_after_request(keeping_api):
    # A cell is a stream, between JSON calls: all of them on the first connection.
    keeping_api.call("GET", "/ports")
    assert list(keeping_api.events("POST", "/api/sessions/nb/cells", {"code": "1"})) == [("output", {"text": "hi"})]
    assert list(keeping_api.events("POST", "/api/sessions/nb/cells", {"code": "2"})) == [("output", {"text": "hi"})]
    ports = keeping_api.call("GET", "/ports")
    assert len(ports) == 4 and len(set(ports)) == 1, ports


def test_a_connection_the_api_closed_is_opened_anew(keeping_api):
    first = keeping_api.call("GET", "/ports")[-1]
    # Closed while idle: found closed before the next request, which goes on a new connection.
    keeping_api.call("GET", "/drop-next")
    second = keeping_api.call("GET", "/ports")[-1]
    assert second != first
    # Closed as the next request went out: that request goes again, on a new connection.
    ports = keeping_api.call("GET", "/refuse-once")
    assert ports[-1] not in (first, second)
    assert keeping_api.call("GET", "/ports")[-1] == ports[-1]


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
