// Diagnostic: one error or warning found while loading a configuration file, with its place
// (file, 1-based line and column of the offending YAML node) and the dotted field path
// ("services[0].sla.target"). A plain value; thread-safe.
#ifndef ACCORD_COLLECTOR_CATALOGUE_DIAGNOSTIC_H_
#define ACCORD_COLLECTOR_CATALOGUE_DIAGNOSTIC_H_

#include <string>
#include <vector>

namespace accord::collector {

struct Diagnostic {
  enum class Severity { kError, kWarning };

  Severity severity = Severity::kError;
  std::string file;
  int line = 0;       // 1-based; 0 when the place is unknown
  int column = 0;     // 1-based; 0 when the place is unknown
  std::string field;  // dotted path; empty for file-level problems (e.g. a YAML syntax error)
  std::string message;

  // "file:line:column: error: field services[0].sla.target: target 120 is outside (0, 100)";
  // "warning" instead of "error" for warnings; without "field ...: " when `field` is empty.
  std::string ToString() const;
};

// "error" or "warning".
const char* SeverityName(Diagnostic::Severity severity);

// ToString() of each diagnostic of `severity`, one per line, in order, no trailing newline.
std::string JoinDiagnostics(const std::vector<Diagnostic>& diagnostics,
                            Diagnostic::Severity severity);

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_CATALOGUE_DIAGNOSTIC_H_
