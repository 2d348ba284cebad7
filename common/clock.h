// Clock: the seam for time. Code that needs time takes a `Clock&`; tests pass a FakeClock
// (tests/testing/fake_clock.h) and advance it instead of sleeping.
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef ACCORD_COMMON_CLOCK_H_
#define ACCORD_COMMON_CLOCK_H_

#include "absl/time/time.h"

namespace accord {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (may jump when the system clock is set).
  virtual absl::Time Now() const = 0;
  // Monotonic time since an arbitrary origin; never goes backwards. Use for timeouts.
  virtual absl::Duration Monotonic() const = 0;
};

// The real system clock. Thread-safe, stateless.
class RealClock : public Clock {
 public:
  absl::Time Now() const override;
  absl::Duration Monotonic() const override;
  // A process-wide instance.
  static Clock& Get();
};

}  // namespace accord

#endif  // ACCORD_COMMON_CLOCK_H_
