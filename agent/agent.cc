#include "agent/agent.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/sources/mounts.h"
#include "agent/sources/self_usage.h"
#include "agent/spool/disk_spool.h"
#include "agent/transport/series_table.h"
#include "agent/transport/spool.h"
#include "common/logging.h"

namespace accord::agent {
namespace {

bool ReadSmallFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::getline(in, *out, '\0');
  return true;
}

// The next sequence number, kept in {spool_dir}/sequence so that it only grows across
// restarts. The file holds a fixed-width decimal number rewritten in place with one pwrite per
// batch (20 bytes inside one sector: not torn in practice); no fsync: after a power loss the
// collector's hello reply still lets the agent continue (see docs/protocol.md).
class SequenceFile {
 public:
  explicit SequenceFile(std::string dir) : path_(dir + "/sequence") {}
  ~SequenceFile() {
    if (fd_ >= 0) close(fd_);
  }
  uint64_t Load() {
    std::string text;
    uint64_t v = 0;
    if (ReadSmallFile(path_, &text) && absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &v)) {
      return v;
    }
    return 1;
  }
  void Save(uint64_t next) {
    if (fd_ < 0) fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    char buf[32];
    int n = std::snprintf(buf, sizeof(buf), "%020llu\n", static_cast<unsigned long long>(next));
    if (fd_ < 0 || pwrite(fd_, buf, n, 0) != n) {
      if (!warned_) {
        warned_ = true;
        Log(LogLevel::kWarn, "cannot save the sequence number", {{"path", path_}});
      }
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool warned_ = false;
};

}  // namespace

bool HostIsShuttingDown(const std::string& rootfs) {
  std::error_code ec;
  if (std::filesystem::exists(JoinRootfs(rootfs, "/run/systemd/shutdown/scheduled"), ec)) {
    return true;
  }
  if (rootfs == "/" && std::filesystem::exists("/run/systemd/system", ec)) {
    if (FILE* p = popen("systemctl is-system-running 2>/dev/null", "r")) {
      char buf[64] = {0};
      size_t n = fread(buf, 1, sizeof(buf) - 1, p);
      pclose(p);
      if (absl::StripAsciiWhitespace(absl::string_view(buf, n)) == "stopping") return true;
    }
  }
  return false;
}

struct Agent::Impl {
  Impl(const AgentOptions& o, Clock& c)
      : options(o),
        clock(c),
        statter(NewRealFsStatter()),
        sampler(o.sampler, *statter),
        sequence_file(o.spool_dir) {}

  void SampleLoop();
  void SampleOnce();

  AgentOptions options;
  Clock& clock;
  std::unique_ptr<FsStatter> statter;
  Sampler sampler;
  SeriesTable series;
  std::unique_ptr<DiskSpool> disk;
  SequenceFile sequence_file;
  std::atomic<uint64_t> next_sequence{1};
  std::unique_ptr<StreamClient> client;

  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::thread sampler_thread;

