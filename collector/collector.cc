#include "collector/collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "collector/availability/calendar.h"
#include "collector/catalogue/catalogue_loader.h"
#include "collector/ingest/grpc/telemetry_service.h"
#include "collector/ingest/ingest_queue.h"
#include "collector/ingest/ingestor.h"
#include "collector/sla/sla_service.h"
#include "collector/store/sqlite_store.h"
#include "collector/web/api.h"
#include "collector/web/capacity_api.h"
#include "collector/web/http_server.h"
#include "collector/web/sla_api.h"
#include "common/grpc/experiments.h"
#include "common/grpc/keepalive.h"
#include "common/heap.h"
#include "common/logging.h"
#include "common/prom_text.h"
#include "grpcpp/grpcpp.h"

namespace accord::collector {

struct Collector::Impl {
  Impl(const CollectorOptions& o, Clock& c, std::unique_ptr<SqliteStore> s)
      : options(o),
        clock(c),
        store(std::move(s)),
        registry(c, o.hosts, store.get()),
        queue(static_cast<size_t>(o.ingest_queue_capacity),
              static_cast<size_t>(o.ingest_queue_bytes)),
        ingestor(queue, registry, c, o.ingest_ack_interval),
        sla(registry, c),
        capacity(registry, c, store.get(), o.capacity),
        service(queue, c, o.max_message_bytes, o.ingest_ack_interval),
        heap_trimmer(o.heap_trim_interval) {
    registry.SetSampleObserver(&capacity);
  }

  void RenderSelf(std::string* out) const;
  absl::Status LoadCatalogue();
  void SaveClosedPeriods();
  std::atomic<uint64_t> catalogue_reloads{0};
  std::atomic<uint64_t> catalogue_reload_errors{0};

