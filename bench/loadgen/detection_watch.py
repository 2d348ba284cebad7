#!/usr/bin/env python3
"""Observer side of the detection benchmark (scripts/bench-detection.sh).

  detection_watch.py poll --url http://127.0.0.1:PORT --endpoint hosts|metrics \\
      --period-ms 50 --out changes.json
      Polls GET /api/v1/hosts (state of every host) or GET /metrics (accord_host_up of every
      host) with curl (--fetch http.client: one keep-alive connection), as fast as the period
      allows, until SIGTERM or SIGINT; then writes every change of a host's state with the
      wall times of the poll that saw it, and the poll periods achieved (the measurement's
      resolution).

  detection_watch.py analyze --loadgen loadgen.json --hosts hosts.json --metrics metrics.json \\
      --url http://127.0.0.1:PORT --heartbeat-s 1 --out results.env
      Joins accord-loadgen's fault records (wall time each host was killed or frozen) with the
      changes the pollers saw and with the collector's own transition log
      (GET /api/v1/hosts/{id}: recorded_at, when the collector learnt it), and writes key=value
      results: p50/p99/max latency per fault kind and per endpoint, with the targets' verdicts.

  detection_watch.py prometheus --url http://127.0.0.1:PROM --target PORT:PID ... \
      --interval-s 15 --for-s 60 --seed 1 --out results.env --prefix prom_tuned_
      The same event against Prometheus: waits until Prometheus scrapes every target (a tiny
      HTTP server each, job "target") with up == 1, then kills them (SIGKILL) one by one,
      spread over one scrape interval, and polls every second GET /api/v1/alerts (alert
      TargetDown "firing" for the instance) and GET /api/v1/query up{job="target"} (0). At the
      end, range queries give the exact timestamps of the first failed scrape (up == 0 sample)
      and of the rule evaluation that fired (first ALERTS{alertstate="firing"} sample).

Latency of one host on an endpoint = (wall time the poll's response was fully read) - (wall time
the load generator applied the fault): what an observer polling that endpoint experiences,
including the endpoint's render time, at most one poll period late. "registry" uses the
collector's recorded_at (ms resolution, no polling). Percentiles are nearest-rank (p99 of
fewer than 100 values is the maximum). Same machine, same wall clock for everyone.
"""
import argparse
import datetime
import http.client
import json
import math
import mmap
import os
import random
import re
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HOST_UP_RE = re.compile(rb'^accord_host_up\{(?:[^}]*,)?host="((?:[^"\\]|\\.)*)"[^}]*\} (\S+)',
                        re.M)


