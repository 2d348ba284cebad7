#include "agent/spool/alive_spans.h"

#include <utility>

namespace accord::agent {
namespace {

absl::Time ToMillis(absl::Time t) { return absl::FromUnixMillis(absl::ToUnixMillis(t)); }

}  // namespace

bool AliveSpans::Record(absl::Time t, int64_t boot_time) {
  t = ToMillis(t);
  if (!spans_.empty()) {
    AliveSpan& cur = spans_.back();
    if (cur.boot_time == boot_time && t >= cur.first) {
      if (t <= cur.last) return false;
      if (t - cur.last <= max_gap_) {
        cur.last = t;
        return true;
      }
    }
  }
  spans_.push_back(AliveSpan{t, t, boot_time});
  Trim();
  return true;
}

bool AliveSpans::Ack(absl::Time up_to) {
  bool changed = false;
  std::vector<AliveSpan> kept;
  kept.reserve(spans_.size());
  for (size_t i = 0; i < spans_.size(); ++i) {
    AliveSpan k = spans_[i];
    if (k.last <= up_to) {
      if (i + 1 < spans_.size()) {
        changed = true;
        continue;
      }
      // The newest span may still be growing: keep it as the point it was acknowledged at,
      // so the next heartbeat extends it instead of opening a span with a hole before it.
      if (k.first != k.last) {
        k.first = k.last;
        changed = true;
      }
    } else if (k.first < up_to) {
      k.first = ToMillis(up_to);
      changed = true;
    }
    kept.push_back(k);
  }
  spans_ = std::move(kept);
  return changed;
}

void AliveSpans::Restore(std::vector<AliveSpan> spans) {
  spans_ = std::move(spans);
  Trim();
}

void AliveSpans::Trim() {
  if (spans_.size() <= max_spans_) return;
  const size_t excess = spans_.size() - max_spans_;
  spans_.erase(spans_.begin(), spans_.begin() + static_cast<ptrdiff_t>(excess));
  dropped_ += excess;
}

}  // namespace accord::agent
