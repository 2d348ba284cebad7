#include "agent/transport/stream_client.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accord/v1/telemetry.grpc.pb.h"
#include "agent/transport/grpc_runtime.h"
#include "agent/transport/heartbeat_schedule.h"
#include "common/backoff.h"
#include "common/grpc/keepalive.h"
#include "common/grpc/status.h"
#include "common/logging.h"
#include "common/utf8.h"
#include "grpcpp/grpcpp.h"

namespace accord::agent {

using accord::v1::AgentMessage;
using accord::v1::CollectorMessage;

struct StreamClient::Channel {
  std::vector<std::string> addresses;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<accord::v1::Telemetry::Stub>> stubs;
  // Completions of every stream, one at a time; only the StreamClient thread polls it.
  grpc::CompletionQueue cq;
};

// One stream, driven through the StreamClient thread's completion queue: gRPC runs no
// thread of its own for it. (The callback API it replaced polled from two executor threads
// that woke about 7 times a second on an idle agent: ~0.35 ms of CPU a second, as much as
// reading all of /proc once.) Writes may start on any thread (Kick, Stop, heartbeats);
// every completion is handled on the StreamClient thread, in Handle. Deleted by that thread
// once Done().
class StreamClient::Call {
 public:
  enum Tag : intptr_t { kStart = 1, kWrite, kRead, kWritesDone, kFinish };

  Call(StreamClient* owner, accord::v1::Telemetry::Stub* stub, grpc::CompletionQueue* cq)
      : owner_(owner) {
    const auto& o = owner_->options_;
    auto* hello = out_.mutable_hello();
    // Every string goes through ToValidUtf8 on its way into a message (here and in
    // FillBatch): the hostname, the host id and labels from the command line or config file
    // are bytes that need not be UTF-8, and the collector cannot parse a message with invalid
    // UTF-8 in a string field at all (protobuf refuses the whole message).
    hello->set_host_id(ToValidUtf8(o.host_id));
    hello->set_hostname(ToValidUtf8(o.hostname));
    hello->set_agent_version(ToValidUtf8(o.agent_version));
    for (const auto& [key, value] : o.labels) {
      (*hello->mutable_labels())[ToValidUtf8(key)] = ToValidUtf8(value);
    }
    hello->set_boot_time_seconds(o.boot_time_seconds);
    hello->set_sample_interval_ms(absl::ToInt64Milliseconds(o.sample_interval));
    hello->set_heartbeat_interval_ms(absl::ToInt64Milliseconds(o.heartbeat_interval));
    live_from_ = owner_->next_sequence_();
    hello->set_next_sequence(live_from_);
    hello->set_protocol_revision(2);
    budget_ = owner_->options_.backfill_batches_per_second;
    stream_ = stub->PrepareAsyncConnect(&context_, cq);
    std::lock_guard<std::mutex> lock(mu_);
    ++outstanding_;
    stream_->StartCall(TagOf(kStart));
  }

  // Handles one completion from the queue (StreamClient thread only).
  void Handle(void* tag, bool ok) {
    bool acked = false;
    uint64_t ack_sequence = 0;
    int64_t alive_until_ms = 0;
    absl::Duration ack_hold;
    {
      std::lock_guard<std::mutex> lock(mu_);
      --outstanding_;
      switch (static_cast<Tag>(reinterpret_cast<intptr_t>(tag))) {
        case kStart:
          if (!ok) {
            FinishLocked();  // the stream never opened: collect its status
            break;
          }
          started_ = true;
          // The hello (built by the constructor) goes first; then whatever is waiting.
          WriteLocked();
          ReadLocked();
          break;
        case kWrite:
          writing_ = false;
          if (!ok) break;  // the stream broke: the read fails too and Finish follows
          if (goodbye_sent_) {
            if (!writes_done_ && !closed_) {
              writes_done_ = true;
              ++outstanding_;
              stream_->WritesDone(TagOf(kWritesDone));
            }
            break;
          }
          PumpLocked();
          break;
        case kRead:
          if (!ok) {
            closed_ = true;  // no more writes may start
            FinishLocked();
            break;
          }
          if (in_.has_ack()) {
            const auto& ack = in_.ack();
            if (ack.protocol_revision() >= 2) collector_revision_ = ack.protocol_revision();
            acked = true;
            ack_sequence = ack.sequence();
            alive_until_ms = ack.alive_until_ms();
            ack_hold = absl::Milliseconds(ack.ack_interval_ms());
          }
          ReadLocked();
          break;
        case kWritesDone:
          break;
        case kFinish: {
          finished_ = true;
          const auto& trailers = context_.GetServerTrailingMetadata();
          auto it = trailers.find("accord-rejected-sequence");
          uint64_t seq;
          if (it != trailers.end() &&
              absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &seq)) {
            rejected_sequence_ = seq;
          }
          break;
        }
      }
    }
    if (acked) {
      owner_->spool_.SetAckHold(ack_hold);
      owner_->spool_.Ack(ack_sequence);
      if (alive_until_ms > 0) {
        // Spans were sent with millisecond times: the ack covers the whole millisecond.
        owner_->spool_.AckAliveSpans(absl::FromUnixMillis(alive_until_ms + 1) -
                                     absl::Nanoseconds(1));
      }
      owner_->acked_since_connect_ = true;
    }
  }

