// StreamClient against a real in-process collector ingest path over loopback gRPC (port 0).
#include "agent/transport/stream_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "accord/v1/telemetry.pb.h"
#include "collector/hosts/host_registry.h"
#include "collector/ingest/grpc/telemetry_service.h"
#include "collector/ingest/ingestor.h"
#include "common/utf8.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/restartable_port.h"
#include "tests/testing/wait_for.h"

namespace accord::agent {
namespace {

using ::accord::testing::ThreadsNamed;
using ::accord::testing::WaitFor;

class StreamClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    // RestartServer binds the same port again.
    builder.AddListeningPort("127.0.0.1:" + std::to_string(accord::testing::RestartablePort()),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    // Pings as often as a test's keepalive sends them are welcome.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 100);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    ingestor_.Start();
  }
  void TearDown() override {
    client_.reset();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    ingestor_.Stop();
  }
  void StartClient(int backfill_batches_per_second = 2000, bool live_previews = true,
                   bool drive_grpc_timers = false) {
    StreamClientOptions o;
    o.drive_grpc_timers = drive_grpc_timers;
    o.backfill_batches_per_second = backfill_batches_per_second;
    o.live_previews = live_previews;
    o.collector_address = "127.0.0.1:" + std::to_string(port_);
    o.host_id = host_id_;
    o.hostname = hostname_;
    o.labels = labels_;
    o.boot_time_seconds = 1700000000;
    o.heartbeat_interval = absl::Milliseconds(200);
    o.backoff_initial = absl::Milliseconds(50);
    o.backoff_max = absl::Milliseconds(200);
    client_ = std::make_unique<StreamClient>(o, spool_, series_, RealClock::Get(),
                                             [this] { return next_seq_; });
    client_->Start();
  }
  // A new server on the same port (after server_ was shut down), feeding the same queue.
  void RestartServer() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port_),
                             grpc::InsecureServerCredentials(), &port);
    service2_ = std::make_unique<collector::TelemetryService>(queue_, RealClock::Get(), 4 << 20);
    builder.RegisterService(service2_.get());
    server_ = builder.BuildAndStart();
    ASSERT_EQ(port, port_);
  }
  // The value the collector shows for `series` (as in /metrics), or nullopt.
  std::optional<double> Shown(const std::string& series) {
    std::string text;
    registry_.RenderMetrics(&text);
    size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return std::nullopt;
    return std::stod(text.substr(at + series.size() + 2));
  }
  void AddBatch(std::vector<Sample> samples) {
    PendingBatch b;
    b.sequence = next_seq_++;
    b.timestamp_ms = absl::ToUnixMillis(absl::Now());
    for (const auto& s : samples) {
      b.series_ids.push_back(series_.Intern(s));
      b.values.push_back(s.value);
    }
    spool_.Append(std::move(b));
    client_->Kick();
  }

  collector::HostRegistry registry_{RealClock::Get()};
  collector::IngestQueue queue_{1024};
  collector::Ingestor ingestor_{queue_, registry_, RealClock::Get()};
  // Announces an ack interval the agent passes to its spool (the ingestor acks at once).
  collector::TelemetryService service_{queue_, RealClock::Get(), 4 << 20,
                                       absl::Milliseconds(250)};
  std::unique_ptr<collector::TelemetryService> service2_;  // RestartServer's
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // A MemorySpool that also keeps the ack hold the collector announced.
  class HoldRecordingSpool final : public Spool {
   public:
    void Append(PendingBatch batch) override { inner_.Append(std::move(batch)); }
    bool NextAfter(uint64_t after, PendingBatch* out) override {
      return inner_.NextAfter(after, out);
    }
    void Ack(uint64_t sequence) override { inner_.Ack(sequence); }
    void Reject(uint64_t sequence) override { inner_.Reject(sequence); }
    SpoolStats Stats() override { return inner_.Stats(); }
    void RecordAlive(absl::Time t, int64_t boot_time) override {
      inner_.RecordAlive(t, boot_time);
    }
    std::vector<AliveSpan> PendingAliveSpans() override { return inner_.PendingAliveSpans(); }
    void AckAliveSpans(absl::Time up_to) override { inner_.AckAliveSpans(up_to); }
    void SetAckHold(absl::Duration hold) override { hold_ms_ = absl::ToInt64Milliseconds(hold); }
    absl::Duration hold() const { return absl::Milliseconds(hold_ms_.load()); }

   private:
    MemorySpool inner_{1 << 20};
    std::atomic<int64_t> hold_ms_{-1};
  };
  HoldRecordingSpool spool_;
  std::string host_id_ = "test-host";
  std::string hostname_ = "test";
  std::map<std::string, std::string> labels_;
  SeriesTable series_;
  uint64_t next_seq_ = 1;
  std::unique_ptr<StreamClient> client_;
};

