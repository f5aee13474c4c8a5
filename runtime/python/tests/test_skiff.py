"""Tests for the in-job helper. Run: python3 -m unittest discover -s runtime/python/tests"""

import contextlib
import io
import json
import os
import signal
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


STAMPED = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "


class KeepLogsTest(unittest.TestCase):
    """With SKIFF_LOG_DIR, the output passes through unchanged and is kept, stamped, in a file."""

    def setUp(self):
        self.logs = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", self.logs]))
        self.env = {"SKIFF_LOG_DIR": self.logs, "SKIFF_POD_NAME": "job-1-abcde", "SKIFF_POD_UID": "u-1",
                    "SKIFF_NODE_NAME": "node-b", "RANK": "1"}

    def kept(self):
        with open(os.path.join(self.logs, "job-1-abcde.log"), "rb") as f:
            lines = f.read().decode().split("\n")
        self.assertEqual(lines[-1], "")
        for line in lines[:-1]:
            self.assertRegex(line, STAMPED)
        with open(os.path.join(self.logs, "job-1-abcde.json")) as f:
            return [line[31:] for line in lines[:-1]], json.load(f)

    def test_passes_output_through_and_keeps_every_line_with_how_the_rank_ended(self):
        r = run_launch("""
            import sys
            print("out 1")
            print("err 1", file=sys.stderr)
            sys.stdout.write("no newline at the end")
            sys.exit(3)
        """, env=self.env)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.stdout, "out 1\nno newline at the end")
        self.assertEqual(r.stderr, "err 1\n")
        lines, meta = self.kept()
        self.assertEqual(sorted(lines), ["err 1", "no newline at the end", "out 1"])
        self.assertEqual(meta["pod"], "job-1-abcde")
        self.assertEqual((meta["uid"], meta["node"], meta["rank"]), ("u-1", "node-b", 1))
        self.assertEqual(meta["ended"]["exitCode"], 3)
        self.assertNotIn("stoppedBy", meta)

    def test_a_progress_bar_on_carriage_returns_stays_one_line_and_long_lines_are_cut(self):
        r = run_launch("""
            import sys
            for i in range(3):
                sys.stdout.write(f"\\r{i}/3")
            print()
            print("x" * 40000)
        """, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines, _ = self.kept()
        self.assertEqual(lines[0], "\r0/3\r1/3\r2/3")
        self.assertEqual([len(line) for line in lines[1:]], [16384, 16384, 40000 - 2 * 16384])

    def test_a_signal_from_outside_is_passed_on_and_recorded(self):
        script = os.path.join(self.logs, "loop.py")
        with open(script, "w") as f:
            f.write("import time\nprint('started', flush=True)\ntime.sleep(60)\n")
        env = {**os.environ, "PYTHONPATH": PYTHON_DIR, **self.env}
        proc = subprocess.Popen([sys.executable, "-m", "skiff.launch", script], env=env, stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline(), "started\n")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 143)
        lines, meta = self.kept()
        self.assertEqual(lines, ["started"])
        self.assertEqual(meta["stoppedBy"]["signal"], "SIGTERM")
        self.assertEqual(meta["ended"], {**meta["ended"], "exitCode": 143, "signal": "SIGTERM"})

    def test_an_unwritable_folder_is_said_and_the_script_still_runs(self):
        r = run_launch("print('ran')", env={**self.env, "SKIFF_LOG_DIR": os.path.join(self.logs, "missing")})
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "ran\n")
        self.assertIn("cannot keep this pod's output", r.stderr)

    def test_a_log_that_cannot_be_written_stops_quietly_and_the_output_still_passes_through(self):
        from skiff import keep_logs
        log = keep_logs.LineLog(os.path.join(self.logs, "p.log"))
        os.close(log._fd)
        log._fd = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC, as on a full disk
        log.write_line(b"lost")
        log.write_line(b"lost too")
        self.assertIn("space", log.failed.lower())
        self.assertFalse(keep_logs.write_json("/dev/full/x.json", {}))
        log.close()

    def test_stamps_as_the_api_server_does(self):
        from skiff import keep_logs
        self.assertEqual(keep_logs.rfc3339(1_764_752_400_123_456_789), "2025-12-03T09:00:00.123456789Z")


if __name__ == "__main__":
    unittest.main()
