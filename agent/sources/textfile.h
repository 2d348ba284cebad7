// Textfile source: custom series a service publishes in `*.prom` files of one directory, in
// the Prometheus text exposition format (node_exporter's textfile collector convention), so
// that business volumes (users, orders/s) travel with the host's resource use.
//
// Two parts:
//   - ParseTextfile: a pure function from the text of one file to Samples. Thread-safe.
//   - TextfileSource: reads the directory each cycle, applies each file whole or not at all,
//     and adds its own accord_agent_textfile_* series. Not thread-safe (one caller, like the
//     Sampler that owns it).
//
// Format accepted (text format 0.0.4, as Prometheus' expfmt.TextParser reads it):
//   - `# HELP name text` and `# TYPE name counter|gauge|untyped|summary|histogram` (the type
//     is case-insensitive); any other `#` line is a comment; blank lines are skipped. At most
//     one HELP and one TYPE per name, and TYPE before the name's first sample.
//   - `name{label="value",...} value`: blanks around tokens inside the braces and a trailing
//     comma are allowed; label values escape `\\`, `\"` and `\n` (no other escape) and must be
//     valid UTF-8; the value is a float, or NaN, +Inf, -Inf (any case, as Go reads them).
//   - Lines end in "\n"; a "\r" before it is ignored (files written on Windows).
// Decisions where Accord differs from, or picks among, node_exporter's behaviours:
//   - A sample with a timestamp makes the file invalid, like node_exporter ("client-side
//     timestamps are not supported"): the agent stamps every value with its sampling time.
//   - counter → kCounter; gauge and untyped → kGauge. Histograms and summaries are passed as
//     their plain series: `<h>_bucket{le=...}`, `<h>_sum`, `<h>_count`, `<s>_sum`, `<s>_count`
//     as counters (cumulative), `<s>{quantile=...}` as gauges. `le` and `quantile` must be
//     floats; a histogram sample without one of the three suffixes is an error.
//   - Names starting with `accord_` are refused (they belong to Accord itself).
//   - The label `host` is renamed `exported_host` (then `exported_exported_host`, ... until
//     unique), as Prometheus does when a target's label clashes with its own: the collector
//     sets `host` on every series.
//   - Limits that match the collector's checks (collector/hosts/host_registry.cc Apply):
//     metric and label names at most 200 bytes, at most 16 labels per series, label values at
//     most 1024 bytes; a series twice in one file is an error, and so is a name that is a
//     counter on one line and a gauge on another.
// Any violation makes the whole file invalid: nothing of it is used.
#ifndef ACCORD_AGENT_SOURCES_TEXTFILE_H_
#define ACCORD_AGENT_SOURCES_TEXTFILE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/sources/sample.h"

