#include "collector/catalogue/catalogue_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "collector/catalogue/time_spec.h"
#include "common/config.h"
#include "common/prom_text.h"
#include "yaml-cpp/yaml.h"

namespace accord::collector {
namespace {

// The collector flags' sections (collector/main.cc), which share the file.
// tests/integration/test_config_errors.py checks this list against the flags' --help.
constexpr const char* kFlagSections[] = {"grpc",   "web",      "storage", "ingest",
                                         "log",    "capacity", "memory"};

std::string Child(const std::string& path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Index(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

const char* KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || !absl::ascii_isalnum(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

uint64_t Fnv1a64(absl::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A copy of `node` in one canonical form: block style, map keys sorted, aliases expanded,
// scalars without quoting, so that only the content decides the emitted text.
YAML::Node Canonical(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return YAML::Node(node.Scalar());
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& item : node) out.push_back(Canonical(item));
      return out;
    }
    case YAML::NodeType::Map: {
      std::map<std::string, YAML::Node> sorted;
      for (const auto& kv : node) {
        if (kv.first.IsScalar()) sorted.emplace(kv.first.Scalar(), kv.second);
      }
      YAML::Node out(YAML::NodeType::Map);
      for (const auto& [key, value] : sorted) out[key] = Canonical(value);
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return YAML::Node(YAML::NodeType::Null);
}

// One key: value pair of a YAML map.
struct Entry {
  YAML::Node key;
  YAML::Node value;
};
// The entries of one YAML map, after unknown and duplicate keys were reported.
struct Fields {
  YAML::Node node;   // the map
  std::string path;  // its dotted path
  std::map<std::string, Entry> entries;

  const Entry* Get(const std::string& name) const {
    auto it = entries.find(name);
    return it == entries.end() ? nullptr : &it->second;
  }
};

// One item of a list of ids, with its node and its index in the list.
struct ListItem {
  std::string value;
  YAML::Node node;
  size_t index = 0;
};

// "80%" for 0.8: ratios are shown as the percentages most files use.
std::string Percent(double ratio) { return absl::StrFormat("%g%%", ratio * 100); }

// "a", "a or b", "a, b or c".
std::string OrList(std::initializer_list<const char*> items) {
  std::string out;
  size_t i = 0;
  for (const char* item : items) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += item;
    ++i;
  }
  return out;
}

// Where the components were written, for warnings about them.
struct ComponentNodes {
  std::vector<ListItem> hosts;
  std::optional<YAML::Node> selector;
};

class Loader {
 public:
  Loader(const std::string& file, const std::vector<HostRef>& known_hosts,
         const CatalogueLoadOptions& options)
      : file_(file), known_hosts_(known_hosts), options_(options) {
    for (const HostRef& h : known_hosts) known_ids_.insert(h.id);
  }

  void LoadRoot(const YAML::Node& root, Catalogue* out);

  void Report(Diagnostic::Severity severity, const YAML::Mark& mark, const std::string& field,
              std::string message) {
    Diagnostic d;
    d.severity = severity;
    d.file = file_;
    d.line = mark.line >= 0 ? mark.line + 1 : 0;
    d.column = mark.column >= 0 ? mark.column + 1 : 0;
    d.field = field;
    d.message = std::move(message);
    diagnostics_.push_back(std::move(d));
  }
  void Error(const YAML::Node& at, const std::string& field, std::string message) {
    Report(Diagnostic::Severity::kError, MarkOf(at), field, std::move(message));
  }
  void Warning(const YAML::Node& at, const std::string& field, std::string message) {
    Report(Diagnostic::Severity::kWarning, MarkOf(at), field, std::move(message));
  }

  std::vector<Diagnostic> TakeDiagnostics() {
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
                     });
    return std::move(diagnostics_);
  }

 private:
  // Reads a map whose keys must be in `allowed`. Reports a non-map node, non-scalar, unknown
  // and duplicate keys (an unknown key's message lists `allowed` when `list_allowed`). Returns
  // false (and fills nothing) when `node` is not a map.
  bool ReadMap(const YAML::Node& node, const std::string& path,
               std::initializer_list<const char*> allowed, Fields* out, bool list_allowed = false);
  // A list (null counts as empty). Reports anything else and returns false.
  bool ReadList(const YAML::Node& node, const std::string& path);
  // A single value; reports null ("missing value") and non-scalars.
  bool ReadScalar(const YAML::Node& node, const std::string& path, std::string* out);
  // Reports the required field `key` missing from `fields`; returns its entry otherwise.
  const Entry* Require(const Fields& fields, const std::string& key);
  bool ReadId(const YAML::Node& node, const std::string& path, std::string* out);
  bool ReadPositiveDuration(const YAML::Node& node, const std::string& path, absl::Duration* out);
  bool ReadTimeZone(const YAML::Node& node, const std::string& path, std::string* out);
  // A list of scalars without duplicates; `what` names an item in the messages.
  std::vector<ListItem> ReadStringList(const YAML::Node& node, const std::string& path,
                                       const char* what);
  size_t ErrorCount() const;

  template <typename T>
  void LoadParties(const YAML::Node& list, const std::string& path, const char* what,
                   std::vector<T>* out);
  void LoadService(const YAML::Node& node, const std::string& path, Catalogue* catalogue,
                   std::map<std::string, int>* service_lines);
  void LoadComponents(const YAML::Node& node, const std::string& path, Components* out,
                      ComponentNodes* nodes);
  void LoadRule(const YAML::Node& node, const std::string& path, const Components& components,
                AvailabilityRule* out);
  void LoadSla(const YAML::Node& node, const std::string& path, Sla* out);
  void LoadServiceHours(const YAML::Node& node, const std::string& path,
                        const std::string& default_zone, ServiceHours* out);
  void LoadMaintenance(const YAML::Node& node, const std::string& path,
                       const std::string& default_zone, std::vector<MaintenanceWindow>* out);

  // A capacity section (`capacity_defaults`, or a service's `capacity`) merged over `base`
  // into *out. `is_defaults` refuses `demand` (it is per service). `trust_base` is false when
  // `base` came from a section with errors: then warning < critical is only checked where this
  // section gives both (an inherited value may be the wrong one).
  void LoadCapacity(const YAML::Node& node, const std::string& path, bool is_defaults,
                    const CapacitySpec& base, bool trust_base, CapacitySpec* out);
  // A threshold map whose fields replace those of *out (which holds the inherited values);
  // checks warning < critical after the merge. `inherited_from` names where the inherited
  // values come from, in messages. Returns false when the map had an error.
  bool LoadThreshold(const YAML::Node& node, const std::string& path, bool trust_inherited,
                     const char* inherited_from, CapacityThreshold* out);
  // "80%" (percent in (0, 100]) or "0.8" (ratio in (0, 1]) -> 0.8.
  bool ReadRatio(const YAML::Node& node, const std::string& path, double* out);
  bool ReadBool(const YAML::Node& node, const std::string& path, bool* out);
  // A map of label name: value (null is empty), as in components.selector.
  void ReadLabels(const YAML::Node& node, const std::string& path,
                  std::map<std::string, std::string>* out);
  void LoadDemand(const YAML::Node& node, const std::string& path, std::optional<DemandSpec>* out);

  // yaml-cpp marks an empty value (`id:`) at the token after it, often the next line; point
  // at its key instead.
  YAML::Mark MarkOf(const YAML::Node& node) const {
    if (node.IsNull()) {
      for (const Entry& e : empty_values_) {
        if (e.value.is(node)) return e.key.Mark();
      }
    }
    return node.Mark();
  }

  const std::string& file_;
  const std::vector<HostRef>& known_hosts_;
  const CatalogueLoadOptions& options_;
  std::set<std::string> known_ids_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<Entry> empty_values_;     // map entries whose value is null
  const Catalogue* parties_ = nullptr;  // teams and suppliers, loaded before the services
  bool capacity_defaults_ok_ = true;    // capacity_defaults had no error
};

bool Loader::ReadMap(const YAML::Node& node, const std::string& path,
                     std::initializer_list<const char*> allowed, Fields* out, bool list_allowed) {
  out->node = node;
  out->path = path;
  out->entries.clear();
  if (!node.IsMap()) {
    Error(node, path, absl::StrCat("want a map, got ", KindName(node)));
    return false;
  }
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      Error(kv.first, path, absl::StrCat("want a name as key, got ", KindName(kv.first)));
      continue;
    }
    if (kv.second.IsNull()) empty_values_.push_back({kv.first, kv.second});
    const std::string& key = kv.first.Scalar();
    std::string field = Child(path, key);
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      Error(kv.first, field,
            list_allowed ? absl::StrCat("unknown key (want ", OrList(allowed), ")")
                         : std::string("unknown key"));
      continue;
    }
    if (!out->entries.emplace(key, Entry{kv.first, kv.second}).second) {
      Error(kv.first, field, "duplicate key");
    }
  }
  return true;
}

