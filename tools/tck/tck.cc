// tern-tck: runs the DMN TCK test cases under a TestCases directory (compliance-level-2,
// compliance-level-3, non-compliant, ...), prints one summary line per level and optionally
// writes the TCK's CSV result format and checks a list of cases that must keep passing.
//
//   tern-tck DIR [--csv FILE] [--filter TEXT] [--verbose] [--expect-passing FILE]
//                [--write-passing FILE]
//
// Exit codes: 0 done (failures are reported, not fatal), 1 a case of --expect-passing failed,
// 2 usage error, 77 DIR does not exist (ctest treats it as skipped).
//
// Comparison follows the TCK's Java runners: numbers equal within 1e-8, lists item by item,
// contexts by keys and values, null, temporal values by value; a result node with
// errorResult="true" passes when the decision yields null or fails. A decision that fails
// otherwise fails the case.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "dmn/dmn.h"
#include "feel/feel.h"

namespace {

namespace fs = std::filesystem;
using tern::StrAppend;
using tern::StrCat;
using tern::feel::Value;

struct Options {
  std::string dir;
  std::string csv;
  std::string filter;
  std::string expect_passing;
  std::string write_passing;
  bool verbose = false;
};

struct CaseResult {
  std::string folder;  // "compliance-level-2/0001-input-data-string"
  std::string file;    // "0001-input-data-string-test-01"
  std::string id;
  bool success = false;
  std::string message;

  std::string Key() const { return StrCat(folder, "/", file, "/", id); }
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view LocalName(std::string_view qname) {
  size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) return c;
  }
  return {};
}

std::vector<pugi::xml_node> Children(const pugi::xml_node& n, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && LocalName(c.name()) == local) out.push_back(c);
  }
  return out;
}

std::string_view Attr(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
    if (LocalName(a.name()) == local) return a.value();
  }
  return {};
}

bool IsNil(const pugi::xml_node& n) { return Attr(n, "nil") == "true"; }

std::string Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

using tern::feel::Type;
using tern::feel::TypePtr;

// A simple XML value as the given FEEL kind; nullopt when the text does not parse.
std::optional<Value> ParseSimple(std::string_view text, Type::Kind kind, std::string_view xsd) {
  namespace f = tern::feel;
  switch (kind) {
    case Type::Kind::kNumber: {
      std::string t = Trim(text);
      if (t == "INF" || t == "-INF" || t == "NaN") return Value();
      std::optional<f::Decimal> d = f::Decimal::Parse(t);
      if (!d) return std::nullopt;
      return Value::Number(*d);
    }
    case Type::Kind::kString:
      return Value::String(std::string(text));
    case Type::Kind::kBoolean: {
      std::string t = Trim(text);
      if (t == "true" || t == "1") return Value::Bool(true);
      if (t == "false" || t == "0") return Value::Bool(false);
      return std::nullopt;
    }
    case Type::Kind::kDate:
      if (auto d = f::ParseDate(Trim(text))) return Value::Date(*d);
      return std::nullopt;
    case Type::Kind::kTime:
      if (auto t = f::ParseTime(Trim(text))) return Value::Time(*t);
      return std::nullopt;
    case Type::Kind::kDateTime:
      if (auto dt = f::ParseDateTime(Trim(text))) return Value::DateTime(*dt);
      return std::nullopt;
    case Type::Kind::kDaysTimeDuration:
      if (auto d = f::ParseDaysTimeDuration(Trim(text))) return Value::DaysTimeDuration(*d);
      return std::nullopt;
    case Type::Kind::kYearsMonthsDuration:
      if (auto d = f::ParseYearsMonthsDuration(Trim(text))) return Value::YearsMonthsDuration(*d);
      return std::nullopt;
    default:
      break;
  }
  (void)xsd;
  return std::nullopt;
}

