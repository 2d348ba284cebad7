// Collector: wires the collector's components together and owns their lifetime.
//   gRPC TelemetryService -> IngestQueue -> Ingestor -> HostRegistry <- HTTP API
// Shutdown order: stop taking streams, drain the queue, stop the ticker, stop HTTP.
//
// Thread safety: Start and Shutdown from one thread.
#ifndef ACCORD_COLLECTOR_COLLECTOR_H_
#define ACCORD_COLLECTOR_COLLECTOR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "collector/capacity/capacity_service.h"
#include "collector/hosts/host_registry.h"
#include "common/clock.h"

namespace accord::collector {

struct CollectorOptions {
  // Where agents connect (gRPC). Port 0 picks a free port.
  std::string grpc_listen_address = "0.0.0.0:7470";
  // Where /metrics and the API are served. Port 0 picks a free port.
  std::string web_listen_address = "0.0.0.0:9470";
  // Directory for durable state (created if missing): the SQLite database accord.db.
  std::string storage_path = "./var/collector";
  // The YAML file with the service catalogue (`services:`, `teams:`, `suppliers:`); empty:
  // no catalogue. Read at start and on ReloadCatalogue().
  std::string catalogue_file;
  // How long the transition log is kept (default 400 days).
  absl::Duration retention = absl::Hours(24 * 400);
  // Largest accepted agent message.
  uint64_t max_message_bytes = 4 << 20;
  // Ingest queue capacity in messages; when full, streams stop being read (backpressure).
  int64_t ingest_queue_capacity = 65536;
  // ... and in bytes of memory held by the queued messages (collector/ingest/ingest_queue.h).
  uint64_t ingest_queue_bytes = uint64_t{256} << 20;
  // A stream is acknowledged at most once per interval (acks are cumulative); 0: every batch
  // as soon as it is durable. See --ingest.ack-interval in docs/protocol.md.
  absl::Duration ingest_ack_interval = absl::Seconds(5);
  // How often silent hosts are checked.
  absl::Duration liveness_check_interval = absl::Milliseconds(100);
  // How often freed heap is handed back to the kernel (malloc_trim); 0: never.
  absl::Duration heap_trim_interval = absl::Seconds(30);
  // The most malloc arenas the process may use (0: glibc's default, 8 per core). Applied by
  // main before any thread starts (LimitMallocArenas), not by Collector::Start.
  int64_t malloc_arenas = 2;
  HostRegistryOptions hosts;
  // Capacity management: rollup retention and evaluation cadence.
  capacity::CapacityOptions capacity;
};

class Collector {
 public:
  // Binds both listeners and starts all threads. Errors: Unavailable when a port cannot be
  // bound; InvalidArgument/PermissionDenied for an unusable storage path.
  static absl::StatusOr<std::unique_ptr<Collector>> Start(const CollectorOptions& options,
                                                          Clock& clock);
  ~Collector();

  // Orderly shutdown; idempotent.
  void Shutdown();

  // Re-reads the catalogue file (SIGHUP). On any error the running catalogue stays and the
  // error (every diagnostic, one per line) is returned and logged.
  absl::Status ReloadCatalogue();

  int grpc_port() const;
  int web_port() const;
  HostRegistry& registry();

 private:
  struct Impl;
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_COLLECTOR_H_
