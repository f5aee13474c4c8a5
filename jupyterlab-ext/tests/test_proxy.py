"""The server extension in a real Jupyter server, in front of the real runtime API process."""

import json
import re
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

# The version the runtime in this checkout speaks (the frontend checks for the same one).
API_VERSION = int(re.search(r"API_VERSION = (\d+)", (Path(__file__).parents[2] / "runtime/src/version.ts").read_text()).group(1))


async def test_health_passes_through_with_the_api_version(jp_fetch):
    response = await jp_fetch("skiff", "api", "health")
    body = json.loads(response.body)
    assert response.code == 200
    assert body["apiVersion"] == API_VERSION
    assert body["cluster"] == "skiff-jlab-none"


async def test_requests_need_jupyters_authentication(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("skiff", "api", "health", headers={"Authorization": ""})
    assert err.value.code == 403


async def test_runtime_errors_keep_their_code_and_hint(jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("skiff", "api", "jobs")
    body = json.loads(err.value.response.body)
    assert body["error"]["code"] == "NO_DOCKER"
    assert "start Docker" in body["error"]["hint"]


async def test_event_streams_pass_through(jp_fetch):
    response = await jp_fetch("skiff", "api", "jobs", "watch", headers={"Accept": "text/event-stream"})
    text = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert "event: error" in text and "NO_DOCKER" in text
    assert text.rstrip().endswith("data: {}")


async def test_code_comes_only_from_the_servers_folder(jp_fetch, jp_root_dir):
    body = json.dumps({"kind": "training", "script": "a.py", "codeRoot": "/etc"})
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("skiff", "api", "jobs", method="POST", body=body)
    error = json.loads(err.value.response.body)["error"]
    assert err.value.code == 400 and error["code"] == "BAD_INPUT"
    assert "/etc is outside the folders this API serves" in error["message"]
    assert str(jp_root_dir.resolve()) in error["message"]


async def test_a_missing_runtime_is_a_clear_503(jp_fetch, monkeypatch):
    monkeypatch.setenv("SKIFF_API_COMMAND", "/nonexistent/skiff api")
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("skiff", "api", "health")
    body = json.loads(err.value.response.body)
    assert err.value.code == 503
    assert body["error"]["code"] == "RUNTIME_UNAVAILABLE"
    assert "not found" in body["error"]["message"]


async def test_the_runtime_bundled_in_the_package_answers_when_no_skiff_is_configured(jp_fetch, monkeypatch):
    monkeypatch.delenv("SKIFF_COMMAND", raising=False)
    monkeypatch.delenv("SKIFF_API_COMMAND", raising=False)
    response = await jp_fetch("skiff", "api", "health")
    body = json.loads(response.body)
    assert body["apiVersion"] == API_VERSION
    assert body["cluster"] == "skiff"



def test_a_notebook_path_becomes_the_folder_the_job_runs_in(tmp_path):
    from skiff_jupyterlab.handlers import with_code_root

    (tmp_path / "project").mkdir()
    body = json.dumps({"kind": "training", "script": "cell.py", "notebookPath": "project/nb.ipynb"}).encode()
    assert json.loads(with_code_root(body, str(tmp_path))) == {"kind": "training", "script": "cell.py", "codeRoot": str((tmp_path / "project").resolve())}
    # Without a notebook the request passes unchanged; one outside the root is refused.
    assert with_code_root(b'{"script": "a.py"}', str(tmp_path)) == b'{"script": "a.py"}'
    with pytest.raises(ValueError, match="outside the server's folder"):
        with_code_root(json.dumps({"notebookPath": "../../etc/nb.ipynb"}).encode(), str(tmp_path))


async def test_a_chatty_runtime_never_blocks_on_its_pipes(tmp_path):
    import asyncio
    import sys

    from skiff_jupyterlab.api_process import SkiffApi

    done = tmp_path / "wrote-everything"
    script = tmp_path / "chatty.py"
    script.write_text(
        "import json, sys, time\n"
        "print(json.dumps({'url': 'http://127.0.0.1:1', 'token': 't'}), flush=True)\n"
        "for _ in range(2000):\n"
        "    sys.stderr.write('x' * 1000 + '\\n'); sys.stdout.write('y' * 1000 + '\\n')\n"
        "sys.stderr.flush(); sys.stdout.flush()\n"
        f"open({str(done)!r}, 'w').close()\n"
        "time.sleep(30)\n"
    )
    api = SkiffApi(command=[sys.executable, str(script)])
    assert await api.endpoint() == ("http://127.0.0.1:1", "t")
    try:
        for _ in range(100):  # 2 MB on each pipe, far past a pipe's 64 KB buffer
            if done.exists():
                break
            await asyncio.sleep(0.1)
        assert done.exists()
    finally:
        await api.aclose()


async def test_the_runtime_api_stops_with_the_server_and_leaves_no_task_pending(jp_fetch, jp_serverapp):
    await jp_fetch("skiff", "api", "health")
    (app,) = jp_serverapp.extension_manager.extension_apps["skiff_jupyterlab"]
    process, drains = app.skiff_api._process, list(app.skiff_api._drains)
    assert process.returncode is None and len(drains) == 2
    # What the server awaits on shutdown, while its loop still runs.
    await jp_serverapp.extension_manager.stop_all_extensions()
    assert process.returncode is not None
    assert all(task.done() and not task.cancelled() for task in drains)
