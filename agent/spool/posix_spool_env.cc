// The POSIX SpoolEnv: open(2)/write(2)/pread(2)/fdatasync(2)/rename(2)/flock(2).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "agent/spool/spool_env.h"
#include "common/errno_status.h"

namespace accord::agent {
namespace {

absl::Status PosixError(int err, absl::string_view op, const std::string& path) {
  return ErrnoToStatus(err, absl::StrCat(op, " ", path));
}

int OpenRetrying(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

class PosixWritableFile final : public SpoolWritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("append to closed ", path_));
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError(errno, "write", path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("sync of closed ", path_));
    if (::fdatasync(fd_) != 0) return PosixError(errno, "fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 && errno != EINTR) return PosixError(errno, "close", path_);
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  int fd_;
};

class PosixReadableFile final : public SpoolReadableFile {
 public:
  PosixReadableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixReadableFile() override { ::close(fd_); }

  absl::Status Read(uint64_t offset, size_t n, std::string* out) const override {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, out->data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(errno, "pread", path_);
      }
      if (r == 0) {
        return absl::DataLossError(
            absl::StrCat("short read of ", path_, " at ", offset, ": ", got, " of ", n));
      }
      got += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixFileLock final : public SpoolFileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  const int fd_;
};

class PosixSpoolEnv final : public SpoolEnv {
 public:
  absl::Status CreateDir(const std::string& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return PosixError(ec.value(), "mkdir", dir);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(errno, "opendir", dir);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      absl::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    ::closedir(d);
    return names;
  }

  absl::StatusOr<std::unique_ptr<SpoolWritableFile>> NewWritableFile(
      const std::string& path) override {
    int fd = OpenRetrying(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0) return PosixError(errno, "open", path);
    return std::unique_ptr<SpoolWritableFile>(new PosixWritableFile(path, fd));
  }

  absl::StatusOr<std::unique_ptr<SpoolReadableFile>> NewReadableFile(
      const std::string& path) override {
    int fd = OpenRetrying(path, O_RDONLY);
    if (fd < 0) return PosixError(errno, "open", path);
    return std::unique_ptr<SpoolReadableFile>(new PosixReadableFile(path, fd));
  }

  absl::Status ReadFile(const std::string& path, std::string* out) override {
    int fd = OpenRetrying(path, O_RDONLY);
    if (fd < 0) return PosixError(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError(err, "fstat", path);
    }
    out->clear();
    out->resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    absl::Status status;
    while (true) {
      if (got == out->size()) out->resize(got + 4096);  // the file may have grown
      ssize_t r = ::read(fd, out->data() + got, out->size() - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        status = PosixError(errno, "read", path);
        break;
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    ::close(fd);
    out->resize(got);
    return status;
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError(errno, "rename", absl::StrCat(from, " -> ", to));
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(errno, "unlink", path);
    return absl::OkStatus();
  }

  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    int fd = OpenRetrying(path, O_WRONLY);
    if (fd < 0) return PosixError(errno, "open", path);
    absl::Status status;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      status = PosixError(errno, "ftruncate", path);
    } else if (::fdatasync(fd) != 0) {
      status = PosixError(errno, "fdatasync", path);
    }
    ::close(fd);
    return status;
  }

  absl::Status SyncFile(const std::string& path) override {
    int fd = OpenRetrying(path, O_RDONLY);
    if (fd < 0) return PosixError(errno, "open", path);
    absl::Status status;
    if (::fdatasync(fd) != 0) status = PosixError(errno, "fdatasync", path);
    ::close(fd);
    return status;
  }

  absl::Status SyncDir(const std::string& dir) override {
    int fd = OpenRetrying(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return PosixError(errno, "open", dir);
    absl::Status status;
    if (::fsync(fd) != 0) status = PosixError(errno, "fsync", dir);
    ::close(fd);
    return status;
  }

  absl::StatusOr<std::unique_ptr<SpoolFileLock>> LockFile(const std::string& path) override {
    int fd = OpenRetrying(path, O_RDWR | O_CREAT, 0644);
    if (fd < 0) return PosixError(errno, "open", path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            absl::StrCat("spool ", path, " is locked by another process"));
      }
      return PosixError(err, "flock", path);
    }
    return std::unique_ptr<SpoolFileLock>(new PosixFileLock(fd));
  }
};

}  // namespace

SpoolEnv& SpoolEnv::Default() {
  static PosixSpoolEnv* env = new PosixSpoolEnv();
  return *env;
}

}  // namespace accord::agent
