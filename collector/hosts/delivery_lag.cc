#include "collector/hosts/delivery_lag.h"

#include <algorithm>
#include <cmath>

namespace accord::collector {

DeliveryLag::DeliveryLag(Options options)
    : options_(options),
      ring_(static_cast<size_t>(std::clamp<int64_t>(absl::ToInt64Seconds(options.window), 1, 60))) {
}

DeliveryLag::Slot& DeliveryLag::SlotFor(int64_t second) {
  Slot& slot = ring_[static_cast<size_t>(second) % ring_.size()];
  if (slot.second != second) {
    slot.second = second;
    slot.counts.fill(0);
  }
  return slot;
}

void DeliveryLag::Add(absl::Duration now, absl::Duration excess) {
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(excess));
  size_t b = 0;
  while (b + 1 < kBoundsMs.size() && ms > kBoundsMs[b]) ++b;
  ++SlotFor(std::max<int64_t>(0, absl::ToInt64Seconds(now))).counts[b];
}

absl::Duration DeliveryLag::Current(absl::Duration now) const {
  const int64_t second = std::max<int64_t>(0, absl::ToInt64Seconds(now));
  std::array<uint64_t, kBoundsMs.size()> counts{};
  uint64_t total = 0;
  const int64_t slots = static_cast<int64_t>(ring_.size());
  for (const Slot& slot : ring_) {
    if (slot.second < 0 || slot.second > second || slot.second <= second - slots) continue;
    for (size_t b = 0; b < counts.size(); ++b) {
      counts[b] += slot.counts[b];
      total += slot.counts[b];
    }
  }
  if (total == 0 || total < static_cast<uint64_t>(options_.min_messages)) {
    return absl::ZeroDuration();
  }
  // The smallest bucket below whose upper bound at least `quantile` of the messages lie,
  // leaving out the largest as many as one host can add in the window (one a second): with
  // fewer than 100 messages the 99th percentile would otherwise be one host's worst.
  const uint64_t one_host = ring_.size();
  if (total <= one_host) return absl::ZeroDuration();  // as many as one host adds: no lag
  const uint64_t rank = std::min<uint64_t>(
      static_cast<uint64_t>(std::ceil(options_.quantile * static_cast<double>(total))),
      total - one_host);
  uint64_t seen = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    seen += counts[b];
    if (seen >= rank) {
      // The first bucket (up to 50 ms) is ordinary jitter: no lag.
      return b == 0 ? absl::ZeroDuration() : absl::Milliseconds(kBoundsMs[b]);
    }
  }
  return absl::Milliseconds(kBoundsMs.back());
}

}  // namespace accord::collector
