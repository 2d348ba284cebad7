#include "agent/sources/sampler.h"

#include <unistd.h>

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "agent/sources/disk_filter.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/metric_names.h"
#include "agent/sources/mounts.h"
#include "agent/sources/proc_parsers.h"
#include "agent/sources/textfile.h"
#include "common/logging.h"
#include "common/utf8.h"

namespace accord::agent {
namespace {

namespace m = metrics;

constexpr MetricKind kGauge = MetricKind::kGauge;
constexpr MetricKind kCounter = MetricKind::kCounter;

enum Source : int {
  kSourceStat = 0,
  kSourceMeminfo,
  kSourceLoadavg,
  kSourceUptime,
  kSourceFilesystems,
  kSourceDiskstats,
  kSourceNetDev,
  kNumSources,
};

constexpr const char* kSourceNames[kNumSources] = {"proc_stat",   "meminfo",   "loadavg", "uptime",
                                                   "filesystems", "diskstats", "net_dev"};

// Appends a sample without labels; the caller appends labels sorted by name.
Sample& Add(std::vector<Sample>* out, absl::string_view name, MetricKind kind, double value) {
  Sample& s = out->emplace_back();
  s.name.assign(name.data(), name.size());
  s.kind = kind;
  s.value = value;
  return s;
}

// `value` comes from the host (a mount point, an interface or disk name) and may be any bytes:
// it is made valid UTF-8 here (ToValidUtf8), or the collector could not parse the batch that
// describes the series. The parsed value itself stays raw, as the path statvfs and /sys need.
void Label(Sample& s, absl::string_view name, absl::string_view value) {
  s.labels.emplace_back(std::piecewise_construct, std::forward_as_tuple(name.data(), name.size()),
                        std::forward_as_tuple(ToValidUtf8(value)));
}

void AddCpuModes(std::vector<Sample>* out, absl::string_view name, const std::string* cpu,
                 const CpuTimes& t) {
  const std::pair<const char*, double> modes[] = {
      {"user", t.user},     {"nice", t.nice}, {"system", t.system},   {"idle", t.idle},
      {"iowait", t.iowait}, {"irq", t.irq},   {"softirq", t.softirq}, {"steal", t.steal}};
  for (const auto& [mode, seconds] : modes) {
    Sample& s = Add(out, name, kCounter, seconds);
    s.labels.reserve(cpu != nullptr ? 2 : 1);
    if (cpu != nullptr) Label(s, "cpu", *cpu);
    Label(s, "mode", mode);
  }
}

// Interface speed files kept open between cycles, at most (see Sampler::Impl::speed_files).
constexpr size_t kMaxOpenSpeedFiles = 64;

// A /proc/net/dev name safe to put in a /sys path (the kernel forbids '/' anyway).
bool SafePathComponent(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == absl::string_view::npos;
}

}  // namespace

struct Sampler::Impl {
  Impl(SamplerOptions o, FsStatter& s)
      : options(std::move(o)),
        statter(s),
        stat_file(options.procfs + "/stat"),
        meminfo_file(options.procfs + "/meminfo"),
        loadavg_file(options.procfs + "/loadavg"),
        uptime_file(options.procfs + "/uptime"),
        mounts_file(options.procfs + "/1/mounts"),
        mounts_fallback_file(options.procfs + "/mounts"),
        diskstats_file(options.procfs + "/diskstats"),
        netdev_file(options.procfs + "/net/dev"),
        net_class_dir(options.sysfs + "/class/net/") {
    user_hz = options.user_hz > 0 ? options.user_hz : ::sysconf(_SC_CLK_TCK);
    if (user_hz <= 0) user_hz = 100;  // Linux's USER_HZ on every architecture.
    if (!options.textfile.directory.empty()) {
      textfile = std::make_unique<TextfileSource>(options.textfile);
    }
  }

  // Logs a source's failure once per distinct error, and its recovery.
  void Report(Source source, const absl::Status& status, SamplerStats* stats) {
    std::string& last = last_error[source];
    if (status.ok()) {
      if (!last.empty()) {
        Log(LogLevel::kInfo, "host source recovered", {{"source", kSourceNames[source]}});
        last.clear();
      }
      return;
    }
    ++stats->source_errors;
    std::string text = status.ToString();
    if (text != last) {
      Log(LogLevel::kWarn, "host source skipped",
          {{"source", kSourceNames[source]}, {"error", text}});
      last = std::move(text);
    }
  }

