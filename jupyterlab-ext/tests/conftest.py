import os
import pathlib
import shlex
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CLI = REPO / "runtime" / "dist" / "cli" / "skiff.mjs"

pytest_plugins = ["pytest_jupyter.jupyter_server"]


def skiff_command(cluster="skiff-jlab-none"):
    """The real runtime's CLI; with no Docker engine to reach, health answers and the rest explains."""
    return f"node {shlex.quote(str(CLI))} --cluster {cluster}"


@pytest.fixture
def jp_server_config():
    return {"ServerApp": {"jpserver_extensions": {"skiff_jupyterlab": True}}}


@pytest.fixture(autouse=True)
def runtime_command(monkeypatch):
    if not CLI.exists():
        pytest.fail(f"build the runtime first (npm run build): {CLI} is missing")
    monkeypatch.delenv("SKIFF_API_COMMAND", raising=False)
    monkeypatch.setenv("SKIFF_COMMAND", skiff_command())
    # No Docker engine, whatever this machine runs: every cluster call fails the same, known way.
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