bool Loader::ReadList(const YAML::Node& node, const std::string& path) {
  if (node.IsSequence() || node.IsNull()) return true;
  Error(node, path, absl::StrCat("want a list, got ", KindName(node)));
  return false;
}

bool Loader::ReadScalar(const YAML::Node& node, const std::string& path, std::string* out) {
  if (node.IsScalar()) {
    *out = node.Scalar();
    return true;
  }
  if (node.IsNull()) {
    Error(node, path, "missing value");
  } else {
    Error(node, path, absl::StrCat("want a single value, got ", KindName(node)));
  }
  return false;
}

const Entry* Loader::Require(const Fields& fields, const std::string& key) {
  const Entry* e = fields.Get(key);
  if (e == nullptr) Error(fields.node, Child(fields.path, key), "missing required field");
  return e;
}

bool Loader::ReadId(const YAML::Node& node, const std::string& path, std::string* out) {
  if (!ReadScalar(node, path, out)) return false;
  if (!IsValidId(*out)) {
    Error(node, path,
          absl::StrCat("invalid id \"", *out,
                       "\" (want letters, digits, '.', '_' or '-', starting with a letter or "
                       "digit)"));
    return false;
  }
  return true;
}

bool Loader::ReadPositiveDuration(const YAML::Node& node, const std::string& path,
                                  absl::Duration* out) {
  std::string text;
  if (!ReadScalar(node, path, &text)) return false;
  absl::StatusOr<absl::Duration> d = accord::ParseDurationFlag(text);
  if (!d.ok()) {
    Error(node, path, std::string(d.status().message()));
    return false;
  }
  if (*d <= absl::ZeroDuration()) {
    Error(node, path, absl::StrCat("duration ", text, " must be positive"));
    return false;
  }
  *out = *d;
  return true;
}

bool Loader::ReadTimeZone(const YAML::Node& node, const std::string& path, std::string* out) {
  std::string name;
  if (!ReadScalar(node, path, &name)) return false;
  absl::TimeZone tz;
  // "localtime" would read the machine's zone: not a place anyone agreed on.
  if (name.empty() || name == "localtime" || !absl::LoadTimeZone(name, &tz)) {
    Error(node, path,
          absl::StrCat("unknown time zone \"", name,
                       "\" (want an IANA name such as Europe/London, or UTC)"));
    return false;
  }
  *out = name;
  return true;
}

size_t Loader::ErrorCount() const {
  return std::count_if(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& d) {
    return d.severity == Diagnostic::Severity::kError;
  });
}

