#include "collector/ingest/ingestor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace accord::collector {

Ingestor::Ingestor(IngestQueue& queue, HostRegistry& registry, Clock& clock,
                   absl::Duration ack_interval)
    : ack_interval_(ack_interval),
      queue_(queue),
      registry_(registry),
      clock_(clock) {}

Ingestor::~Ingestor() { Stop(); }

void Ingestor::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Ingestor::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  queue_.Shutdown();
  thread_.join();
}

void Ingestor::Run() {
  IngestItem item;
  while (true) {
    if (queue_.Pop(&item, AckWait())) {
      Process(std::move(item));
      queue_.Done();
      item = IngestItem();
      // Items other than batches (heartbeats) do not flush acks themselves. (No clock read
      // per item while nothing is held or the interval is 0.)
      if (!sent_acks_.empty() && HeldAckMayBeDue(clock_.Monotonic())) FlushAcks();
    } else {
      FlushAcks();
      if (stop_ && pending_acks_.empty()) return;
      if (stop_ && !registry_.IsDurable(pending_acks_.back().mark)) {
        // Stopping: wait a little for the last commit, never forever.
        absl::SleepFor(absl::Milliseconds(5));
        if (++stop_waits_ > 2000) return;
      }
    }
  }
}

absl::Duration Ingestor::AckWait() const {
  // While acks wait for the database, look again soon.
  if (!pending_acks_.empty()) return absl::Milliseconds(5);
  absl::Duration wait = absl::Milliseconds(200);
  if (!sent_acks_.empty()) {
    absl::Duration due = sent_acks_.front().at + ack_interval_ - clock_.Monotonic();
    wait = std::clamp(due, absl::Milliseconds(1), wait);
  }
  return wait;
}

void Ingestor::AckWhenDurable(const std::shared_ptr<StreamLink>& link, uint64_t sequence,
                              int64_t alive_until_ms, AckKind kind) {
  pending_acks_.push_back({link, sequence, alive_until_ms, registry_.DurabilityMark(), kind});
}

void Ingestor::SendAckNow(const std::shared_ptr<StreamLink>& link, uint64_t sequence,
                          int64_t alive_until_ms, absl::Duration now) {
  StreamLink& l = *link;
  l.ack_held = false;  // whatever was held is in `sequence` (callers send the held values)
  l.SendAck(sequence, alive_until_ms);
  l.last_ack_sent_at = now;
  if (ack_interval_ > absl::ZeroDuration()) sent_acks_.push_back({link, now});
  absl::MutexLock lock(&stats_mu_);
  ++stats_.acks_sent;
}

void Ingestor::FlushAcks() {
  const absl::Duration now = clock_.Monotonic();
  if (ack_interval_ == absl::ZeroDuration()) {
    // Every ack as soon as it is durable, in order.
    while (!pending_acks_.empty() && registry_.IsDurable(pending_acks_.front().mark)) {
      const PendingAck& a = pending_acks_.front();
      SendAckNow(a.link, a.sequence, a.alive_until_ms, now);
      pending_acks_.pop_front();
    }
    return;
  }
  // First every durable ack joins its stream's held one, then each stream touched sends once
  // if it may: acks of one stream that became durable in the same commit (a backlog arriving
  // at 2,000 batches a second) go out as one, the newest, rather than the oldest going out
  // and the rest waiting for the next interval.
  while (!pending_acks_.empty() && registry_.IsDurable(pending_acks_.front().mark)) {
    PendingAck a = std::move(pending_acks_.front());
    pending_acks_.pop_front();
    StreamLink& l = *a.link;
    if (a.kind == AckKind::kHelloAnswer) {
      // The first ack of its stream (nothing is held or folded yet): out now, as it is.
      SendAckNow(a.link, a.sequence, a.alive_until_ms, now);
      continue;
    }
    if (l.acks_in_flush == 0) flush_links_.push_back(a.link);
    ++l.acks_in_flush;
    l.ack_urgent = l.ack_urgent || a.kind == AckKind::kUrgent;
    l.held_sequence = l.ack_held ? std::max(l.held_sequence, a.sequence) : a.sequence;
    l.held_alive_until_ms =
        l.ack_held ? std::max(l.held_alive_until_ms, a.alive_until_ms) : a.alive_until_ms;
    l.ack_held = true;
  }
  uint64_t held = 0;
  for (const std::shared_ptr<StreamLink>& link : flush_links_) {
    StreamLink& l = *link;
    if (l.ack_urgent || l.said_goodbye || now - l.last_ack_sent_at >= ack_interval_) {
      held += l.acks_in_flush - 1;  // covered by the one sent now
      SendAckNow(link, l.held_sequence, l.held_alive_until_ms, now);
    } else {
      held += l.acks_in_flush;
    }
    l.acks_in_flush = 0;
    l.ack_urgent = false;
  }
  flush_links_.clear();
  if (held > 0) {
    absl::MutexLock lock(&stats_mu_);
    stats_.acks_held += held;
  }
  // A stream that sent nothing more since: its held ack goes out one interval after the last.
  while (HeldAckMayBeDue(now)) {
    SentAck sent = std::move(sent_acks_.front());
    sent_acks_.pop_front();
    StreamLink& l = *sent.link;
    if (l.ack_held && l.last_ack_sent_at == sent.at && !l.finished) {
      SendAckNow(sent.link, l.held_sequence, l.held_alive_until_ms, now);
    }
  }
}

