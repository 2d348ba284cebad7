// NewRealFsStatter (declared in sampler.h): FsStatter over statvfs(2).
#include <errno.h>
#include <sys/statvfs.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/sampler.h"

namespace accord::agent {
namespace {

class RealFsStatter : public FsStatter {
 public:
  absl::StatusOr<FsStats> Stat(const std::string& path) override {
    struct statvfs st;
    int rc;
    do {
      rc = ::statvfs(path.c_str(), &st);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      return ErrnoToStatus(err, absl::StrCat("statvfs ", path));
    }
    const uint64_t frsize = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
    FsStats stats;
    stats.size_bytes = static_cast<uint64_t>(st.f_blocks) * frsize;
    stats.free_bytes = static_cast<uint64_t>(st.f_bfree) * frsize;
    stats.avail_bytes = static_cast<uint64_t>(st.f_bavail) * frsize;
    stats.files = st.f_files;
    stats.files_free = st.f_ffree;
    return stats;
  }
};

}  // namespace

std::unique_ptr<FsStatter> NewRealFsStatter() { return std::make_unique<RealFsStatter>(); }

}  // namespace accord::agent
