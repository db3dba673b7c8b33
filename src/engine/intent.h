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

template <typename IntentEnum>
constexpr int32_t ToInt(IntentEnum intent) {
  return static_cast<int32_t>(intent);
}

// Zeebe's name of an intent, e.g. "ELEMENT_ACTIVATED"; "UNKNOWN" for unknown values.
std::string_view IntentName(record::ValueType value_type, int32_t intent);

}  // namespace tern::engine
