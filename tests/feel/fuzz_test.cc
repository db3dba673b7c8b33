// Deterministic random-input smoke test: random token soups and byte strings must compile or
// fail cleanly, and evaluate or fail cleanly, under the sanitizers. Asserts no crash and only
// the documented status codes.

#include <atomic>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "feel_test_util.h"

namespace tern::feel::testing {
namespace {

const std::vector<std::string>& Tokens() {
  static const std::vector<std::string> kTokens = {"1",
                                                   "0",
                                                   "-",
                                                   "2.5",
                                                   "\"s\"",
                                                   "\"\"",
                                                   "true",
                                                   "false",
                                                   "null",
                                                   "x",
                                                   "y",
                                                   "item",
                                                   "?",
                                                   "(",
                                                   ")",
                                                   "[",
                                                   "]",
                                                   "{",
                                                   "}",
                                                   ",",
                                                   ":",
                                                   ".",
                                                   "..",
                                                   "+",
                                                   "*",
                                                   "/",
                                                   "**",
                                                   "=",
                                                   "!=",
                                                   "<",
                                                   "<=",
                                                   ">",
                                                   ">=",
                                                   "and",
                                                   "or",
                                                   "not",
                                                   "in",
                                                   "between",
                                                   "instance",
                                                   "of",
                                                   "number",
                                                   "if",
                                                   "then",
                                                   "else",
                                                   "for",
                                                   "return",
                                                   "some",
                                                   "every",
                                                   "satisfies",
                                                   "function",
                                                   "a",
                                                   "b",
                                                   "count",
                                                   "sum",
                                                   "string",
                                                   "date",
                                                   "@\"2024-01-01\"",
                                                   "@\"P1D\"",
                                                   "@\"10:00:00Z\"",
                                                   "substring",
                                                   "matches",
                                                   "sort",
                                                   "flatten",
                                                   "context put",
                                                   "partial",
                                                   "`q`",
                                                   "//c\n",
                                                   "/*c*/",
                                                   "date and time",
                                                   "get or else",
                                                   "list contains",
                                                   "range",
                                                   "\"a.*\"",
                                                   "now",
                                                   "uuid",
                                                   "distinct values",
                                                   "string join",
                                                   "append",
                                                   "min",
                                                   "max",
                                                   "abs",
                                                   "decimal",
                                                   "before",
                                                   "includes",
                                                   "is defined",
                                                   "years and months duration",
                                                   "(1..3)",
                                                   "[1..3]",
                                                   "< 5",
                                                   "> 1"};
  return kTokens;
}

TEST(FuzzTest, RandomTokenSoupsNeverCrash) {
  std::mt19937_64 rng(12345);
  const auto& tokens = Tokens();
  EvalOptions opts;
  opts.max_steps = 20000;
  opts.max_collection_size = 10000;
  opts.max_allocated_bytes = 1 << 20;
  int compiled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string src;
    int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) {
      src += tokens[rng() % tokens.size()];
      src += (rng() % 4 == 0) ? "" : " ";
    }
    auto e = CompiledExpression::Compile(src);
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << src;
      continue;
    }
    ++compiled;
    MapVariableResolver vars({{"x", Value::Number(3)},
                              {"y", Value::List({Value::Number(1), Value::String("a")})},
                              {"a", Value::Context({{"b", Value::Number(1)}})}});
    auto v = Evaluate(**e, vars, opts);
    if (!v.ok()) {
      EXPECT_TRUE(v.status().code() == absl::StatusCode::kResourceExhausted ||
                  v.status().code() == absl::StatusCode::kInvalidArgument ||
                  v.status().code() == absl::StatusCode::kFailedPrecondition)
          << src << " -> " << v.status();
    } else {
      (void)ValueToJson(*v);
      (void)v->DebugString();
    }
  }
  EXPECT_GT(compiled, 1000);  // the generator does produce valid expressions
}

TEST(FuzzTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(777);
  const std::string alphabet = "{}[]\",:0123456789.eE-+ truefalsn\\u\x01\xff@?()<>=!/*";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) s.push_back(alphabet[rng() % alphabet.size()]);
    auto j = ValueFromJson(s);
    if (j.ok()) {
      auto again = ValueFromJson(ValueToJson(*j));
      ASSERT_TRUE(again.ok()) << s;
      EXPECT_EQ(*again, *j) << s;
    } else {
      EXPECT_EQ(j.status().code(), absl::StatusCode::kInvalidArgument);
    }
    auto e = CompiledExpression::Compile(s);
    if (e.ok()) {
      MapVariableResolver none;
      EvalOptions opts;
      opts.max_steps = 20000;
      (void)Evaluate(**e, none, opts);
    } else {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(FuzzTest, ConcurrentEvaluationOfOneExpression) {
  auto e = CompiledExpression::Compile(
      "for i in 1..50 return string join(for j in 1..i return string(j), \",\") + uuid()");
  ASSERT_TRUE(e.ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      MapVariableResolver none;
      for (int i = 0; i < 20; ++i) ok += Evaluate(**e, none, {}).ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace tern::feel::testing
