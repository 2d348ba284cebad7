// Spool: where sample batches wait until the collector acknowledges them. This is the seam
// for the durable disk spool (a later issue); today's implementation is MemorySpool, which
// keeps the newest batches within a byte budget and counts what it drops.
//
// Thread safety: implementations must be thread-safe (the sampler appends, the transport
// reads and acknowledges).
#ifndef ACCORD_AGENT_TRANSPORT_SPOOL_H_
#define ACCORD_AGENT_TRANSPORT_SPOOL_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace accord::agent {

// One sampling cycle, with series referred to by the agent's series-table ids.
struct PendingBatch {
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  std::vector<uint32_t> series_ids;
  std::vector<double> values;

  size_t ByteSize() const { return sizeof(*this) + series_ids.size() * 4 + values.size() * 8; }
};

// Proof of life recorded while the collector is unreachable: heartbeats compacted into spans
// of one boot.
struct AliveSpan {
  absl::Time first;
  absl::Time last;
  int64_t boot_time = 0;

  bool operator==(const AliveSpan& o) const {
    return first == o.first && last == o.last && boot_time == o.boot_time;
  }
};

struct SpoolStats {
  uint64_t batches = 0;          // waiting (not yet acknowledged)
  // Of those, sent on the current stream and waiting only for the collector's ack (it may
  // hold acks back: --ingest.ack-interval); batches - unacked_batches is the backlog still
  // to be sent. 0 while disconnected: what was sent on an ended stream is sent again.
  uint64_t unacked_batches = 0;
  uint64_t bytes = 0;            // their size
  uint64_t samples = 0;          // their values
  uint64_t dropped_samples = 0;  // dropped to stay within the budget, or rejected
  uint64_t dropped_batches = 0;
  uint64_t acked_samples = 0;  // acknowledged by the collector
};

class Spool {
 public:
  virtual ~Spool() = default;
  // Appends a batch; sequences must increase. Never blocks on I/O for long.
  virtual void Append(PendingBatch batch) = 0;
  // Copies the first waiting batch with sequence > `after` into *out, to be sent (in order,
  // counted by the collector). False if none.
  virtual bool NextAfter(uint64_t after, PendingBatch* out) = 0;
  // The same for a preview (a copy the collector does not count).
  virtual bool PreviewAfter(uint64_t after, PendingBatch* out) { return NextAfter(after, out); }
  // The stream that NextAfter fed has ended: batches sent on it and not acknowledged may or
  // may not have been accepted; the first Ack of the next stream (the answer to its hello)
  // settles it.
  virtual void StreamEnded() {}
  // Removes every batch with sequence <= `sequence` (cumulative ack).
  virtual void Ack(uint64_t sequence) = 0;
  // The collector acknowledges at most once per `hold` (Ack.ack_interval_ms): a durable
  // spool lets unacknowledged batches wait that much longer for an ack before syncing them,
  // while acks keep coming on the current stream.
  virtual void SetAckHold(absl::Duration /*hold*/) {}
  // Removes one batch the collector rejected permanently; its samples count as dropped.
  virtual void Reject(uint64_t sequence) = 0;
  virtual SpoolStats Stats() = 0;

  // Heartbeat evidence while disconnected: extends the newest span (same boot, gap within a
  // few heartbeats) or starts a new one.
  virtual void RecordAlive(absl::Time t, int64_t boot_time) = 0;
  // The spans not yet acknowledged, oldest first; the last one may still be growing.
  virtual std::vector<AliveSpan> PendingAliveSpans() = 0;
  // The collector holds the evidence up to and including `up_to`.
  virtual void AckAliveSpans(absl::Time up_to) = 0;
};

class MemorySpool final : public Spool {
 public:
  explicit MemorySpool(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  void Append(PendingBatch batch) override;
  bool NextAfter(uint64_t after, PendingBatch* out) override;
  void Ack(uint64_t sequence) override;
  void Reject(uint64_t sequence) override;
  SpoolStats Stats() override;
  void RecordAlive(absl::Time t, int64_t boot_time) override;
  std::vector<AliveSpan> PendingAliveSpans() override;
  void AckAliveSpans(absl::Time up_to) override;

 private:
  const uint64_t max_bytes_;
  std::vector<AliveSpan> alive_ ABSL_GUARDED_BY(mu_);
  absl::Mutex mu_;
  std::deque<PendingBatch> batches_ ABSL_GUARDED_BY(mu_);
  SpoolStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_SPOOL_H_
