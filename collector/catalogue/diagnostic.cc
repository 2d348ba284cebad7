#include "collector/catalogue/diagnostic.h"

#include "absl/strings/str_cat.h"

namespace accord::collector {

const char* SeverityName(Diagnostic::Severity severity) {
  return severity == Diagnostic::Severity::kError ? "error" : "warning";
}

std::string Diagnostic::ToString() const {
  std::string out = absl::StrCat(file, ":", line, ":", column, ": ", SeverityName(severity), ": ");
  if (!field.empty()) absl::StrAppend(&out, "field ", field, ": ");
  absl::StrAppend(&out, message);
  return out;
}

std::string JoinDiagnostics(const std::vector<Diagnostic>& diagnostics,
                            Diagnostic::Severity severity) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != severity) continue;
    if (!out.empty()) out += '\n';
    out += d.ToString();
  }
  return out;
}

}  // namespace accord::collector
