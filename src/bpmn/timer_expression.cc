#include "bpmn/timer_expression.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "base/strings.h"
#include "bpmn/problems.h"
#include "feel/temporal.h"

namespace tern::bpmn::timers {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
// Far enough to keep every intermediate result of interval arithmetic inside int64.
constexpr int64_t kMaxAmount = int64_t{1} << 40;

absl::Status Invalid(std::string_view what, std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("Invalid ", what, " '", Excerpt(text, 128), "': ", why));
}

bool ReadNumber(std::string_view text, size_t& i, int64_t* value) {
  size_t start = i;
  int64_t v = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (v > kMaxAmount) return false;
    v = v * 10 + (text[i] - '0');
    ++i;
  }
  *value = v;
  return i > start;
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t at = text.find(separator, start);
    parts.emplace_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

}  // namespace

absl::StatusOr<Interval> ParseInterval(std::string_view raw) {
  std::string text = Trim(raw);
  Interval interval;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    interval.negative = text[i] == '-';
    ++i;
  }
  if (i >= text.size() || text[i] != 'P') {
    return Invalid("duration", text, "expected an ISO 8601 duration such as PT15S or P1DT2H");
  }
  ++i;
  bool any = false;
  bool in_time = false;
  int stage = 0;  // order of designators: Y M W D | H M S
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return Invalid("duration", text, "'T' appears twice");
      in_time = true;
      stage = 0;
      ++i;
      if (i >= text.size()) return Invalid("duration", text, "nothing after 'T'");
      continue;
    }
    bool negative_part = false;
    if (text[i] == '-') {
      negative_part = true;
      ++i;
    }
    int64_t value = 0;
    if (!ReadNumber(text, i, &value)) {
      return Invalid("duration", text, "expected a number");
    }
    int64_t fraction_ms = 0;
    if (i < text.size() && (text[i] == '.' || text[i] == ',')) {
      ++i;
      int digits = 0;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        if (digits < 3) fraction_ms = fraction_ms * 10 + (text[i] - '0');
        ++digits;
        ++i;
      }
      if (digits == 0) return Invalid("duration", text, "expected digits after the point");
      for (int d = digits; d < 3; ++d) fraction_ms *= 10;
      if (i >= text.size() || text[i] != 'S' || !in_time) {
        return Invalid("duration", text, "only seconds may have a fraction");
      }
    }
    if (i >= text.size()) return Invalid("duration", text, "a number lacks its unit");
    char unit = text[i++];
    if (negative_part) interval.negative = !interval.negative;  // "PT-5M" is negative too
    int order = 0;
    if (!in_time) {
      switch (unit) {
        case 'Y':
          order = 1;
          interval.months += value * 12;
          break;
        case 'M':
          order = 2;
          interval.months += value;
          break;
        case 'W':
          order = 3;
          interval.days += value * 7;
          break;
        case 'D':
          order = 4;
          interval.days += value;
          break;
        default:
          return Invalid("duration", text, StrCat("unknown date unit '", unit, "'"));
      }
    } else {
      switch (unit) {
        case 'H':
          order = 1;
          interval.millis += value * 3'600'000;
          break;
        case 'M':
          order = 2;
          interval.millis += value * 60'000;
          break;
        case 'S':
          order = 3;
          interval.millis += value * 1'000 + fraction_ms;
          break;
        default:
          return Invalid("duration", text, StrCat("unknown time unit '", unit, "'"));
      }
    }
    if (order <= stage) return Invalid("duration", text, "units out of order or repeated");
    stage = order;
    any = true;
  }
  if (!any) return Invalid("duration", text, "no amount given");
  return interval;
}

absl::StatusOr<int64_t> AddInterval(int64_t epoch_ms, const Interval& interval) {
  int64_t sign = interval.negative ? -1 : 1;
  int64_t days = epoch_ms >= 0 ? epoch_ms / kMsPerDay : -((-epoch_ms + kMsPerDay - 1) / kMsPerDay);
  int64_t ms_of_day = epoch_ms - days * kMsPerDay;
  if (interval.months != 0) {
    int64_t year = 0;
    int month = 0;
    int day = 0;
    feel::CivilFromDays(days, &year, &month, &day);
    int64_t total = year * 12 + (month - 1) + sign * interval.months;
    int64_t new_year = total >= 0 ? total / 12 : -((-total + 11) / 12);
    int new_month = static_cast<int>(total - new_year * 12) + 1;
    if (new_year > 99999 || new_year < -99999) {
      return absl::OutOfRangeError("the due date is out of range");
    }
    day = std::min(day, feel::DaysInMonth(new_year, new_month));
    days = feel::DaysFromCivil(new_year, new_month, day);
  }
  days += sign * interval.days;
  __int128 result = static_cast<__int128>(days) * kMsPerDay + ms_of_day + sign * interval.millis;
  if (result > kMaxDueDateMs) {
    return absl::OutOfRangeError("the due date is after 9999-12-31T23:59:59.999Z");
  }
  if (result < 0) return absl::OutOfRangeError("the due date is before 1970-01-01");
  return static_cast<int64_t>(result);
}

