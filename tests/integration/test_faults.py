"""IT service continuity (issue #4), the remaining fault-injection scenarios end to end, with
real processes on loopback (scenarios 2 and 3 are in test_continuity.py):

  1. the collector is killed (-9) 5 times at random moments during ingest and restarted on the
     same database and port: every sample accepted exactly once, no downtime;
  4. the spool fills beyond its cap while the collector is away: whole oldest segments are
     dropped and counted, accepted + dropped = produced, no downtime;
  5. a truncated and a corrupted spool segment: set aside, counted, logged; the agent carries
     on; the accounting is checked against the segments' own contents;
  6. a reboot (the fixture /proc's btime moves): the collector records it, and the SLA shows
     exactly the reboot gap as downtime;
and the agent restarting with a backlog while the collector is reachable (3 and 6 combined).
Tests marked expectedFailure pin down product bugs; their comments name the cause.

Sampling cannot be faster than 1 s (the agent's minimum), so batches are made big instead: a
fixture /proc with thousands of network interfaces gives ~20,000 samples (230 KiB) per batch,
which keeps the collector busy ingesting when it is killed and fills 4 MiB spool segments in
seconds. Random choices come from one seed, printed; ACCORD_TEST_SEED=<seed> repeats a run.
ACCORD_LONG_TESTS=1 kills the collector 20 times, drops more segments and lengthens the
reboot gap.
"""
import os
import random
import re
import shutil
import signal
import time
import unittest

from accord_harness import (TESTDATA, Agent, Collector, add_net_devices, make_tmp, metric,
                            parse_rfc3339, read_spool_segment, rfc3339, set_btime, set_uptime,
                            restartable_port, spool_segments, wait_for, write_catalogue)

LONG = os.environ.get("ACCORD_LONG_TESTS") == "1"
SEED = int(os.environ.get("ACCORD_TEST_SEED") or random.SystemRandom().randrange(1 << 31))
COLLECTOR_KILLS = 20 if LONG else 5
CAP_DROPPED_SEGMENTS = 3 if LONG else 1
REBOOT_GAP = (20.0, 40.0) if LONG else (3.0, 4.5)

FIXTURE = os.path.join(TESTDATA, "debian12-vm-2core")
# The collector refuses more than 20,000 series per host; the fixture gives ~90 series of its
# own, and each interface adds 8.
BIG_BATCH_INTERFACES = 2450
MIB = 1 << 20


def setUpModule():
    print("\ntest_faults: seed %d (ACCORD_TEST_SEED=%d repeats the random choices)" %
          (SEED, SEED))


def stop(process):
    process.stop()
    if process.proc.stderr:
        process.proc.stderr.close()


def remove_tmp(path):
    """The scenarios leave up to ~10 MB each (big spool segments): removed unless
    ACCORD_KEEP_TMP=1."""
    if os.environ.get("ACCORD_KEEP_TMP") != "1":
        shutil.rmtree(path, ignore_errors=True)


