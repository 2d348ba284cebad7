#include "agent/sources/parse_util.h"

#include <cstring>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace accord::agent::internal {

bool NextLine(absl::string_view* rest, absl::string_view* line) {
  if (rest->empty()) {
    *line = absl::string_view();
    return false;
  }
  const void* nl = std::memchr(rest->data(), '\n', rest->size());
  if (nl == nullptr) {
    *line = *rest;
    *rest = absl::string_view();
    return true;
  }
  const size_t len = static_cast<const char*>(nl) - rest->data();
  *line = rest->substr(0, len);
  rest->remove_prefix(len + 1);
  return true;
}

bool NextToken(absl::string_view* rest, absl::string_view* token) {
  size_t i = 0;
  const size_t n = rest->size();
  while (i < n && IsBlank((*rest)[i])) ++i;
  if (i == n) {
    *rest = absl::string_view();
    *token = absl::string_view();
    return false;
  }
  size_t j = i;
  while (j < n && !IsBlank((*rest)[j])) ++j;
  *token = rest->substr(i, j - i);
  rest->remove_prefix(j);
  return true;
}

bool ParseU64(absl::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

bool ParseI64(absl::string_view text, int64_t* out) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  uint64_t magnitude = 0;
  if (!ParseU64(text, &magnitude)) return false;
  const uint64_t limit =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  if (magnitude > limit) return false;
  *out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

bool ParseDouble(absl::string_view text, double* out) {
  // SimpleAtod tolerates surrounding blanks; tokens never have them, so refuse any.
  if (text.empty() || IsBlank(text.front()) || IsBlank(text.back())) return false;
  return absl::SimpleAtod(text, out);
}

absl::Status ParseError(absl::string_view file, int line, absl::string_view field,
                        absl::string_view problem) {
  if (line > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, " line ", line, ": field ", field, ": ", problem));
  }
  return absl::InvalidArgumentError(absl::StrCat(file, ": field ", field, ": ", problem));
}

absl::Status NotANumber(absl::string_view file, int line, absl::string_view field,
                        absl::string_view token) {
  constexpr size_t kMaxShown = 32;
  const bool cut = token.size() > kMaxShown;
  return ParseError(file, line, field,
                    absl::StrCat("not a number: \"", absl::CHexEscape(token.substr(0, kMaxShown)),
                                 cut ? "...\"" : "\""));
}

}  // namespace accord::agent::internal
