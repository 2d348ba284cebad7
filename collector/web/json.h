// Minimal JSON output helpers for the API (we only write JSON, never parse it).
#ifndef ACCORD_COLLECTOR_WEB_JSON_H_
#define ACCORD_COLLECTOR_WEB_JSON_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "collector/web/http_server.h"

namespace accord::collector {

// Appends `s` as a quoted JSON string (control characters, quotes and backslashes escaped;
// bytes >= 0x80 passed through).
void AppendJsonString(std::string* out, absl::string_view s);
// Appends a number as JSON: the shortest text that reads back to the same double; NaN and
// infinities (which JSON cannot hold) as null.
void AppendJsonNumber(std::string* out, double v);
// Appends an RFC 3339 UTC time as a JSON string, e.g. "2026-11-28T07:09:10.123Z".
void AppendJsonTime(std::string* out, absl::Time t);
// An application/json response with `body`, and an error response {"error": message}.
HttpResponse Json(int status, std::string body);
HttpResponse JsonError(int status, absl::string_view message);

// Formats an RFC 3339 UTC time with milliseconds.
std::string Rfc3339(absl::Time t);

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_WEB_JSON_H_
