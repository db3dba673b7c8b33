// DMN XML -> compiled model (model.h). Collects every problem of a resource and reports them
// together, each naming the element, its kind and line.

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "base/strings.h"
#include "dmn/model.h"
#include "dmn/xml.h"

namespace tern::dmn {
namespace internal {
namespace {

constexpr std::string_view kDmn11Namespace = "http://www.omg.org/spec/DMN/20151101/dmn.xsd";
constexpr size_t kMaxReportedProblems = 100;

// DMN model namespaces of every version: DMN 1.1's, and "http(s)://www.omg.org/spec/DMN/
// <yyyymmdd>/MODEL/" for 1.2 (20180521), 1.3 (20191111), 1.4 (20211108), 1.5 (20230324) and
// later ones.
bool IsDmnNamespace(std::string_view ns) {
  if (ns == kDmn11Namespace) return true;
  for (std::string_view prefix :
       {"https://www.omg.org/spec/DMN/", "http://www.omg.org/spec/DMN/"}) {
    if (!ns.starts_with(prefix)) continue;
    std::string_view rest = ns.substr(prefix.size());
    if (rest.size() < 14) return false;
    for (size_t i = 0; i < 8; ++i) {
      if (rest[i] < '0' || rest[i] > '9') return false;
    }
    rest.remove_prefix(8);
    return rest == "/MODEL/" || rest == "/MODEL";
  }
  return false;
}

// FEEL's namespaces (used as QName prefixes for built-in types in DMN 1.1 models).
bool IsFeelNamespace(std::string_view ns) {
  return ns == "http://www.omg.org/spec/FEEL/20140401" ||
         ((ns.starts_with("https://www.omg.org/spec/DMN/") ||
           ns.starts_with("http://www.omg.org/spec/DMN/")) &&
          (ns.ends_with("/FEEL/") || ns.ends_with("/FEEL")));
}

bool IsFeelLanguage(std::string_view uri) {
  if (uri.empty()) return true;
  if (IsFeelNamespace(uri)) return true;
  std::string lower(uri);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "feel";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsFeelKeyword(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "and",     "or",   "not",   "in",    "for",       "return",   "if",
      "then",    "else", "some",  "every", "satisfies", "instance", "of",
      "between", "true", "false", "null",  "function",  "external"};
  return std::find(std::begin(kWords), std::end(kWords), w) != std::end(kWords);
}

bool IsBuiltinName(std::string_view name) {
  static const absl::flat_hash_set<std::string>* names = [] {
    auto* set = new absl::flat_hash_set<std::string>();
    for (std::string& n : feel::BuiltinFunctionNames()) set->insert(std::move(n));
    return set;
  }();
  return names->contains(AV(name));
}

// Names the plain FEEL name rules cannot express, and names that shadow built-in functions
// (a BKM called "round"): they are given to the FEEL compiler as known names.
bool NeedsKnownName(std::string_view name) {
  if (name.empty()) return false;
  if (IsBuiltinName(name)) return true;
  if (name.front() >= '0' && name.front() <= '9') return true;
  if (name.front() == ' ' || name.back() == ' ') return true;
  size_t word_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == word_start && i < name.size() && name[i] >= '0' && name[i] <= '9') {
      return true;  // a word starting with a digit ("decision A 1") is a number to FEEL
    }
    if (i == name.size() || name[i] == ' ') {
      if (IsFeelKeyword(name.substr(word_start, i - word_start))) return true;
      if (i + 1 < name.size() && name[i + 1] == ' ') return true;  // double space
      word_start = i + 1;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80) continue;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '?') {
      continue;
    }
    return true;
  }
  return false;
}

struct Problem {
  int line = 0;
  std::string text;
};

// Kinds as they appear in messages.
constexpr std::string_view kDefinitionsKind = "DEFINITIONS";
constexpr std::string_view kDecisionKind = "DECISION";
constexpr std::string_view kInputDataKind = "INPUT_DATA";
constexpr std::string_view kBkmKind = "BUSINESS_KNOWLEDGE_MODEL";
constexpr std::string_view kServiceKind = "DECISION_SERVICE";
constexpr std::string_view kItemDefinitionKind = "ITEM_DEFINITION";
constexpr std::string_view kImportKind = "IMPORT";

std::string_view KindOf(ElementKind kind) {
  switch (kind) {
    case ElementKind::kDecision:
      return kDecisionKind;
    case ElementKind::kInputData:
      return kInputDataKind;
    case ElementKind::kBkm:
      return kBkmKind;
    case ElementKind::kDecisionService:
      return kServiceKind;
  }
  return "ELEMENT";
}

// Where a problem is reported: the DRG element (or item definition) being built.
struct Owner {
  std::string_view id;
  std::string_view kind;
};

class Builder {
 public:
  Builder(const XmlDocument& doc, std::string_view resource_name,
          const std::vector<std::shared_ptr<const Model>>& available, const ParseOptions& options)
      : doc_(doc), resource_name_(resource_name), available_(available), options_(options) {}

  absl::StatusOr<std::shared_ptr<Model>> Build();

 private:
  // ---- XML helpers ----
  const XmlElement& X(int e) const { return doc_.at(e); }
  bool IsDmn(int e) const { return IsDmnNamespace(X(e).ns); }
  bool Is(int e, std::string_view local) const { return IsDmn(e) && X(e).local == local; }

  // The value of <zeebe:versionTag value="..."/> in an element's extensionElements: Camunda's
  // version tag of a decision, which business rule tasks can bind to.
  std::string ZeebeVersionTag(int e) const {
    for (int ext : X(e).children) {
      if (!Is(ext, "extensionElements")) continue;
      for (int c : X(ext).children) {
        if (X(c).ns == "http://camunda.org/schema/zeebe/1.0" && X(c).local == "versionTag") {
          return std::string(X(c).AttrOr("value"));
        }
      }
    }
    return "";
  }
  std::vector<int> Children(int e, std::string_view local) const {
    std::vector<int> out;
    for (int c : X(e).children) {
      if (Is(c, local)) out.push_back(c);
    }
    return out;
  }
  int Child(int e, std::string_view local) const {
    for (int c : X(e).children) {
      if (Is(c, local)) return c;
    }
    return -1;
  }
  // Text of the <text> child (or of the element itself for typeRef-like elements).
  std::string TextChild(int e) const {
    int t = Child(e, "text");
    return t < 0 ? std::string() : X(t).text;
  }
  static bool IsExpressionElement(std::string_view local) {
    return local == "literalExpression" || local == "decisionTable" || local == "context" ||
           local == "invocation" || local == "functionDefinition" || local == "list" ||
           local == "relation" || local == "conditional" || local == "for" || local == "some" ||
           local == "every" || local == "filter";
  }
  int ExpressionChild(int e) const {
    for (int c : X(e).children) {
      if (IsDmn(c) && IsExpressionElement(X(c).local)) return c;
    }
    return -1;
  }