std::optional<Type::Kind> KindOfXsd(std::string_view xsd, std::string_view text) {
  if (xsd == "decimal" || xsd == "double" || xsd == "float" || xsd == "int" || xsd == "integer" ||
      xsd == "long" || xsd == "short" || xsd == "byte") {
    return Type::Kind::kNumber;
  }
  if (xsd == "string") return Type::Kind::kString;
  if (xsd == "boolean") return Type::Kind::kBoolean;
  if (xsd == "date") return Type::Kind::kDate;
  if (xsd == "time") return Type::Kind::kTime;
  if (xsd == "dateTime") return Type::Kind::kDateTime;
  if (xsd == "duration") {
    // Years and months only (P1Y2M) or days and time (P1DT2H).
    std::string t = Trim(text);
    bool ym = t.find_first_of("YM") != std::string::npos && t.find('T') == std::string::npos &&
              t.find('D') == std::string::npos;
    return ym ? Type::Kind::kYearsMonthsDuration : Type::Kind::kDaysTimeDuration;
  }
  return std::nullopt;
}

// A TCK valueType element (value / component* / list) as a FEEL value. `hint` is the declared
// DMN type, used when the XML value has no xsi:type.
Value ParseValue(const pugi::xml_node& node, const TypePtr& hint, std::string* error) {
  if (!node) return Value();
  if (pugi::xml_node list = Child(node, "list")) {
    if (IsNil(list)) return Value();
    TypePtr item_hint =
        hint != nullptr && hint->kind == Type::Kind::kList ? hint->element : nullptr;
    std::vector<Value> items;
    for (const pugi::xml_node& item : Children(list, "item")) {
      items.push_back(ParseValue(item, item_hint, error));
    }
    return Value::List(std::move(items));
  }
  std::vector<pugi::xml_node> components = Children(node, "component");
  if (!components.empty()) {
    tern::feel::ContextValue ctx;
    for (const pugi::xml_node& c : components) {
      std::string name(Attr(c, "name"));
      TypePtr field_hint;
      if (hint != nullptr && hint->kind == Type::Kind::kContext) {
        for (const auto& [k, t] : hint->fields) {
          if (k == name) field_hint = t;
        }
      }
      ctx.Set(name, IsNil(c) ? Value() : ParseValue(c, field_hint, error));
    }
    return Value::Context(std::move(ctx));
  }
  pugi::xml_node value = Child(node, "value");
  if (!value || IsNil(value)) return Value();
  std::string text = value.child_value();
  std::string_view xsd = LocalName(Attr(value, "type"));
  // An empty <value/> without a type is null (as the Java runners read it).
  if (xsd.empty() && !value.first_child()) return Value();
  std::optional<Type::Kind> kind;
  if (!xsd.empty()) {
    kind = KindOfXsd(xsd, text);
    // A duration declared as years-and-months or days-and-time by the model wins.
    if (kind && hint != nullptr &&
        (*kind == Type::Kind::kYearsMonthsDuration || *kind == Type::Kind::kDaysTimeDuration) &&
        (hint->kind == Type::Kind::kYearsMonthsDuration ||
         hint->kind == Type::Kind::kDaysTimeDuration)) {
      kind = hint->kind;
    }
  } else if (hint != nullptr) {
    switch (hint->kind) {
      case Type::Kind::kNumber:
      case Type::Kind::kString:
      case Type::Kind::kBoolean:
      case Type::Kind::kDate:
      case Type::Kind::kTime:
      case Type::Kind::kDateTime:
      case Type::Kind::kDaysTimeDuration:
      case Type::Kind::kYearsMonthsDuration:
        kind = hint->kind;
        break;
      default:
        break;
    }
  }
  if (!kind) return Value::String(text);
  std::optional<Value> v = ParseSimple(text, *kind, xsd);
  if (!v) {
    // A dateTime given as a date, a time with a zone id, ...: try the other temporal forms.
    for (Type::Kind k : {Type::Kind::kDateTime, Type::Kind::kDate, Type::Kind::kTime}) {
      if ((v = ParseSimple(text, k, xsd))) return *v;
    }
    if (error->empty()) *error = StrCat("cannot read '", text, "' as ", xsd);
    return Value::String(text);
  }
  return *v;
}

