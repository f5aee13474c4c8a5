"""Tests for the in-job helper. Run: python3 -m unittest discover -s runtime/python/tests"""

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import unittest
from unittest import mock

# Keep __pycache__ out of the shipped package folder (ours and the launched scripts').
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, PYTHON_DIR)

import skiff  # noqa: E402
from skiff import launch  # noqa: E402


def run_launch(script_text, *args, env=None, script_name="main.py"):
    """Runs `python3 -m skiff.launch` on a temporary script, the way a pod does."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, script_name)
        if script_text is not None:
            os.makedirs(os.path.dirname(script), exist_ok=True)
            with open(script, "w") as f:
                f.write(textwrap.dedent(script_text))
        full_env = {k: v for k, v in os.environ.items() if k not in ("MASTER_ADDR", "WORLD_SIZE", "RANK")}
        full_env.update({"PYTHONPATH": PYTHON_DIR, **(env or {})})
        return subprocess.run([sys.executable, "-m", "skiff.launch", script, *args], cwd=tmp, env=full_env,
                              capture_output=True, text=True, timeout=60)


class LogTest(unittest.TestCase):
    def capture(self, **values):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            skiff.log(**values)
        line = out.getvalue()
        self.assertTrue(line.startswith(skiff.METRIC_PREFIX), line)
        self.assertTrue(line.endswith("\n"))
        return json.loads(line[len(skiff.METRIC_PREFIX):])

    def test_prints_numbers_as_json(self):
        self.assertEqual(self.capture(step=3, loss=0.5), {"step": 3, "loss": 0.5})

    def test_step_comes_first(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            skiff.log(loss=1.0, step=7)
        self.assertEqual(out.getvalue(), 'SKIFF_METRIC {"step":7,"loss":1.0}\n')

    def test_skips_non_numbers_and_non_finite_with_one_warning(self):
        err = io.StringIO()
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            skiff.log(acc=0.9, note="hi", flag=True, bad=float("nan"))
            skiff.log(note="again")
        first = json.loads(out.getvalue().splitlines()[0][len(skiff.METRIC_PREFIX):])
        self.assertEqual(first, {"acc": 0.9})
        self.assertEqual(err.getvalue().count("note="), 1)
        self.assertIn("bad=nan", err.getvalue())

    def test_accepts_scalars_with_item(self):
        class Scalar:
            def item(self):
                return 2.5
        self.assertEqual(self.capture(loss=Scalar()), {"loss": 2.5})


class RankTest(unittest.TestCase):
    def test_reads_env(self):
        with mock.patch.dict(os.environ, {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "0"}):
            self.assertEqual((skiff.rank(), skiff.world_size(), skiff.local_rank()), (3, 4, 0))
            self.assertFalse(skiff.is_main())

    def test_defaults_outside_a_job(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertEqual((skiff.rank(), skiff.world_size()), (0, 1))
            self.assertTrue(skiff.is_main())


class WaitForMasterTest(unittest.TestCase):
    def fake_clock(self):
        now = [0.0]
        return now, (lambda: now[0]), (lambda s: now.__setitem__(0, now[0] + s))

    def test_retries_until_resolved_and_says_so_once(self):
        now, clock, sleep = self.fake_clock()
        calls = []

        def resolve(addr, port):
            calls.append(addr)
            if len(calls) < 4:
                raise socket.gaierror("not yet")
            return [("ok",)]

        out = io.StringIO()
        self.assertTrue(launch.wait_for_master("job-0.job", resolve=resolve, sleep=sleep, clock=clock, out=out))
        self.assertEqual(len(calls), 4)
        self.assertEqual(now[0], 3.0)
        self.assertEqual(len(out.getvalue().splitlines()), 1)
        self.assertIn("job-0.job", out.getvalue())

    def test_gives_up_after_timeout(self):
        _, clock, sleep = self.fake_clock()

        def resolve(addr, port):
            raise socket.gaierror("never")

        out = io.StringIO()
        self.assertFalse(launch.wait_for_master("x", timeout=300, resolve=resolve, sleep=sleep, clock=clock, out=out))

    def test_no_message_when_resolved_at_once(self):
        out = io.StringIO()
        self.assertTrue(launch.wait_for_master("localhost", resolve=lambda a, p: [], out=out))
        self.assertEqual(out.getvalue(), "")

    def test_waits_only_for_multi_worker_jobs(self):
        self.assertTrue(launch._should_wait({"MASTER_ADDR": "a", "WORLD_SIZE": "2"}))
        self.assertFalse(launch._should_wait({"MASTER_ADDR": "a", "WORLD_SIZE": "1"}))
        self.assertFalse(launch._should_wait({"WORLD_SIZE": "2"}))

    def test_main_returns_1_when_master_never_resolves(self):
        with tempfile.NamedTemporaryFile("w", suffix=".py") as f, \
                mock.patch.object(launch, "wait_for_master", return_value=False), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            code = launch.main([f.name], env={"MASTER_ADDR": "job-0.job", "WORLD_SIZE": "2"})
        self.assertEqual(code, 1)
        self.assertIn("did not appear in DNS", err.getvalue())


class LaunchTest(unittest.TestCase):
    def test_runs_script_as_main_with_argv(self):
        r = run_launch("""
            import sys
            print(__name__, sys.argv[1:], sys.argv[0].endswith("main.py"))
        """, "--lr", "0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "__main__ ['--lr', '0.1'] True")

    def test_sibling_modules_import_from_a_subfolder(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "src"))
            with open(os.path.join(tmp, "src", "helper.py"), "w") as f:
                f.write("VALUE = 42\n")
            with open(os.path.join(tmp, "src", "main.py"), "w") as f:
                f.write("import helper\nprint(helper.VALUE)\n")
            r = subprocess.run([sys.executable, "-m", "skiff.launch", "src/main.py"], cwd=tmp,
                               env={**os.environ, "PYTHONPATH": PYTHON_DIR}, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "42")

    def test_missing_script_exits_2(self):
        r = run_launch(None)
        self.assertEqual(r.returncode, 2)
        self.assertIn("skiff: script not found: ", r.stderr)
        self.assertIn("main.py", r.stderr)

    def test_syntax_error_prints_traceback_and_exits_1(self):
        r = run_launch("def broken(:\n    pass\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("SyntaxError", r.stderr)
        self.assertIn("main.py", r.stderr)

    def test_exception_traceback_starts_at_the_script(self):
        r = run_launch("""
            def fail():
                raise ValueError("boom")
            fail()
        """)
        self.assertEqual(r.returncode, 1)
        self.assertIn("ValueError: boom", r.stderr)
        self.assertNotIn("runpy", r.stderr)
        self.assertNotIn("launch.py", r.stderr)

    def test_system_exit_code_is_propagated(self):
        self.assertEqual(run_launch("import sys; sys.exit(7)").returncode, 7)
        r = run_launch("raise SystemExit('bad input')")
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad input", r.stderr)
        self.assertEqual(run_launch("import sys; sys.exit(0)").returncode, 0)

    def test_single_worker_does_not_wait_for_dns(self):
        r = run_launch("print('ran')", env={"MASTER_ADDR": "does-not-exist.invalid", "WORLD_SIZE": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ran")

    def test_metrics_from_a_script(self):
        r = run_launch("import skiff\nskiff.log(step=1, loss=0.25)\n")
        self.assertEqual(r.stdout, 'SKIFF_METRIC {"step":1,"loss":0.25}\n')

    def test_no_arguments_prints_usage(self):
        r = subprocess.run([sys.executable, "-m", "skiff.launch"], env={**os.environ, "PYTHONPATH": PYTHON_DIR},
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)


if __name__ == "__main__":
    unittest.main()