class FaultTest(unittest.TestCase):
    """Temp dir, processes stopped at the end, and the checks every scenario shares."""

    def setUp(self):
        self.tmp = make_tmp()
        self.rng = random.Random("%d/%s" % (SEED, self.id()))
        self.processes = []
        self.keep_tmp = False  # the directory outlives the test (a class-wide scenario)
        self.maxDiff = None

    def tearDown(self):
        for p in reversed(self.processes):
            stop(p)
        if not self.keep_tmp:
            remove_tmp(self.tmp)

    # --- processes ---------------------------------------------------------------------------

    def start_collector(self, config=None, port=None):
        extra = []
        if config:
            extra.append("--config.file=" + config)
        # Every collector here may be killed and started again on its port.
        extra.append("--grpc.listen-address=127.0.0.1:%d" % (port or restartable_port()))
        c = Collector(self.tmp, extra)
        self.processes.append(c)
        return c

    def start_agent(self, address, host, extra=()):
        a = Agent(address, self.tmp, host, list(extra))
        self.processes.append(a)
        return a

    def kill9(self, process):
        process.signal(signal.SIGKILL)
        process.wait()

    def procfs(self, interfaces=0, btime=None, uptime=None):
        """A copy of the debian12-vm-2core /proc, with `interfaces` more network interfaces."""
        dst = os.path.join(self.tmp, "procfs")
        shutil.copytree(os.path.join(FIXTURE, "proc"), dst)
        if interfaces:
            add_net_devices(dst, interfaces)
        if btime is not None:
            set_btime(dst, btime)
        if uptime is not None:
            set_uptime(dst, uptime)
        return dst

    def fixture_flags(self, procfs):
        return ["--path.procfs=" + procfs, "--path.sysfs=" + os.path.join(FIXTURE, "sys")]

    def spool_dir(self, host):
        return os.path.join(self.tmp, "agent-" + host)

    # --- conditions ----------------------------------------------------------------------------

    def wait_up(self, collector, agent, host, min_sequence=2, timeout=20):
        """Until the host is up with `min_sequence` batches accepted; fails at once if the agent
        exited. Returns the host record."""
        def ready():
            if agent.proc.poll() is not None:
                return "exited"
            h = collector.host(host)
            return h if h and h["state"] == "up" and h["last_sequence"] >= min_sequence else None
        h = wait_for(ready, timeout, 0.05)
        self.assertNotEqual(h, "exited", "agent exited:\n" + "\n".join(agent.log()))
        self.assertTrue(h, "host %s not up:\n%s" % (host, "\n".join(collector.log()[-20:])))
        return h

    def wait_committed(self, collector, host, timeout=20):
        """Until the collector has committed the host (its first sighting and a batch): a
        batch says the agent has seen an ack, and acks follow commits. Before that a killed
        collector forgets the host, and the time before its next first sighting is outside
        any SLA (not monitored)."""
        self.assertTrue(wait_for(lambda: (metric(collector.get("/metrics"),
                                                 "accord_agent_samples_sent_total", host) or 0) > 0,
                                 timeout, 0.1))

    @staticmethod
    def counts(collector, host):
        """(produced, accepted, dropped, backlog) as the collector sees them now, or None."""
        m = collector.get("/metrics")
        values = tuple(metric(m, name, host) for name in (
            "accord_agent_samples_produced_total", "accord_host_samples_accepted_total",
            "accord_agent_spool_dropped_samples_total", "accord_agent_spool_backlog_batches"))
        return None if None in values else values

    def wait_caught_up(self, collector, host, timeout=90, agent=None):
        """Until the spool is drained and every sample the agent produced is accepted or
        counted as dropped (`produced` travels in the newest batch and counts that batch
        itself). Returns (host record, (produced, accepted, dropped)) read as one snapshot: the
        host's last sequence and accepted samples did not change while the counters were read.
        Fails at once if `agent` exits meanwhile.
        """
        def caught_up():
            if agent is not None and agent.proc.poll() is not None:
                return "exited"
            before = collector.host(host)
            c = self.counts(collector, host)
            after = collector.host(host)
            if not (c and before and after) or c[3] > 1 or c[1] + c[2] != c[0]:
                return None
            key = lambda h: (h["last_sequence"], h["samples_accepted"])
            if key(before) != key(after) or after["samples_accepted"] != c[1]:
                return None
            return after, c[:3]
        result = wait_for(caught_up, timeout, 0.25)
        if result == "exited":
            self.fail("the agent exited with status %s:\n%s" % (agent.proc.poll(),
                                                              "\n".join(agent.log()[-10:])))
        self.assertTrue(result, "not caught up: (produced, accepted, dropped, backlog) = %s" %
                        (self.counts(collector, host),))
        return result

    def availability(self, collector, path, t0, t1):
        """GET {path}/availability over [t0, t1], once the collector's clock is past t1."""
        wait_for(lambda: time.time() > t1 + 0.05, t1 - time.time() + 5)
        return collector.get_json("%s/availability?from=%s&to=%s" % (path, rfc3339(t0),
                                                                      rfc3339(t1)))

    def assert_no_downtime(self, collector, host, service, t0, t1, tolerate=None):
        """No downtime for the host and its service over [t0, t1]. `tolerate(incident,
        detail)` may excuse incidents (a known bug); returns the excused ones."""
        detail = collector.get_json("/api/v1/hosts/" + host)
        excused = []
        for path in ("/api/v1/hosts/" + host, "/api/v1/services/" + service):
            a = self.availability(collector, path, t0, t1)
            self.assertAlmostEqual(a["agreed_service_seconds"], t1 - t0, delta=0.01, msg=(path, a))
            if tolerate and a["incidents"] and all(tolerate(i, detail) for i in a["incidents"]):
                self.assertAlmostEqual(
                    a["downtime_seconds"], sum(i["duration_seconds"] for i in a["incidents"]),
                    delta=0.002)
                excused.extend((path, i) for i in a["incidents"])
                continue
            self.assertEqual(a["downtime_seconds"], 0, (path, a, detail))
            self.assertEqual(a["incidents"], [], (path, a, detail))
            self.assertEqual(a["unknown_seconds"], 0, (path, a, detail))
        return detail, excused


