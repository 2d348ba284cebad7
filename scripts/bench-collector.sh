#!/usr/bin/env bash
# Measures accord-collector under AGENTS simulated agents (accord-loadgen: one gRPC stream and
# one TCP connection each, samples every 1 s, heartbeats every 1 s) on loopback:
#   - time until all streams are connected;
#   - collector CPU (utime+stime from /proc/<pid>/stat; schedstat for ns resolution) and RSS
#     (/proc/<pid>/status, smaps_rollup) at start, over a steady window, and at the end;
#   - /api/v1/hosts and /metrics show every host up;
#   - GET /metrics with AGENTS hosts timed with curl, RUNS times: median/min/max, body size;
#   - the load generator's view: batches sent/acked, errors, ack latency p50/p99.
#
# Usage: scripts/bench-collector.sh [--out FILE]   (FILE gets key=value results)
# Env:   AGENTS=1000 DURATION=100 STEADY=30 RUNS=10 SAMPLE_EVERY=10 SKIP_BUILD=0
#        BUILD_DIR=build-bench COLLECTOR_FLAGS="" (extra collector flags, e.g. for an A/B)
#        PROM_SCRAPES=3 PROM_INTERVAL=10 PROM_FIRST_WAIT=10: after the steady window a real
#        Prometheus scrapes /metrics every PROM_INTERVAL s (timeout the same); its first scrape
#        (every series new to it) may take up to PROM_FIRST_WAIT s, then PROM_SCRAPES more are
#        watched. Needs DURATION >= STEADY + 30 + PROM_FIRST_WAIT + PROM_SCRAPES * PROM_INTERVAL.
# Runs about DURATION + 15 s (plus the build). Stops everything it started.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 17 "$@"
AGENTS="${AGENTS:-1000}"
DURATION="${DURATION:-100}"
STEADY="${STEADY:-30}"
SAMPLE_EVERY="${SAMPLE_EVERY:-10}"
RUNS="${RUNS:-10}"
PROM_SCRAPES="${PROM_SCRAPES:-3}"
PROM_INTERVAL="${PROM_INTERVAL:-10}"
PROM_FIRST_WAIT="${PROM_FIRST_WAIT:-10}"
prom_s=$((PROM_SCRAPES > 0 ? PROM_FIRST_WAIT + PROM_SCRAPES * PROM_INTERVAL + 10 : 0))
[ "$STEADY" -le $((DURATION - 20 - prom_s)) ] ||
  bench_die "STEADY must be at most DURATION - 30 - PROM_FIRST_WAIT - PROM_SCRAPES * PROM_INTERVAL"
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init
bench_build accord-collector accord-loadgen

bench_raise_fd_limit $((AGENTS * 2 + 256)) || true

# shellcheck disable=SC2086  # word splitting wanted: several flags
bench_start_collector ${COLLECTOR_FLAGS:-}
URL="http://127.0.0.1:$WEB_PORT"
c0_stat="$(bench_cpu_stat "$COLLECTOR_PID")"
c0_rss="$(bench_status "$COLLECTOR_PID" VmRSS)"
t_start="$(date +%s.%N)"

bench_log "accord-loadgen: $AGENTS agents, 1 s interval, ${DURATION}s"
LOADGEN_CMD=("$BUILD_DIR/bench/accord-loadgen" --collector.address="127.0.0.1:$GRPC_PORT"
  --agents="$AGENTS" --channels=0 --interval=1s --heartbeat=1s --duration="${DURATION}s"
  --ramp-up=2s --report.interval=10s --output=json)
"${LOADGEN_CMD[@]}" >"$BENCH_TMP/loadgen.json" 2>"$BENCH_TMP/loadgen.log" &
LOADGEN_PID=$!
bench_track "$LOADGEN_PID"

