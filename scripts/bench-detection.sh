#!/usr/bin/env bash
# Detection latency (issue #6, benchmark 4): how long after an agent is killed (kill -9: its
# stream and TCP connection end without a goodbye) or frozen (silence on an open stream) the
# collector shows it: in GET /api/v1/hosts (state leaves "up"), in GET /metrics
# (accord_host_up becomes 0), and in its own transition log (recorded_at).
#   1. starts accord-collector and accord-loadgen with AGENTS agents (heartbeat HEARTBEAT s);
#   2. waits until every host is up, starts two pollers (bench/loadgen/detection_watch.py):
#      /api/v1/hosts every HOSTS_POLL_MS, /metrics every METRICS_POLL_MS (0: off);
#   3. the load generator's timetable, ROUNDS times, ROUND_S apart: kill FRACTION of the hosts
#      (spread over SPREAD_MS in SPREAD_STEPS steps), 0.5 s after each step freeze as many
#      others, RECONNECT_AFTER s later bring them all back;
#   4. joins the load generator's per-host fault times with what the pollers saw: p50/p99/max
#      per fault kind and endpoint; targets: p99 <= 1 s (kill), <= 3 heartbeats + 0.5 s (freeze).
# The poll periods achieved are the measurement's resolution and are reported.
#
# Usage: scripts/bench-detection.sh [--out FILE]   (key=value results to FILE)
# Env:   AGENTS=1000 FRACTION=0.01 ROUNDS=3 HEARTBEAT=1 SAMPLE_INTERVAL=10s HOSTS_POLL_MS=50
#        METRICS_POLL_MS=200 METRICS_PATH=/metrics METRICS_FETCH=curl FIRST_FAULT=10 ROUND_S=15
#        SPREAD_MS=1000 SPREAD_STEPS=10 RECONNECT_AFTER=8 SEED=1
#        CONNECT_TIMEOUT (s; default 60 + AGENTS/100)  BUILD_DIR SKIP_BUILD=1
# Runs about 1.5 minutes with the defaults (AGENTS=10000: about 3 minutes).
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 19 "$@"
AGENTS="${AGENTS:-1000}"
FRACTION="${FRACTION:-0.01}"
ROUNDS="${ROUNDS:-3}"
HEARTBEAT="${HEARTBEAT:-1}"
SAMPLE_INTERVAL="${SAMPLE_INTERVAL:-10s}"
HOSTS_POLL_MS="${HOSTS_POLL_MS:-50}"
METRICS_POLL_MS="${METRICS_POLL_MS:-200}"
# What the /metrics poller GETs: the whole exposition, or e.g. /metrics?family=accord_host_up
# (the small liveness scrape of deploy/prometheus/prometheus.yml).
METRICS_PATH="${METRICS_PATH:-/metrics}"
# How the /metrics poller fetches: curl (a process per poll; under 10,000 agents and no other
# poller it read the 190 MB /metrics of 10,000 hosts in 0.31-0.41 s where Python's http.client
# took 0.62-0.79 s, with less CPU taken from the collector) or http.client (one keep-alive
# connection, as the /api/v1/hosts poller: its body is small and a process per 50 ms poll
# would cost more than it saves).
METRICS_FETCH="${METRICS_FETCH:-curl}"
FIRST_FAULT="${FIRST_FAULT:-10}"
ROUND_S="${ROUND_S:-15}"
SPREAD_MS="${SPREAD_MS:-1000}"
SPREAD_STEPS="${SPREAD_STEPS:-10}"
RECONNECT_AFTER="${RECONNECT_AFTER:-8}"
SEED="${SEED:-1}"
CONNECT_TIMEOUT="${CONNECT_TIMEOUT:-$((60 + AGENTS / 100))}"
WATCH="$BENCH_ROOT/bench/loadgen/detection_watch.py"
# Checked before anything starts.
[[ "$SPREAD_STEPS" =~ ^[1-9][0-9]*$ ]] ||
  bench_die "SPREAD_STEPS must be a whole number of at least 1, not \"$SPREAD_STEPS\""
[[ "$SPREAD_MS" =~ ^[0-9]+$ ]] || bench_die "SPREAD_MS must be a whole number of ms, not \"$SPREAD_MS\""
# The last step's freezes must be detectable (3 heartbeats + 0.5 s, with a second to spare)
# before the reconnect.
((SPREAD_MS + 500 + (3 * HEARTBEAT + 1) * 1000 < RECONNECT_AFTER * 1000)) ||
  bench_die "SPREAD_MS=$SPREAD_MS leaves the last freezes no time to be detected before the reconnect after RECONNECT_AFTER=${RECONNECT_AFTER}s"
