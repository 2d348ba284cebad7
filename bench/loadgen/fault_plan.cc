#include "bench/loadgen/fault_plan.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"

namespace accord::bench {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, and the same sequence on every platform (unlike
// std::uniform_int_distribution).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is below 2^-32 for our n).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

absl::Status Invalid(absl::string_view text, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("fault \"", text, "\": ", problem));
}

// Draws `count` of `pool` (partial Fisher-Yates), removes them from it; both stay ascending.
std::vector<int> Draw(std::vector<int>* pool, size_t count, SplitMix64* rng) {
  std::vector<int> v = *pool;
  for (size_t i = 0; i < count; ++i) {
    size_t j = i + static_cast<size_t>(rng->Below(v.size() - i));
    std::swap(v[i], v[j]);
  }
  std::vector<int> chosen(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(count));
  std::sort(chosen.begin(), chosen.end());
  std::vector<int> rest;
  rest.reserve(pool->size() - count);
  std::set_difference(pool->begin(), pool->end(), chosen.begin(), chosen.end(),
                      std::back_inserter(rest));
  *pool = std::move(rest);
  return chosen;
}

std::vector<int> Merge(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kFreeze:
      return "freeze";
    case FaultKind::kReconnect:
      return "reconnect";
  }
  return "?";
}

absl::StatusOr<FaultSpec> ParseFaultSpec(absl::string_view text) {
  FaultSpec spec;
  spec.text = std::string(absl::StripAsciiWhitespace(text));
  absl::string_view t = spec.text;
  size_t at = t.rfind('@');
  if (at == absl::string_view::npos) {
    return Invalid(t, "want KIND[:AMOUNT]@TIME, e.g. kill:0.01@30s or reconnect@60s");
  }
  absl::string_view head = t.substr(0, at);
  absl::string_view when = t.substr(at + 1);
  absl::string_view kind = head, amount;
  bool has_amount = false;
  if (size_t colon = head.find(':'); colon != absl::string_view::npos) {
    kind = head.substr(0, colon);
    amount = head.substr(colon + 1);
    has_amount = true;
  }
  if (kind == "kill") {
    spec.kind = FaultKind::kKill;
  } else if (kind == "freeze") {
    spec.kind = FaultKind::kFreeze;
  } else if (kind == "reconnect") {
    spec.kind = FaultKind::kReconnect;
  } else {
    return Invalid(t, absl::StrCat("unknown kind \"", kind, "\" (want kill, freeze or reconnect)"));
  }
  if (has_amount) {
    double v;
    bool percent = absl::EndsWith(amount, "%");
    if (percent) amount.remove_suffix(1);
    if (!absl::SimpleAtod(amount, &v) || !std::isfinite(v)) {
      return Invalid(t,
                     "amount is not a number (want a fraction like 0.01 or a percentage like 1%)");
    }
    if (percent) v /= 100;
    if (v <= 0 || v > 1) return Invalid(t, "amount must be above 0 and at most 1 (100%)");
    spec.fraction = v;
  } else if (spec.kind != FaultKind::kReconnect) {
    return Invalid(t, "kill and freeze need an amount, e.g. kill:0.01@30s");
  }
  auto d = ParseDurationFlag(when);
  if (!d.ok()) return Invalid(t, d.status().message());
  spec.at = *d;
  return spec;
}

absl::StatusOr<std::vector<PlannedFault>> PlanFaults(const std::vector<FaultSpec>& specs,
                                                     int agents, uint64_t seed) {
  if (agents < 1) return absl::InvalidArgumentError("faults: need at least one agent");
  std::vector<int> order(specs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&specs](int a, int b) { return specs[a].at < specs[b].at; });
  std::vector<int> healthy(static_cast<size_t>(agents));
  std::iota(healthy.begin(), healthy.end(), 0);
  std::vector<int> faulted;
  SplitMix64 rng(seed);
  std::vector<PlannedFault> plan;
  plan.reserve(specs.size());
  for (int index : order) {
    const FaultSpec& s = specs[index];
    PlannedFault p;
    p.kind = s.kind;
    p.at = s.at;
    p.spec_index = index;
    p.text = s.text;
    if (s.kind == FaultKind::kReconnect) {
      size_t n =
          static_cast<size_t>(std::llround(s.fraction * static_cast<double>(faulted.size())));
      if (!faulted.empty()) n = std::clamp<size_t>(n, 1, faulted.size());
      p.hosts = Draw(&faulted, n, &rng);
      healthy = Merge(healthy, p.hosts);
    } else {
      size_t n = std::max<size_t>(1, static_cast<size_t>(std::llround(s.fraction * agents)));
      if (n > healthy.size()) {
        return Invalid(s.text, absl::StrCat("wants ", n, " hosts but only ", healthy.size(),
                                            " are healthy at that time"));
      }
      p.hosts = Draw(&healthy, n, &rng);
      faulted = Merge(faulted, p.hosts);
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

}  // namespace accord::bench
