// kill -9 at arbitrary moments, for real: a child process appends and reports each sequence
// Append returned from; the parent kills it (SIGKILL) and reopens the directory. Everything
// reported must be there, nothing damaged, the accounting exact (appended = acked + dropped +
// waiting, with a batch whose append the kill interrupted counted as dropped), and the spool
// must carry on. Repeated on one directory, so later rounds open what earlier kills left.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <vector>

#include "agent/spool/disk_spool.h"
#include "gtest/gtest.h"
#include "tests/agent/spool/spool_test_util.h"

namespace accord::agent {
namespace {

using testing::MakeBatch;
using testing::SameBatch;
using testing::ScratchDir;

DiskSpoolOptions CrashOptions(const std::string& dir) {
  DiskSpoolOptions o;
  o.dir = dir;
  o.segment_bytes = 16 << 10;  // rolls often, so kills land around rolls too
  o.max_bytes = 64 << 20;
  o.sync_interval = absl::Milliseconds(2);
  o.max_age = absl::InfiniteDuration();  // the batches carry fixed timestamps
  return o;
}

// The child: opens the spool, appends forever above LastSequence, reporting each sequence.
[[noreturn]] void RunChild(const DiskSpoolOptions& o, int report_fd) {
  absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
  if (!spool.ok()) _exit(3);
  uint64_t seq = (*spool)->LastSequence();
  for (int i = 0; i < 1000000; ++i) {
    ++seq;
    (*spool)->Append(MakeBatch(seq, 1 + seq % 90));
    if (write(report_fd, &seq, sizeof(seq)) != sizeof(seq)) _exit(4);
  }
  _exit(0);
}

// The samples of batches 1..last as the child makes them.
uint64_t SamplesThrough(uint64_t last) {
  uint64_t n = 0;
  for (uint64_t s = 1; s <= last; ++s) n += 1 + s % 90;
  return n;
}

TEST(DiskSpoolCrashTest, KillNineAtAnyMomentLosesNothingAppended) {
  ScratchDir dir;
  const DiskSpoolOptions o = CrashOptions(dir.path());
  // How many reports to wait for before each kill (0: kill at once, maybe inside Open).
  const int kKillAfter[] = {300, 0, 1234, 57, 800, 1, 2500};
  uint64_t acked = 0;
  uint64_t known = 0;       // the last sequence the previous round found
  std::set<uint64_t> lost;  // batches whose append a kill interrupted
  for (int kill_after : kKillAfter) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunChild(o, fds[1]);
    }
    close(fds[1]);
    uint64_t reported = 0;
    uint64_t seq = 0;
    int got = 0;
    while (got < kill_after && read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) {
      reported = seq;
      ++got;
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    while (read(fds[0], &seq, sizeof(seq)) == sizeof(seq)) reported = seq;  // the rest
    close(fds[0]);

    absl::StatusOr<std::unique_ptr<DiskSpool>> spool = DiskSpool::Open(o);
    ASSERT_TRUE(spool.ok()) << spool.status();
    DiskSpoolStats st = (*spool)->DiskStats();
    EXPECT_EQ(st.corrupt_segments, 0u) << "kill after " << kill_after;
    // Every batch the child appended is counted: the highest sequence it ever numbered is
    // the number of batches (the journal mark precedes the record), whatever was on disk.
    const uint64_t last = (*spool)->LastSequence();
    EXPECT_EQ(st.appended_batches, last) << "kill after " << kill_after;
    EXPECT_EQ(st.appended_samples, SamplesThrough(last));
    // At most the one batch whose append the kill interrupted is missing: it is the newest,
    // and it is counted as dropped.
    ASSERT_LE(st.missing_batches, 1u);
    if (st.missing_batches == 1) {
      lost.insert(last);
      EXPECT_EQ(st.missing_samples, 1 + last % 90);
    }
    EXPECT_EQ(st.spool.dropped_batches, lost.size());
    // appended = acked + dropped + waiting.
    EXPECT_EQ(st.acked_batches + st.spool.dropped_batches + st.spool.batches, st.appended_batches);
    EXPECT_EQ(st.spool.acked_samples + st.spool.dropped_samples + st.spool.samples,
              st.appended_samples);
    // Everything from the ack mark to the last report, in order and intact but for the lost
    // ones; at most one more (appended, killed before it was reported, torn and cut, or lost).
    uint64_t expect = acked;
    uint64_t found = 0;
    PendingBatch b;
    uint64_t after = 0;
    while ((*spool)->NextAfter(after, &b)) {
      ++found;
      ++expect;
      while (lost.count(expect) > 0) ++expect;
      ASSERT_EQ(b.sequence, expect);
      ASSERT_TRUE(SameBatch(b, MakeBatch(expect, 1 + expect % 90)));
      after = b.sequence;
    }
    EXPECT_GE(last, std::max(reported, known)) << "kill after " << kill_after;
    EXPECT_LE(last, std::max(reported, known) + 1);
    EXPECT_EQ(std::max(expect, acked), lost.count(last) > 0 ? last - 1 : last);
    known = last;
    EXPECT_EQ(st.spool.batches, found);
    // The collector acknowledges about half of the backlog before the next round.
    acked = acked + (expect - acked) / 2;
    (*spool)->Ack(acked);
    ASSERT_TRUE((*spool)->Close().ok());
  }
}

}  // namespace
}  // namespace accord::agent
