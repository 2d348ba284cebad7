#include "bench/loadgen/load_generator.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "accord/v1/telemetry.grpc.pb.h"
#include "bench/loadgen/latency_histogram.h"
#include "common/grpc/keepalive.h"
#include "common/logging.h"
#include "grpcpp/grpcpp.h"

namespace accord::bench {

using accord::v1::AgentMessage;
using accord::v1::CollectorMessage;

struct LoadGenerator::Stats {
  std::atomic<int64_t> start_mono_ns{0};
  std::atomic<uint64_t> streams_opened{0}, streams_connected{0}, streams_connected_peak{0},
      agents_ever_connected{0}, reconnects{0}, batches_produced{0}, batches_sent{0},
      batches_resent{0}, batches_acked{0}, batches_dropped{0}, samples_sent{0}, samples_acked{0},
      heartbeats_sent{0}, messages_sent{0}, bytes_sent{0}, errors{0}, shutdown_cancelled{0},
      faults_applied{0}, hosts_killed{0}, hosts_frozen{0}, hosts_reconnected{0};
  LatencyHistogram ack_latency;
  LatencyHistogram connect_latency;
  absl::Mutex mu;
  std::map<std::string, uint64_t> errors_by_code ABSL_GUARDED_BY(mu);
  absl::Time faults_origin ABSL_GUARDED_BY(mu) = absl::InfinitePast();
  std::vector<FaultRecord> fault_records ABSL_GUARDED_BY(mu);
  uint64_t sender_gaps ABSL_GUARDED_BY(mu) = 0;
  absl::Duration sender_gap_max ABSL_GUARDED_BY(mu);
  std::vector<SenderGap> sender_gap_records ABSL_GUARDED_BY(mu);

  void SenderGapSeen(const std::string& host, absl::Time from, absl::Time to) {
    absl::MutexLock lock(&mu);
    ++sender_gaps;
    sender_gap_max = std::max(sender_gap_max, to - from);
    if (sender_gap_records.size() < LoadReport::kMaxSenderGapRecords) {
      sender_gap_records.push_back({host, from, to});
    }
  }

