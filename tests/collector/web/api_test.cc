#include "collector/web/api.h"

#include "absl/strings/str_cat.h"
#include "collector/web/json.h"
#include "common/prom_text.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/series_descriptor.h"

namespace accord::collector {
namespace {

TEST(ApiTest, HostsJsonHasTheDocumentedFields) {
  HostView h;
  h.id = "id\"1";
  h.hostname = "web-1";
  h.state = HostState::kUnreachable;
  h.since = absl::FromUnixMillis(1767225600123);
  h.last_seen = absl::FromUnixSeconds(1767225600);
  h.boot_time_seconds = 1767000000;
  h.labels = {{"role", "db"}};
  h.agent_version = "0.1.0";
  std::string json = HostsJson({h});
  EXPECT_EQ(json,
            "{\"hosts\":[{\"id\":\"id\\\"1\",\"hostname\":\"web-1\",\"state\":\"unreachable\","
            "\"since\":\"2026-01-01T00:00:00.123Z\",\"last_seen\":\"2026-01-01T00:00:00.000Z\","
            "\"boot_time\":\"2025-12-29T09:20:00.000Z\",\"labels\":{\"role\":\"db\"},"
            "\"agent_version\":\"0.1.0\",\"connected\":false,\"last_sequence\":0,"
            "\"samples_accepted\":0}]}\n");
}

// GET /metrics (no filter) is streamed: the pieces written join to the registry's exposition
// followed by the rest (render_self), each piece handed on once about 1 MiB is ready.
TEST(ApiTest, TheWholeMetricsAreStreamedInPiecesThatJoinToTheExposition) {
  accord::testing::FakeClock clock;
  HostRegistry registry(clock);
  Batch b;
  b.sequence = 1;
  b.timestamp_ms = absl::ToUnixMillis(clock.Now());
  for (uint32_t i = 0; i < 20; ++i) {
    b.new_series.push_back(accord::testing::Desc(i, "accord_host_filesystem_avail_bytes",
                                                 {{"mountpoint", absl::StrCat("/v", i)}}));
    b.series_ids.push_back(i);
    b.values.push_back(1e9 + i);
  }
  for (int h = 0; h < 2000; ++h) {
    Hello hello;
    hello.host_id = absl::StrCat("host-", h);
    hello.boot_time_seconds = 1700000000;
    auto session = registry.Open(hello);
    ASSERT_TRUE(session.ok());
    ASSERT_TRUE(registry.Apply(session->session, b).ok());
  }
  auto render_self = [](std::string* out, const ExpositionDrain& drain) {
    for (int i = 0; i < 40000; ++i) {
      absl::StrAppend(out, "accord_capacity_example{i=\"", i, "\"} 1\n");
      MaybeDrain(out, drain);
    }
    out->append("accord_collector_last 1\n");
  };
  std::string expected;
  registry.RenderMetrics(&expected);
  render_self(&expected, nullptr);
  ASSERT_GT(expected.size(), 3 * kExpositionDrainBytes);

  auto handlers = MakeApiHandlers(registry, render_self);
  HttpHandler* metrics = nullptr;
  for (auto& [path, handler] : handlers) {
    if (path == "/metrics") metrics = &handler;
  }
  ASSERT_NE(metrics, nullptr);
  HttpRequest req;
  req.method = "GET";
  req.path = "/metrics";
  HttpResponse r = (*metrics)(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  ASSERT_TRUE(r.stream);
  std::string joined;
  std::vector<size_t> pieces;
  r.stream([&](absl::string_view piece) {
    pieces.push_back(piece.size());
    joined.append(piece.data(), piece.size());
    return true;
  });
  EXPECT_EQ(joined, expected);
  ASSERT_GE(pieces.size(), 3u);
  for (size_t size : pieces) EXPECT_LT(size, kExpositionDrainBytes + (128 << 10));

  // The client goes away after the second piece: nothing more is rendered or written (the
  // registry's part alone is over 2 MiB, so render_self is never reached).
  HttpResponse again = (*metrics)(req);
  ASSERT_TRUE(again.stream);
  int writes = 0;
  again.stream([&](absl::string_view) { return ++writes < 2; });
  EXPECT_EQ(writes, 2);
}

TEST(ApiTest, JsonStringEscapesControlCharacters) {
  std::string out;
  AppendJsonString(&out, std::string("a\x01\n", 3));
  EXPECT_EQ(out, "\"a\\u0001\\n\"");
}

}  // namespace
}  // namespace accord::collector
