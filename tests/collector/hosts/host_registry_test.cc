#include "collector/hosts/host_registry.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/prom_text.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/series_descriptor.h"

namespace accord::collector {
namespace {

using accord::testing::FakeClock;

Hello MakeHello(const std::string& id, int64_t boot = 1700000000) {
  Hello h;
  h.host_id = id;
  h.hostname = id + ".example";
  h.agent_version = "0.1.0";
  h.boot_time_seconds = boot;
  h.heartbeat_interval = absl::Seconds(1);
  return h;
}

using accord::testing::Desc;

Batch MakeBatch(uint64_t seq, FakeClock& clock) {
  Batch b;
  b.sequence = seq;
  b.timestamp_ms = absl::ToUnixMillis(clock.Now());
  return b;
}

class HostRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  HostRegistry registry_{clock_};

  HostState State(const std::string& id) { return registry_.Host(id)->state; }
};

TEST_F(HostRegistryTest, HelloMakesHostUp) {
  auto open = registry_.Open(MakeHello("a"));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->last_accepted_sequence, 0u);
  EXPECT_EQ(State("a"), HostState::kUp);
  auto t = registry_.Transitions("a");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].cause, "first_seen");
  EXPECT_EQ(t[0].from, HostState::kUnknown);
  EXPECT_EQ(t[0].at, clock_.Now());
}

TEST_F(HostRegistryTest, BrokenStreamIsUnreachableAtOnce) {
  auto open = registry_.Open(MakeHello("a"));
  clock_.Advance(absl::Milliseconds(1500));
  registry_.Close(open->session);
  EXPECT_EQ(State("a"), HostState::kUnreachable);
  auto t = registry_.Transitions("a");
  EXPECT_EQ(t.back().cause, "stream_broken");
  EXPECT_EQ(t.back().at, clock_.Now());
}

TEST_F(HostRegistryTest, SilenceOfThreeHeartbeatsIsUnreachableBackdated) {
  auto open = registry_.Open(MakeHello("a"));
  clock_.Advance(absl::Seconds(1));
  registry_.Heartbeat(open->session);
  absl::Time last = clock_.Now();
  clock_.Advance(absl::Milliseconds(2900));
  EXPECT_EQ(registry_.CheckTimeouts(), 0);
  EXPECT_EQ(State("a"), HostState::kUp);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(registry_.CheckTimeouts(), 1);
  EXPECT_EQ(State("a"), HostState::kUnreachable);
  auto t = registry_.Transitions("a");
  EXPECT_EQ(t.back().cause, "heartbeat_timeout");
  EXPECT_EQ(t.back().at, last);  // backdated to the last message
  EXPECT_GT(t.back().recorded_at, t.back().at);
  // Messages resume on the same stream (SIGCONT): up again.
  clock_.Advance(absl::Seconds(1));
  registry_.Heartbeat(open->session);
  EXPECT_EQ(State("a"), HostState::kUp);
  EXPECT_EQ(registry_.Transitions("a").back().cause, "resumed");
}

// Delivery lag: a starved collector reads every agent's messages seconds late. Agents stamp
// each message with their send time; the registry allows for the lag before it calls a silent
// host unreachable.
class DeliveryLagRegistryTest : public ::testing::Test {
 protected:
  // Opens `n` hosts h0..h(n-1) and has each send one message on time.
  void OpenHosts(HostRegistry& registry, int n, absl::Duration clock_offset = {}) {
    for (int i = 0; i < n; ++i) {
      auto open = registry.Open(MakeHello(absl::StrCat("h", i)));
      ASSERT_TRUE(open.ok());
      sessions_.push_back(open->session);
    }
    Deliver(registry, /*late_by=*/{}, /*skip=*/-1, clock_offset);
  }
  // Every host but `skip` sends a heartbeat now that arrives `late_by` after it was sent.
  void Deliver(HostRegistry& registry, absl::Duration late_by, int skip = -1,
               absl::Duration clock_offset = {}) {
    for (int i = 0; i < static_cast<int>(sessions_.size()); ++i) {
      if (i == skip) continue;
      Arrival arrival{clock_.Now(), clock_.Monotonic(),
                      absl::ToUnixMillis(clock_.Now() - late_by + clock_offset)};
      registry.Heartbeat(sessions_[i], arrival);
    }
  }

  FakeClock clock_;
  std::vector<HostRegistry::SessionId> sessions_;
};

TEST_F(DeliveryLagRegistryTest, SilenceIsJudgedAgainstHowLateEveryoneElseArrives) {
  HostRegistry registry(clock_);
  OpenHosts(registry, 40);
  const absl::Time frozen_last = clock_.Now();  // h0 freezes after this message
  // From now on every other host's heartbeats arrive 4 s after they were sent.
  for (int s = 1; s <= 3; ++s) {
    clock_.Advance(absl::Seconds(1));
    Deliver(registry, absl::Seconds(4), /*skip=*/0);
    EXPECT_EQ(registry.CheckTimeouts(), 0) << s;
  }
  clock_.Advance(absl::Milliseconds(300));  // 3.3 s of silence from h0: within 3 s + 4 s
  EXPECT_EQ(registry.CheckTimeouts(), 0);
  EXPECT_EQ(registry.Host("h0")->state, HostState::kUp);
  EXPECT_EQ(registry.Stats().delivery_lag_allowance, absl::Seconds(4));
  for (int s = 4; s <= 7; ++s) {
    clock_.Advance(absl::Seconds(1));
    Deliver(registry, absl::Seconds(4), /*skip=*/0);
    registry.CheckTimeouts();
  }
  // 7.3 s of silence, beyond 3 s + 4 s: unreachable, backdated to its last message. Nobody
  // else is: they were late, not silent.
  EXPECT_EQ(registry.Host("h0")->state, HostState::kUnreachable);
  EXPECT_EQ(registry.Transitions("h0").back().at, frozen_last);
  for (int i = 1; i < 40; ++i)
    EXPECT_EQ(registry.Host(absl::StrCat("h", i))->state, HostState::kUp);
}

TEST_F(DeliveryLagRegistryTest, TheMessageEndingASilenceIsLoggedWithHowLateItWas) {
  HostRegistryOptions options;
  options.max_delivery_lag_allowance = absl::ZeroDuration();
  HostRegistry registry(clock_, options);
  OpenHosts(registry, 1);
  clock_.Advance(absl::Milliseconds(3500));
  ASSERT_EQ(registry.CheckTimeouts(), 1);
  // The next heartbeat was sent 2.5 s ago: the silence was mostly in delivery (2,499 ms
  // over the baseline, which crept up 1 ms with this message).
  ::testing::internal::CaptureStderr();
  registry.Heartbeat(sessions_[0],
                     Arrival{clock_.Now(), clock_.Monotonic(),
                             absl::ToUnixMillis(clock_.Now() - absl::Milliseconds(2500))});
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(registry.Host("h0")->state, HostState::kUp);
  EXPECT_NE(log.find("msg=\"silent host spoke again\" host=h0 message_late_ms=2499"),
            std::string::npos)
      << log;
}

TEST_F(DeliveryLagRegistryTest, WithoutTheAllowanceTheSameSilenceIsUnreachableAfterThree) {
  HostRegistryOptions options;
  options.max_delivery_lag_allowance = absl::ZeroDuration();
  HostRegistry registry(clock_, options);
  OpenHosts(registry, 40);
  for (int s = 1; s <= 3; ++s) {
    clock_.Advance(absl::Seconds(1));
    Deliver(registry, absl::Seconds(4), /*skip=*/0);
  }
  clock_.Advance(absl::Milliseconds(300));
  EXPECT_EQ(registry.CheckTimeouts(), 1);
  EXPECT_EQ(registry.Host("h0")->state, HostState::kUnreachable);
}

TEST_F(DeliveryLagRegistryTest, TheAllowanceIsCapped) {
  HostRegistryOptions options;
  options.max_delivery_lag_allowance = absl::Seconds(2);
  HostRegistry registry(clock_, options);
  OpenHosts(registry, 40);
  for (int s = 1; s <= 5; ++s) {
    clock_.Advance(absl::Seconds(1));
    Deliver(registry, absl::Seconds(10), /*skip=*/0);
    registry.CheckTimeouts();
    EXPECT_EQ(registry.Host("h0")->state, HostState::kUp) << s;
  }
  clock_.Advance(absl::Milliseconds(300));  // 5.3 s > 3 s + 2 s
  Deliver(registry, absl::Seconds(10), /*skip=*/0);
  EXPECT_EQ(registry.CheckTimeouts(), 1);
  EXPECT_EQ(registry.Stats().delivery_lag_allowance, absl::Seconds(2));
}

