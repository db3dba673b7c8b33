#include "engine/processing/expressions.h"

#include "absl/strings/numbers.h"
#include "base/strings.h"

namespace tern::engine {
namespace {

std::string_view Source(const bpmn::Expression& expression) {
  std::string_view text = expression.text;
  if (!text.empty() && text.front() == '=') text.remove_prefix(1);
  return text;
}

absl::Status WrongType(const bpmn::Expression& expression, std::string_view expected,
                       const feel::Value& value) {
  return absl::FailedPreconditionError(
      tern::StrCat("Expected result of the expression '", Source(expression), "' to be '",
                   expected, "', but was '", ResultTypeName(value), "'."));
}

}  // namespace

std::string_view ResultTypeName(const feel::Value& value) {
  switch (value.kind()) {
    case feel::Kind::kNull: return "NULL";
    case feel::Kind::kBool: return "BOOLEAN";
    case feel::Kind::kNumber: return "NUMBER";
    case feel::Kind::kString: return "STRING";
    case feel::Kind::kList: return "ARRAY";
    case feel::Kind::kContext: return "OBJECT";
    case feel::Kind::kDate: return "DATE";
    case feel::Kind::kDateTime: return "DATE_TIME";
    case feel::Kind::kDaysTimeDuration: return "DURATION";
    case feel::Kind::kYearsMonthsDuration: return "PERIOD";
    default: return "UNKNOWN";
  }
}

feel::EvalOptions ExpressionBehavior::Options() {
  feel::EvalOptions options;
  options.max_steps = context_.config().feel_max_steps;
  options.now_epoch_millis = context_.timestamp();
  // Deterministic: uuid() differs between evaluations but is the same when replayed.
  options.random_seed = context_.NextRandomSeed() * 0x9E3779B97F4A7C15ull;
  return options;
}

absl::StatusOr<feel::Value> ExpressionBehavior::Evaluate(const bpmn::Expression& expression,
                                                         const feel::VariableResolver& resolver) {
  if (!expression.is_feel()) return feel::Value::String(expression.static_text());
  auto result = feel::Evaluate(*expression.feel, resolver, Options());
  if (!result.ok()) {
    return absl::FailedPreconditionError(tern::StrCat(
        "failed to evaluate expression '", Source(expression), "': ", result.status().message()));
  }
  return result;
}

absl::StatusOr<feel::Value> ExpressionBehavior::Evaluate(const bpmn::Expression& expression,
                                                         int64_t scope_key) {
  ScopeVariableResolver resolver(variables_, scope_key);
  return Evaluate(expression, resolver);
}

absl::StatusOr<std::string> ExpressionBehavior::EvaluateString(const bpmn::Expression& expression,
                                                               int64_t scope_key) {
  if (!expression.is_feel()) return expression.static_text();
  auto value = Evaluate(expression, scope_key);
  if (!value.ok()) return value.status();
  if (!value->is_string()) return WrongType(expression, "STRING", *value);
  return value->as_string();
}

absl::StatusOr<int64_t> ExpressionBehavior::EvaluateInt(const bpmn::Expression& expression,
                                                        int64_t scope_key) {
  if (!expression.is_feel()) {
    int64_t number = 0;
    if (!absl::SimpleAtoi(expression.static_text(), &number)) {
      return absl::FailedPreconditionError(tern::StrCat(
          "Expected '", expression.static_text(), "' to be a number, but it is not."));
    }
    return number;
  }
  auto value = Evaluate(expression, scope_key);
  if (!value.ok()) return value.status();
  auto number = value->as_int64();
  if (!number) return WrongType(expression, "NUMBER", *value);
  return *number;
}

absl::StatusOr<bool> ExpressionBehavior::EvaluateBool(const bpmn::Expression& expression,
                                                      int64_t scope_key) {
  auto value = Evaluate(expression, scope_key);
  if (!value.ok()) return value.status();
  if (!value->is_bool()) return WrongType(expression, "BOOLEAN", *value);
  return value->as_bool();
}

}  // namespace tern::engine
