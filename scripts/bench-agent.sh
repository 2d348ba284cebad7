#!/usr/bin/env bash
# Measures accord-agent against its peers at the same sampling interval, in one run: for each
# interval of INTERVALS, each agent runs alone, one after the other, for DURATION seconds after
# a warm-up, collecting the kinds of metrics accord-agent collects (CPU, memory, swap, load,
# uptime, filesystems, disks, network):
#   accord         accord-agent --sample.interval=N s, streaming to accord-collector on loopback;
#   accord_hb      (intervals over 1 s) the same with --heartbeat.interval=N s: what the default
#                  1 s heartbeats cost at a longer interval (not a target row);
#   node_exporter  prometheus-node-exporter with the agent's collectors, scraped every N s by curl
#                  (Accept-Encoding: gzip, as Prometheus does);
#   collectd       collectd -f, plugins cpu memory swap load uptime df disk interface, network
#                  plugin to a local UDP sink (scripts/bench-peers/collectd.conf.in, udp_sink.py);
#   zabbix         zabbix_agentd -f, passive, on loopback; scripts/bench-peers/zabbix_poll.py
#                  requests the agent's item set every N s, one TCP connection per item, as a
#                  Zabbix server does (Debian 12 has no zabbix_get);
#   netdata        netdata -D trimmed to the proc and diskspace plugins: no web server, health,
#                  ML, streaming or external plugins (scripts/bench-peers/netdata.conf.in);
# and, through all of an interval's runs, accord-bench-floor: a process that only reads the
# files one agent cycle reads, every N s (the like-for-like floor). Per agent, over its whole
# process tree (every process it forked):
#   CPU     the schedstat of every thread (ns) plus the CPU of reaped children -> ms per second
#           and per cycle (accord: per batch the collector accepted; node_exporter: per scrape;
#           zabbix: per poll round; collectd, netdata: per interval elapsed); /proc/<pid>/stat
#           ticks as a check;
#   memory  Rss, Pss, Anonymous and Private (clean + dirty) from smaps_rollup, summed over the
#           tree at the end of the window (Pss sums correctly over forked workers, Rss does not);
# plus, at the first interval (1 s when measured): accord-agent's CPU by thread and RSS by
# mapping, wire bytes per sample (accord protobuf and TCP; node_exporter text and gzip), and the
# hot-loop floor (agent_sampler_bench BM_ReadFilesOnly vs BM_SamplerCollect). Verdicts per
# interval: less CPU than every peer; RSS < 10 MiB; CPU per cycle <= 2x the floor.
#
# Usage: scripts/bench-agent.sh [--out FILE]     (FILE gets key=value results)
# Env:   DURATION=60 WARMUP=5 (at least interval + 2 s) INTERVALS="1 10"
#        PEERS="node_exporter collectd zabbix netdata" (a subset, or "" for accord-agent alone)
#        BENCH_INSTALL=1 (apt-get install a missing peer as root: benchmark-only dependencies;
#        a peer that cannot be installed or started is skipped with the reason logged)
#        NETDATA_DB_MODE=ram NETDATA_RETENTION=3600 SKIP_BUILD=0 BUILD_DIR=build-bench
#        (NODE_EXPORTER=skip and INSTALL_NODE_EXPORTER=0 still work)
# Runs about (1 + peers) x (DURATION + 10 s) per interval, one more accord-agent run (hb) at
# each interval over 1 s, plus the longer warm-up at 10 s: about 14 minutes with the defaults.
# Stops everything it started, on failure too.
set -euo pipefail
source "$(dirname "$0")/bench-lib.sh"

bench_parse_args 41 "$@"
DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-5}"
INTERVALS="${INTERVALS:-1 10}"
PEERS="${PEERS-node_exporter collectd zabbix netdata}"
[ "${NODE_EXPORTER:-auto}" = skip ] && PEERS="$(tr ' ' '\n' <<<"$PEERS" | grep -vx node_exporter | xargs)"
BENCH_INSTALL="${BENCH_INSTALL:-${INSTALL_NODE_EXPORTER:-1}}"
NETDATA_DB_MODE="${NETDATA_DB_MODE:-ram}"
NETDATA_RETENTION="${NETDATA_RETENTION:-3600}"
PEER_DIR="$BENCH_ROOT/scripts/bench-peers"
for iv in $INTERVALS; do
  [[ "$iv" =~ ^[1-9][0-9]*$ ]] || bench_die "INTERVALS: whole seconds >= 1, got '$iv'"
  [ "$DURATION" -ge "$iv" ] || bench_die "DURATION ($DURATION) is shorter than the interval $iv"
done
# The interval whose run also feeds the detailed accord-agent figures (1 s when measured).
DETAIL_IV="$(tr ' ' '\n' <<<"$INTERVALS" | grep -x 1 || true)"
DETAIL_IV="${DETAIL_IV:-$(awk '{ print $1 }' <<<"$INTERVALS")}"
[ -n "$BENCH_OUT" ] && : >"$BENCH_OUT"

bench_init
trap 'bench_cleanup_trees; bench_cleanup' EXIT
bench_build accord-collector accord-agent agent_sampler_bench accord-bench-floor

declare -A RES  # this run's results (also appended to --out as they are made)
res() { RES[$1]="$2"; bench_result "$1" "$2"; }
# Sleeps until the epoch time $1 (no-op when it has passed).
sleep_until() {
  local s
  s="$(bench_calc "$1 - $(date +%s.%N)")"
  awk "BEGIN { exit !($s > 0) }" && sleep "$s"
  return 0
}
warmup_for() { echo $((WARMUP > $1 + 2 ? WARMUP : $1 + 2)); }

