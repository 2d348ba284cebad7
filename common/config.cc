#include "common/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "yaml-cpp/yaml.h"

namespace accord {
namespace {

bool IsLabelName(absl::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = absl::ascii_isalpha(c) || c == '_' || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

std::string Where(const std::string& file, const YAML::Mark& mark) {
  return absl::StrCat(file, ":", mark.line + 1, ":", mark.column + 1);
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  absl::Duration d;
  if (absl::EndsWith(text, "d")) {
    double days;
    if (absl::SimpleAtod(text.substr(0, text.size() - 1), &days) && days >= 0) {
      return absl::Hours(24) * days;
    }
  } else if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration()) {
    return d;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid duration \"", text, "\" (want e.g. 500ms, 10s, 5m, 7d)"));
}

absl::StatusOr<uint64_t> ParseBytesFlag(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  static const std::pair<const char*, uint64_t> kUnits[] = {
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},   {"TiB", 1ull << 40},
      {"KB", 1000ull},     {"MB", 1000000ull},  {"GB", 1000000000ull}, {"B", 1}};
  uint64_t mult = 1;
  absl::string_view num = text;
  for (const auto& [suffix, m] : kUnits) {
    if (absl::EndsWith(text, suffix)) {
      mult = m;
      num = text.substr(0, text.size() - strlen(suffix));
      break;
    }
  }
  double v;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(num), &v) || v < 0 || v > 1.8e19 / mult) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size \"", text, "\" (want e.g. 4096, 64KiB, 256MiB)"));
  }
  return static_cast<uint64_t>(v * static_cast<double>(mult));
}

ConfigSchema::ConfigSchema(std::string program) : program_(std::move(program)) {}

void ConfigSchema::Register(Option option) { options_.push_back(std::move(option)); }

ConfigSchema::Option* ConfigSchema::Find(absl::string_view name) {
  for (auto& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

void ConfigSchema::AddString(std::string name, std::string* target, std::string help) {
  Register({std::move(name), std::move(help), Kind::kScalar, true, false,
            [target](const std::string& v) {
              *target = v;
              return std::string();
            }});
}

void ConfigSchema::AddDuration(std::string name, absl::Duration* target, std::string help,
                               absl::Duration min) {
  Register({std::move(name), std::move(help), Kind::kScalar, true, false,
            [target, min](const std::string& v) {
              auto d = ParseDurationFlag(v);
              if (!d.ok()) return std::string(d.status().message());
              if (*d < min) {
                return absl::StrCat("duration ", v, " is below the minimum ",
                                    absl::FormatDuration(min));
              }
              *target = *d;
              return std::string();
            }});
}

void ConfigSchema::AddBytes(std::string name, uint64_t* target, std::string help) {
  Register({std::move(name), std::move(help), Kind::kScalar, true, false,
            [target](const std::string& v) {
              auto b = ParseBytesFlag(v);
              if (!b.ok()) return std::string(b.status().message());
              *target = *b;
              return std::string();
            }});
}

void ConfigSchema::AddInt(std::string name, int64_t* target, std::string help, int64_t min,
                          int64_t max) {
  Register({std::move(name), std::move(help), Kind::kScalar, true, false,
            [target, min, max](const std::string& v) {
              int64_t n;
              if (!absl::SimpleAtoi(v, &n)) return absl::StrCat("invalid integer \"", v, "\"");
              if (n < min || n > max) {
                return absl::StrCat("value ", n, " outside [", min, ", ", max, "]");
              }
              *target = n;
              return std::string();
            }});
}

void ConfigSchema::AddBool(std::string name, bool* target, std::string help) {
  Register({std::move(name), std::move(help), Kind::kScalar, true, false,
            [target](const std::string& v) {
              if (v == "true" || v == "1" || v == "yes") {
                *target = true;
              } else if (v == "false" || v == "0" || v == "no") {
                *target = false;
              } else {
                return absl::StrCat("invalid boolean \"", v, "\" (want true or false)");
              }
              return std::string();
            }});
}

void ConfigSchema::AddStringList(std::string name, std::vector<std::string>* target,
                                 std::string help) {
  // The first use (in the file, then again on the command line) replaces the default list.
  size_t idx = options_.size();
  Register({std::move(name), std::move(help), Kind::kList, true, false,
            [this, idx, target](const std::string& v) {
              if (!options_[idx].seen_list) {
                target->clear();
                options_[idx].seen_list = true;
              }
              target->push_back(v);
              return std::string();
            }});
}

void ConfigSchema::AddLabels(std::string name, std::map<std::string, std::string>* target,
                             std::string help) {
  Register({std::move(name), std::move(help), Kind::kLabels, true, false,
            [target](const std::string& v) {
              auto eq = v.find('=');
              if (eq == std::string::npos) {
                return absl::StrCat("invalid label \"", v, "\" (want key=value)");
              }
              std::string key = v.substr(0, eq);
              if (!IsLabelName(key)) {
                return absl::StrCat("invalid label name \"", key,
                                    "\" (want [a-zA-Z_][a-zA-Z0-9_]*)");
              }
              (*target)[key] = v.substr(eq + 1);
              return std::string();
            }});
}

void ConfigSchema::AddSwitch(std::string name, bool* target, std::string help) {
  Register(
      {std::move(name), std::move(help), Kind::kSwitch, false, false, [target](const std::string&) {
         *target = true;
         return std::string();
       }});
}

void ConfigSchema::AddCommand(std::string name, std::string* target, std::string help) {
  Register({std::move(name), std::move(help), Kind::kCommand, false, false,
            [target](const std::string& v) {
              *target = v;
              return std::string();
            }});
}

void ConfigSchema::ApplyYaml(absl::string_view yaml_text, const std::string& file,
                             std::vector<std::string>* errors) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    errors->push_back(absl::StrCat(Where(file, e.mark), ": ", e.msg));
    return;
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) {
    errors->push_back(absl::StrCat(Where(file, root.Mark()), ": the file must be a YAML map"));
    return;
  }
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& map,
                                                                        const std::string& prefix) {
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>("");
      if (prefix.empty() &&
          std::find(ignored_keys_.begin(), ignored_keys_.end(), key) != ignored_keys_.end()) {
        continue;
      }
      std::string full = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
      const YAML::Node& value = kv.second;
      Option* o = Find(full);
      auto err = [&](const YAML::Node& at, const std::string& msg) {
        errors->push_back(absl::StrCat(Where(file, at.Mark()), ": field ", full, ": ", msg));
      };
      if (o == nullptr || !o->in_yaml) {
        bool is_prefix = std::any_of(options_.begin(), options_.end(), [&](const Option& x) {
          return x.in_yaml && absl::StartsWith(x.name, full + ".");
        });
        if (value.IsMap() && o == nullptr && is_prefix) {
          walk(value, full);
        } else {
          err(kv.first, "unknown key");
        }
        continue;
      }
      switch (o->kind) {
        case Kind::kScalar:
          if (!value.IsScalar()) {
            err(value, "want a single value");
          } else if (auto m = o->set(value.Scalar()); !m.empty()) {
            err(value, m);
          }
          break;
        case Kind::kList:
          if (value.IsScalar()) {
            if (auto m = o->set(value.Scalar()); !m.empty()) err(value, m);
          } else if (value.IsSequence()) {
            for (const auto& item : value) {
              if (!item.IsScalar()) {
                err(item, "want a list of values");
              } else if (auto m = o->set(item.Scalar()); !m.empty()) {
                err(item, m);
              }
            }
          } else {
            err(value, "want a list of values");
          }
          break;
        case Kind::kLabels:
          if (!value.IsMap()) {
            err(value, "want a map of label names to values");
            break;
          }
          for (const auto& item : value) {
            if (!item.second.IsScalar()) {
              err(item.second, "want a string value");
            } else if (auto m = o->set(
                           absl::StrCat(item.first.as<std::string>(""), "=", item.second.Scalar()));
                       !m.empty()) {
              err(item.first, m);
            }
          }
          break;
        case Kind::kSwitch:
        case Kind::kCommand:
          err(kv.first, "unknown key");
          break;
      }
    }
  };
  walk(root, "");
}

