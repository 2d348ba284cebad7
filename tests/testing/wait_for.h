// Polling helpers for tests that watch threads and real connections (no fixed sleeps).
#ifndef ACCORD_TESTS_TESTING_WAIT_FOR_H_
#define ACCORD_TESTS_TESTING_WAIT_FOR_H_

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace accord::testing {

// Polls `cond` every 5 ms until it holds or `deadline` passes; returns its last value.
template <typename F>
bool WaitFor(F cond, absl::Duration deadline = absl::Seconds(10)) {
  absl::Time end = absl::Now() + deadline;
  while (absl::Now() < end) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return cond();
}

// Names of this process's threads (/proc/self/task/*/comm).
inline std::vector<std::string> ThreadNames() {
  std::vector<std::string> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.push_back(name);
  }
  return names;
}

// How many of this process's threads are named `name`.
inline int ThreadsNamed(const std::string& name) {
  auto names = ThreadNames();
  return static_cast<int>(std::count(names.begin(), names.end(), name));
}

}  // namespace accord::testing

#endif  // ACCORD_TESTS_TESTING_WAIT_FOR_H_