# --- The peers: install when missing, or skip with the reason.
declare -A PEER_BIN PEER_PKG
PEER_PKG=([node_exporter]=prometheus-node-exporter [collectd]=collectd-core
          [zabbix]=zabbix-agent [netdata]=netdata-core)
declare -A PEER_BINARY=([node_exporter]=prometheus-node-exporter [collectd]=collectd
                        [zabbix]=zabbix_agentd [netdata]=netdata)
declare -A PEER_UNIT=([node_exporter]=prometheus-node-exporter [collectd]=collectd
                      [zabbix]=zabbix-agent [netdata]=netdata)
MEASURED=(accord)
for peer in $PEERS; do
  [ -n "${PEER_PKG[$peer]:-}" ] || bench_die "PEERS: unknown peer '$peer'"
  if why="$(bench_apt_install "${PEER_BINARY[$peer]}" "${PEER_UNIT[$peer]}" "${PEER_PKG[$peer]}")"; then
    PEER_BIN[$peer]="$(command -v "${PEER_BINARY[$peer]}")"
    others="$(pgrep -x "$(cut -c1-15 <<<"${PEER_BINARY[$peer]}")" | xargs || true)"
    [ -n "$others" ] && bench_log "note: $peer already runs here (pid $others): extra load during the run"
    MEASURED+=("$peer")
    res "${peer}_version" "$(dpkg-query -W -f='${Version}' "${PEER_PKG[$peer]}" 2>/dev/null || echo unknown)"
  else
    bench_log "skipping $peer: $why"
    res "${peer}_skipped" "$why"
  fi
done
res agents "${MEASURED[*]}"
[ -n "${PEER_BIN[netdata]:-}" ] && res netdata_db "mode $NETDATA_DB_MODE, retention $NETDATA_RETENTION s"
res intervals "$INTERVALS"
res detail_interval "$DETAIL_IV"

# --- What accord-agent reports on this host, with its default filters (agent/sources/
# sampler.h, disk_filter.h): the peers are configured for the same filesystems, disks and
# interfaces.
FS_TYPES_EXCLUDE="autofs binfmt_misc bpf cgroup cgroup2 configfs debugfs devpts devtmpfs fusectl
hugetlbfs iso9660 mqueue nsfs overlay proc procfs pstore rpc_pipefs securityfs selinuxfs squashfs
sysfs tracefs ramfs fuse.lxcfs nfsd efivarfs erofs"
MOUNTS_EXCLUDE="/dev /proc /sys /run/credentials /var/lib/docker /var/lib/containers"
HOST_FS="$(awk -v types="$FS_TYPES_EXCLUDE" -v mps="$MOUNTS_EXCLUDE" '
  BEGIN { split(types, t, /[ \n]+/); for (i in t) xt[t[i]] = 1; nm = split(mps, m, " ") }
  { if ($3 in xt) next
    for (i = 1; i <= nm; i++) if ($2 == m[i] || index($2, m[i] "/") == 1) next
    if (!seen[$2]++) print $2 }' /proc/1/mounts | xargs)"
HOST_DISKS="$(awk '{ print $3 }' /proc/diskstats |
  grep -Ev '^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme[0-9]+n[0-9]+p)[0-9]+$' | xargs)"
HOST_IFS="$(awk -F: 'NR > 2 { gsub(/ /, "", $1); if ($1 != "lo") print $1 }' /proc/net/dev | xargs)"
NCPU="$(grep -c '^cpu[0-9]' /proc/stat)"
res host_filesystems "$HOST_FS"
res host_disks "$HOST_DISKS"
res host_interfaces "$HOST_IFS"
res host_cpus "$NCPU"

# Zabbix items: the agent's series as Zabbix agent item keys (Zabbix has no raw CPU seconds,
# forks or procs running/blocked items, no disk I/O time and no link speed).
ZBX_ITEMS="$BENCH_TMP/zabbix-items.txt"
{
  for cpu in all $(seq 0 $((NCPU - 1))); do
    for mode in user nice system idle iowait interrupt softirq steal; do
      echo "system.cpu.util[$cpu,$mode]"
    done
  done
  echo system.boottime; echo system.uptime; echo system.cpu.switches
  for m in total available free buffers cached; do echo "vm.memory.size[$m]"; done
  echo "system.swap.size[,total]"; echo "system.swap.size[,free]"
  for a in avg1 avg5 avg15; do echo "system.cpu.load[all,$a]"; done
  for fs in $HOST_FS; do
    for m in total free used; do echo "vfs.fs.size[\"$fs\",$m]"; done
    for m in total free; do echo "vfs.fs.inode[\"$fs\",$m]"; done
  done
  for d in $HOST_DISKS; do
    for dir in read write; do
      for m in operations sectors; do echo "vfs.dev.${dir}[$d,$m]"; done
    done
  done
  for i in $HOST_IFS; do
    for dir in in out; do
      for m in bytes packets errors dropped; do echo "net.if.${dir}[$i,$m]"; done
    done
  done
} >"$ZBX_ITEMS"

# --- The collector (for accord-agent; idle while the peers run).
bench_start_collector
COLLECTOR_URL="http://127.0.0.1:$WEB_PORT"
res cmd_collector "$COLLECTOR_CMD"
collector_metric() {  # $1: file, $2: metric
  bench_metric "$1" "$2"
}
collector_scrape() { curl -sf --max-time 10 "$COLLECTOR_URL/metrics" -o "$1"; }

