// Bad-input rows B12-B15 of the reliability plan and the evaluation budgets. No timing
// assertions: a test that "hangs" would hit the ctest timeout instead.

#include "feel_test_util.h"

namespace tern::feel::testing {
namespace {

TEST(LimitsTest, B12HugeForLoopHitsBudget) {
  auto v = Eval("for i in 1..1000000000 return i * i");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(v.status().message().find("limit is 1000000"), std::string::npos)
      << v.status().message();
  // Within the collection limit the step budget stops it.
  auto w = Eval("for i in 1..999999 return i * i");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(w.status().message().find("step budget"), std::string::npos);
  // Nested loops multiply: still bounded by steps.
  EXPECT_EQ(Code("for i in 1..1000, j in 1..1000, k in 1..1000 return 1"),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Code("some i in 1..100000000 satisfies i < 0"), absl::StatusCode::kResourceExhausted);
  // A small loop is fine.
  EXPECT_EQ(J("count(for i in 1..1000 return i)"), "1000");
}

TEST(LimitsTest, BudgetsAreConfigurable) {
  EvalOptions tight;
  tight.max_steps = 50;
  EXPECT_EQ(Code("for i in 1..100 return i", "{}", tight), absl::StatusCode::kResourceExhausted);
  EvalOptions small;
  small.max_collection_size = 10;
  EXPECT_EQ(Code("for i in 1..11 return i", "{}", small), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(J("for i in 1..10 return i", "{}", small), "[1,2,3,4,5,6,7,8,9,10]");
  EvalOptions mem;
  mem.max_allocated_bytes = 10000;
  EXPECT_EQ(Code("for i in 1..100 return string join(for j in 1..100 return \"abc\")", "{}", mem),
            absl::StatusCode::kResourceExhausted);
}

TEST(LimitsTest, B13FilterOverManyItems) {
  std::string items = "{\"items\": [";
  for (int i = 1; i <= 5000; ++i) {
    if (i > 1) items += ",";
    items += "{\"n\": " + std::to_string(i) + "}";
  }
  items += "]}";
  EXPECT_EQ(J("count(items[n > 1500])", items), "3500");
  EXPECT_EQ(J("sum(items[n <= 1500].n)", items), "1125750");
  EXPECT_EQ(J("items[n = 4999][1].n", items), "4999");
}

TEST(LimitsTest, B14MegabyteStringLiteral) {
  std::string src = "\"" + std::string(1 << 20, 'x') + "\"";
  auto v = Eval("string length(" + src + ")");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(ValueToJson(*v), "1048576");
  // Over the collection limit: a clean error, not a crash.
  EvalOptions small;
  small.max_collection_size = 1000;
  EXPECT_EQ(Code(src + " + \"y\"", "{}", small), absl::StatusCode::kResourceExhausted);
  // Strings built by doubling are stopped by the size limit.
  EXPECT_EQ(Code("for i in 1..40 return partial[-1] + partial[-1]"), absl::StatusCode::kOk);
}

TEST(LimitsTest, B15RegexIsLinear) {
  std::string input(100000, 'a');
  input += "!";
  auto v = Eval("matches(s, \"(a+)+$\")", "{\"s\": \"" + input + "\"}");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(ValueToJson(*v), "false");
  EXPECT_EQ(J("matches(\"aaaa!\", \"(a+)+!\")"), "true");
  // Backreferences are rejected with a clear error (RE2 cannot run them).
  auto br = Eval("matches(\"aa\", \"(a)\\\\1\")");
  EXPECT_EQ(br.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(br.status().message().find("backreferences"), std::string::npos);
}

TEST(LimitsTest, DeepRecursionIsAnError) {
  // Recursion through a function passed to itself.
  auto v = Eval("{f: function(g, n) if n = 0 then 0 else 1 + g(g, n - 1), r: f(f, 100000)}.r");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(v.status().message().find("recursion"), std::string::npos) << v.status();
  EXPECT_EQ(J("{f: function(g, n) if n = 0 then 0 else 1 + g(g, n - 1), r: f(f, 50)}.r"), "50");
  auto self = Eval("{f: function(n) if n = 0 then 0 else 1 + f(n - 1), r: f(100000)}.r");
  EXPECT_EQ(self.status().code(), absl::StatusCode::kResourceExhausted);
  auto wide = Eval("{f: function(n) if n = 0 then 0 else f(n - 1) + f(n - 1), r: f(40)}.r");
  EXPECT_EQ(wide.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(LimitsTest, ExponentialStringGrowthIsBounded) {
  auto v = Eval("for i in 1..100 return string join(for j in 1..100000 return \"x\")");
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace tern::feel::testing
