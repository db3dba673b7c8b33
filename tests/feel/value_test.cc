#include "feel/value.h"

#include "feel/feel.h"
#include "gtest/gtest.h"

namespace tern::feel {
namespace {

TEST(ValueTest, ConstructionAndAccessors) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value::Null().is_null());
  EXPECT_TRUE(Value::Bool(true).as_bool());
  EXPECT_EQ(Value::Number(3).as_int64(), 3);
  EXPECT_EQ(Value::Number(*Decimal::Parse("3.5")).as_int64(), std::nullopt);
  EXPECT_EQ(Value::String("x").as_string(), "x");
  EXPECT_EQ(Value::String("x").as_int64(), std::nullopt);
  Value l = Value::List({Value::Number(1), Value::String("a")});
  ASSERT_TRUE(l.is_list());
  EXPECT_EQ(l.list().size(), 2u);
  Value c =
      Value::Context({{"b", Value::Number(1)}, {"a", Value::Number(2)}, {"b", Value::Number(3)}});
  ASSERT_TRUE(c.is_context());
  EXPECT_EQ(c.context().size(), 2u);
  EXPECT_EQ(c.context().entries()[0].first, "b");  // insertion order, later value wins
  EXPECT_EQ(*c.Find("b"), Value::Number(3));
  EXPECT_EQ(c.Find("zz"), nullptr);
  EXPECT_EQ(Value::Number(1).Find("a"), nullptr);
  EXPECT_EQ(Value::FromDouble(0.1).as_number().ToString(), "0.1");
}

TEST(ValueTest, Equality) {
  EXPECT_EQ(Value::Number(1), Value::Number(*Decimal::Parse("1.0")));
  EXPECT_NE(Value::Number(1), Value::String("1"));
  EXPECT_EQ(Value::List({Value::Number(1)}), Value::List({Value::Number(1)}));
  EXPECT_NE(Value::List({Value::Number(1)}), Value::List({}));
  EXPECT_EQ(Value::Context({{"a", Value()}, {"b", Value::Bool(true)}}),
            Value::Context({{"b", Value::Bool(true)}, {"a", Value()}}));
  EXPECT_NE(Value::Context({{"a", Value()}}), Value::Context({{"b", Value()}}));
}

TEST(ValueTest, LargeContextsUseAnIndex) {
  ContextValue c;
  for (int i = 0; i < 100; ++i) c.Set("k" + std::to_string(i), Value::Number(i));
  c.Set("k5", Value::Number(500));
  EXPECT_EQ(c.size(), 100u);
  EXPECT_EQ(*c.Find("k5"), Value::Number(500));
  EXPECT_EQ(*c.Find("k99"), Value::Number(99));
  EXPECT_TRUE(c.Erase("k0"));
  EXPECT_EQ(c.Find("k0"), nullptr);
  EXPECT_EQ(*c.Find("k1"), Value::Number(1));
  ContextValue copy = c;
  EXPECT_EQ(*copy.Find("k50"), Value::Number(50));
}

TEST(ValueTest, DebugString) {
  EXPECT_EQ(Value::List({Value::Number(1), Value::String("a\"b")}).DebugString(),
            "[1, \"a\\\"b\"]");
  EXPECT_EQ(Value::Context({{"a", Value()}, {"b", Value::String("x")}}).DebugString(),
            "{a:null, b:\"x\"}");
}

TEST(ValueTest, KindNames) {
  EXPECT_EQ(KindName(Kind::kDateTime), "date and time");
  EXPECT_EQ(KindName(Kind::kYearsMonthsDuration), "years and months duration");
}

}  // namespace
}  // namespace tern::feel
