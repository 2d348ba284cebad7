#include "agent/spool/disk_spool.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/spool/segment_format.h"
#include "common/logging.h"

namespace accord::agent {
namespace {

constexpr absl::string_view kStateName = "state";
constexpr absl::string_view kStateTmpName = "state.tmp";
constexpr absl::string_view kJournalName = "appended";
constexpr absl::string_view kStateLogName = "state.log";
// The state log is started afresh (by a write of `state`) once it holds this much.
constexpr uint64_t kMaxStateLogBytes = uint64_t{64} << 10;
constexpr absl::string_view kLockName = "LOCK";
constexpr absl::string_view kSegmentPrefix = "seg-";
constexpr absl::string_view kSegmentSuffix = ".log";
constexpr absl::string_view kCorruptSuffix = ".corrupt";
// Rejected sequences remembered across restarts (beyond it they may be sent again).
constexpr size_t kMaxRejectedRemembered = 4096;
// A collector's ack hold is at most a minute (--ingest.ack-interval); more is not believed.
constexpr absl::Duration kMaxAckHold = absl::Minutes(1);

// Bits of DiskSpool::warned_drops_: each kind of dropped append is logged once.
enum DropKind : uint32_t {
  kDropSequence = 1,
  kDropTooLarge = 2,
  kDropClosed = 4,
  kDropWrite = 8,
};

std::string SegmentName(uint64_t first_sequence) {
  return absl::StrFormat("seg-%020d.log", first_sequence);
}

// "seg-<digits>.log" -> true and *first. Other names -> false.
bool ParseSegmentName(absl::string_view name, uint64_t* first) {
  if (!absl::StartsWith(name, kSegmentPrefix) || !absl::EndsWith(name, kSegmentSuffix)) {
    return false;
  }
  absl::string_view digits = name.substr(
      kSegmentPrefix.size(), name.size() - kSegmentPrefix.size() - kSegmentSuffix.size());
  if (digits.empty()) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(digits, first);
}

absl::Status ValidateOptions(const DiskSpoolOptions& o) {
  std::vector<std::string> errors;
  if (o.dir.empty()) errors.push_back("dir is empty");
  if (o.segment_bytes < 4096 || o.segment_bytes > (uint64_t{1} << 30)) {
    errors.push_back(absl::StrCat("segment_bytes ", o.segment_bytes, " is not in [4 KiB, 1 GiB]"));
  }
  if (o.max_bytes < 2 * o.segment_bytes) {
    errors.push_back(absl::StrCat("max_bytes ", o.max_bytes, " is less than 2 * segment_bytes (",
                                  2 * o.segment_bytes, ")"));
  }
  if (o.max_age <= absl::ZeroDuration()) errors.push_back("max_age must be > 0");
  if (o.sync_interval < absl::ZeroDuration()) errors.push_back("sync_interval must be >= 0");
  if (o.state_sync_interval < absl::ZeroDuration()) {
    errors.push_back("state_sync_interval must be >= 0");
  }
  if (o.max_alive_gap <= absl::ZeroDuration()) errors.push_back("max_alive_gap must be > 0");
  if (o.max_alive_spans < 1) errors.push_back("max_alive_spans must be >= 1");
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("disk spool: ", absl::StrJoin(errors, "; ")));
}

}  // namespace

uint64_t SegmentBytesForCap(uint64_t max_bytes) {
  constexpr uint64_t kMinSegment = uint64_t{64} << 10;
  constexpr uint64_t kMaxSegment = uint64_t{4} << 20;
  const uint64_t segment = std::clamp(max_bytes / 8, kMinSegment, kMaxSegment);
  return std::min(segment, max_bytes / 2);
}

absl::StatusOr<std::unique_ptr<DiskSpool>> DiskSpool::Open(const DiskSpoolOptions& options) {
  absl::Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid;
  Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Get();
  SpoolEnv& env = options.env != nullptr ? *options.env : SpoolEnv::Default();
  std::unique_ptr<DiskSpool> spool(new DiskSpool(options, clock, env));
  absl::Status loaded = spool->Load();
  if (!loaded.ok()) return loaded;
  return spool;
}

DiskSpool::DiskSpool(const DiskSpoolOptions& options, Clock& clock, SpoolEnv& env)
    : options_(options),
      clock_(clock),
      env_(env),
      alive_(options.max_alive_gap, options.max_alive_spans) {}

DiskSpool::~DiskSpool() { Close().IgnoreError(); }

std::string DiskSpool::PathOf(absl::string_view name) const {
  return absl::StrCat(options_.dir, "/", name);
}

// ---------------------------------------------------------------------------------------------
// Open

absl::Status DiskSpool::Load() {
  absl::MutexLock w(&write_mu_);
  absl::Status st = env_.CreateDir(options_.dir);
  if (!st.ok()) return st;
  absl::StatusOr<std::unique_ptr<SpoolFileLock>> lock = env_.LockFile(PathOf(kLockName));
  if (!lock.ok()) return lock.status();
  lock_ = std::move(*lock);
  absl::StatusOr<std::vector<std::string>> names = env_.ListDir(options_.dir);
  if (!names.ok()) return names.status();

  std::vector<std::string> to_sync;
  {
    absl::MutexLock l(&mu_);
    st = LoadState();
    if (!st.ok()) return st;
    LoadJournal();
    std::vector<std::pair<uint64_t, std::string>> segments;
    for (const std::string& name : *names) {
      uint64_t first = 0;
      if (name == kStateTmpName) {
        env_.RemoveFile(PathOf(name)).IgnoreError();  // an interrupted state write
      } else if (ParseSegmentName(name, &first)) {
        segments.emplace_back(first, name);
      } else if (absl::StartsWith(name, kSegmentPrefix) && absl::EndsWith(name, kSegmentSuffix)) {
        SetAside(name, "", 0, "malformed segment file name");
      }
    }
    std::sort(segments.begin(), segments.end());
    bool all_read = true;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (!LoadSegment(segments[i].second, segments[i].first, i + 1 == segments.size())) {
        all_read = false;
      }
    }
    for (const Segment& s : segments_) {
      to_sync.push_back(s.name);
      last_sequence_ = std::max(last_sequence_, s.records.back().sequence);
    }
    last_sequence_ = std::max(last_sequence_, FloorLocked());
    ReconcileCountsLocked(all_read);
    CollectFreedSegmentsLocked();
    EnforceCapsLocked(0);
  }
  // What a killed process left may still be only in the page cache: make it durable, so that
  // synced_sequence holds from the start.
  bool all_synced = true;
  for (const std::string& name : to_sync) {
    absl::Duration t0 = clock_.Monotonic();
    absl::Status synced = env_.SyncFile(PathOf(name));
    CountFsync(clock_.Monotonic() - t0);
    if (!synced.ok()) {
      all_synced = false;
      NoteWriteError(synced, "fsync at open");
    }
  }
  // Likewise the directory: a killed process may have renamed `state` without the directory
  // fsync that makes it durable, and this process may not write `state` for a while (see the
  // FSYNC POLICY). Without it, durable_floor would not be.
  if (absl::Status dir = TimedSyncDir(); !dir.ok()) {
    all_synced = false;
    NoteWriteError(dir, "fsync dir at open");
    absl::MutexLock l(&mu_);
    durable_dirty_ = true;
  }
  {
    absl::MutexLock l(&mu_);
    if (all_synced) synced_sequence_ = last_sequence_;
  }
  PruneCorruptFiles();
  // Counted and logged; the spool still works. The journal starts afresh once a state covers
  // it (here, or at the next successful state write).
  if (PersistStateAndUnlink().ok()) ResetJournalAndStateLog();
  last_sync_ = clock_.Monotonic();
  last_durable_ = last_sync_;
  closed_ = false;
  return absl::OkStatus();
}