absl::StatusOr<int64_t> ParseDate(std::string_view raw) {
  std::string text = Trim(raw);
  // Java's ZonedDateTime form "2024-01-01T10:00:00+01:00[Europe/Berlin]": the zone wins.
  std::string feel_text = text;
  if (!text.empty() && text.back() == ']') {
    size_t open = text.rfind('[');
    if (open == std::string::npos) return Invalid("date", text, "unbalanced '['");
    std::string zone = text.substr(open + 1, text.size() - open - 2);
    std::string local = text.substr(0, open);
    // Drop an offset before the zone: the zone decides.
    size_t t = local.find('T');
    if (t != std::string::npos) {
      size_t offset = local.find_first_of("+-Z", t);
      if (offset != std::string::npos) local = local.substr(0, offset);
    }
    feel_text = StrCat(local, "@", zone);
  }
  auto parsed = feel::ParseDateTime(feel_text);
  if (!parsed) {
    return Invalid("date", text,
                   "expected an ISO 8601 date-time such as 2025-01-01T10:00:00Z, "
                   "2025-01-01T10:00:00+01:00 or 2025-01-01T10:00:00[Europe/Berlin]");
  }
  int64_t year = 0;
  int month = 0;
  int day = 0;
  feel::CivilFromDays(parsed->days, &year, &month, &day);
  if (year > 9999 || year < 1970) {
    return Invalid("date", text, "the year must be between 1970 and 9999");
  }
  __int128 ms = static_cast<__int128>(feel::EpochSeconds(*parsed)) * 1000 +
                parsed->nanos % 1'000'000'000 / 1'000'000;
  if (ms > kMaxDueDateMs || ms < 0) {
    return Invalid("date", text, "the year must be between 1970 and 9999");
  }
  return static_cast<int64_t>(ms);
}

// --- Cron --------------------------------------------------------------------------------------

