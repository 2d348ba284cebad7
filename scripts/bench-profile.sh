#!/usr/bin/env bash
# Profiles accord-collector under AGENTS simulated agents (accord-loadgen, 1 s samples and
# heartbeats) with perf: a steady window of PROFILE_SECONDS is sampled (-F 499, call graphs),
# and the hottest symbols (self time) and the hottest call chains are written to the --out
# file for docs/benchmarks.md.
#
# Usage: scripts/bench-profile.sh [--out FILE]
# Env:   AGENTS=1000 WARMUP=15 PROFILE_SECONDS=20 SKIP_BUILD=0 BUILD_DIR=build-bench
# Needs perf (Debian linux-perf; installed when missing and root). Stops everything it started.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 12 "$@"
AGENTS="${AGENTS:-1000}"
WARMUP="${WARMUP:-15}"
PROFILE_SECONDS="${PROFILE_SECONDS:-20}"
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init
if ! command -v perf >/dev/null; then
  bench_apt_install perf - linux-perf || true
fi
command -v perf >/dev/null || bench_die "perf is not installed (apt-get install linux-perf)"
bench_build accord-collector accord-loadgen

bench_start_collector
DURATION=$((WARMUP + PROFILE_SECONDS + 10))
"$BUILD_DIR/bench/accord-loadgen" --collector.address="127.0.0.1:$GRPC_PORT" \
  --agents="$AGENTS" --channels=0 --interval=1s --heartbeat=1s --duration="${DURATION}s" \
  --ramp-up=2s --output=json >"$BENCH_TMP/loadgen.json" 2>"$BENCH_TMP/loadgen.log" &
bench_track $!
bench_log "warming up ${WARMUP}s with $AGENTS agents"
sleep "$WARMUP"
bench_log "perf record ${PROFILE_SECONDS}s on pid $COLLECTOR_PID"
perf record -F 499 -g -p "$COLLECTOR_PID" -o "$BENCH_TMP/perf.data" -- sleep "$PROFILE_SECONDS" \
  >"$BENCH_TMP/perf-record.log" 2>&1 || bench_die "perf record failed: $(tail -3 "$BENCH_TMP/perf-record.log")"
perf report -i "$BENCH_TMP/perf.data" --stdio --no-children --sort dso,symbol \
  --percent-limit 1 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25 >"$BENCH_TMP/self.txt" || true
perf report -i "$BENCH_TMP/perf.data" --stdio --children --sort symbol \
  --percent-limit 5 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25 >"$BENCH_TMP/children.txt" || true
perf report -i "$BENCH_TMP/perf.data" --stdio --no-children --sort dso \
  --percent-limit 1 2>/dev/null | grep -E '^ +[0-9.]+%' | head -10 >"$BENCH_TMP/dso.txt" || true
samples="$(perf report -i "$BENCH_TMP/perf.data" --stdio 2>/dev/null \
  | sed -nE 's/^# Samples: ([0-9kKmM.]+).*/\1/p' | head -1)"

bench_result profile_agents "$AGENTS"
bench_result profile_seconds "$PROFILE_SECONDS"
bench_result profile_samples "${samples:-0}"
i=0
while IFS= read -r line; do
  i=$((i + 1))
  bench_result "profile_self_$i" "$(echo "$line" | sed -E 's/^ +//; s/[ -]+$//; s/ +/ /g')"
done <"$BENCH_TMP/self.txt"
i=0
while IFS= read -r line; do
  i=$((i + 1))
  bench_result "profile_children_$i" "$(echo "$line" | sed -E 's/^ +//; s/[ -]+$//; s/ +/ /g')"
done <"$BENCH_TMP/children.txt"
i=0
while IFS= read -r line; do
  i=$((i + 1))
  bench_result "profile_dso_$i" "$(echo "$line" | sed -E 's/^ +//; s/[ -]+$//; s/ +/ /g')"
done <"$BENCH_TMP/dso.txt"
bench_log "by library:"
sed -E 's/[ -]+$//' "$BENCH_TMP/dso.txt" >&2
bench_log "top of the profile (self time):"
sed -E 's/[ -]+$//' "$BENCH_TMP/self.txt" >&2
