// Native user tasks (zeebe:userTask) and 8.8 message correlation, through the engine harness.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/state/column_families.h"
#include "engine_harness.h"
#include "tests/engine/models.h"

namespace tern::engine {
namespace {

using ::testing::ElementsAre;
using testing::EngineHarness;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

nlohmann::json Json(const std::string& text) { return nlohmann::json::parse(text); }

std::string Model(const std::string& task_extensions, const std::string& extra = "") {
  return std::string(models::kHeader) + R"(
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review" name="Review">
      <bpmn:extensionElements><zeebe:userTask/>)" +
         task_extensions + R"(</bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>)" +
         extra + R"(
  </bpmn:process>
</bpmn:definitions>
)";
}

const std::string kFullTask = Model(R"(
        <zeebe:assignmentDefinition assignee="=owner" candidateGroups="sales,finance"
            candidateUsers="=[&quot;ann&quot;, &quot;bob&quot;]"/>
        <zeebe:taskSchedule dueDate="2030-01-02T10:00:00Z" followUpDate="=followUp"/>
        <zeebe:priorityDefinition priority="=urgency * 10"/>
        <zeebe:formDefinition formId="review-form"/>
        <zeebe:taskHeaders><zeebe:header key="kind" value="four-eyes"/></zeebe:taskHeaders>)");

constexpr std::string_view kReviewForm =
    R"({"id": "review-form", "type": "default", "components": [
         {"type": "textfield", "key": "comment", "label": "Comment"}]})";

// Deploys resources (name, content) in one deployment.
record::Record DeployAll(EngineHarness& harness,
                         std::vector<std::pair<std::string, std::string>> resources) {
  record::DeploymentRecord deployment;
  for (auto& [name, content] : resources) {
    auto* resource = deployment.add_resources();
    resource->set_resource_name(name);
    resource->set_resource(content);
  }
  return *harness.Send(MakeCommand(-1, DeploymentIntent::kCreate, deployment));
}

// kFullTask with the form it links to.
record::Record DeployFullTask(EngineHarness& harness) {
  return DeployAll(harness,
                   {{"approval.bpmn", kFullTask}, {"review.form", std::string(kReviewForm)}});
}

record::Record UserTaskCommand(int64_t key, UserTaskIntent intent, record::UserTaskRecord value) {
  return MakeCommand(key, intent, std::move(value));
}

record::Record Assign(EngineHarness& harness, int64_t key, const std::string& assignee,
                      UserTaskIntent intent = UserTaskIntent::kAssign) {
  record::UserTaskRecord value;
  value.set_assignee(assignee);
  return *harness.Send(UserTaskCommand(key, intent, value));
}

record::Record Complete(EngineHarness& harness, int64_t key, const std::string& variables = "",
                        const std::string& action = "") {
  record::UserTaskRecord value;
  value.set_variables(variables);
  value.set_action(action);
  return *harness.Send(UserTaskCommand(key, UserTaskIntent::kComplete, value));
}

int64_t OnlyTaskKey(EngineHarness& harness) {
  auto created = harness.Events(UserTaskIntent::kCreated);
  EXPECT_EQ(created.size(), 1u);
  return created.empty() ? 0 : created.back().key();
}

std::vector<int64_t> Keys(const record::UserTaskQueryResult& result) {
  std::vector<int64_t> keys;
  for (const auto& task : result.tasks()) keys.push_back(task.record().user_task_key());
  return keys;
}