# --- Measurement windows over a process tree.
# win_start/win_end ROOT: the time and the tree's CPU at the start and end of the window.
win_start() { W_T0="$(date +%s.%N)"; W_SCHED0="$(bench_tree_cpu_sched "$1")"; W_STAT0="$(bench_tree_cpu_stat "$1")"; }
win_end() { W_T1="$(date +%s.%N)"; W_SCHED1="$(bench_tree_cpu_sched "$1")"; W_STAT1="$(bench_tree_cpu_stat "$1")"; }
# record ID INTERVAL ROOT CYCLES: CPU of the window and the tree's memory now, as ID_iN_*.
record() {
  local k="${1}_i${2}" root="$3" cycles="$4" dt cpu cpu_stat procs threads
  dt="$(bench_calc "$W_T1 - $W_T0")"
  cpu="$(bench_calc "$W_SCHED1 - $W_SCHED0")"
  cpu_stat="$(bench_calc "$W_STAT1 - $W_STAT0")"
  res "${k}_duration_s" "$dt"
  res "${k}_cycles" "$cycles"
  res "${k}_cpu_ms_per_s" "$(bench_calc "$cpu * 1000 / $dt")"
  res "${k}_cpu_ms_per_s_stat" "$(bench_calc "$cpu_stat * 1000 / $dt")"
  res "${k}_cpu_ms_per_cycle" "$(bench_calc "$cpu * 1000 / ($cycles > 0 ? $cycles : 1)")"
  res "${k}_rss_kib" "$(bench_tree_smaps "$root" Rss)"
  res "${k}_pss_kib" "$(bench_tree_smaps "$root" Pss)"
  res "${k}_anon_kib" "$(bench_tree_smaps "$root" Anonymous)"
  res "${k}_private_kib" "$(( $(bench_tree_smaps "$root" Private_Clean) + $(bench_tree_smaps "$root" Private_Dirty) ))"
  read -r procs threads <<<"$(bench_tree_count "$root")"
  res "${k}_procs" "$procs"
  res "${k}_threads" "$threads"
}
# True while process $1 lives (a peer that exits during its window is reported, not measured).
alive() { kill -0 "$1" 2>/dev/null; }
peer_failed() {  # ID INTERVAL REASON [LOG]
  bench_log "$1 at $2 s: $3"
  [ -n "${4:-}" ] && [ -f "$4" ] && tail -5 "$4" >&2
  res "${1}_i${2}_failed" "$3"
}

# --- accord-agent.
agent_tcp_bytes() {  # bytes the agent's TCP connection(s) to the collector sent
  ss -tinH state established "( dport = :$GRPC_PORT )" 2>/dev/null |
    grep -o 'bytes_sent:[0-9]*' | awk -F: '{ s += $2 } END { print s + 0 }' || true
}
thread_cpu() {  # tid comm schedstat-ns of each thread of $1
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" "$(awk '{ print $1 }' "$t/schedstat")"
  done | sort
}
run_accord() {  # INTERVAL [hb: heartbeats every INTERVAL instead of the default 1 s]
  local iv="$1" variant="${2:-}" name=accord pid batches0 warm
  local extra=()
  if [ "$variant" = hb ]; then
    name=accord_hb
    extra=(--heartbeat.interval="${iv}s")
  fi
  local k="${name}_i$iv" id="bench-agent${variant:+-$variant}-$iv"
  collector_scrape "$BENCH_TMP/m.txt" || bench_die "collector /metrics failed"
  batches0="$(collector_metric "$BENCH_TMP/m.txt" accord_collector_batches_accepted_total)"
  AGENT_CMD=("$BUILD_DIR/agent/accord-agent" --collector.address="127.0.0.1:$GRPC_PORT"
    --host.id="$id" --sample.interval="${iv}s" "${extra[@]}" --spool.dir="$BENCH_TMP/spool-$id"
    --log.level=warn)
  "${AGENT_CMD[@]}" 2>"$BENCH_TMP/$id.log" &
  pid=$!
  bench_track "$pid"
  res "${k}_cmd" "${AGENT_CMD[*]}"
  # Streaming once the collector has accepted a batch from it.
  streaming() {
    collector_scrape "$BENCH_TMP/m.txt" &&
      [ "$(collector_metric "$BENCH_TMP/m.txt" accord_collector_batches_accepted_total)" -gt "$batches0" ]
  }
  bench_wait_for $((iv + 15)) streaming || { cat "$BENCH_TMP/$id.log" >&2; bench_die "agent not streaming"; }
  warm="$(warmup_for "$iv")"
  bench_log "accord-agent ${variant:+($variant) }pid $pid at ${iv} s: warm-up ${warm} s, measuring ${DURATION} s"
  sleep "$warm"

  collector_scrape "$BENCH_TMP/a0.metrics"
  local tcp0 tcp1
  tcp0="$(agent_tcp_bytes)"
  thread_cpu "$pid" >"$BENCH_TMP/a0.threads"
  win_start "$pid"
  sleep_until "$(bench_calc "$W_T0 + $DURATION")"
  win_end "$pid"
  thread_cpu "$pid" >"$BENCH_TMP/a1.threads"
  tcp1="$(agent_tcp_bytes)"
  collector_scrape "$BENCH_TMP/a1.metrics"
  alive "$pid" || bench_die "accord-agent exited during the window"

  local m0="$BENCH_TMP/a0.metrics" m1="$BENCH_TMP/a1.metrics" cycles samples bytes
  cycles=$(( $(collector_metric "$m1" accord_collector_batches_accepted_total) -
             $(collector_metric "$m0" accord_collector_batches_accepted_total) ))
  samples=$(( $(collector_metric "$m1" accord_collector_samples_received_total) -
              $(collector_metric "$m0" accord_collector_samples_received_total) ))
  bytes="$(bench_calc "$(collector_metric "$m1" accord_collector_received_bytes_total) - $(collector_metric "$m0" accord_collector_received_bytes_total)")"
  record "$name" "$iv" "$pid" "$cycles"
  res "${k}_samples_per_cycle" "$(bench_calc "$samples / ($cycles > 0 ? $cycles : 1)")"
  res "${k}_wire_pb_bytes_per_sample" "$(bench_calc "$bytes / ($samples > 0 ? $samples : 1)")"
  res "${k}_wire_tcp_bytes_per_sample" "$(bench_calc "($tcp1 - $tcp0) / ($samples > 0 ? $samples : 1)")"
  res "${k}_hwm_kib" "$(bench_status "$pid" VmHWM)"

  if [ "$iv" = "$DETAIL_IV" ] && [ -z "$variant" ]; then
    # The largest mappings of the agent (what its Rss is made of) and CPU by thread name.
    awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 } $1 == "Rss:" { rss[name] += $2 }
         END { for (n in rss) if (rss[n] >= 512) printf "%7d kB %s\n", rss[n], (n == "" ? "[anon]" : n) }' \
      "/proc/$pid/smaps" | sort -rn | head -8 >"$BENCH_TMP/agent-maps.txt"
    join "$BENCH_TMP/a0.threads" "$BENCH_TMP/a1.threads" |
      awk -v c="$cycles" '{ ms[$2] += ($5 - $3) / 1e6 } END {
        for (n in ms) printf "%.3f %s\n", ms[n] / (c > 0 ? c : 1), n }' | sort -rn >"$BENCH_TMP/agent-threads.txt"
    for f in Shared_Clean Private_Dirty; do
      res "${k}_$(tr 'A-Z' 'a-z' <<<"$f")_kib" "$(bench_smaps "$pid" "$f")"
    done
  fi
  bench_stop "$pid" 5
}

