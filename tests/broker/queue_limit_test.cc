// The partition's hard queue limit holds for every command: commands that finish accepted work
// (job completions) skip backpressure and the soft queue limit, but a sender that floods them
// is still refused once the hard limit is reached, so the queue never grows without bound.
// One single-member PartitionCore on a manual clock; the test submits without polling, so
// nothing is taken off the queue while it fills.

#include <gtest/gtest.h>

#include <vector>

#include "base/clock.h"
#include "broker/partition_core.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "journal/file_system.h"

namespace tern::broker {
namespace {

TEST(QueueLimitTest, ExemptCommandsAreRefusedOnlyBeyondTheHardLimit) {
  base::ManualClock clock;
  journal::MemFileSystem file_system;
  PartitionConfig config;
  config.directory = "/partition-1";
  config.max_queued_commands = 2;
  config.max_queued_commands_hard = 5;
  PartitionEnvironment environment;
  environment.clock = &clock;
  environment.file_system = &file_system;
  environment.state = NewMemoryBackend();
  environment.seed = 7;
  auto opened = PartitionCore::Open(std::move(config), std::move(environment));
  ASSERT_TRUE(opened.ok()) << opened.status();
  PartitionCore& core = **opened;
  core.Start();
  for (int step = 0; step < 200 && !(core.is_leader() && core.processing_ready()); ++step) {
    clock.Advance(50);
    core.Poll();
  }
  ASSERT_TRUE(core.is_leader() && core.processing_ready());

  std::vector<absl::StatusCode> answers;
  for (int i = 0; i < 8; ++i) {
    record::JobRecord job;
    core.Submit(
        engine::MakeCommand(1000 + i, engine::JobIntent::kComplete, job), 10'000,
        [&](absl::StatusOr<record::Record> answer) { answers.push_back(answer.status().code()); });
  }
  // Five completions queued past the soft limit of two; the sixth and later refused at once.
  ASSERT_EQ(answers.size(), 3u);
  for (auto code : answers) EXPECT_EQ(code, absl::StatusCode::kResourceExhausted);

  // A create (not exempt) is refused as well: the soft limit is long passed.
  record::ProcessInstanceCreationRecord creation;
  creation.set_bpmn_process_id("any");
  core.Submit(
      engine::MakeCommand(-1, engine::ProcessInstanceCreationIntent::kCreate, creation), 10'000,
      [&](absl::StatusOr<record::Record> answer) { answers.push_back(answer.status().code()); });
  ASSERT_EQ(answers.size(), 4u);
  EXPECT_EQ(answers.back(), absl::StatusCode::kResourceExhausted);

  // Polling processes the queued completions (rejected: no such jobs), and every caller hears.
  for (int step = 0; step < 50 && answers.size() < 9; ++step) {
    clock.Advance(50);
    core.Poll();
  }
  EXPECT_EQ(answers.size(), 9u);
}

}  // namespace
}  // namespace tern::broker