  void AddProblem(const Owner& owner, int line, std::string_view message) {
    std::string who = owner.id.empty() ? std::string("Element without id")
                                       : StrCat("Element '", Excerpt(owner.id, 128), "'");
    problems_.push_back({line, StrCat(who, " (", owner.kind, ", line ", line, "): ", message)});
  }

  // ---- types ----
  TypePtr ResolveTypeRef(std::string_view ref, int xml_context, const Owner& owner, int line);
  TypePtr ItemDefinition(std::string_view name);
  TypePtr BuildItemDefinition(int e, std::string_view name, const Owner& owner, int depth);
  TypePtr LookupNamedType(std::string_view name);
  std::string NormalizeQName(std::string_view ref, int xml_context) const;
  feel::TypeResolver MakeTypeResolver();

  // ---- expressions ----
  Compiled CompileExpression(std::string_view text, const Owner& owner, int line);
  Compiled CompileTests(std::string_view text, const Owner& owner, int line);
  ExprPtr BuildExpr(int e, const Owner& owner);
  std::unique_ptr<DecisionTableExpr> BuildDecisionTable(int e, const Owner& owner,
                                                        std::string_view result_name);
  void CollectNames(int e);

  // ---- DRG ----
  std::optional<Requirement> ResolveHref(int e, const Owner& owner,
                                         std::initializer_list<ElementKind> kinds);
  void BuildDecision(int e, Decision& d);
  void BuildBkm(int e, Bkm& b);
  void BuildService(int e, DecisionService& s);

  const XmlDocument& doc_;
  std::string_view resource_name_;
  const std::vector<std::shared_ptr<const Model>>& available_;
  const ParseOptions options_;
  // While building an element with deferred expression errors: where they go.
  std::string* deferred_ = nullptr;
  std::shared_ptr<Model> model_;
  std::vector<Problem> problems_;
  absl::flat_hash_map<std::string, int> item_xml_;  // item definition name -> XML element
  absl::flat_hash_set<std::string> items_in_progress_;
  feel::CompileOptions compile_options_;
  absl::flat_hash_set<std::string> known_names_;
};

// ---- types ----

std::string Builder::NormalizeQName(std::string_view ref, int xml_context) const {
  // DMN 1.1 typeRefs are QNames ("feel:number", "tns:tPerson"); later versions use plain
  // names, "import.name" for imported types, and FEEL type syntax ("context<a: number>").
  const size_t colon = ref.find(':');
  if (colon == std::string_view::npos || ref.find('<') != std::string_view::npos) {
    return std::string(ref);
  }
  std::string_view prefix = ref.substr(0, colon);
  std::string_view local = ref.substr(colon + 1);
  for (char c : prefix) {
    if (c == ' ') return std::string(ref);
  }
  std::optional<std::string_view> ns = doc_.ResolvePrefix(xml_context, prefix);
  if (!ns) return std::string(local);
  for (const Import& import : model_->imports) {
    if (import.namespace_uri == *ns && import.model != nullptr) {
      return StrCat(import.name, ".", local);
    }
  }
  return std::string(local);
}

TypePtr Builder::LookupNamedType(std::string_view name) {
  if (TypePtr t = ItemDefinition(name)) return t;
  // Imported item definitions: "importName.typeName".
  for (const Import& import : model_->imports) {
    if (import.model == nullptr) continue;
    if (name.size() > import.name.size() + 1 && name.starts_with(import.name) &&
        name[import.name.size()] == '.') {
      auto it = import.model->item_definitions.find(AV(name.substr(import.name.size() + 1)));
      if (it != import.model->item_definitions.end()) return it->second;
    }
  }
  return nullptr;
}

feel::TypeResolver Builder::MakeTypeResolver() {
  return [this](std::string_view name) -> TypePtr { return LookupNamedType(name); };
}

TypePtr Builder::ResolveTypeRef(std::string_view ref, int xml_context, const Owner& owner,
                                int line) {
  ref = Trim(ref);
  if (ref.empty()) return nullptr;
  std::string normalized = NormalizeQName(ref, xml_context);
  absl::StatusOr<TypePtr> t = feel::ParseType(normalized, MakeTypeResolver());
  if (t.ok()) return *t;
  // Unknown type names (Camunda 7 types, vendor types) are not checked: Any.
  if (ToStd(t.status().message()).starts_with("unknown type")) return nullptr;
  AddProblem(owner, line, StrCat("invalid typeRef '", Excerpt(ref), "': ", t.status().message()));
  return nullptr;
}

TypePtr Builder::ItemDefinition(std::string_view name) {
  auto done = model_->item_definitions.find(AV(name));
  if (done != model_->item_definitions.end()) return done->second;
  auto xml = item_xml_.find(AV(name));
  if (xml == item_xml_.end()) return nullptr;
  std::string key(name);
  if (items_in_progress_.contains(key)) return nullptr;  // recursive type: not checked
  items_in_progress_.insert(key);
  const XmlElement& e = X(xml->second);
  Owner owner{e.AttrOr("id", key), kItemDefinitionKind};
  TypePtr t = BuildItemDefinition(xml->second, key, owner, 0);
  items_in_progress_.erase(key);
  model_->item_definitions[key] = t;
  return t;
}

TypePtr Builder::BuildItemDefinition(int e, std::string_view name, const Owner& owner, int depth) {
  const XmlElement& x = X(e);
  if (depth > 32) {
    AddProblem(owner, x.line, "item components nested too deeply");
    return feel::AnyType();
  }
  TypePtr base;
  if (int fi = Child(e, "functionItem"); fi >= 0) {
    auto f = std::make_shared<feel::Type>();
    f->kind = feel::Type::Kind::kFunction;
    f->parameters_known = true;
    for (int p : Children(fi, "parameters")) {
      f->parameters.push_back(ResolveTypeRef(X(p).AttrOr("typeRef"), p, owner, X(p).line));
    }
    f->result = ResolveTypeRef(X(fi).AttrOr("outputTypeRef"), fi, owner, X(fi).line);
    base = f;
  } else if (std::vector<int> components = Children(e, "itemComponent"); !components.empty()) {
    auto c = std::make_shared<feel::Type>();
    c->kind = feel::Type::Kind::kContext;
    for (int comp : components) {
      std::string field(X(comp).AttrOr("name"));
      TypePtr ft = BuildItemDefinition(comp, field, owner, depth + 1);
      c->fields.emplace_back(std::move(field), ft != nullptr ? ft : feel::AnyType());
    }
    base = c;
  } else if (int tr = Child(e, "typeRef"); tr >= 0) {
    base = ResolveTypeRef(X(tr).text, tr, owner, X(tr).line);
  } else if (std::optional<std::string_view> attr = x.Attr("typeRef")) {  // DMN 1.1 attribute
    base = ResolveTypeRef(*attr, e, owner, x.line);
  }
  if (base == nullptr) base = feel::AnyType();

  auto constraint_of = [&](int av) -> std::function<bool(const Value&)> {
    Compiled tests = CompileTests(TextChild(av), owner, X(av).line);
    if (tests == nullptr) return nullptr;
    return [tests](const Value& v) {
      static const feel::MapVariableResolver kNoVariables;
      absl::StatusOr<Value> r = feel::EvaluateUnaryTests(*tests, v, kNoVariables, {});
      return r.ok() && r->is_bool() && r->as_bool();
    };
  };
  auto item = std::make_shared<feel::Type>(*base);
  item->name = std::string(name);
  if (int av = Child(e, "allowedValues"); av >= 0) {
    if (auto c = constraint_of(av)) item->constraints.push_back(std::move(c));
  }
  const bool collection = x.AttrOr("isCollection") == "true";
  std::shared_ptr<feel::Type> result = item;
  if (collection) {
    // allowedValues constrain the items; typeConstraint the collection (DMN 1.5 §7.3.2).
    item->name = base->name;
    auto list = std::make_shared<feel::Type>();
    list->kind = feel::Type::Kind::kList;
    list->name = std::string(name);
    list->element = item;
    result = list;
  }
  if (int tc = Child(e, "typeConstraint"); tc >= 0) {
    if (auto c = constraint_of(tc)) result->constraints.push_back(std::move(c));
  }
  if (name.empty()) result->name = base->name;
  return result;
}

