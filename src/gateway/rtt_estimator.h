#pragma once

// A round-trip-time estimate for one gateway-to-broker link, and the deadline derived from it.
//
// The estimate follows TCP's retransmission timer (RFC 6298): a smoothed round trip and its
// mean deviation, updated from each answered call. The deadline is a generous multiple of the
// estimate (so a slow answer is not taken for a lost one), clamped to [floor, ceiling]. A call
// that times out gives no sample (its round trip is unknown, only longer than the deadline), so
// each timeout doubles the deadline until calls are answered again; without that backoff a link
// whose latency jumped would time out forever at the old, short deadline.
//
// Not thread-safe: the owner guards it (the cluster client's mutex).

#include <algorithm>
#include <cstdint>

namespace tern::gateway {

struct RttEstimatorOptions {
  // The deadline before any answer was seen (TCP starts at 1 s too).
  int64_t initial_deadline_ms = 1'000;
  int64_t floor_ms = 200;
  int64_t ceiling_ms = 10'000;
  // deadline = multiple * smoothed round trip + 4 * deviation.
  int64_t multiple = 3;
};

class RttEstimator {
 public:
  explicit RttEstimator(RttEstimatorOptions options = {}) : options_(options) {}

  // A call answered after `rtt_ms`.
  void Observe(int64_t rtt_ms) {
    rtt_ms = std::max<int64_t>(0, rtt_ms);
    if (samples_ == 0) {
      smoothed_ms_ = static_cast<double>(rtt_ms);
      deviation_ms_ = static_cast<double>(rtt_ms) / 2;
    } else {
      double error = static_cast<double>(rtt_ms) - smoothed_ms_;
      deviation_ms_ += ((error < 0 ? -error : error) - deviation_ms_) / 4;
      smoothed_ms_ += error / 8;
    }
    ++samples_;
    backoff_shift_ = 0;
  }

  // A call that got no answer within DeadlineMs().
  void OnTimeout() {
    if (DeadlineMs() < options_.ceiling_ms) ++backoff_shift_;
  }

  int64_t DeadlineMs() const {
    double base = samples_ == 0
                      ? static_cast<double>(options_.initial_deadline_ms)
                      : static_cast<double>(options_.multiple) * smoothed_ms_ + 4 * deviation_ms_;
    base = std::clamp(base, static_cast<double>(options_.floor_ms),
                      static_cast<double>(options_.ceiling_ms));
    double backed_off = base * static_cast<double>(int64_t{1} << std::min(backoff_shift_, 20));
    return static_cast<int64_t>(std::min(backed_off, static_cast<double>(options_.ceiling_ms)));
  }

  // The smoothed round trip, or -1 before any answer.
  int64_t smoothed_ms() const { return samples_ == 0 ? -1 : static_cast<int64_t>(smoothed_ms_); }

 private:
  RttEstimatorOptions options_;
  double smoothed_ms_ = 0;
  double deviation_ms_ = 0;
  int64_t samples_ = 0;
  int backoff_shift_ = 0;
};

}  // namespace tern::gateway
