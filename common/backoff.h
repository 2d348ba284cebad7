// Backoff: exponential reconnect delays with full jitter.
//
// Delay n (n = 0, 1, ...) is drawn uniformly from [base*2^n / 2, base*2^n], capped at `max`.
// Reset() after a success (for the agent: after an ack). Not thread-safe.
#ifndef ACCORD_COMMON_BACKOFF_H_
#define ACCORD_COMMON_BACKOFF_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace accord {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, uint64_t seed);
  // The delay before the next attempt; grows with each call until Reset().
  absl::Duration Next();
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_BACKOFF_H_