TEST_F(StreamClientTest, HostComesUpAndBatchesAreAckedOnce) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  EXPECT_EQ(registry_.Host("test-host")->state, collector::HostState::kUp);
  for (int i = 0; i < 20; ++i) {
    AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, i * 0.1},
              {"accord_host_cpu_seconds_total",
               {{"cpu", "0"}, {"mode", "idle"}},
               MetricKind::kCounter,
               100.0 + i}});
  }
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }));
  auto host = registry_.Host("test-host");
  EXPECT_EQ(host->last_sequence, 20u);
  EXPECT_EQ(host->samples_accepted, 40u);
  EXPECT_EQ(spool_.Stats().acked_samples, 40u);
  EXPECT_EQ(spool_.hold(), absl::Milliseconds(250)) << "the collector's Ack.ack_interval_ms";
  // Heartbeats keep it up past several intervals.
  ASSERT_TRUE(WaitFor([&] { return registry_.Stats().heartbeats >= 3; }));
  registry_.CheckTimeouts();
  EXPECT_EQ(registry_.Host("test-host")->state, collector::HostState::kUp);
}

TEST_F(StreamClientTest, LiveDataGoesAheadOfAPacedBacklogAndIsCountedOnce) {
  // A backlog of 40 batches waits in the spool; it is paced at 10 batches/s (4 s).
  for (int i = 0; i < 40; ++i) {
    PendingBatch b;
    b.sequence = next_seq_++;
    b.timestamp_ms = absl::ToUnixMillis(absl::Now() - absl::Minutes(10) + absl::Seconds(i));
    b.series_ids.push_back(series_.Intern({"accord_host_load1", {}, MetricKind::kGauge, 0}));
    b.values.push_back(static_cast<double>(i));
    spool_.Append(std::move(b));
  }
  StartClient(/*backfill_batches_per_second=*/10);
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  // A live sample: the collector shows it long before the backlog is through.
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 99}});
  ASSERT_TRUE(WaitFor([&] { return Shown("accord_host_load1{host=\"test-host\"}") == 99.0; }));
  EXPECT_GT(spool_.Stats().batches, 10u) << "the backlog should still be draining";
  EXPECT_GE(client_->stats().previews_sent.load(), 1u);
  EXPECT_LT(registry_.Host("test-host")->last_sequence, 41u);  // the preview is not counted
  // Older backlog batches arriving later do not replace the newer value.
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }));
  EXPECT_EQ(Shown("accord_host_load1{host=\"test-host\"}"), 99.0);
  auto host = registry_.Host("test-host");
  EXPECT_EQ(host->last_sequence, 41u);
  EXPECT_EQ(host->samples_accepted, 41u);  // every sample once, the preview not again
  EXPECT_EQ(registry_.Stats().batches_preview, client_->stats().previews_sent.load());
}

TEST_F(StreamClientTest, WithoutPreviewsTheBacklogGoesFirst) {
  for (int i = 0; i < 20; ++i) {
    PendingBatch b;
    b.sequence = next_seq_++;
    b.timestamp_ms = absl::ToUnixMillis(absl::Now() - absl::Minutes(10) + absl::Seconds(i));
    b.series_ids.push_back(series_.Intern({"accord_host_load1", {}, MetricKind::kGauge, 0}));
    b.values.push_back(static_cast<double>(i));
    spool_.Append(std::move(b));
  }
  StartClient(/*backfill_batches_per_second=*/10, /*live_previews=*/false);
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 99}});
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_NE(Shown("accord_host_load1{host=\"test-host\"}"), 99.0);
  EXPECT_EQ(client_->stats().previews_sent.load(), 0u);
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }));
  EXPECT_EQ(Shown("accord_host_load1{host=\"test-host\"}"), 99.0);
  EXPECT_EQ(registry_.Host("test-host")->samples_accepted, 21u);
}

