#pragma once

// Timer definitions: ISO 8601 durations, dates and repeating intervals, and Spring-style cron
// expressions, as Zeebe accepts them in timeDuration, timeDate and timeCycle. Pure functions of
// their input and of the "now" the caller passes (the engine passes the batch timestamp, so
// replays agree). The validator checks a model's static timers with them at deploy; the engine
// evaluates timers with them at run time.
//
// Limits (Tern's, documented in docs/bpmn-coverage.md): durations may not be negative, a
// repeating interval must be longer than zero (R/PT0S would fire in a busy loop), and due dates
// must lie between 1970-01-01 and 9999-12-31T23:59:59.999Z.

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "bpmn/model.h"

namespace tern::bpmn::timers {

// The latest due date Tern accepts: 9999-12-31T23:59:59.999Z.
inline constexpr int64_t kMaxDueDateMs = 253402300799999;

// An ISO 8601 duration: a calendar part (months, days) and an exact part, like Java's
// Period + Duration. Added to an instant in UTC.
struct Interval {
  int64_t months = 0;
  int64_t days = 0;
  int64_t millis = 0;
  bool negative = false;

  bool is_zero() const { return months == 0 && days == 0 && millis == 0; }
};

absl::StatusOr<Interval> ParseInterval(std::string_view text);
// `epoch_ms` plus the interval in UTC; OUT_OF_RANGE past kMaxDueDateMs or before 1970.
absl::StatusOr<int64_t> AddInterval(int64_t epoch_ms, const Interval& interval);

// An ISO 8601 date-time with an offset ("Z", "+01:00") or a zone ("[Europe/Berlin]" or
// "@Europe/Berlin"); without either, UTC. Returns epoch milliseconds.
absl::StatusOr<int64_t> ParseDate(std::string_view text);

// A Spring-style cron expression (second minute hour day-of-month month day-of-week, or a macro
// such as @daily), evaluated in UTC.
class Cron {
 public:
  static absl::StatusOr<Cron> Parse(std::string_view text);
  // The first fire time strictly after `after_ms`, if there is one within five years.
  std::optional<int64_t> Next(int64_t after_ms) const;

 private:
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  bool last_day_of_month_ = false;
  std::bitset<13> months_;       // 1..12
  std::bitset<8> days_of_week_;  // 1 = Monday ... 7 = Sunday
};

// What a timer definition evaluates to at a given time.
struct Schedule {
  int64_t due_ms = 0;
  // How many times the timer fires: 1 for durations and dates, n for Rn/..., -1 for unbounded
  // cycles (R/... and cron).
  int32_t repetitions = 1;
};

// Whether a timer text has the form of its kind, without evaluating it at any time (the
// validator's check; ScheduleFromText also refuses what fails at a given time, e.g. a due date
// past the latest one).
absl::Status CheckTimerText(TimerKind kind, std::string_view text);

// Evaluates the text of a timer definition of the given kind at `now_ms`.
absl::StatusOr<Schedule> ScheduleFromText(TimerKind kind, std::string_view text, int64_t now_ms);

// A repeating interval "R[n]/[start/]duration" or a cron expression: the next due date after a
// timer of this cycle fired at `now_ms` (repetitions are the caller's business).
absl::StatusOr<int64_t> NextCycleDue(std::string_view text, int64_t now_ms);

}  // namespace tern::bpmn::timers
