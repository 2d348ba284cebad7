// TelemetryService: the gRPC face of ingest. One callback reactor per agent stream translates
// proto messages into IngestItems and pushes them onto the IngestQueue; it never blocks and
// never interprets the messages. Acks and stream endings come back through the StreamLink the
// reactor implements.
//
// The service reads and writes raw bytes (grpc::ByteBuffer) and parses them itself. Through
// the typed callback API, gRPC 1.51 reports a message it cannot parse (a proto3 string field
// with invalid UTF-8, or malformed bytes) to OnReadDone as ok=false, exactly like the agent
// closing its side: not cancelled, no status of its own, and the next read would return the
// agent's next message. The stream then ended with OK and the agent sent the same batch again
// on every reconnect. Parsed here, a message that cannot be parsed is refused like one too
// large: an IngestItem of kind kInvalid (reason kUnparsable), which the Ingestor counts, logs
// with the host id of the stream's hello and turns into INVALID_ARGUMENT, naming the batch
// when it is one (so the agent drops it).
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

class TelemetryService final
    : public accord::v1::Telemetry::WithRawCallbackMethod_Connect<accord::v1::Telemetry::Service> {
 public:
  // Messages larger than `max_message_bytes` are rejected (reason too_large). Every ack
  // tells the agent `ack_interval`, the Ingestor's (the agent syncs its spool accordingly).
  TelemetryService(IngestQueue& queue, Clock& clock, size_t max_message_bytes,
                   absl::Duration ack_interval = absl::ZeroDuration());

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Connect(
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