class CollectorCrashTest(FaultTest):
    """Scenario 1: kill -9 of the collector at random moments during ingest, 5 times."""

    def test_collector_kill9_mid_ingest_loses_and_duplicates_nothing(self):
        host, service = "fault-ckill", "ckill-svc"
        config = write_catalogue(self.tmp, service, [host])
        procfs = self.procfs(interfaces=BIG_BATCH_INTERFACES)
        c = self.start_collector(config)
        port = c.grpc_port
        agent = self.start_agent(c.grpc_address, host,
                                 self.fixture_flags(procfs) + ["--heartbeat.interval=100ms"])
        first = self.wait_up(c, agent, host, 1)
        per_batch = first["samples_accepted"] // first["last_sequence"]
        self.wait_committed(c, host)
        t0 = time.time()

        reconnect = re.compile(r'msg="host state changed" host=%s .*to=up' % re.escape(host))
        kills = []
        uncommitted = 0  # kills that took accepted batches with them before their commit
        for i in range(COLLECTOR_KILLS):
            # After a reconnect the backlog of the outage arrives at once: the first batch
            # (which describes its ~20,000 series again) takes ~0.1 s to ingest, the others a
            # few ms each, and each is committed before its ack. Most kills land in that window;
            # the others anywhere in a sampling cycle, while a live batch may be in flight.
            if i > 0 and self.rng.random() < 0.7:
                delay = self.rng.uniform(0.0, 0.15)
            else:
                delay = self.rng.uniform(0.15, 1.2)
            away = self.rng.uniform(0.5, 2.0)  # the outage: up to 2 batches, plus the backoff
            time.sleep(delay)
            seen = c.host(host)["last_sequence"]
            self.kill9(c)
            time.sleep(away)
            c = self.start_collector(config, port)
            restored = c.host(host)
            if restored["state"] != "up" and restored["last_sequence"] < seen:
                uncommitted += 1
            kills.append("%.3fs after %s, away %.1fs, last sequence %d seen, %d restored" % (
                delay, "reconnect" if i else "start", away, seen, restored["last_sequence"]))
            self.assertTrue(wait_for(lambda: c.find(reconnect), 30, 0.002),
                            "agent did not reconnect:\n" + "\n".join(agent.log()[-10:]))

        h, (produced, accepted, dropped) = self.wait_caught_up(c, host)
        self.assertEqual(dropped, 0)
        self.assertEqual(accepted, produced)
        # Every batch carries the same samples: sequences 1..last each accepted exactly once.
        self.assertEqual(accepted, per_batch * h["last_sequence"], h)
        self.assertEqual(h["samples_accepted"], accepted)
        self.assertEqual(accepted + dropped, produced)

        t1 = time.time()
        detail, excused = self.assert_no_downtime(
            c, host, service, t0, t1,
            tolerate=alive_ack_hole if ALIVE_ACK_HOLE_BUG else None)
        for path, incident in excused:
            print("\nKNOWN BUG (alive-span ack hole, see test_kill_soon_after_a_reconnect_is_"
                  "not_downtime): %s %s" % (path, incident))
        causes = [t["cause"] for t in detail["transitions"]]
        self.assertGreaterEqual(causes.count("collector_restart"), 1, causes)
        self.assertTrue(detail["revisions"], detail)
        print("\ncollector killed %d times:\n  %s\n%d kill(s) lost accepted batches before their "
              "commit; %d samples in %d batches accepted once, 0 dropped; downtime over %.0f s: "
              "%s" % (COLLECTOR_KILLS, "\n  ".join(kills), uncommitted, accepted,
                      h["last_sequence"], t1 - t0,
                      "%.3f s, all of it the known alive-span hole" % sum(
                          i["duration_seconds"] for p, i in excused if "/hosts/" in p)
                      if excused else "0 s"))

    # Was a hole: acknowledging the alive spans sent after a reconnect removed the newest,
    # still-growing span too, so a collector that died before it saved a later sighting
    # counted the time up to the next span as downtime (collector_restart). AliveSpans::Ack
    # now keeps the newest span as an anchor the next heartbeat extends. Deterministic here:
    # 3 s heartbeats, the collector killed 1.5 s after the agent reconnected: the spans are
    # acknowledged, the collector has written a sighting (after the hello, so the gap is not
    # bridged as part of the outage), no tick yet.
    def test_kill_soon_after_a_reconnect_is_not_downtime(self):
        host, service = "fault-ackhole", "ackhole-svc"
        config = write_catalogue(self.tmp, service, [host])
        c = self.start_collector(config)
        port = c.grpc_port
        agent = self.start_agent(c.grpc_address, host, self.fixture_flags(self.procfs()) +
                                 ["--heartbeat.interval=3s"])
        self.wait_up(c, agent, host, 1)
        self.wait_committed(c, host)
        reconnect = re.compile(r'msg="host state changed" host=%s .*to=up' % re.escape(host))
        self.kill9(c)
        time.sleep(1.0)  # the outage
        c = self.start_collector(config, port)
        self.assertTrue(wait_for(lambda: c.find(reconnect), 30, 0.002))
        t0 = time.time() - 0.5
        time.sleep(1.5)
        self.kill9(c)
        time.sleep(1.0)
        c = self.start_collector(config, port)
        self.wait_caught_up(c, host)
        t1 = time.time()
        self.assert_no_downtime(c, host, service, t0, t1)


