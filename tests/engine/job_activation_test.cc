// Job activation limits: a job too large for the gateway's message raises a
// MESSAGE_SIZE_EXCEEDED incident and never blocks the other jobs of its type; yielded jobs
// return to polling workers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "engine_harness.h"
#include "tests/engine/models.h"

namespace tern::engine {
namespace {

using testing::EngineHarness;
using ::testing::HasSubstr;

constexpr int64_t kSmallMessageBytes = 256 << 10;

EngineConfig SmallMessages() {
  EngineConfig config;
  config.max_message_bytes = kSmallMessageBytes;
  return config;
}

// A JSON document with one string variable of `bytes` characters.
std::string LargeVariable(const std::string& name, size_t bytes) {
  return "{\"" + name + "\":\"" + std::string(bytes, 'x') + "\"}";
}

TEST(JobActivationTest, JobTooLargeForAMessageRaisesAnIncidentAndOthersAreDelivered) {
  EngineHarness harness(SmallMessages());
  harness.Deploy("one-task.bpmn", models::kOneTask);
  // Three variables of 100 KiB each: every one fits a request, together they do not fit.
  int64_t large =
      harness.CreateInstance("one-task").process_instance_creation().process_instance_key();
  for (const char* name : {"a", "b", "c"}) {
    auto updated = harness.SetVariables(large, LargeVariable(name, 100 << 10));
    ASSERT_EQ(updated.record_type(), record::EVENT);
  }
  int64_t small = harness.CreateInstance("one-task", R"({"small":1})")
                      .process_instance_creation()
                      .process_instance_key();

  auto batch = harness.ActivateJobs("work");
  ASSERT_EQ(batch.job_batch().jobs_size(), 1);
  EXPECT_EQ(batch.job_batch().jobs(0).process_instance_key(), small);

  auto incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 1u);
  const auto& incident = incidents[0].incident();
  EXPECT_EQ(incident.error_type(), "MESSAGE_SIZE_EXCEEDED");
  EXPECT_EQ(incident.process_instance_key(), large);
  EXPECT_GT(incident.job_key(), 0);
  EXPECT_THAT(incident.error_message(),
              HasSubstr("can not be activated because it is larger than the configured message "
                        "size (262144 bytes)"));
  // The job is out of activation until the incident is resolved: no second incident.
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  EXPECT_EQ(harness.Events(IncidentIntent::kCreated).size(), 1u);

  // Asking only for a small variable fits; but the job is disabled until resolved.
  harness.SetVariables(large, R"({"a":null,"b":null})");
  auto resolved = harness.ResolveIncident(incidents[0].key());
  ASSERT_EQ(resolved.record_type(), record::EVENT);
  auto again = harness.ActivateJobs("work");
  ASSERT_EQ(again.job_batch().jobs_size(), 1);
  EXPECT_EQ(again.job_batch().jobs(0).process_instance_key(), large);
  // The incident took no retry away.
  EXPECT_EQ(again.job_batch().jobs(0).retries(), batch.job_batch().jobs(0).retries());
  EXPECT_EQ(harness.ReplayChecksum(SmallMessages()), harness.engine().StateChecksum());
}

TEST(JobActivationTest, StillTooLargeAfterResolvingRaisesANewIncident) {
  EngineHarness harness(SmallMessages());
  harness.Deploy("one-task.bpmn", models::kOneTask);
  int64_t instance =
      harness.CreateInstance("one-task").process_instance_creation().process_instance_key();
  harness.SetVariables(instance, LargeVariable("a", 200 << 10));
  harness.SetVariables(instance, LargeVariable("b", 200 << 10));
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  auto first = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(first.size(), 1u);
  harness.ResolveIncident(first[0].key());
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  EXPECT_EQ(harness.Events(IncidentIntent::kCreated).size(), 2u);
  // Fetching only a small variable makes the same job fit.
  auto second = harness.Events(IncidentIntent::kCreated)[1];
  harness.ResolveIncident(second.key());
  auto fetched = harness.ActivateJobs("work", 10, 60'000, {"missing"});
  EXPECT_EQ(fetched.job_batch().jobs_size(), 1);
}

TEST(JobActivationTest, BatchesStopBeforeTheMessageLimitAndTheRestStayActivatable) {
  EngineHarness harness(SmallMessages());
  harness.Deploy("one-task.bpmn", models::kOneTask);
  for (int i = 0; i < 5; ++i) {
    harness.CreateInstance("one-task", LargeVariable("v", 70 << 10));
  }
  auto first = harness.ActivateJobs("work");
  EXPECT_EQ(first.job_batch().jobs_size(), 3);
  EXPECT_TRUE(first.job_batch().truncated());
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 2);
  EXPECT_TRUE(harness.Events(IncidentIntent::kCreated).empty());
}

TEST(JobActivationTest, YieldedJobReturnsToPollingWorkers) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  harness.CreateInstance("one-task");
  int64_t job_key = harness.ActivateJobs("work").job_batch().job_keys(0);
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);

  record::JobRecord empty;
  auto yielded = harness.Send(MakeCommand(job_key, JobIntent::kYield, empty));
  ASSERT_TRUE(yielded.has_value());
  EXPECT_EQ(yielded->record_type(), record::EVENT);
  EXPECT_TRUE(Is(*yielded, JobIntent::kYielded));
  auto again = harness.ActivateJobs("work");
  ASSERT_EQ(again.job_batch().jobs_size(), 1);
  EXPECT_EQ(again.job_batch().job_keys(0), job_key);

  // Only an activated job can be yielded.
  harness.CompleteJob(job_key);
  auto gone = harness.Send(MakeCommand(job_key, JobIntent::kYield, empty));
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->record_type(), record::COMMAND_REJECTION);
}

}  // namespace
}  // namespace tern::engine
