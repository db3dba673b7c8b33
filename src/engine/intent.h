#pragma once

// Intents per value type, with Zeebe's names (rejection messages quote them, e.g.
// "Command 'COMPLETE' rejected with code 'NOT_FOUND': ...").
//
// The numeric values are persisted in records: never renumber, only append.

#include <cstdint>
#include <string_view>

#include "tern/record.pb.h"

namespace tern::engine {

enum class DeploymentIntent : int32_t {
  kCreate = 0,
  kCreated = 1,
  kDistribute = 2,
  kDistributed = 3,
  kFullyDistributed = 4,
};

enum class ProcessIntent : int32_t {
  kCreated = 0,
  kDeleting = 1,
  kDeleted = 2,
};

enum class ProcessInstanceIntent : int32_t {
  kCancel = 0,
  kSequenceFlowTaken = 1,
  kElementActivating = 2,
  kElementActivated = 3,
  kElementCompleting = 4,
  kElementCompleted = 5,
  kElementTerminating = 6,
  kElementTerminated = 7,
  kActivateElement = 8,
  kCompleteElement = 9,
  kTerminateElement = 10,
  // Migration moved the element instance to another process definition.
  kElementMigrated = 11,
};

enum class ProcessInstanceCreationIntent : int32_t {
  kCreate = 0,
  kCreated = 1,
  kCreateWithAwaitingResult = 2,
};

enum class ProcessInstanceResultIntent : int32_t {
  kCompleted = 0,
};

enum class JobIntent : int32_t {
  kCreated = 0,
  kComplete = 1,
  kCompleted = 2,
  kTimeOut = 3,
  kTimedOut = 4,
  kFail = 5,
  kFailed = 6,
  kUpdateRetries = 7,
  kRetriesUpdated = 8,
  kCanceled = 9,
  kThrowError = 10,
  kErrorThrown = 11,
  kRecurAfterBackoff = 12,
  kRecurredAfterBackoff = 13,
  kYield = 14,
  kYielded = 15,
  kUpdateTimeout = 16,
  kTimeoutUpdated = 17,
  kMigrated = 18,
};

enum class JobBatchIntent : int32_t {
  kActivate = 0,
  kActivated = 1,
};

enum class VariableIntent : int32_t {
  kCreated = 0,
  kUpdated = 1,
};

enum class VariableDocumentIntent : int32_t {
  kUpdate = 0,
  kUpdated = 1,
};

enum class IncidentIntent : int32_t {
  kCreated = 0,
  kResolve = 1,
  kResolved = 2,
};

// Zeebe's CommandDistributionIntent: how partition 1 hands a command (a deployment) to every
// other partition and learns that each has processed it.
enum class CommandDistributionIntent : int32_t {
  kStarted = 0,
  kDistributing = 1,
  kAcknowledge = 2,
  kAcknowledged = 3,
  kFinished = 4,
};

enum class MessageIntent : int32_t {
  kPublish = 0,
  kPublished = 1,
  kExpire = 2,
  kExpired = 3,
};

// The message partition's side of a subscription.
enum class MessageSubscriptionIntent : int32_t {
  kCreate = 0,
  kCreated = 1,
  kCorrelating = 2,
  kCorrelate = 3,
  kCorrelated = 4,
  kReject = 5,
  kRejected = 6,
  kDelete = 7,
  kDeleted = 8,
};

// The process instance partition's side of a subscription.
enum class ProcessMessageSubscriptionIntent : int32_t {
  kCreating = 0,
  kCreate = 1,
  kCreated = 2,
  kCorrelate = 3,
  kCorrelated = 4,
  kDeleting = 5,
  kDelete = 6,
  kDeleted = 7,
};

enum class MessageStartEventSubscriptionIntent : int32_t {
  kCreated = 0,
  kCorrelated = 1,
  kDeleted = 2,
};

enum class TimerIntent : int32_t {
  kCreated = 0,
  kTrigger = 1,
  kTriggered = 2,
  kCanceled = 3,
};

enum class SignalIntent : int32_t {
  kBroadcast = 0,
  kBroadcasted = 1,
};

enum class SignalSubscriptionIntent : int32_t {
  kCreated = 0,
  kDeleted = 1,
};

enum class EscalationIntent : int32_t {
  kEscalated = 0,
  kNotEscalated = 1,
};

enum class ProcessEventIntent : int32_t {
  kTriggering = 0,
  kTriggered = 1,
};

enum class ProcessInstanceBatchIntent : int32_t {
  kActivate = 0,
  kActivated = 1,
};

enum class ProcessInstanceModificationIntent : int32_t {
  kModify = 0,
  kModified = 1,
};

enum class ProcessInstanceMigrationIntent : int32_t {
  kMigrate = 0,
  kMigrated = 1,
};

enum class ResourceDeletionIntent : int32_t {
  kDelete = 0,
  kDeleting = 1,
  kDeleted = 2,
};

enum class DecisionIntent : int32_t {
  kCreated = 0,
  kDeleted = 1,
};

enum class DecisionRequirementsIntent : int32_t {
  kCreated = 0,
  kDeleted = 1,
};

enum class FormIntent : int32_t {
  kCreated = 0,
  kDeleted = 1,
};

enum class DecisionEvaluationIntent : int32_t {
  kEvaluate = 0,
  kEvaluated = 1,
  kFailed = 2,
};

enum class CompensationSubscriptionIntent : int32_t {
  kCreated = 0,
  kTriggered = 1,
  kCompleted = 2,
  kDeleted = 3,
};

enum class CheckpointIntent : int32_t {
  kCreate = 0,
  kCreated = 1,
  kIgnored = 2,
};

// Native user tasks (zeebe:userTask), with Zeebe's UserTaskIntent numbers. Commands: COMPLETE,
// ASSIGN (an empty assignee unassigns), CLAIM (ASSIGN that refuses a task assigned to someone
// else), UPDATE. Each accepted command writes its -ING and -ED events; CREATING/CREATED and
// CANCELING/CANCELED are written by the element's lifecycle.
enum class UserTaskIntent : int32_t {
  kCreating = 0,
  kCreated = 1,
  kComplete = 2,
  kCompleting = 3,
  kCompleted = 4,
  kCanceling = 5,
  kCanceled = 6,
  kAssign = 7,
  kAssigning = 8,
  kAssigned = 9,
  kClaim = 10,
  kUpdate = 11,
  kUpdating = 12,
  kUpdated = 13,
  kMigrated = 14,
};

// 8.8's message correlation with an answer, with Zeebe's MessageCorrelationIntent numbers (they
// start at 1). CORRELATING is Tern's: the correlation waits for a subscription on another
// partition to confirm, and the request to answer is kept in state until it does.
enum class MessageCorrelationIntent : int32_t {
  kCorrelate = 1,
  kCorrelated = 2,
  kNotCorrelated = 3,
  kCorrelating = 4,
};

template <typename IntentEnum>
constexpr int32_t ToInt(IntentEnum intent) {
  return static_cast<int32_t>(intent);
}

// Zeebe's name of an intent, e.g. "ELEMENT_ACTIVATED"; "UNKNOWN" for unknown values.
std::string_view IntentName(record::ValueType value_type, int32_t intent);

}  // namespace tern::engine
