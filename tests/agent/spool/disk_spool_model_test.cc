// Model-based randomized test of DiskSpool: random operations (append, ack, reject, reads,
// sync points, bursts beyond the cap, clean reopen, kill -9, power loss with torn writes)
// are applied both to a DiskSpool on the fault-injecting env and to a plain in-memory model.
// After every step they must agree on what NextAfter yields, allowing only what the header
// documents:
//   - the byte cap drops the OLDEST waiting batches (whole segments), counted as dropped;
//   - kill -9 loses no appended batch; acked/rejected batches above the durable floor may
//     come back (at-least-once);
//   - power loss additionally loses a suffix of the batches above synced_sequence;
//   - the accounting: every batch given to Append counts in appended_*, and appended =
//     acked + dropped + waiting holds after every step and every reopen; after a kill -9
//     appended is exact (the journal mark precedes the record), after a power loss it lies
//     between what synced_sequence covers and what was appended.
// Crashes happen between operations and also INSIDE them: the env takes its snapshot just
// before a random one of the file operations an Append or Sync makes (between a state write
// and an unlink, mid-roll, mid-record...).
// Seeded and bounded.
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/spool/disk_spool.h"
#include "agent/spool/segment_format.h"
#include "gtest/gtest.h"
#include "tests/agent/spool/fault_injection_env.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/testing/fake_clock.h"

namespace accord::agent {
namespace {

using testing::Drain;
using testing::FaultInjectionEnv;
using testing::MakeBatch;
using testing::SameBatch;

constexpr char kDir[] = "/model";

class ModelRun {
 public:
  explicit ModelRun(uint32_t seed) : rng_(seed), env_(std::make_unique<FaultInjectionEnv>()) {
    options_.dir = kDir;
    options_.segment_bytes = 4096;
    options_.max_bytes = 4 * 4096;
    options_.sync_interval = absl::Seconds(1);
    options_.clock = &clock_;
    Reopen(std::move(env_));
  }

  void Run(int steps) {
    for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); ++step) {
      const int op = Uniform(0, 99);
      SCOPED_TRACE(::testing::Message() << "step " << step << " op " << op);
      bool may_drop = false;
      dropped_now_.clear();
      // A crash inside the next Append/Sync, at one of its first file operations.
      const bool armed = (op < 44 || (op >= 73 && op < 78)) && Uniform(0, 2) == 0;
      const bool armed_power_loss = Uniform(0, 1) == 1;
      CrashBounds bounds = Bounds(armed_power_loss);
      if (armed) env_->ArmCrash(Uniform(1, 12), !armed_power_loss, &rng_);
      if (op < 40) {
        Append(1);
        may_drop = true;
      } else if (op < 44) {
        Append(Uniform(20, 80));  // beyond the cap
        may_drop = true;
      } else if (op < 58) {
        Ack();
      } else if (op < 63) {
        Reject();
      } else if (op < 73) {
        CheckNextAfter();
      } else if (op < 78) {
        ASSERT_TRUE(spool_->Sync().ok());
      } else if (op < 84) {
        clock_.Advance(absl::Milliseconds(Uniform(100, 2500)));
      } else if (op < 89) {
        CleanReopen();
      } else if (op < 94) {
        CrashReopen(Bounds(false), env_->ProcessCrashCopy());
      } else {
        CrashReopen(Bounds(true), env_->PowerLossCopy(&rng_));
      }
      Check(may_drop);
      if (armed) {
        std::unique_ptr<FaultInjectionEnv> snapshot = env_->TakeCrashSnapshot();
        if (snapshot != nullptr) {
          ++mid_op_crashes_;
          CrashReopen(bounds, std::move(snapshot));
        }
      }
    }
  }

