// The partition's backpressure pieces in isolation: which commands are exempt, how the
// in-flight limit adapts to latency, and the disk watermark syntax.

#include "broker/backpressure.h"

#include <gtest/gtest.h>

#include "engine/intent.h"

namespace tern::broker {
namespace {

record::Record JobCommand(engine::JobIntent intent) {
  record::Record command;
  command.set_record_type(record::COMMAND);
  command.set_intent(static_cast<int32_t>(intent));
  command.mutable_job();
  return command;
}

TEST(BackpressureTest, CommandsThatFinishWorkAreExempt) {
  EXPECT_TRUE(IsExemptFromBackpressure(JobCommand(engine::JobIntent::kComplete)));
  EXPECT_TRUE(IsExemptFromBackpressure(JobCommand(engine::JobIntent::kFail)));
  EXPECT_TRUE(IsExemptFromBackpressure(JobCommand(engine::JobIntent::kThrowError)));
  EXPECT_TRUE(IsExemptFromBackpressure(JobCommand(engine::JobIntent::kYield)));
  EXPECT_FALSE(IsExemptFromBackpressure(JobCommand(engine::JobIntent::kUpdateRetries)));

  record::Record activate;
  activate.mutable_job_batch();
  EXPECT_TRUE(IsExemptFromBackpressure(activate));

  record::Record create;
  create.set_intent(static_cast<int32_t>(engine::ProcessInstanceCreationIntent::kCreate));
  create.mutable_process_instance_creation();
  EXPECT_FALSE(IsExemptFromBackpressure(create));

  record::Record publish;
  publish.mutable_message();
  EXPECT_FALSE(IsExemptFromBackpressure(publish));
  // The same command sent by another partition (a correlation, a distribution) is internal.
  publish.set_source_partition_id(2);
  EXPECT_TRUE(IsExemptFromBackpressure(publish));

  record::Record cancel;
  cancel.set_intent(static_cast<int32_t>(engine::ProcessInstanceIntent::kCancel));
  cancel.mutable_process_instance();
  EXPECT_TRUE(IsExemptFromBackpressure(cancel));
}

TEST(BackpressureTest, RefusesBeyondTheLimitButAdmitsExemptCommands) {
  CommandLimiterOptions options;
  options.initial_limit = 20;
  options.min_limit = 20;
  CommandLimiter limiter(options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(limiter.TryAcquire(0));
  EXPECT_FALSE(limiter.TryAcquire(0));
  EXPECT_EQ(limiter.refused(), 1u);
  limiter.Acquire();  // exempt: always in
  EXPECT_EQ(limiter.in_flight(), 21);
  limiter.Release(5, 0, true);
  limiter.Release(5, 0, true);
  EXPECT_TRUE(limiter.TryAcquire(5));
  limiter.Reset();
  EXPECT_EQ(limiter.in_flight(), 0);
}

TEST(BackpressureTest, DisabledLimiterNeverRefuses) {
  CommandLimiterOptions options;
  options.enabled = false;
  options.initial_limit = 16;
  CommandLimiter limiter(options);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.TryAcquire(0));
  EXPECT_EQ(limiter.refused(), 0u);
}

// Drives the limiter as a fully loaded partition with a fixed service rate would: it always
// holds as many commands as the limit allows, `commands_per_ms` of them finish each millisecond,
// each after in_flight / rate (queueing) plus `fixed_ms`.
struct Simulated {
  double limit = 0;
  double latency_ms = 0;
};

Simulated RunQueue(CommandLimiter& limiter, double commands_per_ms, double fixed_ms,
                   int64_t seconds) {
  int64_t holding = 0;
  double carry = 0;
  for (int64_t now = 0; now < seconds * 1000; ++now) {
    while (limiter.TryAcquire(now)) ++holding;
    carry += commands_per_ms;
    auto finishing = static_cast<int64_t>(carry);
    carry -= static_cast<double>(finishing);
    for (int64_t i = 0; i < finishing && holding > 0; ++i, --holding) {
      double latency = static_cast<double>(limiter.in_flight()) / commands_per_ms + fixed_ms;
      limiter.Release(now, now - static_cast<int64_t>(latency), true);
    }
  }
  return Simulated{static_cast<double>(limiter.limit()), limiter.last_latency_ms()};
}

TEST(BackpressureTest, LimitSettlesWhereLatencyStaysNearTheTarget) {
  CommandLimiterOptions options;
  options.initial_limit = 2'000;
  options.max_limit = 4'000;
  CommandLimiter limiter(options);
  // 5 commands per ms, 5 ms fixed cost: a limit of 2000 means 400 ms of queueing, above the
  // ceiling; the limit must come down until latency is back under it.
  Simulated result = RunQueue(limiter, 5.0, 5.0, 30);
  EXPECT_LT(result.limit, 2'000);
  EXPECT_GE(result.limit, options.min_limit);
  EXPECT_LT(result.latency_ms, 1.2 * static_cast<double>(options.latency_ceiling_ms));
}

TEST(BackpressureTest, LimitStaysNearToleranceFromAnUnloadedStart) {
  CommandLimiterOptions options;
  options.initial_limit = 50;
  CommandLimiter limiter(options);
  // The same partition starting unloaded: the baseline is its low-load latency (15 ms), and the
  // limit settles where latency is about tolerance × that (30 ms), far below the ceiling.
  Simulated result = RunQueue(limiter, 5.0, 5.0, 30);
  EXPECT_GT(result.limit, 50);
  EXPECT_LT(result.latency_ms, 3 * 15.0);
}

TEST(BackpressureTest, LimitGrowsWhileLatencyStaysLow) {
  CommandLimiterOptions options;
  options.initial_limit = 20;
  CommandLimiter limiter(options);
  // 50 commands per ms with no fixed cost: 20 in flight is 0.4 ms, far below the floor; the
  // limit must grow (it is the only thing holding the load back).
  Simulated result = RunQueue(limiter, 50.0, 0.0, 10);
  EXPECT_GT(result.limit, 100);
}

TEST(BackpressureTest, ParsesDiskWatermarks) {
  auto gib = ParseDiskWatermark("1GiB");
  ASSERT_TRUE(gib.ok()) << gib.status();
  EXPECT_EQ(gib->ThresholdBytes(100ull << 30), 1ull << 30);
  auto mib = ParseDiskWatermark("64M");
  ASSERT_TRUE(mib.ok());
  EXPECT_EQ(mib->ThresholdBytes(0), 64ull << 20);
  auto percent = ParseDiskWatermark("10%");
  ASSERT_TRUE(percent.ok());
  EXPECT_EQ(percent->ThresholdBytes(1000), 100u);
  auto off = ParseDiskWatermark("0");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->ThresholdBytes(1000), 0u);
  auto automatic = ParseDiskWatermark("auto");
  ASSERT_TRUE(automatic.ok());
  // 1 GiB on a large disk, 10% on a small one.
  EXPECT_EQ(automatic->ThresholdBytes(100ull << 30), 1ull << 30);
  EXPECT_EQ(automatic->ThresholdBytes(64ull << 20), (64ull << 20) / 10);
  EXPECT_FALSE(ParseDiskWatermark("lots").ok());
  EXPECT_FALSE(ParseDiskWatermark("5 parsecs").ok());
  EXPECT_FALSE(ParseDiskWatermark("150%").ok());
}

TEST(BackpressureTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(512), "512 bytes");
  EXPECT_EQ(HumanBytes(3 << 20), "3.0 MiB");
}

}  // namespace
}  // namespace tern::broker
