#include "agent/sources/textfile.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/charconv.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/sources/file_reader.h"
#include "agent/sources/metric_names.h"
#include "agent/sources/parse_util.h"
#include "common/errno_status.h"
#include "common/logging.h"
#include "common/prom_text.h"
#include "common/utf8.h"

namespace accord::agent {
namespace {

using internal::IsBlank;

constexpr size_t kMaxShown = 40;         // bytes of offending text quoted in an error
constexpr size_t kMaxSeriesShown = 200;  // bytes of a series quoted in an error

// `"text"` escaped and cut, for error messages.
std::string Quote(absl::string_view text) {
  const bool cut = text.size() > kMaxShown;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShown)), cut ? "...\"" : "\"");
}

// An escape sequence as written: backslash, then the character (hex-escaped if unprintable).
std::string EscapeText(char c) {
  return absl::StrCat("\\", absl::CHexEscape(absl::string_view(&c, 1)));
}

absl::Status LineError(int line, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", problem));
}

bool IsMetricNameStart(char c) { return absl::ascii_isalpha(c) || c == '_' || c == ':'; }
bool IsMetricNameChar(char c) { return IsMetricNameStart(c) || absl::ascii_isdigit(c); }
bool IsLabelNameStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsLabelNameChar(char c) { return IsLabelNameStart(c) || absl::ascii_isdigit(c); }

void SkipBlanks(absl::string_view line, size_t* i) {
  while (*i < line.size() && IsBlank(line[*i])) ++*i;
}

// The run of non-blank characters at *i; advances *i past it.
absl::string_view NextToken(absl::string_view line, size_t* i) {
  const size_t start = *i;
  while (*i < line.size() && !IsBlank(line[*i])) ++*i;
  return line.substr(start, *i - start);
}

// A float as Go's strconv.ParseFloat reads it in decimal (what expfmt uses): an optional sign,
// digits with an optional fraction and exponent, or Inf/Infinity/NaN in any case. Go's
// hexadecimal floats ("0x1p4") and digit separators are not accepted. Values out
// of the double range are refused (Go reports ErrRange, and expfmt fails the file).
enum class ValueResult { kOk, kNotANumber, kOutOfRange };
ValueResult ParseValue(absl::string_view token, double* out) {
  absl::string_view t = token;
  bool negative = false;
  bool signed_value = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    signed_value = true;
    t.remove_prefix(1);
  }
  if (absl::EqualsIgnoreCase(t, "inf") || absl::EqualsIgnoreCase(t, "infinity")) {
    *out = negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
    return ValueResult::kOk;
  }
  if (absl::EqualsIgnoreCase(t, "nan") && !signed_value) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return ValueResult::kOk;
  }
  if (t.empty() || !(absl::ascii_isdigit(t[0]) || t[0] == '.')) return ValueResult::kNotANumber;
  // Decimal only (absl::from_chars would also read hexadecimal "0x10").
  for (char c : t) {
    if (!absl::ascii_isdigit(c) && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-') {
      return ValueResult::kNotANumber;
    }
  }
  double v = 0;
  const absl::from_chars_result r = absl::from_chars(t.data(), t.data() + t.size(), v);
  if (r.ptr != t.data() + t.size()) return ValueResult::kNotANumber;
  if (r.ec == std::errc::result_out_of_range) return ValueResult::kOutOfRange;
  if (r.ec != std::errc()) return ValueResult::kNotANumber;
  *out = negative ? -v : v;
  return ValueResult::kOk;
}

// name{a="1",b="2"} with values escaped, cut for messages.
std::string SeriesText(absl::string_view name, const Labels& labels) {
  std::string out(name);
  if (!labels.empty()) {
    out.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out.push_back(',');
      absl::StrAppend(&out, labels[i].first, "=\"");
      AppendEscapedLabelValue(&out, labels[i].second);
      out.push_back('"');
    }
    out.push_back('}');
  }
  if (out.size() > kMaxSeriesShown) {
    out.resize(kMaxSeriesShown);
    out.append("...");
  }
  return out;
}