streams_open() {
  curl -sf --max-time 10 "$URL/metrics" -o "$BENCH_TMP/m.txt" || return 1
  bench_metric "$BENCH_TMP/m.txt" accord_collector_streams_open
}
all_connected() { [ "$(streams_open)" -ge "$AGENTS" ]; }
all_hosts_up() {
  curl -sf --max-time 10 "$URL/api/v1/hosts" -o "$BENCH_TMP/hosts.json" || return 1
  [ "$(grep -o '"state":"up"' "$BENCH_TMP/hosts.json" | wc -l)" -ge "$AGENTS" ]
}
if bench_wait_for 30 all_connected; then
  connect_s="$(printf '%.1f' "$(bench_calc "$(date +%s.%N) - $t_start")")"
else
  connect_s="timeout"
fi
bench_log "streams open: $(streams_open || echo ?) after ${connect_s}s"
all_up_ok=0
bench_wait_for 10 all_hosts_up && all_up_ok=1

# Steady window.
sleep 5
snap() {  # $1: prefix
  curl -sf --max-time 10 "$URL/metrics" -o "$BENCH_TMP/$1.metrics"
  eval "${1}_t=$(date +%s.%N)"
  eval "${1}_stat=$(bench_cpu_stat "$COLLECTOR_PID")"
  eval "${1}_sched=$(bench_cpu_sched "$COLLECTOR_PID")"
  eval "${1}_lg=$(bench_cpu_sched "$LOADGEN_PID")"
  eval "${1}_anon=$(bench_smaps "$COLLECTOR_PID" Anonymous)"
  eval "${1}_batches=$(bench_metric "$BENCH_TMP/$1.metrics" accord_collector_batches_accepted_total)"
  eval "${1}_samples=$(bench_metric "$BENCH_TMP/$1.metrics" accord_collector_samples_received_total)"
  eval "${1}_messages=$(bench_metric "$BENCH_TMP/$1.metrics" accord_collector_messages_received_total)"
}
snap a
bench_log "steady window ${STEADY}s"
# Every SAMPLE_EVERY seconds: anonymous memory and the ingest queue depth, to show whether
# memory grows and whether the queue stays bounded over the window.
: >"$BENCH_TMP/series.txt"
steady_end=$((SECONDS + STEADY))
while [ "$SECONDS" -lt "$steady_end" ]; do
  left=$((steady_end - SECONDS))
  sleep "$((left < SAMPLE_EVERY ? left : SAMPLE_EVERY))"
  [ "$SECONDS" -lt "$steady_end" ] || break
  # The whole exposition, as before (part of the load); its queue depth, and the heap figures
  # the collector records at each trim (--memory.trim-interval): trims so far and the resident
  # memory right after the last one (the low point of the sawtooth between trims).
  read -r depth trims after_trim < <(curl -sf --max-time 10 "$URL/metrics" | awk '
    $1 == "accord_collector_ingest_queue_depth" { d = $2 }
    $1 == "accord_collector_heap_trims_total" { t = $2 }
    $1 == "accord_collector_resident_memory_after_trim_bytes" { a = $2 }
    END { printf "%s %s %s\n", d + 0, t + 0, a + 0 }' || true)
  printf '%s %s %s %s %s\n' "$(date +%s.%N)" "$(bench_smaps "$COLLECTOR_PID" Anonymous)" \
    "${depth:-0}" "${trims:-0}" "${after_trim:-0}" >>"$BENCH_TMP/series.txt"
done
snap b
printf '%s %s %s %s %s\n' "$b_t" "$b_anon" \
  "$(bench_metric "$BENCH_TMP/b.metrics" accord_collector_ingest_queue_depth)" \
  "$(bench_metric "$BENCH_TMP/b.metrics" accord_collector_heap_trims_total)" \
  "$(bench_metric "$BENCH_TMP/b.metrics" accord_collector_resident_memory_after_trim_bytes)" \
  >>"$BENCH_TMP/series.txt"
rss_steady="$(bench_status "$COLLECTOR_PID" VmRSS)"
pss_steady="$(bench_smaps "$COLLECTOR_PID" Pss)"
anon_steady="$(bench_smaps "$COLLECTOR_PID" Anonymous)"
threads="$(bench_status "$COLLECTOR_PID" Threads)"

# Every host up, in the API and in /metrics.
curl -sf --max-time 10 "$URL/api/v1/hosts" -o "$BENCH_TMP/hosts.json"
hosts_total="$(grep -o '"id":' "$BENCH_TMP/hosts.json" | wc -l || true)"
hosts_up_api="$(grep -o '"state":"up"' "$BENCH_TMP/hosts.json" | wc -l || true)"
curl -sf --max-time 10 "$URL/metrics" -o "$BENCH_TMP/metrics.txt"
hosts_up_metrics="$(grep -c '^accord_host_up{.*} 1$' "$BENCH_TMP/metrics.txt" || true)"
metrics_bytes="$(wc -c <"$BENCH_TMP/metrics.txt")"
metrics_series="$(grep -vc '^#' "$BENCH_TMP/metrics.txt")"

# GET /metrics and /api/v1/hosts timings (curl: request to last byte).
: >"$BENCH_TMP/metrics.times"
: >"$BENCH_TMP/hosts.times"
for ((i = 0; i < RUNS; i++)); do
  curl -sf -o /dev/null -w '%{time_total}\n' --max-time 10 "$URL/metrics" >>"$BENCH_TMP/metrics.times"
done
for ((i = 0; i < RUNS; i++)); do
  curl -sf -o /dev/null -w '%{time_total}\n' --max-time 10 "$URL/api/v1/hosts" >>"$BENCH_TMP/hosts.times"
done
read -r m_med m_min m_max < <(awk '{ print $1 * 1000 }' "$BENCH_TMP/metrics.times" | bench_stats)
read -r h_med h_min h_max < <(awk '{ print $1 * 1000 }' "$BENCH_TMP/hosts.times" | bench_stats)

# Then a real Prometheus (Debian package) scrapes /metrics every PROM_INTERVAL s while the agents
# keep sending: after its first scrape, every scrape in PROM_SCRAPES intervals must succeed
# (up == 1) within its timeout. PROM_SCRAPES=0 skips it.
prom_query() {  # port, instant query -> the first value, or "none"
  curl -sf --max-time 20 "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")' \
    || echo "error"
}
prom_scrape() {
  local bin pdir pport ppid win
  bin="$(command -v prometheus || true)"
  if [ -z "$bin" ]; then
    bench_apt_install prometheus prometheus prometheus >&2 || return 0
    bin="$(command -v prometheus || true)"
  fi
  [ -n "$bin" ] || return 0
  pdir="$BENCH_TMP/prometheus"
  mkdir -p "$pdir"
  printf '%s\n' "global:" "  scrape_interval: ${PROM_INTERVAL}s" "  scrape_timeout: ${PROM_INTERVAL}s" \
    "scrape_configs:" \
    "  - job_name: accord" "    static_configs:" "      - targets: ['127.0.0.1:$WEB_PORT']" \
    >"$pdir/prometheus.yml"
  pport="$(bench_free_port)"
  "$bin" --config.file="$pdir/prometheus.yml" --storage.tsdb.path="$pdir/data" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn 2>"$pdir/prometheus.log" &
  ppid=$!
  bench_track "$ppid"
  if ! bench_wait_for 30 curl -sf "http://127.0.0.1:$pport/-/ready"; then
    bench_log "prometheus did not become ready: $(tail -2 "$pdir/prometheus.log")"
    bench_stop "$ppid" 5
    return 0
  fi
  # The first scrape creates every series in Prometheus' head (2 million at 10,000 hosts):
  # timed apart, from ready to its `up` sample.
  bench_log "prometheus: waiting up to ${PROM_FIRST_WAIT}s for its first scrape"
  local t0 v first=none
  t0="$(date +%s.%N)"
  while [ "$(bench_calc "$(date +%s.%N) - $t0 < $PROM_FIRST_WAIT")" = 1 ]; do
    v="$(prom_query "$pport" "count(up{job=\"accord\"})")"
    if [ "$v" != none ] && [ "$v" != error ]; then
      first="$(bench_calc "$(date +%s.%N) - $t0")"
      break
    fi
    sleep 1
  done
  bench_result prom_first_scrape_s "$first"
  bench_result prom_first_wait_s "$PROM_FIRST_WAIT"
  bench_result prom_interval_s "$PROM_INTERVAL"
  if [ "$first" = none ]; then
    bench_log "prometheus: no first scrape within ${PROM_FIRST_WAIT}s; watching $PROM_SCRAPES intervals more"
  else
    bench_log "prometheus: first scrape after ${first}s; watching $PROM_SCRAPES more"
  fi
  sleep "$((PROM_SCRAPES * PROM_INTERVAL + 5))"
  win="$((PROM_SCRAPES * PROM_INTERVAL + 5))s"
  bench_result prom_window_s "$((PROM_SCRAPES * PROM_INTERVAL + 5))"
  bench_result prom_version "$(dpkg-query -W -f='${Version}' prometheus 2>/dev/null || echo '?')"
  # Scrapes that completed (a scrape's `up` sample is stored only once its samples are).
  local n
  n="$(prom_query "$pport" "count_over_time(up{job=\"accord\"}[$win])")"
  bench_result prom_scrapes "$([ "$n" = none ] && echo 0 || echo "$n")"
  bench_result prom_rss_kib "$(bench_status "$ppid" VmRSS)"
  bench_result prom_up_min "$(prom_query "$pport" "min_over_time(up{job=\"accord\"}[$win])")"
  bench_result prom_scrape_duration_max_s \
    "$(prom_query "$pport" "max_over_time(scrape_duration_seconds{job=\"accord\"}[$win])")"
  bench_result prom_samples_scraped \
    "$(prom_query "$pport" "max_over_time(scrape_samples_scraped{job=\"accord\"}[$win])")"
  bench_result prom_hosts_up "$(prom_query "$pport" 'sum(accord_host_up)')"
  bench_stop "$ppid" 10
}
if [ "$PROM_SCRAPES" -gt 0 ]; then prom_scrape; fi

# Let the load generator finish (it stops by itself after DURATION plus its goodbye grace).
deadline=$((SECONDS + DURATION + 30))
while kill -0 "$LOADGEN_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
lg_rc=0
if kill -0 "$LOADGEN_PID" 2>/dev/null; then
  bench_log "accord-loadgen did not stop in time"
  bench_stop "$LOADGEN_PID" 5
  lg_rc=124
else
  wait "$LOADGEN_PID" || lg_rc=$?
fi
sleep 1
c1_stat="$(bench_cpu_stat "$COLLECTOR_PID")"
c1_rss="$(bench_status "$COLLECTOR_PID" VmRSS)"
c1_hwm="$(bench_status "$COLLECTOR_PID" VmHWM)"
t_end="$(date +%s.%N)"
curl -sf --max-time 10 "$URL/api/v1/hosts" -o "$BENCH_TMP/hosts-end.json"
hosts_stopped_end="$(grep -o '"state":"stopped"' "$BENCH_TMP/hosts-end.json" | wc -l || true)"

# --- Figures.
dt="$(bench_calc "$b_t - $a_t")"
batches=$((b_batches - a_batches))
cpu_s="$(bench_calc "$b_sched - $a_sched")"
cpu_pct="$(bench_calc "$cpu_s * 100 / $dt")"
cpu_us_per_batch="$(bench_calc "$cpu_s * 1e6 / ($batches > 0 ? $batches : 1)")"
batches_per_s="$(bench_calc "$batches / $dt")"
samples_per_s="$(bench_calc "($b_samples - $a_samples) / $dt")"
lg_cpu_pct="$(bench_calc "($b_lg - $a_lg) * 100 / $dt")"
cpu_total_s="$(bench_calc "$c1_stat - $c0_stat")"
lg() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$BENCH_TMP/loadgen.json" "$1" 2>/dev/null || echo "?"; }

r() { bench_result "$1" "$2"; }
r agents "$AGENTS"
r cmd_collector "$COLLECTOR_CMD"
r cmd_loadgen "${LOADGEN_CMD[*]}"
r cmd_timing "curl -s -o /dev/null -w '%{time_total}' http://127.0.0.1:$WEB_PORT/metrics ($RUNS times; same for /api/v1/hosts)"
r duration_s "$DURATION"
r connect_all_s "$connect_s"
r all_up_during_run "$all_up_ok"
r hosts_total "$hosts_total"
r hosts_up_api "$hosts_up_api"
r hosts_up_metrics "$hosts_up_metrics"
r hosts_stopped_after_goodbye "$hosts_stopped_end"
r steady_window_s "$dt"
r collector_cpu_pct "$cpu_pct"
r collector_cpu_pct_stat "$(bench_calc "($b_stat - $a_stat) * 100 / $dt")"
r collector_cpu_us_per_batch "$cpu_us_per_batch"
r collector_cpu_us_per_message "$(bench_calc "$cpu_s * 1e6 / (($b_messages - $a_messages) > 0 ? ($b_messages - $a_messages) : 1)")"
r collector_cpu_total_s "$cpu_total_s"
r collector_batches_per_s "$batches_per_s"
r collector_samples_per_s "$samples_per_s"
r collector_threads "$threads"
r collector_rss_start_kib "$c0_rss"
r collector_rss_steady_kib "$rss_steady"
r collector_pss_steady_kib "$pss_steady"
r collector_anon_steady_kib "$anon_steady"
r collector_anon_growth_kib_per_min "$(bench_calc "($b_anon - $a_anon) * 60 / $dt")"
# Growth over the second half of the window only (the first half still fills the 30-minute
# capacity rings and the allocator's pools), by least squares over the samples.
r collector_anon_growth_late_kib_per_min "$(awk -v t0="$a_t" -v dt="$dt" '
  $1 - t0 >= dt / 2 { n++; x = $1 - t0; y = $2; sx += x; sy += y; sxx += x * x; sxy += x * y }
  END { if (n < 2 || n * sxx == sx * sx) print 0; else print (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60 }' \
  "$BENCH_TMP/series.txt")"
# The same over the resident memory right after each trim in the second half: the
# allocator's sawtooth between trims (tens of MiB at 10,000 agents) makes the slope of samples
# taken anywhere in it noise of several MiB per minute; the low points are what grows if
# anything does. One point per trim seen, at the sample that first saw it (at most
# SAMPLE_EVERY later; with SAMPLE_EVERY at or above --memory.trim-interval, 30 s, a trim
# followed by another before the next sample is not seen). Samples whose GET failed, or from a
# collector without the figure, carry 0 and are skipped. Lines: "x y_kib".
trim_points="$(awk -v t0="$a_t" -v dt="$dt" '$4 > 0 && $5 > 0 {
  if ($4 != last && $1 - t0 >= dt / 2) printf "%.3f %.0f\n", $1 - t0, $5 / 1024
  last = $4 }' "$BENCH_TMP/series.txt")"
r collector_trim_floor_points_late "$(awk 'NF { n++ } END { print n + 0 }' <<<"$trim_points")"
r collector_trim_floor_kib_late "$(awk 'NF { v = $2 } END { print v }' <<<"$trim_points")"
r collector_trim_floor_growth_kib_per_min "$(awk '
  NF { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
  END { if (n < 2 || n * sxx == sx * sx) print ""; else print (n * sxy - sx * sy) / (n * sxx - sx * sx) * 60 }' \
  <<<"$trim_points")"
r collector_queue_depth_max "$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$BENCH_TMP/series.txt")"
r collector_queue_capacity "$(bench_metric "$BENCH_TMP/b.metrics" accord_collector_ingest_queue_capacity)"
r collector_rss_per_agent_kib "$(bench_calc "($rss_steady - $c0_rss) / $AGENTS")"
r collector_cpu_s_per_million_samples "$(bench_calc "$cpu_s * 1e6 / (($b_samples - $a_samples) > 0 ? ($b_samples - $a_samples) : 1)")"
r collector_rss_end_kib "$c1_rss"
r collector_hwm_kib "$c1_hwm"
r metrics_ms_median "$m_med"
r metrics_ms_min "$m_min"
r metrics_ms_max "$m_max"
r metrics_bytes "$metrics_bytes"
r metrics_series "$metrics_series"
r hosts_json_ms_median "$h_med"
r hosts_json_ms_min "$h_min"
r hosts_json_ms_max "$h_max"
r loadgen_cpu_pct "$lg_cpu_pct"
r loadgen_exit "$lg_rc"
for k in streams_connected_peak agents_ever_connected series_per_agent batches_sent batches_acked \
         batches_dropped samples_sent errors reconnects ack_latency_p50_ms ack_latency_p99_ms \
         ack_latency_max_ms connect_latency_p50_ms connect_latency_p99_ms bytes_sent; do
  r "loadgen_$k" "$(lg "$k")"
done

# --- Table.
kib2mib() { printf '%.1f' "$(bench_calc "$1 / 1024")"; }
printf '\naccord-collector with %s agents (1 s samples, 1 s heartbeats), %s s run\n\n' "$AGENTS" "$DURATION"
row() { printf '  %-44s %s\n' "$1" "$2"; }
row "streams connected (peak / agents)" "$(lg streams_connected_peak) / $AGENTS (all open after ${connect_s} s)"
row "hosts up: /api/v1/hosts, /metrics" "$hosts_up_api, $hosts_up_metrics of $hosts_total"
row "hosts stopped after the goodbyes" "$hosts_stopped_end"
row "ingest (steady ${STEADY}s)" "$(printf '%.0f batches/s, %.0f samples/s' "$batches_per_s" "$samples_per_s")"
row "collector CPU (steady)" "$(printf '%.1f%% of one core, %.0f us per batch' "$cpu_pct" "$cpu_us_per_batch")"
row "collector CPU, whole run (stat)" "$(printf '%.2f s' "$cpu_total_s")"
row "collector RSS start / steady / end (MiB)" "$(kib2mib "$c0_rss") / $(kib2mib "$rss_steady") / $(kib2mib "$c1_rss")"
row "collector PSS / Anonymous steady (MiB)" "$(kib2mib "$pss_steady") / $(kib2mib "$anon_steady")"
row "collector Anonymous growth, steady (MiB/min)" "$(printf '%.1f' "$(bench_calc "($b_anon - $a_anon) * 60 / $dt / 1024")")"
row "  second half of the window (MiB/min)" "$(printf '%.1f' "$(bench_calc "$(bench_get collector_anon_growth_late_kib_per_min) / 1024")")"
floor_growth="$(bench_get collector_trim_floor_growth_kib_per_min)"
row "  RSS right after each trim, second half (MiB/min)" \
  "$([ -n "$floor_growth" ] && printf '%.2f' "$(bench_calc "$floor_growth / 1024")" || echo n/a) over $(bench_get collector_trim_floor_points_late) trims seen"
row "ingest queue depth, max of samples" "$(bench_get collector_queue_depth_max) (capacity $(bench_get collector_queue_capacity))"
row "collector RSS per agent (KiB)" "$(printf '%.1f' "$(bench_get collector_rss_per_agent_kib)")"
row "collector CPU per million samples (s)" "$(printf '%.3f' "$(bench_get collector_cpu_s_per_million_samples)")"
row "GET /metrics ms (median min max, $RUNS runs)" "$(printf '%.1f %.1f %.1f' "$m_med" "$m_min" "$m_max") ($(kib2mib $((metrics_bytes / 1024))) MiB, $metrics_series samples)"
row "GET /api/v1/hosts ms (median min max)" "$(printf '%.1f %.1f %.1f' "$h_med" "$h_min" "$h_max")"
row "loadgen batches sent / acked" "$(lg batches_sent) / $(lg batches_acked)"
row "loadgen errors, reconnects" "$(lg errors), $(lg reconnects)"
row "ack latency p50 / p99 / max (ms)" "$(lg ack_latency_p50_ms) / $(lg ack_latency_p99_ms) / $(lg ack_latency_max_ms)"
row "loadgen CPU (steady)" "$(printf '%.1f%% of one core' "$lg_cpu_pct")"
