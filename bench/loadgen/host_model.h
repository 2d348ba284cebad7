// HostModel: a simulated host whose series have the shape accord-agent reports for a real one
// (per-core CPU modes, memory, load, uptime, filesystems, disks, interfaces, the agent's own
// accord_agent_* health series) and whose values change like a real host's: counters grow at
// a per-host rate with noise, gauges wander within bounds.
//
// Pure: no I/O, no clock. The caller advances the model by the elapsed time. Values are
// deterministic for a given seed. Used by accord-loadgen (one model per simulated agent) and by
// collector_metrics_bench (to fill a HostRegistry).
//
// Thread safety: a HostModel is not thread-safe; one owner advances it. Distinct models are
// independent.
#ifndef ACCORD_BENCH_LOADGEN_HOST_MODEL_H_
#define ACCORD_BENCH_LOADGEN_HOST_MODEL_H_

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace accord::bench {

// The host's hardware, which decides the series set.
struct HostShape {
  int cpus = 4;
  int filesystems = 3;  // at most 8
  int disks = 2;        // at most 8
  int interfaces = 2;   // at most 8
  // Also the 10 accord_agent_* series the agent reports about itself.
  bool agent_self_series = true;
};

// One series as described on the wire (a SeriesDescriptor without the id).
struct SeriesSpec {
  std::string name;
  // Sorted by name; never "host".
  std::vector<std::pair<std::string, std::string>> labels;
  bool counter = false;
};

class HostModel {
 public:
  // `seed` picks this host's load profile (CPU use, traffic, disk sizes ...).
  HostModel(const HostShape& shape, uint64_t seed);

  // The series, in the order Advance writes values. Fixed for the model's lifetime.
  const std::vector<SeriesSpec>& series() const { return series_; }

  // Moves the host `elapsed` forward and writes one value per series into `values` (resized
  // to series().size()). Counters never decrease. REQUIRES: elapsed >= 0.
  void Advance(absl::Duration elapsed, std::vector<double>* values);

  // The host's boot time, seconds since the epoch (for the Hello).
  int64_t boot_time_seconds() const { return boot_time_seconds_; }

  // The number of series `shape` produces.
  static size_t SeriesCount(const HostShape& shape);

 private:
  double Noise(double spread);  // uniform in [1 - spread, 1 + spread]
  double Uniform(double lo, double hi);

  HostShape shape_;
  std::mt19937_64 rng_;
  std::vector<SeriesSpec> series_;

  // State (units as exported: seconds, bytes).
  int64_t boot_time_seconds_ = 0;
  double uptime_ = 0;
  double busy_ratio_ = 0;                 // this host's average CPU use, 0..1
  std::vector<std::vector<double>> cpu_;  // [cpu][mode] seconds
  double context_switches_ = 0, forks_ = 0, ctx_rate_ = 0, fork_rate_ = 0;
  double procs_running_ = 1, procs_blocked_ = 0;
  double mem_total_ = 0, mem_available_ = 0, mem_free_ = 0, buffers_ = 0, cached_ = 0;
  double swap_total_ = 0, swap_free_ = 0;
  double load1_ = 0, load5_ = 0, load15_ = 0;
  struct Fs {
    double size, free, files, files_free, fill_rate;
  };
  std::vector<Fs> fs_;
  struct Disk {
    double reads, writes, read_bytes, written_bytes, io_time, iops;
  };
  std::vector<Disk> disks_;
  struct Nic {
    double rx_bytes, tx_bytes, rx_packets, tx_packets, rx_errs, tx_errs, rx_drop, tx_drop;
    double speed, rate;
  };
  std::vector<Nic> nics_;
  double agent_samples_ = 0, agent_cpu_ = 0, agent_rss_ = 0, agent_private_ = 0;
};

}  // namespace accord::bench

#endif  // ACCORD_BENCH_LOADGEN_HOST_MODEL_H_
