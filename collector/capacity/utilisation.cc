#include "collector/capacity/utilisation.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace accord::collector::capacity {
namespace {

// The agent's series (docs/protocol.md).
constexpr char kCpuAggregate[] = "accord_host_cpu_aggregate_seconds_total";
constexpr char kMemTotal[] = "accord_host_memory_total_bytes";
constexpr char kMemAvail[] = "accord_host_memory_available_bytes";
constexpr char kSwapTotal[] = "accord_host_swap_total_bytes";
constexpr char kSwapFree[] = "accord_host_swap_free_bytes";
constexpr char kFsSize[] = "accord_host_filesystem_size_bytes";
constexpr char kFsAvail[] = "accord_host_filesystem_avail_bytes";
constexpr char kFsFiles[] = "accord_host_filesystem_files";
constexpr char kFsFilesFree[] = "accord_host_filesystem_files_free";
constexpr char kNetRx[] = "accord_host_network_receive_bytes_total";
constexpr char kNetTx[] = "accord_host_network_transmit_bytes_total";
constexpr char kNetSpeed[] = "accord_host_network_speed_bytes";

// Batches kept for rates; a backlog and live data interleave at most two runs.
constexpr size_t kMaxCursors = 4;

const std::string* LabelValue(const SeriesDescriptor& desc, const char* name) {
  for (const auto& [k, v] : desc.labels) {
    if (k == name) return &v;
  }
  return nullptr;
}

struct FsReading {
  double size = NAN, avail = NAN, files = NAN, files_free = NAN;
};
struct NetReading {
  double rx_rate = NAN, tx_rate = NAN, speed = NAN;
};

}  // namespace

std::string CustomSeriesKey(const SeriesDescriptor& desc) {
  std::string key = desc.name;
  if (desc.labels.empty()) return key;
  key += '{';
  for (size_t i = 0; i < desc.labels.size(); ++i) {
    if (i > 0) key += ',';
    absl::StrAppend(&key, desc.labels[i].first, "=\"", desc.labels[i].second, "\"");
  }
  key += '}';
  return key;
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kCpu:
      return "cpu";
    case Kind::kMemory:
      return "memory";
    case Kind::kSwap:
      return "swap";
    case Kind::kFilesystem:
      return "filesystem";
    case Kind::kInodes:
      return "inodes";
    case Kind::kNetwork:
      return "network";
    case Kind::kDemand:
      return "demand";
  }
  return "unknown";
}

uint32_t HostUtilisation::Instance(std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<uint32_t>(it - names.begin());
  names.push_back(name);
  return static_cast<uint32_t>(names.size() - 1);
}

void HostUtilisation::OnSeries(uint32_t slot_index, const SeriesDescriptor& desc) {
  if (slot_index >= slots_.size()) slots_.resize(slot_index + 1);
  Slot& slot = slots_[slot_index];
  slot = Slot();
  const std::string& n = desc.name;
  if (!absl::StartsWith(n, "accord_")) {
    std::string key = CustomSeriesKey(desc);
    auto it = std::find_if(custom_.begin(), custom_.end(),
                           [&](const Custom& c) { return c.key == key; });
    if (it == custom_.end()) {
      custom_.push_back({std::move(key), n, desc.kind == SeriesKind::kCounter});
      it = custom_.end() - 1;
    }
    slot.custom = static_cast<int32_t>(it - custom_.begin());
    Classify(slot);
    return;
  }
  if (n == kCpuAggregate) {
    const std::string* mode = LabelValue(desc, "mode");
    if (mode == nullptr) return;
    slot.role = (*mode == "idle" || *mode == "iowait") ? Role::kCpuIdle : Role::kCpuBusy;
  } else if (n == kMemTotal) {
    slot.role = Role::kMemTotal;
  } else if (n == kMemAvail) {
    slot.role = Role::kMemAvail;
  } else if (n == kSwapTotal) {
    slot.role = Role::kSwapTotal;
  } else if (n == kSwapFree) {
    slot.role = Role::kSwapFree;
  } else if (n == kFsSize || n == kFsAvail || n == kFsFiles || n == kFsFilesFree) {
    const std::string* mp = LabelValue(desc, "mountpoint");
    if (mp == nullptr) return;
    slot.role = n == kFsSize    ? Role::kFsSize
                : n == kFsAvail ? Role::kFsAvail
                : n == kFsFiles ? Role::kFsFiles
                                : Role::kFsFilesFree;
    slot.instance = Instance(filesystems_, *mp);
  } else if (n == kNetRx || n == kNetTx || n == kNetSpeed) {
    const std::string* dev = LabelValue(desc, "device");
    if (dev == nullptr) return;
    slot.role = n == kNetRx ? Role::kNetRx : n == kNetTx ? Role::kNetTx : Role::kNetSpeed;
    slot.instance = Instance(networks_, *dev);
  }
}

void HostUtilisation::Classify(Slot& slot) {
  slot.role = Role::kNone;
  if (slot.custom < 0) return;
  const Custom& c = custom_[slot.custom];
  if (!demand_metrics_.contains(c.name)) return;
  slot.role = c.counter ? Role::kDemandCounter : Role::kDemandGauge;
  slot.instance = Instance(demands_, c.key);
}

void HostUtilisation::SetDemandMetrics(const absl::flat_hash_set<std::string>& names) {
  demand_metrics_ = names;
  for (Slot& slot : slots_) {
    if (slot.custom >= 0) Classify(slot);
  }
}