TEST_F(StreamClientTest, ABatchNamingUnknownSeriesIsDroppedNotACrash) {
  // Spooled by an earlier process whose series never became durable: ids 7 and 8 mean
  // nothing to this process.
  PendingBatch orphan;
  orphan.sequence = next_seq_++;
  orphan.timestamp_ms = absl::ToUnixMillis(absl::Now());
  orphan.series_ids.push_back(7);
  orphan.series_ids.push_back(8);
  orphan.values.push_back(1);
  orphan.values.push_back(2);
  spool_.Append(std::move(orphan));
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 0.5}});
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }));
  EXPECT_EQ(client_->stats().unresolvable_batches.load(), 1u);
  EXPECT_EQ(spool_.Stats().dropped_samples, 2u);
  EXPECT_EQ(registry_.Host("test-host")->samples_accepted, 1u);
}

// Text that is not UTF-8, from the host or from the configuration, is escaped on its way into
// the Hello and the series descriptions: protobuf would make the collector refuse the whole
// message (it used to end the stream as if the agent had closed it, so the batch was sent
// again forever and the host's data stalled).
TEST_F(StreamClientTest, TextThatIsNotUtf8IsSentEscapedAndAccepted) {
  host_id_ = "h\xf6st";
  hostname_ = "h\xf6st.example";
  labels_ = {{"site", "K\xf6ln"}};
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("h\\xf6st").ok(); }));
  auto host = registry_.Host("h\\xf6st");
  EXPECT_EQ(host->hostname, "h\\xf6st.example");
  EXPECT_EQ(host->labels.at("site"), "K\\xf6ln");
  // A series as an agent that journaled it before this fix may still have it.
  AddBatch({{"accord_host_filesystem_size_bytes",
             {{"device", "/dev/sdb1"}, {"fstype", "ext4"}, {"mountpoint", "/srv/caf\xe9"}},
             MetricKind::kGauge,
             42}});
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }));
  EXPECT_EQ(spool_.Stats().acked_samples, 1u);
  EXPECT_EQ(registry_.Host("h\\xf6st")->samples_accepted, 1u);
  EXPECT_EQ(Shown("accord_host_filesystem_size_bytes{host=\"h\\\\xf6st\",device=\"/dev/sdb1\","
                  "fstype=\"ext4\",mountpoint=\"/srv/caf\\\\xe9\"}"),
            42.0);
  EXPECT_EQ(client_->stats().rejected_batches.load(), 0u);
}

TEST_F(StreamClientTest, StopSaysGoodbye) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  client_->Stop(GoodbyeReason::kHostShutdown, absl::Seconds(5));
  ASSERT_TRUE(WaitFor([&] { return !registry_.Host("test-host")->connected; }));
  EXPECT_EQ(registry_.Host("test-host")->state, collector::HostState::kDown);
}

TEST_F(StreamClientTest, RejectedBatchIsDroppedAndCountedNotResentForever) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 1}});
  // A series name the collector refuses: the batch is rejected permanently.
  AddBatch({{"accord_service_x", {}, MetricKind::kGauge, 2}});
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 3}});
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }));
  EXPECT_EQ(spool_.Stats().dropped_samples, 1u);
  EXPECT_EQ(client_->stats().rejected_batches.load(), 1u);
  EXPECT_EQ(registry_.Host("test-host")->samples_accepted, 2u);
  EXPECT_EQ(registry_.Host("test-host")->last_sequence, 3u);
}

TEST_F(StreamClientTest, ReconnectsAfterCollectorRestartAndResends) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  server_->Shutdown(std::chrono::system_clock::now());  // ends the stream
  ASSERT_TRUE(WaitFor([&] { return !client_->stats().connected.load(); }));
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 1}});
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }, absl::Seconds(20)));
  EXPECT_GE(client_->stats().reconnects.load(), 1u);
  EXPECT_EQ(registry_.Host("test-host")->samples_accepted, 1u);
  client_.reset();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

bool HasThread(const std::string& name) { return ThreadsNamed(name) > 0; }

// With drive_grpc_timers, gRPC's timer threads stop while the client runs (the stream thread
// runs gRPC's timers) and come back after Stop; reconnecting works meanwhile. (gRPC 1.51
// paces a channel's reconnects with EventEngine timers: grpc_runtime_test runs this with the
// agent's own engine.)
TEST_F(StreamClientTest, ReconnectsWithGrpcTimersRunOnTheStreamThread) {
  ASSERT_TRUE(WaitFor([] { return HasThread("grpc_global_tim"); }));
  StartClient(2000, true, /*drive_grpc_timers=*/true);
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  EXPECT_TRUE(WaitFor([] { return !HasThread("grpc_global_tim"); }));
  server_->Shutdown(std::chrono::system_clock::now());
  ASSERT_TRUE(WaitFor([&] { return !client_->stats().connected.load(); }));
  // Refused at least once before the collector is back.
  ASSERT_TRUE(WaitFor([&] { return client_->stats().stream_errors.load() >= 2; }));
  AddBatch({{"accord_host_load1", {}, MetricKind::kGauge, 1}});
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }, absl::Seconds(20)));
  EXPECT_EQ(registry_.Host("test-host")->samples_accepted, 1u);
  EXPECT_FALSE(HasThread("grpc_global_tim"));
  client_.reset();
  EXPECT_TRUE(WaitFor([] { return HasThread("grpc_global_tim"); }));
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

