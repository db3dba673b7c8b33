#include "feel/feel.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "feel/eval.h"
#include "feel/nodes.h"
#include "feel/parser.h"

namespace tern::feel {

using internal::Program;

CompiledExpression::CompiledExpression(std::shared_ptr<const Program> program)
    : program_(std::move(program)) {}

namespace {

// Evaluates a constant node once, with no variables and default limits; nullopt on failure.
std::optional<Value> EvalConstant(const internal::Node& node) {
  EvalOptions options;
  internal::EvalContext ctx;
  char marker;
  ctx.stack_base = &marker;
  ctx.options = &options;
  ctx.steps_left = options.max_steps;
  ctx.bytes_left = options.max_allocated_bytes;
  Value out;
  if (!node.Eval(ctx, &out)) return std::nullopt;
  return out;
}

// Fills in the host fast paths of a freshly parsed program.
void ComputeFastPaths(Program& p) {
  const internal::Node& root = *p.root;
  if (!p.unary_tests) {
    if (const auto* name = dynamic_cast<const internal::NameNode*>(&root)) {
      // (A built-in's name is a function value when no variable has it: not a plain lookup.)
      if (!name->dynamic() && internal::FindBuiltin(name->name()) == nullptr) {
        p.variable_name = name->name();
      }
    } else if (root.IsConstant()) {
      p.constant = EvalConstant(root);
    }
    return;
  }
  const auto* tests = dynamic_cast<const internal::UnaryTestsNode*>(&root);
  if (tests == nullptr) return;
  ConstantUnaryTests c;
  c.any = tests->any();
  c.negated = tests->negated();
  for (const internal::UnaryTest& t : tests->tests()) {
    if (t.uses_input || !t.node->IsConstant()) return;
    std::optional<Value> v = EvalConstant(*t.node);
    if (!v) return;
    ConstantUnaryTests::Test test;
    test.op = t.op == internal::UnaryTest::Op::kEq   ? ConstantUnaryTests::Test::Op::kEq
              : t.op == internal::UnaryTest::Op::kNe ? ConstantUnaryTests::Test::Op::kNe
                                                     : ConstantUnaryTests::Test::Op::kMatch;
    test.value = std::move(*v);
    test.bool_literal = t.bool_literal;
    test.two_sided_range = t.node->IsTwoSidedRange();
    c.tests.push_back(std::move(test));
  }
  p.constant_tests = std::move(c);
}

}  // namespace

namespace {

// Three-valued results without building Values: the matching below runs once per decision-table
// cell, so it mirrors TestMatches / RangeIncludes / FeelEquals (interpreter.cc) for the common
// kinds and defers to them for the rest.
enum class Tri : uint8_t { kFalse, kTrue, kNull };

Tri ToTri(const Value& v) {
  return v.is_bool() ? (v.as_bool() ? Tri::kTrue : Tri::kFalse) : Tri::kNull;
}

std::optional<int> QuickCompare(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.as_number().Compare(b.as_number());
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return internal::FeelCompare(a, b);
}

Tri QuickRange(const RangeValue& r, const Value& v) {
  if (v.is_null()) return Tri::kNull;
  if (!r.start.is_null()) {
    std::optional<int> c = QuickCompare(v, r.start);
    if (!c) return Tri::kNull;
    if (r.start_included ? *c < 0 : *c <= 0) return Tri::kFalse;
  }
  if (!r.end.is_null()) {
    std::optional<int> c = QuickCompare(v, r.end);
    if (!c) return Tri::kNull;
    if (r.end_included ? *c > 0 : *c >= 0) return Tri::kFalse;
  }
  return Tri::kTrue;
}

Tri QuickEquals(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null() ? Tri::kTrue : Tri::kFalse;
  if (a.kind() != b.kind()) return Tri::kNull;
  switch (a.kind()) {
    case Kind::kString:
      return a.as_string() == b.as_string() ? Tri::kTrue : Tri::kFalse;
    case Kind::kNumber:
      return a.as_number().Compare(b.as_number()) == 0 ? Tri::kTrue : Tri::kFalse;
    case Kind::kBool:
      return a.as_bool() == b.as_bool() ? Tri::kTrue : Tri::kFalse;
    default:
      return ToTri(internal::FeelEquals(a, b));
  }
}

Tri QuickMatch(const Value& input, const Value& test) {
  if (test.is_range()) return QuickRange(test.range(), input);
  if (test.is_list()) return ToTri(internal::TestMatches(input, test));
  return QuickEquals(input, test);
}

}  // namespace

namespace {

Tri MatchTri(const ConstantUnaryTests& tests, const Value& input) {
  // Mirrors UnaryTestsNode/EvalTests in interpreter.cc for constant tests.
  if (tests.any) return Tri::kTrue;
  bool saw_null = false;
  Tri r = Tri::kFalse;
  for (const ConstantUnaryTests::Test& t : tests.tests) {
    Tri m;
    if (t.op != ConstantUnaryTests::Test::Op::kMatch) {
      m = QuickEquals(input, t.value);
      if (t.op == ConstantUnaryTests::Test::Op::kNe && m != Tri::kNull) {
        m = m == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
      }
    } else if (t.value.is_null() && t.two_sided_range) {
      m = Tri::kNull;
    } else if (!t.bool_literal && t.value.is_bool() && !input.is_bool()) {
      m = ToTri(t.value);
    } else {
      m = QuickMatch(input, t.value);
    }
    if (m == Tri::kTrue) {
      r = Tri::kTrue;
      saw_null = false;
      break;
    }
    if (m == Tri::kNull) saw_null = true;
  }
  if (saw_null) r = Tri::kNull;
  if (tests.negated && r != Tri::kNull) r = r == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
  return r;
}

}  // namespace

Value MatchConstantUnaryTests(const ConstantUnaryTests& tests, const Value& input) {
  const Tri r = MatchTri(tests, input);
  return r == Tri::kNull ? Value() : Value::Bool(r == Tri::kTrue);
}

bool ConstantUnaryTestsHold(const ConstantUnaryTests& tests, const Value& input) {
  return MatchTri(tests, input) == Tri::kTrue;
}

std::optional<int> Compare(const Value& a, const Value& b) { return internal::FeelCompare(a, b); }
Value Equals(const Value& a, const Value& b) { return internal::FeelEquals(a, b); }

const std::string* CompiledExpression::variable_name() const {
  return program_->variable_name ? &*program_->variable_name : nullptr;
}
const Value* CompiledExpression::constant_value() const {
  return program_->constant ? &*program_->constant : nullptr;
}
const ConstantUnaryTests* CompiledExpression::constant_tests() const {
  return program_->constant_tests ? &*program_->constant_tests : nullptr;
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::Compile(
    std::string_view source) {
  return Compile(source, CompileOptions{});
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::Compile(
    std::string_view source, const CompileOptions& options) {
  absl::StatusOr<std::shared_ptr<Program>> p = internal::ParseExpression(source, &options);
  if (!p.ok()) return p.status();
  ComputeFastPaths(**p);
  return std::make_shared<const CompiledExpression>(std::move(*p));
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::CompileUnaryTests(
    std::string_view source) {
  return CompileUnaryTests(source, CompileOptions{});
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::CompileUnaryTests(
    std::string_view source, const CompileOptions& options) {
  absl::StatusOr<std::shared_ptr<Program>> p = internal::ParseUnaryTests(source, &options);
  if (!p.ok()) return p.status();
  ComputeFastPaths(**p);
  return std::make_shared<const CompiledExpression>(std::move(*p));
}

const std::string& CompiledExpression::source() const { return program_->source; }
const std::vector<std::string>& CompiledExpression::free_variables() const {
  return program_->free_variables;
}
bool CompiledExpression::is_unary_tests() const { return program_->unary_tests; }

MapVariableResolver::MapVariableResolver(std::vector<std::pair<std::string, Value>> vars) {
  for (auto& [k, v] : vars) vars_[std::move(k)] = std::move(v);
}

std::optional<Value> MapVariableResolver::Lookup(std::string_view name) const {
  auto it = vars_.find(absl::string_view(name.data(), name.size()));
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::optional<Value> ContextVariableResolver::Lookup(std::string_view name) const {
  const Value* v = context_.Find(name);
  if (v == nullptr) return std::nullopt;
  return *v;
}

namespace {

constexpr size_t kInlineGlobals = 8;

// Starts an evaluation's budget: fresh from the options, or drawn from the shared budget of an
// enclosing evaluation (and given back when the evaluation ends).
class BudgetScope {
 public:
  BudgetScope(internal::EvalContext& ctx, const EvalOptions& options, const char* stack_marker)
      : ctx_(ctx), shared_(options.shared_budget) {
    if (shared_ == nullptr) {
      ctx.stack_base = stack_marker;
      ctx.steps_left = options.max_steps;
      ctx.bytes_left = options.max_allocated_bytes;
      return;
    }
    if (shared_->stack_base == nullptr) {
      shared_->stack_base = stack_marker;
      owns_base_ = true;
    }
    ctx.stack_base = shared_->stack_base;
    ctx.steps_left = shared_->steps_left;
    ctx.bytes_left = shared_->bytes_left;
    ctx.call_depth = shared_->call_depth;
  }
  ~BudgetScope() {
    if (shared_ == nullptr) return;
    shared_->steps_left = ctx_.steps_left;
    shared_->bytes_left = ctx_.bytes_left;
    if (owns_base_) shared_->stack_base = nullptr;
  }

 private:
  internal::EvalContext& ctx_;
  SharedBudget* shared_;
  bool owns_base_ = false;
};

// Hosts turn results into JSON. A list holding one large string many times is small in memory
// (its items share the string) but not as text: such a result fails here rather than in the
// host's serializer.
absl::Status CheckResultSize(const Value& result, const EvalOptions& options) {
  if (!result.is_list() && !result.is_context()) return absl::OkStatus();
  const int64_t cap = options.max_allocated_bytes;
  if (internal::TextSizeWithin(result, cap) <= cap) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("FEEL evaluation result would take more than ", cap,
                   " bytes as text, the size of its memory budget (FEEL memory limit)"));
}

absl::StatusOr<Value> Run(const CompiledExpression& expression, const VariableResolver* variables,
                          const EvalOptions& options, const Value* input,
                          std::vector<std::string>* warnings = nullptr) {
  const std::shared_ptr<const Program>& program = expression.program();
  const size_t n = program->free_variables.size();
  absl::InlinedVector<Value, kInlineGlobals> globals(n);
  absl::InlinedVector<uint8_t, kInlineGlobals> state(n, 0);
  internal::EvalContext ctx;
  char stack_marker;
  BudgetScope budget(ctx, options, &stack_marker);
  ctx.variables = variables;
  ctx.options = &options;
  ctx.globals = globals.data();
  ctx.global_state = state.data();
  ctx.global_names = &program->free_variables;
  ctx.input = input;
  ctx.random_state = options.random_seed;
  ctx.program = &program;
  ctx.warnings = warnings;
  Value out;
  if (!program->root->Eval(ctx, &out)) {
    if (ctx.status.ok()) return absl::InternalError("FEEL evaluation failed without a status");
    return ctx.status;
  }
  TERN_RETURN_IF_ERROR(CheckResultSize(out, options));
  return out;
}

}  // namespace

absl::StatusOr<Value> Evaluate(const CompiledExpression& expression,
                               const VariableResolver& variables, const EvalOptions& options) {
  return Run(expression, &variables, options, nullptr);
}

absl::StatusOr<Value> Evaluate(const CompiledExpression& expression,
                               const VariableResolver& variables, const EvalOptions& options,
                               std::vector<std::string>* warnings) {
  return Run(expression, &variables, options, nullptr, warnings);
}

absl::StatusOr<Value> EvaluateUnaryTests(const CompiledExpression& tests, const Value& input,
                                         const VariableResolver& variables,
                                         const EvalOptions& options) {
  if (!tests.is_unary_tests()) {
    // An ordinary expression used as a test: compare its value with the input.
    absl::StatusOr<Value> v = Run(tests, &variables, options, &input);
    if (!v.ok()) return v.status();
    return internal::TestMatches(input, *v);
  }
  return Run(tests, &variables, options, &input);
}

absl::StatusOr<Value> InvokeFunction(const Value& function, std::vector<Value> args,
                                     const EvalOptions& options) {
  internal::EvalContext ctx;
  char stack_marker;
  BudgetScope budget(ctx, options, &stack_marker);
  ctx.options = &options;
  ctx.random_state = options.random_seed;
  Value out;
  if (!internal::CallFunction(ctx, function, std::move(args), &out)) {
    if (ctx.status.ok()) return absl::InternalError("FEEL function call failed without a status");
    return ctx.status;
  }
  TERN_RETURN_IF_ERROR(CheckResultSize(out, options));
  return out;
}

}  // namespace tern::feel