bool TemporalEqual(const Value& e, const Value& a) {
  namespace f = tern::feel;
  if (e.is_date_time() && a.is_date_time()) {
    const f::DateTime& x = e.as_date_time();
    const f::DateTime& y = a.as_date_time();
    if ((x.zone_kind == f::ZoneKind::kLocal) != (y.zone_kind == f::ZoneKind::kLocal)) return false;
    if (x.zone_kind == f::ZoneKind::kLocal) return x.days == y.days && x.nanos == y.nanos;
    if (x.zone_kind == f::ZoneKind::kZoneId || y.zone_kind == f::ZoneKind::kZoneId) {
      if (x.zone_kind != y.zone_kind || x.zone_id != y.zone_id) return false;
    }
    return x.days == y.days && x.nanos == y.nanos && x.offset_seconds == y.offset_seconds;
  }
  if (e.is_time() && a.is_time()) {
    const f::Time& x = e.as_time();
    const f::Time& y = a.as_time();
    if (x.zone_kind != y.zone_kind) return false;
    if (x.zone_kind == f::ZoneKind::kZoneId && x.zone_id != y.zone_id) return false;
    return x.nanos == y.nanos && x.offset_seconds == y.offset_seconds;
  }
  return e == a;
}

// TCK comparison of an expected value with the actual one.
bool Equal(const Value& e, const Value& a) {
  if (e.is_null() || a.is_null()) return e.is_null() && a.is_null();
  if (e.is_number() && a.is_number()) {
    if (e.as_number() == a.as_number()) return true;
    std::optional<tern::feel::Decimal> diff = e.as_number().Sub(a.as_number());
    static const tern::feel::Decimal kTolerance = *tern::feel::Decimal::Parse("0.00000001");
    return diff && diff->Abs() < kTolerance;
  }
  if (e.is_list() && a.is_list()) {
    if (e.list().size() != a.list().size()) return false;
    for (size_t i = 0; i < e.list().size(); ++i) {
      if (!Equal(e.list()[i], a.list()[i])) return false;
    }
    return true;
  }
  if (e.is_context() && a.is_context()) {
    if (e.context().size() != a.context().size()) return false;
    for (const auto& [k, v] : e.context().entries()) {
      const Value* other = a.Find(k);
      if (other == nullptr || !Equal(v, *other)) return false;
    }
    return true;
  }
  if (e.kind() != a.kind()) return false;
  return TemporalEqual(e, a);
}

std::string Show(const Value& v);

// Where two values differ first ("[2].Miles: expected 5 but found 6"); empty when equal.
std::string FirstDifference(const Value& e, const Value& a, const std::string& path) {
  if (Equal(e, a)) return "";
  if (e.is_list() && a.is_list() && e.list().size() == a.list().size()) {
    for (size_t i = 0; i < e.list().size(); ++i) {
      std::string d = FirstDifference(e.list()[i], a.list()[i], StrCat(path, "[", i, "]"));
      if (!d.empty()) return d;
    }
  }
  if (e.is_context() && a.is_context() && e.context().size() == a.context().size()) {
    for (const auto& [k, v] : e.context().entries()) {
      const Value* other = a.Find(k);
      if (other == nullptr) return StrCat(path, ".", k, ": missing");
      std::string d = FirstDifference(v, *other, StrCat(path, ".", k));
      if (!d.empty()) return d;
    }
  }
  return StrCat(path.empty() ? "value" : path, ": expected ", Show(e), " but found ", Show(a));
}

