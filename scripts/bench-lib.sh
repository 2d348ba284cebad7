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

# Raises this shell's fd limit to at least $1 (each simulated agent is a TCP connection on
# both sides), up to the hard limit when that is lower (the hard one too when root), and logs
# the limit. Returns 1 if the limit is still below $1.
bench_raise_fd_limit() {
  if [ "$(ulimit -n)" -lt "$1" ]; then
    ulimit -n "$1" 2>/dev/null || ulimit -Sn "$(ulimit -Hn)"
  fi
  bench_log "fd limit $(ulimit -n)"
  [ "$(ulimit -n)" -ge "$1" ]
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
declare -gA BENCH_RESULTS=()
bench_result() {
  BENCH_RESULTS["$1"]="$2"
  [ -n "${BENCH_OUT:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$BENCH_OUT"
  return 0
}
# A value recorded earlier with bench_result (empty if none).
bench_get() { printf '%s' "${BENCH_RESULTS[$1]:-}"; }

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

# --- Process trees (a program that forks: zabbix_agentd's listeners, netdata's spawn server).

# The pids of the process tree rooted at $1, the root first, from every process's ppid.
bench_tree_pids() {
  ps -e -o pid= -o ppid= 2>/dev/null | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END {
      q[1] = root; n = 1
      for (i = 1; i <= n; i++) {
        print q[i]
        m = split(kids[q[i]], k, " ")
        for (j = 1; j <= m; j++) q[++n] = k[j]
      }
    }'
}

# CPU seconds of a process tree: the schedstat of every live thread (ns) plus the cutime and
# cstime (clock ticks) of every live process, i.e. the CPU of children already reaped. A
# thread that exited is lost from the schedstat sum: use bench_tree_cpu_stat as the check.
bench_tree_cpu_sched() {
  local pid sched=0 ticks=0 rest
  for pid in $(bench_tree_pids "$1"); do
    rest="$(sed -E 's/^.*\) //' "/proc/$pid/stat" 2>/dev/null)" || continue
    ticks="$(awk -v t="$ticks" '{ print t + $14 + $15 }' <<<"$rest")"
    sched="$(cat /proc/"$pid"/task/*/schedstat 2>/dev/null |
             awk -v s="$sched" '{ s += $1 } END { printf "%.0f\n", s }')"
  done
  awk -v s="$sched" -v t="$ticks" -v tck="$CLK_TCK" 'BEGIN { printf "%.6f\n", s / 1e9 + t / tck }'
}

# CPU seconds of a process tree from /proc/<pid>/stat: utime + stime + cutime + cstime of every
# live process (clock-tick resolution; includes threads that exited).
bench_tree_cpu_stat() {
  local pid ticks=0 rest
  for pid in $(bench_tree_pids "$1"); do
    rest="$(sed -E 's/^.*\) //' "/proc/$pid/stat" 2>/dev/null)" || continue
    ticks="$(awk -v t="$ticks" '{ print t + $12 + $13 + $14 + $15 }' <<<"$rest")"
  done
  awk -v t="$ticks" -v tck="$CLK_TCK" 'BEGIN { printf "%.3f\n", t / tck }'
}

# The sum of one /proc/<pid>/smaps_rollup field (KiB) over a process tree. Pss sums correctly
# over processes that share pages (forked workers); Rss counts shared pages once per process.
bench_tree_smaps() {
  local pid total=0 v
  for pid in $(bench_tree_pids "$1"); do
    v="$(bench_smaps "$pid" "$2" 2>/dev/null)"
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# "processes threads" of a process tree.
bench_tree_count() {
  local pid procs=0 threads=0 t
  for pid in $(bench_tree_pids "$1"); do
    t="$(bench_status "$pid" Threads 2>/dev/null)"
    [ -n "$t" ] || continue
    procs=$((procs + 1)); threads=$((threads + t))
  done
  echo "$procs $threads"
}

# Like bench_track, for a process that may fork: bench_cleanup_trees stops its descendants too.
BENCH_TREES=()
bench_track_tree() { BENCH_TREES+=("$1"); bench_track "$1"; }

# Stops a process tree now: TERM to the root, KILL after `grace` seconds to whatever is left
# of the tree as it was when called (and as it is then).
bench_stop_tree() {
  local root="$1" grace="${2:-5}" pids pid
  pids="$(bench_tree_pids "$root")"
  bench_stop "$root" "$grace"
  for pid in $pids $(bench_tree_pids "$root" | tail -n +2); do
    [ "$pid" = "$root" ] && continue
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done
  return 0
}

# For an EXIT trap before bench_cleanup: stops every tree tracked with bench_track_tree.
bench_cleanup_trees() {
  local root
  set +e
  for root in "${BENCH_TREES[@]}"; do
    kill -0 "$root" 2>/dev/null && bench_stop_tree "$root" 5
  done
  BENCH_TREES=()
}

# --- Benchmark-only Debian packages.

# Installs the Debian packages "$@" with apt-get when `binary` ($1) is not on the PATH, only as
# root and only when BENCH_INSTALL is not 0. Where systemd started the packages' service
# `unit` ($2; "-" for none) on installing, it is stopped again: the script starts its own
# instance. Returns 1, and says why on stdout, when the binary is still missing.
bench_apt_install() {
  local binary="$1" unit="$2"; shift 2
  command -v "$binary" >/dev/null 2>&1 && return 0
  if [ "${BENCH_INSTALL:-1}" = 0 ]; then echo "$binary missing and BENCH_INSTALL=0"; return 1; fi
  if [ "$(id -u)" != 0 ]; then echo "$binary missing and not root (apt-get install $*)"; return 1; fi
  command -v apt-get >/dev/null || { echo "$binary missing and no apt-get"; return 1; }
  bench_log "installing $* (benchmark-only dependency)"
  local log="${BENCH_TMP:-/tmp}/apt-$binary.log"
  # On a stale or empty package list, update once and try again.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$log" 2>&1 ||
    { apt-get update -q >>"$log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1; } ||
    { echo "apt-get install $* failed: $(tail -1 "$log")"; return 1; }
  if [ "$unit" != - ] && [ -d /run/systemd/system ] &&
     systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl stop "$unit" 2>/dev/null && bench_log "stopped the $unit service apt-get started"
  fi
  command -v "$binary" >/dev/null 2>&1 || { echo "$binary not found after installing $*"; return 1; }
}

# Renders template $1 into $2: every @NAME@ becomes the value of the environment variable
# BT_NAME (values may span lines). Fails on a placeholder without a variable.
bench_render() {
  python3 - "$1" "$2" <<'PYEOF'
import os, re, sys
text = open(sys.argv[1]).read()
def sub(m):
    v = os.environ.get("BT_" + m.group(1))
    if v is None:
        sys.exit("bench_render: %s: no value for @%s@" % (sys.argv[1], m.group(1)))
    return v
open(sys.argv[2], "w").write(re.sub(r"@([A-Z_]+)@", sub, text))
PYEOF
}
