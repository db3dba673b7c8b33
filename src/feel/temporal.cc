#include "feel/temporal.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace tern::feel {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;
// FEEL allows years -999,999,999..999,999,999 (DMN 1.5 §10.3.2.3.4).
constexpr int64_t kMaxYear = 999'999'999;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// A cursor over the text being parsed.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  // Exactly n digits.
  bool digits(int n, int64_t* out) {
    int64_t v = 0;
    for (int k = 0; k < n; ++k) {
      char c = peek();
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
      ++i;
    }
    *out = v;
    return true;
  }
  // One or more digits (bounded), value clamped by overflow check.
  bool number(int64_t* out, int* count = nullptr) {
    int64_t v = 0;
    int n = 0;
    while (!done() && s[i] >= '0' && s[i] <= '9') {
      if (n >= 18) return false;
      v = v * 10 + (s[i] - '0');
      ++i;
      ++n;
    }
    if (count) *count = n;
    *out = v;
    return n > 0;
  }
};

bool ParseDatePart(Cursor* c, int64_t* days) {
  bool negative = c->eat('-');
  int64_t year = 0;
  int n = 0;
  size_t start = c->i;
  if (!c->number(&year, &n) || n < 4 || n > 9) return false;
  if (n > 4 && c->s[start] == '0') return false;  // no leading zeros beyond 4 digits
  if (negative) year = -year;
  int64_t month = 0, day = 0;
  if (!c->eat('-') || !c->digits(2, &month) || !c->eat('-') || !c->digits(2, &day)) return false;
  if (month < 1 || month > 12) return false;
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) return false;
  *days = DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day));
  return true;
}

// hh:mm(:ss(.fffffffff)?)?; with allow_24, 24:00:00 (end of day) gives 86400e9.
bool ParseTimePart(Cursor* c, int64_t* nanos, bool seconds_required, bool allow_24 = false) {
  int64_t h = 0, m = 0, s = 0, frac = 0;
  if (!c->digits(2, &h) || !c->eat(':') || !c->digits(2, &m)) return false;
  if (c->eat(':')) {
    if (!c->digits(2, &s)) return false;
    if (c->eat('.')) {
      int n = 0;
      while (!c->done() && c->peek() >= '0' && c->peek() <= '9') {
        if (n < 9) frac = frac * 10 + (c->peek() - '0');
        ++n;
        ++c->i;
      }
      if (n == 0) return false;
      for (int k = n; k < 9; ++k) frac *= 10;
    }
  } else if (seconds_required) {
    return false;
  }
  if (allow_24 && h == 24 && m == 0 && s == 0 && frac == 0) {
    *nanos = kNanosPerDay;
    return true;
  }
  if (h > 23 || m > 59 || s > 59) return false;
  *nanos = ((h * 60 + m) * 60 + s) * kNanosPerSecond + frac;
  return true;
}

// Z | +hh:mm(:ss)? | -hh:mm | @Zone/Id | [Zone/Id] (after an offset)
bool ParseZonePart(Cursor* c, ZoneKind* kind, int32_t* offset, std::string* zone) {
  if (c->done()) {
    *kind = ZoneKind::kLocal;
    return true;
  }
  if (c->eat('@')) {
    std::string_view id = c->s.substr(c->i);
    if (id.empty() || !IsKnownZone(id)) return false;
    c->i = c->s.size();
    *kind = ZoneKind::kZoneId;
    *zone = std::string(id);
    return true;
  }
  if (c->eat('Z')) {
    *kind = ZoneKind::kOffset;
    *offset = 0;
  } else {
    char sign = c->peek();
    if (sign != '+' && sign != '-') return false;
    ++c->i;
    int64_t h = 0, m = 0, s = 0;
    if (!c->digits(2, &h) || !c->eat(':') || !c->digits(2, &m)) return false;
    if (c->eat(':') && !c->digits(2, &s)) return false;
    if (h > 18 || m > 59 || s > 59) return false;
    int64_t total = h * 3600 + m * 60 + s;
    if (total > 18 * 3600) return false;
    *kind = ZoneKind::kOffset;
    *offset = static_cast<int32_t>(sign == '-' ? -total : total);
  }
  if (c->eat('[')) {
    size_t close = c->s.find(']', c->i);
    if (close == std::string_view::npos || close + 1 != c->s.size()) return false;
    std::string_view id = c->s.substr(c->i, close - c->i);
    if (!IsKnownZone(id)) return false;
    *kind = ZoneKind::kZoneId;
    *zone = std::string(id);
    c->i = c->s.size();
  }
  return c->done();
}