// An unambiguous key for name + sorted labels: label names cannot hold '=' or 0xFF, and label
// values are valid UTF-8, which never holds the byte 0xFF.
void SeriesKey(const Sample& s, std::string* key) {
  key->assign(s.name);
  for (const auto& [name, value] : s.labels) {
    key->push_back('\xff');
    key->append(name);
    key->push_back('=');
    key->append(value);
  }
}

const char* KindName(MetricKind kind) { return kind == MetricKind::kCounter ? "counter" : "gauge"; }

enum class FamilyType { kUntyped, kCounter, kGauge, kSummary, kHistogram };

struct Family {
  FamilyType type = FamilyType::kUntyped;
  int help_line = 0;          // 0: no HELP yet
  int type_line = 0;          // 0: no TYPE yet
  int first_sample_line = 0;  // 0: no sample yet
};

// What a sample is within its family.
enum class Role { kPlain, kBucket, kQuantile, kSumOrCount };

class Parser {
 public:
  Parser(const TextfileLimits& limits, std::vector<Sample>* out, std::vector<int>* lines)
      : limits_(limits), out_(out), lines_(lines) {}

  absl::Status ParseLine(absl::string_view line, int line_no) {
    size_t i = 0;
    SkipBlanks(line, &i);
    if (i == line.size()) return absl::OkStatus();
    if (line[i] == '#') return ParseComment(line.substr(i + 1), line_no);
    return ParseSample(line.substr(i), line_no);
  }

 private:
  // Checks a metric name read from a HELP, TYPE or sample line.
  absl::Status CheckMetricName(absl::string_view name, int line_no) const {
    if (!IsValidMetricName(name)) {
      return LineError(line_no, absl::StrCat("invalid metric name ", Quote(name)));
    }
    if (name.size() > limits_.max_name_bytes) {
      return LineError(line_no, absl::StrCat("metric name ", Quote(name), " is longer than ",
                                             limits_.max_name_bytes, " bytes"));
    }
    if (absl::StartsWith(name, "accord_")) {
      return LineError(line_no, absl::StrCat("metric name ", Quote(name),
                                             " starts with accord_, which is reserved for "
                                             "Accord's own series"));
    }
    return absl::OkStatus();
  }

  absl::Status ParseComment(absl::string_view rest, int line_no) {
    size_t i = 0;
    SkipBlanks(rest, &i);
    const absl::string_view keyword = NextToken(rest, &i);
    const bool help = keyword == "HELP";
    if (!help && keyword != "TYPE") return absl::OkStatus();  // a plain comment
    SkipBlanks(rest, &i);
    const absl::string_view name = NextToken(rest, &i);
    if (name.empty()) {
      return LineError(line_no, absl::StrCat(keyword, " line without a metric name"));
    }
    if (absl::Status st = CheckMetricName(name, line_no); !st.ok()) return st;
    SkipBlanks(rest, &i);
    const absl::string_view text = rest.substr(i);
    Family& family = families_[name];
    if (help) {
      for (size_t k = 0; k < text.size(); ++k) {
        if (text[k] != '\\') continue;
        if (k + 1 == text.size()) {
          return LineError(line_no, "HELP text ends in a lone backslash");
        }
        if (text[k + 1] != '\\' && text[k + 1] != 'n') {
          return LineError(line_no,
                           absl::StrCat("invalid escape sequence ", EscapeText(text[k + 1]),
                                        " in HELP text (only \\\\ and \\n are allowed)"));
        }
        ++k;
      }
      if (family.help_line != 0) {
        return LineError(line_no, absl::StrCat("second HELP line for ", name, " (first on line ",
                                               family.help_line, ")"));
      }
      family.help_line = line_no;
      return absl::OkStatus();
    }
    const std::string type = absl::AsciiStrToLower(absl::StripTrailingAsciiWhitespace(text));
    FamilyType parsed;
    if (type == "counter") {
      parsed = FamilyType::kCounter;
    } else if (type == "gauge") {
      parsed = FamilyType::kGauge;
    } else if (type == "untyped") {
      parsed = FamilyType::kUntyped;
    } else if (type == "summary") {
      parsed = FamilyType::kSummary;
    } else if (type == "histogram") {
      parsed = FamilyType::kHistogram;
    } else {
      return LineError(line_no, absl::StrCat("unknown type ", Quote(text), " for ", name,
                                             " (counter, gauge, untyped, summary or histogram)"));
    }
    if (family.type_line != 0) {
      return LineError(line_no, absl::StrCat("second TYPE line for ", name, " (first on line ",
                                             family.type_line, ")"));
    }
    if (family.first_sample_line != 0) {
      return LineError(line_no,
                       absl::StrCat("TYPE line for ", name, " after its first sample (line ",
                                    family.first_sample_line, ")"));
    }
    family.type = parsed;
    family.type_line = line_no;
    return absl::OkStatus();
  }

