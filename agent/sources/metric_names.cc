#include "agent/sources/metric_names.h"

namespace accord::agent::metrics {

absl::Span<const MetricInfo> AllHostMetrics() {
  static constexpr MetricKind G = MetricKind::kGauge;
  static constexpr MetricKind C = MetricKind::kCounter;
  static constexpr MetricInfo kAll[] = {
      {kCpuSecondsTotal, C, "Seconds each CPU spent in each mode."},
      {kCpuAggregateSecondsTotal, C, "Seconds all CPUs together spent in each mode."},
      {kBootTimeSeconds, G, "Boot time, seconds since the epoch."},
      {kContextSwitchesTotal, C, "Context switches since boot."},
      {kForksTotal, C, "Processes and threads created since boot."},
      {kProcsRunning, G, "Runnable threads."},
      {kProcsBlocked, G, "Threads blocked waiting for I/O."},
      {kMemoryTotalBytes, G, "Usable RAM (MemTotal)."},
      {kMemoryAvailableBytes, G, "Memory available for new work without swapping."},
      {kMemoryFreeBytes, G, "Unused RAM (MemFree)."},
      {kMemoryBuffersBytes, G, "Block device buffers (Buffers)."},
      {kMemoryCachedBytes, G, "Page cache (Cached)."},
      {kSwapTotalBytes, G, "Swap space."},
      {kSwapFreeBytes, G, "Unused swap space."},
      {kLoad1, G, "Load average over 1 minute."},
      {kLoad5, G, "Load average over 5 minutes."},
      {kLoad15, G, "Load average over 15 minutes."},
      {kUptimeSeconds, G, "Seconds since boot."},
      {kFilesystemSizeBytes, G, "Filesystem size."},
      {kFilesystemFreeBytes, G, "Free space, including space reserved for root."},
      {kFilesystemAvailBytes, G, "Space available to unprivileged users."},
      {kFilesystemFiles, G, "Inodes."},
      {kFilesystemFilesFree, G, "Free inodes."},
      {kDiskReadsCompletedTotal, C, "Reads completed."},
      {kDiskWritesCompletedTotal, C, "Writes completed."},
      {kDiskReadBytesTotal, C, "Bytes read."},
      {kDiskWrittenBytesTotal, C, "Bytes written."},
      {kDiskIoTimeSecondsTotal, C, "Seconds the device had I/O in flight."},
      {kNetworkReceiveBytesTotal, C, "Bytes received."},
      {kNetworkTransmitBytesTotal, C, "Bytes transmitted."},
      {kNetworkReceivePacketsTotal, C, "Packets received."},
      {kNetworkTransmitPacketsTotal, C, "Packets transmitted."},
      {kNetworkReceiveErrsTotal, C, "Receive errors."},
      {kNetworkTransmitErrsTotal, C, "Transmit errors."},
      {kNetworkReceiveDropTotal, C, "Received packets dropped."},
      {kNetworkTransmitDropTotal, C, "Transmitted packets dropped."},
      {kNetworkSpeedBytes, G, "Link speed in bytes per second."},
  };
  return kAll;
}

absl::Span<const MetricInfo> AllTextfileMetrics() {
  static constexpr MetricInfo kAll[] = {
      {kTextfileMtimeSeconds, MetricKind::kGauge,
       "Modification time of each textfile applied this cycle, seconds since the epoch."},
      {kTextfileScrapeError, MetricKind::kGauge,
       "1 if the textfile directory or any textfile failed this cycle, else 0."},
      {kTextfileErrorsTotal, MetricKind::kCounter,
       "Textfiles skipped and directory listings failed since the agent started."},
  };
  return kAll;
}

}  // namespace accord::agent::metrics