  absl::Status CollectStat(std::vector<Sample>* out) {
    absl::Status status = stat_file.Read(&buf);
    if (!status.ok()) return status;
    absl::StatusOr<ProcStat> stat = ParseProcStat(buf, user_hz);
    if (!stat.ok()) return stat.status();
    for (const CoreCpuTimes& core : stat->cores) {
      AddCpuModes(out, m::kCpuSecondsTotal, &core.cpu, core.times);
    }
    AddCpuModes(out, m::kCpuAggregateSecondsTotal, nullptr, stat->total);
    Add(out, m::kBootTimeSeconds, kGauge, static_cast<double>(stat->boot_time_seconds));
    Add(out, m::kContextSwitchesTotal, kCounter, static_cast<double>(stat->context_switches));
    Add(out, m::kForksTotal, kCounter, static_cast<double>(stat->forks));
    Add(out, m::kProcsRunning, kGauge, static_cast<double>(stat->procs_running));
    Add(out, m::kProcsBlocked, kGauge, static_cast<double>(stat->procs_blocked));
    return absl::OkStatus();
  }

  absl::Status CollectMeminfo(std::vector<Sample>* out) {
    absl::Status status = meminfo_file.Read(&buf);
    if (!status.ok()) return status;
    absl::StatusOr<MemInfo> mem = ParseMeminfo(buf);
    if (!mem.ok()) return mem.status();
    Add(out, m::kMemoryTotalBytes, kGauge, static_cast<double>(mem->total_bytes));
    Add(out, m::kMemoryAvailableBytes, kGauge, static_cast<double>(mem->available_bytes));
    Add(out, m::kMemoryFreeBytes, kGauge, static_cast<double>(mem->free_bytes));
    Add(out, m::kMemoryBuffersBytes, kGauge, static_cast<double>(mem->buffers_bytes));
    Add(out, m::kMemoryCachedBytes, kGauge, static_cast<double>(mem->cached_bytes));
    Add(out, m::kSwapTotalBytes, kGauge, static_cast<double>(mem->swap_total_bytes));
    Add(out, m::kSwapFreeBytes, kGauge, static_cast<double>(mem->swap_free_bytes));
    return absl::OkStatus();
  }

  absl::Status CollectLoadavg(std::vector<Sample>* out) {
    absl::Status status = loadavg_file.Read(&buf);
    if (!status.ok()) return status;
    absl::StatusOr<LoadAvg> load = ParseLoadavg(buf);
    if (!load.ok()) return load.status();
    Add(out, m::kLoad1, kGauge, load->load1);
    Add(out, m::kLoad5, kGauge, load->load5);
    Add(out, m::kLoad15, kGauge, load->load15);
    return absl::OkStatus();
  }

  absl::Status CollectUptime(std::vector<Sample>* out) {
    absl::Status status = uptime_file.Read(&buf);
    if (!status.ok()) return status;
    absl::StatusOr<double> uptime = ParseUptime(buf);
    if (!uptime.ok()) return uptime.status();
    Add(out, m::kUptimeSeconds, kGauge, *uptime);
    return absl::OkStatus();
  }

  // Reads and parses the mount table into selected_mounts; on success mounts_source is the
  // file it came from.
  absl::Status ReadMountTable() {
    // /proc/1/mounts is init's view (the host's, when the agent runs in a container with
    // the host's /proc); it is unreadable without privileges on some hosts.
    RereadableFile* source = &mounts_file;
    absl::Status status = mounts_file.Read(&buf);
    if (!status.ok()) {
      source = &mounts_fallback_file;
      absl::Status fallback = mounts_fallback_file.Read(&buf);
      if (!fallback.ok()) {
        return absl::Status(fallback.code(),
                            absl::StrCat(status.message(), "; ", fallback.message()));
      }
    }
    absl::StatusOr<std::vector<MountEntry>> mounts = ParseMounts(buf);
    if (!mounts.ok()) return mounts.status();
    selected_mounts =
        SelectMounts(*std::move(mounts), options.fs_types_exclude, options.mount_points_exclude);
    mounts_source = source;
    return absl::OkStatus();
  }

