#include "collector/hosts/host_registry.h"

#include <algorithm>
#include <deque>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/prom_text.h"

namespace accord::collector {
namespace {

// Help text for the families agents report; anything else gets a generic text.
const std::map<std::string, std::string>& KnownHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"accord_host_cpu_seconds_total", "Seconds the CPU spent in each mode, per core."},
      {"accord_host_cpu_aggregate_seconds_total", "Seconds all CPUs together spent in each mode."},
      {"accord_host_memory_total_bytes", "Total usable memory."},
      {"accord_host_memory_available_bytes", "Memory available for new work without swapping."},
      {"accord_host_memory_free_bytes", "Unused memory."},
      {"accord_host_memory_buffers_bytes", "Memory in block device buffers."},
      {"accord_host_memory_cached_bytes", "Memory in the page cache."},
      {"accord_host_swap_total_bytes", "Total swap space."},
      {"accord_host_swap_free_bytes", "Unused swap space."},
      {"accord_host_load1", "1-minute load average."},
      {"accord_host_load5", "5-minute load average."},
      {"accord_host_load15", "15-minute load average."},
      {"accord_host_uptime_seconds", "Seconds since boot."},
      {"accord_host_procs_running", "Processes in runnable state."},
      {"accord_host_procs_blocked", "Processes blocked waiting for I/O."},
      {"accord_host_filesystem_size_bytes", "Filesystem size."},
      {"accord_host_filesystem_free_bytes", "Filesystem free space."},
      {"accord_host_filesystem_avail_bytes", "Filesystem space available to non-root users."},
      {"accord_host_filesystem_files", "Filesystem total inodes."},
      {"accord_host_filesystem_files_free", "Filesystem free inodes."},
      {"accord_host_network_receive_bytes_total", "Bytes received per interface."},
      {"accord_host_network_transmit_bytes_total", "Bytes transmitted per interface."},
  };
  return *help;
}

// Families the collector itself writes per host; agents may not report them.
bool IsReservedFamily(absl::string_view name) {
  return name == "accord_host_up" || name == "accord_host_info" || name == "accord_host_state" ||
         name == "accord_host_boot_time_seconds" ||
         name == "accord_host_last_seen_timestamp_seconds" ||
         name == "accord_host_samples_accepted_total";
}