per_round="$(awk -v f="$FRACTION" -v n="$AGENTS" 'BEGIN {
  if (f !~ /^[0-9]*\.?[0-9]+%?$/) exit 1
  if (f ~ /%$/) f = substr(f, 1, length(f) - 1) / 100
  if (f <= 0 || f > 1) exit 1
  c = int(f * n + 0.5); print (c < 1 ? 1 : c) }')" ||
  bench_die "FRACTION must be in (0, 1] or a percentage up to 100%, not \"$FRACTION\""
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init
bench_build accord-collector accord-loadgen

# The collector also keeps SQLite and HTTP fds.
bench_raise_fd_limit $((AGENTS + 1024)) ||
  bench_die "fd limit $(ulimit -n) < $((AGENTS + 1024)) (raise ulimit -Hn)"

bench_start_collector
URL="http://127.0.0.1:$WEB_PORT"

# The timetable: times count from the moment every agent is connected (--fault.origin).
FAULTS=()
last_fault=0
# Each round's kills (and freezes) are spread over SPREAD_MS in SPREAD_STEPS steps, so that
# they fall at different points of the pollers' cycles: all at one instant, a round's hosts
# would all wait for the same poll, and the p99 of 300 faults would be the worst of 3 draws of
# where the poll stood. A round takes FRACTION of the agents (a fraction, or a percentage such
# as 1%), rounded, at least 1, as the load generator counts it; the steps share that number
# as evenly as whole hosts allow (steps of none are left out), each given as count/AGENTS,
# which the load generator rounds back to the count.
step_ms=() step_fraction=()  # the same steps every round
for ((i = 0; i < SPREAD_STEPS; i++)); do
  n=$((per_round / SPREAD_STEPS + (i < per_round % SPREAD_STEPS ? 1 : 0)))
  ((n > 0)) || continue
  step_ms+=($((i * SPREAD_MS / SPREAD_STEPS)))
  step_fraction+=("$(awk -v c="$n" -v a="$AGENTS" 'BEGIN { printf "%.10g", c / a }')")