// ---- expressions ----

Compiled Builder::CompileExpression(std::string_view text, const Owner& owner, int line) {
  absl::StatusOr<Compiled> c = feel::CompiledExpression::Compile(text, compile_options_);
  if (!c.ok()) {
    std::string message = StrCat(c.status().message(), " in '", Excerpt(Trim(text), 120), "'");
    if (deferred_ != nullptr) {
      if (deferred_->empty()) *deferred_ = StrCat("line ", line, ": ", message);
    } else {
      AddProblem(owner, line, message);
    }
    return nullptr;
  }
  return *c;
}

Compiled Builder::CompileTests(std::string_view text, const Owner& owner, int line) {
  absl::StatusOr<Compiled> c = feel::CompiledExpression::CompileUnaryTests(text, compile_options_);
  if (!c.ok()) {
    std::string message = StrCat(c.status().message(), " in '", Excerpt(Trim(text), 120), "'");
    if (deferred_ != nullptr) {
      if (deferred_->empty()) *deferred_ = StrCat("line ", line, ": ", message);
    } else {
      AddProblem(owner, line, message);
    }
    return nullptr;
  }
  return *c;
}

// Collects the names an expression tree introduces (context entries, parameters, iterator
// variables, relation columns, item components): candidates for the FEEL compiler's known
// names.
void Builder::CollectNames(int e) {
  std::vector<int> stack{e};
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    const XmlElement& x = X(n);
    if (IsDmn(n)) {
      std::string_view local = x.local;
      if (local == "variable" || local == "formalParameter" || local == "parameter" ||
          local == "column" || local == "itemComponent" || local == "parameters" ||
          local == "inputData" || local == "decision" || local == "businessKnowledgeModel" ||
          local == "decisionService") {
        std::string_view name = x.AttrOr("name");
        if (NeedsKnownName(name)) known_names_.insert(std::string(name));
      }
      if (std::optional<std::string_view> it = x.Attr("iteratorVariable")) {
        if (NeedsKnownName(*it)) known_names_.insert(std::string(*it));
      }
    }
    for (int c : x.children) stack.push_back(c);
  }
}

