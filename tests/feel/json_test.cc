#include "feel/feel.h"
#include "gtest/gtest.h"

namespace tern::feel {
namespace {

std::string RoundTrip(std::string_view json) {
  auto v = ValueFromJson(json);
  if (!v.ok()) return "ERROR: " + std::string(v.status().message());
  return ValueToJson(*v);
}

TEST(JsonTest, RoundTripsAndKeepsDecimals) {
  EXPECT_EQ(RoundTrip(R"({"a":1,"b":[true,false,null],"c":"x"})"),
            R"({"a":1,"b":[true,false,null],"c":"x"})");
  EXPECT_EQ(RoundTrip("0.1"), "0.1");
  EXPECT_EQ(RoundTrip("2.50"), "2.5");
  EXPECT_EQ(RoundTrip("2.5E0"), "2.5");
  EXPECT_EQ(RoundTrip("1e2"), "100");
  EXPECT_EQ(RoundTrip("12345678901234567890123"), "12345678901234567890123");
  EXPECT_EQ(RoundTrip("-0.000001"), "-0.000001");
  EXPECT_EQ(RoundTrip("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(RoundTrip(R"("a\"b\\c\n\u0001")"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(RoundTrip(R"({"z":1,"a":2})"), R"({"z":1,"a":2})");  // insertion order
  EXPECT_EQ(RoundTrip(R"({"a":1,"a":2})"), R"({"a":2})");
}

TEST(JsonTest, ExactNumberArithmetic) {
  auto v = ValueFromJson(R"({"a": 0.1, "b": 0.2})");
  ASSERT_TRUE(v.ok());
  auto e = CompiledExpression::Compile("a + b = 0.3");
  ASSERT_TRUE(e.ok());
  ContextVariableResolver r(*v);
  auto out = Evaluate(**e, r, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, Value::Bool(true));
}

TEST(JsonTest, RejectsBadInput) {
  for (const char* bad : {"", "{", "[1,", "{\"a\" 1}", "nul", "1 2", "{\"a\":1,}", "'x'"}) {
    auto v = ValueFromJson(bad);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValueFromJson("1e99999").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonTest, DepthLimit) {
  std::string ok(kMaxJsonDepth, '[');
  ok += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ValueFromJson(ok).ok());
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  auto v = ValueFromJson(deep);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("nested deeper than 64"), std::string::npos);
  std::string huge(10000, '{');  // B10: never recurses 10,000 deep
  EXPECT_EQ(ValueFromJson(huge).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JsonTest, TemporalValuesAsIsoStrings) {
  auto render = [](const char* src) {
    auto e = CompiledExpression::Compile(src);
    EXPECT_TRUE(e.ok()) << src;
    MapVariableResolver none;
    auto v = Evaluate(**e, none, {});
    EXPECT_TRUE(v.ok());
    return ValueToJson(*v);
  };
  EXPECT_EQ(render("@\"2024-01-31\""), "\"2024-01-31\"");
  EXPECT_EQ(render("@\"10:30:00\""), "\"10:30:00\"");
  EXPECT_EQ(render("@\"2024-01-01T10:00:00+01:00\""), "\"2024-01-01T10:00:00+01:00\"");
  EXPECT_EQ(render("@\"2024-01-01T10:00:00Z\""), "\"2024-01-01T10:00:00Z\"");
  EXPECT_EQ(render("@\"2024-07-01T10:00:00@Europe/Paris\""),
            "\"2024-07-01T10:00:00+02:00[Europe/Paris]\"");
  EXPECT_EQ(render("@\"P1DT2H\""), "\"P1DT2H\"");
  EXPECT_EQ(render("@\"P14M\""), "\"P1Y2M\"");
  EXPECT_EQ(render("[1..5)"), "\"[1..5)\"");
}

}  // namespace
}  // namespace tern::feel
