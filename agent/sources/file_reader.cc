#include "agent/sources/file_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace accord::agent {
namespace {

constexpr size_t kInitialBytes = 4096;

}  // namespace

absl::Status ReadFileToString(const std::string& path, std::string* out, size_t max_bytes) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    return ErrnoToStatus(err, absl::StrCat("open ", path));
  }

  // Use the whole capacity the buffer already has; resize() within capacity does not allocate.
  out->resize(std::max(out->capacity(), kInitialBytes));
  size_t used = 0;
  absl::Status status;
  for (;;) {
    if (used == out->size()) {
      if (out->size() > max_bytes) {
        status = absl::ResourceExhaustedError(
            absl::StrCat("read ", path, ": larger than ", max_bytes, " bytes"));
        break;
      }
      out->resize(std::min(out->size() * 2, max_bytes + 1));
    }
    const ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      status = ErrnoToStatus(err, absl::StrCat("read ", path));
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  if (status.ok() && used > max_bytes) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("read ", path, ": larger than ", max_bytes, " bytes"));
  }
  out->resize(status.ok() ? used : 0);
  return status;
}

}  // namespace accord::agent