TEST_F(DeliveryLagRegistryTest, ClockDifferencesAreNotLag) {
  HostRegistry registry(clock_);
  // Every agent's clock is an hour behind the collector's (messages look an hour late): a
  // constant offset, no delay.
  OpenHosts(registry, 40, /*clock_offset=*/-absl::Hours(1));
  for (int s = 1; s <= 3; ++s) {
    clock_.Advance(absl::Seconds(1));
    Deliver(registry, absl::ZeroDuration(), /*skip=*/0, -absl::Hours(1));
  }
  clock_.Advance(absl::Milliseconds(300));
  EXPECT_EQ(registry.CheckTimeouts(), 1);  // h0: silent 3.3 s, as without any allowance
  EXPECT_EQ(registry.Stats().delivery_lag_allowance, absl::ZeroDuration());
}

TEST_F(HostRegistryTest, AbsurdSendTimesAreIgnored) {
  auto open = registry_.Open(MakeHello("a"));
  for (int64_t sent : {std::numeric_limits<int64_t>::min(), int64_t{-1},
                       std::numeric_limits<int64_t>::max(), int64_t{1}}) {
    Arrival arrival;
    arrival.sent_ms = sent;
    registry_.Heartbeat(open->session, arrival);
  }
  EXPECT_EQ(State("a"), HostState::kUp);
  EXPECT_EQ(registry_.Stats().delivery_lag_allowance, absl::ZeroDuration());
}

TEST_F(DeliveryLagRegistryTest, OneSlowHostDoesNotStretchEveryonesSilence) {
  HostRegistry registry(clock_);
  OpenHosts(registry, 200);
  for (int s = 1; s <= 3; ++s) {
    clock_.Advance(absl::Seconds(1));
    Deliver(registry, absl::ZeroDuration(), /*skip=*/0);
    // h1's messages take 20 s more than its usual.
    registry.Heartbeat(sessions_[1], Arrival{clock_.Now(), clock_.Monotonic(),
                                             absl::ToUnixMillis(clock_.Now() - absl::Seconds(20))});
  }
  clock_.Advance(absl::Milliseconds(300));
  EXPECT_EQ(registry.CheckTimeouts(), 1);
  EXPECT_EQ(registry.Host("h0")->state, HostState::kUnreachable);
}

TEST_F(HostRegistryTest, RenderMetricsWithAFilterRendersOnlyThoseFamilies) {
  auto a = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(1, clock_);
  b.new_series.push_back(accord::testing::Desc(0, "accord_host_load1"));
  b.new_series.push_back(accord::testing::Desc(1, "accord_host_load5"));
  b.series_ids = {0, 1};
  b.values = {0.5, 0.25};
  ASSERT_TRUE(registry_.Apply(a->session, b).ok());
  ASSERT_TRUE(registry_.Open(MakeHello("b")).ok());

  std::string up;
  registry_.RenderMetrics(&up, *FamilyFilter::Parse("accord_host_up"));
  EXPECT_EQ(up,
            "# HELP accord_host_up 1 when the host's agent is connected and sending, else 0.\n"
            "# TYPE accord_host_up gauge\n"
            "accord_host_up{host=\"a\"} 1\naccord_host_up{host=\"b\"} 1\n");
  std::string load;
  registry_.RenderMetrics(&load, *FamilyFilter::Parse("accord_host_load5,accord_host_info"));
  EXPECT_NE(load.find("accord_host_load5{host=\"a\"} 0.25\n"), std::string::npos) << load;
  EXPECT_NE(load.find("accord_host_info{host=\"b\""), std::string::npos) << load;
  EXPECT_EQ(load.find("accord_host_load1"), std::string::npos) << load;
  EXPECT_EQ(load.find("accord_host_up"), std::string::npos) << load;
  // Every family alone is exactly its block of the whole exposition.
  std::string whole;
  registry_.RenderMetrics(&whole);
  std::string joined;
  for (const char* f :
       {"accord_host_up", "accord_host_state", "accord_host_info", "accord_host_boot_time_seconds",
        "accord_host_last_seen_timestamp_seconds", "accord_host_samples_accepted_total",
        "accord_host_load1", "accord_host_load5"}) {
    registry_.RenderMetrics(&joined, *FamilyFilter::Parse(f));
  }
  EXPECT_EQ(joined, whole);
}

TEST_F(HostRegistryTest, ADrainedRenderHandsOnPiecesThatJoinToTheWhole) {
  // 2,000 hosts x 20 series: about 2.4 MiB of text, over twice kExpositionDrainBytes.
  Batch b = MakeBatch(1, clock_);
  for (uint32_t i = 0; i < 20; ++i) {
    b.new_series.push_back(accord::testing::Desc(
        i, "accord_host_filesystem_used_bytes", {{"mountpoint", absl::StrCat("/srv/volume-", i)}}));
    b.series_ids.push_back(i);
    b.values.push_back(1e9 + i);
  }
  for (int h = 0; h < 2000; ++h) {
    auto s = registry_.Open(MakeHello(absl::StrCat("host-", h)));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(registry_.Apply(s->session, b).ok());
  }
  std::string whole;
  registry_.RenderMetrics(&whole);
  ASSERT_GT(whole.size(), 2 * kExpositionDrainBytes);

  std::string joined, text;
  std::vector<size_t> pieces;
  registry_.RenderMetrics(&text, FamilyFilter(), [&](std::string* t) {
    pieces.push_back(t->size());
    joined.append(*t);
    t->clear();
    return true;
  });
  ASSERT_GE(pieces.size(), 2u);
  for (size_t size : pieces) {
    EXPECT_GE(size, kExpositionDrainBytes);
    EXPECT_LT(size, kExpositionDrainBytes + (128 << 10));  // drained as soon as it is full
  }
  joined.append(text);  // the tail stays for the caller
  EXPECT_LT(text.size(), kExpositionDrainBytes);
  EXPECT_EQ(joined, whole);

  // A drain that says stop (the client went away) ends the render at that piece: no more
  // pieces, nothing left in the string.
  std::string rest;
  int stops = 0;
  registry_.RenderMetrics(&rest, FamilyFilter(), [&](std::string* t) {
    ++stops;
    t->clear();
    return false;
  });
  EXPECT_EQ(stops, 1);
  EXPECT_TRUE(rest.empty()) << rest.size();
}

TEST_F(HostRegistryTest, HeartbeatIntervalFromHelloSetsTheSilenceLimit) {
  Hello h = MakeHello("slow");
  h.heartbeat_interval = absl::Seconds(10);
  ASSERT_TRUE(registry_.Open(h).ok());
  clock_.Advance(absl::Seconds(29));
  registry_.CheckTimeouts();
  EXPECT_EQ(State("slow"), HostState::kUp);
  clock_.Advance(absl::Seconds(2));
  registry_.CheckTimeouts();
  EXPECT_EQ(State("slow"), HostState::kUnreachable);
}

TEST_F(HostRegistryTest, GoodbyeAgentStoppingIsStoppedAndCloseKeepsIt) {
  auto open = registry_.Open(MakeHello("a"));
  registry_.Goodbye(open->session, GoodbyeReason::kAgentStopping);
  registry_.Close(open->session);
  EXPECT_EQ(State("a"), HostState::kStopped);
  EXPECT_EQ(registry_.Transitions("a").back().cause, "agent_stopping");
}

TEST_F(HostRegistryTest, GoodbyeHostShutdownIsDown) {
  auto open = registry_.Open(MakeHello("a"));
  registry_.Goodbye(open->session, GoodbyeReason::kHostShutdown);
  registry_.Close(open->session);
  EXPECT_EQ(State("a"), HostState::kDown);
}

TEST_F(HostRegistryTest, ChangedBootTimeOnReconnectIsReboot) {
  auto open = registry_.Open(MakeHello("a", 1700000000));
  registry_.Goodbye(open->session, GoodbyeReason::kHostShutdown);
  registry_.Close(open->session);
  clock_.Advance(absl::Minutes(2));
  auto again = registry_.Open(MakeHello("a", 1700000100));
  ASSERT_TRUE(again.ok());
  auto t = registry_.Transitions("a");
  EXPECT_EQ(t.back().cause, "reboot");
  EXPECT_EQ(t.back().from, HostState::kDown);
  EXPECT_EQ(t.back().boot_time_seconds, 1700000100);
}

