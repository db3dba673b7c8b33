#include "exporter/settings.h"

#include <cctype>

#include "base/strings.h"

namespace tern::exporter {

absl::StatusOr<int64_t> ParseCount(const std::string& text) {
  if (text.empty() || text.size() > 18) {
    return absl::InvalidArgumentError(StrCat("'", text, "' is not a count"));
  }
  int64_t value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(StrCat("'", text, "' is not a count"));
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

absl::StatusOr<int64_t> ParseByteSize(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  auto number = ParseCount(text.substr(0, digits));
  if (!number.ok()) return absl::InvalidArgumentError(StrCat("'", text, "' is not a byte size"));
  std::string unit = text.substr(digits);
  int64_t multiplier = 0;
  if (unit.empty() || unit == "B") multiplier = 1;
  if (unit == "kB" || unit == "KB") multiplier = 1000;
  if (unit == "KiB") multiplier = 1ll << 10;
  if (unit == "MB") multiplier = 1'000'000;
  if (unit == "MiB") multiplier = 1ll << 20;
  if (unit == "GB") multiplier = 1'000'000'000;
  if (unit == "GiB") multiplier = 1ll << 30;
  if (multiplier == 0) {
    return absl::InvalidArgumentError(StrCat("'", text, "': unknown unit '", unit, "'"));
  }
  return *number * multiplier;
}

}  // namespace tern::exporter
