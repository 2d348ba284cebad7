#include "collector/ingest/ingest_queue.h"

#include <utility>

namespace accord::collector {

IngestQueue::IngestQueue(size_t capacity) : capacity_(capacity < 2 ? 2 : capacity) {}

bool IngestQueue::PushOrPark(IngestItem item) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<StreamLink> link = item.link;
  items_.push_back(std::move(item));
  if (items_.size() >= capacity_ && link != nullptr) {
    parked_.push_back(std::move(link));
    return false;
  }
  return true;
}

void IngestQueue::PushAlways(IngestItem item) {
  absl::MutexLock lock(&mu_);
  items_.push_back(std::move(item));
}

bool IngestQueue::Pop(IngestItem* item, absl::Duration timeout) {
  std::vector<std::shared_ptr<StreamLink>> resume;
  {
    absl::MutexLock lock(&mu_);
    auto ready = [this]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !items_.empty() || shutdown_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (items_.empty()) return false;
    in_flight_ = items_.front().enqueued_at;
    *item = std::move(items_.front());
    items_.pop_front();
    if (!parked_.empty() && items_.size() <= capacity_ / 2) resume.swap(parked_);
  }
  for (auto& link : resume) link->ResumeReading();
  return true;
}

void IngestQueue::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
}

void IngestQueue::Done() {
  absl::MutexLock lock(&mu_);
  in_flight_.reset();
}

std::optional<absl::Duration> IngestQueue::OldestEnqueued() const {
  absl::MutexLock lock(&mu_);
  if (in_flight_.has_value()) return in_flight_;  // it was enqueued before any queued item
  if (items_.empty()) return std::nullopt;
  return items_.front().enqueued_at;
}

size_t IngestQueue::depth() const {
  absl::MutexLock lock(&mu_);
  return items_.size();
}

size_t IngestQueue::parked() const {
  absl::MutexLock lock(&mu_);
  return parked_.size();
}

}  // namespace accord::collector
