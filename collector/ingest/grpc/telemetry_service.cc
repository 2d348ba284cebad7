#include "collector/ingest/grpc/telemetry_service.h"

#include <memory>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc/status.h"
#include "common/utf8.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/support/proto_buffer_reader.h"

namespace accord::collector {
namespace {

using accord::v1::AgentMessage;
using accord::v1::CollectorMessage;

Hello ToHello(const accord::v1::Hello& in) {
  Hello h;
  h.host_id = in.host_id();
  h.hostname = in.hostname();
  h.agent_version = in.agent_version();
  h.labels.insert(in.labels().begin(), in.labels().end());
  h.boot_time_seconds = in.boot_time_seconds();
  h.sample_interval = absl::Milliseconds(in.sample_interval_ms());
  h.heartbeat_interval = absl::Milliseconds(in.heartbeat_interval_ms());
  h.next_sequence = in.next_sequence();
  return h;
}

// 2: SampleBatch.preview (live batches ahead of a backlog) is understood.
constexpr uint32_t kProtocolRevision = 2;

Batch ToBatch(const accord::v1::SampleBatch& in) {
  Batch b;
  b.sequence = in.sequence();
  b.timestamp_ms = in.timestamp_ms();
  b.new_series.reserve(in.new_series_size());
  for (const auto& d : in.new_series()) {
    SeriesDescriptor s;
    s.id = d.id();
    s.name = d.name();
    s.kind =
        d.kind() == accord::v1::METRIC_KIND_COUNTER ? SeriesKind::kCounter : SeriesKind::kGauge;
    s.labels.reserve(d.labels_size());
    for (const auto& l : d.labels()) s.labels.emplace_back(l.name(), l.value());
    b.new_series.push_back(std::move(s));
  }
  b.series_ids.assign(in.series_ids().begin(), in.series_ids().end());
  b.values.assign(in.values().begin(), in.values().end());
  b.preview = in.preview();
  return b;
}

// What can still be read from a message protobuf could not parse, from its wire format alone
// (read without the schema, so without the UTF-8 check that failed).
struct Unparsable {
  const char* kind = "message";
  uint64_t sequence = 0;  // of a batch; 0: not known
  std::string host_id;    // of a hello, made valid UTF-8 for the log; empty: not known
};

// The last field `number` of `type` in `fields` (protobuf's rule: the last one wins), or null.
const google::protobuf::UnknownField* LastField(const google::protobuf::UnknownFieldSet& fields,
                                                int number,
                                                google::protobuf::UnknownField::Type type) {
  const google::protobuf::UnknownField* found = nullptr;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == number && fields.field(i).type() == type) {
      found = &fields.field(i);
    }
  }
  return found;
}

Unparsable Inspect(grpc::ByteBuffer* bytes) {
  using google::protobuf::UnknownField;
  using google::protobuf::UnknownFieldSet;
  Unparsable u;
  grpc::ProtoBufferReader reader(bytes);
  UnknownFieldSet top;
  if (!reader.status().ok() || !top.ParseFromZeroCopyStream(&reader)) return u;
  for (int i = 0; i < top.field_count(); ++i) {
    const UnknownField& f = top.field(i);
    if (f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    UnknownFieldSet inner;
    const bool readable = inner.ParseFromString(f.length_delimited());
    if (f.number() == AgentMessage::kBatchFieldNumber) {
      u.kind = "batch";
      if (!readable) continue;
      const UnknownField* seq = LastField(inner, accord::v1::SampleBatch::kSequenceFieldNumber,
                                          UnknownField::TYPE_VARINT);
      if (seq != nullptr) u.sequence = seq->varint();
    } else if (f.number() == AgentMessage::kHelloFieldNumber) {
      u.kind = "hello";
      if (!readable) continue;
      const UnknownField* id = LastField(inner, accord::v1::Hello::kHostIdFieldNumber,
                                         UnknownField::TYPE_LENGTH_DELIMITED);
      if (id != nullptr) u.host_id = ToValidUtf8(id->length_delimited().substr(0, 256));
    }
  }
  return u;
}

}  // namespace