absl::Status DiskSpool::LoadState() {
  std::string content;
  absl::Status st = env_.ReadFile(PathOf(kStateName), &content);
  if (absl::IsNotFound(st)) {
    // A new spool (or one whose state was removed): a journal left here belongs to no state
    // we have. The first state is written at once, so a journal always continues one.
    env_.RemoveFile(PathOf(kJournalName)).IgnoreError();
    env_.RemoveFile(PathOf(kStateLogName)).IgnoreError();
    durable_dirty_ = true;
    return absl::OkStatus();
  }
  if (!st.ok()) return st;
  absl::StatusOr<SpoolState> state = ParseSpoolState(content);
  if (!state.ok()) {
    ++corrupt_state_files_;
    durable_dirty_ = true;
    // The journal continues the damaged state: remove it first, so that no later Open can
    // pair it with the fresh state that replaces this one.
    env_.RemoveFile(PathOf(kJournalName)).IgnoreError();
    env_.RemoveFile(PathOf(kStateLogName)).IgnoreError();
    absl::Status moved = env_.RenameFile(PathOf(kStateName), PathOf("state.corrupt"));
    Log(LogLevel::kError, "spool state file damaged; set aside, everything on disk will be resent",
        {{"dir", options_.dir},
         {"error", std::string(state.status().message())},
         {"set_aside", moved.ok() ? "state.corrupt" : std::string(moved.message())}});
    return absl::OkStatus();
  }
  state_base_ = StateFileId(content);
  durable_floor_ = std::max(state->acked_sequence, state->dropped_through);
  // The state as of the last sync point before the process ended, if the log continues this
  // very state file (see the state log in spool_state.h). A kill -9 leaves it whole; a power
  // loss may leave an older record or none (then acks are forgotten: resends, see above).
  std::string log;
  if (state->has_appended && env_.ReadFile(PathOf(kStateLogName), &log).ok()) {
    std::optional<SpoolState> logged = LastLoggedState(log, state_base_);
    if (logged.has_value() && logged->has_appended) {
      state = std::move(*logged);
      durable_dirty_ = true;  // Open writes it as the new `state`
    }
  }
  acked_ = state->acked_sequence;
  dropped_through_ = state->dropped_through;
  last_sequence_ = state->last_sequence;
  dropped_batches_ = state->dropped_batches;
  dropped_samples_ = state->dropped_samples;
  acked_samples_ = state->acked_samples;
  acked_batches_ = state->acked_batches;
  appended_batches_ = state->appended_batches;
  appended_samples_ = state->appended_samples;
  appended_known_ = state->has_appended;
  if (!appended_known_) durable_dirty_ = true;  // rewritten as version 2
  corrupt_segments_ = state->corrupt_segments;
  rejected_ = std::move(state->rejected);
  std::sort(rejected_.begin(), rejected_.end());
  PruneRejectedLocked();
  alive_.Restore(std::move(state->alive));
  return absl::OkStatus();
}

void DiskSpool::LoadJournal() {
  if (!appended_known_) return;  // no state, a damaged one (journal removed) or version 1
  std::string content;
  absl::Status st = env_.ReadFile(PathOf(kJournalName), &content);
  if (!st.ok()) {
    if (!absl::IsNotFound(st)) {
      Log(LogLevel::kWarn, "cannot read the spool's append journal; counting from the state",
          {{"dir", options_.dir}, {"error", std::string(st.message())}});
    }
    return;
  }
  const std::optional<AppendMark> mark = LastAppendMark(content);
  if (!mark.has_value()) return;
  // Counters only grow: a mark below the state's is one the state already covers.
  if (mark->appended_batches > appended_batches_ || mark->appended_samples > appended_samples_) {
    appended_batches_ = std::max(appended_batches_, mark->appended_batches);
    appended_samples_ = std::max(appended_samples_, mark->appended_samples);
    durable_dirty_ = true;
  }
  // Its batch may never have reached a segment: number the next ones above it anyway.
  last_sequence_ = std::max(last_sequence_, mark->sequence);
}

