// DiskSpool: the durable Spool. Sample batches wait in append-only segment files under one
// directory until the collector acknowledges them, across agent restarts, crashes and power
// loss, within a byte and an age budget; while disconnected it also keeps compact evidence
// that the agent was alive (AliveSpans).
//
// Directory layout (`DiskSpoolOptions::dir`, owned exclusively: a `LOCK` file is flock'ed):
//   seg-<first sequence, 20 digits>.log  batches, format in agent/spool/segment_format.h
//   state                                the index: ack mark, drop mark, lifetime counters,
//                                        rejected sequences, alive spans (spool_state.h)
//   state.log                            the state at later sync points, not fsynced
//                                        (spool_state.h)
//   appended                             the append journal: the lifetime append counters
//                                        since the last state write (spool_state.h)
//   seg-*.log.corrupt, state.corrupt     damaged files set aside for a human (the newest
//                                        `keep_corrupt_files` are kept)
//   LOCK                                 held while open; other files are left alone
//
// Life of a batch: Append adds a mark to the append journal, then writes one record (a single
// write(2)) to the newest ("active") segment; a segment rolls when the next record would take
// it past `segment_bytes`. NextAfter reads records back by position. Ack(seq) is cumulative. Whole
// segments whose records are all acknowledged are deleted at the next sync point: the state file
// (with the new ack mark) is made durable FIRST, then the segment is unlinked, so a crash in
// between leaves a segment the state covers, which Open removes. After a restart NextAfter starts
// after the durable mark.
//
// Budgets: before a record is written, while the segment files would exceed `max_bytes`, the
// OLDEST WHOLE SEGMENT is dropped; a segment whose newest batch is older than `max_age` (batch
// timestamp against the clock) is dropped too. The active segment is never dropped (so
// max_bytes >= 2 * segment_bytes is required). The waiting batches of a dropped segment count
// in dropped_batches / dropped_samples; its last sequence becomes the state's drop mark
// (written durably before the unlink, as for acks).
//
// FSYNC POLICY, AND WHAT CAN BE LOST. Durability is paid for only where a power loss would
// lose something the collector does not have. Files: `state` (rewritten whole, durably: write
// state.tmp, fsync, rename, fsync dir) and the state log `state.log` (the state appended at
// sync points with one write(2), no fsync; it continues one `state` file, see spool_state.h).
//   - Records: at every Append and RecordAlive (the transport calls it every heartbeat, 1 s),
//     the active segment is fdatasynced if it holds a record that is still unacknowledged
//     `sync_interval` (default 1 s, monotonic clock) after it was appended. A record acked
//     within that time is never fsynced (sync_interval = 0: every unacknowledged Append is
//     synced before Append returns; InfiniteDuration: never). A collector that holds acks
//     back (SetAckHold: its --ingest.ack-interval, announced in every ack) gets that much
//     longer: on a stream with an ack, a record is synced once unacknowledged
//     sync_interval + hold after its append, so while acks come at least once per hold none
//     is, and a record the acks do not reach (a backlog being resent ahead of it) still is
//     within sync_interval + hold. Also fsynced: a full segment at its roll, and a new
//     segment's header with its directory entry.
//   - State: a "sync point" comes at most once per sync_interval, in Append and RecordAlive.
//     It writes `state` if an alive span changed while no ack has come on the current stream
//     (the only evidence of that time), if segments are to be unlinked (their state goes
//     first), if the state log is missing or over 64 KiB, or if anything changed and
//     `state` is older than `state_sync_interval` (default 1 min); otherwise, if acks,
//     rejects or counters changed, it appends the state to the state log. An alive span
//     extended while the collector acknowledges waits for the next write of either.
//     Segments are unlinked only after a `state` that covers them is durable. Sync() and
//     Close() write `state`; Open writes it if it changed (it folds the state log in) and
//     fsyncs every segment and the directory, so what a killed process left is durable.
// Connected and acked within milliseconds (or at least once per hold), the steady state is
// therefore one write(2) of the state log per sync point and one `state` write per
// state_sync_interval; no fsync per cycle.
// Hence:
//   - kill -9 (or a crash of the agent) at any moment loses nothing Append returned from: each
//     record is in the kernel once write(2) returns. An append interrupted mid-write leaves a
//     torn record at the end of the last segment, which Open truncates. Acks, rejects and
//     alive-span changes made since the last sync point are forgotten (the state log holds
//     everything up to it): those batches may be sent again (at-least-once) and those spans
//     re-sent.
//   - Power loss or a kernel crash additionally loses: unacknowledged batches appended less
//     than sync_interval (plus up to one heartbeat interval; plus the hold of a collector
//     holding acks back, on a stream it acknowledged) before it; acknowledged batches
//     whose records were never synced (the collector has them); and the state changes not in
//     `state`, unless the state log's last record reached the disk -- at most
//     state_sync_interval of acks (resends), counters (recounted at Open, see ACCOUNTING)
//     and alive-span extensions made while the collector acknowledged (it has its own record
//     of those). Every batch with sequence <= DiskSpoolStats::synced_sequence is on stable
//     storage, or acknowledged or dropped in the `state` on disk: it is never lost unless
//     the collector has it, and it is counted.
// Open never fails because of damaged data. A torn tail of the last segment is truncated
// (logged at info, not counted as a corruption: it is what an interrupted append leaves; its
// batch counts as dropped, see ACCOUNTING). Any other damage
// (bad magic/version, bad CRC or length with data after it, a damaged non-last segment, a
// garbage `seg-*.log`) sets the file aside: it is copied to `<name>.corrupt` and the original
// is cut to its valid records (or renamed aside whole if it has none), so the valid records
// before the damage are kept and exist somewhere at every instant; it is counted in
// corrupt_segments and logged once. A damaged state file is renamed to `state.corrupt`,
// logged, counted (corrupt_state_files) and replaced by an empty state (so everything on disk
// is sent again). A record that fails its CRC when read back later is skipped, logged once and
// counted as dropped (read_errors).
// Write and sync failures (disk full, EIO) are logged once per streak and counted
// (write_errors): the batch being appended is dropped and counted, the active segment is
// closed, and the next Append starts a new one.
//
// Alive spans (heartbeat evidence while the collector is unreachable): RecordAlive(t, boot)
// extends the newest span {first, last, boot_time} or opens a new one (another boot, or a gap
// over max_alive_gap); see alive_spans.h. The spans live in the state (24 bytes each),
// written at sync points only when they changed (see the FSYNC POLICY for which file), so at
// most once per sync_interval: a
// week-long partition in one boot is one span, ~100 bytes on disk. The transport sends
// PendingAliveSpans() after it reconnects and, once the collector has stored them, calls
// AckAliveSpans(last of the newest span sent); a span still growing is trimmed, not lost, and
// the newest span is never removed (wholly acknowledged, it stays as the point it was
// acknowledged at), so the next heartbeat extends it and the evidence has no hole after the
// acknowledged point. A crash loses at most the span changes since the last sync point.
//
// ACCOUNTING. Every batch given to Append counts in appended_batches/appended_samples (the
// agent reports them as the samples it produced), and between calls
//     appended = acked + dropped + waiting        (batches, and samples)
// holds. The lifetime counters (appended_*, acked_*, dropped_*, corrupt_segments) are
// persisted in the state (file or log) at sync points; a crash forgets the increments since the
// last one, except appended_*, which the append journal carries: its mark goes to the kernel BEFORE
// the batch's record, so a kill -9 never leaves a record the counters do not cover. Open
// re-establishes the equation: forgotten acks and rejects show up as waiting batches again
// (they are resent), and any SHORTFALL -- appended batches that are neither acknowledged, nor
// dropped, nor on disk: the records cut off with a damaged segment (set aside), a torn record,
// a batch whose append a kill interrupted -- is counted as dropped (missing_batches /
// missing_samples, logged once with the numbers). So a loss is never hidden by a restart. The
// rule for a power loss: neither the journal nor the state log is ever fsynced (`state` is),
// so a batch of the lost unsynced tail is counted either as dropped (its mark reached the disk)
// or not at all, neither appended nor dropped (it never became durable) -- and so is an
// acknowledged batch whose record and ack both missed the disk (the count errs towards loss,
// never hides one); every batch up to synced_sequence is counted. Should a segment be unreadable at
// Open (an I/O error, not damage), the shortfall is not counted until an Open that can read it, and
// appended stays above the sum meanwhile. A state file from before the counters existed (version 1)
// or a damaged state starts them from what is on disk. The fsync and error counters count from
// Open.
//
// Costs: memory ≈ 32 bytes per batch on disk (the record index); Append is two write(2)s (the
// 28-byte journal mark and the record); a sync point (at most once per sync_interval) is one
// write(2) of ~130 bytes to the state log when acks or counters changed; an fdatasync only
// for a batch still unacknowledged after sync_interval (disconnected: one per sync_interval);
// a `state` write (two fsyncs, a rename, truncation of the journal and the state log) once
// per state_sync_interval, or per sync_interval while disconnected and recording alive spans;
// two fdatasyncs and a directory fsync per segment roll. NextAfter is one pread(2); Open
// reads each segment whole, one at a time, to check every CRC. Measured in
// bench/spool_bench.cc.
//
// Thread safety: thread-safe. Append/RecordAlive/Sync/Close (the writer side; they may wait
// for the disk) are serialized on one mutex; NextAfter/Ack/Reject/Stats/DiskStats/
// PendingAliveSpans/AckAliveSpans take only a short index lock (never held across an fsync),
// so the transport is not held up by the sampler's fsyncs.
#ifndef ACCORD_AGENT_SPOOL_DISK_SPOOL_H_
#define ACCORD_AGENT_SPOOL_DISK_SPOOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/spool/alive_spans.h"
#include "agent/spool/spool_env.h"
#include "agent/spool/spool_state.h"
#include "agent/transport/spool.h"
#include "common/clock.h"

