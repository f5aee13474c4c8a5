"""The pod's metrics for Prometheus (skiff/exporter.py), alone and under the real launcher."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, PYTHON_DIR)

from skiff import exporter  # noqa: E402


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MetricsTest(unittest.TestCase):
    def test_records_become_gauges_and_usage_follows(self):
        m = exporter.Metrics(readings=lambda: {exporter.CPU: 1.5, exporter.MEMORY: 2048})
        m.observe(b'SKIFF_METRIC {"step": 3, "loss": 0.25, "train/acc": 1, "flag": true, "note": "x"}')
        m.observe(b'SKIFF_METRIC {"loss": 0.125}')
        m.observe(b"an ordinary line")
        m.observe(b"SKIFF_METRIC {not json")
        self.assertEqual(m.exposition(), "\n".join([
            "# TYPE skiff_loss gauge", "skiff_loss 0.125",
            "# TYPE skiff_step gauge", "skiff_step 3.0",
            "# TYPE skiff_train_acc gauge", "skiff_train_acc 1.0",
            "# TYPE skiff_cpu_seconds_total counter", "skiff_cpu_seconds_total 1.5",
            "# TYPE skiff_memory_working_set_bytes gauge", "skiff_memory_working_set_bytes 2048.0",
        ]) + "\n")

    def test_logged_names_become_metric_names(self):
        self.assertEqual(exporter.metric_name("loss"), "skiff_loss")
        self.assertEqual(exporter.metric_name("train/loss-avg"), "skiff_train_loss_avg")

    def test_a_logged_name_never_shadows_the_usage_readings(self):
        m = exporter.Metrics(readings=lambda: {exporter.CPU: 1.0})
        m.observe(b'SKIFF_METRIC {"cpu_seconds_total": 99}')
        self.assertEqual([line for line in m.exposition().split("\n") if line.startswith("skiff_cpu")], ["skiff_cpu_seconds_total 1.0"])

    def test_waits_for_a_first_scrape_and_one_after_the_last_record(self):
        m = exporter.Metrics(readings=dict)
        self.assertFalse(m.wait_for_last_scrape(timeout=0.05))  # never scraped: Prometheus has not seen the pod
        m.exposition()
        self.assertTrue(m.wait_for_last_scrape(timeout=0))
        m.observe(b'SKIFF_METRIC {"loss": 1}')
        self.assertFalse(m.wait_for_last_scrape(timeout=0.05))
        m.exposition()
        self.assertTrue(m.wait_for_last_scrape(timeout=0))

    def test_after_the_script_ends_a_scrape_gets_its_last_usage_while_running_and_all_its_cpu(self):
        now = {exporter.CPU: 1.0, exporter.MEMORY: 500e6}
        m = exporter.Metrics(readings=lambda: dict(now))
        m.sample()
        now.update({exporter.CPU: 1.5, exporter.MEMORY: 10e6})  # the script has exited; its memory is freed
        m.freeze()
        self.assertIn("skiff_memory_working_set_bytes 500000000.0\n", m.exposition())
        self.assertIn("skiff_cpu_seconds_total 1.5\n", m.exposition())


class UsageTest(unittest.TestCase):
    def test_cgroup_v2_reads_cpu_and_the_working_set(self):
        root = tempfile.mkdtemp()
        write(f"{root}/cgroup.controllers", "cpu memory\n")
        write(f"{root}/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\n")
        write(f"{root}/memory.current", "10000\n")
        write(f"{root}/memory.stat", "anon 6000\ninactive_file 3000\n")
        self.assertEqual(exporter.cgroup_usage(root), {exporter.CPU: 2.5, exporter.MEMORY: 7000})

    def test_cgroup_v1_reads_cpu_and_the_working_set(self):
        root = tempfile.mkdtemp()
        write(f"{root}/cpuacct/cpuacct.usage", "3000000000\n")
        write(f"{root}/memory/memory.usage_in_bytes", "10000\n")
        write(f"{root}/memory/memory.stat", "cache 5000\ntotal_inactive_file 4000\n")
        self.assertEqual(exporter.cgroup_usage(root), {exporter.CPU: 3.0, exporter.MEMORY: 6000})

    def test_no_cgroup_gives_no_readings(self):
        self.assertEqual(exporter.cgroup_usage(tempfile.mkdtemp()), {})

    def test_gpus_are_read_with_nvidia_smi_only_where_the_runtime_gave_some(self):
        class Done:
            stdout = "80\n40\n"

        calls = []

        def run(cmd, **_kw):
            calls.append(cmd)
            return Done()

        self.assertEqual(exporter.gpu_usage({}, which=lambda _n: "/usr/bin/nvidia-smi", run=run), {})
        self.assertEqual(exporter.gpu_usage({"NVIDIA_VISIBLE_DEVICES": "0"}, which=lambda _n: None, run=run), {})
        self.assertEqual(calls, [])
        self.assertEqual(exporter.gpu_usage({"NVIDIA_VISIBLE_DEVICES": "0,1"}, which=lambda _n: "/x", run=run), {exporter.GPU: 60.0})


class UnderTheLauncherTest(unittest.TestCase):
    """The real launcher with SKIFF_LOG_DIR and SKIFF_METRICS_PORT, as a pod on a cluster with Prometheus runs it."""

    def launch(self, script_text, port):
        tmp = tempfile.mkdtemp()
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", tmp]))
        write(f"{tmp}/train.py", script_text)
        os.makedirs(f"{tmp}/logs")
        env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "SKIFF_LOG_DIR": f"{tmp}/logs", "SKIFF_POD_NAME": "job-0",
               exporter.PORT_ENV: str(port)}
        return subprocess.Popen([sys.executable, "-m", "skiff.launch", f"{tmp}/train.py"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def scrape(self, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            return r.headers["Content-Type"], r.read().decode()

    def test_a_short_script_waits_for_the_scrape_that_carries_its_last_record(self):
        port = free_port()
        proc = self.launch("import skiff\nfor i in range(3):\n    skiff.log(step=i, loss=1 / (i + 1))\n", port)
        body = ""
        deadline = time.monotonic() + 20
        while "skiff_step 2.0" not in body and time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                content_type, body = self.scrape(port)
            except OSError:
                continue
        scraped = time.monotonic()
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("version=0.0.4", content_type)
        self.assertIn("skiff_loss 0.3333333333333333\n", body)
        self.assertIn("skiff_step 2.0\n", body)
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers") or os.path.exists("/sys/fs/cgroup/cpuacct"):
            self.assertIn("skiff_cpu_seconds_total ", body)
        # It ended once the last record was scraped, not after the whole wait.
        self.assertLess(time.monotonic() - scraped, exporter.FINAL_SCRAPE_SECONDS - 1)
        self.assertEqual(out.count("SKIFF_METRIC"), 3)  # the output passes through unchanged

    def test_a_port_in_use_is_said_once_and_the_script_still_runs(self):
        with socket.socket() as busy:
            busy.bind(("0.0.0.0", 0))
            busy.listen()
            proc = self.launch("print('ran')\n", busy.getsockname()[1])
            out, err = proc.communicate(timeout=20)
        self.assertEqual((proc.returncode, out), (0, "ran\n"))
        self.assertEqual(err.count("cannot serve this pod's metrics"), 1)


if __name__ == "__main__":
    unittest.main()
