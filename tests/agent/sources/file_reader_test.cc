#include "agent/sources/file_reader.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/agent/sources/temp_tree.h"

namespace accord::agent {
namespace {

class FileReaderTest : public ::testing::Test {
 protected:
  testing::TempTree tree_;
  std::string buf_;
};

TEST_F(FileReaderTest, ReadsWholeFile) {
  tree_.Write("a", "hello\nworld\n");
  ASSERT_TRUE(ReadFileToString(tree_.Path("a"), &buf_).ok());
  EXPECT_EQ(buf_, "hello\nworld\n");
}

TEST_F(FileReaderTest, ReadsEmptyFile) {
  tree_.Write("empty", "");
  buf_ = "stale";
  ASSERT_TRUE(ReadFileToString(tree_.Path("empty"), &buf_).ok());
  EXPECT_EQ(buf_, "");
}

TEST_F(FileReaderTest, ReadsFilesLargerThanTheInitialBuffer) {
  std::string big(1 << 20, 'x');
  big.back() = 'y';
  tree_.Write("big", big);
  ASSERT_TRUE(ReadFileToString(tree_.Path("big"), &buf_).ok());
  EXPECT_EQ(buf_, big);
}

TEST_F(FileReaderTest, ReusesBufferWithoutShrinkingCapacity) {
  tree_.Write("big", std::string(100000, 'x'));
  tree_.Write("small", "1");
  ASSERT_TRUE(ReadFileToString(tree_.Path("big"), &buf_).ok());
  const size_t capacity = buf_.capacity();
  ASSERT_TRUE(ReadFileToString(tree_.Path("small"), &buf_).ok());
  EXPECT_EQ(buf_, "1");
  EXPECT_EQ(buf_.capacity(), capacity);
}

TEST_F(FileReaderTest, ReadsProcFilesThatReportSizeZero) {
  ASSERT_TRUE(ReadFileToString("/proc/self/status", &buf_).ok());
  EXPECT_NE(buf_.find("VmRSS"), std::string::npos);
}

TEST_F(FileReaderTest, MissingFileIsNotFound) {
  absl::Status status = ReadFileToString(tree_.Path("nope"), &buf_);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find(tree_.Path("nope")), absl::string_view::npos);
  EXPECT_EQ(ReadFileToString(tree_.Path("nope/deeper"), &buf_).code(), absl::StatusCode::kNotFound);
}

TEST_F(FileReaderTest, DirectoryIsUnavailable) {
  EXPECT_EQ(ReadFileToString(tree_.root(), &buf_).code(), absl::StatusCode::kUnavailable);
}

TEST_F(FileReaderTest, FileOverTheCapIsResourceExhausted) {
  tree_.Write("ten", "0123456789");
  EXPECT_TRUE(ReadFileToString(tree_.Path("ten"), &buf_, 10).ok());
  EXPECT_EQ(buf_, "0123456789");
  EXPECT_EQ(ReadFileToString(tree_.Path("ten"), &buf_, 9).code(),
            absl::StatusCode::kResourceExhausted);
  tree_.Write("big", std::string(50000, 'x'));
  EXPECT_EQ(ReadFileToString(tree_.Path("big"), &buf_, 20000).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(FileReaderTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EACCES, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EPERM, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EIO, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open /a").message(), "open /a: No such file or directory");
}

}  // namespace
}  // namespace accord::agent
