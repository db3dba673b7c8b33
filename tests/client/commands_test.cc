// Every command of tern::Client against a real tern-broker process.
//
// PublishMessage, BroadcastSignal, EvaluateDecision, ModifyProcessInstance,
// MigrateProcessInstance and DeleteResource are not implemented by the broker yet: their tests
// accept UNIMPLEMENTED naming the RPC (and nothing else) until they are; the assertions after
// that check is what the implemented RPC must satisfy.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using std::chrono::milliseconds;
using testing::BrokerProcess;
using testing::Eventually;
using testing::OneTaskProcess;

class CommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker_ = new BrokerProcess();
    broker_->Start();
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }

  Client client() { return broker_->NewClient(); }

  // Deploys a one-task process and returns its definition key.
  int64_t Deploy(const std::string& process_id, const std::string& job_type, int retries = 3) {
    auto deployed =
        client()
            .newDeployResourceCommand()
            .addResourceString(OneTaskProcess(process_id, job_type, retries), process_id + ".bpmn")
            .send()
            .get();
    EXPECT_TRUE(deployed.ok()) << deployed.status();
    if (!deployed.ok() || deployed->processes.empty()) return 0;
    return deployed->processes[0].processDefinitionKey;
  }

  int64_t Start(const std::string& process_id, nlohmann::json variables = nullptr) {
    auto command = client().newCreateInstanceCommand().bpmnProcessId(process_id).latestVersion();
    if (!variables.is_null()) command.variables(std::move(variables));
    auto created = command.send().get();
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->processInstanceKey : 0;
  }

  // Activates exactly one job of `type` (waiting for it to appear).
  ActivatedJob ActivateOne(const std::string& type) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto jobs = client()
                      .newActivateJobsCommand()
                      .jobType(type)
                      .maxJobsToActivate(1)
                      .workerName("commands-test")
                      .timeout(milliseconds(60'000))
                      .requestTimeout(milliseconds(2000))
                      .send()
                      .get();
      EXPECT_TRUE(jobs.ok()) << jobs.status();
      if (jobs.ok() && !jobs->jobs.empty()) return jobs->jobs[0];
    }
    ADD_FAILURE() << "no job of type " << type;
    return ActivatedJob{};
  }

  // Expects the RPC to be one the broker does not implement yet.
  static void ExpectUnimplemented(const Status& status, const std::string& rpc) {
    EXPECT_EQ(status.code(), StatusCode::kUnimplemented) << status;
    EXPECT_NE(status.message().find(rpc), std::string::npos) << status;
  }

  static BrokerProcess* broker_;
};

BrokerProcess* CommandsTest::broker_ = nullptr;

TEST_F(CommandsTest, TopologyDescribesTheSingleBroker) {
  auto topology = client().newTopologyRequest().send().get();
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->clusterSize, 1);
  EXPECT_EQ(topology->partitionsCount, 1);
  EXPECT_EQ(topology->replicationFactor, 1);
  EXPECT_FALSE(topology->gatewayVersion.empty());
  ASSERT_EQ(topology->brokers.size(), 1u);
  ASSERT_EQ(topology->brokers[0].partitions.size(), 1u);
  EXPECT_EQ(topology->brokers[0].partitions[0].partitionId, 1);
  EXPECT_EQ(topology->brokers[0].partitions[0].role, PartitionBrokerRole::kLeader);
  EXPECT_EQ(topology->brokers[0].partitions[0].health, PartitionBrokerHealth::kHealthy);
}

TEST_F(CommandsTest, DeployResourceVersionsAndDeduplicates) {
  auto c = client();
  auto first = c.newDeployResourceCommand()
                   .addResourceString(OneTaskProcess("deploy-a", "deploy-a-job"), "a.bpmn")
                   .send()
                   .get();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->processes.size(), 1u);
  ASSERT_EQ(first->deployments.size(), 1u);
  ASSERT_TRUE(first->deployments[0].process.has_value());
  EXPECT_EQ(first->processes[0].bpmnProcessId, "deploy-a");
  EXPECT_EQ(first->processes[0].version, 1);
  EXPECT_EQ(first->processes[0].resourceName, "a.bpmn");
  EXPECT_EQ(first->processes[0].tenantId, "<default>");
  EXPECT_EQ(first->tenantId, "<default>");
  EXPECT_GT(first->key, 0);

  // The same resource again: a new deployment, but the same definition.
  auto same = c.newDeployResourceCommand()
                  .addResourceString(OneTaskProcess("deploy-a", "deploy-a-job"), "a.bpmn")
                  .send()
                  .get();
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_NE(same->key, first->key);
  EXPECT_EQ(same->processes[0].processDefinitionKey, first->processes[0].processDefinitionKey);
  EXPECT_EQ(same->processes[0].version, 1);

  // A changed resource: version 2.
  auto changed = c.newDeployResourceCommand()
                     .addResourceString(OneTaskProcess("deploy-a", "other-job"), "a.bpmn")
                     .send()
                     .get();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->processes[0].version, 2);
}

