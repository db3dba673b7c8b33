#include <string>

#include "feel/feel.h"
#include "gtest/gtest.h"

namespace tern::feel {
namespace {

std::string Err(std::string_view src) {
  auto e = CompiledExpression::Compile(src);
  if (e.ok()) return "OK";
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(e.status().message());
}

std::vector<std::string> Free(std::string_view src) {
  auto e = CompiledExpression::Compile(src);
  EXPECT_TRUE(e.ok()) << e.status();
  if (!e.ok()) return {};
  return (*e)->free_variables();
}

TEST(ParserTest, SyntaxErrorsNameProblemAndColumn) {
  EXPECT_EQ(Err("(1 + 2"), "FEEL syntax error: expected ')' but the expression ended at column 7");
  EXPECT_EQ(Err("f(a, b"), "FEEL syntax error: expected ')' but the expression ended at column 7");
  EXPECT_EQ(Err("1 +"),
            "FEEL syntax error: expected an expression but the expression ended at column 4");
  EXPECT_EQ(Err("1 2"), "FEEL syntax error: unexpected '2' at column 3");
  EXPECT_EQ(Err("\"abc"), "FEEL syntax error: unterminated string at column 1");
  EXPECT_EQ(Err("1 # 2"), "FEEL syntax error: unexpected character '#' at column 3");
  EXPECT_EQ(Err("if x then 1"),
            "FEEL syntax error: expected 'else' but the expression ended at column 12");
  EXPECT_EQ(Err("[1, 2"), "FEEL syntax error: expected ']' but the expression ended at column 6");
  EXPECT_EQ(Err("{a 1}"), "FEEL syntax error: expected a context key but found 'a' at column 2");
  EXPECT_EQ(Err("1 +\n  )"),
            "FEEL syntax error: expected an expression but found ')' at line 2, column 3");
  EXPECT_EQ(Err("/* open"), "FEEL syntax error: unterminated comment at column 1");
  EXPECT_EQ(Err(""),
            "FEEL syntax error: expected an expression but the expression ended at column 1");
  EXPECT_EQ(Err("and"), "FEEL syntax error: unexpected 'and' at column 1");
  EXPECT_EQ(Err("1 = 2 = 3"), "FEEL syntax error: unexpected '=' at column 7");
}

TEST(ParserTest, AcceptsWholeGrammar) {
  for (const char* ok : {
           "a.b.c",
           "a[1]",
           "a[item > 1]",
           "x in (1..5)",
           "x between 1 and 2",
           "not(x)",
           "for i in 1..3, j in [1] return i",
           "some x in l satisfies x",
           "function(a) a",
           "x instance of list<number>",
           "date and time(\"2024-01-01T00:00:00\")",
           "get or else(x, 1)",
           "years and months duration(a, b)",
           "`weird name`",
           "{\"a b\": 1}.`a b`",
           "[1..5)",
           "]1..5[",
           "< 5",
           "@\"P1D\"",
           "?",
           "- - 1",
           "f(a: 1, b: 2)",
           "x.time offset",
           "a.b(1)",
           "(function(x) x)(1)",
           "every x in [1], y in [2] satisfies x < y",
           "x[1].y[2].z",
           "and([true])",
       }) {
    EXPECT_EQ(Err(ok), "OK") << ok;
  }
}

TEST(ParserTest, FreeVariables) {
  EXPECT_EQ(Free("amount < 10000 and status = \"new\""),
            (std::vector<std::string>{"amount", "status"}));
  EXPECT_EQ(Free("a.b.c + a.d"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(Free("for i in items return i * factor"),
            (std::vector<std::string>{"items", "factor"}));
  EXPECT_EQ(Free("function(x) x + y"), (std::vector<std::string>{"y"}));
  EXPECT_EQ(Free("{a: 1, b: a + c}"), (std::vector<std::string>{"c"}));
  EXPECT_EQ(Free("count(list)"), (std::vector<std::string>{"list"}));
  EXPECT_EQ(Free("Monthly Salary * 12"), (std::vector<std::string>{"Monthly Salary"}));
  EXPECT_EQ(Free("l[x > limit]"), (std::vector<std::string>{"l", "x", "limit"}));
  EXPECT_EQ(Free("1 + 2"), (std::vector<std::string>{}));
}

TEST(ParserTest, LargeExpressionsCompile) {
  // Many nodes, many distinct variables and a big context literal: the parser stays linear.
  std::string list = "count([";
  for (int i = 0; i < 200000; ++i) list += i ? ",1" : "1";
  list += "])";
  EXPECT_EQ(Err(list), "OK");
  std::string vars = "0";
  for (int i = 0; i < 20000; ++i) vars += " + v" + std::to_string(i);
  EXPECT_EQ(Free(vars).size(), 20000u);
  std::string ctx = "{k0: 0";
  for (int i = 1; i < 20000; ++i) ctx += ", k" + std::to_string(i) + ": k" + std::to_string(i - 1);
  ctx += "}";
  EXPECT_EQ(Err(ctx), "OK");
  EXPECT_TRUE(Free(ctx).empty());
}

TEST(ParserTest, KnownNamesWithSymbolsAndKeywords) {
  CompileOptions opts;
  opts.known_names = {"Date-Time", "values in a list", "a+b", "Applicant's Age", "values"};
  auto e = CompiledExpression::Compile(
      "every i in values in a list satisfies i < Date-Time + a+b + Applicant's Age", opts);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->free_variables(),
            (std::vector<std::string>{"values in a list", "Date-Time", "a+b", "Applicant's Age"}));
  MapVariableResolver vars({{"values in a list", Value::List({Value::Number(1), Value::Number(2)})},
                            {"Date-Time", Value::Number(1)},
                            {"a+b", Value::Number(1)},
                            {"Applicant's Age", Value::Number(1)}});
  auto v = Evaluate(**e, vars, {});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Value::Bool(true));
  // Without the option the same text means something else (or fails to parse).
  auto plain = CompiledExpression::Compile("Date-Time");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->free_variables(), (std::vector<std::string>{"Date", "Time"}));
  // Known names are whole words: "values" does not match inside "valuesX".
  auto w = CompiledExpression::Compile("valuesX + values", opts);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->free_variables(), (std::vector<std::string>{"valuesX", "values"}));
  auto t = CompiledExpression::CompileUnaryTests("< Date-Time", opts);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->free_variables(), (std::vector<std::string>{"Date-Time"}));
}

TEST(ParserTest, SourceIsKept) {
  auto e = CompiledExpression::Compile("x + 1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->source(), "x + 1");
  EXPECT_FALSE((*e)->is_unary_tests());
}

TEST(ParserTest, NestingLimitIsAnError) {
  std::string deep(300, '(');
  deep += "1";
  deep += std::string(300, ')');
  std::string msg = Err(deep);
  EXPECT_NE(msg.find("nested too deeply"), std::string::npos) << msg;
  std::string deep_list(10000, '[');
  EXPECT_NE(Err(deep_list).find("nested too deeply"), std::string::npos);
  std::string negs(100000, '-');
  negs += "1";
  EXPECT_NE(Err(negs).find("nested too deeply"), std::string::npos);
  std::string path = "a";
  for (int i = 0; i < 1000; ++i) path += ".b";
  EXPECT_NE(Err(path).find("nested too deeply"), std::string::npos);
  // Long flat chains are fine: they are n-ary nodes, not deep trees.
  std::string sum = "1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  EXPECT_EQ(Err(sum), "OK");
}

}  // namespace
}  // namespace tern::feel