ExprPtr Builder::BuildExpr(int e, const Owner& owner) {
  const XmlElement& x = X(e);
  const std::string_view local = x.local;
  auto finish = [&](auto expr) -> ExprPtr {
    expr->id = std::string(x.AttrOr("id"));
    expr->line = x.line;
    expr->type = ResolveTypeRef(x.AttrOr("typeRef"), e, owner, x.line);
    return expr;
  };
  auto sub = [&](int parent) -> ExprPtr {
    int c = ExpressionChild(parent);
    return c < 0 ? nullptr : BuildExpr(c, owner);
  };
  if (local == "literalExpression") {
    auto lit = std::make_unique<LiteralExpr>();
    std::string_view language = x.AttrOr("expressionLanguage");
    if (!IsFeelLanguage(language)) {
      AddProblem(owner, x.line,
                 StrCat("expression language '", Excerpt(language), "' is not supported"));
    }
    std::string text = TextChild(e);
    if (!Trim(text).empty()) lit->expr = CompileExpression(text, owner, x.line);
    return finish(std::move(lit));
  }
  if (local == "decisionTable") return finish(BuildDecisionTable(e, owner, owner.id));
  if (local == "context") {
    auto ctx = std::make_unique<ContextExpr>();
    std::vector<int> entries = Children(e, "contextEntry");
    for (size_t i = 0; i < entries.size(); ++i) {
      ContextEntry entry;
      int var = Child(entries[i], "variable");
      if (var >= 0) {
        entry.name = std::string(X(var).AttrOr("name"));
        entry.type = ResolveTypeRef(X(var).AttrOr("typeRef"), var, owner, X(var).line);
      } else if (i + 1 == entries.size()) {
        ctx->has_result = true;
      } else {
        AddProblem(owner, X(entries[i]).line,
                   "only the last context entry may omit its variable (the result)");
      }
      entry.value = sub(entries[i]);
      ctx->entries.push_back(std::move(entry));
    }
    return finish(std::move(ctx));
  }
  if (local == "invocation") {
    auto inv = std::make_unique<InvocationExpr>();
    int callee = ExpressionChild(e);
    if (callee >= 0 && Is(callee, "literalExpression")) {
      inv->callee_text = std::string(Trim(TextChild(callee)));
      inv->callee = CompileExpression(inv->callee_text, owner, X(callee).line);
    } else {
      AddProblem(owner, x.line,
                 "an invocation must name the invoked function in a literal expression");
    }
    for (int b : Children(e, "binding")) {
      Binding binding;
      int p = Child(b, "parameter");
      if (p >= 0) binding.parameter = std::string(X(p).AttrOr("name"));
      binding.value = sub(b);
      inv->bindings.push_back(std::move(binding));
    }
    return finish(std::move(inv));
  }
  if (local == "functionDefinition") {
    auto fn = std::make_unique<FunctionDefinitionExpr>();
    fn->model = model_.get();
    std::string_view kind = x.AttrOr("kind", "FEEL");
    if (kind == "Java" || kind == "JAVA" || kind == "J") {
      fn->kind = FunctionKind::kJava;
    } else if (kind == "PMML" || kind == "P") {
      fn->kind = FunctionKind::kPmml;
    }
    for (int p : Children(e, "formalParameter")) {
      fn->parameters.push_back({std::string(X(p).AttrOr("name")),
                                ResolveTypeRef(X(p).AttrOr("typeRef"), p, owner, X(p).line)});
    }
    fn->body = sub(e);
    return finish(std::move(fn));
  }
  if (local == "list") {
    auto list = std::make_unique<ListExpr>();
    for (int c : X(e).children) {
      if (IsDmn(c) && IsExpressionElement(X(c).local)) list->items.push_back(BuildExpr(c, owner));
    }
    return finish(std::move(list));
  }
  if (local == "relation") {
    auto rel = std::make_unique<RelationExpr>();
    for (int c : Children(e, "column")) {
      rel->columns.emplace_back(X(c).AttrOr("name"));
      rel->column_types.push_back(ResolveTypeRef(X(c).AttrOr("typeRef"), c, owner, X(c).line));
    }
    for (int r : Children(e, "row")) {
      std::vector<ExprPtr> cells;
      for (int c : X(r).children) {
        if (IsDmn(c) && IsExpressionElement(X(c).local)) cells.push_back(BuildExpr(c, owner));
      }
      if (cells.size() != rel->columns.size()) {
        AddProblem(owner, X(r).line,
                   StrCat("a relation row has ", cells.size(), " cells but the relation has ",
                          rel->columns.size(), " columns"));
      }
      rel->rows.push_back(std::move(cells));
    }
    return finish(std::move(rel));
  }
  if (local == "conditional") {
    auto cond = std::make_unique<ConditionalExpr>();
    int i = Child(e, "if"), t = Child(e, "then"), el = Child(e, "else");
    if (i >= 0) cond->condition = sub(i);
    if (t >= 0) cond->then_branch = sub(t);
    if (el >= 0) cond->else_branch = sub(el);
    if (cond->condition == nullptr) AddProblem(owner, x.line, "a conditional needs an 'if'");
    return finish(std::move(cond));
  }
  if (local == "for" || local == "some" || local == "every") {
    auto it = std::make_unique<IteratorExpr>();
    it->kind = local == "for"    ? IteratorExpr::Kind::kFor
               : local == "some" ? IteratorExpr::Kind::kSome
                                 : IteratorExpr::Kind::kEvery;
    it->variable = std::string(x.AttrOr("iteratorVariable"));
    int in = Child(e, "in");
    int body = Child(e, local == "for" ? "return" : "satisfies");
    if (in >= 0) it->in = sub(in);
    if (body >= 0) it->body = sub(body);
    if (it->variable.empty() || it->in == nullptr || it->body == nullptr) {
      AddProblem(owner, x.line,
                 StrCat("a boxed '", local, "' needs an iteratorVariable, 'in' and '",
                        local == "for" ? "return" : "satisfies", "'"));
    }
    return finish(std::move(it));
  }
  if (local == "filter") {
    auto f = std::make_unique<FilterExpr>();
    int in = Child(e, "in"), match = Child(e, "match");
    if (in >= 0) f->in = sub(in);
    if (match >= 0) f->match = sub(match);
    if (f->in == nullptr || f->match == nullptr) {
      AddProblem(owner, x.line, "a boxed filter needs 'in' and 'match'");
    }
    return finish(std::move(f));
  }
  AddProblem(owner, x.line, StrCat("expression '", local, "' is not supported"));
  return nullptr;
}

std::unique_ptr<DecisionTableExpr> Builder::BuildDecisionTable(int e, const Owner& owner,
                                                               std::string_view result_name) {
  const XmlElement& x = X(e);
  auto dt = std::make_unique<DecisionTableExpr>();
  dt->result_name = std::string(result_name);
  std::string hit(Trim(x.AttrOr("hitPolicy", "UNIQUE")));
  if (hit == "UNIQUE" || hit == "U") {
    dt->hit_policy = HitPolicy::kUnique;
  } else if (hit == "FIRST" || hit == "F") {
    dt->hit_policy = HitPolicy::kFirst;
  } else if (hit == "PRIORITY" || hit == "P") {
    dt->hit_policy = HitPolicy::kPriority;
  } else if (hit == "ANY" || hit == "A") {
    dt->hit_policy = HitPolicy::kAny;
  } else if (hit == "COLLECT" || hit == "C") {
    dt->hit_policy = HitPolicy::kCollect;
  } else if (hit == "RULE ORDER" || hit == "R" || hit == "RULE_ORDER") {
    dt->hit_policy = HitPolicy::kRuleOrder;
  } else if (hit == "OUTPUT ORDER" || hit == "O" || hit == "OUTPUT_ORDER") {
    dt->hit_policy = HitPolicy::kOutputOrder;
  } else {
    AddProblem(owner, x.line, StrCat("unknown hit policy '", Excerpt(hit), "'"));
  }
  if (std::optional<std::string_view> agg = x.Attr("aggregation")) {
    std::string a(Trim(*agg));
    if (a == "SUM") {
      dt->aggregation = Aggregation::kSum;
    } else if (a == "MIN") {
      dt->aggregation = Aggregation::kMin;
    } else if (a == "MAX") {
      dt->aggregation = Aggregation::kMax;
    } else if (a == "COUNT") {
      dt->aggregation = Aggregation::kCount;
    } else {
      AddProblem(owner, x.line, StrCat("unknown aggregation '", Excerpt(a), "'"));
    }
    if (dt->hit_policy != HitPolicy::kCollect && dt->aggregation != Aggregation::kNone) {
      AddProblem(owner, x.line, "an aggregation requires the COLLECT hit policy");
    }
  }
  for (int in : Children(e, "input")) {
    DtInput input;
    input.id = std::string(X(in).AttrOr("id"));
    int ie = Child(in, "inputExpression");
    std::string text;
    if (ie >= 0) {
      text = TextChild(ie);
      input.type = ResolveTypeRef(X(ie).AttrOr("typeRef"), ie, owner, X(ie).line);
      if (!IsFeelLanguage(X(ie).AttrOr("expressionLanguage"))) {
        AddProblem(owner, X(ie).line,
                   StrCat("expression language '", Excerpt(X(ie).AttrOr("expressionLanguage")),
                          "' is not supported"));
      }
    }
    if (Trim(text).empty()) {
      AddProblem(owner, X(in).line, "a decision table input needs an input expression");
    } else {
      input.expr = CompileExpression(text, owner, ie >= 0 ? X(ie).line : X(in).line);
    }
    input.name = std::string(X(in).AttrOr("label"));
    if (input.name.empty()) input.name = std::string(Trim(text));
    if (int iv = Child(in, "inputValues"); iv >= 0) {
      std::string values = TextChild(iv);
      if (!Trim(values).empty()) input.allowed = CompileTests(values, owner, X(iv).line);
    }
    dt->inputs.push_back(std::move(input));
  }
  std::vector<int> outputs = Children(e, "output");
  if (outputs.empty()) AddProblem(owner, x.line, "a decision table needs at least one output");
  for (int out : outputs) {
    DtOutput output;
    output.id = std::string(X(out).AttrOr("id"));
    output.name = std::string(X(out).AttrOr("name"));
    output.label = std::string(X(out).AttrOr("label"));
    output.type = ResolveTypeRef(X(out).AttrOr("typeRef"), out, owner, X(out).line);
    if (int ov = Child(out, "outputValues"); ov >= 0) {
      std::string values = TextChild(ov);
      if (!Trim(values).empty()) {
        output.allowed = CompileTests(values, owner, X(ov).line);
        // The same list as constants gives the priority order.
        absl::StatusOr<Compiled> list =
            feel::CompiledExpression::Compile(StrCat("[", values, "]"), compile_options_);
        if (list.ok() && (*list)->constant_value() != nullptr &&
            (*list)->constant_value()->is_list()) {
          output.priorities = (*list)->constant_value()->list();
        }
      }
    }
    if (int def = Child(out, "defaultOutputEntry"); def >= 0) {
      std::string text = TextChild(def);
      if (!Trim(text).empty()) output.default_value = CompileExpression(text, owner, X(def).line);
    }
    if (outputs.size() > 1 && output.name.empty()) {
      AddProblem(owner, X(out).line,
                 "every output of a decision table with several outputs needs a name");
    }
    dt->outputs.push_back(std::move(output));
  }
  if ((dt->hit_policy == HitPolicy::kPriority || dt->hit_policy == HitPolicy::kOutputOrder) &&
      !dt->outputs.empty()) {
    bool any = false;
    for (const DtOutput& o : dt->outputs) any = any || !o.priorities.empty();
    if (!any) {
      AddProblem(owner, x.line,
                 "the PRIORITY and OUTPUT ORDER hit policies need output values that give the "
                 "priority order");
    }
  }
  if (dt->aggregation != Aggregation::kNone && dt->outputs.size() > 1) {
    AddProblem(owner, x.line, "an aggregation is only allowed for a single output");
  }
  for (int r : Children(e, "rule")) {
    DtRule rule;
    rule.id = std::string(X(r).AttrOr("id"));
    std::vector<int> in_entries = Children(r, "inputEntry");
    std::vector<int> out_entries = Children(r, "outputEntry");
    if (in_entries.size() != dt->inputs.size() || out_entries.size() != dt->outputs.size()) {
      AddProblem(
          owner, X(r).line,
          StrCat("rule '", Excerpt(rule.id), "' has ", in_entries.size(), " input entries and ",
                 out_entries.size(), " output entries; the table has ", dt->inputs.size(),
                 " inputs and ", dt->outputs.size(), " outputs"));
    }
    for (int ie : in_entries) {
      DtCell cell;
      std::string text = TextChild(ie);
      if (Trim(text).empty()) text.assign(1, '-');  // GCC 12 -Wrestrict false positive on = "-"
      cell.expr = CompileTests(text, owner, X(ie).line);
      if (cell.expr != nullptr) cell.constant_tests = cell.expr->constant_tests();
      rule.inputs.push_back(std::move(cell));
    }
    for (int oe : out_entries) {
      DtCell cell;
      std::string text = TextChild(oe);
      if (!Trim(text).empty()) {
        cell.expr = CompileExpression(text, owner, X(oe).line);
        if (cell.expr != nullptr) cell.constant = cell.expr->constant_value();
      }
      rule.outputs.push_back(std::move(cell));
    }
    dt->rules.push_back(std::move(rule));
  }
  return dt;
}

