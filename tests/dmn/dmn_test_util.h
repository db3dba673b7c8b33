#pragma once

// Helpers for the DMN tests: build small DMN resources and evaluate them.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "dmn/dmn.h"
#include "feel/feel.h"
#include "gtest/gtest.h"

namespace tern::dmn::testing {

inline constexpr std::string_view kDmn15 = "https://www.omg.org/spec/DMN/20230324/MODEL/";
inline constexpr std::string_view kDmn13 = "https://www.omg.org/spec/DMN/20191111/MODEL/";

// A `definitions` element in the given namespace around `body`.
inline std::string Definitions(std::string_view body, std::string_view ns = kDmn15,
                               std::string_view id = "drg", std::string_view name = "DRG") {
  return StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<definitions xmlns=\"", ns, "\" id=\"",
                id, "\" name=\"", name, "\" namespace=\"http://tern.test/dmn\">\n", body,
                "\n</definitions>\n");
}

// A decision with a literal expression.
inline std::string LiteralDecision(std::string_view id, std::string_view name,
                                   std::string_view text, std::string_view requirements = "",
                                   std::string_view type_ref = "") {
  return StrCat("<decision id=\"", id, "\" name=\"", name, "\"><variable name=\"", name, "\"",
                type_ref.empty() ? "" : StrCat(" typeRef=\"", type_ref, "\""), "/>", requirements,
                "<literalExpression><text>", text, "</text></literalExpression></decision>");
}

inline std::shared_ptr<const Drg> MustParse(std::string_view xml,
                                            std::string_view name = "test.dmn") {
  absl::StatusOr<std::shared_ptr<const Drg>> drg = ParseDmn(xml, name);
  EXPECT_TRUE(drg.ok()) << drg.status();
  if (!drg.ok()) return nullptr;
  return *drg;
}

inline feel::Value Num(int64_t v) { return feel::Value::Number(v); }
inline feel::Value Num(std::string_view decimal) {
  return feel::Value::Number(*feel::Decimal::Parse(decimal));
}
inline feel::Value Str(std::string s) { return feel::Value::String(std::move(s)); }

// Evaluates with the given variables; collects warnings.
inline EvaluationResult Eval(const Drg& drg, std::string_view decision,
                             std::vector<std::pair<std::string, feel::Value>> vars = {},
                             feel::EvalOptions options = {}) {
  feel::MapVariableResolver resolver(std::move(vars));
  EvaluationSettings settings;
  settings.collect_warnings = true;
  return Evaluate(drg, decision, resolver, options, settings);
}

inline std::string Show(const feel::Value& v) { return v.DebugString(); }

}  // namespace tern::dmn::testing