TEST(UserTaskTest, ActivationEvaluatesTheTaskAndCompletionMovesTheProcessOn) {
  EngineHarness harness;
  auto deployed = DeployFullTask(harness);
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  auto created = harness.CreateInstance(
      "approval", R"({"owner": "carol", "urgency": 7, "followUp": "2030-01-01T09:00:00+01:00"})",
      /*await=*/true);
  const int64_t task_key = OnlyTaskKey(harness);
  ASSERT_GT(task_key, 0);
  ASSERT_EQ(harness.Events(UserTaskIntent::kCreating).size(), 1u);

  auto view = harness.engine().GetUserTask(task_key);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->state(), "CREATED");
  const record::UserTaskRecord& task = view->record();
  EXPECT_EQ(task.user_task_key(), task_key);
  EXPECT_EQ(task.assignee(), "carol");
  EXPECT_THAT(task.candidate_groups(), ElementsAre("sales", "finance"));
  EXPECT_THAT(task.candidate_users(), ElementsAre("ann", "bob"));
  EXPECT_EQ(task.due_date(), "2030-01-02T10:00:00Z");
  EXPECT_EQ(task.follow_up_date(), "2030-01-01T09:00:00+01:00");
  EXPECT_EQ(task.priority(), 70);
  EXPECT_EQ(task.form_id(), "review-form");
  ASSERT_EQ(harness.Events(FormIntent::kCreated).size(), 1u);
  EXPECT_EQ(task.form_key(), harness.Events(FormIntent::kCreated)[0].key());
  EXPECT_EQ(task.bpmn_process_id(), "approval");
  EXPECT_EQ(task.element_id(), "review");
  EXPECT_EQ(task.creation_timestamp(), harness.now());
  EXPECT_EQ(Json(task.custom_headers()), Json(R"({"kind": "four-eyes"})"));
  EXPECT_THAT(harness.ElementHistory("review"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"));
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kJob), 0);  // no job for a native task

  auto completed = Complete(harness, task_key, R"({"approved": true})", "approve");
  ASSERT_EQ(completed.record_type(), record::EVENT) << completed.rejection_reason();
  EXPECT_EQ(completed.intent(), ToInt(UserTaskIntent::kCompleted));
  EXPECT_EQ(completed.user_task().action(), "approve");
  EXPECT_EQ(Json(completed.user_task().variables()), Json(R"({"approved": true})"));
  EXPECT_EQ(harness.Events(UserTaskIntent::kCompleting).size(), 1u);
  EXPECT_THAT(harness.ElementHistory("review"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  // The variables reached the process scope, and the awaited instance completed.
  ASSERT_EQ(harness.late_responses().size(), 1u);
  EXPECT_EQ(Json(harness.late_responses()[0].record.process_instance_result().variables())
                .value("approved", false),
            true);
  // The instance ended: its task left state with it.
  EXPECT_FALSE(harness.engine().GetUserTask(task_key).has_value());
  for (auto cf : {state::ColumnFamily::kUserTask, state::ColumnFamily::kUserTaskByAssignee,
                  state::ColumnFamily::kUserTaskByCandidateGroup,
                  state::ColumnFamily::kUserTaskByCandidateUser,
                  state::ColumnFamily::kUserTaskByProcessInstance,
                  state::ColumnFamily::kElementInstance, state::ColumnFamily::kVariable}) {
    EXPECT_EQ(harness.CountEntries(cf), 0) << state::ColumnFamilyName(cf);
  }
  (void)created;
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, AssignClaimUpdateAndTheirRejections) {
  EngineHarness harness;
  harness.Deploy("approval.bpmn",
                 Model(R"(<zeebe:assignmentDefinition candidateGroups="sales"/>)"));
  harness.CreateInstance("approval");
  const int64_t key = OnlyTaskKey(harness);

  // Unknown key.
  auto unknown = Assign(harness, key + 1000, "bob");
  EXPECT_EQ(unknown.record_type(), record::COMMAND_REJECTION);
  EXPECT_EQ(unknown.rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(unknown.rejection_reason(), "Expected to assign user task with key '" +
                                            std::to_string(key + 1000) +
                                            "', but no such user task was found");

  auto claimed = Assign(harness, key, "bob", UserTaskIntent::kClaim);
  ASSERT_EQ(claimed.record_type(), record::EVENT) << claimed.rejection_reason();
  EXPECT_EQ(claimed.intent(), ToInt(UserTaskIntent::kAssigned));
  EXPECT_EQ(claimed.user_task().assignee(), "bob");
  EXPECT_EQ(claimed.user_task().action(), "claim");
  EXPECT_EQ(Assign(harness, key, "bob", UserTaskIntent::kClaim).record_type(),
            record::EVENT);  // the same user may claim again
  auto stolen = Assign(harness, key, "carol", UserTaskIntent::kClaim);
  EXPECT_EQ(stolen.rejection_type(), record::INVALID_STATE);
  EXPECT_THAT(stolen.rejection_reason(), HasSubstr("but it has already been assigned"));
  auto empty_claim = Assign(harness, key, "", UserTaskIntent::kClaim);
  EXPECT_EQ(empty_claim.rejection_type(), record::INVALID_STATE);
  EXPECT_THAT(empty_claim.rejection_reason(), HasSubstr("provided assignee is empty"));

  // ASSIGN overrides; an empty assignee unassigns.
  auto assigned = Assign(harness, key, "carol");
  EXPECT_EQ(assigned.user_task().assignee(), "carol");
  EXPECT_EQ(assigned.user_task().action(), "assign");
  record::UserTaskQuery by_assignee;
  by_assignee.set_assignee("carol");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(by_assignee)), ElementsAre(key));
  by_assignee.set_assignee("bob");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(by_assignee)), IsEmpty());
  record::UserTaskRecord unassign;
  unassign.set_action("unassign");
  auto unassigned = *harness.Send(MakeCommand(key, UserTaskIntent::kAssign, unassign));
  EXPECT_EQ(unassigned.user_task().assignee(), "");
  EXPECT_EQ(unassigned.user_task().action(), "unassign");
  by_assignee.set_assignee("carol");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(by_assignee)), IsEmpty());

  // UPDATE changes the listed attributes only.
  record::UserTaskRecord update;
  update.add_changed_attributes("candidateUsersList");
  update.add_changed_attributes("priority");
  update.add_candidate_users("dave");
  update.set_priority(90);
  update.add_candidate_groups("ignored-not-listed");
  auto updated = *harness.Send(MakeCommand(key, UserTaskIntent::kUpdate, update));
  ASSERT_EQ(updated.record_type(), record::EVENT) << updated.rejection_reason();
  EXPECT_EQ(updated.intent(), ToInt(UserTaskIntent::kUpdated));
  EXPECT_THAT(updated.user_task().changed_attributes(),
              ElementsAre("candidateUsersList", "priority"));
  EXPECT_EQ(updated.user_task().action(), "update");
  auto view = harness.engine().GetUserTask(key);
  ASSERT_TRUE(view.has_value());
  EXPECT_THAT(view->record().candidate_users(), ElementsAre("dave"));
  EXPECT_THAT(view->record().candidate_groups(), ElementsAre("sales"));
  EXPECT_EQ(view->record().priority(), 90);
  EXPECT_TRUE(view->record().changed_attributes().empty());
  record::UserTaskQuery by_user;
  by_user.set_candidate_user("dave");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(by_user)), ElementsAre(key));

  record::UserTaskRecord bad_priority;
  bad_priority.add_changed_attributes("priority");
  bad_priority.set_priority(101);
  EXPECT_EQ(harness.Send(MakeCommand(key, UserTaskIntent::kUpdate, bad_priority))->rejection_type(),
            record::INVALID_ARGUMENT);
  record::UserTaskRecord bad_date;
  bad_date.add_changed_attributes("dueDate");
  bad_date.set_due_date("next week");
  EXPECT_EQ(harness.Send(MakeCommand(key, UserTaskIntent::kUpdate, bad_date))->rejection_type(),
            record::INVALID_ARGUMENT);
  record::UserTaskRecord bad_name;
  bad_name.add_changed_attributes("assignee");
  EXPECT_EQ(harness.Send(MakeCommand(key, UserTaskIntent::kUpdate, bad_name))->rejection_type(),
            record::INVALID_ARGUMENT);

  // Completion with invalid variables is refused and changes nothing.
  auto invalid = Complete(harness, key, "[1, 2]");
  EXPECT_EQ(invalid.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_EQ(harness.engine().GetUserTask(key)->state(), "CREATED");
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, CommandsOnAFinishedTaskAreInvalidStateWhileItsInstanceRuns) {
  EngineHarness harness;
  // A second user task keeps the instance running after the first one completes.
  const std::string xml = std::string(models::kHeader) + R"(
  <bpmn:process id="two" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
    <bpmn:userTask id="first"><bpmn:extensionElements><zeebe:userTask/></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second"/>
    <bpmn:userTask id="second"><bpmn:extensionElements><zeebe:userTask/></bpmn:extensionElements></bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
)";
  ASSERT_EQ(harness.Deploy("two.bpmn", xml).record_type(), record::EVENT);
  harness.CreateInstance("two");
  const int64_t first = OnlyTaskKey(harness);
  ASSERT_EQ(Complete(harness, first).record_type(), record::EVENT);
  auto again = Complete(harness, first);
  EXPECT_EQ(again.record_type(), record::COMMAND_REJECTION);
  EXPECT_EQ(again.rejection_type(), record::INVALID_STATE);
  EXPECT_EQ(again.rejection_reason(), "Expected to complete user task with key '" +
                                          std::to_string(first) +
                                          "', but it is in state 'COMPLETED'");
  EXPECT_EQ(Assign(harness, first, "x").rejection_type(), record::INVALID_STATE);

  record::UserTaskQuery open;
  open.set_state("CREATED");
  auto open_tasks = harness.engine().QueryUserTasks(open);
  ASSERT_EQ(open_tasks.tasks_size(), 1);
  EXPECT_EQ(open_tasks.tasks(0).record().element_id(), "second");
  record::UserTaskQuery done;
  done.set_state("COMPLETED");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(done)), ElementsAre(first));
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, CancellingTheInstanceCancelsTheTaskAndLeavesNoState) {
  EngineHarness harness;
  DeployFullTask(harness);
  auto created = harness.CreateInstance("approval", R"({"owner": "x", "urgency": 1})");
  const int64_t key = OnlyTaskKey(harness);
  const int64_t instance = created.process_instance_creation().process_instance_key();
  ASSERT_EQ(harness.Cancel(instance).record_type(), record::EVENT);
  EXPECT_EQ(harness.Events(UserTaskIntent::kCanceling).size(), 1u);
  ASSERT_EQ(harness.Events(UserTaskIntent::kCanceled).size(), 1u);
  EXPECT_EQ(harness.Events(UserTaskIntent::kCanceled)[0].key(), key);
  EXPECT_EQ(Complete(harness, key).rejection_type(), record::NOT_FOUND);
  for (auto cf : state::kAllColumnFamilies) {
    if (cf == state::ColumnFamily::kMeta || cf == state::ColumnFamily::kProcessByKey ||
        cf == state::ColumnFamily::kProcessKeyByIdAndVersion ||
        cf == state::ColumnFamily::kLatestProcessVersion ||
        cf == state::ColumnFamily::kProcessVersionHighWater ||
        cf == state::ColumnFamily::kProcessKeyByIdAndDeployment ||
        cf == state::ColumnFamily::kFormByKey || cf == state::ColumnFamily::kLatestForm ||
        cf == state::ColumnFamily::kFormKeyByIdAndVersion ||
        cf == state::ColumnFamily::kFormKeyByIdAndDeployment) {
      continue;  // the deployment's process and form stay
    }
    EXPECT_EQ(harness.CountEntries(cf), 0) << state::ColumnFamilyName(cf);
  }
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, InterruptingBoundaryTimerCancelsTheTaskAndANonInterruptingOneLeavesIt) {
  EngineHarness harness;
  const std::string xml = Model("", R"(
    <bpmn:boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminded"/>
    <bpmn:endEvent id="reminded"/>
    <bpmn:boundaryEvent id="expire" attachedToRef="review">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="expire" targetRef="expired"/>
    <bpmn:endEvent id="expired"/>)");
  ASSERT_EQ(harness.Deploy("approval.bpmn", xml).record_type(), record::EVENT);
  harness.CreateInstance("approval");
  const int64_t key = OnlyTaskKey(harness);
  harness.AdvanceTime(3'600'000);
  harness.Tick();
  EXPECT_THAT(harness.ElementHistory("reminded"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_EQ(harness.engine().GetUserTask(key)->state(), "CREATED");
  EXPECT_TRUE(harness.Events(UserTaskIntent::kCanceled).empty());
  harness.AdvanceTime(3'600'000);
  harness.Tick();
  ASSERT_EQ(harness.Events(UserTaskIntent::kCanceled).size(), 1u);
  EXPECT_THAT(harness.ElementHistory("review"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_TERMINATING",
                          "ELEMENT_TERMINATED"));
  EXPECT_THAT(harness.ElementHistory("expired"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kUserTask), 0);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, AFailingExpressionRaisesAnIncidentNamingTheAttributeThatResolves) {
  EngineHarness harness;
  harness.Deploy("approval.bpmn", Model(R"(<zeebe:priorityDefinition priority="=urgency"/>)"));
  harness.CreateInstance("approval", R"({"urgency": "high"})");
  auto incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].incident().error_type(), "EXTRACT_VALUE_ERROR");
  EXPECT_EQ(incidents[0].incident().element_id(), "review");
  EXPECT_THAT(incidents[0].incident().error_message(),
              HasSubstr("zeebe:priorityDefinition priority of user task 'review'"));
  EXPECT_TRUE(harness.Events(UserTaskIntent::kCreating).empty());

  // Out of range is an incident too.
  const int64_t scope = incidents[0].incident().process_instance_key();
  harness.SetVariables(scope, R"({"urgency": 500})");
  harness.ResolveIncident(incidents[0].key());
  incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_THAT(incidents[1].incident().error_message(), HasSubstr("between 0 and 100"));

  harness.SetVariables(scope, R"({"urgency": 80})");
  harness.ResolveIncident(incidents[1].key());
  const int64_t key = OnlyTaskKey(harness);
  EXPECT_EQ(harness.engine().GetUserTask(key)->record().priority(), 80);
  EXPECT_THAT(harness.ElementHistory("review"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED"));
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, SearchPagesByKeyOverEachIndex) {
  EngineHarness harness;
  harness.Deploy(
      "approval.bpmn",
      Model(R"(<zeebe:assignmentDefinition assignee="=who" candidateGroups="=groups"/>)"));
  std::vector<int64_t> instances;
  for (int i = 0; i < 7; ++i) {
    auto created =
        harness.CreateInstance("approval", i % 2 == 0 ? R"({"who": "even", "groups": ["g", "e"]})"
                                                      : R"({"who": "odd", "groups": ["g"]})");
    instances.push_back(created.process_instance_creation().process_instance_key());
  }
  std::vector<int64_t> all;
  for (const auto& event : harness.Events(UserTaskIntent::kCreated)) all.push_back(event.key());
  ASSERT_EQ(all.size(), 7u);

  record::UserTaskQuery query;
  query.set_candidate_group("g");
  query.set_limit(3);
  std::vector<int64_t> seen;
  for (int page = 0; page < 5; ++page) {
    auto result = harness.engine().QueryUserTasks(query);
    for (int64_t key : Keys(result)) seen.push_back(key);
    if (result.next_after_key() == 0) break;
    query.set_after_key(result.next_after_key());
  }
  EXPECT_EQ(seen, all);

  record::UserTaskQuery evens;
  evens.set_assignee("even");
  evens.set_candidate_group("e");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(evens)),
              ElementsAre(all[0], all[2], all[4], all[6]));
  record::UserTaskQuery by_instance;
  by_instance.set_process_instance_key(instances[3]);
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(by_instance)), ElementsAre(all[3]));
  record::UserTaskQuery scan;
  scan.set_bpmn_process_id("approval");
  scan.set_element_id("review");
  scan.set_after_key(all[4]);
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(scan)), ElementsAre(all[5], all[6]));
  scan.set_bpmn_process_id("other");
  EXPECT_THAT(Keys(harness.engine().QueryUserTasks(scan)), IsEmpty());
}