void DiskSpool::ReconcileCountsLocked(bool all_segments_read) {
  const uint64_t have_batches = acked_batches_ + dropped_batches_ + waiting_batches_;
  const uint64_t have_samples = acked_samples_ + dropped_samples_ + waiting_samples_;
  if (appended_known_ && all_segments_read &&
      (appended_batches_ > have_batches || appended_samples_ > have_samples)) {
    // Appended, yet neither acknowledged, nor dropped, nor on disk: lost with damaged or torn
    // records, or in an append a crash interrupted. Counted, so the loss shows.
    missing_batches_ = appended_batches_ > have_batches ? appended_batches_ - have_batches : 0;
    missing_samples_ = appended_samples_ > have_samples ? appended_samples_ - have_samples : 0;
    dropped_batches_ += missing_batches_;
    dropped_samples_ += missing_samples_;
    durable_dirty_ = true;
    Log(LogLevel::kError,
        "spool: appended batches are missing (damaged or torn records); counted as dropped",
        {{"dir", options_.dir},
         {"missing_batches", absl::StrCat(missing_batches_)},
         {"missing_samples", absl::StrCat(missing_samples_)},
         {"appended_batches", absl::StrCat(appended_batches_)},
         {"appended_samples", absl::StrCat(appended_samples_)},
         {"acked_samples", absl::StrCat(acked_samples_)},
         {"dropped_samples", absl::StrCat(dropped_samples_ - missing_samples_)},
         {"waiting_samples", absl::StrCat(waiting_samples_)}});
  } else if (appended_known_ && !all_segments_read) {
    Log(LogLevel::kWarn,
        "spool: a segment could not be read; missing batches are counted at a later start",
        {{"dir", options_.dir}});
  }
  // On disk but not counted (a version-1 or damaged state, a journal that a power loss cut
  // short): counted now. Afterwards appended = acked + dropped + waiting.
  const uint64_t batches =
      std::max(appended_batches_, acked_batches_ + dropped_batches_ + waiting_batches_);
  const uint64_t samples =
      std::max(appended_samples_, acked_samples_ + dropped_samples_ + waiting_samples_);
  if (batches != appended_batches_ || samples != appended_samples_) {
    appended_batches_ = batches;
    appended_samples_ = samples;
    durable_dirty_ = true;
  }
  appended_known_ = true;
}

bool DiskSpool::LoadSegment(const std::string& name, uint64_t first_sequence, bool is_last) {
  const std::string path = PathOf(name);
  std::string content;
  absl::Status st = env_.ReadFile(path, &content);
  if (!st.ok()) {
    Log(LogLevel::kError, "cannot read spool segment; skipped until the next start",
        {{"file", path}, {"error", std::string(st.message())}});
    return false;
  }
  SegmentScan scan = ScanSegment(content);
  const uint64_t previous = segments_.empty() ? 0 : segments_.back().records.back().sequence;
  if (scan.header_ok && scan.first_sequence != first_sequence) {
    SetAside(name, content, 0, "header sequence does not match the file name");
    return true;
  }
  if (!scan.records.empty() && scan.records.front().sequence <= previous) {
    SetAside(name, content, 0, "sequences overlap the previous segment");
    return true;
  }
  const bool has_records = !scan.records.empty();
  if (scan.tail == SegmentTail::kCorrupt || (scan.tail == SegmentTail::kTorn && !is_last)) {
    SetAside(name, content, has_records ? scan.valid_bytes : 0, scan.problem);
    if (!has_records) return true;
  } else if (scan.tail == SegmentTail::kTorn && has_records) {
    // An interrupted append: cut it off, it is not a corruption.
    absl::Status cut = env_.TruncateFile(path, scan.valid_bytes);
    Log(LogLevel::kInfo, "spool segment had a torn tail; truncated",
        {{"file", path},
         {"problem", scan.problem},
         {"cut_bytes", absl::StrCat(content.size() - scan.valid_bytes)},
         {"status", cut.ok() ? "ok" : std::string(cut.message())}});
  }
  // Nothing left to send in it: remove it (the state on disk covers it).
  if (!has_records || scan.records.back().sequence <= FloorLocked()) {
    env_.RemoveFile(path).IgnoreError();
    return true;
  }
  Segment seg;
  seg.first_sequence = first_sequence;
  seg.name = name;
  seg.bytes = scan.valid_bytes;
  const uint64_t floor = FloorLocked();
  seg.records.reserve(scan.records.size());
  for (const RecordInfo& r : scan.records) {
    uint32_t flags = 0;
    if (r.sequence > floor) {
      if (std::binary_search(rejected_.begin(), rejected_.end(), r.sequence)) {
        flags = kRejected;
      } else {
        ++waiting_batches_;
        waiting_bytes_ += r.length;
        waiting_samples_ += r.values;
      }
    }
    seg.records.push_back(RecordRef{r.sequence, r.timestamp_ms, static_cast<uint32_t>(r.offset),
                                    r.length, r.values, flags});
  }
  absl::StatusOr<std::unique_ptr<SpoolReadableFile>> reader = env_.NewReadableFile(path);
  if (reader.ok()) {
    seg.reader = std::move(*reader);
  } else {
    Log(LogLevel::kError, "cannot open spool segment for reading",
        {{"file", path}, {"error", std::string(reader.status().message())}});
  }
  disk_bytes_ += seg.bytes;
  segments_.push_back(std::move(seg));
  return true;
}

void DiskSpool::SetAside(const std::string& name, absl::string_view content, uint64_t valid_bytes,
                         const std::string& problem) {
  const std::string path = PathOf(name);
  const std::string aside = PathOf(absl::StrCat(name, kCorruptSuffix));
  absl::Status st;
  if (valid_bytes > 0) {
    // Keep the valid records in place (no window in which they exist nowhere): copy the whole
    // file aside, then cut the original.
    absl::StatusOr<std::unique_ptr<SpoolWritableFile>> copy = env_.NewWritableFile(aside);
    st = copy.status();
    if (st.ok()) st = (*copy)->Append(content);
    if (st.ok()) st = TimedSync(**copy);
    if (st.ok()) st = (*copy)->Close();
    absl::Status cut = env_.TruncateFile(path, valid_bytes);
    if (st.ok()) st = cut;
  } else {
    st = env_.RenameFile(path, aside);
  }
  if (st.ok()) st = TimedSyncDir();
  ++corrupt_segments_;
  durable_dirty_ = true;
  Log(LogLevel::kError, "spool segment damaged; set aside",
      {{"file", path},
       {"problem", problem},
       {"kept_bytes", absl::StrCat(valid_bytes)},
       {"set_aside", aside},
       {"status", st.ok() ? "ok" : std::string(st.message())}});
}