TEST_F(HostRegistryTest, BootTimeJitterIsNotReboot) {
  auto open = registry_.Open(MakeHello("a", 1700000000));
  registry_.Close(open->session);
  ASSERT_TRUE(registry_.Open(MakeHello("a", 1700000001)).ok());
  EXPECT_EQ(registry_.Transitions("a").back().cause, "connected");
}

TEST_F(HostRegistryTest, SecondLiveStreamForSameHostIsAlreadyExists) {
  auto open = registry_.Open(MakeHello("a"));
  auto second = registry_.Open(MakeHello("a"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry_.Stats().rejected[static_cast<int>(RejectReason::kHostAlreadyConnected)], 1u);
  // The first stream is unharmed.
  EXPECT_EQ(State("a"), HostState::kUp);
  registry_.Close(open->session);
  EXPECT_TRUE(registry_.Open(MakeHello("a")).ok());
}

TEST_F(HostRegistryTest, InvalidHelloRejected) {
  EXPECT_EQ(registry_.Open(MakeHello("")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Open(MakeHello(std::string(300, 'x'))).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Open(MakeHello("bad\nid")).status().code(),
            absl::StatusCode::kInvalidArgument);
  Hello h = MakeHello("a");
  h.labels["0bad"] = "x";
  EXPECT_EQ(registry_.Open(h).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry_.Hosts().empty());
}

TEST_F(HostRegistryTest, BatchAcceptedAndDuplicateCountedOnce) {
  auto open = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(5, clock_);
  b.new_series = {Desc(0, "accord_host_load1"), Desc(1, "accord_host_memory_free_bytes")};
  b.series_ids = {0, 1};
  b.values = {0.5, 1024};
  auto ack = registry_.Apply(open->session, b);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(*ack, 5u);
  EXPECT_EQ(registry_.Host("a")->samples_accepted, 2u);
  // The stream breaks before the ack arrives; the agent resends on a new stream.
  registry_.Close(open->session);
  auto again = registry_.Open(MakeHello("a"));
  EXPECT_EQ(again->last_accepted_sequence, 5u);
  auto ack2 = registry_.Apply(again->session, b);
  ASSERT_TRUE(ack2.ok());
  EXPECT_EQ(*ack2, 5u);
  EXPECT_EQ(registry_.Host("a")->samples_accepted, 2u);
  EXPECT_EQ(registry_.Stats().batches_duplicate, 1u);
}

TEST_F(HostRegistryTest, SequenceBackwardsOnSameStreamRejected) {
  auto open = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(5, clock_);
  ASSERT_TRUE(registry_.Apply(open->session, b).ok());
  Batch older = MakeBatch(4, clock_);
  auto r = registry_.Apply(open->session, older);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Stats().rejected[static_cast<int>(RejectReason::kSequenceBackwards)], 1u);
}

TEST_F(HostRegistryTest, FutureTimestampRejectedWithoutChangingAnything) {
  auto open = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(1, clock_);
  b.timestamp_ms = absl::ToUnixMillis(clock_.Now() + absl::Minutes(6));
  b.new_series = {Desc(0, "accord_host_load1")};
  b.series_ids = {0};
  b.values = {1};
  EXPECT_EQ(registry_.Apply(open->session, b).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Host("a")->samples_accepted, 0u);
  EXPECT_EQ(registry_.Host("a")->last_sequence, 0u);
  // Four minutes ahead is tolerated.
  b.timestamp_ms = absl::ToUnixMillis(clock_.Now() + absl::Minutes(4));
  EXPECT_TRUE(registry_.Apply(open->session, b).ok());
}

TEST_F(HostRegistryTest, UnknownSeriesIdRejected) {
  auto open = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(1, clock_);
  b.series_ids = {7};
  b.values = {1};
  EXPECT_EQ(registry_.Apply(open->session, b).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.Stats().rejected[static_cast<int>(RejectReason::kUnknownSeries)], 1u);
}

TEST_F(HostRegistryTest, SeriesIdsAreScopedToTheStream) {
  auto open = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(1, clock_);
  b.new_series = {Desc(0, "accord_host_load1")};
  b.series_ids = {0};
  b.values = {1};
  ASSERT_TRUE(registry_.Apply(open->session, b).ok());
  registry_.Close(open->session);
  auto again = registry_.Open(MakeHello("a"));
  Batch c = MakeBatch(2, clock_);
  c.series_ids = {0};
  c.values = {2};
  EXPECT_FALSE(registry_.Apply(again->session, c).ok());
}

TEST_F(HostRegistryTest, InvalidSeriesDescriptorsRejected) {
  auto open = registry_.Open(MakeHello("a"));
  uint64_t seq = 1;
  auto try_desc = [&](SeriesDescriptor d) {
    Batch b = MakeBatch(seq++, clock_);
    b.new_series = {d};
    b.series_ids = {d.id};
    b.values = {1};
    return registry_.Apply(open->session, b).status().code();
  };
  EXPECT_EQ(try_desc(Desc(0, "accord_service_up")), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(try_desc(Desc(0, "accord_host_up")), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(try_desc(Desc(0, "accord_host_bad-name")), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(try_desc(Desc(0, "accord_host_x", {{"host", "evil"}})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(try_desc(Desc(0, "accord_host_x", {{"b", "1"}, {"a", "2"}})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(try_desc(Desc(0, "accord_host_x", {{"a", std::string(2000, 'v')}})),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(try_desc(Desc(0, "accord_host_ok", {{"a", "1"}})), absl::StatusCode::kOk);
  // A custom series (the agent's textfile directory) may have any other valid name.
  EXPECT_EQ(try_desc(Desc(1, "shop_orders_total", {{"shop", "eu"}})), absl::StatusCode::kOk);
  // The same id described twice in one batch is refused.
  {
    Batch b = MakeBatch(seq++, clock_);
    b.new_series = {Desc(5, "accord_host_a"), Desc(5, "accord_host_b")};
    EXPECT_EQ(registry_.Apply(open->session, b).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(registry_.Stats().rejected[static_cast<int>(RejectReason::kInvalidSeries)], 7u);
}

TEST_F(HostRegistryTest, ShapeMismatchRejected) {
  auto open = registry_.Open(MakeHello("a"));
  Batch b = MakeBatch(1, clock_);
  b.new_series = {Desc(0, "accord_host_load1")};
  b.series_ids = {0, 0};
  b.values = {1};
  EXPECT_FALSE(registry_.Apply(open->session, b).ok());
}

TEST_F(HostRegistryTest, TooManySeriesRejected) {
  HostRegistryOptions options;
  options.max_series_per_host = 3;
  HostRegistry registry(clock_, options);
  auto open = registry.Open(MakeHello("a"));
  Batch b = MakeBatch(1, clock_);
  for (uint32_t i = 0; i < 4; ++i) {
    b.new_series.push_back(Desc(i, "accord_host_x", {{"i", std::to_string(i)}}));
    b.series_ids.push_back(i);
    b.values.push_back(i);
  }
  EXPECT_EQ(registry.Apply(open->session, b).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Stats().rejected[static_cast<int>(RejectReason::kTooManySeries)], 1u);
}

TEST_F(HostRegistryTest, SeriesDescribedAgainUnderNewIdsAreCappedPerStream) {
  // One series described under ever new ids: the series count stays 1, the stream's ids
  // may not grow past the series limit.
  HostRegistryOptions options;
  options.max_series_per_host = 10;
  HostRegistry registry(clock_, options);
  auto open = registry.Open(MakeHello("a"));
  uint64_t seq = 0;
  auto describe = [&](uint32_t first_id, uint32_t count) {
    Batch b = MakeBatch(++seq, clock_);
    for (uint32_t id = first_id; id < first_id + count; ++id) {
      b.new_series.push_back(Desc(id, "accord_host_x", {}));
    }
    return registry.Apply(open->session, b).status();
  };
  EXPECT_TRUE(describe(0, 6).ok());
  EXPECT_TRUE(describe(0, 6).ok());   // the same ids again: a resend
  EXPECT_TRUE(describe(100, 4).ok());  // 10 ids for 1 series: at the limit
  absl::Status st = describe(200, 1);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "series ids described on this stream")) << st;
  EXPECT_EQ(registry.Stats().rejected[static_cast<int>(RejectReason::kTooManySeries)], 1u);
  // A new stream starts its ids afresh.
  registry.Close(open->session);
  open = registry.Open(MakeHello("a"));
  EXPECT_TRUE(describe(200, 1).ok());
}

TEST_F(HostRegistryTest, LongLabelNamesAndImpossibleBootTimesRejected) {
  Hello h = MakeHello("a");
  h.labels[std::string(201, 'n')] = "x";
  absl::Status st = registry_.Open(h).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(st.message().size(), 400u) << "the error quotes at most the name's start";
  h.labels.clear();
  h.labels[std::string(200, 'n')] = "x";
  EXPECT_TRUE(registry_.Open(h).ok());
  for (int64_t boot : {int64_t{-1}, absl::ToUnixSeconds(clock_.Now() + absl::Hours(48)),
                       std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(registry_.Open(MakeHello("b", boot)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << boot;
  }
  auto open = registry_.Open(MakeHello("c"));
  ASSERT_TRUE(open.ok());
  Batch b = MakeBatch(1, clock_);
  b.new_series.push_back(Desc(0, "accord_host_x", {{std::string(201, 'l'), "v"}}));
  EXPECT_EQ(registry_.Apply(open->session, b).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HostRegistryTest, OneHostsBadBatchDoesNotTouchAnother) {
  auto a = registry_.Open(MakeHello("a"));
  auto b = registry_.Open(MakeHello("b"));
  Batch good = MakeBatch(1, clock_);
  good.new_series = {Desc(0, "accord_host_load1")};
  good.series_ids = {0};
  good.values = {0.25};
  ASSERT_TRUE(registry_.Apply(b->session, good).ok());
  Batch evil = good;
  evil.values = {99};
  evil.timestamp_ms += 3600 * 1000;
  EXPECT_FALSE(registry_.Apply(a->session, evil).ok());
  std::string text;
  registry_.RenderMetrics(&text);
  EXPECT_NE(text.find("accord_host_load1{host=\"b\"} 0.25\n"), std::string::npos);
  EXPECT_EQ(text.find("99"), std::string::npos);
}

TEST_F(HostRegistryTest, RenderMetricsGroupsFamiliesAndEscapes) {
  auto a = registry_.Open(MakeHello("a\"quote"));
  auto b = registry_.Open(MakeHello("b"));
  for (auto session : {a->session, b->session}) {
    Batch batch = MakeBatch(1, clock_);
    batch.new_series = {Desc(0, "accord_host_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}},
                             SeriesKind::kCounter),
                        Desc(1, "accord_host_load1")};
    batch.series_ids = {0, 1};
    batch.values = {123456789.125, 1.5};
    ASSERT_TRUE(registry_.Apply(session, batch).ok());
  }
  registry_.Close(b->session);  // b is unreachable: its resource values are not exported
  std::string text;
  registry_.RenderMetrics(&text);
  EXPECT_NE(text.find("accord_host_up{host=\"a\\\"quote\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("accord_host_up{host=\"b\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("accord_host_state{host=\"b\",state=\"unreachable\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE accord_host_cpu_seconds_total counter\n"
                      "accord_host_cpu_seconds_total{host=\"a\\\"quote\",cpu=\"0\",mode=\"user\"} "
                      "123456789.125\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("accord_host_load1{host=\"b\"}"), std::string::npos);
  // Each family header appears once.
  size_t first = text.find("# TYPE accord_host_up ");
  EXPECT_EQ(text.find("# TYPE accord_host_up ", first + 1), std::string::npos);
}

TEST_F(HostRegistryTest, LastSeenFollowsMessages) {
  auto open = registry_.Open(MakeHello("a"));
  clock_.Advance(absl::Seconds(7));
  registry_.Heartbeat(open->session);
  EXPECT_EQ(registry_.Host("a")->last_seen, clock_.Now());
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(HostRegistrySequenceTest, AgentThatLostItsSequenceContinuesFromItsOwn) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  Hello h = MakeHello("a");
  auto open = registry.Open(h);
  Batch b = MakeBatch(100, clock);
  ASSERT_TRUE(registry.Apply(open->session, b).ok());
  registry.Close(open->session);
  h.next_sequence = 1;  // state dir wiped
  auto again = registry.Open(h);
  EXPECT_EQ(again->last_accepted_sequence, 0u);
  Batch c = MakeBatch(1, clock);
  c.new_series = {Desc(0, "accord_host_load1")};
  c.series_ids = {0};
  c.values = {1};
  ASSERT_TRUE(registry.Apply(again->session, c).ok());
  EXPECT_EQ(registry.Host("a")->samples_accepted, 1u);
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(HostRegistryRobustnessTest, OneHostCannotLockAFamilysTypeForOthers) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  auto evil = registry.Open(MakeHello("evil"));
  auto good = registry.Open(MakeHello("good"));
  Batch b = MakeBatch(1, clock);
  b.new_series = {Desc(0, "accord_host_load1", {}, SeriesKind::kCounter)};
  b.series_ids = {0};
  b.values = {1};
  ASSERT_TRUE(registry.Apply(evil->session, b).ok());
  b.new_series[0].kind = SeriesKind::kGauge;
  ASSERT_TRUE(registry.Apply(good->session, b).ok());  // accepted, not refused
  std::string text;
  registry.RenderMetrics(&text);
  EXPECT_NE(text.find("# TYPE accord_host_load1 untyped\n"), std::string::npos) << text;
}

TEST(HostRegistryRobustnessTest, ResentBatchStillDescribesItsSeries) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  auto s1 = registry.Open(MakeHello("h"));
  Batch b1 = MakeBatch(1, clock);
  b1.new_series = {Desc(0, "accord_host_load1")};
  b1.series_ids = {0};
  b1.values = {1};
  ASSERT_TRUE(registry.Apply(s1->session, b1).ok());
  registry.Close(s1->session);  // the ack was lost
  auto s2 = registry.Open(MakeHello("h"));
  ASSERT_TRUE(registry.Apply(s2->session, b1).ok());  // resend: duplicate, describes id 0
  Batch b2 = MakeBatch(2, clock);
  b2.series_ids = {0};
  b2.values = {2};
  ASSERT_TRUE(registry.Apply(s2->session, b2).ok()) << "id 0 was described by the resend";
  EXPECT_EQ(registry.Host("h")->samples_accepted, 2u);
}

TEST(HostRegistryRobustnessTest, ReconnectRedescribingManySeriesIsNotTooMany) {
  accord::testing::FakeClock clock;
  HostRegistryOptions options;
  options.max_series_per_host = 100;
  HostRegistry registry(clock, options);
  Batch b = MakeBatch(1, clock);
  for (uint32_t i = 0; i < 80; ++i) {
    b.new_series.push_back(Desc(i, "accord_host_x", {{"i", std::to_string(i)}}));
    b.series_ids.push_back(i);
    b.values.push_back(i);
  }
  auto s1 = registry.Open(MakeHello("h"));
  ASSERT_TRUE(registry.Apply(s1->session, b).ok());
  registry.Close(s1->session);
  auto s2 = registry.Open(MakeHello("h"));
  b.sequence = 2;
  EXPECT_TRUE(registry.Apply(s2->session, b).ok());
}

TEST(HostRegistryRobustnessTest, NewStreamTakesOverASilentOne) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  auto old_stream = registry.Open(MakeHello("h"));
  clock.Advance(absl::Seconds(5));
  registry.CheckTimeouts();  // silent: unreachable, stream still open
  auto fresh = registry.Open(MakeHello("h"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(registry.Host("h")->state, HostState::kUp);
  // The old stream, heard from again, is told why it is no longer read (retryable: its agent
  // reconnects and meets ALREADY_EXISTS at its hello while the new stream lives).
  absl::Status st = registry.Apply(old_stream->session, MakeBatch(1, clock)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(absl::StrContains(st.message(), "took over")) << st;
  EXPECT_EQ(registry.AddAliveSpans(old_stream->session, {}).status().code(),
            absl::StatusCode::kAlreadyExists);
  registry.Close(old_stream->session);  // the old stream's end changes nothing
  EXPECT_EQ(registry.Host("h")->state, HostState::kUp);
  EXPECT_TRUE(registry.Host("h")->connected);
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

TEST(HostRegistryBackfillTest, AliveSpansMergeAndReviseOnlyWhatChanges) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  auto s1 = registry.Open(MakeHello("h"));
  absl::Time gap_start = clock.Now() + absl::Seconds(10);
  clock.Advance(absl::Seconds(10));
  registry.Close(s1->session);  // partition: unreachable
  clock.Advance(absl::Seconds(60));
  auto s2 = registry.Open(MakeHello("h"));
  // The agent recorded it was alive during the partition, in two pieces.
  std::vector<AliveSpan> spans = {
      {gap_start, gap_start + absl::Seconds(30), 1700000000},
      {gap_start + absl::Seconds(30), gap_start + absl::Seconds(59), 1700000000}};
  auto until = registry.AddAliveSpans(s2->session, spans);
  ASSERT_TRUE(until.ok()) << until.status();
  EXPECT_EQ(*until, gap_start + absl::Seconds(59));
  auto alive = registry.AliveSpans("h");
  ASSERT_EQ(alive.size(), 1u);  // merged
  EXPECT_EQ(alive[0].last - alive[0].first, absl::Seconds(59));
  EXPECT_EQ(registry.Revisions("h").size(), 2u);  // both pieces covered unreachable time
  // A resend changes nothing and adds no revision.
  ASSERT_TRUE(registry.AddAliveSpans(s2->session, spans).ok());
  EXPECT_EQ(registry.Revisions("h").size(), 2u);
}

TEST(HostRegistryBackfillTest, ManySpansInAnyOrderMergeQuicklyAndAreCapped) {
  accord::testing::FakeClock clock;
  HostRegistryOptions options;
  options.max_transitions_per_host = 50000;
  HostRegistry registry(clock, options);
  auto s = registry.Open(MakeHello("h"));
  const absl::Time base = clock.Now() - absl::Hours(24);
  // 100,000 separate 1 ms spans, newest first: each was a vector insert at the front.
  std::vector<AliveSpan> spans;
  for (int i = 99999; i >= 0; --i) {
    const absl::Time t = base + absl::Milliseconds(10 * i);
    spans.push_back({t, t + absl::Milliseconds(1), 1700000000});
  }
  const absl::Time start = absl::Now();
  ASSERT_TRUE(registry.AddAliveSpans(s->session, spans).ok());
  // Interleaved with the first: every one lands between two kept spans.
  for (AliveSpan& span : spans) {
    span.first += absl::Milliseconds(5);
    span.last += absl::Milliseconds(5);
  }
  ASSERT_TRUE(registry.AddAliveSpans(s->session, spans).ok());
  // Took about 3 s a message before; allow for a slow shared machine.
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  std::vector<AliveSpan> alive = registry.AliveSpans("h");
  ASSERT_EQ(alive.size(), 50000u);  // the newest, as many as transitions are kept
  EXPECT_TRUE(std::is_sorted(alive.begin(), alive.end(),
                             [](const AliveSpan& a, const AliveSpan& b) { return a.first < b.first; }));
  EXPECT_EQ(alive.back().first, base + absl::Milliseconds(10 * 99999 + 5));
  // All of the first; of the second, the 50,001 ending after what the cap trimmed (older ones
  // count as received before: a resend must not be new again).
  EXPECT_EQ(registry.Stats().alive_spans, 150001u);
}

TEST(HostRegistryBackfillTest, AResendOfSpansTrimmedByTheCapIsNothingNew) {
  accord::testing::FakeClock clock;
  HostRegistryOptions options;
  options.max_transitions_per_host = 3;
  HostRegistry registry(clock, options);
  auto s = registry.Open(MakeHello("h"));
  const absl::Time t = clock.Now() - absl::Hours(1);
  std::vector<AliveSpan> spans;
  for (int i = 0; i < 5; ++i) {
    spans.push_back({t + absl::Seconds(10 * i), t + absl::Seconds(10 * i + 1), 1});
  }
  ASSERT_TRUE(registry.AddAliveSpans(s->session, spans).ok());
  ASSERT_TRUE(registry.AddAliveSpans(s->session, spans).ok());  // its ack was lost
  EXPECT_EQ(registry.Stats().alive_spans, 5u);
  EXPECT_EQ(registry.AliveSpans("h").size(), 3u);
}

TEST(HostRegistryBackfillTest, SpansOfOneMessageMergeWithEachOtherAndTheKnownOnes) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  auto s = registry.Open(MakeHello("h"));
  const absl::Time t = clock.Now() - absl::Hours(1);
  auto at = [t](int seconds) { return t + absl::Seconds(seconds); };
  ASSERT_TRUE(registry.AddAliveSpans(s->session, {{at(10), at(20), 1}}).ok());
  // Out of order; one inside the known span, one bridging it to another, one of another boot.
  ASSERT_TRUE(registry
                  .AddAliveSpans(s->session, {{at(30), at(40), 1},
                                              {at(50), at(60), 2},
                                              {at(12), at(18), 1},
                                              {at(20), at(30), 1}})
                  .ok());
  std::vector<AliveSpan> alive = registry.AliveSpans("h");
  ASSERT_EQ(alive.size(), 2u);
  EXPECT_EQ(alive[0].first, at(10));
  EXPECT_EQ(alive[0].last, at(40));
  EXPECT_EQ(alive[1].boot_time_seconds, 2);
  EXPECT_EQ(registry.Stats().alive_spans, 4u);  // 1 + 3: the one inside the known span is not new
}

TEST(HostRegistryBackfillTest, InvalidAliveSpansAreSkippedCountedAndAcknowledged) {
  // Rejecting the message would end the stream, and the agent sends its unacknowledged spans
  // first on every reconnect: a host whose clock runs ahead would never get a batch through.
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  auto s = registry.Open(MakeHello("h"));
  absl::Time now = clock.Now();
  const AliveSpan good{now - absl::Minutes(10), now - absl::Minutes(9), 1700000000};
  auto until = registry.AddAliveSpans(
      s->session, {{now, now - absl::Seconds(1), 1700000000},             // reversed
                   good,                                                  //
                   {now, now + absl::Hours(1), 1700000000},               // future
                   {now - absl::Hours(24 * 500), now - absl::Hours(24 * 499), 1}});  // too old
  ASSERT_TRUE(until.ok()) << until.status();
  EXPECT_EQ(*until, now + absl::Hours(1));  // acknowledged: the agent drops them all
  EXPECT_EQ(registry.Stats().rejected[static_cast<int>(RejectReason::kInvalidAliveSpan)], 3u);
  std::vector<AliveSpan> alive = registry.AliveSpans("h");
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_EQ(alive[0].first, good.first);
  EXPECT_EQ(registry.Stats().alive_spans, 1u);
  // Too many at once is still refused whole.
  std::vector<AliveSpan> many(100001, good);
  EXPECT_FALSE(registry.AddAliveSpans(s->session, many).ok());
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

// Counts what the registry hands to a SampleObserver.
class CountingObserver : public SampleObserver {
 public:
  void OnSeries(const std::string&, uint32_t, const SeriesDescriptor&) override { ++series; }
  void OnSamples(const std::string&, uint64_t sequence, int64_t, const std::vector<uint32_t>&,
                 const std::vector<double>&) override {
    sequences.push_back(sequence);
  }
  int series = 0;
  std::vector<uint64_t> sequences;
};

std::string Shown(HostRegistry& registry, const std::string& series) {
  std::string text;
  registry.RenderMetrics(&text);
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  size_t end = text.find('\n', at + 1);
  return text.substr(at + series.size() + 2, end - at - series.size() - 2);
}

TEST(HostRegistryPreview, ShownNotCountedNotObservedAndNeverReplacedByOlderData) {
  FakeClock clock;
  HostRegistry registry(clock);
  CountingObserver observer;
  registry.SetSampleObserver(&observer);
  auto open = registry.Open(MakeHello("a"));
  ASSERT_TRUE(open.ok());
  // Backlog batch 1 (old), then a preview of live batch 50 (now), then backlog 2..3 (old).
  Batch b1 = MakeBatch(1, clock);
  b1.timestamp_ms -= 600000;
  b1.new_series = {Desc(0, "accord_host_load1")};
  b1.series_ids = {0};
  b1.values = {1};
  ASSERT_EQ(*registry.Apply(open->session, b1), 1u);
  Batch live = MakeBatch(50, clock);
  live.preview = true;
  live.series_ids = {0};
  live.values = {50};
  auto r = registry.Apply(open->session, live);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 1u);  // the cumulative sequence does not move
  EXPECT_EQ(Shown(registry, "accord_host_load1{host=\"a\"}"), "50");
  for (uint64_t seq = 2; seq <= 3; ++seq) {
    Batch b = MakeBatch(seq, clock);
    b.timestamp_ms -= 600000 - static_cast<int64_t>(seq) * 1000;
    b.series_ids = {0};
    b.values = {static_cast<double>(seq)};
    ASSERT_TRUE(registry.Apply(open->session, b).ok());  // below the preview's 50: accepted
  }
  EXPECT_EQ(Shown(registry, "accord_host_load1{host=\"a\"}"), "50");
  // The live batch in order: counted once now.
  live.preview = false;
  ASSERT_EQ(*registry.Apply(open->session, live), 50u);
  auto host = registry.Host("a");
  EXPECT_EQ(host->samples_accepted, 4u);
  EXPECT_EQ(registry.Stats().batches_preview, 1u);
  EXPECT_EQ(observer.sequences, (std::vector<uint64_t>{1, 2, 3, 50}));
  // A malformed preview is refused like any batch.
  Batch bad = MakeBatch(60, clock);
  bad.preview = true;
  bad.series_ids = {7};
  bad.values = {1};
  EXPECT_TRUE(absl::IsInvalidArgument(registry.Apply(open->session, bad).status()));
}

}  // namespace
}  // namespace accord::collector

namespace accord::collector {
namespace {

// Interned series shapes, the metrics snapshot and the render that runs without the lock.

Batch Describe(uint64_t seq, FakeClock& clock, std::vector<SeriesDescriptor> series,
               std::vector<double> values) {
  Batch b = MakeBatch(seq, clock);
  for (const auto& d : series) b.series_ids.push_back(d.id);
  b.new_series = std::move(series);
  b.values = std::move(values);
  return b;
}

std::string Render(const HostRegistry& registry) {
  std::string text;
  registry.RenderMetrics(&text);
  return text;
}

TEST(HostRegistryShapesTest, ShapesAreStoredOnceForAllHosts) {
  FakeClock clock;
  HostRegistry registry(clock);
  for (const char* id : {"a", "b", "c"}) {
    auto open = registry.Open(MakeHello(id));
    ASSERT_TRUE(open.ok());
    // Each agent numbers its series its own way.
    uint32_t base = id[0] == 'b' ? 40 : 0;
    Batch b = Describe(1, clock,
                       {Desc(base + 0, "accord_host_load1"),
                        Desc(base + 1, "accord_host_cpu_seconds_total",
                             {{"cpu", "0"}, {"mode", "user"}}, SeriesKind::kCounter),
                        Desc(base + 2, "accord_host_cpu_seconds_total",
                             {{"cpu", "0"}, {"mode", "system"}}, SeriesKind::kCounter)},
                       {1, 2, 3});
    ASSERT_TRUE(registry.Apply(open->session, b).ok());
  }
  HostRegistry::Sizes sizes = registry.TableSizes();
  EXPECT_EQ(sizes.hosts, 3u);
  EXPECT_EQ(sizes.families, 2u);
  EXPECT_EQ(sizes.shapes, 3u);  // not 9
  EXPECT_EQ(sizes.slots, 9u);
  std::string text = Render(registry);
  for (const char* id : {"a", "b", "c"}) {
    std::string host = absl::StrCat("{host=\"", id, "\"");
    EXPECT_NE(text.find("accord_host_load1" + host + "} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("accord_host_cpu_seconds_total" + host + ",cpu=\"0\",mode=\"system\"} 3\n"),
              std::string::npos)
        << text;
  }
}

TEST(HostRegistryShapesTest, CustomSeriesWithTheirOwnLabelsGetTheirOwnShapes) {
  FakeClock clock;
  HostRegistry registry(clock);
  auto a = registry.Open(MakeHello("a"));
  auto b = registry.Open(MakeHello("b"));
  // Textfile series: any name, any labels, values escaped in the output.
  ASSERT_TRUE(registry
                  .Apply(a->session, Describe(1, clock,
                                              {Desc(0, "shop_orders_total",
                                                    {{"path", "C:\\dir"}, {"shop", "e\"u"}},
                                                    SeriesKind::kCounter),
                                               Desc(1, "backup_age_seconds", {{"job", "a-only"}})},
                                              {12, 3600}))
                  .ok());
  ASSERT_TRUE(registry
                  .Apply(b->session, Describe(1, clock,
                                              {Desc(0, "shop_orders_total",
                                                    {{"path", "C:\\dir"}, {"shop", "e\"u"}},
                                                    SeriesKind::kCounter),
                                               Desc(1, "backup_age_seconds", {{"job", "b-only"}})},
                                              {13, 60}))
                  .ok());
  EXPECT_EQ(registry.TableSizes().shapes, 3u);  // one shared, two of one host each
  std::string text = Render(registry);
  EXPECT_NE(text.find("# HELP shop_orders_total Reported by the host's agent.\n"
                      "# TYPE shop_orders_total counter\n"
                      "shop_orders_total{host=\"a\",path=\"C:\\\\dir\",shop=\"e\\\"u\"} 12\n"
                      "shop_orders_total{host=\"b\",path=\"C:\\\\dir\",shop=\"e\\\"u\"} 13\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("backup_age_seconds{host=\"a\",job=\"a-only\"} 3600\n"
                      "backup_age_seconds{host=\"b\",job=\"b-only\"} 60\n"),
            std::string::npos)
      << text;
}

// Records the slot the registry gives each described series.
class SlotRecorder : public SampleObserver {
 public:
  void OnSeries(const std::string& host, uint32_t slot, const SeriesDescriptor& desc) override {
    slots.push_back(slot);
  }
  void OnSamples(const std::string&, uint64_t, int64_t, const std::vector<uint32_t>&,
                 const std::vector<double>&) override {}
  std::vector<uint32_t> slots;
};

TEST(HostRegistryShapesTest, RedescribedSeriesKeepTheirSlotAndConflictingKindsAreUntyped) {
  FakeClock clock;
  HostRegistry registry(clock);
  SlotRecorder recorder;
  registry.SetSampleObserver(&recorder);
  auto a = registry.Open(MakeHello("a"));
  ASSERT_TRUE(registry
                  .Apply(a->session, Describe(1, clock,
                                              {Desc(0, "accord_host_x", {{"i", "0"}}),
                                               Desc(1, "accord_host_x", {{"i", "1"}})},
                                              {10, 11}))
                  .ok());
  // The same series under a second id on the same stream: both ids reach the one slot.
  ASSERT_TRUE(
      registry.Apply(a->session, Describe(2, clock, {Desc(7, "accord_host_x", {{"i", "1"}})}, {12}))
          .ok());
  // A new stream numbers them the other way round; the slots stay.
  registry.Close(a->session);
  auto again = registry.Open(MakeHello("a"));
  ASSERT_TRUE(registry
                  .Apply(again->session, Describe(3, clock,
                                                  {Desc(0, "accord_host_x", {{"i", "1"}}),
                                                   Desc(1, "accord_host_x", {{"i", "0"}})},
                                                  {21, 20}))
                  .ok());
  EXPECT_EQ(recorder.slots, (std::vector<uint32_t>{0, 1, 1, 1, 0}));
  HostRegistry::Sizes sizes = registry.TableSizes();
  EXPECT_EQ(sizes.shapes, 2u);
  EXPECT_EQ(sizes.slots, 2u);
  // Another host declares the family a counter: the shape is shared, the family untyped.
  auto b = registry.Open(MakeHello("b"));
  ASSERT_TRUE(
      registry
          .Apply(b->session,
                 Describe(1, clock, {Desc(0, "accord_host_x", {{"i", "0"}}, SeriesKind::kCounter)},
                          {5}))
          .ok());
  EXPECT_EQ(registry.TableSizes().shapes, 2u);
  std::string text = Render(registry);
  EXPECT_NE(text.find("# TYPE accord_host_x untyped\n"
                      "accord_host_x{host=\"a\",i=\"0\"} 20\n"
                      "accord_host_x{host=\"a\",i=\"1\"} 21\n"
                      "accord_host_x{host=\"b\",i=\"0\"} 5\n"),
            std::string::npos)
      << text;
}

TEST(HostRegistryShapesTest, AnySeriesIdWorksNotOnlySmallOnes) {
  FakeClock clock;
  HostRegistry registry(clock);
  auto a = registry.Open(MakeHello("a"));
  ASSERT_TRUE(registry
                  .Apply(a->session,
                         Describe(1, clock,
                                  {Desc(4000000000u, "accord_host_big"),
                                   Desc(3, "accord_host_small"), Desc(70000, "accord_host_mid")},
                                  {1, 2, 3}))
                  .ok());
  Batch b = MakeBatch(2, clock);
  b.series_ids = {70000, 3, 4000000000u};
  b.values = {30, 20, 10};
  ASSERT_TRUE(registry.Apply(a->session, b).ok());
  b.sequence = 3;
  b.series_ids = {4};  // never described
  b.values = {1};
  EXPECT_FALSE(registry.Apply(a->session, b).ok());
  std::string text = Render(registry);
  EXPECT_NE(text.find("accord_host_big{host=\"a\"} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("accord_host_mid{host=\"a\"} 30\n"), std::string::npos) << text;
  EXPECT_NE(text.find("accord_host_small{host=\"a\"} 20\n"), std::string::npos) << text;
  // A new stream numbers them anew; the old ids mean nothing there.
  registry.Close(a->session);
  auto again = registry.Open(MakeHello("a"));
  Batch c = Describe(4, clock, {Desc(0, "accord_host_big")}, {11});
  ASSERT_TRUE(registry.Apply(again->session, c).ok());
  c.sequence = 5;
  c.new_series.clear();
  c.series_ids = {4000000000u};
  EXPECT_FALSE(registry.Apply(again->session, c).ok());
  EXPECT_EQ(registry.TableSizes().slots, 3u);
}

TEST(HostRegistryShapesTest, SeriesOtherHostsHaveStillCountAgainstTheLimit) {
  FakeClock clock;
  HostRegistryOptions options;
  options.max_series_per_host = 3;
  HostRegistry registry(clock, options);
  std::vector<SeriesDescriptor> four;
  for (uint32_t i = 0; i < 4; ++i)
    four.push_back(Desc(i, "accord_host_x", {{"i", std::to_string(i)}}));
  auto a = registry.Open(MakeHello("a"));
  std::vector<SeriesDescriptor> three(four.begin(), four.begin() + 3);
  ASSERT_TRUE(registry.Apply(a->session, Describe(1, clock, three, {0, 1, 2})).ok());
  auto b = registry.Open(MakeHello("b"));
  ASSERT_TRUE(registry.Apply(b->session, Describe(1, clock, three, {0, 1, 2})).ok());
  // The fourth shape is new to b, however many hosts have the other three.
  EXPECT_EQ(registry.Apply(b->session, Describe(2, clock, four, {0, 1, 2, 3})).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Stats().rejected[static_cast<int>(RejectReason::kTooManySeries)], 1u);
  EXPECT_EQ(registry.TableSizes().shapes, 3u);  // nothing interned by the rejected batch
}

TEST(HostRegistryShapesTest, AgentHealthFromInternedShapes) {
  FakeClock clock;
  HostRegistry registry(clock);
  auto a = registry.Open(MakeHello("a"));
  EXPECT_EQ(registry.Host("a")->agent_samples_produced, -1);
  // A labelled series of the same family is not the host's total.
  ASSERT_TRUE(registry
                  .Apply(a->session, Describe(1, clock,
                                              {Desc(0, "accord_agent_samples_produced_total",
                                                    {{"source", "x"}}, SeriesKind::kCounter)},
                                              {5}))
                  .ok());
  EXPECT_EQ(registry.Host("a")->agent_samples_produced, -1);
  ASSERT_TRUE(registry
                  .Apply(a->session, Describe(2, clock,
                                              {Desc(1, "accord_agent_samples_produced_total", {},
                                                    SeriesKind::kCounter),
                                               Desc(2, "accord_agent_spool_dropped_samples_total",
                                                    {}, SeriesKind::kCounter)},
                                              {100, 7}))
                  .ok());
  EXPECT_EQ(registry.Host("a")->agent_samples_produced, 100);
  EXPECT_EQ(registry.Host("a")->agent_samples_dropped, 7);
}

TEST(HostRegistryRenderTest, OutputIsUnchanged) {
  // The exact text the registry rendered before series shapes were interned and the render
  // moved out of the lock.
  FakeClock clock;
  HostRegistry registry(clock);
  Hello hb = MakeHello("b");
  hb.labels = {{"env", "prod"}, {"team", "we\"b"}};
  auto b = registry.Open(hb);
  auto a = registry.Open(MakeHello("a"));
  auto c = registry.Open(MakeHello("c"));
  Batch x = Describe(1, clock,
                     {Desc(0, "accord_host_load1"),
                      Desc(1, "accord_host_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}},
                           SeriesKind::kCounter),
                      Desc(2, "shop_orders_total", {{"shop", "eu\\west"}}, SeriesKind::kCounter)},
                     {0.25, 1234.5, 1e21});
  ASSERT_TRUE(registry.Apply(a->session, x).ok());
  ASSERT_TRUE(registry
                  .Apply(b->session,
                         Describe(1, clock,
                                  {Desc(7, "accord_host_cpu_seconds_total",
                                        {{"cpu", "0"}, {"mode", "user"}}, SeriesKind::kCounter),
                                   Desc(8, "accord_host_load1"),
                                   Desc(9, "accord_host_cpu_seconds_total",
                                        {{"cpu", "1"}, {"mode", "user"}}, SeriesKind::kCounter)},
                                  {99, 1.5, 3000000}))
                  .ok());
  Batch z = x;
  z.series_ids = {0, 2};
  z.values = {7, -0.5};
  ASSERT_TRUE(registry.Apply(c->session, z).ok());
  clock.Advance(absl::Milliseconds(1500));
  registry.Close(c->session);
  EXPECT_EQ(
      Render(registry),
      "# HELP accord_host_up 1 when the host's agent is connected and sending, else 0.\n"
      "# TYPE accord_host_up gauge\n"
      "accord_host_up{host=\"a\"} 1\n"
      "accord_host_up{host=\"b\"} 1\n"
      "accord_host_up{host=\"c\"} 0\n"
      "# HELP accord_host_state 1 for the host's current state: up, unreachable, stopped or down.\n"
      "# TYPE accord_host_state gauge\n"
      "accord_host_state{host=\"a\",state=\"up\"} 1\n"
      "accord_host_state{host=\"a\",state=\"unreachable\"} 0\n"
      "accord_host_state{host=\"a\",state=\"stopped\"} 0\n"
      "accord_host_state{host=\"a\",state=\"down\"} 0\n"
      "accord_host_state{host=\"b\",state=\"up\"} 1\n"
      "accord_host_state{host=\"b\",state=\"unreachable\"} 0\n"
      "accord_host_state{host=\"b\",state=\"stopped\"} 0\n"
      "accord_host_state{host=\"b\",state=\"down\"} 0\n"
      "accord_host_state{host=\"c\",state=\"up\"} 0\n"
      "accord_host_state{host=\"c\",state=\"unreachable\"} 1\n"
      "accord_host_state{host=\"c\",state=\"stopped\"} 0\n"
      "accord_host_state{host=\"c\",state=\"down\"} 0\n"
      "# HELP accord_host_info Always 1; the host's name, agent version and labels (as "
      "label_<name>).\n"
      "# TYPE accord_host_info gauge\n"
      "accord_host_info{host=\"a\",agent_version=\"0.1.0\",hostname=\"a.example\"} 1\n"
      "accord_host_info{host=\"b\",agent_version=\"0.1.0\",hostname=\"b.example\",label_env="
      "\"prod\",label_team=\"we\\\"b\"} 1\n"
      "accord_host_info{host=\"c\",agent_version=\"0.1.0\",hostname=\"c.example\"} 1\n"
      "# HELP accord_host_boot_time_seconds Boot time of the host, seconds since epoch.\n"
      "# TYPE accord_host_boot_time_seconds gauge\n"
      "accord_host_boot_time_seconds{host=\"a\"} 1.7e+09\n"
      "accord_host_boot_time_seconds{host=\"b\"} 1.7e+09\n"
      "accord_host_boot_time_seconds{host=\"c\"} 1.7e+09\n"
      "# HELP accord_host_last_seen_timestamp_seconds When the collector last received a message "
      "from the host's agent.\n"
      "# TYPE accord_host_last_seen_timestamp_seconds gauge\n"
      "accord_host_last_seen_timestamp_seconds{host=\"a\"} 1767225600\n"
      "accord_host_last_seen_timestamp_seconds{host=\"b\"} 1767225600\n"
      "accord_host_last_seen_timestamp_seconds{host=\"c\"} 1767225600\n"
      "# HELP accord_host_samples_accepted_total Samples accepted from the host's agent, each "
      "counted once.\n"
      "# TYPE accord_host_samples_accepted_total counter\n"
      "accord_host_samples_accepted_total{host=\"a\"} 3\n"
      "accord_host_samples_accepted_total{host=\"b\"} 3\n"
      "accord_host_samples_accepted_total{host=\"c\"} 2\n"
      "# HELP accord_host_cpu_seconds_total Seconds the CPU spent in each mode, per core.\n"
      "# TYPE accord_host_cpu_seconds_total counter\n"
      "accord_host_cpu_seconds_total{host=\"a\",cpu=\"0\",mode=\"user\"} 1234.5\n"
      "accord_host_cpu_seconds_total{host=\"b\",cpu=\"0\",mode=\"user\"} 99\n"
      "accord_host_cpu_seconds_total{host=\"b\",cpu=\"1\",mode=\"user\"} 3e+06\n"
      "# HELP accord_host_load1 1-minute load average.\n"
      "# TYPE accord_host_load1 gauge\n"
      "accord_host_load1{host=\"a\"} 0.25\n"
      "accord_host_load1{host=\"b\"} 1.5\n"
      "# HELP shop_orders_total Reported by the host's agent.\n"
      "# TYPE shop_orders_total counter\n"
      "shop_orders_total{host=\"a\",shop=\"eu\\\\west\"} 1e+21\n");
}

TEST(HostRegistryRenderTest, ValuesAreWrittenAsAppendPromValueWritesThem) {
  const std::vector<double> values = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.0,
                                      0.1,
                                      1.0 / 3,
                                      123456789.125,
                                      1e6,
                                      1234567.0,
                                      1e15,
                                      1e16,
                                      9007199254740993.0,
                                      1e21,
                                      1e-7,
                                      5e-324,
                                      2.2250738585072014e-308,
                                      -1.7976931348623157e308,
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::quiet_NaN(),
                                      -std::numeric_limits<double>::quiet_NaN()};
  FakeClock clock;
  HostRegistry registry(clock);
  auto a = registry.Open(MakeHello("a"));
  std::vector<SeriesDescriptor> series;
  for (uint32_t i = 0; i < values.size(); ++i) {
    series.push_back(Desc(i, "accord_host_v", {{"i", absl::StrFormat("%02d", i)}}));
  }
  ASSERT_TRUE(registry.Apply(a->session, Describe(1, clock, series, values)).ok());
  std::string expected;
  for (uint32_t i = 0; i < values.size(); ++i) {
    absl::StrAppend(&expected, "accord_host_v{host=\"a\",i=\"", absl::StrFormat("%02d", i), "\"} ");
    AppendPromValue(&expected, values[i]);
    expected.push_back('\n');
  }
  std::string text = Render(registry);
  EXPECT_NE(text.find(expected), std::string::npos) << text;
}

TEST(HostRegistryRenderTest, SeriesWithoutASampleYetAreNotShown) {
  FakeClock clock;
  HostRegistry registry(clock);
  auto a = registry.Open(MakeHello("a"));
  Batch b = Describe(1, clock, {Desc(0, "accord_host_load1"), Desc(1, "accord_host_load5")}, {});
  b.series_ids = {1};
  b.values = {0.5};
  ASSERT_TRUE(registry.Apply(a->session, b).ok());
  std::string text = Render(registry);
  EXPECT_EQ(text.find("accord_host_load1"), std::string::npos) << text;
  EXPECT_NE(text.find("accord_host_load5{host=\"a\"} 0.5\n"), std::string::npos) << text;
}

TEST(HostRegistryRenderTest, SnapshotKeepsWhatItCopiedWhileTheRegistryChanges) {
  FakeClock clock;
  HostRegistry registry(clock);
  auto a = registry.Open(MakeHello("a"));
  ASSERT_TRUE(
      registry.Apply(a->session, Describe(1, clock, {Desc(0, "accord_host_load1")}, {1})).ok());
  HostRegistry::MetricsSnapshot snapshot = registry.SnapshotMetrics();
  EXPECT_EQ(snapshot.host_count(), 1u);
  EXPECT_EQ(snapshot.value_count(), 1u);
  // Everything changes after the copy: new value, new series, new host (hello labels too),
  // the first host goes away.
  Batch next = Describe(2, clock, {Desc(1, "accord_host_load5")}, {});
  next.series_ids = {0, 1};
  next.values = {2, 3};
  ASSERT_TRUE(registry.Apply(a->session, next).ok());
  Hello hb = MakeHello("b");
  hb.labels = {{"env", "new"}};
  ASSERT_TRUE(registry.Open(hb).ok());
  registry.Close(a->session);
  std::string then;
  HostRegistry::RenderMetrics(snapshot, &then);
  EXPECT_NE(then.find("accord_host_up{host=\"a\"} 1\n"), std::string::npos) << then;
  EXPECT_NE(then.find("accord_host_load1{host=\"a\"} 1\n"), std::string::npos) << then;
  EXPECT_EQ(then.find("load5"), std::string::npos) << then;
  EXPECT_EQ(then.find("host=\"b\""), std::string::npos) << then;
  std::string now = Render(registry);
  EXPECT_NE(now.find("accord_host_up{host=\"a\"} 0\n"), std::string::npos) << now;
  EXPECT_NE(now.find("label_env=\"new\""), std::string::npos) << now;
  EXPECT_EQ(now.find("accord_host_load1{"), std::string::npos) << now;  // a is not up
}

TEST(HostRegistryRenderTest, IngestAndLivenessProceedWhileARenderRuns) {
  // Many hosts, so that formatting takes long next to an Apply. The property: Apply and
  // CheckTimeouts complete while a render is under way (they wait at most for the snapshot,
  // not for the formatting). Timing decides only how many renders it takes to see it.
  FakeClock clock;
  HostRegistry registry(clock);
  constexpr int kHosts = 1000;
  std::vector<SeriesDescriptor> series;
  std::vector<double> values;
  for (uint32_t i = 0; i < 100; ++i) {
    series.push_back(Desc(i, "accord_host_x", {{"i", std::to_string(i)}}));
    values.push_back(i * 1.25);
  }
  std::vector<HostRegistry::SessionId> sessions;
  for (int h = 0; h < kHosts; ++h) {
    auto open = registry.Open(MakeHello(absl::StrFormat("host-%04d", h)));
    ASSERT_TRUE(open.ok());
    ASSERT_TRUE(registry.Apply(open->session, Describe(1, clock, series, values)).ok());
    sessions.push_back(open->session);
  }
  const absl::Time before = absl::Now();
  Render(registry);
  const absl::Duration render_time = absl::Now() - before;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> started{0};
  std::atomic<uint64_t> finished{0};
  std::thread scraper([&] {
    while (!stop.load()) {
      started.fetch_add(1);
      std::string text;
      registry.RenderMetrics(&text);
      finished.fetch_add(1);
    }
  });
  Batch steady = MakeBatch(2, clock);
  steady.series_ids.resize(series.size());
  for (uint32_t i = 0; i < series.size(); ++i) steady.series_ids[i] = i;
  steady.values = values;
  // Halfway through a render, the formatting is under way: with the lock held for the whole
  // render, an Apply would wait for its end (it then succeeds about once in 1,000 tries, when
  // the scraper lost the CPU before taking the lock). Tried over several renders: the scraper
  // or this thread may lose the CPU at the wrong moment.
  constexpr int kTries = 20;
  constexpr int kInside = 5;
  int tries = 0;
  int inside = 0;
  uint64_t sequence = 2;
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (tries < kTries && inside < kInside && absl::Now() < deadline) {
    const uint64_t render = started.load();
    auto rendering = [&] { return started.load() == render && finished.load() == render - 1; };
    if (!rendering()) {
      std::this_thread::yield();
      continue;
    }
    const absl::Time seen = absl::Now();
    while (rendering() && absl::Now() - seen < render_time / 2) std::this_thread::yield();
    if (!rendering()) continue;
    ++tries;
    steady.sequence = sequence++;
    ASSERT_TRUE(registry.Apply(sessions[sequence % kHosts], steady).ok());
    EXPECT_EQ(registry.CheckTimeouts(), 0);
    if (rendering()) ++inside;
  }
  stop.store(true);
  scraper.join();
  EXPECT_EQ(inside, kInside) << "Apply and CheckTimeouts completed within a render " << inside
                             << " times in " << tries << " tries";
}

}  // namespace
}  // namespace accord::collector
