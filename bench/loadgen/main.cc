// accord-loadgen: flags -> LoadOptions -> LoadGenerator::Run -> report. Simulates many agents
// streaming to one collector (see bench/loadgen/load_generator.h and docs/benchmarks.md).
//
// Exit status: 0 when every agent connected and no stream failed (streams ended by the fault
// timetable are not failures); 3 otherwise (the report is printed either way); 2 for a
// configuration error.
//
// Fault timetable (bench/loadgen/fault_plan.h), e.g.
//   --fault=kill:0.01@30s --fault=freeze:1%@32s --fault=reconnect@40s
//   --fault.origin=all-connected   (times count from the moment every agent is connected)
#include <signal.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/fault_plan.h"
#include "bench/loadgen/load_generator.h"
#include "common/config.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  accord::bench::LoadOptions o;
  int64_t agents = o.agents, channels = o.channels, cpus = o.shape.cpus,
          filesystems = o.shape.filesystems, disks = o.shape.disks, interfaces = o.shape.interfaces,
          max_pending = o.max_pending_batches, seed = 1;
  absl::Duration report_interval = absl::Seconds(10);
  std::string output = "text";
  std::string log_level = "warn";
  std::vector<std::string> faults;
  std::string fault_origin = "start";
  accord::ConfigSchema schema("accord-loadgen");
  schema.AddString("collector.address", &o.collector_address,
                   "collector gRPC address host:port (default 127.0.0.1:7470)");
  schema.AddInt("agents", &agents, "simulated agents, one stream each (default 100)", 1, 100000);
  schema.AddInt("channels", &channels,
                "gRPC channels (TCP connections) the streams are spread over; 0: one per agent "
                "(default 0)",
                0, 100000);
  schema.AddString("host-prefix", &o.host_prefix, "host id prefix (default loadgen-)");
  schema.AddDuration("interval", &o.sample_interval, "sample interval (default 1s)",
                     absl::Milliseconds(100));
  schema.AddDuration("heartbeat", &o.heartbeat_interval, "heartbeat interval (default 1s)",
                     absl::Milliseconds(100));
  schema.AddDuration("duration", &o.duration, "how long to stream (default 60s, at most 1h)",
                     absl::Seconds(1));
  schema.AddDuration("ramp-up", &o.ramp_up, "connects spread over this time (default 1s)");
  schema.AddDuration("reconnect-delay", &o.reconnect_delay,
                     "wait before reopening a stream that ended (default 1s)",
                     absl::Milliseconds(10));
  schema.AddBool("goodbye", &o.goodbye,
                 "say goodbye at the end (default true); false: cancel the streams");
  schema.AddDuration("shutdown-grace", &o.shutdown_grace,
                     "wait for the collector to close streams after the goodbye (default 5s)");
  schema.AddInt("max-pending", &max_pending, "unacknowledged batches kept per agent (default 64)",
                1, 100000);
  schema.AddInt("host.cpus", &cpus, "CPUs of each simulated host (default 4)", 1, 1024);
  schema.AddInt("host.filesystems", &filesystems, "filesystems per host (default 3)", 0, 8);
  schema.AddInt("host.disks", &disks, "disks per host (default 2)", 0, 8);
  schema.AddInt("host.interfaces", &interfaces, "network interfaces per host (default 2)", 0, 8);
  schema.AddInt("seed", &seed, "seed of the hosts' load profiles (default 1)", 0, INT64_MAX);
  schema.AddDuration("report.interval", &report_interval,
                     "progress line on stderr every this long; 0: none (default 10s)");
  schema.AddString("output", &output, "final report format: text or json (default text)");
  schema.AddString("log.level", &log_level, "debug, info, warn or error (default warn)");
  schema.AddStringList("fault", &faults,
                       "fault timetable entry, repeatable: kill:AMOUNT@TIME (cancel the streams, "
                       "close the connections, no goodbye), freeze:AMOUNT@TIME (send nothing, "
                       "keep the stream open), reconnect[:AMOUNT]@TIME (bring back killed and "
                       "frozen agents; all without AMOUNT); AMOUNT a fraction (0.01) or a "
                       "percentage (1%); hosts chosen by --seed");
  schema.AddString("fault.origin", &fault_origin,
                   "what fault times count from: start, or all-connected (the moment every "
                   "agent is connected; default start)");

  absl::Status parsed = schema.Parse(argc, argv);
  if (absl::IsCancelled(parsed)) {
    std::fputs(std::string(parsed.message()).c_str(), stdout);
    return 0;
  }
  accord::LogLevel level;
  std::string errors;
  if (!parsed.ok()) errors = std::string(parsed.message());
  auto error = [&errors](const std::string& e) {
    absl::StrAppend(&errors, errors.empty() ? "" : "\n", e);
  };
  if (!accord::ParseLogLevel(log_level, &level)) {
    error(absl::StrCat("log.level: \"", log_level, "\" is not one of debug, info, warn, error"));
  }
  if (output != "text" && output != "json") {
    error(absl::StrCat("output: \"", output, "\" is not text or json"));
  }
  if (o.duration > absl::Hours(1)) error("duration: at most 1h");
  if (fault_origin != "start" && fault_origin != "all-connected") {
    error(absl::StrCat("fault.origin: \"", fault_origin, "\" is not start or all-connected"));
  }
  std::vector<accord::bench::FaultSpec> fault_specs;
  for (const std::string& f : faults) {
    auto spec = accord::bench::ParseFaultSpec(f);
    if (!spec.ok()) {
      error(std::string(spec.status().message()));
      continue;
    }
    if (fault_origin == "start" && spec->at >= o.duration) {
      error(absl::StrCat("fault: \"", f, "\" is at or after the end of the run (duration ",
                         absl::FormatDuration(o.duration), ")"));
    }
    fault_specs.push_back(*std::move(spec));
  }
  if (errors.empty()) {
    auto plan = accord::bench::PlanFaults(fault_specs, static_cast<int>(agents),
                                          static_cast<uint64_t>(seed));
    if (plan.ok()) {
      o.faults = *std::move(plan);
    } else {
      error(std::string(plan.status().message()));
    }
  }
  o.faults_from_all_connected = fault_origin == "all-connected";
  if (!errors.empty()) {
    std::fprintf(stderr, "accord-loadgen: configuration error:\n%s\n", errors.c_str());
    return 2;
  }
  accord::SetLogLevel(level);
  o.agents = static_cast<int>(agents);
  o.channels = static_cast<int>(channels);
  o.shape.cpus = static_cast<int>(cpus);
  o.shape.filesystems = static_cast<int>(filesystems);
  o.shape.disks = static_cast<int>(disks);
  o.shape.interfaces = static_cast<int>(interfaces);
  o.max_pending_batches = static_cast<int>(max_pending);
  o.seed = static_cast<uint64_t>(seed);

  // SIGINT/SIGTERM end the run early (with goodbyes and a report).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // used below to wake the signal thread at the end
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  accord::bench::LoadGenerator generator(o, accord::RealClock::Get());
  std::thread signal_thread([&generator, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    generator.Stop();
  });

  accord::Log(accord::LogLevel::kInfo, "loadgen starting",
              {{"agents", absl::StrCat(o.agents)}, {"collector", o.collector_address}});
  accord::bench::LoadReport report =
      generator.Run(report_interval, [](const accord::bench::LoadReport& r) {
        std::fprintf(stderr, "%s\n", accord::bench::FormatReportLine(r).c_str());
      });
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();

  std::string text = output == "json" ? accord::bench::FormatReportJson(report)
                                      : accord::bench::FormatReportText(report);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  bool ok = report.errors == 0 && report.agents_ever_connected == static_cast<uint64_t>(o.agents);
  return ok ? 0 : 3;
}
