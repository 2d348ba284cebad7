#!/usr/bin/env python3
"""A UDP sink for collectd's network plugin (scripts/bench-agent.sh).

Binds 127.0.0.1:0, writes the port to --port-file, then counts what arrives: datagrams, bytes
and values (the value count of each "values" part, type 0x0006, of collectd's binary protocol).
After every datagram it rewrites --stats-file with "packets bytes values" so the script can
read the counts at the start and end of its window. Stops on SIGTERM.
"""
import argparse
import os
import signal
import socket
import struct
import sys


def count_values(data):
    n, off = 0, 0
    while off + 4 <= len(data):
        ptype, plen = struct.unpack_from(">HH", data, off)
        if plen < 4:
            break
        if ptype == 0x0006 and off + 6 <= len(data):
            n += struct.unpack_from(">H", data, off + 4)[0]
        off += plen
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats-file", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.replace(tmp, a.port_file)
    packets = nbytes = values = 0
    stmp = a.stats_file + ".tmp"
    while True:
        data = s.recv(65535)
        packets += 1
        nbytes += len(data)
        values += count_values(data)
        with open(stmp, "w") as f:
            f.write("%d %d %d\n" % (packets, nbytes, values))
        os.replace(stmp, a.stats_file)


if __name__ == "__main__":
    main()
