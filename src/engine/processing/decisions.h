#pragma once

// DMN decisions: parsing deployed DMN resources (cached by decision requirements key), the
// EvaluateDecision command, and business rule tasks with zeebe:calledDecision.

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "bpmn/model.h"
#include "dmn/dmn.h"
#include "engine/processing/context.h"
#include "engine/processing/expressions.h"
#include "engine/processing/variables.h"

namespace tern::engine {

class DecisionBehavior {
 public:
  DecisionBehavior(ProcessingContext& context, VariableBehavior& variables,
                   ExpressionBehavior& expressions)
      : context_(context), variables_(variables), expressions_(expressions) {}

  // The parsed graph of a deployed decision requirements key (parsed once, then cached).
  std::shared_ptr<const dmn::Drg> Graph(int64_t decision_requirements_key);
  void Remember(int64_t decision_requirements_key, std::shared_ptr<const dmn::Drg> graph);

  // A business rule task's decision: the result as JSON. NOT_FOUND for an unknown decision (a
  // CALLED_DECISION_ERROR incident), FAILED_PRECONDITION for a failed evaluation
  // (DECISION_EVALUATION_ERROR). Writes the DECISION_EVALUATION event.
  absl::StatusOr<std::string> EvaluateForTask(const tern::state::ElementInstance& instance,
                                              const bpmn::Element& element);

  // DECISION_EVALUATION EVALUATE (the EvaluateDecision RPC).
  void ProcessEvaluate(const record::Record& command);

 private:
  // Evaluates `decision` with `variables` into `out` (and its evaluated decisions).
  void Evaluate(const record::DecisionRecord& decision, const dmn::Drg& graph,
                const feel::VariableResolver& variables, record::DecisionEvaluationRecord* out);

  ProcessingContext& context_;
  VariableBehavior& variables_;
  ExpressionBehavior& expressions_;
  std::unordered_map<int64_t, std::shared_ptr<const dmn::Drg>> graphs_;
  std::list<int64_t> order_;  // insertion order, to bound the cache
};

}  // namespace tern::engine
