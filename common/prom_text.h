// Helpers for the Prometheus text exposition format (version 0.0.4): validating names and
// appending escaped label values and numbers. Pure functions, thread-safe.
#ifndef ACCORD_COMMON_PROM_TEXT_H_
#define ACCORD_COMMON_PROM_TEXT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
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

// ExpositionDrain: takes the text a renderer has appended to a string so far (sends it on) and
// clears the string. Renderers of large expositions call MaybeDrain between lines, so that a
// 180 MiB /metrics is sent in pieces of about kExpositionDrainBytes instead of being built
// whole: no body-sized allocation to fault in, and sending overlaps rendering. An empty drain:
// the text stays in the string. A drain returns false (having cleared the string all the same)
// when the text can no longer be sent (the client went away): the renderer stops rather than
// render the rest for nobody.
using ExpositionDrain = std::function<bool(std::string* text)>;
inline constexpr size_t kExpositionDrainBytes = 1 << 20;
// False when the drain said stop.
inline bool MaybeDrain(std::string* text, const ExpositionDrain& drain) {
  if (drain && text->size() >= kExpositionDrainBytes) return drain(text);
  return true;
}

// FamilyFilter: the metric families a scrape asked for (`/metrics?family=a,b`, as
// node_exporter's `collect[]`): a Prometheus job can then scrape a few small families often
// (accord_host_up every few seconds) and the whole exposition rarely. Default: everything.
class FamilyFilter {
 public:
  FamilyFilter() = default;
  // A comma-separated list of family names (spaces around them ignored). InvalidArgument,
  // naming the entry, for an empty list or an entry that is not a valid metric name.
  static absl::StatusOr<FamilyFilter> Parse(absl::string_view list);

  bool all() const { return names_.empty(); }
  bool Matches(absl::string_view family) const;
  // True when everything is wanted or some wanted family starts with `prefix`.
  bool AnyWithPrefix(absl::string_view prefix) const;

 private:
  std::vector<std::string> names_;  // sorted, unique; empty: all
};

// Appends the families of `exposition` (text format, families in blocks that start with
// their HELP or TYPE lines, as every Accord renderer writes them) that `filter` matches:
// header lines and samples, a histogram's _bucket/_sum/_count samples with it.
void AppendFilteredExposition(absl::string_view exposition, const FamilyFilter& filter,
                              std::string* out);

}  // namespace accord

#endif  // ACCORD_COMMON_PROM_TEXT_H_
