#include "engine/intent.h"

#include <array>

namespace tern::engine {
namespace {

template <size_t N>
std::string_view Lookup(const std::array<std::string_view, N>& names, int32_t intent) {
  if (intent < 0 || static_cast<size_t>(intent) >= N) return "UNKNOWN";
  return names[static_cast<size_t>(intent)];
}

constexpr std::array<std::string_view, 5> kDeployment = {"CREATE", "CREATED", "DISTRIBUTE",
                                                         "DISTRIBUTED", "FULLY_DISTRIBUTED"};
constexpr std::array<std::string_view, 3> kProcess = {"CREATED", "DELETING", "DELETED"};
constexpr std::array<std::string_view, 12> kProcessInstance = {"CANCEL",
                                                               "SEQUENCE_FLOW_TAKEN",
                                                               "ELEMENT_ACTIVATING",
                                                               "ELEMENT_ACTIVATED",
                                                               "ELEMENT_COMPLETING",
                                                               "ELEMENT_COMPLETED",
                                                               "ELEMENT_TERMINATING",
                                                               "ELEMENT_TERMINATED",
                                                               "ACTIVATE_ELEMENT",
                                                               "COMPLETE_ELEMENT",
                                                               "TERMINATE_ELEMENT",
                                                               "ELEMENT_MIGRATED"};
constexpr std::array<std::string_view, 3> kCreation = {"CREATE", "CREATED",
                                                       "CREATE_WITH_AWAITING_RESULT"};
constexpr std::array<std::string_view, 1> kResult = {"COMPLETED"};
constexpr std::array<std::string_view, 19> kJob = {"CREATED",
                                                   "COMPLETE",
                                                   "COMPLETED",
                                                   "TIME_OUT",
                                                   "TIMED_OUT",
                                                   "FAIL",
                                                   "FAILED",
                                                   "UPDATE_RETRIES",
                                                   "RETRIES_UPDATED",
                                                   "CANCELED",
                                                   "THROW_ERROR",
                                                   "ERROR_THROWN",
                                                   "RECUR_AFTER_BACKOFF",
                                                   "RECURRED_AFTER_BACKOFF",
                                                   "YIELD",
                                                   "YIELDED",
                                                   "UPDATE_TIMEOUT",
                                                   "TIMEOUT_UPDATED",
                                                   "MIGRATED"};
constexpr std::array<std::string_view, 2> kJobBatch = {"ACTIVATE", "ACTIVATED"};
constexpr std::array<std::string_view, 2> kVariable = {"CREATED", "UPDATED"};
constexpr std::array<std::string_view, 2> kVariableDocument = {"UPDATE", "UPDATED"};
constexpr std::array<std::string_view, 3> kIncident = {"CREATED", "RESOLVE", "RESOLVED"};
constexpr std::array<std::string_view, 5> kDistribution = {"STARTED", "DISTRIBUTING", "ACKNOWLEDGE",
                                                           "ACKNOWLEDGED", "FINISHED"};
constexpr std::array<std::string_view, 4> kMessage = {"PUBLISH", "PUBLISHED", "EXPIRE", "EXPIRED"};
constexpr std::array<std::string_view, 9> kMessageSubscription = {
    "CREATE", "CREATED",  "CORRELATING", "CORRELATE", "CORRELATED",
    "REJECT", "REJECTED", "DELETE",      "DELETED"};
constexpr std::array<std::string_view, 8> kProcessMessageSubscription = {
    "CREATING", "CREATE", "CREATED", "CORRELATE", "CORRELATED", "DELETING", "DELETE", "DELETED"};
constexpr std::array<std::string_view, 3> kMessageStart = {"CREATED", "CORRELATED", "DELETED"};
constexpr std::array<std::string_view, 4> kTimer = {"CREATED", "TRIGGER", "TRIGGERED", "CANCELED"};
constexpr std::array<std::string_view, 2> kSignal = {"BROADCAST", "BROADCASTED"};
constexpr std::array<std::string_view, 2> kSignalSubscription = {"CREATED", "DELETED"};
constexpr std::array<std::string_view, 2> kEscalation = {"ESCALATED", "NOT_ESCALATED"};
constexpr std::array<std::string_view, 2> kProcessEvent = {"TRIGGERING", "TRIGGERED"};
constexpr std::array<std::string_view, 2> kBatch = {"ACTIVATE", "ACTIVATED"};
constexpr std::array<std::string_view, 2> kModification = {"MODIFY", "MODIFIED"};
constexpr std::array<std::string_view, 2> kMigration = {"MIGRATE", "MIGRATED"};
constexpr std::array<std::string_view, 3> kDeletion = {"DELETE", "DELETING", "DELETED"};
constexpr std::array<std::string_view, 2> kDecision = {"CREATED", "DELETED"};
constexpr std::array<std::string_view, 3> kEvaluation = {"EVALUATE", "EVALUATED", "FAILED"};
constexpr std::array<std::string_view, 4> kCompensation = {"CREATED", "TRIGGERED", "COMPLETED",
                                                           "DELETED"};
constexpr std::array<std::string_view, 3> kCheckpoint = {"CREATE", "CREATED", "IGNORED"};

constexpr std::array<std::string_view, 15> kUserTask = {
    "CREATING",  "CREATED",  "COMPLETE", "COMPLETING", "COMPLETED",
    "CANCELING", "CANCELED", "ASSIGN",   "ASSIGNING",  "ASSIGNED",
    "CLAIM",     "UPDATE",   "UPDATING", "UPDATED",    "MIGRATED"};
// Zeebe numbers these from 1.
constexpr std::array<std::string_view, 5> kMessageCorrelation = {
    "UNKNOWN", "CORRELATE", "CORRELATED", "NOT_CORRELATED", "CORRELATING"};

}  // namespace

std::string_view IntentName(record::ValueType value_type, int32_t intent) {
  switch (value_type) {
    case record::DEPLOYMENT:
      return Lookup(kDeployment, intent);
    case record::PROCESS:
      return Lookup(kProcess, intent);
    case record::PROCESS_INSTANCE:
      return Lookup(kProcessInstance, intent);
    case record::PROCESS_INSTANCE_CREATION:
      return Lookup(kCreation, intent);
    case record::PROCESS_INSTANCE_RESULT:
      return Lookup(kResult, intent);
    case record::JOB:
      return Lookup(kJob, intent);
    case record::JOB_BATCH:
      return Lookup(kJobBatch, intent);
    case record::VARIABLE:
      return Lookup(kVariable, intent);
    case record::VARIABLE_DOCUMENT:
      return Lookup(kVariableDocument, intent);
    case record::INCIDENT:
      return Lookup(kIncident, intent);
    case record::COMMAND_DISTRIBUTION:
      return Lookup(kDistribution, intent);
    case record::MESSAGE:
      return Lookup(kMessage, intent);
    case record::MESSAGE_SUBSCRIPTION:
      return Lookup(kMessageSubscription, intent);
    case record::PROCESS_MESSAGE_SUBSCRIPTION:
      return Lookup(kProcessMessageSubscription, intent);
    case record::MESSAGE_START_EVENT_SUBSCRIPTION:
      return Lookup(kMessageStart, intent);
    case record::TIMER:
      return Lookup(kTimer, intent);
    case record::SIGNAL:
      return Lookup(kSignal, intent);
    case record::SIGNAL_SUBSCRIPTION:
      return Lookup(kSignalSubscription, intent);
    case record::ESCALATION:
      return Lookup(kEscalation, intent);
    case record::PROCESS_EVENT:
      return Lookup(kProcessEvent, intent);
    case record::PROCESS_INSTANCE_BATCH:
      return Lookup(kBatch, intent);
    case record::PROCESS_INSTANCE_MODIFICATION:
      return Lookup(kModification, intent);
    case record::PROCESS_INSTANCE_MIGRATION:
      return Lookup(kMigration, intent);
    case record::RESOURCE_DELETION:
      return Lookup(kDeletion, intent);
    case record::DECISION:
      return Lookup(kDecision, intent);
    case record::DECISION_REQUIREMENTS:
      return Lookup(kDecision, intent);
    case record::FORM:  // CREATED, DELETED as for decisions
      return Lookup(kDecision, intent);
    case record::DECISION_EVALUATION:
      return Lookup(kEvaluation, intent);
    case record::COMPENSATION_SUBSCRIPTION:
      return Lookup(kCompensation, intent);
    case record::USER_TASK:
      return Lookup(kUserTask, intent);
    case record::MESSAGE_CORRELATION:
      return Lookup(kMessageCorrelation, intent);
    case record::CHECKPOINT:
      return Lookup(kCheckpoint, intent);
    default:
      return "UNKNOWN";
  }
}

}  // namespace tern::engine
