#include "broker/backpressure.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "base/strings.h"
#include "engine/intent.h"

namespace tern::broker {

bool IsExemptFromBackpressure(const record::Record& command) {
  if (command.source_partition_id() > 0) return true;
  switch (command.value_case()) {
    case record::Record::kJob: {
      auto intent = static_cast<engine::JobIntent>(command.intent());
      return intent == engine::JobIntent::kComplete || intent == engine::JobIntent::kFail ||
             intent == engine::JobIntent::kThrowError || intent == engine::JobIntent::kYield;
    }
    case record::Record::kJobBatch:
      // Activation hands out jobs of instances already accepted; refusing it only makes them
      // wait. Its volume is bounded by the workers' open requests.
      return true;
    case record::Record::kProcessInstance:
      return command.intent() == static_cast<int32_t>(engine::ProcessInstanceIntent::kCancel);
    case record::Record::kDeployment:
      // As in Zeebe: rare, operator-driven, and the distribution to other partitions it starts
      // must not stall half way.
      return true;
    default:
      return false;
  }
}

CommandLimiter::CommandLimiter(CommandLimiterOptions options)
    : options_(options),
      limit_(static_cast<double>(
          std::clamp(options.initial_limit, options.min_limit, options.max_limit))) {}

bool CommandLimiter::TryAcquire(int64_t now_ms) {
  (void)now_ms;
  if (options_.enabled && in_flight_ >= static_cast<int64_t>(limit_)) {
    ++refused_;
    return false;
  }
  Acquire();
  return true;
}

void CommandLimiter::Acquire() {
  ++in_flight_;
  window_max_in_flight_ = std::max(window_max_in_flight_, in_flight_);
}

void CommandLimiter::Reset() {
  in_flight_ = 0;
  window_start_ms_ = -1;
  window_samples_ = 0;
  window_sum_ms_ = 0;
  window_max_in_flight_ = 0;
}

void CommandLimiter::Release(int64_t now_ms, int64_t admitted_ms, bool sample) {
  if (in_flight_ > 0) --in_flight_;
  if (!sample) return;
  if (window_start_ms_ < 0) window_start_ms_ = now_ms;
  // Millisecond clock: a command committed within the same millisecond took under one.
  window_sum_ms_ += static_cast<double>(std::max<int64_t>(now_ms - admitted_ms, 1));
  ++window_samples_;
  if (window_samples_ >= options_.window_min_samples &&
      now_ms - window_start_ms_ >= options_.window_ms) {
    CloseWindow(now_ms);
  }
}

void CommandLimiter::CloseWindow(int64_t now_ms) {
  double average = window_sum_ms_ / static_cast<double>(window_samples_);
  last_window_average_ms_ = average;
  recent_.emplace_back(now_ms, average);
  recent_.erase(recent_.begin(),
                std::find_if(recent_.begin(), recent_.end(), [&](const auto& window) {
                  return now_ms - window.first <= options_.baseline_span_ms;
                }));
  baseline_ms_ = average;
  for (const auto& window : recent_) baseline_ms_ = std::min(baseline_ms_, window.second);

  double target = std::clamp(
      options_.tolerance * baseline_ms_, static_cast<double>(options_.latency_floor_ms),
      static_cast<double>(std::max(options_.latency_floor_ms, options_.latency_ceiling_ms)));
  double proposed = limit_;
  if (average > target) {
    // Too slow: shrink in proportion to how far above the target, at most by half.
    proposed = limit_ * std::max(0.5, target / average);
  } else if (static_cast<double>(window_max_in_flight_) >= limit_ / 2) {
    // Fast enough and the limit is what holds the load back: probe upwards. A limit that is
    // not used says nothing about a higher one, so it does not grow then.
    proposed = limit_ + std::sqrt(limit_);
  }
  limit_ = limit_ * (1 - options_.smoothing) + proposed * options_.smoothing;
  limit_ = std::clamp(limit_, static_cast<double>(options_.min_limit),
                      static_cast<double>(options_.max_limit));

  window_start_ms_ = now_ms;
  window_samples_ = 0;
  window_sum_ms_ = 0;
  window_max_in_flight_ = in_flight_;
}

uint64_t DiskWatermark::ThresholdBytes(uint64_t total_bytes) const {
  if (disabled) return 0;
  if (bytes > 0) return bytes;
  if (percent > 0) return static_cast<uint64_t>(static_cast<double>(total_bytes) * percent / 100);
  return std::min<uint64_t>(uint64_t{1} << 30, total_bytes / 10);
}

absl::StatusOr<DiskWatermark> ParseDiskWatermark(const std::string& text) {
  DiskWatermark watermark;
  std::string value;
  for (char c : text) {
    if (c != ' ') value.push_back(c);
  }
  if (value.empty() || value == "auto") return watermark;
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        StrCat("disk free-space watermark '", text,
               "': expected bytes with an optional unit (e.g. 1GiB, 512MiB), a percentage of "
               "the disk (e.g. 10%), 0 (off) or auto"));
  };
  size_t digits = 0;
  while (digits < value.size() &&
         (std::isdigit(static_cast<unsigned char>(value[digits])) || value[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return invalid();
  double number = 0;
  try {
    number = std::stod(value.substr(0, digits));
  } catch (...) {
    return invalid();
  }
  std::string unit = value.substr(digits);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit == "%") {
    if (number >= 100) return invalid();
    if (number == 0) watermark.disabled = true;
    watermark.percent = number;
    return watermark;
  }
  double scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else if (unit == "k" || unit == "kb" || unit == "kib") {
    scale = 1024.0;
  } else if (unit == "m" || unit == "mb" || unit == "mib") {
    scale = 1024.0 * 1024;
  } else if (unit == "g" || unit == "gb" || unit == "gib") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "t" || unit == "tb" || unit == "tib") {
    scale = 1024.0 * 1024 * 1024 * 1024;
  } else {
    return invalid();
  }
  if (number == 0) {
    watermark.disabled = true;
    return watermark;
  }
  watermark.bytes = static_cast<uint64_t>(number * scale);
  return watermark;
}

absl::StatusOr<DiskSpace> ReadDiskSpace(const std::string& path) {
  struct statvfs stats {};
  if (::statvfs(path.c_str(), &stats) != 0) {
    return absl::UnavailableError(StrCat("statvfs ", path, ": ", std::strerror(errno)));
  }
  DiskSpace space;
  space.free_bytes = static_cast<uint64_t>(stats.f_bavail) * stats.f_frsize;
  space.total_bytes = static_cast<uint64_t>(stats.f_blocks) * stats.f_frsize;
  return space;
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return StrCat(bytes, " bytes");
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, units[unit]);
  return text;
}

}  // namespace tern::broker
