// TelemetryService: the gRPC face of ingest. One callback reactor per agent stream translates
// proto messages into IngestItems and pushes them onto the IngestQueue; it never blocks and
// never interprets the messages. Acks and stream endings come back through the StreamLink the
// reactor implements.
//
// Thread safety: gRPC calls the reactors on its own threads; the StreamLink methods may be
// called from the ingest consumer thread at any time.
#ifndef ACCORD_COLLECTOR_INGEST_GRPC_TELEMETRY_SERVICE_H_
#define ACCORD_COLLECTOR_INGEST_GRPC_TELEMETRY_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "accord/v1/telemetry.grpc.pb.h"
#include "collector/ingest/ingest_queue.h"
#include "common/clock.h"

namespace accord::collector {

struct TelemetryServiceStats {
  std::atomic<uint64_t> streams_opened{0};
  std::atomic<int64_t> streams_open{0};
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> streams_broken{0};  // ended without the agent closing its side
};

class TelemetryService final : public accord::v1::Telemetry::CallbackService {
 public:
  // Messages larger than `max_message_bytes` are rejected (reason too_large). Every ack
  // tells the agent `ack_interval`, the Ingestor's (the agent syncs its spool accordingly).
  TelemetryService(IngestQueue& queue, Clock& clock, size_t max_message_bytes,
                   absl::Duration ack_interval = absl::ZeroDuration());

  grpc::ServerBidiReactor<accord::v1::AgentMessage, accord::v1::CollectorMessage>* Connect(
      grpc::CallbackServerContext* context) override;

  const TelemetryServiceStats& stats() const { return stats_; }

 private:
  class Reactor;
  IngestQueue& queue_;
  Clock& clock_;
  const size_t max_message_bytes_;
  const int64_t ack_interval_ms_;
  TelemetryServiceStats stats_;
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_INGEST_GRPC_TELEMETRY_SERVICE_H_
