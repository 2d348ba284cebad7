#include "tests/agent/spool/fault_injection_env.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace accord::agent::testing {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

class FaultInjectionEnv::File final : public SpoolWritableFile {
 public:
  File(FaultInjectionEnv* env, std::shared_ptr<Inode> inode)
      : env_(env), inode_(std::move(inode)) {}
  absl::Status Append(absl::string_view data) override {
    absl::MutexLock l(&env_->mu_);
    if (closed_) return absl::FailedPreconditionError("append to a closed file");
    env_->MutatingOpLocked();
    if (env_->fail_writes_) return absl::ResourceExhaustedError("injected: no space left");
    inode_->data.append(data.data(), data.size());
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    absl::MutexLock l(&env_->mu_);
    if (closed_) return absl::FailedPreconditionError("sync of a closed file");
    env_->MutatingOpLocked();
    if (env_->fail_syncs_) return absl::UnavailableError("injected: fsync EIO");
    inode_->synced = inode_->data.size();
    return absl::OkStatus();
  }
  absl::Status Close() override {
    absl::MutexLock l(&env_->mu_);
    closed_ = true;
    return absl::OkStatus();
  }

 private:
  FaultInjectionEnv* env_;
  std::shared_ptr<Inode> inode_;
  bool closed_ = false;
};

class FaultInjectionEnv::Reader final : public SpoolReadableFile {
 public:
  Reader(FaultInjectionEnv* env, std::shared_ptr<Inode> inode)
      : env_(env), inode_(std::move(inode)) {}
  absl::Status Read(uint64_t offset, size_t n, std::string* out) const override {
    absl::MutexLock l(&env_->mu_);
    if (offset + n > inode_->data.size()) return absl::DataLossError("short read");
    out->assign(inode_->data, offset, n);
    return absl::OkStatus();
  }

 private:
  FaultInjectionEnv* env_;
  std::shared_ptr<Inode> inode_;
};

class FaultInjectionEnv::Lock final : public SpoolFileLock {
 public:
  Lock(FaultInjectionEnv* env, std::string path) : env_(env), path_(std::move(path)) {}
  ~Lock() override {
    absl::MutexLock l(&env_->mu_);
    env_->locks_.erase(path_);
  }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
};

std::unique_ptr<FaultInjectionEnv> FaultInjectionEnv::PowerLossCopy(std::mt19937* rng) const {
  absl::MutexLock l(&mu_);
  return PowerLossCopyLocked(rng);
}

std::unique_ptr<FaultInjectionEnv> FaultInjectionEnv::ProcessCrashCopy() const {
  absl::MutexLock l(&mu_);
  return ProcessCrashCopyLocked();
}

void FaultInjectionEnv::ArmCrash(int n, bool process_only, std::mt19937* rng) {
  absl::MutexLock l(&mu_);
  crash_countdown_ = n;
  crash_process_only_ = process_only;
  crash_rng_ = rng;
  crash_snapshot_.reset();
}

std::unique_ptr<FaultInjectionEnv> FaultInjectionEnv::TakeCrashSnapshot() {
  absl::MutexLock l(&mu_);
  crash_countdown_ = 0;
  return std::move(crash_snapshot_);
}

void FaultInjectionEnv::MutatingOpLocked() {
  if (crash_countdown_ == 0 || --crash_countdown_ > 0) return;
  crash_snapshot_ =
      crash_process_only_ ? ProcessCrashCopyLocked() : PowerLossCopyLocked(crash_rng_);
}

std::unique_ptr<FaultInjectionEnv> FaultInjectionEnv::PowerLossCopyLocked(std::mt19937* rng) const {
  auto copy = std::make_unique<FaultInjectionEnv>();
  absl::MutexLock copy_lock(&copy->mu_);  // new and unshared; keeps the analysis exact
  copy->dirs_ = dirs_;
  for (const auto& [path, inode] : durable_) {
    auto kept = std::make_shared<Inode>();
    size_t keep = inode->synced;
    if (rng != nullptr && inode->data.size() > keep) {
      std::uniform_int_distribution<size_t> extra(0, inode->data.size() - keep);
      keep += extra(*rng);
    }
    kept->data = inode->data.substr(0, keep);
    kept->synced = kept->data.size();
    copy->live_[path] = kept;
    copy->durable_[path] = kept;
  }
  return copy;
}

std::unique_ptr<FaultInjectionEnv> FaultInjectionEnv::ProcessCrashCopyLocked() const {
  auto copy = std::make_unique<FaultInjectionEnv>();
  absl::MutexLock copy_lock(&copy->mu_);  // new and unshared; keeps the analysis exact
  copy->dirs_ = dirs_;
  // Copy each inode once, keeping names that share one sharing it in the copy too.
  std::map<const Inode*, std::shared_ptr<Inode>> copied;
  auto copy_of = [&](const std::shared_ptr<Inode>& inode) {
    auto& c = copied[inode.get()];
    if (c == nullptr) c = std::make_shared<Inode>(*inode);
    return c;
  };
  for (const auto& [path, inode] : live_) copy->live_[path] = copy_of(inode);
  for (const auto& [path, inode] : durable_) copy->durable_[path] = copy_of(inode);
  return copy;
}