  // Finds the family of sample `name` as expfmt does: the family of that exact name, else the
  // histogram or summary it is a _bucket, _sum or _count of, else a new untyped family.
  Family& FamilyOf(absl::string_view name, Role* role, std::string* family_name) {
    auto it = families_.find(name);
    if (it != families_.end()) {
      *role = it->second.type == FamilyType::kSummary ? Role::kQuantile : Role::kPlain;
      family_name->assign(name.data(), name.size());
      return it->second;
    }
    const std::pair<absl::string_view, bool> suffixes[] = {
        {"_bucket", true}, {"_sum", false}, {"_count", false}};
    for (const auto& [suffix, bucket] : suffixes) {
      if (!absl::EndsWith(name, suffix)) continue;
      absl::string_view base = name.substr(0, name.size() - suffix.size());
      auto base_it = families_.find(base);
      if (base_it == families_.end()) continue;
      const FamilyType type = base_it->second.type;
      if (type == FamilyType::kHistogram || (!bucket && type == FamilyType::kSummary)) {
        *role = bucket ? Role::kBucket : Role::kSumOrCount;
        family_name->assign(base.data(), base.size());
        return base_it->second;
      }
    }
    *role = Role::kPlain;
    family_name->assign(name.data(), name.size());
    return families_[name];
  }

  absl::Status ParseSample(absl::string_view line, int line_no) {
    size_t i = 0;
    if (IsMetricNameStart(line[0])) {
      i = 1;
      while (i < line.size() && IsMetricNameChar(line[i])) ++i;
    }
    const absl::string_view name = line.substr(0, i);
    if (name.empty()) {
      return LineError(line_no, absl::StrCat("expected a metric name, found ", Quote(line)));
    }
    if (absl::Status st = CheckMetricName(name, line_no); !st.ok()) return st;
    SkipBlanks(line, &i);

    Labels labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      if (absl::Status st = ParseLabels(line, &i, line_no, &labels); !st.ok()) return st;
      SkipBlanks(line, &i);
    }

    const absl::string_view value_token = NextToken(line, &i);
    if (value_token.empty()) {
      return LineError(line_no, absl::StrCat("no value for ", name));
    }
    double value = 0;
    switch (ParseValue(value_token, &value)) {
      case ValueResult::kOk:
        break;
      case ValueResult::kNotANumber:
        return LineError(
            line_no, absl::StrCat("value ", Quote(value_token), " of ", name, " is not a number"));
      case ValueResult::kOutOfRange:
        return LineError(line_no, absl::StrCat("value ", Quote(value_token), " of ", name,
                                               " is out of the range of a double"));
    }
    SkipBlanks(line, &i);
    const absl::string_view extra = NextToken(line, &i);
    if (!extra.empty()) {
      int64_t ts = 0;
      if (internal::ParseI64(extra, &ts)) {
        return LineError(line_no,
                         absl::StrCat("sample of ", name, " has a timestamp (", extra,
                                      "); timestamps are not supported (as in node_exporter): "
                                      "the agent stamps values with its sampling time"));
      }
      return LineError(line_no,
                       absl::StrCat("unexpected text ", Quote(line.substr(i - extra.size())),
                                    " after the value of ", name));
    }