namespace accord::agent {

// The smallest byte cap the agent accepts for its spool (--spool.max-bytes): two segments of
// 8 KiB, each holding a batch of up to ~680 samples (12 bytes a sample plus 28 per record).
inline constexpr uint64_t kMinSpoolMaxBytes = uint64_t{16} << 10;

// The segment size for a byte cap: cap/8 (dropping a segment frees an eighth of the spool, and
// a full spool is 8 files), clamped to [64 KiB, 4 MiB] (a segment holds a batch of ~5,000 to
// ~350,000 samples; beyond 4 MiB a drop only loses more at once), and at most cap/2 (the cap
// holds two segments: the active one is never dropped). 256 MiB (the default) -> 4 MiB;
// 8 MiB -> 1 MiB; 1 MiB -> 128 KiB; 128 KiB and less -> cap/2 (16 KiB -> 8 KiB).
// A batch whose record is larger than the segment is dropped and counted, so a cap should be
// at least 8 times the largest batch (about 12 bytes a sample).
// REQUIRES: max_bytes >= kMinSpoolMaxBytes (then the result is a valid segment_bytes).
uint64_t SegmentBytesForCap(uint64_t max_bytes);

struct DiskSpoolOptions {
  // The spool directory, created if missing. Required.
  std::string dir;
  // Cap on the bytes of all segment files. When the next record would pass it, the oldest whole
  // segment is dropped and its batches counted. REQUIRES: >= 2 * segment_bytes (the agent
  // derives segment_bytes from it with SegmentBytesForCap).
  uint64_t max_bytes = uint64_t{256} << 20;
  // Segments whose newest batch timestamp is older than this (against clock->Now()) are
  // dropped and counted. REQUIRES: > 0.
  absl::Duration max_age = absl::Hours(24 * 7);
  // A segment rolls when the next record would take it past this. A smaller segment frees
  // acknowledged space sooner and drops less at once; a larger one means fewer files.
  // REQUIRES: 4 KiB <= segment_bytes <= 1 GiB. A batch whose record is larger is dropped.
  uint64_t segment_bytes = uint64_t{4} << 20;
  // The longest time an appended batch the collector has not acknowledged stays unsynced
  // (plus the collector's ack hold while it acknowledges, when this is above 0), and the
  // least time between two state writes (see the FSYNC POLICY above). 0 syncs every
  // unacknowledged Append; absl::InfiniteDuration() syncs only on roll, Sync() and Close().
  // REQUIRES: >= 0.
  absl::Duration sync_interval = absl::Seconds(1);
  // The longest time changes that only cause resends after a power loss (acks, counters,
  // evidence while connected) stay out of the fsynced `state` file; meanwhile they go to the
  // state log (no fsync) at sync points. REQUIRES: >= 0.
  absl::Duration state_sync_interval = absl::Minutes(1);
  // Alive spans: a heartbeat more than this after the newest span's `last` opens a new span.
  // REQUIRES: > 0.
  absl::Duration max_alive_gap = absl::Seconds(5);
  // At most this many alive spans are kept (24 bytes each on disk); beyond it the oldest is
  // dropped and counted. REQUIRES: >= 1.
  size_t max_alive_spans = 4096;
  // Set-aside `*.corrupt` files kept for inspection; older ones are deleted at Open.
  size_t keep_corrupt_files = 4;
  // Time for max_age (Now) and the sync interval and fsync timing (Monotonic). Not owned;
  // nullptr means RealClock::Get(). Must outlive the spool.
  Clock* clock = nullptr;
  // The filesystem. Not owned; nullptr means SpoolEnv::Default() (POSIX). Must outlive the spool.
  SpoolEnv* env = nullptr;
};

// Everything the spool can tell about itself, for the agent's metrics (the names the agent is
// expected to export are given per field; they are declared here, in one place).
struct DiskSpoolStats {
  // The Spool figures: waiting batches and their record bytes, and the lifetime counters.
  //   accord_agent_spool_batches, accord_agent_spool_bytes,
  //   accord_agent_spool_dropped_samples_total, accord_agent_spool_dropped_batches_total,
  //   accord_agent_spool_acked_samples_total
  SpoolStats spool;
  // Lifetime: every batch given to Append (the agent's produced samples). Equal to acked +
  // dropped + waiting (see ACCOUNTING above).
  uint64_t appended_batches = 0;
  uint64_t appended_samples = 0;     // accord_agent_samples_produced_total
  uint64_t acked_batches = 0;        // lifetime
  uint64_t missing_batches = 0;      // found missing at Open, counted as dropped
  uint64_t missing_samples = 0;      //   (part of spool.dropped_*)
  uint64_t disk_bytes = 0;           // segment files        accord_agent_spool_disk_bytes
  uint64_t segments = 0;             // segment files        accord_agent_spool_segments
  uint64_t oldest_sequence = 0;      // oldest waiting batch (0 if none)
  int64_t oldest_timestamp_ms = 0;   // its timestamp (0 if none)
                                     //   -> accord_agent_spool_oldest_batch_age_seconds
  uint64_t last_sequence = 0;        // the highest sequence appended, ever
  uint64_t acked_sequence = 0;       // the collector's cumulative ack (in memory)
  uint64_t durable_floor = 0;        // in the state on disk: every sequence <= this is gone
  uint64_t synced_sequence = 0;      // every batch <= this is on stable storage, or acked or
                                     // dropped in the state on disk
  uint64_t dropped_segments = 0;     // dropped by the caps since Open
  uint64_t corrupt_segments = 0;     // lifetime  accord_agent_spool_corrupt_segments_total
  uint64_t corrupt_state_files = 0;  // since Open
  uint64_t write_errors = 0;         // since Open  accord_agent_spool_write_errors_total
  uint64_t read_errors = 0;          // since Open  accord_agent_spool_read_errors_total
  uint64_t fsyncs = 0;               // since Open  accord_agent_spool_fsyncs_total
  double fsync_seconds = 0;          // since Open  accord_agent_spool_fsync_seconds_total
  uint64_t alive_spans = 0;          // pending     accord_agent_spool_alive_spans
  uint64_t dropped_alive_spans = 0;  // since Open
};

class DiskSpool final : public Spool {
 public:
  // Opens (creating if needed) the spool in options.dir, checks every segment (setting damaged
  // ones aside, truncating a torn tail), removes segments the state covers, applies the caps.
  // Success: the spool; the caller owns it. Failure: kInvalidArgument (bad options, never
  // retry), kFailedPrecondition (another process has the directory locked), or the env's
  // code for an unusable directory (kPermissionDenied, kUnavailable, kResourceExhausted).
  static absl::StatusOr<std::unique_ptr<DiskSpool>> Open(const DiskSpoolOptions& options);