bool IsCleanText(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

const char* HostStateName(HostState state) {
  switch (state) {
    case HostState::kUp:
      return "up";
    case HostState::kUnreachable:
      return "unreachable";
    case HostState::kStopped:
      return "stopped";
    case HostState::kDown:
      return "down";
    case HostState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNotHello:
      return "not_hello";
    case RejectReason::kDuplicateHello:
      return "duplicate_hello";
    case RejectReason::kInvalidHello:
      return "invalid_hello";
    case RejectReason::kHostAlreadyConnected:
      return "host_already_connected";
    case RejectReason::kFutureTimestamp:
      return "future_timestamp";
    case RejectReason::kUnknownSeries:
      return "unknown_series";
    case RejectReason::kInvalidSeries:
      return "invalid_series";
    case RejectReason::kTooManySeries:
      return "too_many_series";
    case RejectReason::kSequenceBackwards:
      return "sequence_backwards";
    case RejectReason::kShapeMismatch:
      return "shape_mismatch";
    case RejectReason::kTooLarge:
      return "too_large";
    case RejectReason::kInvalidAliveSpan:
      return "invalid_alive_span";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

struct HostRegistry::HostEntry {
  struct Slot {
    uint32_t family;
    std::string labels_text;  // `,cpu="0",mode="user"` (after the host label)
    double value = 0;
    int64_t value_ms = 0;  // timestamp of `value`
    bool has_value = false;
  };

  std::string id;
  std::string host_label;  // `host="<escaped id>"`
  std::string hostname;
  std::string agent_version;
  std::map<std::string, std::string> labels;
  int64_t boot_time_seconds = 0;
  absl::Duration heartbeat_interval = absl::Seconds(1);

  HostState state = HostState::kUp;
  absl::Time since;
  absl::Time last_seen;
  absl::Duration last_seen_mono;

  SessionId session = 0;  // 0: no live stream
  bool said_goodbye = false;
  uint64_t last_sequence = 0;         // highest accepted, all streams
  uint64_t stream_last_sequence = 0;  // highest seen on the current stream
  uint64_t samples_accepted = 0;
  absl::Time persisted_seen;  // last values written to the HostLogSink
  uint64_t persisted_sequence = 0;

  absl::flat_hash_map<uint32_t, uint32_t> stream_series;  // stream id -> slot
  absl::flat_hash_map<std::string, uint32_t> slot_index;  // name + labels -> slot
  std::vector<Slot> slots;
  std::deque<Transition> transitions;
  std::vector<AliveSpan> alive;  // sorted by first, merged
  std::deque<Revision> revisions;
};

HostRegistry::HostRegistry(Clock& clock, HostRegistryOptions options, HostLogSink* sink)
    : clock_(clock), options_(options), sink_(sink) {}

HostRecord HostRegistry::ToRecord(const HostEntry& host) {
  HostRecord r;
  r.id = host.id;
  r.hostname = host.hostname;
  r.agent_version = host.agent_version;
  r.labels = host.labels;
  r.boot_time_seconds = host.boot_time_seconds;
  r.last_seen = host.last_seen;
  r.last_sequence = host.last_sequence;
  r.samples_accepted = host.samples_accepted;
  return r;
}

void HostRegistry::Restore(std::vector<RestoredHost> hosts) {
  absl::MutexLock lock(&mu_);
  for (auto& restored : hosts) {
    const HostRecord& r = restored.record;
    auto entry = std::make_unique<HostEntry>();
    entry->id = r.id;
    entry->host_label = "host=\"";
    AppendEscapedLabelValue(&entry->host_label, r.id);
    entry->host_label.push_back('"');
    entry->hostname = r.hostname;
    entry->agent_version = r.agent_version;
    entry->labels = r.labels;
    entry->boot_time_seconds = r.boot_time_seconds;
    entry->last_seen = r.last_seen;
    entry->last_sequence = r.last_sequence;
    entry->samples_accepted = r.samples_accepted;
    entry->persisted_seen = r.last_seen;
    entry->persisted_sequence = r.last_sequence;
    entry->transitions.assign(restored.transitions.begin(), restored.transitions.end());
    entry->alive = std::move(restored.alive);
    entry->revisions.assign(restored.revisions.begin(), restored.revisions.end());
    if (!entry->transitions.empty()) {
      entry->state = entry->transitions.back().to;
      entry->since = entry->transitions.back().at;
    } else {
      entry->state = HostState::kUnreachable;
      entry->since = r.last_seen;
    }
    HostEntry* host = entry.get();
    hosts_[r.id] = std::move(entry);
    if (host->state == HostState::kUp) {
      absl::Time at = std::max(host->last_seen, host->since);
      SetState(host, HostState::kUnreachable, at, "collector_restart");
    }
  }
}

void HostRegistry::PersistHosts() {
  if (sink_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  for (auto& [id, host] : hosts_) {
    if (host->last_seen == host->persisted_seen &&
        host->last_sequence == host->persisted_sequence) {
      continue;
    }
    Persist(host.get());
  }
}

void HostRegistry::Persist(HostEntry* host) {
  host->persisted_seen = host->last_seen;
  host->persisted_sequence = host->last_sequence;
  HostRecord r = ToRecord(*host);
  r.labels_changed = false;  // labels are written with the hello only
  sink_->UpdateHost(r);
}

HostRegistry::~HostRegistry() = default;

HostRegistry::HostEntry* HostRegistry::SessionHost(SessionId session) {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? nullptr : it->second;
}

void HostRegistry::SetState(HostEntry* host, HostState to, absl::Time at, const char* cause) {
  // Microsecond resolution, as stored: figures computed before and after a restart agree.
  at = absl::FromUnixMicros(absl::ToUnixMicros(at));
  absl::Time recorded = absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
  Transition t{at, recorded, host->state, to, cause, host->boot_time_seconds};
  if (host->transitions.empty()) t.from = HostState::kUnknown;
  if (sink_ != nullptr) sink_->AppendTransition(host->id, t);
  host->transitions.push_back(std::move(t));
  // Keep the newest transition older than the retention horizon: it gives the state at the
  // horizon.
  absl::Time horizon = clock_.Now() - options_.transition_retention;
  while (host->transitions.size() > options_.max_transitions_per_host ||
         (host->transitions.size() > 1 && host->transitions[1].at < horizon)) {
    host->transitions.pop_front();
  }
  Log(LogLevel::kInfo, "host state changed",
      {{"host", host->id},
       {"from", HostStateName(host->transitions.back().from)},
       {"to", HostStateName(to)},
       {"cause", cause},
       {"at", absl::FormatTime(absl::RFC3339_full, at, absl::UTCTimeZone())}});
  host->state = to;
  host->since = at;
}

absl::Status HostRegistry::Reject(RejectReason reason, std::string message) {
  ++stats_.rejected[static_cast<int>(reason)];
  return absl::InvalidArgumentError(std::move(message));
}

void HostRegistry::CountRejected(RejectReason reason) {
  absl::MutexLock lock(&mu_);
  ++stats_.rejected[static_cast<int>(reason)];
}

absl::StatusOr<HostRegistry::OpenResult> HostRegistry::Open(const Hello& hello) {
  absl::MutexLock lock(&mu_);
  if (hello.host_id.empty() || hello.host_id.size() > 256 || !IsCleanText(hello.host_id) ||
      hello.hostname.size() > 256 || !IsCleanText(hello.hostname) ||
      hello.agent_version.size() > 128 || hello.labels.size() > 32) {
    return Reject(RejectReason::kInvalidHello,
                  "hello: host_id must be 1-256 printable bytes; hostname at most 256 bytes, "
                  "agent_version at most 128, at most 32 labels");
  }
  for (const auto& [name, value] : hello.labels) {
    if (!IsValidLabelName(name) || value.size() > options_.max_label_value_bytes) {
      return Reject(RejectReason::kInvalidHello,
                    absl::StrCat("hello: invalid label \"", name, "\""));
    }
  }
  absl::Time now = clock_.Now();
  auto it = hosts_.find(hello.host_id);
  HostEntry* host;
  const char* cause;
  if (it == hosts_.end()) {
    auto entry = std::make_unique<HostEntry>();
    entry->id = hello.host_id;
    entry->host_label = "host=\"";
    AppendEscapedLabelValue(&entry->host_label, hello.host_id);
    entry->host_label.push_back('"');
    host = entry.get();
    hosts_.emplace(hello.host_id, std::move(entry));
    cause = "first_seen";
  } else {
    host = it->second.get();
    if (host->session != 0 && host->state == HostState::kUnreachable) {
      // The old stream went silent (a crashed host, a lost NAT mapping) and TCP has not told
      // us yet: the new stream takes over; the old one's later messages are ignored.
      Log(LogLevel::kInfo, "a new stream takes over a silent one", {{"host", host->id}});
      sessions_.erase(host->session);
      host->session = 0;
    }
    if (host->session != 0) {
      ++stats_.rejected[static_cast<int>(RejectReason::kHostAlreadyConnected)];
      return absl::AlreadyExistsError(
          absl::StrCat("host \"", hello.host_id, "\" already has a live stream"));
    }
    bool rebooted = host->boot_time_seconds != 0 &&
                    std::llabs(hello.boot_time_seconds - host->boot_time_seconds) >
                        options_.reboot_tolerance_seconds;
    cause = rebooted ? "reboot" : "connected";
  }
  if (hello.next_sequence != 0 && hello.next_sequence <= host->last_sequence) {
    // The agent lost its saved sequence (e.g. a wiped state dir): continue below it rather
    // than treat every new batch as a resend.
    Log(LogLevel::kWarn, "agent sequence went back; continuing from the agent's",
        {{"host", host->id},
         {"last_accepted", absl::StrCat(host->last_sequence)},
         {"next_sequence", absl::StrCat(hello.next_sequence)}});
    host->last_sequence = hello.next_sequence - 1;
  }
  host->hostname = hello.hostname;
  host->agent_version = hello.agent_version;
  host->labels = hello.labels;
  host->boot_time_seconds = hello.boot_time_seconds;
  host->heartbeat_interval =
      std::clamp(hello.heartbeat_interval, absl::Milliseconds(100), absl::Hours(1));
  host->session = next_session_++;
  host->said_goodbye = false;
  host->stream_last_sequence = 0;
  host->stream_series.clear();
  host->last_seen = now;
  host->last_seen_mono = clock_.Monotonic();
  SetState(host, HostState::kUp, now, cause);
  sessions_[host->session] = host;
  if (sink_ != nullptr) sink_->UpdateHost(ToRecord(*host));  // labels_changed: true
  return OpenResult{host->session, host->last_sequence};
}

void HostRegistry::Seen(HostEntry* host, Arrival arrival) {
  if (arrival.wall == absl::InfinitePast()) {
    arrival.wall = clock_.Now();
    arrival.mono = clock_.Monotonic();
  }
  if (arrival.mono < host->last_seen_mono) return;
  host->last_seen = std::max(host->last_seen, arrival.wall);
  host->last_seen_mono = arrival.mono;
}

void HostRegistry::Heartbeat(SessionId session, Arrival arrival) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return;
  ++stats_.heartbeats;
  Seen(host, arrival);
  if (host->state == HostState::kUnreachable) {
    SetState(host, HostState::kUp, host->last_seen, "resumed");
  }
}

std::string HostRegistry::LabelsText(const SeriesDescriptor& desc) {
  std::string labels_text;
  for (const auto& [name, value] : desc.labels) {
    absl::StrAppend(&labels_text, ",", name, "=\"");
    AppendEscapedLabelValue(&labels_text, value);
    labels_text.push_back('"');
  }
  return labels_text;
}

std::string HostRegistry::SeriesKey(const SeriesDescriptor& desc) {
  return absl::StrCat(desc.name, "{", LabelsText(desc));
}

void HostRegistry::AddSeries(HostEntry* host, const SeriesDescriptor& desc) {
  // Validated by Apply before any mutation; here only insertion.
  auto fam = family_index_.find(desc.name);
  uint32_t family;
  if (fam == family_index_.end()) {
    family = static_cast<uint32_t>(families_.size());
    families_.push_back({desc.name, desc.kind, false});
    family_index_.emplace(desc.name, family);
  } else {
    family = fam->second;
    Family& f = families_[family];
    if (f.kind != desc.kind && !f.kind_conflict) {
      // Hosts disagree: export the family untyped rather than refuse anyone's series (one
      // agent must not be able to lock a family's type for every other host).
      f.kind_conflict = true;
      Log(LogLevel::kWarn, "hosts disagree on a metric's type; exporting it untyped",
          {{"metric", desc.name}, {"host", host->id}});
    }
  }
  std::string key = SeriesKey(desc);
  auto [slot_it, inserted] =
      host->slot_index.emplace(std::move(key), static_cast<uint32_t>(host->slots.size()));
  if (inserted) host->slots.push_back({family, LabelsText(desc)});
  host->stream_series[desc.id] = slot_it->second;
  if (observer_ != nullptr) observer_->OnSeries(host->id, slot_it->second, desc);
}

absl::StatusOr<uint64_t> HostRegistry::Apply(SessionId session, const Batch& batch,
                                             Arrival arrival) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return absl::FailedPreconditionError("no such session");
  absl::Time now = clock_.Now();
  Seen(host, arrival);
  if (host->state == HostState::kUnreachable) {
    SetState(host, HostState::kUp, host->last_seen, "resumed");
  }

  if (!batch.preview && batch.sequence <= host->stream_last_sequence) {
    return Reject(RejectReason::kSequenceBackwards,
                  absl::StrCat("batch sequence ", batch.sequence, " is not above ",
                               host->stream_last_sequence, " sent earlier on this stream"));
  }
  bool duplicate = !batch.preview && batch.sequence <= host->last_sequence;
  if (!duplicate && batch.timestamp_ms > absl::ToUnixMillis(now + options_.max_future_skew)) {
    return Reject(RejectReason::kFutureTimestamp,
                  absl::StrCat("batch sequence ", batch.sequence, " timestamp ", batch.timestamp_ms,
                               " ms is more than ", absl::FormatDuration(options_.max_future_skew),
                               " in the future"));
  }
  if (batch.series_ids.size() != batch.values.size()) {
    return Reject(RejectReason::kShapeMismatch,
                  absl::StrCat("batch sequence ", batch.sequence, ": ", batch.series_ids.size(),
                               " series ids but ", batch.values.size(), " values"));
  }
  // Validate every new descriptor before changing anything. Only series this host does not
  // have yet count against its limit (a reconnecting agent describes everything again).
  absl::flat_hash_set<uint32_t> described;
  absl::flat_hash_set<std::string> new_keys;
  for (const auto& desc : batch.new_series) {
    auto bad = [&](absl::string_view why) {
      return Reject(RejectReason::kInvalidSeries,
                    absl::StrCat("batch sequence ", batch.sequence, " series id ", desc.id, " \"",
                                 desc.name.substr(0, 200), "\": ", why));
    };
    if (!IsValidMetricName(desc.name) || desc.name.size() > 200) {
      return bad("invalid metric name");
    }
    // accord_host_* and accord_agent_* come from the agent's own sources; any other name
    // is a custom series (the agent's textfile directory). The rest of accord_* belongs to
    // the collector.
    if (absl::StartsWith(desc.name, "accord_") && !absl::StartsWith(desc.name, "accord_host_") &&
        !absl::StartsWith(desc.name, "accord_agent_")) {
      return bad("names starting with accord_ are reserved, except accord_host_ and accord_agent_");
    }
    if (IsReservedFamily(desc.name)) return bad("name is reserved for the collector");
    if (desc.labels.size() > options_.max_labels_per_series) return bad("too many labels");
    for (size_t i = 0; i < desc.labels.size(); ++i) {
      const auto& [name, value] = desc.labels[i];
      if (!IsValidLabelName(name) || name == "host") return bad("invalid label name");
      if (i > 0 && !(desc.labels[i - 1].first < name)) return bad("labels not sorted");
      if (value.size() > options_.max_label_value_bytes) return bad("label value too long");
    }
    if (!described.insert(desc.id).second) return bad("series id described twice");
    std::string key = SeriesKey(desc);
    if (!host->slot_index.contains(key)) new_keys.insert(std::move(key));
  }
  if (host->slots.size() + new_keys.size() > options_.max_series_per_host) {
    return Reject(RejectReason::kTooManySeries,
                  absl::StrCat("batch sequence ", batch.sequence, ": more than ",
                               options_.max_series_per_host, " series for this host"));
  }
  for (uint32_t id : batch.series_ids) {
    if (!host->stream_series.contains(id) && !described.contains(id)) {
      return Reject(RejectReason::kUnknownSeries,
                    absl::StrCat("batch sequence ", batch.sequence, ": series id ", id,
                                 " was never described on this stream"));
    }
  }
  // Apply. Descriptions are kept even from a resend: they describe series for this stream.
  for (const auto& desc : batch.new_series) AddSeries(host, desc);
  if (batch.preview) {
    // Current values only: the same batch comes again in order and is counted then.
    for (size_t i = 0; i < batch.series_ids.size(); ++i) {
      auto& slot = host->slots[host->stream_series[batch.series_ids[i]]];
      if (slot.has_value && slot.value_ms > batch.timestamp_ms) continue;
      slot.value = batch.values[i];
      slot.value_ms = batch.timestamp_ms;
      slot.has_value = true;
    }
    ++stats_.batches_preview;
    return host->last_sequence;
  }
  host->stream_last_sequence = batch.sequence;
  if (duplicate) {
    // A resend of something already accepted (its ack was lost): ack again, count once.
    ++stats_.batches_duplicate;
    return host->last_sequence;
  }
  std::vector<uint32_t> observed;
  if (observer_ != nullptr) observed.reserve(batch.series_ids.size());
  for (size_t i = 0; i < batch.series_ids.size(); ++i) {
    uint32_t slot_index = host->stream_series[batch.series_ids[i]];
    auto& slot = host->slots[slot_index];
    // A backlog batch does not replace a newer value shown from a preview.
    if (!slot.has_value || slot.value_ms <= batch.timestamp_ms) {
      slot.value = batch.values[i];
      slot.value_ms = batch.timestamp_ms;
      slot.has_value = true;
    }
    if (observer_ != nullptr) observed.push_back(slot_index);
  }
  if (observer_ != nullptr) {
    observer_->OnSamples(host->id, batch.sequence, batch.timestamp_ms, observed, batch.values);
  }
  host->last_sequence = batch.sequence;
  host->samples_accepted += batch.values.size();
  stats_.samples_accepted += batch.values.size();
  ++stats_.batches_accepted;
  // The sequence and the count are written with the batch: its ack waits for the commit.
  if (sink_ != nullptr) Persist(host);
  return host->last_sequence;
}

absl::StatusOr<absl::Time> HostRegistry::AddAliveSpans(SessionId session,
                                                       const std::vector<AliveSpan>& spans) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return absl::FailedPreconditionError("no such session");
  absl::Time now = clock_.Now();
  if (spans.size() > 100000) {
    return Reject(RejectReason::kInvalidAliveSpan, "more than 100000 alive spans in a message");
  }
  for (const AliveSpan& span : spans) {
    if (span.last < span.first || span.last > now + options_.max_future_skew ||
        span.first < now - options_.transition_retention) {
      return Reject(RejectReason::kInvalidAliveSpan,
                    absl::StrCat("alive span ", absl::FormatTime(span.first), " .. ",
                                 absl::FormatTime(span.last),
                                 " is reversed, in the future or older than the retention"));
    }
  }
  absl::Time until = absl::InfinitePast();
  for (const AliveSpan& in : spans) {
    AliveSpan span = in;
    span.first = absl::FromUnixMicros(absl::ToUnixMicros(span.first));
    span.last = absl::FromUnixMicros(absl::ToUnixMicros(span.last));
    until = std::max(until, span.last);
    // Merge into the sorted, disjoint list (spans of one boot that overlap or touch).
    auto& list = host->alive;
    // The first span starting after this one; the one before it may overlap.
    auto it =
        std::upper_bound(list.begin(), list.end(), span,
                         [](const AliveSpan& a, const AliveSpan& b) { return a.first < b.first; });
    bool covered = false;
    if (it != list.begin()) {
      auto prev = std::prev(it);
      if (prev->boot_time_seconds == span.boot_time_seconds && prev->last >= span.first) {
        covered = prev->last >= span.last;
        prev->last = std::max(prev->last, span.last);
        it = prev;
      } else {
        it = list.insert(it, span);
      }
    } else {
      it = list.insert(it, span);
    }
    while (std::next(it) != list.end() && std::next(it)->first <= it->last &&
           std::next(it)->boot_time_seconds == it->boot_time_seconds) {
      it->last = std::max(it->last, std::next(it)->last);
      list.erase(std::next(it));
    }
    if (covered) continue;  // a resend: nothing new
    ++stats_.alive_spans;
    if (sink_ != nullptr) sink_->AppendAliveSpan(host->id, span);
    // Does it change the past? It does where the log does not already say "up".
    bool changes = false;
    const auto& log = host->transitions;
    for (size_t i = 0; i < log.size() && !changes; ++i) {
      absl::Time start = log[i].at;
      absl::Time end = i + 1 < log.size() ? log[i + 1].at : absl::InfiniteFuture();
      if (log[i].to != HostState::kUp && start < span.last && span.first < end) changes = true;
    }
    if (changes) {
      Revision r{absl::FromUnixMicros(absl::ToUnixMicros(now)), span.first, span.last,
                 "alive span backfilled by the agent: the host was up, not just unreachable"};
      ++stats_.revisions;
      if (sink_ != nullptr) sink_->AppendRevision(host->id, r);
      host->revisions.push_back(std::move(r));
      while (host->revisions.size() > options_.max_transitions_per_host) {
        host->revisions.pop_front();
      }
      Log(LogLevel::kInfo, "past revised by backfill",
          {{"host", host->id},
           {"from", absl::FormatTime(absl::RFC3339_full, span.first, absl::UTCTimeZone())},
           {"to", absl::FormatTime(absl::RFC3339_full, span.last, absl::UTCTimeZone())}});
    }
  }
  return until;
}

std::vector<AliveSpan> HostRegistry::AliveSpans(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return {};
  return it->second->alive;
}

std::vector<Revision> HostRegistry::Revisions(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return {};
  return {it->second->revisions.begin(), it->second->revisions.end()};
}

void HostRegistry::Goodbye(SessionId session, GoodbyeReason reason, Arrival arrival) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return;
  host->said_goodbye = true;
  Seen(host, arrival);
  if (reason == GoodbyeReason::kHostShutdown) {
    SetState(host, HostState::kDown, host->last_seen, "host_shutdown");
  } else {
    SetState(host, HostState::kStopped, host->last_seen, "agent_stopping");
  }
}

