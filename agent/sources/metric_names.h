// Every metric accord::agent_sources produces, declared in one place (STYLE rule 16).
//
// Names are final Prometheus names; the collector adds the `host` label. Labels listed here
// are those the Sampler attaches, sorted by name. Thread-safe (constants only).
#ifndef ACCORD_AGENT_SOURCES_METRIC_NAMES_H_
#define ACCORD_AGENT_SOURCES_METRIC_NAMES_H_

#include "absl/types/span.h"
#include "agent/sources/sample.h"

namespace accord::agent::metrics {

// /proc/stat. CPU modes: user nice system idle iowait irq softirq steal.
inline constexpr char kCpuSecondsTotal[] = "accord_host_cpu_seconds_total";  // {cpu, mode}
inline constexpr char kCpuAggregateSecondsTotal[] =
    "accord_host_cpu_aggregate_seconds_total";  // {mode}
inline constexpr char kBootTimeSeconds[] = "accord_host_boot_time_seconds";
inline constexpr char kContextSwitchesTotal[] = "accord_host_context_switches_total";
inline constexpr char kForksTotal[] = "accord_host_forks_total";
inline constexpr char kProcsRunning[] = "accord_host_procs_running";
inline constexpr char kProcsBlocked[] = "accord_host_procs_blocked";

// /proc/meminfo.
inline constexpr char kMemoryTotalBytes[] = "accord_host_memory_total_bytes";
inline constexpr char kMemoryAvailableBytes[] = "accord_host_memory_available_bytes";
inline constexpr char kMemoryFreeBytes[] = "accord_host_memory_free_bytes";
inline constexpr char kMemoryBuffersBytes[] = "accord_host_memory_buffers_bytes";
inline constexpr char kMemoryCachedBytes[] = "accord_host_memory_cached_bytes";
inline constexpr char kSwapTotalBytes[] = "accord_host_swap_total_bytes";
inline constexpr char kSwapFreeBytes[] = "accord_host_swap_free_bytes";

// /proc/loadavg and /proc/uptime.
inline constexpr char kLoad1[] = "accord_host_load1";
inline constexpr char kLoad5[] = "accord_host_load5";
inline constexpr char kLoad15[] = "accord_host_load15";
inline constexpr char kUptimeSeconds[] = "accord_host_uptime_seconds";

// Mounts + statvfs. Labels {device, fstype, mountpoint}.
inline constexpr char kFilesystemSizeBytes[] = "accord_host_filesystem_size_bytes";
inline constexpr char kFilesystemFreeBytes[] = "accord_host_filesystem_free_bytes";
inline constexpr char kFilesystemAvailBytes[] = "accord_host_filesystem_avail_bytes";
inline constexpr char kFilesystemFiles[] = "accord_host_filesystem_files";
inline constexpr char kFilesystemFilesFree[] = "accord_host_filesystem_files_free";

// /proc/diskstats. Label {device}.
inline constexpr char kDiskReadsCompletedTotal[] = "accord_host_disk_reads_completed_total";
inline constexpr char kDiskWritesCompletedTotal[] = "accord_host_disk_writes_completed_total";
inline constexpr char kDiskReadBytesTotal[] = "accord_host_disk_read_bytes_total";
inline constexpr char kDiskWrittenBytesTotal[] = "accord_host_disk_written_bytes_total";
inline constexpr char kDiskIoTimeSecondsTotal[] = "accord_host_disk_io_time_seconds_total";

// /proc/net/dev and /sys/class/net/<dev>/speed. Label {device}.
inline constexpr char kNetworkReceiveBytesTotal[] = "accord_host_network_receive_bytes_total";
inline constexpr char kNetworkTransmitBytesTotal[] = "accord_host_network_transmit_bytes_total";
inline constexpr char kNetworkReceivePacketsTotal[] = "accord_host_network_receive_packets_total";
inline constexpr char kNetworkTransmitPacketsTotal[] = "accord_host_network_transmit_packets_total";
inline constexpr char kNetworkReceiveErrsTotal[] = "accord_host_network_receive_errs_total";
inline constexpr char kNetworkTransmitErrsTotal[] = "accord_host_network_transmit_errs_total";
inline constexpr char kNetworkReceiveDropTotal[] = "accord_host_network_receive_drop_total";
inline constexpr char kNetworkTransmitDropTotal[] = "accord_host_network_transmit_drop_total";
inline constexpr char kNetworkSpeedBytes[] = "accord_host_network_speed_bytes";  // bytes/s

// Textfile directory (textfile.h): the agent's own view of the custom series it reads.
inline constexpr char kTextfileMtimeSeconds[] =
    "accord_agent_textfile_mtime_seconds";  // {file}, per file applied this cycle
inline constexpr char kTextfileScrapeError[] = "accord_agent_textfile_scrape_error";
inline constexpr char kTextfileErrorsTotal[] = "accord_agent_textfile_errors_total";

// Name, kind and HELP text of one metric.
struct MetricInfo {
  const char* name;
  MetricKind kind;
  const char* help;
};

// All metrics above, for the collector's HELP/TYPE lines and for tests.
absl::Span<const MetricInfo> AllHostMetrics();

// The textfile source's own metrics above (sent only when the textfile directory is set).
absl::Span<const MetricInfo> AllTextfileMetrics();

}  // namespace accord::agent::metrics

#endif  // ACCORD_AGENT_SOURCES_METRIC_NAMES_H_
