#include "bench/loadgen/fault_plan.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace accord::bench {
namespace {

std::vector<FaultSpec> Specs(std::initializer_list<const char*> texts) {
  std::vector<FaultSpec> out;
  for (const char* t : texts) {
    auto s = ParseFaultSpec(t);
    EXPECT_TRUE(s.ok()) << t << ": " << s.status();
    if (s.ok()) out.push_back(*s);
  }
  return out;
}

TEST(FaultPlanTest, ParsesKindsFractionsPercentagesAndTimes) {
  auto kill = ParseFaultSpec("kill:0.01@30s");
  ASSERT_TRUE(kill.ok()) << kill.status();
  EXPECT_EQ(kill->kind, FaultKind::kKill);
  EXPECT_DOUBLE_EQ(kill->fraction, 0.01);
  EXPECT_EQ(kill->at, absl::Seconds(30));
  EXPECT_EQ(kill->text, "kill:0.01@30s");

  auto freeze = ParseFaultSpec(" freeze:2.5%@1m30s ");
  ASSERT_TRUE(freeze.ok()) << freeze.status();
  EXPECT_EQ(freeze->kind, FaultKind::kFreeze);
  EXPECT_DOUBLE_EQ(freeze->fraction, 0.025);
  EXPECT_EQ(freeze->at, absl::Seconds(90));

  auto all_back = ParseFaultSpec("reconnect@500ms");
  ASSERT_TRUE(all_back.ok()) << all_back.status();
  EXPECT_EQ(all_back->kind, FaultKind::kReconnect);
  EXPECT_DOUBLE_EQ(all_back->fraction, 1.0);
  EXPECT_EQ(all_back->at, absl::Milliseconds(500));

  auto half_back = ParseFaultSpec("reconnect:0.5@0s");
  ASSERT_TRUE(half_back.ok()) << half_back.status();
  EXPECT_DOUBLE_EQ(half_back->fraction, 0.5);
  EXPECT_EQ(half_back->at, absl::ZeroDuration());

  auto whole = ParseFaultSpec("kill:100%@1s");
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_DOUBLE_EQ(whole->fraction, 1.0);
}

TEST(FaultPlanTest, RejectsBadEntriesNamingTheProblem) {
  struct Case {
    const char* text;
    const char* problem;
  } cases[] = {
      {"kill:0.01", "KIND[:AMOUNT]@TIME"},
      {"crash:0.01@1s", "unknown kind \"crash\""},
      {"kill@30s", "need an amount"},
      {"freeze@30s", "need an amount"},
      {"kill:0@30s", "above 0"},
      {"kill:-0.1@30s", "above 0"},
      {"kill:1.5@30s", "at most 1"},
      {"kill:150%@30s", "at most 1"},
      {"kill:abc@30s", "not a number"},
      {"kill:nan@30s", "not a number"},
      {"kill:0.1@soon", "invalid duration"},
      {"kill:0.1@-5s", "invalid duration"},
      {"kill:0.1@", "invalid duration"},
  };
  for (const Case& c : cases) {
    auto s = ParseFaultSpec(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(absl::StrContains(s.status().message(), c.problem))
        << c.text << ": " << s.status().message();
    EXPECT_TRUE(absl::StrContains(s.status().message(), c.text)) << s.status().message();
  }
}

TEST(FaultPlanTest, CountsAreRoundedFractionsOfTheAgentsAtLeastOne) {
  auto plan = PlanFaults(Specs({"kill:0.01@1s", "freeze:0.025@2s", "kill:0.0001@3s"}), 1000, 7);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].hosts.size(), 10u);
  EXPECT_EQ((*plan)[1].hosts.size(), 25u);
  EXPECT_EQ((*plan)[2].hosts.size(), 1u);  // 0.1 rounds to 0: at least one
  for (const PlannedFault& p : *plan) {
    EXPECT_TRUE(std::is_sorted(p.hosts.begin(), p.hosts.end()));
    for (int h : p.hosts) {
      EXPECT_GE(h, 0);
      EXPECT_LT(h, 1000);
    }
  }
}

TEST(FaultPlanTest, SameSeedSamePlanOtherSeedOtherHosts) {
  auto specs = Specs({"kill:0.05@10s", "freeze:0.05@12s", "reconnect@20s"});
  auto a = PlanFaults(specs, 1000, 42);
  auto b = PlanFaults(specs, 1000, 42);
  auto c = PlanFaults(specs, 1000, 43);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].hosts, (*b)[i].hosts) << i;
  EXPECT_NE((*a)[0].hosts, (*c)[0].hosts);
}

