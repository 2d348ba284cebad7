#include "agent/sources/disk_filter.h"

#include <regex>  // Only here, as the reference the hand-written matcher must agree with.
#include <string>

#include "gtest/gtest.h"

namespace accord::agent {
namespace {

class DiskFilterTest : public ::testing::Test {
 protected:
  // node_exporter's default --collector.diskstats.device-exclude (ECMAScript has no \d+ issue).
  const std::regex node_exporter_{"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"};
  const std::regex virtual_only_{"^(z?ram|loop|fd)\\d+$"};
  const std::vector<std::string> names_ = {
      "sda",       "sda1",      "sda12",       "sdaa",      "sdaa1",    "sd1",      "sdA1",
      "hda",       "hda3",      "vda",         "vda1",      "xvda",     "xvda1",    "xvd1",
      "nvme0n1",   "nvme0n1p1", "nvme12n3p45", "nvme0n1p",  "nvmen1p1", "nvme0np1", "nvme0n1p1x",
      "nvme0c0n1", "dm-0",      "dm-12",       "md0",       "md127",    "sr0",      "ram0",
      "ram",       "zram0",     "zram",        "loop0",     "loop12",   "loop",     "loopa",
      "fd0",       "fd",        "mmcblk0",     "mmcblk0p1", "rbd0",     "nbd0",     "",
      "s",         "sd",        "xv",          "ram0a",     "zzram0",   "vdz9",     "hdz0"};
};

TEST_F(DiskFilterTest, MatchesNodeExporterDefaultRegex) {
  for (const std::string& name : names_) {
    EXPECT_EQ(IsExcludedDisk(name, /*include_partitions=*/false),
              std::regex_match(name, node_exporter_))
        << name;
  }
}

TEST_F(DiskFilterTest, WithPartitionsOnlyVirtualDevicesAreExcluded) {
  for (const std::string& name : names_) {
    EXPECT_EQ(IsExcludedDisk(name, /*include_partitions=*/true),
              std::regex_match(name, virtual_only_))
        << name;
  }
}

TEST_F(DiskFilterTest, TypicalDevices) {
  EXPECT_FALSE(IsExcludedDisk("sda", false));
  EXPECT_TRUE(IsExcludedDisk("sda1", false));
  EXPECT_FALSE(IsExcludedDisk("nvme0n1", false));
  EXPECT_TRUE(IsExcludedDisk("nvme0n1p1", false));
  EXPECT_FALSE(IsExcludedDisk("dm-0", false));
  EXPECT_TRUE(IsExcludedDisk("loop0", false));
  EXPECT_TRUE(IsExcludedDisk("zram0", false));
  EXPECT_FALSE(IsExcludedDisk("sda1", true));
  EXPECT_TRUE(IsExcludedDisk("loop0", true));
}

}  // namespace
}  // namespace accord::agent