# --- node_exporter, scraped by a curl loop at the interval.
NE_COLLECTORS=(--collector.disable-defaults --collector.cpu --collector.meminfo
  --collector.loadavg --collector.filesystem --collector.diskstats --collector.netdev
  --collector.stat --collector.time)
run_node_exporter() {
  local iv="$1" k="node_exporter_i$1" port pid n i size scrapes=0 bytes_gz=0 warm
  port="$(bench_free_port)"
  NE_CMD=("${PEER_BIN[node_exporter]}" --web.listen-address="127.0.0.1:$port" "${NE_COLLECTORS[@]}" --log.level=warn)
  "${NE_CMD[@]}" 2>"$BENCH_TMP/node_exporter-$iv.log" &
  pid=$!
  bench_track "$pid"
  res "${k}_cmd" "${NE_CMD[*]}"
  res "${k}_scrape" "curl -s -H 'Accept-Encoding: gzip' -o /dev/null http://127.0.0.1:$port/metrics (every $iv s, $((DURATION / iv)) times)"
  if ! bench_wait_for 10 curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$port/metrics"; then
    peer_failed node_exporter "$iv" "did not serve /metrics within 10 s" "$BENCH_TMP/node_exporter-$iv.log"
    bench_stop "$pid" 5; return 0
  fi
  warm="$(warmup_for "$iv")"
  bench_log "node_exporter pid $pid at ${iv} s: warm-up ${warm} s, measuring ${DURATION} s"
  sleep "$warm"
  n=$((DURATION / iv))
  win_start "$pid"
  for ((i = 1; i <= n; i++)); do
    size="$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' --max-time 2 \
             "http://127.0.0.1:$port/metrics" || echo 0)"
    scrapes=$((scrapes + 1)); bytes_gz=$((bytes_gz + size))
    sleep_until "$(bench_calc "$W_T0 + $i * $iv")"
  done
  sleep_until "$(bench_calc "$W_T0 + $DURATION")"
  win_end "$pid"
  if ! alive "$pid"; then peer_failed node_exporter "$iv" "exited during the window" "$BENCH_TMP/node_exporter-$iv.log"; return 0; fi
  record node_exporter "$iv" "$pid" "$scrapes"
  curl -s --max-time 10 "http://127.0.0.1:$port/metrics" -o "$BENCH_TMP/ne-$iv.txt"
  local all_samples
  all_samples="$(grep -vc '^#' "$BENCH_TMP/ne-$iv.txt")"
  res "${k}_samples_per_cycle" "$all_samples"
  res "${k}_hwm_kib" "$(bench_status "$pid" VmHWM)"
  res "${k}_wire_gzip_scrape" "$(bench_calc "$bytes_gz / ($scrapes > 0 ? $scrapes : 1) / $all_samples")"
  bench_stop "$pid" 5
}

