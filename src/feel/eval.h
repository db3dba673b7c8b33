#pragma once

// Internal to src/feel: the syntax tree and the evaluation context shared by the parser, the
// evaluator and the built-in functions. Not part of the public API (include feel/feel.h).
//
// Evaluation is a tree walk over immutable nodes. Each node's Eval() writes its result into an
// out-parameter and returns false on a hard failure (budget exceeded, depth exceeded), leaving
// the status in the context. FEEL-level problems (type mismatches, missing values) are not
// failures: they produce null, as feel-scala does. Recursion depth is bounded: the parser
// limits nesting, operator chains are n-ary nodes evaluated in loops, and the context counts
// the runtime depth (nested lambda calls).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "feel/feel.h"
#include "feel/types.h"
#include "feel/value.h"

namespace tern::feel {

namespace internal {

struct Program;

// Debian's Abseil has its own absl::string_view; StrCat does not take std::string_view.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr int kMaxParseDepth = 256;  // syntactic nesting accepted by the parser
constexpr int kMaxEvalDepth = 512;   // runtime nesting (tree depth plus lambda calls)

// A lexical scope frame during evaluation: named bindings, and optionally a context whose
// entries are visible as names (the item of a filter, a context literal being built).
struct Scope {
  const Scope* parent = nullptr;
  absl::InlinedVector<std::pair<std::string_view, Value>, 2> bindings;
  const ContextValue* context = nullptr;
  const std::vector<std::pair<std::string, Value>>* captured = nullptr;  // a lambda's closure

  const Value* Lookup(std::string_view name) const;
};

struct EvalContext {
  const VariableResolver* variables = nullptr;
  const EvalOptions* options = nullptr;
  int64_t steps_left = 0;
  int64_t bytes_left = 0;
  int depth = 0;
  absl::Status status;

  // Global variable cache, one slot per free variable of the expression.
  Value* globals = nullptr;
  uint8_t* global_state = nullptr;  // 0 = not fetched, 1 = fetched
  const std::vector<std::string>* global_names = nullptr;

  const Scope* scope = nullptr;
  const Value* input = nullptr;  // the unary-test input value `?`
  uint64_t random_state = 0;
  // Stack address at the start of the evaluation; lambda calls check how much stack is used.
  const char* stack_base = nullptr;
  int call_depth = 0;
  // The program being evaluated; lambdas created during evaluation keep it alive.
  const std::shared_ptr<const Program>* program = nullptr;
  // Optional sink for explanations of null results (missing variables, type mismatches...).
  std::vector<std::string>* warnings = nullptr;
  void Warn(std::string message) {
    constexpr size_t kMaxWarnings = 20;
    if (warnings != nullptr && warnings->size() < kMaxWarnings) {
      warnings->push_back(std::move(message));
    }
  }
  // Set by a context literal while it evaluates `name: function(...) ...`, so the function can
  // call itself by that name.
  std::string_view pending_self_name;

  bool Fail(absl::Status s) {
    if (status.ok()) status = std::move(s);
    return false;
  }
  bool Step(int64_t n = 1) {
    steps_left -= n;
    if (steps_left < 0) return FailSteps();
    return true;
  }
  bool FailSteps();
  // Accounts for memory a new value needs; fails when the per-evaluation budget is spent.
  bool Charge(int64_t bytes) {
    bytes_left -= bytes;
    if (bytes_left < 0) return FailMemory();
    return true;
  }
  bool FailMemory();
  // Checks a collection or string size against max_collection_size.
  bool CheckSize(int64_t n);
  // Called before a new value is allocated: fails when it would have more than
  // max_collection_size elements (bytes for a string) or need more than what is left of the
  // memory budget, so an oversized value is never built. Does not deduct: the finished value is
  // charged once it exists (ChargeValue after a built-in returns; Charge for values nested in a
  // result, which ChargeValue does not see).
  bool CheckAllocation(int64_t elements, int64_t bytes);
  bool CheckString(size_t bytes) {
    return CheckAllocation(static_cast<int64_t>(bytes), static_cast<int64_t>(bytes) + 32);
  }
  bool CheckList(size_t items) {
    return CheckAllocation(static_cast<int64_t>(items),
                           static_cast<int64_t>(items * sizeof(Value)) + 32);
  }
  bool CheckContext(size_t entries) {
    return CheckAllocation(static_cast<int64_t>(entries),
                           static_cast<int64_t>(entries * (sizeof(Value) + 32)) + 32);
  }
  uint64_t NextRandom();
};

class Node;
using NodePtr = std::unique_ptr<Node>;

class Node {
 public:
  explicit Node(int column) : column_(column) {}
  virtual ~Node() = default;
  // Evaluates into *out. Returns false only on a hard failure (status set in ctx).
  virtual bool Eval(EvalContext& ctx, Value* out) const = 0;
  // Returns a pointer to an already existing value (literals, cached variables) to avoid a
  // copy, or nullptr when the node must be evaluated with Eval(). Must not fail.
  virtual const Value* Peek(EvalContext& ctx) const {
    (void)ctx;
    return nullptr;
  }
  // 1-based byte offset of the node in the source.
  int column() const { return column_; }