class Client:
    """One keep-alive HTTP connection; reconnects after an error."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.conn = None

    def get(self, path, timeout=30):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                if r.status != 200:
                    raise IOError("HTTP %d for %s" % (r.status, path))
                return body
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        return b""

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class CurlClient:
    """Fetches with curl into a file in a private temporary directory (tmpfs where there is
    one) and returns it mapped: a large body (/metrics of 10,000 hosts, ~190 MB) is read as
    fast as a C client reads it (under 10,000 agents, with no other poller, http.client took
    0.62-0.79 s for a body curl read in 0.31-0.41 s, and its CPU competes with the
    collector's), and parsing touches only the pages it looks at. A new connection per poll
    (loopback: well under a millisecond)."""

    # tmpfs only with room for a large body (a container's /dev/shm may be 64 MB).
    MIN_TMPFS_FREE = 1 << 30

    def __init__(self, url):
        self.url = url.rstrip("/")
        base = None  # TMPDIR or /tmp
        if os.path.isdir("/dev/shm"):
            st = os.statvfs("/dev/shm")
            if st.f_bavail * st.f_frsize >= self.MIN_TMPFS_FREE:
                base = "/dev/shm"
        self.dir = tempfile.mkdtemp(prefix="detection-watch-", dir=base)
        self.path = os.path.join(self.dir, "body")
        self.map = None

    def get(self, path, timeout=30):
        if self.map is not None:
            self.map.close()
            self.map = None
        r = subprocess.run(["curl", "-sS", "--fail", "--max-time", str(timeout), "-o", self.path,
                            self.url + path], stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise IOError("curl %s: %s" % (path, r.stderr.decode(errors="replace").strip()))
        with open(self.path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return b""
            self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return self.map

    def close(self):
        if self.map is not None:
            self.map.close()
        shutil.rmtree(self.dir, ignore_errors=True)


HOST_ID_RE = re.compile(rb'\{"id":"((?:[^"\\]|\\.)*)"')
HOST_STATE_RE = re.compile(rb'"state":"([a-z]+)"')


def parse_hosts(body):
    # Fast path (a fifth of json.loads at 10,000 hosts): every host object starts with its id
    # and has one state. A label named "id" or "state" breaks the pairing: then parse the JSON.
    if not isinstance(body, bytes):
        body = bytes(body)  # CurlClient's mapping (a few MB here): bytes has count()
    ids, states = HOST_ID_RE.findall(body), HOST_STATE_RE.findall(body)
    if len(ids) == len(states) and body.count(b'"hostname":') == len(ids):
        return {(json.loads(b'"' + i + b'"') if b"\\" in i else i.decode()): s.decode()
                for i, s in zip(ids, states)}
    return {h["id"]: h["state"] for h in json.loads(body)["hosts"]}


def parse_metrics(body):
    # The family's samples are contiguous: parse only that block.
    start = body.find(b"\naccord_host_up{")
    if start < 0:
        return {}
    end = body.find(b"\n#", start + 1)
    block = body[start + 1:end if end > 0 else len(body)]
    return {m.group(1).decode(): m.group(2).decode() for m in HOST_UP_RE.finditer(block)}


def quantile(values, q):
    """Nearest-rank quantile; None when empty."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, min(len(v) - 1, math.ceil(q * len(v)) - 1))]


def cmd_poll(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    path, parse = ("/api/v1/hosts", parse_hosts) if a.endpoint == "hosts" else (
        a.metrics_path, parse_metrics)
    client = CurlClient(a.url) if a.fetch == "curl" else Client(a.url)
    period = a.period_ms / 1000.0
    state, changes, starts, durations, parse_s = {}, [], [], [], []
    errors, polls, prev_req, hosts_seen, body_bytes = 0, 0, None, 0, 0
    first_req = None
    try:
        while not stop:
            t_req = time.time()
            p0 = time.perf_counter()
            try:
                body = client.get(path)
            except (OSError, http.client.HTTPException) as e:
                errors += 1
                print("poll %s: %s" % (a.endpoint, e), file=sys.stderr)
                time.sleep(period)
                continue
            p1 = time.perf_counter()
            t_resp = time.time()
            now = parse(body)
            parse_s.append(time.perf_counter() - p1)
            polls += 1
            if first_req is None:
                first_req = t_req
            starts.append(p0)
            durations.append(p1 - p0)
            for host, s in now.items():
                old = state.get(host)
                if old is not None and old != s:
                    changes.append([host, old, s, prev_req, t_req, t_resp])
            state = now
            hosts_seen = len(now)
            body_bytes = len(body)
            prev_req = t_req
            left = period - (time.perf_counter() - p0)
            if left > 0 and not stop:
                time.sleep(left)
    finally:
        client.close()  # CurlClient: its temporary file (a large body in tmpfs)
    periods = [b - a for a, b in zip(starts, starts[1:])]
    out = {
        "endpoint": a.endpoint,
        "path": path,
        "target_period_ms": a.period_ms,
        "polls": polls,
        "errors": errors,
        "hosts": hosts_seen,
        "first_request_unix_s": first_req,
        "last_request_unix_s": prev_req,
        "period_ms": {"median": 1e3 * statistics.median(periods) if periods else None,
                      "p99": 1e3 * quantile(periods, 0.99) if periods else None,
                      "max": 1e3 * max(periods) if periods else None},
        "request_ms": {"median": 1e3 * statistics.median(durations) if durations else None,
                       "max": 1e3 * max(durations) if durations else None},
        "parse_ms": {"median": 1e3 * statistics.median(parse_s) if parse_s else None},
        "body_bytes": body_bytes,
        # [host, from, to, previous poll's request time, request time, response time]
        "changes": changes,
    }
    with open(a.out, "w") as f:
        json.dump(out, f)


def rfc3339(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cmd_analyze(a):
    lg = json.load(open(a.loadgen))
    polls = {}
    for name, path in (("api", a.hosts), ("metrics", a.metrics)):
        if path:
            polls[name] = json.load(open(path))
    client = Client(a.url) if a.url else None
    hb = a.heartbeat_s
    targets = {"kill": 1.0, "freeze": 3 * hb + 0.5}
    events = [e for e in lg.get("fault_events", []) if e["at_unix_s"] is not None]
    faults = [e for e in events if e["kind"] in ("kill", "freeze")]
    reconnects = [e for e in events if e["kind"] == "reconnect"]
    down_states = {"api": lambda s: s != "up", "metrics": lambda s: s == "0"}
    up_states = {"api": lambda s: s == "up", "metrics": lambda s: s == "1"}

    # Per endpoint: host -> changes, in time order.
    by_host = {}
    for name, p in polls.items():
        d = {}
        for c in p["changes"]:
            d.setdefault(c[0], []).append(c)
        by_host[name] = d

    transitions = {}
    if client is not None:
        for host in sorted({e["host"] for e in events}):
            try:
                body = client.get("/api/v1/hosts/" + urllib.parse.quote(host, safe=""))
                transitions[host] = json.loads(body)["transitions"]
            except (OSError, http.client.HTTPException, ValueError) as e:
                print("transitions of %s: %s" % (host, e), file=sys.stderr)

    def state_at(name, host, t):
        """The host's state in the last poll of `name` fully read before t (None: unknown). A
        poll under way at t may already show the fault: that is a detection, not the state
        before it."""
        p = polls[name]
        if p["first_request_unix_s"] is None or p["first_request_unix_s"] > t:
            return None
        s = "up" if name == "api" else "1"
        for c in by_host[name].get(host, []):
            if c[5] > t:
                break
            s = c[2]
        return s

    res = {}  # (kind, endpoint) -> list of latencies (s)
    not_up_before = {}  # (kind, endpoint) -> faults applied to a host already shown not up
    missed = {}
    unobserved = {}
    causes = {}
    silence = []  # freeze: registry detection - last message written
    recover = {}  # endpoint -> latencies of reconnect -> up
    for e in faults:
        kind, host, t = e["kind"], e["host"], e["at_unix_s"]
        for name, p in polls.items():
            key = (kind, name)
            res.setdefault(key, [])
            if p["first_request_unix_s"] is None or p["first_request_unix_s"] > t:
                unobserved[key] = unobserved.get(key, 0) + 1
                continue
            before = state_at(name, host, t)
            if before is not None and not up_states[name](before):
                # Already shown not up (e.g. left silent by the generator, counted among the
                # false downs): no change to detect, so neither a latency nor a miss.
                not_up_before[key] = not_up_before.get(key, 0) + 1
                continue
            hit = next((c for c in by_host[name].get(host, [])
                        if c[5] > t and up_states[name](c[1]) and down_states[name](c[2])), None)
            if hit is None:
                missed[key] = missed.get(key, 0) + 1
            else:
                res[key].append(hit[5] - t)
        if client is not None:
            key = (kind, "registry")
            res.setdefault(key, [])
            # recorded_at has ms resolution: allow the 1 ms it may round down.
            tr = next((x for x in transitions.get(host, [])
                       if x["from"] == "up" and x["to"] != "up"
                       and rfc3339(x["recorded_at"]) >= t - 0.001), None)
            if tr is None:
                missed[key] = missed.get(key, 0) + 1
            else:
                res[key].append(max(0.0, rfc3339(tr["recorded_at"]) - t))
                causes.setdefault(kind, {}).setdefault(tr["cause"], 0)
                causes[kind][tr["cause"]] += 1
                if kind == "freeze" and e.get("last_message_unix_s") is not None:
                    silence.append(rfc3339(tr["recorded_at"]) - e["last_message_unix_s"])
    for e in reconnects:
        host, t = e["host"], e["at_unix_s"]
        for name in polls:
            hit = next((c for c in by_host[name].get(host, [])
                        if c[5] > t and up_states[name](c[2])), None)
            if hit is not None:
                recover.setdefault(name, []).append(hit[5] - t)

    out = []

    def r(k, v):
        if isinstance(v, float):
            v = "%.4f" % v
        out.append("%s=%s" % (k, v))

    r("heartbeat_s", hb)
    r("target_kill_p99_s", targets["kill"])
    r("target_freeze_p99_s", targets["freeze"])
    r("faults_kill", sum(1 for e in faults if e["kind"] == "kill"))
    r("faults_freeze", sum(1 for e in faults if e["kind"] == "freeze"))
    r("faults_not_connected", sum(1 for e in faults if not e.get("connected")))
    for name, p in polls.items():
        r("poll_%s_polls" % name, p["polls"])
        r("poll_%s_errors" % name, p["errors"])
        r("poll_%s_target_period_ms" % name, p["target_period_ms"])
        for k in ("median", "p99", "max"):
            if p["period_ms"][k] is not None:
                r("poll_%s_period_ms_%s" % (name, k), float(p["period_ms"][k]))
        for k in ("median", "max"):
            if p["request_ms"][k] is not None:
                r("poll_%s_request_ms_%s" % (name, k), float(p["request_ms"][k]))
        if p["parse_ms"]["median"] is not None:
            r("poll_%s_parse_ms_median" % name, float(p["parse_ms"]["median"]))
        r("poll_%s_body_bytes" % name, p["body_bytes"])
        r("poll_%s_hosts" % name, p["hosts"])
    verdicts = []
    for kind in ("kill", "freeze"):
        for name in ("registry", "api", "metrics"):
            key = (kind, name)
            if key not in res:
                continue
            v = res[key]
            pre = "%s_%s" % (kind, name)
            r(pre + "_n", len(v))
            r(pre + "_missed", missed.get(key, 0))
            r(pre + "_unobserved", unobserved.get(key, 0))
            if name != "registry":
                r(pre + "_not_up_before", not_up_before.get(key, 0))
            if v:
                r(pre + "_p50_s", quantile(v, 0.5))
                r(pre + "_p99_s", quantile(v, 0.99))
                r(pre + "_max_s", max(v))
                r(pre + "_min_s", min(v))
            ok = bool(v) and quantile(v, 0.99) <= targets[kind] and not missed.get(key, 0) \
                and not unobserved.get(key, 0)
            r(pre + "_met", 1 if ok else 0)
            if name != "registry":
                verdicts.append(ok)
        for cause, n in sorted(causes.get(kind, {}).items()):
            r("%s_cause_%s" % (kind, cause), n)
    if silence:
        r("freeze_registry_from_last_message_p50_s", quantile(silence, 0.5))
        r("freeze_registry_from_last_message_max_s", max(silence))
    for name, v in sorted(recover.items()):
        r("reconnect_%s_n" % name, len(v))
        r("reconnect_%s_p50_s" % name, quantile(v, 0.5))
        r("reconnect_%s_max_s" % name, max(v))
    # Hosts that were never faulted but left "up" anyway: the collector could not keep up with
    # the heartbeats, or the load generator did not send them. The generator records its own
    # silences (sender gaps: a healthy agent that wrote nothing for over 3 heartbeats, the
    # collector's limit). A change is the generator's when such a gap alone reached the limit
    # before the poll that saw the change (from + 3 heartbeats <= its response) and was still
    # open at the poll before it, which saw "up" (to >= its request).
    faulted = {e["host"] for e in events}
    gaps = {}
    for g in lg.get("sender_gap_events", []):
        gaps.setdefault(g["host"], []).append((g["from_unix_s"], g["to_unix_s"]))
    limit = lg.get("sender_gap_heartbeats", 3) * hb
    r("sender_gaps", lg.get("sender_gaps", 0))
    r("sender_gap_max_s", lg.get("sender_gap_max_ms", 0) / 1000.0)
    # The generator keeps the first 100,000 gaps: beyond that, attribution undercounts.
    r("sender_gap_events_dropped", lg.get("sender_gaps", 0) - len(lg.get("sender_gap_events", [])))

    def sender_silent(c):
        return any(f + limit <= c[5] and t >= c[3] for f, t in gaps.get(c[0], []))
    for name, p in sorted(polls.items()):
        false = [c for c in p["changes"] if c[0] not in faulted and up_states[name](c[1])]
        hosts = {c[0] for c in false}
        by_sender = {c[0] for c in false if sender_silent(c)}
        r("false_down_%s_changes" % name, len(false))
        r("false_down_%s_hosts" % name, len(hosts))
        r("false_down_%s_hosts_sender_gap" % name, len(by_sender))
        r("false_down_%s_hosts_collector" % name, len(hosts - by_sender))
    r("missed_excludes_not_up_before", 1)
    r("all_targets_met", 1 if verdicts and all(verdicts) else 0)
    text = "\n".join(out) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


def prom_query(client, expr):
    body = client.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    d = json.loads(body)
    if d.get("status") != "success":
        raise IOError("query %s: %s" % (expr, d))
    return d["data"]


def cmd_prometheus(a):
    client = Client(a.url)
    targets = []  # (instance, pid)
    for t in a.target:
        port, pid = t.split(":")
        targets.append(("127.0.0.1:" + port, int(pid)))
    job = 'up{job="target"}'

    def up_values():
        return {r["metric"]["instance"]: float(r["value"][1])
                for r in prom_query(client, job)["result"]}

    # 1. Every target scraped and up.
    deadline = time.time() + 2 * a.interval_s + 60
    while True:
        try:
            v = up_values()
        except (OSError, http.client.HTTPException, ValueError):
            v = {}
        if all(v.get(i) == 1.0 for i, _ in targets):
            break
        if time.time() > deadline:
            sys.exit("prometheus: targets not all up after %.0f s: %s" % (2 * a.interval_s + 60, v))
        time.sleep(0.5)
    # 2. Kill them one by one over one scrape interval (random phase against the scrapes and
    # the rule evaluations).
    rng = random.Random(a.seed)
    n = len(targets)
    t0 = time.time() + 1
    plan = sorted((t0 + a.interval_s * (k + rng.random()) / n, inst, pid)
                  for k, (inst, pid) in enumerate(targets))
    killed, up0_poll, firing_poll, pending_poll = {}, {}, {}, {}
    polls, errors, last_poll = 0, 0, 0.0
    stop_at = plan[-1][0] + a.for_s + 3 * a.interval_s + 60
    while time.time() < stop_at:
        now = time.time()
        for at, inst, pid in plan:
            if inst not in killed and now >= at:
                killed[inst] = time.time()
                os.kill(pid, 9)
        if now - last_poll >= a.poll_s:
            last_poll = now
            try:
                t_req = time.time()
                v = up_values()
                alerts = json.loads(client.get("/api/v1/alerts"))["data"]["alerts"]
                t_resp = time.time()
                polls += 1
                for inst, val in v.items():
                    if inst in killed and val == 0.0 and inst not in up0_poll:
                        up0_poll[inst] = t_resp
                for al in alerts:
                    inst = al["labels"].get("instance")
                    if al["labels"].get("alertname") != "TargetDown" or inst not in killed:
                        continue
                    if al["state"] == "pending" and inst not in pending_poll:
                        pending_poll[inst] = t_resp
                    if al["state"] == "firing" and inst not in firing_poll:
                        firing_poll[inst] = t_resp
            except (OSError, http.client.HTTPException, ValueError) as e:
                errors += 1
                print("prometheus poll: %s" % e, file=sys.stderr)
        if len(firing_poll) == n and len(killed) == n:
            break
        nxt = min([at for at, inst, _ in plan if inst not in killed] + [last_poll + a.poll_s])
        time.sleep(max(0.01, min(0.2, nxt - time.time())))
    # 3. Exact times from the TSDB: the first failed scrape and the evaluation that fired.
    window = "%ds" % int(time.time() - t0 + 4 * a.interval_s + 120)
    up0_scrape, firing_eval = {}, {}
    try:
        for r in prom_query(client, job + "[" + window + "]")["result"]:
            inst = r["metric"]["instance"]
            for ts, val in r["values"]:
                if inst in killed and ts >= killed[inst] and float(val) == 0.0:
                    up0_scrape[inst] = ts
                    break
        expr = 'ALERTS{alertname="TargetDown",alertstate="firing"}[' + window + "]"
        for r in prom_query(client, expr)["result"]:
            inst = r["metric"]["instance"]
            if inst in killed and r["values"]:
                firing_eval[inst] = r["values"][0][0]
    except (OSError, http.client.HTTPException, ValueError) as e:
        print("prometheus range query: %s" % e, file=sys.stderr)

    out = []

    def r(k, v):
        if isinstance(v, float):
            v = "%.3f" % v
        out.append("%s%s=%s" % (a.prefix, k, v))

    r("scrape_interval_s", a.interval_s)
    r("for_s", a.for_s)
    r("targets", n)
    r("polls", polls)
    r("poll_errors", errors)
    r("poll_period_s", a.poll_s)
    for name, d in (("up0_query", up0_poll), ("up0_scrape", up0_scrape),
                    ("pending_alerts", pending_poll), ("firing_alerts", firing_poll),
                    ("firing_eval", firing_eval)):
        lat = [d[i] - killed[i] for i in killed if i in d]
        r(name + "_n", len(lat))
        if lat:
            r(name + "_p50_s", quantile(lat, 0.5))
            r(name + "_min_s", min(lat))
            r(name + "_max_s", max(lat))
            r(name + "_values_s", ",".join("%.1f" % x for x in sorted(lat)))
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("poll")
    p.add_argument("--url", required=True)
    p.add_argument("--endpoint", choices=("hosts", "metrics"), required=True)
    p.add_argument("--period-ms", type=float, default=50)
    p.add_argument("--metrics-path", default="/metrics",
                   help="for --endpoint metrics: e.g. /metrics?family=accord_host_up")
    p.add_argument("--fetch", choices=("curl", "http.client"), default="curl",
                   help="curl (a process per poll, body mapped from a temporary file) or "
                        "Python's http.client on one keep-alive connection")
    p.add_argument("--out", required=True)
    z = sub.add_parser("analyze")
    z.add_argument("--loadgen", required=True)
    z.add_argument("--hosts")
    z.add_argument("--metrics")
    z.add_argument("--url")
    z.add_argument("--heartbeat-s", type=float, default=1.0)
    z.add_argument("--out")
    q = sub.add_parser("prometheus")
    q.add_argument("--url", required=True)
    q.add_argument("--target", action="append", required=True, help="PORT:PID")
    q.add_argument("--interval-s", type=float, required=True)
    q.add_argument("--for-s", type=float, required=True)
    q.add_argument("--poll-s", type=float, default=1.0)
    q.add_argument("--seed", type=int, default=1)
    q.add_argument("--prefix", default="")
    q.add_argument("--out", required=True)
    a = ap.parse_args()
    {"poll": cmd_poll, "analyze": cmd_analyze, "prometheus": cmd_prometheus}[a.cmd](a)


if __name__ == "__main__":
    main()
