// The whole collector on loopback (port 0) against raw gRPC clients that misbehave: bad input
// is rejected with a classified error and a counter, never a crash and never harm to another
// host's data.
#include "collector/collector.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accord/v1/telemetry.grpc.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/loopback_http.h"
#include "tests/testing/wait_for.h"

namespace accord::collector {
namespace {

using accord::v1::AgentMessage;
using accord::v1::CollectorMessage;

class RawStream {
 public:
  explicit RawStream(int port) {
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = accord::v1::Telemetry::NewStub(channel_);
    stream_ = stub_->Connect(&context_);
  }
  bool Write(const AgentMessage& m) { return stream_->Write(m); }
  bool Read(CollectorMessage* m) { return stream_->Read(m); }
  grpc::Status Finish() {
    stream_->WritesDone();
    CollectorMessage m;
    while (stream_->Read(&m)) {
    }
    return stream_->Finish();
  }
  std::string Trailer(const std::string& key) {
    auto& t = context_.GetServerTrailingMetadata();
    auto it = t.find(key);
    return it == t.end() ? "" : std::string(it->second.data(), it->second.size());
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<accord::v1::Telemetry::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<AgentMessage, CollectorMessage>> stream_;
};

AgentMessage Hello(const std::string& id) {
  AgentMessage m;
  m.mutable_hello()->set_host_id(id);
  m.mutable_hello()->set_heartbeat_interval_ms(1000);
  m.mutable_hello()->set_next_sequence(1);
  return m;
}

AgentMessage Batch(uint64_t seq, bool describe, double value) {
  AgentMessage m;
  auto* b = m.mutable_batch();
  b->set_sequence(seq);
  b->set_timestamp_ms(absl::ToUnixMillis(absl::Now()));
  if (describe) {
    auto* d = b->add_new_series();
    d->set_id(0);
    d->set_name("accord_host_load1");
  }
  b->add_series_ids(0);
  b->add_values(value);
  return m;
}

// GET /metrics from the collector's web port (HTTP/1.0: the server closes when done).
std::string ScrapeMetrics(int port) {
  return accord::testing::LoopbackExchange(port, "GET /metrics HTTP/1.0\r\n\r\n");
}

// The value of the line `series value` in /metrics text; -1 when there is none.
double MetricValue(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  size_t start = at + series.size() + 2;
  double v;
  if (!absl::SimpleAtod(text.substr(start, text.find('\n', start) - start), &v)) return -1;
  return v;
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CollectorOptions o;
    o.grpc_listen_address = "127.0.0.1:0";
    o.web_listen_address = "127.0.0.1:0";
    dir_ = ::testing::TempDir() + "/collector-test-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
           std::to_string(getpid());
    // A database left by an earlier run with the same pid would be restored into this one.
    std::filesystem::remove_all(dir_);
    o.storage_path = dir_;
    o.ingest_queue_capacity = 16;
    // These raw streams send no heartbeats and wait for each batch's ack before going on:
    // every ack at once (CollectorAckIntervalTest covers the default of holding them).
    o.ingest_ack_interval = absl::ZeroDuration();
    Configure(o);
    auto c = Collector::Start(o, RealClock::Get());
    ASSERT_TRUE(c.ok()) << c.status();
    collector_ = std::move(*c);
  }
  void TearDown() override {
    collector_.reset();
    std::filesystem::remove_all(dir_);
  }
  uint64_t Rejected(RejectReason r) {
    return collector_->registry().Stats().rejected[static_cast<int>(r)];
  }
  virtual void Configure(CollectorOptions&) {}
  std::string dir_;
  std::unique_ptr<Collector> collector_;
};

TEST_F(CollectorTest, FirstMessageNotHelloIsInvalidArgument) {
  RawStream s(collector_->grpc_port());
  ASSERT_TRUE(s.Write(Batch(1, true, 1)));
  EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Rejected(RejectReason::kNotHello), 1u);
}

TEST_F(CollectorTest, BadBatchEndsOnlyThatStreamAndNamesTheSequence) {
  RawStream good(collector_->grpc_port());
  ASSERT_TRUE(good.Write(Hello("good")));
  CollectorMessage ack;
  ASSERT_TRUE(good.Read(&ack));  // hello answered
  ASSERT_TRUE(good.Write(Batch(1, true, 0.5)));
  ASSERT_TRUE(good.Read(&ack));
  EXPECT_EQ(ack.ack().sequence(), 1u);

  RawStream evil(collector_->grpc_port());
  ASSERT_TRUE(evil.Write(Hello("evil")));
  ASSERT_TRUE(evil.Read(&ack));
  ASSERT_TRUE(evil.Write(Batch(7, /*describe=*/false, 99)));  // unknown series id
  grpc::Status st = evil.Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(evil.Trailer("accord-rejected-sequence"), "7");
  EXPECT_EQ(Rejected(RejectReason::kUnknownSeries), 1u);

  // The good stream carries on.
  ASSERT_TRUE(good.Write(Batch(2, false, 0.75)));
  ASSERT_TRUE(good.Read(&ack));
  EXPECT_EQ(ack.ack().sequence(), 2u);
  EXPECT_EQ(collector_->registry().Host("good")->samples_accepted, 2u);
  EXPECT_EQ(collector_->registry().Host("good")->state, HostState::kUp);
}

class CollectorAckIntervalTest : public CollectorTest {
  void Configure(CollectorOptions& o) override { o.ingest_ack_interval = absl::Seconds(30); }
};

TEST_F(CollectorAckIntervalTest, BatchesWithinTheIntervalShareOneAck) {
  RawStream s(collector_->grpc_port());
  ASSERT_TRUE(s.Write(Hello("coalesced")));
  CollectorMessage ack;
  ASSERT_TRUE(s.Read(&ack));  // the Hello is answered at once
  EXPECT_EQ(ack.ack().ack_interval_ms(), 30000) << "announced in every ack";
  ASSERT_TRUE(s.Write(Batch(1, true, 0.5)));
  ASSERT_TRUE(s.Write(Batch(2, false, 0.6)));
  ASSERT_TRUE(s.Write(Batch(3, false, 0.7)));
  // All three committed before the goodbye (acknowledged at once, each would be sent by now).
  HostRegistry& registry = collector_->registry();
  ASSERT_TRUE(accord::testing::WaitFor(
      [&] { return registry.Host("coalesced")->samples_accepted == 3; }));
  const uint64_t mark = registry.DurabilityMark();
  ASSERT_TRUE(accord::testing::WaitFor([&] { return registry.IsDurable(mark); }));
  AgentMessage bye;
  bye.mutable_goodbye()->set_reason(accord::v1::Goodbye::REASON_AGENT_STOPPING);
  ASSERT_TRUE(s.Write(bye));
  // Held within 30 s of the Hello's answer; the goodbye sends what is held at once. With
  // every batch acknowledged when durable, the first ack would be for batch 1.
  ASSERT_TRUE(s.Read(&ack));
  EXPECT_EQ(ack.ack().sequence(), 3u);
  EXPECT_EQ(collector_->registry().Host("coalesced")->samples_accepted, 3u);
}

TEST(CollectorOptionsTest, AnAckIntervalOverAMinuteIsRefused) {
  CollectorOptions o;
  o.grpc_listen_address = "127.0.0.1:0";
  o.web_listen_address = "127.0.0.1:0";
  o.storage_path = ::testing::TempDir() + "/collector-ack-interval-" + std::to_string(getpid());
  o.ingest_ack_interval = absl::InfiniteDuration();
  auto c = Collector::Start(o, RealClock::Get());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(c.status().message(), "--ingest.ack-interval")) << c.status();
}

