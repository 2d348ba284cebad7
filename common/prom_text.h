// Helpers for the Prometheus text exposition format (version 0.0.4): validating names and
// appending escaped label values and numbers. Pure functions, thread-safe.
#ifndef ACCORD_COMMON_PROM_TEXT_H_
#define ACCORD_COMMON_PROM_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace accord {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(absl::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(absl::string_view name);

// Appends `value` with \\, \" and \n escaped, as inside a label value's quotes.
void AppendEscapedLabelValue(std::string* out, absl::string_view value);
// Appends `text` with \\ and \n escaped, as in a HELP line.
void AppendEscapedHelp(std::string* out, absl::string_view text);
// Writes the shortest representation that reads back to the same double; NaN, +Inf, -Inf.
// Writes at most kMaxPromValueChars characters at `out`; returns the end of what it wrote.
inline constexpr size_t kMaxPromValueChars = 32;
char* FormatPromValue(double value, char* out);
// Appends FormatPromValue's text.
void AppendPromValue(std::string* out, double value);
// Appends "# HELP name help\n# TYPE name type\n".
void AppendFamilyHeader(std::string* out, absl::string_view name, absl::string_view type,
                        absl::string_view help);

}  // namespace accord

#endif  // ACCORD_COMMON_PROM_TEXT_H_
