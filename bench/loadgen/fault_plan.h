// Fault timetable of accord-loadgen: which simulated agents are killed, frozen or brought back,
// and when. Pure: parsing text and planning the selection, no I/O, no clock.
//
// Syntax of one entry (the repeatable --fault flag):
//   kill:AMOUNT@TIME       abort that many agents' streams abruptly, as kill -9 would: the RPC is
//                          cancelled without a goodbye and the agent's own TCP connection closed
//   freeze:AMOUNT@TIME     the agents stop sending anything (no batch, no heartbeat) and keep
//                          their stream and connection open, as SIGSTOP would (gRPC's own
//                          HTTP/2 pings are still answered: only the application falls silent)
//   reconnect[:AMOUNT]@TIME  that many of the agents killed or frozen before come back: a killed
//                          one opens a new stream, a frozen one resumes on its stream; without
//                          AMOUNT, all of them
// AMOUNT is a fraction in (0, 1] ("0.01") or a percentage ("1%"): of all agents for kill and
// freeze (rounded, at least 1), of the agents faulted at that moment for reconnect. TIME is a
// duration ("30s", "1m30s", "500ms") from the load generator's time origin (its start, or the
// moment every agent was first connected: see LoadOptions::faults_from_all_connected).
//
// Selection is deterministic: PlanFaults draws hosts with a fixed generator (SplitMix64) seeded
// by `seed`, entry by entry in time order (ties in command-line order). kill and freeze pick only
// among healthy agents (never faulted, or reconnected), so one host carries one fault at a time.
//
// Thread safety: free functions on values; safe from any thread.
#ifndef ACCORD_BENCH_LOADGEN_FAULT_PLAN_H_
#define ACCORD_BENCH_LOADGEN_FAULT_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace accord::bench {

enum class FaultKind { kKill, kFreeze, kReconnect };

// "kill", "freeze", "reconnect".
const char* FaultKindName(FaultKind kind);

struct FaultSpec {
  FaultKind kind = FaultKind::kKill;
  // In (0, 1]; 1 for a reconnect without AMOUNT.
  double fraction = 1.0;
  // From the time origin; >= 0.
  absl::Duration at = absl::ZeroDuration();
  // The text it was parsed from (for reports and errors).
  std::string text;
};

// Parses one entry. InvalidArgument naming the entry and the problem: unknown kind, a missing,
// zero, negative or > 1 (100 %) amount, a kill or freeze without an amount, a bad or negative
// time.
absl::StatusOr<FaultSpec> ParseFaultSpec(absl::string_view text);

// One entry of the timetable with its hosts chosen.
struct PlannedFault {
  FaultKind kind = FaultKind::kKill;
  absl::Duration at = absl::ZeroDuration();
  int spec_index = 0;      // position of its entry in the list given to PlanFaults
  std::vector<int> hosts;  // agent indices in [0, agents), ascending
  std::string text;        // the entry as given
};

// Orders the entries by time (stably) and chooses each one's hosts. A kill or freeze takes
// round(fraction * agents) hosts (at least 1) among the healthy ones; a reconnect takes
// round(fraction * faulted) (at least 1 when any is faulted) among those faulted then; a
// reconnect when none is faulted plans an empty entry.
// InvalidArgument when a kill or freeze wants more hosts than are healthy at its time, or
// agents < 1. Same specs, agents and seed: the same plan.
absl::StatusOr<std::vector<PlannedFault>> PlanFaults(const std::vector<FaultSpec>& specs,
                                                     int agents, uint64_t seed);

}  // namespace accord::bench

#endif  // ACCORD_BENCH_LOADGEN_FAULT_PLAN_H_