TEST_F(CommandsTest, DeployResourceFromFileAndRejections) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("file.bpmn"), OneTaskProcess("deploy-file", "deploy-file-job"));
  auto c = client();
  auto deployed = c.newDeployResourceCommand().addResourceFile(dir.File("file.bpmn")).send().get();
  ASSERT_TRUE(deployed.ok()) << deployed.status();
  EXPECT_EQ(deployed->processes[0].resourceName, dir.File("file.bpmn"));

  auto invalid =
      c.newDeployResourceCommand().addResourceString("<not-bpmn/>", "broken.bpmn").send().get();
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(invalid.status().message().find("broken.bpmn"), std::string::npos) << invalid.status();

  auto none = c.newDeployResourceCommand().send().get();
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CommandsTest, DeployProcessTheDeprecatedWay) {
  auto deployed = client()
                      .newDeployProcessCommand()
                      .addResourceString(OneTaskProcess("legacy", "legacy-job"), "legacy.bpmn")
                      .send()
                      .get();
  ASSERT_TRUE(deployed.ok()) << deployed.status();
  ASSERT_EQ(deployed->processes.size(), 1u);
  EXPECT_EQ(deployed->processes[0].bpmnProcessId, "legacy");
  EXPECT_EQ(deployed->processes[0].tenantId, "<default>");
  EXPECT_GT(deployed->key, 0);
}

TEST_F(CommandsTest, CreateInstanceByIdByKeyAndErrors) {
  int64_t definition = Deploy("create", "create-job");
  auto c = client();
  auto by_id = c.newCreateInstanceCommand()
                   .bpmnProcessId("create")
                   .latestVersion()
                   .variables({{"applicant", "Ada"}, {"amount", 5000}})
                   .send()
                   .get();
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_EQ(by_id->bpmnProcessId, "create");
  EXPECT_EQ(by_id->processDefinitionKey, definition);
  EXPECT_EQ(by_id->version, 1);
  EXPECT_EQ(by_id->tenantId, "<default>");
  EXPECT_GT(by_id->processInstanceKey, 0);

  auto by_key = c.newCreateInstanceCommand().processDefinitionKey(definition).send().get();
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  EXPECT_EQ(by_key->bpmnProcessId, "create");
  EXPECT_NE(by_key->processInstanceKey, by_id->processInstanceKey);

  auto exact = c.newCreateInstanceCommand().bpmnProcessId("create").version(1).send().get();
  EXPECT_TRUE(exact.ok()) << exact.status();

  auto missing = c.newCreateInstanceCommand().bpmnProcessId("no-such-process").send().get();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no-such-process"), std::string::npos);

  auto not_object = c.newCreateInstanceCommand().bpmnProcessId("create").variablesJson("[1]");
  EXPECT_EQ(not_object.send().get().status().code(), StatusCode::kInvalidArgument);

  // The variables reach the job.
  auto job = ActivateOne("create-job");
  auto variables = job.variablesAsJson();
  EXPECT_EQ(variables["applicant"], "Ada");
  EXPECT_EQ(variables["amount"], 5000);
}

