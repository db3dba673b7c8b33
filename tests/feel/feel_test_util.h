#pragma once

// Helpers for FEEL tests: evaluate a source string with variables given as JSON.

#include <string>
#include <string_view>

#include "feel/feel.h"
#include "gtest/gtest.h"

namespace tern::feel::testing {

inline absl::StatusOr<Value> Eval(std::string_view source, std::string_view vars_json = "{}",
                                  EvalOptions options = {}) {
  auto expr = CompiledExpression::Compile(source);
  if (!expr.ok()) return expr.status();
  auto vars = ValueFromJson(vars_json);
  if (!vars.ok()) return vars.status();
  ContextVariableResolver resolver(*vars);
  return Evaluate(**expr, resolver, options);
}

// The result rendered as JSON, or "ERROR: <status>" (makes expectations one-liners).
inline std::string J(std::string_view source, std::string_view vars_json = "{}",
                     EvalOptions options = {}) {
  auto v = Eval(source, vars_json, options);
  if (!v.ok()) return "ERROR: " + std::string(v.status().message());
  return ValueToJson(*v);
}

// The FEEL string form (`string(x)` / DebugString for composites).
inline std::string S(std::string_view source, std::string_view vars_json = "{}") {
  auto v = Eval(source, vars_json);
  if (!v.ok()) return "ERROR: " + std::string(v.status().message());
  return v->DebugString();
}

inline absl::StatusCode Code(std::string_view source, std::string_view vars_json = "{}",
                             EvalOptions options = {}) {
  return Eval(source, vars_json, options).status().code();
}

// Unary tests against an input given as a FEEL expression.
inline std::string T(std::string_view tests, std::string_view input_expr,
                     std::string_view vars_json = "{}") {
  auto compiled = CompiledExpression::CompileUnaryTests(tests);
  if (!compiled.ok()) return "ERROR: " + std::string(compiled.status().message());
  auto input = Eval(input_expr, vars_json);
  if (!input.ok()) return "ERROR: " + std::string(input.status().message());
  auto vars = ValueFromJson(vars_json);
  ContextVariableResolver resolver(*vars);
  auto r = EvaluateUnaryTests(**compiled, *input, resolver, {});
  if (!r.ok()) return "ERROR: " + std::string(r.status().message());
  return ValueToJson(*r);
}

}  // namespace tern::feel::testing
