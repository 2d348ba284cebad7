#!/usr/bin/env bash
# Measures accord-agent at --sample.interval=1s for DURATION seconds against a collector on
# loopback, side by side with prometheus-node-exporter scraped every second by curl:
#   CPU      utime+stime from /proc/<pid>/stat, and the sum of /proc/<pid>/task/*/schedstat
#            (ns resolution) -> ms of CPU per second and per cycle (agent: per batch accepted by
#            the collector; node_exporter: per scrape);
#   memory   Rss, Pss, Anonymous, Private_Dirty from /proc/<pid>/smaps_rollup (end of run);
#   floor    accord-bench-floor: a process that only reads the same files once a second,
#            measured the same way in the same window (the like-for-like floor); and
#            bench/agent_sampler_bench BM_ReadFilesOnly vs BM_SamplerCollect (hot loop);
#   wire     bytes per sample: the agent's protobuf bytes (accord_collector_received_bytes_total
#            / accord_collector_samples_received_total) and TCP bytes (ss bytes_sent) versus
#            node_exporter's text exposition per sample (plain and gzip, all families and only
#            the families the agent also reports).
#
# Usage: scripts/bench-agent.sh [--out FILE]     (FILE gets key=value results)
# Env:   DURATION=60 WARMUP=5 SKIP_BUILD=0 BUILD_DIR=build-bench NODE_EXPORTER=auto|skip
#        INSTALL_NODE_EXPORTER=1 (apt-get install prometheus-node-exporter when missing: a
#        benchmark-only dependency)
# Runs about DURATION + 20 s. Stops everything it started.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 20 "$@"
DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-5}"
NODE_EXPORTER="${NODE_EXPORTER:-auto}"
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init
bench_build accord-collector accord-agent agent_sampler_bench accord-bench-floor

# node_exporter (Debian package), the reference point.
NE_BIN=""
if [ "$NODE_EXPORTER" != skip ]; then
  NE_BIN="$(command -v prometheus-node-exporter || true)"
  if [ -z "$NE_BIN" ] && [ "${INSTALL_NODE_EXPORTER:-1}" = 1 ] && [ "$(id -u)" = 0 ] \
     && command -v apt-get >/dev/null; then
    bench_log "installing prometheus-node-exporter (benchmark-only dependency)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus-node-exporter >/dev/null 2>&1 || true
    NE_BIN="$(command -v prometheus-node-exporter || true)"
  fi
  [ -z "$NE_BIN" ] && bench_log "prometheus-node-exporter not available: skipping the comparison"
fi

bench_start_collector
COLLECTOR_URL="http://127.0.0.1:$WEB_PORT"

AGENT_CMD=("$BUILD_DIR/agent/accord-agent" --collector.address="127.0.0.1:$GRPC_PORT"
  --host.id=bench-agent --sample.interval=1s --spool.dir="$BENCH_TMP/agent-spool" --log.level=warn)
"${AGENT_CMD[@]}" 2>"$BENCH_TMP/agent.log" &
AGENT_PID=$!
bench_track "$AGENT_PID"
bench_log "agent pid $AGENT_PID"

# The paced floor, in the same window (it stops by itself).
FLOOR_CMD=("$BUILD_DIR/bench/accord-bench-floor" --interval=1s --duration="$((DURATION + WARMUP + 30))s")
"${FLOOR_CMD[@]}" >"$BENCH_TMP/floor.out" 2>&1 &
FLOOR_PID=$!
bench_track "$FLOOR_PID"

NE_PID=""
NE_COLLECTORS=(--collector.disable-defaults --collector.cpu --collector.meminfo
  --collector.loadavg --collector.filesystem --collector.diskstats --collector.netdev
  --collector.stat --collector.time)
if [ -n "$NE_BIN" ]; then
  NE_PORT="$(bench_free_port)"
  NE_CMD=("$NE_BIN" --web.listen-address="127.0.0.1:$NE_PORT" "${NE_COLLECTORS[@]}" --log.level=warn)
  "${NE_CMD[@]}" 2>"$BENCH_TMP/node_exporter.log" &
  NE_PID=$!
  bench_track "$NE_PID"
  bench_wait_for 10 curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$NE_PORT/metrics" \
    || { cat "$BENCH_TMP/node_exporter.log" >&2; bench_die "node_exporter did not start"; }
  bench_log "node_exporter pid $NE_PID on 127.0.0.1:$NE_PORT"
