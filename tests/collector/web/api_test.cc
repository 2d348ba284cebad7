#include "collector/web/api.h"

#include "collector/web/json.h"
#include "gtest/gtest.h"

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

TEST(ApiTest, JsonStringEscapesControlCharacters) {
  std::string out;
  AppendJsonString(&out, std::string("a\x01\n", 3));
  EXPECT_EQ(out, "\"a\\u0001\\n\"");
}

}  // namespace
}  // namespace accord::collector
