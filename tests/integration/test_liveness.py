"""Liveness with real processes: up, kill -9, SIGTERM, SIGSTOP, restart, reboot, shutdown.

Timing targets (1 s for a broken stream, 3 heartbeats for silence) are asserted with wide
margins because CI machines are shared; the real figures are printed and measured by
scripts/bench-liveness.sh for docs/benchmarks.md.
"""
import os
import re
import signal
import time
import unittest

from accord_harness import Agent, Collector, fixture_procfs, make_tmp, set_btime, wait_for


class LivenessTest(unittest.TestCase):
    def setUp(self):
        self.tmp = make_tmp()
        self.collector = Collector(self.tmp)
        self.agents = []

    def tearDown(self):
        for a in self.agents:
            if a.proc.poll() is None:
                try:
                    a.signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
            a.stop()
        self.collector.stop()

    def start_agent(self, host_id, extra=()):
        a = Agent(self.collector.grpc_address, self.tmp, host_id, extra)
        self.agents.append(a)
        return a

    def wait_state(self, host_id, state, timeout):
        start = time.monotonic()
        ok = wait_for(lambda: self.collector.state(host_id) == state, timeout, 0.01)
        elapsed = time.monotonic() - start
        self.assertTrue(ok, "%s not %s after %.1fs; is %s\nagent log:\n%s\ncollector log:\n%s" % (
            host_id, state, timeout, self.collector.state(host_id),
            "\n".join(self.agents[-1].log() if self.agents else []),
            "\n".join(self.collector.log()[-30:])))
        return elapsed

    def test_host_appears_up(self):
        start = time.monotonic()
        self.start_agent("it-up")
        self.wait_state("it-up", "up", 15)
        print("\nhost up after %.3fs (target 2s)" % (time.monotonic() - start))
        host = self.collector.host("it-up")
        for field in ("id", "hostname", "state", "since", "last_seen", "boot_time", "labels",
                      "agent_version"):
            self.assertIn(field, host)
        # Resource values arrive with the first batch.
        metrics = wait_for(lambda: (lambda m: m if 'accord_host_memory_available_bytes{host="it-up"}' in m else None)(self.collector.get("/metrics")), 10)
        self.assertTrue(metrics)
        self.assertIn('accord_host_up{host="it-up"} 1', metrics)
        # The web server counts itself; nothing was abandoned by this client.
        own = self.collector.get("/metrics?family=accord_collector_http_requests_total,"
                                 "accord_collector_http_responses_abandoned_total")
        requests = re.search(r"^accord_collector_http_requests_total (\d+)", own, re.M)
        self.assertTrue(requests, own)
        self.assertGreater(int(requests.group(1)), 1)
        self.assertIn("\naccord_collector_http_responses_abandoned_total 0\n", own)

    def test_kill9_is_unreachable_quickly(self):
        agent = self.start_agent("it-kill")
        self.wait_state("it-kill", "up", 15)
        agent.signal(signal.SIGKILL)
        elapsed = self.wait_state("it-kill", "unreachable", 10)
        print("\nkill -9 seen as unreachable after %.3fs (target 1s)" % elapsed)
        self.assertLess(elapsed, 5.0)  # wide CI margin around the 1 s target
        detail = self.collector.get_json("/api/v1/hosts/it-kill")
        self.assertEqual(detail["transitions"][-1]["cause"], "stream_broken")

    def test_sigterm_is_stopped(self):
        agent = self.start_agent("it-term")
        self.wait_state("it-term", "up", 15)
        agent.signal(signal.SIGTERM)
        self.assertEqual(agent.wait(10), 0)
        self.wait_state("it-term", "stopped", 5)
        # Stays stopped (the closed stream is not taken for a network failure).
        time.sleep(0.5)
        self.assertEqual(self.collector.state("it-term"), "stopped")

    def test_sigstop_is_unreachable_within_three_heartbeats_then_resumes(self):
        agent = self.start_agent("it-freeze")
        self.wait_state("it-freeze", "up", 15)
        agent.signal(signal.SIGSTOP)
        elapsed = self.wait_state("it-freeze", "unreachable", 15)
        print("\nSIGSTOP seen as unreachable after %.3fs (target <= 3 heartbeats = 3s + 0.5s)"
              % elapsed)
        self.assertLess(elapsed, 8.0)
        t = self.collector.get_json("/api/v1/hosts/it-freeze")["transitions"][-1]
        self.assertEqual(t["cause"], "heartbeat_timeout")
        self.assertLess(t["at"], t["recorded_at"])  # backdated to the last message
        agent.signal(signal.SIGCONT)
        self.wait_state("it-freeze", "up", 10)

    def test_restarted_agent_continues_sequence(self):
        agent = self.start_agent("it-seq")
        self.wait_state("it-seq", "up", 15)
        wait_for(lambda: self.collector.host("it-seq")["last_sequence"] >= 2, 15)
        agent.signal(signal.SIGTERM)
        agent.wait(10)
        before = self.collector.host("it-seq")["last_sequence"]
        accepted_before = self.collector.host("it-seq")["samples_accepted"]
        agent2 = self.start_agent("it-seq")
        self.assertTrue(wait_for(
            lambda: self.collector.host("it-seq")["last_sequence"] > before, 15))
        started = wait_for(lambda: agent2.find(r"agent started.* next_sequence=(\d+)"), 10)
        self.assertTrue(started, "\n".join(agent2.log()))
        self.assertGreater(int(started.group(1)), before)  # never reuses a number
        self.assertGreater(self.collector.host("it-seq")["samples_accepted"], accepted_before)
        self.assertIsNone(self.collector.find("sequence went back"))

    def test_changed_boot_time_is_a_reboot(self):
        procfs = fixture_procfs(self.tmp)
        set_btime(procfs, 1790000000)
        agent = self.start_agent("it-reboot", ["--path.procfs=" + procfs])
        self.wait_state("it-reboot", "up", 15)
        agent.signal(signal.SIGKILL)
        agent.wait()
        self.wait_state("it-reboot", "unreachable", 10)
        set_btime(procfs, 1790000600)
        self.start_agent("it-reboot", ["--path.procfs=" + procfs])
        self.wait_state("it-reboot", "up", 15)
        t = self.collector.get_json("/api/v1/hosts/it-reboot")["transitions"]
        self.assertEqual(t[-1]["cause"], "reboot")
        self.assertEqual(t[-1]["boot_time"], time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1790000600)))

    def test_host_shutdown_goodbye_is_down(self):
        rootfs = os.path.join(self.tmp, "rootfs")
        os.makedirs(os.path.join(rootfs, "run/systemd/shutdown"))
        open(os.path.join(rootfs, "run/systemd/shutdown/scheduled"), "w").close()
        agent = self.start_agent("it-shutdown", ["--path.rootfs=" + rootfs])
        self.wait_state("it-shutdown", "up", 15)
        agent.signal(signal.SIGTERM)
        agent.wait(10)
        self.wait_state("it-shutdown", "down", 5)

    def test_second_agent_with_same_host_id_is_refused(self):
        self.start_agent("it-dup")
        self.wait_state("it-dup", "up", 15)
        dup = self.start_agent("it-dup", ["--spool.dir=" + os.path.join(self.tmp, "dup-spool")])
        self.assertTrue(wait_for(lambda: dup.find("already has a live stream"), 15),
                        "\n".join(dup.log()))
        self.assertEqual(self.collector.state("it-dup"), "up")
        metrics = self.collector.get("/metrics")
        self.assertRegex(metrics,
                         r'accord_collector_rejected_messages_total\{reason="host_already_connected"\} [1-9]')
        self.assertIsNone(dup.proc.poll())  # keeps retrying with backoff, no crash