TEST_F(CommandsTest, CreateInstanceWithResultWaitsForCompletion) {
  Deploy("with-result", "with-result-job");
  auto c = client();
  auto worker = c.newWorker()
                    .jobType("with-result-job")
                    .handler([](const ActivatedJob& job) -> nlohmann::json {
                      return {{"doubled", job.variablesAsJson()["n"].get<int>() * 2}};
                    })
                    .open();
  ASSERT_TRUE(worker.ok()) << worker.status();
  auto result = c.newCreateInstanceCommand()
                    .bpmnProcessId("with-result")
                    .variable("n", 21)
                    .variable("ignored", true)
                    .withResult()
                    .fetchVariables({"doubled", "n"})
                    .requestTimeout(std::chrono::seconds(20))
                    .send()
                    .get();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->bpmnProcessId, "with-result");
  EXPECT_EQ(result->variablesAsJson(), (nlohmann::json{{"doubled", 42}, {"n", 21}}));
  worker->close();

  // Nobody completes the job now: the gateway gives up after the request timeout.
  auto timed_out = c.newCreateInstanceCommand()
                       .bpmnProcessId("with-result")
                       .variable("n", 1)
                       .withResult()
                       .requestTimeout(milliseconds(500))
                       .send()
                       .get();
  EXPECT_EQ(timed_out.status().code(), StatusCode::kDeadlineExceeded) << timed_out.status();
}

TEST_F(CommandsTest, CancelInstance) {
  Deploy("cancel", "cancel-job");
  int64_t instance = Start("cancel");
  auto c = client();
  auto cancelled = c.newCancelInstanceCommand(instance).send().get();
  EXPECT_TRUE(cancelled.ok()) << cancelled.status();
  auto again = c.newCancelInstanceCommand(instance).send().get();
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound) << again.status();
  // The job went with the instance.
  auto jobs = c.newActivateJobsCommand()
                  .jobType("cancel-job")
                  .requestTimeout(milliseconds(-1))
                  .send()
                  .get();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_TRUE(jobs->jobs.empty());
}

TEST_F(CommandsTest, ActivateJobsReturnsEveryField) {
  Deploy("activate", "activate-job", 4);
  int64_t instance = Start("activate", {{"x", 1}, {"y", "two"}});
  auto job = ActivateOne("activate-job");
  EXPECT_GT(job.key, 0);
  EXPECT_EQ(job.type, "activate-job");
  EXPECT_EQ(job.processInstanceKey, instance);
  EXPECT_EQ(job.bpmnProcessId, "activate");
  EXPECT_EQ(job.processDefinitionVersion, 1);
  EXPECT_GT(job.processDefinitionKey, 0);
  EXPECT_EQ(job.elementId, "task");
  EXPECT_GT(job.elementInstanceKey, 0);
  EXPECT_EQ(job.customHeadersAsJson(), nlohmann::json::object());
  EXPECT_EQ(job.worker, "commands-test");
  EXPECT_EQ(job.retries, 4);
  EXPECT_GT(job.deadline, 0);
  EXPECT_EQ(job.variablesAsJson(), (nlohmann::json{{"x", 1}, {"y", "two"}}));
  EXPECT_EQ(job.tenantId, "<default>");

  // fetchVariables limits what comes back.
  Start("activate", {{"x", 3}, {"y", "four"}});
  auto c = client();
  auto limited = c.newActivateJobsCommand()
                     .jobType("activate-job")
                     .fetchVariables({"y"})
                     .requestTimeout(milliseconds(5000))
                     .send()
                     .get();
  ASSERT_TRUE(limited.ok()) << limited.status();
  ASSERT_EQ(limited->jobs.size(), 1u);
  EXPECT_EQ(limited->jobs[0].variablesAsJson(), (nlohmann::json{{"y", "four"}}));

  auto invalid = c.newActivateJobsCommand().jobType("activate-job").maxJobsToActivate(0);
  EXPECT_EQ(invalid.send().get().status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CommandsTest, CompleteJobAndItsErrors) {
  Deploy("complete", "complete-job");
  Start("complete");
  auto job = ActivateOne("complete-job");
  auto c = client();
  auto completed = c.newCompleteCommand(job.key).variables({{"done", true}}).send().get();
  EXPECT_TRUE(completed.ok()) << completed.status();
  auto again = c.newCompleteCommand(job.key).send().get();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound);
  EXPECT_NE(again.status().message().find("Command 'COMPLETE' rejected"), std::string::npos)
      << again.status();
}

