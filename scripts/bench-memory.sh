#!/usr/bin/env bash
# Where accord-collector's memory per connected agent goes: the collector runs under heaptrack
# while AGENTS simulated agents (accord-loadgen, 1 s samples and heartbeats) stream to it; after
# WINDOW s it is killed (SIGKILL), so every allocation still live at that instant is reported as
# "leaked", by call site. Writes the heap live per agent, by owner (the library of the first
# frame past the allocator), ours by component (the first frame of ours in the backtrace) and
# the largest sites (bytes per agent) to the --out file for docs/benchmarks.md.
#
# Usage: scripts/bench-memory.sh [--out FILE]
# Env:   AGENTS=2000 WINDOW=90 SKIP_BUILD=0 BUILD_DIR=build-bench
# Needs heaptrack (Debian heaptrack; installed when missing and root). Stops everything it started.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 11 "$@"
AGENTS="${AGENTS:-2000}"
WINDOW="${WINDOW:-90}"
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init
if ! command -v heaptrack >/dev/null; then
  bench_apt_install heaptrack - heaptrack || true
fi
command -v heaptrack >/dev/null || bench_die "heaptrack is not installed (apt-get install heaptrack)"
bench_build accord-collector accord-loadgen

bench_raise_fd_limit $((AGENTS * 2 + 256)) || true

log="$BENCH_TMP/collector.log"
heaptrack -o "$BENCH_TMP/heap" "$BUILD_DIR/collector/accord-collector" \
  --grpc.listen-address=127.0.0.1:0 --web.listen-address=127.0.0.1:0 \
  --storage.path="$BENCH_TMP/collector-storage" >"$BENCH_TMP/heaptrack.log" 2>"$log" &
HT_PID=$!
bench_track "$HT_PID"
bench_wait_for 60 grep -q 'msg="collector started"' "$log" || bench_die "collector did not start"
line="$(grep -m1 'msg="collector started"' "$log")"
GRPC_PORT="$(sed -E 's/.*grpc_port=([0-9]+).*/\1/' <<<"$line")"
COLLECTOR_PID="$(pgrep -f -- "--storage.path=$BENCH_TMP/collector-storage" | while read -r p; do
  [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$BUILD_DIR/collector/accord-collector")" ] && echo "$p"
done | head -1)"
[ -n "$COLLECTOR_PID" ] || bench_die "cannot find the collector's pid"

"$BUILD_DIR/bench/accord-loadgen" --collector.address="127.0.0.1:$GRPC_PORT" \
  --agents="$AGENTS" --channels=0 --interval=1s --heartbeat=1s --duration="$((WINDOW + 30))s" \
  --ramp-up=2s --output=json >"$BENCH_TMP/loadgen.json" 2>"$BENCH_TMP/loadgen.log" &
LOADGEN_PID=$!
bench_track "$LOADGEN_PID"
bench_log "heaptrack on the collector (pid $COLLECTOR_PID), $AGENTS agents for ${WINDOW}s"
sleep "$WINDOW"
rss_kib="$(bench_status "$COLLECTOR_PID" VmRSS)"
kill -9 "$COLLECTOR_PID"
wait "$HT_PID" 2>/dev/null || true
bench_stop "$LOADGEN_PID" 5

data=""
for f in "$BENCH_TMP"/heap*.zst "$BENCH_TMP"/heap*.gz; do [ -f "$f" ] && data="$f" && break; done
[ -n "$data" ] || bench_die "heaptrack wrote no data: $(tail -3 "$BENCH_TMP/heaptrack.log")"
heaptrack_print -f "$data" --print-peaks 0 --print-allocators 0 --print-temporary 0 \
  --print-leaks 1 --merge-backtraces 0 -n 400 >"$BENCH_TMP/leaks.txt" 2>/dev/null || true

python3 - "$BENCH_TMP/leaks.txt" "$AGENTS" "$rss_kib" "$WINDOW" >>"${BENCH_OUT:-/dev/stdout}" <<'EOF'
import re, sys
path, agents, rss_kib, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
UNITS = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
def size(s):
    m = re.match(r"([0-9.]+)([BKMG])$", s)
    return float(m.group(1)) * UNITS[m.group(2)] if m else 0.0