// --- 8.8 message correlation ---------------------------------------------------------------------

const std::string kCorrelation = std::string(models::kHeader) + R"(
  <bpmn:process id="receive" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:receiveTask id="wait" messageRef="m"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
  <bpmn:process id="started" isExecutable="true">
    <bpmn:startEvent id="by-message"><bpmn:messageEventDefinition messageRef="go"/></bpmn:startEvent>
    <bpmn:sequenceFlow id="g1" sourceRef="by-message" targetRef="done"/>
    <bpmn:endEvent id="done"/>
  </bpmn:process>
  <bpmn:message id="m" name="receipt"><bpmn:extensionElements>
    <zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
  <bpmn:message id="go" name="go"/>
</bpmn:definitions>
)";

record::Record Correlate(EngineHarness& harness, const std::string& name, const std::string& key,
                         const std::string& variables = "") {
  record::MessageCorrelationRecord value;
  value.set_name(name);
  value.set_correlation_key(key);
  value.set_variables(variables);
  return *harness.Send(MakeCommand(-1, MessageCorrelationIntent::kCorrelate, value));
}

TEST(MessageCorrelationTest, AnswersWithTheInstanceItCorrelatedToOrNotFound) {
  EngineHarness harness;
  ASSERT_EQ(harness.Deploy("corr.bpmn", kCorrelation).record_type(), record::EVENT);
  auto created = harness.CreateInstance("receive", R"({"orderId": "o-1"})");
  const int64_t waiting = created.process_instance_creation().process_instance_key();

  auto correlated = Correlate(harness, "receipt", "o-1", R"({"paid": true})");
  ASSERT_EQ(correlated.record_type(), record::EVENT) << correlated.rejection_reason();
  EXPECT_EQ(correlated.intent(), ToInt(MessageCorrelationIntent::kCorrelated));
  EXPECT_EQ(correlated.message_correlation().process_instance_key(), waiting);
  EXPECT_GT(correlated.message_correlation().message_key(), 0);
  EXPECT_THAT(harness.ElementHistory("wait"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));

  // Nothing waits any more, and the message is not buffered.
  auto missed = Correlate(harness, "receipt", "o-1");
  EXPECT_EQ(missed.record_type(), record::COMMAND_REJECTION);
  EXPECT_EQ(missed.rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(missed.rejection_reason(),
            "Expected to find subscription for message with name 'receipt' and correlation key "
            "'o-1', but none was found.");
  EXPECT_EQ(harness.Events(MessageCorrelationIntent::kNotCorrelated).size(), 1u);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kMessage), 0);

  auto started = Correlate(harness, "go", "", R"({"x": 1})");
  ASSERT_EQ(started.record_type(), record::EVENT) << started.rejection_reason();
  EXPECT_GT(started.message_correlation().process_instance_key(), 0);
  EXPECT_THAT(harness.ElementHistory("done"),
              ElementsAre("ELEMENT_ACTIVATING", "ELEMENT_ACTIVATED", "ELEMENT_COMPLETING",
                          "ELEMENT_COMPLETED"));

  auto bad = Correlate(harness, "go", "", "not json");
  EXPECT_EQ(bad.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kPendingMessageCorrelation), 0);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

