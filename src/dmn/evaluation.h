#pragma once

// Internal to src/dmn: the state of one evaluation (one Evaluate call). Single-threaded; lives
// on the caller's stack. Function values created for business knowledge models and decision
// services find the evaluation they run in through Evaluation::Current().

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "dmn/model.h"

namespace tern::dmn::internal {

// A lexical scope of DMN names (requirements, context entries, parameters) over a base
// resolver (the caller's variables) or a parent scope.
class Scope final : public feel::VariableResolver {
 public:
  explicit Scope(const feel::VariableResolver* base) : base_(base) {}
  explicit Scope(const Scope* parent) : parent_(parent) {}
  void Set(std::string name, Value value);
  std::optional<Value> Lookup(std::string_view name) const override;
  std::optional<Value> LookupExact(std::string_view name) const;

 private:
  const Scope* parent_ = nullptr;
  const feel::VariableResolver* base_ = nullptr;
  absl::InlinedVector<std::pair<std::string, Value>, 4> vars_;
};

// Import path from the main model to an element's model ("Model B", "modelA").
using Path = std::vector<std::string>;

class Evaluation {
 public:
  Evaluation(const feel::EvalOptions& options, const EvaluationSettings& settings,
             EvaluationResult* result);
  ~Evaluation();
  Evaluation(const Evaluation&) = delete;
  Evaluation& operator=(const Evaluation&) = delete;

  // The evaluation running on this thread, if any.
  static Evaluation* Current();

  const feel::EvalOptions& options() const { return options_; }
  bool collect_warnings() const { return result_ != nullptr && settings_.collect_warnings; }
  void Warn(std::string message);

  // ---- DRG ----
  // A decision of the main model (path {}) or of an imported one.
  absl::StatusOr<Value> EvalDecision(const Decision& d, const Path& path);
  absl::StatusOr<Value> RunDecision(const Decision& d, const feel::VariableResolver& variables);
  absl::StatusOr<Value> RunService(const DecisionService& s,
                                   const feel::VariableResolver& variables);
  absl::StatusOr<Value> InvokeBkm(const Bkm& b, std::vector<Value> args, const Path& path);
  absl::StatusOr<Value> InvokeService(const DecisionService& s, std::vector<Value> args,
                                      const Path& path);

  // ---- expressions ----
  // Evaluates a boxed expression and applies its typeRef (null when the value does not conform).
  absl::StatusOr<Value> EvalExpr(const Expr* e, const Scope& scope);
  absl::StatusOr<Value> EvalFeel(const feel::CompiledExpression& e,
                                 const feel::VariableResolver& vars);
  // true / false / null of unary tests against an input.
  absl::StatusOr<Value> EvalTests(const feel::CompiledExpression& tests, const Value& input,
                                  const feel::VariableResolver& vars);
  // `value` converted to `type` when DMN's implicit conversions make it conform, else the value
  // unchanged (with a warning): for advisory types (decision table columns).
  Value Convert(Value value, const TypePtr& type, std::string_view what, std::string_view name);
  // `value` converted to `type`, or null (with a warning naming `what` and `name`).
  Value Coerce(const Value& value, const TypePtr& type, std::string_view what,
               std::string_view name = {});

  // Audit of the top-level decision table of the decision being evaluated: non-null only for
  // that table (nested tables in BKMs are not audited).
  EvaluatedDecision* TakeAudit(const Expr* table);

  const std::string& failed_decision_id() const { return failed_decision_id_; }

 private:
  struct Frame {
    const feel::VariableResolver* variables = nullptr;
    // Decision service parameters: input data and input decisions given as arguments.
    absl::flat_hash_map<const Element*, Value> supplied;
    bool closed = false;  // inputs only from `supplied` (a decision service invocation)
    absl::flat_hash_map<std::pair<const Decision*, std::string>, Value> memo;
  };

  Value InputValue(const InputData& in, const Path& path);
  Value MakeFunction(const Element& knowledge, const Path& path);
  absl::Status BindRequirements(
      const std::vector<Requirement>& reqs, const Path& path, Scope& scope,
      absl::flat_hash_map<std::string, feel::ContextValue>* import_contexts);
  absl::StatusOr<Value> EvalServiceOutputs(const DecisionService& s, const Path& path);
  absl::Status EnterCall(std::string_view what);
  void LeaveCall();

  feel::EvalOptions options_;
  feel::SharedBudget budget_;
  EvaluationSettings settings_;
  EvaluationResult* result_;
  Evaluation* previous_;
  std::vector<Frame*> frames_;
  EvaluatedDecision* audit_ = nullptr;
  const Expr* audit_table_ = nullptr;
  std::string failed_decision_id_;
  int call_depth_ = 0;
  int decision_depth_ = 0;    // nesting of EvalDecision (0: the requested decision)
  uintptr_t stack_base_ = 0;  // address near the top of the stack when the evaluation began
};

}  // namespace tern::dmn::internal
