#include "collector/web/json.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/prom_text.h"

namespace accord::collector {

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

void AppendJsonTime(std::string* out, absl::Time t) {
  out->push_back('"');
  out->append(Rfc3339(t));
  out->push_back('"');
}

void AppendJsonNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  AppendPromValue(out, v);
}

HttpResponse Json(int status, std::string body) {
  return {status, "application/json", std::move(body)};
}

HttpResponse JsonError(int status, absl::string_view message) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, message);
  body.append("}\n");
  return Json(status, std::move(body));
}

}  // namespace accord::collector