// The subscription lives on another partition: the answer waits for its confirmation.
TEST(MessageCorrelationTest, AnswersOnceASubscriptionOfAnotherPartitionConfirms) {
  EngineConfig config;
  config.partition_id = 1;
  config.partition_count = 2;
  EngineHarness harness(config);
  record::MessageSubscriptionRecord subscription;
  const int64_t element_key = (int64_t{2} << 51) + 10;
  const int64_t instance_key = (int64_t{2} << 51) + 5;
  subscription.set_process_instance_key(instance_key);
  subscription.set_element_instance_key(element_key);
  subscription.set_bpmn_process_id("receive");
  subscription.set_message_name("receipt");
  subscription.set_correlation_key("o-2");
  subscription.set_interrupting(true);
  auto create = MakeCommand(element_key, MessageSubscriptionIntent::kCreate, subscription);
  create.set_source_partition_id(2);
  harness.Deliver(create);

  record::MessageCorrelationRecord value;
  value.set_name("receipt");
  value.set_correlation_key("o-2");
  auto answer = harness.Send(MakeCommand(-1, MessageCorrelationIntent::kCorrelate, value));
  EXPECT_FALSE(answer.has_value());  // not yet: partition 2 must confirm
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kPendingMessageCorrelation), 1);
  const auto correlating = harness.Events(MessageCorrelationIntent::kCorrelating);
  ASSERT_EQ(correlating.size(), 1u);
  const int64_t message_key = correlating[0].key();
  EXPECT_EQ(harness.ReplayChecksum(config), harness.engine().StateChecksum());

  subscription.set_message_key(message_key);
  auto confirm = MakeCommand(element_key, MessageSubscriptionIntent::kCorrelate, subscription);
  confirm.set_source_partition_id(2);
  harness.Deliver(confirm);
  ASSERT_EQ(harness.late_responses().size(), 1u);
  const record::Record& late = harness.late_responses()[0].record;
  EXPECT_EQ(late.record_type(), record::EVENT);
  EXPECT_EQ(late.intent(), ToInt(MessageCorrelationIntent::kCorrelated));
  EXPECT_EQ(late.message_correlation().process_instance_key(), instance_key);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kPendingMessageCorrelation), 0);
  EXPECT_EQ(harness.ReplayChecksum(config), harness.engine().StateChecksum());
}