bool Ingestor::HeldAckMayBeDue(absl::Duration now) const {
  return !sent_acks_.empty() && sent_acks_.front().at + ack_interval_ <= now;
}

absl::Duration Ingestor::AppliedUpTo(absl::Duration now) const {
  auto oldest = queue_.OldestEnqueued();
  return oldest.has_value() ? std::min(now, *oldest) : now;
}

IngestorStats Ingestor::Stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

void Ingestor::Process(IngestItem item) {
  {
    double wait = absl::ToDoubleSeconds(clock_.Monotonic() - item.enqueued_at);
    absl::MutexLock lock(&stats_mu_);
    ++stats_.items;
    stats_.wait_sum_seconds += wait;
    size_t b = 0;
    while (b < kQueueWaitBuckets.size() && wait > kQueueWaitBuckets[b]) ++b;
    ++stats_.wait_buckets[b];
  }
  StreamLink& link = *item.link;
  Arrival arrival;
  if (item.received_at != absl::InfinitePast()) {
    arrival = {item.received_at, item.enqueued_at, item.sent_ms};
  }
  auto finish = [&link](const absl::Status& status, uint64_t rejected_sequence) {
    link.finished = true;
    link.Finish(status, rejected_sequence);
  };

  if (item.kind == IngestItem::Kind::kEnd) {
    if (link.session != 0) registry_.Close(link.session, arrival);
    link.session = 0;
    if (!link.finished) finish(absl::OkStatus(), 0);
    return;
  }
  if (link.finished) return;  // the stream was already ended; ignore what it still sent

  if (item.kind == IngestItem::Kind::kInvalid) {
    registry_.CountRejected(item.invalid_reason);
    Log(LogLevel::kWarn, "rejected message",
        {{"reason", RejectReasonName(item.invalid_reason)},
         {"host", item.hello.host_id},
         {"error", item.error}});
    // A batch refused as a whole (too large) is named like any rejected batch, so the agent
    // drops it instead of sending it again after every reconnect; 0 for other messages.
    finish(absl::InvalidArgumentError(item.error), item.batch.sequence);
    return;
  }
  if (link.session == 0) {
    if (item.kind != IngestItem::Kind::kHello) {
      registry_.CountRejected(RejectReason::kNotHello);
      Log(LogLevel::kWarn, "rejected stream", {{"reason", "not_hello"}});
      finish(absl::InvalidArgumentError("the first message on a stream must be a hello"), 0);
      return;
    }
    auto opened = registry_.Open(item.hello);
    if (!opened.ok()) {
      Log(LogLevel::kWarn, "rejected hello",
          {{"host", item.hello.host_id.substr(0, 256)},
           {"error", std::string(opened.status().message())}});
      finish(opened.status(), 0);
      return;
    }
    link.session = opened->session;
    Log(LogLevel::kInfo, "stream opened",
        {{"host", item.hello.host_id},
         {"hostname", item.hello.hostname},
         {"agent_version", item.hello.agent_version},
         {"next_sequence", absl::StrCat(item.hello.next_sequence)}});
    link.last_ack = opened->last_accepted_sequence;
    AckWhenDurable(item.link, opened->last_accepted_sequence, 0, AckKind::kHelloAnswer);
    FlushAcks();
    return;
  }
  switch (item.kind) {
    case IngestItem::Kind::kHello:
      registry_.CountRejected(RejectReason::kDuplicateHello);
      finish(absl::InvalidArgumentError("a second hello on the same stream"), 0);
      return;
    case IngestItem::Kind::kHeartbeat:
      registry_.Heartbeat(link.session, arrival);
      return;
    case IngestItem::Kind::kGoodbye:
      registry_.Goodbye(link.session, item.goodbye, arrival);
      // The agent is leaving: what it sent before is acknowledged without delay.
      link.said_goodbye = true;
      if (link.ack_held) {
        SendAckNow(item.link, link.held_sequence, link.held_alive_until_ms, clock_.Monotonic());
      }
      return;
    case IngestItem::Kind::kBatch: {
      auto acked = registry_.Apply(link.session, item.batch, arrival);
      if (!acked.ok()) {
        Log(LogLevel::kWarn, "rejected batch",
            {{"session", absl::StrCat(link.session)},
             {"error", std::string(acked.status().message())}});
        // Only a batch that can never be accepted is named, so the agent drops it.
        finish(acked.status(), absl::IsInvalidArgument(acked.status()) ? item.batch.sequence : 0);
        return;
      }
      if (item.batch.preview) return;  // shown, not counted: nothing to acknowledge
      link.last_ack = *acked;
      AckWhenDurable(item.link, *acked, 0, AckKind::kHeld);
      FlushAcks();
      return;
    }
    case IngestItem::Kind::kAlive: {
      registry_.Heartbeat(link.session, arrival);
      auto until = registry_.AddAliveSpans(link.session, item.alive);
      if (!until.ok()) {
        Log(LogLevel::kWarn, "rejected alive spans",
            {{"session", absl::StrCat(link.session)},
             {"error", std::string(until.status().message())}});
        finish(until.status(), 0);
        return;
      }
      if (*until != absl::InfinitePast()) {
        AckWhenDurable(item.link, link.last_ack, absl::ToUnixMillis(*until),
                       AckKind::kUrgent);
        FlushAcks();
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace accord::collector
