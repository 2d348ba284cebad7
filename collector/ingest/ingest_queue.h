// IngestQueue: the bounded queue between gRPC stream reactors (producers) and the ingest
// consumer. Reactors never block on it: a reactor that finds the queue full parks its stream
// (stops reading: backpressure through HTTP/2 flow control) and the consumer resumes parked
// streams once the queue has drained to half. Nothing is dropped.
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
  absl::Duration enqueued_at;                             // monotonic
  absl::Time received_at = absl::InfinitePast();          // wall clock at arrival
  int64_t sent_ms = 0;  // the agent's wall clock when it sent the message; 0: unknown
};

class IngestQueue {
 public:
  explicit IngestQueue(size_t capacity);

  // Enqueues `item` (always accepted: the producer already holds it). Returns true if the
  // producer may read its next message now; false if the queue is at capacity and `link`
  // was parked (ResumeReading will be called later).
  bool PushOrPark(IngestItem item);
  // Enqueues an end-of-stream or control item regardless of capacity.
  void PushAlways(IngestItem item);

  // Waits up to `timeout` for an item. Returns false on timeout or after Shutdown() once the
  // queue is empty. Resumes parked streams when the queue is at half capacity or less.
  bool Pop(IngestItem* item, absl::Duration timeout);

  // Wakes the consumer; Pop returns false once the queue is empty.
  void Shutdown();

  size_t depth() const;
  // The consumer finished the item it popped last.
  void Done();
  // When the oldest item still queued, or popped and not Done, was enqueued (monotonic);
  // nullopt when there is none.
  std::optional<absl::Duration> OldestEnqueued() const;
  size_t parked() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<IngestItem> items_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<StreamLink>> parked_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Duration> in_flight_ ABSL_GUARDED_BY(mu_);  // popped, not Done
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_INGEST_INGEST_QUEUE_H_