TEST(MessageCorrelationTest, ARejectingSubscriptionEndsInNotFound) {
  EngineConfig config;
  config.partition_id = 1;
  config.partition_count = 2;
  EngineHarness harness(config);
  record::MessageSubscriptionRecord subscription;
  const int64_t element_key = (int64_t{2} << 51) + 10;
  subscription.set_process_instance_key((int64_t{2} << 51) + 5);
  subscription.set_element_instance_key(element_key);
  subscription.set_bpmn_process_id("receive");
  subscription.set_message_name("receipt");
  subscription.set_correlation_key("o-3");
  subscription.set_interrupting(true);
  auto create = MakeCommand(element_key, MessageSubscriptionIntent::kCreate, subscription);
  create.set_source_partition_id(2);
  harness.Deliver(create);
  record::MessageCorrelationRecord value;
  value.set_name("receipt");
  value.set_correlation_key("o-3");
  EXPECT_FALSE(harness.Send(MakeCommand(-1, MessageCorrelationIntent::kCorrelate, value)));
  subscription.set_message_key(harness.Events(MessageCorrelationIntent::kCorrelating)[0].key());
  auto reject = MakeCommand(element_key, MessageSubscriptionIntent::kReject, subscription);
  reject.set_source_partition_id(2);
  harness.Deliver(reject);
  ASSERT_EQ(harness.late_responses().size(), 1u);
  const record::Record& late = harness.late_responses()[0].record;
  EXPECT_EQ(late.record_type(), record::COMMAND_REJECTION);
  EXPECT_EQ(late.rejection_type(), record::NOT_FOUND);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kPendingMessageCorrelation), 0);
}

}  // namespace
}  // namespace tern::engine

