"""Capacity end to end: a real filesystem filled at a known rate, a real agent sampling it every
second, the collector's forecast of the time to full.

A private mount namespace (unshare -m; unshare -rm when not root) holds a small tmpfs; the agent
and a filler run inside it, so nothing is left mounted whatever happens to the test. The agent's
procfs is /proc except for 1/mounts, which shows the namespace's mounts. The filler
writes at a fixed rate on a monotonic schedule and records how much it wrote; the truth is
(size - written) / rate at the moment of the query.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

import accord_harness as h

SIZE = 64 * 1024 * 1024  # tmpfs size
RATE = 256 * 1024  # bytes per second: full after 256 s

FILLER = r"""
import os, sys, time
path, status, rate = sys.argv[1], sys.argv[2], int(sys.argv[3])
chunk = b"x" * 65536
written = 0
start = time.monotonic()
with open(path, "wb", buffering=0) as f:
    while True:
        due = int((time.monotonic() - start) * rate)
        try:
            while written + len(chunk) <= due:
                f.write(chunk)
                written += len(chunk)
        except OSError:
            break
        with open(status + ".tmp", "w") as s:
            s.write("%f %d\n" % (time.time(), written))
        os.replace(status + ".tmp", status)
        time.sleep(0.05)
"""


def unshare_prefix():
    if os.geteuid() == 0:
        return ["unshare", "-m", "--propagation", "private"]
    return ["unshare", "-rm", "--propagation", "private"]


@unittest.skipUnless(shutil.which("unshare"), "needs unshare (util-linux)")
class CapacityEndToEnd(unittest.TestCase):
    def setUp(self):
        self.tmp = h.make_tmp()
        self.collector = h.Collector(self.tmp, ["--capacity.evaluation-interval=2s",
                                                "--capacity.history-refresh=5s"])
        self.mount = os.path.join(self.tmp, "fill")
        os.makedirs(self.mount)
        self.status = os.path.join(self.tmp, "filler.status")
        filler = os.path.join(self.tmp, "filler.py")
        with open(filler, "w") as f:
            f.write(FILLER)
        spool = os.path.join(self.tmp, "spool")
        # The agent lists mounts from <procfs>/1/mounts (the host's, as node_exporter does);
        # the tmpfs exists only in the private namespace, so its procfs is /proc with
        # 1/mounts pointing at the agent's own mount table.
        procfs = os.path.join(self.tmp, "proc")
        os.makedirs(os.path.join(procfs, "1"))
        for name in os.listdir("/proc"):
            if name != "1" and not name.isdigit():
                os.symlink(os.path.join("/proc", name), os.path.join(procfs, name))
        os.symlink("/proc/self/mounts", os.path.join(procfs, "1", "mounts"))
        script = (
            "set -e; mount -t tmpfs -o size={size} tmpfs {mnt}; "
            "{py} {filler} {mnt}/data {status} {rate} & "
            "exec {agent} --collector.address={addr} --host.id=filler --spool.dir={spool} "
            "--sample.interval=1s --heartbeat.interval=1s --path.procfs={procfs}"
        ).format(procfs=procfs, size=SIZE, mnt=self.mount, py=sys.executable, filler=filler, status=self.status,
                 rate=RATE, agent=h.AGENT, addr=self.collector.grpc_address, spool=spool)
        self.agent = h.Process(unshare_prefix() + ["sh", "-c", script], "agent")

    def tearDown(self):
        try:
            os.killpg(self.agent.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.agent.proc.wait()
        self.collector.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def written(self):
        try:
            with open(self.status) as f:
                t, n = f.read().split()
                return float(t), int(n)
        except (OSError, ValueError):
            return None

    def filesystem(self):
        try:
            report = self.collector.get_json("/api/v1/capacity/hosts/filler")
        except Exception:
            return None
        for r in report["resources"]:
            if r["resource"] == "filesystem" and r.get("mountpoint") == self.mount:
                return r
        return None

    def test_time_to_full_within_ten_percent_after_two_minutes(self):
        self.assertTrue(h.wait_for(self.written, 20), "the filler did not start")
        start = time.monotonic()
        self.assertTrue(h.wait_for(self.filesystem, 20),
                        "no capacity report for the tmpfs:\n" + "\n".join(self.agent.log()[-20:]))
        time.sleep(max(0, 120 - (time.monotonic() - start)))
        r = self.filesystem()
        now, written = self.written()
        truth = (SIZE - written) / RATE - (time.time() - now)
        self.assertGreater(r["utilization"], 0.4)
        self.assertEqual(r["forecast"]["status"], "ok", r["forecast"])
        full = r["forecast"]["seconds_to"]["full"]
        self.assertIsNotNone(full, r["forecast"])
        error = abs(full - truth) / truth
        print("time to full: forecast %.1f s, truth %.1f s, error %.1f %%, method %s" %
              (full, truth, 100 * error, r["forecast"]["method"]), file=sys.stderr)
        self.assertLess(error, 0.10, r)
        rng = r["forecast"]["ranges"]["full"]
        self.assertLessEqual(rng["low"], full)
        self.assertGreaterEqual(rng["high"], full)
        # The same forecast reaches /metrics after an evaluation round.
        series = ('accord_capacity_exhaustion_seconds{host="filler",resource="filesystem",'
                  'mountpoint="%s",level="full"}' % self.mount)
        text = h.wait_for(lambda: (lambda t: t if series in t else None)(self.collector.get("/metrics")), 15)
        self.assertTrue(text, "no exhaustion series on /metrics")
        # promtool comes with the prometheus package scripts/install-deps.sh installs.
        self.assertTrue(shutil.which("promtool"), "promtool is missing")
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)


if __name__ == "__main__":
    unittest.main()