std::vector<ListItem> Loader::ReadStringList(const YAML::Node& node, const std::string& path,
                                             const char* what) {
  std::vector<ListItem> out;
  if (!ReadList(node, path) || node.IsNull()) return out;
  for (size_t i = 0; i < node.size(); ++i) {
    YAML::Node item = node[i];
    std::string value;
    if (!ReadScalar(item, Index(path, i), &value)) continue;
    if (value.empty()) {
      Error(item, Index(path, i), absl::StrCat("empty ", what, " id"));
      continue;
    }
    bool seen =
        std::any_of(out.begin(), out.end(), [&](const ListItem& p) { return p.value == value; });
    if (seen) {
      Error(item, Index(path, i), absl::StrCat(what, " \"", value, "\" is listed twice"));
      continue;
    }
    out.push_back({value, item, i});
  }
  return out;
}

void Loader::LoadRoot(const YAML::Node& root, Catalogue* out) {
  if (!root.IsDefined() || root.IsNull()) return;  // an empty file: an empty catalogue
  if (!root.IsMap()) {
    Error(root, "", "the file must be a YAML map");
    return;
  }
  std::map<std::string, YAML::Node> sections;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) {
      Error(kv.first, "", absl::StrCat("want a name as key, got ", KindName(kv.first)));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    std::string section = key.substr(0, key.find('.'));
    auto listed = [&](const std::string& k) {
      return std::any_of(std::begin(kFlagSections), std::end(kFlagSections),
                         [&](const char* s) { return k == s; }) ||
             std::find(options_.ignore_keys.begin(), options_.ignore_keys.end(), k) !=
                 options_.ignore_keys.end();
    };
    if (listed(key) || listed(section)) continue;
    const std::vector<std::string>& known = CatalogueSections();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      Error(kv.first, key, "unknown key");
      continue;
    }
    if (!sections.emplace(key, kv.second).second) Error(kv.first, key, "duplicate key");
  }

  if (auto it = sections.find("teams"); it != sections.end()) {
    LoadParties(it->second, "teams", "team", &out->teams);
  }
  if (auto it = sections.find("suppliers"); it != sections.end()) {
    LoadParties(it->second, "suppliers", "supplier", &out->suppliers);
  }
  parties_ = out;
  if (auto it = sections.find("capacity_defaults"); it != sections.end()) {
    size_t errors_before = ErrorCount();
    LoadCapacity(it->second, "capacity_defaults", /*is_defaults=*/true, DefaultCapacitySpec(),
                 /*trust_base=*/true, &out->capacity_defaults);
    capacity_defaults_ok_ = ErrorCount() == errors_before;
  }
  if (auto it = sections.find("services"); it != sections.end()) {
    const YAML::Node& list = it->second;
    if (ReadList(list, "services") && !list.IsNull()) {
      std::map<std::string, int> service_lines;
      for (size_t i = 0; i < list.size(); ++i) {
        LoadService(list[i], Index("services", i), out, &service_lines);
      }
    }
  }

  // The version: the catalogue sections in canonical form, not the text around them. A file
  // without capacity_defaults hashes as it did before the section existed.
  YAML::Node canonical(YAML::NodeType::Map);
  for (const char* key : {"capacity_defaults", "teams", "suppliers", "services"}) {
    if (auto it = sections.find(key); it != sections.end()) canonical[key] = Canonical(it->second);
  }
  YAML::Emitter emitter;
  emitter << canonical;
  out->content_hash = absl::StrFormat("%016x", Fnv1a64(emitter.c_str()));
}

template <typename T>
void Loader::LoadParties(const YAML::Node& list, const std::string& path, const char* what,
                         std::vector<T>* out) {
  if (!ReadList(list, path) || list.IsNull()) return;
  std::map<std::string, int> line_of;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string item_path = Index(path, i);
    Fields f;
    if (!ReadMap(list[i], item_path, {"id", "name", "restore_target", "max_single_outage"}, &f)) {
      continue;
    }
    T party;
    bool keep = false;
    if (const Entry* e = Require(f, "id");
        e != nullptr && ReadId(e->value, Child(item_path, "id"), &party.id)) {
      int line = e->value.Mark().line + 1;
      auto [it, inserted] = line_of.emplace(party.id, line);
      if (inserted) {
        keep = true;
      } else {
        Error(e->value, Child(item_path, "id"),
              absl::StrCat("duplicate ", what, " id \"", party.id, "\" (first defined at line ",
                           it->second, ")"));
      }
    }
    party.name = party.id;
    if (const Entry* e = f.Get("name")) ReadScalar(e->value, Child(item_path, "name"), &party.name);
    if (const Entry* e = Require(f, "restore_target")) {
      ReadPositiveDuration(e->value, Child(item_path, "restore_target"), &party.restore_target);
    }
    if (const Entry* e = f.Get("max_single_outage")) {
      absl::Duration max;
      std::string field = Child(item_path, "max_single_outage");
      if (ReadPositiveDuration(e->value, field, &max)) {
        party.max_single_outage = max;
        if (party.restore_target > absl::ZeroDuration() && max < party.restore_target) {
          Warning(e->value, field,
                  absl::StrCat("max_single_outage ", absl::FormatDuration(max),
                               " is shorter than restore_target ",
                               absl::FormatDuration(party.restore_target)));
        }
      }
    }
    if (keep) out->push_back(std::move(party));
  }
}