namespace tern::engine {
namespace {

TEST(UserTaskTest, MigrationMovesTheTaskAndRefusesAnotherImplementation) {
  EngineHarness harness;
  auto deployed = harness.Deploy("approval.bpmn", Model(""));
  const int64_t v1 = deployed.deployment().processes(0).process_definition_key();
  std::string v2_xml = Model("", "<bpmn:endEvent id=\"unused\"/>");
  auto v2 = harness.Deploy("approval.bpmn", v2_xml);
  ASSERT_EQ(v2.record_type(), record::EVENT) << v2.rejection_reason();
  const int64_t v2_key = v2.deployment().processes(0).process_definition_key();
  ASSERT_NE(v1, v2_key);
  record::ProcessInstanceCreationRecord creation;
  creation.set_process_definition_key(v1);
  auto created = *harness.Send(MakeCommand(-1, ProcessInstanceCreationIntent::kCreate, creation));
  const int64_t instance = created.process_instance_creation().process_instance_key();
  const int64_t task = OnlyTaskKey(harness);

  record::ProcessInstanceMigrationRecord migration;
  migration.set_process_instance_key(instance);
  migration.set_target_process_definition_key(v2_key);
  auto* mapping = migration.add_mapping_instructions();
  mapping->set_source_element_id("review");
  mapping->set_target_element_id("review");
  auto migrated =
      *harness.Send(MakeCommand(instance, ProcessInstanceMigrationIntent::kMigrate, migration));
  ASSERT_EQ(migrated.record_type(), record::EVENT) << migrated.rejection_reason();
  ASSERT_EQ(harness.Events(UserTaskIntent::kMigrated).size(), 1u);
  EXPECT_EQ(harness.engine().GetUserTask(task)->record().process_definition_key(), v2_key);

  // A job-based user task is another implementation.
  const std::string job_based = std::string(models::kHeader) + R"(
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>
    <bpmn:userTask id="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
)";
  auto v3 = harness.Deploy("approval.bpmn", job_based);
  migration.set_target_process_definition_key(
      v3.deployment().processes(0).process_definition_key());
  auto refused =
      *harness.Send(MakeCommand(instance, ProcessInstanceMigrationIntent::kMigrate, migration));
  EXPECT_EQ(refused.rejection_type(), record::INVALID_STATE);
  EXPECT_THAT(refused.rejection_reason(), HasSubstr("different user task implementation"));