  // Kind tags the parser and evaluator need to recognise specific shapes.
  virtual bool IsNumberLiteral() const { return false; }
  virtual bool IsBoolLiteral() const { return false; }
  virtual bool IsTwoSidedRange() const { return false; }
  virtual bool IsFunctionDefinition() const { return false; }
  // The type every value of this node has, when known at compile time (literals, context and
  // list literals); nullptr otherwise. Used to type function definitions.
  virtual TypePtr StaticType() const { return nullptr; }
  // True when the node always evaluates to the same value without reading variables, the
  // input `?`, the clock or random sources (literals, ranges and lists of constants, pure
  // conversions such as date("2024-01-01")). Hosts pre-evaluate such expressions.
  virtual bool IsConstant() const { return false; }

 private:
  int column_;
};

// Evaluates `node`, giving a pointer to the result (either peeked or stored into *tmp).
inline const Value* EvalRef(const Node& node, EvalContext& ctx, Value* tmp) {
  if (const Value* v = node.Peek(ctx)) return v;
  if (!node.Eval(ctx, tmp)) return nullptr;
  return tmp;
}

// Everything the compiled expression owns. Lambdas keep it alive (they point into the tree).
struct Program {
  std::string source;
  NodePtr root;
  std::vector<std::string> free_variables;
  bool unary_tests = false;
  // Host fast paths, filled in after parsing (see CompiledExpression).
  std::optional<std::string> variable_name;
  std::optional<Value> constant;
  std::optional<ConstantUnaryTests> constant_tests;
};

// ---- Shared semantics used by the evaluator and built-ins ----

// FEEL `=`: true/false, or null when the kinds cannot be compared.
Value FeelEquals(const Value& a, const Value& b);
// -1/0/1 for comparable values of the same kind; nullopt when not comparable.
std::optional<int> FeelCompare(const Value& a, const Value& b);
// Whether `v` lies in the range; null when not comparable.
Value RangeIncludes(const RangeValue& r, const Value& v);
// Unary-test semantics: does `input` satisfy the test value `test`?
Value TestMatches(const Value& input, const Value& test);

// Invokes a function value with positional arguments.
bool CallFunction(EvalContext& ctx, const Value& fn, std::vector<Value> args, Value* out);

// Arithmetic on values (FEEL null rules). Returns null for type mismatches.
Value Add(const Value& a, const Value& b);
Value Subtract(const Value& a, const Value& b);
Value Multiply(const Value& a, const Value& b);
Value Divide(const Value& a, const Value& b);

// `string(x)` conversion.
std::string ToFeelString(const Value& v);
// As ToFeelString into *out; false when the text would be longer than max_size (a list holding
// one long string many times), without building all of it.
bool ToFeelStringWithin(const Value& v, size_t max_size, std::string* out);
// An estimate of the JSON text of `v` (what a host stores it as), counting at most a little
// beyond `cap`: values sharing items are small in memory but not as text.
int64_t TextSizeWithin(const Value& v, int64_t cap);
// Type check for `instance of`.
bool IsInstanceOf(const Value& v, std::string_view type_name);

// Built-in function registry.
struct BuiltinOverload;
struct Builtin {
  std::string name;
  std::vector<BuiltinOverload> overloads;
};
using BuiltinFn = bool (*)(EvalContext& ctx, const Value* args, size_t n, Value* out);
struct BuiltinOverload {
  std::vector<std::string> params;
  bool variadic = false;  // last parameter collects the remaining positional arguments
  BuiltinFn fn = nullptr;
};
// nullptr when no built-in has this name.
const Builtin* FindBuiltin(std::string_view name);
// True when `name` begins a multi-word built-in function name that contains a keyword
// ("date and time", "get or else", "years and months duration").
const std::vector<std::vector<std::string>>& KeywordBuiltinNames();

// Picks the overload for positional arity n; nullptr if none.
const BuiltinOverload* SelectOverload(const Builtin& b, size_t n);

// A built-in as a first-class function value (`sort(xs, function(a,b) a<b)` takes lambdas;
// built-ins can be passed by name too).
std::shared_ptr<const FunctionValue> BuiltinFunctionValue(const Builtin* b);

// Evaluates a built-in overload with already-evaluated arguments (variadic packed by caller).
bool InvokeBuiltin(EvalContext& ctx, const BuiltinOverload& o, const Value* args, size_t n,
                   Value* out);

}  // namespace internal
}  // namespace tern::feel
