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

#include "collector/hosts/host_registry.h"
#include "collector/ingest/ingest_queue.h"
#include "common/clock.h"

namespace accord::collector {

// Upper bounds (seconds) of the queue-wait histogram buckets.
inline constexpr std::array<double, 8> kQueueWaitBuckets = {0.0005, 0.001, 0.005, 0.01,
                                                            0.05,   0.1,   0.5,   1};

struct IngestorStats {
  uint64_t items = 0;
  std::array<uint64_t, kQueueWaitBuckets.size() + 1> wait_buckets = {};  // last: +Inf
  double wait_sum_seconds = 0;
};

class Ingestor {
 public:
  Ingestor(IngestQueue& queue, HostRegistry& registry, Clock& clock);
  ~Ingestor();

  // Starts the consumer thread.
  void Start();
  // Processes what is queued, then stops the thread. REQUIRES: producers stopped or the
  // queue shut down.
  void Stop();

  // Processes one item on the calling thread (tests use this instead of Start).
  void Process(IngestItem item);

  IngestorStats Stats() const;

  // The time up to which every message has been applied (monotonic): the enqueue time of the
  // oldest message still queued or being processed, or `now` when there is none. Liveness
  // judges silence only up to this point, so a slow consumer (a long lock, a slow disk) never
  // makes hosts whose messages are waiting look silent. Thread-safe.
  absl::Duration AppliedUpTo(absl::Duration now) const;

 private:
  void Run();
  // Queues an ack until what it covers is durable (HostRegistry::IsDurable).
  void AckWhenDurable(const std::shared_ptr<StreamLink>& link, uint64_t sequence,
                      int64_t alive_until_ms);
  // Sends the acks whose writes have been committed. Consumer thread only.
  void FlushAcks();

  struct PendingAck {
    std::shared_ptr<StreamLink> link;
    uint64_t sequence;
    int64_t alive_until_ms;
    uint64_t mark;
  };
  std::deque<PendingAck> pending_acks_;  // consumer thread only

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
