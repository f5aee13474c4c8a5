"""`%%skiff` in a real IPython shell, driving the real `skiff` CLI (with no Docker engine to reach)."""

import pytest
from IPython.testing.globalipapp import start_ipython

from skiff_jupyterlab.magic import SkiffJobFailed, cell_script


@pytest.fixture(scope="module")
def shell():
    ip = start_ipython()
    ip.run_line_magic("load_ext", "skiff_jupyterlab")
    return ip


def test_cells_become_plain_python_with_ipython_lines_kept_as_comments():
    assert cell_script("%pip install x\nimport os\n  !ls\nprint(1)") == "# (IPython only) %pip install x\nimport os\n# (IPython only)   !ls\nprint(1)\n"


def test_the_magic_is_registered_with_its_options(shell):
    magic = shell.find_cell_magic("skiff")
    assert magic is not None
    assert "--workers" in magic.__doc__ and "--serve" in magic.__doc__


def test_a_job_that_cannot_start_fails_the_cell_with_the_runtimes_reason(shell, capsys):
    with pytest.raises(SkiffJobFailed) as err:
        shell.run_cell_magic("skiff", "--workers 2 --name magic-nodocker", "print('hi')")
    message = str(err.value)
    assert "magic-nodocker did not succeed (exit 3)" in message
    assert "Docker engine not reachable" in message
    assert err.value._render_traceback_() == [message]


def test_a_missing_cli_says_what_to_do(shell, monkeypatch):
    monkeypatch.setenv("SKIFF_COMMAND", "/nonexistent/skiff")
    with pytest.raises(SkiffJobFailed, match="not found — install the Skiff CLI or set SKIFF_COMMAND"):
        shell.run_cell_magic("skiff", "", "print('hi')")


def test_without_skiff_on_path_the_bundled_runtime_runs(monkeypatch, tmp_path):
    from skiff_jupyterlab import command

    env = {"PATH": str(tmp_path)}
    monkeypatch.setattr(command.shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    argv = command.skiff_command(env)
    assert argv == ["/usr/bin/node", str(command.BUNDLED / "skiff.mjs")]
    for part in ("skiff.mjs", "skiff-main.cjs"):
        assert (command.BUNDLED / part).exists(), "npm run build -w @skiff/jupyterlab bundles the runtime"
    assert env["SKIFF_PYTHON_DIR"].endswith("runtime/python/skiff")
    assert (command.BUNDLED / "images" / "versions.env").exists()
