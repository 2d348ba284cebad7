#include "collector/hosts/host_registry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
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

// A slot without a value yet holds this quiet NaN. Samples that are NaN are stored as the
// canonical NaN (rendered the same: "NaN"), so no sample can look like it.
constexpr uint64_t kNoValueBits = 0x7ff8dead0000beefULL;

double NoValue() {
  double v;
  std::memcpy(&v, &kNoValueBits, sizeof v);
  return v;
}

bool HasValue(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits != kNoValueBits;
}

double Sample(double v) { return std::isnan(v) ? std::numeric_limits<double>::quiet_NaN() : v; }

bool IsCleanText(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Appends text to a string through a buffer: a bounds check and a memcpy per piece rather
// than std::string's bookkeeping per append. The text is in `out` after Flush() or
// destruction.
class TextBuffer {
 public:
  // Longest "} " + value + "\n".
  static constexpr size_t kMaxLineTail = 2 + kMaxPromValueChars + 1;

  // `out` is handed to `drain` (if it is set) after a flush leaves kExpositionDrainBytes or
  // more. `drain` must outlive the buffer. Once the drain says stop, the buffer discards what
  // it is given and stopped() is true: renderers check it to end early.
  TextBuffer(std::string* out, const ExpositionDrain& drain)
      : out_(out), drain_(drain), buf_(new char[kSize]) {}
  ~TextBuffer() { Flush(); }
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;

  void Put(absl::string_view s) {
    if (s.size() > kSize - used_) {
      Flush();
      if (stopped_) return;
      if (s.size() > kSize) {
        out_->append(s.data(), s.size());
        return;
      }
    }
    std::memcpy(buf_.get() + used_, s.data(), s.size());
    used_ += s.size();
  }
  void Put(char c) {
    if (used_ == kSize) Flush();
    buf_[used_++] = c;
  }
  // What AppendPromValue appends.
  void PutValue(double v) {
    if (kSize - used_ < kMaxPromValueChars) Flush();
    used_ = FormatPromValue(v, buf_.get() + used_) - buf_.get();
  }
  void Flush() {
    if (!stopped_) out_->append(buf_.get(), used_);
    used_ = 0;
    if (!stopped_ && !MaybeDrain(out_, drain_)) stopped_ = true;
  }
  bool stopped() const { return stopped_; }

 private:
  static constexpr size_t kSize = 64 * 1024;
  std::string* const out_;
  const ExpositionDrain& drain_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;
  bool stopped_ = false;
};

// A stream's series ids -> the host's slots. Agents number their series 0, 1, 2 ...: ids
// below a bound proportional to the host's series are kept in a vector, any others in a map.
class StreamSeries {
 public:
  static constexpr uint32_t kNone = ~uint32_t{0};

  // The slot of `id`, or kNone.
  uint32_t Find(uint32_t id) const {
    if (id < dense_.size() && dense_[id] != kNone) return dense_[id];
    if (sparse_.empty()) return kNone;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? kNone : it->second;
  }
  // Maps `id` to `slot`; ids below `dense_limit` may go to the vector.
  void Set(uint32_t id, uint32_t slot, size_t dense_limit) {
    if (Find(id) == kNone) ++size_;
    if (id >= dense_.size() && id < dense_limit) dense_.resize(id + 1, kNone);
    if (id < dense_.size()) {
      dense_[id] = slot;
      sparse_.erase(id);
    } else {
      sparse_[id] = slot;
    }
  }
  void Clear() {
    dense_.clear();
    sparse_.clear();
    size_ = 0;
  }
  // How many ids are mapped.
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
  std::vector<uint32_t> dense_;
  absl::flat_hash_map<uint32_t, uint32_t> sparse_;
};

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
    case RejectReason::kUnparsable:
      return "unparsable";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

// What a host says about itself in its hello. Immutable: a new hello replaces it, and readers
// (snapshots, views) share it rather than copy its strings under the lock.
struct HostRegistry::HostIdentity {
  std::string id;
  std::string host_label;  // `host="<escaped id>"`
  std::string hostname;
  std::string agent_version;
  std::map<std::string, std::string> labels;
};

// What a reader copies of one host under the lock.
struct HostRegistry::HostRow {
  std::shared_ptr<const HostIdentity> identity;
  HostState state = HostState::kUp;
  absl::Time since;
  absl::Time last_seen;
  int64_t boot_time_seconds = 0;
  uint64_t last_sequence = 0;
  uint64_t samples_accepted = 0;
  bool connected = false;
};

struct HostRegistry::HostEntry {
  std::shared_ptr<const HostIdentity> identity;  // never null
  const std::string& id() const { return identity->id; }
  int64_t boot_time_seconds = 0;
  absl::Duration heartbeat_interval = absl::Seconds(1);

  HostState state = HostState::kUp;
  absl::Time since;
  absl::Time last_seen;
  absl::Duration last_seen_mono;
  // Smallest arrival - send offset of this stream's messages (transit + clock difference),
  // the baseline of its delivery lag; kNoOffset until the first message with a send time.
  int64_t min_offset_ms = kNoOffset;
  static constexpr int64_t kNoOffset = INT64_MAX;
  // The monotonic second of this host's last sample to the delivery lag: at most one a
  // second, so a host sending many messages weighs no more than any other.
  int64_t lag_second = -1;
  // Alive spans ending at or before this were received and trimmed from `alive` (the cap):
  // a resend of them is nothing new.
  absl::Time alive_floor = absl::InfinitePast();

  SessionId session = 0;  // 0: no live stream
  bool said_goodbye = false;
  uint64_t last_sequence = 0;         // highest accepted, all streams
  uint64_t stream_last_sequence = 0;  // highest seen on the current stream
  uint64_t samples_accepted = 0;
  absl::Time persisted_seen;  // last values written to the HostLogSink
  uint64_t persisted_sequence = 0;

  // The host's series ("slots", stable indexes: SampleObserver relies on them), as parallel
  // arrays. `slot_shapes` is immutable once published, so snapshots share it: a batch that
  // adds series publishes a grown copy. Null: no slots.
  std::shared_ptr<const std::vector<uint32_t>> slot_shapes;  // slot -> shape (into shapes_)
  std::vector<double> values;     // latest value per slot; NoValue() before the first
  std::vector<int64_t> value_ms;  // timestamp of values[slot]
  StreamSeries stream_series;     // the current stream's series ids -> slots
  absl::flat_hash_map<uint32_t, uint32_t> shape_slots;  // shape -> slot
  size_t slot_count() const { return values.size(); }
  std::deque<Transition> transitions;
  std::vector<AliveSpan> alive;  // sorted by first, merged
  // A vector, not a deque: an empty deque allocates ~600 bytes, and most hosts never have a
  // revision. Trimmed once per AddAliveSpans call.
  std::vector<Revision> revisions;
};

HostRegistry::HostRegistry(Clock& clock, HostRegistryOptions options, HostLogSink* sink)
    : clock_(clock), options_(options), sink_(sink) {}

std::shared_ptr<const HostRegistry::HostIdentity> HostRegistry::MakeIdentity(
    const std::string& id, const std::string& hostname, const std::string& agent_version,
    const std::map<std::string, std::string>& labels) {
  auto identity = std::make_shared<HostIdentity>();
  identity->id = id;
  identity->host_label = "host=\"";
  AppendEscapedLabelValue(&identity->host_label, id);
  identity->host_label.push_back('"');
  identity->hostname = hostname;
  identity->agent_version = agent_version;
  identity->labels = labels;
  return identity;
}

HostRecord HostRegistry::ToRecord(const HostEntry& host, bool with_labels) {
  HostRecord r;
  r.id = host.id();
  r.hostname = host.identity->hostname;
  r.agent_version = host.identity->agent_version;
  if (with_labels) r.labels = host.identity->labels;
  r.labels_changed = with_labels;
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
    entry->identity = MakeIdentity(r.id, r.hostname, r.agent_version, r.labels);
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
    host_total_.store(hosts_.size(), std::memory_order_relaxed);
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
  // Labels are written with the hello only: not copied here (every batch, every second).
  sink_->UpdateHost(ToRecord(*host, /*with_labels=*/false));
}

HostRegistry::~HostRegistry() = default;

namespace {

// A stream whose session is gone was taken over by a newer stream for the same host id
// while it was silent. Retryable, and named, so that an agent that comes back from a freeze
// (or a second machine with a cloned host id) reconnects, meets ALREADY_EXISTS at its hello,
// and logs why, rather than holding off for minutes on an unexplained error.
absl::Status SessionGone() {
  return absl::AlreadyExistsError(
      "this stream no longer speaks for its host: a newer stream with the same host id took "
      "over while this one was silent");
}

}  // namespace

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
  if (sink_ != nullptr) sink_->AppendTransition(host->id(), t);
  host->transitions.push_back(std::move(t));
  // Keep the newest transition older than the retention horizon: it gives the state at the
  // horizon.
  absl::Time horizon = clock_.Now() - options_.transition_retention;
  while (host->transitions.size() > options_.max_transitions_per_host ||
         (host->transitions.size() > 1 && host->transitions[1].at < horizon)) {
    host->transitions.pop_front();
  }
  Log(LogLevel::kInfo, "host state changed",
      {{"host", host->id()},
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
    if (!IsValidLabelName(name) || name.size() > options_.max_label_name_bytes ||
        value.size() > options_.max_label_value_bytes) {
      return Reject(RejectReason::kInvalidHello,
                    absl::StrCat("hello: invalid label \"", name.substr(0, 200),
                                 "\" (a label name is at most ", options_.max_label_name_bytes,
                                 " bytes, a value at most ", options_.max_label_value_bytes, ")"));
    }
  }
  absl::Time now = clock_.Now();
  // Boot times compare as differences (reboot detection): keep them in a sane range.
  if (hello.boot_time_seconds < 0 ||
      hello.boot_time_seconds > absl::ToUnixSeconds(now + absl::Hours(24))) {
    return Reject(RejectReason::kInvalidHello,
                  absl::StrCat("hello: boot_time_seconds ", hello.boot_time_seconds,
                               " is negative or in the future"));
  }
  auto it = hosts_.find(hello.host_id);
  HostEntry* host;
  const char* cause;
  auto identity = MakeIdentity(hello.host_id, hello.hostname, hello.agent_version, hello.labels);
  if (it == hosts_.end()) {
    auto entry = std::make_unique<HostEntry>();
    entry->identity = identity;
    host = entry.get();
    hosts_.emplace(hello.host_id, std::move(entry));
    host_total_.store(hosts_.size(), std::memory_order_relaxed);
    cause = "first_seen";
  } else {
    host = it->second.get();
    if (host->session != 0 && host->state == HostState::kUnreachable) {
      // The old stream went silent (a crashed host, a lost NAT mapping) and TCP has not told
      // us yet: the new stream takes over; the old one's later messages are ignored.
      Log(LogLevel::kInfo, "a new stream takes over a silent one", {{"host", host->id()}});
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
        {{"host", host->id()},
         {"last_accepted", absl::StrCat(host->last_sequence)},
         {"next_sequence", absl::StrCat(hello.next_sequence)}});
    host->last_sequence = hello.next_sequence - 1;
  }
  host->identity = std::move(identity);
  host->boot_time_seconds = hello.boot_time_seconds;
  host->heartbeat_interval =
      std::clamp(hello.heartbeat_interval, absl::Milliseconds(100), absl::Hours(1));
  host->session = next_session_++;
  host->said_goodbye = false;
  host->stream_last_sequence = 0;
  host->stream_series.Clear();
  host->last_seen = now;
  host->last_seen_mono = clock_.Monotonic();
  host->min_offset_ms = HostEntry::kNoOffset;  // another stream, maybe another clock
  SetState(host, HostState::kUp, now, cause);
  sessions_[host->session] = host;
  if (sink_ != nullptr) sink_->UpdateHost(ToRecord(*host, /*with_labels=*/true));
  return OpenResult{host->session, host->last_sequence};
}

int64_t HostRegistry::Seen(HostEntry* host, Arrival arrival) {
  if (arrival.wall == absl::InfinitePast()) {
    arrival.wall = clock_.Now();
    arrival.mono = clock_.Monotonic();
  }
  int64_t late_ms = -1;
  // Only for a positive send time: both sides non-negative, the difference cannot overflow.
  // A send time more than a day off the arrival is no clock anyone keeps: ignored (the
  // message counts as sent at an unknown time).
  const int64_t offset =
      arrival.sent_ms > 0 ? absl::ToUnixMillis(arrival.wall) - arrival.sent_ms : 0;
  if (arrival.sent_ms > 0 && std::llabs(offset) <= 24 * 3600 * 1000) {
    // The baseline follows the smallest offset at once and creeps up 1 ms per message, so a
    // host whose clock is stepped back heals within ~1,000 messages; real lag (seconds, for
    // seconds) moves it by only a few ms.
    host->min_offset_ms = host->min_offset_ms == HostEntry::kNoOffset
                              ? offset
                              : std::min(offset, host->min_offset_ms + 1);
    late_ms = offset - host->min_offset_ms;
    const int64_t second = absl::ToInt64Seconds(arrival.mono);
    if (second != host->lag_second) {
      host->lag_second = second;
      delivery_lag_.Add(arrival.mono, absl::Milliseconds(late_ms));
    }
  }
  if (arrival.mono >= host->last_seen_mono) {
    host->last_seen = std::max(host->last_seen, arrival.wall);
    host->last_seen_mono = arrival.mono;
  }
  return late_ms;
}

void HostRegistry::Resume(HostEntry* host, int64_t late_ms) {
  // How late the message that ended the silence was: a late one means the silence was in
  // delivery (network, or this collector reading late), not at the host.
  if (late_ms >= 0) {
    Log(LogLevel::kInfo, "silent host spoke again",
        {{"host", host->id()}, {"message_late_ms", absl::StrCat(late_ms)}});
  }
  SetState(host, HostState::kUp, host->last_seen, "resumed");
}

void HostRegistry::Heartbeat(SessionId session, Arrival arrival) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return;
  ++stats_.heartbeats;
  const int64_t late_ms = Seen(host, arrival);
  if (host->state == HostState::kUnreachable) Resume(host, late_ms);
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

void HostRegistry::AddSeries(HostEntry* host, const SeriesDescriptor& desc,
                             std::vector<uint32_t>* grown_shapes) {
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
          {{"metric", desc.name}, {"host", host->id()}});
    }
  }
  // The shape, interned: the first host to describe it stores its labels for all.
  std::string key = SeriesKey(desc);
  auto [shape_it, new_shape] =
      shape_index_.emplace(std::move(key), static_cast<uint32_t>(shapes_.size()));
  if (new_shape) {
    shapes_.push_back({family, shape_it->first.substr(desc.name.size() + 1)});
  }
  const uint32_t shape = shape_it->second;
  auto [slot_it, inserted] =
      host->shape_slots.emplace(shape, static_cast<uint32_t>(host->slot_count()));
  if (inserted) {
    if (grown_shapes == nullptr) {
      Log(LogLevel::kError, "a series new to its host was not counted as new",
          {{"host", host->id()}});
      std::abort();
    }
    grown_shapes->push_back(shape);
    host->values.push_back(NoValue());
    host->value_ms.push_back(0);
    slot_total_.store(slot_total_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  host->stream_series.Set(desc.id, slot_it->second, 2 * host->slot_count() + 64);
  if (observer_ != nullptr) observer_->OnSeries(host->id(), slot_it->second, desc);
}

uint32_t HostRegistry::FindShape(const std::string& key) const {
  auto it = shape_index_.find(key);
  return it == shape_index_.end() ? kNoShape : it->second;
}

absl::StatusOr<uint64_t> HostRegistry::Apply(SessionId session, const Batch& batch,
                                             Arrival arrival) {
  absl::MutexLock lock(&mu_);
  HostEntry* host = SessionHost(session);
  if (host == nullptr) return SessionGone();
  absl::Time now = clock_.Now();
  const int64_t late_ms = Seen(host, arrival);
  if (host->state == HostState::kUnreachable) Resume(host, late_ms);

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
      if (name.size() > options_.max_label_name_bytes) return bad("label name too long");
      if (i > 0 && !(desc.labels[i - 1].first < name)) return bad("labels not sorted");
      if (value.size() > options_.max_label_value_bytes) return bad("label value too long");
    }
    if (!described.insert(desc.id).second) return bad("series id described twice");
    std::string key = SeriesKey(desc);
    uint32_t shape = FindShape(key);
    if (shape == kNoShape || !host->shape_slots.contains(shape)) new_keys.insert(std::move(key));
  }
  if (host->slot_count() + new_keys.size() > options_.max_series_per_host) {
    return Reject(RejectReason::kTooManySeries,
                  absl::StrCat("batch sequence ", batch.sequence, ": more than ",
                               options_.max_series_per_host, " series for this host"));
  }
  // A series has one id on a stream; describing series again under ever new ids would grow
  // the stream's id map without bound while the series count stays the same.
  size_t fresh_ids = 0;
  for (uint32_t id : described) fresh_ids += host->stream_series.Find(id) == StreamSeries::kNone;
  if (host->stream_series.size() + fresh_ids > options_.max_series_per_host) {
    return Reject(RejectReason::kTooManySeries,
                  absl::StrCat("batch sequence ", batch.sequence, ": more than ",
                               options_.max_series_per_host,
                               " series ids described on this stream"));
  }
  for (uint32_t id : batch.series_ids) {
    if (host->stream_series.Find(id) == StreamSeries::kNone && !described.contains(id)) {
      return Reject(RejectReason::kUnknownSeries,
                    absl::StrCat("batch sequence ", batch.sequence, ": series id ", id,
                                 " was never described on this stream"));
    }
  }
  // Apply. Descriptions are kept even from a resend: they describe series for this stream.
  // The host's slot shapes are shared with snapshots: new series go to a copy, published
  // after. Exactly `new_keys` slots are added.
  std::shared_ptr<std::vector<uint32_t>> grown_shapes;
  if (!new_keys.empty()) {
    const size_t slots = host->slot_count() + new_keys.size();
    host->values.reserve(slots);
    host->value_ms.reserve(slots);
    grown_shapes = std::make_shared<std::vector<uint32_t>>();
    grown_shapes->reserve(slots);
    if (host->slot_shapes != nullptr) {
      grown_shapes->assign(host->slot_shapes->begin(), host->slot_shapes->end());
    }
  }
  for (const auto& desc : batch.new_series) AddSeries(host, desc, grown_shapes.get());
  if (grown_shapes != nullptr) host->slot_shapes = std::move(grown_shapes);
  if (batch.preview) {
    // Current values only: the same batch comes again in order and is counted then.
    for (size_t i = 0; i < batch.series_ids.size(); ++i) {
      const uint32_t slot = host->stream_series.Find(batch.series_ids[i]);
      if (HasValue(host->values[slot]) && host->value_ms[slot] > batch.timestamp_ms) continue;
      host->values[slot] = Sample(batch.values[i]);
      host->value_ms[slot] = batch.timestamp_ms;
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
    uint32_t slot_index = host->stream_series.Find(batch.series_ids[i]);
    // A backlog batch does not replace a newer value shown from a preview.
    if (!HasValue(host->values[slot_index]) || host->value_ms[slot_index] <= batch.timestamp_ms) {
      host->values[slot_index] = Sample(batch.values[i]);
      host->value_ms[slot_index] = batch.timestamp_ms;
    }
    if (observer_ != nullptr) observed.push_back(slot_index);
  }
  if (observer_ != nullptr) {
    observer_->OnSamples(host->id(), batch.sequence, batch.timestamp_ms, observed, batch.values);
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
  if (host == nullptr) return SessionGone();
  absl::Time now = clock_.Now();
  if (spans.size() > 100000) {
    return Reject(RejectReason::kInvalidAliveSpan, "more than 100000 alive spans in a message");
  }
  // A span reversed, in the future or older than the retention is skipped and counted, and
  // acknowledged with the rest: rejecting the message would end the stream, the agent would
  // send the same spans first on every reconnect, and a host whose clock runs ahead would
  // never get a batch through.
  std::vector<AliveSpan> in;
  in.reserve(spans.size());
  absl::Time until = absl::InfinitePast();
  size_t skipped = 0;
  const AliveSpan* example = nullptr;
  for (const AliveSpan& span : spans) {
    AliveSpan rounded = span;
    rounded.first = absl::FromUnixMicros(absl::ToUnixMicros(span.first));
    rounded.last = absl::FromUnixMicros(absl::ToUnixMicros(span.last));
    until = std::max({until, rounded.first, rounded.last});
    if (span.last < span.first || span.last > now + options_.max_future_skew ||
        span.first < now - options_.transition_retention) {
      ++skipped;
      if (example == nullptr) example = &span;
      continue;
    }
    in.push_back(rounded);
  }
  if (skipped > 0) {
    stats_.rejected[static_cast<int>(RejectReason::kInvalidAliveSpan)] += skipped;
    Log(LogLevel::kWarn, "alive spans skipped",
        {{"host", host->id()},
         {"skipped", absl::StrCat(skipped)},
         {"of", absl::StrCat(spans.size())},
         {"example", absl::StrCat(absl::FormatTime(example->first), " .. ",
                                  absl::FormatTime(example->last))},
         {"error", "reversed, more than the allowed skew in the future, or older than the "
                   "retention"}});
  }
  // Merge into the host's list, sorted by start, where spans of one boot that overlap or
  // touch are one: both sorted, in one pass (a message may hold 100,000 spans in any order).
  auto by_start = [](const AliveSpan& a, const AliveSpan& b) { return a.first < b.first; };
  std::stable_sort(in.begin(), in.end(), by_start);
  std::vector<AliveSpan> merged;
  merged.reserve(host->alive.size() + in.size());
  std::vector<const AliveSpan*> fresh;  // incoming spans not already covered
  // Appends `span`; true if the list already covered it.
  auto append = [&merged](const AliveSpan& span) {
    if (!merged.empty() && merged.back().boot_time_seconds == span.boot_time_seconds &&
        merged.back().last >= span.first) {
      const bool covered = merged.back().last >= span.last;
      merged.back().last = std::max(merged.back().last, span.last);
      return covered;
    }
    merged.push_back(span);
    return false;
  };
  size_t i = 0;
  for (const AliveSpan& span : in) {
    if (span.last <= host->alive_floor) continue;  // received before, trimmed since
    // What is known first (a resend of a known span is covered, not new).
    while (i < host->alive.size() && !by_start(span, host->alive[i])) append(host->alive[i++]);
    if (!append(span)) fresh.push_back(&span);
  }
  while (i < host->alive.size()) append(host->alive[i++]);
  host->alive = std::move(merged);
  if (host->alive.size() > options_.max_transitions_per_host) {
    const auto cut = host->alive.end() - options_.max_transitions_per_host;
    for (auto t = host->alive.begin(); t != cut; ++t) {
      host->alive_floor = std::max(host->alive_floor, t->last);
    }
    host->alive.erase(host->alive.begin(), cut);
  }
  const auto& log = host->transitions;
  // Transitions are in time order unless the wall clock stepped back: then scan them all.
  auto by_time = [](const Transition& a, const Transition& b) { return a.at < b.at; };
  const bool log_sorted = std::is_sorted(log.begin(), log.end(), by_time);
  for (const AliveSpan* fresh_span : fresh) {
    const AliveSpan& span = *fresh_span;
    ++stats_.alive_spans;
    if (sink_ != nullptr) sink_->AppendAliveSpan(host->id(), span);
    // Does it change the past? It does where the log does not already say "up": look from
    // the transition in effect at its start to the last one before its end.
    auto from = log.begin();
    if (log_sorted) {
      from = std::upper_bound(log.begin(), log.end(), span.first,
                              [](absl::Time t, const Transition& tr) { return t < tr.at; });
      if (from != log.begin()) --from;
    }
    bool changes = false;
    for (auto t = from; t != log.end() && (!log_sorted || t->at < span.last) && !changes; ++t) {
      const absl::Time end = std::next(t) != log.end() ? std::next(t)->at : absl::InfiniteFuture();
      if (t->to != HostState::kUp && t->at < span.last && span.first < end) changes = true;
    }
    if (changes) {
      Revision r{absl::FromUnixMicros(absl::ToUnixMicros(now)), span.first, span.last,
                 "alive span backfilled by the agent: the host was up, not just unreachable"};
      ++stats_.revisions;
      if (sink_ != nullptr) sink_->AppendRevision(host->id(), r);
      host->revisions.push_back(std::move(r));
      Log(LogLevel::kInfo, "past revised by backfill",
          {{"host", host->id()},
           {"from", absl::FormatTime(absl::RFC3339_full, span.first, absl::UTCTimeZone())},
           {"to", absl::FormatTime(absl::RFC3339_full, span.last, absl::UTCTimeZone())}});
    }
  }
  if (host->revisions.size() > options_.max_transitions_per_host) {
    host->revisions.erase(host->revisions.begin(),
                          host->revisions.end() - options_.max_transitions_per_host);
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
  // Messages are reaching us late (we are starved, or the network is): what looks like
  // silence may be messages not yet read. Allow for it, up to the option's limit.
  const absl::Duration allowance =
      std::min(delivery_lag_.Current(clock_.Monotonic()), options_.max_delivery_lag_allowance);
  stats_.delivery_lag_allowance = allowance;
  int changed = 0;
  for (auto& [session, host] : sessions_) {
    if (host->state != HostState::kUp) continue;
    const absl::Duration silence = mono - host->last_seen_mono;
    const absl::Duration limit = host->heartbeat_interval * options_.silence_heartbeats;
    if (silence > limit + allowance) {
      SetState(host, HostState::kUnreachable, host->last_seen, "heartbeat_timeout");
      ++changed;
    }
  }
  return changed;
}

HostRegistry::HostRow HostRegistry::ToRow(const HostEntry& host) {
  HostRow r;
  r.identity = host.identity;
  r.state = host.state;
  r.since = host.since;
  r.last_seen = host.last_seen;
  r.boot_time_seconds = host.boot_time_seconds;
  r.last_sequence = host.last_sequence;
  r.samples_accepted = host.samples_accepted;
  r.connected = host.session != 0;
  return r;
}

HostView HostRegistry::ToView(const HostRow& row) {
  HostView v;
  v.id = row.identity->id;
  v.hostname = row.identity->hostname;
  v.state = row.state;
  v.since = row.since;
  v.last_seen = row.last_seen;
  v.boot_time_seconds = row.boot_time_seconds;
  v.labels = row.identity->labels;
  v.agent_version = row.identity->agent_version;
  v.last_sequence = row.last_sequence;
  v.samples_accepted = row.samples_accepted;
  v.connected = row.connected;
  return v;
}

std::vector<HostView> HostRegistry::Hosts() const {
  // Copy the rows (a pointer and scalars per host) under the lock; the strings and label maps
  // of the views are copied without it.
  std::vector<HostRow> rows;
  rows.reserve(host_total_.load(std::memory_order_relaxed));
  {
    absl::MutexLock lock(&mu_);
    rows.reserve(hosts_.size());
    for (const auto& [id, host] : hosts_) rows.push_back(ToRow(*host));
  }
  std::vector<HostView> out;
  out.reserve(rows.size());
  for (const HostRow& row : rows) out.push_back(ToView(row));
  return out;
}

absl::StatusOr<HostView> HostRegistry::Host(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(id);
  if (it == hosts_.end()) return absl::NotFoundError(absl::StrCat("no host \"", id, "\""));
  const HostEntry& host = *it->second;
  HostView v = ToView(ToRow(host));
  auto value = [&](const char* name) {
    uint32_t shape = FindShape(absl::StrCat(name, "{"));  // the series without labels
    if (shape == kNoShape) return -1.0;
    auto slot = host.shape_slots.find(shape);
    if (slot == host.shape_slots.end() || !HasValue(host.values[slot->second])) return -1.0;
    return host.values[slot->second];
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

HostRegistry::Sizes HostRegistry::TableSizes() const {
  absl::MutexLock lock(&mu_);
  Sizes sizes;
  sizes.hosts = hosts_.size();
  sizes.families = families_.size();
  sizes.shapes = shapes_.size();
  sizes.slots = slot_total_.load(std::memory_order_relaxed);
  return sizes;
}

struct HostRegistry::MetricsSnapshot::Data {
  struct FamilyRow {
    const std::string* name;  // in the registry's families_ (immutable, never moves)
    SeriesKind kind;
    bool kind_conflict;
  };
  std::vector<FamilyRow> families;         // by family index
  std::vector<const SeriesShape*> shapes;  // by shape id; in the registry's shapes_
  std::vector<HostRow> hosts;              // in id order
  // The slot shapes and values of hosts[i] (empty unless it is up): values[values_end[i - 1]
  // .. values_end[i]) are its slots in order, NoValue() where it has none yet.
  std::vector<std::shared_ptr<const std::vector<uint32_t>>> slot_shapes;
  std::vector<size_t> values_end;
  std::vector<double> values;
};

HostRegistry::MetricsSnapshot::MetricsSnapshot() : data_(std::make_unique<Data>()) {}
HostRegistry::MetricsSnapshot::~MetricsSnapshot() = default;
HostRegistry::MetricsSnapshot::MetricsSnapshot(MetricsSnapshot&&) noexcept = default;
HostRegistry::MetricsSnapshot& HostRegistry::MetricsSnapshot::operator=(
    MetricsSnapshot&&) noexcept = default;
size_t HostRegistry::MetricsSnapshot::host_count() const {
  return data_ == nullptr ? 0 : data_->hosts.size();
}
size_t HostRegistry::MetricsSnapshot::value_count() const {
  if (data_ == nullptr) return 0;
  return std::count_if(data_->values.begin(), data_->values.end(), HasValue);
}

HostRegistry::MetricsSnapshot HostRegistry::SnapshotMetrics() const {
  MetricsSnapshot snapshot;
  MetricsSnapshot::Data& d = *snapshot.data_;
  // Allocate (and fault in) buffers the size of the previous snapshot before taking the lock:
  // under it, only copies.
  d.hosts.resize(host_total_.load(std::memory_order_relaxed));
  d.slot_shapes.resize(d.hosts.size());
  d.values_end.resize(d.hosts.size());
  d.values.resize(slot_total_.load(std::memory_order_relaxed));
  size_t hosts = 0;
  size_t values = 0;
  {
    absl::MutexLock lock(&mu_);
    if (d.hosts.size() < hosts_.size()) {
      d.hosts.resize(hosts_.size());
      d.slot_shapes.resize(hosts_.size());
      d.values_end.resize(hosts_.size());
    }
    d.families.reserve(families_.size());
    for (const Family& f : families_) d.families.push_back({&f.name, f.kind, f.kind_conflict});
    d.shapes.reserve(shapes_.size());
    for (const SeriesShape& shape : shapes_) d.shapes.push_back(&shape);
    for (const auto& [id, host] : hosts_) {
      d.hosts[hosts] = ToRow(*host);
      // Agent-reported families: latest values of hosts that are up (like Prometheus
      // staleness, a silent host's last values are not repeated as if current).
      const size_t n = host->slot_count();
      if (host->state == HostState::kUp && n > 0) {
        if (d.values.size() < values + n) d.values.resize(std::max(values + n, 2 * values));
        d.slot_shapes[hosts] = host->slot_shapes;
        std::memcpy(&d.values[values], host->values.data(), n * sizeof(double));
        values += n;
      }
      d.values_end[hosts++] = values;
    }
  }
  d.hosts.resize(hosts);
  d.slot_shapes.resize(hosts);
  d.values_end.resize(hosts);
  d.values.resize(values);
  return snapshot;
}

void HostRegistry::RenderMetrics(std::string* out, const FamilyFilter& filter,
                                 const ExpositionDrain& drain) const {
  RenderMetrics(SnapshotMetrics(), out, filter, drain);
}

void HostRegistry::RenderMetrics(const MetricsSnapshot& snapshot, std::string* out,
                                 const FamilyFilter& filter, const ExpositionDrain& drain) {
  const MetricsSnapshot::Data& d = *snapshot.data_;
  const uint32_t hosts = static_cast<uint32_t>(d.hosts.size());

  // Every line has a host label: keep them side by side (they stay in cache while each family
  // walks all hosts).
  std::string labels;
  std::vector<size_t> label_end(hosts);
  for (uint32_t h = 0; h < hosts; ++h) {
    labels.append(d.hosts[h].identity->host_label);
    label_end[h] = labels.size();
  }
  auto host_label = [&](uint32_t h) {
    size_t begin = h == 0 ? 0 : label_end[h - 1];
    return absl::string_view(labels.data() + begin, label_end[h] - begin);
  };

  // Order the agent-reported values by family (families sorted by name) with a stable counting
  // sort: within a family, hosts stay in id order and a host's series in slot order.
  const size_t families = d.families.size();
  std::vector<bool> wanted(families, true);
  for (size_t f = 0; f < families; ++f) wanted[f] = filter.Matches(*d.families[f].name);
  std::vector<size_t> count(families, 0);
  size_t begin = 0;
  for (uint32_t h = 0; h < hosts; ++h) {
    const size_t end = d.values_end[h];
    for (size_t i = begin; i < end; ++i) {
      if (!HasValue(d.values[i])) continue;
      const uint32_t family = d.shapes[(*d.slot_shapes[h])[i - begin]]->family;
      if (wanted[family]) ++count[family];
    }
    begin = end;
  }
  std::vector<uint32_t> order;
  for (uint32_t f = 0; f < families; ++f) {
    if (count[f] > 0) order.push_back(f);
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return *d.families[a].name < *d.families[b].name; });
  std::vector<size_t> next(families, 0);  // where the family's next line goes in `lines`
  size_t line_count = 0;
  for (uint32_t f : order) {
    next[f] = line_count;
    line_count += count[f];
  }
  struct Line {
    uint32_t host;
    uint32_t shape;
    double value;
  };
  std::vector<Line> lines(line_count);
  // Reserve an upper bound of the text's size on the way.
  size_t estimate = (order.size() + 6) * 256;  // headers
  begin = 0;
  for (uint32_t h = 0; h < hosts; ++h) {
    const HostIdentity& id = *d.hosts[h].identity;
    const size_t label = id.host_label.size();
    // The 9 lines of the collector's families; the info line's values escaped at worst.
    estimate += 9 * (label + 80) + 2 * (id.hostname.size() + id.agent_version.size());
    for (const auto& [k, v] : id.labels) estimate += k.size() + 2 * v.size() + 16;
    const size_t end = d.values_end[h];
    for (size_t i = begin; i < end; ++i) {
      if (!HasValue(d.values[i])) continue;
      const uint32_t shape_id = (*d.slot_shapes[h])[i - begin];
      const SeriesShape& shape = *d.shapes[shape_id];
      if (!wanted[shape.family]) continue;
      lines[next[shape.family]++] = {h, shape_id, d.values[i]};
      estimate += d.families[shape.family].name->size() + label + shape.labels_text.size() +
                  TextBuffer::kMaxLineTail;
    }
    begin = end;
  }
  // Drained: the text goes out in pieces, no reservation for the whole of it.
  if (!drain) out->reserve(out->size() + estimate);

  TextBuffer text(out, drain);
  std::string scratch;
  auto header = [&](absl::string_view name, absl::string_view type, absl::string_view help) {
    scratch.clear();
    AppendFamilyHeader(&scratch, name, type, help);
    text.Put(scratch);
  };
  auto simple = [&](absl::string_view name, const char* type, const char* help, auto value_of) {
    if (!filter.Matches(name)) return;
    header(name, type, help);
    for (uint32_t h = 0; h < hosts && !text.stopped(); ++h) {
      text.Put(name);
      text.Put('{');
      text.Put(host_label(h));
      text.Put("} ");
      text.PutValue(value_of(d.hosts[h]));
      text.Put('\n');
    }
  };
  simple("accord_host_up", "gauge", "1 when the host's agent is connected and sending, else 0.",
         [](const HostRow& h) { return h.state == HostState::kUp ? 1.0 : 0.0; });
  if (filter.Matches("accord_host_state")) {
    header("accord_host_state", "gauge",
           "1 for the host's current state: up, unreachable, stopped or down.");
    for (uint32_t h = 0; h < hosts && !text.stopped(); ++h) {
      for (HostState s :
           {HostState::kUp, HostState::kUnreachable, HostState::kStopped, HostState::kDown}) {
        text.Put("accord_host_state{");
        text.Put(host_label(h));
        text.Put(",state=\"");
        text.Put(HostStateName(s));
        text.Put(d.hosts[h].state == s ? "\"} 1\n" : "\"} 0\n");
      }
    }
  }
  if (filter.Matches("accord_host_info")) {
    header("accord_host_info", "gauge",
           "Always 1; the host's name, agent version and labels (as label_<name>).");
    for (uint32_t h = 0; h < hosts && !text.stopped(); ++h) {
      const HostIdentity& id = *d.hosts[h].identity;
      scratch.assign("accord_host_info{");
      scratch.append(id.host_label);
      scratch.append(",agent_version=\"");
      AppendEscapedLabelValue(&scratch, id.agent_version);
      scratch.append("\",hostname=\"");
      AppendEscapedLabelValue(&scratch, id.hostname);
      scratch.push_back('"');
      for (const auto& [k, v] : id.labels) {
        scratch.append(",label_");
        scratch.append(k);
        scratch.append("=\"");
        AppendEscapedLabelValue(&scratch, v);
        scratch.push_back('"');
      }
      scratch.append("} 1\n");
      text.Put(scratch);
    }
  }
  simple("accord_host_boot_time_seconds", "gauge", "Boot time of the host, seconds since epoch.",
         [](const HostRow& h) { return static_cast<double>(h.boot_time_seconds); });
  simple("accord_host_last_seen_timestamp_seconds", "gauge",
         "When the collector last received a message from the host's agent.",
         [](const HostRow& h) { return absl::ToDoubleSeconds(h.last_seen - absl::UnixEpoch()); });
  simple("accord_host_samples_accepted_total", "counter",
         "Samples accepted from the host's agent, each counted once.",
         [](const HostRow& h) { return static_cast<double>(h.samples_accepted); });

  const auto& known = KnownHelp();
  begin = 0;
  for (uint32_t f : order) {
    if (text.stopped()) return;  // the client went away
    const auto& fam = d.families[f];
    const std::string& name = *fam.name;
    auto help = known.find(name);
    const char* type = fam.kind_conflict                  ? "untyped"
                       : fam.kind == SeriesKind::kCounter ? "counter"
                                                          : "gauge";
    header(name, type, help != known.end() ? help->second : "Reported by the host's agent.");
    const size_t end = begin + count[f];
    for (size_t i = begin; i < end && !text.stopped(); ++i) {
      const Line& line = lines[i];
      text.Put(name);
      text.Put('{');
      text.Put(host_label(line.host));
      text.Put(d.shapes[line.shape]->labels_text);
      text.Put("} ");
      text.PutValue(line.value);
      text.Put('\n');
    }
    begin = end;
  }
}

}  // namespace accord::collector