fi

# The agent is streaming once the collector has accepted a batch from it.
agent_streaming() {
  curl -sf --max-time 10 "$COLLECTOR_URL/metrics" -o "$BENCH_TMP/m.txt" &&
    [ "$(bench_metric "$BENCH_TMP/m.txt" accord_collector_batches_accepted_total)" != 0 ]
}
bench_wait_for 15 agent_streaming || { cat "$BENCH_TMP/agent.log" >&2; bench_die "agent not streaming"; }
sleep "$WARMUP"

agent_tcp_bytes() {  # bytes the agent's TCP connection(s) to the collector sent
  ss -tinH state established "( dport = :$GRPC_PORT )" 2>/dev/null |
    grep -o 'bytes_sent:[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }' || true
}
snapshot() {  # $1: prefix
  local p="$1"
  curl -sf --max-time 10 "$COLLECTOR_URL/metrics" -o "$BENCH_TMP/$p.metrics"
  eval "${p}_t=$(date +%s.%N)"
  eval "${p}_agent_stat=$(bench_cpu_stat "$AGENT_PID")"
  eval "${p}_agent_sched=$(bench_cpu_sched "$AGENT_PID")"
  eval "${p}_agent_tcp=$(agent_tcp_bytes)"
  eval "${p}_floor_sched=$(bench_cpu_sched "$FLOOR_PID")"
  for t in /proc/"$AGENT_PID"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" "$(awk '{ print $1 }' "$t/schedstat")"
  done | sort >"$BENCH_TMP/$p.threads"
  eval "${p}_bytes=$(bench_metric "$BENCH_TMP/$p.metrics" accord_collector_received_bytes_total)"
  eval "${p}_samples=$(bench_metric "$BENCH_TMP/$p.metrics" accord_collector_samples_received_total)"
  eval "${p}_batches=$(bench_metric "$BENCH_TMP/$p.metrics" accord_collector_batches_accepted_total)"
  eval "${p}_messages=$(bench_metric "$BENCH_TMP/$p.metrics" accord_collector_messages_received_total)"
  if [ -n "$NE_PID" ]; then
    eval "${p}_ne_stat=$(bench_cpu_stat "$NE_PID")"
    eval "${p}_ne_sched=$(bench_cpu_sched "$NE_PID")"
  fi
}

bench_log "measuring for ${DURATION}s"
snapshot s0
scrapes=0
scrape_bytes_gz=0
for ((i = 1; i <= DURATION; i++)); do
  if [ -n "$NE_PID" ]; then
    # As Prometheus does: gzip accepted.
    n="$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' \
          --max-time 2 "http://127.0.0.1:$NE_PORT/metrics" || echo 0)"
    scrapes=$((scrapes + 1))
    scrape_bytes_gz=$((scrape_bytes_gz + n))
  fi
  # Sleep to the next whole second since the start (bounded: at most 1 s per iteration).
  next="$(bench_calc "$s0_t + $i")"
  wait_s="$(bench_calc "$next - $(date +%s.%N)")"
  awk "BEGIN { exit !($wait_s > 0) }" && sleep "$wait_s"
done
snapshot s1

# Memory at the end of the run (steady state).
for f in Rss Pss Anonymous Private_Dirty Private_Clean Shared_Clean; do
  eval "agent_$f=$(bench_smaps "$AGENT_PID" "$f")"
  [ -n "$NE_PID" ] && eval "ne_$f=$(bench_smaps "$NE_PID" "$f")"
done
agent_hwm="$(bench_status "$AGENT_PID" VmHWM)"
agent_threads="$(bench_status "$AGENT_PID" Threads)"
# The largest shared mappings of the agent (what its Rss is made of).
awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 } $1 == "Rss:" { rss[name] += $2 }
     END { for (n in rss) if (rss[n] >= 512) printf "%7d kB %s\n", rss[n], (n == "" ? "[anon]" : n) }' \
  "/proc/$AGENT_PID/smaps" | sort -rn | head -8 >"$BENCH_TMP/agent-maps.txt"

