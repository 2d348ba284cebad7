#include "common/config.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace accord {
namespace {

struct Opts {
  std::string address = "127.0.0.1:7470";
  absl::Duration interval = absl::Seconds(10);
  uint64_t bytes = 1;
  bool flag = false;
  std::vector<std::string> list = {"lo"};
  std::map<std::string, std::string> labels;
};

ConfigSchema MakeSchema(Opts* o) {
  ConfigSchema s("test");
  s.AddString("collector.address", &o->address, "addr");
  s.AddDuration("sample.interval", &o->interval, "interval", absl::Seconds(1));
  s.AddBytes("buffer.max-bytes", &o->bytes, "bytes");
  s.AddBool("x.enabled", &o->flag, "flag");
  s.AddStringList("devices", &o->list, "list");
  s.AddLabels("label", &o->labels, "labels");
  return s;
}

absl::Status ParseArgs(ConfigSchema& s, std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return s.Parse(static_cast<int>(args.size()), args.data());
}

TEST(ConfigSchemaTest, FlagsInBothForms) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  ASSERT_TRUE(ParseArgs(s, {"--collector.address=h:1", "--sample.interval", "2s", "--label",
                            "role=db", "--label=env=prod", "--buffer.max-bytes=2MiB"})
                  .ok());
  EXPECT_EQ(o.address, "h:1");
  EXPECT_EQ(o.interval, absl::Seconds(2));
  EXPECT_EQ(o.bytes, 2u << 20);
  EXPECT_EQ(o.labels.at("role"), "db");
  EXPECT_EQ(o.labels.at("env"), "prod");
}

TEST(ConfigSchemaTest, ReportsEveryFlagErrorAtOnce) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  absl::Status st =
      ParseArgs(s, {"--sample.interval=500ms", "--nope=1", "--label=bad", "--x.enabled=maybe"});
  ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  std::string m(st.message());
  EXPECT_NE(m.find("flag --sample.interval: duration 500ms is below the minimum 1s"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("flag --nope: unknown flag"), std::string::npos) << m;
  EXPECT_NE(m.find("flag --label: invalid label \"bad\""), std::string::npos) << m;
  EXPECT_NE(m.find("flag --x.enabled: invalid boolean"), std::string::npos) << m;
}

TEST(ConfigSchemaTest, YamlNestedAndFlatKeys) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  std::vector<std::string> errors;
  s.ApplyYaml(
      "collector:\n  address: c:9\nsample.interval: 30s\ndevices: [eth0, eth1]\n"
      "label:\n  role: web\n",
      "a.yaml", &errors);
  EXPECT_TRUE(errors.empty()) << errors[0];
  EXPECT_EQ(o.address, "c:9");
  EXPECT_EQ(o.interval, absl::Seconds(30));
  EXPECT_EQ(o.list, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(o.labels.at("role"), "web");
}

TEST(ConfigSchemaTest, YamlErrorsNameFileLineColumnAndField) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  std::vector<std::string> errors;
  s.ApplyYaml("collector:\n  adress: x\nsample.interval: fast\n", "agent.yaml", &errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "agent.yaml:2:3: field collector.adress: unknown key");
  EXPECT_NE(errors[1].find("agent.yaml:3:18: field sample.interval: invalid duration"),
            std::string::npos)
      << errors[1];
}

TEST(ConfigSchemaTest, YamlSyntaxError) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  std::vector<std::string> errors;
  s.ApplyYaml("a: [1, 2\n", "bad.yaml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("bad.yaml:", 0), 0u) << errors[0];
}

TEST(ConfigSchemaTest, FlagsOverrideFile) {
  std::string path = ::testing::TempDir() + "/cfg.yaml";
  {
    std::ofstream f(path);
    f << "collector.address: file:1\nsample.interval: 20s\n";
  }
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  std::string arg = "--config.file=" + path;
  ASSERT_TRUE(ParseArgs(s, {arg.c_str(), "--collector.address=flag:2"}).ok());
  EXPECT_EQ(o.address, "flag:2");
  EXPECT_EQ(o.interval, absl::Seconds(20));
}

TEST(ConfigSchemaTest, MissingConfigFileIsAnError) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  absl::Status st = ParseArgs(s, {"--config.file=/nonexistent/x.yaml"});
  EXPECT_NE(std::string(st.message()).find("cannot read"), std::string::npos);
}

TEST(ConfigSchemaTest, HelpIsCancelledWithUsage) {
  Opts o;
  ConfigSchema s = MakeSchema(&o);
  absl::Status st = ParseArgs(s, {"--help"});
  EXPECT_TRUE(absl::IsCancelled(st));
  EXPECT_NE(std::string(st.message()).find("--collector.address"), std::string::npos);
}

TEST(ParseFlagsTest, DurationsAndBytes) {
  EXPECT_EQ(*ParseDurationFlag("7d"), absl::Hours(168));
  EXPECT_EQ(*ParseDurationFlag("250ms"), absl::Milliseconds(250));
  EXPECT_FALSE(ParseDurationFlag("-1s").ok());
  EXPECT_FALSE(ParseDurationFlag("soon").ok());
  EXPECT_EQ(*ParseBytesFlag("256MiB"), 256u << 20);
  EXPECT_EQ(*ParseBytesFlag("10KB"), 10000u);
  EXPECT_EQ(*ParseBytesFlag("4096"), 4096u);
  EXPECT_FALSE(ParseBytesFlag("lots").ok());
}

}  // namespace
}  // namespace accord

namespace accord {
namespace {

TEST(ConfigSchemaIgnoreTest, IgnoredTopLevelKeysAreLeftToAnotherLoader) {
  std::string address;
  ConfigSchema s("test");
  s.AddString("collector.address", &address, "addr");
  s.IgnoreYamlKeys({"services"});
  std::vector<std::string> errors;
  s.ApplyYaml("services:\n  - id: x\ncollector.address: a\nteams: []\n", "c.yaml", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "c.yaml:4:1: field teams: unknown key");
  EXPECT_EQ(address, "a");
}

}  // namespace
}  // namespace accord