void Loader::LoadService(const YAML::Node& node, const std::string& path, Catalogue* catalogue,
                         std::map<std::string, int>* service_lines) {
  Fields f;
  if (!ReadMap(node, path,
               {"id", "name", "description", "owner", "priority", "components", "available_when",
                "support_team", "suppliers", "sla", "capacity"},
               &f)) {
    return;
  }
  Service s;
  bool keep = true;
  if (const Entry* e = Require(f, "id");
      e != nullptr && ReadId(e->value, Child(path, "id"), &s.id)) {
    auto [it, inserted] = service_lines->emplace(s.id, e->value.Mark().line + 1);
    if (!inserted) {
      keep = false;
      Error(e->value, Child(path, "id"),
            absl::StrCat("duplicate service id \"", s.id, "\" (first defined at line ", it->second,
                         ")"));
    }
  }
  s.name = s.id;
  if (const Entry* e = f.Get("name")) ReadScalar(e->value, Child(path, "name"), &s.name);
  if (const Entry* e = f.Get("description")) {
    ReadScalar(e->value, Child(path, "description"), &s.description);
  }
  if (const Entry* e = f.Get("owner")) ReadScalar(e->value, Child(path, "owner"), &s.owner);
  if (const Entry* e = f.Get("priority")) {
    std::string text;
    std::string field = Child(path, "priority");
    if (ReadScalar(e->value, field, &text)) {
      static const std::pair<const char*, Priority> kPriorities[] = {
          {"critical", Priority::kCritical},
          {"high", Priority::kHigh},
          {"medium", Priority::kMedium},
          {"low", Priority::kLow}};
      std::string lower = absl::AsciiStrToLower(text);
      auto it = std::find_if(std::begin(kPriorities), std::end(kPriorities),
                             [&](const auto& p) { return lower == p.first; });
      if (it == std::end(kPriorities)) {
        Error(e->value, field,
              absl::StrCat("unknown priority \"", text, "\" (want critical, high, medium or low)"));
      } else {
        s.priority = it->second;
      }
    }
  }

  ComponentNodes component_nodes;
  const Entry* components = Require(f, "components");
  if (components != nullptr) {
    LoadComponents(components->value, Child(path, "components"), &s.components, &component_nodes);
  }
  if (const Entry* e = f.Get("available_when")) {
    LoadRule(e->value, Child(path, "available_when"), s.components, &s.rule);
  }

  if (const Entry* e = f.Get("support_team")) {
    std::string field = Child(path, "support_team");
    if (ReadScalar(e->value, field, &s.support_team) &&
        parties_->FindTeam(s.support_team) == nullptr) {
      Error(e->value, field, absl::StrCat("unknown team \"", s.support_team, "\""));
    }
  }
  if (const Entry* e = f.Get("suppliers")) {
    std::string field = Child(path, "suppliers");
    for (const ListItem& item : ReadStringList(e->value, field, "supplier")) {
      if (parties_->FindSupplier(item.value) == nullptr) {
        Error(item.node, Index(field, item.index),
              absl::StrCat("unknown supplier \"", item.value, "\""));
      }
      s.suppliers.push_back(item.value);
    }
  }

  if (const Entry* e = Require(f, "sla")) LoadSla(e->value, Child(path, "sla"), &s.sla);
  s.capacity = catalogue->capacity_defaults;
  if (const Entry* e = f.Get("capacity")) {
    LoadCapacity(e->value, Child(path, "capacity"), /*is_defaults=*/false,
                 catalogue->capacity_defaults, capacity_defaults_ok_, &s.capacity);
  }

  // Components against the hosts known now: a typo here silently measures nothing.
  if (options_.warn_unmatched && components != nullptr) {
    std::string cpath = Child(path, "components");
    for (const ListItem& item : component_nodes.hosts) {
      if (known_ids_.count(item.value) == 0) {
        Warning(item.node, Index(Child(cpath, "hosts"), item.index),
                absl::StrCat("host \"", item.value, "\" is not a known host"));
      }
    }
    if (!s.components.selector.empty() && component_nodes.selector.has_value()) {
      Service selector_only;
      selector_only.components.selector = s.components.selector;
      if (ComponentHosts(selector_only, known_hosts_).empty()) {
        Warning(*component_nodes.selector, Child(cpath, "selector"),
                "selector matches no known host");
      }
    }
  }
  if (keep) catalogue->services.push_back(std::move(s));
}

void Loader::LoadComponents(const YAML::Node& node, const std::string& path, Components* out,
                            ComponentNodes* nodes) {
  size_t errors_before = ErrorCount();
  Fields f;
  if (!ReadMap(node, path, {"hosts", "selector"}, &f)) return;
  if (const Entry* e = f.Get("hosts")) {
    nodes->hosts = ReadStringList(e->value, Child(path, "hosts"), "host");
    for (const ListItem& item : nodes->hosts) out->hosts.push_back(item.value);
  }
  if (const Entry* e = f.Get("selector")) {
    std::string spath = Child(path, "selector");
    nodes->selector = e->value;
    ReadLabels(e->value, spath, &out->selector);
  }
  if (out->hosts.empty() && out->selector.empty() && ErrorCount() == errors_before) {
    Error(node, path, "want hosts and/or a selector (a service needs at least one component)");
  }
}