# Frames that only allocate: attribution goes to the first frame past them.
WRAPPER = re.compile(r"^(0x[0-9a-f]+|malloc|calloc|realloc|operator new|gpr_(malloc|zalloc|realloc|"
                     r"malloc_aligned)|std::|void\* absl::.*Allocate|absl::.*raw_hash_set|"
                     r"google::protobuf::internal::|google::protobuf::RepeatedField|"
                     r"grpc_event_engine::experimental::MemoryAllocator::MakeSlice|grpc_core::Arena::|"
                     r"grpc_slice_buffer|grpc_call_arena_alloc|.*_M_(allocate|create|realloc|default)|"
                     r"__gnu_cxx::|decltype|void std::|double\* std::|unsigned int\* std::)")
def owner(lib):
    if "accord-collector" in lib: return "accord"
    if re.search(r"lib(grpc|gpr|upb|address_sorting)", lib): return "gRPC"
    if "libprotobuf" in lib: return "protobuf"
    if "libsqlite3" in lib: return "SQLite"
    if "libcivetweb" in lib: return "civetweb"
    return "other"
blocks, total, cur = [], 0.0, None
for line in open(path, encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    m = re.match(r"^(\S+) leaked over (\d+) calls from", line)
    if m:
        cur = {"bytes": size(m.group(1)), "calls": int(m.group(2)), "frames": []}
        blocks.append(cur)
        continue
    m = re.match(r"^total memory leaked: (\S+)", line)
    if m:
        total = size(m.group(1))
        continue
    if cur is None:
        continue
    if re.match(r"^  \S", line):
        cur["frames"].append([line.strip(), ""])
    elif re.match(r"^    in ", line) and cur["frames"]:
        cur["frames"][-1][1] = line.strip()[3:]
# Our share by component: the first frame of ours anywhere in the backtrace.
PARTS = [(r"^accord::v1::", "messages"),  # parsed messages still queued or being parsed
         (r"^accord::collector::capacity::", "capacity"),
         (r"^accord::collector::HostRegistry", "registry"),
         (r"^accord::collector::(TelemetryService|Ingestor|IngestQueue)", "ingest"),
         (r"^accord::collector::SqliteStore", "store"),
         (r"^accord::", "other")]
def part(frames, site):
    for name, _ in frames:
        for pattern, p in PARTS:
            if re.match(pattern, name):
                return p
    return "grpcpp" if site.startswith("grpc::") else "other"
sites, owners, parts = {}, {}, {}
for b in blocks:
    site, lib = None, ""
    for name, where in b["frames"]:
        if not WRAPPER.match(name):
            site, lib = name, where
            break
    if site is None and b["frames"]:
        site, lib = b["frames"][0]
    site = re.sub(r"\(.*", "", site or "?")
    if not lib:  # inlined into the caller: the next frame's library
        libs = [w for _, w in b["frames"] if w]
        lib = libs[0] if libs else ""
    key = (site, owner(lib))
    sites[key] = sites.get(key, 0.0) + b["bytes"]
    owners[owner(lib)] = owners.get(owner(lib), 0.0) + b["bytes"]
    if owner(lib) == "accord":
        p = part(b["frames"], site)
        parts[p] = parts.get(p, 0.0) + b["bytes"]
print("memory_agents=%d" % agents)
print("memory_window_s=%s" % window)
print("memory_rss_kib=%d" % rss_kib)
print("memory_heap_live_bytes=%d" % total)
print("memory_heap_kib_per_agent=%.2f" % (total / 1024 / agents))
for o, v in sorted(owners.items(), key=lambda kv: -kv[1]):
    print("memory_owner_%s_kib_per_agent=%.2f" % (o, v / 1024 / agents))
for p, v in sorted(parts.items(), key=lambda kv: -kv[1]):
    print("memory_part_%s_kib_per_agent=%.2f" % (p, v / 1024 / agents))
for i, ((s, o), v) in enumerate(sorted(sites.items(), key=lambda kv: -kv[1])[:12], 1):
    print("memory_site_%d=%.2f KiB/agent %s %s" % (i, v / 1024 / agents, o, s))
EOF
[ -n "$BENCH_OUT" ] && cat "$BENCH_OUT" >&2
