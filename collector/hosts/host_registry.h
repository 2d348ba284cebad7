// HostRegistry: every known host, its liveness state machine, its transition log and the
// latest value of each of its series. Pure domain logic: no gRPC, no I/O; time comes from the
// injected Clock.
//
// Liveness (docs/architecture.md):
//   up          while messages arrive on the host's stream;
//   unreachable the moment a stream breaks without a goodbye, or when nothing arrived for
//               `silence_heartbeats` heartbeat intervals (the transition is backdated to the
//               last message received);
//   stopped     after a goodbye from a stopping agent;
//   down        after a goodbye for a host shutdown.
// A changed boot time on reconnect is recorded as a reboot.
//
// Memory: what every host repeats is stored once. The shape of a series (its family and its
// labels, e.g. accord_host_cpu_seconds_total with `,cpu="0",mode="user"`) is interned in a
// registry-wide table; a host keeps per series only a slot (shape id, value, timestamp) and two
// small integer maps (shape -> slot, stream series id -> slot). About 6 KiB per host with the
// agent's 108 series (bench/collector_metrics_bench.cc: registry_KiB_per_host).
//
// Thread safety: all methods are thread-safe (one internal mutex). The ingest consumer calls
// the session methods; a ticker calls CheckTimeouts; web handlers call the queries. Readers of
// the whole registry (RenderMetrics, Hosts) hold the lock only to copy compact state (shared
// immutable strings, scalars, values) and format or build their result without it, so a
// scrape does not stall ingest or liveness detection.
#ifndef ACCORD_COLLECTOR_HOSTS_HOST_REGISTRY_H_
#define ACCORD_COLLECTOR_HOSTS_HOST_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "collector/hosts/delivery_lag.h"
#include "collector/hosts/host_log.h"
#include "common/clock.h"
#include "common/prom_text.h"

