// TempTree: a temporary directory for one test, removed with everything in it on destruction.
// Test-only; not thread-safe.
#ifndef ACCORD_TESTS_AGENT_SOURCES_TEMP_TREE_H_
#define ACCORD_TESTS_AGENT_SOURCES_TEMP_TREE_H_

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace accord::agent::testing {

class TempTree {
 public:
  TempTree() {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/accord_sources_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
    root_ = tmpl;
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string Path(absl::string_view relative) const { return root_ + "/" + std::string(relative); }

  // Writes `content` to root/relative, creating parent directories.
  void Write(absl::string_view relative, absl::string_view content) const {
    const std::filesystem::path path = Path(relative);
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    FILE* f = fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    ASSERT_EQ(fwrite(content.data(), 1, content.size(), f), content.size());
    fclose(f);
  }

  // Copies the fixture tree `from` (e.g. testdata/multicore-server) into root.
  void CopyFrom(const std::string& from) const {
    std::error_code ec;
    std::filesystem::copy(from, root_, std::filesystem::copy_options::recursive, ec);
    ASSERT_FALSE(ec) << ec.message();
  }

 private:
  std::string root_;
};

}  // namespace accord::agent::testing

#endif  // ACCORD_TESTS_AGENT_SOURCES_TEMP_TREE_H_
