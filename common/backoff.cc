#include "common/backoff.h"

#include <algorithm>

namespace accord {

Backoff::Backoff(absl::Duration initial, absl::Duration max, uint64_t seed)
    : initial_(initial), max_(max), rng_(seed) {}

absl::Duration Backoff::Next() {
  absl::Duration ceiling = initial_;
  for (int i = 0; i < attempt_ && ceiling < max_; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_);
  if (attempt_ < 62) ++attempt_;
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return ceiling * jitter(rng_);
}

}  // namespace accord
