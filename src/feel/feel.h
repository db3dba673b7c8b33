#pragma once

// Tern's FEEL (Friendly Enough Expression Language, DMN 1.5 chapter 10) in the dialect Zeebe
// users know from feel-scala. Compile once, evaluate many times, from any thread: a compiled
// expression is immutable; each evaluation has its own step and memory budget.
//
//   auto expr = feel::CompiledExpression::Compile("amount < 10000 and status = \"new\"");
//   feel::MapVariableResolver vars({{"amount", feel::Value::Number(500)}, ...});
//   absl::StatusOr<feel::Value> v = feel::Evaluate(**expr, vars, {});

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "feel/decimal.h"
#include "feel/temporal.h"
#include "feel/types.h"
#include "feel/value.h"

namespace tern::feel {

namespace internal {
struct Program;
}

// Unary tests whose every test is a constant (`-`, `"a","b"`, `< 5`, `[1..10)`, `not(3)`,
// `>= date("2024-01-01")`), pre-evaluated at compile time so hosts can match an input without
// running the evaluator (DMN decision tables). MatchConstantUnaryTests gives the same result as
// EvaluateUnaryTests.
struct ConstantUnaryTests {
  struct Test {
    enum class Op : uint8_t { kMatch, kEq, kNe } op = Op::kMatch;  // `t`, `= t`, `!= t`
    Value value;
    bool bool_literal = false;     // `true` / `false` written as such
    bool two_sided_range = false;  // `[a..b]` (null when an end is null)
  };
  bool any = false;      // `-`
  bool negated = false;  // not(...)
  std::vector<Test> tests;
};
Value MatchConstantUnaryTests(const ConstantUnaryTests& tests, const Value& input);
// Whether MatchConstantUnaryTests would give true (the decision-table hot path).
bool ConstantUnaryTestsHold(const ConstantUnaryTests& tests, const Value& input);

struct CompileOptions {
  // Variable names that the plain name rules cannot express: names containing operators,
  // keywords or symbols, like DMN's "Date-Time", "values in a list" or "a+b". They are matched
  // literally (longest first) wherever a name may appear. Ordinary names need not be listed,
  // except names of built-in functions that a variable shadows (a function-valued variable
  // called "round" is then called instead of the built-in).
  std::vector<std::string> known_names;
  // Resolves type names that are not built in (DMN item definitions) in `instance of` and typed
  // function parameters. Unset: only built-in types.
  TypeResolver type_resolver;
};

class CompiledExpression {
 public:
  // `source` is the expression text WITHOUT Zeebe's leading '='. Syntax errors give
  // INVALID_ARGUMENT naming the problem and the 1-based column ("expected ')' at column 12").
  static absl::StatusOr<std::shared_ptr<const CompiledExpression>> Compile(std::string_view source);
  static absl::StatusOr<std::shared_ptr<const CompiledExpression>> Compile(
      std::string_view source, const CompileOptions& options);
  // DMN unary tests (decision-table input entries): `-`, `"a","b"`, `< 5`, `[1..3]`,
  // `not(1, 2)`, or expressions using `?`. Evaluate with EvaluateUnaryTests().
  static absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompileUnaryTests(
      std::string_view source);
  static absl::StatusOr<std::shared_ptr<const CompiledExpression>> CompileUnaryTests(
      std::string_view source, const CompileOptions& options);

  const std::string& source() const;
  // Fast paths, computed at compile time: the name when the expression is a plain variable
  // reference (`Age`); the value when it is a constant (see ConstantUnaryTests); the
  // pre-evaluated tests when unary tests are all constants. nullptr otherwise.
  const std::string* variable_name() const;
  const Value* constant_value() const;
  const ConstantUnaryTests* constant_tests() const;
  // Top-level variable names the expression may read, in order of first use (so the engine
  // fetches only these). Names inside filters are included: they may be globals.
  const std::vector<std::string>& free_variables() const;
  bool is_unary_tests() const;