// ---- DRG ----

std::optional<Requirement> Builder::ResolveHref(int e, const Owner& owner,
                                                std::initializer_list<ElementKind> kinds) {
  std::string_view href = Trim(X(e).AttrOr("href"));
  const size_t hash = href.find('#');
  if (hash == std::string_view::npos) {
    AddProblem(owner, X(e).line, StrCat("invalid reference '", Excerpt(href), "'"));
    return std::nullopt;
  }
  std::string_view ns = href.substr(0, hash);
  std::string_view id = href.substr(hash + 1);
  Requirement req;
  const Model* target = model_.get();
  if (!ns.empty() && ns != model_->namespace_uri) {
    target = nullptr;
    for (const Import& import : model_->imports) {
      if (import.namespace_uri == ns && import.model != nullptr) {
        target = import.model.get();
        req.prefix = import.name;
        break;
      }
    }
    if (target == nullptr) {
      AddProblem(owner, X(e).line,
                 StrCat("reference '", Excerpt(href), "' names a namespace that is not imported"));
      return std::nullopt;
    }
  }
  auto it = target->by_id.find(AV(id));
  if (it == target->by_id.end()) {
    AddProblem(owner, X(e).line, StrCat("reference '", Excerpt(href), "' names no element"));
    return std::nullopt;
  }
  if (std::find(kinds.begin(), kinds.end(), it->second->kind) == kinds.end()) {
    AddProblem(owner, X(e).line,
               StrCat("reference '", Excerpt(href), "' names a ", KindOf(it->second->kind),
                      " where this is not allowed"));
    return std::nullopt;
  }
  req.element = it->second;
  return req;
}

DecisionType TypeOfLogic(const Expr* e) {
  if (e == nullptr) return DecisionType::kUnknown;
  if (dynamic_cast<const DecisionTableExpr*>(e)) return DecisionType::kDecisionTable;
  if (dynamic_cast<const LiteralExpr*>(e)) return DecisionType::kLiteralExpression;
  if (dynamic_cast<const ContextExpr*>(e)) return DecisionType::kContext;
  if (dynamic_cast<const InvocationExpr*>(e)) return DecisionType::kInvocation;
  if (dynamic_cast<const ListExpr*>(e)) return DecisionType::kList;
  if (dynamic_cast<const RelationExpr*>(e)) return DecisionType::kRelation;
  return DecisionType::kUnknown;
}

void Builder::BuildDecision(int e, Decision& d) {
  Owner owner{d.id, kDecisionKind};
  for (int ir : Children(e, "informationRequirement")) {
    if (int rd = Child(ir, "requiredDecision"); rd >= 0) {
      if (auto r = ResolveHref(rd, owner, {ElementKind::kDecision})) {
        d.required_decisions.push_back(*r);
      }
    }
    if (int ri = Child(ir, "requiredInput"); ri >= 0) {
      if (auto r = ResolveHref(ri, owner, {ElementKind::kInputData}))
        d.required_inputs.push_back(*r);
    }
  }
  for (int kr : Children(e, "knowledgeRequirement")) {
    if (int rk = Child(kr, "requiredKnowledge"); rk >= 0) {
      if (auto r = ResolveHref(rk, owner, {ElementKind::kBkm, ElementKind::kDecisionService})) {
        d.required_knowledge.push_back(*r);
      }
    }
  }
  int logic = ExpressionChild(e);
  if (logic >= 0) d.logic = BuildExpr(logic, owner);
  d.decision_type = TypeOfLogic(d.logic.get());
}