void DiskSpool::PruneCorruptFiles() {
  absl::StatusOr<std::vector<std::string>> names = env_.ListDir(options_.dir);
  if (!names.ok()) return;
  std::vector<std::string> corrupt;
  for (const std::string& n : *names) {
    if (absl::StartsWith(n, kSegmentPrefix) && absl::EndsWith(n, kCorruptSuffix)) {
      corrupt.push_back(n);
    }
  }
  if (corrupt.size() <= options_.keep_corrupt_files) return;
  std::sort(corrupt.begin(), corrupt.end());
  for (size_t i = 0; i + options_.keep_corrupt_files < corrupt.size(); ++i) {
    env_.RemoveFile(PathOf(corrupt[i])).IgnoreError();
  }
}

// ---------------------------------------------------------------------------------------------
// Writer side

void DiskSpool::Append(PendingBatch batch) {
  absl::MutexLock w(&write_mu_);
  const size_t record_bytes = BatchRecordBytes(batch);
  // Every batch counts as appended, and its mark goes to the journal before its record, or
  // right after it was dropped here (see ACCOUNTING).
  auto drop = [&](absl::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    AppendMark mark;
    {
      absl::MutexLock l(&mu_);
      mark = CountAppendedLocked(batch);
      CountDroppedLocked(batch, why);
    }
    if (why != "closed") WriteJournalMark(mark);  // after Close, neither is persisted
  };
  absl::string_view refused;
  {
    absl::MutexLock l(&mu_);
    if (closed_) {
      refused = "closed";
    } else if (batch.sequence <= std::max(last_sequence_, FloorLocked())) {
      refused = "sequence";
    } else if (record_bytes > options_.segment_bytes - kSegmentHeaderBytes) {
      refused = "too large";
    }
  }
  if (!refused.empty()) {
    drop(refused);
    return;
  }
  if (!EnsureActive(batch, record_bytes)) {
    drop("write");
    return;
  }
  bool persist = false;
  {
    absl::MutexLock l(&mu_);
    CollectFreedSegmentsLocked();
    EnforceCapsLocked(record_bytes);
    persist = !unlink_.empty();
  }
  // Dropped or freed segments: the state that covers them goes to disk before they go.
  if (persist) PersistStateAndUnlink().IgnoreError();

  scratch_.clear();
  AppendBatchRecord(batch, &scratch_);
  AppendMark mark;
  {
    absl::MutexLock l(&mu_);
    mark = CountAppendedLocked(batch);
  }
  // The counters reach the kernel just before the record: a kill -9 between the two writes
  // leaves a batch that Open finds missing and counts as dropped.
  WriteJournalMark(mark);
  absl::Status st = active_->Append(scratch_);
  if (!st.ok()) {
    NoteWriteError(st, "append");
    // Cut a partial record; the next Append starts a new segment.
    env_.TruncateFile(PathOf(active_name_), active_bytes_).IgnoreError();
    CloseActive(false);
    absl::MutexLock l(&mu_);
    last_sequence_ = batch.sequence;
    CountDroppedLocked(batch, "write");
    return;
  }
  NoteWriteOk();
  {
    absl::MutexLock l(&mu_);
    Segment& seg = segments_.back();
    seg.records.push_back(RecordRef{
        batch.sequence, batch.timestamp_ms, static_cast<uint32_t>(active_bytes_),
        static_cast<uint32_t>(record_bytes), static_cast<uint32_t>(batch.values.size()), 0});
    seg.bytes += record_bytes;
    disk_bytes_ += record_bytes;
    ++waiting_batches_;
    waiting_bytes_ += record_bytes;
    waiting_samples_ += batch.values.size();
    last_sequence_ = batch.sequence;
  }
  active_bytes_ += record_bytes;
  active_last_sequence_ = batch.sequence;
  active_unsynced_ = true;
  unsynced_.push_back({batch.sequence, clock_.Monotonic()});
  MaybeSyncLocked(false).IgnoreError();
}

bool DiskSpool::EnsureActive(const PendingBatch& batch, size_t record_bytes) {
  if (active_ != nullptr && active_bytes_ > kSegmentHeaderBytes &&
      active_bytes_ + record_bytes > options_.segment_bytes) {
    CloseActive(/*sync=*/true);
  }
  if (active_ != nullptr) return true;
  const std::string name = SegmentName(batch.sequence);
  const std::string path = PathOf(name);
  const std::string header = EncodeSegmentHeader(batch.sequence);
  std::unique_ptr<SpoolWritableFile> file;
  std::unique_ptr<SpoolReadableFile> reader;
  absl::Status st;
  if (absl::StatusOr<std::unique_ptr<SpoolWritableFile>> f = env_.NewWritableFile(path); f.ok()) {
    file = std::move(*f);
    st = file->Append(header);
    // The header and the new name are made durable at once: records in the file may later
    // stay unsynced for as long as they are acknowledged (see the FSYNC POLICY), and a
    // power loss must not leave a segment without its header.
    if (st.ok()) st = TimedSync(*file);
    if (st.ok()) st = TimedSyncDir();
    if (st.ok()) {
      absl::StatusOr<std::unique_ptr<SpoolReadableFile>> r = env_.NewReadableFile(path);
      st = r.status();
      if (r.ok()) reader = std::move(*r);
    }
  } else {
    st = f.status();
  }
  if (!st.ok()) {
    NoteWriteError(st, "create segment");
    if (file != nullptr) {
      file->Close().IgnoreError();
      env_.RemoveFile(path).IgnoreError();
    }
    return false;
  }
  active_ = std::move(file);
  active_name_ = name;
  active_bytes_ = header.size();
  active_last_sequence_ = 0;
  active_unsynced_ = false;
  absl::MutexLock l(&mu_);
  Segment seg;
  seg.first_sequence = batch.sequence;
  seg.name = name;
  seg.bytes = header.size();
  seg.reader = std::move(reader);
  segments_.push_back(std::move(seg));
  has_active_ = true;
  disk_bytes_ += header.size();
  return true;
}

void DiskSpool::CloseActive(bool sync) {
  if (active_ == nullptr) return;
  if (sync) SyncActive().IgnoreError();
  if (active_ != nullptr) {  // SyncActive closes it on failure
    active_->Close().IgnoreError();
    active_.reset();
  }
  active_unsynced_ = false;
  unsynced_.clear();
  absl::MutexLock l(&mu_);
  has_active_ = false;
}