  // Close()s, ignoring its status.
  ~DiskSpool() override;
  DiskSpool(const DiskSpool&) = delete;
  DiskSpool& operator=(const DiskSpool&) = delete;

  // --- Spool ---
  // Writes the batch to the active segment (one write(2)); may drop old segments to stay
  // within the caps and may reach a sync point (fsync). Never touches the network. Dropped and
  // counted (logged once per streak) instead: a batch whose sequence is not above
  // last_sequence (see LastSequence), a record larger than segment_bytes, a batch appended
  // after Close, and a batch whose write fails.
  void Append(PendingBatch batch) override;
  // The first waiting batch with sequence > max(after, acked mark, drop mark), not rejected.
  // One pread(2). False if there is none.
  bool NextAfter(uint64_t after, PendingBatch* out) override;
  bool PreviewAfter(uint64_t after, PendingBatch* out) override;
  void StreamEnded() override;
  void SetAckHold(absl::Duration hold) override;
  // Cumulative: every batch with sequence <= `sequence` is acknowledged. Memory only; made
  // durable, and whole segments freed, at the next sync point.
  void Ack(uint64_t sequence) override;
  // Drops one waiting batch for good (counted as dropped); remembered in the state file so it
  // is not sent again after a restart. No-op if it is not waiting.
  void Reject(uint64_t sequence) override;
  SpoolStats Stats() override;
  // A heartbeat at wall time `t` in the boot `boot_time` (see AliveSpans: extends the newest
  // span or opens a new one). Memory only; persisted at the next sync point, which this call
  // may reach (it is on the writer side: it may wait for an fsync).
  void RecordAlive(absl::Time t, int64_t boot_time) override;
  // The spans not yet acknowledged, oldest first; the last one may still be growing.
  std::vector<AliveSpan> PendingAliveSpans() override;
  // The collector holds the evidence up to and including `up_to` (see AliveSpans::Ack).
  // Memory only; persisted at the next sync point.
  void AckAliveSpans(absl::Time up_to) override;

