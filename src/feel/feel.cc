#include "feel/feel.h"

#include "absl/strings/str_cat.h"
#include "feel/eval.h"
#include "feel/parser.h"

namespace tern::feel {

using internal::Program;

CompiledExpression::CompiledExpression(std::shared_ptr<const Program> program)
    : program_(std::move(program)) {}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::Compile(
    std::string_view source) {
  return Compile(source, CompileOptions{});
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::Compile(
    std::string_view source, const CompileOptions& options) {
  absl::StatusOr<std::shared_ptr<Program>> p =
      internal::ParseExpression(source, &options.known_names);
  if (!p.ok()) return p.status();
  return std::make_shared<const CompiledExpression>(std::move(*p));
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::CompileUnaryTests(
    std::string_view source) {
  return CompileUnaryTests(source, CompileOptions{});
}

absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompiledExpression::CompileUnaryTests(
    std::string_view source, const CompileOptions& options) {
  absl::StatusOr<std::shared_ptr<Program>> p =
      internal::ParseUnaryTests(source, &options.known_names);
  if (!p.ok()) return p.status();
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

absl::StatusOr<Value> Run(const CompiledExpression& expression, const VariableResolver* variables,
                          const EvalOptions& options, const Value* input,
                          std::vector<std::string>* warnings = nullptr) {
  const std::shared_ptr<const Program>& program = expression.program();
  const size_t n = program->free_variables.size();
  absl::InlinedVector<Value, kInlineGlobals> globals(n);
  absl::InlinedVector<uint8_t, kInlineGlobals> state(n, 0);
  internal::EvalContext ctx;
  char stack_marker;
  ctx.stack_base = &stack_marker;
  ctx.variables = variables;
  ctx.options = &options;
  ctx.steps_left = options.max_steps;
  ctx.bytes_left = options.max_allocated_bytes;
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
  ctx.stack_base = &stack_marker;
  ctx.options = &options;
  ctx.steps_left = options.max_steps;
  ctx.bytes_left = options.max_allocated_bytes;
  ctx.random_state = options.random_seed;
  Value out;
  if (!internal::CallFunction(ctx, function, std::move(args), &out)) {
    if (ctx.status.ok()) return absl::InternalError("FEEL function call failed without a status");
    return ctx.status;
  }
  return out;
}

}  // namespace tern::feel
