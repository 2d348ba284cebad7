#include "agent/transport/series_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace accord::agent {
namespace {

constexpr size_t kHeader = 4 + 8;
constexpr uint32_t kMaxPayload = 1 << 20;

uint64_t Fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetFixed(const std::string& in, size_t* pos, int bytes, uint64_t* v) {
  if (*pos + bytes > in.size()) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) {
    *v |= static_cast<uint64_t>(static_cast<unsigned char>(in[*pos + i])) << (8 * i);
  }
  *pos += bytes;
  return true;
}

void PutString(std::string* out, const std::string& s) {
  PutFixed(out, s.size(), 2);
  out->append(s);
}

bool GetString(const std::string& in, size_t* pos, std::string* s) {
  uint64_t n;
  if (!GetFixed(in, pos, 2, &n) || *pos + n > in.size()) return false;
  s->assign(in, *pos, n);
  *pos += n;
  return true;
}

std::string Encode(uint32_t id, const SeriesInfo& info) {
  std::string payload;
  PutFixed(&payload, id, 4);
  payload.push_back(static_cast<char>(info.kind));
  PutString(&payload, info.name.substr(0, 0xffff));
  PutFixed(&payload, info.labels.size(), 2);
  for (const auto& [k, v] : info.labels) {
    PutString(&payload, k.substr(0, 0xffff));
    PutString(&payload, v.substr(0, 0xffff));
  }
  std::string record;
  PutFixed(&record, payload.size(), 4);
  PutFixed(&record, Fnv1a(payload.data(), payload.size()), 8);
  record.append(payload);
  return record;
}

// Decodes the record at *pos; false for a torn or damaged one.
bool Decode(const std::string& data, size_t* pos, uint32_t expected_id, SeriesInfo* info) {
  size_t p = *pos;
  uint64_t len, sum;
  if (!GetFixed(data, &p, 4, &len) || !GetFixed(data, &p, 8, &sum) || len > kMaxPayload ||
      p + len > data.size() || Fnv1a(data.data() + p, len) != sum) {
    return false;
  }
  std::string payload = data.substr(p, len);
  size_t q = 0;
  uint64_t id, kind, labels;
  if (!GetFixed(payload, &q, 4, &id) || id != expected_id || !GetFixed(payload, &q, 1, &kind) ||
      kind > 1 || !GetString(payload, &q, &info->name) || !GetFixed(payload, &q, 2, &labels)) {
    return false;
  }
  info->kind = static_cast<MetricKind>(kind);
  info->labels.clear();
  for (uint64_t i = 0; i < labels; ++i) {
    std::string k, v;
    if (!GetString(payload, &q, &k) || !GetString(payload, &q, &v)) return false;
    info->labels.emplace_back(std::move(k), std::move(v));
  }
  if (q != payload.size()) return false;
  *pos = p + len;
  return true;
}

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " \"", path, "\": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<SeriesJournal> SeriesJournal::Open(const std::string& path, bool reset,
                                                  std::vector<SeriesInfo>* loaded) {
  loaded->clear();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | (reset ? O_TRUNC : 0), 0644);
  if (fd < 0) return Errno("cannot open the series journal", path);
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
  if (n < 0) {
    absl::Status st = Errno("cannot read the series journal", path);
    ::close(fd);
    return st;
  }
  size_t pos = 0;
  SeriesInfo info;
  while (pos < data.size() && Decode(data, &pos, static_cast<uint32_t>(loaded->size()), &info)) {
    loaded->push_back(info);
  }
  if (pos < data.size()) {
    Log(LogLevel::kWarn, "series journal has a torn or damaged tail; cut off",
        {{"file", path},
         {"kept_series", absl::StrCat(loaded->size())},
         {"cut_bytes", absl::StrCat(data.size() - pos)}});
    if (::ftruncate(fd, static_cast<off_t>(pos)) != 0 || ::fsync(fd) != 0) {
      absl::Status st = Errno("cannot cut the series journal", path);
      ::close(fd);
      return st;
    }
  }
  if (::lseek(fd, static_cast<off_t>(pos), SEEK_SET) < 0) {
    absl::Status st = Errno("cannot seek the series journal", path);
    ::close(fd);
    return st;
  }
  return SeriesJournal(path, fd, pos);
}

SeriesJournal::SeriesJournal(SeriesJournal&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

SeriesJournal& SeriesJournal::operator=(SeriesJournal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

SeriesJournal::~SeriesJournal() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status SeriesJournal::Append(uint32_t first_id, const std::vector<SeriesInfo>& series) {
  std::string out;
  for (size_t i = 0; i < series.size(); ++i) out += Encode(first_id + i, series[i]);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pwrite(fd_, out.data() + done, out.size() - done,
                         static_cast<off_t>(size_ + done));
    if (n <= 0) {
      absl::Status st = Errno("cannot write the series journal", path_);
      if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        // The next Open cuts a torn tail anyway.
      }
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) {
    absl::Status st = Errno("cannot sync the series journal", path_);
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
    }
    return st;
  }
  size_ += out.size();
  return absl::OkStatus();
}

}  // namespace accord::agent