absl::Status DiskSpool::SyncActive() {
  if (active_ == nullptr || !active_unsynced_) return absl::OkStatus();
  absl::Status st = TimedSync(*active_);
  if (!st.ok()) {
    // After a failed fsync the kernel may have dropped the dirty pages: do not trust the file
    // for more appends (its records stay readable and are kept).
    NoteWriteError(st, "fsync");
    active_->Close().IgnoreError();
    active_.reset();
    active_unsynced_ = false;
    unsynced_.clear();
    absl::MutexLock l(&mu_);
    has_active_ = false;
    return st;
  }
  active_unsynced_ = false;
  unsynced_.clear();
  absl::MutexLock l(&mu_);
  synced_sequence_ = std::max(synced_sequence_, active_last_sequence_);
  return absl::OkStatus();
}

absl::Status DiskSpool::MaybeSyncLocked(bool force) {
  const absl::Duration now = clock_.Monotonic();
  // Records: an fdatasync only for a record that is still unacknowledged sync_interval after
  // it was appended (see the FSYNC POLICY). Acknowledged ones need none: the collector has
  // them.
  absl::Status st;
  bool due = false;
  if (!unsynced_.empty()) {
    absl::MutexLock l(&mu_);
    // Acknowledged (or dropped) records need no fsync any more.
    const uint64_t floor = FloorLocked();
    while (!unsynced_.empty() && unsynced_.front().sequence <= floor) unsynced_.pop_front();
    if (!unsynced_.empty()) {
      // A collector that holds acks back, on a stream it acknowledges: each record gets its
      // hold too, counted from its append.
      absl::Duration wait = options_.sync_interval;
      if (stream_confirmed_ && ack_hold_ > absl::ZeroDuration() &&
          options_.sync_interval > absl::ZeroDuration()) {
        wait += ack_hold_;
      }
      due = now - unsynced_.front().appended >= wait;
    }
  }
  if (force || due) st = SyncActive();
  // The state: at most once per sync_interval.
  if (!force && now - last_sync_ < options_.sync_interval) return st;
  last_sync_ = now;
  bool durable;
  {
    absl::MutexLock l(&mu_);
    CollectFreedSegmentsLocked();
    const bool dirty = state_dirty_ || durable_dirty_ || lazy_dirty_;
    durable = force || durable_dirty_ || !unlink_.empty() ||
              (dirty && (state_log_ == nullptr || state_log_bytes_ >= kMaxStateLogBytes ||
                         now - last_durable_ >= options_.state_sync_interval));
  }
  absl::Status persisted = durable ? PersistStateAndUnlink() : LogState();
  return st.ok() ? persisted : st;
}

absl::Status DiskSpool::LogState() {
  SpoolState state;
  {
    absl::MutexLock l(&mu_);
    if (!state_dirty_) return absl::OkStatus();  // lazy changes wait for a write of `state`
    state = SnapshotStateLocked();
    state_dirty_ = false;
    lazy_dirty_ = false;
  }
  const std::string record = EncodeStateLogRecord(state_base_, state);
  absl::Status st = state_log_->Append(record);
  if (!st.ok()) {
    // A partial record ends the log: the next sync point writes `state` (and a new log).
    NoteWriteError(st, "append state log");
    state_log_->Close().IgnoreError();
    state_log_.reset();
    absl::MutexLock l(&mu_);
    state_dirty_ = true;
    return st;
  }
  state_log_bytes_ += record.size();
  return absl::OkStatus();
}

absl::Status DiskSpool::PersistStateAndUnlink() {
  SpoolState state;
  {
    absl::MutexLock l(&mu_);
    if (!state_dirty_ && !durable_dirty_ && !lazy_dirty_ && unlink_.empty()) {
      return absl::OkStatus();
    }
    state = SnapshotStateLocked();
    state_dirty_ = false;
    durable_dirty_ = false;
    lazy_dirty_ = false;
  }
  const std::string encoded = EncodeSpoolState(state);
  absl::Status st = WriteStateFile(encoded);
  if (!st.ok()) {
    NoteWriteError(st, "write state");
    absl::MutexLock l(&mu_);
    durable_dirty_ = true;
    return st;  // the segments in unlink_ stay on disk until a state write succeeds
  }
  state_base_ = StateFileId(encoded);
  last_durable_ = clock_.Monotonic();
  {
    absl::MutexLock l(&mu_);
    durable_floor_ = std::max(state.acked_sequence, state.dropped_through);
    // Every batch up to the durable floor is acknowledged or dropped for good, and counted.
    synced_sequence_ = std::max(synced_sequence_, durable_floor_);
  }
  // The state holds the totals of every mark (appends hold write_mu_, as this does), and
  // supersedes every record of the state log.
  if (!closed_) ResetJournalAndStateLog();
  for (const std::string& name : unlink_) {
    absl::Status removed = env_.RemoveFile(PathOf(name));
    if (!removed.ok() && !absl::IsNotFound(removed)) NoteWriteError(removed, "unlink");
  }
  unlink_.clear();
  return absl::OkStatus();
}

absl::Status DiskSpool::WriteStateFile(const std::string& encoded) {
  const std::string tmp = PathOf(kStateTmpName);
  absl::StatusOr<std::unique_ptr<SpoolWritableFile>> file = env_.NewWritableFile(tmp);
  if (!file.ok()) return file.status();
  absl::Status st = (*file)->Append(encoded);
  if (st.ok()) st = TimedSync(**file);
  absl::Status closed = (*file)->Close();
  if (st.ok()) st = closed;
  if (st.ok()) st = env_.RenameFile(tmp, PathOf(kStateName));
  if (st.ok()) st = TimedSyncDir();
  return st;
}

void DiskSpool::ResetJournalAndStateLog() {
  auto recreate = [this](std::unique_ptr<SpoolWritableFile>& file, absl::string_view name,
                         const char* what) {
    if (file != nullptr) {
      file->Close().IgnoreError();
      file.reset();
    }
    absl::StatusOr<std::unique_ptr<SpoolWritableFile>> created =
        env_.NewWritableFile(PathOf(name));
    if (!created.ok()) {
      NoteWriteError(created.status(), what);
      return;
    }
    file = std::move(*created);
  };
  recreate(journal_, kJournalName, "create append journal");
  recreate(state_log_, kStateLogName, "create state log");
  state_log_bytes_ = 0;
}