if [ -n "$NE_PID" ]; then
  ne_hwm="$(bench_status "$NE_PID" VmHWM)"
  curl -s --max-time 10 "http://127.0.0.1:$NE_PORT/metrics" -o "$BENCH_TMP/ne.txt"
fi

# Stop the agent (goodbye), node_exporter and the paced floor before the floor benchmark runs.
bench_stop "$AGENT_PID" 5
bench_stop "$FLOOR_PID" 2
[ -n "$NE_PID" ] && bench_stop "$NE_PID" 5

bench_log "floor: agent_sampler_bench"
SAMPLER_BENCH_CMD=("$BUILD_DIR/bench/agent_sampler_bench" --benchmark_format=json
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
"${SAMPLER_BENCH_CMD[@]}" >"$BENCH_TMP/floor.json" 2>/dev/null
floor_ns="$(python3 - "$BENCH_TMP/floor.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pick = lambda n: next(b["cpu_time"] for b in d["benchmarks"] if b["name"] == n + "_median")
print(pick("BM_ReadFilesOnly"), pick("BM_SamplerCollect"))
EOF
)"
read -r floor_read_ns floor_collect_ns <<<"$floor_ns"

# --- Figures.
dt="$(bench_calc "$s1_t - $s0_t")"
cycles=$((s1_batches - s0_batches))
agent_cpu_s="$(bench_calc "$s1_agent_sched - $s0_agent_sched")"
agent_cpu_stat_s="$(bench_calc "$s1_agent_stat - $s0_agent_stat")"
agent_ms_per_s="$(bench_calc "$agent_cpu_s * 1000 / $dt")"
agent_ms_per_cycle="$(bench_calc "$agent_cpu_s * 1000 / ($cycles > 0 ? $cycles : 1)")"
agent_stat_ms_per_s="$(bench_calc "$agent_cpu_stat_s * 1000 / $dt")"
floor_ms="$(bench_calc "$floor_read_ns / 1e6")"
collect_ms="$(bench_calc "$floor_collect_ns / 1e6")"
floor_paced_ms="$(bench_calc "($s1_floor_sched - $s0_floor_sched) * 1000 / $DURATION")"
ratio_process="$(bench_calc "$agent_ms_per_cycle / $floor_paced_ms")"
ratio_process_hot="$(bench_calc "$agent_ms_per_cycle / $floor_ms")"
# Agent CPU per cycle by thread name (what the whole-process figure is made of).
join "$BENCH_TMP/s0.threads" "$BENCH_TMP/s1.threads" |
  awk -v c="$cycles" '{ ms[$2] += ($5 - $3) / 1e6 } END {
    for (n in ms) printf "%.3f %s\n", ms[n] / (c > 0 ? c : 1), n }' | sort -rn >"$BENCH_TMP/agent-threads.txt"
ratio_collect="$(bench_calc "$collect_ms / $floor_ms")"
samples=$((s1_samples - s0_samples))
wire_pb="$(bench_calc "($s1_bytes - $s0_bytes) / ($samples > 0 ? $samples : 1)")"
wire_tcp="$(bench_calc "($s1_agent_tcp - $s0_agent_tcp) / ($samples > 0 ? $samples : 1)")"
samples_per_cycle="$(bench_calc "$samples / ($cycles > 0 ? $cycles : 1)")"

