#pragma once

// Backpressure for one partition: which commands may be refused, how many may be in flight, and
// how much free disk space the partition needs to take on new work. docs/architecture.md
// ("Backpressure") explains the choice of algorithm.
//
// Owned by a PartitionCore and used only on its thread. Time is passed in (read from the
// partition's Clock by the caller), so the simulator drives it deterministically.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tern/record.pb.h"

namespace tern::broker {

// Commands that finish or hand back work already accepted (job complete, fail, throw error,
// yield; activations that deliver existing jobs; cancelling an instance), and commands one
// partition sends another (deployment distribution, message correlation, acknowledgements).
// Refusing them would make accepted work wait longer, or lose an internal step that nobody
// retries in time, so they are always admitted (still counted in flight: they use capacity,
// and new work waits for them).
bool IsExemptFromBackpressure(const record::Record& command);

struct CommandLimiterOptions {
  bool enabled = true;
  int64_t initial_limit = 200;
  int64_t min_limit = 16;
  int64_t max_limit = 4'000;
  // The latency may grow to this multiple of the baseline (the lowest recent window average)
  // before the limit shrinks.
  double tolerance = 2.0;
  // Latencies below this are never a reason to shrink: the partition batches commands (one
  // fsync per batch), and a batch of useful size needs some milliseconds.
  int64_t latency_floor_ms = 25;
  // Latencies above this always are. Any limit that compares latency with its own recent past
  // creeps upwards under sustained saturation (the past it compares with is the creeping
  // present); the ceiling bounds where that can end.
  int64_t latency_ceiling_ms = 200;
  // A measurement window closes after this long, once it holds enough samples.
  int64_t window_ms = 100;
  int64_t window_min_samples = 8;
  // The baseline is the lowest window average within this span.
  int64_t baseline_span_ms = 60'000;
  // Share of a new computed limit taken per window (damps oscillation).
  double smoothing = 0.3;
};

// The latency floor of a replicated partition (see BrokerConfig::backpressure_latency_floor_ms):
// its commit waits for a round trip and a follower's fsync. Measured with bench/cluster_bench.sh
// (3 brokers, replication factor 3, 2 cores): with the 25 ms floor the limit fell to its minimum
// and the cluster completed about half the instances it completes without backpressure, at the
// same latency.
inline constexpr int64_t kReplicatedLatencyFloorMs = 100;

// An adaptive limit on the commands a partition holds (queued, or processed and waiting for
// their batch to commit), gradient style: each window compares the average command latency
// with a target, tolerance × a windowed-minimum baseline kept within [floor, ceiling]; above
// the target the limit shrinks in proportion (never below half per window), below it, and only
// while the limit is actually used, it grows by sqrt(limit).
class CommandLimiter {
 public:
  explicit CommandLimiter(CommandLimiterOptions options = {});

  // Admits a command that may be refused; false when the partition is at its limit.
  bool TryAcquire(int64_t now_ms);
  // Admits an exempt command unconditionally.
  void Acquire();
  // A command admitted at `admitted_ms` left the partition: committed (sample = true, its
  // latency counts), or dropped without a meaningful latency (leadership lost...).
  void Release(int64_t now_ms, int64_t admitted_ms, bool sample);
  // Forgets everything in flight (the partition answered it all: leadership lost).
  void Reset();

  int64_t limit() const { return static_cast<int64_t>(limit_); }
  int64_t in_flight() const { return in_flight_; }
  uint64_t refused() const { return refused_; }
  // The latency figures behind the current limit, for the refusal message and metrics.
  double last_latency_ms() const { return last_window_average_ms_; }
  double baseline_ms() const { return baseline_ms_; }
  const CommandLimiterOptions& options() const { return options_; }

 private:
  void CloseWindow(int64_t now_ms);

  CommandLimiterOptions options_;
  double limit_;
  int64_t in_flight_ = 0;
  uint64_t refused_ = 0;
  // The current window.
  int64_t window_start_ms_ = -1;
  int64_t window_samples_ = 0;
  double window_sum_ms_ = 0;
  int64_t window_max_in_flight_ = 0;
  double last_window_average_ms_ = 0;
  // Recent window averages (time, average) for the baseline minimum.
  std::vector<std::pair<int64_t, double>> recent_;
  double baseline_ms_ = 0;
};

// The free space a partition needs on its data directory's file system to take on new work.
struct DiskWatermark {
  // Exactly one of these applies; neither means the default: 1 GiB, or 10% of the file system
  // when that is less (so that small disks, such as a test tmpfs, are usable).
  uint64_t bytes = 0;
  double percent = 0;
  bool disabled = false;

  uint64_t ThresholdBytes(uint64_t total_bytes) const;
};

// Parses "1GiB", "512MiB", "64M", "1048576", "10%", "0" (off) or "" / "auto" (the default).
absl::StatusOr<DiskWatermark> ParseDiskWatermark(const std::string& text);

struct DiskSpace {
  uint64_t free_bytes = 0;  // available to this (unprivileged) process
  uint64_t total_bytes = 0;
};

// statvfs of `path`.
absl::StatusOr<DiskSpace> ReadDiskSpace(const std::string& path);

// "3.2 MiB" and the like, for messages.
std::string HumanBytes(uint64_t bytes);

}  // namespace tern::broker
