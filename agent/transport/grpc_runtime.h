// The agent's gRPC without gRPC's idle wake-ups.
//
// gRPC 1.51 runs timers on threads of its own that wake whatever is due: iomgr's timer
// threads ("grpc_global_tim"), whose timer lists are refilled at most a second ahead, so an
// idle process wakes about once a second; and the default EventEngine's timer thread
// ("timer_manager"), which woke once a second in the agent though no engine timer was ever
// set. Without them an agent sampling every second used about 15 % less CPU (A/B in the
// README, #6). The agent is a process whose only gRPC use is one client stream, which has a
// thread awake every heartbeat anyway; so:
//   - QuietEventEngine replaces the default EventEngine: one thread that runs tasks and
//     sleeps until its next timer, or until given work when it has none;
//   - GrpcTimerDriver stops iomgr's timer threads, and the stream thread runs due timers
//     each time it wakes (at least every 1.5 s, kMaxTimerDelay).
// Neither is for a process that also serves gRPC (a collector, a test with an in-process
// server that runs without a driving client): its timers would wait for the next tick.
#ifndef ACCORD_AGENT_TRANSPORT_GRPC_RUNTIME_H_
#define ACCORD_AGENT_TRANSPORT_GRPC_RUNTIME_H_

#include <memory>

#include "absl/time/time.h"
#include "grpc/event_engine/event_engine.h"

namespace accord::agent {

// gRPC timers run at most this late while a GrpcTimerDriver is in charge (its owner must call
// Tick at least this often). gRPC's own timer lists work to a second as well; the agent's
// timers are keepalive (30 s, timeout 10 s) and connection backoff, where this is noise. More
// than 1.25 heartbeat intervals for intervals up to 1.2 s (the default is 1 s), so that the
// stream thread's wake for a batch every second also serves the timers (StreamClient's
// heartbeat tick).
inline constexpr absl::Duration kMaxTimerDelay = absl::Milliseconds(1500);

// An EventEngine for a gRPC client whose I/O goes through iomgr (gRPC 1.51's default: the
// engine then only runs tasks and timers). One thread, started by the first task or timer,
// named "grpc-ee". Listeners, connections and DNS lookups through the engine itself (only
// gRPC experiments use those in 1.51) fail with UNIMPLEMENTED, reported asynchronously.
// Thread-safe.
std::unique_ptr<grpc_event_engine::experimental::EventEngine> NewQuietEventEngine();

// Makes NewQuietEventEngine gRPC's default engine. Call before any gRPC object exists (the
// default engine is created once, on first use).
void UseQuietEventEngine();

// While it exists, gRPC's iomgr timers run only in Tick. Holds a reference to the gRPC
// library, so they stay stopped until it is destroyed, which restarts gRPC's timer threads.
// At most one at a time.
class GrpcTimerDriver {
 public:
  GrpcTimerDriver();
  ~GrpcTimerDriver();
  GrpcTimerDriver(const GrpcTimerDriver&) = delete;
  GrpcTimerDriver& operator=(const GrpcTimerDriver&) = delete;

  // Runs every gRPC timer that is due, on the calling thread. Must not be called from inside
  // a gRPC callback.
  void Tick();
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_TRANSPORT_GRPC_RUNTIME_H_
