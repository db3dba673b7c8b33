#pragma once

#include <cstdint>
#include <string>

namespace tern::base {

// The only way broker code learns the time. The engine never sees a Clock: the partition leader
// reads it once per batch and stamps the value on the records it writes, so replaying the log
// reproduces every decision. Simulation tests substitute a manual clock.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch; may jump (NTP). Used only to stamp records.
  virtual int64_t WallMillis() = 0;
  // Monotonic milliseconds from an arbitrary origin. Used for timeouts and ticks.
  virtual int64_t MonotonicMillis() = 0;
};

// Epoch milliseconds as UTC RFC 3339 text with milliseconds: 2024-01-02T03:04:05.678Z (the form
// Camunda's REST API and log collectors expect).
std::string FormatIsoMillisUtc(int64_t epoch_ms);

// The process clock (system_clock and steady_clock).
Clock& SystemClock();

// A clock that only moves when told to; for tests and the deterministic simulator.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_millis = 1'700'000'000'000, int64_t monotonic_millis = 0)
      : wall_millis_(wall_millis), monotonic_millis_(monotonic_millis) {}
  int64_t WallMillis() override { return wall_millis_; }
  int64_t MonotonicMillis() override { return monotonic_millis_; }
  void Advance(int64_t millis) {
    wall_millis_ += millis;
    monotonic_millis_ += millis;
  }
  void SetWall(int64_t wall_millis) { wall_millis_ = wall_millis; }

 private:
  int64_t wall_millis_;
  int64_t monotonic_millis_;
};

}  // namespace tern::base
