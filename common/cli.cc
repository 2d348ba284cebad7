#include "common/cli.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"

namespace accord {

std::optional<int> ParseCommandLine(ConfigSchema& schema, int argc, char** argv,
                                    const char* program) {
  // Debian's Abseil keeps Mutex deadlock detection on: a graph update on every lock, measured
  // at ~15% of the agent's own instructions per cycle. Lock order is checked in tests instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string log_level = "info";
  bool version = false;
  schema.AddString("log.level", &log_level, "debug, info, warn or error (default info)");
  schema.AddSwitch("version", &version, "print the version and exit");
  absl::Status parsed = schema.Parse(argc, argv);
  if (absl::IsCancelled(parsed)) {
    std::fputs(std::string(parsed.message()).c_str(), stdout);
    return 0;
  }
  LogLevel level = LogLevel::kInfo;
  if (parsed.ok() && !ParseLogLevel(log_level, &level)) {
    parsed = absl::InvalidArgumentError(
        absl::StrCat("log.level: \"", log_level, "\" is not one of debug, info, warn, error"));
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: configuration error:\n%s\n", program,
                 std::string(parsed.message()).c_str());
    return 2;
  }
  if (version) {
    std::printf("%s %s\n", program, ACCORD_VERSION);
    return 0;
  }
  SetLogLevel(level);
  return std::nullopt;
}

sigset_t BlockShutdownSignals(bool hup) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (hup) sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

}  // namespace accord
