// DeliveryLag: how much later than usual agents' messages are reaching the collector right
// now, so that silence caused by the collector's own delay is not taken for silent hosts.
//
// Every message an agent sends carries its send time (agent wall clock). For each host the
// registry keeps the smallest offset seen (arrival - send: the usual transit plus the clock
// difference between the two machines) and passes the excess of each message over it here.
// DeliveryLag keeps those excesses for the last `window` in one-second slots of a coarse
// histogram and answers a high quantile of them: when the collector is starved of CPU and
// reads its sockets seconds late, every host's messages show it at once; one host with a
// slow link or a stepped clock moves no quantile. The registry adds at most one message per
// host a second, and the quantile leaves out the largest `window`-seconds' worth of
// messages, so one host, however many messages it sends, never sets the answer. Clock
// differences between machines cancel out; only delay is measured.
//
// Pure domain logic: no I/O, time passed in (monotonic). Not thread-safe: the registry calls
// it under its lock.
#ifndef ACCORD_COLLECTOR_HOSTS_DELIVERY_LAG_H_
#define ACCORD_COLLECTOR_HOSTS_DELIVERY_LAG_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace accord::collector {

class DeliveryLag {
 public:
  // Upper bounds of the histogram buckets; an excess above the last is counted in it.
  static constexpr std::array<int64_t, 16> kBoundsMs = {
      50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 16000, 30000};

  struct Options {
    double quantile = 0.99;
    absl::Duration window = absl::Seconds(3);  // whole seconds, 1 to 60
    // Fewer messages than this in the window: no estimate (zero), so a handful of hosts
    // cannot stretch everyone's silence.
    int min_messages = 20;
  };

  DeliveryLag() : DeliveryLag(Options()) {}
  explicit DeliveryLag(Options options);

  // One message received at `now` (monotonic), `excess` later than its host's usual.
  void Add(absl::Duration now, absl::Duration excess);

  // The quantile of the excesses added within the window before `now` (without the largest
  // one-per-second-of-window of them), rounded up to its bucket's upper bound (at most 30 s);
  // zero with too few messages.
  absl::Duration Current(absl::Duration now) const;

 private:
  struct Slot {
    int64_t second = -1;  // monotonic second this slot counts; -1: empty
    std::array<uint32_t, kBoundsMs.size()> counts{};
  };
  Slot& SlotFor(int64_t second);

  Options options_;
  std::vector<Slot> ring_;  // one slot per second of the window
};

}  // namespace accord::collector

#endif  // ACCORD_COLLECTOR_HOSTS_DELIVERY_LAG_H_
