#include "collector/ingest/ingest_queue.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace accord::collector {

namespace {

size_t StringBytes(const std::string& s) {
  // Short strings live inside the object (libstdc++'s small-string buffer holds 15 bytes).
  return s.size() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

size_t ApproxBytes(const IngestItem& item) {
  size_t n = sizeof(IngestItem) + StringBytes(item.error);
  const Hello& h = item.hello;
  n += StringBytes(h.host_id) + StringBytes(h.hostname) + StringBytes(h.agent_version);
  for (const auto& [name, value] : h.labels) {
    n += 64 + StringBytes(name) + StringBytes(value);  // a map node
  }
  const Batch& b = item.batch;
  n += b.new_series.capacity() * sizeof(SeriesDescriptor);
  for (const SeriesDescriptor& d : b.new_series) {
    n += StringBytes(d.name) + d.labels.capacity() * sizeof(d.labels[0]);
    for (const auto& [name, value] : d.labels) n += StringBytes(name) + StringBytes(value);
  }
  n += b.series_ids.capacity() * sizeof(uint32_t) + b.values.capacity() * sizeof(double);
  n += item.alive.capacity() * sizeof(AliveSpan);
  return n;
}

IngestQueue::IngestQueue(size_t capacity, size_t byte_capacity, size_t stream_byte_limit)
    : capacity_(capacity < 2 ? 2 : capacity),
      byte_capacity_(byte_capacity),
      stream_byte_limit_(stream_byte_limit) {}

void IngestQueue::PushLocked(IngestItem item) {
  bytes_ += item.bytes;
  if (item.link != nullptr) item.link->queued_bytes += item.bytes;
  items_.push_back(std::move(item));
}

bool IngestQueue::PushOrPark(IngestItem item) {
  item.bytes = ApproxBytes(item);
  absl::MutexLock lock(&mu_);
  std::shared_ptr<StreamLink> link = item.link;
  PushLocked(std::move(item));
  if (link != nullptr && (items_.size() >= capacity_ || bytes_ >= byte_capacity_ ||
                          link->queued_bytes >= stream_byte_limit_)) {
    parked_.push_back(std::move(link));
    return false;
  }
  return true;
}

void IngestQueue::PushAlways(IngestItem item) {
  item.bytes = ApproxBytes(item);
  absl::MutexLock lock(&mu_);
  PushLocked(std::move(item));
}

bool IngestQueue::DrainedLocked() const {
  return items_.size() <= capacity_ / 2 && bytes_ <= byte_capacity_ / 2;
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
    bytes_ -= item->bytes;
    if (item->link != nullptr) item->link->queued_bytes -= item->bytes;
    if (!parked_.empty() && DrainedLocked()) {
      // Streams parked at their own limit wait until their own bytes are down to half.
      auto keep = std::partition(parked_.begin(), parked_.end(), [this](const auto& link) {
        return link->queued_bytes > stream_byte_limit_ / 2;
      });
      resume.assign(std::make_move_iterator(keep), std::make_move_iterator(parked_.end()));
      parked_.erase(keep, parked_.end());
    }
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

size_t IngestQueue::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

size_t IngestQueue::parked() const {
  absl::MutexLock lock(&mu_);
  return parked_.size();
}

}  // namespace accord::collector
