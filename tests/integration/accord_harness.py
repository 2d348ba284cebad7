"""Helpers for integration tests: real accord processes on loopback, temp dirs, free ports.

Standard library only. Binaries come from $ACCORD_BIN_DIR (the CMake build dir).
"""
import json
import os
import re
import shutil
import signal
import socket
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
