// Temporal literals, properties and arithmetic.

#include "feel_test_util.h"

namespace tern::feel::testing {
namespace {

TEST(TemporalTest, Literals) {
  EXPECT_EQ(J("@\"2024-01-01\""), "\"2024-01-01\"");
  EXPECT_EQ(J("@\"10:30:00\""), "\"10:30:00\"");
  EXPECT_EQ(J("@\"10:30:00.000100\""), "\"10:30:00.0001\"");
  EXPECT_EQ(J("@\"2024-01-01T10:30:00Z\""), "\"2024-01-01T10:30:00Z\"");
  EXPECT_EQ(J("@\"PT5M\""), "\"PT5M\"");
  EXPECT_EQ(J("@\"P2Y\""), "\"P2Y\"");
  EXPECT_EQ(J("@\"-P1D\""), "\"-P1D\"");
  EXPECT_EQ(J("@\"P0D\""), "\"P0D\"");
}

TEST(TemporalTest, Properties) {
  EXPECT_EQ(J("@\"2024-03-15\".year"), "2024");
  EXPECT_EQ(J("@\"2024-03-15\".month"), "3");
  EXPECT_EQ(J("@\"2024-03-15\".day"), "15");
  EXPECT_EQ(J("@\"2024-03-15\".weekday"), "5");
  EXPECT_EQ(J("@\"2024-03-15T10:20:30+02:00\".hour"), "10");
  EXPECT_EQ(J("@\"2024-03-15T10:20:30+02:00\".minute"), "20");
  EXPECT_EQ(J("@\"2024-03-15T10:20:30+02:00\".second"), "30");
  EXPECT_EQ(J("@\"2024-03-15T10:20:30+02:00\".time offset"), "\"PT2H\"");
  EXPECT_EQ(J("@\"2024-03-15T10:20:30@Europe/Paris\".timezone"), "\"Europe/Paris\"");
  EXPECT_EQ(J("@\"2024-03-15T10:20:30\".time offset"), "null");
  EXPECT_EQ(J("@\"10:20:30-01:00\".time offset"), "\"-PT1H\"");
  EXPECT_EQ(J("@\"P1DT2H3M4S\".days"), "1");
  EXPECT_EQ(J("@\"P1DT2H3M4S\".hours"), "2");
  EXPECT_EQ(J("@\"P1DT2H3M4S\".minutes"), "3");
  EXPECT_EQ(J("@\"P1DT2H3M4S\".seconds"), "4");
  EXPECT_EQ(J("@\"P1Y5M\".years"), "1");
  EXPECT_EQ(J("@\"P1Y5M\".months"), "5");
  EXPECT_EQ(J("@\"2024-03-15\".nope"), "null");
}

TEST(TemporalTest, Arithmetic) {
  EXPECT_EQ(J("@\"2024-01-31\" + @\"P1M\""), "\"2024-02-29\"");
  EXPECT_EQ(J("@\"2024-03-31\" - @\"P1M\""), "\"2024-02-29\"");
  EXPECT_EQ(J("@\"2024-01-01\" + @\"P1D\""), "\"2024-01-02\"");
  EXPECT_EQ(J("@\"2024-01-01\" - @\"PT1H\""), "\"2023-12-31\"");
  EXPECT_EQ(J("@\"2024-03-01\" - @\"2024-02-01\""), "\"P29D\"");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00Z\" + @\"PT90M\""), "\"2024-01-01T11:30:00Z\"");
  EXPECT_EQ(J("@\"2024-01-01T23:00:00\" + @\"PT2H\""), "\"2024-01-02T01:00:00\"");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00Z\" - @\"2024-01-01T09:00:00+01:00\""), "\"PT2H\"");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00\" - @\"2024-01-01T09:00:00Z\""), "null");
  EXPECT_EQ(J("@\"23:00:00\" + @\"PT2H\""), "\"01:00:00\"");
  EXPECT_EQ(J("@\"2021-01-02T10:10:10+01:00\" - @\"2021-01-01\""), "\"P1DT9H10M10S\"");
  EXPECT_EQ(J("@\"2021-01-02\" - @\"2021-01-01T10:10:10+11:00\""), "\"P1DT49M50S\"");
  EXPECT_EQ(J("@\"2021-01-01T00:00:00\" - @\"2021-01-02\""), "null");
  EXPECT_EQ(J("@\"10:00:00\" - @\"08:30:00\""), "\"PT1H30M\"");
  EXPECT_EQ(J("@\"P1D\" + @\"PT12H\""), "\"P1DT12H\"");
  EXPECT_EQ(J("@\"P1Y\" - @\"P2M\""), "\"P10M\"");
  EXPECT_EQ(J("@\"PT1H\" * 1.5"), "\"PT1H30M\"");
  EXPECT_EQ(J("2 * @\"P1Y1M\""), "\"P2Y2M\"");
  EXPECT_EQ(J("@\"P1D\" / 2"), "\"PT12H\"");
  EXPECT_EQ(J("@\"P1D\" / @\"PT6H\""), "4");
  EXPECT_EQ(J("@\"P1Y\" / @\"P1M\""), "12");
  EXPECT_EQ(J("@\"P1D\" / 0"), "null");
  EXPECT_EQ(J("-@\"P1D\""), "\"-P1D\"");
  EXPECT_EQ(J("@\"P1D\" + 1"), "null");
  EXPECT_EQ(J("@\"2024-01-01\" + @\"2024-01-01\""), "null");
  // DST: Europe/Berlin switches at 2024-03-31 02:00 -> 03:00.
  EXPECT_EQ(J("@\"2024-03-30T12:00:00@Europe/Berlin\" + @\"PT24H\""),
            "\"2024-03-31T13:00:00+02:00[Europe/Berlin]\"");
  EXPECT_EQ(J("@\"2024-03-30T12:00:00@Europe/Berlin\" + @\"P1D\""),
            "\"2024-03-31T13:00:00+02:00[Europe/Berlin]\"");
}