void Loader::LoadRule(const YAML::Node& node, const std::string& path, const Components& components,
                      AvailabilityRule* out) {
  // N and at_least are checked against an explicit host list only: a selector's hosts come
  // and go.
  bool fixed = components.selector.empty() && !components.hosts.empty();
  int listed = static_cast<int>(components.hosts.size());
  if (node.IsMap()) {
    Fields f;
    ReadMap(node, path, {"at_least"}, &f);
    const Entry* e = Require(f, "at_least");
    std::string text;
    std::string field = Child(path, "at_least");
    if (e == nullptr || !ReadScalar(e->value, field, &text)) return;
    int k = 0;
    if (!absl::SimpleAtoi(text, &k)) {
      Error(e->value, field, absl::StrCat("invalid integer \"", text, "\""));
      return;
    }
    if (k < 1) {
      Error(e->value, field, absl::StrCat("K must be at least 1, got ", k));
      return;
    }
    if (fixed && k > listed) {
      Error(
          e->value, field,
          absl::StrCat("at_least ", k, " is more than the ", listed, " hosts in components.hosts"));
      return;
    }
    out->kind = AvailabilityRule::Kind::kAtLeast;
    out->k = k;
    return;
  }
  std::string text;
  if (!ReadScalar(node, path, &text)) return;
  absl::StatusOr<RuleSpec> spec = ParseAvailabilityRule(text);
  if (!spec.ok()) {
    Error(node, path, std::string(spec.status().message()));
    return;
  }
  if (spec->n.has_value() && fixed && *spec->n != listed) {
    Error(
        node, path,
        absl::StrCat("N ", *spec->n, " does not match the ", listed, " hosts in components.hosts"));
    return;
  }
  if (spec->n.has_value() && options_.warn_unmatched && !components.selector.empty() &&
      components.hosts.empty()) {
    Service selector_only;
    selector_only.components.selector = components.selector;
    size_t matched = ComponentHosts(selector_only, known_hosts_).size();
    if (matched > 0 && static_cast<int>(matched) != *spec->n) {
      Warning(node, path,
              absl::StrCat("the selector matches ", matched, " known hosts, not N ", *spec->n));
    }
  }
  *out = spec->rule;
}

void Loader::LoadSla(const YAML::Node& node, const std::string& path, Sla* out) {
  Fields f;
  if (!ReadMap(node, path,
               {"target", "period", "time_zone", "service_hours", "maintenance", "unknown"}, &f)) {
    return;
  }
  std::string zone = "UTC";
  if (const Entry* e = f.Get("time_zone")) ReadTimeZone(e->value, Child(path, "time_zone"), &zone);

  if (const Entry* e = Require(f, "target")) {
    std::string field = Child(path, "target");
    std::string text;
    if (ReadScalar(e->value, field, &text)) {
      absl::string_view number = absl::StripAsciiWhitespace(text);
      absl::ConsumeSuffix(&number, "%");
      double percent = 0;
      if (!absl::SimpleAtod(absl::StripAsciiWhitespace(number), &percent) ||
          !std::isfinite(percent)) {
        Error(e->value, field, absl::StrCat("invalid number \"", text, "\""));
      } else if (percent <= 0 || percent >= 100) {
        Error(e->value, field, absl::StrCat("target ", text, " is outside (0, 100)"));
      } else {
        // Rounded to 12 digits so that 99.9 becomes the double nearest 0.999 (not
        // 0.9990000000000001), as an operator would write it.
        out->target = std::round(percent * 1e10) / 1e12;
      }
    }
  }
  if (const Entry* e = f.Get("period")) {
    std::string field = Child(path, "period");
    std::string text;
    if (ReadScalar(e->value, field, &text)) {
      absl::StatusOr<PeriodSpec> period = ParsePeriod(text);
      if (period.ok()) {
        out->period = *period;
      } else {
        Error(e->value, field, std::string(period.status().message()));
      }
    }
  }
  out->period.time_zone = zone;

  out->service_hours = ServiceHours();
  out->service_hours.time_zone = zone;
  if (const Entry* e = f.Get("service_hours")) {
    LoadServiceHours(e->value, Child(path, "service_hours"), zone, &out->service_hours);
  }
  if (const Entry* e = f.Get("maintenance")) {
    LoadMaintenance(e->value, Child(path, "maintenance"), zone, &out->maintenance);
  }
  if (const Entry* e = f.Get("unknown")) {
    std::string field = Child(path, "unknown");
    std::string text;
    if (ReadScalar(e->value, field, &text)) {
      std::string lower = absl::AsciiStrToLower(text);
      if (lower == "down") {
        out->unknown = UnknownPolicy::kDown;
      } else if (lower == "up") {
        out->unknown = UnknownPolicy::kUp;
      } else if (lower == "excluded") {
        out->unknown = UnknownPolicy::kExcluded;
      } else {
        Error(e->value, field,
              absl::StrCat("unknown policy \"", text, "\" (want down, up or excluded)"));
      }
    }
  }
}

void Loader::LoadServiceHours(const YAML::Node& node, const std::string& path,
                              const std::string& default_zone, ServiceHours* out) {
  out->always = true;
  out->time_zone = default_zone;
  out->windows.clear();
  if (node.IsScalar()) {
    if (absl::AsciiStrToLower(node.Scalar()) != "24x7") {
      Error(node, path,
            absl::StrCat("invalid service hours \"", node.Scalar(),
                         "\" (want 24x7, or a map with windows)"));
    }
    return;
  }
  Fields f;
  if (!ReadMap(node, path, {"time_zone", "windows"}, &f)) return;
  if (const Entry* e = f.Get("time_zone")) {
    ReadTimeZone(e->value, Child(path, "time_zone"), &out->time_zone);
  }
  const Entry* e = Require(f, "windows");
  if (e == nullptr) return;
  std::string wpath = Child(path, "windows");
  if (!ReadList(e->value, wpath)) return;
  if (e->value.size() == 0) {
    Error(e->value, wpath, "no windows (omit service_hours for 24x7)");
    return;
  }
  std::vector<WeeklyWindow> windows;
  for (size_t i = 0; i < e->value.size(); ++i) {
    YAML::Node item = e->value[i];
    std::string text;
    if (!ReadScalar(item, Index(wpath, i), &text)) continue;
    absl::StatusOr<std::vector<WeeklyWindow>> parsed = ParseServiceWindow(text);
    if (!parsed.ok()) {
      Error(item, Index(wpath, i), std::string(parsed.status().message()));
      continue;
    }
    windows.insert(windows.end(), parsed->begin(), parsed->end());
  }
  out->always = false;
  out->windows = NormalizeWindows(std::move(windows));
}

