#include "feel/decimal.h"

#include "gtest/gtest.h"

namespace tern::feel {
namespace {

Decimal D(const char* s) {
  auto d = Decimal::Parse(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or(Decimal());
}

TEST(DecimalTest, ParsesAndPrintsPlainNotation) {
  EXPECT_EQ(D("1").ToString(), "1");
  EXPECT_EQ(D("2.50").ToString(), "2.5");
  EXPECT_EQ(D("-0.001").ToString(), "-0.001");
  EXPECT_EQ(D("1e3").ToString(), "1000");
  EXPECT_EQ(D("1.5E-2").ToString(), "0.015");
  EXPECT_EQ(D("-0").ToString(), "0");
  EXPECT_EQ(D(".5").ToString(), "0.5");
  EXPECT_EQ(D("123456789012345678901234567890.1234").ToString(),
            "123456789012345678901234567890.1234");
  EXPECT_EQ(D("1E+80").ToString(), "1E+80");
  EXPECT_EQ(D("1.5E+70").ToString(), "1.5E+70");
}

TEST(DecimalTest, RejectsNonNumbers) {
  for (const char* s : {"", "abc", "1x", "inf", "nan", "--1", "1e", ".", "1.2.3", "0x10"}) {
    EXPECT_FALSE(Decimal::Parse(s).has_value()) << s;
  }
  EXPECT_FALSE(Decimal::Parse("1e999999").has_value());
}

TEST(DecimalTest, DecimalArithmeticIsExact) {
  EXPECT_EQ(*D("0.1").Add(D("0.2")), D("0.3"));
  EXPECT_EQ(D("0.1").Add(D("0.2"))->ToString(), "0.3");
  EXPECT_EQ(D("10").Div(D("4"))->ToString(), "2.5");
  EXPECT_EQ(D("1").Div(D("3"))->ToString(), "0.3333333333333333333333333333333333");
  EXPECT_FALSE(D("1").Div(D("0")).has_value());
  EXPECT_EQ(D("2").Pow(D("10"))->ToString(), "1024");
  EXPECT_EQ(D("2").Pow(D("-2"))->ToString(), "0.25");
  EXPECT_EQ(D("1.1").Mul(D("1.1"))->ToString(), "1.21");
}

TEST(DecimalTest, ComparesByValue) {
  EXPECT_EQ(D("1.0"), D("1"));
  EXPECT_LT(D("-1"), D("0.5"));
  EXPECT_EQ(D("1.0").Compare(D("1.00")), 0);
  EXPECT_EQ(D("2").Compare(D("1")), 1);
  // Same exponent (fast path) and mixed exponents, signs and zeros.
  EXPECT_EQ(D("500").Compare(D("10000")), -1);
  EXPECT_EQ(D("-500").Compare(D("-10000")), 1);
  EXPECT_EQ(D("-5").Compare(D("3")), -1);
  EXPECT_EQ(D("0").Compare(D("-0")), 0);
  EXPECT_EQ(D("0").Compare(D("-1")), 1);
  EXPECT_EQ(D("-1").Compare(D("0")), -1);
  EXPECT_EQ(D("1.50").Compare(D("1.5")), 0);
  EXPECT_EQ(D("1.49").Compare(D("1.5")), -1);
  EXPECT_EQ(D("9999999999999999999999999999999999").Compare(D("1E+34")), -1);
  EXPECT_EQ(D("-0.1").Add(D("0.1"))->Compare(D("0")), 0);
}

TEST(DecimalTest, IntegralConversion) {
  EXPECT_EQ(D("42").ToInt64(), 42);
  EXPECT_EQ(D("42.0").ToInt64(), 42);
  EXPECT_EQ(D("1e3").ToInt64(), 1000);
  EXPECT_FALSE(D("42.5").ToInt64().has_value());
  EXPECT_FALSE(D("1e30").ToInt64().has_value());
  EXPECT_EQ(D("-7.9").TruncateToInt64(), -7);
}

TEST(DecimalTest, Rounding) {
  using R = Decimal::Rounding;
  EXPECT_EQ(D("2.5").RoundToScale(0, R::kHalfEven)->ToString(), "2");
  EXPECT_EQ(D("3.5").RoundToScale(0, R::kHalfEven)->ToString(), "4");
  EXPECT_EQ(D("2.5").RoundToScale(0, R::kHalfUp)->ToString(), "3");
  EXPECT_EQ(D("-2.5").RoundToScale(0, R::kHalfUp)->ToString(), "-3");
  EXPECT_EQ(D("2.5").RoundToScale(0, R::kHalfDown)->ToString(), "2");
  EXPECT_EQ(D("1.121").RoundToScale(2, R::kUp)->ToString(), "1.13");
  EXPECT_EQ(D("-1.126").RoundToScale(2, R::kDown)->ToString(), "-1.12");
  EXPECT_EQ(D("-1.5").RoundToScale(0, R::kFloor)->ToString(), "-2");
  EXPECT_EQ(D("-1.5").RoundToScale(0, R::kCeiling)->ToString(), "-1");
  EXPECT_EQ(D("1234").RoundToScale(-2, R::kHalfEven)->ToString(), "1200");
  EXPECT_EQ(D("5").RoundToScale(2, R::kHalfEven)->ToString(), "5");
}

TEST(DecimalTest, Functions) {
  EXPECT_EQ(D("16").Sqrt()->ToString(), "4");
  EXPECT_FALSE(D("-1").Sqrt().has_value());
  EXPECT_EQ(D("12").Modulo(D("5"))->ToString(), "2");
  EXPECT_EQ(D("-12").Modulo(D("5"))->ToString(), "3");
  EXPECT_EQ(D("12").Modulo(D("-5"))->ToString(), "-3");
  EXPECT_EQ(D("10.1").Modulo(D("4.5"))->ToString(), "1.1");
  EXPECT_EQ(D("-2.5").Floor().ToString(), "-3");
  EXPECT_EQ(D("-2.5").Ceiling().ToString(), "-2");
  EXPECT_FALSE(D("0").Ln().has_value());
}

}  // namespace
}  // namespace tern::feel
