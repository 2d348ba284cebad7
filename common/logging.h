// Structured logging facade (logfmt lines on stderr).
//
// Abseil 20220623 has no absl/log, so Accord has this small facade. Each call writes one
// line: `ts=<RFC 3339> level=<lvl> msg="<text>" key=value ...`. Values with spaces, quotes or
// '=' are quoted and escaped. Thread-safe: a line is written with one fwrite under a mutex.
//
// Usage:
//   accord::Log(accord::LogLevel::kInfo, "stream opened", {{"host", id}, {"peer", peer}});
#ifndef ACCORD_COMMON_LOGGING_H_
#define ACCORD_COMMON_LOGGING_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace accord {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn" or "error". Returns false on anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);

// Lines below `level` are discarded. Default: kInfo. Thread-safe.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// A key=value field. The value is formatted by the caller (absl::StrCat for numbers).
using LogField = std::pair<absl::string_view, std::string>;

void Log(LogLevel level, absl::string_view msg, std::initializer_list<LogField> fields = {});

// Formats one logfmt line without the trailing newline (exposed for tests).
std::string FormatLogLine(LogLevel level, absl::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace accord

#endif  // ACCORD_COMMON_LOGGING_H_