// The state shared between the reactor (gRPC threads) and the consumer (StreamLink calls).
// Lifetime: the reactor deletes itself in OnDone; the link outlives it and then ignores calls.
class TelemetryService::Reactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  class Link final : public StreamLink {
   public:
    explicit Link(Reactor* reactor) : reactor_(reactor) {}
    void SendAck(uint64_t sequence, int64_t alive_until_ms) override {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (reactor_ == nullptr || finishing_) return;
      if (sequence > pending_ack_ || !any_ack_) pending_ack_ = sequence;
      pending_alive_ = std::max(pending_alive_, alive_until_ms);
      any_ack_ = true;
      MaybeWriteLocked();
    }
    void Finish(const absl::Status& status, uint64_t rejected_sequence) override {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (reactor_ == nullptr || finishing_) return;
      finishing_ = true;
      finish_status_ = ToGrpcStatus(status);
      if (rejected_sequence != 0) {
        reactor_->context_->AddTrailingMetadata("accord-rejected-sequence",
                                                absl::StrCat(rejected_sequence));
      }
      if (!write_in_flight_) reactor_->Finish(finish_status_);
    }
    void ResumeReading() override {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (reactor_ == nullptr || finishing_ || reading_) return;
      reading_ = true;
      reactor_->StartRead(&reactor_->in_bytes_);
    }

    // Reactor side.
    void OnWriteDone() {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      write_in_flight_ = false;
      if (finishing_) {
        reactor_->Finish(finish_status_);
        return;
      }
      MaybeWriteLocked();
    }
    void Detach() {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      reactor_ = nullptr;
    }
    // Marks the read finished; returns false if the stream is finishing.
    bool ReadDone() {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      reading_ = false;
      return !finishing_;
    }
    // Starts the next read unless finishing. `park` is the queue's verdict.
    void ContinueReading() {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (finishing_ || reading_ || reactor_ == nullptr) return;
      reading_ = true;
      reactor_->StartRead(&reactor_->in_bytes_);
    }
    void StartFirstRead() {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      reading_ = true;
      reactor_->StartRead(&reactor_->in_bytes_);
    }

   private:
    void MaybeWriteLocked() {
      if (write_in_flight_ || !any_ack_ ||
          (sent_any_ && pending_ack_ <= sent_ack_ && pending_alive_ <= sent_alive_)) {
        return;
      }
      reactor_->out_.mutable_ack()->set_sequence(pending_ack_);
      reactor_->out_.mutable_ack()->set_alive_until_ms(pending_alive_);
      reactor_->out_.mutable_ack()->set_protocol_revision(kProtocolRevision);
      reactor_->out_.mutable_ack()->set_ack_interval_ms(reactor_->service_->ack_interval_ms_);
      sent_ack_ = pending_ack_;
      sent_alive_ = pending_alive_;
      sent_any_ = true;
      write_in_flight_ = true;
      bool own_buffer;  // (always true for a fresh serialization)
      grpc::SerializationTraits<CollectorMessage>::Serialize(reactor_->out_, &reactor_->out_bytes_,
                                                             &own_buffer);
      reactor_->StartWrite(&reactor_->out_bytes_);
    }