namespace {

constexpr std::string_view kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view kDayNames[] = {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Parses one value of a field: a number or (for months and days of week) a name.
bool FieldValue(std::string_view token, int field, int* value) {
  std::string upper = Upper(token);
  if (field == 4) {
    for (int i = 0; i < 12; ++i) {
      if (upper == kMonthNames[i]) {
        *value = i + 1;
        return true;
      }
    }
  }
  if (field == 5) {
    for (int i = 0; i < 7; ++i) {
      if (upper == kDayNames[i]) {
        *value = i + 1;
        return true;
      }
    }
  }
  if (token.empty() || token.size() > 4) return false;
  int v = 0;
  for (char c : token) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  if (field == 5 && v == 0) v = 7;  // Spring: 0 and 7 are Sunday
  *value = v;
  return true;
}

template <size_t N>
absl::Status ParseField(std::string_view text, std::string_view field_text, int field, int min,
                        int max, std::bitset<N>* bits, bool* last_day) {
  for (const std::string& part : Split(field_text, ',')) {
    if (part.empty()) return Invalid("cron expression", text, "empty list entry");
    if (field == 3 && Upper(part) == "L") {
      *last_day = true;
      continue;
    }
    std::string range = part;
    int step = 1;
    size_t slash = part.find('/');
    if (slash != std::string::npos) {
      range = part.substr(0, slash);
      int parsed_step = 0;
      if (!FieldValue(part.substr(slash + 1), 0, &parsed_step) || parsed_step < 1) {
        return Invalid("cron expression", text, StrCat("bad step in '", part, "'"));
      }
      step = parsed_step;
    }
    int from = min;
    int to = max;
    if (range == "*" || range == "?") {
      // the whole range
    } else {
      size_t dash = range.find('-');
      int a = 0;
      int b = 0;
      if (dash != std::string::npos) {
        if (!FieldValue(range.substr(0, dash), field, &a) ||
            !FieldValue(range.substr(dash + 1), field, &b)) {
          return Invalid("cron expression", text, StrCat("bad range '", part, "'"));
        }
      } else {
        if (!FieldValue(range, field, &a)) {
          return Invalid("cron expression", text,
                         StrCat("unsupported field '", part,
                                "' (Tern supports numbers, names, *, "
                                "?, ranges, lists, steps and L for the last day of the month)"));
        }
        b = slash != std::string::npos ? max : a;
      }
      from = a;
      to = b;
    }
    if (from < min || to > max || from > to) {
      return Invalid("cron expression", text, StrCat("'", part, "' is outside ", min, "-", max));
    }
    for (int v = from; v <= to; v += step) bits->set(static_cast<size_t>(v));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Cron> Cron::Parse(std::string_view raw) {
  std::string text = Trim(raw);
  std::string expanded = text;
  std::string macro = Upper(text);
  if (macro == "@YEARLY" || macro == "@ANNUALLY") expanded = "0 0 0 1 1 *";
  if (macro == "@MONTHLY") expanded = "0 0 0 1 * *";
  if (macro == "@WEEKLY") expanded = "0 0 0 * * 0";
  if (macro == "@DAILY" || macro == "@MIDNIGHT") expanded = "0 0 0 * * *";
  if (macro == "@HOURLY") expanded = "0 0 * * * *";
  std::vector<std::string> fields;
  for (const std::string& f : Split(expanded, ' ')) {
    if (!f.empty()) fields.push_back(f);
  }
  if (fields.size() != 6) {
    return Invalid("cron expression", text,
                   "expected six fields: second minute hour day-of-month month day-of-week");
  }
  Cron cron;
  bool unused = false;
  absl::Status status = ParseField(text, fields[0], 0, 0, 59, &cron.seconds_, &unused);
  if (status.ok()) status = ParseField(text, fields[1], 1, 0, 59, &cron.minutes_, &unused);
  if (status.ok()) status = ParseField(text, fields[2], 2, 0, 23, &cron.hours_, &unused);
  if (status.ok()) {
    status = ParseField(text, fields[3], 3, 1, 31, &cron.days_of_month_, &cron.last_day_of_month_);
  }
  if (status.ok()) status = ParseField(text, fields[4], 4, 1, 12, &cron.months_, &unused);
  if (status.ok()) status = ParseField(text, fields[5], 5, 1, 7, &cron.days_of_week_, &unused);
  if (!status.ok()) return status;
  return cron;
}

std::optional<int64_t> Cron::Next(int64_t after_ms) const {
  int64_t start_second = after_ms >= 0 ? after_ms / 1000 + 1 : 0;
  int64_t day = start_second / 86400;
  int64_t second_of_day = start_second % 86400;
  for (int64_t n = 0; n < 5 * 366; ++n, ++day, second_of_day = 0) {
    int64_t year = 0;
    int month = 0;
    int dom = 0;
    feel::CivilFromDays(day, &year, &month, &dom);
    if (!months_.test(static_cast<size_t>(month))) continue;
    bool dom_ok = days_of_month_.test(static_cast<size_t>(dom)) ||
                  (last_day_of_month_ && dom == feel::DaysInMonth(year, month));
    if (!dom_ok) continue;
    if (!days_of_week_.test(static_cast<size_t>(feel::IsoWeekday(day)))) continue;
    int first_h = static_cast<int>(second_of_day / 3600);
    for (int h = first_h; h < 24; ++h) {
      if (!hours_.test(static_cast<size_t>(h))) continue;
      int first_m = h == first_h ? static_cast<int>(second_of_day / 60 % 60) : 0;
      for (int m = first_m; m < 60; ++m) {
        if (!minutes_.test(static_cast<size_t>(m))) continue;
        int first_s = (h == first_h && m == first_m) ? static_cast<int>(second_of_day % 60) : 0;
        for (int s = first_s; s < 60; ++s) {
          if (seconds_.test(static_cast<size_t>(s))) {
            int64_t ms = (day * 86400 + h * 3600 + m * 60 + s) * 1000;
            if (ms > kMaxDueDateMs) return std::nullopt;
            return ms;
          }
        }
      }
    }
  }
  return std::nullopt;
}

// --- Schedules ---------------------------------------------------------------------------------

namespace {

struct Repeating {
  int32_t repetitions = -1;
  std::optional<int64_t> start_ms;
  Interval interval;
};

bool LooksLikeRepeating(std::string_view text) { return !text.empty() && text[0] == 'R'; }

absl::StatusOr<Repeating> ParseRepeating(std::string_view text) {
  std::vector<std::string> parts = Split(text, '/');
  if (parts.size() < 2 || parts.size() > 3) {
    return Invalid("timer cycle", text, "expected R[n]/[start/]duration");
  }
  Repeating repeating;
  std::string_view count = std::string_view(parts[0]).substr(1);
  if (!count.empty()) {
    int64_t n = 0;
    size_t i = 0;
    if (!ReadNumber(count, i, &n) || i != count.size() || n > INT32_MAX) {
      return Invalid("timer cycle", text, "bad repetition count");
    }
    if (n < 1) return Invalid("timer cycle", text, "the repetition count must be positive");
    repeating.repetitions = static_cast<int32_t>(n);
  }
  std::string_view duration = parts.back();
  if (parts.size() == 3) {
    auto start = ParseDate(parts[1]);
    if (!start.ok()) return start.status();
    repeating.start_ms = *start;
  }
  auto interval = ParseInterval(duration);
  if (!interval.ok()) return interval.status();
  if (interval->negative) return Invalid("timer cycle", text, "the interval must not be negative");
  if (interval->is_zero()) {
    return Invalid("timer cycle", text,
                   "the interval must be longer than zero (a zero interval would fire without "
                   "pause)");
  }
  repeating.interval = *interval;
  return repeating;
}

}  // namespace

absl::StatusOr<Schedule> ScheduleFromText(TimerKind kind, std::string_view raw, int64_t now_ms) {
  std::string text = Trim(raw);
  Schedule schedule;
  switch (kind) {
    case TimerKind::kDuration: {
      auto interval = ParseInterval(text);
      if (!interval.ok()) return interval.status();
      if (interval->negative) {
        return Invalid("timer duration", text, "the duration must not be negative");
      }
      auto due = AddInterval(now_ms, *interval);
      if (!due.ok()) return Invalid("timer duration", text, std::string(due.status().message()));
      schedule.due_ms = *due;
      return schedule;
    }
    case TimerKind::kDate: {
      auto due = ParseDate(text);
      if (!due.ok()) return due.status();
      schedule.due_ms = *due;
      return schedule;
    }
    case TimerKind::kCycle: {
      if (LooksLikeRepeating(text)) {
        auto repeating = ParseRepeating(text);
        if (!repeating.ok()) return repeating.status();
        schedule.repetitions = repeating->repetitions;
        if (repeating->start_ms && *repeating->start_ms > now_ms) {
          schedule.due_ms = *repeating->start_ms;
        } else {
          auto due = AddInterval(now_ms, repeating->interval);
          if (!due.ok()) return Invalid("timer cycle", text, std::string(due.status().message()));
          schedule.due_ms = *due;
        }
        return schedule;
      }
      auto cron = Cron::Parse(text);
      if (!cron.ok()) {
        return Invalid("timer cycle", text,
                       StrCat("expected a repeating interval R[n]/[start/]duration or a cron "
                              "expression; ",
                              cron.status().message()));
      }
      auto next = cron->Next(now_ms);
      if (!next) return Invalid("timer cycle", text, "the cron expression never fires");
      schedule.due_ms = *next;
      schedule.repetitions = -1;
      return schedule;
    }
  }
  return absl::InternalError("unknown timer kind");
}

absl::Status CheckTimerText(TimerKind kind, std::string_view raw) {
  const std::string text = Trim(raw);
  switch (kind) {
    case TimerKind::kDuration: {
      auto interval = ParseInterval(text);
      if (!interval.ok()) return interval.status();
      if (interval->negative) {
        return Invalid("timer duration", text, "the duration must not be negative");
      }
      return absl::OkStatus();
    }
    case TimerKind::kDate:
      return ParseDate(text).status();
    case TimerKind::kCycle: {
      if (LooksLikeRepeating(text)) return ParseRepeating(text).status();
      auto cron = Cron::Parse(text);
      if (!cron.ok()) {
        return Invalid("timer cycle", text,
                       StrCat("expected a repeating interval R[n]/[start/]duration or a cron "
                              "expression; ",
                              cron.status().message()));
      }
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown timer kind");
}

absl::StatusOr<int64_t> NextCycleDue(std::string_view raw, int64_t now_ms) {
  std::string text = Trim(raw);
  if (LooksLikeRepeating(text)) {
    auto repeating = ParseRepeating(text);
    if (!repeating.ok()) return repeating.status();
    return AddInterval(now_ms, repeating->interval);
  }
  auto cron = Cron::Parse(text);
  if (!cron.ok()) return cron.status();
  auto next = cron->Next(now_ms);
  if (!next) return absl::OutOfRangeError("the cron expression never fires again");
  return *next;
}

}  // namespace tern::bpmn::timers
