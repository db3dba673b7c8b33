// The gateway's round-trip estimate and the topology deadline derived from it.

#include "gateway/rtt_estimator.h"

#include <gtest/gtest.h>

namespace tern::gateway {
namespace {

TEST(RttEstimatorTest, StartsWithTheInitialDeadline) {
  RttEstimator rtt;
  EXPECT_EQ(rtt.DeadlineMs(), 1'000);
  EXPECT_EQ(rtt.smoothed_ms(), -1);
}

TEST(RttEstimatorTest, FastLinksGetTheFloor) {
  RttEstimator rtt;
  for (int i = 0; i < 20; ++i) rtt.Observe(1);
  EXPECT_EQ(rtt.DeadlineMs(), 200);
}

TEST(RttEstimatorTest, ALinkWithTwoHundredMillisecondRoundTripsGetsAGenerousDeadline) {
  // 100 ms each way between gateway and brokers: the old fixed 200 ms deadline failed every
  // topology question.
  RttEstimator rtt;
  for (int i = 0; i < 20; ++i) rtt.Observe(200 + (i % 3) * 10);
  EXPECT_GE(rtt.DeadlineMs(), 3 * 200);
  EXPECT_LE(rtt.DeadlineMs(), 1'000);
}

TEST(RttEstimatorTest, JitterWidensTheDeadline) {
  RttEstimator steady;
  RttEstimator jittery;
  for (int i = 0; i < 40; ++i) {
    steady.Observe(100);
    jittery.Observe(i % 2 == 0 ? 20 : 180);
  }
  EXPECT_GT(jittery.DeadlineMs(), steady.DeadlineMs());
}

TEST(RttEstimatorTest, TimeoutsDoubleTheDeadlineUpToTheCeilingAndAnAnswerResetsIt) {
  // A link whose latency jumps: answers stop arriving within the short deadline, so there are
  // no samples; only the backoff lets calls succeed again.
  RttEstimator rtt;
  for (int i = 0; i < 20; ++i) rtt.Observe(5);
  EXPECT_EQ(rtt.DeadlineMs(), 200);
  rtt.OnTimeout();
  EXPECT_EQ(rtt.DeadlineMs(), 400);
  rtt.OnTimeout();
  EXPECT_EQ(rtt.DeadlineMs(), 800);
  for (int i = 0; i < 30; ++i) rtt.OnTimeout();
  EXPECT_EQ(rtt.DeadlineMs(), 10'000);
  rtt.Observe(600);
  // The backoff ends with the answer; the estimate moves towards the new round trip.
  EXPECT_LT(rtt.DeadlineMs(), 10'000);
  for (int i = 0; i < 40; ++i) rtt.Observe(600);
  EXPECT_GE(rtt.DeadlineMs(), 1'800);
  EXPECT_LE(rtt.DeadlineMs(), 2'500);
}

TEST(RttEstimatorTest, OptionsSetFloorCeilingAndMultiple) {
  RttEstimatorOptions options;
  options.floor_ms = 50;
  options.ceiling_ms = 500;
  options.multiple = 2;
  options.initial_deadline_ms = 300;
  RttEstimator rtt(options);
  EXPECT_EQ(rtt.DeadlineMs(), 300);
  for (int i = 0; i < 40; ++i) rtt.Observe(10);
  EXPECT_EQ(rtt.DeadlineMs(), 50);
  for (int i = 0; i < 40; ++i) rtt.Observe(1'000);
  EXPECT_EQ(rtt.DeadlineMs(), 500);
}

}  // namespace
}  // namespace tern::gateway
