// Agent: wires the agent together. A sampling thread turns each cycle of the Sampler into a
// PendingBatch in the Spool; the StreamClient sends it. The agent's own health (samples
// produced, sent, dropped, reconnects, cycle time, CPU, RSS) travels as accord_agent_* series.
//
// Thread safety: Start/Stop from one thread.
#ifndef ACCORD_AGENT_AGENT_H_
#define ACCORD_AGENT_AGENT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/sources/sampler.h"
#include "agent/transport/stream_client.h"
#include "common/clock.h"

namespace accord::agent {

struct AgentOptions {
  std::string collector_address = "127.0.0.1:7470";
  // Stable host identity; empty: read {rootfs}/etc/machine-id (falls back to the hostname).
  std::string host_id;
  std::map<std::string, std::string> labels;
  absl::Duration sample_interval = absl::Seconds(10);
  absl::Duration heartbeat_interval = absl::Seconds(1);
  SamplerOptions sampler;
  // The durable spool: every batch and the alive evidence are written here before they are
  // sent and deleted after the collector acknowledged them (agent/spool/disk_spool.h).
  std::string spool_dir = "/var/lib/accord/spool";
  // Caps: when reached, the oldest whole segment goes and its samples count as dropped.
  // spool_max_bytes >= kMinSpoolMaxBytes (16 KiB, agent/spool/disk_spool.h); the segment size
  // follows from it (SegmentBytesForCap: cap/8 within [64 KiB, 4 MiB], at most cap/2).
  uint64_t spool_max_bytes = uint64_t{256} << 20;
  absl::Duration spool_max_age = absl::Hours(24 * 7);
  // gRPC's timers run on the stream thread (StreamClientOptions::drive_grpc_timers). The
  // accord-agent binary sets it; a process that also serves gRPC must not.
  bool drive_grpc_timers = false;
};

class Agent {
 public:
  // Resolves the host id, reads the boot time and the saved sequence, starts sampling and
  // streaming. Errors: FailedPrecondition when the host id or boot time cannot be found;
  // InvalidArgument for an unusable spool dir or a spool cap below kMinSpoolMaxBytes.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(const AgentOptions& options, Clock& clock);
  ~Agent();

  // Stops sampling, says goodbye with `reason` and waits up to `grace` for the collector.
  void Stop(GoodbyeReason reason, absl::Duration grace = absl::Seconds(3));

 private:
  struct Impl;
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when the host is shutting down or rebooting (systemd is stopping, or a shutdown is
// scheduled under {rootfs}/run/systemd/shutdown/scheduled or {rootfs}/run/nologin exists
// while systemd is stopping). `rootfs` is the host root path.
bool HostIsShuttingDown(const std::string& rootfs);

}  // namespace accord::agent

#endif  // ACCORD_AGENT_AGENT_H_