void Builder::BuildBkm(int e, Bkm& b) {
  Owner owner{b.id, kBkmKind};
  for (int kr : Children(e, "knowledgeRequirement")) {
    if (int rk = Child(kr, "requiredKnowledge"); rk >= 0) {
      if (auto r = ResolveHref(rk, owner, {ElementKind::kBkm, ElementKind::kDecisionService})) {
        b.required_knowledge.push_back(*r);
      }
    }
  }
  b.result_type = b.type;
  if (b.type != nullptr && b.type->kind == feel::Type::Kind::kFunction) {
    b.result_type = b.type->result;
  }
  int logic = Child(e, "encapsulatedLogic");
  if (logic < 0) return;  // no logic: invoking it yields null
  std::string_view kind = X(logic).AttrOr("kind", "FEEL");
  if (kind == "Java" || kind == "JAVA" || kind == "J") {
    b.function_kind = FunctionKind::kJava;
  } else if (kind == "PMML" || kind == "P") {
    b.function_kind = FunctionKind::kPmml;
  }
  for (int p : Children(logic, "formalParameter")) {
    b.parameters.push_back({std::string(X(p).AttrOr("name")),
                            ResolveTypeRef(X(p).AttrOr("typeRef"), p, owner, X(p).line)});
  }
  int body = ExpressionChild(logic);
  if (body >= 0) b.body = BuildExpr(body, owner);
  // The encapsulated logic's own typeRef is the BKM's result type when its variable has none.
  if (b.result_type == nullptr) {
    b.result_type = ResolveTypeRef(X(logic).AttrOr("typeRef"), logic, owner, X(logic).line);
  }
}

void Builder::BuildService(int e, DecisionService& s) {
  Owner owner{s.id, kServiceKind};
  auto refs = [&](std::string_view local, ElementKind kind, std::vector<Requirement>* out) {
    for (int r : Children(e, local)) {
      if (auto req = ResolveHref(r, owner, {kind})) out->push_back(*req);
    }
  };
  refs("outputDecision", ElementKind::kDecision, &s.output_decisions);
  refs("encapsulatedDecision", ElementKind::kDecision, &s.encapsulated_decisions);
  refs("inputDecision", ElementKind::kDecision, &s.input_decisions);
  refs("inputData", ElementKind::kInputData, &s.input_data);
  s.result_type = s.type;
  if (s.type != nullptr && s.type->kind == feel::Type::Kind::kFunction) {
    s.result_type = s.type->result;
  }
  if (s.output_decisions.empty()) {
    AddProblem(owner, X(e).line, "a decision service needs at least one output decision");
  }
}