    Role role = Role::kPlain;
    std::string family_name;
    Family& family = FamilyOf(name, &role, &family_name);
    if (family.first_sample_line == 0) family.first_sample_line = line_no;
    MetricKind kind = MetricKind::kGauge;
    switch (family.type) {
      case FamilyType::kCounter:
        kind = MetricKind::kCounter;
        break;
      case FamilyType::kGauge:
      case FamilyType::kUntyped:
        kind = MetricKind::kGauge;
        break;
      case FamilyType::kHistogram:
        if (role == Role::kPlain) {
          return LineError(line_no, absl::StrCat("sample ", name, " of histogram ", family_name,
                                                 " must be ", family_name, "_bucket, ", family_name,
                                                 "_sum or ", family_name, "_count"));
        }
        kind = MetricKind::kCounter;
        break;
      case FamilyType::kSummary:
        kind = role == Role::kQuantile ? MetricKind::kGauge : MetricKind::kCounter;
        break;
    }
    if (role == Role::kBucket || role == Role::kQuantile) {
      const absl::string_view wanted = role == Role::kBucket ? "le" : "quantile";
      auto it = std::find_if(labels.begin(), labels.end(),
                             [&](const auto& l) { return l.first == wanted; });
      if (it == labels.end()) {
        return LineError(line_no, absl::StrCat("sample ", name, " of ",
                                               role == Role::kBucket ? "histogram " : "summary ",
                                               family_name, " has no ", wanted, " label"));
      }
      double bound = 0;
      if (ParseValue(it->second, &bound) != ValueResult::kOk) {
        return LineError(line_no, absl::StrCat("label ", wanted, " of ", name,
                                               " is not a number: ", Quote(it->second)));
      }
    }

    // The collector sets `host` on every series: keep the file's as exported_host.
    for (auto& label : labels) {
      if (label.first != "host") continue;
      std::string renamed = "exported_host";
      auto taken = [&](const std::string& n) {
        return std::any_of(labels.begin(), labels.end(),
                           [&](const auto& l) { return l.first == n; });
      };
      while (taken(renamed)) renamed.insert(0, "exported_");
      label.first = std::move(renamed);
    }
    if (labels.size() > limits_.max_labels_per_series) {
      return LineError(
          line_no, absl::StrCat(name, " has ", labels.size(), " labels, more than the limit of ",
                                limits_.max_labels_per_series));
    }
    std::sort(labels.begin(), labels.end());

