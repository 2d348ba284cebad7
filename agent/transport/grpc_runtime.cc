#include "agent/transport/grpc_runtime.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "grpc/grpc.h"

// gRPC 1.51 core (src/core/lib/iomgr/timer_manager.h), not in its public headers; the agent
// links gRPC statically, so these are the very functions of the gRPC it runs.
void grpc_timer_manager_set_threading(bool enabled);
void grpc_timer_manager_tick();
void grpc_timer_consume_kick();

namespace accord::agent {
namespace {

using grpc_event_engine::experimental::EndpointConfig;
using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::MemoryAllocatorFactory;

absl::Status NotHere(const char* what) {
  return absl::UnimplementedError(
      std::string(what) + " through the EventEngine is not supported by the agent's engine");
}

class QuietEventEngine final : public EventEngine {
 public:
  QuietEventEngine() = default;
  ~QuietEventEngine() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) {
      // gRPC 1.51 never destroys its default engine; a test's engine is destroyed by the
      // test, never from one of its own tasks.
      thread_.join();
    }
  }

  bool IsWorkerThread() override { return std::this_thread::get_id() == worker_id_.load(); }

  absl::StatusOr<std::unique_ptr<Listener>> CreateListener(
      Listener::AcceptCallback, absl::AnyInvocable<void(absl::Status)>, const EndpointConfig&,
      std::unique_ptr<MemoryAllocatorFactory>) override {
    return NotHere("a listener");
  }

  ConnectionHandle Connect(OnConnectCallback on_connect, const ResolvedAddress&,
                           const EndpointConfig&, MemoryAllocator, Duration) override {
    Run([cb = std::move(on_connect)]() mutable { cb(NotHere("a connection")); });
    return ConnectionHandle{{0, 0}};
  }
  bool CancelConnect(ConnectionHandle) override { return false; }

  std::unique_ptr<DNSResolver> GetDNSResolver(const DNSResolver::ResolverOptions&) override {
    return std::make_unique<FailingResolver>(this);
  }

  void Run(Closure* closure) override {
    Run([closure] { closure->Run(); });
  }
  void Run(absl::AnyInvocable<void()> closure) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      StartLocked();
      ready_.push_back(std::move(closure));
    }
    cv_.notify_one();
  }

  TaskHandle RunAfter(Duration when, Closure* closure) override {
    return RunAfter(when, [closure] { closure->Run(); });
  }
  TaskHandle RunAfter(Duration when, absl::AnyInvocable<void()> closure) override {
    auto now = Clock::now();
    when = std::max(when, Duration::zero());
    auto deadline = when < Clock::time_point::max() - now ? now + when : Clock::time_point::max();
    bool earliest;
    TaskHandle handle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      StartLocked();
      intptr_t id = ++last_id_;
      auto it = timers_.emplace(deadline, std::make_pair(id, std::move(closure)));
      by_id_.emplace(id, it);
      earliest = it == timers_.begin();
      handle = TaskHandle{{id, kHandleTag}};
    }
    if (earliest) cv_.notify_one();
    return handle;
  }

  bool Cancel(TaskHandle handle) override {
    if (handle.keys[1] != kHandleTag) return false;
    Timers::node_type node;  // the closure is destroyed after the lock is released
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(handle.keys[0]);
    if (it == by_id_.end()) return false;  // already run, or never set
    node = timers_.extract(it->second);
    by_id_.erase(it);
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  using Timers =
      std::multimap<Clock::time_point, std::pair<intptr_t, absl::AnyInvocable<void()>>>;
  static constexpr intptr_t kHandleTag = 0x51e7;

  class FailingResolver final : public DNSResolver {
   public:
    explicit FailingResolver(QuietEventEngine* engine) : engine_(engine) {}
    LookupTaskHandle LookupHostname(LookupHostnameCallback on_resolve, absl::string_view,
                                    absl::string_view, Duration) override {
      return Fail(std::move(on_resolve));
    }
    LookupTaskHandle LookupSRV(LookupSRVCallback on_resolve, absl::string_view,
                               Duration) override {
      return Fail(std::move(on_resolve));
    }
    LookupTaskHandle LookupTXT(LookupTXTCallback on_resolve, absl::string_view,
                               Duration) override {
      return Fail(std::move(on_resolve));
    }
    bool CancelLookup(LookupTaskHandle) override { return false; }

   private:
    template <typename Callback>
    LookupTaskHandle Fail(Callback on_resolve) {
      engine_->Run([cb = std::move(on_resolve)]() mutable { cb(NotHere("a DNS lookup")); });
      return LookupTaskHandle{{0, 0}};
    }

    QuietEventEngine* engine_;
  };

  void StartLocked() {
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
  }

  void Loop() {
    pthread_setname_np(pthread_self(), "grpc-ee");
    std::unique_lock<std::mutex> lock(mu_);
    worker_id_ = std::this_thread::get_id();
    while (true) {
      // Everything due now: ready tasks first, in order, then expired timers.
      if (!ready_.empty()) {
        absl::AnyInvocable<void()> task = std::move(ready_.front());
        ready_.pop_front();
        lock.unlock();
        task();
        task = nullptr;  // destroy what it captured outside the lock
        lock.lock();
        continue;
      }
      if (!timers_.empty() && timers_.begin()->first <= Clock::now()) {
        auto node = timers_.extract(timers_.begin());
        by_id_.erase(node.mapped().first);
        lock.unlock();
        node.mapped().second();
        node = Timers::node_type();
        lock.lock();
        continue;
      }
      if (stop_) return;
      if (timers_.empty()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, timers_.begin()->first);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void()>> ready_;
  Timers timers_;
  absl::flat_hash_map<intptr_t, Timers::iterator> by_id_;
  intptr_t last_id_ = 0;
  bool stop_ = false;
  std::atomic<std::thread::id> worker_id_{};
  std::thread thread_;  // started by the first task or timer (under mu_)
};

}  // namespace

std::unique_ptr<EventEngine> NewQuietEventEngine() {
  return std::make_unique<QuietEventEngine>();
}

void UseQuietEventEngine() {
  grpc_event_engine::experimental::SetEventEngineFactory(
      [] { return NewQuietEventEngine(); });
}

GrpcTimerDriver::GrpcTimerDriver() {
  grpc_init();
  grpc_timer_manager_set_threading(false);
}

GrpcTimerDriver::~GrpcTimerDriver() {
  grpc_timer_manager_set_threading(true);
  grpc_shutdown();
}

void GrpcTimerDriver::Tick() {
  // A timer set since the last check with an earlier deadline than any before "kicks" the
  // timer threads, which then forget the earliest deadline they saw (a per-thread cache that
  // lets a check return at once). With no timer threads, the tick takes the kick itself, as
  // they would (from gRPC 1.51's timer_manager.cc; no test here could make the cache hold a
  // deadline later than a new timer's).
  grpc_timer_consume_kick();
  grpc_timer_manager_tick();
}

}  // namespace accord::agent