absl::StatusOr<std::shared_ptr<Model>> Builder::Build() {
  const XmlElement& root = X(0);
  auto fail_root = [&](std::string_view message) {
    return absl::InvalidArgumentError(StrCat("'", Excerpt(resource_name_, 256),
                                             "' is not a valid DMN resource:\n- Line ", root.line,
                                             ": ", message));
  };
  if (!IsDmn(0) || root.local != "definitions") {
    return fail_root(StrCat("the root element must be a DMN 'definitions' element, not '",
                            Excerpt(root.local), "' in namespace '", Excerpt(root.ns, 128), "'"));
  }
  model_ = std::make_shared<Model>();
  model_->id = std::string(root.AttrOr("id"));
  model_->name = std::string(root.AttrOr("name"));
  model_->namespace_uri = std::string(root.AttrOr("namespace"));
  model_->resource_name = std::string(resource_name_);
  // Ids are optional in DMN; elements without one are known by their name.
  if (model_->id.empty()) model_->id = model_->name;
  Owner definitions{model_->id, kDefinitionsKind};
  if (!IsFeelLanguage(root.AttrOr("expressionLanguage"))) {
    AddProblem(definitions, root.line,
               StrCat("expression language '", Excerpt(root.AttrOr("expressionLanguage")),
                      "' is not supported (only FEEL)"));
  }

  // Imports.
  for (int im : Children(0, "import")) {
    Import import;
    import.name = std::string(X(im).AttrOr("name"));
    import.namespace_uri = std::string(X(im).AttrOr("namespace"));
    std::string_view type = X(im).AttrOr("importType");
    if (!type.empty() && !IsDmnNamespace(type)) continue;  // PMML, XSD: not evaluated
    for (const auto& m : available_) {
      if (m->namespace_uri == import.namespace_uri) import.model = m;
    }
    if (import.model == nullptr) {
      AddProblem({X(im).AttrOr("id", import.name), kImportKind}, X(im).line,
                 StrCat("imported DMN model with namespace '", Excerpt(import.namespace_uri, 200),
                        "' is not available"));
      continue;
    }
    model_->imports.push_back(std::move(import));
  }

  // Item definitions (built on first use, so their order does not matter).
  for (int it : Children(0, "itemDefinition")) {
    std::string name(X(it).AttrOr("name"));
    if (!item_xml_.try_emplace(name, it).second) {
      AddProblem({X(it).AttrOr("id", name), kItemDefinitionKind}, X(it).line,
                 StrCat("duplicate item definition '", Excerpt(name), "'"));
    }
  }

  // DRG elements, first pass: identities and types.
  struct Pending {
    int xml;
    Element* element;
  };
  std::vector<Pending> pending;
  for (int c : X(0).children) {
    if (!IsDmn(c)) continue;
    std::string_view local = X(c).local;
    Element* element = nullptr;
    if (local == "decision") {
      auto d = std::make_unique<Decision>();
      d->kind = ElementKind::kDecision;
      d->version_tag = ZeebeVersionTag(c);
      element = d.get();
      model_->decisions.push_back(std::move(d));
    } else if (local == "inputData") {
      auto d = std::make_unique<InputData>();
      d->kind = ElementKind::kInputData;
      element = d.get();
      model_->inputs.push_back(std::move(d));
    } else if (local == "businessKnowledgeModel") {
      auto d = std::make_unique<Bkm>();
      d->kind = ElementKind::kBkm;
      element = d.get();
      model_->bkms.push_back(std::move(d));
    } else if (local == "decisionService") {
      auto d = std::make_unique<DecisionService>();
      d->kind = ElementKind::kDecisionService;
      element = d.get();
      model_->services.push_back(std::move(d));
    } else {
      continue;
    }
    element->id = std::string(X(c).AttrOr("id"));
    element->name = std::string(X(c).AttrOr("name"));
    element->line = X(c).line;
    element->model = model_.get();
    if (element->name.empty()) element->name = element->id;
    if (element->id.empty()) element->id = element->name;
    Owner owner{element->id, KindOf(element->kind)};
    if (element->id.empty()) AddProblem(owner, element->line, "the element needs an id or a name");
    if (!element->id.empty() && !model_->by_id.try_emplace(element->id, element).second) {
      AddProblem(owner, element->line, StrCat("duplicate id '", Excerpt(element->id), "'"));
    }
    if (!model_->by_name.try_emplace(element->name, element).second &&
        element->kind == ElementKind::kDecision) {
      // Names are variables: two decisions with one name cannot both be referenced.
      const Element* other = model_->by_name[element->name];
      if (other->kind == ElementKind::kDecision) {
        AddProblem(owner, element->line,
                   StrCat("duplicate decision name '", Excerpt(element->name), "'"));
      }
    }
    pending.push_back({c, element});
    CollectNames(c);
  }
  for (const Import& import : model_->imports) {
    for (const auto& [name, element] : import.model->by_name) {
      std::string qualified = StrCat(import.name, ".", name);
      if (NeedsKnownName(qualified)) known_names_.insert(std::move(qualified));
    }
    if (NeedsKnownName(import.name)) known_names_.insert(import.name);
  }
  compile_options_.known_names.assign(known_names_.begin(), known_names_.end());
  std::sort(compile_options_.known_names.begin(), compile_options_.known_names.end());
  compile_options_.type_resolver = MakeTypeResolver();

  // Build every item definition so the model exports them (imports, `instance of`).
  for (const auto& [name, xml] : item_xml_) ItemDefinition(name);

  for (const Pending& p : pending) {
    int var = Child(p.xml, "variable");
    Owner owner{p.element->id, KindOf(p.element->kind)};
    if (var >= 0) {
      p.element->type = ResolveTypeRef(X(var).AttrOr("typeRef"), var, owner, X(var).line);
    } else if (std::optional<std::string_view> attr = X(p.xml).Attr("typeRef")) {
      p.element->type = ResolveTypeRef(*attr, p.xml, owner, X(p.xml).line);  // DMN 1.1
    }
  }

  // Second pass: requirements and logic.
  for (const Pending& p : pending) {
    if (options_.defer_expression_errors) deferred_ = &p.element->deferred_error;
    switch (p.element->kind) {
      case ElementKind::kDecision:
        BuildDecision(p.xml, *static_cast<Decision*>(p.element));
        break;
      case ElementKind::kBkm:
        BuildBkm(p.xml, *static_cast<Bkm*>(p.element));
        break;
      case ElementKind::kDecisionService:
        BuildService(p.xml, *static_cast<DecisionService*>(p.element));
        break;
      case ElementKind::kInputData:
        break;
    }
    deferred_ = nullptr;
  }

  // Required decisions must not form a cycle (evaluation would never end).
  {
    absl::flat_hash_map<const Decision*, int> state;  // 1 = in progress, 2 = done
    for (const auto& d : model_->decisions) {
      std::vector<std::pair<const Decision*, size_t>> stack{{d.get(), 0}};
      while (!stack.empty()) {
        auto& [cur, next] = stack.back();
        if (next == 0) {
          int& s = state[cur];
          if (s == 2) {
            stack.pop_back();
            continue;
          }
          s = 1;
        }
        if (next < cur->required_decisions.size()) {
          const auto* req = static_cast<const Decision*>(cur->required_decisions[next++].element);
          if (req->model != model_.get()) continue;
          int s = state[req];
          if (s == 1) {
            AddProblem({cur->id, kDecisionKind}, cur->line,
                       StrCat("required decisions form a cycle through '", Excerpt(req->id), "'"));
            continue;
          }
          if (s == 0) stack.push_back({req, 0});
          continue;
        }
        state[cur] = 2;
        stack.pop_back();
      }
    }
  }

  for (const auto& d : model_->decisions) {
    model_->decision_infos.push_back({d->id, d->name, d->decision_type, d->version_tag});
  }
  for (int c : X(0).children) {
    if (!IsDmn(c)) continue;
    std::string_view local = X(c).local;
    if (local != "businessKnowledgeModel" && local != "decisionService") continue;
    auto it = model_->by_id.find(AV(X(c).AttrOr("id")));
    if (it == model_->by_id.end()) continue;
    model_->invocables.push_back({local == "businessKnowledgeModel"
                                      ? InvocableInfo::Kind::kBusinessKnowledgeModel
                                      : InvocableInfo::Kind::kDecisionService,
                                  it->second->id, it->second->name});
  }

  if (!problems_.empty()) {
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    problems_.erase(
        std::unique(problems_.begin(), problems_.end(),
                    [](const Problem& a, const Problem& b) { return a.text == b.text; }),
        problems_.end());
    std::string message =
        StrCat("'", Excerpt(resource_name_, 256), "' is not a valid DMN resource:");
    size_t shown = 0;
    for (const Problem& p : problems_) {
      if (shown == kMaxReportedProblems) {
        StrAppend(&message, "\n- ... and ", problems_.size() - shown, " more problems");
        break;
      }
      StrAppend(&message, "\n- ", p.text);
      ++shown;
    }
    return absl::InvalidArgumentError(message);
  }
  return model_;
}

absl::StatusOr<std::shared_ptr<const Model>> BuildModel(
    std::string_view xml, std::string_view resource_name,
    const std::vector<std::shared_ptr<const Model>>& available, const ParseOptions& options) {
  absl::StatusOr<std::unique_ptr<XmlDocument>> doc = ReadXml(xml, resource_name);
  if (!doc.ok()) return doc.status();
  Builder builder(**doc, resource_name, available, options);
  absl::StatusOr<std::shared_ptr<Model>> model = builder.Build();
  if (!model.ok()) return model.status();
  return std::shared_ptr<const Model>(std::move(*model));
}

}  // namespace

const Element* Model::Find(std::string_view id_or_name) const {
  if (auto it = by_id.find(AV(id_or_name)); it != by_id.end()) return it->second;
  if (auto it = by_name.find(AV(id_or_name)); it != by_name.end()) return it->second;
  return nullptr;
}

}  // namespace internal

// ---- Public API ----

