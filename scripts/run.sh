#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: a collector and a local agent with
# an embedded default configuration. State goes under ./var (or $ACCORD_HOME). Ctrl-C stops
# both cleanly (the agent says goodbye first).
#
# Environment: ACCORD_HOME (default ./var), ACCORD_GRPC_PORT (7470), ACCORD_WEB_PORT (9470),
# ACCORD_SAMPLE_INTERVAL (10s), BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j2 --target accord-collector accord-agent

ACCORD_HOME=${ACCORD_HOME:-$ROOT/var}
GRPC_PORT=${ACCORD_GRPC_PORT:-7470}
WEB_PORT=${ACCORD_WEB_PORT:-9470}
mkdir -p "$ACCORD_HOME/collector" "$ACCORD_HOME/agent"

# The embedded default configuration (flags override it).
AGENT_CONFIG="$ACCORD_HOME/agent/agent.yaml"
cat >"$AGENT_CONFIG" <<YAML
# Written by scripts/run.sh; edit the script's defaults rather than this file.
collector:
  address: 127.0.0.1:$GRPC_PORT
sample:
  interval: ${ACCORD_SAMPLE_INTERVAL:-10s}
heartbeat:
  interval: 1s
spool:
  dir: $ACCORD_HOME/agent/spool
label:
  env: local
YAML

# Own sessions: a terminal Ctrl-C reaches only this script, which stops the agent first
# (so that its goodbye is recorded) and then the collector.
# The default catalogue: one service made of the local host (selected by the agent's label).
COLLECTOR_CONFIG="$ACCORD_HOME/collector/collector.yaml"
cat >"$COLLECTOR_CONFIG" <<YAML
# Written by scripts/run.sh. A full example: deploy/examples/catalogue.yaml.
teams:
  - id: ops
    name: Operations
    restore_target: 4h
services:
  - id: local-host
    name: This machine
    description: The host running scripts/run.sh
    owner: ops
    priority: medium
    components:
      selector: {env: local}
    support_team: ops
    sla:
      target: 99.9
      period: month
      time_zone: UTC
      unknown: down
YAML

setsid "$BUILD_DIR/collector/accord-collector" \
  --config.file="$COLLECTOR_CONFIG" \
  --grpc.listen-address="127.0.0.1:$GRPC_PORT" \
  --web.listen-address="127.0.0.1:$WEB_PORT" \
  --storage.path="$ACCORD_HOME/collector" &
COLLECTOR_PID=$!
AGENT_PID=""

stop() {
  trap - INT TERM EXIT
  echo "run.sh: stopping" >&2
  [ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
  kill -TERM "$COLLECTOR_PID" 2>/dev/null && wait "$COLLECTOR_PID" 2>/dev/null
  exit 0
}
trap stop INT TERM EXIT

# Wait for the collector's HTTP port.
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$COLLECTOR_PID" 2>/dev/null || { echo "run.sh: the collector did not start" >&2; exit 1; }
  sleep 0.1
done

setsid "$BUILD_DIR/agent/accord-agent" --config.file="$AGENT_CONFIG" &
AGENT_PID=$!

cat >&2 <<MSG

  Accord is running. Look at:
    http://127.0.0.1:$WEB_PORT/api/v1/hosts   hosts and their state (this host is up within 2 s)
    http://127.0.0.1:$WEB_PORT/api/v1/services   the service catalogue and its SLA figures
    http://127.0.0.1:$WEB_PORT/api/v1/services/local-host/availability
    http://127.0.0.1:$WEB_PORT/metrics        Prometheus metrics
    http://127.0.0.1:$WEB_PORT/healthz        collector health
  Agents connect to 127.0.0.1:$GRPC_PORT. State is in $ACCORD_HOME. Ctrl-C stops both.

MSG
wait "$AGENT_PID" || true
AGENT_PID=""
echo "run.sh: the agent exited" >&2
stop
