// Evaluation of decisions, business knowledge models, decision services and boxed expressions.
// Decision tables are in decision_table.cc.

#include <algorithm>

#include "absl/status/status.h"
#include "base/strings.h"
#include "dmn/evaluation.h"

namespace tern::dmn {
namespace internal {
namespace {

// Recursion through business knowledge models and decision services (each level is a native
// call that evaluates FEEL again) is bounded like FEEL's own lambdas: by depth and by stack.
constexpr int kMaxCallDepth = 256;
constexpr int64_t kMaxStackBytes = 2 << 20;

thread_local Evaluation* current_evaluation = nullptr;

class NoVariables final : public feel::VariableResolver {
 public:
  std::optional<Value> Lookup(std::string_view) const override { return std::nullopt; }
};
const NoVariables kNoVariables;

// The caller's variables as seen from a model imported through `path`: "a.b.name" or the
// nested contexts a -> b -> name.
class PathResolver final : public feel::VariableResolver {
 public:
  PathResolver(const feel::VariableResolver* base, const Path& path) : base_(base), path_(path) {}
  std::optional<Value> Lookup(std::string_view name) const override {
    if (path_.empty()) return base_->Lookup(name);
    std::string flat;
    for (const std::string& p : path_) StrAppend(&flat, p, ".");
    flat += name;
    if (std::optional<Value> v = base_->Lookup(flat)) return v;
    std::optional<Value> v = base_->Lookup(path_.front());
    if (!v) return std::nullopt;
    Value current = *v;
    for (size_t i = 1; i < path_.size(); ++i) {
      const Value* next = current.Find(path_[i]);
      if (next == nullptr) return std::nullopt;
      current = *next;
    }
    const Value* found = current.Find(name);
    if (found == nullptr) return std::nullopt;
    return *found;
  }

