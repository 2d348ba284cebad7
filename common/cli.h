// The command-line edge shared by accord-agent and accord-collector: --log.level, --version
// and --help on top of a component's ConfigSchema, the exit codes, and signal blocking.
// Used once in main(); not thread-safe.
#ifndef ACCORD_COMMON_CLI_H_
#define ACCORD_COMMON_CLI_H_

#include <signal.h>

#include <optional>

#include "common/config.h"

namespace accord {

// Adds --log.level and --version to `schema`, parses argv and applies the log level.
// Returns std::nullopt when the program should run, or the exit code to return from main():
// 0 after --help or --version (printed to stdout), 2 after configuration errors (all of them
// printed to stderr, prefixed with `program`).
std::optional<int> ParseCommandLine(ConfigSchema& schema, int argc, char** argv,
                                    const char* program);

// Blocks SIGINT and SIGTERM (and SIGHUP when `hup`) in the calling thread, so that threads
// started later inherit the mask and main() can sigwait() for them; ignores SIGPIPE.
sigset_t BlockShutdownSignals(bool hup);

}  // namespace accord

#endif  // ACCORD_COMMON_CLI_H_