TEST(FaultPlanTest, OneFaultPerHostAndReconnectBringsBackTheFaultedOnes) {
  auto plan = PlanFaults(Specs({"kill:0.1@10s", "freeze:0.1@11s", "reconnect@20s"}), 200, 3);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const auto& kill = (*plan)[0].hosts;
  const auto& freeze = (*plan)[1].hosts;
  const auto& back = (*plan)[2].hosts;
  ASSERT_EQ(kill.size(), 20u);
  ASSERT_EQ(freeze.size(), 20u);
  std::set<int> faulted(kill.begin(), kill.end());
  for (int h : freeze) EXPECT_TRUE(faulted.insert(h).second) << "host " << h << " faulted twice";
  EXPECT_EQ(std::set<int>(back.begin(), back.end()), faulted);
}

TEST(FaultPlanTest, PartialReconnectThenTheRestAndHealthyHostsCanFaultAgain) {
  auto plan = PlanFaults(
      Specs({"kill:0.5@1s", "reconnect:0.5@2s", "reconnect@3s", "reconnect@4s", "kill:1@5s"}), 10,
      9);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 5u);
  EXPECT_EQ((*plan)[0].hosts.size(), 5u);
  EXPECT_EQ((*plan)[1].hosts.size(), 3u);   // round(2.5) = 3
  EXPECT_EQ((*plan)[2].hosts.size(), 2u);   // the rest
  EXPECT_TRUE((*plan)[3].hosts.empty());    // nothing left faulted
  EXPECT_EQ((*plan)[4].hosts.size(), 10u);  // everyone is healthy again
}

TEST(FaultPlanTest, OrdersByTimeStablyAndKeepsTheEntryIndex) {
  auto plan = PlanFaults(Specs({"reconnect@30s", "kill:0.1@10s", "freeze:0.1@10s"}), 100, 1);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].kind, FaultKind::kKill);
  EXPECT_EQ((*plan)[0].spec_index, 1);
  EXPECT_EQ((*plan)[1].kind, FaultKind::kFreeze);
  EXPECT_EQ((*plan)[1].spec_index, 2);
  EXPECT_EQ((*plan)[2].kind, FaultKind::kReconnect);
  EXPECT_EQ((*plan)[2].spec_index, 0);
  EXPECT_EQ((*plan)[2].at, absl::Seconds(30));
  EXPECT_EQ((*plan)[2].hosts.size(), 20u);
}

TEST(FaultPlanTest, MoreThanTheHealthyHostsIsAnError) {
  auto plan = PlanFaults(Specs({"kill:0.6@1s", "freeze:0.6@2s"}), 10, 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "freeze:0.6@2s"))
      << plan.status().message();
  EXPECT_TRUE(absl::StrContains(plan.status().message(), "only 4 are healthy"))
      << plan.status().message();
  EXPECT_FALSE(PlanFaults({}, 0, 1).ok());
  auto empty = PlanFaults({}, 5, 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(FaultPlanTest, SelectionIsSpreadOverTheHosts) {
  // 1 % of 10,000 hosts, 20 rounds: every decile of the index range gets a share.
  std::vector<FaultSpec> specs;
  for (int r = 0; r < 20; ++r) {
    auto k = ParseFaultSpec("kill:0.01@" + std::to_string(2 * r) + "s");
    auto b = ParseFaultSpec("reconnect@" + std::to_string(2 * r + 1) + "s");
    ASSERT_TRUE(k.ok() && b.ok());
    specs.push_back(*k);
    specs.push_back(*b);
  }
  auto plan = PlanFaults(specs, 10000, 5);
  ASSERT_TRUE(plan.ok()) << plan.status();
  int deciles[10] = {};
  for (const PlannedFault& p : *plan) {
    if (p.kind == FaultKind::kKill) {
      for (int h : p.hosts) ++deciles[h / 1000];
    }
  }
  for (int d = 0; d < 10; ++d) EXPECT_GT(deciles[d], 0) << d;  // 2,000 draws: ~200 each
  for (int d = 0; d < 10; ++d) EXPECT_LT(deciles[d], 300) << d;
}

}  // namespace
}  // namespace accord::bench
