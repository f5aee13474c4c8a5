"""`%%skiff` in a real IPython shell, driving the real `skiff` CLI (with no Docker engine to reach)."""

import json
import pathlib
import sys

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


# A stand-in for the CLI's event stream only (the real CLI's events are tested in runtime/src/cli;
# the JupyterLab e2e runs the magic against a real cluster): what the magic makes of each event.
EVENTS_CLI = r'''
import json, sys
argv = sys.argv[1:]
print("submitted training job magic-events (2 workers) to cluster 'skiff'", file=sys.stderr, flush=True)
job = {"name": "magic-events", "phase": "Running", "workers": 2}
failing = "--name" in argv and argv[argv.index("--name") + 1] == "magic-fails"
events = [
    {"event": "submitted", "job": {**job, "phase": "Pending"}},
    {"event": "log", "line": {"rank": 1, "text": "epoch 1"}, "text": "[rank 1] epoch 1"},
    {"event": "metrics", "sample": {"type": "training", "metric": {"rank": 0, "time": "t", "values": {"step": 1, "loss": 0.5}}}},
    {"event": "end", "job": {**job, "phase": "Failed", "reason": "rank 0: script exited 1"} if failing else {**job, "phase": "Succeeded"}},
]
with open(sys.argv[0] + ".argv", "w") as f:
    json.dump(argv, f)
for event in events:
    print(json.dumps(event), flush=True)
sys.exit(1 if failing else 0)
'''


@pytest.fixture
def events_cli(tmp_path, monkeypatch):
    script = tmp_path / "skiff_events.py"
    script.write_text(EVENTS_CLI)
    monkeypatch.setenv("SKIFF_COMMAND", f"{sys.executable} {script}")
    return script


def test_the_magic_follows_the_clis_events_lines_chart_and_outcome(shell, events_cli, capsys, monkeypatch):
    shown = []
    monkeypatch.setattr("skiff_jupyterlab.magic.display", lambda bundle, **kw: _Handle(shown, bundle))
    shell.run_cell_magic("skiff", "--workers 2 --name magic-events", "print('hi')")
    out, err = capsys.readouterr()
    assert "[rank 1] epoch 1\n" in out
    assert "submitted training job magic-events" in err
    argv = json.loads(pathlib.Path(str(events_cli) + ".argv").read_text())
    assert argv[0] == "run" and argv[-2:] == ["-o", "json"]
    # The chart got the sample from the event stream (no second process follows the metrics).
    assert shown[-1]["application/vnd.skiff.metrics+json"]["samples"] == [
        {"type": "training", "metric": {"rank": 0, "time": "t", "values": {"step": 1, "loss": 0.5}}}
    ]


def test_a_failed_job_fails_the_cell_with_the_outcomes_reason(shell, events_cli, monkeypatch):
    monkeypatch.setattr("skiff_jupyterlab.magic.display", lambda bundle, **kw: _Handle([], bundle))
    with pytest.raises(SkiffJobFailed, match=r"job magic-fails Failed: rank 0: script exited 1 \(details: `skiff describe magic-fails`\)"):
        shell.run_cell_magic("skiff", "--name magic-fails", "raise SystemExit(1)")


def test_a_cli_without_events_is_an_error_not_silence(shell, tmp_path, monkeypatch):
    script = tmp_path / "old_skiff.py"
    script.write_text("print('[rank 0] hi')\n")
    monkeypatch.setenv("SKIFF_COMMAND", f"{sys.executable} {script}")
    monkeypatch.setattr("skiff_jupyterlab.magic.display", lambda bundle, **kw: _Handle([], bundle))
    with pytest.raises(SkiffJobFailed, match="where an event of `-o json` was expected: update the Skiff CLI"):
        shell.run_cell_magic("skiff", "--name magic-old", "print('hi')")


class _Handle:
    """What IPython's display(display_id=True) returns: the bundles shown, in order."""

    def __init__(self, shown, bundle):
        self.shown = shown
        shown.append(bundle)

    def update(self, bundle, **kw):
        self.shown.append(bundle)