# False since AliveSpans::Ack keeps the newest span (see the test above): the random kills of
# the scenario must not leave any downtime at all.
ALIVE_ACK_HOLE_BUG = False


def alive_ack_hole(incident, detail):
    """True if `incident` has the signature of the alive-span hole: it begins at a
    collector_restart that came less than a host-record write interval (1 s) plus a heartbeat
    after the agent's stream opened, and lasts less than that."""
    if incident["cause"] != "collector_restart" or incident["duration_seconds"] > 1.2:
        return False
    start = parse_rfc3339(incident["start"])
    tr = detail["transitions"]
    for prev, t in zip(tr, tr[1:]):
        if t["cause"] == "collector_restart" and abs(parse_rfc3339(t["at"]) - start) < 0.002:
            return prev["to"] == "up" and start - parse_rfc3339(prev["at"]) < 1.2
    return False


class SpoolCapTest(FaultTest):
    """Scenario 4: the collector is away until the agent's spool passes its cap."""

    def run_cap_scenario(self, max_bytes, interfaces):
        host, service = "fault-cap", "cap-svc"
        config = write_catalogue(self.tmp, service, [host])
        procfs = self.procfs(interfaces=interfaces)
        c = self.start_collector(config)
        port = c.grpc_port
        agent = self.start_agent(c.grpc_address, host, self.fixture_flags(procfs) +
                                 ["--spool.max-bytes=%d" % max_bytes])
        first = self.wait_up(c, agent, host, 2)
        per_batch = first["samples_accepted"] // first["last_sequence"]
        self.wait_committed(c, host)
        t0 = time.time()

        self.kill9(c)
        drop = re.compile(r'msg="spool full or expired: dropped the oldest segment" file=(\S+) '
                          r'batches=(\d+) samples=(\d+)')
        dropped_enough = lambda: len([l for l in agent.log() if drop.search(l)]) >= (
            CAP_DROPPED_SEGMENTS)
        self.assertTrue(wait_for(dropped_enough, 180, 0.2),
                        "no segment dropped:\n" + "\n".join(agent.log()[-10:]))
        away = time.time() - t0
        c = self.start_collector(config, port)

        h, (produced, accepted, dropped) = self.wait_caught_up(c, host)
        self.assertGreater(dropped, 0)
        self.assertEqual(accepted + dropped, produced)
        # The counter is the sum of what the drop log lines say, whole batches only, less what
        # the answer to the next hello showed had reached the collector (batches sent but not
        # yet acknowledged when it went away: it holds acks back).
        logged = [m for m in (drop.search(l) for l in agent.log()) if m]
        settle = re.compile(r'msg="dropped batches had reached the collector: counted as sent" '
                            r'batches=(\d+) samples=(\d+)')
        settled = sum(int(m.group(2)) for m in (settle.search(l) for l in agent.log()) if m)
        self.assertEqual(dropped, sum(int(m.group(3)) for m in logged) - settled, logged)
        self.assertEqual(dropped % per_batch, 0)
        # Each batch either accepted once or dropped: exact, by sequence numbers.
        self.assertEqual(accepted + dropped, per_batch * h["last_sequence"], h)
        self.assertEqual(h["samples_accepted"], accepted)
        # The dropped segment files are gone.
        for m in logged:
            self.assertFalse(os.path.exists(m.group(1)), m.group(1))
        m = c.get("/metrics")
        self.assertEqual(metric(m, "accord_agent_spool_dropped_samples_total", host), dropped)
        self.assertEqual(metric(m, "accord_agent_samples_dropped_total", host), dropped)

        t1 = time.time()
        self.assert_no_downtime(c, host, service, t0, t1)
        print("\nspool cap %d bytes, collector away %.0f s: %d segment(s), %d batches, %d samples "
              "dropped and counted (%d had reached the collector: counted back); %d "
              "accepted; accepted + dropped = produced = %d; 0 s downtime" % (
                  max_bytes, away, len(logged), dropped // per_batch, dropped, settled,
                  accepted, produced))
        return c, host, dropped

    def test_spool_beyond_cap_drops_oldest_segments_counted_no_downtime(self):
        # 8 MiB: 1 MiB segments (SegmentBytesForCap) holding a few of these big batches each.
        self.run_cap_scenario(8 * MIB, BIG_BATCH_INTERFACES)

    # Was refused below 8 MiB (segments fixed at 4 MiB). The segment size now follows the cap
    # (SegmentBytesForCap: 8 KiB here); the minimum cap is 16 KiB.
    def test_tiny_spool_cap_is_accepted_and_enforced(self):
        self.run_cap_scenario(16 * 1024, 0)

    # /api/v1/hosts/{id} carries the agent's side of the accounting too.
    def test_host_api_shows_dropped_samples(self):
        host = "fault-capapi"
        c = self.start_collector()
        agent = self.start_agent(c.grpc_address, host)
        self.wait_up(c, agent, host, 1)
        detail = c.get_json("/api/v1/hosts/" + host)["host"]
        self.assertEqual(detail.get("samples_dropped"), 0, detail)
        self.assertGreaterEqual(detail.get("samples_produced", -1), detail["samples_accepted"],
                                detail)


