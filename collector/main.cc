// accord-collector: flags -> options -> Collector::Start -> wait for a signal -> Shutdown.
#include <signal.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "collector/collector.h"
#include "common/config.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  accord::collector::CollectorOptions options;
  std::string log_level = "info";
  bool version = false;
  accord::ConfigSchema schema("accord-collector");
  schema.AddString("grpc.listen-address", &options.grpc_listen_address,
                   "address agents connect to (default 0.0.0.0:7470; port 0: any free port)");
  schema.AddString("web.listen-address", &options.web_listen_address,
                   "address of /metrics and the HTTP API (default 0.0.0.0:9470)");
  schema.AddString("storage.path", &options.storage_path,
                   "directory for durable state (default ./var/collector)");
  schema.AddDuration("storage.retention", &options.retention,
                     "how long the transition log is kept (default 400d)", absl::Hours(24));
  schema.AddBytes("grpc.max-message-bytes", &options.max_message_bytes,
                  "largest accepted agent message (default 4MiB)");
  schema.AddInt("ingest.queue-capacity", &options.ingest_queue_capacity,
                "ingest queue size in messages before streams are paused (default 65536)", 16,
                1 << 24);
  schema.AddString("log.level", &log_level, "debug, info, warn or error (default info)");
  schema.AddSwitch("version", &version, "print the version and exit");

  absl::Status parsed = schema.Parse(argc, argv);
  if (absl::IsCancelled(parsed)) {
    std::fputs(std::string(parsed.message()).c_str(), stdout);
    return 0;
  }
  accord::LogLevel level;
  if (parsed.ok() && !accord::ParseLogLevel(log_level, &level)) {
    parsed = absl::InvalidArgumentError(
        absl::StrCat("log.level: \"", log_level, "\" is not one of debug, info, warn, error"));
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "accord-collector: configuration error:\n%s\n",
                 std::string(parsed.message()).c_str());
    return 2;
  }
  if (version) {
    std::printf("accord-collector %s\n", ACCORD_VERSION);
    return 0;
  }
  accord::SetLogLevel(level);

  // Signals are taken synchronously by this thread; block them before threads start.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto collector = accord::collector::Collector::Start(options, accord::RealClock::Get());
  if (!collector.ok()) {
    accord::Log(accord::LogLevel::kError, "cannot start",
                {{"error", std::string(collector.status().message())}});
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  accord::Log(accord::LogLevel::kInfo, "signal received", {{"signal", strsignal(sig)}});
  (*collector)->Shutdown();
  return 0;
}
