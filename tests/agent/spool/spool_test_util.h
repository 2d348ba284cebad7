// Helpers for the disk spool tests: batches, draining a spool, a temp directory per test.
// Test-only; not thread-safe.
#ifndef ACCORD_TESTS_AGENT_SPOOL_SPOOL_TEST_UTIL_H_
#define ACCORD_TESTS_AGENT_SPOOL_SPOOL_TEST_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/transport/spool.h"
#include "gtest/gtest.h"

namespace accord::agent::testing {

// A batch of `n` values whose contents depend on the sequence (so mix-ups show).
inline PendingBatch MakeBatch(uint64_t seq, size_t n, int64_t timestamp_ms = 0) {
  PendingBatch b;
  b.sequence = seq;
  b.timestamp_ms = timestamp_ms != 0 ? timestamp_ms : 1767225600000 + static_cast<int64_t>(seq);
  for (size_t i = 0; i < n; ++i) {
    b.series_ids.push_back(static_cast<uint32_t>(i * 7 + seq % 5));
    b.values.push_back(static_cast<double>(seq) * 1000 + static_cast<double>(i) + 0.25);
  }
  return b;
}

inline bool SameBatch(const PendingBatch& a, const PendingBatch& b) {
  return a.sequence == b.sequence && a.timestamp_ms == b.timestamp_ms &&
         a.series_ids == b.series_ids && a.values == b.values;
}

// Everything NextAfter yields from `after` on, in order.
inline std::vector<PendingBatch> Drain(Spool& spool, uint64_t after = 0) {
  std::vector<PendingBatch> out;
  PendingBatch b;
  while (spool.PreviewAfter(after, &b)) {  // a look, not a send (no batch in flight)
    after = b.sequence;
    out.push_back(b);
  }
  return out;
}

inline std::vector<uint64_t> Sequences(Spool& spool, uint64_t after = 0) {
  std::vector<uint64_t> out;
  for (const PendingBatch& b : Drain(spool, after)) out.push_back(b.sequence);
  return out;
}

// A fresh directory under ::testing::TempDir(), removed on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = absl::StrCat(::testing::TempDir(), "accord_spool_",
                         info != nullptr ? info->name() : "x", "_", getpid(), "_", ++counter);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace accord::agent::testing

#endif  // ACCORD_TESTS_AGENT_SPOOL_SPOOL_TEST_UTIL_H_
