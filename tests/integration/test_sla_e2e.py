"""End-to-end SLA scenario with real processes: three agents form a 2-of-3 service; a
timetable kills, freezes and restarts them and records the truth; the API's incidents must
match the truth within one heartbeat interval + 200 ms at each edge, for the service and for
each host. Then the collector restarts and the figures for the same range must not change.
"""
import calendar
import os
import signal
import time
import unittest

from accord_harness import Agent, Collector, make_tmp, wait_for

HEARTBEAT = 1.0
TOLERANCE = HEARTBEAT + 0.2
STEP = 3.0  # seconds between timetable events

CATALOGUE = """
services:
  - id: trio
    name: Three-node store
    owner: storage-team
    priority: high
    components:
      hosts: [e2e-a, e2e-b, e2e-c]
    available_when: 2 of 3
    sla:
      target: 99.5
      period: month
      unknown: down
"""


def parse_time(s):
    # "2026-11-28T07:23:20.669Z"
    main, _, frac = s.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(main, "%Y-%m-%dT%H:%M:%S"))
    return t + (float("0." + frac) if frac else 0.0)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


class SlaScenarioTest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmp()
        self.config = os.path.join(self.tmp, "collector.yaml")
        with open(self.config, "w") as f:
            f.write(CATALOGUE)
        self.collector = Collector(self.tmp, ["--config.file=" + self.config])
        self.agents = {}

    def tearDown(self):
        for a in self.agents.values():
            try:
                a.signal(signal.SIGCONT)
            except (ProcessLookupError, OSError):
                pass
            a.stop()
        self.collector.stop()

    def start(self, name):
        a = Agent(self.collector.grpc_address, self.tmp, name)
        self.agents[name] = a
        self.assertTrue(wait_for(lambda: self.collector.state(name) == "up", 10))
        return time.time()

    def assert_incidents(self, got, truth, what):
        msg = "%s: got %s, truth %s" % (what, [(round(parse_time(i["start"]) - self.t0, 2),
                                                round(parse_time(i["end"]) - self.t0, 2),
                                                i["cause"]) for i in got],
                                         [(round(s - self.t0, 2), round(e - self.t0, 2))
                                          for s, e in truth])
        self.assertEqual(len(got), len(truth), msg)
        for inc, (start, end) in zip(got, truth):
            self.assertLessEqual(abs(parse_time(inc["start"]) - start), TOLERANCE, msg)
            self.assertLessEqual(abs(parse_time(inc["end"]) - end), TOLERANCE, msg)

    def test_two_of_three_timetable(self):
        truth = {"e2e-a": [], "e2e-b": [], "e2e-c": []}
        self.t0 = time.time()
        for name in ("e2e-a", "e2e-b", "e2e-c"):
            self.start(name)
        time.sleep(STEP)
        self.agents["e2e-a"].signal(signal.SIGKILL)          # a: broken stream
        a_down = time.time()
        self.agents["e2e-a"].wait()
        time.sleep(STEP)
        self.agents["e2e-b"].signal(signal.SIGSTOP)          # b: frozen (silence)
        b_down = time.time()
        time.sleep(STEP + 1)
        a_up = self.start("e2e-a")                           # a back: service up again
        truth["e2e-a"].append((a_down, a_up))
        service = [(b_down, a_up)]
        time.sleep(STEP)
        self.agents["e2e-b"].signal(signal.SIGCONT)          # b resumes
        self.assertTrue(wait_for(lambda: self.collector.state("e2e-b") == "up", 10))
        b_up = time.time()
        truth["e2e-b"].append((b_down, b_up))
        time.sleep(STEP)
        self.agents["e2e-c"].signal(signal.SIGTERM)          # c stopped: unknown, counted down
        c_down = time.time()
        self.agents["e2e-c"].wait()
        time.sleep(STEP)
        self.agents["e2e-a"].signal(signal.SIGKILL)          # a again: service down
        a_down2 = time.time()
        self.agents["e2e-a"].wait()
        time.sleep(STEP)
        c_up = self.start("e2e-c")
        truth["e2e-c"].append((c_down, c_up))
        service.append((a_down2, c_up))
        time.sleep(STEP)
        a_up2 = self.start("e2e-a")
        truth["e2e-a"].append((a_down2, a_up2))
        time.sleep(1.5)
        t_end = time.time()

        query = "?from=%s&to=%s" % (iso(self.t0 - 1), iso(t_end))
        svc = self.collector.get_json("/api/v1/services/trio/availability" + query)
        self.assert_incidents(svc["incidents"], service, "service trio")
        self.assertEqual(set(svc["incidents"][0]["components"]), {"e2e-a", "e2e-b"})
        hosts = {}
        for name, intervals in truth.items():
            hosts[name] = self.collector.get_json("/api/v1/hosts/%s/availability%s" %
                                                  (name, query))
            self.assert_incidents(hosts[name]["incidents"], intervals, name)
        self.assertEqual(hosts["e2e-b"]["incidents"][0]["cause"], "heartbeat_timeout")
        self.assertEqual(hosts["e2e-a"]["incidents"][0]["cause"], "stream_broken")
        downtime = sum(e - s for s, e in service)
        self.assertLessEqual(abs(svc["downtime_seconds"] - downtime), 2 * TOLERANCE)

        # Restart the collector on the same storage: the same range gives the same figures.
        for a in self.agents.values():
            a.stop()
        self.collector.stop()
        self.collector = Collector(self.tmp, ["--config.file=" + self.config])
        svc2 = self.collector.get_json("/api/v1/services/trio/availability" + query)
        self.assertEqual(svc2, svc)
        for name in truth:
            self.assertEqual(self.collector.get_json(
                "/api/v1/hosts/%s/availability%s" % (name, query)), hosts[name])


if __name__ == "__main__":
    unittest.main()
