#include "agent/sources/file_reader.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "tests/agent/sources/private_mount_namespace.h"
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

TEST_F(FileReaderTest, RereadableFileOpensOrdinaryFilesForEachRead) {
  tree_.Write("a", "first");
  RereadableFile file(tree_.Path("a"));
  ASSERT_TRUE(file.Read(&buf_).ok());
  EXPECT_EQ(buf_, "first");
  EXPECT_FALSE(file.kept_open());
  // Replaced, as a test rewrites a fixture (a new inode): the next read sees the new file.
  tree_.Write("b", "second, longer");
  ASSERT_EQ(std::rename(tree_.Path("b").c_str(), tree_.Path("a").c_str()), 0);
  ASSERT_TRUE(file.Read(&buf_).ok());
  EXPECT_EQ(buf_, "second, longer");
  EXPECT_FALSE(file.kept_open());
}

TEST_F(FileReaderTest, RereadableFileKeepsProcFilesOpenAndRereadsThemWhole) {
  RereadableFile file("/proc/self/status");
  ASSERT_TRUE(file.Read(&buf_).ok());
  EXPECT_TRUE(file.kept_open());
  const std::string first = buf_;
  ASSERT_TRUE(file.Read(&buf_).ok());
  EXPECT_TRUE(file.kept_open());
  // From the start each time, whole.
  EXPECT_EQ(buf_.rfind("Name:", 0), 0u);
  EXPECT_NE(buf_.find("VmRSS"), std::string::npos);
  EXPECT_EQ(buf_.size(), first.size());

  // A file of many pages (the kernel fills it one seq_file buffer at a time), read twice:
  // whole both times (its Rss figures may change in between, its lines do not).
  // Buffers allocated first: a growing buffer would add a mapping between the reads.
  std::string fresh;
  fresh.reserve(4 << 20);
  buf_.reserve(4 << 20);
  RereadableFile smaps("/proc/self/smaps");
  ASSERT_TRUE(smaps.Read(&buf_).ok());
  ASSERT_TRUE(ReadFileToString("/proc/self/smaps", &fresh).ok());
  ASSERT_GT(fresh.size(), 8192u);
  ASSERT_TRUE(smaps.Read(&buf_).ok());
  EXPECT_TRUE(smaps.kept_open());
  EXPECT_EQ(buf_.substr(0, buf_.find('\n')), fresh.substr(0, fresh.find('\n')));
  EXPECT_EQ(std::count(buf_.begin(), buf_.end(), '\n'),
            std::count(fresh.begin(), fresh.end(), '\n'));
}

TEST_F(FileReaderTest, RereadableFileErrorsAreThoseOfReadFileToString) {
  RereadableFile missing(tree_.Path("nope"));
  EXPECT_EQ(missing.Read(&buf_).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(missing.kept_open());
  tree_.Write("nope", "now here");
  ASSERT_TRUE(missing.Read(&buf_).ok());
  EXPECT_EQ(buf_, "now here");
  EXPECT_EQ(RereadableFile(tree_.root()).Read(&buf_).code(), absl::StatusCode::kUnavailable);
  tree_.Write("ten", "0123456789");
  EXPECT_EQ(RereadableFile(tree_.Path("ten")).Read(&buf_, 9).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(FileReaderTest, RereadableFileKeepsASysFileThatAnswersWithAnError) {
  // The loopback device has no link speed: reading its speed attribute fails with EINVAL.
  RereadableFile speed("/sys/class/net/lo/speed");
  absl::Status first = speed.Read(&buf_);
  if (absl::IsNotFound(first)) GTEST_SKIP() << "no /sys/class/net/lo here";
  ASSERT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
  EXPECT_TRUE(speed.kept_open());
  EXPECT_EQ(speed.Read(&buf_).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(speed.kept_open());
}

TEST_F(FileReaderTest, RereadableFileMovesItsDescriptor) {
  RereadableFile a("/proc/self/stat");
  ASSERT_TRUE(a.Read(&buf_).ok());
  RereadableFile b(std::move(a));
  EXPECT_TRUE(b.kept_open());
  EXPECT_EQ(b.path(), "/proc/self/stat");
  ASSERT_TRUE(b.Read(&buf_).ok());
  EXPECT_NE(buf_.find(") "), std::string::npos);
}

TEST_F(FileReaderTest, MountTableUnchangedUntilAMountIsMade) {
  const std::string dir = tree_.Path("m");
  tree_.Write("m/.keep", "");
  // In the child: 0 when every step behaves, else the number of the step that did not.
  int result = testing::RunInPrivateMountNamespace([&]() -> int {
    RereadableFile mounts("/proc/self/mounts");
    std::string buf;
    if (!mounts.Read(&buf).ok() || !mounts.kept_open()) return 1;
    if (!mounts.MountTableUnchanged()) return 2;  // nothing mounted since the open
    if (!testing::MountTmpfs(dir.c_str())) return 3;
    if (mounts.MountTableUnchanged()) return 4;   // the kernel reports the mount
    if (!mounts.MountTableUnchanged()) return 5;  // ... once
    if (!mounts.Read(&buf).ok() || buf.find(dir) == std::string::npos) return 6;
    if (umount(dir.c_str()) != 0) return 7;
    if (mounts.MountTableUnchanged()) return 8;  // and an unmount
    return 0;
  });
  if (result == testing::kNoMountNamespace) GTEST_SKIP() << "no private mount namespace here";
  EXPECT_EQ(result, 0) << "step " << result << " failed";
}

TEST_F(FileReaderTest, MountTableUnchangedIsFalseWhenTheKernelCannotSay) {
  tree_.Write("mounts", "/dev/vda / ext4 rw 0 0\n");
  RereadableFile fixture(tree_.Path("mounts"));
  ASSERT_TRUE(fixture.Read(&buf_).ok());
  EXPECT_FALSE(fixture.MountTableUnchanged());  // a fixture: always read again
  RereadableFile never_read("/proc/self/mounts");
  EXPECT_FALSE(never_read.MountTableUnchanged());
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