namespace accord::collector {

// kUnknown appears only as the `from` of a host's first transition.
enum class HostState { kUp, kUnreachable, kStopped, kDown, kUnknown };
const char* HostStateName(HostState state);

enum class SeriesKind { kGauge, kCounter };

struct SeriesDescriptor {
  uint32_t id = 0;
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  SeriesKind kind = SeriesKind::kGauge;
};

// What an agent says about itself when its stream opens.
struct Hello {
  std::string host_id;
  std::string hostname;
  std::string agent_version;
  std::map<std::string, std::string> labels;
  int64_t boot_time_seconds = 0;
  absl::Duration sample_interval = absl::Seconds(10);
  absl::Duration heartbeat_interval = absl::Seconds(1);
  uint64_t next_sequence = 0;
};

struct Batch {
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  std::vector<SeriesDescriptor> new_series;
  std::vector<uint32_t> series_ids;
  std::vector<double> values;
  // A live batch sent ahead of the backlog (docs/protocol.md): its values are shown, it is
  // neither counted nor acknowledged, and it arrives again later as a normal batch.
  bool preview = false;
};

enum class GoodbyeReason { kUnspecified, kAgentStopping, kHostShutdown };

// When a message reached the collector (before it waited in the ingest queue). Liveness is
// judged by arrival, so a backlog in the queue is not mistaken for silent hosts. The default
// (`wall` infinite past) means "now".
struct Arrival {
  absl::Time wall = absl::InfinitePast();
  absl::Duration mono;
  // The agent's wall clock when it sent the message (heartbeat timestamp, batch sent_ms);
  // 0: unknown. Feeds the delivery lag (collector/hosts/delivery_lag.h).
  int64_t sent_ms = 0;
};

// One entry of a host's transition log.
struct Transition {
  absl::Time at;           // when the new state began
  absl::Time recorded_at;  // when the collector learnt it (>= at)
  HostState from;
  HostState to;
  std::string cause;  // first_seen, connected, resumed, reboot, stream_broken,
                      // heartbeat_timeout, agent_stopping, host_shutdown
  int64_t boot_time_seconds = 0;
};

// Proof that a host was alive over [first, last], recorded by its agent while it could not
// reach the collector and sent later (backfill).
struct AliveSpan {
  absl::Time first;
  absl::Time last;
  int64_t boot_time_seconds = 0;
};

// An entry of the audit trail: a later piece of evidence that changed what is known about
// the past (and so the SLA figures of that range).
struct Revision {
  absl::Time recorded_at;
  absl::Time from;
  absl::Time to;
  std::string reason;
};

// A read-only copy of one host for the API.
struct HostView {
  std::string id;
  std::string hostname;
  HostState state = HostState::kUp;
  absl::Time since;
  absl::Time last_seen;
  int64_t boot_time_seconds = 0;
  std::map<std::string, std::string> labels;
  std::string agent_version;
  uint64_t last_sequence = 0;
  uint64_t samples_accepted = 0;
  bool connected = false;
  // The agent's own accounting, from its latest accord_agent_samples_produced_total and
  // accord_agent_spool_dropped_samples_total (Host() only; -1 when not reported yet). Once the
  // agent has caught up: samples_accepted + agent_samples_dropped = agent_samples_produced.
  double agent_samples_produced = -1;
  double agent_samples_dropped = -1;
};

struct HostRegistryOptions {
  // Silence longer than this many heartbeat intervals makes a host unreachable.
  int silence_heartbeats = 3;
  // ... plus the current delivery lag (how much later than usual every host's messages are
  // arriving: the collector starved of CPU reads its sockets late), at most this much. Zero
  // turns the allowance off.
  absl::Duration max_delivery_lag_allowance = absl::Seconds(30);
  // Batches stamped further than this in the future are rejected.
  absl::Duration max_future_skew = absl::Minutes(5);
  // A boot time that moves by more than this on reconnect is a reboot (btime jitters by a
  // second or so when the clock is adjusted).
  int64_t reboot_tolerance_seconds = 5;
  // Per-host limits against broken or malicious agents.
  size_t max_series_per_host = 20000;
  size_t max_labels_per_series = 16;
  size_t max_label_value_bytes = 1024;
  size_t max_label_name_bytes = 200;  // as the agent checks custom series (textfile)
  // Transitions kept in memory per host: those younger than `transition_retention`, and at
  // most `max_transitions_per_host`. The durable log is in the store (HostLogSink).
  absl::Duration transition_retention = absl::Hours(24 * 400);
  size_t max_transitions_per_host = 100000;
};

// Why a message was rejected; also the `reason` label of the rejection counter.
enum class RejectReason {
  kNotHello = 0,
  kDuplicateHello,
  kInvalidHello,
  kHostAlreadyConnected,
  kFutureTimestamp,
  kUnknownSeries,
  kInvalidSeries,
  kTooManySeries,
  kSequenceBackwards,
  kShapeMismatch,
  kTooLarge,
  kInvalidAliveSpan,
  kUnparsable,  // protobuf could not parse it (e.g. invalid UTF-8 in a string field)
  kCount        // number of reasons
};
const char* RejectReasonName(RejectReason reason);

// Ingest counters, read by the metrics renderer.
struct RegistryStats {
  uint64_t samples_accepted = 0;
  uint64_t batches_accepted = 0;
  uint64_t batches_duplicate = 0;
  uint64_t batches_preview = 0;  // live batches shown ahead of a backlog (not counted)
  uint64_t heartbeats = 0;
  uint64_t alive_spans = 0;
  uint64_t revisions = 0;
  uint64_t rejected[static_cast<int>(RejectReason::kCount)] = {};
  // The delivery lag the last CheckTimeouts allowed for (see HostRegistryOptions).
  absl::Duration delivery_lag_allowance;
};

// Where the registry reports what must survive a restart (implemented by the store).
// Called with the registry's lock held: must only enqueue.
class HostLogSink {
 public:
  virtual ~HostLogSink() = default;
  virtual void AppendTransition(const std::string& host_id, const Transition& t) = 0;
  virtual void UpdateHost(const HostRecord& record) = 0;
  virtual void AppendAliveSpan(const std::string& host_id, const AliveSpan& span) = 0;
  virtual void AppendRevision(const std::string& host_id, const Revision& revision) = 0;
  // Durability marks: Mark() after some writes; once Durable() >= that mark, they are
  // committed. Acks wait for this, so an acknowledged batch is never counted twice or lost.
  virtual uint64_t Mark() = 0;
  virtual uint64_t Durable() = 0;
};

// What the store hands back at startup.
struct RestoredHost {
  HostRecord record;
  std::vector<Transition> transitions;  // sorted by `at`
  std::vector<AliveSpan> alive;         // sorted by `first`
  std::vector<Revision> revisions;      // sorted by `recorded_at`
};

// Receives every accepted sample of every host, for consumers that keep their own view of
// the values (capacity management). Called with the registry's lock held: implementations
// must be quick, must not call back into the registry, and are called from one thread at a
// time per registry.
class SampleObserver {
 public:
  virtual ~SampleObserver() = default;
  // `host` described a series; `slot` identifies it among the host's series from now on
  // (stable for the registry's lifetime; a re-description on a new stream reuses it).
  virtual void OnSeries(const std::string& host, uint32_t slot, const SeriesDescriptor& desc) = 0;
  // A batch that was accepted (not a duplicate): `slots[i]` has `values[i]` at
  // `timestamp_ms`. `sequence` is the batch's sequence number. Batches of one host arrive in
  // acceptance order, which is not always timestamp order (backfill).
  virtual void OnSamples(const std::string& host, uint64_t sequence, int64_t timestamp_ms,
                         const std::vector<uint32_t>& slots, const std::vector<double>& values) = 0;
};

class HostRegistry {
 public:
  using SessionId = uint64_t;

