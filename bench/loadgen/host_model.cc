#include "bench/loadgen/host_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "agent/sources/metric_names.h"

namespace accord::bench {
namespace {

namespace m = accord::agent::metrics;

constexpr int kModes = 8;
constexpr const char* kModeNames[kModes] = {"user",   "nice", "system",  "idle",
                                            "iowait", "irq",  "softirq", "steal"};
// Share of busy time per mode (idle excluded; it is the rest).
constexpr double kBusyShare[kModes] = {0.62, 0.02, 0.22, 0, 0.05, 0.01, 0.06, 0.02};

struct FsName {
  const char* device;
  const char* fstype;
  const char* mountpoint;
};
constexpr FsName kFilesystems[] = {
    {"/dev/sda1", "ext4", "/"},      {"/dev/sda2", "ext4", "/var"},
    {"/dev/sdb1", "xfs", "/data"},   {"/dev/sda3", "ext4", "/home"},
    {"/dev/sdc1", "xfs", "/srv"},    {"/dev/sdd1", "ext4", "/var/lib/docker"},
    {"/dev/sde1", "xfs", "/backup"}, {"/dev/sdf1", "ext4", "/opt"},
};
constexpr const char* kDisks[] = {"sda", "sdb", "sdc", "sdd", "sde", "sdf", "sdg", "sdh"};
constexpr const char* kInterfaces[] = {"eth0", "eth1", "eth2", "eth3",
                                       "eth4", "eth5", "eth6", "eth7"};

// The agent's own health series (agent/agent.cc), in the order it sends them.
struct SelfSeries {
  const char* name;
  bool counter;
};
constexpr SelfSeries kSelf[] = {
    {"accord_agent_samples_produced_total", true}, {"accord_agent_samples_sent_total", true},
    {"accord_agent_samples_dropped_total", true},  {"accord_agent_reconnects_total", true},
    {"accord_agent_buffer_bytes", false},          {"accord_agent_buffer_batches", false},
    {"accord_agent_cycle_seconds", false},         {"accord_agent_cpu_seconds_total", true},
    {"accord_agent_resident_memory_bytes", false}, {"accord_agent_private_memory_bytes", false},
};

constexpr double kGiB = 1024.0 * 1024 * 1024;

HostShape Clamped(HostShape s) {
  s.cpus = std::clamp(s.cpus, 1, 1024);
  s.filesystems = std::clamp(s.filesystems, 0, 8);
  s.disks = std::clamp(s.disks, 0, 8);
  s.interfaces = std::clamp(s.interfaces, 0, 8);
  return s;
}

// Counters in /proc have fixed resolution: CPU seconds in USER_HZ ticks, bytes in sectors.
double Floor(double v, double step) { return std::floor(v / step) * step; }

}  // namespace

size_t HostModel::SeriesCount(const HostShape& shape) {
  HostShape s = Clamped(shape);
  return static_cast<size_t>(s.cpus) * kModes + kModes + 4 + 7 + 4 + s.filesystems * 5 +
         s.disks * 5 + s.interfaces * 9 + (s.agent_self_series ? std::size(kSelf) : 0);
}

HostModel::HostModel(const HostShape& shape, uint64_t seed)
    : shape_(Clamped(shape)), rng_(seed * 0x9E3779B97F4A7C15ull + 1) {
  // Series, in the order of the agent's Sampler (accord_host_boot_time_seconds travels in the
  // Hello instead).
  auto add = [this](const char* name, bool counter,
                    std::vector<std::pair<std::string, std::string>> labels = {}) {
    series_.push_back({name, std::move(labels), counter});
  };
  for (int c = 0; c < shape_.cpus; ++c) {
    for (const char* mode : kModeNames) {
      add(m::kCpuSecondsTotal, true, {{"cpu", absl::StrCat(c)}, {"mode", mode}});
    }
  }
  for (const char* mode : kModeNames) add(m::kCpuAggregateSecondsTotal, true, {{"mode", mode}});
  add(m::kContextSwitchesTotal, true);
  add(m::kForksTotal, true);
  add(m::kProcsRunning, false);
  add(m::kProcsBlocked, false);
  add(m::kMemoryTotalBytes, false);
  add(m::kMemoryAvailableBytes, false);
  add(m::kMemoryFreeBytes, false);
  add(m::kMemoryBuffersBytes, false);
  add(m::kMemoryCachedBytes, false);
  add(m::kSwapTotalBytes, false);
  add(m::kSwapFreeBytes, false);
  add(m::kLoad1, false);
  add(m::kLoad5, false);
  add(m::kLoad15, false);
  add(m::kUptimeSeconds, false);
  for (int i = 0; i < shape_.filesystems; ++i) {
    const FsName& f = kFilesystems[i];
    for (const char* name :
         {m::kFilesystemSizeBytes, m::kFilesystemFreeBytes, m::kFilesystemAvailBytes,
          m::kFilesystemFiles, m::kFilesystemFilesFree}) {
      add(name, false, {{"device", f.device}, {"fstype", f.fstype}, {"mountpoint", f.mountpoint}});
    }
  }
  for (int i = 0; i < shape_.disks; ++i) {
    for (const char* name :
         {m::kDiskReadsCompletedTotal, m::kDiskWritesCompletedTotal, m::kDiskReadBytesTotal,
          m::kDiskWrittenBytesTotal, m::kDiskIoTimeSecondsTotal}) {
      add(name, true, {{"device", kDisks[i]}});
    }
  }
  for (int i = 0; i < shape_.interfaces; ++i) {
    for (const char* name : {m::kNetworkReceiveBytesTotal, m::kNetworkTransmitBytesTotal,
                             m::kNetworkReceivePacketsTotal, m::kNetworkTransmitPacketsTotal,
                             m::kNetworkReceiveErrsTotal, m::kNetworkTransmitErrsTotal,
                             m::kNetworkReceiveDropTotal, m::kNetworkTransmitDropTotal}) {
      add(name, true, {{"device", kInterfaces[i]}});
    }
    add(m::kNetworkSpeedBytes, false, {{"device", kInterfaces[i]}});
  }
  if (shape_.agent_self_series) {
    for (const SelfSeries& s : kSelf) add(s.name, s.counter);
  }

  // This host's profile: how old, how busy, how big.
  uptime_ = Uniform(3600, 90 * 86400.0);
  boot_time_seconds_ = 1767225600 - static_cast<int64_t>(uptime_);  // 2026-01-01Z - uptime
  busy_ratio_ = Uniform(0.02, 0.6);
  cpu_.assign(shape_.cpus, std::vector<double>(kModes, 0));
  for (auto& modes : cpu_) {
    for (int k = 0; k < kModes; ++k) {
      double share = k == 3 ? (1 - busy_ratio_) : busy_ratio_ * kBusyShare[k];
      modes[k] = uptime_ * share * Noise(0.2);
    }
  }
  ctx_rate_ = Uniform(500, 20000) * shape_.cpus;
  fork_rate_ = Uniform(1, 50);
  context_switches_ = ctx_rate_ * uptime_;
  forks_ = fork_rate_ * uptime_;
  mem_total_ = std::pow(2.0, std::uniform_int_distribution<int>(2, 6)(rng_)) * kGiB;
  mem_available_ = mem_total_ * Uniform(0.3, 0.9);
  swap_total_ = std::uniform_int_distribution<int>(0, 1)(rng_) * 2 * kGiB;
  swap_free_ = swap_total_ * Uniform(0.8, 1);
  load1_ = load5_ = load15_ = busy_ratio_ * shape_.cpus;
  for (int i = 0; i < shape_.filesystems; ++i) {
    double size = std::pow(2.0, std::uniform_int_distribution<int>(4, 11)(rng_)) * kGiB;
    fs_.push_back({size, size * Uniform(0.1, 0.8), size / 16384, 0, Uniform(0, 200000)});
    fs_.back().files_free = fs_.back().files * Uniform(0.5, 0.99);
  }
  for (int i = 0; i < shape_.disks; ++i) {
    double iops = Uniform(1, 300);
    disks_.push_back({iops * uptime_ * 0.4, iops * uptime_ * 0.6, iops * uptime_ * 0.4 * 16384,
                      iops * uptime_ * 0.6 * 8192, uptime_ * busy_ratio_ * 0.1, iops});
  }
  for (int i = 0; i < shape_.interfaces; ++i) {
    double rate = i == 0 ? Uniform(1e4, 5e7) : Uniform(1e2, 1e6);  // bytes/s
    double speed = (i == 0 ? 10e9 : 1e9) / 8;
    nics_.push_back({rate * uptime_, rate * uptime_ * 0.7, rate * uptime_ / 900,
                     rate * uptime_ / 1100, 0, 0, std::floor(Uniform(0, 100)), 0, speed, rate});
  }
  agent_rss_ = Uniform(7, 9) * 1024 * 1024;
  agent_private_ = Uniform(1.5, 2.5) * 1024 * 1024;
}

double HostModel::Uniform(double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng_);
}