std::string Show(const Value& v) {
  std::string s = v.DebugString();
  if (v.is_string()) s = StrCat("\"", s, "\"");
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

// Builds the input variables of a test case: main-model inputs by name, inputs of imported
// models (inputNode@namespace) as nested contexts under each import path.
class Inputs {
 public:
  void Set(const std::vector<std::string>& path, const std::string& name, const Value& v) {
    std::vector<std::string> keys(path.begin(), path.end());
    keys.push_back(name);
    if (keys.size() == 1) {
      root_.Set(name, v);
      return;
    }
    const Value* top = root_.Find(keys[0]);
    root_.Set(keys[0], Put(top != nullptr ? *top : Value(), keys, 1, v));
  }
  Value AsContext() const { return Value::Context(root_); }

 private:
  // `existing` with keys[i..] set to v, building the nested contexts (values are immutable).
  static Value Put(const Value& existing, const std::vector<std::string>& keys, size_t i,
                   const Value& v) {
    tern::feel::ContextValue ctx =
        existing.is_context() ? existing.context() : tern::feel::ContextValue();
    if (i + 1 == keys.size()) {
      ctx.Set(keys[i], v);
    } else {
      const Value* inner = ctx.Find(keys[i]);
      ctx.Set(keys[i], Put(inner != nullptr ? *inner : Value(), keys, i + 1, v));
    }
    return Value::Context(std::move(ctx));
  }

  tern::feel::ContextValue root_;
};

class Runner {
 public:
  explicit Runner(const Options& options) : options_(options) {}

  void RunFolder(const std::string& level, const fs::path& folder);
  const std::vector<CaseResult>& results() const { return results_; }

 private:
  void RunTestFile(const std::string& folder_key, const fs::path& file,
                   const std::map<std::string, std::shared_ptr<const tern::dmn::Drg>>& graphs,
                   const std::string& parse_error);
  CaseResult RunCase(const pugi::xml_node& test_case, const tern::dmn::Drg& drg);

  const Options& options_;
  std::vector<CaseResult> results_;
};

void Runner::RunFolder(const std::string& level, const fs::path& folder) {
  const std::string folder_key = StrCat(level, "/", folder.filename().string());
  std::vector<fs::path> models, tests;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".dmn") models.push_back(entry.path());
    if (entry.path().extension() == ".xml" && name.find("-test-") != std::string::npos) {
      tests.push_back(entry.path());
    }
  }
  if (tests.empty()) return;
  std::sort(models.begin(), models.end());
  std::sort(tests.begin(), tests.end());
  std::vector<tern::dmn::DmnResource> resources;
  for (const fs::path& m : models) resources.push_back({m.filename().string(), ReadFile(m)});
  std::map<std::string, std::shared_ptr<const tern::dmn::Drg>> graphs;
  std::string parse_error;
  // As the TCK's Java runners load models: an expression that does not compile fails the
  // decisions that use it, not the whole model.
  tern::dmn::ParseOptions parse_options;
  parse_options.defer_expression_errors = true;
  auto parsed = tern::dmn::ParseDmnResources(resources, parse_options);
  if (parsed.ok()) {
    for (size_t i = 0; i < resources.size(); ++i) graphs[resources[i].name] = (*parsed)[i];
  } else {
    parse_error = std::string(tern::ToStd(parsed.status().message()));
  }
  for (const fs::path& t : tests) RunTestFile(folder_key, t, graphs, parse_error);
}

void Runner::RunTestFile(const std::string& folder_key, const fs::path& file,
                         const std::map<std::string, std::shared_ptr<const tern::dmn::Drg>>& graphs,
                         const std::string& parse_error) {
  pugi::xml_document doc;
  const std::string file_key = file.stem().string();
  std::string xml = ReadFile(file);
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata)) {
    results_.push_back({folder_key, file_key, "*", false, "cannot read the test file"});
    return;
  }
  pugi::xml_node root = doc.document_element();
  std::string model_name = Trim(Child(root, "modelName").child_value());
  const tern::dmn::Drg* drg = nullptr;
  if (auto it = graphs.find(model_name); it != graphs.end()) drg = it->second.get();
  for (const pugi::xml_node& tc : Children(root, "testCase")) {
    std::string id(Attr(tc, "id"));
    if (!options_.filter.empty() &&
        StrCat(folder_key, "/", file_key, "/", id).find(options_.filter) == std::string::npos) {
      continue;
    }
    if (drg == nullptr) {
      results_.push_back(
          {folder_key, file_key, id, false,
           parse_error.empty() ? StrCat("model '", model_name, "' not found") : parse_error});
      continue;
    }
    CaseResult r = RunCase(tc, *drg);
    r.folder = folder_key;
    r.file = file_key;
    r.id = id;
    results_.push_back(std::move(r));
  }
}

