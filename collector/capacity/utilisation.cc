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

uint32_t HostUtilisation::AddRef(Kind kind, const std::string& instance) {
  refs_.push_back({kind, instance});
  return static_cast<uint32_t>(refs_.size() - 1);
}

uint32_t HostUtilisation::FindOrAddInstance(std::vector<Instance>& list, const std::string& name,
                                            Kind kind) {
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const Instance& i) { return refs_[i.id].instance == name; });
  if (it != list.end()) return static_cast<uint32_t>(it - list.begin());
  Instance inst;
  inst.id = AddRef(kind, name);
  if (kind == Kind::kFilesystem) inst.id2 = AddRef(Kind::kInodes, name);
  list.push_back(std::move(inst));
  return static_cast<uint32_t>(list.size() - 1);
}

int64_t HostUtilisation::FindSeries(const SeriesRef& ref) const {
  for (size_t i = 0; i < refs_.size(); ++i) {
    if (refs_[i] == ref) return static_cast<int64_t>(i);
  }
  return -1;
}

uint16_t HostUtilisation::CounterIndex(Slot& slot) {
  // A slot keeps its counter index when it is described again.
  if (slot.counter != 0) return slot.counter;
  if (counters_ == UINT16_MAX) return 0;  // out of indexes: the slot gives no rate
  slot.counter = ++counters_;
  return slot.counter;
}

void HostUtilisation::OnSeries(uint32_t slot_index, const SeriesDescriptor& desc) {
  described_ = true;
  if (slot_index >= slots_.size()) slots_.resize(slot_index + 1);
  Slot& slot = slots_[slot_index];
  const uint16_t counter = slot.counter;
  slot = Slot();
  slot.counter = counter;
  const std::string& n = desc.name;
  if (!absl::StartsWith(n, "accord_")) {
    std::string key = CustomSeriesKey(desc);
    auto it = std::find_if(custom_.begin(), custom_.end(),
                           [&](const Custom& c) { return c.key == key; });
    if (it == custom_.end()) {
      custom_.push_back({std::move(key), n, desc.kind == SeriesKind::kCounter});
      it = custom_.end() - 1;
    }
    Classify(slot, static_cast<uint32_t>(it - custom_.begin()));
    return;
  }
  if (n == kCpuAggregate) {
    const std::string* mode = LabelValue(desc, "mode");
    if (mode == nullptr) return;
    if (CounterIndex(slot) == 0) return;
    slot.role = (*mode == "idle" || *mode == "iowait") ? Role::kCpuIdle : Role::kCpuBusy;
    if (cpu_id_ < 0) cpu_id_ = AddRef(Kind::kCpu, "");
  } else if (n == kMemTotal || n == kMemAvail) {
    slot.role = n == kMemTotal ? Role::kMemTotal : Role::kMemAvail;
    if (memory_id_ < 0) memory_id_ = AddRef(Kind::kMemory, "");
  } else if (n == kSwapTotal || n == kSwapFree) {
    slot.role = n == kSwapTotal ? Role::kSwapTotal : Role::kSwapFree;
    if (swap_id_ < 0) swap_id_ = AddRef(Kind::kSwap, "");
  } else if (n == kFsSize || n == kFsAvail || n == kFsFiles || n == kFsFilesFree) {
    const std::string* mp = LabelValue(desc, "mountpoint");
    if (mp == nullptr) return;
    slot.role = n == kFsSize    ? Role::kFsSize
                : n == kFsAvail ? Role::kFsAvail
                : n == kFsFiles ? Role::kFsFiles
                                : Role::kFsFilesFree;
    slot.instance = FindOrAddInstance(filesystems_, *mp, Kind::kFilesystem);
  } else if (n == kNetRx || n == kNetTx || n == kNetSpeed) {
    const std::string* dev = LabelValue(desc, "device");
    if (dev == nullptr) return;
    if (n != kNetSpeed && CounterIndex(slot) == 0) return;
    slot.role = n == kNetRx ? Role::kNetRx : n == kNetTx ? Role::kNetTx : Role::kNetSpeed;
    slot.instance = FindOrAddInstance(networks_, *dev, Kind::kNetwork);
  }
}

void HostUtilisation::Classify(Slot& slot, uint32_t custom) {
  const Custom& c = custom_[custom];
  slot.role = Role::kCustom;
  slot.instance = custom;
  if (!demand_metrics_.contains(c.name)) return;
  if (c.counter && CounterIndex(slot) == 0) return;
  slot.role = c.counter ? Role::kDemandCounter : Role::kDemandGauge;
  slot.instance = FindOrAddInstance(demands_, c.key, Kind::kDemand);
  demands_[slot.instance].id2 = custom;
}

void HostUtilisation::SetDemandMetrics(const absl::flat_hash_set<std::string>& names) {
  demand_metrics_ = names;
  for (Slot& slot : slots_) {
    switch (slot.role) {
      case Role::kCustom:
        Classify(slot, slot.instance);
        break;
      case Role::kDemandCounter:
      case Role::kDemandGauge:
        Classify(slot, demands_[slot.instance].id2);
        break;
      default:
        break;
    }
  }
}

