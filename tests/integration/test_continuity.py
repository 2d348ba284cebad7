"""IT service continuity (issue #4, first scenarios): the collector dies (kill -9) and stays
away while the agent keeps sampling; when it is back, the agent's disk spool delivers every
batch exactly once and its alive spans rewrite the gap: the host was unreachable, not down,
so its availability shows no downtime. ACCORD_LONG_TESTS=1 makes the outage 2 minutes.
"""
import os
import random
import re
import signal
import time
import unittest

from accord_harness import Agent, Collector, make_tmp, restartable_port, wait_for

LONG = os.environ.get("ACCORD_LONG_TESTS") == "1"
OUTAGE = 120 if LONG else 8
AGENT_KILLS = 20 if LONG else 3


def metric(text, name, host):
    m = re.search(r'^%s\{host="%s"[^}]*\} ([0-9.e+]+)$' % (re.escape(name), re.escape(host)),
                  text, re.M)
    return float(m.group(1)) if m else None


class ContinuityTest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmp()
        # Killed and started again on the same port below.
        self.collector = Collector(self.tmp,
                                   ["--grpc.listen-address=127.0.0.1:%d" % restartable_port()])
        self.agent = Agent(self.collector.grpc_address, self.tmp, "cont-a")

    def tearDown(self):
        self.agent.stop()
        self.collector.stop()

    def test_collector_outage_is_not_downtime_and_loses_nothing(self):
        self.assertTrue(wait_for(lambda: self.collector.state("cont-a") == "up", 15))
        self.assertTrue(wait_for(lambda: self.collector.host("cont-a")["last_sequence"] >= 3, 15))
        t0 = time.time() - 2
        port = self.collector.grpc_port
        self.collector.signal(signal.SIGKILL)
        self.collector.wait()
        time.sleep(OUTAGE)
        self.collector = Collector(self.tmp, ["--grpc.listen-address=127.0.0.1:%d" % port])

        # Caught up: nothing left in the spool and the collector holds every sample produced.
        def caught_up():
            m = self.collector.get("/metrics")
            produced = metric(m, "accord_agent_samples_produced_total", "cont-a")
            accepted = metric(m, "accord_host_samples_accepted_total", "cont-a")
            dropped = metric(m, "accord_agent_spool_dropped_samples_total", "cont-a")
            backlog = metric(m, "accord_agent_spool_backlog_batches", "cont-a")
            if None in (produced, accepted, dropped, backlog):
                return None
            # `produced` travels in the newest batch and counts that batch itself.
            if backlog <= 1 and accepted + dropped == produced:
                return (produced, accepted, dropped)
            return None
        counts = wait_for(caught_up, 60, 0.2)
        self.assertTrue(counts, self.collector.get("/metrics")[-3000:])
        produced, accepted, dropped = counts
        self.assertEqual(dropped, 0)
        self.assertGreater(accepted, 0)

        t1 = time.time()
        q = "?from=%s&to=%s" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t1)))
        avail = self.collector.get_json("/api/v1/hosts/cont-a/availability" + q)
        self.maxDiff = None
        detail = self.collector.get_json("/api/v1/hosts/cont-a")
        self.assertEqual(avail["incidents"], [], (avail, detail))
        self.assertEqual(avail["downtime_seconds"], 0, avail)
        detail = self.collector.get_json("/api/v1/hosts/cont-a")
        causes = [t["cause"] for t in detail["transitions"]]
        self.assertIn("collector_restart", causes)
        self.assertTrue(detail["revisions"], detail)  # the backfill is in the audit trail
        print("\ncollector away %ds: %d samples accepted, 0 dropped, 0 s downtime" %
              (OUTAGE, accepted))


class AgentCrashTest(unittest.TestCase):
    """kill -9 of the agent at random moments (also mid-write to its spool), restarted each
    time: every sample produced is accepted exactly once or counted as dropped."""

    def setUp(self):
        self.tmp = make_tmp()
        self.collector = Collector(self.tmp)
        self.agent = None

    def tearDown(self):
        if self.agent:
            self.agent.stop()
        self.collector.stop()

    def test_agent_kill9_loses_and_duplicates_nothing(self):
        rng = random.Random(4)
        for i in range(AGENT_KILLS + 1):
            self.agent = Agent(self.collector.grpc_address, self.tmp, "crash-a")
            self.assertTrue(wait_for(lambda: self.collector.state("crash-a") == "up", 15))
            if i == AGENT_KILLS:
                break
            time.sleep(rng.uniform(0.5, 2.5))
            self.agent.signal(signal.SIGKILL)
            self.agent.wait()

        def caught_up():
            m = self.collector.get("/metrics")
            produced = metric(m, "accord_agent_samples_produced_total", "crash-a")
            accepted = metric(m, "accord_host_samples_accepted_total", "crash-a")
            dropped = metric(m, "accord_agent_spool_dropped_samples_total", "crash-a")
            if None in (produced, accepted, dropped):
                return None
            return (produced, accepted, dropped) if accepted + dropped == produced else None
        counts = wait_for(caught_up, 60, 0.2)
        self.assertTrue(counts, self.collector.get("/metrics")[-2000:])
        self.assertEqual(counts[2], 0)
        self.assertEqual(self.collector.host("crash-a")["samples_accepted"], counts[1])
        print("\nagent killed %d times: %d samples produced, %d accepted once, 0 dropped" %
              (AGENT_KILLS, counts[0], counts[1]))


if __name__ == "__main__":
    unittest.main()
