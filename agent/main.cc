// accord-agent: flags -> options -> Agent::Start -> wait for a signal -> Stop with goodbye.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/spool/disk_spool.h"
#include "agent/transport/grpc_runtime.h"
#include "common/cli.h"
#include "common/config.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  accord::agent::AgentOptions options;
  accord::ConfigSchema schema("accord-agent");
  schema.AddString(
      "collector.address", &options.collector_address,
      "collector gRPC address host:port, or several comma-separated: failover in order "
      "(default 127.0.0.1:7470)");
  schema.AddString("host.id", &options.host_id,
                   "stable host identity (default: contents of /etc/machine-id)");
  schema.AddLabels("label", &options.labels, "host label key=value (repeatable)");
  schema.AddDuration("sample.interval", &options.sample_interval,
                     "time between samples (default 10s, minimum 1s)", absl::Seconds(1));
  schema.AddDuration("heartbeat.interval", &options.heartbeat_interval,
                     "time between heartbeats (default 1s, minimum 100ms)",
                     absl::Milliseconds(100));
  schema.AddString("path.procfs", &options.sampler.procfs, "procfs mount point (default /proc)");
  schema.AddString("path.sysfs", &options.sampler.sysfs, "sysfs mount point (default /sys)");
  schema.AddString("path.rootfs", &options.sampler.rootfs, "host root filesystem (default /)");
  schema.AddStringList("collector.filesystem.fs-types-exclude", &options.sampler.fs_types_exclude,
                       "filesystem types not reported (repeatable; replaces the default list)");
  schema.AddStringList("collector.filesystem.mount-points-exclude",
                       &options.sampler.mount_points_exclude,
                       "mount points (and below) not reported (repeatable; replaces defaults)");
  schema.AddStringList("collector.netdev.device-exclude", &options.sampler.net_devices_exclude,
                       "network interfaces not reported (repeatable; default lo)");
  schema.AddString("collector.textfile.directory", &options.sampler.textfile.directory,
                   "directory whose *.prom files (Prometheus text format) add custom series "
                   "every sample (default empty: disabled)");
  schema.AddString("spool.dir", &options.spool_dir,
                   "durable spool and agent state (default /var/lib/accord/spool)");
  schema.AddBytes("spool.max-bytes", &options.spool_max_bytes,
                  "spool size cap; the oldest segment (an eighth of the cap, 64KiB to 4MiB) is "
                  "dropped and counted (default 256MiB, minimum 16KiB)");
  schema.AddDuration("spool.max-age", &options.spool_max_age,
                     "batches older than this are dropped and counted (default 7d)",
                     absl::Minutes(1));

  if (auto exit_code = accord::ParseCommandLine(schema, argc, argv, "accord-agent"))
    return *exit_code;
  // The schema has no minimum for sizes: checked here, reported like its errors (status 2).
  if (options.spool_max_bytes < accord::agent::kMinSpoolMaxBytes) {
    std::fprintf(stderr,
                 "accord-agent: configuration error:\nflag --spool.max-bytes: size %llu is below "
                 "the minimum %lluKiB\n",
                 static_cast<unsigned long long>(options.spool_max_bytes),
                 static_cast<unsigned long long>(accord::agent::kMinSpoolMaxBytes >> 10));
    return 2;
  }

  sigset_t signals = accord::BlockShutdownSignals(/*hup=*/false);

  // The agent's only gRPC use is its client stream: no gRPC timer threads waking it up
  // (agent/transport/grpc_runtime.h). ACCORD_AGENT_GRPC_TIMERS=grpc keeps gRPC's own.
  // gRPC's native DNS resolver (GRPC_DNS_RESOLVER=native; c-ares is the default) blocks in
  // getaddrinfo on an EventEngine thread: it keeps gRPC's engine, whose threads can wait.
  auto env_is = [](const char* name, const char* value) {
    const char* v = std::getenv(name);
    return v != nullptr && std::string(v) == value;
  };
  if (!env_is("ACCORD_AGENT_GRPC_TIMERS", "grpc")) {
    if (!env_is("GRPC_DNS_RESOLVER", "native")) accord::agent::UseQuietEventEngine();
    options.drive_grpc_timers = true;
  }

  auto agent = accord::agent::Agent::Start(options, accord::RealClock::Get());
  if (!agent.ok()) {
    accord::Log(accord::LogLevel::kError, "cannot start",
                {{"error", std::string(agent.status().message())}});
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  auto reason = accord::agent::HostIsShuttingDown(options.sampler.rootfs)
                    ? accord::agent::GoodbyeReason::kHostShutdown
                    : accord::agent::GoodbyeReason::kAgentStopping;
  accord::Log(accord::LogLevel::kInfo, "signal received", {{"signal", strsignal(sig)}});
  (*agent)->Stop(reason);
  return 0;
}