  int reopens() const { return reopens_; }
  int crashes() const { return crashes_; }
  int mid_op_crashes() const { return mid_op_crashes_; }
  uint64_t cap_drops() const { return cap_drops_; }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  void Reopen(std::unique_ptr<FaultInjectionEnv> env) {
    spool_.reset();  // the old spool closes against the old env
    env_ = std::move(env);
    options_.env = env_.get();
    absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(options_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    spool_ = std::move(*spool);
    // Open makes its counts durable: no later crash can forget a batch appended before it.
    sizes_.clear();
  }

  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      PendingBatch b =
          MakeBatch(next_++, static_cast<size_t>(Uniform(1, 30)), absl::ToUnixMillis(clock_.Now()));
      ++appended_batches_;
      appended_samples_ += b.values.size();
      sizes_[b.sequence] = b.values.size();
      waiting_[b.sequence] = b;
      spool_->Append(b);
      clock_.Advance(absl::Milliseconds(Uniform(0, 300)));
    }
  }

  void Ack() {
    if (next_ <= 1) return;
    const uint64_t up_to = static_cast<uint64_t>(Uniform(0, static_cast<int>(next_ - 1)));
    spool_->Ack(up_to);
    // (After a crash the spool's ack mark may be lower than the last ack: it then acks the
    // batches that came back, as the model does.)
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first <= up_to;) {
      gone_[it->first] = it->second;
      it = waiting_.erase(it);
    }
  }

  void Reject() {
    if (waiting_.empty()) return;
    auto it = waiting_.begin();
    std::advance(it, Uniform(0, static_cast<int>(waiting_.size()) - 1));
    spool_->Reject(it->first);
    ++dropped_batches_;
    dropped_samples_ += it->second.values.size();
    gone_[it->first] = it->second;
    waiting_.erase(it);
  }

  void CheckNextAfter() {
    const uint64_t after = static_cast<uint64_t>(Uniform(0, static_cast<int>(next_)));
    PendingBatch got;
    const bool found = spool_->PreviewAfter(after, &got);  // a look, not a send
    auto want = waiting_.upper_bound(after);
    ASSERT_EQ(found, want != waiting_.end()) << "after " << after;
    if (found) {
      EXPECT_TRUE(SameBatch(got, want->second)) << got.sequence;
    }
  }

  void CleanReopen() {
    ASSERT_TRUE(spool_->Close().ok());
    ++reopens_;
    Reopen(env_->ProcessCrashCopy());  // after Close, a copy is the same directory
  }

  // What a crash may lose, fixed before the operation it interrupts.
  struct CrashBounds {
    bool power_loss;
    uint64_t synced_sequence;   // power loss keeps every waiting batch up to it
    uint64_t durable_floor;     // nothing at or below it may come back
    uint64_t first_new;         // kill -9 may lose only batches appended from here on
    uint64_t appended_batches;  // the model's counts then
    uint64_t appended_samples;
  };

  CrashBounds Bounds(bool power_loss) {
    const DiskSpoolStats st = spool_->DiskStats();
    return CrashBounds{power_loss, st.synced_sequence, st.durable_floor,
                       next_,      appended_batches_,  appended_samples_};
  }

  void CrashReopen(const CrashBounds& bounds, std::unique_ptr<FaultInjectionEnv> left) {
    ++crashes_;
    // The least the spool may count as appended afterwards (see the checks below).
    uint64_t min_batches = bounds.appended_batches;
    uint64_t min_samples = bounds.appended_samples;
    if (bounds.power_loss) {
      for (auto it = sizes_.upper_bound(bounds.synced_sequence);
           it != sizes_.end() && it->first < bounds.first_new; ++it) {
        --min_batches;
        min_samples -= it->second;
      }
    }
    Reopen(std::move(left));
    std::vector<PendingBatch> got = Drain(*spool_);
    // Every batch the spool shows must be one the model still has, or dropped in the
    // interrupted operation, or may resurrect (acked/rejected above the durable floor).
    std::map<uint64_t, PendingBatch> now;
    for (const PendingBatch& b : got) {
      const PendingBatch* want = nullptr;
      if (auto w = waiting_.find(b.sequence); w != waiting_.end()) {
        want = &w->second;
      } else if (auto d = dropped_now_.find(b.sequence); d != dropped_now_.end()) {
        want = &d->second;
      } else if (auto g = gone_.find(b.sequence);
                 g != gone_.end() && b.sequence > bounds.durable_floor) {
        want = &g->second;
      }
      ASSERT_NE(want, nullptr) << "batch " << b.sequence << " came back though acked or "
                               << "dropped durably (floor " << bounds.durable_floor << ")";
      ASSERT_TRUE(SameBatch(b, *want)) << b.sequence;
      gone_.erase(b.sequence);
      now[b.sequence] = b;
    }
    // Nothing waiting may be lost but a suffix: above synced_sequence (power loss), or
    // appended by the interrupted operation (kill -9).
    bool lost_one = false;
    for (const auto& [seq, batch] : waiting_) {
      if (now.count(seq) == 0) {
        if (bounds.power_loss) {
          ASSERT_GT(seq, bounds.synced_sequence) << "power loss lost synced batch " << seq;
        } else {
          ASSERT_GE(seq, bounds.first_new) << "kill -9 lost appended batch " << seq;
        }
        lost_one = true;
      } else {
        ASSERT_FALSE(lost_one) << "batch " << seq << " survived after a lost one";
      }
    }
    waiting_ = std::move(now);
    // Every batch appended before the crash is counted (kill -9), the one the crash
    // interrupted maybe; a power loss may forget the unsynced tail, never a synced batch.
    const DiskSpoolStats ds = spool_->DiskStats();
    EXPECT_GE(ds.appended_batches, min_batches);
    EXPECT_GE(ds.appended_samples, min_samples);
    EXPECT_LE(ds.appended_batches, appended_batches_);
    EXPECT_LE(ds.appended_samples, appended_samples_);
    // What a power loss made the spool forget it takes as never appended; the model follows.
    appended_batches_ = ds.appended_batches;
    appended_samples_ = ds.appended_samples;
    // Counters may step back to the last sync point, and missing batches are counted as
    // dropped: take the spool's.
    const SpoolStats st = spool_->Stats();
    dropped_batches_ = st.dropped_batches;
    dropped_samples_ = st.dropped_samples;
    Check(false);
  }

  void Check(bool may_drop) {
    std::vector<PendingBatch> got = Drain(*spool_);
    ASSERT_LE(got.size(), waiting_.size());
    const size_t dropped = waiting_.size() - got.size();
    if (dropped > 0) {
      ASSERT_TRUE(may_drop) << dropped << " batches vanished without an append";
      // The oldest ones went, counted.
      auto it = waiting_.begin();
      for (size_t i = 0; i < dropped; ++i) {
        dropped_now_[it->first] = it->second;
        ++dropped_batches_;
        dropped_samples_ += it->second.values.size();
        it = waiting_.erase(it);
      }
      ++cap_drops_;
    }
    auto it = waiting_.begin();
    uint64_t bytes = 0;
    for (const PendingBatch& b : got) {
      ASSERT_TRUE(SameBatch(b, it->second)) << "spool " << b.sequence << " model " << it->first;
      bytes += BatchRecordBytes(b);
      ++it;
    }
    const DiskSpoolStats st = spool_->DiskStats();
    EXPECT_EQ(st.spool.batches, waiting_.size());
    EXPECT_EQ(st.spool.bytes, bytes);
    EXPECT_EQ(st.spool.dropped_batches, dropped_batches_);
    EXPECT_EQ(st.spool.dropped_samples, dropped_samples_);
    EXPECT_LE(st.disk_bytes, options_.max_bytes);
    EXPECT_EQ(st.corrupt_segments, 0u);
    EXPECT_EQ(st.oldest_sequence, waiting_.empty() ? 0 : waiting_.begin()->first);
    // The accounting: appended = acked + dropped + waiting, in batches and samples.
    EXPECT_EQ(st.appended_batches, st.acked_batches + st.spool.dropped_batches + st.spool.batches);
    EXPECT_EQ(st.appended_samples,
              st.spool.acked_samples + st.spool.dropped_samples + st.spool.samples);
    EXPECT_EQ(st.appended_batches, appended_batches_);
    EXPECT_EQ(st.appended_samples, appended_samples_);
  }

  std::mt19937 rng_;
  accord::testing::FakeClock clock_;
  DiskSpoolOptions options_;
  std::unique_ptr<FaultInjectionEnv> env_;
  std::unique_ptr<DiskSpool> spool_;
  // The model.
  std::map<uint64_t, PendingBatch> waiting_;      // what NextAfter must yield
  std::map<uint64_t, PendingBatch> gone_;         // acked or rejected: may come back after a crash
  std::map<uint64_t, PendingBatch> dropped_now_;  // by the caps in the current step
  uint64_t next_ = 1;
  // Every batch given to Append (less what a power loss made the spool forget), and the sizes
  // of those appended since the last Open, by sequence.
  uint64_t appended_batches_ = 0;
  uint64_t appended_samples_ = 0;
  std::map<uint64_t, uint64_t> sizes_;
  uint64_t dropped_batches_ = 0;
  uint64_t dropped_samples_ = 0;
  int reopens_ = 0;
  int crashes_ = 0;
  int mid_op_crashes_ = 0;
  uint64_t cap_drops_ = 0;
};

TEST(DiskSpoolModelTest, RandomOperationsAgreeWithTheModel) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 20260101u}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    ModelRun run(seed);
    run.Run(1500);
    if (HasFatalFailure()) return;
    RecordProperty(
        absl::StrCat("seed_", seed),
        absl::StrCat("reopens=", run.reopens(), " crashes=", run.crashes(),
                     " mid_op_crashes=", run.mid_op_crashes(), " cap_drops=", run.cap_drops()));
    // The run exercised what it is meant to.
    EXPECT_GT(run.reopens(), 30);
    EXPECT_GT(run.crashes(), 100);
    EXPECT_GT(run.mid_op_crashes(), 20);
    EXPECT_GT(run.cap_drops(), 10u);
  }
}

}  // namespace
}  // namespace accord::agent
