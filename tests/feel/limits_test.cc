// Bad-input rows B12-B15 of the reliability plan and the evaluation budgets. No timing
// assertions: a test that "hangs" would hit the ctest timeout instead.

#include <fstream>
#include <string>

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

// Peak resident set size of this process (VmHWM), in KiB; 0 when /proc is not readable.
int64_t PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

std::string Vars(std::string_view name, std::string_view value) {
  return "{\"" + std::string(name) + "\": \"" + std::string(value) + "\"}";
}

bool Mentions(const absl::Status& status, const std::string& text) {
  return std::string(status.message()).find(text) != std::string::npos;
}

// The hostile-review case: replace() built its whole result (10 GB for a 100 kB input) before
// checking its size. Now each piece is checked before it is appended.
TEST(MemoryLimitsTest, ReplaceStopsBeforeBuildingAHugeString) {
  const std::string vars = Vars("s", std::string(100'000, 'a'));
  const int64_t peak_before = PeakRssKib();
  auto v = Eval("string length(replace(s, \"a\", s))", vars);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted) << v.status();
  EXPECT_TRUE(Mentions(v.status(), "FEEL collection size limit")) << v.status();
  // Groups in the replacement are counted before they are copied.
  auto g = Eval("replace(s, \"(a+)\", \"$1$1$1$1$1$1$1$1$1$1$1$1\")", vars);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted) << g.status();
  // The memory budget is shared by the whole evaluation: two results that each fit the
  // collection limit but not the budget together.
  EvalOptions small;
  small.max_allocated_bytes = 300'000;
  auto b = Eval("[replace(s, \"a\", \"bb\"), replace(s, \"a\", \"cc\")]", vars, small);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted) << b.status();
  EXPECT_TRUE(Mentions(b.status(), "FEEL memory limit")) << b.status();
  // Memory stayed bounded: far from the gigabytes the unchecked version needed.
  const int64_t peak_after = PeakRssKib();
  if (peak_before > 0) {
    EXPECT_LT(peak_after - peak_before, 256 * 1024);
  }
  // Ordinary replacements are unchanged, empty matches included (as RE2::GlobalReplace).
  EXPECT_EQ(J("replace(\"abc\", \"\", \"-\")"), "\"-a-b-c-\"");
  EXPECT_EQ(J("replace(\"aaa\", \"a*\", \"x\")"), "\"x\"");
  EXPECT_EQ(J("replace(\"abab\", \"b\", \"$0$0\")"), "\"abbabb\"");
  EXPECT_EQ(J("replace(\"héllo wörld\", \"o\", \"0\")"), "\"héll0 wörld\"");
  EXPECT_EQ(J("replace(\"héé\", \"x*\", \"-\")"), "\"-h-é-é-\"");
  EXPECT_EQ(J("string length(replace(s, \"a\", \"bb\"))", Vars("s", std::string(1000, 'a'))),
            "2000");
}