class HeapReportTest(unittest.TestCase):
    def test_heap_trims_are_reported(self):
        collector = Collector(make_tmp(), ["--memory.trim-interval=200ms"])
        try:
            families = ("accord_collector_heap_trims_total,accord_collector_heap_bytes,"
                        "accord_collector_resident_memory_bytes,"
                        "accord_collector_resident_memory_after_trim_bytes")

            def after_trims():
                text = collector.get("/metrics?family=" + families)
                trims = re.search(r"^accord_collector_heap_trims_total (\S+)", text, re.M)
                return text if trims and float(trims.group(1)) >= 2 else None
            text = wait_for(after_trims, 15)
            self.assertTrue(text, collector.get("/metrics?family=" + families))
            value = lambda name: float(re.search(r"^%s (\S+)$" % re.escape(name), text, re.M).group(1))
            in_use = value('accord_collector_heap_bytes{state="in_use"}')
            after = value("accord_collector_resident_memory_after_trim_bytes")
            resident = value("accord_collector_resident_memory_bytes")
            self.assertGreater(in_use, 0)
            # A figure of this process (its code alone is several MiB), not more than it
            # holds now give or take what came since the trim.
            self.assertGreater(after, 4 * 2**20)
            self.assertLess(after, resident + 64 * 2**20)
        finally:
            collector.stop()


class GrpcExperimentsTest(unittest.TestCase):
    """The collector turns gRPC 1.51's tcp_read_chunks experiment off for itself (6 KiB less
    heap per agent, docs/benchmarks.md) and keeps an operator's own choice."""

    def experiments_at_start(self, env_value):
        old = os.environ.get("GRPC_EXPERIMENTS")
        if env_value is None:
            os.environ.pop("GRPC_EXPERIMENTS", None)
        else:
            os.environ["GRPC_EXPERIMENTS"] = env_value
        try:
            collector = Collector(make_tmp())
        finally:
            if old is None:
                os.environ.pop("GRPC_EXPERIMENTS", None)
            else:
                os.environ["GRPC_EXPERIMENTS"] = old
        try:
            m = collector.find(r'collector started" .* grpc_experiments=(\S+)')
            self.assertIsNotNone(m, "\n".join(collector.log()))
            return m.group(1)
        finally:
            collector.stop()

    def test_tcp_read_chunks_is_off_unless_the_operator_chose(self):
        self.assertEqual(self.experiments_at_start(None), "-tcp_read_chunks")
        self.assertEqual(self.experiments_at_start("tcp_rcv_lowat"), "tcp_rcv_lowat,-tcp_read_chunks")
        self.assertEqual(self.experiments_at_start("tcp_read_chunks"), "tcp_read_chunks")


if __name__ == "__main__":
    unittest.main()