absl::Status ConfigSchema::Parse(int argc, const char* const* argv) {
  std::vector<std::string> errors;
  // Pass 1: split flags into (name, value) pairs.
  struct Flag {
    std::string name;
    std::string value;
    bool has_value;
  };
  std::vector<Flag> flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      return absl::CancelledError(Usage());
    }
    if (!absl::StartsWith(arg, "--")) {
      errors.push_back(absl::StrCat("argument \"", arg, "\": unexpected (flags start with --)"));
      continue;
    }
    arg.remove_prefix(2);
    Flag f;
    auto eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      f = {std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1)), true};
    } else {
      f = {std::string(arg), "", false};
      Option* o = Find(f.name);
      bool takes_value = f.name == "config.file" || (o && o->kind != Kind::kSwitch);
      if (takes_value && i + 1 < argc) {
        f.value = argv[++i];
        f.has_value = true;
      }
    }
    flags.push_back(std::move(f));
  }
  // Pass 2: the config file.
  for (const auto& f : flags) {
    if (f.name == "config.file") config_file_ = f.value;
  }
  if (!config_file_.empty()) {
    std::ifstream in(config_file_);
    if (!in) {
      errors.push_back(absl::StrCat("flag --config.file: cannot read \"", config_file_, "\""));
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      ApplyYaml(ss.str(), config_file_, &errors);
    }
  }
  // Pass 3: flags override the file.
  for (auto& o : options_) o.seen_list = false;
  for (const auto& f : flags) {
    if (f.name == "config.file") continue;
    Option* o = Find(f.name);
    if (o == nullptr) {
      errors.push_back(absl::StrCat("flag --", f.name, ": unknown flag"));
      continue;
    }
    if (o->kind == Kind::kSwitch) {
      o->set("");
      continue;
    }
    if (!f.has_value) {
      errors.push_back(absl::StrCat("flag --", f.name, ": missing value"));
      continue;
    }
    if (auto m = o->set(f.value); !m.empty()) {
      errors.push_back(absl::StrCat("flag --", f.name, ": ", m));
    }
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  return absl::OkStatus();
}

std::string ConfigSchema::Usage() const {
  std::string out = absl::StrCat("usage: ", program_, " [flags]\n\nflags:\n");
  absl::StrAppend(&out, "  --config.file=PATH\n      YAML file with any of the options below\n");
  for (const auto& o : options_) {
    absl::StrAppend(&out, "  --", o.name, o.kind == Kind::kSwitch ? "" : "=VALUE", "\n      ",
                    o.help, "\n");
  }
  return out;
}

}  // namespace accord
