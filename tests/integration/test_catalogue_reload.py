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

    def test_each_family_alone_is_its_block_of_the_whole(self):
        # /metrics?family=F: from every source (registry, agent series, SLA, capacity, the
        # collector's own), exactly F's block of the whole exposition. Values move between two
        # GETs; the series (name and labels) must not.
        import re
        import urllib.error
        self.assertTrue(wait_for(lambda: self.collector.state("r-a") == "up", 15))
        self.assertTrue(wait_for(lambda: "accord_sla_target_ratio" in self.collector.get(
            "/metrics") and "accord_host_cpu_seconds_total" in self.collector.get("/metrics"), 15))

        def blocks(text):
            out, family = {}, None
            for line in text.splitlines():
                m = re.match(r"# (?:HELP|TYPE) (\S+)", line)
                if m:
                    family = m.group(1)
                if family is None or (line.startswith("#") and not m):
                    continue
                out.setdefault(family, []).append(line if m else line.rsplit(" ", 1)[0])
            return out

        whole = blocks(self.collector.get("/metrics"))
        prefixes = {f.split("_")[1] for f in whole}
        self.assertTrue({"host", "sla", "service", "collector", "agent"} <= prefixes, prefixes)
        for family in sorted(whole):
            for attempt in range(3):
                alone = blocks(self.collector.get("/metrics?family=" + family))
                if alone == {family: whole[family]}:
                    break
                whole = blocks(self.collector.get("/metrics"))  # the series changed meanwhile
            self.assertEqual(alone, {family: whole[family]}, family)
        # Repeated parameters, as Prometheus sends `params: {family: [a, b]}`.
        both = blocks(self.collector.get("/metrics?family=accord_host_up&family=accord_sla_target_ratio"))
        self.assertEqual(set(both), {"accord_host_up", "accord_sla_target_ratio"})
        with self.assertRaises(urllib.error.HTTPError) as ctx:
            self.collector.get("/metrics?family=accord_host_up,not-a-name")
        self.assertEqual(ctx.exception.code, 400)
        self.assertIn('family: "not-a-name" is not a metric name', ctx.exception.read().decode())

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