  void Connected() {
    uint64_t now = ++streams_connected;
    uint64_t peak = streams_connected_peak.load();
    while (now > peak && !streams_connected_peak.compare_exchange_weak(peak, now)) {
    }
  }
};

namespace {

struct PendingBatch {
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  std::vector<double> values;
  absl::Duration written_at = absl::InfiniteDuration();  // monotonic; infinite: not yet sent
  bool ever_sent = false;
};

std::string HostId(const std::string& prefix, int index) {
  return absl::StrFormat("%s%05d", prefix, index);
}

// What the fault timetable did to an agent.
enum class Health { kHealthy, kKilled, kFrozen };

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int index) {
  grpc::ChannelArguments args = AgentChannelArguments();
  args.SetInt("accord.loadgen.channel_index", index);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

// One simulated agent: its host model, its pending (unacknowledged) batches and its current
// stream. The driver thread owns it; reactions of its Call touch only the fields under mu.
class LoadGenerator::Agent {
 public:
  Agent(const LoadOptions& options, int index)
      : host_id(HostId(options.host_prefix, index)),
        index(index),
        model(options.shape, options.seed + static_cast<uint64_t>(index)) {}

  const std::string host_id;
  const int index;
  HostModel model;

  // Driver thread only.
  // The stub streams are opened on: a shared channel's, or own_stub's (channels == 0); null
  // while a killed agent's own channel is closed.
  accord::v1::Telemetry::Stub* stub = nullptr;
  std::shared_ptr<grpc::Channel> own_channel;
  std::unique_ptr<accord::v1::Telemetry::Stub> own_stub;
  Health health = Health::kHealthy;
  bool call_killed = false;  // `call` was cancelled by a kill: its end is not an error
  std::unique_ptr<Call> call;
  absl::Duration connect_at;
  absl::Duration next_sample;
  absl::Duration next_heartbeat;
  absl::Duration last_advance;
  bool ever_connected = false;
  uint64_t next_sequence = 1;
  std::vector<double> scratch;

  // Shared with the Call's reactions.
  absl::Mutex mu;
  std::deque<PendingBatch> pending ABSL_GUARDED_BY(mu);
  bool call_done ABSL_GUARDED_BY(mu) = false;
  bool hello_acked_once ABSL_GUARDED_BY(mu) = false;
};

// One stream of one agent. Deleted by the driver thread after OnDone.
class LoadGenerator::Call final : public grpc::ClientBidiReactor<AgentMessage, CollectorMessage> {
 public:
  Call(Agent* agent, const LoadOptions& options, Stats* stats, Clock& clock)
      : agent_(agent), options_(options), stats_(stats), clock_(clock) {}

  // Sends the Hello and starts reading. Call once.
  void Start(uint64_t next_sequence) {
    auto* hello = out_.mutable_hello();
    hello->set_host_id(agent_->host_id);
    hello->set_hostname(agent_->host_id);
    hello->set_agent_version("loadgen");
    (*hello->mutable_labels())["env"] = "loadgen";
    hello->set_boot_time_seconds(agent_->model.boot_time_seconds());
    hello->set_sample_interval_ms(absl::ToInt64Milliseconds(options_.sample_interval));
    hello->set_heartbeat_interval_ms(absl::ToInt64Milliseconds(options_.heartbeat_interval));
    hello->set_next_sequence(next_sequence);
    hello->set_protocol_revision(1);
    {
      absl::MutexLock lock(&agent_->mu);
      writing_ = true;
      hello_written_at_ = clock_.Monotonic();
      last_write_ = clock_.Now();
      agent_->call_done = false;
    }
    ++stats_->streams_opened;
    CountSent();
    agent_->stub->async()->Connect(&context_, this);
    AddHold();  // released when no more writes will start; then OnDone may run
    StartWrite(&out_);
    StartRead(&in_);
    StartCall();
  }

  // A batch was added to the agent's pending list, or a heartbeat is due: write if idle.
  // As the real agent (agent/transport/stream_client.cc), a heartbeat is skipped when a
  // batch went out since the last one: any message is proof of life.
  void Pump(bool heartbeat) {
    bool write;
    {
      absl::MutexLock lock(&agent_->mu);
      if (heartbeat) {
        if (batch_since_beat_) {
          batch_since_beat_ = false;
        } else {
          heartbeat_pending_ = true;
        }
      }
      write = PrepareNextLocked();
    }
    if (write) StartWrite(&out_);
  }

  void RequestGoodbye() {
    bool write;
    {
      absl::MutexLock lock(&agent_->mu);
      goodbye_pending_ = true;
      write = PrepareNextLocked();
    }
    if (write) StartWrite(&out_);
  }

  void Cancel() { context_.TryCancel(); }

  // Frozen: no further write starts (one in flight completes); the stream stays open and reads
  // go on. Unfrozen: writing resumes at the next Pump.
  void SetFrozen(bool frozen) {
    absl::MutexLock lock(&agent_->mu);
    frozen_ = frozen;
    if (!frozen) gap_after_freeze_ = true;  // the silence was the fault, not a gap
  }

  // Wall time the last write (of any message) started.
  absl::Time last_write() {
    absl::MutexLock lock(&agent_->mu);
    return last_write_;
  }

  // The collector answered the hello.
  bool connected() {
    absl::MutexLock lock(&agent_->mu);
    return connected_;
  }

  // True after a goodbye was sent: the end of the stream is expected.
  bool said_goodbye() {
    absl::MutexLock lock(&agent_->mu);
    return goodbye_sent_;
  }

  void OnWriteDone(bool ok) override {
    bool write = false, writes_done = false, release = false;
    {
      absl::MutexLock lock(&agent_->mu);
      writing_ = false;
      if (!ok || read_ended_) {
        release = ReleaseHoldLocked();
      } else if (goodbye_sent_) {
        writes_done = true;
      } else {
        write = PrepareNextLocked();
      }
    }
    if (write) StartWrite(&out_);
    if (writes_done) StartWritesDone();
    if (release) RemoveHold();
  }

  void OnWritesDoneDone(bool ok) override {
    bool release;
    {
      absl::MutexLock lock(&agent_->mu);
      release = ReleaseHoldLocked();
    }
    if (release) RemoveHold();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      bool release = false;
      {
        absl::MutexLock lock(&agent_->mu);
        read_ended_ = true;
        if (!writing_) release = ReleaseHoldLocked();
      }
      if (release) RemoveHold();
      return;
    }
    if (in_.has_ack()) HandleAck(in_.ack().sequence());
    StartRead(&in_);
  }

  void OnDone(const grpc::Status& status) override {
    status_ = status;
    if (connected_) --stats_->streams_connected;
    absl::MutexLock lock(&agent_->mu);
    agent_->call_done = true;  // after this the driver may delete us: touch nothing more
  }

  const grpc::Status& status() const { return status_; }

 private:
  void CountSent() {
    ++stats_->messages_sent;
    stats_->bytes_sent += out_.ByteSizeLong();
  }

  // Returns true when the caller must release the hold (once).
  bool ReleaseHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(agent_->mu) {
    if (hold_released_) return false;
    hold_released_ = true;
    return true;
  }

  void HandleAck(uint64_t sequence) {
    absl::Duration now = clock_.Monotonic();
    absl::MutexLock lock(&agent_->mu);
    if (!connected_) {
      // The first Ack answers the Hello.
      connected_ = true;
      stats_->Connected();
      stats_->connect_latency.Record(now - hello_written_at_);
      if (!agent_->hello_acked_once) {
        agent_->hello_acked_once = true;
        ++stats_->agents_ever_connected;
      }
    }
    auto& pending = agent_->pending;
    // Acks are cumulative and the collector sends at most one per --ingest.ack-interval, so
    // the latency is that of the newest batch an ack covers: older ones were held on purpose.
    absl::Duration newest_written = absl::InfiniteDuration();
    while (!pending.empty() && pending.front().sequence <= sequence) {
      const PendingBatch& b = pending.front();
      if (b.written_at != absl::InfiniteDuration()) {
        newest_written = b.written_at;
        ++stats_->batches_acked;
        stats_->samples_acked += b.values.size();
      }
      pending.pop_front();
    }
    if (newest_written != absl::InfiniteDuration()) {
      stats_->ack_latency.Record(now - newest_written);
    }
  }

  // Fills out_ with the next message to send, if any and no write is in flight.
  bool PrepareNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(agent_->mu) {
    if (writing_ || frozen_ || goodbye_sent_ || read_ended_ || hold_released_) return false;
    out_.Clear();
    PendingBatch* next = nullptr;
    for (PendingBatch& b : agent_->pending) {
      if (b.sequence > sent_sequence_) {
        next = &b;
        break;
      }
    }
    if (goodbye_pending_ && next == nullptr) {
      out_.mutable_goodbye()->set_reason(accord::v1::Goodbye::REASON_AGENT_STOPPING);
      goodbye_sent_ = true;
    } else if (heartbeat_pending_) {
      heartbeat_pending_ = false;
      out_.mutable_heartbeat()->set_timestamp_ms(absl::ToUnixMillis(clock_.Now()));
      ++stats_->heartbeats_sent;
    } else if (next != nullptr) {
      sent_sequence_ = next->sequence;
      batch_since_beat_ = true;
      auto* b = out_.mutable_batch();
      b->set_sequence(next->sequence);
      b->set_timestamp_ms(next->timestamp_ms);
      b->set_sent_ms(absl::ToUnixMillis(clock_.Now()));
      const auto& series = agent_->model.series();
      if (!described_) {
        described_ = true;
        for (size_t i = 0; i < series.size(); ++i) {
          auto* d = b->add_new_series();
          d->set_id(static_cast<uint32_t>(i));
          d->set_name(series[i].name);
          d->set_kind(series[i].counter ? accord::v1::METRIC_KIND_COUNTER
                                        : accord::v1::METRIC_KIND_GAUGE);
          for (const auto& [k, v] : series[i].labels) {
            auto* l = d->add_labels();
            l->set_name(k);
            l->set_value(v);
          }
        }
      }
      auto* ids = b->mutable_series_ids();
      ids->Reserve(static_cast<int>(next->values.size()));
      for (size_t i = 0; i < next->values.size(); ++i)
        ids->AddAlreadyReserved(static_cast<uint32_t>(i));
      b->mutable_values()->Add(next->values.begin(), next->values.end());
      next->written_at = clock_.Monotonic();
      if (next->ever_sent) ++stats_->batches_resent;
      next->ever_sent = true;
      ++stats_->batches_sent;
      stats_->samples_sent += next->values.size();
    } else {
      return false;  // idle
    }
    writing_ = true;
    const absl::Time now = clock_.Now();
    if (connected_ && !gap_after_freeze_ && last_write_ != absl::InfinitePast() &&
        now - last_write_ > kSenderGapHeartbeats * options_.heartbeat_interval) {
      stats_->SenderGapSeen(agent_->host_id, last_write_, now);
    }
    gap_after_freeze_ = false;
    last_write_ = now;
    CountSent();
    return true;
  }

  Agent* const agent_;
  const LoadOptions& options_;
  Stats* const stats_;
  Clock& clock_;
  grpc::ClientContext context_;
  AgentMessage out_;  // owned by the write in flight while writing_
  CollectorMessage in_;
  grpc::Status status_;

  // Under agent_->mu.
  bool writing_ = false;
  bool read_ended_ = false;
  bool hold_released_ = false;
  bool heartbeat_pending_ = false;
  bool batch_since_beat_ = false;
  bool goodbye_pending_ = false;
  bool goodbye_sent_ = false;
  bool described_ = false;
  bool connected_ = false;
  bool frozen_ = false;
  bool gap_after_freeze_ = false;  // the next write ends a freeze (SenderGap)
  uint64_t sent_sequence_ = 0;
  absl::Duration hello_written_at_;
  absl::Time last_write_ = absl::InfinitePast();
};

LoadGenerator::LoadGenerator(LoadOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock), stats_(std::make_unique<Stats>()) {}

LoadGenerator::~LoadGenerator() = default;

void LoadGenerator::Stop() {
  absl::MutexLock lock(&stop_mu_);
  stop_ = true;
}

bool LoadGenerator::WaitStop(absl::Duration timeout) {
  absl::MutexLock lock(&stop_mu_);
  auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(stop_mu_) { return stop_; };
  return stop_mu_.AwaitWithTimeout(absl::Condition(&stopped), timeout);
}

LoadReport LoadGenerator::Run(absl::Duration report_interval,
                              std::function<void(const LoadReport&)> progress) {
  const LoadOptions& o = options_;
  const absl::Duration start = clock_.Monotonic();
  stats_->start_mono_ns = absl::ToInt64Nanoseconds(start);

  // Channels, each with its own subchannel: one per agent (owned by the agent, so that a kill
  // can close its connection), or `channels` shared ones.
  const bool own_channels = o.channels <= 0;
  const int n_channels = own_channels ? o.agents : std::min(o.channels, o.agents);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<accord::v1::Telemetry::Stub>> stubs;
  for (int c = 0; !own_channels && c < n_channels; ++c) {
    channels.push_back(MakeChannel(o.collector_address, c));
    stubs.push_back(accord::v1::Telemetry::NewStub(channels.back()));
  }
  auto open_own_channel = [&o](Agent& a, int index) {
    a.own_channel = MakeChannel(o.collector_address, index);
    a.own_stub = accord::v1::Telemetry::NewStub(a.own_channel);
    a.stub = a.own_stub.get();
  };
  std::vector<std::unique_ptr<Agent>> agents;
  agents.reserve(o.agents);
  for (int i = 0; i < o.agents; ++i) {
    auto a = std::make_unique<Agent>(o, i);
    if (own_channels) {
      open_own_channel(*a, i);
    } else {
      a->stub = stubs[i % n_channels].get();
    }
    a->connect_at = start + o.ramp_up * i / std::max(1, o.agents);
    a->next_sample = a->connect_at;
    a->next_heartbeat = a->connect_at + o.heartbeat_interval;
    a->last_advance = a->connect_at;
    agents.push_back(std::move(a));
  }

  const absl::Duration end = start + o.duration;
  absl::Duration next_report = start + report_interval;

  // Fault timetable: entries fire at origin + at, in order.
  bool origin_known = !o.faults_from_all_connected;
  absl::Duration origin = start;
  if (origin_known) {
    absl::MutexLock lock(&stats_->mu);
    stats_->faults_origin = clock_.Now();
  }
  size_t next_fault = 0;
  auto apply_fault = [&](const PlannedFault& f, absl::Duration now) {
    std::vector<FaultRecord> records;
    records.reserve(f.hosts.size());
    for (int i : f.hosts) {
      if (i < 0 || i >= o.agents) continue;
      Agent& a = *agents[i];
      FaultRecord r;
      r.kind = f.kind;
      r.host = a.host_id;
      r.spec_index = f.spec_index;
      if (f.kind == FaultKind::kReconnect) {
        if (a.health == Health::kHealthy) continue;
        r.at = clock_.Now();
        if (a.call != nullptr && !a.call_killed) {
          a.call->SetFrozen(false);  // the agent loop pumps a heartbeat and the missed batch
        } else {
          a.connect_at = now;  // a new stream (and connection) once the old one is gone
        }
        a.next_heartbeat = now;
        a.health = Health::kHealthy;
        ++stats_->hosts_reconnected;
      } else {
        if (a.health != Health::kHealthy) continue;
        if (a.call != nullptr) {
          r.last_message_at = a.call->last_write();
          r.connected = a.call->connected();
        }
        r.at = clock_.Now();
        if (f.kind == FaultKind::kKill) {
          a.health = Health::kKilled;
          if (a.call != nullptr) {
            a.call_killed = true;
            a.call->Cancel();  // its connection is closed when the call is reaped
          } else if (own_channels) {
            a.stub = nullptr;  // between streams: close the idle connection now
            a.own_stub.reset();
            a.own_channel.reset();
          }
          ++stats_->hosts_killed;
        } else {
          a.health = Health::kFrozen;
          if (a.call != nullptr) a.call->SetFrozen(true);
          ++stats_->hosts_frozen;
        }
      }
      records.push_back(std::move(r));
    }
    ++stats_->faults_applied;
    absl::MutexLock lock(&stats_->mu);
    for (auto& r : records) stats_->fault_records.push_back(std::move(r));
  };
  auto reap = [&](Agent& a) -> bool {  // true when the call ended and was deleted
    if (a.call == nullptr) return false;
    {
      absl::MutexLock lock(&a.mu);
      if (!a.call_done) return false;
    }
    return true;
  };

  // Driver loop: bounded by `end` (and Stop).
  while (true) {
    absl::Duration now = clock_.Monotonic();
    if (now >= end) break;
    absl::Duration wake = std::min(end, now + absl::Milliseconds(50));
    if (!origin_known && stats_->streams_connected.load() >= static_cast<uint64_t>(o.agents)) {
      origin_known = true;
      origin = now;
      absl::MutexLock lock(&stats_->mu);
      stats_->faults_origin = clock_.Now();
    }
    while (origin_known && next_fault < o.faults.size() &&
           now >= origin + o.faults[next_fault].at) {
      apply_fault(o.faults[next_fault++], now);
    }
    if (origin_known && next_fault < o.faults.size()) {
      wake = std::min(wake, origin + o.faults[next_fault].at);
    }
    for (auto& ap : agents) {
      Agent& a = *ap;
      if (reap(a)) {
        const bool killed = a.call_killed;
        a.call_killed = false;
        if (a.health == Health::kHealthy && !killed) {
          const grpc::Status& st = a.call->status();
          ++stats_->errors;
          {
            absl::MutexLock lock(&stats_->mu);
            ++stats_->errors_by_code[absl::StrCat(
                absl::StatusCodeToString(static_cast<absl::StatusCode>(st.error_code())))];
          }
          if (stats_->errors.load() <= 10) {
            Log(LogLevel::kWarn, "stream ended",
                {{"host", a.host_id},
                 {"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(st.error_code()))},
                 {"error", st.error_message()}});
          }
          a.connect_at = now + o.reconnect_delay;
        } else if (a.health != Health::kHealthy) {
          a.connect_at = absl::InfiniteDuration();  // until a reconnect entry
        }  // else: killed, and reconnected before its stream ended: connect_at is set
        a.call.reset();
        if (killed && own_channels) {
          // Close the killed agent's TCP connection (its only user was the call).
          a.stub = nullptr;
          a.own_stub.reset();
          a.own_channel.reset();
        }
      }
      if (a.health != Health::kHealthy) continue;  // killed or frozen: silent
      if (a.call == nullptr && now >= a.connect_at) {
        if (a.stub == nullptr) open_own_channel(a, a.index);
        if (a.ever_connected) ++stats_->reconnects;
        a.ever_connected = true;
        a.call = std::make_unique<Call>(&a, o, stats_.get(), clock_);
        a.call->Start(a.next_sequence);
      }
      bool pump = false, heartbeat = false;
      if (now >= a.next_sample) {
        a.model.Advance(now - a.last_advance, &a.scratch);
        a.last_advance = now;
        PendingBatch b;
        b.sequence = a.next_sequence++;
        b.timestamp_ms = absl::ToUnixMillis(clock_.Now());
        b.values = a.scratch;
        {
          absl::MutexLock lock(&a.mu);
          a.pending.push_back(std::move(b));
          while (a.pending.size() > static_cast<size_t>(std::max(1, o.max_pending_batches))) {
            a.pending.pop_front();
            ++stats_->batches_dropped;
          }
        }
        ++stats_->batches_produced;
        a.next_sample += o.sample_interval;
        if (a.next_sample <= now) a.next_sample = now + o.sample_interval;  // fell behind
        pump = true;
      }
      if (now >= a.next_heartbeat) {
        a.next_heartbeat += o.heartbeat_interval;
        if (a.next_heartbeat <= now) a.next_heartbeat = now + o.heartbeat_interval;
        heartbeat = true;
      }
      if (a.call != nullptr && (pump || heartbeat)) a.call->Pump(heartbeat);
      wake = std::min({wake, a.next_sample, a.next_heartbeat});
      if (a.call == nullptr) wake = std::min(wake, a.connect_at);
    }
    if (progress && report_interval > absl::ZeroDuration() && now >= next_report) {
      progress(Snapshot());
      next_report += report_interval;
    }
    if (WaitStop(wake - clock_.Monotonic())) break;
  }

  // Shutdown: goodbye (or cancel), bounded by the grace, then cancel what is left.
  for (auto& a : agents) {
    if (a->call == nullptr) continue;
    if (o.goodbye && a->health == Health::kHealthy) {  // a frozen agent says nothing
      a->call->RequestGoodbye();
    } else {
      a->call->Cancel();
    }
  }
  auto all_done = [&]() {
    for (auto& a : agents) {
      if (a->call == nullptr) continue;
      absl::MutexLock lock(&a->mu);
      if (!a->call_done) return false;
    }
    return true;
  };
  const absl::Duration grace_end = clock_.Monotonic() + o.shutdown_grace;
  while (!all_done() && clock_.Monotonic() < grace_end) absl::SleepFor(absl::Milliseconds(10));
  for (auto& a : agents) {
    if (a->call == nullptr) continue;
    bool done;
    {
      absl::MutexLock lock(&a->mu);
      done = a->call_done;
    }
    if (!done) {
      ++stats_->shutdown_cancelled;
      a->call->Cancel();
    }
  }
  const absl::Duration cancel_end = clock_.Monotonic() + absl::Seconds(5);
  while (!all_done() && clock_.Monotonic() < cancel_end) absl::SleepFor(absl::Milliseconds(10));
  LoadReport report = Snapshot();
  for (auto& a : agents) {
    if (a->call == nullptr) continue;
    bool done;
    {
      absl::MutexLock lock(&a->mu);
      done = a->call_done;
    }
    if (!done) {
      // gRPC never finished this stream: leak it (and its agent) rather than free memory a
      // reaction may still use.
      a->call.release();
      a.release();
      continue;
    }
    const grpc::Status& st = a->call->status();
    bool expected = (o.goodbye && a->call->said_goodbye() && st.ok()) ||
                    st.error_code() == grpc::StatusCode::CANCELLED;
    if (!expected) {
      ++stats_->errors;
      absl::MutexLock lock(&stats_->mu);
      ++stats_->errors_by_code[absl::StrCat(
          absl::StatusCodeToString(static_cast<absl::StatusCode>(st.error_code())))];
    }
    a->call.reset();
  }
  report = Snapshot();
  return report;
}

LoadReport LoadGenerator::Snapshot() const {
  const Stats& s = *stats_;
  LoadReport r;
  r.elapsed = clock_.Monotonic() - absl::Nanoseconds(s.start_mono_ns.load());
  r.agents = options_.agents;
  r.channels =
      options_.channels <= 0 ? options_.agents : std::min(options_.channels, options_.agents);
  r.series_per_agent = HostModel::SeriesCount(options_.shape);
  r.streams_opened = s.streams_opened;
  r.streams_connected = s.streams_connected;
  r.streams_connected_peak = s.streams_connected_peak;
  r.reconnects = s.reconnects;
  r.batches_produced = s.batches_produced;
  r.batches_sent = s.batches_sent;
  r.batches_resent = s.batches_resent;
  r.batches_acked = s.batches_acked;
  r.batches_dropped = s.batches_dropped;
  r.samples_sent = s.samples_sent;
  r.samples_acked = s.samples_acked;
  r.heartbeats_sent = s.heartbeats_sent;
  r.messages_sent = s.messages_sent;
  r.bytes_sent = s.bytes_sent;
  r.errors = s.errors;
  r.shutdown_cancelled = s.shutdown_cancelled;
  {
    absl::MutexLock lock(&stats_->mu);
    r.errors_by_code = s.errors_by_code;
  }
  r.ack_latency_count = s.ack_latency.Count();
  r.ack_latency_p50 = s.ack_latency.Quantile(0.5);
  r.ack_latency_p99 = s.ack_latency.Quantile(0.99);
  r.ack_latency_max = s.ack_latency.Max();
  r.agents_ever_connected = s.agents_ever_connected;
  r.connect_latency_p50 = s.connect_latency.Quantile(0.5);
  r.connect_latency_p99 = s.connect_latency.Quantile(0.99);
  r.faults_planned = options_.faults.size();
  r.faults_applied = s.faults_applied;
  r.hosts_killed = s.hosts_killed;
  r.hosts_frozen = s.hosts_frozen;
  r.hosts_reconnected = s.hosts_reconnected;
  {
    absl::MutexLock lock(&stats_->mu);
    r.faults_origin = s.faults_origin;
    r.fault_records = s.fault_records;
    r.sender_gaps = s.sender_gaps;
    r.sender_gap_max = s.sender_gap_max;
    r.sender_gap_records = s.sender_gap_records;
  }
  return r;
}

namespace {
double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// Unix seconds with microseconds, exactly ("1764321234.123456"); null for InfinitePast.
std::string UnixSecondsJson(absl::Time t) {
  if (t == absl::InfinitePast()) return "null";
  int64_t us = absl::ToUnixMicros(t);
  return absl::StrFormat("%d.%06d", us / 1000000, us % 1000000);
}

// Host ids are the prefix and digits: the prefix is the only free text.
std::string JsonHost(const std::string& id) {
  std::string host;
  for (char c : id) {
    if (c == '"' || c == '\\') host.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) host.push_back(c);
  }
  return host;
}

std::string FaultsJson(const LoadReport& r) {
  std::string out = absl::StrFormat(
      "\"faults_origin_unix_s\":%s,\"faults_planned\":%d,\"faults_applied\":%d,"
      "\"hosts_killed\":%d,\"hosts_frozen\":%d,\"hosts_reconnected\":%d,\"fault_events\":[",
      UnixSecondsJson(r.faults_origin), r.faults_planned, r.faults_applied, r.hosts_killed,
      r.hosts_frozen, r.hosts_reconnected);
  for (size_t i = 0; i < r.fault_records.size(); ++i) {
    const FaultRecord& f = r.fault_records[i];
    absl::StrAppend(&out, i > 0 ? "," : "", "{\"kind\":\"", FaultKindName(f.kind), "\",\"host\":\"",
                    JsonHost(f.host), "\",\"entry\":", f.spec_index,
                    ",\"at_unix_s\":", UnixSecondsJson(f.at),
                    ",\"last_message_unix_s\":", UnixSecondsJson(f.last_message_at),
                    ",\"connected\":", f.connected ? "true" : "false", "}");
  }
  absl::StrAppend(&out, "],\"sender_gap_heartbeats\":", kSenderGapHeartbeats,
                  ",\"sender_gaps\":", r.sender_gaps,
                  ",\"sender_gap_max_ms\":", absl::StrFormat("%.3f", Ms(r.sender_gap_max)),
                  ",\"sender_gap_events\":[");
  for (size_t i = 0; i < r.sender_gap_records.size(); ++i) {
    const SenderGap& g = r.sender_gap_records[i];
    absl::StrAppend(&out, i > 0 ? "," : "", "{\"host\":\"", JsonHost(g.host),
                    "\",\"from_unix_s\":", UnixSecondsJson(g.from),
                    ",\"to_unix_s\":", UnixSecondsJson(g.to), "}");
  }
  out.append("]");
  return out;
}
}  // namespace

std::string FormatReportLine(const LoadReport& r) {
  return absl::StrFormat(
      "t=%.0fs connected=%d/%d batches_sent=%d acked=%d samples_sent=%d errors=%d "
      "ack_p50=%.2fms ack_p99=%.2fms faults=%d/%d",
      absl::ToDoubleSeconds(r.elapsed), r.streams_connected, r.agents, r.batches_sent,
      r.batches_acked, r.samples_sent, r.errors, Ms(r.ack_latency_p50), Ms(r.ack_latency_p99),
      r.faults_applied, r.faults_planned);
}

std::string FormatReportText(const LoadReport& r) {
  std::string out;
  auto line = [&out](absl::string_view k, const std::string& v) {
    absl::StrAppend(&out, absl::StrFormat("%-24s %s\n", k, v));
  };
  line("elapsed", absl::StrFormat("%.1f s", absl::ToDoubleSeconds(r.elapsed)));
  line("agents", absl::StrCat(r.agents, " (", r.series_per_agent, " series each, ", r.channels,
                              " channels)"));
  line("streams_opened", absl::StrCat(r.streams_opened));
  line("streams_connected_peak", absl::StrCat(r.streams_connected_peak));
  line("agents_ever_connected", absl::StrCat(r.agents_ever_connected));
  line("reconnects", absl::StrCat(r.reconnects));
  line("batches_produced", absl::StrCat(r.batches_produced));
  line("batches_sent", absl::StrCat(r.batches_sent, " (", r.batches_resent, " resent)"));
  line("batches_acked", absl::StrCat(r.batches_acked));
  line("batches_dropped", absl::StrCat(r.batches_dropped));
  line("samples_sent", absl::StrCat(r.samples_sent));
  line("samples_acked", absl::StrCat(r.samples_acked));
  line("heartbeats_sent", absl::StrCat(r.heartbeats_sent));
  line("bytes_sent", absl::StrCat(r.bytes_sent, " (protobuf payload)"));
  std::string codes;
  for (const auto& [code, n] : r.errors_by_code) absl::StrAppend(&codes, " ", code, "=", n);
  line("errors", absl::StrCat(r.errors, codes));
  line("shutdown_cancelled", absl::StrCat(r.shutdown_cancelled));
  line("sender_gaps", absl::StrFormat("%d writes came over %d heartbeats after the previous one "
                                      "(longest %.0f ms): the generator fell behind",
                                      r.sender_gaps, kSenderGapHeartbeats, Ms(r.sender_gap_max)));
  line("ack_latency",
       absl::StrFormat("p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d acks)", Ms(r.ack_latency_p50),
                       Ms(r.ack_latency_p99), Ms(r.ack_latency_max), r.ack_latency_count));
  line("connect_latency", absl::StrFormat("p50 %.2f ms, p99 %.2f ms", Ms(r.connect_latency_p50),
                                          Ms(r.connect_latency_p99)));
  if (r.faults_planned > 0) {
    line("faults", absl::StrFormat("%d of %d entries applied: %d hosts killed, %d frozen, "
                                   "%d reconnected (times: --output=json)",
                                   r.faults_applied, r.faults_planned, r.hosts_killed,
                                   r.hosts_frozen, r.hosts_reconnected));
  }
  return out;
}

std::string FormatReportJson(const LoadReport& r) {
  std::string codes;
  for (const auto& [code, n] : r.errors_by_code) {
    absl::StrAppend(&codes, codes.empty() ? "" : ",", "\"", code, "\":", n);
  }
  return absl::StrFormat(
      "{\"elapsed_seconds\":%.3f,\"agents\":%d,\"channels\":%d,\"series_per_agent\":%d,"
      "\"streams_opened\":%d,\"streams_connected\":%d,\"streams_connected_peak\":%d,"
      "\"agents_ever_connected\":%d,\"reconnects\":%d,\"batches_produced\":%d,"
      "\"batches_sent\":%d,\"batches_resent\":%d,\"batches_acked\":%d,\"batches_dropped\":%d,"
      "\"samples_sent\":%d,\"samples_acked\":%d,\"heartbeats_sent\":%d,\"messages_sent\":%d,"
      "\"bytes_sent\":%d,\"errors\":%d,\"errors_by_code\":{%s},\"shutdown_cancelled\":%d,"
      "\"ack_latency_count\":%d,\"ack_latency_p50_ms\":%.3f,\"ack_latency_p99_ms\":%.3f,"
      "\"ack_latency_max_ms\":%.3f,\"connect_latency_p50_ms\":%.3f,"
      "\"connect_latency_p99_ms\":%.3f,%s}\n",
      absl::ToDoubleSeconds(r.elapsed), r.agents, r.channels, r.series_per_agent, r.streams_opened,
      r.streams_connected, r.streams_connected_peak, r.agents_ever_connected, r.reconnects,
      r.batches_produced, r.batches_sent, r.batches_resent, r.batches_acked, r.batches_dropped,
      r.samples_sent, r.samples_acked, r.heartbeats_sent, r.messages_sent, r.bytes_sent, r.errors,
      codes, r.shutdown_cancelled, r.ack_latency_count, Ms(r.ack_latency_p50),
      Ms(r.ack_latency_p99), Ms(r.ack_latency_max), Ms(r.connect_latency_p50),
      Ms(r.connect_latency_p99), FaultsJson(r));
}

}  // namespace accord::bench
