// Maps an errno value to an absl::Status whose code says how to react: NotFound,
// PermissionDenied (also a read-only filesystem), ResourceExhausted (disk full, quota), and
// Unavailable (retry) for the rest. Thread-safe.
#ifndef ACCORD_COMMON_ERRNO_STATUS_H_
#define ACCORD_COMMON_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace accord {

// The message is "<context>: <strerror(err)>".
absl::Status ErrnoToStatus(int err, absl::string_view context);

}  // namespace accord

#endif  // ACCORD_COMMON_ERRNO_STATUS_H_