    // Recursive: gRPC may run a reaction (OnWriteDone, OnDone) inline from StartWrite or
    // Finish on the calling thread.
    std::recursive_mutex mu_;
    Reactor* reactor_;
    bool finishing_ = false;
    bool write_in_flight_ = false;
    bool reading_ = false;
    bool any_ack_ = false;
    bool sent_any_ = false;
    uint64_t pending_ack_ = 0;
    uint64_t sent_ack_ = 0;
    int64_t pending_alive_ = 0;
    int64_t sent_alive_ = 0;
    grpc::Status finish_status_;
  };

  Reactor(TelemetryService* service, grpc::CallbackServerContext* context)
      : service_(service), context_(context), link_(std::make_shared<Link>(this)) {
    ++service_->stats_.streams_opened;
    ++service_->stats_.streams_open;
    link_->StartFirstRead();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The agent closed its side (after a goodbye) or the stream broke. (A read of raw bytes
      // fails for nothing else: parsing is ours.)
      link_->ReadDone();
      PushEnd();
      return;
    }
    if (!link_->ReadDone()) return;
    auto& stats = service_->stats_;
    ++stats.messages_received;
    const size_t size = in_bytes_.Length();
    stats.bytes_received += size;
    bool parsed;
    {
      grpc::ProtoBufferReader reader(&in_bytes_);
      parsed = reader.status().ok() && in_.ParseFromZeroCopyStream(&reader);
    }
    if (parsed) in_bytes_.Clear();  // a parked stream holds no bytes it no longer needs
    IngestItem item;
    item.link = link_;
    item.enqueued_at = service_->clock_.Monotonic();
    item.received_at = service_->clock_.Now();
    // A message refused whole goes through the queue like any other (kInvalid): the Ingestor
    // counts it, logs it and ends the stream after what the stream sent before. A batch is
    // named, so the agent drops it rather than sending it again after every reconnect.
    if (!parsed) {
      Unparsable what = Inspect(&in_bytes_);
      in_bytes_.Clear();
      item.kind = IngestItem::Kind::kInvalid;
      item.invalid_reason = RejectReason::kUnparsable;
      item.error = absl::StrCat(
          what.kind, what.sequence != 0 ? absl::StrCat(" ", what.sequence) : std::string(),
          " could not be parsed (a string field holds invalid UTF-8, or the message is "
          "malformed)");
      item.batch.sequence = what.sequence;
      item.hello.host_id = !host_id_.empty() ? host_id_ : what.host_id;
    } else if (size > service_->max_message_bytes_) {
      item.kind = IngestItem::Kind::kInvalid;
      item.invalid_reason = RejectReason::kTooLarge;
      item.error = absl::StrCat("message of ", size, " bytes exceeds the limit of ",
                                service_->max_message_bytes_);
      if (in_.has_batch()) item.batch.sequence = in_.batch().sequence();
      item.hello.host_id = host_id_;
    } else {
      switch (in_.kind_case()) {
        case AgentMessage::kHello:
          item.kind = IngestItem::Kind::kHello;
          item.hello = ToHello(in_.hello());
          if (host_id_.empty()) host_id_ = item.hello.host_id.substr(0, 256);
          break;
        case AgentMessage::kBatch:
          item.kind = IngestItem::Kind::kBatch;
          item.batch = ToBatch(in_.batch());
          item.sent_ms = in_.batch().sent_ms();
          break;
        case AgentMessage::kHeartbeat:
          item.kind = IngestItem::Kind::kHeartbeat;
          item.sent_ms = in_.heartbeat().timestamp_ms();
          break;
        case AgentMessage::kAlive:
          item.kind = IngestItem::Kind::kAlive;
          item.alive.reserve(in_.alive().spans_size());
          for (const auto& a : in_.alive().spans()) {
            item.alive.push_back({absl::FromUnixMillis(a.first_ms()),
                                  absl::FromUnixMillis(a.last_ms()), a.boot_time_seconds()});
          }
          break;
        case AgentMessage::kGoodbye:
          item.kind = IngestItem::Kind::kGoodbye;
          item.goodbye = in_.goodbye().reason() == accord::v1::Goodbye::REASON_HOST_SHUTDOWN
                             ? GoodbyeReason::kHostShutdown
                             : GoodbyeReason::kAgentStopping;
          break;
        default:
          // An unknown message kind from a newer agent: ignore it (versioning rule).
          link_->ContinueReading();
          return;
      }
    }
    if (service_->queue_.PushOrPark(std::move(item))) link_->ContinueReading();
  }

  void OnWriteDone(bool ok) override { link_->OnWriteDone(); }

  void OnCancel() override {
    ++service_->stats_.streams_broken;
    PushEnd();
  }

  void OnDone() override {
    link_->Detach();
    PushEnd();
    --service_->stats_.streams_open;
    delete this;
  }

 private:
  void PushEnd() {
    if (end_pushed_.exchange(true)) return;
    IngestItem item;
    item.kind = IngestItem::Kind::kEnd;
    item.link = link_;
    item.enqueued_at = service_->clock_.Monotonic();
    item.received_at = service_->clock_.Now();
    service_->queue_.PushAlways(std::move(item));
  }

  TelemetryService* service_;
  grpc::CallbackServerContext* context_;
  std::shared_ptr<Link> link_;
  std::atomic<bool> end_pushed_{false};
  // The host id of this stream's first hello (reads only: one at a time), for logs.
  std::string host_id_;
  grpc::ByteBuffer in_bytes_;
  AgentMessage in_;
  CollectorMessage out_;
  grpc::ByteBuffer out_bytes_;  // out_ serialized, while a write is in flight
};

TelemetryService::TelemetryService(IngestQueue& queue, Clock& clock, size_t max_message_bytes,
                                   absl::Duration ack_interval)
    : queue_(queue),
      clock_(clock),
      max_message_bytes_(max_message_bytes),
      ack_interval_ms_(absl::ToInt64Milliseconds(ack_interval)) {}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* TelemetryService::Connect(
    grpc::CallbackServerContext* context) {
  return new Reactor(this, context);
}

}  // namespace accord::collector