if [ -n "$NE_PID" ]; then
  ne_cpu_s="$(bench_calc "$s1_ne_sched - $s0_ne_sched")"
  ne_cpu_stat_s="$(bench_calc "$s1_ne_stat - $s0_ne_stat")"
  ne_ms_per_s="$(bench_calc "$ne_cpu_s * 1000 / $dt")"
  ne_ms_per_scrape="$(bench_calc "$ne_cpu_s * 1000 / ($scrapes > 0 ? $scrapes : 1)")"
  ne_stat_ms_per_s="$(bench_calc "$ne_cpu_stat_s * 1000 / $dt")"
  # Text exposition per sample: all families, and the families matching the agent's series.
  MATCH='^node_(cpu_seconds_total|context_switches_total|forks_total|procs_(running|blocked)|memory_(MemTotal|MemAvailable|MemFree|Buffers|Cached|SwapTotal|SwapFree)_bytes|load(1|5|15)|boot_time_seconds|filesystem_(size_bytes|free_bytes|avail_bytes|files|files_free)|disk_(reads_completed|writes_completed|read_bytes|written_bytes|io_time_seconds)_total|network_(receive|transmit)_(bytes|packets|errs|drop)_total)$'
  awk -v re="$MATCH" '
    /^# (HELP|TYPE) / { if ($3 ~ re) print; next }
    { name = $1; sub(/\{.*/, "", name); if (name ~ re) print }' "$BENCH_TMP/ne.txt" >"$BENCH_TMP/ne-match.txt"
  ne_all_bytes="$(wc -c <"$BENCH_TMP/ne.txt")"
  ne_all_samples="$(grep -vc '^#' "$BENCH_TMP/ne.txt")"
  ne_match_bytes="$(wc -c <"$BENCH_TMP/ne-match.txt")"
  ne_match_samples="$(grep -vc '^#' "$BENCH_TMP/ne-match.txt")"
  ne_match_gz="$(gzip -c "$BENCH_TMP/ne-match.txt" | wc -c)"
  ne_wire_all="$(bench_calc "$ne_all_bytes / $ne_all_samples")"
  ne_wire_match="$(bench_calc "$ne_match_bytes / $ne_match_samples")"
  ne_wire_match_gz="$(bench_calc "$ne_match_gz / $ne_match_samples")"
  ne_wire_scrape_gz="$(bench_calc "$scrape_bytes_gz / ($scrapes > 0 ? $scrapes : 1) / $ne_all_samples")"
fi

# --- Results.
r() { bench_result "$1" "$2"; }
r duration_s "$dt"
r cmd_collector "$COLLECTOR_CMD"
r cmd_agent "${AGENT_CMD[*]}"
r cmd_floor "${FLOOR_CMD[*]}"
r cmd_sampler_bench "${SAMPLER_BENCH_CMD[*]}"
[ -n "$NE_PID" ] && r cmd_node_exporter "${NE_CMD[*]}"
[ -n "$NE_PID" ] && r cmd_scrape "curl -s -H 'Accept-Encoding: gzip' -o /dev/null http://127.0.0.1:$NE_PORT/metrics (every 1 s, $DURATION times)"
r agent_cycles "$cycles"
r agent_samples_per_cycle "$samples_per_cycle"
r agent_threads "$agent_threads"
r agent_cpu_ms_per_s "$agent_ms_per_s"
r agent_cpu_ms_per_s_stat "$agent_stat_ms_per_s"
r agent_cpu_ms_per_cycle "$agent_ms_per_cycle"
r floor_read_ms "$floor_ms"
r floor_paced_ms_per_cycle "$floor_paced_ms"
r agent_cycle_over_hot_floor "$ratio_process_hot"
r sampler_collect_ms "$collect_ms"
r agent_cycle_over_floor "$ratio_process"
r collect_over_floor "$ratio_collect"
r agent_rss_kib "$agent_Rss"
r agent_hwm_kib "$agent_hwm"
r agent_pss_kib "$agent_Pss"
r agent_anon_kib "$agent_Anonymous"
r agent_private_dirty_kib "$agent_Private_Dirty"
r agent_private_kib "$((agent_Private_Dirty + agent_Private_Clean))"
r agent_shared_clean_kib "$agent_Shared_Clean"
r agent_wire_pb_bytes_per_sample "$wire_pb"
r agent_wire_tcp_bytes_per_sample "$wire_tcp"
if [ -n "$NE_PID" ]; then
  r ne_version "$("$NE_BIN" --version 2>&1 | head -1 | sed -E 's/.*version ([^ ]+).*/\1/')"
  r ne_collectors "${NE_COLLECTORS[*]}"
  r ne_scrapes "$scrapes"
  r ne_cpu_ms_per_s "$ne_ms_per_s"
  r ne_cpu_ms_per_s_stat "$ne_stat_ms_per_s"
  r ne_cpu_ms_per_scrape "$ne_ms_per_scrape"
  r ne_rss_kib "$ne_Rss"
  r ne_hwm_kib "$ne_hwm"
  r ne_pss_kib "$ne_Pss"
  r ne_anon_kib "$ne_Anonymous"
  r ne_private_dirty_kib "$ne_Private_Dirty"
  r ne_private_kib "$((ne_Private_Dirty + ne_Private_Clean))"
  r ne_samples_all "$ne_all_samples"
  r ne_samples_matched "$ne_match_samples"
  r ne_wire_text_all "$ne_wire_all"
  r ne_wire_text_matched "$ne_wire_match"
  r ne_wire_gzip_matched "$ne_wire_match_gz"
  r ne_wire_gzip_scrape "$ne_wire_scrape_gz"
fi
[ -n "$BENCH_OUT" ] && sed 's/^/agent_map=/' "$BENCH_TMP/agent-maps.txt" >>"$BENCH_OUT"
[ -n "$BENCH_OUT" ] && sed 's/^/agent_thread=/' "$BENCH_TMP/agent-threads.txt" >>"$BENCH_OUT"

# --- Table.
kib2mib() { bench_calc "$1 / 1024"; }
printf '\naccord-agent vs prometheus-node-exporter, %s s, sample/scrape every 1 s\n\n' "$(printf '%.0f' "$dt")"
printf '%-34s %14s %16s\n' "" "accord-agent" "node_exporter"
row() { printf '%-34s %14s %16s\n' "$1" "$2" "${3:--}"; }
row "CPU ms per second (schedstat)" "$(printf '%.3f' "$agent_ms_per_s")" "$([ -n "$NE_PID" ] && printf '%.3f' "$ne_ms_per_s")"
row "CPU ms per second (stat ticks)" "$(printf '%.3f' "$agent_stat_ms_per_s")" "$([ -n "$NE_PID" ] && printf '%.3f' "$ne_stat_ms_per_s")"
row "CPU ms per cycle / scrape" "$(printf '%.3f' "$agent_ms_per_cycle")" "$([ -n "$NE_PID" ] && printf '%.3f' "$ne_ms_per_scrape")"
row "RSS MiB" "$(printf '%.2f' "$(kib2mib "$agent_Rss")")" "$([ -n "$NE_PID" ] && printf '%.2f' "$(kib2mib "$ne_Rss")")"
row "PSS MiB" "$(printf '%.2f' "$(kib2mib "$agent_Pss")")" "$([ -n "$NE_PID" ] && printf '%.2f' "$(kib2mib "$ne_Pss")")"
row "Anonymous MiB" "$(printf '%.2f' "$(kib2mib "$agent_Anonymous")")" "$([ -n "$NE_PID" ] && printf '%.2f' "$(kib2mib "$ne_Anonymous")")"
row "Private_Dirty MiB" "$(printf '%.2f' "$(kib2mib "$agent_Private_Dirty")")" "$([ -n "$NE_PID" ] && printf '%.2f' "$(kib2mib "$ne_Private_Dirty")")"
row "samples per cycle / scrape" "$(printf '%.0f' "$samples_per_cycle")" "$([ -n "$NE_PID" ] && echo "$ne_all_samples")"
row "wire bytes/sample (protobuf)" "$(printf '%.2f' "$wire_pb")" ""
row "wire bytes/sample (TCP)" "$(printf '%.2f' "$wire_tcp")" ""
if [ -n "$NE_PID" ]; then
  row "text bytes/sample (all)" "" "$(printf '%.1f' "$ne_wire_all")"
  row "text bytes/sample (same kinds)" "" "$(printf '%.1f' "$ne_wire_match")"
  row "gzip bytes/sample (same kinds)" "" "$(printf '%.2f' "$ne_wire_match_gz")"
  row "gzip bytes/sample (scrape, all)" "" "$(printf '%.2f' "$ne_wire_scrape_gz")"
fi
printf '\nfloor (paced, accord-bench-floor): %.3f ms CPU per cycle\n' "$floor_paced_ms"
printf 'agent CPU per cycle (whole process) = %.2fx the paced floor (%.2fx BM_ReadFilesOnly)\n' \
  "$ratio_process" "$ratio_process_hot"
printf 'hot loop: BM_ReadFilesOnly %.3f ms; BM_SamplerCollect %.3f ms (%.2fx)\n' \
  "$floor_ms" "$collect_ms" "$ratio_collect"
printf '\nagent CPU ms per cycle by thread:\n'; cat "$BENCH_TMP/agent-threads.txt"
printf '\nagent RSS by mapping (largest):\n'; cat "$BENCH_TMP/agent-maps.txt"
