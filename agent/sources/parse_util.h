// Text-scanning helpers shared by the /proc and /sys parsers of agent/sources. Internal to
// accord::agent_sources; not part of its API.
//
// All functions are pure, allocation-free on success, and thread-safe. They never read past
// the string_view they are given, so truncated or hostile input cannot crash them.
#ifndef ACCORD_AGENT_SOURCES_PARSE_UTIL_H_
#define ACCORD_AGENT_SOURCES_PARSE_UTIL_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace accord::agent::internal {

// Splits `*rest` at the first '\n': *line gets the part before it (without the newline) and
// *rest the part after. Returns false, leaving *line empty, when *rest is empty.
bool NextLine(absl::string_view* rest, absl::string_view* line);

// Skips leading spaces and tabs of `*rest` and splits off the next run of non-blank
// characters into *token. Returns false when only blanks remain.
bool NextToken(absl::string_view* rest, absl::string_view* token);

// True when `c` is a space or a tab.
inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Decimal unsigned integer with no sign, no blanks, no trailing garbage, and no overflow.
bool ParseU64(absl::string_view text, uint64_t* out);

// Decimal signed integer; same rules as ParseU64 but an optional leading '-'.
bool ParseI64(absl::string_view text, int64_t* out);

// Locale-independent floating point number, whole token.
bool ParseDouble(absl::string_view text, double* out);

// The error every parser returns for malformed input:
//   InvalidArgument("<file> line <line>: field <field>: <problem>")
// `line` is 1-based; pass 0 when the problem concerns the whole file (then "line" is
// omitted). kInvalidArgument: the text is malformed and re-parsing it will not help.
absl::Status ParseError(absl::string_view file, int line, absl::string_view field,
                        absl::string_view problem);

// ParseError with problem `not a number: "<token>"`, the token escaped and cut to 32 bytes.
absl::Status NotANumber(absl::string_view file, int line, absl::string_view field,
                        absl::string_view token);

}  // namespace accord::agent::internal

#endif  // ACCORD_AGENT_SOURCES_PARSE_UTIL_H_