    auto [known, first] = kinds_.try_emplace(name, kind, line_no);
    if (!first && known->second.first != kind) {
      return LineError(
          line_no, absl::StrCat(name, " is a ", KindName(kind), " here but a ",
                                KindName(known->second.first), " on line ", known->second.second));
    }
    if (out_->size() >= limits_.max_series) {
      return LineError(line_no,
                       absl::StrCat("more than ", limits_.max_series, " series in one file"));
    }
    Sample sample;
    sample.name.assign(name.data(), name.size());
    sample.labels = std::move(labels);
    sample.kind = kind;
    sample.value = value;
    SeriesKey(sample, &key_);
    auto [seen, inserted] = series_lines_.try_emplace(key_, line_no);
    if (!inserted) {
      return LineError(line_no, absl::StrCat("series ", SeriesText(sample.name, sample.labels),
                                             " repeats line ", seen->second));
    }
    out_->push_back(std::move(sample));
    if (lines_ != nullptr) lines_->push_back(line_no);
    return absl::OkStatus();
  }

  // Parses `name="value",...}` from line[*i] (just after the '{') through the '}'.
  absl::Status ParseLabels(absl::string_view line, size_t* i, int line_no, Labels* labels) {
    const size_t n = line.size();
    for (;;) {
      SkipBlanks(line, i);
      if (*i >= n) return LineError(line_no, "label set not closed (missing '}')");
      if (line[*i] == '}') {
        ++*i;
        return absl::OkStatus();
      }
      const size_t start = *i;
      if (IsLabelNameStart(line[*i])) {
        ++*i;
        while (*i < n && IsLabelNameChar(line[*i])) ++*i;
      }
      const absl::string_view label = line.substr(start, *i - start);
      if (label.empty()) {
        return LineError(line_no,
                         absl::StrCat("expected a label name, found ", Quote(line.substr(start))));
      }
      if (!IsValidLabelName(label)) {
        return LineError(line_no, absl::StrCat("label name ", Quote(label),
                                               " is reserved (names starting with __)"));
      }
      if (label.size() > limits_.max_name_bytes) {
        return LineError(line_no, absl::StrCat("label name ", Quote(label), " is longer than ",
                                               limits_.max_name_bytes, " bytes"));
      }
      for (const auto& existing : *labels) {
        if (existing.first == label) {
          return LineError(line_no, absl::StrCat("label ", label, " appears twice"));
        }
      }
      SkipBlanks(line, i);
      if (*i >= n || line[*i] != '=') {
        return LineError(line_no, absl::StrCat("expected '=' after label name ", label));
      }
      ++*i;
      SkipBlanks(line, i);
      if (*i >= n || line[*i] != '"') {
        return LineError(line_no, absl::StrCat("expected '\"' to open the value of label ", label));
      }
      ++*i;
      std::string value;
      bool closed = false;
      while (*i < n) {
        const char c = line[(*i)++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (*i >= n) break;
          const char e = line[(*i)++];
          if (e == '\\' || e == '"') {
            value.push_back(e);
          } else if (e == 'n') {
            value.push_back('\n');
          } else {
            return LineError(line_no, absl::StrCat("invalid escape sequence ", EscapeText(e),
                                                   " in the value of label ", label,
                                                   " (only \\\\, \\\" and \\n are allowed)"));
          }
        } else {
          value.push_back(c);
        }
        if (value.size() > limits_.max_label_value_bytes) {
          return LineError(line_no, absl::StrCat("value of label ", label, " is longer than ",
                                                 limits_.max_label_value_bytes, " bytes"));
        }
      }
      if (!closed) {
        return LineError(line_no,
                         absl::StrCat("value of label ", label, " not closed (missing '\"')"));
      }
      if (!IsValidUtf8(value)) {
        return LineError(line_no, absl::StrCat("value of label ", label, " is not valid UTF-8"));
      }
      labels->emplace_back(std::string(label), std::move(value));
      SkipBlanks(line, i);
      if (*i < n && line[*i] == ',') {
        ++*i;
        continue;
      }
      if (*i < n && line[*i] == '}') {
        ++*i;
        return absl::OkStatus();
      }
      return LineError(line_no,
                       absl::StrCat("expected ',' or '}' after the value of label ", label,
                                    *i < n ? absl::StrCat(", found ", Quote(line.substr(*i)))
                                           : std::string(" (end of line)")));
    }
  }

  const TextfileLimits& limits_;
  std::vector<Sample>* out_;
  std::vector<int>* lines_;
  absl::flat_hash_map<std::string, Family> families_;
  absl::flat_hash_map<std::string, int> series_lines_;  // series key → line
  // Kind and first line of each sample name (one name, one kind).
  absl::flat_hash_map<std::string, std::pair<MetricKind, int>> kinds_;
  std::string key_;  // scratch
};