// A TCP relay on loopback (port 0) to `target_port` that can be frozen: it then stops moving
// bytes either way but keeps every connection open, as a collector under SIGSTOP does.
class FreezableRelay {
 public:
  explicit FreezableRelay(int target_port) : target_port_(target_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { Accept(); });
  }
  ~FreezableRelay() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();  // after it, no thread is added to threads_
    for (auto& t : threads_) t.join();
    close(listen_fd_);
    for (int fd : fds_) close(fd);
  }
  int port() const { return port_; }
  void Freeze() { frozen_ = true; }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int in = accept(listen_fd_, nullptr, nullptr);
      if (in < 0) continue;
      int out = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(target_port_);
      if (connect(out, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(in);
        close(out);
        continue;
      }
      fds_.push_back(in);
      fds_.push_back(out);
      threads_.emplace_back([this, in, out] { Pump(in, out); });
      threads_.emplace_back([this, in, out] { Pump(out, in); });
    }
  }
  void Pump(int from, int to) {
    char buf[16384];
    while (!stop_) {
      if (frozen_) {
        absl::SleepFor(absl::Milliseconds(20));
        continue;
      }
      pollfd p{from, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      ssize_t n = read(from, buf, sizeof(buf));
      if (n <= 0) {
        shutdown(to, SHUT_WR);
        return;
      }
      if (write(to, buf, static_cast<size_t>(n)) != n) return;
    }
  }

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> frozen_{false};
  std::vector<int> fds_;  // only the accept thread adds, before the destructor reads
  std::thread accept_thread_;
  std::vector<std::thread> threads_;  // added by the accept thread
};

// A frozen collector is noticed by HTTP/2 keepalive, whose timers (the ping, then the wait
// for its ack) run on the stream thread with drive_grpc_timers: the stream ends once a ping
// goes unanswered, and the agent tries again.
TEST_F(StreamClientTest, FrozenCollectorIsNoticedByKeepaliveWithGrpcTimersOnTheStreamThread) {
  FreezableRelay relay(port_);
  StreamClientOptions o;
  o.collector_address = "127.0.0.1:" + std::to_string(relay.port());
  o.host_id = "test-host";
  o.heartbeat_interval = absl::Milliseconds(200);
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(200);
  o.drive_grpc_timers = true;
  o.keepalive_time = absl::Milliseconds(500);
  o.keepalive_timeout = absl::Milliseconds(500);
  client_ = std::make_unique<StreamClient>(o, spool_, series_, RealClock::Get(),
                                           [this] { return next_seq_; });
  client_->Start();
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connected.load(); }));
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("test-host").ok(); }));
  EXPECT_EQ(client_->stats().stream_errors.load(), 0u);
  relay.Freeze();
  // Keepalive: a ping within 0.5 s, its ack overdue 0.5 s later, timers up to 1.5 s late.
  EXPECT_TRUE(WaitFor([&] { return client_->stats().stream_errors.load() >= 1; },
                      absl::Seconds(20)));
  client_.reset();
}

}  // namespace
}  // namespace accord::agent

