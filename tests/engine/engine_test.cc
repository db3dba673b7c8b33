#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "engine/processing/process_cache.h"
#include "engine/state/engine_state.h"
#include "engine_harness.h"
#include "tests/engine/models.h"

namespace tern::engine {
namespace {

using ::testing::ElementsAre;
using testing::EngineHarness;
using ::testing::HasSubstr;

constexpr int64_t kFirstKey = (int64_t{1} << 51) + 1;

nlohmann::json Json(const std::string& text) { return nlohmann::json::parse(text); }

TEST(EngineTest, KeysStartAtThePartitionBase) {
  EngineHarness harness;
  auto deployed = harness.Deploy("one-task.bpmn", models::kOneTask);
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  EXPECT_EQ(deployed.key() >> 51, 1);
  EXPECT_GE(deployed.key(), kFirstKey);
}

TEST(EngineTest, DeployAssignsVersionsAndRecognisesDuplicates) {
  EngineHarness harness;
  auto first = harness.Deploy("one-task.bpmn", models::kOneTask);
  ASSERT_EQ(first.deployment().processes_size(), 1);
  EXPECT_EQ(first.deployment().processes(0).bpmn_process_id(), "one-task");
  EXPECT_EQ(first.deployment().processes(0).version(), 1);

  auto again = harness.Deploy("one-task.bpmn", models::kOneTask);
  EXPECT_NE(again.key(), first.key());
  EXPECT_EQ(again.deployment().processes(0).version(), 1);
  EXPECT_EQ(again.deployment().processes(0).process_definition_key(),
            first.deployment().processes(0).process_definition_key());

  std::string changed = models::kOneTask;
  changed.replace(changed.find("name=\"Work\""), 11, "name=\"Job\"");
  auto second = harness.Deploy("one-task.bpmn", changed);
  EXPECT_EQ(second.deployment().processes(0).version(), 2);
  EXPECT_NE(second.deployment().processes(0).process_definition_key(),
            first.deployment().processes(0).process_definition_key());
}

// Zeebe 8.6 versions a deployment's resources together: an unchanged resource deployed with a
// changed one becomes a new version as well, so that deployment bindings find it.
TEST(EngineTest, ResourcesOfADeploymentAreVersionedTogether) {
  EngineHarness harness;
  std::string other = models::kOneTask;
  const std::string one_task_id = "id=\"one-task\"";
  other.replace(other.find(one_task_id), one_task_id.size(), "id=\"other-task\"");
  auto deploy_both = [&](const std::string& one_task) {
    record::DeploymentRecord deployment;
    auto* first = deployment.add_resources();
    first->set_resource_name("one-task.bpmn");
    first->set_resource(one_task);
    auto* second = deployment.add_resources();
    second->set_resource_name("other-task.bpmn");
    second->set_resource(other);
    return *harness.Send(MakeCommand(-1, DeploymentIntent::kCreate, deployment));
  };
  auto first = deploy_both(models::kOneTask);
  ASSERT_EQ(first.deployment().processes_size(), 2) << first.rejection_reason();
  auto same = deploy_both(models::kOneTask);
  for (const auto& process : same.deployment().processes()) {
    EXPECT_TRUE(process.is_duplicate()) << process.bpmn_process_id();
    EXPECT_EQ(process.version(), 1);
    EXPECT_EQ(process.deployment_key(), first.key());
  }
  std::string changed = models::kOneTask;
  changed.replace(changed.find("name=\"Work\""), 11, "name=\"Job\"");
  auto together = deploy_both(changed);
  for (const auto& process : together.deployment().processes()) {
    EXPECT_FALSE(process.is_duplicate()) << process.bpmn_process_id();
    EXPECT_EQ(process.version(), 2) << process.bpmn_process_id();
    EXPECT_EQ(process.deployment_key(), together.key());
  }
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, DeployRejectsInvalidResourcesNamingThem) {
  EngineHarness harness;
  auto rejected = harness.Deploy("broken.bpmn", "<not-bpmn/>");
  EXPECT_EQ(rejected.record_type(), record::COMMAND_REJECTION);
  EXPECT_EQ(rejected.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_THAT(rejected.rejection_reason(), HasSubstr("broken.bpmn"));

  auto unknown = harness.Deploy("notes.txt", "hello");
  EXPECT_EQ(unknown.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_THAT(unknown.rejection_reason(), HasSubstr("'notes.txt': unknown resource type"));
}

TEST(EngineTest, DeployEvaluatesStaticTimersAtTheDeploymentsTime) {
  // The text has a duration's form (the validator's check), but from now it ends after
  // 9999-12-31: refused at deploy, not as an incident later.
  EngineHarness harness;
  const std::string model = std::string(models::kHeader) + R"(
  <bpmn:process id="far" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDuration>P9000Y</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
)";
  auto rejected = harness.Deploy("far.bpmn", model);
  EXPECT_EQ(rejected.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_THAT(rejected.rejection_reason(), HasSubstr("'far.bpmn': Element 'wait' (timer)"));
}

TEST(EngineTest, OneTaskProcessRunsToCompletion) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  auto created = harness.CreateInstance("one-task", R"({"orderId": 42})");
  ASSERT_EQ(created.record_type(), record::EVENT) << created.rejection_reason();
  int64_t instance_key = created.process_instance_creation().process_instance_key();

  auto batch = harness.ActivateJobs("work");
  ASSERT_EQ(batch.job_batch().jobs_size(), 1);
  const auto& job = batch.job_batch().jobs(0);
  EXPECT_EQ(job.process_instance_key(), instance_key);
  EXPECT_EQ(job.element_id(), "task");
  EXPECT_EQ(job.retries(), 3);
  EXPECT_EQ(job.worker(), "test-worker");
  EXPECT_EQ(job.deadline(), harness.now() + 60'000);
  EXPECT_EQ(Json(job.variables()), Json(R"({"orderId": 42})"));
  EXPECT_EQ(Json(job.custom_headers()), Json(R"({"priority": "high"})"));

  auto completed = harness.CompleteJob(batch.job_batch().job_keys(0), R"({"done": true})");
  EXPECT_EQ(completed.record_type(), record::EVENT) << completed.rejection_reason();
  EXPECT_THAT(harness.ElementHistory("one-task"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_THAT(harness.ElementHistory("end"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, FinishedInstancesLeaveNoState) {
  EngineHarness harness;
  harness.Deploy("parallel.bpmn", models::kParallel);
  harness.CreateInstance("parallel", R"({"a": 1})");
  EXPECT_GT(harness.CountEntries(state::ColumnFamily::kElementInstance), 0);
  for (std::string type : {"a", "b"}) {
    auto batch = harness.ActivateJobs(type);
    harness.CompleteJob(batch.job_batch().job_keys(0), R"({"b": 2})");
  }
  for (auto cf :
       {state::ColumnFamily::kElementInstance, state::ColumnFamily::kElementInstanceChild,
        state::ColumnFamily::kVariable, state::ColumnFamily::kJob, state::ColumnFamily::kIncident,
        state::ColumnFamily::kAwaitedResult, state::ColumnFamily::kDeferredCommand}) {
    EXPECT_EQ(harness.CountEntries(cf), 0) << state::ColumnFamilyName(cf);
  }
}

TEST(EngineTest, LoanApprovalRoutesOnTheWorkersAnswer) {
  EngineHarness harness;
  harness.Deploy("loan-approval.bpmn", models::kLoanApproval);
  harness.CreateInstance("loan-approval", R"({"applicant": "ann", "amount": 500})");
  harness.CreateInstance("loan-approval", R"({"applicant": "bob", "amount": 50000})");
  auto batch = harness.ActivateJobs("check-credit", 10);
  ASSERT_EQ(batch.job_batch().jobs_size(), 2);
  for (int i = 0; i < 2; ++i) {
    auto variables = Json(batch.job_batch().jobs(i).variables());
    bool approved = variables["amount"].get<int>() < 10000;
    harness.CompleteJob(batch.job_batch().job_keys(i),
                        nlohmann::json({{"approved", approved}}).dump());
  }
  EXPECT_EQ(harness.ElementHistory("approved-end").size(), 4u);
  EXPECT_EQ(harness.ElementHistory("rejected-end").size(), 4u);
  // Per instance: process, start event, task, gateway, end event.
  EXPECT_EQ(harness.Events(ProcessInstanceIntent::kElementCompleted).size(), 2u * 5u);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, ExclusiveGatewayWithoutMatchRaisesIncidentThatResolvesAfterFix) {
  EngineHarness harness;
  harness.Deploy("loan-approval.bpmn", models::kLoanApprovalNoDefault);
  auto created = harness.CreateInstance("loan-approval", R"({"amount": 1})");
  int64_t instance_key = created.process_instance_creation().process_instance_key();
  auto batch = harness.ActivateJobs("check-credit");
  harness.CompleteJob(batch.job_batch().job_keys(0), "{}");  // no "approved" variable

  auto incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].incident().error_type(), "CONDITION_ERROR");
  EXPECT_EQ(incidents[0].incident().element_id(), "decision");

  harness.SetVariables(instance_key, R"({"approved": true})");
  auto resolved = harness.ResolveIncident(incidents[0].key());
  EXPECT_EQ(resolved.record_type(), record::EVENT) << resolved.rejection_reason();
  EXPECT_EQ(harness.ElementHistory("approved-end").size(), 4u);
  EXPECT_THAT(harness.ElementHistory("loan-approval").back(), "ELEMENT_COMPLETED");
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, ParallelGatewayForksAndJoins) {
  EngineHarness harness;
  harness.Deploy("parallel.bpmn", models::kParallel);
  harness.CreateInstance("parallel");
  auto a = harness.ActivateJobs("a");
  auto b = harness.ActivateJobs("b");
  ASSERT_EQ(a.job_batch().jobs_size(), 1);
  ASSERT_EQ(b.job_batch().jobs_size(), 1);
  harness.CompleteJob(a.job_batch().job_keys(0));
  EXPECT_TRUE(harness.ElementHistory("join").empty());
  harness.CompleteJob(b.job_batch().job_keys(0));
  EXPECT_THAT(harness.ElementHistory("join"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_EQ(harness.ElementHistory("parallel").back(), "ELEMENT_COMPLETED");
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, InputAndOutputMappings) {
  EngineHarness harness;
  harness.Deploy("mappings.bpmn", models::kMappings);
  harness.CreateInstance("mappings", R"({"order": {"id": 7, "total": 10}})");
  auto batch = harness.ActivateJobs("work");
  ASSERT_EQ(batch.job_batch().jobs_size(), 1);
  auto variables = Json(batch.job_batch().jobs(0).variables());
  EXPECT_EQ(variables["orderId"], 7);
  EXPECT_EQ(variables["doubled"], 20);
  harness.CompleteJob(batch.job_batch().job_keys(0), R"({"result": "ok"})");
  // Output mapping copies result to status; the job's own variables stay local to the task.
  auto variable_events = harness.Events(VariableIntent::kCreated);
  bool status_on_root = false;
  for (const auto& event : variable_events) {
    if (event.variable().name() == "status") {
      status_on_root = event.variable().scope_key() == event.variable().process_instance_key();
      EXPECT_EQ(event.variable().value(), "\"ok\"");
    }
    if (event.variable().name() == "result") {
      EXPECT_NE(event.variable().scope_key(), event.variable().process_instance_key());
    }
  }
  EXPECT_TRUE(status_on_root);
}

TEST(EngineTest, FailingWithoutRetriesRaisesIncidentAndRetriesResolveIt) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  harness.CreateInstance("one-task");
  int64_t job_key = harness.ActivateJobs("work").job_batch().job_keys(0);
  harness.FailJob(job_key, 2, "first failure");
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 1);
  harness.FailJob(job_key, 0, "boom");
  auto incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].incident().error_type(), "JOB_NO_RETRIES");
  EXPECT_EQ(incidents[0].incident().error_message(), "boom");
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);

  harness.UpdateRetries(job_key, 1);
  harness.ResolveIncident(incidents[0].key());
  auto again = harness.ActivateJobs("work");
  ASSERT_EQ(again.job_batch().jobs_size(), 1);
  EXPECT_EQ(again.job_batch().jobs(0).retries(), 1);
}

TEST(EngineTest, FailWithBackoffWaitsBeforeTheJobReturns) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  harness.CreateInstance("one-task");
  int64_t job_key = harness.ActivateJobs("work").job_batch().job_keys(0);
  harness.FailJob(job_key, 2, "later", 5'000);
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  harness.AdvanceTime(5'000);
  harness.Tick();
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 1);
}

TEST(EngineTest, ActivatedJobsTimeOutAndBecomeActivatableAgain) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  harness.CreateInstance("one-task");
  EXPECT_EQ(harness.ActivateJobs("work", 1, 1'000).job_batch().jobs_size(), 1);
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  harness.AdvanceTime(999);
  harness.Tick();
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  harness.AdvanceTime(1);
  harness.Tick();
  EXPECT_EQ(harness.Events(JobIntent::kTimedOut).size(), 1u);
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 1);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, JobCommandsOnUnknownOrFinishedJobsAreRejected) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  harness.CreateInstance("one-task");
  int64_t job_key = harness.ActivateJobs("work").job_batch().job_keys(0);
  EXPECT_EQ(harness.CompleteJob(job_key).record_type(), record::EVENT);
  auto twice = harness.CompleteJob(job_key);
  EXPECT_EQ(twice.rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(twice.rejection_reason(), "Expected to complete job with key '" +
                                          std::to_string(job_key) + "', but no such job was found");
  EXPECT_EQ(harness.CompleteJob(12345).rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(harness.FailJob(12345, 1).rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(harness.UpdateRetries(job_key, 0).rejection_type(), record::NOT_FOUND);
}

TEST(EngineTest, CreateRejectsUnknownProcessesAndBadVariables) {
  EngineHarness harness;
  auto unknown = harness.CreateInstance("nope");
  EXPECT_EQ(unknown.rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(unknown.rejection_reason(),
            "Expected to find process definition with process ID 'nope', but none found");
  harness.Deploy("one-task.bpmn", models::kOneTask);
  auto array = harness.CreateInstance("one-task", "[1, 2]");
  EXPECT_EQ(array.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_THAT(array.rejection_reason(), HasSubstr("root level object"));
}

TEST(EngineTest, CancelTerminatesEverythingAndCancelsTheJob) {
  EngineHarness harness;
  harness.Deploy("parallel.bpmn", models::kParallel);
  auto created = harness.CreateInstance("parallel");
  int64_t instance_key = created.process_instance_creation().process_instance_key();
  auto answer = harness.Cancel(instance_key);
  EXPECT_EQ(answer.record_type(), record::EVENT) << answer.rejection_reason();
  EXPECT_EQ(harness.Events(JobIntent::kCanceled).size(), 2u);
  EXPECT_EQ(harness.ElementHistory("parallel").back(), "ELEMENT_TERMINATED");
  EXPECT_EQ(harness.ActivateJobs("a").job_batch().jobs_size(), 0);
  EXPECT_EQ(harness.Cancel(instance_key).rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, CreateWithResultAnswersWhenTheInstanceCompletes) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  auto created = harness.CreateInstance("one-task", R"({"x": 1})", /*await=*/true);
  EXPECT_FALSE(created.has_process_instance_creation());  // no answer yet
  auto batch = harness.ActivateJobs("work");
  harness.CompleteJob(batch.job_batch().job_keys(0), R"({"y": 2})");
  ASSERT_EQ(harness.late_responses().size(), 1u);
  const auto& result = harness.late_responses()[0].record.process_instance_result();
  EXPECT_EQ(Json(result.variables()), Json(R"({"x": 1, "y": 2})"));
}

TEST(EngineTest, SetVariablesLocalAndPropagating) {
  EngineHarness harness;
  harness.Deploy("one-task.bpmn", models::kOneTask);
  auto created = harness.CreateInstance("one-task", R"({"a": 1})");
  int64_t instance_key = created.process_instance_creation().process_instance_key();
  auto job = harness.ActivateJobs("work").job_batch().jobs(0);
  harness.SetVariables(job.element_instance_key(), R"({"a": 2, "b": 3})");  // propagate
  harness.SetVariables(job.element_instance_key(), R"({"c": 4})", /*local=*/true);
  auto again = harness.ActivateJobs("work", 1, 1);  // job still activated: nothing
  EXPECT_EQ(again.job_batch().jobs_size(), 0);
  for (const auto& event : harness.Events(VariableIntent::kCreated)) {
    if (event.variable().name() == "b") {
      EXPECT_EQ(event.variable().scope_key(), instance_key);
    }
    if (event.variable().name() == "c") {
      EXPECT_EQ(event.variable().scope_key(), job.element_instance_key());
    }
  }
  auto updated = harness.Events(VariableIntent::kUpdated);
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].variable().name(), "a");
  EXPECT_EQ(harness.SetVariables(999, "{}").rejection_type(), record::NOT_FOUND);
}

TEST(EngineTest, LongChainsAreDeferredToLaterBatchesAndStillFinish) {
  EngineConfig config;
  config.max_follow_ups_per_batch = 10;
  EngineHarness harness(config);
  harness.Deploy("chain.bpmn", models::Chain(40));
  harness.CreateInstance("chain");
  EXPECT_TRUE(harness.engine().has_deferred_commands());
  for (int i = 0; i < 100 && harness.engine().has_deferred_commands(); ++i) harness.Tick();
  EXPECT_FALSE(harness.engine().has_deferred_commands());
  EXPECT_EQ(harness.ElementHistory("chain").back(), "ELEMENT_COMPLETED");
  EXPECT_EQ(harness.ReplayChecksum(config), harness.engine().StateChecksum());
}

TEST(EngineTest, ReplayOfAPartialLogReconstructsPendingDeferredCommands) {
  EngineConfig config;
  config.max_follow_ups_per_batch = 10;
  EngineHarness harness(config);
  harness.Deploy("chain.bpmn", models::Chain(40));
  harness.CreateInstance("chain");
  // A follower that applied the log so far must know the pending commands, so that as a new
  // leader it finishes the chain.
  auto store = state::NewMemoryStore();
  Engine follower(config, *store, nullptr);
  for (const auto& batch : harness.batches()) follower.ApplyBatch(batch);
  EXPECT_TRUE(follower.has_deferred_commands());
  for (int i = 0; i < 100 && follower.has_deferred_commands(); ++i) {
    follower.BeginBatch(harness.now());
    follower.ProcessDeferredCommands();
    follower.EndBatch();
  }
  EXPECT_FALSE(follower.has_deferred_commands());
}

TEST(EngineTest, DeploymentsAreDistributedToEveryPartitionUntilAcknowledged) {
  EngineConfig first_config;
  first_config.partition_id = 1;
  first_config.partition_count = 3;
  EngineHarness first(first_config);
  std::vector<std::unique_ptr<EngineHarness>> others;
  for (int32_t id : {2, 3}) {
    EngineConfig config;
    config.partition_id = id;
    config.partition_count = 3;
    others.push_back(std::make_unique<EngineHarness>(config));
  }
  auto deployed = first.Deploy("one-task.bpmn", models::kOneTask);
  int64_t definition_key = deployed.deployment().processes(0).process_definition_key();
  auto outgoing = first.TakeOutgoing();
  ASSERT_EQ(outgoing.size(), 2u);
  EXPECT_EQ(first.engine().PendingOutgoingCommands().size(), 2u);

  // Partition 2 gets it twice (a retry), partition 3 once; both acknowledge.
  others[0]->Deliver(outgoing[0].command);
  others[0]->Deliver(outgoing[0].command);
  others[1]->Deliver(outgoing[1].command);
  for (auto& other : others) {
    EXPECT_EQ(other->Events(ProcessIntent::kCreated).size(), 1u);
    auto created = other->CreateInstance("one-task");
    ASSERT_EQ(created.record_type(), record::EVENT) << created.rejection_reason();
    EXPECT_EQ(created.process_instance_creation().process_definition_key(), definition_key);
    for (auto& ack : other->TakeOutgoing()) {
      EXPECT_EQ(ack.partition_id, 1);
      first.Deliver(ack.command);
    }
  }
  EXPECT_TRUE(first.engine().PendingOutgoingCommands().empty());
  EXPECT_EQ(first.Events(CommandDistributionIntent::kFinished).size(), 1u);
  // Instances on partition 2 get partition 2's keys.
  auto created = others[0]->CreateInstance("one-task");
  EXPECT_EQ(created.process_instance_creation().process_instance_key() >> 51, 2);
  EXPECT_EQ(first.ReplayChecksum(first_config), first.engine().StateChecksum());
}

// A receive task has no event definition of its own; it still waits for its message.
TEST(EngineTest, ReceiveTaskCompletesWithTheCorrelatedMessage) {
  EngineHarness harness;
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <bpmn:process id="receive" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:receiveTask id="wait" messageRef="m"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  <bpmn:message id="m" name="receipt"><bpmn:extensionElements>
    <zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
</bpmn:definitions>)";
  auto deployed = harness.Deploy("receive.bpmn", xml);
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  harness.CreateInstance("receive", R"({"orderId": "o-1"})", /*await=*/true);
  EXPECT_TRUE(harness.late_responses().empty());
  record::MessageRecord message;
  message.set_name("receipt");
  message.set_correlation_key("o-1");
  message.set_time_to_live(60'000);
  message.set_variables(R"({"receipt": 7})");
  auto published = harness.Send(MakeCommand(-1, MessageIntent::kPublish, message));
  ASSERT_TRUE(published.has_value());
  EXPECT_EQ(published->record_type(), record::EVENT);
  ASSERT_EQ(harness.late_responses().size(), 1u);
  const auto& result = harness.late_responses()[0].record.process_instance_result();
  EXPECT_EQ(Json(result.variables()), Json(R"({"orderId": "o-1", "receipt": 7})"));
  EXPECT_THAT(harness.ElementHistory("wait"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

// Several client commands per batch with a follow-up budget of one, as a busy leader sees them:
// every created instance's chain (activate process, start event, flow, task, job) must reach
// its job however its follow-ups are spread over later batches.
TEST(EngineTest, ChainsSpreadOverManyBatchesByABudgetOfOneAllReachTheirJob) {
  EngineConfig config;
  config.max_follow_ups_per_batch = 1;
  EngineHarness harness(config);
  harness.Deploy("one-task.bpmn", models::kOneTask);
  Engine& engine = harness.engine();
  std::set<int64_t> created;
  std::set<int64_t> with_job;
  std::vector<int64_t> activatable;
  std::vector<record::RecordBatch> batches = harness.batches();
  int64_t now = harness.now();
  int64_t request_id = 1000;
  uint64_t rng = 42;
  auto next = [&rng](uint64_t bound) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % bound;
  };
  auto step = [&](bool clients) {
    now += 25;
    engine.BeginBatch(now);
    engine.ProcessDeferredCommands();
    const int commands = clients ? static_cast<int>(next(5)) : 0;
    for (int i = 0; i < commands; ++i) {
      record::Record command;
      switch (next(3)) {
        case 0: {
          record::ProcessInstanceCreationRecord creation;
          creation.set_bpmn_process_id("one-task");
          creation.set_version(-1);
          command = MakeCommand(-1, ProcessInstanceCreationIntent::kCreate, creation);
          break;
        }
        case 1: {
          record::JobBatchRecord batch;
          batch.set_type("work");
          batch.set_worker("w");
          batch.set_timeout(60'000);
          batch.set_max_jobs_to_activate(3);
          command = MakeCommand(-1, JobBatchIntent::kActivate, batch);
          break;
        }
        default: {
          if (activatable.empty()) continue;
          record::JobRecord job;
          command = MakeCommand(activatable.back(), JobIntent::kComplete, job);
          activatable.pop_back();
          break;
        }
      }
      command.set_has_request(true);
      command.set_request_stream_id(1);
      command.set_request_id(++request_id);
      engine.ProcessClientCommand(std::move(command));
    }
    engine.ProcessDueWork();
    auto output = engine.EndBatch();
    if (BatchHasContent(output.batch)) batches.push_back(output.batch);
    for (const auto& response : output.responses) {
      const auto& answer = response.record;
      if (answer.record_type() != record::EVENT) continue;
      if (Is(answer, ProcessInstanceCreationIntent::kCreated)) {
        created.insert(answer.process_instance_creation().process_instance_key());
      } else if (Is(answer, JobBatchIntent::kActivated)) {
        for (int64_t key : answer.job_batch().job_keys()) activatable.push_back(key);
      }
    }
    for (const auto& record : output.batch.records()) {
      if (record.record_type() == record::EVENT && Is(record, JobIntent::kCreated)) {
        with_job.insert(record.job().process_instance_key());
      }
    }
  };
  for (int i = 0; i < 400; ++i) step(true);
  for (int i = 0; i < 5000 && engine.has_deferred_commands(); ++i) step(false);
  EXPECT_FALSE(engine.has_deferred_commands());
  ASSERT_GT(created.size(), 50u);
  std::vector<int64_t> without_job;
  std::set_difference(created.begin(), created.end(), with_job.begin(), with_job.end(),
                      std::back_inserter(without_job));
  EXPECT_THAT(without_job, ::testing::IsEmpty());
  // A replica that applied the same log holds the same state (pending commands and the key
  // generator included).
  auto store = state::NewMemoryStore();
  Engine replica(config, *store, nullptr);
  for (const auto& batch : batches) replica.ApplyBatch(batch);
  EXPECT_EQ(replica.StateChecksum(), engine.StateChecksum());
}

// The one-task model with `listeners` (zeebe:executionListener elements) on its task.
std::string OneTaskWithListeners(std::string_view listeners) {
  std::string model = models::kOneTask;
  const std::string task_definition = R"(<zeebe:taskDefinition type="work" />)";
  model.replace(model.find(task_definition), task_definition.size(),
                task_definition + "<zeebe:executionListeners>" + std::string(listeners) +
                    "</zeebe:executionListeners>");
  return model;
}

TEST(EngineTest, ExecutionListenersHoldTheirPhaseAndReplayToTheSameState) {
  EngineHarness harness;
  auto deployed = harness.Deploy(
      "one-task.bpmn",
      OneTaskWithListeners(R"(<zeebe:executionListener eventType="start" type="before" />
                              <zeebe:executionListener eventType="end" type="after" retries="1" />)"));
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  harness.CreateInstance("one-task");

  auto before = harness.ActivateJobs("before");
  ASSERT_EQ(before.job_batch().jobs_size(), 1);
  EXPECT_EQ(before.job_batch().jobs(0).job_kind(), record::EXECUTION_LISTENER);
  EXPECT_EQ(before.job_batch().jobs(0).listener_event_type(), record::LISTENER_EVENT_START);
  EXPECT_EQ(before.job_batch().jobs(0).element_id(), "task");
  EXPECT_EQ(Json(before.job_batch().jobs(0).custom_headers()), Json("{}"));
  EXPECT_EQ(harness.ActivateJobs("work").job_batch().jobs_size(), 0);
  EXPECT_THAT(harness.ElementHistory("task"), ElementsAre("ELEMENT_ACTIVATING"));
  harness.CompleteJob(before.job_batch().job_keys(0), R"({"local": 1})");

  auto work = harness.ActivateJobs("work");
  ASSERT_EQ(work.job_batch().jobs_size(), 1);
  EXPECT_EQ(work.job_batch().jobs(0).job_kind(), record::BPMN_ELEMENT);
  EXPECT_EQ(Json(work.job_batch().jobs(0).variables()), Json(R"({"local": 1})"));
  harness.CompleteJob(work.job_batch().job_keys(0), R"({"result": 2})");
  EXPECT_THAT(harness.ElementHistory("task"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING"));

  // The end listener fails without retries: an incident; new retries and a resolve continue.
  auto after = harness.ActivateJobs("after");
  ASSERT_EQ(after.job_batch().jobs_size(), 1);
  int64_t after_key = after.job_batch().job_keys(0);
  harness.FailJob(after_key, 0, "listener down");
  auto incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].incident().error_type(), "EXECUTION_LISTENER_NO_RETRIES");
  harness.UpdateRetries(after_key, 1);
  harness.ResolveIncident(incidents[0].key());
  after = harness.ActivateJobs("after");
  ASSERT_EQ(after.job_batch().jobs_size(), 1);
  harness.CompleteJob(after_key, R"({"audited": true})");
  EXPECT_THAT(harness.ElementHistory("task"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_THAT(harness.ElementHistory("one-task"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  for (auto cf : {state::ColumnFamily::kElementInstance, state::ColumnFamily::kVariable,
                  state::ColumnFamily::kJob, state::ColumnFamily::kIncident}) {
    EXPECT_EQ(harness.CountEntries(cf), 0) << state::ColumnFamilyName(cf);
  }
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(EngineTest, CancellingAnInstanceCancelsItsPendingListenerJob) {
  EngineHarness harness;
  harness.Deploy(
      "one-task.bpmn",
      OneTaskWithListeners(R"(<zeebe:executionListener eventType="start" type="before" />)"));
  auto created = harness.CreateInstance("one-task");
  int64_t instance_key = created.process_instance_creation().process_instance_key();
  auto before = harness.ActivateJobs("before");
  ASSERT_EQ(before.job_batch().jobs_size(), 1);
  harness.Cancel(instance_key);
  EXPECT_EQ(harness.Events(JobIntent::kCanceled).size(), 1u);
  auto late = harness.CompleteJob(before.job_batch().job_keys(0));
  EXPECT_EQ(late.record_type(), record::COMMAND_REJECTION);
  EXPECT_EQ(late.rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kJob), 0);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

// Issue 11: a deployed model is parsed once per broker process. The deploy parses it and the
// deploying partition caches that parse; the other partitions, which receive the deployment
// with the same keys, share the model instead of parsing their copy of the resource again.
TEST(EngineTest, DeployedModelIsParsedOncePerBrokerProcess) {
  std::vector<std::unique_ptr<EngineHarness>> partitions;
  for (int32_t id : {1, 2, 3}) {
    EngineConfig config;
    config.partition_id = id;
    config.partition_count = 3;
    partitions.push_back(std::make_unique<EngineHarness>(config));
  }
  auto deployed = partitions[0]->Deploy("one-task.bpmn", models::kOneTask);
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  const int64_t parses = ProcessCache::parse_count();
  for (auto& outgoing : partitions[0]->TakeOutgoing()) {
    partitions[static_cast<size_t>(outgoing.partition_id - 1)]->Deliver(outgoing.command);
  }
  for (auto& partition : partitions) {
    for (int i = 0; i < 2; ++i) {
      auto created = partition->CreateInstance("one-task");
      ASSERT_EQ(created.record_type(), record::EVENT) << created.rejection_reason();
    }
  }
  EXPECT_EQ(ProcessCache::parse_count(), parses);
}

// The cache holds one model per key: a miss parses the stored resource once, later gets and the
// caches of other partitions reuse that model, and a different resource under the same key (an
// unrelated engine in the same process) is never taken for it.
TEST(EngineTest, ProcessCacheParsesAStoredResourceOnce) {
  constexpr int64_t kKey = 4242;
  auto stored = [](state::EngineState& state, const std::string& resource) {
    record::ProcessRecord process;
    process.set_process_definition_key(kKey);
    process.set_bpmn_process_id("one-task");
    process.set_version(1);
    process.set_resource_name("one-task.bpmn");
    process.set_resource(resource);
    process.set_tenant_id("<default>");
    process.set_deployment_key(kKey - 1);
    state.processes.Put(process);
  };
  auto store = state::NewMemoryStore();
  state::EngineState state(*store);
  stored(state, models::kOneTask);
  const int64_t before = ProcessCache::parse_count();

  ProcessCache cache(state.processes);
  auto model = cache.Get(kKey);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(ProcessCache::parse_count(), before + 1);
  EXPECT_EQ(cache.Get(kKey), model);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_GT(cache.approximate_bytes(), 0u);
  ProcessCache other_partition(state.processes);
  EXPECT_EQ(other_partition.Get(kKey), model);
  EXPECT_EQ(ProcessCache::parse_count(), before + 1);

  auto unrelated_store = state::NewMemoryStore();
  state::EngineState unrelated(*unrelated_store);
  std::string changed = models::kOneTask;
  changed.replace(changed.find("name=\"Work\""), 11, "name=\"Job\"");
  stored(unrelated, changed);
  ProcessCache unrelated_cache(unrelated.processes);
  auto unrelated_model = unrelated_cache.Get(kKey);
  ASSERT_NE(unrelated_model, nullptr);
  EXPECT_NE(unrelated_model, model);
  EXPECT_EQ(unrelated_model->process->Find("task")->name, "Job");
  EXPECT_EQ(ProcessCache::parse_count(), before + 2);

  // Bounded by bytes: a budget smaller than one model keeps just the latest.
  ProcessCache tiny(state.processes, ProcessCache::kDefaultCapacity, /*capacity_bytes=*/1);
  EXPECT_EQ(tiny.Get(kKey), model);
  EXPECT_EQ(tiny.size(), 1u);
}

}  // namespace
}  // namespace tern::engine
