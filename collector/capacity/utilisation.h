// Turning a host's raw samples into capacity observations: utilisation ratios of CPU,
// memory, swap, each filesystem (bytes and inodes) and each network interface, plus the
// values of the demand series a service publishes (orders, users).
//
// HostUtilisation is fed the series descriptions and accepted batches of one host (the
// registry's SampleObserver calls) and returns observations. Counters (CPU seconds, network
// bytes, demand counters) become rates between two consecutive batches of the host
// (sequence n-1 and n), so a backlog replayed after a partition, interleaved with live data,
// still gives correct rates; a counter that went backwards (a reboot) gives no rate.
//
// Which raw series mean what is the agent's wire contract (docs/protocol.md):
//   cpu        1 - (idle + iowait) / all modes, of accord_host_cpu_aggregate_seconds_total;
//              capacity: CPU cores (seconds of CPU per second of wall time)
//   memory     1 - MemAvailable / MemTotal; capacity: bytes
//   swap       1 - free / total (absent when there is no swap); capacity: bytes
//   filesystem 1 - avail / size (what unprivileged writers can still use); capacity: bytes
//   inodes     1 - files_free / files (absent when the filesystem reports no inodes)
//   network    max(receive, transmit) bytes per second / link speed, where the speed is known
//   demand     a custom series named by the catalogue: its rate (counter) or value (gauge)
//
// Pure domain logic: not thread-safe, the owner serialises calls.
#ifndef ACCORD_COLLECTOR_CAPACITY_UTILISATION_H_
#define ACCORD_COLLECTOR_CAPACITY_UTILISATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "collector/hosts/host_registry.h"

namespace accord::collector::capacity {

// What a capacity series measures.
enum class Kind : uint8_t { kCpu, kMemory, kSwap, kFilesystem, kInodes, kNetwork, kDemand };
inline constexpr int kKindCount = 7;
// "cpu", "memory", "swap", "filesystem", "inodes", "network", "demand".
const char* KindName(Kind kind);
// True for the kinds whose value is a utilisation ratio (all but demand).
inline bool IsRatio(Kind kind) { return kind != Kind::kDemand; }

// One capacity series of a host: kind plus instance (mountpoint for filesystem and inodes,
// device for network, `name{labels}` for demand, empty otherwise).
struct SeriesRef {
  Kind kind = Kind::kCpu;
  std::string instance;
  bool operator==(const SeriesRef& o) const { return kind == o.kind && instance == o.instance; }
  bool operator<(const SeriesRef& o) const {
    return kind != o.kind ? kind < o.kind : instance < o.instance;
  }
};

// One observation of a capacity series.
struct Observation {
  uint32_t series = 0;  // the series' id: HostUtilisation::series(id)
  Kind kind = Kind::kCpu;
  double t = 0;         // seconds since the epoch (the batch's timestamp)
  double value = 0;     // utilisation ratio; for demand: per-second rate or gauge value
  double capacity = 0;  // cores, bytes, inodes or bytes/s; 0 for demand
};

// `name{label="value",...}` of a custom series (labels in the descriptor's order, values
// unescaped): the instance of a demand series.
std::string CustomSeriesKey(const SeriesDescriptor& desc);

class HostUtilisation {
 public:
  HostUtilisation() = default;

  // Records what a slot of this host carries (the registry's OnSeries).
  void OnSeries(uint32_t slot, const SeriesDescriptor& desc);

  // Names of the custom series that are demand series (from the catalogue). Slots already
  // described are re-classified.
  void SetDemandMetrics(const absl::flat_hash_set<std::string>& names);

  // Observations from one accepted batch (the registry's OnSamples). Appends to `out`.
  // Allocates nothing once the host's series are known (apart from growing `out`).
  void OnSamples(uint64_t sequence, int64_t timestamp_ms, const std::vector<uint32_t>& slots,
                 const std::vector<double>& values, std::vector<Observation>* out);

  // The capacity series this host may have: ids are dense (0 .. series_count() - 1), stable
  // and never reused; the first observation of a series may come much later, or never.
  size_t series_count() const { return refs_.size(); }
  // REQUIRES: id < series_count().
  const SeriesRef& series(uint32_t id) const { return refs_[id]; }
  // The id of `ref`, or -1 when this host has no such series.
  int64_t FindSeries(const SeriesRef& ref) const;

 private:
  enum class Role : uint8_t {
    kNone,
    kCustom,   // a custom (non accord_) series that is not a demand series
    kCpuBusy,  // a mode counted as busy
    kCpuIdle,  // idle or iowait
    kMemTotal,
    kMemAvail,
    kSwapTotal,
    kSwapFree,
    kFsSize,
    kFsAvail,
    kFsFiles,
    kFsFilesFree,
    kNetRx,
    kNetTx,
    kNetSpeed,
    kDemandCounter,
    kDemandGauge,
  };
  // 8 bytes (a host has a hundred or more slots).
  struct Slot {
    Role role = Role::kNone;
    uint16_t counter = 0;   // index into Cursor::counters, for counter roles; 0: none
    // Index into filesystems_, networks_ or demands_; for kCustom into custom_.
    uint32_t instance = 0;
  };
  struct Custom {
    std::string key;   // name{labels}
    std::string name;
    bool counter = false;
  };
  // Counter readings of one batch, to take rates against the next batch.
  struct Cursor {
    uint64_t sequence = 0;
    double t = 0;
    std::vector<double> counters;  // by Slot::counter; NaN: not in the batch
  };
  // An instance (mountpoint, device, demand key) with the ids of its series.
  struct Instance {
    uint32_t id = 0;    // filesystem, network or demand (refs_[id].instance is the name)
    uint32_t id2 = 0;   // filesystems: the inodes series; demands: the index into custom_
  };
  // Readings of one batch (scratch, reused).
  struct FsReading {
    double size, avail, files, files_free;
  };
  struct NetReading {
    double rx_rate, tx_rate, speed;
  };

  // Sets the role of a custom series' slot (demand or not) from demand_metrics_.
  void Classify(Slot& slot, uint32_t custom);
  uint32_t FindOrAddInstance(std::vector<Instance>& list, const std::string& name, Kind kind);
  uint32_t AddRef(Kind kind, const std::string& instance);
  uint16_t CounterIndex(Slot& slot);

  std::vector<Custom> custom_;
  std::vector<Slot> slots_;
  std::vector<SeriesRef> refs_;           // by series id
  int64_t cpu_id_ = -1, memory_id_ = -1, swap_id_ = -1;
  std::vector<Instance> filesystems_;     // mountpoints
  std::vector<Instance> networks_;        // devices
  std::vector<Instance> demands_;         // name{labels}
  uint16_t counters_ = 0;                 // counter indexes handed out
  bool described_ = false;                // OnSeries since the last batch: trim the tables
  absl::flat_hash_set<std::string> demand_metrics_;
  std::vector<Cursor> cursors_;  // the last few batches, newest last
  Cursor scratch_;               // the batch being read (its buffer is reused)
  std::vector<FsReading> fs_;
  std::vector<NetReading> net_;
  std::vector<double> demand_;
};

}  // namespace accord::collector::capacity

#endif  // ACCORD_COLLECTOR_CAPACITY_UTILISATION_H_