# --- collectd, writing to a local UDP sink with the network plugin.
run_collectd() {
  local iv="$1" k="collectd_i$1" dir="$BENCH_TMP/collectd-$1" sink pid warm s0 s1
  mkdir -p "$dir"
  python3 "$PEER_DIR/udp_sink.py" --port-file "$dir/sink.port" --stats-file "$dir/sink.stats" \
    2>"$dir/sink.log" &
  sink=$!
  bench_track "$sink"
  bench_wait_for 10 test -s "$dir/sink.port" || { peer_failed collectd "$iv" "UDP sink did not start" "$dir/sink.log"; bench_stop "$sink" 2; return 0; }
  local df_ignore="" t m
  for t in $FS_TYPES_EXCLUDE; do df_ignore+="  FSType \"$t\""$'\n'; done
  # A /.../ value is a regular expression between the first and the last slash (no escaping).
  for m in $MOUNTS_EXCLUDE; do df_ignore+="  MountPoint \"/^$m(/|\$)/\""$'\n'; done
  BT_DIR="$dir" BT_INTERVAL="$iv" BT_SINK_PORT="$(cat "$dir/sink.port")" BT_DF_IGNORE="${df_ignore%$'\n'}" \
    bench_render "$PEER_DIR/collectd.conf.in" "$dir/collectd.conf"
  local cmd=("${PEER_BIN[collectd]}" -f -C "$dir/collectd.conf")
  "${cmd[@]}" >"$dir/collectd.log" 2>&1 &
  pid=$!
  bench_track_tree "$pid"
  res "${k}_cmd" "${cmd[*]}"
  if ! bench_wait_for $((iv + 10)) test -s "$dir/sink.stats"; then
    peer_failed collectd "$iv" "sent nothing to the sink within $((iv + 10)) s" "$dir/collectd.log"
    bench_stop_tree "$pid" 5; bench_stop "$sink" 2; return 0
  fi
  warm="$(warmup_for "$iv")"
  bench_log "collectd pid $pid at ${iv} s: warm-up ${warm} s, measuring ${DURATION} s"
  sleep "$warm"
  s0="$(cat "$dir/sink.stats")"
  win_start "$pid"
  sleep_until "$(bench_calc "$W_T0 + $DURATION")"
  win_end "$pid"
  s1="$(cat "$dir/sink.stats")"
  if ! alive "$pid"; then peer_failed collectd "$iv" "exited during the window" "$dir/collectd.log"; bench_stop "$sink" 2; return 0; fi
  local cycles
  cycles="$(bench_calc "($W_T1 - $W_T0) / $iv")"
  record collectd "$iv" "$pid" "$cycles"
  read -r _ b0 v0 <<<"$s0"; read -r _ b1 v1 <<<"$s1"  # packets bytes values
  res "${k}_samples_per_cycle" "$(bench_calc "($v1 - $v0) / $cycles")"
  res "${k}_wire_bytes_per_cycle" "$(bench_calc "($b1 - $b0) / $cycles")"
  res "${k}_wire_bytes_per_sample" "$(bench_calc "($b1 - $b0) / (($v1 - $v0) > 0 ? ($v1 - $v0) : 1)")"
  grep -iE 'error|warn' "$dir/collectd.log" | head -3 | sed 's/^/collectd: /' >&2 || true
  bench_stop_tree "$pid" 5
  bench_stop "$sink" 2
}

# --- zabbix_agentd, passive, polled by zabbix_poll.py.
run_zabbix() {
  local iv="$1" k="zabbix_i$1" dir="$BENCH_TMP/zabbix-$1" port pid warm poll
  mkdir -p "$dir"
  # zabbix_agentd takes ListenPort 1024-32767 only: below the ephemeral range, so pick one.
  port="$(python3 -c '
import random, socket
for _ in range(100):
    p = random.randint(20000, 32767)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()')"
  BT_DIR="$dir" BT_PORT="$port" bench_render "$PEER_DIR/zabbix_agentd.conf.in" "$dir/zabbix_agentd.conf"
  local cmd=("${PEER_BIN[zabbix]}" -f -c "$dir/zabbix_agentd.conf")
  "${cmd[@]}" >"$dir/zabbix.log" 2>&1 &
  pid=$!
  bench_track_tree "$pid"
  res "${k}_cmd" "${cmd[*]}"
  local poll_cmd=(python3 "$PEER_DIR/zabbix_poll.py" --port "$port" --items "$ZBX_ITEMS")
  res "${k}_poll" "${poll_cmd[*]} --interval $iv --rounds $((DURATION / iv))"
  if ! bench_wait_for 10 "${poll_cmd[@]}" --rounds 1; then
    peer_failed zabbix "$iv" "did not answer on 127.0.0.1:$port within 10 s" "$dir/zabbix.log"
    bench_stop_tree "$pid" 5; return 0
  fi
  warm="$(warmup_for "$iv")"
  bench_log "zabbix_agentd pid $pid at ${iv} s: warm-up ${warm} s, measuring ${DURATION} s"
  # One round in the warm-up checks every item (ZBX_NOTSUPPORTED ones are listed).
  "${poll_cmd[@]}" --rounds 1 >"$dir/check.out" 2>"$dir/check.err" || true
  sed 's/^/zabbix: /' "$dir/check.err" >&2
  sleep "$warm"
  win_start "$pid"
  "${poll_cmd[@]}" --interval "$iv" --rounds $((DURATION / iv)) >"$dir/poll.out" 2>"$dir/poll.err" &
  poll=$!
  bench_track "$poll"
  wait "$poll" || true
  sleep_until "$(bench_calc "$W_T0 + $DURATION")"
  win_end "$pid"
  if ! alive "$pid"; then peer_failed zabbix "$iv" "exited during the window" "$dir/zabbix.log"; return 0; fi
  local rounds requests errors unsup
  rounds="$(awk -F= '$1 == "rounds" { print $2 }' "$dir/poll.out")"
  requests="$(awk -F= '$1 == "requests" { print $2 }' "$dir/poll.out")"
  errors="$(awk -F= '$1 == "errors" { print $2 }' "$dir/poll.out")"
  unsup="$(awk -F= '$1 == "not_supported" { print $2 }' "$dir/poll.out")"
  record zabbix "$iv" "$pid" "${rounds:-0}"
  res "${k}_samples_per_cycle" "$(bench_calc "(${requests:-0} - ${errors:-0}) / (${rounds:-0} > 0 ? ${rounds:-0} : 1) - ${unsup:-0}")"
  res "${k}_items" "$(wc -l <"$ZBX_ITEMS")"
  res "${k}_poll_errors" "${errors:-0}"
  res "${k}_not_supported" "${unsup:-0}"
  res "${k}_round_ms_max" "$(awk -F= '$1 == "round_ms_max" { print $2 }' "$dir/poll.out")"
  bench_stop_tree "$pid" 5
}