void HostUtilisation::OnSamples(uint64_t sequence, int64_t timestamp_ms,
                                const std::vector<uint32_t>& slots,
                                const std::vector<double>& values,
                                std::vector<Observation>* out) {
  const double t = static_cast<double>(timestamp_ms) / 1000.0;
  // The batch before this one, if we saw it.
  const Cursor* prev = nullptr;
  for (const Cursor& c : cursors_) {
    if (c.sequence + 1 == sequence && c.t < t) prev = &c;
  }
  Cursor cur;
  cur.sequence = sequence;
  cur.t = t;
  auto rate = [&](uint32_t slot, double value) -> double {
    if (prev == nullptr) return NAN;
    auto it = prev->counters.find(slot);
    if (it == prev->counters.end() || value < it->second) return NAN;  // reset: no rate
    return (value - it->second) / (t - prev->t);
  };

  double cpu_busy = 0, cpu_idle = 0;
  bool cpu_complete = prev != nullptr;
  int cpu_modes = 0;
  double mem_total = NAN, mem_avail = NAN, swap_total = NAN, swap_free = NAN;
  std::vector<FsReading> fs(filesystems_.size());
  std::vector<NetReading> net(networks_.size());
  std::vector<double> demand(demands_.size(), NAN);

  const size_t n = std::min(slots.size(), values.size());
  for (size_t i = 0; i < n; ++i) {
    if (slots[i] >= slots_.size()) continue;
    const Slot& slot = slots_[slots[i]];
    const double v = values[i];
    if (!std::isfinite(v)) continue;
    switch (slot.role) {
      case Role::kNone:
        break;
      case Role::kCpuBusy:
      case Role::kCpuIdle: {
        cur.counters[slots[i]] = v;
        double r = rate(slots[i], v);
        ++cpu_modes;
        if (std::isnan(r)) {
          cpu_complete = false;
        } else {
          (slot.role == Role::kCpuBusy ? cpu_busy : cpu_idle) += r;
        }
        break;
      }
      case Role::kMemTotal:
        mem_total = v;
        break;
      case Role::kMemAvail:
        mem_avail = v;
        break;
      case Role::kSwapTotal:
        swap_total = v;
        break;
      case Role::kSwapFree:
        swap_free = v;
        break;
      case Role::kFsSize:
        fs[slot.instance].size = v;
        break;
      case Role::kFsAvail:
        fs[slot.instance].avail = v;
        break;
      case Role::kFsFiles:
        fs[slot.instance].files = v;
        break;
      case Role::kFsFilesFree:
        fs[slot.instance].files_free = v;
        break;
      case Role::kNetRx:
        cur.counters[slots[i]] = v;
        net[slot.instance].rx_rate = rate(slots[i], v);
        break;
      case Role::kNetTx:
        cur.counters[slots[i]] = v;
        net[slot.instance].tx_rate = rate(slots[i], v);
        break;
      case Role::kNetSpeed:
        net[slot.instance].speed = v;
        break;
      case Role::kDemandCounter:
        cur.counters[slots[i]] = v;
        demand[slot.instance] = rate(slots[i], v);
        break;
      case Role::kDemandGauge:
        demand[slot.instance] = v;
        break;
    }
  }

  auto emit = [&](Kind kind, const std::string& instance, double value, double capacity) {
    if (!std::isfinite(value)) return;
    if (IsRatio(kind)) value = std::clamp(value, 0.0, 1.0);
    out->push_back({{kind, instance}, t, value, capacity});
  };
  static const std::string kNoInstance;
  const double cpu_all = cpu_busy + cpu_idle;
  if (cpu_complete && cpu_modes > 0 && cpu_all > 0) {
    emit(Kind::kCpu, kNoInstance, cpu_busy / cpu_all, cpu_all);
  }
  if (mem_total > 0 && !std::isnan(mem_avail)) {
    emit(Kind::kMemory, kNoInstance, 1.0 - mem_avail / mem_total, mem_total);
  }
  if (swap_total > 0 && !std::isnan(swap_free)) {
    emit(Kind::kSwap, kNoInstance, 1.0 - swap_free / swap_total, swap_total);
  }
  for (size_t i = 0; i < fs.size(); ++i) {
    if (fs[i].size > 0 && !std::isnan(fs[i].avail)) {
      emit(Kind::kFilesystem, filesystems_[i], 1.0 - fs[i].avail / fs[i].size, fs[i].size);
    }
    if (fs[i].files > 0 && !std::isnan(fs[i].files_free)) {
      emit(Kind::kInodes, filesystems_[i], 1.0 - fs[i].files_free / fs[i].files, fs[i].files);
    }
  }
  for (size_t i = 0; i < net.size(); ++i) {
    const NetReading& r = net[i];
    if (r.speed > 0 && !std::isnan(r.rx_rate) && !std::isnan(r.tx_rate)) {
      emit(Kind::kNetwork, networks_[i], std::max(r.rx_rate, r.tx_rate) / r.speed, r.speed);
    }
  }
  for (size_t i = 0; i < demand.size(); ++i) {
    if (!std::isnan(demand[i])) emit(Kind::kDemand, demands_[i], demand[i], 0);
  }

  if (!cur.counters.empty()) {
    // Replace the cursor this batch continues; otherwise add one, dropping the oldest.
    auto it = std::find_if(cursors_.begin(), cursors_.end(),
                           [&](const Cursor& c) { return c.sequence + 1 == sequence; });
    if (it != cursors_.end()) cursors_.erase(it);
    if (cursors_.size() >= kMaxCursors) cursors_.erase(cursors_.begin());
    cursors_.push_back(std::move(cur));
  }
}

}  // namespace accord::collector::capacity
