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
  return absl::FailedPreconditionError(tern::StrCat("Expected result of the expression '",
                                                    Source(expression), "' to be '", expected,
                                                    "', but was '", ResultTypeName(value), "'."));
}

}  // namespace

std::string_view ResultTypeName(const feel::Value& value) {
  switch (value.kind()) {
    case feel::Kind::kNull:
      return "NULL";
    case feel::Kind::kBool:
      return "BOOLEAN";
    case feel::Kind::kNumber:
      return "NUMBER";
    case feel::Kind::kString:
      return "STRING";
    case feel::Kind::kList:
      return "ARRAY";
    case feel::Kind::kContext:
      return "OBJECT";
    case feel::Kind::kDate:
      return "DATE";
    case feel::Kind::kDateTime:
      return "DATE_TIME";
    case feel::Kind::kDaysTimeDuration:
      return "DURATION";
    case feel::Kind::kYearsMonthsDuration:
      return "PERIOD";
    default:
      return "UNKNOWN";
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
      return absl::FailedPreconditionError(
          tern::StrCat("Expected '", expression.static_text(), "' to be a number, but it is not."));
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

absl::StatusOr<std::vector<std::string>> ExpressionBehavior::EvaluateStringList(
    const bpmn::Expression& expression, int64_t scope_key) {
  std::vector<std::string> values;
  if (!expression.is_feel()) {
    std::string_view text = expression.static_text();
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      std::string_view part = text.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      size_t b = part.find_first_not_of(" \t");
      size_t e = part.find_last_not_of(" \t");
      if (b != std::string_view::npos) values.emplace_back(part.substr(b, e - b + 1));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return values;
  }
  auto value = Evaluate(expression, scope_key);
  if (!value.ok()) return value.status();
  if (value->is_null()) return values;
  if (value->is_string()) {
    values.push_back(value->as_string());
    return values;
  }
  if (!value->is_list()) return WrongType(expression, "ARRAY", *value);
  for (const feel::Value& item : value->list()) {
    if (!item.is_string()) {
      return absl::FailedPreconditionError(tern::StrCat(
          "Expected result of the expression '", Source(expression),
          "' to be 'ARRAY' containing 'STRING' items, but was '", feel::ValueToJson(*value), "'."));
    }
    values.push_back(item.as_string());
  }
  return values;
}

absl::StatusOr<std::string> ExpressionBehavior::EvaluateDateTimeText(
    const bpmn::Expression& expression, int64_t scope_key) {
  std::string text;
  if (!expression.is_feel()) {
    text = expression.static_text();
  } else {
    auto value = Evaluate(expression, scope_key);
    if (!value.ok()) return value.status();
    if (value->is_null()) return std::string();
    if (value->is_date_time()) return feel::FormatDateTime(value->as_date_time());
    if (!value->is_string()) return WrongType(expression, "DATE_TIME", *value);
    text = value->as_string();
  }
  if (text.empty()) return text;
  if (!feel::ParseDateTime(text)) {
    return absl::FailedPreconditionError(
        tern::StrCat("Expected '", text, "' to be a date and time (ISO 8601), but it is not."));
  }
  return text;
}

}  // namespace tern::engine