void Loader::LoadMaintenance(const YAML::Node& node, const std::string& path,
                             const std::string& default_zone, std::vector<MaintenanceWindow>* out) {
  if (!ReadList(node, path) || node.IsNull()) return;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string ipath = Index(path, i);
    Fields f;
    if (!ReadMap(node[i], ipath,
                 {"name", "start", "end", "duration", "weekly", "monthly", "time_zone"}, &f)) {
      continue;
    }
    MaintenanceWindow w;
    w.time_zone = default_zone;
    if (const Entry* e = Require(f, "name")) ReadScalar(e->value, Child(ipath, "name"), &w.name);

    const Entry* start = f.Get("start");
    const Entry* weekly = f.Get("weekly");
    const Entry* monthly = f.Get("monthly");
    const Entry* end = f.Get("end");
    const Entry* duration = f.Get("duration");
    const Entry* zone = f.Get("time_zone");
    int kinds = (start != nullptr) + (weekly != nullptr) + (monthly != nullptr);
    if (kinds == 0) {
      Error(f.node, ipath, "want one of start (one-off), weekly or monthly");
      continue;
    }
    if (kinds > 1) {
      Error(f.node, ipath, "give only one of start (one-off), weekly or monthly");
      continue;
    }

    std::optional<absl::Duration> length;
    if (duration != nullptr) {
      absl::Duration d;
      if (!ReadPositiveDuration(duration->value, Child(ipath, "duration"), &d)) continue;
      length = d;
    }

    if (start != nullptr) {
      w.kind = MaintenanceWindow::Kind::kOneOff;
      if (zone != nullptr) {
        Error(zone->key, Child(ipath, "time_zone"),
              "time_zone applies to weekly and monthly maintenance only (one-off times carry "
              "their offset)");
      }
      auto read_time = [&](const Entry* e, const char* key, absl::Time* t) {
        std::string text;
        std::string field = Child(ipath, key);
        if (!ReadScalar(e->value, field, &text)) return false;
        std::string err;
        if (!absl::ParseTime(absl::RFC3339_full, text, t, &err)) {
          Error(e->value, field,
                absl::StrCat("invalid time \"", text,
                             "\" (want RFC 3339 with an offset, e.g. 2026-12-05T22:00:00Z)"));
          return false;
        }
        return true;
      };
      if (!read_time(start, "start", &w.start)) continue;
      if (end != nullptr && duration != nullptr) {
        Error(duration->key, Child(ipath, "duration"), "give end or duration, not both");
        continue;
      }
      if (end == nullptr && duration == nullptr) {
        Error(f.node, Child(ipath, "end"), "missing required field (or give a duration)");
        continue;
      }
      if (end != nullptr) {
        if (!read_time(end, "end", &w.end)) continue;
        if (w.end <= w.start) {
          Error(end->value, Child(ipath, "end"),
                absl::StrCat("end ", end->value.Scalar(), " is not after start ",
                             start->value.Scalar()));
          continue;
        }
      } else {
        w.end = w.start + *length;
      }
      w.duration = w.end - w.start;
      out->push_back(w);
      continue;
    }

    if (end != nullptr) {
      Error(end->key, Child(ipath, "end"), "end applies to one-off maintenance only");
      continue;
    }
    if (zone != nullptr && !ReadTimeZone(zone->value, Child(ipath, "time_zone"), &w.time_zone)) {
      continue;
    }
    const Entry* schedule = weekly != nullptr ? weekly : monthly;
    const char* key = weekly != nullptr ? "weekly" : "monthly";
    std::string field = Child(ipath, key);
    std::string text;
    if (!ReadScalar(schedule->value, field, &text)) continue;
    std::vector<WeekdayIndex> days;
    std::optional<absl::Duration> range_length;
    if (weekly != nullptr) {
      absl::StatusOr<WeeklySchedule> s = ParseWeeklySchedule(text);
      if (!s.ok()) {
        Error(schedule->value, field, std::string(s.status().message()));
        continue;
      }
      w.kind = MaintenanceWindow::Kind::kWeekly;
      days = s->weekdays;
      w.start_minute = s->start_minute;
      range_length = s->length;
    } else {
      absl::StatusOr<MonthlySchedule> s = ParseMonthlySchedule(text);
      if (!s.ok()) {
        Error(schedule->value, field, std::string(s.status().message()));
        continue;
      }
      w.kind = MaintenanceWindow::Kind::kMonthly;
      days = {s->weekday};
      w.nth = s->nth;
      w.start_minute = s->start_minute;
      range_length = s->length;
    }
    if (range_length.has_value() && length.has_value()) {
      Error(duration->key, Child(ipath, "duration"),
            absl::StrCat("give an end time in ", key, " or a duration, not both"));
      continue;
    }
    if (!range_length.has_value() && !length.has_value()) {
      Error(
          f.node, Child(ipath, "duration"),
          absl::StrCat("missing required field (or give an end time, e.g. \"",
                       weekly != nullptr ? "Sun 02:00-04:00" : "first Sunday 02:00-04:00", "\")"));
      continue;
    }
    w.duration = range_length.has_value() ? *range_length : *length;
    absl::Duration limit = weekly != nullptr ? absl::Hours(24 * 7) : absl::Hours(24 * 28);
    if (w.duration >= limit) {  // only a duration can be this long; a range is under a day
      Error(duration->value, Child(ipath, "duration"),
            absl::StrCat("duration ", duration->value.Scalar(), " must be shorter than ",
                         weekly != nullptr ? "a week" : "28d"));
      continue;
    }
    for (WeekdayIndex d : days) {
      w.weekday = d;
      out->push_back(w);
    }
  }
}