void DiskSpool::WriteJournalMark(const AppendMark& mark) {
  if (journal_ == nullptr) return;  // see ResetJournalAndStateLog
  absl::Status st = journal_->Append(EncodeAppendMark(mark));
  if (st.ok()) return;
  // A partial mark fails its CRC and ends the journal: later marks would not be read.
  NoteWriteError(st, "append journal");
  journal_->Close().IgnoreError();
  journal_.reset();
}

absl::Status DiskSpool::TimedSync(SpoolWritableFile& file) {
  const absl::Duration t0 = clock_.Monotonic();
  absl::Status st = file.Sync();
  CountFsync(clock_.Monotonic() - t0);
  return st;
}

absl::Status DiskSpool::TimedSyncDir() {
  const absl::Duration t0 = clock_.Monotonic();
  absl::Status st = env_.SyncDir(options_.dir);
  CountFsync(clock_.Monotonic() - t0);
  return st;
}

void DiskSpool::CountFsync(absl::Duration took) {
  fsyncs_.fetch_add(1, std::memory_order_relaxed);
  fsync_nanos_.fetch_add(absl::ToInt64Nanoseconds(took), std::memory_order_relaxed);
}

void DiskSpool::NoteWriteError(const absl::Status& status, absl::string_view op) {
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (in_error_) return;
  in_error_ = true;
  Log(LogLevel::kError, "spool write failed; batches are dropped until it recovers",
      {{"dir", options_.dir}, {"op", std::string(op)}, {"error", status.ToString()}});
}

void DiskSpool::NoteWriteOk() {
  if (!in_error_) return;
  in_error_ = false;
  Log(LogLevel::kInfo, "spool writes recovered", {{"dir", options_.dir}});
}

absl::Status DiskSpool::Sync() {
  absl::MutexLock w(&write_mu_);
  if (closed_) return absl::OkStatus();
  return MaybeSyncLocked(/*force=*/true);
}

absl::Status DiskSpool::Close() {
  absl::MutexLock w(&write_mu_);
  if (closed_) return absl::OkStatus();
  {
    absl::MutexLock l(&mu_);
    durable_dirty_ = true;  // last_sequence is only written with other changes until now
  }
  absl::Status st = MaybeSyncLocked(/*force=*/true);
  CloseActive(/*sync=*/false);
  if (journal_ != nullptr) {
    journal_->Close().IgnoreError();
    journal_.reset();
  }
  if (state_log_ != nullptr) {
    state_log_->Close().IgnoreError();
    state_log_.reset();
  }
  closed_ = true;
  lock_.reset();
  return st;
}

void DiskSpool::RecordAlive(absl::Time t, int64_t boot_time) {
  absl::MutexLock w(&write_mu_);
  {
    absl::MutexLock l(&mu_);
    if (alive_.Record(t, boot_time)) {
      // Evidence while the collector hears the agent (an ack on the current stream) only
      // backs up the collector's own record of it: it waits for the next state write.
      // Otherwise it is the only evidence there is: made durable at the next sync point.
      if (stream_confirmed_) {
        lazy_dirty_ = true;
      } else {
        durable_dirty_ = true;
      }
    }
  }
  if (!closed_) MaybeSyncLocked(false).IgnoreError();
}

// ---------------------------------------------------------------------------------------------
// Both locks: caps and freed segments

bool DiskSpool::EnforceCapsLocked(uint64_t incoming_bytes) {
  const absl::Time cutoff = clock_.Now() - options_.max_age;
  bool dropped = false;
  while (segments_.size() > (has_active_ ? 1u : 0u)) {
    const Segment& front = segments_.front();
    const bool over = disk_bytes_ + incoming_bytes > options_.max_bytes;
    const bool expired =
        !front.records.empty() && absl::FromUnixMillis(front.records.back().timestamp_ms) < cutoff;
    if (!over && !expired) break;
    // Never drop what is in flight on the current stream (it may yet be accepted).
    if (in_flight_through_ > FloorLocked() && !front.records.empty() &&
        front.records.front().sequence <= in_flight_through_) {
      break;
    }
    DropFrontSegmentLocked();
    dropped = true;
  }
  return dropped;
}

void DiskSpool::DropFrontSegmentLocked() {
  Segment& seg = segments_.front();
  const uint64_t floor = FloorLocked();
  uint64_t batches = 0;
  uint64_t samples = 0;
  for (const RecordRef& r : seg.records) {
    if (r.sequence <= floor || (r.flags & kRejected) != 0) continue;
    DropWaitingLocked(r);
    ++batches;
    samples += r.values;
    if (r.sequence <= unsettled_through_) unsettled_drops_.emplace_back(r.sequence, r.values);
  }
  if (!seg.records.empty()) {
    dropped_through_ = std::max(dropped_through_, seg.records.back().sequence);
  }
  Log(LogLevel::kWarn, "spool full or expired: dropped the oldest segment",
      {{"file", PathOf(seg.name)},
       {"batches", absl::StrCat(batches)},
       {"samples", absl::StrCat(samples)}});
  disk_bytes_ -= seg.bytes;
  unlink_.push_back(seg.name);
  segments_.pop_front();
  ++dropped_segments_;
  state_dirty_ = true;
  PruneRejectedLocked();
}

void DiskSpool::CollectFreedSegmentsLocked() {
  const uint64_t floor = FloorLocked();
  while (segments_.size() > (has_active_ ? 1u : 0u)) {
    const Segment& front = segments_.front();
    if (!front.records.empty() && front.records.back().sequence > floor) break;
    disk_bytes_ -= front.bytes;
    unlink_.push_back(front.name);
    segments_.pop_front();
  }
}

// ---------------------------------------------------------------------------------------------
// Index side

uint64_t DiskSpool::FloorLocked() const { return std::max(acked_, dropped_through_); }

DiskSpool::Position DiskSpool::UpperBoundLocked(uint64_t sequence) const {
  // The last segment whose first sequence is <= `sequence`.
  auto seg = std::upper_bound(
      segments_.begin(), segments_.end(), sequence,
      [](uint64_t s, const Segment& segment) { return s < segment.first_sequence; });
  if (seg == segments_.begin()) return Position{0, 0};
  --seg;
  auto rec = std::upper_bound(seg->records.begin(), seg->records.end(), sequence,
                              [](uint64_t s, const RecordRef& r) { return s < r.sequence; });
  const size_t si = static_cast<size_t>(seg - segments_.begin());
  if (rec == seg->records.end()) return Position{si + 1, 0};
  return Position{si, static_cast<size_t>(rec - seg->records.begin())};
}