# --- netdata, trimmed.
run_netdata() {
  local iv="$1" k="netdata_i$1" dir="$BENCH_TMP/netdata-$1" pid warm
  mkdir -p "$dir"/{cache,lib,log,health.d,plugins.d}  # plugins.d stays empty
  local paths="/proc/* /sys/* /var/run/user/* /run/user/* /snap/*" m
  for m in $MOUNTS_EXCLUDE; do paths+=" $m $m/*"; done
  BT_DIR="$dir" BT_INTERVAL="$iv" BT_DB_MODE="$NETDATA_DB_MODE" BT_RETENTION="$NETDATA_RETENTION" \
    BT_EXCLUDE_PATHS="$paths" BT_EXCLUDE_FSTYPES="$(xargs <<<"$FS_TYPES_EXCLUDE")" \
    bench_render "$PEER_DIR/netdata.conf.in" "$dir/netdata.conf"
  local cmd=("${PEER_BIN[netdata]}" -D -c "$dir/netdata.conf" -P "$dir/netdata.pid")
  "${cmd[@]}" >"$dir/netdata.out" 2>&1 &
  pid=$!
  bench_track_tree "$pid"
  res "${k}_cmd" "${cmd[*]}"
  # Collecting once it holds /proc/stat open (it keeps its proc files open and re-reads them).
  collecting() {
    local f
    alive "$pid" || return 0
    for f in /proc/"$pid"/fd/*; do [ "$(readlink "$f" 2>/dev/null)" = /proc/stat ] && return 0; done
    return 1
  }
  if ! bench_wait_for $((iv + 20)) collecting || ! alive "$pid"; then
    peer_failed netdata "$iv" "did not open /proc/stat within $((iv + 20)) s" "$dir/netdata.out"
    bench_stop_tree "$pid" 10; return 0
  fi
  warm="$(warmup_for "$iv")"
  bench_log "netdata pid $pid at ${iv} s: warm-up ${warm} s, measuring ${DURATION} s"
  sleep "$warm"
  win_start "$pid"
  sleep_until "$(bench_calc "$W_T0 + $DURATION")"
  win_end "$pid"
  if ! alive "$pid"; then peer_failed netdata "$iv" "exited during the window" "$dir/netdata.out"; return 0; fi
  record netdata "$iv" "$pid" "$(bench_calc "($W_T1 - $W_T0) / $iv")"
  # What it collects from: the /proc and /sys files it keeps open.
  res "${k}_open_files" "$(for p in $(bench_tree_pids "$pid"); do ls -l /proc/"$p"/fd 2>/dev/null; done |
    awk '$NF ~ /^\/(proc|sys)\// { sub(/^\/proc\/[0-9]+\//, "/proc/", $NF); print $NF }' | sort -u | xargs)"
  bench_stop_tree "$pid" 10
}

# --- Every interval: the floor throughout, each agent alone in turn.
for iv in $INTERVALS; do
  runs=$(( ${#MEASURED[@]} + (iv > 1 ? 1 : 0) ))  # accord_hb too, over 1 s
  floor_s=$(( runs * (DURATION + $(warmup_for "$iv") + 40) + 60 ))
  FLOOR_CMD=("$BUILD_DIR/bench/accord-bench-floor" --interval="${iv}s"
    --duration="$(( floor_s > 3600 ? 3600 : floor_s ))s")
  "${FLOOR_CMD[@]}" >"$BENCH_TMP/floor-$iv.out" 2>&1 &
  floor_pid=$!
  bench_track "$floor_pid"
  res "floor_i${iv}_cmd" "${FLOOR_CMD[*]}"
  sleep 1
  floor_t0="$(date +%s.%N)"; floor_s0="$(bench_cpu_sched "$floor_pid")"

  run_accord "$iv"
  if [ "$iv" -gt 1 ]; then run_accord "$iv" hb; fi
  for peer in "${MEASURED[@]:1}"; do
    "run_$peer" "$iv"
  done

  alive "$floor_pid" || bench_die "accord-bench-floor ended before the interval's runs did (duration too short)"
  floor_t1="$(date +%s.%N)"; floor_s1="$(bench_cpu_sched "$floor_pid")"
  bench_stop "$floor_pid" 2
  floor_cycles="$(bench_calc "($floor_t1 - $floor_t0) / $iv")"
  res "floor_i${iv}_cycles" "$floor_cycles"
  res "floor_i${iv}_cpu_ms_per_cycle" "$(bench_calc "($floor_s1 - $floor_s0) * 1000 / $floor_cycles")"
done

# --- The hot-loop floor.
bench_log "floor: agent_sampler_bench"
SAMPLER_BENCH_CMD=("$BUILD_DIR/bench/agent_sampler_bench" --benchmark_format=json
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
"${SAMPLER_BENCH_CMD[@]}" >"$BENCH_TMP/floor.json" 2>/dev/null
read -r floor_read_ns floor_collect_ns <<<"$(python3 - "$BENCH_TMP/floor.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pick = lambda n: next(b["cpu_time"] for b in d["benchmarks"] if b["name"] == n + "_median")
print(pick("BM_ReadFilesOnly"), pick("BM_SamplerCollect"))
EOF
)"
floor_ms="$(bench_calc "$floor_read_ns / 1e6")"
collect_ms="$(bench_calc "$floor_collect_ns / 1e6")"
res floor_read_ms "$floor_ms"
res sampler_collect_ms "$collect_ms"
res collect_over_floor "$(bench_calc "$collect_ms / $floor_ms")"
res cmd_sampler_bench "${SAMPLER_BENCH_CMD[*]}"

# --- Verdicts per interval.
for iv in $INTERVALS; do
  a="${RES[accord_i${iv}_cpu_ms_per_s]}"
  best="" best_peer=""
  for peer in "${MEASURED[@]:1}"; do
    v="${RES[${peer}_i${iv}_cpu_ms_per_s]:-}"
    [ -n "$v" ] || continue
    if [ -z "$best" ] || awk "BEGIN { exit !($v < $best) }"; then best="$v"; best_peer="$peer"; fi
  done
  if [ -n "$best" ]; then
    res "verdict_i${iv}_less_cpu_than_peers" "$(awk "BEGIN { print ($a < $best) ? 1 : 0 }")"
    res "verdict_i${iv}_cheapest_peer" "$best_peer"
  fi
  res "accord_i${iv}_cycle_over_floor" "$(bench_calc "${RES[accord_i${iv}_cpu_ms_per_cycle]} / ${RES[floor_i${iv}_cpu_ms_per_cycle]}")"
  res "verdict_i${iv}_cycle_within_2x_floor" "$(awk "BEGIN { print (${RES[accord_i${iv}_cycle_over_floor]} <= 2) ? 1 : 0 }")"
  res "verdict_i${iv}_rss_under_10mib" "$(awk "BEGIN { print (${RES[accord_i${iv}_rss_kib]} < 10240) ? 1 : 0 }")"
done

# --- The keys of the earlier agent-vs-node_exporter report, from the detail interval (the
# Targets and Commands sections of docs/benchmarks.md read them).
d="$DETAIL_IV"
res duration_s "${RES[accord_i${d}_duration_s]}"
res cmd_agent "${RES[accord_i${d}_cmd]}"
res cmd_floor "${RES[floor_i${d}_cmd]}"
for f in cycles samples_per_cycle threads cpu_ms_per_s cpu_ms_per_s_stat cpu_ms_per_cycle rss_kib \
         hwm_kib pss_kib anon_kib private_dirty_kib private_kib shared_clean_kib \
         wire_pb_bytes_per_sample wire_tcp_bytes_per_sample; do
  [ -n "${RES[accord_i${d}_$f]:-}" ] && res "agent_$f" "${RES[accord_i${d}_$f]}"
done
res floor_paced_ms_per_cycle "${RES[floor_i${d}_cpu_ms_per_cycle]}"
res agent_cycle_over_floor "${RES[accord_i${d}_cycle_over_floor]}"
res agent_cycle_over_hot_floor "$(bench_calc "${RES[accord_i${d}_cpu_ms_per_cycle]} / $floor_ms")"
if [ -n "${RES[node_exporter_i${d}_cpu_ms_per_s]:-}" ]; then
  ne="node_exporter_i$d"
  res cmd_node_exporter "${RES[${ne}_cmd]}"
  res cmd_scrape "${RES[${ne}_scrape]}"
  res ne_version "$("${PEER_BIN[node_exporter]}" --version 2>&1 | head -1 | sed -E 's/.*version ([^ ]+).*/\1/')"
  res ne_collectors "${NE_COLLECTORS[*]}"
  res ne_scrapes "${RES[${ne}_cycles]}"
  res ne_cpu_ms_per_scrape "${RES[${ne}_cpu_ms_per_cycle]}"
  for f in cpu_ms_per_s cpu_ms_per_s_stat rss_kib hwm_kib pss_kib anon_kib private_kib; do
    res "ne_$f" "${RES[${ne}_$f]}"
  done
  # Text exposition per sample: all families, and the families matching the agent's series.
  MATCH='^node_(cpu_seconds_total|context_switches_total|forks_total|procs_(running|blocked)|memory_(MemTotal|MemAvailable|MemFree|Buffers|Cached|SwapTotal|SwapFree)_bytes|load(1|5|15)|boot_time_seconds|filesystem_(size_bytes|free_bytes|avail_bytes|files|files_free)|disk_(reads_completed|writes_completed|read_bytes|written_bytes|io_time_seconds)_total|network_(receive|transmit)_(bytes|packets|errs|drop)_total)$'
  awk -v re="$MATCH" '
    /^# (HELP|TYPE) / { if ($3 ~ re) print; next }
    { name = $1; sub(/\{.*/, "", name); if (name ~ re) print }' "$BENCH_TMP/ne-$d.txt" >"$BENCH_TMP/ne-match.txt"
  ne_all_bytes="$(wc -c <"$BENCH_TMP/ne-$d.txt")"
  ne_all_samples="$(grep -vc '^#' "$BENCH_TMP/ne-$d.txt")"
  ne_match_bytes="$(wc -c <"$BENCH_TMP/ne-match.txt")"
  ne_match_samples="$(grep -vc '^#' "$BENCH_TMP/ne-match.txt")"
  res ne_samples_all "$ne_all_samples"
  res ne_samples_matched "$ne_match_samples"
  res ne_wire_text_all "$(bench_calc "$ne_all_bytes / $ne_all_samples")"
  res ne_wire_text_matched "$(bench_calc "$ne_match_bytes / $ne_match_samples")"
  res ne_wire_gzip_matched "$(bench_calc "$(gzip -c "$BENCH_TMP/ne-match.txt" | wc -c) / $ne_match_samples")"
  res ne_wire_gzip_scrape "${RES[${ne}_wire_gzip_scrape]}"
fi
[ -n "$BENCH_OUT" ] && sed 's/^/agent_map=/' "$BENCH_TMP/agent-maps.txt" >>"$BENCH_OUT"
[ -n "$BENCH_OUT" ] && sed 's/^/agent_thread=/' "$BENCH_TMP/agent-threads.txt" >>"$BENCH_OUT"

# --- Tables.
mib() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.2f", k / 1024 }'; }
f3() { awk -v v="$1" 'BEGIN { if (v == "") print "-"; else printf "%.3f", v }'; }
for iv in $INTERVALS; do
  printf '\nEvery %s s, each agent alone for %s s (CPU and memory over its whole process tree)\n\n' "$iv" "$DURATION"
  printf '%-14s %5s %8s %10s %10s %9s %9s %9s %9s %8s\n' agent procs threads "CPU ms/s" "ms/cycle" \
    "RSS MiB" "Pss MiB" "Anon MiB" "Priv MiB" samples
  for a in accord accord_hb "${MEASURED[@]:1}"; do
    k="${a}_i${iv}"
    if [ "$a" = accord_hb ] && [ -z "${RES[${k}_cpu_ms_per_s]:-}" ]; then continue; fi
    printf '%-14s %5s %8s %10s %10s %9s %9s %9s %9s %8s\n' "$a" "${RES[${k}_procs]:--}" \
      "${RES[${k}_threads]:--}" "$(f3 "${RES[${k}_cpu_ms_per_s]:-}")" \
      "$(f3 "${RES[${k}_cpu_ms_per_cycle]:-}")" "$(mib "${RES[${k}_rss_kib]:-}")" \
      "$(mib "${RES[${k}_pss_kib]:-}")" "$(mib "${RES[${k}_anon_kib]:-}")" \
      "$(mib "${RES[${k}_private_kib]:-}")" \
      "$(awk -v v="${RES[${k}_samples_per_cycle]:-}" 'BEGIN { if (v == "") print "-"; else printf "%.0f", v }')"
  done
  printf '%-14s %5s %8s %10s %10s\n' floor 1 1 "" "$(f3 "${RES[floor_i${iv}_cpu_ms_per_cycle]}")"
  yn() { case "${1:-}" in 1) echo met ;; 0) echo "NOT met" ;; *) echo "not measured" ;; esac; }
  printf '\n  less CPU than every peer: %s (cheapest peer: %s)\n' \
    "$(yn "${RES[verdict_i${iv}_less_cpu_than_peers]:-}")" "${RES[verdict_i${iv}_cheapest_peer]:-none}"
  printf '  RSS < 10 MiB: %s (%s MiB)\n' "$(yn "${RES[verdict_i${iv}_rss_under_10mib]}")" "$(mib "${RES[accord_i${iv}_rss_kib]}")"
  printf '  CPU per cycle <= 2x floor: %s (%.2fx)\n' "$(yn "${RES[verdict_i${iv}_cycle_within_2x_floor]}")" \
    "${RES[accord_i${iv}_cycle_over_floor]}"