void Loader::LoadCapacity(const YAML::Node& node, const std::string& path, bool is_defaults,
                          const CapacitySpec& base, bool trust_base, CapacitySpec* out) {
  *out = base;
  out->demand.reset();
  if (node.IsNull()) return;  // an empty section: everything inherited
  Fields f;
  if (!ReadMap(node, path,
               {"cpu", "memory", "swap", "filesystem", "inodes", "network", "mountpoints", "demand",
                "n_plus_one"},
               &f, /*list_allowed=*/true)) {
    return;
  }
  const char* resource_base = is_defaults ? "the built-in default" : "the defaults";
  bool filesystem_ok = true;
  for (CapacityResource r : kCapacityResources) {
    const char* name = CapacityResourceName(r);
    const Entry* e = f.Get(name);
    if (e == nullptr) continue;
    bool ok =
        LoadThreshold(e->value, Child(path, name), trust_base, resource_base, &out->thresholds[r]);
    if (r == CapacityResource::kFilesystem) filesystem_ok = ok;
  }

  if (const Entry* e = f.Get("mountpoints")) {
    std::string mpath = Child(path, "mountpoints");
    if (e->value.IsMap()) {
      std::set<std::string> seen;
      for (const auto& kv : e->value) {
        if (kv.second.IsNull()) empty_values_.push_back({kv.first, kv.second});
        std::string mount;
        if (!ReadScalar(kv.first, mpath, &mount)) continue;
        std::string field = absl::StrCat(mpath, "[\"", mount, "\"]");
        if (mount.empty() || mount[0] != '/') {
          Error(kv.first, field,
                absl::StrCat("mountpoint \"", mount,
                             "\" is not an absolute path (want e.g. /var/lib/postgresql)"));
          continue;
        }
        if (mount.size() > 1 && mount.back() == '/') {
          Error(kv.first, field,
                absl::StrCat("mountpoint \"", mount, "\" ends with '/' (write ",
                             absl::StripSuffix(mount, "/"), ", as the agent reports it)"));
          continue;
        }
        if (!seen.insert(mount).second) {
          Error(kv.first, field, "duplicate key");
          continue;
        }
        // A mountpoint inherited from capacity_defaults keeps its values; a new one starts
        // from this section's filesystem threshold.
        auto inherited = base.mountpoints.find(mount);
        bool from_defaults = inherited != base.mountpoints.end();
        CapacityThreshold t =
            from_defaults ? inherited->second : out->thresholds[CapacityResource::kFilesystem];
        LoadThreshold(kv.second, field, from_defaults ? trust_base : trust_base && filesystem_ok,
                      from_defaults ? "capacity_defaults" : "filesystem", &t);
        out->mountpoints[mount] = t;
      }
    } else if (!e->value.IsNull()) {
      Error(e->value, mpath,
            absl::StrCat("want a map of mountpoint: threshold, got ", KindName(e->value)));
    }
  }

  if (const Entry* e = f.Get("demand")) {
    if (is_defaults) {
      Error(e->key, Child(path, "demand"),
            "demand is per service (give it in the service's capacity section)");
    } else {
      LoadDemand(e->value, Child(path, "demand"), &out->demand);
    }
  }
  if (const Entry* e = f.Get("n_plus_one")) {
    ReadBool(e->value, Child(path, "n_plus_one"), &out->n_plus_one);
  }
}

bool Loader::LoadThreshold(const YAML::Node& node, const std::string& path, bool trust_inherited,
                           const char* inherited_from, CapacityThreshold* out) {
  size_t errors_before = ErrorCount();
  Fields f;
  if (!ReadMap(node, path, {"warning", "critical", "statistic", "window"}, &f,
               /*list_allowed=*/true)) {
    return false;
  }
  const Entry* warning = f.Get("warning");
  const Entry* critical = f.Get("critical");
  const Entry* window = f.Get("window");
  if (warning != nullptr) ReadRatio(warning->value, Child(path, "warning"), &out->warning);
  if (critical != nullptr) ReadRatio(critical->value, Child(path, "critical"), &out->critical);
  if (const Entry* e = f.Get("statistic")) {
    std::string field = Child(path, "statistic");
    std::string text;
    if (ReadScalar(e->value, field, &text)) {
      std::optional<CapacityStatistic> statistic =
          ParseCapacityStatistic(absl::AsciiStrToLower(text));
      if (statistic.has_value()) {
        out->statistic = *statistic;
      } else {
        Error(
            e->value, field,
            absl::StrCat("unknown statistic \"", text, "\" (want current, mean, p95, p99 or max)"));
      }
    }
  }
  if (window != nullptr) {
    std::string field = Child(path, "window");
    std::string text;
    if (ReadScalar(window->value, field, &text)) {
      absl::StatusOr<absl::Duration> d = accord::ParseDurationFlag(text);
      if (!d.ok()) {
        Error(window->value, field, std::string(d.status().message()));
      } else if (*d != absl::Hours(1) && *d != absl::Hours(24) && *d != absl::Hours(24 * 7) &&
                 *d != absl::Hours(24 * 30)) {
        Error(window->value, field,
              absl::StrCat("window ", text, " is not one of 1h, 1d, 7d or 30d"));
      } else {
        out->window = *d;
      }
    }
  }
  if (ErrorCount() != errors_before) return false;

  if (window != nullptr && out->statistic == CapacityStatistic::kCurrent) {
    Warning(window->value, Child(path, "window"), "window is ignored for statistic current");
  }
  bool both = warning != nullptr && critical != nullptr;
  if ((warning != nullptr || critical != nullptr) && (both || trust_inherited) &&
      out->warning >= out->critical) {
    std::string message = absl::StrCat("warning ", Percent(out->warning),
                                       " must be below critical ", Percent(out->critical));
    if (!both) {
      absl::StrAppend(&message, " (", warning == nullptr ? "warning" : "critical",
                      " inherited from ", inherited_from, ")");
    }
    const Entry* at = warning != nullptr ? warning : critical;
    Error(at->value, Child(path, warning != nullptr ? "warning" : "critical"), message);
    return false;
  }
  return true;
}