namespace accord::agent {

// Per-file limits of ParseTextfile. Defaults match the collector's per-series checks.
struct TextfileLimits {
  // Series in one file; more is an error (bounds the memory one file can take).
  size_t max_series = 1000;
  // Metric names and label names, in bytes.
  size_t max_name_bytes = 200;
  // Labels of one series, after `host` was renamed (collector: max_labels_per_series).
  size_t max_labels_per_series = 16;
  // Bytes of one label value, after unescaping (collector: max_label_value_bytes).
  size_t max_label_value_bytes = 1024;
};

// Parses the text of one textfile into samples, in file order, each with its labels sorted by
// name. Success: every series of the file (possibly none). Failure: kInvalidArgument whose
// message starts with "line <n>: " (1-based) and says what is wrong; nothing is returned.
// If `lines` is not null it receives the line of each returned sample (same order).
absl::StatusOr<std::vector<Sample>> ParseTextfile(absl::string_view text,
                                                  const TextfileLimits& limits = TextfileLimits(),
                                                  std::vector<int>* lines = nullptr);

struct TextfileOptions {
  // Directory whose `*.prom` files are read every cycle: not recursive, in byte order of the
  // file name, regular files only (symlinks are followed). Used as given, not below
  // SamplerOptions::rootfs (as node_exporter's --collector.textfile.directory). Empty:
  // disabled.
  std::string directory;
  // Files larger than this are skipped (and counted) without being read.
  size_t max_file_bytes = size_t{1} << 20;
  // `*.prom` files read per cycle: those after the first `max_files` by name are skipped and
  // counted. Bounds the time a cycle spends here (at most max_files * max_file_bytes read)
  // and the number of mtime series.
  size_t max_files = 100;
  // Custom series from all files together. A file that would take the total above this is
  // skipped as a whole and counted; later (smaller) files may still fit.
  size_t max_series = 1000;
  // Distinct custom series over the agent's life. The agent and the collector remember every
  // series a host ever sent (the collector refuses a host's batches beyond its
  // max_series_per_host, 20,000 by default), so label values that keep changing (series
  // churn) must stop somewhere: once this many distinct series were sent, a file that would
  // add a new one is skipped whole and counted. Series already known keep flowing.
  size_t max_lifetime_series = 10000;
  // Per-series limits; its max_series is ignored (the cap above applies, per file too).
  TextfileLimits limits;
};

// What one TextfileSource::Collect did.
struct TextfileStats {
  uint64_t files = 0;             // `*.prom` files found (including those over max_files)
  uint64_t files_applied = 0;     // files whose samples were appended
  uint64_t file_errors = 0;       // files skipped: unreadable, too large, malformed,
                                  // duplicate series, over max_series or max_files
  uint64_t directory_errors = 0;  // 1 when the directory could not be listed
  uint64_t samples = 0;           // custom samples appended (not the self series)
  uint64_t dropped_samples = 0;   // samples of files that parsed but were skipped (conflicts
                                  // with an earlier file, over max_series)
};

class TextfileSource {
 public:
  // Constructing does no I/O.
  explicit TextfileSource(TextfileOptions options);
  ~TextfileSource();
  TextfileSource(const TextfileSource&) = delete;
  TextfileSource& operator=(const TextfileSource&) = delete;

  // Reads every `*.prom` file of the directory once and appends, to *out (not cleared):
  // the samples of each valid file, then the self series (metric_names.h):
  //   accord_agent_textfile_mtime_seconds{file="<name>"}  per applied file
  //   accord_agent_textfile_scrape_error                 1 if the directory or any file
  //                                                       failed this cycle, else 0
  //   accord_agent_textfile_errors_total                 files and directory listings that
  //                                                       failed, since the source was made
  // A file is skipped whole when it cannot be read, is larger than max_file_bytes, does not
  // parse, repeats a series of an earlier file (the earlier one wins) or gives a name of an
  // earlier file the other kind, or would exceed max_series. Each failure is logged once per (file,
  // error) change, with the file and the parser's "line <n>: ..." message; a recovery is logged
  // once. A directory that cannot be listed adds only the self series. Never fails. REQUIRES: out
  // != nullptr.
  //
  // Blocking: local reads of at most max_files * max_file_bytes. A file replaced by a FIFO
  // between the type check and the open would block the read; do not put FIFOs there.
  TextfileStats Collect(std::vector<Sample>* out);

 private:
  // Records this cycle's failure of `key` (a file name, or "" for the directory) in *failing
  // and logs it unless the previous cycle logged the same error for it.
  void Fail(const std::string& key, const absl::Status& status,
            std::map<std::string, std::string>* failing);
  // Logs a recovery if `key` failed in the previous cycle.
  void Succeed(const std::string& key);

  const TextfileOptions options_;
  // Every distinct custom series key ever appended (bounded by max_lifetime_series).
  absl::flat_hash_set<std::string> known_;
  std::string buf_;  // file contents, reused across files and cycles
  uint64_t errors_total_ = 0;
  // Errors of the previous cycle by file name, "" for the directory. Only what failed in the
  // last cycle is kept, so the map stays bounded by the directory.
  std::map<std::string, std::string> last_error_;
};

}  // namespace accord::agent

#endif  // ACCORD_AGENT_SOURCES_TEXTFILE_H_