  // `sink` (optional) must outlive the registry.
  HostRegistry(Clock& clock, HostRegistryOptions options = {}, HostLogSink* sink = nullptr);

  // Loads hosts from the store at startup, before any session opens. A host whose last
  // state was up gets a transition to unreachable at its last persisted sighting (cause
  // "collector_restart"): nothing is known about the time the collector was away.
  void Restore(std::vector<RestoredHost> hosts);

  // Writes every host's record whose last_seen, sequence or counters changed to the sink.
  // The collector calls this every second.
  void PersistHosts();

  // A mark covering every write so far, and whether a mark is durable (always true without a
  // sink). Thread-safe; no registry lock.
  uint64_t DurabilityMark() const { return sink_ == nullptr ? 0 : sink_->Mark(); }
  bool IsDurable(uint64_t mark) const { return sink_ == nullptr || sink_->Durable() >= mark; }
  ~HostRegistry();
  HostRegistry(const HostRegistry&) = delete;

  // Sets the observer of accepted samples (nullptr: none). REQUIRES: called before any
  // session opens; `observer` outlives the registry.
  void SetSampleObserver(SampleObserver* observer) { observer_ = observer; }
  HostRegistry& operator=(const HostRegistry&) = delete;

  struct OpenResult {
    SessionId session;
    uint64_t last_accepted_sequence;  // highest accepted from this host, 0 if none
  };
  // Opens a session for a stream that sent `hello`. The host becomes up.
  // Errors: InvalidArgument (empty or oversized host id); AlreadyExists (another live stream
  // holds this host id).
  absl::StatusOr<OpenResult> Open(const Hello& hello);

  // Any message on the session's stream (liveness evidence).
  void Heartbeat(SessionId session, Arrival arrival = {});