// Agents' send times travel with their messages (heartbeat timestamp_ms, batch sent_ms) to
// the registry, which allows for messages arriving later than usual before it calls a silent
// host unreachable (collector/hosts/delivery_lag.h).
absl::Duration AllowanceWithin(Collector& c, absl::Duration want, absl::Duration wait) {
  absl::Time end = absl::Now() + wait;
  absl::Duration got;
  while ((got = c.registry().Stats().delivery_lag_allowance) != want && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  return got;
}

// A host adds at most one message a second to the delivery lag, and one host's worst never
// sets it: lateness counts when many hosts show it. Each of `hosts` streams sends one message
// on time (its baseline), then, in a later second, one `late` by `late` (make(host, sent)).
void SendFromManyHosts(int port, int hosts, absl::Duration late,
                       const std::function<AgentMessage(int, absl::Time)>& make,
                       std::vector<std::unique_ptr<RawStream>>* streams) {
  for (int h = 0; h < hosts; ++h) {
    streams->push_back(std::make_unique<RawStream>(port));
    ASSERT_TRUE(streams->back()->Write(Hello(absl::StrCat("late-", h))));
    ASSERT_TRUE(streams->back()->Write(make(h, absl::Now())));  // on time: the baseline
  }
  absl::SleepFor(absl::Milliseconds(1100));  // the next second
  for (int h = 0; h < hosts; ++h) {
    ASSERT_TRUE((*streams)[h]->Write(make(h, absl::Now() - late)));
  }
}

TEST_F(CollectorTest, LateHeartbeatsRaiseTheDeliveryLagAllowance) {
  std::vector<std::unique_ptr<RawStream>> streams;
  SendFromManyHosts(collector_->grpc_port(), 25, absl::Seconds(5), [](int, absl::Time sent) {
    AgentMessage beat;
    beat.mutable_heartbeat()->set_timestamp_ms(absl::ToUnixMillis(sent));
    return beat;
  }, &streams);
  // 5 s late lies in the histogram bucket up to 6 s.
  EXPECT_EQ(AllowanceWithin(*collector_, absl::Seconds(6), absl::Seconds(10)), absl::Seconds(6));
}

TEST_F(CollectorTest, LateBatchesRaiseTheDeliveryLagAllowance) {
  std::vector<std::unique_ptr<RawStream>> streams;
  std::vector<uint64_t> next(25, 1);
  SendFromManyHosts(collector_->grpc_port(), 25, absl::Milliseconds(2500),
                    [&next](int h, absl::Time sent) {
                      const uint64_t seq = next[h]++;
                      AgentMessage m = Batch(seq, /*describe=*/seq == 1, 1);
                      m.mutable_batch()->set_sent_ms(absl::ToUnixMillis(sent));
                      return m;
                    },
                    &streams);
  EXPECT_EQ(AllowanceWithin(*collector_, absl::Seconds(3), absl::Seconds(10)), absl::Seconds(3));
}

TEST_F(CollectorTest, OneHostFloodingLateMessagesRaisesNoAllowance) {
  // 24 hosts on time, one sending 40 heartbeats a second, every other one 30 s late.
  std::vector<std::unique_ptr<RawStream>> streams;
  for (int h = 0; h < 24; ++h) {
    streams.push_back(std::make_unique<RawStream>(collector_->grpc_port()));
    ASSERT_TRUE(streams.back()->Write(Hello(absl::StrCat("on-time-", h))));
  }
  RawStream flood(collector_->grpc_port());
  ASSERT_TRUE(flood.Write(Hello("flood")));
  const absl::Time end = absl::Now() + absl::Seconds(3);
  for (int i = 0; absl::Now() < end; ++i) {
    AgentMessage beat;
    beat.mutable_heartbeat()->set_timestamp_ms(
        absl::ToUnixMillis(absl::Now() - (i % 2 == 1 ? absl::Seconds(30) : absl::ZeroDuration())));
    ASSERT_TRUE(flood.Write(beat));
    if (i % 40 == 0) {
      for (auto& s : streams) {
        AgentMessage on_time;
        on_time.mutable_heartbeat()->set_timestamp_ms(absl::ToUnixMillis(absl::Now()));
        ASSERT_TRUE(s->Write(on_time));
      }
    }
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_EQ(collector_->registry().Stats().delivery_lag_allowance, absl::ZeroDuration());
}

TEST_F(CollectorTest, MessagesWithoutSendTimesLeaveNoAllowance) {
  RawStream s(collector_->grpc_port());
  ASSERT_TRUE(s.Write(Hello("old-agent")));
  for (uint64_t seq = 1; seq <= 30; ++seq) ASSERT_TRUE(s.Write(Batch(seq, seq == 1, 1)));
  absl::SleepFor(absl::Milliseconds(300));  // several ticker passes
  EXPECT_EQ(collector_->registry().Stats().delivery_lag_allowance, absl::ZeroDuration());
  EXPECT_EQ(collector_->registry().Stats().batches_accepted, 30u);
}

TEST_F(CollectorTest, OversizedMessagesAreRejectedNotFatal) {
  {
    RawStream s(collector_->grpc_port());
    ASSERT_TRUE(s.Write(Hello("big")));
    AgentMessage m = Batch(1, true, 1);
    for (int i = 0; i < 600000; ++i) m.mutable_batch()->add_values(i);  // ~4.8 MB > 4 MiB
    s.Write(m);
    EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(Rejected(RejectReason::kTooLarge), 1u);
    // Named, so the agent drops it rather than sending it again after every reconnect.
    EXPECT_EQ(s.Trailer("accord-rejected-sequence"), "1");
  }
  {
    // Above gRPC's own limit (twice ours): gRPC's message size filter refuses it before we
    // see it. (gRPC's minimal filter stack, GRPC_ARG_MINIMAL_STACK, would drop that filter.)
    RawStream s(collector_->grpc_port());
    ASSERT_TRUE(s.Write(Hello("bigger")));
    AgentMessage m = Batch(1, true, 1);
    for (int i = 0; i < 1200000; ++i) m.mutable_batch()->add_values(i);  // ~9.6 MB
    s.Write(m);
    EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(Rejected(RejectReason::kTooLarge), 1u);  // not counted by us
  }
  // Still serving.
  RawStream ok(collector_->grpc_port());
  ASSERT_TRUE(ok.Write(Hello("after")));
  CollectorMessage ack;
  EXPECT_TRUE(ok.Read(&ack));
}

// A proto3 string field must be valid UTF-8; an agent that puts a Latin-1 mount point in a
// label sends one that is not (protobuf's serializer only logs). Such a message cannot be
// parsed: its stream ends with INVALID_ARGUMENT naming the batch (the agent drops it), the
// rejection is counted and logged with the host id, and other hosts are not affected.
// (Through gRPC's typed callback API the failure looked like the agent closing its side: the
// stream ended OK, nothing was counted, and the agent sent the same batch again forever.)
TEST_F(CollectorTest, UnparsableBatchIsRejectedNamedAndCounted) {
  google::protobuf::LogSilencer quiet;  // protobuf logs the invalid string on both sides
  RawStream good(collector_->grpc_port());
  ASSERT_TRUE(good.Write(Hello("good")));
  CollectorMessage ack;
  ASSERT_TRUE(good.Read(&ack));
  ASSERT_TRUE(good.Write(Batch(1, true, 0.5)));
  ASSERT_TRUE(good.Read(&ack));
  EXPECT_EQ(ack.ack().sequence(), 1u);

  RawStream latin1(collector_->grpc_port());
  ASSERT_TRUE(latin1.Write(Hello("latin1")));
  ASSERT_TRUE(latin1.Read(&ack));  // hello answered
  AgentMessage bad = Batch(7, /*describe=*/true, 1);
  auto* label = bad.mutable_batch()->mutable_new_series(0)->add_labels();
  label->set_name("mountpoint");
  label->set_value("/srv/caf\xe9");
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(latin1.Write(bad));
  grpc::Status st = latin1.Finish();
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), "batch 7 could not be parsed"))
      << st.error_message();
  EXPECT_EQ(latin1.Trailer("accord-rejected-sequence"), "7");
  EXPECT_TRUE(absl::StrContains(log, "reason=unparsable")) << log;
  EXPECT_TRUE(absl::StrContains(log, "host=latin1")) << log;
  EXPECT_EQ(MetricValue(ScrapeMetrics(collector_->web_port()),
                        "accord_collector_rejected_messages_total{reason=\"unparsable\"}"),
            1);
  EXPECT_TRUE(
      accord::testing::WaitFor([&] { return !collector_->registry().Host("latin1")->connected; }));
  EXPECT_EQ(collector_->registry().Host("latin1")->samples_accepted, 0u);

  // The other host carries on, and the collector takes new streams.
  ASSERT_TRUE(good.Write(Batch(2, false, 0.75)));
  ASSERT_TRUE(good.Read(&ack));
  EXPECT_EQ(ack.ack().sequence(), 2u);
  EXPECT_EQ(collector_->registry().Host("good")->samples_accepted, 2u);
  EXPECT_EQ(collector_->registry().Host("good")->state, HostState::kUp);
  RawStream after(collector_->grpc_port());
  ASSERT_TRUE(after.Write(Hello("after")));
  EXPECT_TRUE(after.Read(&ack));
}

