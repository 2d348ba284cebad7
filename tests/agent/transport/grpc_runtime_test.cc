// QuietEventEngine on its own, then as gRPC's default engine (installed by main below, before
// any gRPC object exists, as accord-agent does) under a StreamClient that runs gRPC's
// timers on its stream thread: the agent's gRPC set-up, with no gRPC timer thread left.
#include "agent/transport/grpc_runtime.h"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/transport/stream_client.h"
#include "collector/hosts/host_registry.h"
#include "collector/ingest/grpc/telemetry_service.h"
#include "collector/ingest/ingestor.h"
#include "grpcpp/alarm.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/restartable_port.h"
#include "tests/testing/wait_for.h"

namespace accord::agent {
namespace {

using grpc_event_engine::experimental::EventEngine;
using std::chrono::milliseconds;

using ::accord::testing::ThreadsNamed;
using ::accord::testing::WaitFor;

// A record of what ran, in order, from any thread.
struct Log {
  void Add(const std::string& s) {
    std::lock_guard<std::mutex> lock(mu);
    items.push_back(s);
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> lock(mu);
    return items;
  }
  size_t Size() { return Get().size(); }
  std::mutex mu;
  std::vector<std::string> items;
};

TEST(QuietEventEngineTest, RunsTasksInOrderOnItsOwnThread) {
  auto engine = NewQuietEventEngine();
  Log log;
  std::atomic<bool> on_worker{false};
  EXPECT_FALSE(engine->IsWorkerThread());
  for (int i = 0; i < 5; ++i) engine->Run([&log, i] { log.Add(std::to_string(i)); });
  engine->Run([&] { on_worker = engine->IsWorkerThread(); log.Add("end"); });
  ASSERT_TRUE(WaitFor([&] { return log.Size() == 6; }));
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"0", "1", "2", "3", "4", "end"}));
  EXPECT_TRUE(on_worker.load());
}

TEST(QuietEventEngineTest, TimersFireInDeadlineOrderAndNotBefore) {
  auto engine = NewQuietEventEngine();
  Log log;
  auto start = std::chrono::steady_clock::now();
  auto since_start = [start] {
    return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)
        .count();
  };
  std::atomic<int64_t> at_late{0}, at_soon{0};
  // Set the later one first; 2 s apart, so that a descheduled test thread cannot swap them.
  engine->RunAfter(milliseconds(2100), [&] { at_late = since_start(); log.Add("late"); });
  engine->RunAfter(milliseconds(100), [&] { at_soon = since_start(); log.Add("soon"); });
  engine->RunAfter(milliseconds(0), [&] { log.Add("0"); });
  engine->RunAfter(milliseconds(-5), [&] { log.Add("past"); });  // runs at once
  engine->RunAfter(EventEngine::Duration::max(), [&] { log.Add("never"); });  // no overflow
  ASSERT_TRUE(WaitFor([&] { return log.Size() == 4; }));
  auto got = log.Get();
  EXPECT_EQ(std::vector<std::string>(got.begin() + 2, got.end()),
            (std::vector<std::string>{"soon", "late"}));
  EXPECT_GE(at_soon.load(), 100);
  EXPECT_GE(at_late.load(), 2100);
}

TEST(QuietEventEngineTest, ACancelledTimerNeverRuns) {
  auto engine = NewQuietEventEngine();
  Log log;
  auto cancelled = engine->RunAfter(std::chrono::seconds(10), [&] { log.Add("cancelled"); });
  auto kept = engine->RunAfter(milliseconds(100), [&] { log.Add("kept"); });
  EXPECT_TRUE(engine->Cancel(cancelled));
  EXPECT_FALSE(engine->Cancel(cancelled));  // already gone
  ASSERT_TRUE(WaitFor([&] { return log.Size() == 1; }));
  EXPECT_FALSE(engine->Cancel(kept));  // already run
  EXPECT_EQ(log.Get(), std::vector<std::string>{"kept"});
  EXPECT_FALSE(engine->Cancel(EventEngine::TaskHandle{{12345, 0}}));  // not ours
}

TEST(QuietEventEngineTest, AnEarlierTimerWakesTheSleepingThread) {
  auto engine = NewQuietEventEngine();
  Log log;
  engine->RunAfter(std::chrono::hours(1), [&] { log.Add("late"); });
  absl::SleepFor(absl::Milliseconds(20));  // let the thread sleep towards the hour
  engine->RunAfter(milliseconds(10), [&] { log.Add("soon"); });
  ASSERT_TRUE(WaitFor([&] { return log.Size() == 1; }, absl::Seconds(5)));
  EXPECT_EQ(log.Get(), std::vector<std::string>{"soon"});
}

class NoConfig final : public grpc_event_engine::experimental::EndpointConfig {
 public:
  absl::optional<int> GetInt(absl::string_view) const override { return absl::nullopt; }
  absl::optional<absl::string_view> GetString(absl::string_view) const override {
    return absl::nullopt;
  }
  void* GetVoidPointer(absl::string_view) const override { return nullptr; }
};

TEST(QuietEventEngineTest, IoThroughTheEngineFailsAsynchronously) {
  auto engine = NewQuietEventEngine();
  std::atomic<int> failures{0};
  auto resolver = engine->GetDNSResolver({});
  ASSERT_NE(resolver, nullptr);
  resolver->LookupHostname(
      [&](absl::StatusOr<std::vector<EventEngine::ResolvedAddress>> r) {
        if (r.status().code() == absl::StatusCode::kUnimplemented) ++failures;
      },
      "localhost", "7470", std::chrono::seconds(1));
  auto listener = engine->CreateListener(nullptr, nullptr, NoConfig(),
                                         nullptr);
  EXPECT_EQ(listener.status().code(), absl::StatusCode::kUnimplemented);
  ASSERT_TRUE(WaitFor([&] { return failures.load() == 1; }));
}