done
for peer in $PEERS; do
  [ -n "${RES[${peer}_skipped]:-}" ] && printf '\nskipped %s: %s\n' "$peer" "${RES[${peer}_skipped]}"
  for iv in $INTERVALS; do
    [ -n "${RES[${peer}_i${iv}_failed]:-}" ] && printf '\n%s at %s s failed: %s\n' "$peer" "$iv" "${RES[${peer}_i${iv}_failed]}"
  done
done
printf '\nhot loop: BM_ReadFilesOnly %.3f ms; BM_SamplerCollect %.3f ms (%.2fx)\n' \
  "$floor_ms" "$collect_ms" "${RES[collect_over_floor]}"
printf '\naccord-agent at %s s: CPU ms per cycle by thread:\n' "$DETAIL_IV"; cat "$BENCH_TMP/agent-threads.txt"
printf '\naccord-agent RSS by mapping (largest):\n'; cat "$BENCH_TMP/agent-maps.txt"
printf '\nwire bytes per sample: accord protobuf %.2f, TCP %.2f' \
  "${RES[agent_wire_pb_bytes_per_sample]}" "${RES[agent_wire_tcp_bytes_per_sample]}"
[ -n "${RES[ne_wire_gzip_scrape]:-}" ] && printf '; node_exporter text %.1f (same kinds), gzip scrape %.2f' \
  "${RES[ne_wire_text_matched]}" "${RES[ne_wire_gzip_scrape]}"
[ -n "${RES[collectd_i${DETAIL_IV}_wire_bytes_per_sample]:-}" ] && printf '; collectd UDP %.2f' \
  "${RES[collectd_i${DETAIL_IV}_wire_bytes_per_sample]}"
printf '\n'