  EXPECT_EQ(Complete(harness, task).record_type(), record::EVENT);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kUserTask), 0);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(UserTaskTest, ModificationTerminatesTheTaskAndActivatesANewOne) {
  EngineHarness harness;
  harness.Deploy("approval.bpmn", Model(""));
  auto created = harness.CreateInstance("approval");
  const int64_t instance = created.process_instance_creation().process_instance_key();
  const int64_t first = OnlyTaskKey(harness);
  const int64_t element = harness.engine().GetUserTask(first)->record().element_instance_key();

  record::ProcessInstanceModificationRecord modification;
  modification.set_process_instance_key(instance);
  modification.add_terminate_instructions(element);
  modification.add_activate_instructions()->set_element_id("review");
  auto modified = *harness.Send(
      MakeCommand(instance, ProcessInstanceModificationIntent::kModify, modification));
  ASSERT_EQ(modified.record_type(), record::EVENT) << modified.rejection_reason();
  ASSERT_EQ(harness.Events(UserTaskIntent::kCanceled).size(), 1u);
  EXPECT_EQ(harness.Events(UserTaskIntent::kCanceled)[0].key(), first);
  auto created_tasks = harness.Events(UserTaskIntent::kCreated);
  ASSERT_EQ(created_tasks.size(), 2u);
  const int64_t second = created_tasks[1].key();
  EXPECT_EQ(harness.engine().GetUserTask(first)->state(), "CANCELED");
  EXPECT_EQ(harness.engine().GetUserTask(second)->state(), "CREATED");
  EXPECT_EQ(Complete(harness, first).rejection_type(), record::INVALID_STATE);
  EXPECT_EQ(Complete(harness, second).record_type(), record::EVENT);
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kUserTask), 0);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(FormTest, DeployingFormsVersionsThemAndAnswersTheirMetadata) {
  EngineHarness harness;
  auto first = DeployAll(harness, {{"review.form", std::string(kReviewForm)}});
  ASSERT_EQ(first.record_type(), record::EVENT) << first.rejection_reason();
  ASSERT_EQ(first.deployment().forms_size(), 1);
  const record::FormMetadata& v1 = first.deployment().forms(0);
  EXPECT_EQ(v1.form_id(), "review-form");
  EXPECT_EQ(v1.version(), 1);
  EXPECT_GT(v1.form_key(), 0);
  EXPECT_FALSE(v1.is_duplicate());
  // The same resource again is a duplicate with the same key; a changed one is version 2.
  auto again = DeployAll(harness, {{"review.form", std::string(kReviewForm)}});
  ASSERT_EQ(again.deployment().forms_size(), 1);
  EXPECT_TRUE(again.deployment().forms(0).is_duplicate());
  EXPECT_EQ(again.deployment().forms(0).form_key(), v1.form_key());
  auto changed = DeployAll(
      harness, {{"review.form", R"({"id": "review-form", "versionTag": "v2", "components": []})"}});
  ASSERT_EQ(changed.deployment().forms_size(), 1);
  EXPECT_EQ(changed.deployment().forms(0).version(), 2);
  EXPECT_EQ(changed.deployment().forms(0).version_tag(), "v2");
  EXPECT_EQ(harness.CountEntries(state::ColumnFamily::kFormByKey), 2);
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

TEST(FormTest, InvalidFormsAreRefusedNamingTheResource) {
  EngineHarness harness;
  for (const auto& [content, why] : std::vector<std::pair<std::string, std::string>>{
           {"[1, 2]", "must be a JSON object"},
           {R"({"components": []})", "has no 'id'"},
           {R"({"id": 7})", "'id' must be a string"},
           {R"({"id": "f", "versionTag": {}})", "'versionTag' must be a string"},
           {R"({"id": "f", )", "invalid JSON"},
           {std::string(100, '[') + std::string(100, ']'), "must be a JSON object"},
           {R"({"id": "f", "x": )" + std::string(100, '[') + std::string(100, ']') + "}",
            "nested deeper than 64 levels"},
       }) {
    auto rejected = DeployAll(harness, {{"bad.form", content}});
    EXPECT_EQ(rejected.rejection_type(), record::INVALID_ARGUMENT) << content;
    EXPECT_THAT(rejected.rejection_reason(), HasSubstr("'bad.form': not a valid form: "))
        << content;
    EXPECT_THAT(rejected.rejection_reason(), HasSubstr(why)) << content;
  }
  auto duplicated =
      DeployAll(harness, {{"a.form", R"({"id": "same"})"}, {"b.form", R"({"id": "same"})"}});
  EXPECT_THAT(duplicated.rejection_reason(),
              HasSubstr("Duplicated form id 'same' in resources 'a.form' and 'b.form'"));
}

TEST(FormTest, TwoResourcesOfOneNameInADeploymentAreRefused) {
  // Other partitions find a distributed deployment's resources by name.
  EngineHarness harness;
  auto refused = DeployAll(harness, {{"a.form", R"({"id": "x"})"}, {"a.form", R"({"id": "y"})"}});
  EXPECT_EQ(refused.rejection_type(), record::INVALID_ARGUMENT);
  EXPECT_THAT(refused.rejection_reason(), HasSubstr("Duplicated resource name 'a.form'"));
}

TEST(FormTest, ATaskWhoseFormIsMissingWaitsInAnIncidentUntilTheFormIsDeployed) {
  EngineHarness harness;
  harness.Deploy("approval.bpmn", kFullTask);
  harness.CreateInstance("approval", R"({"owner": "carol", "urgency": 1})");
  EXPECT_TRUE(harness.Events(UserTaskIntent::kCreated).empty());
  auto incidents = harness.Events(IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].incident().error_type(), "FORM_NOT_FOUND");
  EXPECT_THAT(incidents[0].incident().error_message(),
              HasSubstr("Expected to find a form with id 'review-form'"));

  auto form = DeployAll(harness, {{"review.form", std::string(kReviewForm)}});
  ASSERT_EQ(harness.ResolveIncident(incidents[0].key()).record_type(), record::EVENT);
  const int64_t task_key = OnlyTaskKey(harness);
  EXPECT_EQ(harness.engine().GetUserTask(task_key)->record().form_key(),
            form.deployment().forms(0).form_key());
  EXPECT_EQ(harness.ReplayChecksum(), harness.engine().StateChecksum());
}