SpoolState DiskSpool::SnapshotStateLocked() const {
  SpoolState s;
  s.acked_sequence = acked_;
  s.dropped_through = dropped_through_;
  s.last_sequence = std::max(last_sequence_, FloorLocked());
  s.dropped_batches = dropped_batches_;
  s.dropped_samples = dropped_samples_;
  s.acked_samples = acked_samples_;
  s.corrupt_segments = corrupt_segments_;
  s.acked_batches = acked_batches_;
  s.appended_batches = appended_batches_;
  s.appended_samples = appended_samples_;
  s.rejected = rejected_;
  s.alive = alive_.spans();
  return s;
}

void DiskSpool::DropWaitingLocked(const RecordRef& ref) {
  ++dropped_batches_;
  dropped_samples_ += ref.values;
  --waiting_batches_;
  waiting_bytes_ -= ref.length;
  waiting_samples_ -= ref.values;
}

void DiskSpool::PruneRejectedLocked() {
  const uint64_t floor = FloorLocked();
  auto keep = std::upper_bound(rejected_.begin(), rejected_.end(), floor);
  rejected_.erase(rejected_.begin(), keep);
}

AppendMark DiskSpool::CountAppendedLocked(const PendingBatch& batch) {
  ++appended_batches_;
  appended_samples_ += batch.values.size();
  state_dirty_ = true;
  return AppendMark{batch.sequence, appended_batches_, appended_samples_};
}

void DiskSpool::CountDroppedLocked(const PendingBatch& batch, absl::string_view why) {
  ++dropped_batches_;
  dropped_samples_ += batch.values.size();
  state_dirty_ = true;
  uint32_t kind = why == "sequence"    ? kDropSequence
                  : why == "too large" ? kDropTooLarge
                  : why == "closed"    ? kDropClosed
                                       : kDropWrite;
  if ((warned_drops_ & kind) != 0) return;
  warned_drops_ |= kind;
  if (kind == kDropWrite) return;  // NoteWriteError logged it
  Log(LogLevel::kWarn, "spool dropped a batch (logged once per reason)",
      {{"reason", std::string(why)},
       {"sequence", absl::StrCat(batch.sequence)},
       {"last_sequence", absl::StrCat(std::max(last_sequence_, FloorLocked()))},
       {"record_bytes", absl::StrCat(BatchRecordBytes(batch))}});
}

bool DiskSpool::ReadAfterLocked(uint64_t after, PendingBatch* out) {
  Position p = UpperBoundLocked(std::max(after, FloorLocked()));
  for (; p.segment < segments_.size(); ++p.segment, p.record = 0) {
    Segment& seg = segments_[p.segment];
    for (; p.record < seg.records.size(); ++p.record) {
      RecordRef& r = seg.records[p.record];
      if ((r.flags & kRejected) != 0) continue;
      absl::Status st = seg.reader != nullptr
                            ? seg.reader->Read(r.offset, r.length, &read_buf_)
                            : absl::UnavailableError("segment not open for reading");
      if (st.ok()) {
        absl::StatusOr<PendingBatch> batch = DecodeBatchRecord(read_buf_);
        if (batch.ok() && batch->sequence == r.sequence) {
          *out = std::move(*batch);
          return true;
        }
        st = batch.ok() ? absl::DataLossError("sequence mismatch") : batch.status();
      }
      // Unreadable now (the disk changed under us): skip it for good and count it.
      ++read_errors_;
      r.flags |= kRejected;
      DropWaitingLocked(r);
      state_dirty_ = true;
      if (!warned_read_) {
        warned_read_ = true;
        Log(LogLevel::kError, "spool record unreadable; dropped (logged once)",
            {{"file", PathOf(seg.name)},
             {"sequence", absl::StrCat(r.sequence)},
             {"error", st.ToString()}});
      }
    }
  }
  return false;
}

bool DiskSpool::NextAfter(uint64_t after, PendingBatch* out) {
  absl::MutexLock l(&mu_);
  if (!ReadAfterLocked(after, out)) return false;
  in_flight_through_ = std::max(in_flight_through_, out->sequence);
  if (first_sent_ == 0) first_sent_ = out->sequence;
  return true;
}

bool DiskSpool::PreviewAfter(uint64_t after, PendingBatch* out) {
  absl::MutexLock l(&mu_);
  return ReadAfterLocked(after, out);
}

void DiskSpool::SetAckHold(absl::Duration hold) {
  absl::MutexLock l(&mu_);
  ack_hold_ = std::clamp(hold, absl::ZeroDuration(), kMaxAckHold);
}

void DiskSpool::StreamEnded() {
  absl::MutexLock l(&mu_);
  if (!stream_confirmed_ && first_sent_ != 0 && !unsettled_drops_.empty()) {
    // This stream sent batches but ended before its hello was answered: the collector may
    // have accepted some of them, and the next answer, its highest sequence, no longer says
    // which batches of the streams before reached it. Those stay counted as dropped (a loss
    // is never hidden); the batches this stream sent, in order from first_sent_, can still
    // be settled.
    const size_t before = unsettled_drops_.size();
    const uint64_t first = first_sent_;
    unsettled_drops_.erase(std::remove_if(unsettled_drops_.begin(), unsettled_drops_.end(),
                                          [first](const std::pair<uint64_t, uint64_t>& d) {
                                            return d.first < first;
                                          }),
                           unsettled_drops_.end());
    if (unsettled_drops_.size() != before) {
      Log(LogLevel::kWarn,
          "cannot tell which dropped batches reached the collector: counted as dropped",
          {{"batches", absl::StrCat(before - unsettled_drops_.size())}});
    }
  }
  first_sent_ = 0;
  unsettled_through_ = std::max(unsettled_through_, in_flight_through_);
  in_flight_through_ = 0;
  // Drops already waiting to be settled stay so: a reconnect attempt that ends before any
  // ack (the collector still away) changes nothing about them.
  settle_on_next_ack_ = !unsettled_drops_.empty() || unsettled_through_ > FloorLocked();
  stream_confirmed_ = false;
}