double HostModel::Noise(double spread) { return Uniform(1 - spread, 1 + spread); }

void HostModel::Advance(absl::Duration elapsed, std::vector<double>* values) {
  const double dt = std::max(0.0, absl::ToDoubleSeconds(elapsed));
  values->resize(series_.size());
  size_t i = 0;
  auto put = [&](double v) { (*values)[i++] = v; };

  uptime_ += dt;
  // CPU: each core's busy share wanders around the host's average.
  std::vector<double> aggregate(kModes, 0);
  double busy_now = 0;
  for (auto& modes : cpu_) {
    double busy = std::clamp(busy_ratio_ * Noise(0.6), 0.0, 1.0);
    busy_now += busy;
    for (int k = 0; k < kModes; ++k) {
      double share = k == 3 ? (1 - busy) : busy * kBusyShare[k];
      modes[k] += dt * share;
      aggregate[k] += modes[k];
      put(Floor(modes[k], 0.01));
    }
  }
  for (int k = 0; k < kModes; ++k) put(Floor(aggregate[k], 0.01));
  context_switches_ += dt * ctx_rate_ * Noise(0.3);
  forks_ += dt * fork_rate_ * Noise(0.5);
  procs_running_ = std::max(1.0, std::round(busy_now * Noise(0.5)));
  procs_blocked_ = std::uniform_int_distribution<int>(0, 9)(rng_) == 0 ? 1 : 0;
  put(std::floor(context_switches_));
  put(std::floor(forks_));
  put(procs_running_);
  put(procs_blocked_);

  // Memory: available wanders between 10% and 95% of total.
  mem_available_ = std::clamp(mem_available_ + mem_total_ * Uniform(-0.002, 0.002),
                              mem_total_ * 0.1, mem_total_ * 0.95);
  cached_ = mem_available_ * 0.6;
  buffers_ = mem_available_ * 0.03;
  mem_free_ = mem_available_ - cached_ - buffers_ * 0.5;
  auto kib = [](double bytes) { return Floor(bytes, 1024); };  // meminfo is in kB
  put(kib(mem_total_));
  put(kib(mem_available_));
  put(kib(mem_free_));
  put(kib(buffers_));
  put(kib(cached_));
  put(kib(swap_total_));
  put(kib(swap_free_));

  // Load: exponentially smoothed runnable count, as the kernel does.
  double runnable = procs_running_ + procs_blocked_;
  load1_ += (runnable - load1_) * (1 - std::exp(-dt / 60));
  load5_ += (runnable - load5_) * (1 - std::exp(-dt / 300));
  load15_ += (runnable - load15_) * (1 - std::exp(-dt / 900));
  put(std::round(load1_ * 100) / 100);
  put(std::round(load5_ * 100) / 100);
  put(std::round(load15_ * 100) / 100);
  put(std::round(uptime_ * 100) / 100);

  for (Fs& f : fs_) {
    double written = dt * f.fill_rate * Noise(1);
    f.free = std::clamp(f.free - written + dt * f.fill_rate * 0.98, f.size * 0.01, f.size);
    f.files_free = std::clamp(f.files_free - written / 65536, 0.0, f.files);
    put(Floor(f.size, 4096));
    put(Floor(f.free, 4096));
    put(Floor(std::max(0.0, f.free - f.size * 0.05), 4096));
    put(std::floor(f.files));
    put(std::floor(f.files_free));
  }
  for (Disk& d : disks_) {
    double ops = dt * d.iops * Noise(0.8);
    d.reads += ops * 0.4;
    d.writes += ops * 0.6;
    d.read_bytes += ops * 0.4 * 16384 * Noise(0.5);
    d.written_bytes += ops * 0.6 * 8192 * Noise(0.5);
    d.io_time += std::min(dt, ops * 0.0005);
    put(std::floor(d.reads));
    put(std::floor(d.writes));
    put(Floor(d.read_bytes, 512));
    put(Floor(d.written_bytes, 512));
    put(std::floor(d.io_time * 1000) / 1000);
  }
  for (Nic& n : nics_) {
    double rx = dt * n.rate * Noise(0.7);
    double tx = dt * n.rate * 0.7 * Noise(0.7);
    n.rx_bytes += rx;
    n.tx_bytes += tx;
    n.rx_packets += rx / 900;
    n.tx_packets += tx / 1100;
    if (std::uniform_int_distribution<int>(0, 999)(rng_) == 0) n.rx_drop += 1;
    put(std::floor(n.rx_bytes));
    put(std::floor(n.tx_bytes));
    put(std::floor(n.rx_packets));
    put(std::floor(n.tx_packets));
    put(n.rx_errs);
    put(n.tx_errs);
    put(n.rx_drop);
    put(n.tx_drop);
    put(n.speed);
  }
  if (shape_.agent_self_series) {
    agent_samples_ += static_cast<double>(series_.size());
    agent_cpu_ += dt * 0.0005 * Noise(0.3);
    agent_rss_ = std::clamp(agent_rss_ + Uniform(-4096, 4096), 6e6, 10e6);
    put(agent_samples_);
    put(std::max(0.0, agent_samples_ - static_cast<double>(series_.size())));
    put(0);
    put(0);
    put(static_cast<double>(series_.size()) * 12);
    put(1);
    put(0.0002 * Noise(0.5));
    put(std::floor(agent_cpu_ * 100) / 100);
    put(Floor(agent_rss_, 4096));
    put(Floor(agent_private_, 4096));
  }
}

}  // namespace accord::bench
