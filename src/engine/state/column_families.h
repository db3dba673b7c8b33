#pragma once

// Every column family of a partition's state, registered in one place.
//
// The numeric ids are persisted (they name the RocksDB column families and feed the state
// checksum): never renumber or reuse an id; retire one by leaving a comment in its place.
// Key layouts use the encoders in codec.h: big-endian integers so that byte order is numeric
// order, length-prefixed strings so that prefixes cannot collide.

#include <array>
#include <cstdint>
#include <string_view>

namespace tern::engine::state {

enum class ColumnFamily : uint16_t {
  // name -> value. Key generator, last processed / applied positions.
  kMeta = 1,
  // process definition key -> ProcessRecord (with the resource).
  kProcessByKey = 2,
  // (tenant, bpmn process id, version) -> process definition key.
  kProcessKeyByIdAndVersion = 3,
  // (tenant, bpmn process id) -> latest version (int32) and its key.
  kLatestProcessVersion = 4,
  // element instance key -> ElementInstance.
  kElementInstance = 5,
  // (flow scope key, child element instance key) -> empty. Children of a scope instance.
  kElementInstanceChild = 6,
  // (scope key, variable name) -> JSON value.
  kVariable = 7,
  // job key -> JobState.
  kJob = 8,
  // Ids 9, 10 and 11 are retired (they held job indexes that now live in memory; see
  // JobState). Do not reuse them.
  // incident key -> IncidentState.
  kIncident = 12,
  // element instance key -> incident key.
  kIncidentByElementInstance = 13,
  // job key -> incident key.
  kIncidentByJob = 14,
  // process instance key -> AwaitedResult (CreateProcessInstanceWithResult waiting for it).
  kAwaitedResult = 15,
  // log position -> Record. Follow-up commands written to the log but not processed yet.
  kDeferredCommand = 16,
  // (distribution key, target partition) -> CommandDistributionRecord. Commands partition 1 has
  // sent to other partitions and that are not acknowledged yet (sent again until they are).
  kPendingDistribution = 17,
  // timer key -> TimerRecord. Due dates are indexed in memory (TimerState).
  kTimer = 18,
  // (owner key, timer key) -> empty. The owner is the element instance whose subscription the
  // timer is, or the process definition key for timer start events.
  kTimerByOwner = 19,
  // message key -> MessageRecord (with its deadline). Deadlines are indexed in memory.
  kMessage = 20,
  // (message name, correlation key, message key) -> empty. Buffered messages in publish order.
  kMessageByNameAndKey = 21,
  // (message name, correlation key, message id) -> message key. Message id uniqueness.
  kMessageById = 22,
  // (message key, bpmn process id) -> empty. A message correlates at most once per process.
  kMessageCorrelated = 23,
  // (element instance key, message name) -> MessageSubscriptionState. On the message's partition.
  kMessageSubscription = 24,
  // (message name, correlation key, element instance key) -> empty.
  kMessageSubscriptionByNameAndKey = 25,
  // (element instance key, message name) -> ProcessMessageSubscriptionState. On the instance's
  // partition.
  kProcessMessageSubscription = 26,
  // (message name, process definition key, start event id) -> MessageStartEventSubscriptionRecord.
  kMessageStartSubscription = 27,
  // (bpmn process id, correlation key) -> process instance key. Instances created by a message
  // start event that are still active (one per correlation key).
  kActiveMessageStartInstance = 28,
  // (signal name, subscription key) -> SignalSubscriptionRecord.
  kSignalSubscription = 29,
  // (owner key, subscription key) -> signal name. Owner as for timers.
  kSignalSubscriptionByOwner = 30,
  // (scope key, event key) -> ProcessEventRecord. Events waiting for their element.
  kEventTrigger = 31,
  // (process instance key, subscription key) -> CompensationSubscriptionRecord.
  kCompensationSubscription = 32,
  // definition key (process, decision, decision requirements) -> empty. Deleted resources whose
  // record is kept for the instances still running on it.
  kDeletedResource = 33,
  // (tenant, bpmn process id) -> highest version ever deployed (versions are never reused).
  kProcessVersionHighWater = 34,
  // decision key -> DecisionRecord.
  kDecisionByKey = 35,
  // (tenant, decision id) -> key of the latest version.
  kLatestDecision = 36,
  // (tenant, decision id, version) -> decision key.
  kDecisionKeyByIdAndVersion = 37,
  // decision requirements key -> DecisionRequirementsRecord (with the DMN resource).
  kDecisionRequirementsByKey = 38,
  // (tenant, decision requirements id) -> key of the latest version.
  kLatestDecisionRequirements = 39,
  // (tenant, bpmn process id, deployment key) -> process definition key. Call activities with
  // bindingType "deployment".
  kProcessKeyByIdAndDeployment = 40,
  // (tenant, bpmn process id, version tag) -> key of the latest version with that tag.
  kProcessKeyByIdAndVersionTag = 41,
  // (tenant, decision id, deployment key) -> decision key.
  kDecisionKeyByIdAndDeployment = 42,
  // (tenant, decision id, version tag) -> key of the latest version with that tag.
  kDecisionKeyByIdAndVersionTag = 43,
  // user task key -> UserTaskState. Open native user tasks (completed and canceled ones leave).
  kUserTask = 44,
  // (assignee, user task key) -> empty. Assigned open tasks, for searches by assignee.
  kUserTaskByAssignee = 45,
  // (candidate group, user task key) -> empty.
  kUserTaskByCandidateGroup = 46,
  // (candidate user, user task key) -> empty.
  kUserTaskByCandidateUser = 47,
  // (process instance key, user task key) -> empty.
  kUserTaskByProcessInstance = 48,
  // message key -> PendingMessageCorrelation. Correlations (8.8) whose answer waits for a
  // subscription on another partition to confirm.
  kPendingMessageCorrelation = 49,
  // form key -> FormRecord (with the schema).
  kFormByKey = 50,
  // (tenant, form id) -> key of the latest version.
  kLatestForm = 51,
  // (tenant, form id, version) -> form key.
  kFormKeyByIdAndVersion = 52,
  // (tenant, form id, deployment key) -> form key. Forms linked with bindingType "deployment".
  kFormKeyByIdAndDeployment = 53,
  // (tenant, form id, version tag) -> key of the latest version with that tag.
  kFormKeyByIdAndVersionTag = 54,
};

inline constexpr std::array kAllColumnFamilies = {
    ColumnFamily::kMeta,
    ColumnFamily::kProcessByKey,
    ColumnFamily::kProcessKeyByIdAndVersion,
    ColumnFamily::kLatestProcessVersion,
    ColumnFamily::kElementInstance,
    ColumnFamily::kElementInstanceChild,
    ColumnFamily::kVariable,
    ColumnFamily::kJob,
    ColumnFamily::kIncident,
    ColumnFamily::kIncidentByElementInstance,
    ColumnFamily::kIncidentByJob,
    ColumnFamily::kAwaitedResult,
    ColumnFamily::kDeferredCommand,
    ColumnFamily::kPendingDistribution,
    ColumnFamily::kTimer,
    ColumnFamily::kTimerByOwner,
    ColumnFamily::kMessage,
    ColumnFamily::kMessageByNameAndKey,
    ColumnFamily::kMessageById,
    ColumnFamily::kMessageCorrelated,
    ColumnFamily::kMessageSubscription,
    ColumnFamily::kMessageSubscriptionByNameAndKey,
    ColumnFamily::kProcessMessageSubscription,
    ColumnFamily::kMessageStartSubscription,
    ColumnFamily::kActiveMessageStartInstance,
    ColumnFamily::kSignalSubscription,
    ColumnFamily::kSignalSubscriptionByOwner,
    ColumnFamily::kEventTrigger,
    ColumnFamily::kCompensationSubscription,
    ColumnFamily::kDeletedResource,
    ColumnFamily::kProcessVersionHighWater,
    ColumnFamily::kDecisionByKey,
    ColumnFamily::kLatestDecision,
    ColumnFamily::kDecisionKeyByIdAndVersion,
    ColumnFamily::kDecisionRequirementsByKey,
    ColumnFamily::kLatestDecisionRequirements,
    ColumnFamily::kProcessKeyByIdAndDeployment,
    ColumnFamily::kProcessKeyByIdAndVersionTag,
    ColumnFamily::kDecisionKeyByIdAndDeployment,
    ColumnFamily::kDecisionKeyByIdAndVersionTag,
    ColumnFamily::kUserTask,
    ColumnFamily::kUserTaskByAssignee,
    ColumnFamily::kUserTaskByCandidateGroup,
    ColumnFamily::kUserTaskByCandidateUser,
    ColumnFamily::kUserTaskByProcessInstance,
    ColumnFamily::kPendingMessageCorrelation,
    ColumnFamily::kFormByKey,
    ColumnFamily::kLatestForm,
    ColumnFamily::kFormKeyByIdAndVersion,
    ColumnFamily::kFormKeyByIdAndDeployment,
    ColumnFamily::kFormKeyByIdAndVersionTag,
};

std::string_view ColumnFamilyName(ColumnFamily cf);

}  // namespace tern::engine::state