CaseResult Runner::RunCase(const pugi::xml_node& tc, const tern::dmn::Drg& drg) {
  CaseResult result;
  std::string error;
  Inputs inputs;
  std::vector<std::pair<std::string, Value>> named_args;
  for (const pugi::xml_node& in : Children(tc, "inputNode")) {
    std::string name(Attr(in, "name"));
    std::string ns(Attr(in, "namespace"));
    TypePtr hint = drg.VariableType(name, ns == drg.namespace_uri() ? "" : ns);
    Value v = IsNil(in) ? Value() : ParseValue(in, hint, &error);
    named_args.emplace_back(name, v);
    if (ns.empty() || ns == drg.namespace_uri()) {
      inputs.Set({}, name, v);
    } else {
      for (const auto& path : drg.ImportPaths(ns)) inputs.Set(path, name, v);
    }
  }
  if (!error.empty()) {
    result.message = error;
    return result;
  }
  tern::feel::ContextVariableResolver variables(inputs.AsContext());
  tern::feel::EvalOptions eval_options;
  eval_options.now_epoch_millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
  tern::dmn::EvaluationSettings settings;
  settings.variables_override_decisions = true;
  settings.collect_warnings = options_.verbose;

  std::string_view type = Attr(tc, "type");
  std::string invocable(Attr(tc, "invocableName"));
  std::optional<tern::dmn::EvaluationResult> shared;  // decision service / BKM run once
  if (type == "decisionService") {
    shared = tern::dmn::EvaluateDecisionService(drg, invocable, variables, eval_options);
  } else if (type == "bkm") {
    shared = tern::dmn::InvokeBusinessKnowledgeModel(
        drg, invocable.empty() ? std::string(Attr(tc, "name")) : invocable, named_args,
        eval_options);
  }

  std::vector<std::string> failures;
  for (const pugi::xml_node& rn : Children(tc, "resultNode")) {
    std::string name(Attr(rn, "name"));
    const bool error_expected = Attr(rn, "errorResult") == "true";
    std::string expected_error;
    Value expected = ParseValue(Child(rn, "expected"), drg.VariableType(name), &expected_error);
    Value actual;
    bool failed = false;
    std::string failure;
    std::vector<std::string> warnings;
    if (shared) {
      failed = shared->failed();
      failure = shared->failure_message;
      warnings = shared->warnings;
      // A service with several output decisions returns a context of them by name; with one,
      // its value (after the service's own type check).
      const Value* entry = shared->output.Find(name);
      actual = entry != nullptr && type == "decisionService" ? *entry : shared->output;
    } else {
      const tern::dmn::DecisionInfo* d = drg.FindDecisionByName(name);
      if (d == nullptr) d = drg.FindDecision(name);
      if (d == nullptr) {
        failures.push_back(StrCat("no decision named '", name, "'"));
        continue;
      }
      tern::dmn::EvaluationResult r =
          tern::dmn::Evaluate(drg, d->id, variables, eval_options, settings);
      failed = r.failed();
      failure = r.failure_message;
      actual = r.output;
      warnings = r.warnings;
    }
    if (error_expected) {
      if (!failed && !actual.is_null()) {
        failures.push_back(StrCat("'", name, "': expected an error but found ", Show(actual)));
      }
      continue;
    }
    if (failed) {
      failures.push_back(StrCat("'", name, "': evaluation failed: ", failure));
      continue;
    }
    if (!Equal(expected, actual)) {
      std::string f =
          StrCat("'", name, "': expected ", Show(expected), " but found ", Show(actual));
      if (expected.is_list() || expected.is_context()) {
        StrAppend(&f, " (", FirstDifference(expected, actual, ""), ")");
      }
      if (options_.verbose) {
        for (const std::string& w : warnings) StrAppend(&f, "\n      warning: ", w);
      }
      failures.push_back(std::move(f));
    }
  }
  result.success = failures.empty();
  for (const std::string& f : failures) {
    if (!result.message.empty()) result.message += "; ";
    result.message += f;
  }
  return result;
}

