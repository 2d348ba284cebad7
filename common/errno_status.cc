#include "common/errno_status.h"

#include <errno.h>
#include <string.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace accord {

absl::Status ErrnoToStatus(int err, absl::string_view context) {
  char buf[128];
  const char* msg = strerror_r(err, buf, sizeof(buf));  // GNU: may not use buf
  std::string text = absl::StrCat(context, ": ", msg);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(text);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(text);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(text);
    default:
      return absl::UnavailableError(text);
  }
}

}  // namespace accord
