// accord-collector: flags -> options -> Collector::Start -> wait for a signal -> Shutdown.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "collector/catalogue/catalogue_loader.h"
#include "collector/collector.h"
#include "collector/store/sqlite_store.h"
#include "common/cli.h"
#include "common/config.h"
#include "common/grpc/experiments.h"
#include "common/heap.h"
#include "common/logging.h"

namespace {

// The collector's options as flags and YAML keys; the catalogue's top-level keys are left to
// the catalogue loader. Used for the command line and by --check-config.
void AddCollectorFlags(accord::ConfigSchema* schema, accord::collector::CollectorOptions* options) {
  schema->AddString("grpc.listen-address", &options->grpc_listen_address,
                    "address agents connect to (default 0.0.0.0:7470; port 0: any free port)");
  schema->AddString("web.listen-address", &options->web_listen_address,
                    "address of /metrics and the HTTP API (default 0.0.0.0:9470)");
  schema->AddString("storage.path", &options->storage_path,
                    "directory for durable state (default ./var/collector)");
  schema->AddDuration("storage.retention", &options->retention,
                      "how long the transition log is kept (default 400d)", absl::Hours(24));
  schema->AddBytes("grpc.max-message-bytes", &options->max_message_bytes,
                   "largest accepted agent message (default 4MiB)");
  schema->AddInt("ingest.queue-capacity", &options->ingest_queue_capacity,
                 "ingest queue size in messages before streams are paused (default 65536)", 16,
                 1 << 24);
  schema->AddBytes("ingest.queue-bytes", &options->ingest_queue_bytes,
                   "memory the queued messages may hold before streams are paused (default "
                   "256MiB; one stream alone at most 16MiB)");
  schema->AddDuration("ingest.ack-interval", &options->ingest_ack_interval,
                      "acknowledge each agent at most this often: fewer writes with 1 s "
                      "sampling; acks are cumulative, so the next one covers the batches held "
                      "back (default 5s; 0: every batch as soon as it is durable; at most 1m; "
                      "see docs/protocol.md)",
                      absl::ZeroDuration());
  schema->AddDuration("capacity.minute-retention", &options->capacity.minute_retention,
                      "how long 1-minute capacity rollups are kept (default 7d)", absl::Hours(1));
  schema->AddDuration("capacity.hour-retention", &options->capacity.hour_retention,
                      "how long 1-hour capacity rollups are kept (default 400d)", absl::Hours(24));
  schema->AddDuration("capacity.evaluation-interval", &options->capacity.evaluation_interval,
                      "how often capacity metrics and fast forecasts are refreshed (default 30s)",
                      absl::Seconds(1));
  schema->AddDuration("capacity.history-refresh", &options->capacity.history_refresh,
                      "how often statistics and forecasts are recomputed from the stored "
                      "rollups (default 10m)",
                      absl::Seconds(1));
  schema->AddDuration("memory.trim-interval", &options->heap_trim_interval,
                      "how often freed heap is returned to the kernel (default 30s; 0: never)",
                      absl::ZeroDuration());
  schema->AddInt("memory.malloc-arenas", &options->malloc_arenas,
                 "the most malloc arenas (default 2; 0: glibc's default of 8 per core); fewer "
                 "strand less freed memory",
                 0, 64);
  schema->IgnoreYamlKeys(accord::collector::CatalogueSections());
}

// --check-config FILE: the flag sections and the catalogue, every problem at once, with
// file:line:column. Hosts known to the store (if any) let selectors be checked too.
int CheckConfig(const std::string& file, const std::string& storage_path) {
  std::ifstream in(file);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read the file\n", file.c_str());
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  int errors = 0;
  // The flag sections: the same schema as the command line.
  accord::collector::CollectorOptions scratch;
  std::string level;
  accord::ConfigSchema schema("accord-collector");
  AddCollectorFlags(&schema, &scratch);
  schema.AddString("log.level", &level, "");  // added by ParseCommandLine for the real run
  std::vector<std::string> flag_errors;
  schema.ApplyYaml(text.str(), file, &flag_errors);
  for (const auto& e : flag_errors) {
    std::printf("%s\n", e.c_str());
    ++errors;
  }
  std::vector<accord::collector::HostRef> hosts;
  std::string db = storage_path + "/accord.db";
  if (std::filesystem::exists(db)) {
    accord::collector::StoreOptions so;
    so.path = db;
    so.read_only = true;  // never migrate or prune a running collector's database
    if (auto store = accord::collector::SqliteStore::Open(so); store.ok()) {
      if (auto loaded = (*store)->LoadHosts(absl::Now()); loaded.ok()) {
        for (const auto& h : *loaded) hosts.push_back({h.record.id, h.record.labels});
      }
    }
  }
  std::vector<accord::collector::Diagnostic> diagnostics;
  accord::collector::CatalogueLoadOptions load_options;
  load_options.warn_unmatched = !hosts.empty();
  auto catalogue =
      accord::collector::LoadCatalogue(text.str(), file, hosts, &diagnostics, load_options);
  for (const auto& d : diagnostics) {
    std::printf("%s\n", d.ToString().c_str());
    if (d.severity == accord::collector::Diagnostic::Severity::kError) ++errors;
  }
  if (errors > 0) {
    std::printf("%s: %d error(s)\n", file.c_str(), errors);
    return 2;
  }
  std::printf("%s: OK (%zu services, %zu teams, %zu suppliers; version %s)\n", file.c_str(),
              catalogue->services.size(), catalogue->teams.size(), catalogue->suppliers.size(),
              catalogue->content_hash.c_str());
  return 0;
}

// --backup FILE: an online copy of the collector's database.
int Backup(const std::string& storage_path, const std::string& dest) {
  accord::collector::StoreOptions so;
  so.path = storage_path + "/accord.db";
  so.read_only = true;
  auto store = accord::collector::SqliteStore::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "accord-collector: backup: %s\n",
                 std::string(store.status().message()).c_str());
    return 1;
  }
  absl::Status st = (*store)->Backup(dest);
  if (!st.ok()) {
    std::fprintf(stderr, "accord-collector: backup: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  std::printf("backup of %s written to %s\n", so.path.c_str(), dest.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Before any gRPC object: gRPC reads its experiments once.
  accord::TurnOffTcpReadChunks();
  accord::collector::CollectorOptions options;
  accord::ConfigSchema schema("accord-collector");
  AddCollectorFlags(&schema, &options);
  std::string check_config;
  schema.AddCommand("check-config", &check_config,
                    "check a configuration and catalogue file, print every problem, exit");
  std::string backup;
  schema.AddCommand("backup", &backup,
                    "write a consistent copy of the database under --storage.path to FILE "
                    "(safe while the collector runs) and exit");

  if (auto exit_code = accord::ParseCommandLine(schema, argc, argv, "accord-collector"))
    return *exit_code;
  if (!check_config.empty()) return CheckConfig(check_config, options.storage_path);
  if (!backup.empty()) return Backup(options.storage_path, backup);
  options.catalogue_file = schema.config_file();

  // Before any thread: a thread's first allocation picks its arena.
  if (!accord::LimitMallocArenas(static_cast<int>(options.malloc_arenas))) {
    std::fprintf(stderr, "accord-collector: --memory.malloc-arenas=%lld was refused by malloc\n",
                 static_cast<long long>(options.malloc_arenas));
    return 2;
  }
  // Signals are taken synchronously by this thread; block them before threads start.
  sigset_t signals = accord::BlockShutdownSignals(/*hup=*/true);

  auto collector = accord::collector::Collector::Start(options, accord::RealClock::Get());
  if (!collector.ok()) {
    accord::Log(accord::LogLevel::kError, "cannot start",
                {{"error", std::string(collector.status().message())}});
    return 1;
  }
  int sig = 0;
  while (true) {
    sigwait(&signals, &sig);
    accord::Log(accord::LogLevel::kInfo, "signal received", {{"signal", strsignal(sig)}});
    if (sig != SIGHUP) break;
    if (options.catalogue_file.empty()) {
      accord::Log(accord::LogLevel::kWarn, "no --config.file to reload");
    } else {
      (*collector)->ReloadCatalogue().IgnoreError();  // logged; the running one stays
    }
  }
  (*collector)->Shutdown();
  return 0;
}
