#include "common/prom_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace accord {

bool IsValidMetricName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || c == ':' || (i > 0 && absl::ascii_isdigit(c)))) {
      return false;
    }
  }
  return true;
}

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || absl::StartsWith(name, "__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c)))) return false;
  }
  return true;
}

void AppendEscapedLabelValue(std::string* out, absl::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendEscapedHelp(std::string* out, absl::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

char* FormatPromValue(double value, char* out) {
  if (std::isnan(value)) {
    std::memcpy(out, "NaN", 3);
    return out + 3;
  }
  if (std::isinf(value)) {
    std::memcpy(out, value > 0 ? "+Inf" : "-Inf", 4);
    return out + 4;
  }
  return std::to_chars(out, out + kMaxPromValueChars, value).ptr;
}

void AppendPromValue(std::string* out, double value) {
  char buf[kMaxPromValueChars];
  out->append(buf, FormatPromValue(value, buf));
}

void AppendFamilyHeader(std::string* out, absl::string_view name, absl::string_view type,
                        absl::string_view help) {
  out->append("# HELP ");
  out->append(name.data(), name.size());
  out->push_back(' ');
  AppendEscapedHelp(out, help);
  out->append("\n# TYPE ");
  out->append(name.data(), name.size());
  out->push_back(' ');
  out->append(type.data(), type.size());
  out->push_back('\n');
}

absl::StatusOr<FamilyFilter> FamilyFilter::Parse(absl::string_view list) {
  FamilyFilter f;
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    absl::string_view name = absl::StripAsciiWhitespace(part);
    if (!IsValidMetricName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("family: \"", name.substr(0, 200), "\" is not a metric name"));
    }
    f.names_.emplace_back(name);
  }
  std::sort(f.names_.begin(), f.names_.end());
  f.names_.erase(std::unique(f.names_.begin(), f.names_.end()), f.names_.end());
  return f;
}

bool FamilyFilter::Matches(absl::string_view family) const {
  return names_.empty() || std::binary_search(names_.begin(), names_.end(), family);
}

bool FamilyFilter::AnyWithPrefix(absl::string_view prefix) const {
  if (names_.empty()) return true;
  auto it = std::lower_bound(names_.begin(), names_.end(), prefix);
  return it != names_.end() && absl::StartsWith(*it, prefix);
}

namespace {

// The metric name a line is about: the token after "# HELP " / "# TYPE ", or the sample's
// name. Empty for any other comment or a blank line.
absl::string_view LineName(absl::string_view line, bool* header) {
  *header = false;
  if (absl::ConsumePrefix(&line, "# HELP ") || absl::ConsumePrefix(&line, "# TYPE ")) {
    *header = true;
  } else if (line.empty() || line[0] == '#') {
    return {};
  }
  size_t end = 0;
  while (end < line.size() && line[end] != ' ' && line[end] != '{') ++end;
  return line.substr(0, end);
}

bool IsSampleOf(absl::string_view sample, absl::string_view family) {
  if (!absl::ConsumePrefix(&sample, family)) return false;
  return sample.empty() || sample == "_bucket" || sample == "_sum" || sample == "_count";
}

}  // namespace

void AppendFilteredExposition(absl::string_view exposition, const FamilyFilter& filter,
                              std::string* out) {
  if (filter.all()) {
    out->append(exposition.data(), exposition.size());
    return;
  }
  absl::string_view family;  // the block being read
  bool keep = false;
  while (!exposition.empty()) {
    size_t nl = exposition.find('\n');
    size_t len = nl == absl::string_view::npos ? exposition.size() : nl + 1;
    absl::string_view line = exposition.substr(0, len);
    exposition.remove_prefix(len);
    bool header;
    absl::string_view name = LineName(absl::StripSuffix(line, "\n"), &header);
    if (name.empty()) continue;
    if (header) {
      if (name != family) {
        family = name;
        keep = filter.Matches(name);
      }
    } else if (!IsSampleOf(name, family)) {
      family = name;  // a sample outside any block: judged by its own name
      keep = filter.Matches(name);
    }
    if (keep) out->append(line.data(), line.size());
  }
}

}  // namespace accord
