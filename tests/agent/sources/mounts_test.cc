#include "agent/sources/mounts.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accord::agent {
namespace {

using ::testing::ElementsAre;

class MountsTest : public ::testing::Test {
 protected:
  static std::vector<std::string> MountPoints(const std::vector<MountEntry>& mounts) {
    std::vector<std::string> out;
    for (const MountEntry& m : mounts) out.push_back(m.mount_point);
    return out;
  }
  static MountEntry Entry(std::string device, std::string mount_point, std::string fs_type) {
    return MountEntry{std::move(device), std::move(mount_point), std::move(fs_type)};
  }
};

TEST_F(MountsTest, DecodesOctalEscapes) {
  EXPECT_EQ(DecodeMountEscapes("/srv/backup\\040data"), "/srv/backup data");
  EXPECT_EQ(DecodeMountEscapes("/a\\011b\\012c\\134d"), "/a\tb\nc\\d");
  // Not an escape: kept verbatim.
  EXPECT_EQ(DecodeMountEscapes("/a\\08x"), "/a\\08x");
  EXPECT_EQ(DecodeMountEscapes("/a\\04"), "/a\\04");
  EXPECT_EQ(DecodeMountEscapes("\\"), "\\");
  EXPECT_EQ(DecodeMountEscapes(""), "");
}

TEST_F(MountsTest, ParsesLinesAndDecodesFields) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ParseMounts(
      "/dev/vda / ext4 rw,relatime 0 0\n"
      "\n"
      "/dev/sda1 /srv/backup\\040data ext4 rw,relatime 0 0\n"
      "tmpfs /run tmpfs rw");  // no newline at the end, no dump/pass
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  ASSERT_EQ(mounts->size(), 3u);
  EXPECT_EQ((*mounts)[0].device, "/dev/vda");
  EXPECT_EQ((*mounts)[0].fs_type, "ext4");
  EXPECT_EQ((*mounts)[1].mount_point, "/srv/backup data");
  EXPECT_EQ((*mounts)[2].mount_point, "/run");
}

TEST_F(MountsTest, ShortLineIsAnError) {
  absl::StatusOr<std::vector<MountEntry>> mounts =
      ParseMounts("/dev/vda / ext4 rw 0 0\n/dev/vdb /data\n");
  ASSERT_FALSE(mounts.ok());
  EXPECT_EQ(mounts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mounts.status().message(), "/proc/mounts line 2: field fs type: missing");
}

TEST_F(MountsTest, EmptyTableHasNoMounts) {
  absl::StatusOr<std::vector<MountEntry>> mounts = ParseMounts("");
  ASSERT_TRUE(mounts.ok());
  EXPECT_TRUE(mounts->empty());
}

TEST_F(MountsTest, MountPointIsUnderRespectsPathBoundaries) {
  EXPECT_TRUE(MountPointIsUnder("/dev", "/dev"));
  EXPECT_TRUE(MountPointIsUnder("/dev/shm", "/dev"));
  EXPECT_FALSE(MountPointIsUnder("/devices", "/dev"));
  EXPECT_FALSE(MountPointIsUnder("/", "/dev"));
  EXPECT_TRUE(MountPointIsUnder("/var/lib/docker/overlay2/x/merged", "/var/lib/docker"));
  EXPECT_TRUE(MountPointIsUnder("/anything", "/"));
  EXPECT_FALSE(MountPointIsUnder("/anything", ""));
}

TEST_F(MountsTest, SelectDedupesLastWinsInFirstPosition) {
  std::vector<MountEntry> mounts = {Entry("/dev/sda1", "/mnt", "ext4"),
                                    Entry("/dev/vda", "/", "ext4"),
                                    Entry("tmpfs", "/mnt", "tmpfs")};
  std::vector<MountEntry> selected = SelectMounts(mounts, {}, {});
  ASSERT_THAT(MountPoints(selected), ElementsAre("/mnt", "/"));
  EXPECT_EQ(selected[0].device, "tmpfs");
  EXPECT_EQ(selected[0].fs_type, "tmpfs");
}

TEST_F(MountsTest, SelectExcludesAfterDedupe) {
  // A pseudo filesystem mounted over a real one hides it: nothing is reported for /x.
  std::vector<MountEntry> mounts = {
      Entry("/dev/sdb1", "/x", "ext4"), Entry("overlay", "/x", "overlay"),
      Entry("/dev/vda", "/", "ext4"), Entry("tmpfs", "/dev/shm", "tmpfs"),
      Entry("tmpfs", "/devices", "tmpfs")};
  std::vector<MountEntry> selected = SelectMounts(mounts, {"overlay"}, {"/dev"});
  EXPECT_THAT(MountPoints(selected), ElementsAre("/", "/devices"));
}

TEST_F(MountsTest, JoinRootfs) {
  EXPECT_EQ(JoinRootfs("/", "/"), "/");
  EXPECT_EQ(JoinRootfs("/", "/var"), "/var");
  EXPECT_EQ(JoinRootfs("", "/var"), "/var");
  EXPECT_EQ(JoinRootfs("/host", "/"), "/host");
  EXPECT_EQ(JoinRootfs("/host", "/var"), "/host/var");
  EXPECT_EQ(JoinRootfs("/host/", "/var"), "/host/var");
  EXPECT_EQ(JoinRootfs("/host", "/srv/backup data"), "/host/srv/backup data");
}

}  // namespace
}  // namespace accord::agent
