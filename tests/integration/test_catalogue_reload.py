"""The catalogue at work: /api/v1/services, accord_sla_* metrics (checked by promtool), and
SIGHUP reload that keeps the running catalogue when the new file is bad."""
import os
import shutil
import signal
import subprocess
import unittest

from accord_harness import Agent, Collector, make_tmp, wait_for

PROMTOOL = shutil.which("promtool")

GOOD = """
teams:
  - id: ops
    restore_target: 4h
services:
  - id: svc
    name: Service
    owner: ops
    priority: critical
    components: {hosts: [r-a]}
    support_team: ops
    sla: {target: 99.9, period: month, unknown: down}
"""

BAD = GOOD.replace("target: 99.9", "target: 140")

TWO = GOOD + """
  - id: svc2
    components: {selector: {role: web}}
    available_when: any
    sla: {target: 99, period: rolling 7d}
"""


class CatalogueReloadTest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmp()
        self.path = os.path.join(self.tmp, "collector.yaml")
        self.write(GOOD)
        self.collector = Collector(self.tmp, ["--config.file=" + self.path])
        self.agent = Agent(self.collector.grpc_address, self.tmp, "r-a", ["--label=role=web"])

    def tearDown(self):
        self.agent.stop()
        self.collector.stop()

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)

    def services(self):
        return {s["id"]: s for s in self.collector.get_json("/api/v1/services")["services"]}

    def test_services_metrics_and_reload(self):
        self.assertTrue(wait_for(lambda: self.collector.state("r-a") == "up", 15))
        self.assertTrue(wait_for(lambda: self.services()["svc"]["state"] == "up", 10))
        svc = self.services()["svc"]
        self.assertEqual(svc["priority"], "critical")
        self.assertEqual(svc["components"], ["r-a"])
        self.assertTrue(svc["compliant"])
        metrics = self.collector.get("/metrics")
        self.assertIn('accord_service_up{service="svc",owner="ops",priority="critical"} 1',
                      metrics)
        self.assertIn('accord_sla_target_ratio{service="svc",owner="ops",priority="critical"} '
                      '0.999', metrics)
        self.assertRegex(metrics, r'accord_sla_burn_rate\{service="svc",.*window="5m"\} ')
        if PROMTOOL:
            p = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        # A bad file: refused, the running catalogue stays.
        self.write(BAD)
        self.collector.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: self.collector.find("catalogue reload failed"), 10))
        self.assertEqual(set(self.services()), {"svc"})
        self.assertIn("accord_collector_catalogue_reload_errors_total 1",
                      self.collector.get("/metrics"))
        self.assertTrue(self.collector.find(r"sla\.target"))

        # A good one: taken.
        self.write(TWO)
        self.collector.signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: set(self.services()) == {"svc", "svc2"}, 10))
        self.assertEqual(self.services()["svc2"]["components"], ["r-a"])

        # Killing the host takes the service down now.
        self.agent.signal(signal.SIGKILL)
        self.assertTrue(wait_for(lambda: self.services()["svc"]["state"] != "up", 10))
        avail = self.collector.get_json("/api/v1/services/svc/availability")
        self.assertEqual(len(avail["incidents"]), 1)
        self.assertTrue(avail["incidents"][0]["ongoing"])
        self.assertEqual(avail["incidents"][0]["cause"], "stream_broken")

    def test_bad_query_parameters(self):
        import urllib.error
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            self.collector.get("/api/v1/services/svc/availability?from=yesterday")
        self.assertEqual(ctx.exception.code, 400)
        self.assertIn(b"from", ctx.exception.read())
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            self.collector.get("/api/v1/services/nope/availability")
        self.assertEqual(ctx.exception.code, 404)


if __name__ == "__main__":
    unittest.main()
