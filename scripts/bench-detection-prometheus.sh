#!/usr/bin/env bash
# Detection latency of Prometheus (issue #6, next to scripts/bench-detection.sh): the Debian
# `prometheus` package scrapes PROM_TARGETS tiny HTTP servers (one process each, job "target");
# an alert rule `up{job="target"} == 0` with `for:`; the targets are killed (SIGKILL) one by one,
# spread over one scrape interval. Measured per target, from the kill:
#   up0_scrape    the first failed scrape (timestamp of the first up == 0 sample in the TSDB)
#   up0_query     up == 0 seen in GET /api/v1/query (polled every second)
#   firing_eval   the rule evaluation that fired (first ALERTS{alertstate="firing"} sample)
#   firing_alerts "firing" seen in GET /api/v1/alerts (polled every second)
# Configurations: tuned (scrape_interval and evaluation_interval 15 s, for: 1m; always) and
# defaults (1m, 1m, for: 5m; only with PROM_DEFAULTS=1: it takes about 8 minutes).
# Alertmanager (group_wait 30 s by default) would add its own delay to a notification: not
# measured here.
#
# Usage: scripts/bench-detection-prometheus.sh [--out FILE]   (key=value results to FILE)
# Env:   PROM_TARGETS=5 PROM_DEFAULTS=0 PROM_TUNED=1 SEED=1
#        INSTALL_PROMETHEUS=1 (apt-get install prometheus when missing and root: a
#        benchmark-only dependency)
# Runs about 2 minutes (tuned only); loopback only; stops everything it started.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 21 "$@"
PROM_TARGETS="${PROM_TARGETS:-5}"
PROM_DEFAULTS="${PROM_DEFAULTS:-0}"
PROM_TUNED="${PROM_TUNED:-1}"
SEED="${SEED:-1}"
WATCH="$BENCH_ROOT/bench/loadgen/detection_watch.py"
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init

PROM_BIN="$(command -v prometheus || true)"
if [ -z "$PROM_BIN" ] && [ "${INSTALL_PROMETHEUS:-1}" = 1 ] && [ "$(id -u)" = 0 ] \
   && command -v apt-get >/dev/null; then
  bench_log "installing prometheus (benchmark-only dependency)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
    >/dev/null 2>&1 || true
  PROM_BIN="$(command -v prometheus || true)"
fi
if [ -z "$PROM_BIN" ]; then
  bench_log "prometheus not available: skipping the comparison"
  bench_result prometheus "not installed"
  exit 0
fi
PROM_VERSION="$(dpkg-query -W -f='${Version}' prometheus 2>/dev/null \
  || "$PROM_BIN" --version 2>&1 | awk 'NR == 1 { print $3 }')"
bench_result prometheus "$PROM_VERSION"
bench_log "prometheus $PROM_VERSION ($PROM_BIN)"

# A target: serves one metric on 127.0.0.1:PORT until killed.
TARGET_PY='
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"# TYPE demo_heartbeat gauge\ndemo_heartbeat 1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'

# run_config NAME SCRAPE_INTERVAL_S FOR_S GLOBAL_YAML
run_config() {
  local name="$1" interval="$2" for_s="$3" global="$4"
  local dir="$BENCH_TMP/$name" port targets=() pids=() yaml_targets="" i
  mkdir -p "$dir/data"
  for ((i = 0; i < PROM_TARGETS; i++)); do
    port="$(bench_free_port)"
    python3 -c "$TARGET_PY" "$port" &
    pids+=("$!")
    bench_track "$!"
    targets+=(--target "$port:$!")
    disown "$!"  # killed on purpose: no "Killed" notice from the shell
    yaml_targets+="'127.0.0.1:$port', "
  done
  cat >"$dir/prometheus.yml" <<EOF
global:
$global
rule_files: ['rules.yml']
scrape_configs:
  - job_name: target
    static_configs:
      - targets: [${yaml_targets%, }]
EOF
  cat >"$dir/rules.yml" <<EOF
groups:
  - name: detection
    rules:
      - alert: TargetDown
        expr: up{job="target"} == 0
        for: ${for_s}s
EOF
  command -v promtool >/dev/null && { promtool check config "$dir/prometheus.yml" >/dev/null \
    || bench_die "promtool rejects $dir/prometheus.yml"; }
  local pport
  pport="$(bench_free_port)"
  PROM_CMD=("$PROM_BIN" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data"
    --web.listen-address="127.0.0.1:$pport" --log.level=warn)
  "${PROM_CMD[@]}" 2>"$dir/prometheus.log" &
  local prom_pid=$!
  bench_track "$prom_pid"
  bench_wait_for 30 curl -sf "http://127.0.0.1:$pport/-/ready" \
    || { tail -5 "$dir/prometheus.log" >&2; bench_die "prometheus did not become ready"; }
  bench_log "$name: scrape ${interval}s, for: ${for_s}s, $PROM_TARGETS targets; waiting for the alerts"
  python3 "$WATCH" prometheus --url "http://127.0.0.1:$pport" "${targets[@]}" \
    --interval-s "$interval" --for-s "$for_s" --seed "$SEED" --prefix "prom_${name}_" \
    --out "$dir/results.env" || bench_die "$name: the Prometheus run failed"
  bench_stop "$prom_pid" 10
  for i in "${pids[@]}"; do bench_stop "$i" 1; done
  [ -n "$BENCH_OUT" ] && cat "$dir/results.env" >>"$BENCH_OUT"
  bench_result "prom_${name}_cmd" "${PROM_CMD[*]} (global: $(tr '\n' ' ' <<<"$global" | tr -s ' '))"
  RESULTS+=("$dir/results.env")
}

RESULTS=()
[ "$PROM_TUNED" = 1 ] && run_config tuned 15 60 '  scrape_interval: 15s
  evaluation_interval: 15s'
if [ "$PROM_DEFAULTS" = 1 ]; then
  # Prometheus' defaults: scrape_interval 1m, evaluation_interval 1m (nothing set).
  run_config defaults 60 300 '  {}'
else
  bench_result prom_defaults_skipped "set PROM_DEFAULTS=1 (about 8 minutes)"
fi

# --- Table.
printf '\nPrometheus %s: seconds from kill -9 of a scrape target to ...\n\n' "$PROM_VERSION"
printf '  %-9s %-14s %4s %8s %8s %8s\n' config event n p50_s min_s max_s
for f in "${RESULTS[@]}"; do
  cfg="$(basename "$(dirname "$f")")"
  for ev in up0_scrape up0_query firing_eval firing_alerts; do
    v() { awk -F= -v k="prom_${cfg}_${ev}_$1" '$1 == k { print $2 }' "$f"; }
    printf '  %-9s %-14s %4s %8s %8s %8s\n' "$cfg" "$ev" "$(v n)" "$(v p50_s)" "$(v min_s)" "$(v max_s)"
  done
done
[ "$PROM_DEFAULTS" = 1 ] || printf '\n  (defaults: scrape 1m, for: 5m, not run: PROM_DEFAULTS=1)\n'
