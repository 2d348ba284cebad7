"""Helpers for integration tests: real accord processes on loopback, temp dirs, free ports.

Standard library only. Binaries come from $ACCORD_BIN_DIR (the CMake build dir).
"""
import calendar
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request

BIN_DIR = os.environ.get("ACCORD_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
COLLECTOR = os.path.join(BIN_DIR, "collector", "accord-collector")
AGENT = os.path.join(BIN_DIR, "agent", "accord-agent")
TESTDATA = os.path.join(os.path.dirname(__file__), "..", "agent", "sources", "testdata")


def wait_for(cond, timeout=10.0, interval=0.02):
    """Polls cond() until it returns a truthy value or timeout passes; returns the value."""
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def restartable_port():
    """A free port below the kernel's ephemeral range, for a listener that is killed and
    started again on the same port: no other test's port-0 bind (nor any client socket) can
    take it in between, as one in the ephemeral range could (seen under parallel ctest)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below %d" % low)


class Process:
    """A child process whose stderr is collected line by line."""

    def __init__(self, args, name):
        self.name = name
        self.lines = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self._lock:
            return list(self.lines)

    def find(self, pattern):
        rx = re.compile(pattern)
        for line in self.log():
            m = rx.search(line)
            if m:
                return m
        return None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2)


class Collector(Process):
    def __init__(self, tmp, extra=()):
        args = [COLLECTOR, "--grpc.listen-address=127.0.0.1:0", "--web.listen-address=127.0.0.1:0",
                "--storage.path=" + os.path.join(tmp, "collector"), *extra]
        super().__init__(args, "collector")
        m = wait_for(lambda: self.find(r"collector started\" grpc_port=(\d+) web_port=(\d+)"), 15)
        if not m:
            self.stop()
            raise RuntimeError("collector did not start:\n" + "\n".join(self.log()))
        self.grpc_port = int(m.group(1))
        self.web_port = int(m.group(2))
        self.grpc_address = "127.0.0.1:%d" % self.grpc_port

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.web_port, path), timeout=5) as r:
            return r.read().decode()

    def get_json(self, path):
        return json.loads(self.get(path))

    def host(self, host_id):
        for h in self.get_json("/api/v1/hosts")["hosts"]:
            if h["id"] == host_id:
                return h
        return None

    def state(self, host_id):
        h = self.host(host_id)
        return h["state"] if h else None


class Agent(Process):
    def __init__(self, collector_address, tmp, host_id, extra=()):
        args = [AGENT, "--collector.address=" + collector_address, "--host.id=" + host_id,
                "--spool.dir=" + os.path.join(tmp, "agent-" + host_id), "--sample.interval=1s",
                "--heartbeat.interval=1s", *extra]
        super().__init__(args, "agent " + host_id)


def fixture_procfs(tmp, name="multicore-server"):
    """Copies a captured /proc tree into tmp so a test can change it (e.g. btime)."""
    src = os.path.join(TESTDATA, name, "proc")
    dst = os.path.join(tmp, "procfs-" + name)
    shutil.copytree(src, dst)
    return dst


def set_btime(procfs, btime):
    path = os.path.join(procfs, "stat")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"^btime \d+$", "btime %d" % btime, text, flags=re.M)
    with open(path, "w") as f:
        f.write(text)


def make_tmp():
    return tempfile.mkdtemp(prefix="accord-it-")


# --- Helpers for the fault-injection scenarios (test_faults.py) ---------------------------------

def metric(text, name, host):
    """The value of `name{host="<host>",...}` in a /metrics text, or None."""
    m = re.search(r'^%s\{host="%s"[^}]*\} ([0-9.e+-]+)$' % (re.escape(name), re.escape(host)),
                  text, re.M)
    return float(m.group(1)) if m else None


def rfc3339(t):
    """Unix seconds -> RFC 3339 UTC with milliseconds, as the API writes and reads it."""
    ms = int(round(t * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def parse_rfc3339(text):
    """RFC 3339 UTC ("...Z", optional fraction) -> Unix seconds (float)."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$", text)
    if not m:
        raise ValueError("not an RFC 3339 UTC time: %r" % text)
    whole = calendar.timegm(tuple(int(g) for g in m.groups()[:6]))
    return whole + (float("0." + m.group(7)) if m.group(7) else 0.0)


def write_catalogue(tmp, service_id, hosts, name="collector.yaml"):
    """A collector config file holding a catalogue with one service made of `hosts` (24x7,
    default unknown-time policy `down`). Returns its path (pass --config.file=PATH)."""
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("services:\n  - id: %s\n    components:\n      hosts: [%s]\n"
                "    sla:\n      target: 99.9\n" % (service_id, ", ".join(hosts)))
    return path


def set_uptime(procfs, seconds):
    with open(os.path.join(procfs, "uptime"), "w") as f:
        f.write("%.2f %.2f\n" % (seconds, seconds * 1.9))


def add_net_devices(procfs, count, prefix="veth"):
    """Appends `count` interfaces to {procfs}/net/dev: each one is 8 more series per batch,
    a way to make batches (and spool segments) big without a fast sampling interval."""
    with open(os.path.join(procfs, "net", "dev"), "a") as f:
        for i in range(count):
            f.write("%s%05d: %d 1 0 0 0 0 0 0 %d 1 0 0 0 0 0 0\n" % (prefix, i, i, i))


def spool_segments(spool_dir):
    """The segment files of an agent's spool (--spool.dir), oldest first."""
    d = os.path.join(spool_dir, "segments")
    return sorted(os.path.join(d, n) for n in os.listdir(d)
                  if re.match(r"^seg-\d{20}\.log$", n))


class SpoolRecord:
    def __init__(self, offset, length, sequence, timestamp_ms, values):
        self.offset = offset          # of the record header in the file
        self.length = length          # header + payload bytes
        self.sequence = sequence
        self.timestamp_ms = timestamp_ms
        self.values = values          # samples in the batch

    def __repr__(self):
        return "SpoolRecord(seq=%d, offset=%d, length=%d, values=%d)" % (
            self.sequence, self.offset, self.length, self.values)


def read_spool_segment(path):
    """Parses a spool segment (format in agent/spool/segment_format.h) without checking CRCs:
    the records whose framing is whole, in file order. For tests that count or damage them."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:4] != b"ASPL":
        return []
    records = []
    pos = 16
    while pos + 8 + 25 <= len(data):
        (length,) = struct.unpack_from("<I", data, pos)
        if pos + 8 + length > len(data) or length < 25 or data[pos + 8] != 1:
            break
        seq, ts, n_series, n_values = struct.unpack_from("<QqII", data, pos + 9)
        if 25 + 4 * n_series + 8 * n_values != length:
            break
        records.append(SpoolRecord(pos, 8 + length, seq, ts, n_values))
        pos += 8 + length
    return records