namespace accord::agent {
namespace {

// A collector that refuses every stream with a permanent error.
class RefusingService final : public accord::v1::Telemetry::CallbackService {
 public:
  grpc::ServerBidiReactor<accord::v1::AgentMessage, accord::v1::CollectorMessage>* Connect(
      grpc::CallbackServerContext*) override {
    ++calls;
    class Reactor final
        : public grpc::ServerBidiReactor<accord::v1::AgentMessage, accord::v1::CollectorMessage> {
     public:
      Reactor() { Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not you")); }
      void OnDone() override { delete this; }
    };
    return new Reactor();
  }
  std::atomic<int> calls{0};
};

TEST(StreamClientPermanentErrorTest, PermanentErrorIsNotRetriedInALoop) {
  RefusingService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  MemorySpool spool(1 << 20);
  SeriesTable series;
  StreamClientOptions o;
  o.collector_address = "127.0.0.1:" + std::to_string(port);
  o.host_id = "refused";
  o.backoff_initial = absl::Milliseconds(10);
  o.backoff_max = absl::Milliseconds(20);
  o.permanent_error_holdoff = absl::Minutes(10);
  StreamClient client(o, spool, series, RealClock::Get(), [] { return uint64_t{1}; });
  client.Start();
  ASSERT_TRUE(WaitFor([&] { return client.stats().stream_errors.load() >= 1; }));
  // With a 10-20 ms backoff a retry loop would have made dozens of attempts by now.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(service.calls.load(), 1);
  client.Stop(GoodbyeReason::kAgentStopping, absl::Seconds(1));
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace accord::agent

namespace accord::agent {
namespace {

TEST_F(StreamClientTest, FailsOverToTheNextCollectorInOrder) {
  // The first address has nothing listening; the second is the test's collector.
  int dead_port = 0;
  {
    // A port that was free a moment ago: connections to it are refused.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    dead_port = ntohs(addr.sin_port);
    close(fd);
  }
  StreamClientOptions o;
  o.collector_address =
      "127.0.0.1:" + std::to_string(dead_port) + ",127.0.0.1:" + std::to_string(port_);
  o.host_id = "failover-host";
  o.heartbeat_interval = absl::Milliseconds(200);
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(200);
  client_ = std::make_unique<StreamClient>(o, spool_, series_, RealClock::Get(),
                                           [this] { return next_seq_; });
  client_->Start();
  ASSERT_TRUE(WaitFor([&] { return registry_.Host("failover-host").ok(); }));
  EXPECT_GE(client_->stats().failovers.load(), 1u);
  EXPECT_EQ(client_->stats().current_address.load(), 1);
}

}  // namespace
}  // namespace accord::agent

namespace accord::agent {
namespace {

TEST_F(StreamClientTest, BacklogDrainsAtTheBoundedRate) {
  // 60 batches waiting, 20 per second allowed, heartbeats (and refills) every 200 ms:
  // at least ~2 s to drain, however fast the collector is.
  for (int i = 0; i < 60; ++i) {
    PendingBatch b;
    b.sequence = next_seq_++;
    b.timestamp_ms = absl::ToUnixMillis(absl::Now());
    b.series_ids.push_back(series_.Intern({"accord_host_load1", {}, MetricKind::kGauge, 1}));
    b.values.push_back(i);
    spool_.Append(std::move(b));
  }
  StreamClientOptions o;
  o.collector_address = "127.0.0.1:" + std::to_string(port_);
  o.host_id = "paced-host";
  o.heartbeat_interval = absl::Milliseconds(200);
  o.backfill_batches_per_second = 20;
  absl::Time start = absl::Now();
  client_ = std::make_unique<StreamClient>(o, spool_, series_, RealClock::Get(),
                                           [this] { return next_seq_; });
  client_->Start();
  ASSERT_TRUE(WaitFor([&] { return spool_.Stats().batches == 0; }, absl::Seconds(30)));
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(1800)) << took;  // a lower bound: deterministic
  EXPECT_EQ(registry_.Host("paced-host")->samples_accepted, 60u);
}

}  // namespace
}  // namespace accord::agent

namespace accord::agent {
namespace {

// The agent's check is protobuf's: what IsValidUtf8 accepts parses, what it refuses makes the
// collector refuse the message, and whatever ToValidUtf8 returns parses.
TEST(Utf8WireTest, ProtobufParsesExactlyWhatIsValidUtf8) {
  google::protobuf::LogSilencer quiet;  // protobuf logs each invalid string it meets
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(1, 6);
  int invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text(length(rng), '\0');
    for (char& c : text) c = static_cast<char>(byte(rng) | (i % 2 == 0 ? 0x80 : 0));
    accord::v1::Label label;
    label.set_value(text);
    accord::v1::Label parsed;
    ASSERT_EQ(parsed.ParseFromString(label.SerializeAsString()), IsValidUtf8(text)) << i;
    if (!IsValidUtf8(text)) ++invalid;
    label.set_value(ToValidUtf8(text));
    ASSERT_TRUE(parsed.ParseFromString(label.SerializeAsString())) << i;
  }
  EXPECT_GT(invalid, 5000);  // the check was exercised
}

}  // namespace
}  // namespace accord::agent