std::string_view DecisionTypeName(DecisionType type) {
  switch (type) {
    case DecisionType::kDecisionTable:
      return "DECISION_TABLE";
    case DecisionType::kLiteralExpression:
      return "LITERAL_EXPRESSION";
    case DecisionType::kContext:
      return "CONTEXT";
    case DecisionType::kInvocation:
      return "INVOCATION";
    case DecisionType::kList:
      return "LIST";
    case DecisionType::kRelation:
      return "RELATION";
    case DecisionType::kUnknown:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

DecisionRequirementsGraph::DecisionRequirementsGraph(std::shared_ptr<const internal::Model> model)
    : model_(std::move(model)) {}
DecisionRequirementsGraph::~DecisionRequirementsGraph() = default;

const std::string& DecisionRequirementsGraph::id() const { return model_->id; }
const std::string& DecisionRequirementsGraph::name() const { return model_->name; }
const std::string& DecisionRequirementsGraph::namespace_uri() const {
  return model_->namespace_uri;
}
const std::string& DecisionRequirementsGraph::resource_name() const {
  return model_->resource_name;
}
const std::vector<DecisionInfo>& DecisionRequirementsGraph::decisions() const {
  return model_->decision_infos;
}
const DecisionInfo* DecisionRequirementsGraph::FindDecision(std::string_view id) const {
  for (const DecisionInfo& d : model_->decision_infos) {
    if (d.id == id) return &d;
  }
  return nullptr;
}
const DecisionInfo* DecisionRequirementsGraph::FindDecisionByName(std::string_view name) const {
  for (const DecisionInfo& d : model_->decision_infos) {
    if (d.name == name) return &d;
  }
  return nullptr;
}
const std::vector<InvocableInfo>& DecisionRequirementsGraph::invocables() const {
  return model_->invocables;
}
std::vector<std::string> DecisionRequirementsGraph::imported_namespaces() const {
  std::vector<std::string> out;
  for (const auto& import : model_->imports) out.push_back(import.namespace_uri);
  return out;
}

namespace {

void CollectPaths(const internal::Model& m, std::string_view ns, std::vector<std::string>& path,
                  std::vector<std::vector<std::string>>* out, int depth) {
  if (depth > 16) return;
  for (const internal::Import& import : m.imports) {
    if (import.model == nullptr) continue;
    path.push_back(import.name);
    if (import.model->namespace_uri == ns) out->push_back(path);
    CollectPaths(*import.model, ns, path, out, depth + 1);
    path.pop_back();
  }
}

}  // namespace

std::vector<std::vector<std::string>> DecisionRequirementsGraph::ImportPaths(
    std::string_view namespace_uri) const {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> path;
  CollectPaths(*model_, namespace_uri, path, &out, 0);
  return out;
}

feel::TypePtr DecisionRequirementsGraph::VariableType(std::string_view name,
                                                      std::string_view namespace_uri) const {
  std::vector<const internal::Model*> stack{model_.get()};
  for (size_t i = 0; i < stack.size() && i < 64; ++i) {
    const internal::Model* m = stack[i];
    if (namespace_uri.empty() ? i == 0 : m->namespace_uri == namespace_uri) {
      auto it = m->by_name.find(internal::AV(name));
      if (it != m->by_name.end()) {
        const internal::Element* e = it->second;
        if (e->kind == internal::ElementKind::kBkm) {
          return static_cast<const internal::Bkm*>(e)->result_type;
        }
        if (e->kind == internal::ElementKind::kDecisionService) {
          return static_cast<const internal::DecisionService*>(e)->result_type;
        }
        return e->type;
      }
    }
    for (const internal::Import& import : m->imports) {
      if (import.model != nullptr) stack.push_back(import.model.get());
    }
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const DecisionRequirementsGraph>> ParseDmn(
    std::string_view xml, std::string_view resource_name) {
  return ParseDmn(xml, resource_name, ParseOptions{});
}

absl::StatusOr<std::shared_ptr<const DecisionRequirementsGraph>> ParseDmn(
    std::string_view xml, std::string_view resource_name, const ParseOptions& options) {
  absl::StatusOr<std::shared_ptr<const internal::Model>> model =
      internal::BuildModel(xml, resource_name, {}, options);
  if (!model.ok()) return model.status();
  return std::make_shared<const DecisionRequirementsGraph>(std::move(*model));
}

absl::StatusOr<DmnHeader> ReadDmnHeader(std::string_view xml, std::string_view resource_name) {
  absl::StatusOr<std::unique_ptr<internal::XmlDocument>> doc =
      internal::ReadXml(xml, resource_name);
  if (!doc.ok()) return doc.status();
  const internal::XmlDocument& d = **doc;
  const internal::XmlElement& root = d.at(0);
  if (!internal::IsDmnNamespace(root.ns) || root.local != "definitions") {
    return absl::InvalidArgumentError(StrCat(
        "'", internal::Excerpt(resource_name, 256), "' is not a valid DMN resource:\n- Line ",
        root.line, ": the root element must be a DMN 'definitions' element"));
  }
  DmnHeader header;
  header.id = std::string(root.AttrOr("id"));
  header.name = std::string(root.AttrOr("name"));
  header.namespace_uri = std::string(root.AttrOr("namespace"));
  for (int c : root.children) {
    const internal::XmlElement& x = d.at(c);
    if (!internal::IsDmnNamespace(x.ns) || x.local != "import") continue;
    std::string_view type = x.AttrOr("importType");
    if (!type.empty() && !internal::IsDmnNamespace(type)) continue;
    header.imported_namespaces.emplace_back(x.AttrOr("namespace"));
  }
  return header;
}

absl::StatusOr<std::vector<std::shared_ptr<const DecisionRequirementsGraph>>> ParseDmnResources(
    const std::vector<DmnResource>& resources, const ParseOptions& options) {
  // Order by imports: a resource is built after the resources it imports.
  std::vector<DmnHeader> headers;
  for (const DmnResource& r : resources) {
    absl::StatusOr<DmnHeader> h = ReadDmnHeader(r.xml, r.name);
    if (!h.ok()) return h.status();
    headers.push_back(std::move(*h));
  }
  std::vector<std::shared_ptr<const internal::Model>> built(resources.size());
  std::vector<std::shared_ptr<const internal::Model>> available;
  size_t remaining = resources.size();
  while (remaining > 0) {
    bool progress = false;
    for (size_t i = 0; i < resources.size(); ++i) {
      if (built[i] != nullptr) continue;
      bool ready = true;
      for (const std::string& ns : headers[i].imported_namespaces) {
        bool provided = false, available_now = false;
        for (size_t j = 0; j < resources.size(); ++j) {
          if (j != i && headers[j].namespace_uri == ns) {
            provided = true;
            if (built[j] != nullptr) available_now = true;
          }
        }
        if (provided && !available_now) ready = false;
      }
      if (!ready) continue;
      absl::StatusOr<std::shared_ptr<const internal::Model>> m =
          internal::BuildModel(resources[i].xml, resources[i].name, available, options);
      if (!m.ok()) return m.status();
      built[i] = *m;
      available.push_back(*m);
      --remaining;
      progress = true;
    }
    if (!progress) {
      for (size_t i = 0; i < resources.size(); ++i) {
        if (built[i] == nullptr) {
          return absl::InvalidArgumentError(
              StrCat("'", internal::Excerpt(resources[i].name, 256),
                     "' is not a valid DMN resource:\n- Resource: its imports form a cycle"));
        }
      }
    }
  }
  std::vector<std::shared_ptr<const DecisionRequirementsGraph>> out;
  for (auto& m : built) out.push_back(std::make_shared<const DecisionRequirementsGraph>(m));
  return out;
}

}  // namespace tern::dmn