std::string FormatNanosOfDay(int64_t nanos) {
  int64_t secs = nanos / kNanosPerSecond;
  int64_t frac = nanos % kNanosPerSecond;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d", static_cast<int>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  std::string out = buf;
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof(f), "%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    absl::StrAppend(&out, ".", fs);
  }
  return out;
}

absl::CivilSecond ToCivil(int64_t days, int64_t nanos) {
  int64_t y;
  int mo, d;
  CivilFromDays(days, &y, &mo, &d);
  int64_t secs = nanos / kNanosPerSecond;
  return absl::CivilSecond(y, mo, d, static_cast<int>(secs / 3600),
                           static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
}

}  // namespace

// Howard Hinnant's public-domain civil-from-days algorithms (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (m + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, int* month, int* day) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = y + (m <= 2);
  *month = m;
  *day = d;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

int IsoWeekday(int64_t days) {
  // 1970-01-01 was a Thursday (4).
  int64_t w = (days % 7 + 7) % 7;  // 0 = Thursday
  return static_cast<int>((w + 3) % 7) + 1;
}

std::optional<Date> ParseDate(std::string_view text) {
  Cursor c{text};
  int64_t days;
  if (!ParseDatePart(&c, &days) || !c.done()) return std::nullopt;
  return Date{days};
}

std::optional<Time> ParseTime(std::string_view text) {
  Cursor c{text};
  Time t;
  if (!ParseTimePart(&c, &t.nanos, false)) return std::nullopt;
  if (!ParseZonePart(&c, &t.zone_kind, &t.offset_seconds, &t.zone_id)) return std::nullopt;
  if (t.zone_kind == ZoneKind::kZoneId) {
    // A time with a zone id has no date; use the zone's current standard rules at 1970-01-01
    // like java.time's ZonedTime does with its reference date.
    auto off = ZoneOffsetAtLocal(t.zone_id, 0, t.nanos);
    if (!off) return std::nullopt;
    t.offset_seconds = *off;
  }
  return t;
}

std::optional<DateTime> ParseDateTime(std::string_view text) {
  Cursor c{text};
  DateTime dt;
  if (!ParseDatePart(&c, &dt.days)) return std::nullopt;
  if (!c.eat('T')) return std::nullopt;
  if (!ParseTimePart(&c, &dt.nanos, false, /*allow_24=*/true)) return std::nullopt;
  if (!ParseZonePart(&c, &dt.zone_kind, &dt.offset_seconds, &dt.zone_id)) return std::nullopt;
  if (dt.nanos == kNanosPerDay) {  // 24:00:00 is midnight of the next day (XML Schema)
    dt.nanos = 0;
    ++dt.days;
  }
  if (dt.zone_kind == ZoneKind::kZoneId && !ResolveZoneOffset(&dt)) return std::nullopt;
  return dt;
}

std::optional<DaysTimeDuration> ParseDaysTimeDuration(std::string_view text) {
  Cursor c{text};
  bool negative = c.eat('-');
  if (!c.eat('P')) return std::nullopt;
  __int128 nanos = 0;
  bool any = false;
  auto add = [&](int64_t v, int64_t unit_seconds) {
    nanos += __int128{v} * unit_seconds * kNanosPerSecond;
  };
  int64_t v;
  size_t save = c.i;
  if (c.number(&v)) {
    if (!c.eat('D')) return std::nullopt;
    add(v, 86400);
    any = true;
  } else {
    c.i = save;
  }
  if (c.eat('T')) {
    bool any_time = false;
    int stage = 0;  // 0: expect H/M/S, 1: after H, 2: after M
    while (!c.done()) {
      if (!c.number(&v)) return std::nullopt;
      if (c.eat('H')) {
        if (stage >= 1) return std::nullopt;
        add(v, 3600);
        stage = 1;
      } else if (c.eat('M')) {
        if (stage >= 2) return std::nullopt;
        add(v, 60);
        stage = 2;
      } else {
        int64_t frac = 0;
        if (c.eat('.')) {
          int n = 0;
          while (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
            if (n < 9) frac = frac * 10 + (c.peek() - '0');
            ++n;
            ++c.i;
          }
          for (int k = n; k < 9; ++k) frac *= 10;
        }
        if (!c.eat('S')) return std::nullopt;
        add(v, 1);
        nanos += frac;
        stage = 3;
        any_time = true;
        break;
      }
      any_time = true;
    }
    if (!any_time) return std::nullopt;
    any = true;
  }
  if (!any || !c.done()) return std::nullopt;
  return DurationFromNanos(negative ? -nanos : nanos);
}

