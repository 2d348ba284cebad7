"""accord-loadgen against a real collector: when the generator itself falls silent (stopped,
as a starved machine would stop it), it says so (sender gaps in its report), and the collector
tells that silence from its own late reading (the message that ends it was not late).

The detection benchmark (scripts/bench-detection.sh) relies on both to tell a healthy host
that left "up" because the generator fell behind from one the collector got wrong.
"""
import json
import os
import re
import signal
import subprocess
import time
import unittest

from accord_harness import BIN_DIR, Collector, make_tmp, wait_for

LOADGEN = os.path.join(BIN_DIR, "bench", "accord-loadgen")
AGENTS = 5
HEARTBEAT_S = 0.5
STOPPED_S = 2.5  # 5 heartbeats: over the collector's limit (and the generator's gap) of 3
FREEZE_AT_S = 8  # after every agent connected; the stop must be over by then


@unittest.skipUnless(os.path.exists(LOADGEN), "accord-loadgen not built (ACCORD_BUILD_BENCHMARKS)")
class SenderGapTest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmp()
        self.collector = Collector(self.tmp)
        self.loadgen = None

    def tearDown(self):
        if self.loadgen is not None and self.loadgen.poll() is None:
            self.loadgen.send_signal(signal.SIGCONT)
            self.loadgen.kill()
            self.loadgen.wait()
        self.collector.stop()

    def up_hosts(self):
        return sum(1 for h in self.collector.get_json("/api/v1/hosts")["hosts"]
                   if h["state"] == "up")

    def test_generator_stall_is_reported_and_is_not_late_delivery(self):
        out = os.path.join(self.tmp, "loadgen.json")
        # One host frozen (silent on purpose) after the stop: its freeze is not a sender gap.
        args = [LOADGEN, "--collector.address=" + self.collector.grpc_address,
                "--agents=%d" % AGENTS, "--interval=10s", "--heartbeat=%gs" % HEARTBEAT_S,
                "--duration=14s", "--ramp-up=100ms", "--output=json", "--report.interval=0s",
                "--fault.origin=all-connected", "--fault=freeze:20%%@%ds" % FREEZE_AT_S,
                "--fault=reconnect@%ds" % (FREEZE_AT_S + 2)]
        with open(out, "w") as f:
            self.loadgen = subprocess.Popen(args, stdout=f, stderr=subprocess.DEVNULL)
        self.assertTrue(wait_for(lambda: self.up_hosts() == AGENTS, 15))
        time.sleep(1.0)  # steady heartbeats first
        self.loadgen.send_signal(signal.SIGSTOP)
        stopped_at = time.time()
        time.sleep(STOPPED_S)
        resumed_at = time.time()
        self.loadgen.send_signal(signal.SIGCONT)
        self.assertEqual(self.loadgen.wait(timeout=40), 0)
        with open(out) as f:
            report = json.load(f)

        if resumed_at + 0.5 > report["faults_origin_unix_s"] + FREEZE_AT_S:
            self.skipTest("the machine was too slow: the stop overlapped the freeze")

        # The generator: every host wrote nothing for at least as long as it was stopped
        # (a signal to a process running on another CPU lands a moment later: 50 ms slack).
        gaps = report["sender_gap_events"]
        self.assertEqual(report["sender_gaps"], len(gaps))
        stall = [g for g in gaps
                 if g["from_unix_s"] <= stopped_at + 0.05 and g["to_unix_s"] >= resumed_at]
        self.assertEqual(sorted({g["host"] for g in stall}),
                         ["loadgen-%05d" % i for i in range(AGENTS)], report)
        self.assertGreaterEqual(report["sender_gap_max_ms"], 1000 * (STOPPED_S - 0.2))
        # The freeze (2 s, 4 heartbeats) is a fault, not a gap.
        frozen = [e for e in report["fault_events"] if e["kind"] == "freeze"]
        back = [e for e in report["fault_events"] if e["kind"] == "reconnect"]
        self.assertEqual(len(frozen), 1, report["fault_events"])
        self.assertEqual(len(back), 1, report["fault_events"])
        self.assertEqual([g for g in gaps if g["host"] == frozen[0]["host"]
                          and g["from_unix_s"] <= frozen[0]["at_unix_s"]
                          and g["to_unix_s"] >= back[0]["at_unix_s"]], [], gaps)

        # The collector: each host went unreachable by heartbeat timeout and, when it spoke
        # again, the message was not late: the silence was at the sender.
        def spoke_again():
            found = {}
            for line in self.collector.log():
                m = re.search(r'"silent host spoke again" host=(\S+) message_late_ms=(\d+)', line)
                if m:
                    found.setdefault(m.group(1), []).append(int(m.group(2)))
            return found
        found = wait_for(lambda: (lambda f: f if len(f) >= AGENTS else None)(spoke_again()), 10)
        self.assertTrue(found, "\n".join(self.collector.log()))
        for i in range(AGENTS):
            host = "loadgen-%05d" % i
            self.assertIn(host, found)
            self.assertLess(min(found[host]), 1000, found)
            causes = [t["cause"] for t in
                      self.collector.get_json("/api/v1/hosts/" + host)["transitions"]]
            self.assertIn("heartbeat_timeout", causes, host)


if __name__ == "__main__":
    unittest.main()
