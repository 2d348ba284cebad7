// Ingestor: the consumer of the IngestQueue. One thread applies every item to the
// HostRegistry in arrival order and answers through the item's StreamLink (acks, or the end
// of the stream with a classified error). Domain code: no gRPC types.
//
// Thread safety: Start/Stop from one thread; the counters may be read from any thread.
#ifndef ACCORD_COLLECTOR_INGEST_INGESTOR_H_
#define ACCORD_COLLECTOR_INGEST_INGESTOR_H_

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "collector/hosts/host_registry.h"
#include "collector/ingest/ingest_queue.h"
#include "common/clock.h"

namespace accord::collector {

// Upper bounds (seconds) of the queue-wait histogram buckets.
inline constexpr std::array<double, 8> kQueueWaitBuckets = {0.0005, 0.001, 0.005, 0.01,
                                                            0.05,   0.1,   0.5,   1};

struct IngestorStats {
  uint64_t items = 0;
  uint64_t acks_sent = 0;
  // Acks held back by the ack interval, to be covered by a later ack of the same stream.
  uint64_t acks_held = 0;
  std::array<uint64_t, kQueueWaitBuckets.size() + 1> wait_buckets = {};  // last: +Inf
  double wait_sum_seconds = 0;
};

class Ingestor {
 public:
  // `ack_interval`: a stream is acknowledged at most once per interval (acks are cumulative,
  // so the next one covers what was held back); 0 acknowledges every batch as soon as it is
  // durable. The answer to a Hello, to alive spans and everything after a Goodbye always go
  // out at once; a held ack waits at most twice the interval when nothing follows it.
  // REQUIRES: 0 <= ack_interval <= 1 minute (Collector::Start checks the flag).
  Ingestor(IngestQueue& queue, HostRegistry& registry, Clock& clock,
           absl::Duration ack_interval = absl::ZeroDuration());
  ~Ingestor();

  // Starts the consumer thread.
  void Start();
  // Processes what is queued, then stops the thread. REQUIRES: producers stopped or the
  // queue shut down.
  void Stop();

  // Processes one item on the calling thread (tests use this instead of Start).
  void Process(IngestItem item);

  IngestorStats Stats() const;

  // Sends the acks whose writes have been committed and are due, and held acks whose stream
  // sent nothing more for twice the ack interval. The consumer thread calls it itself; tests
  // that drive Process call it to let time pass. Consumer thread only.
  void FlushAcks();

  // The time up to which every message has been applied (monotonic): the enqueue time of the
  // oldest message still queued or being processed, or `now` when there is none. Liveness
  // judges silence only up to this point, so a slow consumer (a long lock, a slow disk) never
  // makes hosts whose messages are waiting look silent. Thread-safe.
  absl::Duration AppliedUpTo(absl::Duration now) const;

 private:
  void Run();
  // How an ack may wait. kHeld: at most one per stream per ack interval (it covers the ones
  // held back). kUrgent: as soon as it is durable, covering what is held. kHelloAnswer: as
  // soon as it is durable and on its own: the agent takes the first ack of a stream as what
  // the collector had when the stream opened, and settles against it which batches sent on
  // the stream before reached the collector; folded with the acks of batches sent since, it
  // would claim batches the collector never got.
  enum class AckKind { kHeld, kUrgent, kHelloAnswer };
  // Queues an ack until what it covers is durable (HostRegistry::IsDurable).
  void AckWhenDurable(const std::shared_ptr<StreamLink>& link, uint64_t sequence,
                      int64_t alive_until_ms, AckKind kind);
  // Sends `link`'s ack now; with an ack held, `sequence` and `alive_until_ms` are the held
  // ones (FlushAcks folds every durable ack into them first).
  void SendAckNow(const std::shared_ptr<StreamLink>& link, uint64_t sequence,
                  int64_t alive_until_ms, absl::Duration now);
  // Whether the oldest entry of sent_acks_ is an interval old (a held ack may be due).
  bool HeldAckMayBeDue(absl::Duration now) const;
  // How long the consumer may wait for the next item before acks need attention.
  absl::Duration AckWait() const;

  struct PendingAck {
    std::shared_ptr<StreamLink> link;
    uint64_t sequence;
    int64_t alive_until_ms;
    uint64_t mark;
    AckKind kind;
  };
  std::deque<PendingAck> pending_acks_;  // consumer thread only
  // Every ack sent within the last ack interval, oldest first (so in order of when a
  // held ack of that stream falls due). Consumer thread only.
  struct SentAck {
    std::shared_ptr<StreamLink> link;
    absl::Duration at;
  };
  std::deque<SentAck> sent_acks_;
  std::vector<std::shared_ptr<StreamLink>> flush_links_;  // FlushAcks' scratch
  const absl::Duration ack_interval_;

  IngestQueue& queue_;
  HostRegistry& registry_;
  Clock& clock_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  int stop_waits_ = 0;
  mutable absl::Mutex stats_mu_;
  IngestorStats stats_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_INGEST_INGESTOR_H_
