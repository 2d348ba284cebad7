"""End to end with the real Prometheus (Debian package): it scrapes the collector, and
`accord_host_up` is 1 while the agent runs and 0 after it is killed. promtool checks /metrics.
"""
import json
import os
import shutil
import signal
import subprocess
import unittest
import urllib.parse
import urllib.request

from accord_harness import Agent, Collector, Process, free_port, make_tmp, wait_for

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


@unittest.skipUnless(PROMETHEUS and PROMTOOL, "prometheus and promtool are installed by "
                     "scripts/install-deps.sh")
class PrometheusE2ETest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmp()
        self.collector = Collector(self.tmp)
        self.agent = Agent(self.collector.grpc_address, self.tmp, "e2e-host")
        self.prom_port = free_port()
        config = os.path.join(self.tmp, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: accord\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n"
                    "    metric_relabel_configs:\n"
                    "      - {source_labels: [__name__], regex: 'accord_host_(up|state)', "
                    "action: drop}\n"
                    # The small, frequent liveness scrape (deploy/prometheus/prometheus.yml).
                    "  - job_name: accord-liveness\n"
                    "    params: {family: [accord_host_up, accord_host_state]}\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                    % (self.collector.web_port, self.collector.web_port))
        self.prom = Process([PROMETHEUS, "--config.file=" + config,
                             "--storage.tsdb.path=" + os.path.join(self.tmp, "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % self.prom_port,
                             "--log.level=warn"], "prometheus")

    def tearDown(self):
        self.prom.stop()
        self.agent.stop()
        self.collector.stop()

    def query(self, expr):
        url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (self.prom_port,
                                                             urllib.parse.quote(expr))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = json.loads(r.read())
        except OSError:
            return None
        result = body.get("data", {}).get("result", [])
        return result[0]["value"][1] if result else None

    def test_promtool_accepts_metrics(self):
        wait_for(lambda: self.collector.state("e2e-host") == "up", 15)
        wait_for(lambda: "accord_host_cpu_seconds_total" in self.collector.get("/metrics"), 15)
        text = self.collector.get("/metrics")
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_host_up_then_down_in_prometheus(self):
        self.assertTrue(wait_for(lambda: self.query('accord_host_up{host="e2e-host"}') == "1",
                                 60, 0.2), "\n".join(self.prom.log()[-20:]))
        self.assertTrue(wait_for(
            lambda: self.query('accord_up_check_scrape_ok') is None and
            self.query('up{job="accord"}') == "1", 10, 0.2))
        # The liveness job takes in only the two families it asked for.
        self.assertTrue(wait_for(
            lambda: self.query('accord_host_up{job="accord-liveness",host="e2e-host"}') == "1",
            30, 0.2))
        self.assertEqual(self.query('count({job="accord-liveness",__name__!~'
                                    '"accord_host_up|accord_host_state|up|scrape_.*"})'), None)
        self.assertEqual(self.query('count({job="accord-liveness",__name__="accord_host_state"})'),
                         "4")
        self.assertEqual(self.query('count(accord_host_up)'), "1")  # one source of liveness
        self.agent.signal(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: self.query('accord_host_up{host="e2e-host"}') == "0",
                                 30, 0.2))
        self.assertEqual(self.query('accord_host_state{host="e2e-host",state="unreachable"}'), "1")
        self.assertTrue(wait_for(
            lambda: self.query('accord_host_up{job="accord-liveness",host="e2e-host"}') == "0",
            30, 0.2))



@unittest.skipUnless(PROMTOOL, "promtool is installed by scripts/install-deps.sh")
class ShippedPrometheusFilesTest(unittest.TestCase):
    DEPLOY = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "prometheus")

    def test_rules_and_config_are_valid(self):
        for args in (["check", "rules", os.path.join(self.DEPLOY, "accord-rules.yml")],
                     ["check", "config", os.path.join(self.DEPLOY, "prometheus.yml")]):
            p = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_alert_rules_fire_as_their_unit_tests_say(self):
        # Prometheus's own rule engine evaluates the shipped rules on synthetic series.
        p = subprocess.run([PROMTOOL, "test", "rules",
                            os.path.join(self.DEPLOY, "accord-rules.test.yml")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
