# Shared helpers of scripts/bench-*.sh (sourced, not run). Linux only: reads /proc.
#
# Every process a script starts goes through bench_track, and bench_cleanup (installed as an
# EXIT trap by bench_init) stops exactly those processes, by pid. Every wait has a deadline.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$BENCH_ROOT/build-bench}"
BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"  # -O2 -g: the flags of a Debian package build
CLK_TCK="$(getconf CLK_TCK)"
BENCH_PIDS=()
BENCH_TMP=""

bench_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Creates the temp dir and the cleanup trap.
bench_init() {
  BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/accord-bench.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_track() { BENCH_PIDS+=("$1"); }

# Stops the tracked processes (TERM, then KILL after 5 s) and removes the temp dir.
bench_cleanup() {
  local pid deadline
  set +e
  for pid in "${BENCH_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
  done
  deadline=$((SECONDS + 5))
  for pid in "${BENCH_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
  if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ] && [ -z "${BENCH_KEEP_TMP:-}" ]; then
    rm -rf "$BENCH_TMP"
  fi
}

# Stops one tracked process now (TERM, KILL after `grace` seconds).
bench_stop() {
  local pid="$1" grace="${2:-5}" deadline
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null
  deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  return 0
}

# Configures and builds the given targets in $BUILD_DIR (skipped when SKIP_BUILD=1).
bench_build() {
  [ "${SKIP_BUILD:-0}" = 1 ] && return 0
  bench_log "building ($BUILD_TYPE) in $BUILD_DIR: $*"
  cmake -S "$BENCH_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DACCORD_BUILD_TESTS=OFF >/dev/null \
    || bench_die "cmake failed"
  ninja -C "$BUILD_DIR" -j "${BENCH_JOBS:-2}" "$@" >"${BENCH_TMP:-/tmp}/build.log" 2>&1 \
    || { tail -30 "${BENCH_TMP:-/tmp}/build.log" >&2; bench_die "build failed"; }
}

# A free TCP port on 127.0.0.1 (for programs that cannot listen on port 0 and report it).
bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until command "$@" succeeds, at most `timeout` seconds. Returns 1 on timeout.
bench_wait_for() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# Starts accord-collector on free loopback ports with a temp storage dir. Sets COLLECTOR_PID,
# GRPC_PORT and WEB_PORT.
bench_start_collector() {
  local log="$BENCH_TMP/collector.log"
  local cmd=("$BUILD_DIR/collector/accord-collector" --grpc.listen-address=127.0.0.1:0
    --web.listen-address=127.0.0.1:0 --storage.path="$BENCH_TMP/collector-storage" "$@")
  COLLECTOR_CMD="${cmd[*]}"
  "${cmd[@]}" 2>"$log" &
  COLLECTOR_PID=$!
  bench_track "$COLLECTOR_PID"
  bench_wait_for 15 grep -q 'msg="collector started"' "$log" \
    || { cat "$log" >&2; bench_die "collector did not start"; }
  local line
  line="$(grep -m1 'msg="collector started"' "$log")"
  GRPC_PORT="$(sed -E 's/.*grpc_port=([0-9]+).*/\1/' <<<"$line")"
  WEB_PORT="$(sed -E 's/.*web_port=([0-9]+).*/\1/' <<<"$line")"
  bench_log "collector pid $COLLECTOR_PID grpc 127.0.0.1:$GRPC_PORT web 127.0.0.1:$WEB_PORT"
}

# CPU seconds (user + system) of a process from /proc/<pid>/stat (clock-tick resolution).
bench_cpu_stat() {
  # Fields after the command name (which may hold spaces): utime is field 14, stime 15.
  local rest
  rest="$(sed -E 's/^.*\) //' "/proc/$1/stat")" || return 1
  awk -v tck="$CLK_TCK" '{ printf "%.3f\n", ($12 + $13) / tck }' <<<"$rest"
}

# CPU seconds of all threads of a process from /proc/<pid>/task/*/schedstat (ns resolution).
bench_cpu_sched() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.6f\n", s / 1e9 }'
}

# One field of /proc/<pid>/smaps_rollup, in KiB (Rss, Pss, Anonymous, Private_Dirty, ...).
bench_smaps() {
  awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"
}

# One field of /proc/<pid>/status, in KiB (VmRSS, VmHWM).
bench_status() {
  awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# The value of an unlabelled metric in a Prometheus text file.
bench_metric() {
  awk -v n="$2" '$1 == n { print $2; exit }' "$1"
}

# Arithmetic with floats: bench_calc "expr".
bench_calc() { awk "BEGIN { printf \"%.15g\n\", $1 }"; }

# Median, min and max of numbers, one per line on stdin: prints "median min max".
bench_stats() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "0 0 0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}

# Appends key=value to the results file $BENCH_OUT (when set) and echoes nothing.
bench_result() {
  [ -n "${BENCH_OUT:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$BENCH_OUT"
  return 0
}

# Parses the scripts' common arguments: --out FILE (key=value results) and --help (prints
# lines 2..$1 of the calling script). Sets BENCH_OUT.
bench_parse_args() {
  local help_lines="$1"
  shift
  BENCH_OUT=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) BENCH_OUT="$2"; shift 2 ;;
      --out=*) BENCH_OUT="${1#--out=}"; shift ;;
      -h|--help) sed -n "2,${help_lines}p" "$0"; exit 0 ;;
      *) bench_die "unknown argument $1" ;;
    esac
  done
}
