#include "agent/transport/spool.h"

#include <algorithm>
#include <utility>

namespace accord::agent {

void MemorySpool::Append(PendingBatch batch) {
  absl::MutexLock lock(&mu_);
  stats_.bytes += batch.ByteSize();
  stats_.samples += batch.values.size();
  ++stats_.batches;
  batches_.push_back(std::move(batch));
  // Keep the newest: drop the oldest until within budget (always keep the newest one).
  while (stats_.bytes > max_bytes_ && batches_.size() > 1) {
    const PendingBatch& old = batches_.front();
    stats_.bytes -= old.ByteSize();
    stats_.samples -= old.values.size();
    --stats_.batches;
    stats_.dropped_samples += old.values.size();
    ++stats_.dropped_batches;
    batches_.pop_front();
  }
}

bool MemorySpool::NextAfter(uint64_t after, PendingBatch* out) {
  absl::MutexLock lock(&mu_);
  auto it = std::upper_bound(batches_.begin(), batches_.end(), after,
                             [](uint64_t seq, const PendingBatch& b) { return seq < b.sequence; });
  if (it == batches_.end()) return false;
  *out = *it;
  return true;
}

void MemorySpool::Ack(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  while (!batches_.empty() && batches_.front().sequence <= sequence) {
    stats_.bytes -= batches_.front().ByteSize();
    stats_.samples -= batches_.front().values.size();
    --stats_.batches;
    stats_.acked_samples += batches_.front().values.size();
    batches_.pop_front();
  }
}

void MemorySpool::Reject(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  for (auto it = batches_.begin(); it != batches_.end(); ++it) {
    if (it->sequence == sequence) {
      stats_.bytes -= it->ByteSize();
      stats_.samples -= it->values.size();
      --stats_.batches;
      stats_.dropped_samples += it->values.size();
      ++stats_.dropped_batches;
      batches_.erase(it);
      return;
    }
  }
}

void MemorySpool::RecordAlive(absl::Time t, int64_t boot_time) {
  absl::MutexLock lock(&mu_);
  if (!alive_.empty() && alive_.back().boot_time == boot_time && t >= alive_.back().last &&
      t - alive_.back().last <= absl::Seconds(5)) {
    alive_.back().last = t;
    return;
  }
  alive_.push_back({t, t, boot_time});
}

std::vector<AliveSpan> MemorySpool::PendingAliveSpans() {
  absl::MutexLock lock(&mu_);
  return alive_;
}

void MemorySpool::AckAliveSpans(absl::Time up_to) {
  absl::MutexLock lock(&mu_);
  auto it = alive_.begin();
  while (it != alive_.end() && it->last <= up_to) ++it;
  alive_.erase(alive_.begin(), it);
  if (!alive_.empty() && alive_.front().first <= up_to) alive_.front().first = up_to;
}

SpoolStats MemorySpool::Stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace accord::agent