TEST(QuietEventEngineTest, StartsNoThreadUntilUsed) {
  int before = ThreadsNamed("grpc-ee");
  auto engine = NewQuietEventEngine();
  EXPECT_EQ(ThreadsNamed("grpc-ee"), before);
  std::atomic<bool> ran{false};
  engine->Run([&] { ran = true; });
  ASSERT_TRUE(WaitFor([&] { return ran.load(); }));
  EXPECT_EQ(ThreadsNamed("grpc-ee"), before + 1);
  engine.reset();
  EXPECT_TRUE(WaitFor([&] { return ThreadsNamed("grpc-ee") == before; }));
}

// With the driver, gRPC's iomgr timers (a grpc::Alarm is one) run only in Tick: a timer set
// from another thread, due, does not fire until a tick, and then at once.
TEST(GrpcTimerDriverTest, TimersRunOnlyInTick) {
  GrpcTimerDriver driver;
  EXPECT_TRUE(WaitFor([] { return ThreadsNamed("grpc_global_tim") == 0; }));
  grpc::CompletionQueue cq;
  auto now = std::chrono::system_clock::now();
  int far_tag = 1, near_tag = 2;
  grpc::Alarm far;
  far.Set(&cq, now + std::chrono::seconds(30), &far_tag);
  driver.Tick();  // this thread has now seen the far deadline
  auto set_at = std::chrono::steady_clock::now();
  grpc::Alarm near;
  std::thread([&] { near.Set(&cq, std::chrono::system_clock::now() + milliseconds(50), &near_tag); })
      .join();
  {
    void* tag;
    bool ok;
    EXPECT_EQ(cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + milliseconds(300)),
              grpc::CompletionQueue::TIMEOUT);  // due after 50 ms, but nobody ticked
  }
  int64_t fired_ms = -1;
  while (fired_ms < 0 && std::chrono::steady_clock::now() - set_at < std::chrono::seconds(5)) {
    driver.Tick();
    void* tag;
    bool ok;
    if (cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + milliseconds(10)) ==
            grpc::CompletionQueue::GOT_EVENT &&
        tag == &near_tag) {
      fired_ms = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                          set_at)
                     .count();
    }
  }
  EXPECT_GE(fired_ms, 300);
  EXPECT_LT(fired_ms, 1000);  // the first tick after the 300 ms wait, with a generous margin
  far.Cancel();  // a cancelled alarm still delivers its tag (ok = false): drained below
  near.Cancel();
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

// The agent's set-up end to end: the quiet engine as gRPC's default, gRPC's timers on the
// stream thread. The stream comes up, and after the collector went away and came back (the
// first attempts are refused; the channel tries again when its reconnect backoff, an
// EventEngine timer in gRPC 1.51, fires) it reconnects and delivers. No gRPC timer thread,
// nor the default engine's, exists meanwhile.
TEST(AgentGrpcRuntimeTest, StreamReconnectsWithoutGrpcTimerThreads) {
  collector::HostRegistry registry{RealClock::Get()};
  collector::IngestQueue queue{1024};
  collector::Ingestor ingestor{queue, registry, RealClock::Get()};
  collector::TelemetryService service{queue, RealClock::Get(), 4 << 20};
  int port = 0;
  grpc::ServerBuilder builder;
  // Bound again below, after the first server is shut down.
  builder.AddListeningPort("127.0.0.1:" + std::to_string(accord::testing::RestartablePort()),
                           grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  ingestor.Start();

  MemorySpool spool{1 << 20};
  SeriesTable series;
  uint64_t next_seq = 1;
  StreamClientOptions o;
  o.collector_address = "127.0.0.1:" + std::to_string(port);
  o.host_id = "quiet-host";
  o.heartbeat_interval = absl::Milliseconds(200);
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(200);
  o.drive_grpc_timers = true;
  auto client = std::make_unique<StreamClient>(o, spool, series, RealClock::Get(),
                                               [&] { return next_seq; });
  client->Start();
  ASSERT_TRUE(WaitFor([&] { return registry.Host("quiet-host").ok(); }));
  EXPECT_TRUE(WaitFor([] { return ThreadsNamed("grpc_global_tim") == 0; }));
  EXPECT_EQ(ThreadsNamed("timer_manager"), 0);

  server->Shutdown(std::chrono::system_clock::now());
  ASSERT_TRUE(WaitFor([&] { return client->stats().stream_errors.load() >= 2; }));
  PendingBatch b;
  b.sequence = next_seq++;
  b.timestamp_ms = absl::ToUnixMillis(absl::Now());
  b.series_ids.push_back(series.Intern({"accord_host_load1", {}, MetricKind::kGauge, 1}));
  b.values.push_back(1);
  spool.Append(std::move(b));
  client->Kick();
  grpc::ServerBuilder builder2;
  int port2 = 0;
  builder2.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                            &port2);
  collector::TelemetryService service2{queue, RealClock::Get(), 4 << 20};
  builder2.RegisterService(&service2);
  server = builder2.BuildAndStart();
  ASSERT_EQ(port2, port);
  ASSERT_TRUE(WaitFor([&] { return spool.Stats().batches == 0; }, absl::Seconds(20)));
  EXPECT_EQ(registry.Host("quiet-host")->samples_accepted, 1u);
  EXPECT_EQ(ThreadsNamed("grpc_global_tim"), 0);
  EXPECT_EQ(ThreadsNamed("timer_manager"), 0);
  client.reset();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  ingestor.Stop();
}

}  // namespace
}  // namespace accord::agent

int main(int argc, char** argv) {
  accord::agent::UseQuietEventEngine();  // before any gRPC object, as accord-agent does
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