// An unparsable hello names no batch (the agent holds off before trying again); the log
// names the host id as far as it can be read.
TEST_F(CollectorTest, UnparsableHelloIsRejectedAndCounted) {
  google::protobuf::LogSilencer quiet;
  RawStream s(collector_->grpc_port());
  AgentMessage hello = Hello("h\xf6st");
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(s.Write(hello));
  grpc::Status st = s.Finish();
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), "hello could not be parsed"))
      << st.error_message();
  EXPECT_EQ(s.Trailer("accord-rejected-sequence"), "");
  // The host id made valid UTF-8 (h\xf6st), as logfmt writes it (backslash doubled).
  EXPECT_TRUE(absl::StrContains(log, "host=\"h\\\\xf6st\"")) << log;
  EXPECT_EQ(MetricValue(ScrapeMetrics(collector_->web_port()),
                        "accord_collector_rejected_messages_total{reason=\"unparsable\"}"),
            1);
  EXPECT_FALSE(collector_->registry().Host("h\xf6st").ok());
}

TEST_F(CollectorTest, BackpressureLosesNothing) {
  // Queue capacity is 16: a burst of 2,000 batches parks the stream, nothing is dropped.
  RawStream s(collector_->grpc_port());
  ASSERT_TRUE(s.Write(Hello("burst")));
  for (uint64_t seq = 1; seq <= 2000; ++seq) ASSERT_TRUE(s.Write(Batch(seq, seq == 1, seq)));
  CollectorMessage ack;
  uint64_t last = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (last < 2000 && absl::Now() < deadline && s.Read(&ack)) last = ack.ack().sequence();
  EXPECT_EQ(last, 2000u);
  EXPECT_EQ(collector_->registry().Host("burst")->samples_accepted, 2000u);
}

TEST_F(CollectorTest, ManyStreamsOpeningAndVanishing) {
  for (int i = 0; i < 50; ++i) {
    RawStream s(collector_->grpc_port());
    s.Write(Hello("churn-" + std::to_string(i % 5)));
    // Destroyed without finishing: the client cancels.
  }
  RawStream ok(collector_->grpc_port());
  ASSERT_TRUE(ok.Write(Hello("still-fine")));
  CollectorMessage ack;
  EXPECT_TRUE(ok.Read(&ack));
}

}  // namespace
}  // namespace accord::collector