// Names of the `*.prom` entries of `dir`, sorted.
absl::StatusOr<std::vector<std::string>> ListPromFiles(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    return ErrnoToStatus(err, absl::StrCat("open directory ", dir));
  }
  std::vector<std::string> names;
  int err = 0;
  for (;;) {
    errno = 0;
    const struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      err = errno;
      break;
    }
    const absl::string_view name(e->d_name);
    if (absl::EndsWith(name, ".prom")) names.emplace_back(name);
  }
  ::closedir(d);
  if (err != 0) return ErrnoToStatus(err, absl::StrCat("read directory ", dir));
  std::sort(names.begin(), names.end());
  return names;
}

// Reads one textfile into *buf if it is a regular file of at most `max_bytes`; *mtime gets its
// modification time in seconds since the epoch.
absl::Status ReadTextfile(const std::string& path, size_t max_bytes, std::string* buf,
                          double* mtime) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return ErrnoToStatus(err, absl::StrCat("stat ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": ", st.st_size, " bytes, more than the limit of ", max_bytes));
  }
  *mtime = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
  return ReadFileToString(path, buf, max_bytes);
}

}  // namespace

absl::StatusOr<std::vector<Sample>> ParseTextfile(absl::string_view text,
                                                  const TextfileLimits& limits,
                                                  std::vector<int>* lines) {
  std::vector<Sample> out;
  std::vector<int> sample_lines;
  Parser parser(limits, &out, lines != nullptr ? &sample_lines : nullptr);
  absl::string_view rest = text;
  absl::string_view line;
  int line_no = 0;
  while (internal::NextLine(&rest, &line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::Status st = parser.ParseLine(line, line_no); !st.ok()) return st;
  }
  if (lines != nullptr) *lines = std::move(sample_lines);
  return out;
}

TextfileSource::TextfileSource(TextfileOptions options) : options_(std::move(options)) {}

TextfileSource::~TextfileSource() = default;

void TextfileSource::Fail(const std::string& key, const absl::Status& status,
                          std::map<std::string, std::string>* failing) {
  std::string text(status.message());
  auto it = last_error_.find(key);
  if (it == last_error_.end() || it->second != text) {
    if (key.empty()) {
      Log(LogLevel::kWarn, "textfile directory unreadable",
          {{"directory", options_.directory}, {"error", text}});
    } else {
      Log(LogLevel::kWarn, "textfile skipped",
          {{"file", absl::StrCat(options_.directory, "/", key)}, {"error", text}});
    }
  }
  (*failing)[key] = std::move(text);
}

void TextfileSource::Succeed(const std::string& key) {
  if (last_error_.count(key) == 0) return;
  if (key.empty()) {
    Log(LogLevel::kInfo, "textfile directory readable again", {{"directory", options_.directory}});
  } else {
    Log(LogLevel::kInfo, "textfile recovered",
        {{"file", absl::StrCat(options_.directory, "/", key)}});
  }
}

