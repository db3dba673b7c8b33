// Operators and language constructs (phase 1 and the full grammar).

#include "feel_test_util.h"

namespace tern::feel::testing {
namespace {

TEST(LiteralTest, Basics) {
  EXPECT_EQ(J("1"), "1");
  EXPECT_EQ(J("-2.50"), "-2.5");
  EXPECT_EQ(J(".5"), "0.5");
  EXPECT_EQ(J("\"a\\nb\\\"c\\u00e9\\\\\""), "\"a\\nb\\\"c\xc3\xa9\\\\\"");
  EXPECT_EQ(J("\"\\uD83D\\uDE00\""), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(J("\"\\d+\""), "\"\\\\d+\"");  // unknown escapes kept for regexes
  EXPECT_EQ(J("true"), "true");
  EXPECT_EQ(J("false"), "false");
  EXPECT_EQ(J("null"), "null");
  EXPECT_EQ(J("[1, \"a\", [true]]"), "[1,\"a\",[true]]");
  EXPECT_EQ(J("[]"), "[]");
  EXPECT_EQ(J("{a: 1, \"b c\": 2, d e: 3}"), "{\"a\":1,\"b c\":2,\"d e\":3}");
  EXPECT_EQ(J("{}"), "{}");
  EXPECT_EQ(J("{a: 1, b: a + 1}"), "{\"a\":1,\"b\":2}");
  EXPECT_EQ(J("{foo-bar: 1}"), "{\"foo-bar\":1}");
  EXPECT_EQ(J("{foo   bar: 2}.`foo   bar`"), "2");
  EXPECT_EQ(J("{a: 1, a: 2}"), "null");  // duplicate keys (DMN)
  EXPECT_EQ(J("@\"not a date\""), "null");
  EXPECT_EQ(J("\"\\U01F40E\" = \"\xF0\x9F\x90\x8E\""), "true");
  EXPECT_EQ(J("string length(\"\\U01F40E\")"), "1");
  EXPECT_EQ(J("@\"2021-01-01T24:00:00\""), "\"2021-01-02T00:00:00\"");
}

TEST(VariableTest, LookupAndMissing) {
  EXPECT_EQ(J("x", R"({"x": 5})"), "5");
  EXPECT_EQ(J("missing"), "null");
  EXPECT_EQ(J("missing.deeper.still"), "null");
  EXPECT_EQ(J("a.b.c", R"({"a": {"b": {"c": 7}}})"), "7");
  EXPECT_EQ(J("a.x", R"({"a": {"b": 1}})"), "null");
  EXPECT_EQ(J("first name", R"({"first name": "Ann"})"), "\"Ann\"");
  EXPECT_EQ(J("`a-b` + 1", R"({"a-b": 1})"), "2");
  EXPECT_EQ(J("order's total", R"({"order's total": 3})"), "3");
  EXPECT_EQ(J("items.price", R"({"items": [{"price": 1}, {"price": 2}, {}]})"), "[1,2,null]");
}

TEST(IndexTest, OneBasedAndNegative) {
  const char* v = R"({"l": [10, 20, 30]})";
  EXPECT_EQ(J("l[1]", v), "10");
  EXPECT_EQ(J("l[3]", v), "30");
  EXPECT_EQ(J("l[-1]", v), "30");
  EXPECT_EQ(J("l[-3]", v), "10");
  EXPECT_EQ(J("l[0]", v), "null");
  EXPECT_EQ(J("l[4]", v), "null");
  EXPECT_EQ(J("l[-4]", v), "null");
  EXPECT_EQ(J("l[i]", R"({"l": [10, 20, 30], "i": 2})"), "20");
  EXPECT_EQ(J("[[1,2],[3,4]][2][1]"), "3");
  EXPECT_EQ(J("null[1]"), "null");
  EXPECT_EQ(J("5[1]"), "5");
}

TEST(FilterTest, BooleanFilters) {
  EXPECT_EQ(J("[1,2,3,4,5][item > 3]"), "[4,5]");
  EXPECT_EQ(J("l[item > 3]", R"({"l": [5, 1, 9]})"), "[5,9]");
  const char* orders = R"({"orders": [{"id": 1, "x": 2}, {"id": 2, "x": 5}, {"id": 3, "x": 7}]})";
  EXPECT_EQ(J("orders[x > 3].id", orders), "[2,3]");
  EXPECT_EQ(J("orders[item.x > 3].id", orders), "[2,3]");
  EXPECT_EQ(J("orders[x > limit].id", R"({"orders": [{"x": 2}, {"x": 5}], "limit": 3})"), "[null]");
  EXPECT_EQ(
      J("orders[x > limit]", R"({"orders": [{"x": 2, "id": 1}, {"x": 5, "id": 2}], "limit": 3})"),
      "[{\"x\":5,\"id\":2}]");
  EXPECT_EQ(J("[1, \"a\", 3][item > 1]"), "[3]");  // non-comparable items drop out
  EXPECT_EQ(J("[][item > 1]"), "[]");
  EXPECT_EQ(J("[{a: 1}, {a: 2}][a = 2][1].a"), "2");
  EXPECT_EQ(J("[{item: 1}, {item: 2}][item >= 2]"), "[{\"item\":2}]");
}

TEST(ArithmeticTest, NumbersAndNulls) {
  EXPECT_EQ(J("1 + 2 * 3"), "7");
  EXPECT_EQ(J("(1 + 2) * 3"), "9");
  EXPECT_EQ(J("0.1 + 0.2"), "0.3");
  EXPECT_EQ(J("0.1 + 0.2 = 0.3"), "true");
  EXPECT_EQ(J("10 / 4"), "2.5");
  EXPECT_EQ(J("1 / 3 * 3"), "0.9999999999999999999999999999999999");
  EXPECT_EQ(J("7 - 2 - 1"), "4");
  EXPECT_EQ(J("2 ** 3"), "8");
  EXPECT_EQ(J("2 ** 3 ** 2"), "64");  // left-associative like feel-scala
  EXPECT_EQ(J("-2 ** 2"), "4");
  EXPECT_EQ(J("2 ** -1"), "0.5");
  EXPECT_EQ(J("4 ** 0.5"), "2");
  EXPECT_EQ(J("-x", R"({"x": 3})"), "-3");
  EXPECT_EQ(J("- -3"), "3");
  EXPECT_EQ(J("1 / 0"), "null");
  EXPECT_EQ(J("1 + null"), "null");
  EXPECT_EQ(J("null * 2"), "null");
  EXPECT_EQ(J("1 + \"a\""), "null");
  EXPECT_EQ(J("-\"a\""), "null");
  EXPECT_EQ(J("1 - missing"), "null");
  EXPECT_EQ(J("\"foo\" + \"bar\""), "\"foobar\"");
  EXPECT_EQ(J("\"a\" - \"b\""), "null");
  EXPECT_EQ(J("10 ** 10000"), "null");  // overflow is null, not infinity
}

TEST(ComparisonTest, AllOperators) {
  EXPECT_EQ(J("1 = 1"), "true");
  EXPECT_EQ(J("1 = 1.0"), "true");
  EXPECT_EQ(J("1 != 2"), "true");
  EXPECT_EQ(J("1 < 2"), "true");
  EXPECT_EQ(J("2 <= 2"), "true");
  EXPECT_EQ(J("3 > 2"), "true");
  EXPECT_EQ(J("2 >= 3"), "false");
  EXPECT_EQ(J("\"a\" < \"b\""), "true");
  EXPECT_EQ(J("\"a\" = \"a\""), "true");
  EXPECT_EQ(J("null = null"), "true");
  EXPECT_EQ(J("null = 1"), "false");
  EXPECT_EQ(J("null != 1"), "true");
  EXPECT_EQ(J("1 = \"1\""), "null");
  EXPECT_EQ(J("1 < \"1\""), "null");
  EXPECT_EQ(J("null < 1"), "null");
  EXPECT_EQ(J("true < false"), "null");
  EXPECT_EQ(J("true = true"), "true");
  EXPECT_EQ(J("[1,2] = [1,2]"), "true");
  EXPECT_EQ(J("[1,2] = [1,3]"), "false");
  EXPECT_EQ(J("{a: 1, b: 2} = {b: 2, a: 1}"), "true");
  EXPECT_EQ(J("{a: 1} = {a: 2}"), "false");
  EXPECT_EQ(J("x = 5", R"({"x": 5.0})"), "true");
}

TEST(LogicTest, ThreeValued) {
  EXPECT_EQ(J("true and true"), "true");
  EXPECT_EQ(J("true and false"), "false");
  EXPECT_EQ(J("false and null"), "false");
  EXPECT_EQ(J("null and false"), "false");
  EXPECT_EQ(J("true and null"), "null");
  EXPECT_EQ(J("true and 1"), "null");
  EXPECT_EQ(J("true or null"), "true");
  EXPECT_EQ(J("null or true"), "true");
  EXPECT_EQ(J("false or null"), "null");
  EXPECT_EQ(J("false or false"), "false");
  EXPECT_EQ(J("not(true)"), "false");
  EXPECT_EQ(J("not(null)"), "null");
  EXPECT_EQ(J("not(1)"), "null");
  EXPECT_EQ(J("amount < 10000 and status = \"new\"", R"({"amount": 500, "status": "new"})"),
            "true");
  EXPECT_EQ(J("a > 1 or b > 1 or c > 1", R"({"a": 0, "b": 0, "c": 2})"), "true");
}

TEST(ControlTest, IfThenElse) {
  EXPECT_EQ(J("if true then 1 else 2"), "1");
  EXPECT_EQ(J("if false then 1 else 2"), "2");
  EXPECT_EQ(J("if null then 1 else 2"), "2");
  EXPECT_EQ(J("if 5 then 1 else 2"), "2");
  EXPECT_EQ(J("if x > 5 then \"big\" else \"small\"", R"({"x": 7})"), "\"big\"");
  EXPECT_EQ(J("1 + (if true then 1 else 2)"), "2");
}

TEST(InTest, ListsRangesAndValues) {
  EXPECT_EQ(J("3 in (1..5)"), "true");
  EXPECT_EQ(J("1 in (1..5)"), "false");  // (1..5) is open at both ends
  EXPECT_EQ(J("1 in [1..5]"), "true");
  EXPECT_EQ(J("5 in [1..5)"), "false");
  EXPECT_EQ(J("5 in ]1..5]"), "true");
  EXPECT_EQ(J("2 in [1,2]"), "true");
  EXPECT_EQ(J("3 in [1,2]"), "false");
  EXPECT_EQ(J("1 in 1"), "true");
  EXPECT_EQ(J("1 in 2"), "false");
  EXPECT_EQ(J("1 in (1, 2)"), "true");
  EXPECT_EQ(J("7 in (< 5, > 6)"), "true");
  EXPECT_EQ(J("5 in < 5"), "false");
  EXPECT_EQ(J("5 in <= 5"), "true");
  EXPECT_EQ(J("\"b\" in [\"a\"..\"c\"]"), "true");
  EXPECT_EQ(J("null in [1..5]"), "null");
  EXPECT_EQ(J("x in [1..5] and true", R"({"x": 3})"), "true");
  EXPECT_EQ(J("5 in (? > 3)"), "true");
  EXPECT_EQ(J("x in r", R"({"x": 3, "r": [1, 3]})"), "true");
  EXPECT_EQ(J("10 in =10"), "true");
  EXPECT_EQ(J("5 in ? < 10"), "true");
  EXPECT_EQ(J("5 in ? < 3"), "false");
  EXPECT_EQ(J("5 in (null..10]"), "null");
  EXPECT_EQ(J("5 in [1..null]"), "null");
  EXPECT_EQ(J("10 in (!=10)"), "false");
  EXPECT_EQ(J("10 in (=9, =10)"), "true");
}

TEST(BetweenTest, Inclusive) {
  EXPECT_EQ(J("5 between 1 and 10"), "true");
  EXPECT_EQ(J("1 between 1 and 10"), "true");
  EXPECT_EQ(J("10 between 1 and 10"), "true");
  EXPECT_EQ(J("11 between 1 and 10"), "false");
  EXPECT_EQ(J("\"b\" between \"a\" and \"c\""), "true");
  EXPECT_EQ(J("null between 1 and 10"), "null");
  EXPECT_EQ(J("0 between 1 and null"), "false");
}

TEST(ForTest, Iteration) {
  EXPECT_EQ(J("for i in [1,2,3] return i * 2"), "[2,4,6]");
  EXPECT_EQ(J("for i in 1..3 return i"), "[1,2,3]");
  EXPECT_EQ(J("for i in 3..1 return i"), "[3,2,1]");
  EXPECT_EQ(J("for i in [1,2], j in [10,20] return i + j"), "[11,21,12,22]");
  EXPECT_EQ(J("for i in 1..3, j in 1..i return j"), "[1,1,2,1,2,3]");
  EXPECT_EQ(J("for x in [] return x"), "[]");
  EXPECT_EQ(J("for x in null return x"), "null");
  EXPECT_EQ(J("for i in 1..5 return if i = 1 then 1 else i * partial[-1]"), "[1,2,6,24,120]");
  EXPECT_EQ(J("for o in orders return o.id", R"({"orders": [{"id": "a"}, {"id": "b"}]})"),
            "[\"a\",\"b\"]");
  EXPECT_EQ(J("for i in [1..3] return i"), "[1,2,3]");
}

TEST(QuantifierTest, SomeEvery) {
  EXPECT_EQ(J("some x in [1,2,3] satisfies x > 2"), "true");
  EXPECT_EQ(J("some x in [1,2,3] satisfies x > 3"), "false");
  EXPECT_EQ(J("every x in [1,2,3] satisfies x > 0"), "true");
  EXPECT_EQ(J("every x in [1,2,3] satisfies x > 1"), "false");
  EXPECT_EQ(J("every x in [] satisfies x > 1"), "true");
  EXPECT_EQ(J("some x in [] satisfies x > 1"), "false");
  EXPECT_EQ(J("some x in [1, null] satisfies x > 1"), "null");
  EXPECT_EQ(J("some x in [1,2], y in [2,3] satisfies x + y = 5"), "true");
  EXPECT_EQ(J("every x in [1,2], y in [2,3] satisfies x < y"), "false");
}

TEST(FunctionTest, DefinitionsAndCalls) {
  EXPECT_EQ(J("(function(a, b) a + b)(1, 2)"), "3");
  EXPECT_EQ(J("{f: function(a, b) a - b, r: f(5, 3)}.r"), "2");
  EXPECT_EQ(J("{f: function(a, b) a - b, r: f(b: 5, a: 3)}.r"), "-2");
  EXPECT_EQ(J("{y: 10, f: function(x) x + y, r: f(1)}.r"), "11");
  EXPECT_EQ(J("{f: function(x: number) x * 2}.f(4)"), "8");
  EXPECT_EQ(J("{f: function(x) x}.f(1, 2)"), "null");  // wrong arity
  EXPECT_EQ(J("no such fn(1)"), "null");
  EXPECT_EQ(J("sort([3,1,2], function(x, y) x > y)"), "[3,2,1]");
  EXPECT_EQ(J("{g: function(f) f(2), r: g(function(x) x * 3)}.r"), "6");
  EXPECT_EQ(J("{fact: function(n) if n <= 1 then 1 else n * fact(n - 1), r: fact(5)}.r"), "120");
  EXPECT_EQ(J("{fib: function(n) if n < 2 then n else fib(n - 1) + fib(n - 2)}.fib(15)"), "610");
  EXPECT_EQ(J("substring(string: \"hello\", start position: 2)"), "\"ello\"");
  EXPECT_EQ(J("get or else(default: 1, value: null)"), "1");
}

TEST(InstanceOfTest, Types) {
  EXPECT_EQ(J("1 instance of number"), "true");
  EXPECT_EQ(J("\"a\" instance of string"), "true");
  EXPECT_EQ(J("true instance of boolean"), "true");
  EXPECT_EQ(J("null instance of number"), "false");
  EXPECT_EQ(J("[1] instance of list"), "true");
  EXPECT_EQ(J("[1] instance of list<number>"), "true");
  EXPECT_EQ(J("[\"a\"] instance of list<number>"), "false");
  EXPECT_EQ(J("{a: 1} instance of context"), "true");
  EXPECT_EQ(J("{a: 1} instance of context<a: number>"), "true");
  EXPECT_EQ(J("@\"2024-01-01\" instance of date"), "true");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00\" instance of date and time"), "true");
  EXPECT_EQ(J("@\"P1D\" instance of days and time duration"), "true");
  EXPECT_EQ(J("@\"P1Y\" instance of years and months duration"), "true");
  EXPECT_EQ(J("(function(x) x) instance of function"), "true");
  EXPECT_EQ(J("[1..2] instance of range"), "true");
  EXPECT_EQ(J("1 instance of Any"), "true");
  EXPECT_EQ(J("\"1\" instance of number"), "false");
}

TEST(RangeTest, Values) {
  EXPECT_EQ(S("[1..5)"), "[1..5)");
  EXPECT_EQ(S("< 5"), "< 5");
  EXPECT_EQ(J("[1..5].start"), "1");
  EXPECT_EQ(J("[1..5).end included"), "false");
  EXPECT_EQ(J("(1..5].start included"), "false");
  EXPECT_EQ(J("[1..\"a\"]"), "null");
  EXPECT_EQ(J("[1..5] = [1..5]"), "true");
}

TEST(CommentTest, LineAndBlock) {
  EXPECT_EQ(J("1 + // one\n 2"), "3");
  EXPECT_EQ(J("1 /* two */ + 2"), "3");
  EXPECT_EQ(J("/* a */ [1, /* b */ 2] // end"), "[1,2]");
}

TEST(UnaryTestsTest, DecisionTableEntries) {
  EXPECT_EQ(T("-", "5"), "true");
  EXPECT_EQ(T("5", "5"), "true");
  EXPECT_EQ(T("5", "6"), "false");
  EXPECT_EQ(T("\"a\", \"b\"", "\"b\""), "true");
  EXPECT_EQ(T("\"a\", \"b\"", "\"c\""), "false");
  EXPECT_EQ(T("< 5", "4"), "true");
  EXPECT_EQ(T("< 5", "5"), "false");
  EXPECT_EQ(T(">= 5", "5"), "true");
  EXPECT_EQ(T("[1..3]", "3"), "true");
  EXPECT_EQ(T("(1..3)", "3"), "false");
  EXPECT_EQ(T("not(1, 2)", "3"), "true");
  EXPECT_EQ(T("not(1, 2)", "2"), "false");
  EXPECT_EQ(T("? > 3", "4"), "true");
  EXPECT_EQ(T("? > 3", "2"), "false");
  EXPECT_EQ(T("count(?) = 2", "[1, 2]"), "true");
  EXPECT_EQ(T("x", "7", R"({"x": 7})"), "true");
  EXPECT_EQ(T("true", "true"), "true");
  EXPECT_EQ(T("false", "true"), "false");
  EXPECT_EQ(T("< 5", "\"a\""), "null");
  EXPECT_EQ(T("[1,2,3]", "2"), "true");
  EXPECT_EQ(T("null", "null"), "true");
  EXPECT_EQ(T("= 5", "5"), "true");
  EXPECT_EQ(T("!= 5", "5"), "false");
  EXPECT_EQ(T("!= 5, 6", "6"), "true");
}

}  // namespace
}  // namespace tern::feel::testing

namespace tern::feel::testing {
namespace {

TEST(NativeFunctionTest, CallableFromFeelAndFailuresPropagate) {
  auto twice = std::make_shared<NativeFunction>(
      "twice", std::vector<std::string>{"x"},
      [](const std::vector<Value>& args) -> absl::StatusOr<Value> {
        if (!args[0].is_number()) return Value();
        return Value::Number(*args[0].as_number().Mul(Decimal::FromInt64(2)));
      });
  auto failing = std::make_shared<NativeFunction>(
      "boom", std::vector<std::string>{}, [](const std::vector<Value>&) -> absl::StatusOr<Value> {
        return absl::UnavailableError("backend down");
      });
  MapVariableResolver vars({{"twice", Value::Function(twice)}, {"boom", Value::Function(failing)}});
  auto eval = [&](const char* src) -> std::string {
    auto e = CompiledExpression::Compile(src);
    if (!e.ok()) return e.status().ToString();
    auto v = Evaluate(**e, vars, {});
    if (!v.ok()) return v.status().ToString();
    return ValueToJson(*v);
  };
  EXPECT_EQ(eval("twice(21)"), "42");
  EXPECT_EQ(eval("twice(x: 4)"), "8");
  EXPECT_EQ(eval("twice(1, 2)"), "null");  // wrong arity
  EXPECT_EQ(eval("for i in [1, 2] return twice(i)"), "[2,4]");
  EXPECT_EQ(eval("sort([3, 1, 2], function(a, b) twice(a) < twice(b))"), "[1,2,3]");
  EXPECT_EQ(eval("boom()"), "UNAVAILABLE: backend down");
  auto direct = InvokeFunction(Value::Function(twice), {Value::Number(5)}, {});
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(ValueToJson(*direct), "10");
  // A lambda returned by one evaluation can be invoked later.
  auto lambda = CompiledExpression::Compile("function(a, b) a * b + k");
  ASSERT_TRUE(lambda.ok());
  MapVariableResolver k({{"k", Value::Number(1)}});
  auto fn = Evaluate(**lambda, k, {});
  ASSERT_TRUE(fn.ok());
  auto r = InvokeFunction(*fn, {Value::Number(2), Value::Number(3)}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ValueToJson(*r), "7");  // `k` was captured when the lambda was created
}

}  // namespace
}  // namespace tern::feel::testing

namespace tern::feel::testing {
namespace {

std::vector<std::string> Warnings(const char* src, const char* vars_json = "{}") {
  auto e = CompiledExpression::Compile(src);
  EXPECT_TRUE(e.ok()) << src;
  auto vars = ValueFromJson(vars_json);
  ContextVariableResolver resolver(*vars);
  std::vector<std::string> warnings;
  auto v = Evaluate(**e, resolver, {}, &warnings);
  EXPECT_TRUE(v.ok());
  return warnings;
}

TEST(WarningsTest, ExplainNullResults) {
  EXPECT_EQ(Warnings("x > 5"), (std::vector<std::string>{"No variable found with name 'x'",
                                                         "Can't compare 'null' with '5'"}));
  EXPECT_EQ(Warnings("1 + \"a\""),
            (std::vector<std::string>{"Can't apply '+' to '1' and '\"a\"'"}));
  EXPECT_EQ(Warnings("a.b", R"({"a": {"c": 1}})"),
            (std::vector<std::string>{"No context entry found with key 'b'"}));
  EXPECT_EQ(Warnings("foo(1)"),
            (std::vector<std::string>{"No variable found with name 'foo'",
                                      "No function found with name 'foo' and 1 parameters"}));
  EXPECT_EQ(Warnings("count(1, 2)"),
            (std::vector<std::string>{"No function found with name 'count' and 2 parameters"}));
  EXPECT_EQ(Warnings("upper case(5)"),
            (std::vector<std::string>{"Function 'upper case' returned null for arguments (5)"}));
  EXPECT_TRUE(Warnings("x + 1", R"({"x": 1})").empty());
  EXPECT_EQ(Warnings("for i in 1..100 return missing").size(), 1u);  // each name reported once
}

}  // namespace
}  // namespace tern::feel::testing