  absl::Status CollectFilesystems(std::vector<Sample>* out, SamplerStats* stats) {
    // The mount table is read and parsed again only when the kernel says it changed (or
    // cannot say: a fixture tree). Generating /proc/1/mounts is the costliest read of a cycle
    // on a host with many mounts (17.8 us of ~45 us here with 21), and it rarely changes.
    if (mounts_source == nullptr || !mounts_source->MountTableUnchanged()) {
      mounts_source = nullptr;
      absl::Status status = ReadMountTable();
      if (!status.ok()) return status;
      ++stats->mount_table_reads;
    }

    absl::flat_hash_map<std::string, std::string> failing;  // this cycle's statvfs errors
    for (const MountEntry& mount : selected_mounts) {
      absl::StatusOr<FsStats> fs = statter.Stat(JoinRootfs(options.rootfs, mount.mount_point));
      if (!fs.ok()) {
        ++stats->fs_stat_errors;
        std::string text = fs.status().ToString();
        auto it = fs_last_error.find(mount.mount_point);
        if (it == fs_last_error.end() || it->second != text) {
          Log(LogLevel::kWarn, "filesystem skipped",
              {{"mountpoint", mount.mount_point}, {"error", text}});
        }
        failing.emplace(mount.mount_point, std::move(text));
        continue;
      }
      const std::pair<const char*, uint64_t> values[] = {
          {m::kFilesystemSizeBytes, fs->size_bytes},
          {m::kFilesystemFreeBytes, fs->free_bytes},
          {m::kFilesystemAvailBytes, fs->avail_bytes},
          {m::kFilesystemFiles, fs->files},
          {m::kFilesystemFilesFree, fs->files_free}};
      for (const auto& [name, value] : values) {
        Sample& s = Add(out, name, kGauge, static_cast<double>(value));
        s.labels.reserve(3);
        Label(s, "device", mount.device);
        Label(s, "fstype", mount.fs_type);
        Label(s, "mountpoint", mount.mount_point);
      }
    }
    // Keep only current failures, so the map stays bounded by the mount table.
    fs_last_error.swap(failing);
    return absl::OkStatus();
  }

  absl::Status CollectDiskstats(std::vector<Sample>* out) {
    absl::Status status = diskstats_file.Read(&buf);
    if (!status.ok()) return status;
    absl::StatusOr<std::vector<DiskStats>> disks = ParseDiskstats(buf);
    if (!disks.ok()) return disks.status();
    constexpr double kSectorBytes = 512;  // diskstats sectors, whatever the device's size
    for (const DiskStats& d : *disks) {
      if (IsExcludedDisk(d.device, options.disk_partitions)) continue;
      const std::pair<const char*, double> values[] = {
          {m::kDiskReadsCompletedTotal, static_cast<double>(d.reads_completed)},
          {m::kDiskWritesCompletedTotal, static_cast<double>(d.writes_completed)},
          {m::kDiskReadBytesTotal, static_cast<double>(d.sectors_read) * kSectorBytes},
          {m::kDiskWrittenBytesTotal, static_cast<double>(d.sectors_written) * kSectorBytes},
          {m::kDiskIoTimeSecondsTotal, static_cast<double>(d.io_time_ms) / 1000.0}};
      for (const auto& [name, value] : values) {
        Label(Add(out, name, kCounter, value), "device", d.device);
      }
    }
    return absl::OkStatus();
  }

  absl::Status CollectNetDev(std::vector<Sample>* out) {
    absl::Status status = netdev_file.Read(&buf);
    if (!status.ok()) return status;
    absl::StatusOr<std::vector<NetDevStats>> devices = ParseNetDev(buf);
    if (!devices.ok()) return devices.status();
    for (auto& [device, speed] : speed_files) speed.seen = false;
    for (const NetDevStats& d : *devices) {
      bool excluded = false;
      for (const std::string& name : options.net_devices_exclude) {
        if (d.device == name) {
          excluded = true;
          break;
        }
      }
      if (excluded) continue;
      const std::pair<const char*, uint64_t> values[] = {
          {m::kNetworkReceiveBytesTotal, d.receive_bytes},
          {m::kNetworkTransmitBytesTotal, d.transmit_bytes},
          {m::kNetworkReceivePacketsTotal, d.receive_packets},
          {m::kNetworkTransmitPacketsTotal, d.transmit_packets},
          {m::kNetworkReceiveErrsTotal, d.receive_errs},
          {m::kNetworkTransmitErrsTotal, d.transmit_errs},
          {m::kNetworkReceiveDropTotal, d.receive_drop},
          {m::kNetworkTransmitDropTotal, d.transmit_drop}};
      for (const auto& [name, value] : values) {
        Label(Add(out, name, kCounter, static_cast<double>(value)), "device", d.device);
      }
      // Speed is optional: virtual devices have no speed file, or fail reading it (EINVAL),
      // or report -1 when the link is down. None of that is an error.
      if (!SafePathComponent(d.device)) continue;
      auto speed = speed_files.find(d.device);
      if (speed == speed_files.end() && speed_files.size() < kMaxOpenSpeedFiles) {
        speed = speed_files.try_emplace(d.device, absl::StrCat(net_class_dir, d.device, "/speed"))
                    .first;
      }
      absl::Status read;
      if (speed != speed_files.end()) {
        speed->second.seen = true;
        read = speed->second.file.Read(&speed_buf, 64);
      } else {
        path_buf.assign(net_class_dir);
        path_buf.append(d.device);
        path_buf.append("/speed");
        read = ReadFileToString(path_buf, &speed_buf, 64);
      }
      if (!read.ok()) continue;
      absl::StatusOr<int64_t> mbps = ParseNetSpeedMbps(speed_buf);
      if (!mbps.ok() || *mbps <= 0) continue;
      Label(Add(out, m::kNetworkSpeedBytes, kGauge, static_cast<double>(*mbps) * 1e6 / 8), "device",
            d.device);
    }
    // Interfaces gone from /proc/net/dev: close their files (the map stays bounded).
    absl::erase_if(speed_files, [](const auto& entry) { return !entry.second.seen; });
    return absl::OkStatus();
  }

