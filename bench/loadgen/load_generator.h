// LoadGenerator: simulates many accord agents, each on its own real gRPC stream to one
// collector, speaking the wire contract the way accord-agent does (agent/transport/
// stream_client.cc): a Hello first; then SampleBatch messages with strictly increasing
// sequence numbers whose series are described once per stream (new_series) and referenced by
// id afterwards; a Heartbeat every heartbeat interval; a Goodbye at the end. Unacknowledged
// batches are kept (bounded, oldest dropped first) and resent after a reconnect.
//
// Streams use the gRPC callback API (one ClientBidiReactor per stream), so thousands of
// streams need no thread each: one driver thread (the caller of Run) produces batches and
// heartbeats on schedule and hands them to the reactors; gRPC's own threads run the reactions.
// Streams are spread over `channels` channels, each with a distinct channel argument so each
// gets its own subchannel (TCP connection).
//
// Faults (bench/loadgen/fault_plan.h) are applied by the driver thread on their timetable: a
// killed agent's stream is cancelled (RST_STREAM, no goodbye) and, when the agent has its own
// channel, the channel is dropped so its TCP connection closes too; the agent stays away until
// a reconnect entry brings it back on a new stream and connection. A frozen agent writes
// nothing (its batches are not even produced) while its stream and connection stay open; a
// reconnect resumes it on the same stream. Streams of faulted agents that end are not errors
// and are not reopened. The wall time each host's fault was applied is in the report.
//
// Every loop is bounded: Run returns after `duration` plus at most `shutdown_grace` plus 5 s,
// or earlier after Stop.
//
// Thread safety: Run from one thread, once. Stop and Snapshot from any thread.
#ifndef ACCORD_BENCH_LOADGEN_LOAD_GENERATOR_H_
#define ACCORD_BENCH_LOADGEN_LOAD_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/loadgen/fault_plan.h"
#include "bench/loadgen/host_model.h"
#include "common/clock.h"