bool Loader::ReadRatio(const YAML::Node& node, const std::string& path, double* out) {
  std::string text;
  if (!ReadScalar(node, path, &text)) return false;
  absl::string_view number = absl::StripAsciiWhitespace(text);
  bool percent = absl::ConsumeSuffix(&number, "%");
  double value = 0;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(number), &value) || !std::isfinite(value)) {
    Error(node, path,
          absl::StrCat("invalid number \"", text,
                       "\" (want a percentage such as 80% or a ratio such as 0.8)"));
    return false;
  }
  if (percent) {
    if (value <= 0 || value > 100) {
      Error(node, path, absl::StrCat("percentage ", text, " is outside (0, 100]"));
      return false;
    }
    // Rounded to 12 digits so that 80% is the double nearest 0.8, as for sla.target.
    *out = std::round(value * 1e10) / 1e12;
    return true;
  }
  if (value <= 0 || value > 1) {
    std::string message = absl::StrCat("ratio ", text, " is outside (0, 1]");
    if (value > 1 && value <= 100)
      absl::StrAppend(&message, " (write ", text, "% for a percentage)");
    Error(node, path, message);
    return false;
  }
  *out = value;
  return true;
}

bool Loader::ReadBool(const YAML::Node& node, const std::string& path, bool* out) {
  std::string text;
  if (!ReadScalar(node, path, &text)) return false;
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "yes") {
    *out = true;
  } else if (lower == "false" || lower == "no") {
    *out = false;
  } else {
    Error(node, path, absl::StrCat("invalid boolean \"", text, "\" (want true or false)"));
    return false;
  }
  return true;
}

void Loader::ReadLabels(const YAML::Node& node, const std::string& path,
                        std::map<std::string, std::string>* out) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    Error(node, path, absl::StrCat("want a map of label: value, got ", KindName(node)));
    return;
  }
  for (const auto& kv : node) {
    if (kv.second.IsNull()) empty_values_.push_back({kv.first, kv.second});
    std::string key;
    if (!ReadScalar(kv.first, path, &key)) continue;
    std::string field = Child(path, key);
    if (!accord::IsValidLabelName(key)) {
      Error(kv.first, field,
            absl::StrCat("invalid label name \"", key,
                         "\" (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"));
      continue;
    }
    std::string value;
    if (!ReadScalar(kv.second, field, &value)) continue;
    if (!out->emplace(key, value).second) Error(kv.first, field, "duplicate key");
  }
}

void Loader::LoadDemand(const YAML::Node& node, const std::string& path,
                        std::optional<DemandSpec>* out) {
  Fields f;
  if (!ReadMap(node, path, {"metric", "labels", "type", "unit"}, &f, /*list_allowed=*/true)) {
    return;
  }
  DemandSpec demand;
  if (const Entry* e = Require(f, "metric")) {
    std::string field = Child(path, "metric");
    if (ReadScalar(e->value, field, &demand.metric)) {
      // The collector accepts names of at most 200 bytes: a longer one could never arrive.
      if (!accord::IsValidMetricName(demand.metric) || demand.metric.size() > 200) {
        Error(e->value, field,
              absl::StrCat("invalid metric name \"", demand.metric,
                           "\" (want [a-zA-Z_:][a-zA-Z0-9_:]*, at most 200 bytes)"));
      } else if (absl::StartsWith(demand.metric, "accord_")) {
        Error(e->value, field,
              absl::StrCat("metric \"", demand.metric,
                           "\" is one of Accord's own series (want a custom series the "
                           "service's hosts publish, e.g. shop_orders_total)"));
      }
    }
  }
  if (const Entry* e = f.Get("labels")) ReadLabels(e->value, Child(path, "labels"), &demand.labels);
  if (const Entry* e = f.Get("type")) {
    std::string field = Child(path, "type");
    std::string text;
    if (ReadScalar(e->value, field, &text)) {
      std::string lower = absl::AsciiStrToLower(text);
      if (lower == "counter") {
        demand.counter = true;
      } else if (lower == "gauge") {
        demand.counter = false;
      } else {
        Error(e->value, field, absl::StrCat("unknown type \"", text, "\" (want counter or gauge)"));
      }
    }
  }
  if (const Entry* e = f.Get("unit")) ReadScalar(e->value, Child(path, "unit"), &demand.unit);
  *out = std::move(demand);
}

}  // namespace

const std::vector<std::string>& CatalogueSections() {
  static const std::vector<std::string>* const kSections =
      new std::vector<std::string>{"capacity_defaults", "teams", "suppliers", "services"};
  return *kSections;
}

absl::StatusOr<Catalogue> LoadCatalogue(absl::string_view yaml_text, const std::string& file_name,
                                        const std::vector<HostRef>& known_hosts,
                                        std::vector<Diagnostic>* diagnostics,
                                        const CatalogueLoadOptions& options) {
  Catalogue catalogue;
  catalogue.source_file = file_name;
  Loader loader(file_name, known_hosts, options);
  // yaml-cpp throws; this is the boundary where its exceptions become diagnostics.
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    loader.LoadRoot(root, &catalogue);
  } catch (const YAML::Exception& e) {
    loader.Report(Diagnostic::Severity::kError, e.mark, "", e.msg);
  }
  std::vector<Diagnostic> found = loader.TakeDiagnostics();
  std::string errors = JoinDiagnostics(found, Diagnostic::Severity::kError);
  if (diagnostics != nullptr) {
    diagnostics->insert(diagnostics->end(), found.begin(), found.end());
  }
  if (!errors.empty()) return absl::InvalidArgumentError(errors);
  return catalogue;
}

}  // namespace accord::collector
