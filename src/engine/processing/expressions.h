#pragma once

// Evaluates the expressions of a BPMN model against a variable scope, with the result types
// and error messages Zeebe users know ("Expected result of the expression 'x' to be 'BOOLEAN',
// but was 'NULL'."). A failure is a Status whose message becomes an incident's message.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bpmn/model.h"
#include "engine/processing/variables.h"

namespace tern::engine {

class ExpressionBehavior {
 public:
  ExpressionBehavior(ProcessingContext& context, VariableBehavior& variables)
      : context_(context), variables_(variables) {}

  absl::StatusOr<feel::Value> Evaluate(const bpmn::Expression& expression, int64_t scope_key);
  absl::StatusOr<feel::Value> Evaluate(const bpmn::Expression& expression,
                                       const feel::VariableResolver& resolver);
  absl::StatusOr<std::string> EvaluateString(const bpmn::Expression& expression, int64_t scope_key);
  absl::StatusOr<int64_t> EvaluateInt(const bpmn::Expression& expression, int64_t scope_key);
  absl::StatusOr<bool> EvaluateBool(const bpmn::Expression& expression, int64_t scope_key);
  // A list of strings: a FEEL list, or static text as a comma-separated list (user task
  // candidate groups and users).
  absl::StatusOr<std::vector<std::string>> EvaluateStringList(const bpmn::Expression& expression,
                                                              int64_t scope_key);
  // A date-time as ISO 8601 text: a FEEL date and time, or a string that parses as one (user
  // task due and follow-up dates). Empty for null.
  absl::StatusOr<std::string> EvaluateDateTimeText(const bpmn::Expression& expression,
                                                   int64_t scope_key);

  feel::EvalOptions Options();

 private:
  ProcessingContext& context_;
  VariableBehavior& variables_;
};

// Zeebe's result type name of a FEEL value: NULL, BOOLEAN, NUMBER, STRING, ARRAY, OBJECT, ...
std::string_view ResultTypeName(const feel::Value& value);

}  // namespace tern::engine