void HostRegistry::Close(SessionId session, Arrival arrival) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return;
  sessions_.erase(session);
  host->session = 0;
  if (!host->said_goodbye && host->state == HostState::kUp) {
    absl::Time at = arrival.wall == absl::InfinitePast() ? clock_.Now() : arrival.wall;
    SetState(host, HostState::kUnreachable, std::max(at, host->since), "stream_broken");
  }
}

int HostRegistry::CheckTimeouts() { return CheckTimeouts(clock_.Monotonic()); }

int HostRegistry::CheckTimeouts(absl::Duration as_of) {
  absl::MutexLock lock(&mu_);
  absl::Duration mono = std::min(as_of, clock_.Monotonic());
  int changed = 0;
  for (auto& [session, host] : sessions_) {
    if (host->state != HostState::kUp) continue;
    if (mono - host->last_seen_mono > host->heartbeat_interval * options_.silence_heartbeats) {
      SetState(host, HostState::kUnreachable, host->last_seen, "heartbeat_timeout");
      ++changed;
    }
  }
  return changed;
}

HostView HostRegistry::ToView(const HostEntry& host) {
  HostView v;
  v.id = host.id;
  v.hostname = host.hostname;
  v.state = host.state;
  v.since = host.since;
  v.last_seen = host.last_seen;
  v.boot_time_seconds = host.boot_time_seconds;
  v.labels = host.labels;
  v.agent_version = host.agent_version;
  v.last_sequence = host.last_sequence;
  v.samples_accepted = host.samples_accepted;
  v.connected = host.session != 0;
  return v;
}