TEST(MemoryLimitsTest, StringBuildingIsCheckedFirst) {
  EvalOptions small;
  small.max_collection_size = 1000;
  const std::string vars = Vars("s", std::string(600, 'x'));
  auto concat = Eval("s + s", vars, small);
  EXPECT_EQ(concat.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Mentions(concat.status(), "1200 elements; the limit is 1000")) << concat.status();
  EXPECT_EQ(Code("string join([s, s])", vars, small), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Code("string join([s], \"\", s, s)", vars, small),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Code("to base64(s + substring(s, 1, 200))", vars, small),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Code("upper case(s + \"y\")", vars, small), absl::StatusCode::kOk);
  EXPECT_EQ(J("string length(substring(s, 2))", vars, small), "599");
  // A list sharing one string many times is small in memory but not as text: string() and
  // to json() stop at the limit instead of building it all.
  const std::string big = Vars("s", std::string(100'000, 'x'));
  auto str = Eval("string length(string(for i in 1..100 return s))", big);
  EXPECT_EQ(str.status().code(), absl::StatusCode::kResourceExhausted) << str.status();
  EXPECT_EQ(Code("string length(to json(for i in 1..100 return s))", big),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(J("string length(to json(for i in 1..5 return s))", big), "500016");
  // So is a result the host would turn into text: 100 x 1 MB is over the 64 MiB budget.
  const std::string mega = Vars("s", std::string(1'000'000, 'x'));
  auto result = Eval("for i in 1..100 return s", mega);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Mentions(result.status(), "FEEL memory limit")) << result.status();
  EXPECT_EQ(J("count(for i in 1..100 return s)", mega), "100");
  // Messages quoting values are cut short.
  std::vector<std::string> warnings;
  auto expr = CompiledExpression::Compile("s + 1");
  ASSERT_TRUE(expr.ok());
  auto vars_value = ValueFromJson(mega);
  ASSERT_TRUE(vars_value.ok());
  ContextVariableResolver resolver(*vars_value);
  ASSERT_TRUE(Evaluate(**expr, resolver, {}, &warnings).ok());
  ASSERT_FALSE(warnings.empty());
  EXPECT_LT(warnings[0].size(), 4096u);
}

TEST(MemoryLimitsTest, ListBuildingIsCheckedFirst) {
  EvalOptions small;
  small.max_collection_size = 100;
  const std::string vars = "{\"l\": [" + [] {
    std::string items;
    for (int i = 1; i <= 60; ++i) items += (i > 1 ? "," : "") + std::to_string(i);
    return items;
  }() + "]}";
  for (const char* expr : {"concatenate(l, l)",
                           "append(l, l[1], l[2], l[3], l[4], l[5], l[6], "
                           "l[7], l[8], l[9], l[10], l[11], l[12], l[13], "
                           "l[14], l[15], l[16], l[17], l[18], l[19], l[20], "
                           "l[21], l[22], l[23], l[24], l[25], l[26], "
                           "l[27], l[28], l[29], l[30], l[31], l[32], "
                           "l[33], l[34], l[35], l[36], l[37], l[38], "
                           "l[39], l[40], l[41])",
                           "union(l, for x in l return x + 100)", "flatten([l, [l]])",
                           "for x in l, y in [1, 2] return x"}) {
    auto v = Eval(expr, vars, small);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted) << expr;
    EXPECT_TRUE(Mentions(v.status(), "the limit is 100")) << expr << ": " << v.status();
  }
  // Within the limit they work.
  EXPECT_EQ(J("count(concatenate(l, sublist(l, 1, 40)))", vars, small), "100");
  EXPECT_EQ(J("count(union(l, l))", vars, small), "60");
  EXPECT_EQ(J("count(distinct values(concatenate(l, sublist(l, 1, 40))))", vars, small), "60");
  EXPECT_EQ(J("sort(l, function(a, b) a > b)[1]", vars, small), "60");
  EXPECT_EQ(J("count(insert before(l, 1, 0))", vars, small), "61");
  // Memory: each copy of a list is charged to the evaluation's shared budget.
  EvalOptions mem;
  mem.max_allocated_bytes = 50'000;
  auto copies = Eval("for i in 1..100 return reverse(l)", vars, mem);
  EXPECT_EQ(copies.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Mentions(copies.status(), "FEEL memory limit")) << copies.status();
  EXPECT_EQ(Code("for i in 1..100 return l[item > 0]", vars, mem),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Code("for i in 1..100 return l.x", vars, mem), absl::StatusCode::kResourceExhausted);
}

TEST(MemoryLimitsTest, ContextBuildingIsCheckedFirst) {
  std::string entries;
  for (int i = 1; i <= 60; ++i) {
    entries += (i > 1 ? "," : "") + ("\"k" + std::to_string(i) + "\": " + std::to_string(i));
  }
  const std::string vars = "{\"c\": {" + entries + "}}";
  EvalOptions small;
  small.max_collection_size = 100;
  auto merged = Eval("context merge(c, context put({}, \"x\", c))", vars, small);
  EXPECT_TRUE(merged.ok()) << merged.status();
  auto too_many =
      Eval("context merge(c, context(for i in 1..50 return {key: \"n\" + string(i), value: i}))",
           vars, small);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Mentions(too_many.status(), "the limit is 100")) << too_many.status();
  EvalOptions mem;
  mem.max_allocated_bytes = 100'000;
  auto puts = Eval("for i in 1..100 return context put(c, \"x\", i)", vars, mem);
  EXPECT_EQ(puts.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(Mentions(puts.status(), "FEEL memory limit")) << puts.status();
  EXPECT_EQ(Code("for i in 1..100 return get entries(c)", vars, mem),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Code("for i in 1..100 return context put(c, [\"a\", \"b\"], i)", vars, mem),
            absl::StatusCode::kResourceExhausted);
  // A lambda copies the bindings it can see (here the 60 entries of each filtered item).
  EXPECT_EQ(Code("for i in 1..100 return [c][(function(x) x)(true)]", vars, mem),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(J("get entries(c)[1].key", vars, mem), "\"k1\"");
}

}  // namespace
}  // namespace tern::feel::testing