  // Internal.
  explicit CompiledExpression(std::shared_ptr<const internal::Program> program);
  const std::shared_ptr<const internal::Program>& program() const { return program_; }

 private:
  std::shared_ptr<const internal::Program> program_;
};

// Resolves a top-level variable by name; std::nullopt means "no such variable" (FEEL null).
// Called at most once per name per evaluation.
class VariableResolver {
 public:
  virtual ~VariableResolver() = default;
  virtual std::optional<Value> Lookup(std::string_view name) const = 0;
};

// A resolver over a hash map; handy for tests and small callers.
class MapVariableResolver : public VariableResolver {
 public:
  MapVariableResolver() = default;
  explicit MapVariableResolver(std::vector<std::pair<std::string, Value>> vars);
  void Set(std::string name, Value value) { vars_[std::move(name)] = std::move(value); }
  std::optional<Value> Lookup(std::string_view name) const override;

 private:
  absl::flat_hash_map<std::string, Value> vars_;
};

// A resolver over the entries of a context value (e.g. a JSON variables document).
class ContextVariableResolver : public VariableResolver {
 public:
  explicit ContextVariableResolver(Value context) : context_(std::move(context)) {}
  std::optional<Value> Lookup(std::string_view name) const override;

 private:
  Value context_;
};

// Budget shared by nested evaluations; see EvalOptions::shared_budget.
struct SharedBudget {
  int64_t steps_left = 0;
  int64_t bytes_left = 0;
  const char* stack_base = nullptr;  // set by the outermost evaluation
  int call_depth = 0;
};

struct EvalOptions {
  int64_t max_steps = 1'000'000;            // evaluation step budget (nodes + builtin work)
  int64_t max_collection_size = 1'000'000;  // largest list/string/range materialised
  int64_t now_epoch_millis = 0;             // what now()/today() return: the record's timestamp
  uint64_t random_seed = 0;                 // what uuid() and random number() derive from
  // Bytes of new strings/lists/contexts one evaluation may allocate in total.
  int64_t max_allocated_bytes = 64 << 20;
  // Zone for now() and today() ("UTC" unless set; an IANA id).
  std::string time_zone = "UTC";
  // Optional budget shared by nested evaluations (FEEL calling C++ that evaluates FEEL again, as
  // DMN business knowledge models do): when set, the evaluation draws steps and bytes from it
  // instead of starting fresh from the limits above, and recursion is measured from the
  // outermost evaluation. Not owned; one per top-level evaluation, single-threaded.
  SharedBudget* shared_budget = nullptr;
};

// Failures (budget exceeded, nesting too deep) -> RESOURCE_EXHAUSTED or INVALID_ARGUMENT with a
// clear message; never a crash, never unbounded memory or time. Type mismatches and missing
// variables are not failures: they evaluate to null as in feel-scala.
absl::StatusOr<Value> Evaluate(const CompiledExpression& expression,
                               const VariableResolver& variables, const EvalOptions& options);
// As above, and appends to *warnings (at most 20) why parts of the expression were null, in
// feel-scala's words ("No variable found with name 'x'", "Can't compare '1' with '\"a\"'"), for
// incident messages. Slower: use it to explain a failure, not on every evaluation.
absl::StatusOr<Value> Evaluate(const CompiledExpression& expression,
                               const VariableResolver& variables, const EvalOptions& options,
                               std::vector<std::string>* warnings);
// Evaluates unary tests against `input`; true/false (or null when a test cannot compare).
absl::StatusOr<Value> EvaluateUnaryTests(const CompiledExpression& tests, const Value& input,
                                         const VariableResolver& variables,
                                         const EvalOptions& options);
// Invokes a function value (a lambda returned by an expression, or a built-in) with
// positional arguments under the given budget.
absl::StatusOr<Value> InvokeFunction(const Value& function, std::vector<Value> args,
                                     const EvalOptions& options);

// A function implemented in C++ and passed to FEEL as a value (DMN business knowledge models,
// decision services, host extensions). Invoked with positional or named arguments like any
// FEEL function; a non-OK status from the body fails the evaluation with that status.
// The body must be thread-safe if the value is shared between evaluations on several threads.
class NativeFunction : public FunctionValue {
 public:
  using Body = std::function<absl::StatusOr<Value>(const std::vector<Value>& args)>;
  NativeFunction(std::string name, std::vector<std::string> parameters, Body body)
      : name_(std::move(name)), parameters_(std::move(parameters)), body_(std::move(body)) {}
  // With declared parameter types (nullptr entries: untyped) and result type, for
  // `instance of` and DMN type checks. The body still receives the arguments unchecked.
  NativeFunction(std::string name, std::vector<std::string> parameters,
                 std::vector<TypePtr> parameter_types, TypePtr result_type, Body body)
      : name_(std::move(name)),
        parameters_(std::move(parameters)),
        parameter_types_(std::move(parameter_types)),
        result_type_(std::move(result_type)),
        typed_(true),
        body_(std::move(body)) {}
  std::string_view name() const override { return name_; }
  const std::vector<std::string>& parameters() const override { return parameters_; }
  const std::vector<TypePtr>* parameter_types() const override {
    return typed_ ? &parameter_types_ : nullptr;
  }
  TypePtr result_type() const override { return result_type_; }
  absl::StatusOr<Value> Call(const std::vector<Value>& args) const { return body_(args); }