namespace accord::bench {

struct LoadOptions {
  // The collector's gRPC address, host:port.
  std::string collector_address = "127.0.0.1:7470";
  // Simulated agents; agent i has host id `host_prefix` + i as 5 digits (loadgen-00042).
  int agents = 100;
  std::string host_prefix = "loadgen-";
  // gRPC channels the streams are spread over (agent i uses channel i % channels);
  // 0: one channel per agent, like real agents.
  int channels = 0;
  HostShape shape;
  absl::Duration sample_interval = absl::Seconds(1);
  absl::Duration heartbeat_interval = absl::Seconds(1);
  // How long agents stream before saying goodbye.
  absl::Duration duration = absl::Seconds(60);
  // Agents connect spread evenly over this time (0: all at once).
  absl::Duration ramp_up = absl::Seconds(1);
  // Delay before a stream that ended is opened again.
  absl::Duration reconnect_delay = absl::Seconds(1);
  // At the end: send a Goodbye and wait up to shutdown_grace for the collector to close the
  // stream; false: cancel the streams (hosts become unreachable, like a crash).
  bool goodbye = true;
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Unacknowledged batches kept per agent; beyond it the oldest is dropped (and counted).
  int max_pending_batches = 64;
  // Seeds the hosts' load profiles (host i uses seed + i).
  uint64_t seed = 1;
  // The fault timetable, hosts already chosen (PlanFaults with `agents`), ordered by time.
  std::vector<PlannedFault> faults;
  // Fault times count from the moment every agent was first connected at once (true; faults
  // never fire if that never happens) or from Run's start (false).
  bool faults_from_all_connected = false;
};

// One host's fault as applied (or a reconnect), in the order applied.
struct FaultRecord {
  FaultKind kind = FaultKind::kKill;
  std::string host;
  int spec_index = 0;  // PlannedFault::spec_index
  // Wall time just before the stream was cancelled (kill), writing stopped (freeze), or the
  // agent was let go again (reconnect).
  absl::Time at = absl::InfinitePast();
  // Wall time this agent last started writing a message on its stream before the fault
  // (InfinitePast: none, or a reconnect).
  absl::Time last_message_at = absl::InfinitePast();
  // The agent had a stream whose hello was answered when the fault was applied.
  bool connected = false;
};

// A healthy, connected agent that wrote nothing for longer than kSenderGapHeartbeats heartbeat
// intervals, the collector's default silence limit: the generator itself fell behind (starved
// of CPU), and the silence the collector saw was real. Recorded when the write that ends the
// gap starts; gaps a freeze caused are not recorded. (An agent normally writes at least once
// a heartbeat interval; after a batch, the next heartbeat is skipped, so just under 2
// intervals between writes is normal.)
inline constexpr int kSenderGapHeartbeats = 3;
struct SenderGap {
  std::string host;
  absl::Time from;  // the previous write started
  absl::Time to;    // the next write started
};

// Totals since Run started. Counters only grow; streams_connected is current.
struct LoadReport {
  absl::Duration elapsed;
  int agents = 0;
  int channels = 0;
  size_t series_per_agent = 0;
  uint64_t streams_opened = 0;     // Connect calls started (including reconnects)
  uint64_t streams_connected = 0;  // streams whose Hello was answered and that are still open
  uint64_t streams_connected_peak = 0;
  uint64_t agents_ever_connected = 0;  // agents whose Hello was answered at least once
  uint64_t reconnects = 0;
  uint64_t batches_produced = 0;
  uint64_t batches_sent = 0;  // writes of a batch, resends included
  uint64_t batches_resent = 0;
  uint64_t batches_acked = 0;
  uint64_t batches_dropped = 0;  // pending buffer overflow
  uint64_t samples_sent = 0;
  uint64_t samples_acked = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;  // serialized protobuf bytes (no gRPC/HTTP2/TCP framing)
  uint64_t errors = 0;      // streams that ended other than after our goodbye or shutdown
  std::map<std::string, uint64_t> errors_by_code;
  uint64_t shutdown_cancelled = 0;  // streams cancelled because the grace ran out
  uint64_t ack_latency_count = 0;
  absl::Duration ack_latency_p50, ack_latency_p99, ack_latency_max;
  absl::Duration connect_latency_p50, connect_latency_p99;  // Hello written -> first Ack
  // Faults: the time origin's wall time (InfinitePast until reached), timetable entries
  // planned and applied, and every host's fault record.
  absl::Time faults_origin = absl::InfinitePast();
  uint64_t faults_planned = 0;
  uint64_t faults_applied = 0;
  uint64_t hosts_killed = 0, hosts_frozen = 0, hosts_reconnected = 0;
  std::vector<FaultRecord> fault_records;
  // The generator's own silences (SenderGap): how many, the longest, and the first
  // kMaxSenderGapRecords of them.
  static constexpr size_t kMaxSenderGapRecords = 100000;
  uint64_t sender_gaps = 0;
  absl::Duration sender_gap_max;
  std::vector<SenderGap> sender_gap_records;
};

std::string FormatReportText(const LoadReport& r);
std::string FormatReportJson(const LoadReport& r);
// One line for progress output.
std::string FormatReportLine(const LoadReport& r);

class LoadGenerator {
 public:
  // Does no I/O; channels are created by Run.
  LoadGenerator(LoadOptions options, Clock& clock);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Streams until `duration` has passed or Stop was called, then shuts the streams down and
  // returns the final report. Calls `progress` (if set) every `report_interval` (> 0) from
  // this thread.
  LoadReport Run(absl::Duration report_interval, std::function<void(const LoadReport&)> progress);

  // Ends Run early (it still says goodbye and reports). Idempotent.
  void Stop();

  LoadReport Snapshot() const;

  struct Stats;
  class Agent;
  class Call;

 private:
  bool WaitStop(absl::Duration timeout);

  const LoadOptions options_;
  Clock& clock_;
  std::unique_ptr<Stats> stats_;
  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace accord::bench

#endif  // ACCORD_BENCH_LOADGEN_LOAD_GENERATOR_H_