  // --- Disk spool ---
  DiskSpoolStats DiskStats();

  // The highest sequence ever appended (persisted; also covers acked and dropped batches).
  // The agent should number new batches above it after a restart, since its own sequence
  // file may lag after a power loss.
  uint64_t LastSequence();

  // A sync point now: fsyncs unsynced records, writes the state if it changed, frees acked
  // segments. Success: everything appended and acked so far is durable. Failure: the env's
  // code (the failure is also counted and logged as in Append).
  absl::Status Sync();

  // A final Sync and closes the files. Idempotent. Afterwards Append drops (and counts) and
  // reads still work. Returns the Sync status.
  absl::Status Close();

 private:
  // Where a record is; flags mark batches that are no longer waiting though their segment is.
  struct RecordRef {
    uint64_t sequence;
    int64_t timestamp_ms;
    uint32_t offset;
    uint32_t length;
    uint32_t values;
    uint32_t flags;
  };
  static constexpr uint32_t kRejected = 1;  // rejected by the collector, or unreadable
  struct Segment {
    uint64_t first_sequence = 0;
    std::string name;
    uint64_t bytes = 0;  // file size (header + records)
    std::vector<RecordRef> records;
    std::unique_ptr<SpoolReadableFile> reader;  // null if the file could not be opened
  };
  // Where the first record with sequence > s is: {segment index, record index}.
  struct Position {
    size_t segment;
    size_t record;
  };

