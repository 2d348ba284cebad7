#include "agent/transport/heartbeat_schedule.h"

#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace accord::agent {
namespace {

const absl::Duration kInterval = absl::Seconds(1);

TEST(HeartbeatScheduleTest, DeadlineHalfDueAndTheQuarterAfterASkip) {
  HeartbeatSchedule s(kInterval, absl::Seconds(10));
  EXPECT_EQ(s.deadline(), absl::Seconds(11));
  EXPECT_FALSE(s.DueOnWake(absl::Milliseconds(10499)));
  EXPECT_TRUE(s.DueOnWake(absl::Milliseconds(10500)));
  EXPECT_EQ(s.SinceLast(absl::Milliseconds(10700)), absl::Milliseconds(700));
  s.Ticked(absl::Milliseconds(10700), std::nullopt);  // a heartbeat went out
  EXPECT_EQ(s.deadline(), absl::Milliseconds(11700));
  // Skipped for a batch at 11.2 s: due 1.25 intervals after that batch.
  s.Ticked(absl::Milliseconds(11700), absl::Milliseconds(11200));
  EXPECT_EQ(s.deadline(), absl::Milliseconds(12450));
  // A batch sent long before a late tick: no sooner than an eighth of an interval on.
  s.Ticked(absl::Milliseconds(14000), absl::Milliseconds(12400));
  EXPECT_EQ(s.deadline(), absl::Milliseconds(14125));
  // While a backlog is paced by the refills: one interval on, whenever its last batch went.
  s.Ticked(absl::Milliseconds(15000), absl::Milliseconds(14100), /*backlog_paced=*/true);
  EXPECT_EQ(s.deadline(), absl::Milliseconds(16000));
}

// The stream thread, simulated: batch write completions wake it; otherwise it sleeps until
// the tick's deadline. Counts the wakes the tick needed for itself and the heartbeats sent.
struct Simulation {
  int own_wakes = 0;
  int heartbeats = 0;
  absl::Duration longest_silence;  // between messages (batches and heartbeats)

  // Batches complete at `batches` (sorted); the simulation runs until `end`.
  void Run(const std::vector<absl::Duration>& batches, absl::Duration end) {
    HeartbeatSchedule s(kInterval, absl::ZeroDuration());
    bool batch_since_tick = false;
    absl::Duration last_batch;
    absl::Duration last_message;
    auto message = [&](absl::Duration at) {
      longest_silence = std::max(longest_silence, at - last_message);
      last_message = at;
    };
    auto tick = [&](absl::Duration now) {
      std::optional<absl::Duration> batch_sent_at;
      if (batch_since_tick) {
        batch_sent_at = last_batch;
      } else {
        ++heartbeats;
        message(now);
      }
      batch_since_tick = false;
      s.Ticked(now, batch_sent_at);
    };
    size_t next = 0;
    while (true) {
      absl::Duration event = next < batches.size() ? batches[next] : absl::InfiniteDuration();
      if (s.deadline() <= event) {
        if (s.deadline() > end) return;
        ++own_wakes;
        tick(s.deadline());
        continue;
      }
      if (event > end) return;
      ++next;
      batch_since_tick = true;
      last_batch = event;
      message(event);
      if (s.DueOnWake(event)) tick(event);
    }
  }
};

// Batches every second at a fixed phase, each completing a little early or late.
std::vector<absl::Duration> EverySecond(absl::Duration phase, int count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> jitter_us(-5000, 5000);
  std::vector<absl::Duration> out;
  for (int k = 0; k < count; ++k) {
    out.push_back(phase + k * kInterval + absl::Microseconds(jitter_us(rng)));
  }
  return out;
}

TEST(HeartbeatScheduleTest, BatchesEveryIntervalCarryTheTickAtAnyPhase) {
  for (int tenth = 0; tenth < 10; ++tenth) {
    const absl::Duration phase = absl::Milliseconds(100 * tenth + 37);
    Simulation sim;
    sim.Run(EverySecond(phase, 1000, 7 + tenth), absl::Seconds(999));
    // At most the first tick or two find no batch to ride on.
    EXPECT_LE(sim.own_wakes, 2) << "phase " << phase;
    EXPECT_LE(sim.heartbeats, 1) << "phase " << phase;
    EXPECT_LE(sim.longest_silence, 1.25 * kInterval) << "phase " << phase;
  }
}

TEST(HeartbeatScheduleTest, WhenBatchesStopHeartbeatsFollowWithinAQuarterInterval) {
  Simulation sim;
  std::vector<absl::Duration> batches = EverySecond(absl::Milliseconds(300), 60, 3);
  sim.Run(batches, batches.back() + absl::Seconds(30));
  EXPECT_LE(sim.longest_silence, 1.25 * kInterval);
  EXPECT_GE(sim.heartbeats, 29);  // one a second once the batches stopped
  EXPECT_LE(sim.heartbeats, 31);
}

TEST(HeartbeatScheduleTest, BetweenTenSecondBatchesHeartbeatsEverySecond) {
  std::vector<absl::Duration> batches;
  for (int k = 0; k < 30; ++k) batches.push_back(absl::Milliseconds(4321) + k * absl::Seconds(10));
  Simulation sim;
  sim.Run(batches, absl::Seconds(300));
  EXPECT_LE(sim.longest_silence, 1.25 * kInterval);
  // Nine of ten seconds carry a heartbeat (a batch takes the place of the tenth).
  EXPECT_GE(sim.heartbeats, 260);
  EXPECT_LE(sim.heartbeats, 300);
}

}  // namespace
}  // namespace accord::agent
