#include "agent/sources/file_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace accord::agent {
namespace {

constexpr size_t kInitialBytes = 4096;
// statfs(2) f_type of the filesystems whose files are generated on each read (linux/magic.h).
constexpr long kProcSuperMagic = 0x9fa0;
constexpr long kSysfsMagic = 0x62656572;

absl::Status OpenFile(const std::string& path, int* fd) {
  do {
    *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (*fd < 0 && errno == EINTR);
  if (*fd < 0) {
    const int err = errno;
    return ErrnoToStatus(err, absl::StrCat("open ", path));
  }
  return absl::OkStatus();
}

// Reads `fd` until EOF into *out: from its current offset with read(2), or with `positional`
// from offset 0 with pread(2) (the descriptor's offset is left alone).
// *read_errno is the errno of a failed read(2), else 0.
absl::Status ReadAll(int fd, bool positional, const std::string& path, std::string* out,
                     size_t max_bytes, int* read_errno) {
  *read_errno = 0;
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
    const ssize_t n =
        positional ? ::pread(fd, out->data() + used, out->size() - used, static_cast<off_t>(used))
                   : ::read(fd, out->data() + used, out->size() - used);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      *read_errno = err;
      status = ErrnoToStatus(err, absl::StrCat("read ", path));
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (status.ok() && used > max_bytes) {
    status = absl::ResourceExhaustedError(
        absl::StrCat("read ", path, ": larger than ", max_bytes, " bytes"));
  }
  out->resize(status.ok() ? used : 0);
  return status;
}

// The filesystem magic of fd's filesystem, 0 when unknown.
long FilesystemType(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return 0;
  return static_cast<long>(fs.f_type);
}

}  // namespace

absl::Status ReadFileToString(const std::string& path, std::string* out, size_t max_bytes) {
  int fd;
  absl::Status status = OpenFile(path, &fd);
  if (!status.ok()) return status;
  int read_errno;
  status = ReadAll(fd, /*positional=*/false, path, out, max_bytes, &read_errno);
  ::close(fd);
  return status;
}

RereadableFile::~RereadableFile() { Close(); }

RereadableFile::RereadableFile(RereadableFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      on_procfs_(other.on_procfs_) {}

RereadableFile& RereadableFile::operator=(RereadableFile&& other) noexcept {
  if (this != &other) {
    Close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    on_procfs_ = other.on_procfs_;
  }
  return *this;
}

void RereadableFile::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::Status RereadableFile::Read(std::string* out, size_t max_bytes) {
  int read_errno = 0;
  if (fd_ >= 0) {
    absl::Status status = ReadAll(fd_, /*positional=*/true, path_, out, max_bytes, &read_errno);
    // ENODEV: the file was removed (its device went away); anything else is the file's answer
    // (EINVAL from the speed of a link that is down), and the descriptor stays valid.
    if (status.ok() || read_errno != ENODEV) return status;
    Close();  // stale: one fresh try below
  }
  int fd;
  absl::Status status = OpenFile(path_, &fd);
  if (!status.ok()) return status;
  status = ReadAll(fd, /*positional=*/true, path_, out, max_bytes, &read_errno);
  const long type = FilesystemType(fd);
  if (read_errno != ENODEV && (type == kProcSuperMagic || type == kSysfsMagic)) {
    fd_ = fd;
    on_procfs_ = type == kProcSuperMagic;
  } else {
    ::close(fd);
  }
  return status;
}

bool RereadableFile::MountTableUnchanged() {
  if (fd_ < 0 || !on_procfs_) return false;
  struct pollfd p = {fd_, POLLPRI, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return false;
  return (p.revents & (POLLPRI | POLLERR | POLLNVAL)) == 0;
}

}  // namespace accord::agent