std::optional<YearsMonthsDuration> ParseYearsMonthsDuration(std::string_view text) {
  Cursor c{text};
  bool negative = c.eat('-');
  if (!c.eat('P')) return std::nullopt;
  int64_t months = 0;
  bool any = false;
  int64_t v;
  size_t save = c.i;
  if (c.number(&v)) {
    if (c.eat('Y')) {
      if (v > kMaxYear) return std::nullopt;
      months += v * 12;
      any = true;
      save = c.i;
      if (c.number(&v)) {
        if (!c.eat('M')) return std::nullopt;
        months += v;
      } else {
        c.i = save;
      }
    } else if (c.eat('M')) {
      months += v;
      any = true;
    } else {
      return std::nullopt;
    }
  }
  if (!any || !c.done()) return std::nullopt;
  if (months > kMaxYear * 12) return std::nullopt;
  return YearsMonthsDuration{negative ? -months : months};
}

bool IsKnownZone(std::string_view zone_id) {
  if (zone_id.empty() || zone_id.size() > 64) return false;
  for (char ch : zone_id) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '/' || ch == '_' || ch == '-' || ch == '+';
    if (!ok) return false;
  }
  if (zone_id.find("..") != std::string_view::npos) return false;
  absl::TimeZone tz;
  return absl::LoadTimeZone(std::string(zone_id), &tz);
}

std::optional<int32_t> ZoneOffsetAtLocal(std::string_view zone_id, int64_t days, int64_t nanos) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(zone_id), &tz)) return std::nullopt;
  absl::TimeZone::TimeInfo info = tz.At(ToCivil(days, nanos));
  // Ambiguous (fall back): the earlier offset, as java.time does. Skipped (spring forward):
  // the offset before the gap, which moves the wall time forward.
  absl::Time t = info.pre;
  return tz.At(t).offset;
}

std::optional<int32_t> ZoneOffsetAtInstant(std::string_view zone_id, int64_t epoch_seconds) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(zone_id), &tz)) return std::nullopt;
  return tz.At(absl::FromUnixSeconds(epoch_seconds)).offset;
}

std::string FormatDate(const Date& d) {
  int64_t y;
  int m, day;
  CivilFromDays(d.days, &y, &m, &day);
  char buf[48];
  if (y < 0) {
    std::snprintf(buf, sizeof(buf), "-%04lld-%02d-%02d", static_cast<long long>(-y), m, day);
  } else {
    std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d", static_cast<long long>(y), m, day);
  }
  return buf;
}

std::string FormatOffset(int32_t offset) {
  if (offset == 0) return "Z";
  char sign = offset < 0 ? '-' : '+';
  int32_t a = offset < 0 ? -offset : offset;
  char buf[24];
  if (a % 60 != 0) {
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d:%02d", sign, a / 3600, a / 60 % 60, a % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d", sign, a / 3600, a / 60 % 60);
  }
  return buf;
}

std::string FormatTime(const Time& t) {
  std::string out = FormatNanosOfDay(t.nanos);
  switch (t.zone_kind) {
    case ZoneKind::kLocal:
      break;
    case ZoneKind::kOffset:
      out += FormatOffset(t.offset_seconds);
      break;
    case ZoneKind::kZoneId:
      absl::StrAppend(&out, "@", t.zone_id);
      break;
  }
  return out;
}

std::string FormatDateTime(const DateTime& dt) {
  std::string out = absl::StrCat(FormatDate(Date{dt.days}), "T", FormatNanosOfDay(dt.nanos));
  switch (dt.zone_kind) {
    case ZoneKind::kLocal:
      break;
    case ZoneKind::kOffset:
      out += FormatOffset(dt.offset_seconds);
      break;
    case ZoneKind::kZoneId:
      absl::StrAppend(&out, "@", dt.zone_id);
      break;
  }
  return out;
}