void HostUtilisation::OnSamples(uint64_t sequence, int64_t timestamp_ms,
                                const std::vector<uint32_t>& slots,
                                const std::vector<double>& values,
                                std::vector<Observation>* out) {
  if (described_) {
    // The series of a batch are described before its samples: the tables have their size.
    described_ = false;
    slots_.shrink_to_fit();
    refs_.shrink_to_fit();
  }
  const double t = static_cast<double>(timestamp_ms) / 1000.0;
  // The batch before this one, if we saw it.
  const Cursor* prev = nullptr;
  for (const Cursor& c : cursors_) {
    if (c.sequence + 1 == sequence && c.t < t) prev = &c;
  }
  Cursor& cur = scratch_;
  cur.sequence = sequence;
  cur.t = t;
  cur.counters.assign(static_cast<size_t>(counters_) + 1, NAN);
  bool any_counter = false;
  auto rate = [&](uint16_t counter, double value) -> double {
    cur.counters[counter] = value;
    any_counter = true;
    if (prev == nullptr || counter >= prev->counters.size()) return NAN;
    const double before = prev->counters[counter];
    if (std::isnan(before) || value < before) return NAN;  // absent, or a reset: no rate
    return (value - before) / (t - prev->t);
  };

  double cpu_busy = 0, cpu_idle = 0;
  bool cpu_complete = prev != nullptr;
  int cpu_modes = 0;
  double mem_total = NAN, mem_avail = NAN, swap_total = NAN, swap_free = NAN;
  fs_.assign(filesystems_.size(), FsReading{NAN, NAN, NAN, NAN});
  net_.assign(networks_.size(), NetReading{NAN, NAN, NAN});
  demand_.assign(demands_.size(), NAN);

  const size_t n = std::min(slots.size(), values.size());
  for (size_t i = 0; i < n; ++i) {
    if (slots[i] >= slots_.size()) continue;
    const Slot& slot = slots_[slots[i]];
    const double v = values[i];
    if (!std::isfinite(v)) continue;
    switch (slot.role) {
      case Role::kNone:
      case Role::kCustom:
        break;
      case Role::kCpuBusy:
      case Role::kCpuIdle: {
        double r = rate(slot.counter, v);
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
        fs_[slot.instance].size = v;
        break;
      case Role::kFsAvail:
        fs_[slot.instance].avail = v;
        break;
      case Role::kFsFiles:
        fs_[slot.instance].files = v;
        break;
      case Role::kFsFilesFree:
        fs_[slot.instance].files_free = v;
        break;
      case Role::kNetRx:
        net_[slot.instance].rx_rate = rate(slot.counter, v);
        break;
      case Role::kNetTx:
        net_[slot.instance].tx_rate = rate(slot.counter, v);
        break;
      case Role::kNetSpeed:
        net_[slot.instance].speed = v;
        break;
      case Role::kDemandCounter:
        demand_[slot.instance] = rate(slot.counter, v);
        break;
      case Role::kDemandGauge:
        demand_[slot.instance] = v;
        break;
    }
  }

  auto emit = [&](int64_t id, Kind kind, double value, double capacity) {
    if (!std::isfinite(value)) return;
    if (IsRatio(kind)) value = std::clamp(value, 0.0, 1.0);
    out->push_back({static_cast<uint32_t>(id), kind, t, value, capacity});
  };
  const double cpu_all = cpu_busy + cpu_idle;
  if (cpu_complete && cpu_modes > 0 && cpu_all > 0) {
    emit(cpu_id_, Kind::kCpu, cpu_busy / cpu_all, cpu_all);
  }
  if (mem_total > 0 && !std::isnan(mem_avail)) {
    emit(memory_id_, Kind::kMemory, 1.0 - mem_avail / mem_total, mem_total);
  }
  if (swap_total > 0 && !std::isnan(swap_free)) {
    emit(swap_id_, Kind::kSwap, 1.0 - swap_free / swap_total, swap_total);
  }
  for (size_t i = 0; i < fs_.size(); ++i) {
    const FsReading& r = fs_[i];
    if (r.size > 0 && !std::isnan(r.avail)) {
      emit(filesystems_[i].id, Kind::kFilesystem, 1.0 - r.avail / r.size, r.size);
    }
    if (r.files > 0 && !std::isnan(r.files_free)) {
      emit(filesystems_[i].id2, Kind::kInodes, 1.0 - r.files_free / r.files, r.files);
    }
  }
  for (size_t i = 0; i < net_.size(); ++i) {
    const NetReading& r = net_[i];
    if (r.speed > 0 && !std::isnan(r.rx_rate) && !std::isnan(r.tx_rate)) {
      emit(networks_[i].id, Kind::kNetwork, std::max(r.rx_rate, r.tx_rate) / r.speed, r.speed);
    }
  }
  for (size_t i = 0; i < demand_.size(); ++i) {
    if (!std::isnan(demand_[i])) emit(demands_[i].id, Kind::kDemand, demand_[i], 0);
  }

  if (any_counter) {
    // Replace the cursor this batch continues; otherwise add one, dropping the oldest. The
    // cursor that leaves lends its buffer to the next batch.
    auto it = std::find_if(cursors_.begin(), cursors_.end(),
                           [&](const Cursor& c) { return c.sequence + 1 == sequence; });
    if (it == cursors_.end() && cursors_.size() >= kMaxCursors) it = cursors_.begin();
    if (it != cursors_.end()) {
      std::rotate(it, it + 1, cursors_.end());
      std::swap(cursors_.back(), scratch_);
    } else {
      cursors_.push_back(std::move(scratch_));
      scratch_ = Cursor();
    }
  }
}

}  // namespace accord::collector::capacity
