#include "agent/sources/mounts.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/parse_util.h"

namespace accord::agent {
namespace {

constexpr absl::string_view kMounts = "/proc/mounts";

bool IsOctal(char c) { return c >= '0' && c <= '7'; }

}  // namespace

std::string DecodeMountEscapes(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 3 < text.size() && IsOctal(text[i + 1]) && IsOctal(text[i + 2]) &&
        IsOctal(text[i + 3])) {
      const int value = (text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0');
      out.push_back(static_cast<char>(value & 0xff));
      i += 3;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<std::vector<MountEntry>> ParseMounts(absl::string_view text) {
  static constexpr const char* kNames[] = {"device", "mount point", "fs type"};
  std::vector<MountEntry> mounts;
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (internal::NextLine(&rest, &line)) {
    ++line_no;
    absl::string_view fields[3];
    if (!internal::NextToken(&line, &fields[0])) continue;  // blank line
    for (int i = 1; i < 3; ++i) {
      if (!internal::NextToken(&line, &fields[i])) {
        return internal::ParseError(kMounts, line_no, kNames[i], "missing");
      }
    }
    MountEntry& m = mounts.emplace_back();
    m.device = DecodeMountEscapes(fields[0]);
    m.mount_point = DecodeMountEscapes(fields[1]);
    m.fs_type = DecodeMountEscapes(fields[2]);
  }
  return mounts;
}

bool MountPointIsUnder(absl::string_view mount_point, absl::string_view prefix) {
  if (prefix.empty() || mount_point.size() < prefix.size()) return false;
  if (mount_point.substr(0, prefix.size()) != prefix) return false;
  return mount_point.size() == prefix.size() || prefix.back() == '/' ||
         mount_point[prefix.size()] == '/';
}

std::vector<MountEntry> SelectMounts(std::vector<MountEntry> mounts,
                                     const std::vector<std::string>& fs_types_exclude,
                                     const std::vector<std::string>& mount_points_exclude) {
  // 1. Collapse duplicates in place: slot of first appearance, content of the last entry.
  std::vector<MountEntry> unique;
  unique.reserve(mounts.size());
  absl::flat_hash_map<absl::string_view, size_t> index;  // views into `mounts`
  index.reserve(mounts.size());
  std::vector<size_t> winner;  // winner[k] = index into `mounts` for unique slot k
  winner.reserve(mounts.size());
  for (size_t i = 0; i < mounts.size(); ++i) {
    auto [it, inserted] = index.try_emplace(mounts[i].mount_point, winner.size());
    if (inserted) {
      winner.push_back(i);
    } else {
      winner[it->second] = i;
    }
  }
  // 2. and 3. Exclusions on the winners.
  for (size_t i : winner) {
    MountEntry& m = mounts[i];
    bool excluded = false;
    for (const std::string& type : fs_types_exclude) {
      if (m.fs_type == type) {
        excluded = true;
        break;
      }
    }
    for (size_t j = 0; !excluded && j < mount_points_exclude.size(); ++j) {
      excluded = MountPointIsUnder(m.mount_point, mount_points_exclude[j]);
    }
    if (!excluded) unique.push_back(std::move(m));
  }
  return unique;
}

std::string JoinRootfs(absl::string_view rootfs, absl::string_view mount_point) {
  while (!rootfs.empty() && rootfs.back() == '/') rootfs.remove_suffix(1);
  if (mount_point == "/") mount_point = absl::string_view();
  std::string path = absl::StrCat(rootfs, mount_point);
  if (path.empty()) path = "/";
  return path;
}

}  // namespace accord::agent