std::string FormatDaysTimeDuration(const DaysTimeDuration& d) {
  __int128 total = TotalNanos(d);
  bool negative = total < 0;
  if (negative) total = -total;
  __int128 secs = total / kNanosPerSecond;
  int64_t frac = static_cast<int64_t>(total % kNanosPerSecond);
  int64_t days = static_cast<int64_t>(secs / 86400);
  int64_t hours = static_cast<int64_t>(secs / 3600 % 24);
  int64_t minutes = static_cast<int64_t>(secs / 60 % 60);
  int64_t seconds = static_cast<int64_t>(secs % 60);
  if (total == 0) return "P0D";
  std::string out = negative ? "-P" : "P";
  if (days != 0) absl::StrAppend(&out, days, "D");
  if (hours != 0 || minutes != 0 || seconds != 0 || frac != 0) {
    out += "T";
    if (hours != 0) absl::StrAppend(&out, hours, "H");
    if (minutes != 0) absl::StrAppend(&out, minutes, "M");
    if (seconds != 0 || frac != 0) {
      absl::StrAppend(&out, seconds);
      if (frac != 0) {
        char f[16];
        std::snprintf(f, sizeof(f), "%09lld", static_cast<long long>(frac));
        std::string fs = f;
        while (!fs.empty() && fs.back() == '0') fs.pop_back();
        absl::StrAppend(&out, ".", fs);
      }
      out += "S";
    }
  }
  return out;
}

std::string FormatYearsMonthsDuration(const YearsMonthsDuration& d) {
  if (d.months == 0) return "P0Y";
  bool negative = d.months < 0;
  int64_t m = negative ? -d.months : d.months;
  std::string out = negative ? "-P" : "P";
  if (m / 12 != 0) absl::StrAppend(&out, m / 12, "Y");
  if (m % 12 != 0) absl::StrAppend(&out, m % 12, "M");
  return out;
}

int64_t EpochSeconds(const DateTime& dt) {
  int64_t local = dt.days * 86400 + dt.nanos / kNanosPerSecond;
  if (dt.zone_kind == ZoneKind::kLocal) return local;
  return local - dt.offset_seconds;
}

DateTime DateTimeFromEpoch(int64_t epoch_seconds, int32_t nanos, ZoneKind kind,
                           int32_t offset_seconds, std::string_view zone_id) {
  DateTime dt;
  dt.zone_kind = kind;
  dt.zone_id = std::string(zone_id);
  int32_t offset = 0;
  if (kind == ZoneKind::kOffset) offset = offset_seconds;
  if (kind == ZoneKind::kZoneId) offset = ZoneOffsetAtInstant(zone_id, epoch_seconds).value_or(0);
  dt.offset_seconds = offset;
  int64_t local = epoch_seconds + offset;
  dt.days = FloorDiv(local, 86400);
  dt.nanos = (local - dt.days * 86400) * kNanosPerSecond + nanos;
  return dt;
}

bool ResolveZoneOffset(DateTime* dt) {
  if (dt->zone_kind != ZoneKind::kZoneId) return true;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(dt->zone_id, &tz)) return false;
  absl::TimeZone::TimeInfo info = tz.At(ToCivil(dt->days, dt->nanos));
  int32_t offset = tz.At(info.pre).offset;
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) {
    // Wall time in a gap: shift forward by the gap length like java.time.
    int64_t frac = dt->nanos % kNanosPerSecond;
    absl::Time t = info.pre;
    *dt = DateTimeFromEpoch(absl::ToUnixSeconds(t), static_cast<int32_t>(frac), ZoneKind::kZoneId,
                            0, dt->zone_id);
    return true;
  }
  dt->offset_seconds = offset;
  return true;
}

std::optional<DaysTimeDuration> DurationFromNanos(__int128 nanos) {
  __int128 secs = nanos / kNanosPerSecond;
  __int128 rem = nanos % kNanosPerSecond;
  if (rem < 0) {
    rem += kNanosPerSecond;
    secs -= 1;
  }
  if (secs > INT64_MAX || secs < INT64_MIN) return std::nullopt;
  return DaysTimeDuration{static_cast<int64_t>(secs), static_cast<int32_t>(rem)};
}

__int128 TotalNanos(const DaysTimeDuration& d) {
  return __int128{d.seconds} * kNanosPerSecond + d.nanos;
}

}  // namespace tern::feel
