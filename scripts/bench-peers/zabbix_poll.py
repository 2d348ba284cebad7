#!/usr/bin/env python3
"""Plays a Zabbix server's poller against a passive zabbix_agentd (scripts/bench-agent.sh).

Debian 12 ships no zabbix_get, so this speaks the passive protocol itself: per item one TCP
connection, the request "ZBXD\\x01" + 8-byte little-endian length + key, the reply in the same
framing, then the agent closes. Every --interval seconds (paced from the start, not from the
end of the previous round) it requests every key of --items (one per line), --rounds times.

Prints key=value lines: rounds, requests, errors (connection or framing failures),
not_supported (replies starting with ZBX_NOTSUPPORTED; the keys are listed on stderr once),
round_ms_max (the slowest round, wall time). Exits 1 when any request failed.
"""
import argparse
import socket
import struct
import sys
import time


def get(port, key, timeout):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        b = key.encode()
        s.sendall(b"ZBXD\x01" + struct.pack("<Q", len(b)) + b)
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    finally:
        s.close()
    if len(data) < 13 or not data.startswith(b"ZBXD"):
        raise ValueError("bad reply %r" % data[:32])
    return data[13:].decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=3.0)
    a = ap.parse_args()
    keys = [k.strip() for k in open(a.items) if k.strip() and not k.startswith("#")]
    requests = errors = 0
    unsupported = {}
    round_max = 0.0
    start = time.monotonic()
    for r in range(a.rounds):
        t0 = time.monotonic()
        for k in keys:
            requests += 1
            try:
                v = get(a.port, k, a.timeout)
                if v.startswith("ZBX_NOTSUPPORTED"):
                    unsupported[k] = v.replace("\0", " ").strip()
            except (OSError, ValueError) as e:
                errors += 1
                unsupported.setdefault(k, "error: %s" % e)
        round_max = max(round_max, time.monotonic() - t0)
        if r + 1 < a.rounds:
            wait = start + (r + 1) * a.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    for k, v in sorted(unsupported.items()):
        print("zabbix_poll: %s: %s" % (k, v), file=sys.stderr)
    print("rounds=%d" % a.rounds)
    print("requests=%d" % requests)
    print("errors=%d" % errors)
    print("not_supported=%d" % len(unsupported))
    print("round_ms_max=%.1f" % (round_max * 1000))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