done
for ((r = 0; r < ROUNDS; r++)); do
  t=$((FIRST_FAULT + r * ROUND_S))
  for ((i = 0; i < ${#step_ms[@]}; i++)); do
    at_ms=$((t * 1000 + step_ms[i]))
    f="${step_fraction[i]}"
    FAULTS+=(--fault="kill:$f@${at_ms}ms" --fault="freeze:$f@$((at_ms + 500))ms")
  done
  FAULTS+=(--fault="reconnect@$((t + RECONNECT_AFTER))s")
  last_fault=$((t + RECONNECT_AFTER))
done
run_s=$((CONNECT_TIMEOUT + last_fault + 60))
[ "$run_s" -le 3600 ] || run_s=3600
ramp_ms=$((AGENTS * 2))  # 500 connects per second
LOADGEN_CMD=("$BUILD_DIR/bench/accord-loadgen" --collector.address="127.0.0.1:$GRPC_PORT"
  --agents="$AGENTS" --channels=0 --interval="$SAMPLE_INTERVAL" --heartbeat="${HEARTBEAT}s"
  --duration="${run_s}s" --ramp-up="${ramp_ms}ms" --report.interval=10s --output=json
  --seed="$SEED" --fault.origin=all-connected "${FAULTS[@]}")
bench_log "accord-loadgen: $AGENTS agents, heartbeat ${HEARTBEAT}s, faults ${FAULTS[*]}"
t_start="$(date +%s.%N)"
"${LOADGEN_CMD[@]}" >"$BENCH_TMP/loadgen.json" 2>"$BENCH_TMP/loadgen.log" &
LOADGEN_PID=$!
bench_track "$LOADGEN_PID"

hosts_up() {
  curl -sf --max-time 10 "$URL/api/v1/hosts" -o "$BENCH_TMP/hosts.json" || { echo 0; return; }
  grep -o '"state":"up"' "$BENCH_TMP/hosts.json" | wc -l
}
all_up() { [ "$(hosts_up)" -ge "$AGENTS" ]; }
if ! bench_wait_for "$CONNECT_TIMEOUT" all_up; then
  bench_log "only $(hosts_up) of $AGENTS hosts up after ${CONNECT_TIMEOUT}s"
  tail -5 "$BENCH_TMP/loadgen.log" >&2
  bench_result agents "$AGENTS"
  bench_result all_up 0
  exit 1
fi
t_all="$(date +%s.%N)"
connect_s="$(bench_calc "$t_all - $t_start")"
bench_log "all $AGENTS hosts up after $(printf '%.1f' "$connect_s") s"

# Pollers (separate processes: neither waits for the other's parsing).
python3 "$WATCH" poll --url "$URL" --endpoint hosts --period-ms "$HOSTS_POLL_MS" \
  --fetch http.client --out "$BENCH_TMP/poll-hosts.json" 2>"$BENCH_TMP/poll-hosts.log" &
POLL_HOSTS_PID=$!
bench_track "$POLL_HOSTS_PID"
POLL_METRICS_PID=""
if [ "$METRICS_POLL_MS" != 0 ]; then
  python3 "$WATCH" poll --url "$URL" --endpoint metrics --period-ms "$METRICS_POLL_MS" \
    --metrics-path "$METRICS_PATH" --fetch "$METRICS_FETCH" --out "$BENCH_TMP/poll-metrics.json" \
    2>"$BENCH_TMP/poll-metrics.log" &
  POLL_METRICS_PID=$!
  bench_track "$POLL_METRICS_PID"
fi

# The fault window: from the first fault to the last reconnect, plus time to see it.
sleep 1
c0_sched="$(bench_cpu_sched "$COLLECTOR_PID")"
l0_sched="$(bench_cpu_sched "$LOADGEN_PID")"
w0="$(date +%s.%N)"
end_at="$(bench_calc "$t_all + $last_fault + 6")"
bench_log "faults from about +${FIRST_FAULT}s; watching until +$((last_fault + 6))s"
while [ "$(bench_calc "$(date +%s.%N) < $end_at")" = 1 ]; do
  kill -0 "$LOADGEN_PID" 2>/dev/null || bench_die "accord-loadgen ended early: $(tail -3 "$BENCH_TMP/loadgen.log")"
  sleep 0.5
done
w1="$(date +%s.%N)"
c1_sched="$(bench_cpu_sched "$COLLECTOR_PID")"
l1_sched="$(bench_cpu_sched "$LOADGEN_PID")"
bench_stop "$POLL_HOSTS_PID" 30
[ -n "$POLL_METRICS_PID" ] && bench_stop "$POLL_METRICS_PID" 30

# What one scrape does to liveness: no fault is active now, so every heartbeat timeout the
# collector logs in the next seconds is a false "unreachable" (hosts whose heartbeats wait in
# the ingest queue while the scrape holds the registry).
timeouts() { grep -c 'cause=heartbeat_timeout' "$BENCH_TMP/collector.log" || true; }
sleep "$((3 * HEARTBEAT + 1))"
n0="$(timeouts)"
scrape_s="$(curl -sf --max-time 60 -o "$BENCH_TMP/metrics-end.txt" -w '%{time_total}' "$URL/metrics" || echo 0)"
sleep "$((3 * HEARTBEAT + 2))"
scrape_false=$(($(timeouts) - n0))
n0="$(timeouts)"
hosts_s="$(curl -sf --max-time 60 -o /dev/null -w '%{time_total}' "$URL/api/v1/hosts" || echo 0)"
sleep "$((3 * HEARTBEAT + 2))"
hosts_false=$(($(timeouts) - n0))
bench_log "one GET /metrics: $(printf '%.2f' "$scrape_s") s, then $scrape_false hosts falsely unreachable; one GET /api/v1/hosts: $(printf '%.3f' "$hosts_s") s, then $hosts_false"
bench_log "stopping accord-loadgen (goodbyes, report)"
bench_stop "$LOADGEN_PID" 40
[ -s "$BENCH_TMP/loadgen.json" ] || bench_die "accord-loadgen wrote no report: $(tail -3 "$BENCH_TMP/loadgen.log")"

ANALYZE=(python3 "$WATCH" analyze --loadgen "$BENCH_TMP/loadgen.json" --url "$URL"
  --hosts "$BENCH_TMP/poll-hosts.json" --heartbeat-s "$HEARTBEAT" --out "$BENCH_TMP/results.env")
[ -n "$POLL_METRICS_PID" ] && ANALYZE+=(--metrics "$BENCH_TMP/poll-metrics.json")
"${ANALYZE[@]}"

dt="$(bench_calc "$w1 - $w0")"
lg() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "?"))' \
  "$BENCH_TMP/loadgen.json" "$1" 2>/dev/null || echo "?"; }
r() { bench_result "$1" "$2"; }
r agents "$AGENTS"
r fraction "$FRACTION"
r spread_ms "$SPREAD_MS"
r spread_steps "$SPREAD_STEPS"
r rounds "$ROUNDS"
r sample_interval "$SAMPLE_INTERVAL"
r all_up 1
r connect_all_s "$connect_s"
r cmd_collector "$COLLECTOR_CMD"
r cmd_loadgen "${LOADGEN_CMD[*]}"
r cmd_poll "python3 bench/loadgen/detection_watch.py poll --fetch http.client --endpoint hosts --period-ms $HOSTS_POLL_MS; --fetch $METRICS_FETCH --endpoint metrics --period-ms $METRICS_POLL_MS --metrics-path '$METRICS_PATH'"
r metrics_path "$METRICS_PATH"
r collector_cpu_pct "$(bench_calc "($c1_sched - $c0_sched) * 100 / $dt")"
r loadgen_cpu_pct "$(bench_calc "($l1_sched - $l0_sched) * 100 / $dt")"
r scrape_metrics_s "$scrape_s"
r scrape_metrics_false_unreachable "$scrape_false"
r scrape_hosts_s "$hosts_s"
r scrape_hosts_false_unreachable "$hosts_false"
for k in errors reconnects hosts_killed hosts_frozen hosts_reconnected faults_applied faults_planned; do
  r "loadgen_$k" "$(lg "$k")"
done
[ -n "$BENCH_OUT" ] && cat "$BENCH_TMP/results.env" >>"$BENCH_OUT"

# --- Table.
get() { awk -F= -v k="$1" '$1 == k { print $2; exit }' "$BENCH_TMP/results.env"; }
ms() { local v; v="$(get "$1")"; [ -n "$v" ] && printf '%.0f' "$(bench_calc "$v * 1000")" || printf 'n/a'; }
printf '\nDetection latency, %s agents (heartbeat %s s), %s rounds of %s kills + %s freezes\n\n' \
  "$AGENTS" "$HEARTBEAT" "$ROUNDS" "$(get faults_kill)" "$(get faults_freeze)"
printf '  %-8s %-10s %6s %8s %8s %8s %7s  %s\n' fault endpoint n p50_ms p99_ms max_ms missed target
for kind in kill freeze; do
  for ep in registry api metrics; do
    [ -n "$(get "${kind}_${ep}_n")" ] || continue
    met="$(get "${kind}_${ep}_met")"
    printf '  %-8s %-10s %6s %8s %8s %8s %7s  %s\n' "$kind" "$ep" "$(get "${kind}_${ep}_n")" \
      "$(ms "${kind}_${ep}_p50_s")" "$(ms "${kind}_${ep}_p99_s")" "$(ms "${kind}_${ep}_max_s")" \
      "$(get "${kind}_${ep}_missed")" \
      "$([ "$met" = 1 ] && echo met || echo 'not met') (p99 <= $(ms "target_${kind}_p99_s") ms)"
  done
done
printf '\n  poll period /api/v1/hosts: median %s ms, max %s ms (target %s ms; GET %s ms median)\n' \
  "$(printf '%.0f' "$(get poll_api_period_ms_median)")" "$(printf '%.0f' "$(get poll_api_period_ms_max)")" \
  "$HOSTS_POLL_MS" "$(printf '%.1f' "$(get poll_api_request_ms_median)")"
if [ -n "$(get poll_metrics_polls)" ]; then
  printf '  poll period /metrics:       median %s ms, max %s ms (target %s ms; GET %s ms median)\n' \
    "$(printf '%.0f' "$(get poll_metrics_period_ms_median)")" \
    "$(printf '%.0f' "$(get poll_metrics_period_ms_max)")" "$METRICS_POLL_MS" \
    "$(printf '%.1f' "$(get poll_metrics_request_ms_median)")"
fi
printf '  collector CPU %.1f%%, loadgen CPU %.1f%% of one core during the fault window\n' \
  "$(bench_calc "($c1_sched - $c0_sched) * 100 / $dt")" "$(bench_calc "($l1_sched - $l0_sched) * 100 / $dt")"
printf '  hosts never faulted that left "up" while polled: %s (/api/v1/hosts); of them %s while the\n' \
  "$(get false_down_api_hosts)" "$(get false_down_api_hosts_sender_gap)"
printf '    load generator itself sent nothing for over 3 heartbeats (%s such gaps, longest %.1f s)\n' \
  "$(get sender_gaps)" "$(get sender_gap_max_s)"
printf '  one GET /metrics with no fault active: %.2f s, then %s hosts falsely unreachable\n' \
  "$scrape_s" "$scrape_false"
