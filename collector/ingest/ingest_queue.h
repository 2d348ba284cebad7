// IngestQueue: the bounded queue between gRPC stream reactors (producers) and the ingest
// consumer. Reactors never block on it: a reactor that finds the queue full parks its stream
// (stops reading: backpressure through HTTP/2 flow control) and the consumer resumes parked
// streams once the queue has drained to half. Nothing is dropped.
//
// Full means too many messages, or too many bytes (an estimate of the memory the queued
// messages hold, not their wire size: a batch of new series descriptions takes several times
// its wire size once parsed). One stream also has a byte limit of its own, so that one agent
// sending large messages fast cannot take the whole queue (and the collector's memory) and
// delay everybody else's: it is parked while its own queued bytes are over the limit, and
// resumed once they are down to half.
//
// Thread-safe. Domain code: no gRPC types; a stream is reached through the StreamLink seam.
#ifndef ACCORD_COLLECTOR_INGEST_INGEST_QUEUE_H_
#define ACCORD_COLLECTOR_INGEST_INGEST_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "collector/hosts/host_registry.h"

namespace accord::collector {

// The consumer's handle on one agent stream, implemented by the transport.
// All methods are thread-safe and never block; calls after the stream ended are ignored.
class StreamLink {
 public:
  virtual ~StreamLink() = default;
  // Cumulative acknowledgement up to `sequence`, and of alive spans ending at or before
  // `alive_until_ms` (0: none).
  virtual void SendAck(uint64_t sequence, int64_t alive_until_ms = 0) = 0;
  // Ends the stream with `status`. `rejected_sequence` (if non-zero) names the batch that
  // caused an INVALID_ARGUMENT, so the agent can drop it rather than resend it.
  virtual void Finish(const absl::Status& status, uint64_t rejected_sequence) = 0;
  // Starts reading again after the stream was parked.
  virtual void ResumeReading() = 0;

  // IngestQueue's accounting, under its lock: bytes of this stream's items still queued.
  size_t queued_bytes = 0;

  // Owned by the consumer thread only.
  HostRegistry::SessionId session = 0;
  uint64_t last_ack = 0;
  bool finished = false;
  // Ack coalescing (Ingestor): when this stream's last ack was sent (monotonic), and an ack
  // held back to be folded into the next one.
  absl::Duration last_ack_sent_at = -absl::InfiniteDuration();
  bool ack_held = false;
  bool said_goodbye = false;  // from here on every ack goes out at once
  uint64_t held_sequence = 0;
  int64_t held_alive_until_ms = 0;
  uint32_t acks_in_flush = 0;  // Ingestor::FlushAcks' scratch
  bool ack_urgent = false;     //   likewise
};

struct IngestItem {
  enum class Kind { kHello, kBatch, kHeartbeat, kGoodbye, kAlive, kEnd, kInvalid };
  Kind kind = Kind::kEnd;
  std::shared_ptr<StreamLink> link;
  Hello hello;
  Batch batch;
  std::vector<AliveSpan> alive;
  GoodbyeReason goodbye = GoodbyeReason::kUnspecified;
  RejectReason invalid_reason = RejectReason::kNotHello;  // for kInvalid
  std::string error;                                      // for kInvalid
  // For kInvalid: the batch it was, if known, is in batch.sequence (named to the agent) and
  // the host id the stream gave (or the message's own bytes), if known, in hello.host_id (for
  // the log).
  size_t bytes = 0;  // set by the queue: ApproxBytes at push
  absl::Duration enqueued_at;                             // monotonic
  absl::Time received_at = absl::InfinitePast();          // wall clock at arrival
  int64_t sent_ms = 0;  // the agent's wall clock when it sent the message; 0: unknown
};

// The memory `item` holds, roughly: its own size and what its strings and vectors point to.
size_t ApproxBytes(const IngestItem& item);

class IngestQueue {
 public:
  // At most `capacity` messages and `byte_capacity` bytes (ApproxBytes) before every stream
  // is parked; one stream's items at most `stream_byte_limit` bytes before that stream is.
  static constexpr size_t kDefaultByteCapacity = size_t{256} << 20;
  static constexpr size_t kDefaultStreamByteLimit = size_t{16} << 20;
  explicit IngestQueue(size_t capacity, size_t byte_capacity = kDefaultByteCapacity,
                       size_t stream_byte_limit = kDefaultStreamByteLimit);

  // Enqueues `item` (always accepted: the producer already holds it). Returns true if the
  // producer may read its next message now; false if the queue is at capacity (messages or
  // bytes) or the stream at its own byte limit, and `link` was parked (ResumeReading will be
  // called later).
  bool PushOrPark(IngestItem item);
  // Enqueues an end-of-stream or control item regardless of capacity.
  void PushAlways(IngestItem item);

  // Waits up to `timeout` for an item. Returns false on timeout or after Shutdown() once the
  // queue is empty. Resumes parked streams when the queue is at half capacity or less.
  bool Pop(IngestItem* item, absl::Duration timeout);

  // Wakes the consumer; Pop returns false once the queue is empty.
  void Shutdown();

  size_t depth() const;
  size_t bytes() const;
  // The consumer finished the item it popped last.
  void Done();
  // When the oldest item still queued, or popped and not Done, was enqueued (monotonic);
  // nullopt when there is none.
  std::optional<absl::Duration> OldestEnqueued() const;
  size_t parked() const;
  size_t capacity() const { return capacity_; }
  size_t byte_capacity() const { return byte_capacity_; }

 private:
  // Appends `item` (its bytes set), counting its bytes for the queue and its stream; Pop
  // takes them off again.
  void PushLocked(IngestItem item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the queue as a whole has drained enough to resume parked streams.
  bool DrainedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  const size_t byte_capacity_;
  const size_t stream_byte_limit_;
  mutable absl::Mutex mu_;
  std::deque<IngestItem> items_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<StreamLink>> parked_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Duration> in_flight_ ABSL_GUARDED_BY(mu_);  // popped, not Done
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_INGEST_INGEST_QUEUE_H_