  // Applies a batch. Returns the sequence to acknowledge (cumulative), or an error:
  // InvalidArgument for a batch that must not be resent as is (the rejection is counted).
  // A batch whose sequence was already accepted is acknowledged again and not counted.
  // A preview (batch.preview) is validated the same way, may come in any sequence order,
  // updates the current values only where it is newer, is not counted and not observed, and
  // returns the unchanged cumulative sequence (the caller does not acknowledge it).
  absl::StatusOr<uint64_t> Apply(SessionId session, const Batch& batch, Arrival arrival = {});

  // A goodbye: the host becomes stopped or down; a later Close does not make it unreachable.
  void Goodbye(SessionId session, GoodbyeReason reason, Arrival arrival = {});

  // Alive spans sent after a reconnect (backfill). Each span that covers time the log does
  // not show as up is recorded as a revision. A span reversed, in the future or older than
  // the retention is skipped (counted as kInvalidAliveSpan, logged). Returns the latest time
  // any span of the message names, skipped ones too (for the ack: the agent drops what it
  // covers). Errors: InvalidArgument for more than 100,000 spans at once.
  absl::StatusOr<absl::Time> AddAliveSpans(SessionId session, const std::vector<AliveSpan>& spans);

  // The stream ended. Without a prior goodbye the host becomes unreachable now.
  void Close(SessionId session, Arrival arrival = {});

  // Marks hosts silent for too long as unreachable, backdated to their last message.
  // Returns how many changed. Call often (the collector does every 100 ms).
  int CheckTimeouts();
  // The same, judging silence as of `as_of` (monotonic, at most now): the point up to which
  // every message that arrived has been applied (Ingestor::AppliedUpTo).
  int CheckTimeouts(absl::Duration as_of);

  // Counts a rejection that happened outside the registry (e.g. in the transport).
  void CountRejected(RejectReason reason);

  // Queries.
  std::vector<HostView> Hosts() const;
  absl::StatusOr<HostView> Host(const std::string& id) const;
  std::vector<Transition> Transitions(const std::string& id) const;
  std::vector<AliveSpan> AliveSpans(const std::string& id) const;
  std::vector<Revision> Revisions(const std::string& id) const;
  RegistryStats Stats() const;
  size_t ConnectedCount() const;

  // Sizes of the registry's tables: hosts, metric families and series shapes (registry-wide,
  // each stored once however many hosts report it), and slots (one per series per host).
  struct Sizes {
    size_t hosts = 0;
    size_t families = 0;
    size_t shapes = 0;
    size_t slots = 0;
  };
  Sizes TableSizes() const;

  // What RenderMetrics shows of the registry at one instant: per host its identity (shared,
  // immutable), state and counters, and the latest values of the hosts that are up, without
  // any formatting. Movable; it points at immutable parts of the registry (series shapes,
  // family names), so it must not outlive the registry that made it. Rendering it needs no
  // lock and can run on any thread.
  class MetricsSnapshot {
   public:
    MetricsSnapshot();
    ~MetricsSnapshot();
    MetricsSnapshot(MetricsSnapshot&&) noexcept;
    MetricsSnapshot& operator=(MetricsSnapshot&&) noexcept;
    size_t host_count() const;
    // Agent-reported values included (those of hosts that are up).
    size_t value_count() const;

   private:
    friend class HostRegistry;
    struct Data;
    std::unique_ptr<Data> data_;
  };

  // Copies what /metrics shows. The only part of a render that holds the registry's lock:
  // O(hosts + values) copies of scalars and pointers (a few ms at 10,000 hosts).
  MetricsSnapshot SnapshotMetrics() const;
  // Appends the per-host families of `snapshot` in Prometheus text format (accord_host_*,
  // accord_agent_*, custom series): families sorted by name, hosts in id order within each.
  // Takes no lock. Only the families `filter` matches (default: all). With a `drain`, `out` is
  // handed to it whenever it holds kExpositionDrainBytes or more.
  static void RenderMetrics(const MetricsSnapshot& snapshot, std::string* out,
                            const FamilyFilter& filter = FamilyFilter(),
                            const ExpositionDrain& drain = nullptr);
  // SnapshotMetrics(), then RenderMetrics(snapshot, out, filter, drain) after the lock is
  // released.
  void RenderMetrics(std::string* out, const FamilyFilter& filter = FamilyFilter(),
                     const ExpositionDrain& drain = nullptr) const;

