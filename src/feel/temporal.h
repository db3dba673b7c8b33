#pragma once

// FEEL temporal values (DMN 1.5 §10.3.2.3.4-7): date, time, date and time, days and time
// duration, years and months duration. Plain value structs plus parsing, formatting and
// arithmetic. Calendar arithmetic is proleptic Gregorian on day numbers; named zones are
// resolved with Abseil's time zone library (cctz), which reads the system tz database
// (/usr/share/zoneinfo, Debian package tzdata). libstdc++ 12 has no std::chrono::tzdb.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::feel {

// How a time or date-and-time is anchored.
enum class ZoneKind : uint8_t {
  kLocal,   // no offset, no zone ("10:00:00")
  kOffset,  // fixed offset ("10:00:00+01:00", "...Z")
  kZoneId,  // IANA zone ("10:00:00@Europe/Paris"); offset resolved per date
};

struct Date {
  int64_t days = 0;  // since 1970-01-01
  bool operator==(const Date&) const = default;
};

struct Time {
  int64_t nanos = 0;  // nanoseconds since midnight, [0, 86400e9)
  ZoneKind zone_kind = ZoneKind::kLocal;
  int32_t offset_seconds = 0;  // for kOffset (and the resolved offset for kZoneId)
  std::string zone_id;         // for kZoneId
};

struct DateTime {
  int64_t days = 0;   // local date, days since 1970-01-01
  int64_t nanos = 0;  // local time of day
  ZoneKind zone_kind = ZoneKind::kLocal;
  int32_t offset_seconds = 0;  // kOffset: as given; kZoneId: resolved for this local time
  std::string zone_id;
};

// Normalised like java.time.Duration: nanos in [0, 1e9), sign carried by seconds.
struct DaysTimeDuration {
  int64_t seconds = 0;
  int32_t nanos = 0;
  bool operator==(const DaysTimeDuration&) const = default;
};

struct YearsMonthsDuration {
  int64_t months = 0;
  bool operator==(const YearsMonthsDuration&) const = default;
};

// ---- Civil calendar helpers ----
int64_t DaysFromCivil(int64_t year, int month, int day);
void CivilFromDays(int64_t days, int64_t* year, int* month, int* day);
bool IsLeapYear(int64_t year);
int DaysInMonth(int64_t year, int month);
// ISO weekday, 1 = Monday ... 7 = Sunday.
int IsoWeekday(int64_t days);

// ---- Parsing (ISO 8601 / XML Schema forms used by FEEL) ----
std::optional<Date> ParseDate(std::string_view text);
std::optional<Time> ParseTime(std::string_view text);
std::optional<DateTime> ParseDateTime(std::string_view text);
std::optional<DaysTimeDuration> ParseDaysTimeDuration(std::string_view text);
std::optional<YearsMonthsDuration> ParseYearsMonthsDuration(std::string_view text);
// Validates an IANA zone id against the tz database and computes the offset at a local time.
bool IsKnownZone(std::string_view zone_id);
// Offset in seconds for the local date-time in `zone_id` (earlier offset for ambiguous times).
std::optional<int32_t> ZoneOffsetAtLocal(std::string_view zone_id, int64_t days, int64_t nanos);
std::optional<int32_t> ZoneOffsetAtInstant(std::string_view zone_id, int64_t epoch_seconds);

// ---- Formatting (feel-scala / java.time style) ----
std::string FormatDate(const Date& d);
std::string FormatTime(const Time& t);
std::string FormatDateTime(const DateTime& dt);
std::string FormatDaysTimeDuration(const DaysTimeDuration& d);
std::string FormatYearsMonthsDuration(const YearsMonthsDuration& d);
std::string FormatOffset(int32_t offset_seconds);  // "Z" for 0, else "+01:00"

// ---- Instants and arithmetic ----
// Seconds since the epoch (UTC) and nanos; for local values the local clock reading as if UTC.
int64_t EpochSeconds(const DateTime& dt);
// DateTime from an instant in a zone (kOffset or kZoneId) or as local.
DateTime DateTimeFromEpoch(int64_t epoch_seconds, int32_t nanos, ZoneKind kind,
                           int32_t offset_seconds, std::string_view zone_id);
// Re-resolve the zone offset after the local fields changed (kZoneId only).
bool ResolveZoneOffset(DateTime* dt);

std::optional<DaysTimeDuration> DurationFromNanos(__int128 nanos);
__int128 TotalNanos(const DaysTimeDuration& d);

}  // namespace tern::feel