  // The stream has ended and no operation is pending: it may be deleted.
  bool Done() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_ && outstanding_ == 0;
  }

  // Sends the next message if no write is in flight. `new_batch`: a batch was just spooled
  // (a candidate for a live preview).
  void Pump(bool new_batch = false) {
    std::lock_guard<std::mutex> lock(mu_);
    if (new_batch) new_batch_ = true;
    PumpLocked();
  }
  // Whether a backlog is being sent at the paced rate (the heartbeat tick's refills pace it).
  bool Pacing() {
    std::lock_guard<std::mutex> lock(mu_);
    return owner_->options_.backfill_batches_per_second > 0 && !backlog_done_;
  }
  // Adds `elapsed` worth of batch budget (at most one second's) and sends what it allows.
  void Refill(absl::Duration elapsed) {
    std::lock_guard<std::mutex> lock(mu_);
    int rate = owner_->options_.backfill_batches_per_second;
    if (rate <= 0) return;
    budget_ = std::min<double>(rate, budget_ + rate * absl::ToDoubleSeconds(elapsed));
    PumpLocked();
  }
  // A heartbeat is due. Skipped when a batch went out since the last one: any message is
  // proof of life, and with equal sample and heartbeat intervals this halves the writes.
  // Returns when that batch went out (monotonic) if skipped, nullopt if not.
  std::optional<absl::Duration> RequestHeartbeat() {
    std::lock_guard<std::mutex> lock(mu_);
    if (batch_since_beat_) {
      batch_since_beat_ = false;
      return batch_sent_at_;
    }
    heartbeat_pending_ = true;
    PumpLocked();
    return std::nullopt;
  }
  void RequestGoodbye(GoodbyeReason reason) {
    std::lock_guard<std::mutex> lock(mu_);
    goodbye_pending_ = true;
    goodbye_reason_ = reason;
    PumpLocked();
  }
  void Cancel() { context_.TryCancel(); }

  grpc::Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  uint64_t rejected_sequence() {
    std::lock_guard<std::mutex> lock(mu_);
    return rejected_sequence_;
  }
  bool goodbye_sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return goodbye_sent_;
  }

 private:
  static void* TagOf(Tag tag) { return reinterpret_cast<void*>(static_cast<intptr_t>(tag)); }

  // Sends out_; the write is in flight until its kWrite completion.
  void WriteLocked() {
    writing_ = true;
    CountSent();
    ++outstanding_;
    stream_->Write(out_, TagOf(kWrite));
  }
  void ReadLocked() {
    ++outstanding_;
    stream_->Read(&in_, TagOf(kRead));
  }
  void FinishLocked() {
    if (finish_called_) return;
    finish_called_ = true;
    ++outstanding_;
    stream_->Finish(&status_, TagOf(kFinish));
  }

  void CountSent() {
    ++owner_->stats_.messages_sent;
    owner_->stats_.bytes_sent += out_.ByteSizeLong();
  }

  bool HasBudget() const {
    return owner_->options_.backfill_batches_per_second <= 0 || budget_ >= 1;
  }

  void PumpLocked() {
    if (!started_ || writing_ || goodbye_sent_ || closed_) return;
    out_.Clear();
    if (goodbye_pending_) {
      auto* g = out_.mutable_goodbye();
      g->set_reason(goodbye_reason_ == GoodbyeReason::kHostShutdown
                        ? accord::v1::Goodbye::REASON_HOST_SHUTDOWN
                        : accord::v1::Goodbye::REASON_AGENT_STOPPING);
      goodbye_sent_ = true;
    } else if (heartbeat_pending_) {
      heartbeat_pending_ = false;
      out_.mutable_heartbeat()->set_timestamp_ms(absl::ToUnixMillis(owner_->clock_.Now()));
    } else if (!alive_sent_ && !(alive_ = owner_->spool_.PendingAliveSpans()).empty()) {
      // Evidence from the time the collector could not be reached: first, it fixes the SLA.
      alive_sent_ = true;
      auto* a = out_.mutable_alive();
      for (const AliveSpan& span : alive_) {
        auto* out = a->add_spans();
        out->set_first_ms(absl::ToUnixMillis(span.first));
        out->set_last_ms(absl::ToUnixMillis(span.last));
        out->set_boot_time_seconds(span.boot_time);
      }
    } else if (PreviewDue()) {
      // batch_ holds the live batch PreviewDue found.
      preview_sequence_ = batch_.sequence;
      ++owner_->stats_.previews_sent;
      FillBatch(/*preview=*/true);
    } else if (HasBudget() && NextSendable()) {
      if (owner_->options_.backfill_batches_per_second > 0) budget_ -= 1;
      alive_sent_ = true;  // spans recorded after this stream opened wait for the next one
      sent_sequence_ = batch_.sequence;
      batch_since_beat_ = true;
      batch_sent_at_ = owner_->clock_.Monotonic();
      if (batch_.sequence >= live_from_) backlog_done_ = true;  // caught up: no more previews
      FillBatch(/*preview=*/false);
    } else {
      if (!HasBudget()) return;  // paced: Refill pumps again
      backlog_done_ = true;      // nothing left to send
      return;                    // idle
    }
    WriteLocked();
  }
  // True when a live batch (produced since the stream opened, not yet sent or previewed)
  // should go out ahead of the backlog; leaves it in batch_.
  bool PreviewDue() {
    if (!owner_->options_.live_previews || backlog_done_ || collector_revision_ < 2 ||
        !new_batch_) {
      return false;
    }
    new_batch_ = false;
    uint64_t after = std::max({preview_sequence_, sent_sequence_, live_from_ - 1});
    if (!owner_->spool_.PreviewAfter(after, &batch_) || !Resolvable(batch_)) return false;
    // More live batches may be waiting behind this one.
    new_batch_ = true;
    return true;
  }
  // True when every series of `batch` is known to the series table (ids are dense).
  bool Resolvable(const PendingBatch& batch) const {
    const size_t known = owner_->series_.size();
    for (uint32_t id : batch.series_ids) {
      if (id >= known) return false;
    }
    return true;
  }
  // The next spooled batch to send in order, in batch_. A batch naming series this process
  // cannot describe (spooled by a process whose series never became durable) is dropped and
  // counted, never sent under wrong names, never a crash.
  bool NextSendable() {
    while (owner_->spool_.NextAfter(sent_sequence_, &batch_)) {
      if (Resolvable(batch_)) return true;
      Log(LogLevel::kError, "spooled batch names series this agent cannot describe; dropped",
          {{"sequence", absl::StrCat(batch_.sequence)},
           {"samples", absl::StrCat(batch_.values.size())}});
      ++owner_->stats_.unresolvable_batches;
      owner_->spool_.Reject(batch_.sequence);
      sent_sequence_ = batch_.sequence;
    }
    return false;
  }
  void FillBatch(bool preview) {
    {
      auto* b = out_.mutable_batch();
      b->set_preview(preview);
      b->set_sent_ms(absl::ToUnixMillis(owner_->clock_.Now()));
      b->set_sequence(batch_.sequence);
      b->set_timestamp_ms(batch_.timestamp_ms);
      for (uint32_t id : batch_.series_ids) {
        if (id >= described_.size()) described_.resize(id + 1, false);
        if (described_[id]) continue;
        described_[id] = true;
        SeriesInfo info = *owner_->series_.Find(id);  // Resolvable() checked it
        auto* d = b->add_new_series();
        d->set_id(id);
        // The sampler and the textfile source already produce valid UTF-8; this also covers
        // series journaled by an older agent and any future source (see the Hello above).
        d->set_name(ToValidUtf8(info.name));
        d->set_kind(info.kind == MetricKind::kCounter ? accord::v1::METRIC_KIND_COUNTER
                                                      : accord::v1::METRIC_KIND_GAUGE);
        for (const auto& [k, v] : info.labels) {
          auto* l = d->add_labels();
          l->set_name(ToValidUtf8(k));
          l->set_value(ToValidUtf8(v));
        }
      }
      b->mutable_series_ids()->Add(batch_.series_ids.begin(), batch_.series_ids.end());
      b->mutable_values()->Add(batch_.values.begin(), batch_.values.end());
    }
  }

  StreamClient* owner_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<AgentMessage, CollectorMessage>> stream_;
  std::mutex mu_;
  int outstanding_ = 0;  // operations started whose completion has not been handled
  bool started_ = false;
  bool finish_called_ = false;
  bool finished_ = false;
  bool writing_ = false;
  bool heartbeat_pending_ = false;
  bool batch_since_beat_ = false;
  absl::Duration batch_sent_at_;  // monotonic, of the newest batch written
  bool goodbye_pending_ = false;
  bool goodbye_sent_ = false;
  bool writes_done_ = false;
  bool closed_ = false;  // the read side ended: no more writes may start
  bool alive_sent_ = false;
  double budget_ = 0;  // batches that may be sent now (see backfill_batches_per_second)
  std::vector<AliveSpan> alive_;
  GoodbyeReason goodbye_reason_ = GoodbyeReason::kAgentStopping;
  uint64_t sent_sequence_ = 0;
  uint64_t live_from_ = 0;         // the first sequence produced after this stream opened
  uint64_t preview_sequence_ = 0;  // the last live batch sent as a preview
  uint32_t collector_revision_ = 0;
  bool new_batch_ = false;     // a batch was spooled since the last preview check
  bool backlog_done_ = false;  // the in-order sending reached live data: no previews
  std::vector<bool> described_;
  PendingBatch batch_;
  AgentMessage out_;
  CollectorMessage in_;
  grpc::Status status_;
  uint64_t rejected_sequence_ = 0;
};