TEST_F(CommandsTest, FailJobDecrementsRetriesAndRetriesCanBeUpdated) {
  Deploy("fail", "fail-job", 3);
  Start("fail");
  auto job = ActivateOne("fail-job");
  auto c = client();
  auto failed = c.newFailCommand(job.key)
                    .retries(job.retries - 1)
                    .errorMessage("try again")
                    .variables({{"attempt", 1}})
                    .send()
                    .get();
  ASSERT_TRUE(failed.ok()) << failed.status();
  auto again = ActivateOne("fail-job");
  EXPECT_EQ(again.key, job.key);
  EXPECT_EQ(again.retries, 2);

  auto updated = c.newUpdateRetriesCommand(job.key).retries(7).send().get();
  ASSERT_TRUE(updated.ok()) << updated.status();
  auto invalid = c.newUpdateRetriesCommand(job.key).retries(0).send().get();
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument) << invalid.status();
  ASSERT_TRUE(c.newFailCommand(job.key).retries(7).send().get().ok());
  EXPECT_EQ(ActivateOne("fail-job").retries, 7);

  auto unknown = c.newUpdateRetriesCommand(job.key + 100000).retries(1).send().get();
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status();
}

TEST_F(CommandsTest, FailJobWithoutRetriesRaisesAnIncident) {
  Deploy("incident", "incident-job", 1);
  Start("incident");
  auto job = ActivateOne("incident-job");
  auto c = client();
  ASSERT_TRUE(c.newFailCommand(job.key).retries(0).errorMessage("broken").send().get().ok());
  // The job is failed (with an incident): completing it is a precondition failure.
  auto complete = c.newCompleteCommand(job.key).send().get();
  EXPECT_EQ(complete.status().code(), StatusCode::kFailedPrecondition) << complete.status();
  // The gateway has no call that lists incidents, so only the rejection of an unknown incident
  // can be checked here.
  auto resolve = c.newResolveIncidentCommand(job.key + 100000).send().get();
  EXPECT_EQ(resolve.status().code(), StatusCode::kNotFound) << resolve.status();
  EXPECT_NE(resolve.status().message().find("Command 'RESOLVE' rejected"), std::string::npos);
}

TEST_F(CommandsTest, ThrowErrorWithoutCatchEventLeavesTheJobInErrorState) {
  Deploy("throw", "throw-job");
  Start("throw");
  auto job = ActivateOne("throw-job");
  auto c = client();
  auto thrown = c.newThrowErrorCommand(job.key)
                    .errorCode("NO_CREDIT")
                    .errorMessage("bureau says no")
                    .send()
                    .get();
  ASSERT_TRUE(thrown.ok()) << thrown.status();
  auto complete = c.newCompleteCommand(job.key).send().get();
  EXPECT_EQ(complete.status().code(), StatusCode::kFailedPrecondition) << complete.status();
}