std::string CsvField(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') {
      out += "\"\"";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

int Usage() {
  std::fprintf(stderr,
               "usage: tern-tck DIR [--csv FILE] [--filter TEXT] [--verbose]\n"
               "                [--expect-passing FILE] [--write-passing FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (arg == "--csv") {
      if (!value(&options.csv)) return Usage();
    } else if (arg == "--filter") {
      if (!value(&options.filter)) return Usage();
    } else if (arg == "--expect-passing") {
      if (!value(&options.expect_passing)) return Usage();
    } else if (arg == "--write-passing") {
      if (!value(&options.write_passing)) return Usage();
    } else if (arg == "--verbose" || arg == "-v") {
      options.verbose = true;
    } else if (arg.starts_with("-")) {
      return Usage();
    } else if (options.dir.empty()) {
      options.dir = std::string(arg);
    } else {
      return Usage();
    }
  }
  if (options.dir.empty()) return Usage();
  std::error_code ec;
  if (!fs::is_directory(options.dir, ec)) {
    std::printf("TCK directory '%s' not found: skipped\n", options.dir.c_str());
    return 77;
  }

  const auto start = std::chrono::steady_clock::now();
  Runner runner(options);
  std::vector<std::string> levels;
  for (const auto& entry : fs::directory_iterator(options.dir)) {
    if (entry.is_directory()) levels.push_back(entry.path().filename().string());
  }
  std::sort(levels.begin(), levels.end());
  for (const std::string& level : levels) {
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(fs::path(options.dir) / level)) {
      if (entry.is_directory()) folders.push_back(entry.path());
    }
    std::sort(folders.begin(), folders.end());
    for (const fs::path& f : folders) runner.RunFolder(level, f);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::map<std::string, std::pair<int, int>> per_level;  // level -> (passed, total)
  for (const CaseResult& r : runner.results()) {
    std::string level = r.folder.substr(0, r.folder.find('/'));
    auto& [passed, total] = per_level[level];
    ++total;
    if (r.success) ++passed;
    if (!r.success && options.verbose) {
      std::printf("FAIL %s: %s\n", r.Key().c_str(), r.message.c_str());
    }
  }
  for (const auto& [level, counts] : per_level) {
    const auto [passed, total] = counts;
    std::printf("%s: %d of %d test cases passed (%.1f%%), %d failed\n", level.c_str(), passed,
                total, total == 0 ? 0.0 : 100.0 * passed / total, total - passed);
  }
  std::printf("(%zu test cases in %.1f s)\n", runner.results().size(), seconds);

  if (!options.csv.empty()) {
    std::ofstream out(options.csv);
    for (const CaseResult& r : runner.results()) {
      out << CsvField(r.folder) << ',' << CsvField(r.file) << ',' << CsvField(r.id) << ','
          << CsvField(r.success ? "SUCCESS" : "ERROR") << ',' << CsvField(r.message) << '\n';
    }
  }
  if (!options.write_passing.empty()) {
    std::set<std::string> keys;
    for (const CaseResult& r : runner.results()) {
      if (r.success) keys.insert(r.Key());
    }
    std::ofstream out(options.write_passing);
    out << "# DMN TCK test cases Tern passes (folder/test file/test case id); tern-tck\n"
           "# --expect-passing fails when one of them fails. Regenerate with --write-passing.\n";
    for (const std::string& k : keys) out << k << '\n';
  }
  int exit_code = 0;
  if (!options.expect_passing.empty()) {
    std::ifstream in(options.expect_passing);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", options.expect_passing.c_str());
      return 2;
    }
    std::map<std::string, const CaseResult*> by_key;
    for (const CaseResult& r : runner.results()) by_key[r.Key()] = &r;
    std::string line;
    int regressions = 0, expected = 0;
    while (std::getline(in, line)) {
      line = Trim(line);
      if (line.empty() || line[0] == '#') continue;
      if (!options.filter.empty() && line.find(options.filter) == std::string::npos) continue;
      ++expected;
      auto it = by_key.find(line);
      if (it == by_key.end()) {
        std::printf("REGRESSION %s: the test case was not found\n", line.c_str());
        ++regressions;
      } else if (!it->second->success) {
        std::printf("REGRESSION %s: %s\n", line.c_str(), it->second->message.c_str());
        ++regressions;
      }
    }
    std::printf("%d of %d test cases expected to pass failed\n", regressions, expected);
    if (regressions > 0) exit_code = 1;
  }
  return exit_code;
}