  CollectorOptions options;
  Clock& clock;
  std::unique_ptr<SqliteStore> store;
  HostRegistry registry;
  IngestQueue queue;
  Ingestor ingestor;
  SlaService sla;
  capacity::CapacityService capacity;
  TelemetryService service;
  HeapTrimmer heap_trimmer;
  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  std::unique_ptr<HttpServer> http;
  std::thread ticker;
  std::atomic<bool> stopping{false};
  bool shut_down = false;
};

// Every metric of the collector itself, declared here in one place.
void Collector::Impl::RenderSelf(std::string* out) const {
  auto one = [out](const char* name, const char* type, const char* help, double v) {
    AppendFamilyHeader(out, name, type, help);
    absl::StrAppend(out, name, " ");
    AppendPromValue(out, v);
    out->push_back('\n');
  };
  const auto& s = service.stats();
  RegistryStats r = registry.Stats();
  IngestorStats in = ingestor.Stats();
  one("accord_collector_streams_open", "gauge", "Agent streams currently open.",
      static_cast<double>(s.streams_open.load()));
  one("accord_collector_streams_opened_total", "counter", "Agent streams accepted.",
      static_cast<double>(s.streams_opened.load()));
  one("accord_collector_streams_broken_total", "counter",
      "Agent streams that ended without the agent closing them.",
      static_cast<double>(s.streams_broken.load()));
  one("accord_collector_messages_received_total", "counter", "Messages read from agent streams.",
      static_cast<double>(s.messages_received.load()));
  one("accord_collector_received_bytes_total", "counter", "Bytes of agent messages read.",
      static_cast<double>(s.bytes_received.load()));
  one("accord_collector_samples_received_total", "counter",
      "Samples accepted into the host registry (resends counted once).",
      static_cast<double>(r.samples_accepted));
  one("accord_collector_batches_accepted_total", "counter", "Sample batches accepted.",
      static_cast<double>(r.batches_accepted));
  one("accord_collector_acks_sent_total", "counter", "Acks sent to agents.",
      static_cast<double>(in.acks_sent));
  one("accord_collector_acks_held_total", "counter",
      "Acks held back by --ingest.ack-interval, to be covered by a later ack of the same stream.",
      static_cast<double>(in.acks_held));
  one("accord_collector_batches_duplicate_total", "counter",
      "Resent batches acknowledged again but not counted.",
      static_cast<double>(r.batches_duplicate));
  one("accord_collector_batches_preview_total", "counter",
      "Live batches shown ahead of a backlog (not counted; they come again in order).",
      static_cast<double>(r.batches_preview));
  one("accord_collector_heartbeats_received_total", "counter", "Heartbeats received.",
      static_cast<double>(r.heartbeats));
  one("accord_collector_delivery_lag_allowance_seconds", "gauge",
      "How much later than usual agents' messages arrive (99th percentile over 3 s; agents' "
      "send times against each host's usual offset), added to the silence a host is allowed "
      "before it is unreachable.",
      absl::ToDoubleSeconds(r.delivery_lag_allowance));
  AppendFamilyHeader(out, "accord_collector_rejected_messages_total", "counter",
                     "Messages rejected, by reason.");
  for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
    absl::StrAppend(out, "accord_collector_rejected_messages_total{reason=\"",
                    RejectReasonName(static_cast<RejectReason>(i)), "\"} ", r.rejected[i], "\n");
  }
  one("accord_collector_ingest_queue_depth", "gauge", "Messages waiting in the ingest queue.",
      static_cast<double>(queue.depth()));
  one("accord_collector_ingest_queue_capacity", "gauge",
      "Ingest queue size at which streams stop being read.", static_cast<double>(queue.capacity()));
  one("accord_collector_ingest_queue_bytes", "gauge",
      "Memory held by the messages in the ingest queue (an estimate).",
      static_cast<double>(queue.bytes()));
  one("accord_collector_ingest_queue_capacity_bytes", "gauge",
      "Ingest queue memory at which streams stop being read.",
      static_cast<double>(queue.byte_capacity()));
  one("accord_collector_ingest_parked_streams", "gauge",
      "Streams not being read because the ingest queue is full (backpressure).",
      static_cast<double>(queue.parked()));
  AppendFamilyHeader(out, "accord_collector_ingest_queue_wait_seconds", "histogram",
                     "Time messages waited in the ingest queue.");
  uint64_t cumulative = 0;
  for (size_t b = 0; b < kQueueWaitBuckets.size(); ++b) {
    cumulative += in.wait_buckets[b];
    out->append("accord_collector_ingest_queue_wait_seconds_bucket{le=\"");
    AppendPromValue(out, kQueueWaitBuckets[b]);
    absl::StrAppend(out, "\"} ", cumulative, "\n");
  }
  cumulative += in.wait_buckets.back();
  absl::StrAppend(out, "accord_collector_ingest_queue_wait_seconds_bucket{le=\"+Inf\"} ",
                  cumulative, "\n");
  out->append("accord_collector_ingest_queue_wait_seconds_sum ");
  AppendPromValue(out, in.wait_sum_seconds);
  absl::StrAppend(out, "\naccord_collector_ingest_queue_wait_seconds_count ", in.items, "\n");
  StoreStats st = store->Stats();
  one("accord_collector_store_transitions_written_total", "counter",
      "Host transitions committed to the database.", static_cast<double>(st.transitions_written));
  one("accord_collector_store_commits_total", "counter", "Database transactions committed.",
      static_cast<double>(st.commits));
  one("accord_collector_store_rollups_written_total", "counter",
      "Capacity minute rollups merged into the database.", static_cast<double>(st.rollups_written));
  one("accord_collector_store_rollup_errors_total", "counter",
      "Capacity minute rollups refused (not finite) or lost to a write error.",
      static_cast<double>(st.rollup_errors));
  one("accord_collector_store_rollups_dropped_total", "counter",
      "Capacity minute rollups dropped because too many waited for the database.",
      static_cast<double>(st.rollups_dropped));
  one("accord_collector_store_errors_total", "counter", "Database write errors.",
      static_cast<double>(st.errors));
  one("accord_collector_store_queue_depth", "gauge", "Writes waiting for the database.",
      static_cast<double>(st.queue_depth));
  one("accord_collector_store_commit_seconds_total", "counter",
      "Time spent committing to the database.", st.commit_seconds_sum);
  one("accord_collector_catalogue_reloads_total", "counter", "Catalogue reloads attempted.",
      static_cast<double>(catalogue_reloads.load()));
  one("accord_collector_catalogue_reload_errors_total", "counter",
      "Catalogue reloads refused because of errors (the running one was kept).",
      static_cast<double>(catalogue_reload_errors.load()));
  one("accord_collector_hosts", "gauge", "Hosts known to the collector.",
      static_cast<double>(registry.TableSizes().hosts));
  if (http != nullptr) {
    const HttpServer::Stats web = http->stats();
    one("accord_collector_http_requests_total", "counter",
        "HTTP requests received (metrics, API, health).", static_cast<double>(web.requests));
    one("accord_collector_http_responses_abandoned_total", "counter",
        "Streamed responses (the whole /metrics) whose client went away before the end, e.g. "
        "a scrape timeout; rendering stopped there.",
        static_cast<double>(web.responses_abandoned));
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  one("accord_collector_cpu_seconds_total", "counter", "CPU time used by the collector.",
      static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  one("accord_collector_resident_memory_bytes", "gauge", "Resident memory of the collector.",
      static_cast<double>(ResidentBytes()));
  const HeapTrimmer::Stats trims = heap_trimmer.stats();
  if (trims.trims > 0) {
    // As of the last trim: mallinfo2 walks every arena's free lists (tens of ms on a
    // fragmented 1 GiB heap), too slow for every scrape.
    AppendFamilyHeader(out, "accord_collector_heap_bytes", "gauge",
                       "Heap held by malloc after the last trim: in use, or free and kept for "
                       "reuse.");
    out->append("accord_collector_heap_bytes{state=\"in_use\"} ");
    AppendPromValue(out, static_cast<double>(trims.heap.in_use_bytes));
    out->append("\naccord_collector_heap_bytes{state=\"free\"} ");
    AppendPromValue(out, static_cast<double>(trims.heap.free_bytes));
    out->push_back('\n');
    one("accord_collector_resident_memory_after_trim_bytes", "gauge",
        "Resident memory right after the last heap trim: the low point between trims, "
        "steady when nothing grows.",
        static_cast<double>(trims.resident_after));
  }
  one("accord_collector_heap_trims_total", "counter",
      "Times freed heap was returned to the kernel (--memory.trim-interval).",
      static_cast<double>(trims.trims));
  one("accord_collector_heap_trim_seconds_total", "counter", "Time spent returning freed heap.",
      absl::ToDoubleSeconds(trims.time));
  one("accord_collector_heap_released_bytes_total", "counter",
      "Resident memory returned to the kernel by heap trims.",
      static_cast<double>(trims.released_bytes));
}

absl::Status Collector::Impl::LoadCatalogue() {
  const std::string& file = options.catalogue_file;
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read catalogue file \"", file, "\""));
  std::stringstream text;
  text << in.rdbuf();
  std::vector<HostRef> hosts;
  for (const HostView& h : registry.Hosts()) hosts.push_back({h.id, h.labels});
  std::vector<Diagnostic> diagnostics;
  CatalogueLoadOptions load_options;
  load_options.warn_unmatched = !hosts.empty();
  auto catalogue = collector::LoadCatalogue(text.str(), file, hosts, &diagnostics, load_options);
  for (const Diagnostic& d : diagnostics) {
    Log(d.severity == Diagnostic::Severity::kError ? LogLevel::kError : LogLevel::kWarn,
        "catalogue", {{"diagnostic", d.ToString()}});
  }
  if (!catalogue.ok()) return catalogue.status();
  auto active = std::make_shared<ActiveCatalogue>();
  active->version = catalogue->content_hash;
  active->loaded_at = clock.Now();
  active->catalogue = std::move(*catalogue);
  absl::Status recorded =
      store->RecordCatalogueVersion({active->version, file, active->loaded_at}, text.str());
  if (!recorded.ok()) return recorded;
  Log(LogLevel::kInfo, "catalogue loaded",
      {{"file", file},
       {"version", active->version},
       {"services", absl::StrCat(active->catalogue.services.size())}});
  capacity.SetCatalogue(std::shared_ptr<const Catalogue>(active, &active->catalogue));
  sla.SetCatalogue(std::move(active));
  return absl::OkStatus();
}