std::vector<HostView> HostRegistry::Hosts() const {
  absl::MutexLock lock(&mu_);
  std::vector<HostView> out;
  out.reserve(hosts_.size());
  for (const auto& [id, host] : hosts_) out.push_back(ToView(*host));
  return out;
}

absl::StatusOr<HostView> HostRegistry::Host(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return absl::NotFoundError(absl::StrCat("no host \"", id, "\""));
  HostView v = ToView(*it->second);
  auto value = [&](const char* name) {
    auto fam = family_index_.find(name);
    if (fam == family_index_.end()) return -1.0;
    for (const auto& slot : it->second->slots) {
      if (slot.family == fam->second && slot.labels_text.empty() && slot.has_value) {
        return slot.value;
      }
    }
    return -1.0;
  };
  v.agent_samples_produced = value("accord_agent_samples_produced_total");
  v.agent_samples_dropped = value("accord_agent_spool_dropped_samples_total");
  return v;
}

std::vector<Transition> HostRegistry::Transitions(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return {};
  return {it->second->transitions.begin(), it->second->transitions.end()};
}

RegistryStats HostRegistry::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

size_t HostRegistry::ConnectedCount() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

void HostRegistry::RenderMetrics(std::string* out) const {
  absl::MutexLock lock(&mu_);
  auto simple = [&](const char* name, const char* type, const char* help, auto value_of) {
    AppendFamilyHeader(out, name, type, help);
    for (const auto& [id, host] : hosts_) {
      absl::StrAppend(out, name, "{", host->host_label, "} ");
      AppendPromValue(out, value_of(*host));
      out->push_back('\n');
    }
  };
  simple("accord_host_up", "gauge", "1 when the host's agent is connected and sending, else 0.",
         [](const HostEntry& h) { return h.state == HostState::kUp ? 1.0 : 0.0; });
  AppendFamilyHeader(out, "accord_host_state", "gauge",
                     "1 for the host's current state: up, unreachable, stopped or down.");
  for (const auto& [id, host] : hosts_) {
    for (HostState s :
         {HostState::kUp, HostState::kUnreachable, HostState::kStopped, HostState::kDown}) {
      absl::StrAppend(out, "accord_host_state{", host->host_label, ",state=\"", HostStateName(s),
                      "\"} ", host->state == s ? "1\n" : "0\n");
    }
  }
  AppendFamilyHeader(out, "accord_host_info", "gauge",
                     "Always 1; the host's name, agent version and labels (as label_<name>).");
  for (const auto& [id, host] : hosts_) {
    absl::StrAppend(out, "accord_host_info{", host->host_label, ",agent_version=\"");
    AppendEscapedLabelValue(out, host->agent_version);
    out->append("\",hostname=\"");
    AppendEscapedLabelValue(out, host->hostname);
    out->push_back('"');
    for (const auto& [k, v] : host->labels) {
      absl::StrAppend(out, ",label_", k, "=\"");
      AppendEscapedLabelValue(out, v);
      out->push_back('"');
    }
    out->append("} 1\n");
  }
  simple("accord_host_boot_time_seconds", "gauge", "Boot time of the host, seconds since epoch.",
         [](const HostEntry& h) { return static_cast<double>(h.boot_time_seconds); });
  simple("accord_host_last_seen_timestamp_seconds", "gauge",
         "When the collector last received a message from the host's agent.",
         [](const HostEntry& h) { return absl::ToDoubleSeconds(h.last_seen - absl::UnixEpoch()); });
  simple("accord_host_samples_accepted_total", "counter",
         "Samples accepted from the host's agent, each counted once.",
         [](const HostEntry& h) { return static_cast<double>(h.samples_accepted); });

  // Agent-reported families: latest values of hosts that are up (like Prometheus staleness,
  // a silent host's last values are not repeated as if current).
  std::vector<std::vector<std::pair<const HostEntry*, const HostEntry::Slot*>>> by_family(
      families_.size());
  for (const auto& [id, host] : hosts_) {
    if (host->state != HostState::kUp) continue;
    for (const auto& slot : host->slots) {
      if (slot.has_value) by_family[slot.family].push_back({host.get(), &slot});
    }
  }
  std::vector<uint32_t> order(families_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return families_[a].name < families_[b].name; });
  const auto& known = KnownHelp();
  for (uint32_t f : order) {
    if (by_family[f].empty()) continue;
    const Family& fam = families_[f];
    auto help = known.find(fam.name);
    const char* type = fam.kind_conflict                  ? "untyped"
                       : fam.kind == SeriesKind::kCounter ? "counter"
                                                          : "gauge";
    AppendFamilyHeader(out, fam.name, type,
                       help != known.end() ? help->second : "Reported by the host's agent.");
    for (const auto& [host, slot] : by_family[f]) {
      out->append(fam.name);
      out->push_back('{');
      out->append(host->host_label);
      out->append(slot->labels_text);
      out->append("} ");
      AppendPromValue(out, slot->value);
      out->push_back('\n');
    }
  }
}

}  // namespace accord::collector
