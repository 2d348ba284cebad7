#include "common/prom_text.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

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

}  // namespace accord