TEST_F(CommandsTest, UpdateJobTimeout) {
  Deploy("timeout", "timeout-job");
  Start("timeout");
  auto job = ActivateOne("timeout-job");
  auto c = client();
  auto updated = c.newUpdateTimeoutCommand(job.key).timeout(milliseconds(600'000)).send().get();
  EXPECT_TRUE(updated.ok()) << updated.status();
  auto unknown =
      c.newUpdateTimeoutCommand(job.key + 100000).timeout(milliseconds(1000)).send().get();
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status();
}

TEST_F(CommandsTest, SetVariablesOnTheInstance) {
  Deploy("set-vars", "set-vars-job");
  int64_t instance = Start("set-vars", {{"a", 1}});
  auto c = client();
  auto set = c.newSetVariablesCommand(instance).variables({{"b", 2}, {"a", 3}}).send().get();
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_GT(set->key, 0);
  auto local = c.newSetVariablesCommand(instance).variable("c", "local").local(true).send().get();
  ASSERT_TRUE(local.ok()) << local.status();
  auto job = ActivateOne("set-vars-job");
  EXPECT_EQ(job.variablesAsJson(), (nlohmann::json{{"a", 3}, {"b", 2}, {"c", "local"}}));
  auto unknown = c.newSetVariablesCommand(instance + 100000).variable("x", 1).send().get();
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status();
}

TEST_F(CommandsTest, StreamJobsPushesNewJobs) {
  Deploy("stream", "stream-job");
  auto c = client();
  std::mutex mu;
  std::vector<ActivatedJob> received;
  auto stream = c.newStreamJobsCommand()
                    .jobType("stream-job")
                    .workerName("streamer")
                    .timeout(milliseconds(60'000))
                    .consumer([&](ActivatedJob job) {
                      std::lock_guard lock(mu);
                      received.push_back(std::move(job));
                    })
                    .send();
  // The stream registers asynchronously; instances keep coming until one job is pushed.
  std::set<int64_t> instances;
  ASSERT_TRUE(Eventually([&] {
    instances.insert(Start("stream", {{"pushed", true}}));
    std::this_thread::sleep_for(milliseconds(100));
    std::lock_guard lock(mu);
    return !received.empty();
  }));
  stream.cancel();
  EXPECT_TRUE(stream.get().ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(received[0].type, "stream-job");
  EXPECT_EQ(received[0].worker, "streamer");
  EXPECT_TRUE(instances.count(received[0].processInstanceKey));
  EXPECT_EQ(received[0].variablesAsJson()["pushed"], true);
  EXPECT_TRUE(c.newCompleteCommand(received[0].key).send().get().ok());
}

TEST_F(CommandsTest, AsynchronousSendsWithFutureAndCallback) {
  Deploy("async", "async-job");
  auto c = client();
  std::vector<std::future<Result<ProcessInstanceEvent>>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(c.newCreateInstanceCommand().bpmnProcessId("async").variable("i", i).send());
  }
  std::set<int64_t> keys;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status();
    keys.insert(r->processInstanceKey);
  }
  EXPECT_EQ(keys.size(), 10u);

  std::promise<Result<Topology>> topology;
  c.newTopologyRequest().send([&](Result<Topology> r) { topology.set_value(std::move(r)); });
  EXPECT_TRUE(topology.get_future().get().ok());
}

// --- RPCs the broker does not implement yet -----------------------------------------------

TEST_F(CommandsTest, PublishMessage) {
  auto c = client();
  auto published = c.newPublishMessageCommand()
                       .messageName("payment-received")
                       .correlationKey("order-1")
                       .timeToLive(milliseconds(60'000))
                       .messageId("msg-1")
                       .variables({{"amount", 12}})
                       .send()
                       .get();
  if (published.status().code() == StatusCode::kUnimplemented) {
    // Not implemented by the broker yet.
    ExpectUnimplemented(published.status(), "PublishMessage");
    return;
  }
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_GT(published->key, 0);
  EXPECT_EQ(published->tenantId, "<default>");
  // The same message id while the first message lives: ALREADY_EXISTS.
  auto duplicate = c.newPublishMessageCommand()
                       .messageName("payment-received")
                       .correlationKey("order-1")
                       .timeToLive(milliseconds(60'000))
                       .messageId("msg-1")
                       .send()
                       .get();
  EXPECT_EQ(duplicate.status().code(), StatusCode::kAlreadyExists) << duplicate.status();
}

TEST_F(CommandsTest, BroadcastSignal) {
  auto signal =
      client().newBroadcastSignalCommand().signalName("alarm").variable("level", 3).send().get();
  if (signal.status().code() == StatusCode::kUnimplemented) {
    // Not implemented by the broker yet.
    ExpectUnimplemented(signal.status(), "BroadcastSignal");
    return;
  }
  ASSERT_TRUE(signal.ok()) << signal.status();
  EXPECT_GT(signal->key, 0);
  EXPECT_EQ(signal->tenantId, "<default>");
}

constexpr const char* kDecision = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="credit" name="Credit"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="credit-limit" name="Credit limit">
    <decisionTable id="table" hitPolicy="FIRST">
      <input id="in" label="Amount">
        <inputExpression id="expr" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="out" name="approved" typeRef="boolean" />
      <rule id="small"><inputEntry id="r1i"><text>&lt; 10000</text></inputEntry>
        <outputEntry id="r1o"><text>true</text></outputEntry></rule>
      <rule id="large"><inputEntry id="r2i"><text>&gt;= 10000</text></inputEntry>
        <outputEntry id="r2o"><text>false</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
)";

TEST_F(CommandsTest, EvaluateDecision) {
  auto c = client();
  auto deployed =
      c.newDeployResourceCommand().addResourceString(kDecision, "credit.dmn").send().get();
  auto evaluated = c.newEvaluateDecisionCommand()
                       .decisionId("credit-limit")
                       .variable("amount", 500)
                       .send()
                       .get();
  if (evaluated.status().code() == StatusCode::kUnimplemented) {
    // Not implemented by the broker yet (nor, so far, DMN deployments).
    ExpectUnimplemented(evaluated.status(), "EvaluateDecision");
    return;
  }
  ASSERT_TRUE(deployed.ok()) << deployed.status();
  ASSERT_EQ(deployed->decisions.size(), 1u);
  ASSERT_EQ(deployed->decisionRequirements.size(), 1u);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_EQ(evaluated->decisionId, "credit-limit");
  EXPECT_EQ(evaluated->decisionKey, deployed->decisions[0].decisionKey);
  EXPECT_EQ(evaluated->decisionOutputAsJson(), true);
  EXPECT_TRUE(evaluated->failedDecisionId.empty());
  ASSERT_EQ(evaluated->evaluatedDecisions.size(), 1u);
  ASSERT_EQ(evaluated->evaluatedDecisions[0].matchedRules.size(), 1u);
  EXPECT_EQ(evaluated->evaluatedDecisions[0].matchedRules[0].ruleId, "small");
  auto unknown = c.newEvaluateDecisionCommand().decisionId("no-such-decision").send().get();
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument) << unknown.status();
}

TEST_F(CommandsTest, ModifyProcessInstance) {
  Deploy("modify", "modify-job");
  int64_t instance = Start("modify");
  auto job = ActivateOne("modify-job");
  auto c = client();
  auto modified = c.newModifyProcessInstanceCommand(instance)
                      .activateElement("task")
                      .withVariables({{"modified", true}})
                      .terminateElement(job.elementInstanceKey)
                      .send()
                      .get();
  if (modified.status().code() == StatusCode::kUnimplemented) {
    // Not implemented by the broker yet.
    ExpectUnimplemented(modified.status(), "ModifyProcessInstance");
    return;
  }
  ASSERT_TRUE(modified.ok()) << modified.status();
  auto fresh = ActivateOne("modify-job");
  EXPECT_NE(fresh.elementInstanceKey, job.elementInstanceKey);
  EXPECT_EQ(fresh.processInstanceKey, instance);
  EXPECT_EQ(fresh.variablesAsJson()["modified"], true);
  auto old = c.newCompleteCommand(job.key).send().get();
  EXPECT_EQ(old.status().code(), StatusCode::kNotFound) << old.status();
}

TEST_F(CommandsTest, MigrateProcessInstance) {
  Deploy("migrate", "migrate-job");
  int64_t instance = Start("migrate");
  auto job = ActivateOne("migrate-job");
  // Version 2 of the process differs only in its job type.
  int64_t target = Deploy("migrate", "migrate-job-v2");
  auto c = client();
  auto migrated = c.newMigrateProcessInstanceCommand(instance)
                      .migrationPlan(target)
                      .addMappingInstruction("task", "task")
                      .send()
                      .get();
  if (migrated.status().code() == StatusCode::kUnimplemented) {
    // Not implemented by the broker yet.
    ExpectUnimplemented(migrated.status(), "MigrateProcessInstance");
    return;
  }
  ASSERT_TRUE(migrated.ok()) << migrated.status();
  ASSERT_TRUE(c.newFailCommand(job.key).retries(1).send().get().ok());
  // As in Zeebe, migration moves the job to the target definition and element but keeps the
  // job's type (it is not re-evaluated from the target element).
  auto after = ActivateOne("migrate-job");
  EXPECT_EQ(after.key, job.key);
  EXPECT_EQ(after.processInstanceKey, instance);
  EXPECT_EQ(after.processDefinitionKey, target);
  EXPECT_EQ(after.processDefinitionVersion, 2);
}

TEST_F(CommandsTest, DeleteResource) {
  int64_t definition = Deploy("delete-me", "delete-job");
  auto c = client();
  auto deleted = c.newDeleteResourceCommand(definition).send().get();
  if (deleted.status().code() == StatusCode::kUnimplemented) {
    // Not implemented by the broker yet.
    ExpectUnimplemented(deleted.status(), "DeleteResource");
    return;
  }
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  auto create = c.newCreateInstanceCommand().processDefinitionKey(definition).send().get();
  EXPECT_EQ(create.status().code(), StatusCode::kNotFound) << create.status();
  auto again = c.newDeleteResourceCommand(definition).send().get();
  EXPECT_EQ(again.status().code(), StatusCode::kNotFound) << again.status();
}

}  // namespace
}  // namespace tern