TextfileStats TextfileSource::Collect(std::vector<Sample>* out) {
  TextfileStats stats;
  std::map<std::string, std::string> failing;
  std::vector<std::pair<std::string, double>> mtimes;  // applied files

  absl::StatusOr<std::vector<std::string>> names = ListPromFiles(options_.directory);
  if (!names.ok()) {
    ++stats.directory_errors;
    Fail("", names.status(), &failing);
  } else {
    Succeed("");
    stats.files = names->size();
    TextfileLimits limits = options_.limits;
    limits.max_series = options_.max_series;
    // Series of the files applied so far → index of their file in *names.
    absl::flat_hash_map<std::string, size_t> applied;
    // Kind of each sample name applied so far, and the file that set it.
    absl::flat_hash_map<std::string, std::pair<MetricKind, size_t>> kinds;
    std::string key;
    size_t total = 0;
    std::vector<int> lines;
    for (size_t f = 0; f < names->size(); ++f) {
      const std::string& name = (*names)[f];
      auto fail = [&](const absl::Status& status) {
        ++stats.file_errors;
        Fail(name, status, &failing);
      };
      if (f >= options_.max_files) {
        fail(absl::ResourceExhaustedError(
            absl::StrCat("more than ", options_.max_files,
                         " *.prom files in the directory; this one is not among the first ",
                         options_.max_files, " by name")));
        continue;
      }
      if (!IsValidUtf8(name)) {
        fail(absl::InvalidArgumentError("the file name is not valid UTF-8"));
        continue;
      }
      double mtime = 0;
      absl::Status read =
          ReadTextfile(options_.directory + "/" + name, options_.max_file_bytes, &buf_, &mtime);
      if (!read.ok()) {
        fail(read);
        continue;
      }
      absl::StatusOr<std::vector<Sample>> samples = ParseTextfile(buf_, limits, &lines);
      if (!samples.ok()) {
        fail(samples.status());
        continue;
      }
      absl::Status conflict;
      for (size_t k = 0; k < samples->size() && conflict.ok(); ++k) {
        const Sample& s = (*samples)[k];
        SeriesKey(s, &key);
        auto it = applied.find(key);
        if (it != applied.end()) {
          conflict = LineError(lines[k], absl::StrCat("series ", SeriesText(s.name, s.labels),
                                                      " is already in ", (*names)[it->second]));
        }
        auto kind = kinds.find(s.name);
        if (conflict.ok() && kind != kinds.end() && kind->second.first != s.kind) {
          conflict = LineError(lines[k], absl::StrCat(s.name, " is a ", KindName(s.kind),
                                                      " here but a ", KindName(kind->second.first),
                                                      " in ", (*names)[kind->second.second]));
        }
      }
      if (conflict.ok() && total + samples->size() > options_.max_series) {
        conflict = absl::ResourceExhaustedError(
            absl::StrCat(samples->size(), " series, with ", total,
                         " from earlier files more than the limit of ", options_.max_series));
      }
      if (conflict.ok()) {
        size_t fresh = 0;
        for (const Sample& s : *samples) {
          SeriesKey(s, &key);
          if (!known_.contains(key)) ++fresh;
        }
        if (known_.size() + fresh > options_.max_lifetime_series) {
          conflict = absl::ResourceExhaustedError(absl::StrCat(
              fresh, " new series would take the custom series sent since the agent started "
              "above the limit of ", options_.max_lifetime_series,
              " (label values that keep changing?)"));
        }
      }
      if (!conflict.ok()) {
        stats.dropped_samples += samples->size();
        fail(conflict);
        continue;
      }
      for (const Sample& s : *samples) {
        SeriesKey(s, &key);
        applied.emplace(key, f);
        kinds.try_emplace(s.name, s.kind, f);
        known_.insert(key);
      }
      total += samples->size();
      out->insert(out->end(), std::make_move_iterator(samples->begin()),
                  std::make_move_iterator(samples->end()));
      mtimes.emplace_back(name, mtime);
      ++stats.files_applied;
      Succeed(name);
    }
    stats.samples = total;
  }
  last_error_.swap(failing);

  const uint64_t errors = stats.directory_errors + stats.file_errors;
  errors_total_ += errors;
  for (auto& [file, mtime] : mtimes) {
    Sample& s = out->emplace_back();
    s.name = metrics::kTextfileMtimeSeconds;
    s.labels.emplace_back("file", std::move(file));
    s.kind = MetricKind::kGauge;
    s.value = mtime;
  }
  out->push_back(
      Sample{metrics::kTextfileScrapeError, {}, MetricKind::kGauge, errors > 0 ? 1.0 : 0.0});
  out->push_back(Sample{
      metrics::kTextfileErrorsTotal, {}, MetricKind::kCounter, static_cast<double>(errors_total_)});
  return stats;
}

}  // namespace accord::agent
