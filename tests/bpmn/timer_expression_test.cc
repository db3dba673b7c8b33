// Timer texts as Zeebe accepts them: ISO 8601 durations, dates and repeating intervals, and
// Spring-style cron expressions, evaluated at a given "now".

#include "bpmn/timer_expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tern::bpmn::timers {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// 2026-01-01T00:00:00Z, a Thursday.
constexpr int64_t k2026 = 1767225600000;

std::string ErrorOf(const absl::Status& status) { return std::string(status.message()); }

TEST(TimerExpressionTest, IntervalsAddCalendarAndExactParts) {
  auto interval = ParseInterval("P1M2DT3H4M5.5S");
  ASSERT_TRUE(interval.ok()) << interval.status();
  EXPECT_EQ(interval->months, 1);
  EXPECT_EQ(interval->days, 2);
  EXPECT_EQ(interval->millis, 3 * kHour + 4 * kMinute + 5500);
  // One calendar month after January 31st is the last day of February.
  auto jan31 = ParseDate("2026-01-31T00:00:00Z");
  ASSERT_TRUE(jan31.ok());
  auto feb = AddInterval(*jan31, Interval{.months = 1});
  ASSERT_TRUE(feb.ok());
  EXPECT_EQ(*feb, *ParseDate("2026-02-28T00:00:00Z"));
  EXPECT_FALSE(ParseInterval("P").ok());
  EXPECT_FALSE(ParseInterval("PT").ok());
  EXPECT_FALSE(ParseInterval("1H").ok());
  EXPECT_FALSE(ParseInterval("P1X").ok());
}

TEST(TimerExpressionTest, DatesWithOffsetsAndZones) {
  EXPECT_EQ(*ParseDate("2026-01-01T00:00:00Z"), k2026);
  EXPECT_EQ(*ParseDate("2026-01-01T01:00:00+01:00"), k2026);
  EXPECT_EQ(*ParseDate("2026-01-01T00:00:00"), k2026);  // no offset: UTC
  auto berlin = ParseDate("2026-01-01T01:00:00[Europe/Berlin]");
  if (berlin.ok()) {
    EXPECT_EQ(*berlin, k2026);  // needs the system's time zone database
  }
  EXPECT_FALSE(ParseDate("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseDate("tomorrow").ok());
}

TEST(TimerExpressionTest, SchedulesOfEachKind) {
  auto duration = ScheduleFromText(TimerKind::kDuration, " PT10S ", k2026);
  ASSERT_TRUE(duration.ok()) << duration.status();
  EXPECT_EQ(duration->due_ms, k2026 + 10 * kSecond);
  EXPECT_EQ(duration->repetitions, 1);

  auto date = ScheduleFromText(TimerKind::kDate, "2026-01-02T00:00:00Z", k2026);
  ASSERT_TRUE(date.ok());
  EXPECT_EQ(date->due_ms, k2026 + kDay);

  auto repeating = ScheduleFromText(TimerKind::kCycle, "R3/PT1H", k2026);
  ASSERT_TRUE(repeating.ok());
  EXPECT_EQ(repeating->due_ms, k2026 + kHour);
  EXPECT_EQ(repeating->repetitions, 3);

  auto unbounded = ScheduleFromText(TimerKind::kCycle, "R/2026-01-05T00:00:00Z/P1D", k2026);
  ASSERT_TRUE(unbounded.ok());
  EXPECT_EQ(unbounded->due_ms, k2026 + 4 * kDay);  // the start lies ahead
  EXPECT_EQ(unbounded->repetitions, -1);

  auto cron = ScheduleFromText(TimerKind::kCycle, "0 30 9 * * MON-FRI", k2026);
  ASSERT_TRUE(cron.ok()) << cron.status();
  EXPECT_EQ(cron->due_ms, k2026 + 9 * kHour + 30 * kMinute);  // Thursday 09:30
  EXPECT_EQ(cron->repetitions, -1);
}

TEST(TimerExpressionTest, RefusalsNameTheText) {
  EXPECT_THAT(ErrorOf(ScheduleFromText(TimerKind::kDuration, "-PT1S", k2026).status()),
              HasSubstr("must not be negative"));
  EXPECT_THAT(ErrorOf(ScheduleFromText(TimerKind::kCycle, "R/PT0S", k2026).status()),
              HasSubstr("R/PT0S"));
  EXPECT_THAT(ErrorOf(ScheduleFromText(TimerKind::kCycle, "every day", k2026).status()),
              HasSubstr("Invalid timer cycle 'every day'"));
  EXPECT_FALSE(ScheduleFromText(TimerKind::kDuration, "P9000Y", k2026).ok());  // past 9999
  // A long text is cut in the message.
  const std::string long_text = "P" + std::string(10'000, '1') + "X";
  EXPECT_LT(ErrorOf(ScheduleFromText(TimerKind::kDuration, long_text, k2026).status()).size(),
            400u);
}

TEST(TimerExpressionTest, CheckTimerTextChecksTheFormOnly) {
  EXPECT_TRUE(CheckTimerText(TimerKind::kDuration, "P9000Y").ok());  // too far only from now
  EXPECT_TRUE(CheckTimerText(TimerKind::kCycle, "0 0 9 * * MON").ok());
  EXPECT_TRUE(CheckTimerText(TimerKind::kCycle, "R5/2030-01-01T00:00:00Z/PT1H").ok());
  EXPECT_THAT(ErrorOf(CheckTimerText(TimerKind::kDuration, "-PT1S")),
              HasSubstr("must not be negative"));
  EXPECT_FALSE(CheckTimerText(TimerKind::kDate, "2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(CheckTimerText(TimerKind::kCycle, "R/PT0S").ok());
  EXPECT_FALSE(CheckTimerText(TimerKind::kCycle, "0 0 25 * * ?").ok());
}

TEST(TimerExpressionTest, CycleDueAfterAFiring) {
  auto next = NextCycleDue("R5/PT15M", k2026);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, k2026 + 15 * kMinute);
  auto cron = NextCycleDue("@daily", k2026);
  ASSERT_TRUE(cron.ok()) << cron.status();
  EXPECT_EQ(*cron, k2026 + kDay);
}

}  // namespace
}  // namespace tern::bpmn::timers
