"""The notebook session agent, run as a real process and spoken to over HTTP as the runtime does."""

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, PYTHON_DIR)

from skiff import agent  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AgentProcess:
    def __init__(self, *args, env=None):
        self.port = free_port()
        full_env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
        for name in ("MASTER_ADDR", "WORLD_SIZE", "RANK"):
            full_env.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "skiff.agent", "--port", str(self.port), *args],
                                     env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.get("/health")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the agent did not start")

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, path):
        with contextlib.closing(self.connection()) as conn:
            conn.request("GET", path)
            return json.loads(conn.getresponse().read())

    def post(self, path, body):
        with contextlib.closing(self.connection()) as conn:
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            res = conn.getresponse()
            return res.status, res.read()

    def execute(self, code, on_event=None, **fields):
        """Every event of the cell, in order, each with the time it arrived."""
        with contextlib.closing(self.connection()) as conn:
            conn.request("POST", "/execute", json.dumps({"code": code, **fields}), {"Content-Type": "application/json"})
            res = conn.getresponse()
            assert res.status == 200, (res.status, res.read())
            events = []
            for line in res:
                event = json.loads(line)
                event["at"] = time.monotonic()
                events.append(event)
                if on_event:
                    on_event(event)
            return events

    def stop(self):
        self.proc.kill()
        self.proc.communicate()
        self.proc.stdout.close()
        self.proc.stderr.close()


def text_of(events, name="stdout"):
    return "".join(e["text"] for e in events if e["type"] == "stream" and e["name"] == name)


class AgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = AgentProcess()

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()

    def test_state_lives_between_cells_and_the_last_expression_is_the_result(self):
        self.assertEqual(self.agent.execute("import math\nradius = 2")[-1]["status"], "ok")
        events = self.agent.execute("area = math.pi * radius ** 2\nround(area, 2)")
        result = [e for e in events if e["type"] == "result"]
        self.assertEqual(result[0]["data"]["text/plain"], "12.57")
        self.assertEqual(events[-1]["type"], "done")
        self.assertEqual(self.agent.execute("_ * 2")[0]["data"]["text/plain"], "25.14")

    def test_output_streams_while_the_cell_runs(self):
        events = self.agent.execute("import time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('second')")
        first = next(e for e in events if e["type"] == "stream" and "first" in e["text"])
        done = events[-1]
        self.assertGreater(done["at"] - first["at"], 0.4)
        self.assertEqual(text_of(events), "first\nsecond\n")

    def test_print_arrives_in_whole_lines(self):
        events = self.agent.execute("print('a', 'b', 3)\nprint('no newline', end='')")
        texts = [e["text"] for e in events if e["type"] == "stream"]
        # print() writes 'a', ' ', 'b'... one by one; the line travels whole (events may merge further).
        self.assertTrue(texts[0].startswith("a b 3\n"), texts)
        self.assertEqual("".join(texts), "a b 3\nno newline")

    def test_a_progress_bar_arrives_coalesced_and_whole(self):
        events = self.agent.execute("import sys\nfor i in range(2000):\n    sys.stderr.write(f'\\r{i}')\n")
        self.assertTrue(text_of(events, "stderr").endswith("\r1999"))
        self.assertLess(len(events), 2000)

    def test_an_exception_shows_the_cell_line_and_the_rank_lives_on(self):
        events = self.agent.execute("def f():\n    return 1 / 0\nf()")
        error = next(e for e in events if e["type"] == "error")
        self.assertEqual(error["ename"], "ZeroDivisionError")
        self.assertIn("return 1 / 0", error["traceback"])
        self.assertNotIn("agent.py", error["traceback"])
        self.assertEqual(events[-1]["status"], "error")
        self.assertEqual(self.agent.execute("1 + 1")[0]["data"]["text/plain"], "2")

    def test_syntax_errors_and_sys_exit_are_cell_errors(self):
        self.assertEqual(self.agent.execute("def (:")[-1]["status"], "error")
        events = self.agent.execute("import sys\nsys.exit(3)")
        self.assertIn("SystemExit: 3", next(e for e in events if e["type"] == "error")["traceback"])
        self.assertEqual(self.agent.execute("'alive'")[0]["data"]["text/plain"], "'alive'")

    def test_an_endless_cell_is_interrupted_and_the_next_one_runs(self):
        started = threading.Event()

        def interrupt_once_running(event):
            if event["type"] == "stream" and not started.is_set():
                started.set()
                self.assertEqual(self.agent.post("/execute", {"code": "1"})[0], 409)  # one cell at a time
                self.assertEqual(self.agent.get("/health")["busy"], True)
                self.assertEqual(json.loads(self.agent.post("/interrupt", {})[1]), {"interrupted": True})

        events = self.agent.execute("print('looping', flush=True)\nwhile True:\n    pass", on_event=interrupt_once_running)
        self.assertEqual(events[-1]["status"], "interrupted")
        error = next(e for e in events if e["type"] == "error")
        self.assertEqual(error["ename"], "KeyboardInterrupt")
        self.assertNotIn("agent.py", error["traceback"])
        self.assertEqual(json.loads(self.agent.post("/interrupt", {})[1]), {"interrupted": False})
        self.assertEqual(self.agent.execute("'next'")[0]["data"]["text/plain"], "'next'")

    def test_rich_display_and_results_carry_their_mime_bundle(self):
        code = ("class Table:\n    def _repr_html_(self):\n        return '<table></table>'\n"
                "    def __repr__(self):\n        return 'Table()'\n"
                "display(Table())\nTable()")
        events = self.agent.execute(code)
        shown = [e for e in events if e["type"] in ("display", "result")]
        self.assertEqual([e["type"] for e in shown], ["display", "result"])
        for e in shown:
            self.assertEqual(e["data"], {"text/html": "<table></table>", "text/plain": "Table()"})

    def test_matplotlib_draws_into_the_cell_unless_the_user_chose_a_backend(self):
        # The backend itself needs matplotlib, which the session e2e installs (sessions.test.ts);
        # here: it is chosen for the cell's code, and a cell never fails for lack of it.
        events = self.agent.execute("import os\nos.environ['MPLBACKEND']")
        self.assertEqual(events[0]["data"]["text/plain"], "'module://skiff.inline_figures'")
        self.assertEqual(self.agent.execute("import sys\n'matplotlib.pyplot' in sys.modules")[0]["data"]["text/plain"], "False")

    def test_one_kept_alive_connection_serves_cell_after_cell(self):
        # The API server keeps its connection to the pod between cells and health checks.
        with contextlib.closing(self.agent.connection()) as conn:
            sockets = []
            for code in ("kept = 1", "print(kept + 1)"):
                conn.request("POST", "/execute", json.dumps({"code": code}), {"Content-Type": "application/json"})
                events = [json.loads(line) for line in conn.getresponse()]
                self.assertEqual(events[-1]["type"], "done")
                sockets.append(conn.sock)  # None once the agent said it closes the connection
            self.assertEqual(text_of(events), "2\n")
            conn.request("GET", "/health")
            self.assertFalse(json.loads(conn.getresponse().read())["busy"])
            sockets.append(conn.sock)
            self.assertIsNotNone(sockets[0])
            self.assertTrue(all(s is sockets[0] for s in sockets), "each request opened a new connection")

    def test_a_quick_cell_is_one_write_its_headers_and_events_together(self):
        # Through the API server's pod proxy, headers sent apart from the first events (and the last
        # events apart from the stream's end) got streams cut; one write per piece, none were.
        body = json.dumps({"code": 'print("hi")'}).encode()
        with socket.create_connection(("127.0.0.1", self.agent.port), timeout=30) as sock:
            sock.sendall(b"POST /execute HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            received = b""
            while not received.endswith(b"0\r\n\r\n"):
                piece = sock.recv(65536)
                self.assertTrue(piece, received)
                received += piece
                if b'"hi\\n"' not in piece:
                    continue
                self.assertIn(b"HTTP/1.1 200 OK\r\n", piece)
                self.assertIn(b'"type": "done"', piece)
                self.assertTrue(piece.endswith(b"0\r\n\r\n"), piece)
        self.assertIn(b"Transfer-Encoding: chunked\r\n", received)

    def test_a_quiet_cell_opens_its_stream_before_its_first_output(self):
        with contextlib.closing(self.agent.connection()) as conn:
            started = time.monotonic()
            conn.request("POST", "/execute", json.dumps({"code": "import time\ntime.sleep(1.5)\nprint('late')"}),
                         {"Content-Type": "application/json"})
            res = conn.getresponse()
            self.assertEqual(res.status, 200)
            self.assertLess(time.monotonic() - started, 1.0)
            events = [json.loads(line) for line in res]
        self.assertEqual(text_of(events), "late\n")

    def test_package_folders_sent_with_a_cell_are_importable_from_it_on(self):
        # As a live %pip install leaves them: a site folder with a module and a .pth file.
        with tempfile.TemporaryDirectory() as site_dir:
            with open(os.path.join(site_dir, "tabulated_live.py"), "w") as f:
                f.write("VERSION = '1.0'\n")
            os.mkdir(os.path.join(site_dir, "extra"))
            with open(os.path.join(site_dir, "extra", "from_pth.py"), "w") as f:
                f.write("OK = True\n")
            with open(os.path.join(site_dir, "live.pth"), "w") as f:
                f.write("extra\n")
            events = self.agent.execute("import tabulated_live, from_pth, sys\nprint(tabulated_live.VERSION, from_pth.OK, sys.path.index(%r))" % site_dir, paths=[site_dir])
            self.assertEqual(text_of(events), "1.0 True 1\n")
            # The next cell keeps them, without asking again.
            self.assertEqual(text_of(self.agent.execute("import os\nprint(os.environ['PYTHONPATH'].split(os.pathsep)[0])")), site_dir + "\n")
        status, body = self.agent.post("/execute", {"code": "1", "paths": ["relative/dir"]})
        self.assertEqual(status, 400, body)

    def test_bad_requests_are_refused_plainly(self):
        self.assertEqual(self.agent.post("/execute", {"source": "1"})[0], 400)
        self.assertEqual(self.agent.post("/execute", {"code": "1", "from": -1})[0], 400)
        self.assertEqual(self.agent.post("/nowhere", {})[0], 404)

    def test_asking_again_for_a_cell_replays_it_from_where_asked_without_running_it_again(self):
        code = "hits = globals().get('hits', 0) + 1\nfor i in range(3):\n    print(i, flush=True)\nhits"
        first = self.agent.execute(code, id="cell-a")
        # The three prints may travel as one line or several, as the agent's writes
        # happen to batch them; what is fixed is where each event ends in the cell.
        self.assertEqual(text_of(first), "0\n1\n2\n")
        self.assertEqual([(e["type"], e["next"]) for e in first][-2:], [("result", 4), ("done", 5)])
        self.assertTrue(all(e["next"] <= 3 for e in first if e["type"] == "stream"))
        strip = lambda events: [{k: v for k, v in e.items() if k != "at"} for e in events]  # noqa: E731
        after_prints = [e for e in strip(first) if e["next"] > 3]
        self.assertEqual(strip(self.agent.execute(code, id="cell-a", **{"from": 3})), after_prints)
        self.assertEqual(text_of(self.agent.execute(code, id="cell-a", **{"from": 1})), "1\n2\n")
        self.assertEqual(self.agent.execute("hits")[0]["data"], {"text/plain": "1"})

    def test_a_resumed_cell_the_rank_never_ran_is_gone_not_run(self):
        status, body = self.agent.post("/execute", {"code": "print('x')", "id": "unknown", "from": 3})
        self.assertEqual(status, 410)
        self.assertIn("no longer has that cell", json.loads(body)["error"])


class MetricsTest(unittest.TestCase):
    """With the Prometheus add-on (SKIFF_METRICS_PORT) a session rank serves its cells' skiff.log records."""

    def test_a_cells_records_are_served_for_scraping(self):
        import urllib.request

        metrics_port = free_port()
        agent_process = AgentProcess(env={"SKIFF_METRICS_PORT": str(metrics_port)})
        self.addCleanup(agent_process.stop)
        events = agent_process.execute("import skiff\nfor i in range(3):\n    skiff.log(step=i, loss=1 / (i + 1))")
        self.assertEqual(events[-1]["status"], "ok")
        self.assertEqual(text_of(events).count("SKIFF_METRIC"), 3)  # the cell still gets its output
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            body = r.read().decode()
        self.assertIn("skiff_loss 0.3333333333333333\n", body)
        self.assertIn("skiff_step 2.0\n", body)


class IdleTest(unittest.TestCase):
    def test_the_agent_stops_after_its_idle_minutes(self):
        proc = AgentProcess("--idle-minutes", "0.02")  # 1.2 s
        try:
            self.assertEqual(proc.proc.wait(timeout=20), 0)
            self.assertIn("no cell for", proc.proc.stderr.read())
        finally:
            proc.stop()


class MimeBundleTest(unittest.TestCase):
    def test_png_bytes_are_base64_and_broken_reprs_do_not_raise(self):
        class Picture:
            def _repr_png_(self):
                return b"\x89PNG"

            def _repr_html_(self):
                raise ValueError("no")

        bundle = agent.mime_bundle(Picture())
        self.assertEqual(bundle["image/png"], "iVBORw==")
        self.assertNotIn("text/html", bundle)
        self.assertIn("text/plain", bundle)
        self.assertEqual(agent.mime_bundle(int), {"text/plain": "<class 'int'>"})


if __name__ == "__main__":
    unittest.main()