 private:
  std::string name_;
  std::vector<std::string> parameters_;
  std::vector<TypePtr> parameter_types_;
  TypePtr result_type_;
  bool typed_ = false;
  Body body_;
};

// FEEL's ordering (`<`): -1/0/1 for two values of the same comparable kind (numbers, strings,
// dates, times, date-times, durations); nullopt otherwise.
std::optional<int> Compare(const Value& a, const Value& b);
// FEEL's `=`: true/false, or null when the kinds cannot be compared.
Value Equals(const Value& a, const Value& b);

// A FEEL function backed by a Java method, as `function(...) external {java: {class: ...,
// method signature: ...}}` and DMN Java function definitions describe it. Tern has no JVM: the
// java.lang methods such models use (Math, the boxed types' valueOf/parse methods,
// String.valueOf/format) are provided natively; other methods give NOT_FOUND.
absl::StatusOr<Value> MakeJavaFunction(std::string_view class_name,
                                       std::string_view method_signature,
                                       std::vector<std::string> parameter_names);

// Names of all built-in functions (for documentation and DMN tooling).
std::vector<std::string> BuiltinFunctionNames();

// ---- JSON conversion (JSON is how variables are stored and sent to clients) ----

// Maximum nesting depth of arrays/objects accepted by ValueFromJson. Deeper documents give
// INVALID_ARGUMENT (the gateway rejects deeper ones separately).
constexpr int kMaxJsonDepth = 64;
// Numbers keep their exact decimal digits (rounded to 34 significant digits). Duplicate object
// keys: the last one wins (as most JSON parsers do).
absl::StatusOr<Value> ValueFromJson(std::string_view json);
// Deterministic; numbers in plain decimal notation where possible (1, 2.5, not 2.5E0); temporal
// values as ISO strings ("2024-01-01", "10:00:00", "2024-01-01T10:00:00+01:00",
// "2024-01-01T10:00:00@Europe/Paris", "P1DT2H", "P1Y2M") like feel-scala/Zeebe; ranges and
// functions as their FEEL string; context keys in insertion order.
std::string ValueToJson(const Value& value);
// As ValueToJson, or nullopt when the text would be longer than max_bytes; stops early instead
// of building it. A list holding one large value many times is small in memory but not as JSON.
std::optional<std::string> ValueToJsonWithin(const Value& value, size_t max_bytes);

}  // namespace tern::feel