 private:
  struct HostIdentity;
  struct HostRow;
  struct HostEntry;
  // A metric family. Kept in a deque: `name` never changes or moves once added, so snapshots
  // may point at it.
  struct Family {
    std::string name;
    SeriesKind kind;
    bool kind_conflict;  // hosts declared different kinds: rendered untyped
  };
  // A series shape: a family and the rendered labels after the host label
  // (`,cpu="0",mode="user"`, empty for none). Interned registry-wide; immutable and never
  // removed once added (kept in a deque, so snapshots may point at it).
  struct SeriesShape {
    uint32_t family;
    std::string labels_text;
  };

  HostEntry* SessionHost(SessionId session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records `arrival` (or now) as the host's last sighting; never moves it backwards. Feeds
  // the delivery lag and returns the message's (ms over the host's usual; -1: unknown).
  int64_t Seen(HostEntry* host, Arrival arrival) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetState(HostEntry* host, HostState to, absl::Time at, const char* cause)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An unreachable host's stream carries a message again, `late_ms` late (Seen): up, cause
  // "resumed".
  void Resume(HostEntry* host, int64_t late_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Reject(RejectReason reason, std::string message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Interns the series' family and shape and gives the host a slot for it (unless it has
  // one). A new slot's shape is appended to `grown_shapes`, the caller's copy of the host's
  // slot shapes, which it publishes after. REQUIRES: `desc` validated; `grown_shapes` not null
  // if the host lacks the series.
  void AddSeries(HostEntry* host, const SeriesDescriptor& desc, std::vector<uint32_t>* grown_shapes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string LabelsText(const SeriesDescriptor& desc);
  static std::string SeriesKey(const SeriesDescriptor& desc);
  // The interned shape of `key` (a SeriesKey), or kNoShape if no host has it.
  static constexpr uint32_t kNoShape = ~uint32_t{0};
  uint32_t FindShape(const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::shared_ptr<const HostIdentity> MakeIdentity(
      const std::string& id, const std::string& hostname, const std::string& agent_version,
      const std::map<std::string, std::string>& labels);
  static HostRow ToRow(const HostEntry& host);
  static HostView ToView(const HostRow& row);
  // The host's record; its labels (and labels_changed) only if `with_labels`.
  static HostRecord ToRecord(const HostEntry& host, bool with_labels);
  // Writes the host's record (not its labels) to the sink. REQUIRES: sink_ != nullptr.
  void Persist(HostEntry* host) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  const HostRegistryOptions options_;
  HostLogSink* const sink_;
  SampleObserver* observer_ = nullptr;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<HostEntry>> hosts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<SessionId, HostEntry*> sessions_ ABSL_GUARDED_BY(mu_);
  SessionId next_session_ ABSL_GUARDED_BY(mu_) = 1;
  std::deque<Family> families_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> family_index_ ABSL_GUARDED_BY(mu_);
  std::deque<SeriesShape> shapes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, uint32_t> shape_index_ ABSL_GUARDED_BY(mu_);  // SeriesKey
  RegistryStats stats_ ABSL_GUARDED_BY(mu_);
  DeliveryLag delivery_lag_ ABSL_GUARDED_BY(mu_);
  // Hosts and slots of all hosts, written under mu_ and read without it: readers size (and
  // fault in) their buffers before taking the lock.
  std::atomic<size_t> host_total_{0};
  std::atomic<size_t> slot_total_{0};
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_HOSTS_HOST_REGISTRY_H_
