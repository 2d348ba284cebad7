// Helpers for the availability tests: literal times, transition logs and hand-made timelines.
#ifndef ACCORD_TESTS_COLLECTOR_AVAILABILITY_TEST_UTIL_H_
#define ACCORD_TESTS_COLLECTOR_AVAILABILITY_TEST_UTIL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "collector/availability/timeline.h"
#include "collector/hosts/host_registry.h"
#include "gtest/gtest.h"

namespace accord::collector::availability::testing {

// "2026-03-29T01:00:00Z" (RFC 3339, any offset) → absl::Time. Fails the test on a typo.
inline absl::Time T(const std::string& text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err)) << text << ": " << err;
  return t;
}

inline double Secs(absl::Duration d) { return absl::ToDoubleSeconds(d); }

// A transition log written as (at, to-state, cause[, boot time]); `from` is filled in.
struct Step {
  std::string at;
  HostState to;
  std::string cause;
  int64_t boot = 1000;
};
inline std::vector<Transition> Log(const std::vector<Step>& steps) {
  std::vector<Transition> out;
  HostState from = HostState::kUnknown;
  for (const Step& s : steps) {
    out.push_back(Transition{T(s.at), T(s.at), from, s.to, s.cause, s.boot});
    from = s.to;
  }
  return out;
}

// A timeline over [from, to) that is Up except for the listed non-Up stretches.
struct Stretch {
  std::string start;
  std::string end;
  Condition condition = Condition::kDown;
  std::string cause = "stream_broken";
};
inline Timeline UpExcept(const std::string& id, const std::string& from, const std::string& to,
                         const std::vector<Stretch>& stretches) {
  Timeline t;
  t.id = id;
  t.component_ids = {id};
  t.start = T(from);
  t.end = T(to);
  absl::Time cursor = t.start;
  auto add = [&](absl::Time a, absl::Time b, Condition c, const std::string& cause) {
    if (b <= a) return;
    Segment s;
    s.start = a;
    s.end = b;
    s.condition = c;
    s.cause = cause;
    if (c != Condition::kUp) s.not_up = {0};
    t.segments.push_back(std::move(s));
  };
  for (const Stretch& s : stretches) {
    add(cursor, T(s.start), Condition::kUp, "connected");
    add(T(s.start), T(s.end), s.condition, s.cause);
    cursor = T(s.end);
  }
  add(cursor, t.end, Condition::kUp, "connected");
  return t;
}

}  // namespace accord::collector::availability::testing

#endif  // ACCORD_TESTS_COLLECTOR_AVAILABILITY_TEST_UTIL_H_