TEST(TemporalTest, Comparison) {
  EXPECT_EQ(J("@\"2024-01-01\" < @\"2024-01-02\""), "true");
  EXPECT_EQ(J("@\"2024-01-01\" = date(\"2024-01-01\")"), "true");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00Z\" = @\"2024-01-01T11:00:00+01:00\""), "true");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00Z\" > @\"2024-01-01T10:30:00+01:00\""), "true");
  EXPECT_EQ(J("@\"2024-01-01T10:00:00\" < @\"2024-01-01T10:30:00Z\""), "null");
  EXPECT_EQ(J("@\"2024-01-01\" = @\"2024-01-01T00:00:00\""), "null");
  EXPECT_EQ(J("@\"PT1H\" < @\"PT2H\""), "true");
  EXPECT_EQ(J("@\"P1Y\" > @\"P11M\""), "true");
  EXPECT_EQ(J("@\"PT24H\" = @\"P1D\""), "true");
  EXPECT_EQ(J("@\"P1Y\" = @\"P1D\""), "null");
  EXPECT_EQ(J("@\"10:00:00\" between @\"09:00:00\" and @\"11:00:00\""), "true");
  EXPECT_EQ(J("@\"2024-06-01\" in [@\"2024-01-01\"..@\"2024-12-31\"]"), "true");
}

TEST(TemporalTest, Parsing) {
  EXPECT_TRUE(ParseDate("2024-02-29").has_value());
  EXPECT_FALSE(ParseDate("2024-2-29").has_value());
  EXPECT_FALSE(ParseDate("2024-00-10").has_value());
  EXPECT_FALSE(ParseDate("02024-01-01").has_value());
  EXPECT_FALSE(ParseTime("10:60:00").has_value());
  EXPECT_FALSE(ParseTime("10:00:00+19:00").has_value());
  EXPECT_FALSE(ParseDateTime("2024-01-01 10:00:00").has_value());
  EXPECT_FALSE(ParseDateTime("2024-01-01T10:00:00@../../etc/passwd").has_value());
  EXPECT_FALSE(ParseDaysTimeDuration("PT").has_value());
  EXPECT_FALSE(ParseDaysTimeDuration("P1M").has_value());
  EXPECT_FALSE(ParseYearsMonthsDuration("PT1M").has_value());
  EXPECT_EQ(FormatDaysTimeDuration(*ParseDaysTimeDuration("PT0.5S")), "PT0.5S");
  EXPECT_EQ(FormatDaysTimeDuration(*ParseDaysTimeDuration("-PT0.5S")), "-PT0.5S");
  EXPECT_EQ(IsoWeekday(DaysFromCivil(1970, 1, 1)), 4);
  int64_t y;
  int m, d;
  CivilFromDays(DaysFromCivil(-4713, 11, 24), &y, &m, &d);
  EXPECT_EQ(y, -4713);
  EXPECT_EQ(m, 11);
  EXPECT_EQ(d, 24);
}

}  // namespace
}  // namespace tern::feel::testing