  // Own health.
  uint64_t samples_produced = 0;
  bool journal_ok = true;  // the last SeriesTable::Sync worked (log a failure once)
  double last_cycle_seconds = 0;
  SelfUsageReader self_usage{"/proc"};
  std::vector<Sample> scratch;
};

void Agent::Impl::SampleOnce() {
  absl::Duration start = clock.Monotonic();
  scratch.clear();
  sampler.Collect(&scratch);
  // The boot time travels in the hello; the collector exports it itself.
  scratch.erase(
      std::remove_if(scratch.begin(), scratch.end(),
                     [](const Sample& s) { return s.name == "accord_host_boot_time_seconds"; }),
      scratch.end());
  const DiskSpoolStats ds = disk->DiskStats();
  const SpoolStats& sp = ds.spool;
  const auto& cs = client->stats();
  auto self = [this](const char* name, MetricKind kind, double v) {
    scratch.push_back({name, {}, kind, v});
  };
  // Count this cycle's samples (including the health series themselves: 17 below).
  constexpr int kHealthSeries = 17;
  samples_produced += scratch.size() + kHealthSeries;
  self("accord_agent_samples_produced_total", MetricKind::kCounter,
       static_cast<double>(samples_produced));
  self("accord_agent_samples_sent_total", MetricKind::kCounter,
       static_cast<double>(sp.acked_samples));
  self("accord_agent_samples_dropped_total", MetricKind::kCounter,
       static_cast<double>(sp.dropped_samples));
  self("accord_agent_reconnects_total", MetricKind::kCounter,
       static_cast<double>(cs.reconnects.load()));
  self("accord_agent_previews_sent_total", MetricKind::kCounter,
       static_cast<double>(cs.previews_sent.load()));
  self("accord_agent_spool_bytes", MetricKind::kGauge, static_cast<double>(ds.disk_bytes));
  // Backlog: still to be sent. Sent batches waiting only for the collector's ack (it holds
  // acks back up to --ingest.ack-interval) are counted apart.
  self("accord_agent_spool_backlog_batches", MetricKind::kGauge,
       static_cast<double>(sp.batches - sp.unacked_batches));
  self("accord_agent_spool_unacked_batches", MetricKind::kGauge,
       static_cast<double>(sp.unacked_batches));
  self("accord_agent_spool_dropped_samples_total", MetricKind::kCounter,
       static_cast<double>(sp.dropped_samples));
  self("accord_agent_spool_corrupt_segments_total", MetricKind::kCounter,
       static_cast<double>(ds.corrupt_segments));
  self("accord_agent_spool_fsync_seconds_total", MetricKind::kCounter, ds.fsync_seconds);
  self("accord_agent_spool_fsyncs_total", MetricKind::kCounter, static_cast<double>(ds.fsyncs));
  self("accord_agent_spool_alive_spans", MetricKind::kGauge, static_cast<double>(ds.alive_spans));
  self("accord_agent_cycle_seconds", MetricKind::kGauge, last_cycle_seconds);
  absl::StatusOr<SelfUsage> usage = self_usage.Read();
  self("accord_agent_cpu_seconds_total", MetricKind::kCounter, usage.ok() ? usage->cpu_seconds : 0);
  self("accord_agent_resident_memory_bytes", MetricKind::kGauge,
       usage.ok() ? static_cast<double>(usage->rss_bytes) : 0);
  self("accord_agent_private_memory_bytes", MetricKind::kGauge,
       usage.ok() ? static_cast<double>(usage->anon_bytes) : 0);

  PendingBatch batch;
  batch.sequence = next_sequence.fetch_add(1);
  batch.timestamp_ms = absl::ToUnixMillis(clock.Now());
  batch.series_ids.reserve(scratch.size());
  batch.values.reserve(scratch.size());
  for (const Sample& s : scratch) {
    batch.series_ids.push_back(series.Intern(s));
    batch.values.push_back(s.value);
  }
  // New series are made durable before a batch naming them is.
  absl::Status synced = series.Sync();
  if (!synced.ok() && journal_ok) {
    Log(LogLevel::kError, "cannot record new series; batches naming them may be lost on a crash",
        {{"error", std::string(synced.message())}});
  }
  journal_ok = synced.ok();
  sequence_file.Save(batch.sequence + 1);
  disk->Append(std::move(batch));
  client->Kick();
  last_cycle_seconds = absl::ToDoubleSeconds(clock.Monotonic() - start);
}

void Agent::Impl::SampleLoop() {
  absl::Duration next = clock.Monotonic();
  while (true) {
    SampleOnce();
    next += options.sample_interval;
    absl::Duration now = clock.Monotonic();
    if (next < now) next = now;  // fell behind: skip, do not burst
    absl::MutexLock lock(&mu);
    auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return stopping; };
    if (mu.AwaitWithTimeout(absl::Condition(&stop), next - now)) return;
  }
}

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Agent::~Agent() { Stop(GoodbyeReason::kAgentStopping, absl::ZeroDuration()); }

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(const AgentOptions& options, Clock& clock) {
  AgentOptions o = options;
  char hostname[256] = {0};
  gethostname(hostname, sizeof(hostname) - 1);
  if (o.host_id.empty()) {
    std::string id;
    std::string path = JoinRootfs(o.sampler.rootfs, "/etc/machine-id");
    if (ReadSmallFile(path, &id)) o.host_id = std::string(absl::StripAsciiWhitespace(id));
    if (o.host_id.empty()) {
      o.host_id = hostname;
      Log(LogLevel::kWarn, "no machine id; using the hostname as host id",
          {{"path", path}, {"host_id", o.host_id}});
    }
  }
  if (o.host_id.empty()) {
    return absl::FailedPreconditionError("no host id: set --host.id");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.spool_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--spool.dir \"", o.spool_dir, "\": cannot create: ", ec.message()));
  }
  if (o.spool_max_bytes < kMinSpoolMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--spool.max-bytes ", o.spool_max_bytes,
                                                   " is below the minimum ", kMinSpoolMaxBytes));
  }
  auto impl = std::make_unique<Impl>(o, clock);
  Impl* p = impl.get();
  DiskSpoolOptions so;
  so.dir = o.spool_dir + "/segments";
  so.max_bytes = o.spool_max_bytes;
  so.segment_bytes = SegmentBytesForCap(o.spool_max_bytes);
  so.max_age = o.spool_max_age;
  so.clock = &clock;
  // A heartbeat gap up to two intervals still extends a span (slow heartbeats must not
  // open a new span each).
  so.max_alive_gap = std::max(so.max_alive_gap, 2 * o.heartbeat_interval);
  auto disk = DiskSpool::Open(so);
  if (!disk.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--spool.dir \"", so.dir, "\": ", disk.status().message()));
  }
  p->disk = std::move(*disk);
  // Samples produced by earlier runs: every batch the spool was given, counted by the spool for
  // its lifetime. Each was acknowledged, dropped or is still waiting; Open counts the ones
  // found missing (cut off with a damaged segment, say) as dropped. So accepted + dropped =
  // produced holds across restarts, kill -9 and damage, and no loss is hidden.
  SpoolStats prior = p->disk->Stats();
  p->samples_produced = p->disk->DiskStats().appended_samples;
  auto boot = p->sampler.BootTimeSeconds();
  if (!boot.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the boot time: ", boot.status().message()));
  }
  // Series ids of spooled batches must mean what they meant when spooled: the journal keeps
  // them. With nothing waiting in the spool no old id is referred to, and it starts afresh.
  absl::Status journal =
      p->series.OpenJournal(o.spool_dir + "/series.journal", /*reset=*/prior.batches == 0);
  if (!journal.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--spool.dir: ", journal.message()));
  }
  // Sequences only grow: above both the saved number and anything the spool ever held.
  p->next_sequence = std::max(p->sequence_file.Load(), p->disk->LastSequence() + 1);

  StreamClientOptions co;
  co.collector_address = o.collector_address;
  co.host_id = o.host_id;
  co.hostname = hostname;
  co.agent_version = ACCORD_VERSION;
  co.labels = o.labels;
  co.boot_time_seconds = *boot;
  co.sample_interval = o.sample_interval;
  co.heartbeat_interval = o.heartbeat_interval;
  co.drive_grpc_timers = o.drive_grpc_timers;
  p->client = std::make_unique<StreamClient>(co, *p->disk, p->series, clock,
                                             [p] { return p->next_sequence.load(); });
  p->client->Start();
  p->sampler_thread = std::thread([p] { p->SampleLoop(); });
  Log(LogLevel::kInfo, "agent started",
      {{"host_id", o.host_id},
       {"collector", o.collector_address},
       {"sample_interval", absl::FormatDuration(o.sample_interval)},
       {"next_sequence", absl::StrCat(p->next_sequence.load())}});
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

void Agent::Stop(GoodbyeReason reason, absl::Duration grace) {
  if (impl_ == nullptr) return;
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  if (impl_->sampler_thread.joinable()) impl_->sampler_thread.join();
  impl_->client->Stop(reason, grace);
  absl::Status closed = impl_->disk->Close();
  if (!closed.ok()) {
    Log(LogLevel::kError, "spool close failed", {{"error", std::string(closed.message())}});
  }
  Log(LogLevel::kInfo, "agent stopped",
      {{"reason", reason == GoodbyeReason::kHostShutdown ? "host_shutdown" : "agent_stopping"}});
}

}  // namespace accord::agent