void DiskSpool::Ack(uint64_t sequence) {
  absl::MutexLock l(&mu_);
  stream_confirmed_ = true;
  if (settle_on_next_ack_) {
    // The answer to a new stream's hello: the collector accepted everything up to
    // `sequence`. Batches dropped while their fate was open and covered by it were accepted.
    settle_on_next_ack_ = false;
    uint64_t batches = 0;
    uint64_t samples_accepted = 0;
    for (const auto& [seq, samples] : unsettled_drops_) {
      if (seq > sequence) continue;
      --dropped_batches_;
      dropped_samples_ -= samples;
      ++acked_batches_;
      acked_samples_ += samples;
      ++batches;
      samples_accepted += samples;
      state_dirty_ = true;
    }
    if (batches > 0) {
      // The drop log line counted them; this one takes them back.
      Log(LogLevel::kInfo, "dropped batches had reached the collector: counted as sent",
          {{"batches", absl::StrCat(batches)}, {"samples", absl::StrCat(samples_accepted)}});
    }
    unsettled_drops_.clear();
    unsettled_through_ = 0;
  }
  if (sequence <= acked_) return;
  const uint64_t old_floor = FloorLocked();
  acked_ = sequence;
  state_dirty_ = true;
  const uint64_t new_floor = FloorLocked();
  if (new_floor <= old_floor) return;
  Position p = UpperBoundLocked(old_floor);
  for (; p.segment < segments_.size(); ++p.segment, p.record = 0) {
    const Segment& seg = segments_[p.segment];
    for (; p.record < seg.records.size(); ++p.record) {
      const RecordRef& r = seg.records[p.record];
      if (r.sequence > new_floor) {
        PruneRejectedLocked();
        return;
      }
      if ((r.flags & kRejected) != 0) continue;
      ++acked_batches_;
      acked_samples_ += r.values;
      --waiting_batches_;
      waiting_bytes_ -= r.length;
      waiting_samples_ -= r.values;
    }
  }
  PruneRejectedLocked();
}

void DiskSpool::Reject(uint64_t sequence) {
  absl::MutexLock l(&mu_);
  if (sequence <= FloorLocked()) return;
  Position p = UpperBoundLocked(sequence - 1);
  if (p.segment >= segments_.size() || p.record >= segments_[p.segment].records.size()) return;
  RecordRef& r = segments_[p.segment].records[p.record];
  if (r.sequence != sequence || (r.flags & kRejected) != 0) return;
  r.flags |= kRejected;
  DropWaitingLocked(r);
  state_dirty_ = true;
  if (rejected_.size() < kMaxRejectedRemembered) {
    rejected_.insert(std::upper_bound(rejected_.begin(), rejected_.end(), sequence), sequence);
  }
}

uint64_t DiskSpool::UnackedBatchesLocked() const {
  const uint64_t floor = FloorLocked();
  if (in_flight_through_ <= floor) return 0;
  uint64_t n = 0;
  Position p = UpperBoundLocked(floor);
  for (; p.segment < segments_.size(); ++p.segment, p.record = 0) {
    const Segment& seg = segments_[p.segment];
    for (; p.record < seg.records.size(); ++p.record) {
      const RecordRef& r = seg.records[p.record];
      if (r.sequence > in_flight_through_) return n;
      if (r.sequence > floor && (r.flags & kRejected) == 0) ++n;
    }
  }
  return n;
}

SpoolStats DiskSpool::SpoolStatsLocked() const {
  SpoolStats s;
  s.batches = waiting_batches_;
  s.unacked_batches = UnackedBatchesLocked();
  s.bytes = waiting_bytes_;
  s.samples = waiting_samples_;
  s.dropped_samples = dropped_samples_;
  s.dropped_batches = dropped_batches_;
  s.acked_samples = acked_samples_;
  return s;
}

SpoolStats DiskSpool::Stats() {
  absl::MutexLock l(&mu_);
  return SpoolStatsLocked();
}

DiskSpoolStats DiskSpool::DiskStats() {
  absl::MutexLock l(&mu_);
  DiskSpoolStats s;
  s.spool = SpoolStatsLocked();
  s.appended_batches = appended_batches_;
  s.appended_samples = appended_samples_;
  s.acked_batches = acked_batches_;
  s.missing_batches = missing_batches_;
  s.missing_samples = missing_samples_;
  s.disk_bytes = disk_bytes_;
  s.segments = segments_.size();
  for (Position p = UpperBoundLocked(FloorLocked()); p.segment < segments_.size();
       ++p.segment, p.record = 0) {
    const Segment& seg = segments_[p.segment];
    for (; p.record < seg.records.size(); ++p.record) {
      if ((seg.records[p.record].flags & kRejected) != 0) continue;
      s.oldest_sequence = seg.records[p.record].sequence;
      s.oldest_timestamp_ms = seg.records[p.record].timestamp_ms;
      break;
    }
    if (s.oldest_sequence != 0) break;
  }
  s.last_sequence = std::max(last_sequence_, FloorLocked());
  s.acked_sequence = acked_;
  s.durable_floor = durable_floor_;
  s.synced_sequence = synced_sequence_;
  s.dropped_segments = dropped_segments_;
  s.corrupt_segments = corrupt_segments_;
  s.corrupt_state_files = corrupt_state_files_;
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  s.read_errors = read_errors_;
  s.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  s.fsync_seconds = static_cast<double>(fsync_nanos_.load(std::memory_order_relaxed)) / 1e9;
  s.alive_spans = alive_.spans().size();
  s.dropped_alive_spans = alive_.dropped();
  return s;
}

uint64_t DiskSpool::LastSequence() {
  absl::MutexLock l(&mu_);
  return std::max(last_sequence_, FloorLocked());
}

std::vector<AliveSpan> DiskSpool::PendingAliveSpans() {
  absl::MutexLock l(&mu_);
  return alive_.spans();
}

void DiskSpool::AckAliveSpans(absl::Time up_to) {
  absl::MutexLock l(&mu_);
  if (alive_.Ack(up_to)) state_dirty_ = true;
}

}  // namespace accord::agent