// The model with process id `id` instead of "approval".
std::string Renamed(std::string model, const std::string& id) {
  const std::string from = R"(<bpmn:process id="approval")";
  model.replace(model.find(from), from.size(), R"(<bpmn:process id=")" + id + "\"");
  return model;
}

TEST(FormTest, BindingTypesPickTheVersion) {
  EngineHarness harness;
  auto tagged =
      DeployAll(harness, {{"review.form", R"({"id": "review-form", "versionTag": "t1"})"}});
  // The process is deployed with version 2 of the form; version 3 comes later.
  auto with_process = DeployAll(
      harness,
      {{"review.form", R"({"id": "review-form", "versionTag": "t2"})"},
       {"approval.bpmn",
        Model(R"(<zeebe:formDefinition formId="review-form" bindingType="deployment"/>)")},
       {"tagged.bpmn",
        Renamed(
            Model(
                R"(<zeebe:formDefinition formId="review-form" bindingType="versionTag" versionTag="t1"/>)"),
            "tagged")}});
  ASSERT_EQ(with_process.record_type(), record::EVENT) << with_process.rejection_reason();
  DeployAll(harness, {{"review.form", R"({"id": "review-form", "versionTag": "t3"})"}});

  harness.CreateInstance("approval");
  harness.CreateInstance("tagged");
  auto created = harness.Events(UserTaskIntent::kCreated);
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].user_task().form_key(), with_process.deployment().forms(0).form_key());
  EXPECT_EQ(created[1].user_task().form_key(), tagged.deployment().forms(0).form_key());
}

TEST(FormTest, QueryWithFormAnswersTheLinkedSchema) {
  EngineHarness harness;
  DeployFullTask(harness);
  harness.CreateInstance("approval", R"({"owner": "carol", "urgency": 1})");
  record::UserTaskQuery query;
  query.set_user_task_key(OnlyTaskKey(harness));
  query.set_with_form(true);
  auto result = harness.engine().QueryUserTasks(query);
  ASSERT_EQ(result.tasks_size(), 1);
  EXPECT_EQ(result.form().form_id(), "review-form");
  EXPECT_EQ(result.form().resource(), kReviewForm);
  query.set_with_form(false);
  EXPECT_FALSE(harness.engine().QueryUserTasks(query).has_form());
}

TEST(FormTest, AJobBasedUserTaskCarriesTheLinkedFormKeyAsAHeader) {
  EngineHarness harness;
  std::string model = Model(R"(<zeebe:formDefinition formId="review-form"/>)");
  const std::string native = "<zeebe:userTask/>";
  model.erase(model.find(native), native.size());
  auto deployed =
      DeployAll(harness, {{"approval.bpmn", model}, {"review.form", std::string(kReviewForm)}});
  ASSERT_EQ(deployed.record_type(), record::EVENT) << deployed.rejection_reason();
  harness.CreateInstance("approval");
  auto jobs = harness.Events(JobIntent::kCreated);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(Json(jobs[0].job().custom_headers())["io.camunda.zeebe:formKey"],
            std::to_string(deployed.deployment().forms(0).form_key()));
}

}  // namespace
}  // namespace tern::engine