void FaultInjectionEnv::SetFailWrites(bool fail) {
  absl::MutexLock l(&mu_);
  fail_writes_ = fail;
}

void FaultInjectionEnv::SetFailSyncs(bool fail) {
  absl::MutexLock l(&mu_);
  fail_syncs_ = fail;
}

bool FaultInjectionEnv::Exists(const std::string& path) const {
  absl::MutexLock l(&mu_);
  return live_.count(path) > 0;
}

std::string FaultInjectionEnv::Contents(const std::string& path) const {
  absl::MutexLock l(&mu_);
  auto it = live_.find(path);
  return it == live_.end() ? std::string() : it->second->data;
}

void FaultInjectionEnv::SetContents(const std::string& path, const std::string& data) {
  absl::MutexLock l(&mu_);
  auto it = live_.find(path);
  std::shared_ptr<Inode> inode;
  if (it == live_.end()) {
    inode = std::make_shared<Inode>();
    live_[path] = inode;
    durable_[path] = inode;
  } else {
    inode = it->second;
  }
  inode->data = data;
  inode->synced = data.size();
}

std::vector<std::string> FaultInjectionEnv::Names(const std::string& dir) const {
  absl::MutexLock l(&mu_);
  std::vector<std::string> names;
  for (const auto& [path, inode] : live_) {
    if (DirOf(path) == dir) names.push_back(BaseOf(path));
  }
  return names;  // std::map keeps them sorted
}

uint64_t FaultInjectionEnv::DirBytes(const std::string& dir) const {
  absl::MutexLock l(&mu_);
  uint64_t total = 0;
  for (const auto& [path, inode] : live_) {
    if (DirOf(path) == dir) total += inode->data.size();
  }
  return total;
}

absl::Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  absl::MutexLock l(&mu_);
  dirs_.insert(dir);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& dir) {
  {
    absl::MutexLock l(&mu_);
    if (dirs_.count(dir) == 0) return absl::NotFoundError(absl::StrCat("no dir ", dir));
  }
  return Names(dir);
}

absl::StatusOr<std::unique_ptr<SpoolWritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  absl::MutexLock l(&mu_);
  if (dirs_.count(DirOf(path)) == 0) return absl::NotFoundError(absl::StrCat("no dir for ", path));
  MutatingOpLocked();
  if (fail_writes_) return absl::ResourceExhaustedError("injected: no space left");
  auto inode = std::make_shared<Inode>();
  live_[path] = inode;
  return std::unique_ptr<SpoolWritableFile>(new File(this, inode));
}

absl::StatusOr<std::unique_ptr<SpoolReadableFile>> FaultInjectionEnv::NewReadableFile(
    const std::string& path) {
  absl::MutexLock l(&mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return absl::NotFoundError(absl::StrCat("no file ", path));
  return std::unique_ptr<SpoolReadableFile>(new Reader(this, it->second));
}

absl::Status FaultInjectionEnv::ReadFile(const std::string& path, std::string* out) {
  absl::MutexLock l(&mu_);
  auto it = live_.find(path);
  if (it == live_.end()) return absl::NotFoundError(absl::StrCat("no file ", path));
  *out = it->second->data;
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  absl::MutexLock l(&mu_);
  MutatingOpLocked();
  auto it = live_.find(from);
  if (it == live_.end()) return absl::NotFoundError(absl::StrCat("no file ", from));
  live_[to] = it->second;
  live_.erase(from);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  absl::MutexLock l(&mu_);
  MutatingOpLocked();
  if (live_.erase(path) == 0) return absl::NotFoundError(absl::StrCat("no file ", path));
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  absl::MutexLock l(&mu_);
  MutatingOpLocked();
  auto it = live_.find(path);
  if (it == live_.end()) return absl::NotFoundError(absl::StrCat("no file ", path));
  if (fail_syncs_) return absl::UnavailableError("injected: fsync EIO");
  Inode& inode = *it->second;
  inode.data.resize(std::min<uint64_t>(size, inode.data.size()));
  inode.synced = inode.data.size();
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncFile(const std::string& path) {
  absl::MutexLock l(&mu_);
  MutatingOpLocked();
  auto it = live_.find(path);
  if (it == live_.end()) return absl::NotFoundError(absl::StrCat("no file ", path));
  if (fail_syncs_) return absl::UnavailableError("injected: fsync EIO");
  it->second->synced = it->second->data.size();
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  absl::MutexLock l(&mu_);
  MutatingOpLocked();
  if (fail_syncs_) return absl::UnavailableError("injected: fsync EIO");
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = DirOf(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [path, inode] : live_) {
    if (DirOf(path) == dir) durable_[path] = inode;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SpoolFileLock>> FaultInjectionEnv::LockFile(
    const std::string& path) {
  absl::MutexLock l(&mu_);
  if (!locks_.insert(path).second) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is locked"));
  }
  return std::unique_ptr<SpoolFileLock>(new Lock(this, path));
}

}  // namespace accord::agent::testing