  const SamplerOptions options;
  FsStatter& statter;
  int64_t user_hz = 100;
  // The files read every cycle (kept open on procfs and sysfs).
  RereadableFile stat_file;
  RereadableFile meminfo_file;
  RereadableFile loadavg_file;
  RereadableFile uptime_file;
  RereadableFile mounts_file;
  RereadableFile mounts_fallback_file;
  std::vector<MountEntry> selected_mounts;  // the filesystems sampled, from the mount table
  RereadableFile* mounts_source = nullptr;  // where selected_mounts was read; null: read again
  RereadableFile diskstats_file;
  RereadableFile netdev_file;
  const std::string net_class_dir;  // ends with '/'
  // Reused across cycles so steady-state reads do not allocate.
  std::string buf;
  std::string speed_buf;
  std::string path_buf;
  // {sysfs}/class/net/<device>/speed of the interfaces in the last /proc/net/dev read, at
  // most kMaxOpenSpeedFiles of them (a host with thousands of veth interfaces must not use
  // up the agent's descriptors); the speed of any other interface is read afresh each cycle.
  struct SpeedFile {
    explicit SpeedFile(std::string path) : file(std::move(path)) {}
    RereadableFile file;
    bool seen = false;  // listed in this cycle's /proc/net/dev
  };
  absl::flat_hash_map<std::string, SpeedFile> speed_files;
  // Last logged error per source ("" = healthy), and per failing mount point.
  std::string last_error[kNumSources];
  absl::flat_hash_map<std::string, std::string> fs_last_error;
  // Null while the textfile directory is not set.
  std::unique_ptr<TextfileSource> textfile;
  // Samples of the previous cycle, to reserve the output once.
  size_t last_samples = 0;
};

Sampler::Sampler(SamplerOptions options, FsStatter& statter)
    : impl_(std::make_unique<Impl>(std::move(options), statter)) {}

Sampler::~Sampler() = default;

SamplerStats Sampler::Collect(std::vector<Sample>* out) {
  const size_t start = out->size();
  out->reserve(start + impl_->last_samples);
  SamplerStats stats;
  Impl& impl = *impl_;
  impl.Report(kSourceStat, impl.CollectStat(out), &stats);
  impl.Report(kSourceMeminfo, impl.CollectMeminfo(out), &stats);
  impl.Report(kSourceLoadavg, impl.CollectLoadavg(out), &stats);
  impl.Report(kSourceUptime, impl.CollectUptime(out), &stats);
  impl.Report(kSourceFilesystems, impl.CollectFilesystems(out, &stats), &stats);
  impl.Report(kSourceDiskstats, impl.CollectDiskstats(out), &stats);
  impl.Report(kSourceNetDev, impl.CollectNetDev(out), &stats);
  if (impl.textfile != nullptr) stats.textfile = impl.textfile->Collect(out);
  stats.samples = out->size() - start;
  impl.last_samples = stats.samples;
  return stats;
}

absl::StatusOr<int64_t> Sampler::BootTimeSeconds() {
  absl::Status status = impl_->stat_file.Read(&impl_->buf);
  if (!status.ok()) return status;
  absl::StatusOr<ProcStat> stat = ParseProcStat(impl_->buf, impl_->user_hz);
  if (!stat.ok()) return stat.status();
  return stat->boot_time_seconds;
}

}  // namespace accord::agent