 private:
  const feel::VariableResolver* base_;
  const Path& path_;
};

Path Extend(const Path& path, const std::string& prefix) {
  if (prefix.empty()) return path;
  Path out = path;
  out.push_back(prefix);
  return out;
}

std::string PathKey(const Path& path) {
  std::string key;
  for (const std::string& p : path) StrAppend(&key, p, "\n");
  return key;
}

std::string Describe(const Value& v) {
  std::string s = v.DebugString();
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

}  // namespace

// ---- Scope ----

void Scope::Set(std::string name, Value value) {
  for (auto& [k, v] : vars_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  vars_.emplace_back(std::move(name), std::move(value));
}

std::optional<Value> Scope::LookupExact(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_) {
    for (auto it = s->vars_.rbegin(); it != s->vars_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    if (s->base_ != nullptr) return s->base_->Lookup(name);
  }
  return std::nullopt;
}

std::optional<Value> Scope::Lookup(std::string_view name) const {
  if (std::optional<Value> v = LookupExact(name)) return v;
  // A dotted name the FEEL compiler took as one known name ("Person.Gender", a BKM parameter
  // elsewhere in the model) that is not a variable here is a path: "Person" then "Gender".
  for (size_t dot = name.rfind('.'); dot != std::string_view::npos && dot > 0;
       dot = name.rfind('.', dot - 1)) {
    std::optional<Value> base = Lookup(name.substr(0, dot));
    if (!base) continue;
    std::string_view rest = name.substr(dot + 1);
    const Value* v = base->Find(rest);
    if (v != nullptr) return *v;
    return Value();
  }
  return std::nullopt;
}

// ---- Evaluation ----

Evaluation::Evaluation(const feel::EvalOptions& options, const EvaluationSettings& settings,
                       EvaluationResult* result)
    : options_(options), settings_(settings), result_(result), previous_(current_evaluation) {
  if (options_.shared_budget == nullptr) {
    budget_.steps_left = options.max_steps;
    budget_.bytes_left = options.max_allocated_bytes;
    options_.shared_budget = &budget_;
  }
  char marker;
  stack_base_ = reinterpret_cast<uintptr_t>(&marker);
  current_evaluation = this;
}

Evaluation::~Evaluation() { current_evaluation = previous_; }

Evaluation* Evaluation::Current() { return current_evaluation; }

void Evaluation::Warn(std::string message) {
  if (!collect_warnings() || result_->warnings.size() >= 100) return;
  result_->warnings.push_back(std::move(message));
}

absl::Status Evaluation::EnterCall(std::string_view what) {
  char marker;
  const auto used = static_cast<int64_t>(stack_base_ - reinterpret_cast<uintptr_t>(&marker));
  if (++call_depth_ > kMaxCallDepth || used > kMaxStackBytes) {
    --call_depth_;
    return absl::ResourceExhaustedError(StrCat("DMN evaluation exceeded its recursion limit (",
                                               what, " invoked too deeply; at most ", kMaxCallDepth,
                                               " nested invocations)"));
  }
  return absl::OkStatus();
}

void Evaluation::LeaveCall() { --call_depth_; }

Value Evaluation::Coerce(const Value& value, const TypePtr& type, std::string_view what,
                         std::string_view name) {
  if (type == nullptr || value.is_null()) return value;
  std::optional<Value> converted = feel::CoerceToType(value, *type);
  if (converted) return std::move(*converted);
  if (collect_warnings()) {
    Warn(StrCat(what, name.empty() ? "" : " '", name, name.empty() ? "" : "'", ": value ",
                Describe(value), " does not conform to type '", type->name, "'; using null"));
  }
  return Value();
}

Value Evaluation::Convert(Value value, const TypePtr& type, std::string_view what,
                          std::string_view name) {
  if (type == nullptr || value.is_null()) return value;
  if (feel::Conforms(value, *type)) return value;
  std::optional<Value> converted = feel::CoerceToType(value, *type);
  if (converted) return std::move(*converted);
  if (collect_warnings()) {
    Warn(StrCat(what, " '", name, "': value ", Describe(value), " does not conform to type '",
                type->name, "'"));
  }
  return value;
}

absl::StatusOr<Value> Evaluation::EvalFeel(const feel::CompiledExpression& e,
                                           const feel::VariableResolver& vars) {
  if (const std::string* name = e.variable_name()) {
    std::optional<Value> v = vars.Lookup(*name);
    if (!v && collect_warnings()) Warn(StrCat("No variable found with name '", *name, "'"));
    return v ? std::move(*v) : Value();
  }
  if (const Value* c = e.constant_value()) return *c;
  if (collect_warnings()) {
    std::vector<std::string> warnings;
    absl::StatusOr<Value> v = feel::Evaluate(e, vars, options_, &warnings);
    for (std::string& w : warnings) Warn(std::move(w));
    return v;
  }
  return feel::Evaluate(e, vars, options_);
}

absl::StatusOr<Value> Evaluation::EvalTests(const feel::CompiledExpression& tests,
                                            const Value& input,
                                            const feel::VariableResolver& vars) {
  if (const feel::ConstantUnaryTests* c = tests.constant_tests()) {
    return feel::MatchConstantUnaryTests(*c, input);
  }
  return feel::EvaluateUnaryTests(tests, input, vars, options_);
}

absl::StatusOr<Value> Evaluation::EvalExpr(const Expr* e, const Scope& scope) {
  if (e == nullptr) return Value();
  absl::StatusOr<Value> v = e->Eval(*this, scope);
  if (!v.ok() || e->type == nullptr) return v;
  return Coerce(*v, e->type, "expression", e->id);
}

EvaluatedDecision* Evaluation::TakeAudit(const Expr* table) {
  if (audit_table_ != table) return nullptr;
  audit_table_ = nullptr;
  return audit_;
}

Value Evaluation::InputValue(const InputData& in, const Path& path) {
  Frame& frame = *frames_.back();
  if (auto it = frame.supplied.find(&in); it != frame.supplied.end()) return it->second;
  if (frame.closed) return Value();
  std::optional<Value> v = PathResolver(frame.variables, path).Lookup(in.name);
  if (!v) return Value();
  return Coerce(*v, in.type, "input data", in.name);
}

Value Evaluation::MakeFunction(const Element& knowledge, const Path& path) {
  std::shared_ptr<const Model> keep = knowledge.model->shared_from_this();
  if (knowledge.kind == ElementKind::kBkm) {
    const auto& bkm = static_cast<const Bkm&>(knowledge);
    std::vector<std::string> names;
    std::vector<TypePtr> types;
    for (const Parameter& p : bkm.parameters) {
      names.push_back(p.name);
      types.push_back(p.type);
    }
    auto body = [keep, &bkm, path](const std::vector<Value>& args) -> absl::StatusOr<Value> {
      if (Evaluation* ev = Evaluation::Current()) return ev->InvokeBkm(bkm, args, path);
      Evaluation ev(feel::EvalOptions{}, EvaluationSettings{}, nullptr);
      return ev.InvokeBkm(bkm, args, path);
    };
    return Value::Function(std::make_shared<feel::NativeFunction>(
        bkm.name, std::move(names), std::move(types), bkm.result_type, std::move(body)));
  }
  const auto& service = static_cast<const DecisionService&>(knowledge);
  std::vector<std::string> names;
  std::vector<TypePtr> types;
  for (const auto* list : {&service.input_data, &service.input_decisions}) {
    for (const Requirement& r : *list) {
      names.push_back(r.prefix.empty() ? r.element->name : StrCat(r.prefix, ".", r.element->name));
      types.push_back(r.element->type);
    }
  }
  auto body = [keep, &service, path](const std::vector<Value>& args) -> absl::StatusOr<Value> {
    if (Evaluation* ev = Evaluation::Current()) return ev->InvokeService(service, args, path);
    Evaluation ev(feel::EvalOptions{}, EvaluationSettings{}, nullptr);
    return ev.InvokeService(service, args, path);
  };
  return Value::Function(std::make_shared<feel::NativeFunction>(
      service.name, std::move(names), std::move(types), service.result_type, std::move(body)));
}

absl::Status Evaluation::BindRequirements(
    const std::vector<Requirement>& reqs, const Path& path, Scope& scope,
    absl::flat_hash_map<std::string, feel::ContextValue>* import_contexts) {
  for (const Requirement& r : reqs) {
    const Path target = Extend(path, r.prefix);
    Value v;
    switch (r.element->kind) {
      case ElementKind::kDecision: {
        absl::StatusOr<Value> d = EvalDecision(static_cast<const Decision&>(*r.element), target);
        if (!d.ok()) return d.status();
        v = std::move(*d);
        break;
      }
      case ElementKind::kInputData:
        v = InputValue(static_cast<const InputData&>(*r.element), target);
        break;
      case ElementKind::kBkm:
      case ElementKind::kDecisionService:
        v = MakeFunction(*r.element, target);
        break;
    }
    if (r.prefix.empty()) {
      scope.Set(r.element->name, std::move(v));
    } else {
      (*import_contexts)[r.prefix].Set(r.element->name, v);
      scope.Set(StrCat(r.prefix, ".", r.element->name), std::move(v));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Evaluation::EvalDecision(const Decision& d, const Path& path) {
  Frame& frame = *frames_.back();
  if (auto it = frame.supplied.find(&d); it != frame.supplied.end()) return it->second;
  // Required decisions are evaluated once per evaluation; the requested one needs no memo.
  const bool memoize = decision_depth_ > 0 || frames_.size() > 1;
  std::pair<const Decision*, std::string> key(&d, memoize ? PathKey(path) : std::string());
  if (memoize) {
    if (auto it = frame.memo.find(key); it != frame.memo.end()) return it->second;
  }
  if (settings_.variables_override_decisions && !frame.closed && path.empty() &&
      frames_.size() == 1 && decision_depth_ > 0) {
    // A required decision (not the requested one, which starts with no audit in progress) whose
    // value the caller supplied.
    if (std::optional<Value> v = frame.variables->Lookup(d.name)) {
      frame.memo[key] = *v;
      return *v;
    }
  }

  PathResolver base(frame.variables, path);
  Scope scope(frame.closed ? static_cast<const feel::VariableResolver*>(&kNoVariables) : &base);
  absl::flat_hash_map<std::string, feel::ContextValue> import_contexts;
  ++decision_depth_;
  for (const auto* reqs : {&d.required_decisions, &d.required_inputs, &d.required_knowledge}) {
    absl::Status s = BindRequirements(*reqs, path, scope, &import_contexts);
    if (!s.ok()) {
      --decision_depth_;
      return s;
    }
  }
  --decision_depth_;
  for (auto& [prefix, ctx] : import_contexts) {
    scope.Set(prefix, Value::Context(std::move(ctx)));
  }

  if (!d.deferred_error.empty()) {
    if (failed_decision_id_.empty()) failed_decision_id_ = d.id;
    return absl::InvalidArgumentError(
        StrCat("decision '", d.name, "' cannot be evaluated: ", d.deferred_error));
  }
  EvaluatedDecision entry;
  const bool audit = result_ != nullptr;
  if (audit) {
    entry.decision_id = d.id;
    entry.decision_name = d.name;
    entry.decision_type = d.decision_type;
  }
  EvaluatedDecision* saved_audit = audit_;
  const Expr* saved_table = audit_table_;
  audit_ = audit ? &entry : nullptr;
  audit_table_ = audit ? d.logic.get() : nullptr;
  absl::StatusOr<Value> v = EvalExpr(d.logic.get(), scope);
  audit_ = saved_audit;
  audit_table_ = saved_table;
  if (!v.ok()) {
    if (failed_decision_id_.empty()) failed_decision_id_ = d.id;
    if (audit) result_->evaluated_decisions.push_back(std::move(entry));
    return v.status();
  }
  Value out = Coerce(*v, d.type, "decision", d.name);
  if (audit) {
    entry.output = out;
    result_->evaluated_decisions.push_back(std::move(entry));
  }
  if (memoize) frame.memo[key] = out;
  return out;
}

absl::StatusOr<Value> Evaluation::RunDecision(const Decision& d,
                                              const feel::VariableResolver& variables) {
  Frame frame;
  frame.variables = &variables;
  frames_.push_back(&frame);
  absl::StatusOr<Value> v = EvalDecision(d, {});
  frames_.pop_back();
  return v;
}

absl::StatusOr<Value> Evaluation::EvalServiceOutputs(const DecisionService& s, const Path& path) {
  if (s.output_decisions.size() == 1) {
    const Requirement& r = s.output_decisions.front();
    absl::StatusOr<Value> v =
        EvalDecision(static_cast<const Decision&>(*r.element), Extend(path, r.prefix));
    if (!v.ok()) return v;
    return Coerce(*v, s.result_type, "decision service", s.name);
  }
  feel::ContextValue out;
  for (const Requirement& r : s.output_decisions) {
    absl::StatusOr<Value> v =
        EvalDecision(static_cast<const Decision&>(*r.element), Extend(path, r.prefix));
    if (!v.ok()) return v;
    out.Set(r.element->name, std::move(*v));
  }
  return Coerce(Value::Context(std::move(out)), s.result_type, "decision service", s.name);
}

absl::StatusOr<Value> Evaluation::RunService(const DecisionService& s,
                                             const feel::VariableResolver& variables) {
  Frame frame;
  frame.variables = &variables;
  frame.closed = true;
  for (const auto* list : {&s.input_data, &s.input_decisions}) {
    for (const Requirement& r : *list) {
      std::optional<Value> v = variables.Lookup(r.element->name);
      frame.supplied[r.element] =
          Coerce(v.value_or(Value()), r.element->type, "input", r.element->name);
    }
  }
  frames_.push_back(&frame);
  absl::StatusOr<Value> v = EvalServiceOutputs(s, {});
  frames_.pop_back();
  return v;
}

absl::StatusOr<Value> Evaluation::InvokeService(const DecisionService& s, std::vector<Value> args,
                                                const Path& path) {
  absl::Status entered = EnterCall(StrCat("decision service '", s.name, "'"));
  if (!entered.ok()) return entered;
  Frame frame;
  frame.variables = frames_.empty() ? &kNoVariables : frames_.back()->variables;
  frame.closed = true;
  size_t i = 0;
  for (const auto* list : {&s.input_data, &s.input_decisions}) {
    for (const Requirement& r : *list) {
      Value arg = i < args.size() ? std::move(args[i]) : Value();
      ++i;
      if (r.element->type != nullptr && !arg.is_null()) {
        std::optional<Value> converted = feel::CoerceToType(arg, *r.element->type);
        if (!converted) {
          // As for BKMs: a non-conforming argument means the service is not invoked.
          Warn(StrCat("decision service '", s.name, "': argument '", r.element->name,
                      "' = ", Describe(arg), " does not conform to type '", r.element->type->name,
                      "'; the invocation is null"));
          LeaveCall();
          return Value();
        }
        arg = std::move(*converted);
      }
      frame.supplied[r.element] = std::move(arg);
    }
  }
  frames_.push_back(&frame);
  absl::StatusOr<Value> v = EvalServiceOutputs(s, path);
  frames_.pop_back();
  LeaveCall();
  return v;
}

absl::StatusOr<Value> Evaluation::InvokeBkm(const Bkm& b, std::vector<Value> args,
                                            const Path& path) {
  if (b.function_kind != FunctionKind::kFeel) {
    return absl::UnimplementedError(StrCat(
        "business knowledge model '", b.name, "' is implemented in ",
        b.function_kind == FunctionKind::kJava ? "Java" : "PMML", ", which Tern cannot evaluate"));
  }
  for (size_t i = 0; i < b.parameters.size() && i < args.size(); ++i) {
    const TypePtr& t = b.parameters[i].type;
    if (t == nullptr || args[i].is_null()) continue;
    std::optional<Value> converted = feel::CoerceToType(args[i], *t);
    if (!converted) {
      Warn(StrCat("business knowledge model '", b.name, "': argument '", b.parameters[i].name,
                  "' = ", Describe(args[i]), " does not conform to type '", t->name,
                  "'; the invocation is null"));
      return Value();
    }
    args[i] = std::move(*converted);
  }
  if (!b.deferred_error.empty()) {
    return absl::InvalidArgumentError(
        StrCat("business knowledge model '", b.name, "' cannot be evaluated: ", b.deferred_error));
  }
  absl::Status entered = EnterCall(StrCat("business knowledge model '", b.name, "'"));
  if (!entered.ok()) return entered;
  Scope scope(&kNoVariables);
  // A BKM may call itself (recursion) and the knowledge it requires.
  scope.Set(b.name, MakeFunction(b, path));
  absl::flat_hash_map<std::string, feel::ContextValue> import_contexts;
  absl::Status bound = BindRequirements(b.required_knowledge, path, scope, &import_contexts);
  if (!bound.ok()) {
    LeaveCall();
    return bound;
  }
  for (auto& [prefix, ctx] : import_contexts) scope.Set(prefix, Value::Context(std::move(ctx)));
  for (size_t i = 0; i < b.parameters.size(); ++i) {
    scope.Set(b.parameters[i].name, i < args.size() ? std::move(args[i]) : Value());
  }
  EvaluatedDecision* saved_audit = audit_;
  const Expr* saved_table = audit_table_;
  audit_table_ = nullptr;
  absl::StatusOr<Value> v = EvalExpr(b.body.get(), scope);
  audit_ = saved_audit;
  audit_table_ = saved_table;
  LeaveCall();
  if (!v.ok()) return v;
  return Coerce(*v, b.result_type, "business knowledge model", b.name);
}

// ---- Boxed expressions ----

absl::StatusOr<Value> LiteralExpr::Eval(Evaluation& ev, const Scope& scope) const {
  if (expr == nullptr) return Value();
  return ev.EvalFeel(*expr, scope);
}

absl::StatusOr<Value> ContextExpr::Eval(Evaluation& ev, const Scope& scope) const {
  Scope inner(&scope);
  feel::ContextValue out;
  for (const ContextEntry& entry : entries) {
    absl::StatusOr<Value> v = ev.EvalExpr(entry.value.get(), inner);
    if (!v.ok()) return v;
    if (entry.name.empty()) {
      return ev.Coerce(*v, entry.type, "context result");
    }
    Value value = ev.Coerce(*v, entry.type, "context entry", entry.name);
    inner.Set(entry.name, value);
    out.Set(entry.name, std::move(value));
  }
  return Value::Context(std::move(out));
}

absl::StatusOr<Value> InvocationExpr::Eval(Evaluation& ev, const Scope& scope) const {
  if (callee == nullptr) return Value();
  absl::StatusOr<Value> fn = ev.EvalFeel(*callee, scope);
  if (!fn.ok()) return fn;
  if (!fn->is_function()) {
    ev.Warn(StrCat("invocation of '", callee_text, "': not a function"));
    return Value();
  }
  const std::vector<std::string>& params = fn->function()->parameters();
  std::vector<Value> args(params.size());
  for (const Binding& b : bindings) {
    auto it = std::find(params.begin(), params.end(), b.parameter);
    if (it == params.end()) {
      ev.Warn(StrCat("invocation of '", callee_text, "': no parameter named '", b.parameter, "'"));
      return Value();
    }
    absl::StatusOr<Value> v = ev.EvalExpr(b.value.get(), scope);
    if (!v.ok()) return v;
    args[static_cast<size_t>(it - params.begin())] = std::move(*v);
  }
  return feel::InvokeFunction(*fn, std::move(args), ev.options());
}

namespace {

// Names a boxed expression may read from its surroundings (over-approximated).
void FreeNames(const Expr* e, std::vector<std::string>* out) {
  if (e == nullptr) return;
  auto add = [&](const Compiled& c) {
    if (c == nullptr) return;
    for (const std::string& n : c->free_variables()) out->push_back(n);
  };
  if (const auto* lit = dynamic_cast<const LiteralExpr*>(e)) {
    add(lit->expr);
  } else if (const auto* ctx = dynamic_cast<const ContextExpr*>(e)) {
    for (const ContextEntry& entry : ctx->entries) FreeNames(entry.value.get(), out);
  } else if (const auto* inv = dynamic_cast<const InvocationExpr*>(e)) {
    add(inv->callee);
    for (const Binding& b : inv->bindings) FreeNames(b.value.get(), out);
  } else if (const auto* fn = dynamic_cast<const FunctionDefinitionExpr*>(e)) {
    FreeNames(fn->body.get(), out);
  } else if (const auto* list = dynamic_cast<const ListExpr*>(e)) {
    for (const ExprPtr& item : list->items) FreeNames(item.get(), out);
  } else if (const auto* rel = dynamic_cast<const RelationExpr*>(e)) {
    for (const auto& row : rel->rows) {
      for (const ExprPtr& cell : row) FreeNames(cell.get(), out);
    }
  } else if (const auto* cond = dynamic_cast<const ConditionalExpr*>(e)) {
    FreeNames(cond->condition.get(), out);
    FreeNames(cond->then_branch.get(), out);
    FreeNames(cond->else_branch.get(), out);
  } else if (const auto* it = dynamic_cast<const IteratorExpr*>(e)) {
    FreeNames(it->in.get(), out);
    FreeNames(it->body.get(), out);
  } else if (const auto* f = dynamic_cast<const FilterExpr*>(e)) {
    FreeNames(f->in.get(), out);
    FreeNames(f->match.get(), out);
  } else if (const auto* dt = dynamic_cast<const DecisionTableExpr*>(e)) {
    for (const DtInput& in : dt->inputs) {
      add(in.expr);
      add(in.allowed);
    }
    for (const DtOutput& o : dt->outputs) add(o.default_value);
    for (const DtRule& r : dt->rules) {
      for (const DtCell& c : r.inputs) add(c.expr);
      for (const DtCell& c : r.outputs) add(c.expr);
    }
  }
}

// A function defined by a boxed function definition: its body evaluated with the parameters
// bound over the variables it captured when it was defined.
class BoxedFunction final : public std::enable_shared_from_this<BoxedFunction> {
 public:
  BoxedFunction(const FunctionDefinitionExpr* def, std::shared_ptr<const Model> keep,
                std::vector<std::pair<std::string, Value>> captured)
      : def_(def), keep_(std::move(keep)), captured_(std::move(captured)) {}

  absl::StatusOr<Value> Call(std::vector<Value> args) const {
    Evaluation* ev = Evaluation::Current();
    if (ev == nullptr) {
      Evaluation own(feel::EvalOptions{}, EvaluationSettings{}, nullptr);
      return Run(own, std::move(args));
    }
    return Run(*ev, std::move(args));
  }

 private:
  absl::StatusOr<Value> Run(Evaluation& ev, std::vector<Value> args) const {
    Scope scope(&kNoVariables);
    for (const auto& [name, value] : captured_) scope.Set(name, value);
    for (size_t i = 0; i < def_->parameters.size(); ++i) {
      Value arg = i < args.size() ? std::move(args[i]) : Value();
      const TypePtr& t = def_->parameters[i].type;
      if (t != nullptr && !arg.is_null()) {
        std::optional<Value> converted = feel::CoerceToType(arg, *t);
        if (!converted) {
          ev.Warn(StrCat("argument '", def_->parameters[i].name, "' = ", Describe(arg),
                         " does not conform to type '", t->name, "'; the invocation is null"));
          return Value();
        }
        arg = std::move(*converted);
      }
      scope.Set(def_->parameters[i].name, std::move(arg));
    }
    return ev.EvalExpr(def_->body.get(), scope);
  }

  const FunctionDefinitionExpr* def_;
  std::shared_ptr<const Model> keep_;
  std::vector<std::pair<std::string, Value>> captured_;
};

}  // namespace

absl::StatusOr<Value> FunctionDefinitionExpr::Eval(Evaluation& ev, const Scope& scope) const {
  if (kind != FunctionKind::kFeel) {
    // A Java or PMML function: only its description (a context) can be evaluated here.
    absl::StatusOr<Value> description = ev.EvalExpr(body.get(), scope);
    if (!description.ok()) return description;
    std::vector<std::string> names;
    for (const Parameter& p : parameters) names.push_back(p.name);
    if (kind == FunctionKind::kJava && description->is_context()) {
      const Value* cls = description->Find("class");
      const Value* sig = description->Find("method signature");
      if (cls != nullptr && sig != nullptr && cls->is_string() && sig->is_string()) {
        absl::StatusOr<Value> fn =
            feel::MakeJavaFunction(cls->as_string(), sig->as_string(), names);
        if (fn.ok()) return fn;
        ev.Warn(std::string(fn.status().message()));
        return Value();
      }
    }
    ev.Warn("only FEEL and supported Java functions can be evaluated");
    return Value();
  }
  std::vector<std::string> free;
  FreeNames(body.get(), &free);
  std::sort(free.begin(), free.end());
  free.erase(std::unique(free.begin(), free.end()), free.end());
  std::vector<std::pair<std::string, Value>> captured;
  for (const std::string& name : free) {
    if (std::any_of(parameters.begin(), parameters.end(),
                    [&](const Parameter& p) { return p.name == name; })) {
      continue;
    }
    if (std::optional<Value> v = scope.Lookup(name)) captured.emplace_back(name, std::move(*v));
  }
  std::vector<std::string> names;
  std::vector<TypePtr> types;
  for (const Parameter& p : parameters) {
    names.push_back(p.name);
    types.push_back(p.type);
  }
  // The model owns this definition; the function keeps it alive.
  auto fn = std::make_shared<BoxedFunction>(this, model->shared_from_this(), std::move(captured));
  TypePtr result = body != nullptr ? body->type : nullptr;
  return Value::Function(std::make_shared<feel::NativeFunction>(
      "anonymous function", std::move(names), std::move(types), std::move(result),
      [fn](const std::vector<Value>& args) { return fn->Call(args); }));
}

absl::StatusOr<Value> ListExpr::Eval(Evaluation& ev, const Scope& scope) const {
  std::vector<Value> out;
  out.reserve(items.size());
  for (const ExprPtr& item : items) {
    absl::StatusOr<Value> v = ev.EvalExpr(item.get(), scope);
    if (!v.ok()) return v;
    out.push_back(std::move(*v));
  }
  return Value::List(std::move(out));
}

absl::StatusOr<Value> RelationExpr::Eval(Evaluation& ev, const Scope& scope) const {
  std::vector<Value> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    feel::ContextValue ctx;
    for (size_t i = 0; i < columns.size(); ++i) {
      Value v;
      if (i < row.size()) {
        absl::StatusOr<Value> cell = ev.EvalExpr(row[i].get(), scope);
        if (!cell.ok()) return cell;
        v = ev.Coerce(*cell, column_types[i], "relation column", columns[i]);
      }
      ctx.Set(columns[i], std::move(v));
    }
    out.push_back(Value::Context(std::move(ctx)));
  }
  return Value::List(std::move(out));
}

absl::StatusOr<Value> ConditionalExpr::Eval(Evaluation& ev, const Scope& scope) const {
  absl::StatusOr<Value> c = ev.EvalExpr(condition.get(), scope);
  if (!c.ok()) return c;
  if (c->is_bool() && c->as_bool()) return ev.EvalExpr(then_branch.get(), scope);
  if (c->is_bool() || c->is_null()) return ev.EvalExpr(else_branch.get(), scope);
  ev.Warn(StrCat("conditional: the condition is ", Describe(*c), ", not a boolean"));
  return Value();
}

namespace {

// The items a boxed iterator's `in` value iterates: a list's items; the integers or days of a
// range with integer or date ends ([1..5], [@"2024-01-01"..@"2024-01-31"], as FEEL's for); a
// single value as a singleton list. nullopt: not iterable (null result); an error status when
// the range is larger than the collection limit.
absl::StatusOr<std::optional<std::vector<Value>>> IterationItems(const Value& domain,
                                                                 const feel::EvalOptions& options) {
  if (domain.is_null()) return std::optional<std::vector<Value>>();
  if (domain.is_list()) return std::optional<std::vector<Value>>(domain.list());
  if (!domain.is_range()) return std::optional<std::vector<Value>>(std::vector<Value>{domain});
  const feel::RangeValue& r = domain.range();
  int64_t from = 0, to = 0;
  bool dates = false;
  if (r.start.is_number() && r.end.is_number()) {
    std::optional<int64_t> a = r.start.as_number().ToInt64();
    std::optional<int64_t> b = r.end.as_number().ToInt64();
    if (!a || !b) return std::optional<std::vector<Value>>();
    from = *a;
    to = *b;
  } else if (r.start.is_date() && r.end.is_date()) {
    from = r.start.as_date().days;
    to = r.end.as_date().days;
    dates = true;
  } else {
    return std::optional<std::vector<Value>>();
  }
  if (!r.start_included) ++from;
  if (!r.end_included) --to;
  std::vector<Value> items;
  if (to < from) return std::optional<std::vector<Value>>(std::move(items));
  if (to - from >= options.max_collection_size) {
    return absl::ResourceExhaustedError(StrCat("a range of ", to - from + 1,
                                               " items is larger than the collection limit of ",
                                               options.max_collection_size));
  }
  items.reserve(static_cast<size_t>(to - from + 1));
  for (int64_t i = from; i <= to; ++i) {
    items.push_back(dates ? Value::Date(feel::Date{i}) : Value::Number(i));
  }
  return std::optional<std::vector<Value>>(std::move(items));
}

}  // namespace

absl::StatusOr<Value> IteratorExpr::Eval(Evaluation& ev, const Scope& scope) const {
  absl::StatusOr<Value> domain = ev.EvalExpr(in.get(), scope);
  if (!domain.ok()) return domain;
  absl::StatusOr<std::optional<std::vector<Value>>> iterable =
      IterationItems(*domain, ev.options());
  if (!iterable.ok()) return iterable.status();
  if (!iterable->has_value()) return Value();
  std::vector<Value> items = std::move(**iterable);
  std::vector<Value> results;
  for (Value& item : items) {
    Scope inner(&scope);
    inner.Set(variable, std::move(item));
    absl::StatusOr<Value> v = ev.EvalExpr(body.get(), inner);
    if (!v.ok()) return v;
    switch (kind) {
      case Kind::kFor:
        results.push_back(std::move(*v));
        break;
      case Kind::kSome:
      case Kind::kEvery:
        // The satisfies expression must give a boolean for every item it is evaluated on.
        if (!v->is_bool()) {
          ev.Warn(StrCat("'satisfies' gave ", Describe(*v), ", not a boolean"));
          return Value();
        }
        if (v->as_bool() == (kind == Kind::kSome)) return *v;
        break;
    }
  }
  switch (kind) {
    case Kind::kFor:
      return Value::List(std::move(results));
    case Kind::kSome:
      return Value::Bool(false);
    case Kind::kEvery:
      return Value::Bool(true);
  }
  return Value();
}

absl::StatusOr<Value> FilterExpr::Eval(Evaluation& ev, const Scope& scope) const {
  absl::StatusOr<Value> domain = ev.EvalExpr(in.get(), scope);
  if (!domain.ok()) return domain;
  std::vector<Value> items;
  if (domain->is_list()) {
    items = domain->list();
  } else if (domain->is_null()) {
    return Value();
  } else {
    items.push_back(*domain);
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    Scope inner(&scope);
    inner.Set("item", item);
    if (item.is_context()) {
      for (const auto& [k, v] : item.context().entries()) inner.Set(k, v);
    }
    absl::StatusOr<Value> m = ev.EvalExpr(match.get(), inner);
    if (!m.ok()) return m;
    if (!m->is_bool() && !m->is_null()) {
      ev.Warn(StrCat("filter: 'match' gave ", Describe(*m), ", not a boolean"));
      return Value();
    }
    if (m->is_bool() && m->as_bool()) out.push_back(item);
  }
  return Value::List(std::move(out));
}

}  // namespace internal

// ---- Public API ----

namespace {

EvaluationResult Finish(internal::Evaluation& ev, absl::StatusOr<feel::Value> v,
                        EvaluationResult result) {
  if (v.ok()) {
    result.output = std::move(*v);
  } else {
    result.failure_message = std::string(v.status().message());
    result.failed_decision_id = ev.failed_decision_id();
  }
  return result;
}

}  // namespace

EvaluationResult Evaluate(const DecisionRequirementsGraph& drg, std::string_view decision_id,
                          const feel::VariableResolver& variables,
                          const feel::EvalOptions& options) {
  return Evaluate(drg, decision_id, variables, options, EvaluationSettings{});
}

EvaluationResult Evaluate(const DecisionRequirementsGraph& drg, std::string_view decision_id,
                          const feel::VariableResolver& variables, const feel::EvalOptions& options,
                          const EvaluationSettings& settings) {
  EvaluationResult result;
  const internal::Model& model = drg.model();
  const internal::Element* e = model.Find(decision_id);
  if (e == nullptr || e->kind != internal::ElementKind::kDecision) {
    result.failed_decision_id = std::string(decision_id);
    result.failure_message =
        StrCat("no decision with id '", decision_id, "' in '", model.resource_name, "'");
    return result;
  }
  internal::Evaluation ev(options, settings, &result);
  absl::StatusOr<feel::Value> v =
      ev.RunDecision(static_cast<const internal::Decision&>(*e), variables);
  return Finish(ev, std::move(v), std::move(result));
}

EvaluationResult EvaluateDecisionService(const DecisionRequirementsGraph& drg,
                                         std::string_view service_id,
                                         const feel::VariableResolver& variables,
                                         const feel::EvalOptions& options) {
  EvaluationResult result;
  const internal::Model& model = drg.model();
  const internal::Element* e = model.Find(service_id);
  if (e == nullptr || e->kind != internal::ElementKind::kDecisionService) {
    result.failure_message =
        StrCat("no decision service with id '", service_id, "' in '", model.resource_name, "'");
    return result;
  }
  internal::Evaluation ev(options, EvaluationSettings{}, &result);
  absl::StatusOr<feel::Value> v =
      ev.RunService(static_cast<const internal::DecisionService&>(*e), variables);
  return Finish(ev, std::move(v), std::move(result));
}

EvaluationResult InvokeBusinessKnowledgeModel(
    const DecisionRequirementsGraph& drg, std::string_view bkm_id,
    const std::vector<std::pair<std::string, feel::Value>>& arguments,
    const feel::EvalOptions& options) {
  EvaluationResult result;
  const internal::Model& model = drg.model();
  const internal::Element* e = model.Find(bkm_id);
  if (e == nullptr || e->kind != internal::ElementKind::kBkm) {
    result.failure_message =
        StrCat("no business knowledge model with id '", bkm_id, "' in '", model.resource_name, "'");
    return result;
  }
  const auto& bkm = static_cast<const internal::Bkm&>(*e);
  std::vector<feel::Value> args(bkm.parameters.size());
  for (const auto& [name, value] : arguments) {
    for (size_t i = 0; i < bkm.parameters.size(); ++i) {
      if (bkm.parameters[i].name == name) args[i] = value;
    }
  }
  internal::Evaluation ev(options, EvaluationSettings{}, &result);
  absl::StatusOr<feel::Value> v = ev.InvokeBkm(bkm, std::move(args), {});
  return Finish(ev, std::move(v), std::move(result));
}

}  // namespace tern::dmn