  DiskSpool(const DiskSpoolOptions& options, Clock& clock, SpoolEnv& env);

  std::string PathOf(absl::string_view name) const;

  // Open's work, before the spool is shared.
  absl::Status Load();
  absl::Status LoadState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  // Takes the counters of the append journal's last mark, if the state it continues was
  // loaded.
  void LoadJournal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  // After the segments are loaded: counts a shortfall of appended batches as dropped (see
  // ACCOUNTING) and brings appended_* up to what is on disk.
  void ReconcileCountsLocked(bool all_segments_read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  // False if the file could not be read (it stays for the next Open).
  bool LoadSegment(const std::string& name, uint64_t first_sequence, bool is_last)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  // Copies a damaged file to <name>.corrupt and cuts it to `valid_bytes` (or renames it aside
  // when 0), logs and counts it.
  void SetAside(const std::string& name, absl::string_view content, uint64_t valid_bytes,
                const std::string& problem) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  void PruneCorruptFiles() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // Writer side: write_mu_ held, mu_ taken briefly inside.
  // Rolls or creates the active segment for a record of `record_bytes`; false on failure.
  bool EnsureActive(const PendingBatch& batch, size_t record_bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void CloseActive(bool sync) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SyncActive() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // A sync point if due, or now if `force`.
  absl::Status MaybeSyncLocked(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  // If the state changed or segments await unlinking: writes the state durably, then unlinks.
  absl::Status PersistStateAndUnlink() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WriteStateFile(const std::string& encoded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Appends the state to the state log if it changed (no fsync); on failure closes the log,
  // so the next sync point writes `state`.
  absl::Status LogState() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Starts the append journal and the state log afresh. Only right after a successful state
  // write: the state on disk covers every mark written so far and supersedes every logged
  // state. On failure the file's pointer stays null: appends go on unjournaled, and every sync
  // point with changes writes `state` (as without a log), until the next state write.
  void ResetJournalAndStateLog() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Appends a mark; on failure logs, counts and closes the journal.
  void WriteJournalMark(const AppendMark& mark) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status TimedSync(SpoolWritableFile& file);
  absl::Status TimedSyncDir();
  void CountFsync(absl::Duration took);
  void NoteWriteError(const absl::Status& status, absl::string_view op)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void NoteWriteOk() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // Both locks held: drop segments beyond the caps / freed by acks into unlink_.
  bool EnforceCapsLocked(uint64_t incoming_bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  void DropFrontSegmentLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);
  void CollectFreedSegmentsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, mu_);

  // Index side: mu_ held.
  uint64_t FloorLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // NextAfter without marking the batch in flight.
  bool ReadAfterLocked(uint64_t after, PendingBatch* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sent and not yet acknowledged: sequences in (floor, in_flight_through_] went out on the
  // current stream. Their segment is not dropped (the collector may accept them: they would
  // count twice), so the cap can be exceeded by what is in flight: what went out since the
  // collector's last ack (it may hold acks back up to its ack interval).
  uint64_t in_flight_through_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t first_sent_ ABSL_GUARDED_BY(mu_) = 0;  // the first NextAfter of the current stream
  // Sent on a stream that ended, not acknowledged: accepted or not is unknown until the next
  // stream's first ack. Dropped meanwhile they count as dropped, and move to acked if that
  // ack covers them.
  uint64_t unsettled_through_ ABSL_GUARDED_BY(mu_) = 0;
  bool settle_on_next_ack_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<uint64_t, uint64_t>> unsettled_drops_ ABSL_GUARDED_BY(mu_);  // seq, samples
  Position UpperBoundLocked(uint64_t sequence) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Waiting batches in (floor, in_flight_through_]: O(those batches).
  uint64_t UnackedBatchesLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The Spool-level figures, for Stats() and DiskStats().
  SpoolStats SpoolStatsLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  SpoolState SnapshotStateLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void DropWaitingLocked(const RecordRef& ref) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PruneRejectedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a batch given to Append; returns the journal mark for it.
  AppendMark CountAppendedLocked(const PendingBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountDroppedLocked(const PendingBatch& batch, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DiskSpoolOptions options_;
  Clock& clock_;
  SpoolEnv& env_;

  // Writer side: the lock file, the active segment and the sync schedule.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::unique_ptr<SpoolFileLock> lock_ ABSL_GUARDED_BY(write_mu_);
  std::unique_ptr<SpoolWritableFile> active_ ABSL_GUARDED_BY(write_mu_);
  std::unique_ptr<SpoolWritableFile> journal_ ABSL_GUARDED_BY(write_mu_);    // null: none open
  std::unique_ptr<SpoolWritableFile> state_log_ ABSL_GUARDED_BY(write_mu_);  // null: none open
  uint64_t state_log_bytes_ ABSL_GUARDED_BY(write_mu_) = 0;
  uint32_t state_base_ ABSL_GUARDED_BY(write_mu_) = 0;  // StateFileId of `state` on disk
  std::string active_name_ ABSL_GUARDED_BY(write_mu_);
  uint64_t active_bytes_ ABSL_GUARDED_BY(write_mu_) = 0;
  uint64_t active_last_sequence_ ABSL_GUARDED_BY(write_mu_) = 0;
  bool active_unsynced_ ABSL_GUARDED_BY(write_mu_) = false;  // bytes not fdatasynced
  // Records of the active segment appended since its last fdatasync and maybe not yet
  // acknowledged, oldest first, with when each was appended (monotonic clock).
  struct Unsynced {
    uint64_t sequence;
    absl::Duration appended;
  };
  std::deque<Unsynced> unsynced_ ABSL_GUARDED_BY(write_mu_);
  absl::Duration last_sync_ ABSL_GUARDED_BY(write_mu_);         // the last state sync point
  absl::Duration last_durable_ ABSL_GUARDED_BY(write_mu_);      // the last write of `state`
  std::vector<std::string> unlink_ ABSL_GUARDED_BY(write_mu_);  // out of the index, on disk
  std::string scratch_ ABSL_GUARDED_BY(write_mu_);
  bool closed_ ABSL_GUARDED_BY(write_mu_) = true;     // until Load succeeds
  bool in_error_ ABSL_GUARDED_BY(write_mu_) = false;  // the current error streak was logged

  // Since-Open I/O counters, updated without the index lock.
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<int64_t> fsync_nanos_{0};
  std::atomic<uint64_t> write_errors_{0};

  // Index side.
  mutable absl::Mutex mu_;
  std::deque<Segment> segments_ ABSL_GUARDED_BY(mu_);  // oldest first
  bool has_active_ ABSL_GUARDED_BY(mu_) = false;       // segments_.back() is being appended to
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_through_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> rejected_ ABSL_GUARDED_BY(mu_);  // ascending, > floor
  AliveSpans alive_ ABSL_GUARDED_BY(mu_);
  // State changes not yet on disk, by what they need: the state log at the next sync point
  // (acks, counters, rejects); `state` (fsynced) at the next sync point (evidence while no
  // ack came on the current stream, Open's repairs, Close); either at the next write for
  // another reason (evidence while the collector acknowledges).
  bool state_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool durable_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool lazy_dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_confirmed_ ABSL_GUARDED_BY(mu_) = false;  // an Ack since the last StreamEnded
  // The collector's ack interval (SetAckHold): on a stream with an ack, records wait for one
  // up to sync_interval + hold after their append.
  absl::Duration ack_hold_ ABSL_GUARDED_BY(mu_);
  uint64_t durable_floor_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t synced_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t waiting_batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t waiting_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t waiting_samples_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t disk_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Lifetime counters (persisted in the state file).
  uint64_t dropped_batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_samples_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_samples_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t acked_batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t appended_batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t appended_samples_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t corrupt_segments_ ABSL_GUARDED_BY(mu_) = 0;
  // Open only: whether the loaded state carries appended_* (version 2, not damaged).
  bool appended_known_ ABSL_GUARDED_BY(mu_) = false;
  // Since Open.
  uint64_t dropped_segments_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t corrupt_state_files_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t read_errors_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t missing_batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t missing_samples_ ABSL_GUARDED_BY(mu_) = 0;
  // Log-once flags per kind of dropped append.
  uint32_t warned_drops_ ABSL_GUARDED_BY(mu_) = 0;
  bool warned_read_ ABSL_GUARDED_BY(mu_) = false;
  std::string read_buf_ ABSL_GUARDED_BY(mu_);
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SPOOL_DISK_SPOOL_H_
