// StreamClient: keeps one gRPC stream to the collector open, forever.
//
// It sends a Hello, then the spool's waiting batches (oldest first, each series described
// once per stream), heartbeats every heartbeat interval, and finally a Goodbye on Stop.
// Acks remove batches from the spool. When the stream ends it reconnects with exponential
// backoff and jitter (1 s doubling to 60 s, reset after an ack). A permanent error
// (INVALID_ARGUMENT and the like) is never retried in a loop: a batch the collector names as
// rejected is dropped and counted; any other permanent error waits `permanent_error_holdoff`.
//
// Thread safety: Start/Stop from one thread; Kick from any thread; stats are atomics.
#ifndef ACCORD_AGENT_TRANSPORT_STREAM_CLIENT_H_
#define ACCORD_AGENT_TRANSPORT_STREAM_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/transport/series_table.h"
#include "agent/transport/spool.h"
#include "common/clock.h"

namespace accord::agent {

class GrpcTimerDriver;  // grpc_runtime.h

enum class GoodbyeReason { kAgentStopping, kHostShutdown };

struct StreamClientOptions {
  // Collectors in order of preference; comma-separated ("primary:7470,standby:7470"). The
  // client fails over to the next one when a stream cannot be established or breaks before
  // any ack, and backs off only after a whole round of the list.
  std::string collector_address = "127.0.0.1:7470";
  std::string host_id;
  std::string hostname;
  std::string agent_version;
  std::map<std::string, std::string> labels;
  int64_t boot_time_seconds = 0;
  absl::Duration sample_interval = absl::Seconds(10);
  absl::Duration heartbeat_interval = absl::Seconds(1);
  absl::Duration backoff_initial = absl::Seconds(1);
  absl::Duration backoff_max = absl::Seconds(60);
  absl::Duration permanent_error_holdoff = absl::Minutes(10);
  // Batches sent per second at most (0: no limit). A backlog after a long partition drains
  // at this pace (a 24 h backlog at 10 s sampling in ~4 s), so a thousand agents coming
  // back at once cannot flatten a recovering collector; the live rate is far below it.
  int backfill_batches_per_second = 2000;
  // Live data first: while a backlog is being sent after a reconnect, each batch produced
  // since the stream opened is also sent at once as a preview (the collector shows it, and
  // counts it when the backlog reaches it). Only with collectors of protocol revision 2.
  bool live_previews = true;
  // Run gRPC's timers on the StreamClient thread instead of gRPC's own timer threads (see
  // GrpcTimerDriver in grpc_runtime.h). For a process whose only gRPC use is this client.
  bool drive_grpc_timers = false;
  // HTTP/2 keepalive: a ping after this long, the connection dropped when its ack takes
  // longer than the timeout (a frozen collector or a dead path; then the next address).
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
};

struct StreamClientStats {
  std::atomic<uint64_t> connects{0};    // streams opened
  std::atomic<uint64_t> reconnects{0};  // streams opened after the first
  std::atomic<uint64_t> stream_errors{0};
  std::atomic<uint64_t> rejected_batches{0};
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> previews_sent{0};         // live batches sent ahead of a backlog
  std::atomic<uint64_t> unresolvable_batches{0};  // spooled batches dropped: unknown series
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> failovers{0};   // moves to another collector address
  std::atomic<int> current_address{0};  // index into the address list
};

class StreamClient {
 public:
  // `next_sequence` returns the sequence the next new batch will get (for the Hello).
  StreamClient(StreamClientOptions options, Spool& spool, SeriesTable& series, Clock& clock,
               std::function<uint64_t()> next_sequence);
  ~StreamClient();

  void Start();
  // A new batch is in the spool: send it now if the stream is idle.
  void Kick();
  // Sends a Goodbye (if connected), closes the stream and waits up to `grace` for the
  // collector to confirm. Idempotent.
  void Stop(GoodbyeReason reason, absl::Duration grace);

  const StreamClientStats& stats() const { return stats_; }

 private:
  class Call;
  void Run();
  void RunStreams();

  const StreamClientOptions options_;
  Spool& spool_;
  SeriesTable& series_;
  Clock& clock_;
  std::function<uint64_t()> next_sequence_;
  StreamClientStats stats_;
  std::atomic<bool> acked_since_connect_{false};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  GoodbyeReason goodbye_reason_ ABSL_GUARDED_BY(mu_) = GoodbyeReason::kAgentStopping;
  Call* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool call_done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  struct Channel;
  std::unique_ptr<Channel> channel_;
  std::unique_ptr<GrpcTimerDriver> timers_;  // with drive_grpc_timers, while running
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_STREAM_CLIENT_H_