// Keeps the result of every service's last closed period, as computed when it closed (an
// audit record: later revisions of the past do not change it).
void Collector::Impl::SaveClosedPeriods() {
  auto active = sla.catalogue();
  if (active == nullptr) return;
  for (const Service& service : active->catalogue.services) {
    if (service.sla.period.kind == PeriodSpec::Kind::kRolling) continue;
    auto bounds = availability::PreviousPeriod(service.sla.period, clock.Now());
    if (!bounds.ok() || store->PeriodResult(service.id, bounds->start).ok()) continue;
    auto report = sla.ServiceAvailability(service.id, bounds->start, bounds->end);
    if (!report.ok()) continue;
    absl::Status st = store->SavePeriodResult(service.id, bounds->start, bounds->end,
                                              active->version, AvailabilityJson(*report));
    if (!st.ok()) {
      Log(LogLevel::kWarn, "cannot save a closed period", {{"error", std::string(st.message())}});
    }
  }
}

absl::Status Collector::ReloadCatalogue() {
  ++impl_->catalogue_reloads;
  absl::Status st = impl_->LoadCatalogue();
  if (!st.ok()) {
    ++impl_->catalogue_reload_errors;
    Log(LogLevel::kError, "catalogue reload failed; keeping the running catalogue",
        {{"error", std::string(st.message())}});
  }
  return st;
}

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Collector::~Collector() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Collector>> Collector::Start(const CollectorOptions& options,
                                                            Clock& clock) {
  if (options.ingest_ack_interval < absl::ZeroDuration() ||
      options.ingest_ack_interval > absl::Minutes(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ingest.ack-interval ", absl::FormatDuration(options.ingest_ack_interval),
                     ": must be between 0 and 1m (held acks keep batches in agents' spools)"));
  }
  if (options.ingest_queue_bytes < (uint64_t{1} << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ingest.queue-bytes ", options.ingest_queue_bytes,
                     ": must be at least 1MiB"));
  }
  std::error_code ec;
  std::filesystem::create_directories(options.storage_path, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("--storage.path \"", options.storage_path,
                                                   "\": cannot create: ", ec.message()));
  }
  StoreOptions store_options;
  store_options.path = options.storage_path + "/accord.db";
  store_options.retention = options.retention;
  store_options.capacity_minute_retention = options.capacity.minute_retention;
  store_options.capacity_hour_retention = options.capacity.hour_retention;
  auto store = SqliteStore::Open(store_options);
  if (!store.ok()) return store.status();
  auto restored = (*store)->LoadHosts(clock.Now() - options.retention);
  if (!restored.ok()) return restored.status();
  CollectorOptions o = options;
  o.hosts.transition_retention = options.retention;  // memory keeps what the store keeps
  auto impl = std::make_unique<Impl>(o, clock, std::move(*store));
  Impl* p = impl.get();
  size_t restored_hosts = restored->size();
  p->registry.Restore(std::move(*restored));
  Log(LogLevel::kInfo, "state restored",
      {{"database", store_options.path}, {"hosts", absl::StrCat(restored_hosts)}});

  if (!options.catalogue_file.empty()) {
    absl::Status st = p->LoadCatalogue();
    if (!st.ok()) return st;
  }

  HttpServerOptions http_options;
  http_options.listen_address = options.web_listen_address;
  auto handlers = MakeApiHandlers(
      p->registry,
      [p](std::string* out, const ExpositionDrain& drain) {
        p->capacity.RenderMetrics(out, drain);
        p->RenderSelf(out);
      },
      &p->sla);
  for (auto& h : MakeCapacityHandlers(p->capacity)) handlers.push_back(std::move(h));
  auto http = HttpServer::Start(http_options, std::move(handlers));
  if (!http.ok()) return http.status();
  p->http = std::move(*http);

  p->capacity.Start();
  // The consumer runs before streams can arrive: gRPC's shutdown waits for every stream to be
  // finished, and only the consumer finishes them.
  p->ingestor.Start();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.grpc_listen_address, grpc::InsecureServerCredentials(),
                           &p->grpc_port);
  builder.RegisterService(&p->service);
  // gRPC's own limit is above ours so that oversized messages reach us and are counted.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(options.max_message_bytes * 2 + 4096, INT32_MAX)));
  ApplyCollectorKeepalive(&builder);
  // Memory per connection. gRPC sizes each read from an estimate that starts at this value,
  // doubles whenever a read fills 80 % of it and otherwise decays toward what reads bring.
  // With its tcp_read_chunks experiment (on by default in 1.51) the buffer is an 8 KiB slice
  // (64 KiB from a 12 KiB estimate) kept on the idle connection; main turns the experiment off
  // (common/grpc/experiments.h), so the buffer is the estimate's size (a steady agent's
  // ~1.5 KiB). Starting at 2 KiB rather than 8 keeps an agent's first read (hello plus the
  // series descriptions, ~7 KiB) from doubling it at once; a backfill burst still grows it.
  // Measured with 2,000 simulated agents after 90 s: anonymous memory 255 -> 175 MiB (the
  // start value, with the experiment on); heap in use 142 -> 130 MB (the experiment off).
  builder.AddChannelArgument(GRPC_ARG_TCP_READ_CHUNK_SIZE, 2 * 1024);
  p->grpc_server = builder.BuildAndStart();
  if (p->grpc_server == nullptr || p->grpc_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on \"", options.grpc_listen_address, "\""));
  }

  p->ticker = std::thread([p] {
    absl::Duration next_persist = p->clock.Monotonic();
    absl::Duration next_close = p->clock.Monotonic();
    while (!p->stopping.load()) {
      // Silence is judged only up to what the ingest consumer has applied: messages waiting
      // in the queue (a slow scrape holding the registry, a slow disk) are not silence.
      p->registry.CheckTimeouts(p->ingestor.AppliedUpTo(p->clock.Monotonic()));
      if (p->clock.Monotonic() >= next_persist) {
        p->registry.PersistHosts();
        next_persist = p->clock.Monotonic() + absl::Seconds(1);
      }
      if (p->clock.Monotonic() >= next_close) {
        p->SaveClosedPeriods();
        next_close = p->clock.Monotonic() + absl::Minutes(1);
      }
      absl::SleepFor(p->options.liveness_check_interval);
    }
  });
  Log(LogLevel::kInfo, "collector started",
      {{"grpc_port", absl::StrCat(p->grpc_port)},
       {"web_port", absl::StrCat(p->http->port())},
       {"storage_path", options.storage_path},
       // What gRPC was told (main turns tcp_read_chunks off; see common/grpc/experiments.h).
       {"grpc_experiments", GrpcExperiments()}});
  return std::unique_ptr<Collector>(new Collector(std::move(impl)));
}

void Collector::Shutdown() {
  if (impl_ == nullptr || impl_->shut_down) return;
  impl_->shut_down = true;
  Log(LogLevel::kInfo, "collector stopping");
  // Ends open streams (agents reconnect elsewhere or later) and waits up to 5 s for reactors.
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  Log(LogLevel::kDebug, "gRPC server stopped");
  impl_->ingestor.Stop();  // drains what is queued
  Log(LogLevel::kDebug, "ingest drained");
  impl_->stopping = true;
  if (impl_->ticker.joinable()) impl_->ticker.join();
  impl_->capacity.Stop();  // writes the pending minutes to the store
  impl_->registry.PersistHosts();
  absl::Status flushed = impl_->store->Flush();
  if (!flushed.ok()) {
    Log(LogLevel::kError, "final database write failed",
        {{"error", std::string(flushed.message())}});
  }
  impl_->http.reset();
  Log(LogLevel::kDebug, "HTTP server stopped");
  Log(LogLevel::kInfo, "collector stopped");
}

int Collector::grpc_port() const { return impl_->grpc_port; }
int Collector::web_port() const { return impl_->http->port(); }
HostRegistry& Collector::registry() { return impl_->registry; }

}  // namespace accord::collector
