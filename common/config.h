// ConfigSchema: one loader at the edge that turns a YAML file and command-line flags into a
// component's Options struct, reporting every error at once with its place.
//
// Each option has a dotted name ("collector.address"). On the command line it is
// `--collector.address=VALUE` or `--collector.address VALUE`; in YAML it is either the flat key
// `collector.address: VALUE` or nested maps `collector: {address: VALUE}`. Flags override the
// file. `--config.file=PATH` names the file. Errors name the flag, or file:line:column and the
// field. Not thread-safe; used once in main().
#ifndef ACCORD_COMMON_CONFIG_H_
#define ACCORD_COMMON_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace accord {

// Parses "10s", "1m30s", "250ms", "7d" into a Duration.
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text);
// Parses "256MiB", "1GiB", "4096", "10KB" into bytes.
absl::StatusOr<uint64_t> ParseBytesFlag(absl::string_view text);

class ConfigSchema {
 public:
  // `program` appears in the usage text.
  explicit ConfigSchema(std::string program);

  // Each Add* registers an option writing into `*target`, whose current value is the default.
  // The pointers must outlive Parse().
  void AddString(std::string name, std::string* target, std::string help);
  void AddDuration(std::string name, absl::Duration* target, std::string help,
                   absl::Duration min = absl::ZeroDuration());
  void AddBytes(std::string name, uint64_t* target, std::string help);
  void AddInt(std::string name, int64_t* target, std::string help, int64_t min, int64_t max);
  void AddBool(std::string name, bool* target, std::string help);
  // Repeatable flag; a YAML sequence. The first use replaces the default list.
  void AddStringList(std::string name, std::vector<std::string>* target, std::string help);
  // Repeatable `--name key=value`; a YAML map. Keys must be valid Prometheus label names.
  void AddLabels(std::string name, std::map<std::string, std::string>* target, std::string help);
  // A flag that takes no value and is not in YAML (e.g. --version). Sets *target to true.
  void AddSwitch(std::string name, bool* target, std::string help);
  // A flag not in YAML taking a value (e.g. --check-config FILE).
  void AddCommand(std::string name, std::string* target, std::string help);

  // Top-level YAML keys that belong to another loader (e.g. the service catalogue) and are
  // skipped here rather than reported as unknown.
  void IgnoreYamlKeys(std::vector<std::string> keys) { ignored_keys_ = std::move(keys); }

  // Parses argv (argv[0] is skipped). Loads --config.file first, then applies flags.
  // Returns OK, or InvalidArgument whose message lists every error, one per line.
  // `--help` returns a Status with code kCancelled and the usage text as message.
  absl::Status Parse(int argc, const char* const* argv);

  // Applies a YAML document only (used by Parse and tests). `file` names it in errors.
  void ApplyYaml(absl::string_view yaml_text, const std::string& file,
                 std::vector<std::string>* errors);

  std::string Usage() const;
  const std::string& config_file() const { return config_file_; }

 private:
  enum class Kind { kScalar, kList, kLabels, kSwitch, kCommand };
  struct Option {
    std::string name;
    std::string help;
    Kind kind = Kind::kScalar;
    bool in_yaml = true;
    bool seen_list = false;
    // Parses one value; returns an error message or "".
    std::function<std::string(const std::string&)> set;
  };
  Option* Find(absl::string_view name);
  void Register(Option option);

  std::string program_;
  std::string config_file_;
  std::vector<Option> options_;
  std::vector<std::string> ignored_keys_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_CONFIG_H_