StreamClient::StreamClient(StreamClientOptions options, Spool& spool, SeriesTable& series,
                           Clock& clock, std::function<uint64_t()> next_sequence)
    : options_(std::move(options)),
      spool_(spool),
      series_(series),
      clock_(clock),
      next_sequence_(std::move(next_sequence)) {}

StreamClient::~StreamClient() { Stop(GoodbyeReason::kAgentStopping, absl::ZeroDuration()); }

void StreamClient::Start() {
  channel_ = std::make_unique<Channel>();
  for (absl::string_view a :
       absl::StrSplit(options_.collector_address, ',', absl::SkipWhitespace())) {
    std::string address(absl::StripAsciiWhitespace(a));
    channel_->addresses.push_back(address);
    channel_->channels.push_back(grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(),
        AgentChannelArguments(options_.keepalive_time, options_.keepalive_timeout)));
    channel_->stubs.push_back(accord::v1::Telemetry::NewStub(channel_->channels.back()));
  }
  if (options_.drive_grpc_timers) timers_ = std::make_unique<GrpcTimerDriver>();
  thread_ = std::thread([this] { Run(); });
}

void StreamClient::Kick() {
  absl::MutexLock lock(&mu_);
  if (call_ != nullptr) call_->Pump(/*new_batch=*/true);
}

