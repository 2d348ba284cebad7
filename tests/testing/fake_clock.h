// FakeClock: a Clock whose time only moves when a test advances it. Thread-safe.
#ifndef ACCORD_TESTS_TESTING_FAKE_CLOCK_H_
#define ACCORD_TESTS_TESTING_FAKE_CLOCK_H_

#include <mutex>

#include "common/clock.h"

namespace accord::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1767225600))  // 2026-01-01Z
      : now_(start) {}
  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  absl::Duration Monotonic() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return mono_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
    mono_ += d;
  }
  void SetNow(absl::Time t) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  absl::Time now_;
  absl::Duration mono_ = absl::Seconds(1000);
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TESTING_FAKE_CLOCK_H_
