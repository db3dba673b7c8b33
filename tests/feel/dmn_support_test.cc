// FEEL features DMN relies on: types (`instance of`, typed parameters, item definitions through
// a type resolver), the constant fast paths hosts use, the shared budget of nested evaluations,
// Java external functions, and the DMN 1.5 conversions and literals the TCK exercises.

#include <string>
#include <vector>

#include "feel/feel.h"
#include "feel/types.h"
#include "feel_test_util.h"
#include "gtest/gtest.h"

namespace tern::feel {
namespace {

using testing::J;
using testing::S;

TEST(Types, ParseTypeSyntax) {
  const TypeResolver none;
  for (std::string_view t :
       {"number", "date and time", "list<string>", "range<date>",
        "context<a: number, b: list<string>>", "function<string, number>->boolean",
        "function<>->Any", "Any", "Null"}) {
    absl::StatusOr<TypePtr> parsed = ParseType(t, none);
    ASSERT_TRUE(parsed.ok()) << t << ": " << parsed.status();
  }
  EXPECT_EQ((*ParseType("list< context<a : number> >", none))->name, "list<context<a: number>>");
  EXPECT_FALSE(ParseType("tUnknown", none).ok());
  EXPECT_FALSE(ParseType("list<number", none).ok());
  EXPECT_FALSE(ParseType("function<number>", none).ok());
  // DMN 1.1 / XML Schema spellings.
  EXPECT_EQ(BuiltinType("dateTime")->kind, Type::Kind::kDateTime);
  EXPECT_EQ(BuiltinType("yearMonthDuration")->kind, Type::Kind::kYearsMonthsDuration);
}

TEST(Types, InstanceOf) {
  EXPECT_EQ(J("null instance of Any"), "false");
  EXPECT_EQ(J("null instance of Null"), "true");
  EXPECT_EQ(J("[1, 2] instance of list<number>"), "true");
  EXPECT_EQ(J("[1, \"2\"] instance of list<number>"), "false");
  EXPECT_EQ(J("{a: 1, b: \"x\"} instance of context<a: number>"), "true");
  EXPECT_EQ(J("{a: 1} instance of context<a: number, b: string>"), "false");
  EXPECT_EQ(J("[1..5] instance of range<number>"), "true");
  EXPECT_EQ(J("(function(a: string) \"x\") instance of function<string>->string"), "true");
  EXPECT_EQ(J("(function(a: string) 1) instance of function<string>->string"), "false");
  EXPECT_EQ(J("(function(a: string, b: number) 1) instance of function<string, string>->Any"),
            "false");
  // Parameters are contravariant: a function taking any context accepts a richer one.
  EXPECT_EQ(J("(function(a: context<a: string>) 1) instance of "
              "function<context<a: string, b: string>>->number"),
            "true");
  EXPECT_EQ(J("1 instance of tUnknown"), "false");
}

TEST(Types, NamedTypesFromResolver) {
  auto score = std::make_shared<Type>(*BuiltinType("number"));
  score->name = "tScore";
  score->constraints.push_back(
      [](const Value& v) { return v.is_number() && !v.as_number().IsNegative(); });
  CompileOptions options;
  options.type_resolver = [score](std::string_view name) -> TypePtr {
    return name == "tScore" ? score : nullptr;
  };
  MapVariableResolver vars;
  auto eval = [&](std::string_view source) {
    auto e = CompiledExpression::Compile(source, options);
    EXPECT_TRUE(e.ok()) << e.status();
    return Evaluate(**e, vars, {})->DebugString();
  };
  // instance of checks the base type only (DMN 1.5); typed parameters check constraints too.
  EXPECT_EQ(eval("-5 instance of tScore"), "true");
  EXPECT_EQ(eval("\"5\" instance of tScore"), "false");
  EXPECT_EQ(eval("(function(s: tScore) s * 2)(4)"), "8");
  EXPECT_EQ(eval("(function(s: tScore) s * 2)(-4)"), "null");
  EXPECT_TRUE(Conforms(Value::Number(3), *score));
  EXPECT_FALSE(Conforms(Value::Number(-3), *score));
  EXPECT_TRUE(Conforms(Value(), *score));
}

TEST(Types, CoercionFollowsDmnConversions) {
  const TypeResolver none;
  TypePtr number = BuiltinType("number");
  TypePtr numbers = *ParseType("list<number>", none);
  EXPECT_EQ(CoerceToType(Value::List({Value::Number(7)}), *number)->DebugString(), "7");
  EXPECT_EQ(CoerceToType(Value::Number(7), *numbers)->DebugString(), "[7]");
  EXPECT_FALSE(CoerceToType(Value::String("7"), *number).has_value());
  EXPECT_FALSE(CoerceToType(Value::List({Value::String("7")}), *number).has_value());
  EXPECT_TRUE(CoerceToType(Value(), *number)->is_null());
  Value date = Value::Date(*ParseDate("2024-02-29"));
  EXPECT_EQ(CoerceToType(date, *BuiltinType("date and time"))->DebugString(),
            "2024-02-29T00:00:00Z");
  // Typed lambda parameters convert their arguments the same way.
  EXPECT_EQ(S("(function(n: number) n + 1)([41])"), "42");
  EXPECT_EQ(S("(function(n: number) n + 1)(\"41\")"), "null");
  EXPECT_EQ(S("(function(l: list<number>) count(l))(5)"), "1");
}

TEST(FastPaths, ConstantUnaryTestsMatchLikeTheEvaluator) {
  const std::vector<std::string> tests = {"-",
                                          "5",
                                          "\"a\", \"b\"",
                                          "not(\"a\", \"b\")",
                                          "< 10",
                                          "<= 10",
                                          "> 10",
                                          ">= 10",
                                          "[1..10]",
                                          "(1..10)",
                                          "]1..10[",
                                          "= 10",
                                          "!= 10",
                                          "null",
                                          "true",
                                          "false",
                                          "[1, 2, 3]",
                                          "not(5)",
                                          "< 10, > 20",
                                          ">= date(\"2024-01-01\")",
                                          "[@\"2024-01-01\"..@\"2024-12-31\"]",
                                          "duration(\"P1D\")",
                                          "[\"a\"..\"c\"]"};
  const std::vector<Value> inputs = {
      Value(),
      Value::Number(5),
      Value::Number(10),
      Value::Number(15),
      Value::Number(25),
      Value::String("a"),
      Value::String("b2"),
      Value::String("z"),
      Value::Bool(true),
      Value::Bool(false),
      Value::List({Value::Number(1)}),
      Value::Date(*ParseDate("2024-06-01")),
      Value::Date(*ParseDate("2023-06-01")),
      Value::DaysTimeDuration(*ParseDaysTimeDuration("P1D")),
  };
  MapVariableResolver vars;
  for (const std::string& t : tests) {
    auto compiled = CompiledExpression::CompileUnaryTests(t);
    ASSERT_TRUE(compiled.ok()) << t;
    const ConstantUnaryTests* fast = (*compiled)->constant_tests();
    ASSERT_NE(fast, nullptr) << t << " should be constant";
    for (const Value& input : inputs) {
      absl::StatusOr<Value> slow = EvaluateUnaryTests(**compiled, input, vars, {});
      ASSERT_TRUE(slow.ok());
      EXPECT_EQ(MatchConstantUnaryTests(*fast, input).DebugString(), slow->DebugString())
          << t << " with " << input.DebugString();
      EXPECT_EQ(ConstantUnaryTestsHold(*fast, input), slow->is_bool() && slow->as_bool())
          << t << " with " << input.DebugString();
    }
  }
  // Tests that read variables, `?` or the clock are not constant.
  for (std::string_view t : {"x", "? > 1", "< today()", "count(?) = 1"}) {
    EXPECT_EQ((*CompiledExpression::CompileUnaryTests(t))->constant_tests(), nullptr) << t;
  }
}

TEST(FastPaths, VariableNamesAndConstants) {
  EXPECT_EQ(*(*CompiledExpression::Compile("Monthly Salary"))->variable_name(), "Monthly Salary");
  EXPECT_EQ((*CompiledExpression::Compile("a.b"))->variable_name(), nullptr);
  EXPECT_EQ((*CompiledExpression::Compile("abs"))->variable_name(), nullptr);  // a built-in
  EXPECT_EQ((*CompiledExpression::Compile("\"x\""))->constant_value()->DebugString(), "\"x\"");
  EXPECT_EQ((*CompiledExpression::Compile("date(\"2024-01-02\")"))->constant_value()->DebugString(),
            "2024-01-02");
  EXPECT_EQ((*CompiledExpression::Compile("-1.5"))->constant_value()->DebugString(), "-1.5");
  EXPECT_EQ((*CompiledExpression::Compile("now()"))->constant_value(), nullptr);
  EXPECT_EQ((*CompiledExpression::Compile("x + 1"))->constant_value(), nullptr);
}

TEST(SharedBudget, NestedEvaluationsDrawFromOneBudget) {
  // A host function that evaluates FEEL again (as DMN business knowledge models do).
  auto inner = *CompiledExpression::Compile("sum(for i in 1..100 return i)");
  SharedBudget budget;
  EvalOptions options;
  options.shared_budget = &budget;
  MapVariableResolver no_vars;
  auto fn =
      std::make_shared<NativeFunction>("work", std::vector<std::string>{"n"},
                                       [&](const std::vector<Value>&) -> absl::StatusOr<Value> {
                                         return Evaluate(*inner, no_vars, options);
                                       });
  MapVariableResolver vars({{"work", Value::Function(fn)}});
  auto outer = *CompiledExpression::Compile("for k in 1..50 return work(k)");
  budget.steps_left = 1'000'000;
  budget.bytes_left = 1 << 20;
  ASSERT_TRUE(Evaluate(*outer, vars, options).ok());
  const int64_t used = 1'000'000 - budget.steps_left;
  EXPECT_GT(used, 50 * 100);  // the inner loops were charged to the shared budget
  budget.steps_left = used / 2;
  budget.bytes_left = 1 << 20;
  absl::StatusOr<Value> r = Evaluate(*outer, vars, options);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Java, ExternalFunctions) {
  EXPECT_EQ(S("(function(a, b) external {java: {class: \"java.lang.Math\", "
              "method signature: \"max(double, double)\"}})(3, 7.5)"),
            "7.5");
  EXPECT_EQ(S("(function(a) external {java: {class: \"java.lang.Math\", "
              "method signature: \"cos(double)\"}})(0)"),
            "1");
  EXPECT_EQ(S("(function(s) external {java: {class: \"java.lang.Integer\", "
              "method signature: \"valueOf(java.lang.String)\"}})(\"123\")"),
            "123");
  EXPECT_EQ(S("(function(s) external {java: {class: \"java.lang.Integer\", "
              "method signature: \"valueOf(java.lang.String)\"}})(\"1.5\")"),
            "null");
  EXPECT_EQ(S("(function(f, a) external {java: {class: \"java.lang.String\", "
              "method signature: \"format(java.lang.String, [Ljava.lang.Object;)\"}})"
              "(\"%s-%d\", [\"a\", 7])"),
            "\"a-7\"");
  EXPECT_EQ(S("(function(c) external {java: {class: \"java.lang.String\", "
              "method signature: \"valueOf(char)\"}})(\"ab\")"),
            "null");
  // Unknown classes and methods: the definition is null (no JVM to load them from).
  EXPECT_EQ(S("function(a) external {java: {class: \"com.acme.Rules\", "
              "method signature: \"rate(double)\"}}"),
            "null");
  EXPECT_EQ(S("function(a) external {java: {class: \"java.lang.Math\", "
              "method signature: \"foo(double)\"}}"),
            "null");
  EXPECT_EQ(MakeJavaFunction("java.lang.Math", "max(int, int)", {"a"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DmnConversions, SingletonListsAndBuiltins) {
  EXPECT_EQ(S("upper case([\"bob\"])"), "\"BOB\"");
  EXPECT_EQ(S("list replace(1, 1, 5)"), "[5]");
  EXPECT_EQ(S("context merge(contexts: {a: 1})"), "{a:1}");
  EXPECT_EQ(S("count(\"a\")"), "1");
  // Built-ins are values when named.
  EXPECT_EQ(S("(function(f) f(-4))(abs)"), "4");
  EXPECT_EQ(S("sort([3, 1, 2], function(a, b) a < b)"), "[1, 2, 3]");
}

TEST(DmnLiterals, ExponentsPointRangesAndDateLoops) {
  EXPECT_EQ(S("1.23e4"), "12300");
  EXPECT_EQ(S("1.23E-2"), "0.0123");
  EXPECT_EQ(S("12300 = 1.23e+4"), "true");
  EXPECT_EQ(S("(=10).start included"), "true");
  EXPECT_EQ(S("(=10) = [10..10]"), "true");
  EXPECT_EQ(S("for d in @\"2024-02-28\"..@\"2024-03-01\" return d"),
            "[2024-02-28, 2024-02-29, 2024-03-01]");
  EXPECT_EQ(S("for d in @\"2024-01-02\"..@\"2024-01-01\" return d"), "[2024-01-02, 2024-01-01]");
  EXPECT_EQ(S("for i in [2..1] return i"), "null");
  EXPECT_EQ(S("for i in 2..1 return i"), "[2, 1]");
}

TEST(Regex, XPathFeaturesRewrittenForRe2) {
  // Character-class subtraction.
  EXPECT_EQ(S("matches(\"x\", \"[A-Z-[OI]]\", \"i\")"), "true");
  EXPECT_EQ(S("matches(\"O\", \"^[A-Z-[OI]]$\")"), "false");
  EXPECT_EQ(S("matches(\"P\", \"^[A-Z-[OI]]$\")"), "true");
  EXPECT_EQ(S("matches(\"e\", \"^[a-z-[aeiou]]$\")"), "false");
  EXPECT_EQ(S("matches(\"b\", \"^[a-z-[aeiou-[e]]]$\")"), "true");
  // Unicode block escapes, also spread out under the x flag.
  EXPECT_EQ(S("matches(\"hello world\", \"^\\p{IsBasicLatin}+$\")"), "true");
  EXPECT_EQ(S("matches(\"h\u00e9\", \"^\\p{IsBasicLatin}+$\")"), "false");
  EXPECT_EQ(S("matches(\"\u00e9\", \"^[\\p{IsLatin-1Supplement}]$\")"), "true");
  EXPECT_EQ(S("matches(\"abc\", \"\\p{ I s B a s i c L a t i n }+\", \"x\")"), "true");
  // \0 is not XPath: the pattern is invalid, so the result is null.
  EXPECT_EQ(S("matches(\"abcd\", \"1[asd\\0]\")"), "null");
}

TEST(Ranges, OverlapsBeforeAndAfterAtEqualEnds) {
  EXPECT_EQ(S("overlaps before([1..5], (1..5])"), "true");
  EXPECT_EQ(S("overlaps before([1..5], [1..5])"), "false");
  EXPECT_EQ(S("overlaps before([1..5), [5..8])"), "false");
  EXPECT_EQ(S("overlaps before([1..5], [5..8])"), "true");
  EXPECT_EQ(S("overlaps after((1..5], [1..5])"), "true");
  EXPECT_EQ(S("overlaps after([1..5], [1..5])"), "false");
  EXPECT_EQ(S("overlaps after([5..8], [1..5])"), "true");
}

}  // namespace
}  // namespace tern::feel