void StreamClient::Stop(GoodbyeReason reason, absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      // already stopping
    } else {
      stopping_ = true;
      goodbye_reason_ = reason;
      if (call_ != nullptr) call_->RequestGoodbye(reason);
    }
    // Wait for the collector to end the stream after our goodbye.
    auto done = [this]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return call_ == nullptr || call_done_; };
    mu_.AwaitWithTimeout(absl::Condition(&done), grace);
    if (call_ != nullptr && !call_done_) call_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
  timers_.reset();  // gRPC's own timer threads again, for whatever outlives the stream
}

void StreamClient::Run() {
  RunStreams();
  // Every stream has ended and its operations completed: nothing is left in the queue.
  channel_->cq.Shutdown();
  void* tag;
  bool ok;
  while (channel_->cq.Next(&tag, &ok)) {
  }
}

void StreamClient::RunStreams() {
  Backoff backoff(options_.backoff_initial, options_.backoff_max, std::random_device{}());
  size_t current = 0;
  const size_t n = channel_->stubs.size();
  while (true) {
    Call* call;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      call_done_ = false;
      acked_since_connect_ = false;
      call_ = new Call(this, channel_->stubs[current].get(), &channel_->cq);
      call = call_;  // only this thread replaces call_
    }
    if (stats_.connects++ > 0) ++stats_.reconnects;
    stats_.connected = true;
    // Evidence from the moment the stream opens: if the collector dies before it has made a
    // later sighting durable, the span sent after the next connect covers the time from here.
    spool_.RecordAlive(clock_.Now(), options_.boot_time_seconds);
    // Completions and heartbeats until the stream ends.
    HeartbeatSchedule schedule(options_.heartbeat_interval, clock_.Monotonic());
    auto beat = [&](absl::Duration now) {
      std::optional<absl::Duration> batch_sent_at;
      bool pacing = false;
      {
        absl::MutexLock lock(&mu_);
        if (!stopping_) {
          call->Refill(schedule.SinceLast(now));
          batch_sent_at = call->RequestHeartbeat();
          pacing = call->Pacing();
        }
      }
      // Evidence is recorded while connected too: after a break, the span the agent sends
      // then starts before the break, so it covers whatever the collector had not yet made
      // durable about this host (its last sighting is written once a second).
      spool_.RecordAlive(clock_.Now(), options_.boot_time_seconds);
      if (acked_since_connect_) backoff.Reset();
      schedule.Ticked(now, batch_sent_at, pacing);
    };
    while (true) {
      absl::Duration now = clock_.Monotonic();
      if (now >= schedule.deadline()) {
        beat(now);
        continue;
      }
      void* tag;
      bool ok;
      absl::Duration wait = schedule.deadline() - now;
      if (timers_ != nullptr) wait = std::min(wait, kMaxTimerDelay);
      auto deadline = std::chrono::system_clock::now() + absl::ToChronoNanoseconds(wait);
      auto got = channel_->cq.AsyncNext(&tag, &ok, deadline);
      if (timers_ != nullptr) timers_->Tick();
      if (got != grpc::CompletionQueue::NextStatus::GOT_EVENT) {
        continue;  // the deadline: a heartbeat (or a gRPC timer) is due
      }
      call->Handle(tag, ok);
      if (call->Done()) break;
      // Awake anyway (a write done, an ack): the tick rides on this wake once half due.
      now = clock_.Monotonic();
      if (schedule.DueOnWake(now)) beat(now);
    }
    {
      absl::MutexLock lock(&mu_);
      call_done_ = true;
    }
    stats_.connected = false;
    bool stopping;
    {
      absl::MutexLock lock(&mu_);
      call_ = nullptr;
      stopping = stopping_;
    }
    spool_.StreamEnded();
    grpc::Status status = call->status();
    uint64_t rejected = call->rejected_sequence();
    bool said_goodbye = call->goodbye_sent();
    delete call;
    if (acked_since_connect_) backoff.Reset();
    if (stopping) {
      Log(LogLevel::kInfo, "stream closed",
          {{"goodbye", said_goodbye ? "sent" : "not sent"}, {"status", status.error_message()}});
      return;
    }
    ++stats_.stream_errors;
    absl::Duration delay = backoff.Next();
    if (n > 1 && !acked_since_connect_) {
      // This collector did not answer: try the next one; back off only after a full round.
      current = (current + 1) % n;
      ++stats_.failovers;
      stats_.current_address = static_cast<int>(current);
      Log(LogLevel::kWarn, "failing over to the next collector",
          {{"address", channel_->addresses[current]}});
      if (current != 0) delay = std::min(delay, absl::Milliseconds(100));
    }
    absl::Status st = FromGrpcStatus(status);
    if (!IsRetryable(st.code())) {
      if (rejected != 0) {
        spool_.Reject(rejected);
        ++stats_.rejected_batches;
        Log(LogLevel::kError, "collector rejected a batch; dropped it",
            {{"sequence", absl::StrCat(rejected)}, {"error", std::string(st.message())}});
      } else {
        delay = options_.permanent_error_holdoff;
        Log(LogLevel::kError, "collector refused the stream permanently; waiting before retrying",
            {{"code", absl::StatusCodeToString(st.code())},
             {"error", std::string(st.message())},
             {"retry_in", absl::FormatDuration(delay)}});
      }
    } else {
      Log(LogLevel::kWarn, "stream ended; reconnecting",
          {{"code", absl::StatusCodeToString(st.code())},
           {"error", std::string(st.message())},
           {"retry_in", absl::FormatDuration(delay)}});
    }
    // Disconnected: keep recording proof of life every heartbeat interval until the next
    // attempt, so the collector can tell "unreachable" from "down" afterwards.
    // (With gRPC's timers to run it may wake more often than that; it records no more often.)
    absl::Duration retry_at = clock_.Monotonic() + delay;
    absl::Duration last_alive = -absl::InfiniteDuration();
    while (true) {
      if (timers_ != nullptr) timers_->Tick();
      absl::Duration now = clock_.Monotonic();
      bool retry = now >= retry_at;
      if (retry || now - last_alive >= options_.heartbeat_interval) {
        spool_.RecordAlive(clock_.Now(), options_.boot_time_seconds);
        last_alive = now;
      }
      if (retry) break;
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      absl::Duration wait = std::min(retry_at, last_alive + options_.heartbeat_interval) - now;
      if (timers_ != nullptr) wait = std::min(wait, kMaxTimerDelay);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), wait)) {
        break;
      }
    }
  }
}

}  // namespace accord::agent