class CorruptSegmentTest(FaultTest):
    """Scenario 5: a truncated and a corrupted spool segment, found at the agent's restart.

    The scenario runs once for the class; its tests check different parts of the outcome."""

    host = "fault-corrupt"
    service = "corrupt-svc"

    @classmethod
    def setUpClass(cls):
        cls.scenario = None

    def run_scenario(self):
        if type(self).scenario == "failed":
            raise unittest.SkipTest("the scenario failed in another test of the class")
        if type(self).scenario is not None:
            return type(self).scenario
        type(self).scenario = "failed"
        s = {}
        host = self.host
        config = write_catalogue(self.tmp, self.service, [host])
        procfs = self.procfs(interfaces=BIG_BATCH_INTERFACES)
        c = self.start_collector(config)
        port = c.grpc_port
        flags = self.fixture_flags(procfs) + ["--heartbeat.interval=100ms"]
        agent = self.start_agent(c.grpc_address, host, flags)
        first = self.wait_up(c, agent, host, 2)
        s["per_batch"] = per_batch = first["samples_accepted"] // first["last_sequence"]
        self.wait_committed(c, host)
        s["t0"] = time.time()
        accepted_before = c.host(host)["last_sequence"]
        self.kill9(c)

        # The collector is away. The damage goes to records well past anything it accepted
        # before (the spool still holds batches accepted but not yet acknowledged: the
        # collector holds acks back up to --ingest.ack-interval): in two consecutive
        # segments, the first never the last (a torn tail of the last segment is what an
        # interrupted append leaves, and is only cut), the second with three such records.
        spool = self.spool_dir(host)
        beyond = lambda rs: [i for i, r in enumerate(rs) if r.sequence > accepted_before + 2]

        def damageable():
            segs = spool_segments(spool)
            records = {p: read_spool_segment(p) for p in segs}
            for first, second in zip(segs, segs[1:]):
                if beyond(records[first]) and len(beyond(records[second])) >= 3:
                    return records, first, second
            return None
        self.assertTrue(wait_for(damageable, 120, 0.2), os.listdir(spool))
        self.kill9(agent)

        records, truncated, flipped = damageable()
        s["max_seq_old"] = max(r.sequence for rs in records.values() for r in rs)
        rt, rf = records[truncated], records[flipped]
        bt, bf = beyond(rt), beyond(rf)
        kt, kf = bt[len(bt) // 2], bf[len(bf) // 2]
        # Truncate the first one in the middle of a record; flip bytes inside a record of the
        # second one (inside its values, so only the CRC can tell).
        with open(truncated, "r+b") as f:
            f.truncate(rt[kt].offset + rt[kt].length // 2)
        with open(flipped, "r+b") as f:
            f.seek(rf[kf].offset + rf[kf].length - 100)
            b = f.read(4)
            f.seek(rf[kf].offset + rf[kf].length - 100)
            f.write(bytes(x ^ 0xA5 for x in b))
        lost = rt[kt:] + rf[kf:]
        s["lost_batches"] = len(lost)
        s["lost_samples"] = sum(r.values for r in lost)
        s["damaged"] = {truncated: rt[kt].offset, flipped: rf[kf].offset}
        s["damaged_sizes"] = {p: os.path.getsize(p) for p in (truncated, flipped)}

        # The agent comes back at once (the collector is still away), then the collector.
        agent = self.start_agent("127.0.0.1:%d" % port, host, flags)
        started = wait_for(lambda: agent.find(r'msg="agent started".* next_sequence=(\d+)'), 10)
        self.assertTrue(started, "\n".join(agent.log()))
        s["first_new_seq"] = int(started.group(1))
        # Let it sample into the spool for a moment (the agent's own recovery, no collector).
        self.assertTrue(wait_for(lambda: max(
            (r.sequence for p in spool_segments(spool) for r in read_spool_segment(p)),
            default=0) >= s["first_new_seq"] + 1, 10, 0.1))
        c = self.start_collector(config, port)
        s["collector"], s["agent"] = c, agent
        s["host"], (s["produced"], s["accepted"], s["dropped"]) = self.wait_caught_up(c, host)
        s["metrics"] = c.get("/metrics")
        s["t1"] = time.time()
        s["spool"] = spool
        # Kept for the other tests of the class: their processes and files live until
        # tearDownClass.
        self.processes.remove(c)
        self.processes.remove(agent)
        s["tmp"] = self.tmp
        self.keep_tmp = True
        type(self).scenario = s
        return s

    @classmethod
    def tearDownClass(cls):
        if isinstance(cls.scenario, dict):
            stop(cls.scenario["agent"])
            stop(cls.scenario["collector"])
            remove_tmp(cls.scenario["tmp"])

    def test_damaged_segments_are_set_aside_counted_logged_and_the_agent_carries_on(self):
        s = self.run_scenario()
        c, agent, per_batch = s["collector"], s["agent"], s["per_batch"]
        # Set aside: a *.corrupt copy of each damaged file, as it was found.
        names = os.listdir(os.path.join(s["spool"], "segments"))
        for path in s["damaged"]:
            aside = os.path.basename(path) + ".corrupt"
            self.assertIn(aside, names)
            self.assertEqual(os.path.getsize(os.path.join(s["spool"], "segments", aside)),
                             s["damaged_sizes"][path])
        # Logged, once per file.
        logged = [l for l in agent.log() if 'msg="spool segment damaged; set aside"' in l]
        self.assertEqual(len(logged), 2, "\n".join(agent.log()))
        for path, valid in s["damaged"].items():
            self.assertTrue(any(path in l and "kept_bytes=%d " % valid in l for l in logged),
                            logged)
        # Counted, and the count reaches the collector.
        self.assertEqual(metric(s["metrics"], "accord_agent_spool_corrupt_segments_total",
                                self.host), 2)
        # The agent carries on: one start, still running, new batches accepted.
        self.assertIsNone(agent.proc.poll())
        self.assertEqual(len([l for l in agent.log() if 'msg="agent started"' in l]), 1)
        self.assertGreater(s["host"]["last_sequence"], s["first_new_seq"])
        self.assertEqual(c.state(self.host), "up")
        # The accounting the agent reports is consistent, and nothing was counted twice:
        # accepted = every batch number except the damaged ones, once each.
        self.assertEqual(s["accepted"] + s["dropped"], s["produced"])
        batches = s["max_seq_old"] + s["host"]["last_sequence"] - s["first_new_seq"] + 1
        self.assertEqual(s["accepted"], per_batch * (batches - s["lost_batches"]))
        self.assert_no_downtime(c, self.host, self.service, s["t0"], s["t1"])
        print("\n2 damaged segments set aside; %d batches (%d samples) in them past the damage; "
              "agent carried on: %d accepted, %d dropped, produced (reported) %d; 0 s downtime" %
              (s["lost_batches"], s["lost_samples"], s["accepted"], s["dropped"], s["produced"]))

    # Was invisible: the batches after the damage in a set-aside segment were neither
    # acknowledged nor dropped, and `produced` (rebuilt at start) lost them too. The spool now
    # keeps a lifetime appended counter (state + append journal) and counts the shortfall found
    # at open as dropped.
    def test_samples_in_set_aside_segments_are_counted_as_dropped(self):
        s = self.run_scenario()
        per_batch = s["per_batch"]
        # Produced, from the sequence numbers: batches 1..max_seq_old by the first run (all of
        # them were appended to the spool, every one with per_batch samples), and
        # first_new_seq..last_sequence by the second.
        truly_produced = per_batch * (s["max_seq_old"] + s["host"]["last_sequence"] -
                                      s["first_new_seq"] + 1)
        shortfall = truly_produced - (s["accepted"] + s["dropped"])
        self.assertEqual(shortfall, 0,
                         "accepted %d + dropped %d = %d, produced %d (reported %d): %d samples "
                         "(%d batches) of the set-aside segments are not accounted for; the "
                         "cut-off records held %d" % (
                             s["accepted"], s["dropped"], s["accepted"] + s["dropped"],
                             truly_produced, s["produced"], shortfall, shortfall // per_batch,
                             s["lost_samples"]))


class RebootTest(FaultTest):
    """Scenario 6: the host reboots (the fixture /proc's btime and uptime move)."""

    def run_reboot(self, announced):
        host, service = ("fault-reboot-announced", "reboot-a-svc") if announced else (
            "fault-reboot", "reboot-svc")
        config = write_catalogue(self.tmp, service, [host])
        now = int(time.time())
        old_boot = now - 5000
        procfs = self.procfs(btime=old_boot, uptime=5000)
        flags = self.fixture_flags(procfs)
        if announced:
            rootfs = os.path.join(self.tmp, "rootfs")
            os.makedirs(os.path.join(rootfs, "run", "systemd", "shutdown"))
            flags.append("--path.rootfs=" + rootfs)
        c = self.start_collector(config)
        agent = self.start_agent(c.grpc_address, host, flags)
        self.wait_up(c, agent, host, 2)
        t0 = time.time()
        self.assertEqual(c.host(host)["boot_time"], rfc3339(old_boot))

        if announced:
            # systemd is rebooting the host: the agent says goodbye HOST_SHUTDOWN.
            open(os.path.join(rootfs, "run", "systemd", "shutdown", "scheduled"), "w").close()
            t_down = time.time()
            agent.stop()
            self.assertTrue(wait_for(lambda: c.state(host) == "down", 10))
        else:
            # The power goes: the agent dies without a word.
            t_down = time.time()
            self.kill9(agent)
            self.assertTrue(wait_for(lambda: c.state(host) == "unreachable", 10))
        gap = self.rng.uniform(*REBOOT_GAP)
        time.sleep(max(0.0, t_down + gap - time.time()))  # the host is off
        if announced:
            os.remove(os.path.join(rootfs, "run", "systemd", "shutdown", "scheduled"))
        new_boot = int(time.time()) - 1
        set_btime(procfs, new_boot)
        set_uptime(procfs, time.time() - new_boot)
        t_up = time.time()
        agent = self.start_agent(c.grpc_address, host, flags)

        def rebooted():
            d = c.get_json("/api/v1/hosts/" + host)
            return d if [t for t in d["transitions"] if t["cause"] == "reboot"] else None
        detail = wait_for(rebooted, 15, 0.05)
        self.assertTrue(detail, "no reboot recorded:\n" + "\n".join(c.log()[-20:]))
        self.wait_up(c, agent, host, 0)
        self.assertEqual(c.host(host)["boot_time"], rfc3339(new_boot))
        self.assertEqual(metric(c.get("/metrics"), "accord_host_boot_time_seconds", host),
                         new_boot)
        t1 = time.time() + 1.0

        # The gap as the product defines it (collector/availability/timeline.h, backfill.h):
        # down from the last evidence of the old boot (the goodbye, or the stream break, or
        # later alive evidence) until the first message of the new boot (the reboot transition).
        detail = c.get_json("/api/v1/hosts/" + host)
        tr = detail["transitions"]
        ri = max(i for i, t in enumerate(tr) if t["cause"] == "reboot")
        reboot, before = tr[ri], tr[ri - 1]
        self.assertEqual(reboot["to"], "up")
        self.assertEqual(reboot["boot_time"], rfc3339(new_boot))
        self.assertEqual(before["cause"], "host_shutdown" if announced else "stream_broken", tr)
        self.assertEqual(before["boot_time"], rfc3339(old_boot))
        down_from = parse_rfc3339(before["at"])
        down_to = parse_rfc3339(reboot["at"])
        if not announced:  # a goodbye is never overridden; a silence is, by alive spans
            for r in detail["revisions"]:
                f, t = parse_rfc3339(r["from"]), parse_rfc3339(r["to"])
                if f <= down_from < t:
                    down_from = t
        expected = down_to - down_from
        self.assertGreater(expected, 2.5)  # longer than the heartbeat bridge

        for path in ("/api/v1/hosts/" + host, "/api/v1/services/" + service):
            a = self.availability(c, path, t0, t1)
            self.assertAlmostEqual(a["downtime_seconds"], expected, delta=0.002, msg=(a, tr))
            self.assertEqual(len(a["incidents"]), 1, a)
            inc = a["incidents"][0]
            self.assertEqual(inc["cause"], "host_shutdown" if announced else "reboot", inc)
            self.assertAlmostEqual(parse_rfc3339(inc["start"]), down_from, delta=0.002)
            self.assertAlmostEqual(parse_rfc3339(inc["end"]), down_to, delta=0.002)
            self.assertAlmostEqual(inc["duration_seconds"], expected, delta=0.002)
            self.assertEqual(a["unknown_seconds"], 0, a)
        # And against the test's own clock: from the kill/stop to the new agent's start.
        self.assertAlmostEqual(expected, t_up - t_down, delta=1.0)
        print("\n%s reboot: off %.2f s by the test's clock; downtime %.3f s = first message of "
              "the new boot %s - last evidence of the old one %s" % (
                  "announced" if announced else "unannounced", t_up - t_down, expected,
                  reboot["at"], rfc3339(down_from)))

    def test_unannounced_reboot_is_down_for_exactly_the_gap(self):
        self.run_reboot(announced=False)

    def test_announced_reboot_is_down_for_exactly_the_gap(self):
        self.run_reboot(announced=True)


class AgentRestartWithBacklogTest(FaultTest):
    """The agent restarts (after kill -9, or with its host's reboot) while its spool holds a
    backlog and the collector is reachable (scenarios 3 and 6 with a backlog): the backlog goes
    out at once, before or while the new process samples for the first time."""

    def run_restart(self, interfaces_before, interfaces_after, reboot):
        host = "fault-restart"
        old_boot = int(time.time()) - 5000
        procfs = self.procfs(interfaces=interfaces_before, btime=old_boot, uptime=5000)
        flags = self.fixture_flags(procfs)
        c = self.start_collector()
        port = c.grpc_port
        agent = self.start_agent(c.grpc_address, host, flags)
        first = self.wait_up(c, agent, host, 2)
        # The collector goes away for two batches, then the agent dies.
        self.kill9(c)
        spool = self.spool_dir(host)
        # sequence -> samples of every batch in the spool
        sizes = lambda: {r.sequence: r.values for p in spool_segments(spool)
                         for r in read_spool_segment(p)}
        newest = lambda: max(sizes(), default=0)
        self.assertTrue(wait_for(lambda: newest() >= first["last_sequence"] + 2, 10, 0.1))
        self.kill9(agent)
        old_sizes = sizes()
        max_seq_old = max(old_sizes)
        # Back, with the collector there: after a reboot some interfaces may be gone (the
        # veth pairs of containers, say).
        with open(os.path.join(procfs, "net", "dev")) as f:
            lines = [l for l in f if not l.lstrip().startswith("veth")]
        with open(os.path.join(procfs, "net", "dev"), "w") as f:
            f.writelines(lines)
        if interfaces_after:
            add_net_devices(procfs, interfaces_after)
        if reboot:
            set_btime(procfs, int(time.time()) - 1)
            set_uptime(procfs, 1)
        c = self.start_collector(port=port)
        # What the collector kept through its kill: every later batch must arrive once.
        kept = c.host(host)
        agent = self.start_agent(c.grpc_address, host, flags)
        started = wait_for(lambda: agent.find(r'msg="agent started".* next_sequence=(\d+)'), 10)
        self.assertTrue(started, "\n".join(agent.log()))
        h, (produced, accepted, dropped) = self.wait_caught_up(c, host, agent=agent)
        self.assertIsNone(agent.proc.poll())
        self.assertEqual(dropped, 0)
        self.assertEqual(accepted, produced)
        # Exactly: what the collector kept, plus each later old batch with its own series (as
        # spooled by the old process), plus the new process's batches with the new series.
        new_sizes = sizes()
        first_new = int(started.group(1))
        self.assertEqual(first_new, max_seq_old + 1)
        missing = [q for q in range(kept["last_sequence"] + 1, h["last_sequence"] + 1)
                   if q not in (old_sizes if q <= max_seq_old else new_sizes)]
        self.assertEqual(missing, [], "batches not found in the spool")
        expected = kept["samples_accepted"] + sum(
            old_sizes[q] if q <= max_seq_old else new_sizes[q]
            for q in range(kept["last_sequence"] + 1, h["last_sequence"] + 1))
        self.assertEqual(accepted, expected, h)
        per_old = old_sizes[max_seq_old]
        self.assertEqual(new_sizes[h["last_sequence"]],
                         per_old + 8 * (interfaces_after - interfaces_before))

    # Was a crash loop: spooled batches name series by SeriesTable id, and a new process
    # resolved them against its own (empty or different) table. The ids are durable now
    # (agent/transport/series_journal.h).
    def test_restart_with_a_backlog_while_the_collector_is_reachable(self):
        self.run_restart(BIG_BATCH_INTERFACES, BIG_BATCH_INTERFACES, reboot=False)

    # The series differ between the two processes (100 interfaces gone after a reboot): the
    # old batches are still described with their own series.
    def test_reboot_with_fewer_interfaces_delivers_the_old_backlog(self):
        self.run_restart(100, 0, reboot=True)


if __name__ == "__main__":
    unittest.main()
